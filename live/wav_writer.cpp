// The WAV container written by hand: the RIFF header is 44 bytes of fixed layout, and only its
// two size fields change once the length is known.
#include "live/wav_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "core/fs.h"
#include "core/temp_file.h"

namespace live {
namespace {

void put_u32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}

[[noreturn]] void fail(const char* what) {
    if (errno == ENOSPC || errno == EDQUOT) throw core::DiskFullError(what);
    throw std::system_error(errno, std::generic_category(), what);
}

void write_all_at(int fd, const uint8_t* p, size_t n, off_t at) {
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) fail("writing the stream's audio");
        p += w;
        n -= static_cast<size_t>(w);
        at += w;
    }
}

}  // namespace

WavWriter::WavWriter(const std::string& tmp_dir, int sample_rate, int64_t max_data_bytes)
    : rate_(sample_rate), max_data_bytes_(std::min(max_data_bytes, kMaxDataBytes)) {
    core::make_dirs(tmp_dir, 0750);
    path_ = tmp_dir + "/live-" + core::new_uuid() + ".wav.part";
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd_ < 0) fail("creating the stream's audio file");
    write_header();
}

WavWriter::~WavWriter() {
    if (fd_ >= 0) close(fd_);
    if (!committed_ && !path_.empty()) unlink(path_.c_str());
}

void WavWriter::write_header() {
    std::array<uint8_t, 44> h{};
    uint32_t data = static_cast<uint32_t>(data_bytes_);
    std::memcpy(h.data(), "RIFF", 4);
    put_u32(h.data() + 4, 36 + data);
    std::memcpy(h.data() + 8, "WAVEfmt ", 8);
    put_u32(h.data() + 16, 16);  // PCM fmt chunk size
    put_u16(h.data() + 20, 1);   // PCM
    put_u16(h.data() + 22, 1);   // mono
    put_u32(h.data() + 24, static_cast<uint32_t>(rate_));
    put_u32(h.data() + 28, static_cast<uint32_t>(rate_) * 2);
    put_u16(h.data() + 32, 2);
    put_u16(h.data() + 34, 16);
    std::memcpy(h.data() + 36, "data", 4);
    put_u32(h.data() + 40, data);
    write_all_at(fd_, h.data(), h.size(), 0);
}

void WavWriter::append(std::span<const int16_t> pcm) {
    // The wire format is little-endian and so is every machine we build for; bytes go as-is.
    if (data_bytes_ + static_cast<int64_t>(pcm.size_bytes()) > max_data_bytes_)
        throw std::length_error("the stream's WAV would pass its 4 GiB header limit");
    const auto* p = reinterpret_cast<const uint8_t*>(pcm.data());
    write_all_at(fd_, p, pcm.size_bytes(), static_cast<off_t>(44 + data_bytes_));
    data_bytes_ += static_cast<int64_t>(pcm.size_bytes());
}

void WavWriter::commit_to(const std::string& final_path) {
    write_header();
    if (fsync(fd_) != 0) fail("fsync of the stream's audio");
    close(fd_);
    fd_ = -1;
    if (rename(path_.c_str(), final_path.c_str()) != 0) fail("renaming the stream's audio");
    committed_ = true;
    int dir = open(core::parent_dir(final_path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        fsync(dir);  // the rename itself must survive a crash
        close(dir);
    }
}

}  // namespace live
