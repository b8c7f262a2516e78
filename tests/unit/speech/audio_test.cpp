// Tests for speech/audio: every accepted format at 8-48 kHz mono/stereo, the downmix and the
// resampler, the limits from the header and while decoding, and malformed or hostile files.
// Files are generated at test time with sox, flac, lame, opusenc, oggenc and ffmpeg (Debian:
// sox flac lame opus-tools vorbis-tools ffmpeg, installed by scripts/deps.sh); a missing tool
// fails the test with its name rather than skipping.
#include "speech/audio.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace speech {
namespace {

namespace fs = std::filesystem;
using Kind = AudioError::Kind;

constexpr double kToneHz = 440;
constexpr double kToneAmplitude = 0.5;  // of full scale
constexpr double kSourceSeconds = 2.0;

// ---------------------------------------------------------------------------------------------
// Files and tools

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

fs::path fixtures_dir() {
#ifdef ROSTRUM_SOURCE_DIR
    return fs::path(ROSTRUM_SOURCE_DIR) / "tests/fixtures/audio";
#else
    return fs::path(__FILE__).parent_path() / "../../fixtures/audio";
#endif
}

// The Debian package that provides each generator, for the failure message.
const std::map<std::string, std::string>& tool_packages() {
    static const std::map<std::string, std::string> packages = {{"sox", "sox"},
                                                                {"flac", "flac"},
                                                                {"lame", "lame"},
                                                                {"opusenc", "opus-tools"},
                                                                {"oggenc", "vorbis-tools"},
                                                                {"ffmpeg", "ffmpeg"},
                                                                {"gzip", "gzip"}};
    return packages;
}

// Runs `tool args...` through the shell; throws with the tool's Debian package when the tool
// is missing, and with the command line when it fails.
void run_tool(const std::string& tool, const std::string& args) {
    if (std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) != 0) {
        auto it = tool_packages().find(tool);
        throw std::runtime_error("test generator `" + tool + "` is missing: apt-get install " +
                                 (it == tool_packages().end() ? tool : it->second) +
                                 " (scripts/deps.sh does)");
    }
    std::string cmd = tool + " " + args;
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("command failed: " + cmd);
}

std::string quoted(const fs::path& p) {
    return "'" + p.string() + "'";
}

