// Dropping root: getpwnam_r, initgroups, setresgid, setresuid, and the checks that they took.
#include "core/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/config.h"

namespace core {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("dropping root: " + what + ": " + std::strerror(errno));
}

struct ServiceUser {
    uid_t uid;
    gid_t gid;
};

ServiceUser look_up(const std::string& name) {
    if (name.empty() || name == "root")
        throw ConfigError("service.user must name an unprivileged user (got \"" + name + "\")");
    std::vector<char> buf(16384);
    struct passwd pw {};
    struct passwd* found = nullptr;
    int rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0) {
        errno = rc;
        fail("looking up user " + name);
    }
    if (!found)
        throw ConfigError("service user " + name +
                          " does not exist (scripts/deps.sh creates it; or set "
                          "ROSTRUM_SERVICE_USER)");
    if (pw.pw_uid == 0 || pw.pw_gid == 0)
        throw ConfigError("service user " + name + " has uid or gid 0");
    return ServiceUser{pw.pw_uid, pw.pw_gid};
}

// After the drop, every id must be the service user's and root must be out of reach.
void verify(const std::string& name, const ServiceUser& u) {
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0)
        fail("reading the ids back");
    if (ruid != u.uid || euid != u.uid || suid != u.uid || rgid != u.gid || egid != u.gid ||
        sgid != u.gid) {
        errno = EPERM;
        fail("the ids of " + name + " did not all take");
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        errno = EPERM;
        fail("setuid(0) succeeded after becoming " + name);
    }
}

}  // namespace

bool drop_privileges(const std::string& user) {
    if (geteuid() != 0) return false;
    ServiceUser u = look_up(user);
    // Groups first: once the uid is gone, the groups can no longer be changed.
    if (initgroups(user.c_str(), u.gid) != 0) fail("initgroups " + user);
    if (setresgid(u.gid, u.gid, u.gid) != 0) fail("setresgid " + user);
    if (setresuid(u.uid, u.uid, u.uid) != 0) fail("setresuid " + user);
    verify(user, u);
    return true;
}

}  // namespace core
