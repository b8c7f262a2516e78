// Decoder-only benchmark of speech::StreamDecoder: per-frame processing time and real-time
// factor, unpaced (as fast as one thread can) and paced (N threads, each one stream fed one
// 200 ms frame every 200 ms, as live clients do), next to Recognizer::transcribe on the same
// audio. Usage: stream_bench [--streams 1,2,4] [--seconds S] [--frame-ms 200] clip.wav...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "speech/audio.h"
#include "speech/recognizer.h"
#include "speech/stream.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    return v[i];
}

struct Options {
    std::vector<int> streams{1, 2, 4};
    double seconds = 30;  // audio per paced stream (the clips repeated)
    int frame_ms = 200;
    std::vector<std::string> clips;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--streams" && i + 1 < argc) {
            o.streams.clear();
            for (char* p = argv[++i]; *p;) {
                o.streams.push_back(static_cast<int>(std::strtol(p, &p, 10)));
                if (*p == ',') ++p;
            }
        } else if (a == "--seconds" && i + 1 < argc) {
            o.seconds = std::atof(argv[++i]);
        } else if (a == "--frame-ms" && i + 1 < argc) {
            o.frame_ms = std::atoi(argv[++i]);
        } else {
            o.clips.push_back(a);
        }
    }
    return o;
}

// The clips end to end, repeated up to `seconds` (0: once).
std::vector<int16_t> audio(const Options& o, double seconds) {
    std::vector<int16_t> one;
    for (const auto& c : o.clips) {
        auto pcm = speech::decode_16k_mono(c, speech::AudioLimits{});
        one.insert(one.end(), pcm.begin(), pcm.end());
    }
    if (seconds <= 0) return one;
    std::vector<int16_t> out;
    while (out.size() < static_cast<size_t>(seconds * 16000)) {
        out.insert(out.end(), one.begin(), one.end());
    }
    out.resize(static_cast<size_t>(seconds * 16000));
    return out;
}

struct StreamTimes {
    std::vector<double> frame_ms;  // accept() wall time per frame (paced: the reply latency)
    double finish_ms = 0;
    double busy_ms = 0;
    std::vector<double> final_lag_s;  // audio heard after an utterance's last word, at its final
};

// One stream; paced = each frame handed over at its real-time instant, so a frame that waits
// for the previous one's processing counts that wait in its latency.
StreamTimes run_stream(speech::StreamDecoder& d, const std::vector<int16_t>& pcm, int frame_ms,
                       bool paced) {
    StreamTimes t;
    d.begin({});
    const size_t step = static_cast<size_t>(16 * frame_ms);
    const auto start = Clock::now();
    size_t k = 0;
    for (size_t at = 0; at < pcm.size(); at += step, ++k) {
        const auto due = start + std::chrono::milliseconds(frame_ms * static_cast<int>(k + 1));
        if (paced) std::this_thread::sleep_until(due);  // pacing the input, not synchronising
        const auto t0 = Clock::now();
        const auto u =
            d.accept(std::span<const int16_t>(pcm.data() + at, std::min(step, pcm.size() - at)));
        const double work = ms_since(t0);
        if (u.final && !u.words.empty()) {
            const double heard_s = static_cast<double>(std::min(at + step, pcm.size())) / 16000;
            t.final_lag_s.push_back(heard_s - u.words.back().end_s);
        }
        t.busy_ms += work;
        t.frame_ms.push_back(paced ? ms_since(due) : work);
    }
    const auto t0 = Clock::now();
    d.finish();
    t.finish_ms = ms_since(t0);
    t.busy_ms += t.finish_ms;
    return t;
}

void unpaced(const Options& o) {
    const auto pcm = audio(o, 0);
    const double audio_s = static_cast<double>(pcm.size()) / 16000;
    speech::Recognizer rec(speech::RecognizerConfig{});
    speech::StreamDecoder d(speech::RecognizerConfig{});
    run_stream(d, pcm, o.frame_ms, false);  // warm-up
    for (int round = 0; round < 2; ++round) {
        auto t0 = Clock::now();
        rec.transcribe(pcm.data(), pcm.size());
        const double rec_ms = ms_since(t0);
        const StreamTimes s = run_stream(d, pcm, o.frame_ms, false);
        std::printf(
            "unpaced round %d: %.1f s audio | transcribe RTF %.3f | stream RTF %.3f, frame p50 "
            "%.1f ms p95 %.1f ms max %.1f ms, finish %.1f ms | final %.2f s (p50) %.2f s (max) "
            "after the last word\n",
            round, audio_s, rec_ms / 1000 / audio_s, s.busy_ms / 1000 / audio_s,
            percentile(s.frame_ms, 0.5), percentile(s.frame_ms, 0.95), percentile(s.frame_ms, 1.0),
            s.finish_ms, percentile(s.final_lag_s, 0.5), percentile(s.final_lag_s, 1.0));
    }
}

void paced(const Options& o, int n) {
    const auto pcm = audio(o, o.seconds);
    std::vector<std::unique_ptr<speech::StreamDecoder>> decoders;
    for (int i = 0; i < n; ++i) {
        decoders.push_back(std::make_unique<speech::StreamDecoder>(speech::RecognizerConfig{}));
    }
    std::vector<StreamTimes> times(static_cast<size_t>(n));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            // Staggered starts, as real clients are.
            std::this_thread::sleep_for(std::chrono::milliseconds(o.frame_ms * i / n));
            times[static_cast<size_t>(i)] =
                run_stream(*decoders[static_cast<size_t>(i)], pcm, o.frame_ms, true);
        });
    }
    for (auto& t : threads) t.join();
    std::vector<double> all, finish;
    double busy = 0;
    for (const auto& t : times) {
        all.insert(all.end(), t.frame_ms.begin(), t.frame_ms.end());
        finish.push_back(t.finish_ms);
        busy += t.busy_ms;
    }
    std::printf(
        "paced %d streams x %.0f s: reply latency p50 %.1f ms p95 %.1f ms p99 %.1f ms max %.1f "
        "ms | final after eof max %.1f ms | decoder busy %.2f cores\n",
        n, o.seconds, percentile(all, 0.5), percentile(all, 0.95), percentile(all, 0.99),
        percentile(all, 1.0), percentile(finish, 1.0), busy / 1000 / o.seconds);
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    if (o.clips.empty()) {
        std::fprintf(stderr, "usage: stream_bench [--streams 1,2,4] [--seconds S] clip.wav...\n");
        return 2;
    }
    unpaced(o);
    for (const int n : o.streams) paced(o, n);
}
