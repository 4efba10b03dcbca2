#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

namespace coach::process_tests {

/// How a child process ended.
struct ExitStatus {
  bool exited = false;  ///< returned from main or called exit()
  int code = -1;        ///< exit code when `exited`
  int signal = 0;       ///< the terminating signal otherwise
};

/// A server binary run as a child process, as an operator would run it: its stdout and stderr are drained by a
/// reader thread (so a chatty log can never block the child on a full pipe), the port is read from the first
/// stdout line ("... listening on http://host:port ..."), and it is stopped with SIGTERM or SIGKILL.
/// The destructor SIGKILLs a child that is still running, so a failed assertion never leaks a server.
class ServerProcess {
 public:
  /// Starts `binary` with `arguments` (argv[1..]); throws std::runtime_error when the spawn itself fails.
  ServerProcess(std::string binary, std::vector<std::string> arguments);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// Blocks until the "listening on" line arrives and returns its port; nullopt when the child exits or the
  /// timeout passes first (Output() then tells why).
  std::optional<int> WaitForPort(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// The port read by WaitForPort; 0 before.
  int Port() const { return port_; }

  /// Sends a signal (SIGTERM for a graceful stop, SIGKILL for a crash); no-op once the child was reaped.
  void Signal(int signal_number);
  /// Blocks until the child has exited (pipes closed and reaped); nullopt on timeout.
  std::optional<ExitStatus> WaitForExit(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// SIGTERM then WaitForExit.
  std::optional<ExitStatus> Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// SIGKILL then WaitForExit.
  ExitStatus Kill();

  /// Everything the child wrote to stdout and stderr so far, interleaved as read.
  std::string Output() const;
  pid_t Pid() const { return pid_; }

  /// A keep-alive client for this server (127.0.0.1:Port()) with generous timeouts.
  std::unique_ptr<httplib::Client> MakeClient() const;

 private:
  void DrainOutput(int stdout_fd, int stderr_fd);

  pid_t pid_ = -1;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string stdout_text_;
  std::string combined_output_;
  std::optional<ExitStatus> exit_status_;
  std::thread reader_;
};

/// A fresh directory under the system temp dir, removed with everything in it when the object goes away.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Arguments for `coachbot serve` on `port` (0: a free one), the given database, the repository's content and
/// no rate limits (the tests send everything from 127.0.0.1).
std::vector<std::string> ServeArguments(const std::filesystem::path& database, int port = 0,
                                        const std::vector<std::string>& extra = {});

/// Path of the coachbot binary under test (compile definition COACHBOT_BINARY).
std::string CoachbotBinary();

/// Polls GET /healthz until it answers 200 or the deadline passes.
bool WaitUntilHealthy(const ServerProcess& server, std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace coach::process_tests
