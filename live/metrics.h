// The daemon's counters, rendered as Prometheus text at GET /metrics. Updated on the I/O
// thread (latencies are measured there: frame read → reply queued), read by /metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace live {

// A latency histogram with fixed buckets (seconds), cumulative as Prometheus wants them.
class Histogram {
  public:
    static constexpr std::array<double, 11> kBounds = {0.01, 0.025, 0.05, 0.1, 0.2, 0.3,
                                                       0.5,  1.0,   2.0,  5.0, 10.0};
    void observe(double seconds);
    std::string render(const char* name, const char* help) const;

  private:
    std::array<std::atomic<int64_t>, kBounds.size() + 1> counts_{};
    std::atomic<int64_t> total_{0};
    std::atomic<int64_t> sum_us_{0};
};

struct Metrics {
    std::atomic<int64_t> open_sockets{0};
    std::atomic<int64_t> open_event_sockets{0};
    std::atomic<int64_t> active_streams{0};
    std::atomic<int64_t> streams_total{0};
    std::atomic<int64_t> frames_total{0};
    std::atomic<int64_t> events_delivered{0};
    std::atomic<int64_t> events_received{0};
    std::atomic<int64_t> slow_consumers_closed{0};
    std::atomic<int64_t> upgrades_refused{0};
    std::atomic<int64_t> sessions_saved{0};
    std::atomic<int64_t> listener_reconnects{0};
    std::atomic<int64_t> streams_ahead_closed{0};  // 1008: ahead of real time (live.max_ahead_s)
    std::atomic<int64_t> reads_paused{0};          // back-pressure: a socket left unread
    std::atomic<int64_t> replays_truncated{0};     // ?since= older than the stored events
    Histogram partial_latency;
    Histogram final_latency;

    std::string render() const;
};

}  // namespace live
