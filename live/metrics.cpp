// Prometheus text exposition of the live daemon's counters.
#include "live/metrics.h"

#include <sstream>

namespace live {

void Histogram::observe(double seconds) {
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    total_.fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(static_cast<int64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Histogram::render(const char* name, const char* help) const {
    std::ostringstream o;
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
    int64_t cumulative = 0;
    for (size_t i = 0; i < kBounds.size(); ++i) {
        cumulative += counts_[i].load(std::memory_order_relaxed);
        o << name << "_bucket{le=\"" << kBounds[i] << "\"} " << cumulative << "\n";
    }
    cumulative += counts_[kBounds.size()].load(std::memory_order_relaxed);
    o << name << "_bucket{le=\"+Inf\"} " << cumulative << "\n";
    o << name << "_sum " << static_cast<double>(sum_us_.load()) / 1e6 << "\n";
    o << name << "_count " << total_.load() << "\n";
    return o.str();
}

namespace {

void metric(std::ostringstream& o, const char* name, const char* type, const char* help,
            int64_t v) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
      << name << " " << v << "\n";
}

}  // namespace

std::string Metrics::render() const {
    std::ostringstream o;
    metric(o, "rostrum_live_open_sockets", "gauge", "open WebSocket connections",
           open_sockets.load());
    metric(o, "rostrum_live_open_event_sockets", "gauge", "open /ws/events connections",
           open_event_sockets.load());
    metric(o, "rostrum_live_streams", "gauge", "transcription streams in progress",
           active_streams.load());
    metric(o, "rostrum_live_streams_total", "counter", "transcription streams started",
           streams_total.load());
    metric(o, "rostrum_live_frames_total", "counter", "audio frames decoded", frames_total.load());
    metric(o, "rostrum_live_events_received_total", "counter", "events heard from PostgreSQL",
           events_received.load());
    metric(o, "rostrum_live_events_delivered_total", "counter", "event messages sent to sockets",
           events_delivered.load());
    metric(o, "rostrum_live_slow_consumers_closed_total", "counter",
           "sockets closed (1008) because their send queue passed live.send_queue_bytes",
           slow_consumers_closed.load());
    metric(o, "rostrum_live_upgrades_refused_total", "counter",
           "upgrade requests answered 4xx instead of a socket", upgrades_refused.load());
    metric(o, "rostrum_live_sessions_saved_total", "counter", "streams stored as sessions (save=1)",
           sessions_saved.load());
    metric(o, "rostrum_live_streams_ahead_closed_total", "counter",
           "streams closed 1008 for running ahead of real time", streams_ahead_closed.load());
    metric(o, "rostrum_live_reads_paused_total", "counter",
           "times a stream's socket was left unread while its audio waited (back-pressure)",
           reads_paused.load());
    metric(o, "rostrum_live_replays_truncated_total", "counter",
           "?since= replays that began after events the client missed", replays_truncated.load());
    metric(o, "rostrum_live_listener_reconnects_total", "counter",
           "times the LISTEN connection came back and the daemon caught up from the table",
           listener_reconnects.load());
    o << partial_latency.render("rostrum_live_partial_latency_seconds",
                                "audio frame read to its reply queued (partials and results)");
    o << final_latency.render("rostrum_live_final_latency_seconds",
                              "eof read to the final result queued");
    return o.str();
}

}  // namespace live
