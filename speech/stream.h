// Streaming recognition for `rostrum live`: PCM frames in at any rate from 8 to 48 kHz, one
// update per frame out (a partial hypothesis, or an utterance's result when the voice activity
// detector finds a pause), and vosk-server's JSON shapes for them. One StreamDecoder per
// decoder thread; it owns its pocketsphinx decoder and is reused stream after stream.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "speech/recognizer.h"
#include "speech/transcript.h"

namespace speech {

struct StreamOptions {
    int sample_rate = 16000;           // of the PCM handed to accept(), 8000..48000
    std::vector<std::string> phrases;  // vosk's phrase_list: decode only these (JSGF); empty = all
    bool words = true;                 // vosk's "words": word times in results
    int max_alternatives = 0;  // accepted for vosk compatibility; results carry the best path
};

struct StreamUpdate {
    bool final = false;       // an utterance ended (or eof); otherwise a partial
    std::string text;         // words joined by single spaces
    std::vector<Word> words;  // finals only: times in seconds since the stream began
};

class StreamDecoder {
  public:
    explicit StreamDecoder(const RecognizerConfig& cfg);
    ~StreamDecoder();
    StreamDecoder(const StreamDecoder&) = delete;
    StreamDecoder& operator=(const StreamDecoder&) = delete;

    // "pocketsphinx-5prealpha <language>": the model it decodes with (as Transcript::engine).
    const std::string& engine() const;

    // Starts a stream, abandoning any stream in progress. Throws std::invalid_argument for a
    // rate outside 8000..48000 or a phrase with a word the dictionary does not know (the
    // message names it).
    void begin(const StreamOptions& opt);
    // Exactly one update per frame: the result of an utterance that ended within the audio
    // seen so far, else the current partial hypothesis.
    StreamUpdate accept(std::span<const int16_t> pcm);
    // Decodes up to `max_seconds` of audio that arrived but is not decoded yet: after an
    // utterance ends, the audio the VAD had already looked past goes back to be decoded again
    // as the next one's start, and accept() spreads it over the following frames. A caller
    // with idle time between frames calls this to do that work early, so that the next
    // frame's reply is not delayed by it. Returns whether anything was decoded.
    bool catch_up(double max_seconds);
    // End of the stream: the result of whatever was not yet returned as final (maybe empty).
    StreamUpdate finish();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// vosk-server's messages: {"partial" : "..."}; {"result" : [...], "text" : "..."}; {"text" : ""}.
std::string to_vosk_json(const StreamUpdate& u, const StreamOptions& opt);

}  // namespace speech
