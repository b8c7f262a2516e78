// Shared-memory scoreboard.
#include "fcgi/scoreboard.h"

#include <sys/mman.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <new>

namespace fcgi {

static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared counters need lock-free atomics");

Scoreboard* Scoreboard::create_shared() {
    void* p = mmap(nullptr, sizeof(Scoreboard), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) {
        std::perror("mmap scoreboard");
        std::abort();
    }
    // Anonymous mappings are zero-filled, which is every atomic's initial state here.
    return new (p) Scoreboard;
}

int status_index(int status) {
    for (int i = 0; i < kNumStatuses - 1; ++i)
        if (kStatusCodes[i] == status) return i;
    return kNumStatuses - 1;
}

void Scoreboard::record(int route, int status, double seconds) {
    if (route < 0 || route >= kMaxRoutes) route = kMaxRoutes - 1;
    RouteCounters& rc = routes[route];
    rc.by_status[status_index(status)].fetch_add(1, std::memory_order_relaxed);
    int b = 0;
    while (b < kNumBuckets - 1 && seconds > kLatencyBuckets[b]) ++b;
    rc.latency[b].fetch_add(1, std::memory_order_relaxed);
    rc.latency_sum_us.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

int64_t monotonic_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace fcgi
