// A minimal parallel for-loop over independent items (used by the library and the CLI). Written by
// hand because Debian 12 packages no task library that fits: TBB would be a large dependency for a
// loop, and std::execution::par with libstdc++ needs TBB itself.
#ifndef KINSHIP_PARALLEL_H_
#define KINSHIP_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <thread>
#include <vector>

namespace kinship::util {

// Worker threads to use: $KINSHIP_THREADS when set to a positive number, else the hardware's
// concurrency (at least 1).
inline size_t WorkerCount() {
  if (const char* env = std::getenv("KINSHIP_THREADS"); env != nullptr) {
    long v = std::strtol(env, nullptr, 10);
    if (v > 0) return static_cast<size_t>(std::min(v, 64L));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// Calls fn(i) for every i in [0, n), on up to WorkerCount() threads (the caller's among them).
// Items are handed out one at a time, so uneven items balance. fn must be safe to run
// concurrently for different i and must not throw.
template <typename Fn>
void ParallelFor(size_t n, Fn&& fn) {
  const size_t workers = std::min(WorkerCount(), n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i = next.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(i);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(run);
  run();
  for (std::thread& t : threads) t.join();
}

}  // namespace kinship::util

#endif  // KINSHIP_PARALLEL_H_
