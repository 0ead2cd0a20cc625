#!/usr/bin/env bash
# The one list of Debian 12 packages kinship needs to build, test, fuzz and benchmark.
# Idempotent: installs only what is missing, with --no-install-recommends.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev clang-format
  libsimdjson-dev libsqlite3-dev sqlite3 libabsl-dev libcli11-dev libfmt-dev
  libpsl-dev publicsuffix libidn2-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libfuzzy-dev libtlsh-dev libre2-dev libhyperscan-dev liblinear-dev
  libgumbo-dev poppler-utils nlohmann-json3-dev libcpp-httplib-dev
  nettle-dev uuid-dev libxxhash-dev python3 ccache
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
