// rec_bench: our recognizer over audio files, printing the same TSV columns as ps_bench.c so
// that the two can be compared line by line (bench/speech/engine_bench.sh builds and runs it).
// The timed part is what `rostrum transcribe` does after loading the model: decode and
// resample the file (speech::decode_16k_mono), recognize, and analyse.
//
// stdout, one line per file: id audio_s wall_s cpu_s rtf n_words hyp   (hyp without fillers)
// stderr: a BENCH line with load time and RSS.  -seg FILE writes every word as
//         id word start_s end_s confidence filler(0|1)
// Usage: rec_bench [-nofillers] [-seg FILE] -- file...
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/c_handles.h"
#include "speech/audio.h"
#include "speech/metrics.h"
#include "speech/recognizer.h"

namespace {

using FilePtr = std::unique_ptr<FILE, core::CDeleter<std::fclose>>;

double now(clockid_t c) {
    timespec ts{};
    clock_gettime(c, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long status_kb(const char* key) {
    std::ifstream f("/proc/self/status");
    std::string line;
    const size_t k = std::strlen(key);
    while (std::getline(f, line)) {
        if (line.compare(0, k, key) == 0 && line.size() > k && line[k] == ':') {
            return std::atol(line.c_str() + k + 1);
        }
    }
    return -1;
}

struct Options {
    bool fillers = true;
    std::string seg_path;
    std::vector<std::string> files;
};

Options parse(int argc, char** argv) {
    Options o;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a == "-seg" && i + 1 < argc) {
            o.seg_path = argv[++i];
        } else if (a == "-nofillers") {
            o.fillers = false;
        } else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            std::exit(2);
        }
    }
    o.files.assign(argv + i, argv + argc);
    return o;
}

void print_words(FILE* seg, const std::string& id, const speech::Transcript& t) {
    for (const auto& w : t.words) {
        std::fprintf(seg, "%s\t%s\t%.2f\t%.2f\t%.4f\t%d\n", id.c_str(), w.word.c_str(), w.start_s,
                     w.end_s, w.confidence, w.filler ? 1 : 0);
    }
}

void run_file(speech::Recognizer& rec, const std::string& file, FILE* seg) {
    const double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    const auto samples = speech::decode_16k_mono(file, speech::AudioLimits{});
    const auto t = rec.transcribe(samples.data(), samples.size());
    const auto analysis = speech::analyse(t, samples.data(), samples.size(), speech::kTargetRate);
    const double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    const double audio = static_cast<double>(samples.size()) / speech::kTargetRate;
    std::string hyp;
    for (const auto& w : t.words) {
        if (!w.filler) hyp += (hyp.empty() ? "" : " ") + w.word;
    }
    const std::string id = std::filesystem::path(file).stem().string();
    std::printf("%s\t%.3f\t%.3f\t%.3f\t%.4f\t%zu\t%s\n", id.c_str(), audio, wall, cpu, cpu / audio,
                t.words.size(), hyp.c_str());
    std::fflush(stdout);
    if (seg) print_words(seg, id, t);
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    FilePtr seg(o.seg_path.empty() ? nullptr : std::fopen(o.seg_path.c_str(), "a"));
    speech::RecognizerConfig cfg;
    cfg.detect_fillers = o.fillers;
    const double l0 = now(CLOCK_MONOTONIC);
    speech::Recognizer rec(cfg);
    const double load = now(CLOCK_MONOTONIC) - l0;
    for (const auto& file : o.files) run_file(rec, file, seg.get());
    std::fprintf(stderr, "BENCH load_s=%.3f rss_kb=%ld hwm_kb=%ld\n", load, status_kb("VmRSS"),
                 status_kb("VmHWM"));
    return 0;
}
