// The libsndfile back end (WAV, FLAC, Ogg Vorbis, Ogg Opus, MP3) over virtual I/O, so files and
// memory buffers take the same path and the library never opens anything by name.
#include <sndfile.h>

#include <string>
#include <vector>

#include "core/c_handles.h"
#include "speech/audio_decoder.h"

namespace speech::detail {

using SndFilePtr = std::unique_ptr<SNDFILE, core::CDeleter<sf_close>>;

namespace {

CallbackCursor& state_of(void* user) {
    return *static_cast<CallbackCursor*>(user);
}

sf_count_t vio_get_filelen(void* user) noexcept {
    return state_of(user).cursor.size();
}

sf_count_t vio_seek(sf_count_t offset, int whence, void* user) noexcept {
    return state_of(user).cursor.seek(offset, whence);
}

sf_count_t vio_read(void* dst, sf_count_t count, void* user) noexcept {
    if (count <= 0) return 0;
    return static_cast<sf_count_t>(state_of(user).read(dst, static_cast<size_t>(count)));
}

sf_count_t vio_write(const void*, sf_count_t, void*) noexcept {
    return 0;  // opened read-only
}

sf_count_t vio_tell(void* user) noexcept {
    return state_of(user).cursor.tell();
}

constexpr SF_VIRTUAL_IO kVirtualIo = {vio_get_filelen, vio_seek, vio_read, vio_write, vio_tell};

bool accepted_wav_encoding(int sub) {
    switch (sub) {
        case SF_FORMAT_PCM_U8:
        case SF_FORMAT_PCM_16:
        case SF_FORMAT_PCM_24:
        case SF_FORMAT_PCM_32:
        case SF_FORMAT_FLOAT:
        case SF_FORMAT_DOUBLE:
        case SF_FORMAT_ULAW:
        case SF_FORMAT_ALAW:
            return true;
        default:
            return false;
    }
}

// libsndfile guesses the format itself; it must agree with what we sniffed, so that a file
// which is "WAV" to us is never parsed by some other of libsndfile's many readers.
bool matches_sniffed(int format, Container c) {
    int major = format & SF_FORMAT_TYPEMASK, sub = format & SF_FORMAT_SUBMASK;
    switch (c) {
        case Container::wav:
            return (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX ||
                    major == SF_FORMAT_RF64) &&
                   accepted_wav_encoding(sub);
        case Container::flac:
            return major == SF_FORMAT_FLAC;
        case Container::ogg_vorbis:
            return major == SF_FORMAT_OGG && sub == SF_FORMAT_VORBIS;
        case Container::ogg_opus:
            return major == SF_FORMAT_OGG && sub == SF_FORMAT_OPUS;
        case Container::mp3:
            return major == SF_FORMAT_MPEG;
        default:
            return false;
    }
}

// frames is SF_COUNT_MAX when the header does not say (FLAC with total_samples = 0).
double header_duration(const SF_INFO& sf) {
    if (sf.frames < 0 || sf.frames == SF_COUNT_MAX) return -1;
    return static_cast<double>(sf.frames) / sf.samplerate;
}

class SndFileDecoder final : public Decoder {
  public:
    SndFileDecoder(const ByteSource& src, Container container) : vio_(src) {
        SF_INFO sf{};
        SF_VIRTUAL_IO callbacks = kVirtualIo;  // libsndfile wants a mutable pointer
        file_.reset(sf_open_virtual(&callbacks, SFM_READ, &sf, &vio_));
        vio_.rethrow_if_failed();
        if (!file_) {
            throw AudioError(AudioError::Kind::unreadable, std::string("cannot read audio: ") +
                                                               sf_error_number(sf_error(nullptr)));
        }
        if (!matches_sniffed(sf.format, container)) {
            throw AudioError(AudioError::Kind::unreadable,
                             "unsupported encoding inside the " +
                                 std::string(container_name(container)) + " file");
        }
        check_rate_and_channels(sf.samplerate, sf.channels);
        info_ = {sf.samplerate, sf.channels, header_duration(sf)};
    }

    const StreamInfo& info() const override { return info_; }

    void decode(MonoPipeline& out) override {
        std::vector<float> frames(kChunkFrames * static_cast<size_t>(info_.channels));
        std::vector<float> mono(kChunkFrames);
        for (;;) {
            sf_count_t n = sf_readf_float(file_.get(), frames.data(), kChunkFrames);
            vio_.rethrow_if_failed();
            // A decode error mid-stream (truncated or corrupt file) ends the stream: what was
            // decoded so far is kept, as a player would.
            if (n <= 0) break;
            auto count = static_cast<size_t>(n);
            downmix_interleaved(frames.data(), count, info_.channels, mono.data());
            out.push(mono.data(), count, info_.sample_rate);
        }
    }

  private:
    CallbackCursor vio_;  // declared first: libsndfile calls into it until file_ is closed
    SndFilePtr file_;
    StreamInfo info_;
};

}  // namespace

std::unique_ptr<Decoder> open_sndfile_decoder(const ByteSource& src, Container container) {
    return std::make_unique<SndFileDecoder>(src, container);
}

}  // namespace speech::detail
