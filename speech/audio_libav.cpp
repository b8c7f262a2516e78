// The libavformat/libavcodec back end, only for the containers libsndfile lacks: WebM/Matroska
// (browsers' MediaRecorder) and MP4/M4A (phone voice memos). The demuxer is chosen by us, I/O
// goes through our own AVIOContext, and nested opens are refused.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/log.h>
}

#include <string>
#include <vector>

#include "core/c_handles.h"
#include "speech/audio_decoder.h"

namespace speech::detail {

namespace {

// libav frees most of its handles through a pointer to the caller's pointer.
template <auto Free>
struct CPtrPtrDeleter {
    template <class T>
    void operator()(T* p) const noexcept {
        if (p) Free(&p);
    }
};

// A custom AVIOContext's buffer may be replaced by libav, so free the one it holds now.
struct AvioDeleter {
    void operator()(AVIOContext* p) const noexcept {
        if (!p) return;
        av_freep(&p->buffer);
        avio_context_free(&p);
    }
};

using AvFormatPtr = std::unique_ptr<AVFormatContext, CPtrPtrDeleter<avformat_close_input>>;
using AvCodecCtxPtr = std::unique_ptr<AVCodecContext, CPtrPtrDeleter<avcodec_free_context>>;
using AvFramePtr = std::unique_ptr<AVFrame, CPtrPtrDeleter<av_frame_free>>;
using AvPacketPtr = std::unique_ptr<AVPacket, CPtrPtrDeleter<av_packet_free>>;
using AvioPtr = std::unique_ptr<AVIOContext, AvioDeleter>;
using AvBufferPtr = std::unique_ptr<uint8_t, core::CDeleter<av_free>>;

constexpr int kAvioBufferSize = 32 * 1024;
constexpr int kMaxReadErrorsInARow = 16;

[[noreturn]] void unreadable(const std::string& why) {
    throw AudioError(AudioError::Kind::unreadable, why);
}

std::string av_error_text(int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(err, buf, sizeof buf);
    return buf;
}

// Corrupt uploads would otherwise fill the worker's stderr with libav's own lines; errors
// reach the caller as AudioError instead. Set once per process (libav's level is global).
void silence_libav_log() {
    static const bool done = (av_log_set_level(AV_LOG_QUIET), true);
    (void)done;
}

int avio_read_cb(void* opaque, uint8_t* buf, int size) noexcept {
    if (size <= 0) return 0;
    size_t got = static_cast<CallbackCursor*>(opaque)->read(buf, static_cast<size_t>(size));
    return got > 0 ? static_cast<int>(got) : AVERROR_EOF;
}

int64_t avio_seek_cb(void* opaque, int64_t offset, int whence) noexcept {
    ByteCursor& cursor = static_cast<CallbackCursor*>(opaque)->cursor;
    if (whence & AVSEEK_SIZE) return cursor.size();
    int64_t pos = cursor.seek(offset, whence & ~AVSEEK_FORCE);
    return pos < 0 ? AVERROR(EINVAL) : pos;
}

// Refuses every nested open (MOV external data references, playlists): an upload must never
// make the server read another file or URL.
int refuse_io_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
    return AVERROR(EPERM);
}

AvioPtr make_avio(CallbackCursor& io) {
    AvBufferPtr buffer(static_cast<uint8_t*>(av_malloc(kAvioBufferSize)));
    if (!buffer) throw std::bad_alloc();
    AvioPtr avio(avio_alloc_context(buffer.get(), kAvioBufferSize, 0, &io, avio_read_cb, nullptr,
                                    avio_seek_cb));
    if (!avio) throw std::bad_alloc();
    buffer.release();  // now owned by avio
    return avio;
}

const AVInputFormat* demuxer_for(Container c) {
    const AVInputFormat* fmt = av_find_input_format(c == Container::webm ? "matroska" : "mov");
    if (!fmt) throw std::runtime_error("libavformat lacks the matroska/mov demuxer");
    return fmt;
}

AvFormatPtr open_format(AVIOContext* avio, Container c) {
    AVFormatContext* raw = avformat_alloc_context();
    if (!raw) throw std::bad_alloc();
    raw->pb = avio;
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    raw->io_open = refuse_io_open;
    raw->max_streams = 32;
    // On failure avformat_open_input frees the context and nulls `raw`.
    int err = avformat_open_input(&raw, nullptr, demuxer_for(c), nullptr);
    if (err < 0)
        unreadable("cannot read the " + std::string(container_name(c)) +
                   " container: " + av_error_text(err));
    return AvFormatPtr(raw);
}

// Audio codecs a voice memo or a browser recording may carry. Anything else (video-only
// files, exotic codecs) is refused rather than handed to one of libavcodec's many decoders.
bool accepted_codec(AVCodecID id) {
    switch (id) {
        case AV_CODEC_ID_AAC:
        case AV_CODEC_ID_ALAC:
        case AV_CODEC_ID_MP3:
        case AV_CODEC_ID_OPUS:
        case AV_CODEC_ID_VORBIS:
        case AV_CODEC_ID_FLAC:
        case AV_CODEC_ID_AMR_NB:
        case AV_CODEC_ID_AMR_WB:
        case AV_CODEC_ID_PCM_S16LE:
        case AV_CODEC_ID_PCM_S16BE:
        case AV_CODEC_ID_PCM_S24LE:
        case AV_CODEC_ID_PCM_F32LE:
            return true;
        default:
            return false;
    }
}

double header_duration(const AVFormatContext& fmt, const AVStream& st) {
    if (fmt.duration != AV_NOPTS_VALUE && fmt.duration > 0) {
        return static_cast<double>(fmt.duration) / AV_TIME_BASE;
    }
    if (st.duration != AV_NOPTS_VALUE && st.duration > 0 && st.time_base.den > 0) {
        return static_cast<double>(st.duration) * av_q2d(st.time_base);
    }
    return -1;
}

AvCodecCtxPtr open_codec(const AVStream& st) {
    const AVCodec* codec = avcodec_find_decoder(st.codecpar->codec_id);
    if (!codec) unreadable("no decoder for the audio codec");
    AvCodecCtxPtr ctx(avcodec_alloc_context3(codec));
    if (!ctx) throw std::bad_alloc();
    if (avcodec_parameters_to_context(ctx.get(), st.codecpar) < 0) {
        unreadable("bad codec parameters");
    }
    ctx->thread_count = 1;  // a worker decodes one file on one core
    ctx->pkt_timebase = st.time_base;
    int err = avcodec_open2(ctx.get(), codec, nullptr);
    if (err < 0) unreadable("cannot open the audio decoder: " + av_error_text(err));
    return ctx;
}

template <class T>
float sample_to_float(T v) {
    if constexpr (std::is_same_v<T, uint8_t>) return (static_cast<int>(v) - 128) / 128.0f;
    if constexpr (std::is_same_v<T, int16_t>) return v / 32768.0f;
    if constexpr (std::is_same_v<T, int32_t>) return static_cast<float>(v / 2147483648.0);
    if constexpr (std::is_same_v<T, int64_t>) return static_cast<float>(v / 9223372036854775808.0);
    if constexpr (std::is_same_v<T, float>) return v;
    if constexpr (std::is_same_v<T, double>) return static_cast<float>(v);
}

// Copies frames [start, start + count) of `f` into `dst` as interleaved floats.
template <class T>
void interleave(const AVFrame& f, bool planar, size_t start, size_t count, float* dst) {
    const int ch = f.ch_layout.nb_channels;
    for (int c = 0; c < ch; ++c) {
        const T* plane = reinterpret_cast<const T*>(f.extended_data[planar ? c : 0]);
        const size_t stride = planar ? 1 : static_cast<size_t>(ch);
        const size_t offset = planar ? 0 : static_cast<size_t>(c);
        for (size_t i = 0; i < count; ++i) {
            dst[i * ch + c] = sample_to_float(plane[(start + i) * stride + offset]);
        }
    }
}

void interleave_any(const AVFrame& f, size_t start, size_t count, float* dst) {
    auto fmt = static_cast<AVSampleFormat>(f.format);
    bool planar = av_sample_fmt_is_planar(fmt);
    switch (av_get_packed_sample_fmt(fmt)) {
        case AV_SAMPLE_FMT_U8:
            return interleave<uint8_t>(f, planar, start, count, dst);
        case AV_SAMPLE_FMT_S16:
            return interleave<int16_t>(f, planar, start, count, dst);
        case AV_SAMPLE_FMT_S32:
            return interleave<int32_t>(f, planar, start, count, dst);
        case AV_SAMPLE_FMT_S64:
            return interleave<int64_t>(f, planar, start, count, dst);
        case AV_SAMPLE_FMT_FLT:
            return interleave<float>(f, planar, start, count, dst);
        case AV_SAMPLE_FMT_DBL:
            return interleave<double>(f, planar, start, count, dst);
        default:
            unreadable("decoder produced an unknown sample format");
    }
}

class LibavDecoder final : public Decoder {
  public:
    LibavDecoder(const ByteSource& src, Container container) : io_(src) {
        silence_libav_log();
        avio_ = make_avio(io_);
        try {
            format_ = open_format(avio_.get(), container);
        } catch (const AudioError&) {
            io_.rethrow_if_failed();  // a failing disk is not the upload's fault
            throw;
        }
        stream_ = pick_audio_stream();
        const AVCodecParameters& par = *format_->streams[stream_]->codecpar;
        check_rate_and_channels(par.sample_rate, par.ch_layout.nb_channels);
        info_ = {par.sample_rate, par.ch_layout.nb_channels,
                 header_duration(*format_, *format_->streams[stream_])};
    }

