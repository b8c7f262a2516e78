// Byte sources for the decoders and the content sniffer that picks the container by magic bytes.
#include "speech/audio_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <system_error>

#include "speech/audio.h"

namespace speech::detail {

namespace {

[[noreturn]] void refuse(AudioError::Kind kind, const std::string& why) {
    throw AudioError(kind, why);
}

std::system_error errno_error(const std::string& what) {
    return std::system_error(errno, std::generic_category(), what);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Sources and cursor

FileSource::FileSource(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw errno_error("open " + path);
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        auto err = errno_error("stat " + path);
        ::close(fd_);
        throw err;
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                path + " is not a regular file");
    }
    size_ = st.st_size;
}

FileSource::~FileSource() {
    if (fd_ >= 0) ::close(fd_);
}

size_t FileSource::read_at(int64_t offset, void* dst, size_t n) const {
    size_t done = 0;
    while (done < n && offset + static_cast<int64_t>(done) < size_) {
        ssize_t got = ::pread(fd_, static_cast<char*>(dst) + done, n - done,
                              static_cast<off_t>(offset + static_cast<int64_t>(done)));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw errno_error("read");
        if (got == 0) break;  // the file shrank under us: treat as its end
        done += static_cast<size_t>(got);
    }
    return done;
}

size_t MemorySource::read_at(int64_t offset, void* dst, size_t n) const {
    if (offset < 0 || static_cast<uint64_t>(offset) >= size_) return 0;
    size_t count = std::min(n, size_ - static_cast<size_t>(offset));
    std::memcpy(dst, data_ + offset, count);
    return count;
}

int64_t ByteCursor::seek(int64_t offset, int whence) {
    int64_t base = 0;
    switch (whence) {
        case SEEK_SET:
            base = 0;
            break;
        case SEEK_CUR:
            base = pos_;
            break;
        case SEEK_END:
            base = src_.size();
            break;
        default:
            return -1;
    }
    int64_t target = 0;
    if (__builtin_add_overflow(base, offset, &target) || target < 0) return -1;
    pos_ = target;
    return pos_;
}

size_t ByteCursor::read(void* dst, size_t n) {
    size_t got = src_.read_at(pos_, dst, n);
    pos_ += static_cast<int64_t>(got);
    return got;
}

size_t CallbackCursor::read(void* dst, size_t n) noexcept {
    if (error) return 0;
    try {
        return cursor.read(dst, n);
    } catch (...) {
        error = std::current_exception();
        return 0;
    }
}

// ---------------------------------------------------------------------------------------------
// Names

std::string_view container_name(Container c) {
    switch (c) {
        case Container::wav:
            return "wav";
        case Container::flac:
            return "flac";
        case Container::ogg_vorbis:
            return "ogg";
        case Container::ogg_opus:
            return "opus";
        case Container::mp3:
            return "mp3";
        case Container::webm:
            return "webm";
        case Container::m4a:
            return "m4a";
    }
    return "?";
}

std::string_view container_mime(Container c) {
    switch (c) {
        case Container::wav:
            return "audio/wav";
        case Container::flac:
            return "audio/flac";
        case Container::ogg_vorbis:
            return "audio/ogg";
        case Container::ogg_opus:
            return "audio/ogg; codecs=opus";
        case Container::mp3:
            return "audio/mpeg";
        case Container::webm:
            return "audio/webm";
        case Container::m4a:
            return "audio/mp4";
    }
    return "application/octet-stream";
}

bool decoded_by_libav(Container c) {
    return c == Container::webm || c == Container::m4a;
}

// ---------------------------------------------------------------------------------------------
// Sniffing

namespace {

using Bytes = const uint8_t*;

uint32_t le16(Bytes p) {
    return p[0] | (p[1] << 8);
}
uint32_t le32(Bytes p) {
    return le16(p) | (le16(p + 2) << 16);
}
uint32_t be16(Bytes p) {
    return (p[0] << 8) | p[1];
}
uint32_t be32(Bytes p) {
    return (be16(p) << 16) | be16(p + 2);
}

bool starts_with(Bytes p, size_t n, std::string_view magic) {
    return n >= magic.size() && std::memcmp(p, magic.data(), magic.size()) == 0;
}

// The head of the file (or of what follows an ID3 tag): enough for every magic we look at,
// including the first Ogg page's segment table and the first packet's signature.
struct Head {
    std::array<uint8_t, 512> bytes{};
    size_t size = 0;
    Bytes data() const { return bytes.data(); }
};

Head read_head(const ByteSource& src, int64_t offset) {
    Head h;
    h.size = src.read_at(offset, h.bytes.data(), h.bytes.size());
    return h;
}

// WAVE format tags libsndfile decodes that we accept: PCM, IEEE float, A-law, µ-law. ADPCM,
// GSM and the other block codecs (the source of libsndfile's WAV CVEs) are refused.
bool accepted_wave_tag(uint32_t tag) {
    return tag == 0x0001 || tag == 0x0003 || tag == 0x0006 || tag == 0x0007;
}

bool plausible_bits(uint32_t tag, uint32_t bits) {
    if (tag == 0x0001) return bits >= 8 && bits <= 32 && bits % 8 == 0;
    if (tag == 0x0003) return bits == 32 || bits == 64;
    return bits == 8;  // A-law, µ-law
}

// Checks a `fmt ` chunk body: refuses what would make a decoder divide by zero or allocate
// by a wild channel count before libsndfile ever sees it.
void check_wav_fmt(Bytes f, size_t n, bool big_endian) {
    if (n < 16) refuse(AudioError::Kind::unreadable, "WAV fmt chunk is too short");
    auto u16 = [&](size_t at) { return big_endian ? be16(f + at) : le16(f + at); };
    auto u32 = [&](size_t at) { return big_endian ? be32(f + at) : le32(f + at); };
    uint32_t tag = u16(0), channels = u16(2), rate = u32(4), block_align = u16(12);
    uint32_t bits = u16(14);
    if (tag == 0xFFFE && n >= 26) tag = u16(24);  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID
    if (!accepted_wave_tag(tag)) {
        refuse(AudioError::Kind::unreadable,
               "unsupported WAV encoding (format tag " + std::to_string(tag) + ")");
    }
    if (channels < 1 || channels > 64) {
        refuse(AudioError::Kind::invalid, "WAV has " + std::to_string(channels) + " channels");
    }
    if (rate < 8000 || rate > 48000) {
        refuse(AudioError::Kind::invalid,
               "WAV sample rate " + std::to_string(rate) + " Hz is outside 8000-48000");
    }
    if (block_align == 0 || !plausible_bits(tag, bits)) {
        refuse(AudioError::Kind::invalid, "WAV block align " + std::to_string(block_align) +
                                              " / bits " + std::to_string(bits));
    }
}

// Walks the RIFF chunks after "WAVE" to the `fmt ` chunk and checks it. Chunk sizes are only
// used to skip, never to allocate.
void check_wav(const ByteSource& src, bool big_endian) {
    int64_t at = 12;
    for (int chunks = 0; chunks < 64 && at + 8 <= src.size(); ++chunks) {
        uint8_t hdr[8];
        if (src.read_at(at, hdr, 8) != 8) break;
        uint32_t size = big_endian ? be32(hdr + 4) : le32(hdr + 4);
        if (std::memcmp(hdr, "fmt ", 4) == 0) {
            uint8_t body[40] = {};
            size_t got = src.read_at(at + 8, body, std::min<size_t>(size, sizeof body));
            check_wav_fmt(body, got, big_endian);
            return;
        }
        at += 8 + static_cast<int64_t>(size) + (size & 1);  // chunks are word-aligned
    }
    refuse(AudioError::Kind::unreadable, "WAV without a readable fmt chunk");
}

// Size of an ID3v2 tag at p (header + body + optional footer), or 0 if there is none.
int64_t id3v2_size(Bytes p, size_t n) {
    if (!starts_with(p, n, "ID3") || n < 10) return 0;
    if ((p[6] | p[7] | p[8] | p[9]) & 0x80) return 0;  // not a synchsafe integer
    int64_t body = (int64_t{p[6]} << 21) | (p[7] << 14) | (p[8] << 7) | p[9];
    return 10 + body + ((p[5] & 0x10) ? 10 : 0);
}

// An MPEG audio frame header (layer I-III, MPEG 1/2/2.5) that mpg123 would accept.
bool mpeg_frame_header(Bytes p, size_t n) {
    if (n < 4 || p[0] != 0xFF || (p[1] & 0xE0) != 0xE0) return false;
    uint8_t version = (p[1] >> 3) & 3, layer = (p[1] >> 1) & 3;
    uint8_t bitrate = p[2] >> 4, rate = (p[2] >> 2) & 3, emphasis = p[3] & 3;
    return version != 1 && layer != 0 && bitrate != 15 && rate != 3 && emphasis != 2;
}

// The codec of an Ogg stream from the first packet of its first page.
Container sniff_ogg(const Head& h) {
    Bytes p = h.data();
    if (h.size < 27) refuse(AudioError::Kind::unreadable, "truncated Ogg page");
    size_t segments = p[26];
    size_t packet = 27 + segments;
    if (packet > h.size) refuse(AudioError::Kind::unreadable, "truncated Ogg page");
    Bytes body = p + packet;
    size_t left = h.size - packet;
    if (starts_with(body, left, "\x01vorbis")) return Container::ogg_vorbis;
    if (starts_with(body, left, "OpusHead")) return Container::ogg_opus;
    refuse(AudioError::Kind::unreadable, "Ogg stream is neither Vorbis nor Opus");
}

// Formats that may sit behind ID3v2 tags (libsndfile skips them): FLAC and MPEG audio.
Container sniff_after_id3(const ByteSource& src, int64_t offset) {
    for (int tags = 0; tags < 8; ++tags) {
        Head h = read_head(src, offset);
        int64_t skip = id3v2_size(h.data(), h.size);
        if (skip == 0) {
            if (starts_with(h.data(), h.size, "fLaC")) return Container::flac;
            if (mpeg_frame_header(h.data(), h.size)) return Container::mp3;
            break;
        }
        if (skip > src.size() - offset) {
            refuse(AudioError::Kind::unreadable, "ID3 tag larger than the file");
        }
        offset += skip;
    }
    refuse(AudioError::Kind::unreadable, "ID3 tag followed by no FLAC or MPEG audio");
}

}  // namespace

Container sniff_container(const ByteSource& src) {
    if (src.size() == 0) refuse(AudioError::Kind::empty, "the file is empty");
    Head h = read_head(src, 0);
    Bytes p = h.data();
    size_t n = h.size;
    bool riff = starts_with(p, n, "RIFF") || starts_with(p, n, "RF64");
    if ((riff || starts_with(p, n, "RIFX")) && n >= 12 && std::memcmp(p + 8, "WAVE", 4) == 0) {
        check_wav(src, /*big_endian=*/!riff);
        return Container::wav;
    }
    if (starts_with(p, n, "fLaC")) return Container::flac;
    if (starts_with(p, n, "OggS")) return sniff_ogg(h);
    if (starts_with(p, n, "\x1A\x45\xDF\xA3")) return Container::webm;  // EBML (Matroska)
    if (n >= 12 && std::memcmp(p + 4, "ftyp", 4) == 0) return Container::m4a;
    if (starts_with(p, n, "ID3") || mpeg_frame_header(p, n)) return sniff_after_id3(src, 0);
    refuse(AudioError::Kind::unreadable, "not a supported audio format");
}

}  // namespace speech::detail
