// The decoder side of /ws/transcribe. A Lane is one decoder thread's state: the recognizer
// configuration and the StreamDecoders it owns (pocketsphinx state cannot move between
// threads, so a stream stays on its lane for its whole life). A LiveStream is one socket's
// stream; every method runs on its lane's thread, frames in the order they arrived. Between
// frames, when no task waits, the lane decodes ahead for its streams (Lane::work_when_idle).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "live/wav_writer.h"
#include "speech/stream.h"

namespace live {

class LiveStream;

struct Lane {
    std::string model_root;               // speech.model_root: one model per language
    speech::RecognizerConfig recognizer;  // model_dir is the stream's language's
    // Reused stream after stream, by language. Decoders of at most kIdleLanguages languages
    // wait here: one of another language given back drops those of a language other than
    // en-us, so a lane's idle memory stays bounded whatever languages streams ask for.
    static constexpr size_t kIdleLanguages = 2;
    std::map<std::string, std::vector<std::unique_ptr<speech::StreamDecoder>>> idle;
    std::vector<std::weak_ptr<LiveStream>> streams;  // decoding here; pruned as they end
    size_t next_stream = 0;                          // round robin for work_when_idle

    // An idle decoder of `language` (checked at the upgrade), else a new one: throws
    // std::runtime_error when its model is not installed or does not load.
    std::unique_ptr<speech::StreamDecoder> take(const std::string& language);
    void give_back(const std::string& language, std::unique_ptr<speech::StreamDecoder> d);
    // TaskThread calls this while no task waits: one slice of one stream's undecoded audio,
    // streams in turn, so a frame that arrives meanwhile waits for one slice at most.
    // Returns whether it decoded anything (false: nothing to do until the next task).
    bool work_when_idle();
};

// Where a saved stream goes (save=1): the owner and the session's fields.
struct SaveTarget {
    std::string user_id;
    std::string kind;
    std::string title;
    std::optional<std::string> patient_id;
    std::optional<std::string> project_id;  // one the user could see at the upgrade
    bool consent = false;   // consent=true: the recorded person agreed (scribe sessions)
    std::string audio_dir;  // <data>/audio
};

// A finished stream that was saved: its audio is already in place under audio_dir.
struct SavedStream {
    SaveTarget target;
    std::string session_id;
    std::string language;    // what it was decoded in: the session's language
    std::string engine;      // the decoder's (speech::StreamDecoder::engine)
    std::string audio_path;  // file name under audio_dir
    int64_t audio_bytes = 0;
    double duration_s = 0;
    std::string text;
    std::vector<speech::Word> words;
};

class LiveStream : public std::enable_shared_from_this<LiveStream> {
  public:
    LiveStream(speech::StreamOptions opt, std::string language, std::optional<SaveTarget> save);

    // A frame comes in slices, each its own lane task so that other streams' frames run
    // between them. Every slice is decoded (and recorded); the last returns the frame's one
    // vosk reply, as if it had been decoded whole: the results of every slice, else the
    // partial after the last. Throws std::invalid_argument when the options are refused by
    // the decoder (unknown phrase words), anything else for a decoder failure.
    std::optional<std::string> accept_slice(Lane& lane, std::span<const int16_t> pcm, bool last);
    // The final vosk reply; the decoder goes back to the lane.
    std::string finish(Lane& lane);
    // The audio committed and described, when saving and any audio arrived; call after finish.
    std::optional<SavedStream> commit_audio();
    // Writes audio that was received but will not be decoded (the socket went away first).
    void record(Lane& lane, std::span<const int16_t> pcm);
    // The socket went away without eof: the decoder goes back, the audio is kept if saving.
    void abandon(Lane& lane);
    // Decodes a slice of audio that arrived but was not decoded yet; false when none waits
    // (or the stream is over).
    bool catch_up();
    bool finished() const { return finished_; }

  private:
    void begin(Lane& lane);
    void collect(const speech::StreamUpdate& u);

    speech::StreamOptions opt_;
    std::string language_;
    std::optional<SaveTarget> save_;
    std::unique_ptr<speech::StreamDecoder> decoder_;
    std::string engine_;  // decoder_'s, kept for the saved session
    std::unique_ptr<WavWriter> wav_;
    std::vector<speech::Word> words_;
    std::string text_;
    speech::StreamUpdate frame_result_;  // results of the frame's slices so far
    bool finished_ = false;
};

}  // namespace live
