// /ws/transcribe: vosk-server's conversation. An optional {"config": ...}, binary PCM frames
// (each answered by exactly one partial or result, decoded on the stream's lane), {"eof": 1}
// for the final result; with save=1 the stream becomes a session and {"session_id"} comes
// before the close.
//
// Back-pressure: frames wait here, on the I/O thread, and ONE at a time is on the lane, so
// the lane's queue holds at most one frame per stream and its streams take turns whatever
// rate each sends (a stream ahead of real time cannot stall the others). Beyond
// live.max_queued_s of waiting audio the socket is not read (TCP holds the client back);
// a stream more than live.max_ahead_s ahead of real time is closed 1008.
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <deque>
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
    // `language` was checked at the upgrade (live/upgrade.h stream_language).
    TranscribeSession(Server& srv, Local::socket sock, Identity who, std::string language,
                      std::optional<SaveTarget> save)
        : WsSession(srv, std::move(sock), std::move(who)),
          language_(std::move(language)),
          save_(std::move(save)) {}

  protected:
    void on_message(bool text, std::string_view data, Clock::time_point at) override;
    void on_gone() override;
    bool wants_input() const override;

  private:
    enum class State { configuring, streaming, ended };
    void on_control(std::string_view data, Clock::time_point at);
    void on_config(const cJSON* config);
    void on_audio(std::string_view data, Clock::time_point at);
    void on_eof(Clock::time_point at);
    // A frame (or eof) received and not yet handed to the lane.
    struct Waiting {
        std::vector<int16_t> pcm;
        Clock::time_point at;
        bool eof = false;
        bool last = true;  // the frame's last slice: its reply goes out
    };
    void ensure_stream(Clock::time_point at);
    void end_stream();
    void pump();
    void post_frame(Waiting w);
    void post_eof(Clock::time_point at);
    void fail(bool refused, const std::string& reason, const std::string& detail);
    void replied(const std::string& reply, Clock::time_point at, bool final);
    void saved(const std::string& session_id, const std::string& error);

    std::string language_;
    std::optional<SaveTarget> save_;
    speech::StreamOptions opt_;
    State state_ = State::configuring;
    std::shared_ptr<LiveStream> stream_;
    size_t lane_ = 0;
    bool lane_taken_ = false;
    int64_t samples_ = 0;
    Clock::time_point started_;  // the first frame: "real time" counts from here
    std::deque<Waiting> waiting_;
    int64_t queued_samples_ = 0;  // waiting, plus the frame on the lane
    bool on_lane_ = false;        // a frame (or the eof) is being decoded
    bool eof_posted_ = false;     // the lane finishes (and saves) the stream
};

}  // namespace live
