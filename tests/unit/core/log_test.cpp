// The log never carries a secret (tokens and password values are masked) nor a raw control
// byte (every field is escaped).
#include "core/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

// Request text reaches log lines (the decoded path): control bytes must never split a line,
// forge one, or carry a terminal escape; what is not UTF-8 is shown, not written raw.
TEST(LogEscape, ControlBytesAndBadUtf8) {
    EXPECT_EQ(core::escape_log_text("/a\r\n2026-01-01T00:00:00Z INFO forged"),
              "/a\\x0d\\x0a2026-01-01T00:00:00Z INFO forged");
    EXPECT_EQ(core::escape_log_text("x\x1b[31mred\x7f"), "x\\x1b[31mred\\x7f");
    EXPECT_EQ(core::escape_log_text(std::string("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(core::escape_log_text("\xff\xc3"), "\\xff\\xc3");  // not UTF-8
    EXPECT_EQ(core::escape_log_text("\xc2\x9b"
                                    "2J"),
              "\\xc2\\x9b"
              "2J");                                                   // C1 CSI
    EXPECT_EQ(core::escape_log_text("back\\slash"), "back\\\\slash");  // unambiguous
}

TEST(LogEscape, LeavesPrintableAndUtf8Alone) {
    EXPECT_EQ(core::escape_log_text("access GET /api/v1/sessions 200 12B 1.20ms"),
              "access GET /api/v1/sessions 200 12B 1.20ms");
    EXPECT_EQ(core::escape_log_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa4"),
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa4");
}

// The whole line goes through it: one call, one line, whatever the fields hold.
TEST(LogEscape, LogLineWritesOneLine) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    int saved = ::dup(STDERR_FILENO);
    ASSERT_GE(saved, 0);
    ASSERT_GE(::dup2(fds[1], STDERR_FILENO), 0);
    core::LogContext lc{"req\n1", "", "route\x1b"};
    core::log_line(core::LogLevel::error, lc, "access GET /x\r\nERROR forged\x1b[2J 404");
    ASSERT_GE(::dup2(saved, STDERR_FILENO), 0);
    ::close(saved);
    ::close(fds[1]);
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    ::close(fds[0]);
    ASSERT_GT(n, 0);
    std::string line(buf, static_cast<size_t>(n));
    ASSERT_EQ(line.back(), '\n');
    line.pop_back();
    EXPECT_EQ(line.find_first_of("\r\n\x1b"), std::string::npos) << line;
    EXPECT_NE(line.find("req=req\\x0a1"), std::string::npos) << line;
    EXPECT_NE(line.find("/x\\x0d\\x0aERROR forged\\x1b[2J 404"), std::string::npos) << line;
}

}  // namespace
