// Private to speech/audio*.cpp: the common tail of every decoder — the duration count that
// enforces the limit whatever the header said, the downmix to mono, and the libsoxr resampler
// to 16 kHz 16-bit, all in fixed-size chunks.
#pragma once

#include <soxr.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/c_handles.h"
#include "speech/audio.h"

namespace speech::detail {

using SoxrPtr = std::unique_ptr<std::remove_pointer_t<soxr_t>, core::CDeleter<soxr_delete>>;

// Frames a decoder hands over at a time; the pipeline's output chunks are at most this many
// samples too (256 ms at 16 kHz).
inline constexpr size_t kChunkFrames = 4096;
inline constexpr int kMinRate = 8000;
inline constexpr int kMaxRate = 48000;
inline constexpr int kMaxChannels = 64;

// "7200 s", "2.5 s": durations for error messages.
std::string seconds_text(double seconds);

// Throws AudioError invalid unless 8000 <= rate <= 48000 and 1 <= channels <= 64.
void check_rate_and_channels(int rate, int channels);

// Averages `channels` interleaved float channels into mono. Non-finite samples become 0 and
// the result is clamped to [-1, 1], so float files with NaN or huge values stay harmless.
void downmix_interleaved(const float* in, size_t frames, int channels, float* mono);

// Takes mono float chunks at the stream's rate and hands 16 kHz int16 chunks to the sink.
class MonoPipeline {
  public:
    MonoPipeline(const AudioLimits& limits, const SampleSink& sink);

    // `mono` holds n samples at `rate`, which must stay the same for the whole stream.
    // Throws AudioError too_long as soon as the input passes limits.max_seconds.
    void push(const float* mono, size_t n, int rate);

    // Drains the resampler. Throws AudioError empty if no sample ever came out.
    void finish();

  private:
    void start(int rate);
    void resample(const float* mono, size_t n);
    void pass_through(const float* mono, size_t n);
    void emit(size_t n);

    AudioLimits limits_;
    const SampleSink& sink_;
    int rate_ = 0;
    uint64_t max_frames_ = 0;
    uint64_t frames_in_ = 0;
    uint64_t samples_out_ = 0;
    SoxrPtr soxr_;  // null when the input is already at 16 kHz
    std::vector<int16_t> out_;
};

}  // namespace speech::detail
