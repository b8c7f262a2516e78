// What of an upgrade request reaches logs and close reasons: nginx's request id only when it
// looks like one (a header a client forged through another proxy must not write into them).
#include "live/upgrade.h"

#include <gtest/gtest.h>

#include <string>

TEST(LiveUpgrade, RequestIdKeptOnlyWhenItLooksLikeOne) {
    EXPECT_EQ(live::clean_request_id("0f3a9c2e41b94c7d8e1f2a3b4c5d6e7f"),
              "0f3a9c2e41b94c7d8e1f2a3b4c5d6e7f");
    EXPECT_EQ(live::clean_request_id("abc-123"), "abc-123");
    EXPECT_EQ(live::clean_request_id(""), "");
    EXPECT_EQ(live::clean_request_id("a b"), "");
    EXPECT_EQ(live::clean_request_id("id\r\nforged: line"), "");
    EXPECT_EQ(live::clean_request_id(std::string(65, 'a')), "");
}
