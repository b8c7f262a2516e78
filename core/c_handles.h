// Owners for every C handle the project touches: one screen, one place.
#pragma once

#include <unistd.h>

#include <memory>

struct pg_conn;
struct pg_result;
struct cJSON;
struct jwt;

namespace core {

// Owns a file descriptor: closed at scope exit (a negative one, a failed open, is not).
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// Calls Free(p) for a non-null p. Used as the deleter of unique_ptr for C handles.
template <auto Free>
struct CDeleter {
    template <class T>
    void operator()(T* p) const noexcept {
        if (p) Free(p);
    }
};

}  // namespace core

// The aliases live next to the code that includes the C header (so that this file does not
// drag libpq or libjwt into every translation unit), but each is declared exactly once:
//   db/pg.h          PgConnPtr, PgResultPtr
//   core/json.h      JsonPtr, JsonTextPtr
//   core/tokens.cpp  JwtPtr, JwtTextPtr (strings libjwt returns, freed with free())
