// Atomic file writes and path helpers.
#include "core/fs.h"
#include "core/c_handles.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace core {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void write_all(int fd, const std::string& data, const std::string& path) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("write " + path);
        off += static_cast<size_t>(n);
    }
}

}  // namespace

bool read_small_file(const std::string& path, std::string& out) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return false;
    out.clear();
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (1u << 20)) return false;
    }
}

PrivateRead read_private_file(const std::string& path, std::string& out, mode_t& mode,
                              std::string& error) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        if (errno == ENOENT) return PrivateRead::missing;
        error = std::strerror(errno);
        return PrivateRead::failed;
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) {
        error = std::strerror(errno);
        return PrivateRead::failed;
    }
    if (!S_ISREG(st.st_mode)) {
        error = "not a regular file";
        return PrivateRead::failed;
    }
    mode = st.st_mode;
    out.clear();
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = std::strerror(errno);
            return PrivateRead::failed;
        }
        if (n == 0) return PrivateRead::ok;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (1u << 20)) {
            error = "larger than 1 MiB";
            return PrivateRead::failed;
        }
    }
}

bool create_file_exclusive(const std::string& path, const std::string& content, mode_t mode) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    ::unlink(tmp.c_str());  // left by a crashed process that had our pid
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
        if (fd.get() < 0) throw_errno("create " + tmp);
        try {
            // Exactly `mode`, whatever the umask.
            if (::fchmod(fd.get(), mode) != 0) throw_errno("chmod " + tmp);
            write_all(fd.get(), content, tmp);
            if (::fsync(fd.get()) != 0) throw_errno("fsync " + tmp);
        } catch (...) {
            ::unlink(tmp.c_str());
            throw;
        }
    }
    int rc = ::link(tmp.c_str(), path.c_str());
    int saved = errno;
    ::unlink(tmp.c_str());
    if (rc != 0 && saved == EEXIST) return false;
    errno = saved;
    if (rc != 0) throw_errno("link " + tmp + " to " + path);
    Fd dir(::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
    return true;
}

void write_file_atomic(const std::string& path, const std::string& content, mode_t mode) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (fd.get() < 0) throw_errno("create " + tmp);
        try {
            write_all(fd.get(), content, tmp);
            if (::fsync(fd.get()) != 0) throw_errno("fsync " + tmp);
        } catch (...) {
            ::unlink(tmp.c_str());
            throw;
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(tmp.c_str());
        errno = saved;
        throw_errno("rename " + tmp);
    }
    Fd dir(::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
}

void make_dirs(const std::string& path, mode_t mode) {
    if (path.empty()) return;
    for (size_t pos = 1;; ++pos) {
        pos = path.find('/', pos);
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) throw_errno("mkdir " + part);
        if (pos == std::string::npos) return;
    }
}

std::string parent_dir(const std::string& path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string absolute_path(const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    char buf[4096];
    if (!::getcwd(buf, sizeof buf)) throw_errno("getcwd");
    std::string base(buf);
    std::string rel = path;
    while (rel.rfind("./", 0) == 0) rel.erase(0, 2);
    if (rel == ".") rel.clear();
    return rel.empty() ? base : base + "/" + rel;
}

}  // namespace core
