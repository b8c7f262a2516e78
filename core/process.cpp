// Signalling children and claiming unix socket paths (core/process.h).
#include "core/process.h"
#include "core/c_handles.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/log.h"

namespace core {
namespace {

// True when a stream socket at path accepts a connection: someone serves it.
bool answers(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw SocketInUse("socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) throw SocketInUse(std::string("socket(): ") + std::strerror(errno));
    int r;
    do {
        r = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } while (r != 0 && errno == EINTR);
    // Non-blocking, so a listener with a full backlog cannot hang us: EAGAIN then, and it is
    // very much alive. ECONNREFUSED: a socket file with no listener behind it. Anything else
    // (EACCES: another user's socket, which the service user may still unlink) says nothing
    // about a listener, so the file is not ours to remove.
    if (r == 0 || errno == EAGAIN) return true;
    if (errno == ECONNREFUSED || errno == ENOENT) return false;  // ENOENT: gone meanwhile
    throw SocketInUse("cannot tell whether " + path +
                      " is in use (connect: " + std::strerror(errno) + "); not removing it");
}

}  // namespace

bool signal_child(pid_t pid, int sig) {
    if (pid <= 0) {
        log_error("refusing to send signal " + std::to_string(sig) + " to pid " +
                  std::to_string(pid) + " (not a child)");
        return false;
    }
    if (::kill(pid, sig) == 0) return true;
    if (errno != ESRCH)
        log_error("kill(" + std::to_string(pid) + ", " + std::to_string(sig) +
                  "): " + std::strerror(errno));
    return false;
}

void claim_socket_path(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw SocketInUse("cannot inspect " + path + ": " + std::strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        throw SocketInUse(path + " exists and is not a socket; not removing it");
    if (answers(path))
        throw SocketInUse("another instance is already listening on " + path +
                          "; not starting (stop it first)");
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw SocketInUse("cannot remove the stale socket " + path + ": " + std::strerror(errno));
    log_info("removed the stale socket " + path + " (nothing answered on it)");
}

int inherited_listener() {
    const char* pid = std::getenv("LISTEN_PID");
    const char* fds = std::getenv("LISTEN_FDS");
    // LISTEN_PID names the process the socket is for: a child that inherited the environment
    // of an activated parent must not take the parent's socket.
    bool for_us = pid && fds && std::strtol(pid, nullptr, 10) == static_cast<long>(::getpid());
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (!for_us) return -1;
    if (std::string(fds) != "1")
        throw SocketInUse(std::string("socket activation passed LISTEN_FDS=") + fds +
                          "; the api takes exactly one listening socket");
    constexpr int kFirst = 3;  // SD_LISTEN_FDS_START
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(kFirst, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
        throw SocketInUse("socket activation: fd 3 is not a stream socket");
    len = sizeof listening;
    if (::getsockopt(kFirst, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        throw SocketInUse("socket activation: fd 3 is not listening");
    if (::fcntl(kFirst, F_SETFD, FD_CLOEXEC) != 0)
        throw SocketInUse(std::string("fcntl(3, FD_CLOEXEC): ") + std::strerror(errno));
    return kFirst;
}

}  // namespace core
