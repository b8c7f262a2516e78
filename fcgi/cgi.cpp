// CGI mode: the shared-host fallback. One request from the environment and stdin, one
// response on stdout, then exit.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "core/c_handles.h"
#include "core/config.h"
#include "core/passwords.h"
#include "fcgi/exchange.h"
#include "fcgi/pool.h"
#include "fcgi/range.h"
#include "fcgi/serve.h"

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

// CGI's exchange, serving X-Accel-Redirect: /_audio/<name> from the audio directory as nginx's
// internal location does (same type, headers and single-range support), after the handler
// checked ownership. Without it a CGI server sent the empty body of the redirect.
class CgiFrontExchange final : public CgiExchange {
  public:
    explicit CgiFrontExchange(std::string audio_dir) : audio_dir_(std::move(audio_dir)) {}

    void respond(const Response& res, bool head_only) override {
        std::optional<std::string> target;
        for (const auto& [k, v] : res.headers)
            if (k == "X-Accel-Redirect" && v.rfind(kAudioPrefix, 0) == 0)
                target = v.substr(kAudioPrefix.size());
        if (res.status != 200 || !target) return CgiExchange::respond(res, head_only);
        serve_file(res, *target, head_only);
    }

  private:
    void problem(const core::ApiError& e) {
        CgiExchange::respond(Response::problem(e, param("REQUEST_ID") ? param("REQUEST_ID") : ""),
                             false);
    }

    void serve_file(const Response& res, const std::string& name, bool head_only) {
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
            core::ApiError e(416, core::status_text(416), "the requested range is outside the file",
                             {}, "/problems/range-not-satisfiable");
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
        if (!head_only) copy(fd.get(), r);
    }

    // The file's bytes [first, last] to stdout, 64 KiB at a time.
    void copy(int fd, ByteRange r) {
        char buf[65536];
        int64_t off = r.first;
        while (off <= r.last) {
            size_t want = static_cast<size_t>(std::min<int64_t>(sizeof buf, r.last - off + 1));
            ssize_t n = ::pread(fd, buf, want, off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;  // shrank under us: the client sees a short body
            write(std::string_view(buf, static_cast<size_t>(n)));
            off += n;
        }
    }

    std::string audio_dir_;
};

}  // namespace

int run_cgi(const core::Config& cfg, const App& app) {
    core::init_crypto();
    std::unique_ptr<Process> process = app.open(cfg, "cgi", nullptr);
    Router router(app.routes);
    CgiFrontExchange ex(core::audio_dir(cfg));
    serve_one(ex, process->ctx(), app, router, nullptr, 0);
    return 0;
}

}  // namespace fcgi
