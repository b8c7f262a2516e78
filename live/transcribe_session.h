// /ws/transcribe: vosk-server's conversation. An optional {"config": ...}, binary PCM frames
// (each answered by exactly one partial or result, decoded on the stream's lane), {"eof": 1}
// for the final result; with save=1 the stream becomes a session and {"session_id"} comes
// before the close.
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "live/lane.h"
#include "live/ws_session.h"
#include "speech/stream.h"

namespace live {

class TranscribeSession : public WsSession {
  public:
    TranscribeSession(Server& srv, Local::socket sock, Identity who, std::optional<SaveTarget> save)
        : WsSession(srv, std::move(sock), std::move(who)), save_(std::move(save)) {}

  protected:
    void on_message(bool text, std::string_view data, Clock::time_point at) override;
    void on_gone() override;

  private:
    enum class State { configuring, streaming, ended };
    void on_control(std::string_view data, Clock::time_point at);
    void on_config(const cJSON* config);
    void on_audio(std::string_view data, Clock::time_point at);
    void on_eof(Clock::time_point at);
    void ensure_stream();
    void end_stream();
    void replied(const std::string& reply, const std::string& error, bool refused,
                 Clock::time_point at, bool final);
    void saved(const std::string& session_id, const std::string& error);

    std::optional<SaveTarget> save_;
    speech::StreamOptions opt_;
    State state_ = State::configuring;
    std::shared_ptr<LiveStream> stream_;
    size_t lane_ = 0;
    bool lane_taken_ = false;
    int64_t samples_ = 0;
};

}  // namespace live
