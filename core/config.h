// The configuration: one table of keys with defaults and bounds, overridable by ROSTRUM_*
// environment variables, validated once at startup and read-only afterwards.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace core {

struct Config {
    std::string data_dir;          // data.dir: audio, secrets, sockets, the embedded cluster
    std::string run_dir;           // derived: <data_dir>/run (sockets, pid files)
    std::string db_url;            // db.url: libpq connection string or URI (migrate, CLI)
    std::string db_app_url;        // db.app_url: the daemons' connection; empty: db.url
    std::string db_owner_role;     // db.owner_role: owns the schema; migrations run as it
    std::string db_app_role;       // db.app_role: the daemons log in as it (DML only)
    std::string service_user;      // service.user: the daemons drop root for this user
    int db_connect_timeout_s;      // db.connect_timeout_s
    int db_statement_timeout_ms;   // db.statement_timeout_ms
    std::string api_socket;        // api.socket: FastCGI unix socket path
    std::string api_socket_group;  // api.socket_group: group that may connect (nginx workers)
    int api_workers;               // api.workers (2 × cores)
    int api_max_requests;          // api.max_requests: recycle a worker after this many
    int api_request_timeout_s;     // api.request_timeout_s: the master kills a stuck worker
    int api_max_body_bytes;        // api.max_body_bytes: non-upload request bodies
    int api_drain_timeout_s;       // api.drain_timeout_s: SIGTERM, then SIGKILL after this
    std::string jwt_secret;        // jwt.secret (or read from jwt.secret_file)
    std::string jwt_secret_file;   // jwt.secret_file: default <data_dir>/secrets/jwt.key
    std::string jwt_issuer;        // jwt.issuer
    std::string jwt_audience;      // jwt.audience
    int access_ttl_s;              // auth.access_ttl_s
    int refresh_ttl_s;             // auth.refresh_ttl_s
    bool cookie_secure;            // auth.cookie_secure
    bool first_user_admin;         // auth.first_user_admin: the first registered account is admin
    std::string site_server_name;  // site.server_name: the public name (also ROSTRUM_SERVER_NAME)
    // site.hosts: the Host values this site answers ("name" = any port, "name:port" = that
    // port); anything else is 421. Lower-case, parsed from the comma-separated text.
    std::vector<std::string> site_hosts;
    int auth_failures_free;        // auth.failures_free: failed password checks before a wait
    int auth_backoff_max_s;        // auth.backoff_max_s: the longest wait after failures
    std::string log_level;         // log.level: debug|info|warn|error
    int64_t upload_max_bytes;      // upload.max_bytes: 413 beyond (nginx and the app)
    int upload_max_seconds;        // upload.max_seconds: longer audio is refused
    int worker_threads;            // worker.threads: decoder threads of `rostrum worker`
    int worker_lease_s;            // worker.lease_s: a job's lease, renewed every third of it
    int worker_job_budget_factor;  // worker.job_budget_factor: s of work per s of audio
    int worker_job_budget_base_s;  // worker.job_budget_base_s: + this; a decoder past it is killed
    int worker_drain_budget_s;     // worker.drain_budget_s: --drain claims no job after this
    int jobs_max_queued_per_user;  // jobs.max_queued_per_user: pending jobs; 429 beyond
    int worker_sweep_age_s;        // worker.sweep_age_s: orphan audio older than this is removed
    int worker_sweep_interval_s;   // worker.sweep_interval_s: seconds between sweeps
    std::string model_root;        // speech.model_root: pocketsphinx models, one dir per language
    std::string live_socket;       // live.socket: the WebSocket daemon's unix socket (nginx)
    int live_decoders;             // live.decoders: decoder threads of `rostrum live`
    int live_max_hmms;             // live.max_hmms_per_frame: live search width (CPU vs WER)
    std::string live_allowed_origins;  // live.allowed_origins: comma-separated browser origins
    int live_max_message_bytes;        // live.max_message_bytes: a bigger message closes with 1009
    int live_idle_timeout_s;           // live.idle_timeout_s: no traffic (pongs count) → closed
    int live_max_stream_s;             // live.max_stream_s: longest /ws/transcribe stream (audio s)
    int live_max_sockets_per_user;     // live.max_sockets_per_user: more upgrades answer 429
    int live_send_queue_bytes;         // live.send_queue_bytes: a slower reader is closed (1008)
    bool scribe_require_consent;       // scribe.require_consent: scribe audio needs consent=true
    int scribe_retention_days;  // scribe.retention_days: scribe audio kept this long; 0 = ever
    int live_events_keep_s;     // live.events_keep_s: stored events older than this pruned
    int live_recheck_s;         // live.recheck_s: how often open sockets' users are re-checked
    int live_max_queued_s;      // live.max_queued_s: audio a stream may have waiting for its lane
    int live_max_ahead_s;       // live.max_ahead_s: audio beyond real time before 1008
    int live_max_streams;       // live.max_streams: open /ws/transcribe sockets (4 x decoders); 503

    int openai_max_wait_s;   // openai.max_wait_s: /v1/audio/transcriptions waits this long; 504
    int openai_max_waiting;  // openai.max_waiting: such requests at once per pool; 429 beyond
    int events_max_waiting;  // events.max_waiting: GET /events waits at once per pool
};

// openai.max_wait_s ends at least this long before api.request_timeout_s (checked at load).
constexpr int kOpenAiAnswerMarginS = 10;

// /ws/transcribe's sample_rate is at most this (vosk's range is 8000..48000).
constexpr int kLiveMaxSampleRate = 48000;
// The longest live.max_stream_s: a saved stream's WAV (44-byte header, 16-bit samples at up to
// kLiveMaxSampleRate) must keep its RIFF size field (data + 36) within 32 bits.
constexpr int kLiveMaxStreamSeconds =
    static_cast<int>((UINT32_MAX - 36ULL) / (2ULL * kLiveMaxSampleRate));  // 44739 s, 12.4 h

// A bad value: the message names the key and the value ("api.workers must be ...").
class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ConfigKey {
    const char* name;  // dotted key, e.g. "api.workers"; env ROSTRUM_API_WORKERS
    const char* help;
    bool secret;  // masked by check-config
};

// The table, for check-config and the README.
const std::vector<ConfigKey>& config_keys();

// Loads defaults, applies environment overrides, validates. With `prepare_secret`, then calls
// require_jwt_secret; without, the key file is not touched. Throws ConfigError.
Config load_config(bool prepare_secret);

// Fills c.jwt_secret from jwt.secret_file unless jwt.secret is set. The file must be the
// owner's alone (no group or other bits) and readable; it is generated (0600, written
// atomically, never over an existing file) only when it does not exist and `create`. Throws
// ConfigError: a key that cannot be read is never replaced, since that would log everyone out
// and hide the fault.
void load_jwt_secret(Config& c, bool create);
// load_jwt_secret(c, true), then refuses a key shorter than 32 bytes: what the api and live
// daemon call once they run as the service user.
void require_jwt_secret(Config& c);

// The daemons' login: db.app_url as given, or else db.url with its user replaced by
// db.app_role (`user` is then set: libpq's later keyword overrides the connection string's).
struct DbLogin {
    std::string conninfo;
    std::string user;  // empty: as conninfo says
};
DbLogin app_db_login(const Config& c);

// Where stored audio lives: data_dir/audio (uploads, live saves, CGI's X-Accel-Redirect).
std::string audio_dir(const Config& c);

// "key = value" lines with secrets masked.
std::string describe_config(const Config& c);

// The environment variable for a dotted key: "api.workers" → "ROSTRUM_API_WORKERS".
std::string env_name(const char* key);

}  // namespace core
