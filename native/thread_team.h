// The thread team: the calling (JavaScript) thread and one persistent worker, sharing each call's tasks. Network
// passes, per-tensor kernels and the policy kernels all run on it; each splits its work so that the result never
// depends on which thread ran what, or on the thread count.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace iapo_native {

// setThreads: 2 lets mlpPasses and the per-tensor kernels share work with the worker thread (Team).
inline int g_threads = 1;

// Floats below which per-tensor work (packing, Adam, Polyak, Σ g²) stays on the calling thread: a hand-off costs
// more than it saves.
constexpr uint64_t kParallelFloats = 32768;

// The calling thread and one persistent worker share a job's tasks, each claiming tasks as it is free. On a
// shared VM a vCPU can be descheduled for milliseconds (steal time); with fixed halves the caller would wait for
// a worker that is not running, while here it simply runs the remaining tasks itself. The worker only ever runs
// tasks of the job in progress: it registers (active_) before checking that a job is open, and the caller closes
// the job and waits for registered workers before returning (sequentially consistent atomics order the two).
//
// Between jobs the worker spins (pause instructions, a clock check every 64) for kSpinMicros, then sleeps on a
// condition variable; the caller pays for the futex wake only when the worker sleeps. An SAC update's native calls
// are separated by up to a few hundred µs of JavaScript, and a training step's environment step is shorter still,
// so during training the worker never sleeps: a woken worker starts its first task tens of µs into a call and
// runs it on a cold core, while a spinning one starts within microseconds.
constexpr int kSpinMicros = 3000;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Team {
 public:
  static Team* Get() {
    static Team* team = new Team();  // never deleted: the detached worker may outlive statics
    return team;
  }

  static constexpr int kMaxTasks = 32;  // one bit each in claimed_

  // Runs task(0) .. task(n − 1) (n <= kMaxTasks), on this thread and the worker, and returns when all are done.
  // This thread claims tasks from the front, the worker from the back, until they meet: consecutive calls that
  // list the same network's tasks in the same place (a forward pass, then its backward) find its weights and
  // activations in the same core's L2.
  void Run(int n, const std::function<void(int)>& task) {
    if (n > kMaxTasks) {
      for (int i = 0; i < n; i++) task(i);
      return;
    }
    task_ = &task;
    count_ = n;
    claimed_.store(0);
    open_.store(true);
    epoch_.fetch_add(1);
    // Either the worker saw sleeping_ set after this epoch, and its wait's check (under mu_) sees the new epoch,
    // or this thread sees sleeping_ and wakes it, taking mu_ first so the wake cannot fall before the wait.
    if (sleeping_.load()) {
      { std::lock_guard<std::mutex> lock(mu_); }
      cv_.notify_one();
    }
    for (int i = 0; i < n && Claim(i); i++) task(i);
    open_.store(false);
    while (active_.load() != 0) std::this_thread::yield();
  }

 private:
  Team() { std::thread([this] { Loop(); }).detach(); }

  void Loop() {
    uint64_t seen = 0;
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
      for (int spins = 1; epoch_.load() == seen; spins++) {
        CpuRelax();
        if (spins % 64 == 0 && std::chrono::steady_clock::now() >= spin_until) break;
      }
      if (epoch_.load() == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        sleeping_.store(true);
        cv_.wait(lock, [&] { return epoch_.load() != seen; });
        sleeping_.store(false);
      }
      seen = epoch_.load();
      active_.fetch_add(1);
      if (open_.load()) {
        for (int i = count_ - 1; i >= 0 && Claim(i); i--) (*task_)(i);
      }
      active_.fetch_sub(1);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> epoch_{0};    // one more per job
  std::atomic<bool> sleeping_{false};  // the worker is (about to be) waiting on cv_
  std::atomic<bool> open_{false};
  std::atomic<int> active_{0};
  // Task i is this thread's to run if it set bit i first. Each side claims in its own order without gaps, so
  // the first task it finds taken means the other side has taken all the rest.
  bool Claim(int i) { return (claimed_.fetch_or(1u << i) & (1u << i)) == 0; }

  std::atomic<uint32_t> claimed_{0};
  int count_ = 0;                                    // written before open_ is set
  const std::function<void(int)>* task_ = nullptr;  // likewise
};

// Runs fn(begin, end) over [0, items): in one call, or, where there are two threads and at least `parallel_from`
// items, in 8 consecutive ranges shared by this thread and the worker. For loops whose items are independent, so
// the result never depends on the thread count.
inline void InChunks(size_t items, size_t parallel_from, const std::function<void(size_t, size_t)>& fn) {
  constexpr int kChunks = 8;
  if (g_threads >= 2 && items >= parallel_from) {
    Team::Get()->Run(kChunks, [&](int c) { fn(items * c / kChunks, items * (c + 1) / kChunks); });
  } else {
    fn(0, items);
  }
}

}  // namespace iapo_native
