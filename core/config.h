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
    std::string db_url;            // db.url: libpq connection string or URI
    int db_connect_timeout_s;      // db.connect_timeout_s
    int db_statement_timeout_ms;   // db.statement_timeout_ms
    std::string api_socket;        // api.socket: FastCGI unix socket path
    std::string api_socket_group;  // api.socket_group: group that may connect (nginx workers)
    int api_workers;               // api.workers (2 × cores)
    int api_max_requests;          // api.max_requests: recycle a worker after this many
    int api_request_timeout_s;     // api.request_timeout_s: the master kills a stuck worker
    int api_max_body_bytes;        // api.max_body_bytes: non-upload request bodies
    std::string jwt_secret;        // jwt.secret (or read from jwt.secret_file)
    std::string jwt_secret_file;   // jwt.secret_file: default <data_dir>/secrets/jwt.key
    std::string jwt_issuer;        // jwt.issuer
    std::string jwt_audience;      // jwt.audience
    int access_ttl_s;              // auth.access_ttl_s
    int refresh_ttl_s;             // auth.refresh_ttl_s
    bool cookie_secure;            // auth.cookie_secure
    std::string log_level;         // log.level: debug|info|warn|error
    int64_t upload_max_bytes;      // upload.max_bytes: 413 beyond (nginx and the app)
    int upload_max_seconds;        // upload.max_seconds: longer audio is refused
    int worker_threads;            // worker.threads: decoder threads of `rostrum worker`
    int worker_lease_s;            // worker.lease_s: a job's lease, renewed every third of it
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
    int live_events_keep_s;            // live.events_keep_s: stored events older than this pruned
    int live_recheck_s;     // live.recheck_s: how often open sockets' users are re-checked
    int live_max_queued_s;  // live.max_queued_s: audio a stream may have waiting for its lane
    int live_max_ahead_s;   // live.max_ahead_s: audio beyond real time before 1008
    int live_max_streams;   // live.max_streams: open /ws/transcribe sockets (4 x decoders); 503
};

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

// Loads defaults, applies environment overrides, validates. Reads or creates the JWT secret
// file when `prepare_secret` (the api does; check-config only reads). Throws ConfigError.
Config load_config(bool prepare_secret);

// "key = value" lines with secrets masked.
std::string describe_config(const Config& c);

// The environment variable for a dotted key: "api.workers" → "ROSTRUM_API_WORKERS".
std::string env_name(const char* key);

}  // namespace core
