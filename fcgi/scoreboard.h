// The scoreboard: a page of shared memory, mapped by the master before it forks, where each
// worker publishes what it is doing (for the master's diary and its request deadline) and
// counts requests (for /metrics, which any worker renders for the whole pool). Lock-free
// atomics only: a worker killed mid-update cannot leave a lock held.
#pragma once

#include <atomic>
#include <cstdint>

namespace fcgi {

inline constexpr int kMaxWorkers = 512;
inline constexpr int kMaxRoutes = 192;  // route index kMaxRoutes-1 counts unmatched requests
inline constexpr int kStatusCodes[] = {200, 201, 202, 204, 400, 401, 403, 404,
                                       405, 409, 413, 415, 422, 429, 500, 503};
inline constexpr int kNumStatuses = sizeof(kStatusCodes) / sizeof(int) + 1;  // + "other"
inline constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
inline constexpr int kNumBuckets = sizeof(kLatencyBuckets) / sizeof(double) + 1;  // + +Inf

struct WorkerSlot {
    std::atomic<int32_t> pid;
    std::atomic<int32_t> route;       // index of the route in flight, -1 when idle
    std::atomic<int64_t> started_ms;  // monotonic ms when the request began, 0 when idle
    std::atomic<uint64_t> served;
};

struct RouteCounters {
    std::atomic<uint64_t> by_status[kNumStatuses];
    std::atomic<uint64_t> latency[kNumBuckets];  // non-cumulative; /metrics sums them
    std::atomic<uint64_t> latency_sum_us;
};

struct Scoreboard {
    WorkerSlot slots[kMaxWorkers];
    RouteCounters routes[kMaxRoutes];
    std::atomic<uint64_t> worker_starts;
    std::atomic<uint64_t> worker_restarts;  // unplanned deaths (signal or non-zero exit)
    std::atomic<uint64_t> worker_recycles;  // planned exits after max_requests

    // Maps a zeroed Scoreboard shared with children forked later. Aborts if mmap fails.
    static Scoreboard* create_shared();
    void record(int route, int status, double seconds);
};

int status_index(int status);
int64_t monotonic_ms();

}  // namespace fcgi
