// AudioFront: the file behind an X-Accel-Redirect, served by the application.
#include "fcgi/audio_front.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "core/c_handles.h"
#include "fcgi/range.h"

namespace fcgi {
namespace {

constexpr std::string_view kAudioPrefix = "/_audio/";

// The type nginx's /_audio/ location gives each stored format (nginx/locations.conf.in).
const char* audio_type(std::string_view name) {
    static const std::pair<std::string_view, const char*> kTypes[] = {
        {".wav", "audio/wav"},  {".flac", "audio/flac"}, {".ogg", "audio/ogg"},
        {".opus", "audio/ogg"}, {".mp3", "audio/mpeg"},  {".webm", "audio/webm"},
        {".m4a", "audio/mp4"}};
    for (const auto& [ext, type] : kTypes)
        if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return type;
    return "application/octet-stream";
}

}  // namespace

void AudioFront::respond(const Response& res, bool head_only) {
    std::optional<std::string> target;
    for (const auto& [k, v] : res.headers)
        if (k == "X-Accel-Redirect" && v.rfind(kAudioPrefix, 0) == 0)
            target = v.substr(kAudioPrefix.size());
    if (res.status != 200 || !target) return inner_.respond(res, head_only);
    serve_file(res, *target, head_only);
}

void AudioFront::problem(const core::ApiError& e) {
    inner_.respond(Response::problem(e, request_id), false);
}

void AudioFront::serve_file(const Response& res, const std::string& name, bool head_only) {
    // Names are the API's own (<uuid>.<format>); anything that could leave the folder is
    // refused all the same.
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
        return problem(core::ApiError::not_found("no such audio file"));
    core::Fd fd(::open((audio_dir_ + "/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st;
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return problem(core::ApiError::not_found("no such audio file"));
    int64_t size = st.st_size;
    // An If-Range we cannot evaluate means the whole file (RFC 9110 §13.1.5).
    auto range = param("HTTP_IF_RANGE") ? std::nullopt : parse_range(param("HTTP_RANGE"), size);
    if (range && range->first > range->last) {
        core::ApiError e(416, core::status_text(416), "the requested range is outside the file", {},
                         "/problems/range-not-satisfiable");
        e.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        return problem(e);
    }
    ByteRange r = range.value_or(ByteRange{0, size - 1});
    Response head{range ? 206 : 200, audio_type(name), {}, ""};
    for (const auto& [k, v] : res.headers)
        if (k != "X-Accel-Redirect") head.header(k, v);
    head.header("Content-Length", std::to_string(r.last - r.first + 1))
        .header("Accept-Ranges", "bytes")
        .header("Content-Disposition", "attachment")
        .header("Cache-Control", "private, no-store")
        .header("X-Content-Type-Options", "nosniff");
    if (range)
        head.header("Content-Range", "bytes " + std::to_string(r.first) + "-" +
                                         std::to_string(r.last) + "/" + std::to_string(size));
    write(head.head());
    if (!head_only) copy(fd.get(), r.first, r.last);
}

// The file's bytes [first, last] to the client, 64 KiB at a time.
void AudioFront::copy(int fd, int64_t first, int64_t last) {
    char buf[65536];
    int64_t off = first;
    while (off <= last) {
        size_t want = static_cast<size_t>(std::min<int64_t>(sizeof buf, last - off + 1));
        ssize_t n = ::pread(fd, buf, want, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // shrank under us: the client sees a short body
        write(std::string_view(buf, static_cast<size_t>(n)));
        off += n;
    }
}

}  // namespace fcgi
