// Small file-system helpers: atomic writes (temp, fsync, rename, fsync dir) and paths.
#pragma once

#include <sys/types.h>

#include <string>

namespace core {

// Reads a file of at most 1 MiB; false if it does not exist or cannot be read.
bool read_small_file(const std::string& path, std::string& out);
// Reads a secret-holding file of at most 1 MiB with the mode it had when read (fstat of the
// open descriptor: no window between the check and the read). `missing` only for ENOENT;
// every other failure (EACCES, a directory, too big, a read error) is `failed`, with `error`.
enum class PrivateRead { ok, missing, failed };
PrivateRead read_private_file(const std::string& path, std::string& out, mode_t& mode,
                              std::string& error);
// Creates `path` with `content` and `mode` only if it does not exist: written to a temp file,
// fsynced, then link()ed into place (link, unlike rename, fails on an existing file), the
// directory fsynced. False when `path` already existed. Throws std::system_error.
bool create_file_exclusive(const std::string& path, const std::string& content, mode_t mode);
// Writes to a temp file beside `path`, fsyncs it, renames it over `path`, fsyncs the
// directory. Readers see the old content or the new, never a part. Throws std::system_error.
void write_file_atomic(const std::string& path, const std::string& content, mode_t mode);
// mkdir -p with the given mode for created directories. Throws std::system_error.
void make_dirs(const std::string& path, mode_t mode);
std::string parent_dir(const std::string& path);
// Makes a relative path absolute against the current directory (no symlink resolution).
std::string absolute_path(const std::string& path);

}  // namespace core