    const StreamInfo& info() const override { return info_; }

    void decode(MonoPipeline& out) override {
        codec_ = open_codec(*format_->streams[stream_]);
        AvPacketPtr packet(av_packet_alloc());
        AvFramePtr frame(av_frame_alloc());
        if (!packet || !frame) throw std::bad_alloc();
        // The demuxer resynchronises after a damaged block, so a few errors in a row are
        // skipped; the end of the data or a run of errors ends the stream with what decoded.
        for (int errors_in_a_row = 0; errors_in_a_row <= kMaxReadErrorsInARow;) {
            int err = av_read_frame(format_.get(), packet.get());
            io_.rethrow_if_failed();
            if (err == AVERROR_EOF) break;
            if (err < 0) {
                ++errors_in_a_row;
                continue;
            }
            errors_in_a_row = 0;
            if (packet->stream_index == stream_) send_and_drain(packet.get(), *frame, out);
            av_packet_unref(packet.get());
        }
        send_and_drain(nullptr, *frame, out);  // flush the decoder
    }

  private:
    int pick_audio_stream() {
        int index = av_find_best_stream(format_.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
        if (index < 0) unreadable("no audio stream in the container");
        if (!accepted_codec(format_->streams[index]->codecpar->codec_id)) {
            unreadable(std::string("unsupported audio codec ") +
                       avcodec_get_name(format_->streams[index]->codecpar->codec_id));
        }
        for (unsigned i = 0; i < format_->nb_streams; ++i) {
            if (static_cast<int>(i) != index) format_->streams[i]->discard = AVDISCARD_ALL;
        }
        return index;
    }

    // Corrupt packets are skipped, as players do; what decodes is kept.
    void send_and_drain(const AVPacket* packet, AVFrame& frame, MonoPipeline& out) {
        if (avcodec_send_packet(codec_.get(), packet) < 0 && packet) return;
        while (avcodec_receive_frame(codec_.get(), &frame) >= 0) {
            deliver(frame, out);
            av_frame_unref(&frame);
        }
    }

    void deliver(const AVFrame& frame, MonoPipeline& out) {
        const int channels = frame.ch_layout.nb_channels;
        check_rate_and_channels(frame.sample_rate, channels);
        interleaved_.resize(kChunkFrames * static_cast<size_t>(channels));
        mono_.resize(kChunkFrames);
        const auto total = static_cast<size_t>(std::max(frame.nb_samples, 0));
        for (size_t start = 0; start < total; start += kChunkFrames) {
            size_t count = std::min(kChunkFrames, total - start);
            interleave_any(frame, start, count, interleaved_.data());
            downmix_interleaved(interleaved_.data(), count, channels, mono_.data());
            out.push(mono_.data(), count, frame.sample_rate);
        }
    }

    // Destruction runs bottom-up: the codec and the demuxer go before the I/O they read from.
    CallbackCursor io_;
    AvioPtr avio_;
    AvFormatPtr format_;
    AvCodecCtxPtr codec_;
    int stream_ = -1;
    StreamInfo info_;
    std::vector<float> interleaved_;
    std::vector<float> mono_;
};

}  // namespace

std::unique_ptr<Decoder> open_libav_decoder(const ByteSource& src, Container container) {
    return std::make_unique<LibavDecoder>(src, container);
}

}  // namespace speech::detail
