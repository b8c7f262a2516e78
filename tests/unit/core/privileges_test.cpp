// drop_privileges: from root to the service user for good; refused for root or no such user.
#include "core/privileges.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace {

// Runs f in a child; its exit code (f returns it), or -1.
template <class F>
int in_child(F f) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        try {
            _exit(f());
        } catch (...) {
            _exit(99);
        }
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

TEST(Privileges, RootBecomesTheServiceUserForGood) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    int rc = in_child([] {
        if (!core::drop_privileges("nobody")) return 1;
        uid_t r, e, s;
        if (getresuid(&r, &e, &s) != 0 || r == 0 || e == 0 || s == 0) return 2;
        gid_t groups[64];
        int n = getgroups(64, groups);
        for (int i = 0; i < n; ++i)
            if (groups[i] == 0) return 3;
        if (setuid(0) == 0 || setgid(0) == 0) return 4;
        return 0;
    });
    EXPECT_EQ(rc, 0);
}

TEST(Privileges, RefusesRootAndUnknownUsers) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    for (const char* user : {"root", "", "no-such-user-here"}) {
        int rc = in_child([user] {
            try {
                core::drop_privileges(user);
                return 1;
            } catch (const std::runtime_error&) {
                return geteuid() == 0 ? 0 : 2;
            }
        });
        EXPECT_EQ(rc, 0) << user;
    }
}

TEST(Privileges, NormalUsersKeepTheirIdentity) {
    if (geteuid() == 0) GTEST_SKIP() << "runs as a normal user";
    uid_t before = getuid();
    EXPECT_FALSE(core::drop_privileges("nobody"));
    EXPECT_EQ(getuid(), before);
}

}  // namespace
