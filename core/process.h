// Process and socket hygiene shared by the daemons: signalling a child only when its pid is a
// real child's, and claiming a unix socket path without stealing it from a running instance.
#pragma once

#include <sys/types.h>

#include <stdexcept>
#include <string>

namespace core {

// kill(pid, sig) for a process the caller started. Refuses pid <= 0: kill(0, …) reaches the
// caller's whole process group and kill(-1, …) every process it may signal (as root: the whole
// host), so a failed fork() stored as a child must never turn into one of those. A failure other
// than "already gone" (ESRCH) is logged. True when the signal was sent.
bool signal_child(pid_t pid, int sig);

// Thrown by claim_socket_path when the path cannot be taken over.
class SocketInUse : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Before a daemon binds its unix socket at path: when something accepts connections there (a
// second instance, or the first one still running), throws SocketInUse: the running one keeps
// its socket. A stale socket (a crashed run left it; nobody answers) is removed; anything at the
// path that is not a socket is never removed (throws). Nothing at the path: nothing to do.
void claim_socket_path(const std::string& path);

// The listening socket systemd passed (socket activation: LISTEN_PID is this process and
// LISTEN_FDS is 1, the socket at fd 3), or -1 when none was passed. Throws when the variables
// say a socket was passed but fd 3 is not one listening stream socket (a unit that passes two,
// or a datagram socket). The variables are cleared, so nothing this process starts takes the
// socket for its own; the fd becomes close-on-exec.
int inherited_listener();

}  // namespace core
