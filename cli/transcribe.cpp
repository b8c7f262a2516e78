// `rostrum transcribe FILE [--json]`: the recorded-session pipeline without a database, for
// benchmarks and for people who want a CLI.
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "core/json.h"
#include "speech/audio.h"
#include "speech/languages.h"
#include "speech/metrics.h"
#include "speech/recognizer.h"

namespace cli {
namespace {

std::string transcript_json(const speech::Transcript& t) {
    core::JsonWriter w;
    w.begin_object().field("text", t.text).key("words").begin_array();
    for (const auto& word : t.words) {
        w.begin_object()
            .field("word", word.word)
            .field("start_s", word.start_s)
            .field("end_s", word.end_s)
            .field("confidence", word.confidence)
            .field("filler", word.filler)
            .end_object();
    }
    w.end_array().field("engine", t.engine).end_object();
    return w.take();
}

}  // namespace

int transcribe_command(const core::Config& cfg, int argc, char** argv) {
    std::string file;
    bool json = false;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--json") {
            json = true;
        } else if (file.empty()) {
            file = a;
        } else {
            file.clear();
            break;
        }
    }
    if (file.empty()) {
        std::cerr << "usage: rostrum transcribe FILE [--json]\n";
        return 2;
    }
    speech::AudioLimits limits{static_cast<double>(cfg.upload_max_seconds)};
    try {
        speech::probe_file(file, limits);
        std::vector<int16_t> samples = speech::decode_16k_mono(file, limits);
        speech::RecognizerConfig rc;
        rc.model_dir = cfg.model_root + "/" + speech::kDefaultLanguage;
        speech::Recognizer recognizer(rc);
        speech::Transcript t = recognizer.transcribe(samples.data(), samples.size());
        speech::Analysis a =
            speech::analyse(t, samples.data(), samples.size(), speech::kTargetRate);
        if (json) {
            std::cout << "{\"transcript\":" << transcript_json(t)
                      << ",\"analysis\":" << speech::analysis_json(a) << "}\n";
        } else {
            std::cout << t.text << "\n";
        }
        return 0;
    } catch (const speech::AudioError& e) {
        std::cerr << "rostrum: " << file << ": " << e.what() << "\n";
        return 65;  // EX_DATAERR
    }
}

}  // namespace cli
