// Private to speech/audio*.cpp: the interface both decoder back ends (libsndfile, libav)
// implement, and the functions that open them over a ByteSource.
#pragma once

#include <memory>

#include "speech/audio_pipeline.h"
#include "speech/audio_source.h"

namespace speech::detail {

// What the container's header says. duration_s is -1 when it does not say.
struct StreamInfo {
    int sample_rate = 0;
    int channels = 0;
    double duration_s = -1;
};

class Decoder {
  public:
    virtual ~Decoder() = default;
    virtual const StreamInfo& info() const = 0;
    // Decodes to the real end of the stream (never trusting the header's length), pushing
    // mono chunks of at most kChunkFrames into `out`.
    virtual void decode(MonoPipeline& out) = 0;
};

// Both read the header on open and throw AudioError unreadable when the library cannot make
// sense of it or finds a different format than the one sniffed. `src` must outlive the
// decoder.
std::unique_ptr<Decoder> open_sndfile_decoder(const ByteSource& src, Container container);
std::unique_ptr<Decoder> open_libav_decoder(const ByteSource& src, Container container);

}  // namespace speech::detail
