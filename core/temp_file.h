// TempFile: a file being written under a temp name; commit_to() fsyncs it, renames it into
// place and fsyncs the directory. Destroyed uncommitted, it unlinks itself: an upload that
// fails anywhere leaves nothing behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace core {

// The disk is full (ENOSPC/EDQUOT): the API answers 507.
class DiskFullError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class TempFile {
  public:
    // Creates a new file (O_EXCL, mode 0640: nginx's group serves it) with a random name in dir.
    explicit TempFile(const std::string& dir);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    // Appends; throws DiskFullError on ENOSPC, std::system_error otherwise.
    void write(const char* data, size_t n);
    // fsync, rename to final_path, fsync the directory. Afterwards the file is no longer ours.
    void commit_to(const std::string& final_path);

    const std::string& path() const { return path_; }
    int64_t size() const { return size_; }

  private:
    std::string path_;
    int fd_ = -1;
    int64_t size_ = 0;
    bool committed_ = false;
};

// Removes a committed file on scope exit unless release() was called (the database insert
// that should own it failed).
class FileGuard {
  public:
    explicit FileGuard(std::string path) : path_(std::move(path)) {}
    ~FileGuard();
    FileGuard(const FileGuard&) = delete;
    FileGuard& operator=(const FileGuard&) = delete;
    void release() { path_.clear(); }

  private:
    std::string path_;
};

// A random version-4 UUID (libsodium's generator).
std::string new_uuid();

}  // namespace core
