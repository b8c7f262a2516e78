// Upload receiving: multipart or raw body → TempFile → probe.
#include "handlers/uploads.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/config.h"
#include "core/json.h"
#include "core/log.h"
#include "core/problem.h"
#include "db/jobs.h"
#include "fcgi/multipart.h"

namespace handlers {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxFieldBytes = 1024;

// Media types a raw upload may declare; the content decides the format in the end.
bool raw_audio_type(const std::string& media) {
    return media.rfind("audio/", 0) == 0 || media == "application/ogg";
}

// Counts bytes against the limit while writing them.
void write_limited(core::TempFile& f, const char* data, size_t n, int64_t max_bytes) {
    if (f.size() + static_cast<int64_t>(n) > max_bytes)
        throw core::ApiError::too_large("the file is larger than " + std::to_string(max_bytes) +
                                        " bytes");
    f.write(data, n);
}

// Collects the parts of a multipart upload: one `file` part to disk, small text fields.
class UploadSink : public fcgi::PartSink {
  public:
    UploadSink(core::TempFile& file, std::span<const std::string_view> allowed, int64_t max_bytes)
        : file_(file), allowed_(allowed.begin(), allowed.end()), max_bytes_(max_bytes) {}

    void on_part_begin(const fcgi::PartHeaders& h) override {
        if (h.name == "file") {
            if (saw_file_) throw core::ApiError::bad_request("more than one file part", "file");
            saw_file_ = true;
            in_file_ = true;
            if (h.filename) filename = *h.filename;
            return;
        }
        if (std::find(allowed_.begin(), allowed_.end(), h.name) == allowed_.end())
            throw core::ApiError::bad_request("unknown form field '" + h.name.substr(0, 64) + "'",
                                              h.name.substr(0, 64));
        bool array = h.name.size() > 2 && h.name.ends_with("[]");
        if (fields.count(h.name) && !array)
            throw core::ApiError::bad_request("form field given twice", h.name);
        in_file_ = false;
        current_ = h.name;
        std::string& v = fields[current_];
        if (!v.empty()) v += ',';  // a repeated `x[]`: one more value of the array
    }

    void on_part_data(const char* data, size_t n) override {
        if (in_file_) return write_limited(file_, data, n, max_bytes_);
        std::string& v = fields[current_];
        if (v.size() + n > kMaxFieldBytes)
            throw core::ApiError::bad_request("form field is too long", current_);
        v.append(data, n);
    }

    void on_part_end() override { in_file_ = false; }

    bool saw_file() const { return saw_file_; }
    std::map<std::string, std::string> fields;
    std::string filename;  // the file part's, as sent

  private:
    core::TempFile& file_;
    std::vector<std::string_view> allowed_;
    int64_t max_bytes_;
    bool saw_file_ = false;
    bool in_file_ = false;
    std::string current_;
};

void receive_multipart(fcgi::Request& req, core::TempFile& file,
                       std::span<const std::string_view> allowed, int64_t max_bytes,
                       std::map<std::string, std::string>& fields, std::string& filename) {
    UploadSink sink(file, allowed, max_bytes);
    fcgi::MultipartParser parser(fcgi::multipart_boundary(req.content_type), sink);
    std::vector<char> buf(kChunk);
    while (size_t n = req.read_body_chunk(buf.data(), buf.size())) parser.feed(buf.data(), n);
    parser.finish();
    if (!sink.saw_file()) throw core::ApiError::unprocessable("file", "an audio file is required");
    for (auto& [name, value] : sink.fields) {
        if (!core::valid_utf8(value) || value.find('\0') != std::string::npos)
            throw core::ApiError::bad_request("form field is not valid UTF-8 text", name);
    }
    fields = std::move(sink.fields);
    filename = std::move(sink.filename);
}

void receive_raw(fcgi::Request& req, core::TempFile& file,
                 std::span<const std::string_view> allowed, int64_t max_bytes,
                 std::map<std::string, std::string>& fields) {
    // The route's row refused any parameter but these before the handler ran.
    for (const auto& [name, value] : req.query.items())
        if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) fields[name] = value;
    std::vector<char> buf(kChunk);
    while (size_t n = req.read_body_chunk(buf.data(), buf.size()))
        write_limited(file, buf.data(), n, max_bytes);
}

