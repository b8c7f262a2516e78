// WavWriter: a 16-bit mono WAV file written as audio arrives, under a temp name in the audio
// tmp directory. commit_to() patches the header sizes, fsyncs, renames into place and fsyncs
// the directory, so a reader sees a whole file or none. Destroyed uncommitted, it unlinks
// itself: a stream that is not saved leaves nothing behind.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace live {

class WavWriter {
  public:
    // The RIFF size field (data + 36) is 32 bits: the most audio a WAV can say it holds.
    static constexpr int64_t kMaxDataBytes = UINT32_MAX - 36LL;

    // max_data_bytes: a smaller limit, for tests.
    WavWriter(const std::string& tmp_dir, int sample_rate, int64_t max_data_bytes = kMaxDataBytes);
    ~WavWriter();
    WavWriter(const WavWriter&) = delete;
    WavWriter& operator=(const WavWriter&) = delete;

    // Appends little-endian samples; throws core::DiskFullError or std::system_error, and
    // std::length_error past max_data_bytes (live.max_stream_s is bounded so that it is not
    // reached: a header that wrapped around would describe a few seconds of a long file).
    void append(std::span<const int16_t> pcm);
    void commit_to(const std::string& final_path);

    int64_t bytes() const { return 44 + data_bytes_; }
    double seconds() const { return static_cast<double>(data_bytes_) / 2 / rate_; }

  private:
    void write_header();
    std::string path_;
    int fd_ = -1;
    int rate_;
    int64_t data_bytes_ = 0;
    int64_t max_data_bytes_;
    bool committed_ = false;
};

}  // namespace live
