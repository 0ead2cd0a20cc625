# kinship: the two set-up commands (README) and a few conveniences.
#   make demo   install missing Debian packages, build (release), run the demo on a fresh store
#   make test   install missing Debian packages, build release and debug-asan, run every test in both
#   make test-tsan  the command tests (all but the evaluation) on a ThreadSanitizer build (CI runs it)
SHELL := /bin/bash
JOBS ?= $(shell nproc)
export KINSHIP_DATA ?= $(abspath $(CURDIR)/../shared/data)
# Expanded when a recipe runs (after `deps`, which may just have installed ccache), so every
# configure in one run and in later runs sees the same launcher and nothing is rebuilt for it.
LAUNCHER = $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache,)

.PHONY: deps build build-asan build-tsan demo test test-release test-asan test-tsan fuzz-smoke bench format clean

deps:
	@scripts/setup-deps.sh

build: deps
	cmake --preset release $(LAUNCHER) >/dev/null
	cmake --build --preset release -j $(JOBS)

build-asan: deps
	cmake --preset debug-asan $(LAUNCHER) >/dev/null
	cmake --build --preset debug-asan -j $(JOBS)

# The kinship binary only: the command tests (tests/cases, the server's) run it, and they are what
# runs threads (the server, ingest's pipeline, attribution's workers).
build-tsan: deps
	cmake --preset tsan $(LAUNCHER) >/dev/null
	cmake --build --preset tsan -j $(JOBS)

demo: build
	scripts/demo.sh build/release/kinship

test-release: build
	ctest --preset release -j $(JOBS)

test-asan: build-asan
	ctest --preset debug-asan -j $(JOBS)

test: test-release test-asan

# cli.eval is left out: under TSan it takes a quarter of an hour.
test-tsan: build-tsan
	ctest --preset tsan -j $(JOBS)

# Short libFuzzer runs of every fuzzer over its seed corpus (CI runs this after `make test`).
fuzz-smoke: build-asan
	scripts/fuzz-smoke.sh build/debug-asan $${FUZZ_SECONDS:-20}

bench: deps
	cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKINSHIP_BENCH=ON $(LAUNCHER) >/dev/null
	cmake --build build/bench -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build