// The probe's verdict as the status a client should see.
core::ApiError audio_problem(const speech::AudioError& e) {
    using Kind = speech::AudioError::Kind;
    switch (e.kind) {
        case Kind::unreadable:
            return core::ApiError::unsupported_media(std::string("not a supported audio file: ") +
                                                     e.what());
        case Kind::too_long:
            return core::ApiError::too_large(e.what());
        case Kind::empty:
            return core::ApiError::unprocessable("file", e.what());
        case Kind::invalid:
            return core::ApiError::unprocessable("file", e.what());
    }
    return core::ApiError::unprocessable("file", e.what());
}

}  // namespace

std::string audio_dir(const fcgi::Ctx& ctx) {
    return core::audio_dir(ctx.cfg);
}

void remove_audio_files(const fcgi::Ctx& ctx, const std::vector<std::string>& names) {
    for (const std::string& name : names) {
        std::string file = audio_dir(ctx) + "/" + name;
        if (::unlink(file.c_str()) != 0 && errno != ENOENT)
            core::log_warn("could not remove " + file +
                           " of a deleted session: " + std::strerror(errno));
    }
}

ReceivedAudio receive_audio(fcgi::Request& req, fcgi::Ctx& ctx,
                            std::span<const std::string_view> text_fields) {
    if (auto enc = req.header("content-encoding"); enc && *enc != "identity")
        throw core::ApiError::unsupported_media("compressed uploads are not accepted");
    std::string media = req.media_type();
    bool multipart = media == "multipart/form-data";
    if (!multipart && !raw_audio_type(media))
        throw core::ApiError::unsupported_media(
            "send multipart/form-data with a `file` part, or a raw audio/* body");
    if (req.content_length <= 0) throw core::ApiError::bad_request("the upload is empty");
    if (req.content_length > ctx.cfg.upload_max_bytes + (multipart ? 64 * 1024 : 0))
        throw core::ApiError::too_large("the upload is larger than " +
                                        std::to_string(ctx.cfg.upload_max_bytes) + " bytes");
    ReceivedAudio out;
    try {
        out.file = std::make_unique<core::TempFile>(audio_dir(ctx) + "/tmp");
        if (multipart) {
            receive_multipart(req, *out.file, text_fields, ctx.cfg.upload_max_bytes, out.fields,
                              out.filename);
        } else {
            receive_raw(req, *out.file, text_fields, ctx.cfg.upload_max_bytes, out.fields);
        }
        if (out.file->size() == 0) throw core::ApiError::unprocessable("file", "the file is empty");
        speech::AudioLimits limits{static_cast<double>(ctx.cfg.upload_max_seconds)};
        out.info = speech::probe_file(out.file->path(), limits);
    } catch (const core::DiskFullError&) {
        throw core::ApiError::insufficient_storage();
    } catch (const speech::AudioError& e) {
        throw audio_problem(e);
    }
    return out;
}

namespace {

// What a user over the job quota is told to wait: about the time a short job takes.
constexpr int kQuotaRetryAfterS = 30;

}  // namespace

core::ApiError over_job_quota(const fcgi::Ctx& ctx, int64_t pending) {
    core::ApiError e = core::ApiError::too_many_requests(kQuotaRetryAfterS);
    e.detail = "you have " + std::to_string(pending) +
               " recordings waiting to be processed (the most allowed is " +
               std::to_string(ctx.cfg.jobs_max_queued_per_user) + "); try again when they are done";
    return e;
}

void job_quota_or_throw(fcgi::Ctx& ctx, const std::string& user_id) {
    int64_t pending = db::count_pending_jobs(ctx.db, user_id);
    if (pending >= ctx.cfg.jobs_max_queued_per_user) throw over_job_quota(ctx, pending);
}

}  // namespace handlers
