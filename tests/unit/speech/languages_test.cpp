// The one "is this language installed" rule (speech/languages.h) that the API, the worker and
// the live daemon use: an installed language is a directory of the model root holding a model,
// named, never reached by a path. The root here is a temp directory of symlinks to the
// installed en-us model and an empty directory.
#include "speech/languages.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/problem.h"

namespace fs = std::filesystem;

namespace {

class SpeechLanguages : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "rostrum-langs-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        root = tmpl;
        fs::create_directory_symlink("/usr/share/pocketsphinx/model/en-us", root / "en-us");
        fs::create_directory_symlink("/usr/share/pocketsphinx/model/en-us", root / "en-test");
        fs::create_directory(root / "empty");  // no model in it: not a language
    }
    void TearDown() override { fs::remove_all(root); }
    fs::path root;
};

TEST_F(SpeechLanguages, DirectoriesWithAModelAreTheInstalledLanguages) {
    EXPECT_EQ(speech::installed_languages(root.string()),
              (std::vector<std::string>{"en-test", "en-us"}));
    EXPECT_EQ(speech::installed_model_dir(root.string(), "en-test"), root.string() + "/en-test");
    EXPECT_EQ(speech::installed_model_dir(root.string(), "empty"), std::nullopt);
    EXPECT_EQ(speech::installed_model_dir(root.string(), "fr"), std::nullopt);
}

TEST_F(SpeechLanguages, PathsAreNotLanguages) {
    for (const char* l : {"", ".", "..", "../en-us", "en-us/", "./en-us", "/en-us", "EN-US"})
        EXPECT_EQ(speech::installed_model_dir(root.string(), l), std::nullopt) << l;
}

TEST_F(SpeechLanguages, RequiredLanguageIsA422ListingTheInstalledOnes) {
    EXPECT_EQ(speech::require_installed(root.string(), "en-us"), root.string() + "/en-us");
    try {
        speech::require_installed(root.string(), "xx");
        FAIL() << "no error";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.status, 422);
        ASSERT_EQ(e.errors.size(), 1u);
        EXPECT_EQ(e.errors[0].field, "language");
        EXPECT_EQ(e.errors[0].message, "not installed; installed: en-test, en-us");
    }
}

}  // namespace
