// The sweep's age rule: a file is old once both its mtime and ctime are before the cutoff,
// compared to the nanosecond (whole seconds kept files up to a second past the age).
#include "worker/sweep.h"

#include <gtest/gtest.h>

namespace {

struct stat stamped(timespec mtime, timespec ctime) {
    struct stat st {};
    st.st_mtim = mtime;
    st.st_ctim = ctime;
    return st;
}

constexpr long kMs = 1000 * 1000;  // nanoseconds

TEST(SweepAge, AFileOlderThanTheCutoffWithinTheSameSecondIsOld) {
    // Made at 10.1 s; the cutoff (now - age) is 10.9 s: older than the age by 0.8 s.
    EXPECT_TRUE(worker::is_old(stamped({10, 100 * kMs}, {10, 100 * kMs}), {10, 900 * kMs}));
}

TEST(SweepAge, AFileYoungerThanTheCutoffWithinTheSameSecondIsNot) {
    EXPECT_FALSE(worker::is_old(stamped({10, 900 * kMs}, {10, 900 * kMs}), {10, 100 * kMs}));
    EXPECT_FALSE(worker::is_old(stamped({10, 0}, {10, 0}), {10, 0}));  // strictly before
}

TEST(SweepAge, TheLaterOfMtimeAndCtimeCounts) {
    // A rename into audio/ renews only the ctime: the file is on its way to a row.
    EXPECT_FALSE(worker::is_old(stamped({5, 0}, {11, 0}), {10, 0}));
    EXPECT_FALSE(worker::is_old(stamped({11, 0}, {5, 0}), {10, 0}));
    EXPECT_TRUE(worker::is_old(stamped({5, 0}, {9, 999 * kMs}), {10, 0}));
}

}  // namespace
