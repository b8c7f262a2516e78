// WavWriter: the header describes what was written, and the 32-bit RIFF sizes can never wrap
// (live.max_stream_s is bounded so that the largest stream fits; the writer refuses more).
#include "live/wav_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "core/config.h"

namespace {

std::string temp_dir() {
    char tmpl[] = "/tmp/rostrum-wav-XXXXXX";
    return mkdtemp(tmpl);
}

uint32_t u32_at(const std::vector<char>& b, size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
    return v;
}

std::vector<char> read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(WavWriter, HeaderSizesMatchTheSamples) {
    std::string dir = temp_dir();
    {
        live::WavWriter w(dir + "/tmp", 48000);
        std::vector<int16_t> pcm(4800, 7);
        w.append(pcm);
        w.append(pcm);
        EXPECT_EQ(w.bytes(), 44 + 19200);
        w.commit_to(dir + "/a.wav");
    }
    std::vector<char> b = read_all(dir + "/a.wav");
    ASSERT_EQ(b.size(), 44u + 19200u);
    EXPECT_EQ(u32_at(b, 4), 36u + 19200u);  // RIFF size
    EXPECT_EQ(u32_at(b, 24), 48000u);       // sample rate
    EXPECT_EQ(u32_at(b, 40), 19200u);       // data size
    std::filesystem::remove_all(dir);
}

// Past the limit append throws instead of writing a header whose sizes wrapped around.
TEST(WavWriter, RefusesAudioPastItsLimit) {
    std::string dir = temp_dir();
    live::WavWriter w(dir + "/tmp", 16000, 3200);
    std::vector<int16_t> pcm(1600);
    w.append(pcm);
    EXPECT_THROW(w.append(pcm), std::length_error);
    EXPECT_EQ(w.bytes(), 44 + 3200);
    std::filesystem::remove_all(dir);
}

// The longest stream the configuration allows, at the highest sample rate, still fits the
// 32-bit RIFF size: no saved stream can reach the writer's limit.
TEST(WavWriter, LongestAllowedStreamFitsTheHeader) {
    const int64_t longest = int64_t{core::kLiveMaxStreamSeconds} * core::kLiveMaxSampleRate * 2;
    EXPECT_LE(longest, live::WavWriter::kMaxDataBytes);
    EXPECT_LE(longest + 36, int64_t{UINT32_MAX});
    EXPECT_GT(longest + int64_t{core::kLiveMaxSampleRate} * 2 + 36, int64_t{UINT32_MAX});
}
