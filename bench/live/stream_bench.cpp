// Decoder-only benchmark of speech::StreamDecoder: per-frame processing time and real-time
// factor, unpaced (as fast as one thread can) and paced (N threads, each one stream fed one
// 200 ms frame every 200 ms, as live clients do), next to Recognizer::transcribe on the same
// audio. With --accuracy instead of the unpaced run, each clip is streamed alone and its words
// compared with the reference in the manifest.tsv beside it (word error rate), and the CPU time of
// streaming and of the recorded pipeline is reported per clip set (thread CPU time: steadier than
// wall time on a shared box). Usage:
//   stream_bench [--streams 1,2,4] [--seconds S] [--frame-ms 200] [--accuracy] clip.wav...
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
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
    bool accuracy = false;
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
        } else if (a == "--accuracy") {
            o.accuracy = true;
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

// CPU time of the calling thread, in seconds.
double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct StreamTimes {
    std::string text;              // the finals joined
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
        if (u.final && !u.text.empty()) t.text += (t.text.empty() ? "" : " ") + u.text;
    }
    const auto t0 = Clock::now();
    const auto last = d.finish();
    if (!last.text.empty()) t.text += (t.text.empty() ? "" : " ") + last.text;
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

std::vector<std::string> words_of(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) {
        std::string clean;
        for (const char c : w)
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '\'')
                clean += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!clean.empty()) words.push_back(clean);
    }
    return words;
}

// Word-level edit distance.
size_t word_errors(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
    std::vector<size_t> prev(hyp.size() + 1), cur(hyp.size() + 1);
    for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= ref.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= hyp.size(); ++j)
            cur[j] =
                std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref[i - 1] != hyp[j - 1])});
        std::swap(prev, cur);
    }
    return prev[hyp.size()];
}

std::vector<std::string> tab_fields(const std::string& line) {
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, '\t');) fields.push_back(f);
    return fields;
}

// The clip's reference transcript: the "reference" column of the manifest.tsv beside it
// ("-": unknown, skipped like a clip without one).
std::string reference(const std::string& clip) {
    const std::filesystem::path p(clip);
    std::ifstream in(p.parent_path() / "manifest.tsv");
    std::string line;
    if (!std::getline(in, line)) return {};
    const auto header = tab_fields(line);
    const auto col = std::find(header.begin(), header.end(), "reference") - header.begin();
    while (std::getline(in, line)) {
        const auto fields = tab_fields(line);
        if (!fields.empty() && fields[0] == p.filename().string() &&
            static_cast<size_t>(col) < fields.size())
            return fields[static_cast<size_t>(col)] == "-" ? "" : fields[static_cast<size_t>(col)];
    }
    return {};
}

// Each clip streamed alone by one decoder, and transcribed by the recorded pipeline: WER of
// both against the references, and the CPU each took per second of audio.
void accuracy(const Options& o) {
    speech::Recognizer rec(speech::RecognizerConfig{});
    speech::StreamDecoder d(speech::RecognizerConfig{});
    size_t ref_words = 0, stream_errors = 0, rec_errors = 0;
    double audio_s = 0, stream_cpu = 0, rec_cpu = 0;
    for (const auto& clip : o.clips) {
        const std::string ref_text = reference(clip);
        if (ref_text.empty()) continue;
        const auto ref = words_of(ref_text);
        const auto pcm = speech::decode_16k_mono(clip, speech::AudioLimits{});
        double t0 = thread_cpu_s();
        const StreamTimes s = run_stream(d, pcm, o.frame_ms, false);
        stream_cpu += thread_cpu_s() - t0;
        t0 = thread_cpu_s();
        const auto t = rec.transcribe(pcm.data(), pcm.size());
        rec_cpu += thread_cpu_s() - t0;
        audio_s += static_cast<double>(pcm.size()) / 16000;
        ref_words += ref.size();
        stream_errors += word_errors(ref, words_of(s.text));
        rec_errors += word_errors(ref, words_of(t.text));
    }
    if (ref_words == 0) {
        std::printf("accuracy: no clip has a reference in a manifest.tsv beside it\n");
        return;
    }
    std::printf(
        "accuracy over %.1f s, %zu reference words: stream WER %.3f, CPU RTF %.3f | recorded "
        "pipeline WER %.3f, CPU RTF %.3f\n",
        audio_s, ref_words, static_cast<double>(stream_errors) / static_cast<double>(ref_words),
        stream_cpu / audio_s, static_cast<double>(rec_errors) / static_cast<double>(ref_words),
        rec_cpu / audio_s);
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
    if (o.accuracy) {
        accuracy(o);
    } else {
        unpaced(o);
    }
    for (const int n : o.streams) paced(o, n);
}
