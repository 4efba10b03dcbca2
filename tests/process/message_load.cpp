#include "message_load.h"

#include <sstream>

namespace coach::process_tests {

const std::vector<std::string>& RunnerMessages() {
  static const std::vector<std::string> messages{
      "my back hurts when I run",
      "no",
      "no",
      "it's my lower back, only on the left side",
      "about two weeks",
      "3/10",
      "can worn out trainers give you back pain?",
      "I'm a beginner, running 20 km a week",
      "is a lumbar belt a good idea?",
      "no numbness, no tingling, no bladder problems",
      "how long until I can run normally again?",
      "I want a plan",
  };
  return messages;
}

std::vector<Turn> SplitIntoTurns(const std::vector<TranscriptLine>& transcript) {
  std::vector<Turn> turns;
  for (const auto& line : transcript) {
    if (line.author == "user") {
      turns.push_back(Turn{line, {}});
    } else if (!turns.empty()) {
      turns.back().replies.push_back(line);
    }
  }
  return turns;
}

std::vector<std::string> CompareWithTranscript(const SessionLog& log, const std::vector<TranscriptLine>& transcript,
                                               bool unanswered_may_be_stored) {
  std::vector<std::string> problems;
  const auto problem = [&](const std::string& text) { problems.push_back("session " + log.session.id + ": " + text); };
  for (std::size_t index = 1; index < transcript.size(); ++index) {
    if (transcript[index].id <= transcript[index - 1].id) problem("transcript ids not increasing");
  }
  const auto turns = SplitIntoTurns(transcript);
  const std::size_t answered = log.answered.size();
  const bool extra_allowed = unanswered_may_be_stored && log.unanswered.has_value();
  if (turns.size() < answered || turns.size() > answered + (extra_allowed ? 1 : 0)) {
    std::ostringstream text;
    text << turns.size() << " runner lines stored, " << answered << " answered 200"
         << (log.unanswered ? " plus one in flight" : "");
    problem(text.str());
  }
  for (std::size_t index = 0; index < std::min(answered, turns.size()); ++index) {
    const auto& sent = log.answered[index];
    const auto& turn = turns[index];
    if (turn.user.text != sent.text) {
      problem("runner line " + std::to_string(index) + " is \"" + turn.user.text + "\", sent \"" + sent.text + "\"");
      continue;
    }
    if (turn.replies.size() != sent.replies.size()) {
      problem("runner line " + std::to_string(index) + " has " + std::to_string(turn.replies.size()) +
              " stored replies, the answer had " + std::to_string(sent.replies.size()));
      continue;
    }
    for (std::size_t reply = 0; reply < sent.replies.size(); ++reply) {
      if (turn.replies[reply].id != sent.replies[reply].id || turn.replies[reply].text != sent.replies[reply].text) {
        problem("reply " + std::to_string(reply) + " to runner line " + std::to_string(index) +
                " differs from the answer (id " + std::to_string(turn.replies[reply].id) + " vs " +
                std::to_string(sent.replies[reply].id) + ")");
      }
    }
  }
  if (turns.size() == answered + 1 && log.unanswered && turns.back().user.text != log.unanswered->text) {
    problem("the extra runner line is not the message that was in flight");
  }
  return problems;
}

MessageLoad::MessageLoad(int port, int threads, int sessions_per_thread, int max_messages_per_thread)
    : port_(port), logs_(static_cast<std::size_t>(threads * sessions_per_thread)) {
  threads_running_ = threads;
  for (int index = 0; index < threads; ++index) {
    threads_.emplace_back([this, index, sessions_per_thread, max_messages_per_thread] {
      RunThread(index, sessions_per_thread, max_messages_per_thread);
    });
  }
}

MessageLoad::~MessageLoad() {
  Join();
}

void MessageLoad::Join() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void MessageLoad::RunThread(int thread_index, int sessions_per_thread, int max_messages) {
  ChatApiClient client(port_);
  const auto first = static_cast<std::size_t>(thread_index * sessions_per_thread);
  bool cut_off = false;
  std::string error;
  for (int index = 0; index < sessions_per_thread; ++index) {
    auto session = client.CreateSession();
    if (!session) {
      error = "thread " + std::to_string(thread_index) + " could not create a session";
      break;
    }
    logs_[first + static_cast<std::size_t>(index)].session = *session;
  }
  const auto& messages = RunnerMessages();
  for (int sequence = 0; error.empty() && sequence < max_messages; ++sequence) {
    auto& log = logs_[first + static_cast<std::size_t>(sequence % sessions_per_thread)];
    SentMessage message;
    message.text = messages[log.answered.size() % messages.size()];
    message.client_message_id = "load-" + std::to_string(thread_index) + "-" + std::to_string(sequence);
    auto outcome = client.Send(log.session, message.text, message.client_message_id);
    message.status_code = outcome.status_code;
    if (outcome.status_code != 200) {
      log.unanswered = std::move(message);
      cut_off = true;
      break;
    }
    message.replies = std::move(outcome.replies);
    log.answered.push_back(std::move(message));
    ++answered_total_;
    std::lock_guard<std::mutex> lock(mutex_);
    changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  --threads_running_;
  if (cut_off) ++threads_cut_off_;
  if (!error.empty()) setup_error_ = error;
  changed_.notify_all();
}

bool MessageLoad::WaitForAnswered(long long count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return answered_total_.load() >= count || threads_running_ == 0; });
  return answered_total_.load() >= count && threads_running_ > 0;
}

int MessageLoad::ThreadsCutOff() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_cut_off_;
}

std::string MessageLoad::SetupError() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return setup_error_;
}

}  // namespace coach::process_tests
