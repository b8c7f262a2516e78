// The config table: name, type, default, bounds and help for every key, and its validation.
#include "core/config.h"

#include "core/env_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "core/fs.h"
#include "core/tokens.h"

namespace core {
namespace {

// One row per key. `apply` parses the text into the Config and returns an error message
// (without the key name) or an empty string.
struct Row {
    ConfigKey key;
    std::function<std::string(Config&)> default_text;
    std::function<std::string(Config&, const std::string&)> apply;
    std::function<std::string(const Config&)> show;
};

std::string parse_int(const std::string& text, long min, long max, int& out) {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || v < min || v > max) {
        return "must be an integer between " + std::to_string(min) + " and " + std::to_string(max);
    }
    out = static_cast<int>(v);
    return {};
}

Row int_row(const char* name, const char* help, int Config::*field, int def, long min, long max) {
    return Row{{name, help, false},
               [def](Config&) { return std::to_string(def); },
               [field, min, max](Config& c, const std::string& t) {
                   return parse_int(t, min, max, c.*field);
               },
               [field](const Config& c) { return std::to_string(c.*field); }};
}

Row string_row(const char* name, const char* help, std::string Config::*field,
               std::function<std::string(Config&)> def, bool secret = false,
               std::function<std::string(const std::string&)> check = nullptr) {
    return Row{{name, help, secret},
               std::move(def),
               [field, check](Config& c, const std::string& t) {
                   if (check) {
                       std::string err = check(t);
                       if (!err.empty()) return err;
                   }
                   c.*field = t;
                   return std::string();
               },
               [field](const Config& c) { return c.*field; }};
}

std::string one_of(const std::string& t, std::initializer_list<const char*> allowed) {
    for (const char* a : allowed)
        if (t == a) return {};
    std::string msg = "must be one of";
    for (const char* a : allowed) msg += std::string(" ") + a;
    return msg;
}

Row bool_row(const char* name, const char* help, bool Config::*field, bool def) {
    return Row{{name, help, false},
               [def](Config&) { return std::string(def ? "true" : "false"); },
               [field](Config& c, const std::string& t) {
                   std::string err = one_of(t, {"true", "false"});
                   if (err.empty()) c.*field = (t == "true");
                   return err;
               },
               [field](const Config& c) { return std::string(c.*field ? "true" : "false"); }};
}

// "127.0.0.1,localhost,[::1]:8080" → lower-case entries; each a DNS name, an IPv4 address or
// a bracketed IPv6 address, with an optional :port.
std::string parse_hosts(const std::string& text, std::vector<std::string>& out) {
    std::vector<std::string> hosts;
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = std::min(text.find(',', start), text.size());
        std::string h;
        for (char c : text.substr(start, comma - start))
            if (c != ' ') h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        start = comma + 1;
        if (h.empty()) continue;
        if (h.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-:[]") != std::string::npos)
            return "must be comma-separated host names, IP addresses or [IPv6] addresses, each "
                   "with an optional :port";
        hosts.push_back(h);
    }
    if (hosts.empty()) return "must name at least one host";
    out = std::move(hosts);
    return {};
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
    return out;
}

// Role and user names go into SQL as identifiers (quoted) and into pg_ident.conf: keep them
// to the portable lower-case form.
std::string plain_name(const std::string& t) {
    bool ok = !t.empty() && t.size() <= 63 &&
              (std::islower(static_cast<unsigned char>(t[0])) || t[0] == '_');
    for (char ch : t)
        ok = ok && (std::islower(static_cast<unsigned char>(ch)) ||
                    std::isdigit(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-');
    return ok ? std::string()
              : std::string(
                    "must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter or _");
}

int default_workers() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : static_cast<int>(n);
}

// Order matters: later defaults may use earlier values (data.dir first).
const std::vector<Row>& rows() {
    static const std::vector<Row> table = {
        string_row("data.dir", "data directory (audio, secrets, sockets, embedded PostgreSQL)",
                   &Config::data_dir, [](Config&) { return std::string("./var"); }),
        string_row(
            "service.user", "started as root, api, worker and live switch to this user",
            &Config::service_user, [](Config&) { return std::string("rostrum"); }, false,
            plain_name),
        string_row(
            "db.url", "PostgreSQL connection string (libpq keywords or URI)", &Config::db_url,
            [](Config& c) { return "host=" + c.data_dir + "/pg/run dbname=rostrum"; }, true),
        string_row(
            "db.app_url",
            "the daemons' connection (the application role's); empty: db.url as db.app_role",
            &Config::db_app_url, [](Config&) { return std::string(); }, true),
        string_row(
            "db.owner_role", "role that owns the schema; migrate runs every migration as it",
            &Config::db_owner_role, [](Config&) { return std::string("rostrum_owner"); }, false,
            plain_name),
        string_row(
            "db.app_role", "role api, worker and live log in as: DML only, owns nothing",
            &Config::db_app_role, [](Config&) { return std::string("rostrum_app"); }, false,
            plain_name),
        int_row("db.connect_timeout_s", "seconds to wait for a PostgreSQL connection",
                &Config::db_connect_timeout_s, 3, 1, 60),
        int_row("db.statement_timeout_ms", "server-side limit per SQL statement",
                &Config::db_statement_timeout_ms, 5000, 100, 600000),
        string_row("api.socket", "FastCGI unix socket that nginx connects to", &Config::api_socket,
                   [](Config& c) { return c.data_dir + "/run/api.sock"; }),
        string_row("api.socket_group", "group given the socket (nginx's workers); empty: keep",
                   &Config::api_socket_group, [](Config&) { return std::string(); }),
        // Two per core: a worker sits idle during its PostgreSQL round trip (measured +45 %).
        int_row("api.workers", "FastCGI worker processes", &Config::api_workers,
                2 * default_workers(), 1, 256),
        int_row("api.max_requests", "requests a worker serves before it is recycled",
                &Config::api_max_requests, 10000, 1, 100000000),
        int_row("api.request_timeout_s", "the master kills a worker stuck longer in one request",
                &Config::api_request_timeout_s, 120, 1, 86400),
        int_row("api.max_body_bytes", "largest JSON or form body the API reads",
                &Config::api_max_body_bytes, 65536, 1024, 16 << 20),
        int_row("api.drain_timeout_s",
                "on SIGTERM the master waits this long for workers to finish, then kills them",
                &Config::api_drain_timeout_s, 30, 1, 3600),
        string_row(
            "jwt.secret", "HS256 key for access tokens (>= 32 bytes); prefer the file",
            &Config::jwt_secret, [](Config&) { return std::string(); }, true),
        string_row("jwt.secret_file", "file holding the key; generated (0600) when missing",
                   &Config::jwt_secret_file,
                   [](Config& c) { return c.data_dir + "/secrets/jwt.key"; }),
        string_row("jwt.issuer", "the iss claim", &Config::jwt_issuer,
                   [](Config&) { return std::string("rostrum"); }),
        string_row("jwt.audience", "the aud claim", &Config::jwt_audience,
                   [](Config&) { return std::string("rostrum-api"); }),
        int_row("auth.access_ttl_s", "access token lifetime", &Config::access_ttl_s, 900, 60,
                86400),
        int_row("auth.refresh_ttl_s", "refresh token lifetime", &Config::refresh_ttl_s, 30 * 86400,
                3600, 365 * 86400),
        Row{{"auth.cookie_secure", "mark auth cookies Secure (true|false)", false},
            [](Config&) { return std::string("true"); },
            [](Config& c, const std::string& t) {
                std::string err = one_of(t, {"true", "false"});
                if (err.empty()) c.cookie_secure = (t == "true");
                return err;
            },
            [](const Config& c) { return std::string(c.cookie_secure ? "true" : "false"); }},
        // Per account, shared by every address the account never logged in from (see
        // db/auth_failures.h): rotating addresses gains nothing, the owner's known ones go on.
        int_row("auth.failures_free", "failed password checks of an account before it must wait",
                &Config::auth_failures_free, 5, 1, 1000),
        int_row("auth.backoff_max_s",
                "longest wait (429 + Retry-After) after failed password checks; doubles up to it",
                &Config::auth_backoff_max_s, 300, 1, 86400),
        Row{{"upload.max_bytes", "largest upload in bytes (nginx refuses bigger with 413)", false},
            [](Config&) { return std::string("209715200"); },
            [](Config& c, const std::string& t) {
                char* end = nullptr;
                errno = 0;
                long long v = std::strtoll(t.c_str(), &end, 10);
                if (t.empty() || *end != '\0' || errno == ERANGE || v < 1024 || v > (1LL << 40))
                    return std::string("must be an integer between 1024 and 1099511627776");
                c.upload_max_bytes = v;
                return std::string();
            },
            [](const Config& c) { return std::to_string(c.upload_max_bytes); }},
        // Off in production (rostrum.env from stack.sh render-production): there the operator
        // creates the admin with `rostrum user create-admin`, and registration never can.
        bool_row("auth.first_user_admin",
                 "the first account registered on an empty install becomes admin (true|false)",
                 &Config::first_user_admin, true),
        string_row("site.server_name", "the site's public host name (also ROSTRUM_SERVER_NAME)",
                   &Config::site_server_name, [](Config&) { return std::string("localhost"); }),
        // A browser that a rebinding DNS name points at this host sends that name as Host: only
        // the names we answer to are served, so such a page never reaches the API.
        Row{{"site.hosts",
             "Host values served (comma-separated; name = any port, name:port = that port); "
             "other Hosts get 421",
             false},
            [](Config& c) { return "127.0.0.1,localhost,[::1]," + c.site_server_name; },
            [](Config& c, const std::string& t) { return parse_hosts(t, c.site_hosts); },
            [](const Config& c) { return join(c.site_hosts); }},
        int_row("upload.max_seconds", "longest audio accepted, from the header and while decoding",
                &Config::upload_max_seconds, 7200, 1, 86400),
        int_row("worker.threads", "decoder threads of rostrum worker (one pocketsphinx each)",
                &Config::worker_threads, default_workers(), 1, 64),
        int_row("worker.lease_s", "a job's lease; a dead worker's job runs again after it",
                &Config::worker_lease_s, 60, 5, 3600),
        // A job's time budget: base + factor × its audio's duration (recognition runs at about
        // 0.2–0.35 × real time per decoder, so the default leaves a wide margin). A decoder past
        // it is hung (inside a library): the master kills it and the job is retried or dead.
        int_row("worker.job_budget_factor", "a job's time budget: seconds per second of audio",
                &Config::worker_job_budget_factor, 3, 0, 1000),
        int_row("worker.job_budget_base_s", "a job's time budget: seconds added to the above",
                &Config::worker_job_budget_base_s, 300, 1, 86400),
        // Cron starts --drain every minute: a run stops claiming before the next one is due
        // (the job in hand is finished; a later run that finds the lock held exits at once).
        int_row("worker.drain_budget_s", "worker --drain claims no new job after this many seconds",
                &Config::worker_drain_budget_s, 50, 0, 86400),
        int_row("jobs.max_queued_per_user",
                "jobs a user may have queued or running; more uploads/reanalyses answer 429",
                &Config::jobs_max_queued_per_user, 50, 1, 100000),
        // The OpenAI-compatible route holds its FastCGI worker while the job runs on `rostrum
        // worker`: the wait must end before the master's api.request_timeout_s (checked below),
        // and only some of the workers may wait at once so that the rest of the API still runs.
        int_row("openai.max_wait_s",
                "seconds POST /v1/audio/transcriptions waits for its job before 504 (the session "
                "is kept); at most api.request_timeout_s - 10",
                &Config::openai_max_wait_s, 100, 1, 3600),
        Row{{"openai.max_waiting",
             "POST /v1/audio/transcriptions requests in progress at once (each holds an API "
             "worker); more answer 429 with Retry-After (default half of api.workers, at least 1)",
             false},
            [](Config& c) { return std::to_string(std::max(1, c.api_workers / 2)); },
            [](Config& c, const std::string& t) {
                return parse_int(t, 1, 256, c.openai_max_waiting);
            },
            [](const Config& c) { return std::to_string(c.openai_max_waiting); }},
        // GET /api/v1/events?wait_s= (long polling, Server-Sent Events) holds its worker too:
        // a smaller share, since /ws/events serves the same stream without holding one.
        Row{{"events.max_waiting",
             "GET /api/v1/events requests waiting at once (wait_s > 0 or Server-Sent Events; each "
             "holds an API worker); more answer at once (default a quarter of api.workers, at "
             "least 1)",
             false},
            [](Config& c) { return std::to_string(std::max(1, c.api_workers / 4)); },
            [](Config& c, const std::string& t) {
                return parse_int(t, 1, 256, c.events_max_waiting);
            },
            [](const Config& c) { return std::to_string(c.events_max_waiting); }},
        int_row("worker.sweep_age_s",
                "audio files with no session (and audio/tmp leftovers) older than this are removed",
                &Config::worker_sweep_age_s, 3600, 1, 30 * 86400),
        int_row("worker.sweep_interval_s", "seconds between the worker's sweeps of orphan audio",
                &Config::worker_sweep_interval_s, 600, 1, 86400),
        string_row("speech.model_root", "pocketsphinx models, one directory per language",
                   &Config::model_root,
                   [](Config&) { return std::string("/usr/share/pocketsphinx/model"); }),
        string_row("live.socket", "unix socket of rostrum live (nginx proxies /ws/ to it)",
                   &Config::live_socket, [](Config& c) { return c.data_dir + "/run/live.sock"; }),
        int_row("live.decoders", "decoder threads of rostrum live (streams are spread on them)",
                &Config::live_decoders, default_workers(), 1, 64),
        int_row("live.max_hmms_per_frame",
                "live search width: fewer is cheaper, more is a little more accurate",
                &Config::live_max_hmms, 3000, 500, 100000),
        string_row("live.allowed_origins",
                   "browser origins allowed besides the site's own (comma-separated)",
                   &Config::live_allowed_origins, [](Config&) { return std::string(); }),
        int_row("live.max_message_bytes", "largest WebSocket message; bigger closes with 1009",
                &Config::live_max_message_bytes, 262144, 1024, 16 << 20),
        int_row("live.idle_timeout_s", "a socket silent this long (after a ping) is closed",
                &Config::live_idle_timeout_s, 60, 2, 3600),
        int_row("live.max_stream_s",
                "longest live transcription stream in seconds of audio (a saved one is a WAV: "
                "at most 44739 s at 48 kHz)",
                &Config::live_max_stream_s, 3600, 1, kLiveMaxStreamSeconds),
        int_row("live.max_sockets_per_user", "open sockets per user; more upgrades answer 429",
                &Config::live_max_sockets_per_user, 16, 1, 100000),
        int_row("live.send_queue_bytes", "unsent bytes a socket may queue before 1008",
                &Config::live_send_queue_bytes, 1 << 20, 4096, 1 << 30),
        // The clinical scribe (docs/scribe.md). Consent: a clinic that must record the patient's
        // agreement turns it on, and a scribe upload or stream without consent=true is refused.
        bool_row("scribe.require_consent",
                 "a scribe upload or stream without consent=true answers 422 (true|false)",
                 &Config::scribe_require_consent, false),
        // Retention: the worker's sweep deletes a scribe session's audio this many days after it
        // was recorded (the transcript and the note stay); 0 keeps audio for ever.
        int_row("scribe.retention_days",
                "days a scribe session's audio is kept (transcript and note stay); 0 = for ever",
                &Config::scribe_retention_days, 0, 0, 36500),
        int_row("live.events_keep_s", "stored events older than this are pruned",
                &Config::live_events_keep_s, 7 * 86400, 60, 365 * 86400),
        int_row("live.recheck_s",
                "seconds between checks that open sockets' tokens and users are still valid",
                &Config::live_recheck_s, 30, 1, 60),
        int_row("live.max_queued_s",
                "seconds of a stream's audio waiting for its decoder before the socket is no "
                "longer read (back-pressure)",
                &Config::live_max_queued_s, 5, 1, 600),
        int_row("live.max_ahead_s",
                "seconds of audio a stream may be ahead of real time before 1008 (recorded "
                "files at 2-5x are fine up to about 1.25-2x this long)",
                &Config::live_max_ahead_s, 600, 1, kLiveMaxStreamSeconds),
        // Each open stream holds a decoder of its own (about 100 MiB): 4 per decoder thread
        // is about twice what the threads decode in real time (bench/RESULTS.md).
        Row{{"live.max_streams",
             "open /ws/transcribe sockets (each holds a ~100 MiB decoder); more upgrades answer "
             "503 (default 4 x live.decoders)",
             false},
            [](Config& c) { return std::to_string(4 * c.live_decoders); },
            [](Config& c, const std::string& t) {
                return parse_int(t, 1, 100000, c.live_max_streams);
            },
            [](const Config& c) { return std::to_string(c.live_max_streams); }},
        string_row(
            "log.level", "debug|info|warn|error", &Config::log_level,
            [](Config&) { return std::string("info"); }, false,
            [](const std::string& t) {
                return one_of(t, {"debug", "info", "warn", "error"});
            }),
    };
    return table;
}

// Creates the key file: 32 random bytes twice, base64url, mode 0600, never over a file
// another process created meanwhile. Returns the key that ended up in the file.
std::string generate_jwt_secret(const std::string& path) {
    make_dirs(parent_dir(path), 0700);
    std::string secret = random_token() + random_token();  // 512 bits, base64url
    if (create_file_exclusive(path, secret + "\n", 0600)) return secret;
    return {};  // lost the race: the caller reads the winner's key
}

// Reads the key file; ENOENT gives false, anything else wrong throws.
bool read_jwt_secret(const std::string& path, std::string& out) {
    std::string error;
    mode_t mode = 0;
    switch (read_private_file(path, out, mode, error)) {
        case PrivateRead::ok:
            break;
        case PrivateRead::missing:
            return false;
        case PrivateRead::failed:
            throw ConfigError("jwt.secret_file " + path + " cannot be read (" + error +
                              "); refusing to start rather than replace the key");
    }
    if (mode & 077) {
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
        throw ConfigError("jwt.secret_file " + path + " is open to its group or others (mode " +
                          octal + "); run: chmod 600 " + path);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return true;
}

}  // namespace

void load_jwt_secret(Config& c, bool create) {
    if (!c.jwt_secret.empty()) return;
    std::string text;
    if (read_jwt_secret(c.jwt_secret_file, text)) {
        c.jwt_secret = text;
        return;
    }
    if (!create) return;
    c.jwt_secret = generate_jwt_secret(c.jwt_secret_file);
    if (c.jwt_secret.empty() && read_jwt_secret(c.jwt_secret_file, text)) c.jwt_secret = text;
}

void require_jwt_secret(Config& c) {
    load_jwt_secret(c, true);
    if (c.jwt_secret.size() < 32) {
        throw ConfigError("jwt.secret must be at least 32 bytes (got " +
                          std::to_string(c.jwt_secret.size()) + "); unset it to generate one");
    }
}

std::string audio_dir(const Config& c) {
    return c.data_dir + "/audio";
}

DbLogin app_db_login(const Config& c) {
    if (!c.db_app_url.empty()) return DbLogin{c.db_app_url, ""};
    return DbLogin{c.db_url, c.db_app_role};
}

std::string env_name(const char* key) {
    std::string out = "ROSTRUM_";
    for (const char* p = key; *p; ++p)
        out += (*p == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
    return out;
}

const std::vector<ConfigKey>& config_keys() {
    static const std::vector<ConfigKey> keys = [] {
        std::vector<ConfigKey> k;
        for (const Row& r : rows()) k.push_back(r.key);
        return k;
    }();
    return keys;
}

namespace {

// Aliases users know from ARCHITECTURE.md and the README (stack.sh renders nginx's server_name
// from ROSTRUM_SERVER_NAME too).
const char* alias_of(std::string_view key) {
    if (key == "db.url") return "ROSTRUM_DATABASE_URL";
    if (key == "site.server_name") return "ROSTRUM_SERVER_NAME";
    return nullptr;
}

// The configuration file's values by variable name (core/env_file.h), every name checked: a
// misspelt key in a file nobody's shell shows would otherwise pass silently.
std::map<std::string, std::string> file_values(const std::vector<Row>& rows) {
    std::map<std::string, std::string> out;
    std::string path = config_file_path();
    for (auto& [name, value] : read_config_file(path)) {
        bool known = false;
        for (const Row& r : rows) {
            const char* alias = alias_of(r.key.name);
            known = known || name == env_name(r.key.name) || (alias && name == alias);
        }
        if (!known)
            throw ConfigError("configuration file " + path + ": " + name +
                              " is not a setting (rostrum check-config lists them)");
        out[name] = value;
    }
    return out;
}

}  // namespace

Config load_config(bool prepare_secret) {
    Config c{};
    const std::map<std::string, std::string> from_file = file_values(rows());
    // The environment, then the configuration file, then the default.
    auto lookup = [&](const std::string& name) -> const char* {
        if (const char* v = std::getenv(name.c_str())) return v;
        auto it = from_file.find(name);
        return it == from_file.end() ? nullptr : it->second.c_str();
    };
    for (const Row& r : rows()) {
        std::string text = r.default_text(c);
        std::string env = env_name(r.key.name);
        const char* v = lookup(env);
        if (const char* alias = alias_of(r.key.name); !v && alias) v = lookup(alias);
        bool from_env = v != nullptr;
        if (from_env) text = v;
        std::string err = r.apply(c, text);
        // Later defaults build paths on data.dir, and libpq wants absolute socket dirs.
        if (err.empty() && &r == &rows().front()) c.data_dir = absolute_path(c.data_dir);
        if (!err.empty()) {
            std::string shown = r.key.secret ? "***" : "\"" + text + "\"";
            throw ConfigError(std::string(r.key.name) + " " + err + " (got " + shown +
                              (from_env ? " from " + env : "") + ")");
        }
    }
    c.run_dir = c.data_dir + "/run";
    // A worker past api.request_timeout_s is killed by the master: a transcription's wait must
    // end before it, with room to answer (10 s).
    if (c.openai_max_wait_s > c.api_request_timeout_s - kOpenAiAnswerMarginS)
        throw ConfigError("openai.max_wait_s must be at most api.request_timeout_s - " +
                          std::to_string(kOpenAiAnswerMarginS) + " (got " +
                          std::to_string(c.openai_max_wait_s) + " with api.request_timeout_s " +
                          std::to_string(c.api_request_timeout_s) + ")");
    if (prepare_secret) require_jwt_secret(c);
    return c;
}

std::string describe_config(const Config& c) {
    std::ostringstream out;
    for (const Row& r : rows()) {
        std::string v = r.show(c);
        if (r.key.secret && !v.empty()) v = "*** (" + std::to_string(v.size()) + " bytes)";
        out << r.key.name << " = " << v << "\n";
    }
    return out.str();
}

}  // namespace core
