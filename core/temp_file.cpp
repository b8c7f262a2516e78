// Temp files written atomically into place.
#include "core/temp_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/fs.h"

namespace core {
namespace {

[[noreturn]] void throw_io(const std::string& what) {
    if (errno == ENOSPC || errno == EDQUOT) throw DiskFullError(what + ": no space left on device");
    throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

std::string new_uuid() {
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    char out[37];
    std::snprintf(out, sizeof out,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return out;
}

TempFile::TempFile(const std::string& dir) {
    // nginx serves committed files through its group (audio/ is setgid to it); nobody else
    // on the machine may read a recording.
    make_dirs(dir, 0750);
    path_ = dir + "/upload-" + new_uuid() + ".part";
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd_ < 0) throw_io("create " + path_);
}

TempFile::~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
}

void TempFile::write(const char* data, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd_, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw_io("write " + path_);
        data += w;
        n -= static_cast<size_t>(w);
        size_ += w;
    }
}

void TempFile::commit_to(const std::string& final_path) {
    if (::fsync(fd_) != 0) throw_io("fsync " + path_);
    if (::close(fd_) != 0) {
        fd_ = -1;
        throw_io("close " + path_);
    }
    fd_ = -1;
    if (::rename(path_.c_str(), final_path.c_str()) != 0) throw_io("rename " + path_);
    committed_ = true;
    int dir = ::open(parent_dir(final_path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    path_ = final_path;
}

FileGuard::~FileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace core
