// Private to speech/audio*.cpp: the bytes being decoded (a file or a buffer), a seekable cursor
// over them for the C libraries' I/O callbacks, and the container sniffed from magic bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

namespace speech::detail {

// Random-access bytes. Reads never allocate by what the content claims.
class ByteSource {
  public:
    virtual ~ByteSource() = default;
    virtual int64_t size() const = 0;
    // Copies up to n bytes from `offset` into dst; returns how many (0 at or past the end).
    // Throws std::system_error when the underlying file cannot be read.
    virtual size_t read_at(int64_t offset, void* dst, size_t n) const = 0;
};

// A regular file opened read-only; its size is taken once, at open.
class FileSource final : public ByteSource {
  public:
    explicit FileSource(const std::string& path);  // throws std::system_error
    ~FileSource() override;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    int64_t size() const override { return size_; }
    size_t read_at(int64_t offset, void* dst, size_t n) const override;

  private:
    int fd_ = -1;
    int64_t size_ = 0;
};

// Bytes owned by the caller, who keeps them alive while the source is used.
class MemorySource final : public ByteSource {
  public:
    MemorySource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    int64_t size() const override { return static_cast<int64_t>(size_); }
    size_t read_at(int64_t offset, void* dst, size_t n) const override;

  private:
    const uint8_t* data_;
    size_t size_;
};

// A read position over a ByteSource with stdio-like seek semantics, for the libsndfile and
// libavformat callbacks (each decoder gets its own cursor).
class ByteCursor {
  public:
    explicit ByteCursor(const ByteSource& src) : src_(src) {}
    int64_t size() const { return src_.size(); }
    int64_t tell() const { return pos_; }
    // SEEK_SET / SEEK_CUR / SEEK_END; returns the new position or -1 (negative or overflowing
    // targets, unknown whence). Seeking past the end is allowed, as with a file.
    int64_t seek(int64_t offset, int whence);
    size_t read(void* dst, size_t n);

  private:
    const ByteSource& src_;
    int64_t pos_ = 0;
};

// A cursor handed to C libraries as the `opaque` of their I/O callbacks. Exceptions must not
// unwind through C, so a failing read is parked in `error` (the library sees the end of the
// file) and the caller rethrows it once the library call has returned.
struct CallbackCursor {
    explicit CallbackCursor(const ByteSource& src) : cursor(src) {}
    ByteCursor cursor;
    std::exception_ptr error;

    size_t read(void* dst, size_t n) noexcept;
    void rethrow_if_failed() const {
        if (error) std::rethrow_exception(error);
    }
};

// The containers Rostrum accepts. Anything else is refused before a library parses it.
enum class Container { wav, flac, ogg_vorbis, ogg_opus, mp3, webm, m4a };

std::string_view container_name(Container c);  // "wav", "flac", "ogg", "opus", ...
std::string_view container_mime(Container c);  // "audio/wav", ..., "audio/ogg; codecs=opus"
bool decoded_by_libav(Container c);            // webm and m4a; the rest go to libsndfile

// Recognises the container by content alone. Throws AudioError: empty for zero bytes,
// unreadable for anything unknown (text, HTML, zip, gzip, Ogg FLAC/Speex, unsupported WAV
// encodings such as ADPCM), invalid for a WAV `fmt ` chunk with impossible values.
Container sniff_container(const ByteSource& src);

}  // namespace speech::detail
