// Small file-system helpers: atomic writes (temp, fsync, rename, fsync dir) and paths.
#pragma once

#include <sys/types.h>

#include <string>

namespace core {

// Reads a file of at most 1 MiB; false if it does not exist or cannot be read.
bool read_small_file(const std::string& path, std::string& out);
// Writes to a temp file beside `path`, fsyncs it, renames it over `path`, fsyncs the
// directory. Readers see the old content or the new, never a part. Throws std::system_error.
void write_file_atomic(const std::string& path, const std::string& content, mode_t mode);
// mkdir -p with the given mode for created directories. Throws std::system_error.
void make_dirs(const std::string& path, mode_t mode);
std::string parent_dir(const std::string& path);
// Makes a relative path absolute against the current directory (no symlink resolution).
std::string absolute_path(const std::string& path);

}  // namespace core
