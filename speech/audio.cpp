// Audio ingest entry points: sniff the container, open the right back end (libsndfile or
// libav), check the header against the limits, then decode through the 16 kHz mono pipeline.
#include "speech/audio.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "speech/audio_decoder.h"
#include "speech/audio_pipeline.h"
#include "speech/audio_source.h"

namespace speech {

namespace {

using detail::ByteSource;
using detail::Container;
using detail::Decoder;

void check_limits(const AudioLimits& limits) {
    if (!(limits.max_seconds > 0) || !std::isfinite(limits.max_seconds)) {
        throw std::invalid_argument("AudioLimits::max_seconds must be positive and finite");
    }
}

std::unique_ptr<Decoder> open_decoder(const ByteSource& src, Container container) {
    return detail::decoded_by_libav(container) ? detail::open_libav_decoder(src, container)
                                               : detail::open_sndfile_decoder(src, container);
}

// Refuses what the header alone shows to be over the limit or empty, before any decoding.
void check_header_duration(const detail::StreamInfo& info, const AudioLimits& limits) {
    if (info.duration_s > limits.max_seconds) {
        throw AudioError(AudioError::Kind::too_long,
                         "the header says " + detail::seconds_text(info.duration_s) +
                             ", over the limit of " + detail::seconds_text(limits.max_seconds));
    }
    if (info.duration_s == 0) throw AudioError(AudioError::Kind::empty, "the header says 0 s");
}

AudioInfo probe(const ByteSource& src, const AudioLimits& limits) {
    check_limits(limits);
    Container container = detail::sniff_container(src);
    std::unique_ptr<Decoder> decoder = open_decoder(src, container);
    const detail::StreamInfo& stream = decoder->info();
    check_header_duration(stream, limits);
    return AudioInfo{std::string(detail::container_name(container)),
                     std::string(detail::container_mime(container)), stream.sample_rate,
                     stream.channels, stream.duration_s};
}

void decode(const ByteSource& src, const AudioLimits& limits, const SampleSink& sink) {
    check_limits(limits);
    Container container = detail::sniff_container(src);
    std::unique_ptr<Decoder> decoder = open_decoder(src, container);
    check_header_duration(decoder->info(), limits);
    detail::MonoPipeline pipeline(limits, sink);
    decoder->decode(pipeline);
    pipeline.finish();
}

SampleSink append_to(std::vector<int16_t>& out) {
    return
        [&out](const int16_t* samples, size_t n) { out.insert(out.end(), samples, samples + n); };
}

}  // namespace

AudioInfo probe_file(const std::string& path, const AudioLimits& limits) {
    detail::FileSource src(path);
    return probe(src, limits);
}

void decode_16k_mono(const std::string& path, const AudioLimits& limits, const SampleSink& sink) {
    detail::FileSource src(path);
    decode(src, limits, sink);
}

std::vector<int16_t> decode_16k_mono(const std::string& path, const AudioLimits& limits) {
    std::vector<int16_t> out;
    decode_16k_mono(path, limits, append_to(out));
    return out;
}

std::vector<int16_t> decode_memory_16k_mono(const uint8_t* data, size_t size,
                                            const AudioLimits& limits) {
    detail::MemorySource src(data, size);
    std::vector<int16_t> out;
    decode(src, limits, append_to(out));
    return out;
}

}  // namespace speech
