// A minimal parallel for-loop over independent items (used by the library and the CLI). Written by
// hand because Debian 12 packages no task library that fits: TBB would be a large dependency for a
// loop, and std::execution::par with libstdc++ needs TBB itself.
#ifndef KINSHIP_PARALLEL_H_
#define KINSHIP_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
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

// Overlaps producing items with consuming them: `produce(emit)` runs on its own thread and hands
// items over with emit(T&&); `consume(T&)` runs on the caller's thread for each, in emission
// order. At most `ahead` items wait in between. When consume returns false, the next emit returns
// false (produce should then stop) and nothing more is consumed. Returns what produce returned.
// With one worker (WorkerCount() == 1) everything runs on the caller's thread, one item at a time.
template <typename T, typename Produce, typename Consume>
auto Pipeline(size_t ahead, Produce&& produce, Consume&& consume) {
  using Emit = std::function<bool(T &&)>;
  using Result = decltype(produce(std::declval<Emit&>()));
  if (WorkerCount() <= 1) {
    Emit emit = [&](T&& item) { return static_cast<bool>(consume(item)); };
    return produce(emit);
  }
  std::mutex mu;
  std::condition_variable cv;
  std::deque<T> queue;
  bool done = false, stop = false;
  std::optional<Result> result;
  std::thread producer([&] {
    Emit emit = [&](T&& item) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return queue.size() < std::max<size_t>(ahead, 1) || stop; });
      if (stop) return false;
      queue.push_back(std::move(item));
      cv.notify_all();
      return true;
    };
    Result r = produce(emit);
    std::lock_guard<std::mutex> lock(mu);
    result.emplace(std::move(r));
    done = true;
    cv.notify_all();
  });
  while (true) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return !queue.empty() || done; });
    if (queue.empty()) break;  // produced everything, and all of it consumed
    T item = std::move(queue.front());
    queue.pop_front();
    cv.notify_all();
    lock.unlock();
    if (!consume(item)) {
      lock.lock();
      stop = true;
      queue.clear();
      cv.notify_all();
      break;
    }
  }
  producer.join();
  return std::move(*result);
}

}  // namespace kinship::util

#endif  // KINSHIP_PARALLEL_H_
