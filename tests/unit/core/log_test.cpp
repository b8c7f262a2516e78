// The log never carries a secret: tokens and password values are masked.
#include "core/log.h"

#include <gtest/gtest.h>

namespace {

TEST(LogMask, Jwt) {
    std::string jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    std::string out = core::mask_secrets("Authorization failed for " + jwt + " at 3");
    EXPECT_EQ(out.find("eyJhbGci"), std::string::npos) << out;
    EXPECT_NE(out.find("at 3"), std::string::npos);
}

TEST(LogMask, PasswordAndTokenFields) {
    std::string out = core::mask_secrets(
        R"({"email":"a@b.co","password":"hunter2hunter2","refresh_token":"abcDEF123"})");
    EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
    EXPECT_EQ(out.find("abcDEF123"), std::string::npos) << out;
    EXPECT_NE(out.find("a@b.co"), std::string::npos) << out;
    std::string form = core::mask_secrets("username=a&password=s3cr3t-pw&grant_type=password");
    EXPECT_EQ(form.find("s3cr3t-pw"), std::string::npos) << form;
}

TEST(LogMask, LeavesOrdinaryTextAlone) {
    EXPECT_EQ(core::mask_secrets("child 123 exited with code 0"), "child 123 exited with code 0");
}

}  // namespace
