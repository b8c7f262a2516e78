// The form of POST /v1/audio/transcriptions: what each field becomes, and every malformed value
// refused with 400 naming its field (OpenAI's `param`).
#include "handlers/openai_form.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/utf8.h"

namespace {

using handlers::OpenAiFormat;
using Form = std::map<std::string, std::string>;

const std::vector<std::string> kInstalled = {"de-de", "en-test", "en-us", "fr-fr"};

handlers::OpenAiOptions read(Form f) {
    return handlers::read_openai_form(f, kInstalled);
}

// The field a refusal names, "" when it is accepted; the status is always 400.
std::string refused_on(Form f) {
    try {
        read(std::move(f));
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.status, 400);
        EXPECT_FALSE(e.type.empty());  // OpenAI's `code`
        return e.errors.empty() ? "(none)" : e.errors.front().field;
    }
    return "";
}

TEST(OpenAiForm, DefaultsAndFormats) {
    auto o = read({{"model", "whisper-1"}});
    EXPECT_EQ(o.format, OpenAiFormat::json);
    EXPECT_TRUE(o.segments);
    EXPECT_FALSE(o.words);
    EXPECT_EQ(o.language, "en-us");
    EXPECT_EQ(read({{"model", "m"}, {"response_format", "text"}}).format, OpenAiFormat::text);
    EXPECT_EQ(read({{"model", "m"}, {"response_format", "srt"}}).format, OpenAiFormat::srt);
    EXPECT_EQ(read({{"model", "m"}, {"response_format", "vtt"}}).format, OpenAiFormat::vtt);
    // prompt and temperature are accepted (and change nothing).
    o = read({{"model", "m"}, {"prompt", "hello"}, {"temperature", "0.7"}, {"stream", "false"}});
    EXPECT_EQ(o.format, OpenAiFormat::json);
}

TEST(OpenAiForm, Granularities) {
    Form f{{"model", "m"}, {"response_format", "verbose_json"}};
    f["timestamp_granularities[]"] = "word";
    auto o = read(f);
    EXPECT_TRUE(o.words);
    EXPECT_FALSE(o.segments);  // only what was asked for
    f["timestamp_granularities[]"] = "word,segment";
    o = read(f);
    EXPECT_TRUE(o.words && o.segments);
    f["timestamp_granularities[]"] = "segment";
    o = read(f);
    EXPECT_TRUE(o.segments && !o.words);
}

TEST(OpenAiForm, LanguageMapping) {
    EXPECT_EQ(handlers::openai_language("en", kInstalled), "en-us");  // the default first
    EXPECT_EQ(handlers::openai_language("EN", kInstalled), "en-us");
    EXPECT_EQ(handlers::openai_language("fr", kInstalled), "fr-fr");
    EXPECT_EQ(handlers::openai_language("en-test", kInstalled), "en-test");
    EXPECT_EQ(handlers::openai_language("De-DE", kInstalled), "de-de");
    EXPECT_EQ(handlers::openai_language("", kInstalled), "en-us");
    EXPECT_EQ(handlers::openai_language(std::nullopt, kInstalled), "en-us");
    // Without en-us, "en" is the first English model.
    EXPECT_EQ(handlers::openai_language("en", {"en-gb", "en-test"}), "en-gb");
}

TEST(OpenAiForm, MalformedValuesNameTheirField) {
    const Form m{{"model", "whisper-1"}};
    auto with = [&](std::string k, std::string v) {
        Form f = m;
        f[k] = v;
        return f;
    };
    EXPECT_EQ(refused_on({}), "model");
    EXPECT_EQ(refused_on({{"model", ""}}), "model");
    EXPECT_EQ(refused_on(with("stream", "true")), "stream");
    EXPECT_EQ(refused_on(with("response_format", "xml")), "response_format");
    EXPECT_EQ(refused_on(with("response_format", "JSON")), "response_format");
    EXPECT_EQ(refused_on(with("response_format", "")), "response_format");
    for (const char* t : {"", "2", "-0.1", "hot", "0.5x", "nan", "inf", "1e3"})
        EXPECT_EQ(refused_on(with("temperature", t)), "temperature") << t;
    EXPECT_EQ(refused_on(with("temperature", "1")), "");
    EXPECT_EQ(refused_on(with("temperature", "0")), "");
    Form g = with("response_format", "verbose_json");
    for (const char* v : {"", "char", "word,", ",word", "word,,segment", "WORD"}) {
        g["timestamp_granularities[]"] = v;
        EXPECT_EQ(refused_on(g), "timestamp_granularities[]") << v;
    }
    EXPECT_EQ(refused_on(with("timestamp_granularities[]", "word")), "timestamp_granularities[]");
    for (const char* l : {"xx", "e", "english", "../en-us", "en-us/", "en_us", "zz-zz", "\xff"})
        EXPECT_EQ(refused_on(with("language", l)), "language") << l;
}

TEST(OpenAiForm, UnsupportedLanguageListsTheInstalledOnes) {
    try {
        handlers::openai_language("xx", kInstalled);
        FAIL() << "accepted";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.type, "unsupported_language");
        EXPECT_NE(e.detail.find("en-us, fr-fr"), std::string::npos) << e.detail;
        EXPECT_NE(e.detail.find("'xx'"), std::string::npos) << e.detail;
    }
    try {
        handlers::openai_language("x\ny", kInstalled);  // not quoted back
        FAIL() << "accepted";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.detail.find('\n'), std::string::npos) << e.detail;
    }
}

TEST(OpenAiForm, TitleFromFilename) {
    EXPECT_EQ(handlers::title_from_filename("talk.wav"), "talk.wav");
    EXPECT_EQ(handlers::title_from_filename("/home/me/talk.wav"), "talk.wav");
    EXPECT_EQ(handlers::title_from_filename("C:\\Users\\me\\talk.wav"), "talk.wav");
    EXPECT_EQ(handlers::title_from_filename("caf\xc3\xa9.m4a"), "caf\xc3\xa9.m4a");
    EXPECT_EQ(handlers::title_from_filename("bad\xff.wav"), "");
    EXPECT_EQ(handlers::title_from_filename("a\tb.wav"), "");
    EXPECT_EQ(handlers::title_from_filename(""), "");
    std::string longname;
    for (int i = 0; i < 300; ++i) longname += "\xc3\xa9";  // 300 characters, 600 bytes
    std::string t = handlers::title_from_filename(longname);
    EXPECT_EQ(core::utf8_length(t), 200u);
    EXPECT_TRUE(core::valid_utf8(t));
}

}  // namespace