// A scratch directory per test suite, removed afterwards unless ROSTRUM_TEST_KEEP=1.
class ScratchDir {
  public:
    ScratchDir() {
        std::string tmpl = (fs::temp_directory_path() / "rostrum-audio-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::system_error(errno, std::generic_category());
        path_ = tmpl;
    }
    ~ScratchDir() {
        const char* keep = std::getenv("ROSTRUM_TEST_KEEP");
        if (keep && std::string(keep) == "1") {
            std::fprintf(stderr, "keeping %s\n", path_.c_str());
            return;
        }
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

// ---------------------------------------------------------------------------------------------
// Byte writers: WAV headers with chosen (possibly impossible) fields, ID3 tags, FLAC silence

void put_le16(std::string& s, uint32_t v) {
    s += static_cast<char>(v & 0xFF);
    s += static_cast<char>((v >> 8) & 0xFF);
}
void put_le32(std::string& s, uint32_t v) {
    put_le16(s, v & 0xFFFF);
    put_le16(s, v >> 16);
}
void put_be16(std::string& s, uint32_t v) {
    s += static_cast<char>((v >> 8) & 0xFF);
    s += static_cast<char>(v & 0xFF);
}
void put_be32(std::string& s, uint32_t v) {
    put_be16(s, v >> 16);
    put_be16(s, v & 0xFFFF);
}

struct WavFields {
    uint32_t tag = 1;
    uint32_t channels = 1;
    uint32_t rate = 16000;
    uint32_t bits = 16;
    std::optional<uint32_t> block_align;  // default channels * bits / 8
    std::optional<uint32_t> data_size;    // default: the real size
    std::string chunks_before_data;       // e.g. a LIST chunk
};

std::string wav_bytes(const WavFields& f, const std::string& data) {
    uint32_t align = f.block_align.value_or(f.channels * f.bits / 8);
    std::string fmt;
    put_le16(fmt, f.tag);
    put_le16(fmt, f.channels);
    put_le32(fmt, f.rate);
    put_le32(fmt, f.rate * align);
    put_le16(fmt, align);
    put_le16(fmt, f.bits);
    std::string body = "WAVEfmt ";
    put_le32(body, static_cast<uint32_t>(fmt.size()));
    body += fmt + f.chunks_before_data + "data";
    put_le32(body, f.data_size.value_or(static_cast<uint32_t>(data.size())));
    body += data;
    std::string out = "RIFF";
    put_le32(out, static_cast<uint32_t>(body.size()));
    return out + body;
}

std::string riff_chunk(const std::string& id, const std::string& content) {
    std::string out = id;
    put_le32(out, static_cast<uint32_t>(content.size()));
    out += content;
    if (content.size() % 2) out += '\0';
    return out;
}

// Interleaved 16-bit samples: channel 0 carries a 440 Hz tone, the others `other_gain` times
// it (0: silent, -1: phase-inverted, 1: identical).
std::string tone_pcm16(int rate, int channels, double seconds, double other_gain = 0) {
    std::string out;
    const auto frames = static_cast<size_t>(std::lround(rate * seconds));
    for (size_t i = 0; i < frames; ++i) {
        double v = kToneAmplitude * std::sin(2 * M_PI * kToneHz * static_cast<double>(i) / rate);
        for (int c = 0; c < channels; ++c) {
            double s = c == 0 ? v : v * other_gain;
            put_le16(out, static_cast<uint16_t>(static_cast<int16_t>(std::lround(s * 32767))));
        }
    }
    return out;
}

std::string tone_wav(int rate, int channels, double seconds, double other_gain = 0) {
    WavFields f;
    f.rate = static_cast<uint32_t>(rate);
    f.channels = static_cast<uint32_t>(channels);
    return wav_bytes(f, tone_pcm16(rate, channels, seconds, other_gain));
}

// An ID3v2.3 tag whose header declares `declared_size` bytes, followed by `body`.
std::string id3v2(uint32_t declared_size, const std::string& body) {
    std::string out = "ID3\x03";
    out += '\0';
    out += '\0';
    for (int shift : {21, 14, 7, 0}) out += static_cast<char>((declared_size >> shift) & 0x7F);
    return out + body;
}

std::string id3_frame(const std::string& id, const std::string& text) {
    std::string out = id;
    put_be32(out, static_cast<uint32_t>(text.size() + 1));
    out += std::string(2, '\0');  // flags
    out += '\0';                  // ISO-8859-1
    return out + text;
}

uint8_t crc8(const std::string& s, size_t from) {
    uint8_t crc = 0;
    for (size_t i = from; i < s.size(); ++i) {
        crc ^= static_cast<uint8_t>(s[i]);
        for (int b = 0; b < 8; ++b) crc = (crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1;
    }
    return crc;
}

uint16_t crc16(const std::string& s, size_t from) {
    uint16_t crc = 0;
    for (size_t i = from; i < s.size(); ++i) {
        crc ^= static_cast<uint16_t>(static_cast<uint8_t>(s[i]) << 8);
        for (int b = 0; b < 8; ++b) crc = (crc & 0x8000) ? (crc << 1) ^ 0x8005 : crc << 1;
    }
    return crc;
}

// FLAC's UTF-8-like coding of the frame number.
void put_flac_frame_number(std::string& s, uint32_t n) {
    if (n < 0x80) {
        s += static_cast<char>(n);
    } else if (n < 0x800) {
        s += static_cast<char>(0xC0 | (n >> 6));
        s += static_cast<char>(0x80 | (n & 0x3F));
    } else if (n < 0x10000) {
        s += static_cast<char>(0xE0 | (n >> 12));
        s += static_cast<char>(0x80 | ((n >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (n & 0x3F));
    } else {
        s += static_cast<char>(0xF0 | (n >> 18));
        s += static_cast<char>(0x80 | ((n >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((n >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (n & 0x3F));
    }
}

// Digital silence at 16 kHz mono 16-bit as FLAC: STREAMINFO plus `frames` CONSTANT frames of
// 4096 samples, ~14 bytes each (10 h ≈ 2 MB, the decompression bomb of RELIABILITY.md §3).
// Written directly because `sox -D -n ... trim 0 36000` takes ~25 s for the same bytes.
// `declared_samples` goes into STREAMINFO (0 means "unknown").
std::string flac_silence(uint32_t frames, uint64_t declared_samples) {
    std::string out = "fLaC";
    out += '\x80';  // last metadata block, STREAMINFO
    out += std::string("\x00\x00\x22", 3);
    put_be16(out, 4096);
    put_be16(out, 4096);
    out += std::string(6, '\0');  // min/max frame size unknown
    uint64_t packed = (uint64_t{16000} << 44) | (uint64_t{0} << 41) | (uint64_t{15} << 36) |
                      (declared_samples & 0xFFFFFFFFFULL);
    put_be32(out, static_cast<uint32_t>(packed >> 32));
    put_be32(out, static_cast<uint32_t>(packed));
    out += std::string(16, '\0');  // MD5 unknown
    for (uint32_t n = 0; n < frames; ++n) {
        size_t start = out.size();
        out += std::string("\xFF\xF8\xC5\x08", 4);  // sync, 4096 samples, 16 kHz, mono, 16 bit
        put_flac_frame_number(out, n);
        out += static_cast<char>(crc8(out, start));
        out += std::string(3, '\0');  // CONSTANT subframe, value 0
        put_be16(out, crc16(out, start));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Measuring the output

double seconds_of(const std::vector<int16_t>& s) {
    return static_cast<double>(s.size()) / kTargetRate;
}

// The middle 80%: codecs' onsets and tails do not count.
std::pair<size_t, size_t> middle(const std::vector<int16_t>& s) {
    return {s.size() / 10, s.size() - s.size() / 10};
}

// Upward crossings with hysteresis (±300), counted over the middle of the signal.
double tone_frequency(const std::vector<int16_t>& s) {
    auto [from, to] = middle(s);
    int crossings = 0;
    bool low = false;
    for (size_t i = from; i < to; ++i) {
        if (s[i] < -300) low = true;
        if (low && s[i] > 300) {
            ++crossings;
            low = false;
        }
    }
    return crossings / (static_cast<double>(to - from) / kTargetRate);
}

double rms(const std::vector<int16_t>& s) {
    auto [from, to] = middle(s);
    double sum = 0;
    for (size_t i = from; i < to; ++i) sum += static_cast<double>(s[i]) * s[i];
    return to > from ? std::sqrt(sum / static_cast<double>(to - from)) : 0;
}

const double kToneRms = kToneAmplitude * 32767 / std::sqrt(2.0);

template <class F>
AudioError::Kind error_kind(F&& f) {
    try {
        f();
    } catch (const AudioError& e) {
        return e.kind;
    }
    ADD_FAILURE() << "expected an AudioError";
    return static_cast<Kind>(-1);
}

size_t address_space_bytes() {
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0;
    statm >> pages;
    return pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// ASan reserves terabytes of shadow address space, so RLIMIT_AS cannot apply under it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);
#else
constexpr bool kAddressSanitizer = false;
#endif

void limit_address_space(size_t extra_mb) {
    if (kAddressSanitizer) return;
    rlim_t limit = address_space_bytes() + extra_mb * 1024 * 1024;
    rlimit rl{limit, limit};
    setrlimit(RLIMIT_AS, &rl);
}

// Runs body in a forked child (a death test) whose address space may grow by only `extra_mb`
// over the parent's; the test fails if body returns false, throws, crashes or runs out of
// memory.
void expect_within_memory(size_t extra_mb, const std::function<bool()>& body) {
    EXPECT_EXIT(
        {
            limit_address_space(extra_mb);
            bool ok = false;
            try {
                ok = body();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "unexpected exception: %s\n", e.what());
            }
            std::_Exit(ok ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

// ---------------------------------------------------------------------------------------------
// Fixture: a scratch directory shared by the tests of one suite

class AudioTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { dir_ = new ScratchDir(); }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }

    static fs::path path(const std::string& name) { return dir_->path() / name; }

    static fs::path write(const std::string& name, const std::string& bytes) {
        fs::path p = path(name);
        write_file(p, bytes);
        return p;
    }

    // A 16-bit tone WAV written by us: the input of every encoder.
    static fs::path source_wav(const std::string& name, int rate, int channels,
                               double seconds = kSourceSeconds, double other_gain = 0) {
        return write(name, tone_wav(rate, channels, seconds, other_gain));
    }

    // The tone encoded by `format`'s tool, from a source WAV `<stem>_src.wav`.
    static fs::path encoded_tone(const std::string& format, const std::string& stem, int rate,
                                 int channels, double seconds = kSourceSeconds,
                                 double other_gain = 0);

    static ScratchDir* dir_;
};

ScratchDir* AudioTest::dir_ = nullptr;

// ---------------------------------------------------------------------------------------------
// Encoders

struct Encoding {
    std::string format;  // AudioInfo::format
    std::string mime;
    std::string ext;
    // Turns a 16-bit WAV into this format (empty: the WAV itself).
    std::string (*command)(const fs::path& in, const fs::path& out, int rate);
    std::string tool;
};

const std::vector<Encoding>& encodings() {
    static const std::vector<Encoding> all = {
        {"wav", "audio/wav", "wav", nullptr, ""},
        {"flac", "audio/flac", "flac",
         [](const fs::path& in, const fs::path& out, int) {
             return "--silent --force -o " + quoted(out) + " " + quoted(in);
         },
         "flac"},
        {"ogg", "audio/ogg", "ogg",
         [](const fs::path& in, const fs::path& out, int) {
             return "--quiet -o " + quoted(out) + " " + quoted(in);
         },
         "oggenc"},
        {"opus", "audio/ogg; codecs=opus", "opus",
         [](const fs::path& in, const fs::path& out, int) {
             return "--quiet " + quoted(in) + " " + quoted(out);
         },
         "opusenc"},
        {"mp3", "audio/mpeg", "mp3",
         // 64 kb/s at the source's rate: at lame's default for 8 kHz (8 kb/s) a frame is too
         // small for the LAME tag, and without it no decoder knows the encoder's delay and
         // padding; --resample stops lame from lowering the rate to suit the bitrate.
         [](const fs::path& in, const fs::path& out, int rate) {
             return "--quiet -b 64 --resample " + std::to_string(rate / 1000.0) + " " + quoted(in) +
                    " " + quoted(out);
         },
         "lame"},
        {"webm", "audio/webm", "webm",
         [](const fs::path& in, const fs::path& out, int) {
             return "-nostdin -loglevel error -y -i " + quoted(in) + " -c:a libopus " + quoted(out);
         },
         "ffmpeg"},
        {"m4a", "audio/mp4", "m4a",
         [](const fs::path& in, const fs::path& out, int) {
             return "-nostdin -loglevel error -y -i " + quoted(in) + " -c:a aac " + quoted(out);
         },
         "ffmpeg"},
    };
    return all;
}

const Encoding& encoding(const std::string& format) {
    for (const Encoding& e : encodings()) {
        if (e.format == format) return e;
    }
    throw std::invalid_argument("no encoding " + format);
}

// How far a decoded duration may be from the source's: 2%, plus for AAC in MP4 the padding to
// a whole 1024-sample frame at the end, which libavformat 59 does not trim (ffmpeg's own CLI
// decodes the same extra samples).
double duration_tolerance(const std::string& format, int rate, double seconds) {
    return seconds * 0.02 + (format == "m4a" ? 1024.0 / rate : 0);
}

// `rate` is the WAV's sample rate.
fs::path encode(const Encoding& e, const fs::path& wav, const std::string& stem, int rate) {
    if (!e.command) return wav;
    fs::path out = wav.parent_path() / (stem + "." + e.ext);
    run_tool(e.tool, e.command(wav, out, rate));
    return out;
}

fs::path AudioTest::encoded_tone(const std::string& format, const std::string& stem, int rate,
                                 int channels, double seconds, double other_gain) {
    fs::path wav = source_wav(stem + "_src.wav", rate, channels, seconds, other_gain);
    return encode(encoding(format), wav, stem, rate);
}

// ---------------------------------------------------------------------------------------------
// Every format x rate x channel layout

using FormatCase = std::tuple<std::string, int, int>;  // format, rate, channels

class AudioFormatTest : public AudioTest, public ::testing::WithParamInterface<FormatCase> {};

TEST_P(AudioFormatTest, DecodesTo16kMonoKeepingDurationAndPitch) {
    auto [format, rate, channels] = GetParam();
    const Encoding& enc = encoding(format);
    std::string stem = format + "_" + std::to_string(rate) + "_" + std::to_string(channels);
    fs::path file = encoded_tone(format, stem, rate, channels);

    AudioInfo info = probe_file(file, {});
    EXPECT_EQ(info.format, enc.format);
    EXPECT_EQ(info.mime, enc.mime);
    EXPECT_EQ(info.channels, channels);
    if (format == "opus" || format == "webm") {
        EXPECT_TRUE(info.sample_rate == rate || info.sample_rate == 48000) << info.sample_rate;
    } else {
        EXPECT_EQ(info.sample_rate, rate);
    }
    EXPECT_NEAR(info.duration_s, kSourceSeconds, kSourceSeconds * 0.02);

    std::vector<int16_t> out = decode_16k_mono(file, {});
    EXPECT_NEAR(seconds_of(out), kSourceSeconds, duration_tolerance(format, rate, kSourceSeconds));
    EXPECT_NEAR(tone_frequency(out), kToneHz, kToneHz * 0.01);
    // Stereo sources carry the tone on the left only: the average halves it.
    double expected_rms = channels == 1 ? kToneRms : kToneRms / 2;
    EXPECT_NEAR(rms(out), expected_rms, expected_rms * 0.1);
}

INSTANTIATE_TEST_SUITE_P(
    AllFormats, AudioFormatTest,
    ::testing::Combine(::testing::Values("wav", "flac", "ogg", "opus", "mp3", "webm", "m4a"),
                       ::testing::Values(8000, 16000, 44100, 48000), ::testing::Values(1, 2)),
    [](const ::testing::TestParamInfo<FormatCase>& p) {
        return std::get<0>(p.param) + "_" + std::to_string(std::get<1>(p.param)) + "Hz_" +
               std::to_string(std::get<2>(p.param)) + "ch";
    });

class AudioFormatEachTest : public AudioTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(AudioFormatEachTest, OppositeStereoChannelsAverageToSilence) {
    fs::path file =
        encoded_tone(GetParam(), GetParam() + "_opposite", 48000, 2, kSourceSeconds, -1.0);
    std::vector<int16_t> out = decode_16k_mono(file, {});
    EXPECT_NEAR(seconds_of(out), kSourceSeconds, kSourceSeconds * 0.02);
    EXPECT_LT(rms(out), kToneRms * 0.05);
}

TEST_P(AudioFormatEachTest, MemoryDecodeEqualsFileDecode) {
    fs::path file = encoded_tone(GetParam(), GetParam() + "_mem", 44100, 2);
    std::string bytes = read_file(file);
    std::vector<int16_t> from_memory =
        decode_memory_16k_mono(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), {});
    EXPECT_EQ(from_memory, decode_16k_mono(file, {}));
}

TEST_P(AudioFormatEachTest, SinkChunksStayShort) {
    fs::path file = encoded_tone(GetParam(), GetParam() + "_chunk", 8000, 1, 3.0);
    size_t longest = 0, total = 0;
    decode_16k_mono(file, {}, [&](const int16_t*, size_t n) {
        longest = std::max(longest, n);
        total += n;
    });
    EXPECT_GT(total, 0u);
    EXPECT_LE(longest, 8000u);  // at most half a second per call
}

TEST_P(AudioFormatEachTest, HeaderOverTheLimitIsRefusedByProbeAndDecode) {
    fs::path file = encoded_tone(GetParam(), GetParam() + "_limit", 16000, 1);
    AudioLimits one_second{1.0};
    EXPECT_EQ(error_kind([&] { probe_file(file, one_second); }), Kind::too_long);
    EXPECT_EQ(error_kind([&] { decode_16k_mono(file, one_second); }), Kind::too_long);
}

TEST_P(AudioFormatEachTest, TruncatedFileKeepsItsPrefixOrIsRefused) {
    fs::path file = encoded_tone(GetParam(), GetParam() + "_trunc", 44100, 2);
    std::string bytes = read_file(file);
    for (size_t keep : {bytes.size() / 2, size_t{200}, size_t{30}, size_t{4}}) {
        fs::path cut = write(GetParam() + "_cut" + std::to_string(keep), bytes.substr(0, keep));
        try {
            std::vector<int16_t> out = decode_16k_mono(cut, {});
            EXPECT_LE(seconds_of(out), kSourceSeconds * 1.02) << keep;
        } catch (const AudioError&) {
            // refused: fine, as long as nothing crashed
        }
    }
    // Cut in the middle, WAV, FLAC, MP3 and WebM keep a decodable prefix. MP4 keeps its index
    // (the moov box) at the end, so a cut one is unreadable; libsndfile 1.2 cannot find the
    // end of a cut Ogg stream and reads nothing (Vorbis) or refuses it (Opus).
    if (GetParam() != "m4a" && GetParam() != "ogg" && GetParam() != "opus") {
        fs::path half = path(GetParam() + "_cut" + std::to_string(bytes.size() / 2));
        double kept = seconds_of(decode_16k_mono(half, {}));
        EXPECT_GT(kept, kSourceSeconds / 4);
        EXPECT_LT(kept, kSourceSeconds * 0.75);
    }
}

TEST_P(AudioFormatEachTest, FlippedBytesDoNotCrash) {
    fs::path file = encoded_tone(GetParam(), GetParam() + "_flip", 16000, 1);
    std::string bytes = read_file(file);
    for (size_t at = 0; at < bytes.size(); at += std::max<size_t>(1, bytes.size() / 97)) {
        std::string damaged = bytes;
        damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
        try {
            std::vector<int16_t> out = decode_memory_16k_mono(
                reinterpret_cast<const uint8_t*>(damaged.data()), damaged.size(), {});
            EXPECT_LE(seconds_of(out), 7200.0 + 1);
        } catch (const AudioError&) {
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllFormats, AudioFormatEachTest,
                         ::testing::Values("wav", "flac", "ogg", "opus", "mp3", "webm", "m4a"));

// ---------------------------------------------------------------------------------------------
// Committed fixtures (generated once by the same tools; see tests/fixtures/audio/README.md)

TEST_F(AudioTest, CommittedFixturesDecode) {
    int seen = 0;
    for (const auto& entry : fs::directory_iterator(fixtures_dir())) {
        if (entry.path().stem() != "tone440_1s") continue;
        ++seen;
        SCOPED_TRACE(entry.path().string());
        std::vector<int16_t> out = decode_16k_mono(entry.path(), {});
        std::string format = entry.path().extension().string().substr(1);
        EXPECT_NEAR(seconds_of(out), 1.0, duration_tolerance(format, 16000, 1.0));
        EXPECT_NEAR(tone_frequency(out), kToneHz, kToneHz * 0.01);
    }
    EXPECT_EQ(seen, 7) << "fixtures in " << fixtures_dir();
}

TEST_F(AudioTest, LiveWebmWithoutDurationIsCountedWhileDecoding) {
    // MediaRecorder writes no Duration element: the header says nothing and the count decides.
    fs::path live = fixtures_dir() / "live_no_duration.webm";
    AudioInfo info = probe_file(live, {});
    EXPECT_EQ(info.format, "webm");
    EXPECT_EQ(info.duration_s, -1);
    EXPECT_NEAR(seconds_of(decode_16k_mono(live, {})), 3.0, 0.06);
    EXPECT_EQ(error_kind([&] { decode_16k_mono(live, AudioLimits{1.0}); }), Kind::too_long);
}

// ---------------------------------------------------------------------------------------------
// Format by content, never by name

TEST_F(AudioTest, NameDoesNotDecideTheFormat) {
    fs::path wav = source_wav("real.wav", 16000, 1);
    fs::path flac = encode(encoding("flac"), wav, "real", 16000);
    fs::path wav_named_flac = path("looks_like.flac");
    fs::path flac_named_wav = path("looks_like.wav");
    fs::path flac_named_mp3 = path("looks_like.mp3");
    fs::copy_file(wav, wav_named_flac, fs::copy_options::overwrite_existing);
    fs::copy_file(flac, flac_named_wav, fs::copy_options::overwrite_existing);
    fs::copy_file(flac, flac_named_mp3, fs::copy_options::overwrite_existing);
    EXPECT_EQ(probe_file(wav_named_flac, {}).format, "wav");
    EXPECT_EQ(probe_file(flac_named_wav, {}).format, "flac");
    EXPECT_EQ(probe_file(flac_named_mp3, {}).mime, "audio/flac");
    EXPECT_EQ(decode_16k_mono(flac_named_wav, {}), decode_16k_mono(flac, {}));
}

TEST_F(AudioTest, TextHtmlZipGzipAreUnreadable) {
    fs::path text = write("notes.wav", "This is not audio, just text renamed to .wav\n");
    fs::path html = write("page.mp3", "<!DOCTYPE html><html><script>alert(1)</script></html>");
    std::string zip = "PK\x03\x04" + std::string(26, '\0') + tone_wav(16000, 1, 0.1);
    fs::path zipped = write("archive.wav", zip);
    fs::path wav = source_wav("to_gzip.wav", 16000, 1);
    run_tool("gzip", "-kf " + quoted(wav));
    fs::path gz = path("to_gzip.wav.gz");
    for (const fs::path& p : {text, html, zipped, gz}) {
        SCOPED_TRACE(p.string());
        EXPECT_EQ(error_kind([&] { probe_file(p, {}); }), Kind::unreadable);
        EXPECT_EQ(error_kind([&] { decode_16k_mono(p, {}); }), Kind::unreadable);
    }
}

TEST_F(AudioTest, PolyglotWavWithHtmlInListChunkDecodesAsWav) {
    std::string html = "<html><script>fetch('/api/v1/users/me')</script></html>";
    WavFields f;
    f.chunks_before_data = riff_chunk("LIST", "INFO" + riff_chunk("ICMT", html));
    fs::path p = write("polyglot.wav", wav_bytes(f, tone_pcm16(16000, 1, 1.0)));
    AudioInfo info = probe_file(p, {});
    EXPECT_EQ(info.format, "wav");
    EXPECT_EQ(info.mime, "audio/wav");
    EXPECT_NEAR(seconds_of(decode_16k_mono(p, {})), 1.0, 0.001);
}

TEST_F(AudioTest, WavWithAppendedZipIsOnlyTheWav) {
    std::string zip =
        "PK\x03\x04" + std::string(26, '\0') + "payload.txt" + "PK\x05\x06" + std::string(18, '\0');
    fs::path p = write("wav_then_zip.wav", tone_wav(16000, 1, 1.0) + zip);
    EXPECT_EQ(probe_file(p, {}).format, "wav");
    EXPECT_NEAR(seconds_of(decode_16k_mono(p, {})), 1.0, 0.001);
}

TEST_F(AudioTest, Mp3WithHtmlInId3DecodesAsMp3) {
    fs::path mp3 = encoded_tone("mp3", "id3", 44100, 1);
    std::string frame = id3_frame("TXXX", "<html><script>alert(document.cookie)</script>");
    fs::path p =
        write("id3_html.mp3", id3v2(static_cast<uint32_t>(frame.size()), frame) + read_file(mp3));
    AudioInfo info = probe_file(p, {});
    EXPECT_EQ(info.format, "mp3");
    EXPECT_EQ(info.mime, "audio/mpeg");
    std::vector<int16_t> out = decode_16k_mono(p, {});
    EXPECT_NEAR(seconds_of(out), kSourceSeconds, kSourceSeconds * 0.02);
    EXPECT_NEAR(tone_frequency(out), kToneHz, kToneHz * 0.01);
}

// ---------------------------------------------------------------------------------------------
// Empty, tiny and impossible WAVs

TEST_F(AudioTest, EmptyFileIsEmpty) {
    fs::path p = write("empty.wav", "");
    EXPECT_EQ(error_kind([&] { probe_file(p, {}); }), Kind::empty);
    EXPECT_EQ(error_kind([&] { decode_16k_mono(p, {}); }), Kind::empty);
    EXPECT_EQ(error_kind([&] { decode_memory_16k_mono(nullptr, 0, {}); }), Kind::empty);
}

TEST_F(AudioTest, WavHeaderWithoutDataIsEmpty) {
    fs::path p = write("header_only.wav", wav_bytes({}, ""));
    ASSERT_EQ(fs::file_size(p), 44u);
    EXPECT_EQ(error_kind([&] { probe_file(p, {}); }), Kind::empty);
    EXPECT_EQ(error_kind([&] { decode_16k_mono(p, {}); }), Kind::empty);
}

TEST_F(AudioTest, WavHeaderClaimingMoreDataThanPresentDecodesToTheRealEnd) {
    WavFields f;
    f.data_size = 0xFFFFFFFF;  // "4 GB", with one second of samples behind it
    fs::path p = write("huge_claim.wav", wav_bytes(f, tone_pcm16(16000, 1, 1.0)));
    EXPECT_NEAR(probe_file(p, {}).duration_s, 1.0, 0.001);
    expect_within_memory(64, [&] {
        std::vector<int16_t> out = decode_16k_mono(p, {});
        return out.size() == 16000;
    });
}

TEST_F(AudioTest, ImpossibleWavFieldsAreInvalidWithoutCrashing) {
    std::string one_second = tone_pcm16(16000, 1, 1.0);
    std::vector<std::pair<std::string, WavFields>> cases;
    WavFields f;
    f.channels = 0;
    cases.emplace_back("channels0", f);
    f = {};
    f.channels = 65535;
    cases.emplace_back("channels65535", f);
    f = {};
    f.channels = 65;
    cases.emplace_back("channels65", f);
    f = {};
    f.rate = 0;
    cases.emplace_back("rate0", f);
    f = {};
    f.rate = 4294967295u;
    cases.emplace_back("rate4294967295", f);
    f = {};
    f.rate = 4000;
    cases.emplace_back("rate4000", f);
    f = {};
    f.rate = 96000;
    cases.emplace_back("rate96000", f);
    f = {};
    f.bits = 0;
    cases.emplace_back("bits0", f);
    f = {};
    f.block_align = 0;
    cases.emplace_back("block_align0", f);
    for (const auto& [name, fields] : cases) {
        SCOPED_TRACE(name);
        fs::path p = write(name + ".wav", wav_bytes(fields, one_second));
        EXPECT_EQ(error_kind([&] { probe_file(p, {}); }), Kind::invalid);
        EXPECT_EQ(error_kind([&] { decode_16k_mono(p, {}); }), Kind::invalid);
    }
}

TEST_F(AudioTest, TenMillisecondsDecodeTo160Samples) {
    fs::path p = write("10ms.wav", tone_wav(44100, 2, 0.010));
    std::vector<int16_t> out = decode_16k_mono(p, {});
    EXPECT_NEAR(static_cast<double>(out.size()), 160, 2);
    fs::path flac = encode(encoding("flac"), p, "10ms", 44100);
    EXPECT_NEAR(static_cast<double>(decode_16k_mono(flac, {}).size()), 160, 2);
}

TEST_F(AudioTest, WavEncodingsAndChannelCounts) {
    fs::path src = source_wav("enc_src.wav", 44100, 1);
    struct Case {
        std::string sox_args;
        double rms_factor;
    };
    // A-law and µ-law at 8 kHz (telephone recordings), 8/24/32-bit integers, float, double.
    for (const Case& c :
         {Case{"-r 8000 -e u-law", 1}, Case{"-r 8000 -e a-law", 1}, Case{"-b 8", 1},
          Case{"-b 24", 1}, Case{"-b 32 -e signed", 1}, Case{"-b 32 -e floating-point", 1},
          Case{"-b 64 -e floating-point", 1}, Case{"-c 6", 1}, Case{"-B", 1}}) {
        SCOPED_TRACE(c.sox_args);
        fs::path out = path("enc.wav");
        run_tool("sox", quoted(src) + " " + c.sox_args + " " + quoted(out));
        EXPECT_EQ(probe_file(out, {}).format, "wav");
        std::vector<int16_t> pcm = decode_16k_mono(out, {});
        EXPECT_NEAR(seconds_of(pcm), kSourceSeconds, 0.01);
        EXPECT_NEAR(tone_frequency(pcm), kToneHz, kToneHz * 0.01);
        EXPECT_NEAR(rms(pcm), kToneRms * c.rms_factor, kToneRms * 0.1);
    }
}

TEST_F(AudioTest, SixChannelsAreAveraged) {
    fs::path p = write("six.wav", tone_wav(48000, 6, 1.0));  // tone on channel 0 only
    std::vector<int16_t> out = decode_16k_mono(p, {});
    EXPECT_NEAR(rms(out), kToneRms / 6, kToneRms / 6 * 0.05);
    fs::path same = write("six_same.wav", tone_wav(48000, 6, 1.0, 1.0));
    EXPECT_NEAR(rms(decode_16k_mono(same, {})), kToneRms, kToneRms * 0.05);
}

TEST_F(AudioTest, BlockCodecsAndOtherOggCodecsAreRefused) {
    fs::path src = source_wav("block_src.wav", 16000, 1);
    for (const char* enc : {"ms-adpcm", "ima-adpcm", "gsm-full-rate"}) {
        SCOPED_TRACE(enc);
        fs::path out = path(std::string(enc) + ".wav");
        run_tool("sox", quoted(src) + " -e " + enc + " " + quoted(out));
        EXPECT_EQ(error_kind([&] { probe_file(out, {}); }), Kind::unreadable);
    }
    fs::path ogg_flac = path("oggflac.oga");
    run_tool("flac", "--silent --force --ogg -o " + quoted(ogg_flac) + " " + quoted(src));
    EXPECT_EQ(error_kind([&] { probe_file(ogg_flac, {}); }), Kind::unreadable);
}

TEST_F(AudioTest, RatesOutside8To48kHzAreInvalid) {
    for (int rate : {4000, 96000}) {
        SCOPED_TRACE(rate);
        fs::path flac = encoded_tone("flac", "rate_" + std::to_string(rate), rate, 1, 0.5);
        EXPECT_EQ(error_kind([&] { probe_file(flac, {}); }), Kind::invalid);
        EXPECT_EQ(error_kind([&] { decode_16k_mono(flac, {}); }), Kind::invalid);
    }
}

// ---------------------------------------------------------------------------------------------
// Decompression bombs and lying headers

TEST_F(AudioTest, FlacSilenceBombIsRefusedFromTheHeader) {
    const uint32_t frames = 140625;  // 10 h at 16 kHz in 4096-sample frames
    fs::path bomb = write("bomb.flac", flac_silence(frames, uint64_t{frames} * 4096));
    EXPECT_LT(fs::file_size(bomb), 2'500'000u);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(error_kind([&] { probe_file(bomb, {}); }), Kind::too_long);
    EXPECT_EQ(error_kind([&] {
                  decode_16k_mono(bomb, {}, [](const int16_t*, size_t) {
                      ADD_FAILURE() << "decoding started";
                  });
              }),
              Kind::too_long);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(AudioTest, FlacBombWithUnknownLengthStopsAtTheLimit) {
    const uint32_t frames = 140625;
    fs::path bomb = write("bomb_unknown.flac", flac_silence(frames, 0));
    EXPECT_EQ(probe_file(bomb, {}).duration_s, -1);  // STREAMINFO says "unknown"
    AudioLimits limits;                              // 7200 s
    expect_within_memory(64, [&] {
        size_t samples = 0;
        auto start = std::chrono::steady_clock::now();
        try {
            decode_16k_mono(bomb, limits, [&](const int16_t*, size_t n) { samples += n; });
        } catch (const AudioError& e) {
            double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::fprintf(stderr, "stopped after %zu samples in %.2f s\n", samples, elapsed);
            return e.kind == Kind::too_long && samples <= 7200 * 16000 + 4096 &&
                   samples >= 7199 * 16000 && elapsed < 30;
        }
        return false;
    });
}

TEST_F(AudioTest, Mp3WithHugeId3SizeDoesNotAllocateIt) {
    fs::path mp3 = encoded_tone("mp3", "big_id3", 16000, 1);
    fs::path p =
        write("big_id3.mp3", id3v2(200u * 1024 * 1024, std::string(100, '\0')) + read_file(mp3));
    expect_within_memory(64, [&] {
        try {
            decode_16k_mono(p, {});
        } catch (const AudioError& e) {
            return e.kind == Kind::unreadable;
        }
        return false;
    });
}

// ---------------------------------------------------------------------------------------------
// Caller errors

TEST_F(AudioTest, MissingFileIsASystemError) {
    EXPECT_THROW(probe_file(path("does_not_exist.wav"), {}), std::system_error);
    EXPECT_THROW(decode_16k_mono(path("does_not_exist.wav"), {}), std::system_error);
}

TEST_F(AudioTest, NonPositiveLimitIsAProgrammingError) {
    fs::path p = write("limit.wav", tone_wav(16000, 1, 0.1));
    EXPECT_THROW(probe_file(p, AudioLimits{0}), std::invalid_argument);
    EXPECT_THROW(decode_16k_mono(p, AudioLimits{-1}), std::invalid_argument);
    EXPECT_THROW(decode_16k_mono(p, AudioLimits{NAN}), std::invalid_argument);
}

}  // namespace
}  // namespace speech
