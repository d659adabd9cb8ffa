#include "qfscale/util/concurrency.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace qfscale::util {

void for_each_concurrently(std::size_t n, int concurrency,
                           const std::function<void(std::size_t)>& each,
                           const std::function<void()>& meanwhile) {
  // Each worker takes the next index from a shared counter; joining the threads publishes what
  // they wrote to this thread. An exception escaping a thread would end the process, so the
  // one of the lowest index is kept (the same one whatever the timing) and rethrown here once
  // every worker is done.
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  std::size_t error_index = n;
  const auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      try {
        each(i);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (i < error_index) {
          error = std::current_exception();
          error_index = i;
        }
      }
    }
  };
  const auto workers = std::min<std::size_t>(static_cast<std::size_t>(std::max(concurrency, 1)), n);
  bool any_worker = false;
  {
    std::vector<std::jthread> pool;
    pool.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      try {
        pool.emplace_back(work);
        any_worker = true;
      } catch (const std::exception&) {
        break;  // out of threads or memory: those started (or this thread, below) do the rest
      }
    }
    if (meanwhile) meanwhile();
    if (!any_worker) work();
  }  // joins
  if (error) std::rethrow_exception(error);
}

}  // namespace qfscale::util
