#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chat_api_client.h"

namespace coach::process_tests {

/// One runner message as the client saw it.
struct SentMessage {
  std::string text;
  std::string client_message_id;
  int status_code = 0;  ///< 0: no HTTP answer
  std::vector<ChatReply> replies;
};

/// The client-side log of one session: what was acknowledged with 200, in order, and the one message (if any) that
/// was in flight when the server went away.
struct SessionLog {
  ChatSession session;
  std::vector<SentMessage> answered;
  std::optional<SentMessage> unanswered;
};

/// A turn of a transcript: one runner line and the bot lines stored right after it.
struct Turn {
  TranscriptLine user;
  std::vector<TranscriptLine> replies;
};

/// Splits a transcript into turns; the lines before the first runner line (the greeting) are left out.
std::vector<Turn> SplitIntoTurns(const std::vector<TranscriptLine>& transcript);

/// Compares a session's client log with its stored transcript. Every message answered 200 must be stored once, in
/// order, followed by exactly the replies the client got (same ids and texts). The in-flight message may be stored
/// (after the last answered one) only when `unanswered_may_be_stored`. Returns the problems found (empty: none).
std::vector<std::string> CompareWithTranscript(const SessionLog& log, const std::vector<TranscriptLine>& transcript,
                                               bool unanswered_may_be_stored);

/// What a runner types across a conversation (dialog answers, symptoms, free questions), cycled by the load.
const std::vector<std::string>& RunnerMessages();

/// Client threads that send runner messages to a live server, each thread over its own keep-alive connection and
/// its own sessions (round-robin, so every session's messages are sequential). A thread stops after
/// `max_messages_per_thread`, or at the first message not answered 200 (the server is stopping or gone).
class MessageLoad {
 public:
  MessageLoad(int port, int threads, int sessions_per_thread, int max_messages_per_thread);
  ~MessageLoad();
  MessageLoad(const MessageLoad&) = delete;
  MessageLoad& operator=(const MessageLoad&) = delete;

  /// Blocks until `count` messages were answered 200 (true), or every thread stopped or the timeout passed first.
  bool WaitForAnswered(long long count, std::chrono::milliseconds timeout);
  /// Waits for every thread; afterwards Logs() and SetupError() are final.
  void Join();
  long long AnsweredCount() const { return answered_total_.load(); }
  /// Number of threads that stopped because a message was not answered 200.
  int ThreadsCutOff() const;
  const std::vector<SessionLog>& Logs() const { return logs_; }
  /// Non-empty when a thread could not create its sessions.
  std::string SetupError() const;

 private:
  void RunThread(int thread_index, int sessions_per_thread, int max_messages);

  int port_;
  std::vector<SessionLog> logs_;
  std::vector<std::thread> threads_;
  std::atomic<long long> answered_total_{0};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int threads_running_ = 0;
  int threads_cut_off_ = 0;
  std::string setup_error_;
};

}  // namespace coach::process_tests
