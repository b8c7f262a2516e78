// The identity a daemon runs under. Started as root (the embedded stack under root, a unit
// file without User=), `rostrum api|worker|live` become the service user before they read a
// byte of user data: the audio they parse is untrusted, and a decoder bug must not be root.
// Started as anyone else they keep the caller's identity (`make run` as a normal user).
#pragma once

#include <string>

namespace core {

// The umask of every daemon: what they create (audio, logs, keys) is never world-readable.
constexpr unsigned kDaemonUmask = 027;

// As root: initgroups, setgid and setuid to `user` (real, effective and saved ids), each
// result checked, then proves that root cannot be regained; true. Not root: false, nothing
// changed. Throws ConfigError (no such user, a root user) or std::runtime_error (a failed
// call); the caller must not go on.
bool drop_privileges(const std::string& user);

}  // namespace core
