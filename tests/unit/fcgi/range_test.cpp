// The Range header CGI mode reads for audio downloads (RFC 9110 §14.1.2).
#include <gtest/gtest.h>

#include "fcgi/range.h"

namespace {

void expect_range(const char* header, int64_t size, int64_t first, int64_t last) {
    auto r = fcgi::parse_range(header, size);
    ASSERT_TRUE(r.has_value()) << header;
    EXPECT_EQ(r->first, first) << header;
    EXPECT_EQ(r->last, last) << header;
}

bool unsatisfiable(const char* header, int64_t size) {
    auto r = fcgi::parse_range(header, size);
    return r && r->first > r->last;
}

TEST(Range, TheThreeFormsOfOneRange) {
    expect_range("bytes=0-99", 1000, 0, 99);
    expect_range("bytes=900-", 1000, 900, 999);
    expect_range("bytes=-100", 1000, 900, 999);
    expect_range("bytes=990-5000", 1000, 990, 999);  // the end is clipped to the file
    expect_range("bytes=-5000", 1000, 0, 999);       // a suffix longer than the file: all of it
}

TEST(Range, OutsideTheFileIsUnsatisfiable) {
    EXPECT_TRUE(unsatisfiable("bytes=1000-", 1000));
    EXPECT_TRUE(unsatisfiable("bytes=-0", 1000));
    EXPECT_TRUE(unsatisfiable("bytes=0-", 0));
}

TEST(Range, WhatWeDoNotReadMeansTheWholeFile) {
    for (const char* h :
         {"", "bytes=", "bytes=-", "items=0-1", "bytes=0-1,5-6", "bytes=5-2", "bytes=a-b",
          "bytes= 0-1", "bytes=0x10-", "bytes=99999999999999999999-", "bytes=--1", "bytes=1-2-3"})
        EXPECT_FALSE(fcgi::parse_range(h, 1000).has_value()) << h;
    EXPECT_FALSE(fcgi::parse_range(nullptr, 1000).has_value());
}

}  // namespace
