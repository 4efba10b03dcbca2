#include "server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

extern char** environ;

namespace coach::process_tests {
namespace {

constexpr std::string_view kListeningMarker = "listening on http://";

std::runtime_error SystemError(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

/// "... listening on http://127.0.0.1:40123 (...)" -> 40123.
std::optional<int> PortFromListeningLine(const std::string& text) {
  const auto marker = text.find(kListeningMarker);
  if (marker == std::string::npos) return std::nullopt;
  const auto line_end = text.find('\n', marker);
  if (line_end == std::string::npos) return std::nullopt;
  const std::string address = text.substr(marker + kListeningMarker.size(), line_end - marker);
  // The host may be an IPv6 literal in brackets, so the port is after the last colon before any space or slash.
  const auto address_end = address.find_first_of(" /)\n");
  const auto colon = address.rfind(':', address_end);
  if (colon == std::string::npos) return std::nullopt;
  int port = 0;
  std::size_t position = colon + 1;
  while (position < address.size() && address[position] >= '0' && address[position] <= '9') {
    port = port * 10 + (address[position] - '0');
    ++position;
  }
  if (position == colon + 1 || port <= 0 || port > 65535) return std::nullopt;
  return port;
}

ExitStatus DecodeWaitStatus(int status) {
  ExitStatus result;
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace

ServerProcess::ServerProcess(std::string binary, std::vector<std::string> arguments) {
  std::array<int, 2> stdout_pipe{};
  std::array<int, 2> stderr_pipe{};
  // O_CLOEXEC: a pipe inherited by another child (tests run several servers) would keep EOF from ever arriving.
  if (::pipe2(stdout_pipe.data(), O_CLOEXEC) != 0) throw SystemError("pipe2");
  if (::pipe2(stderr_pipe.data(), O_CLOEXEC) != 0) {
    ::close(stdout_pipe[0]);
    ::close(stdout_pipe[1]);
    throw SystemError("pipe2");
  }

  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary);
  for (auto& argument : arguments) argv_storage.push_back(std::move(argument));
  std::vector<char*> argv;
  for (auto& argument : argv_storage) argv.push_back(argument.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stderr_pipe[1], STDERR_FILENO);
  const int spawn_error = ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(stdout_pipe[1]);
  ::close(stderr_pipe[1]);
  if (spawn_error != 0) {
    ::close(stdout_pipe[0]);
    ::close(stderr_pipe[0]);
    errno = spawn_error;
    throw SystemError("posix_spawn " + binary);
  }
  reader_ = std::thread([this, out = stdout_pipe[0], err = stderr_pipe[0]] { DrainOutput(out, err); });
}

ServerProcess::~ServerProcess() {
  bool running = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running = !exit_status_.has_value();
  }
  if (running) Signal(SIGKILL);
  if (reader_.joinable()) reader_.join();
}

void ServerProcess::DrainOutput(int stdout_fd, int stderr_fd) {
  std::array<pollfd, 2> fds{pollfd{stdout_fd, POLLIN, 0}, pollfd{stderr_fd, POLLIN, 0}};
  std::array<char, 4096> buffer{};
  int open_count = 2;
  while (open_count > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t index = 0; index < fds.size(); ++index) {
      if (fds[index].fd < 0 || fds[index].revents == 0) continue;
      const ssize_t count = ::read(fds[index].fd, buffer.data(), buffer.size());
      if (count < 0 && errno == EINTR) continue;
      if (count <= 0) {
        ::close(fds[index].fd);
        fds[index].fd = -1;
        --open_count;
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (index == 0) stdout_text_.append(buffer.data(), static_cast<std::size_t>(count));
      combined_output_.append(buffer.data(), static_cast<std::size_t>(count));
      changed_.notify_all();
    }
  }
  for (const auto& entry : fds) {
    if (entry.fd >= 0) ::close(entry.fd);
  }
  // Wait without reaping first, so that Signal() (which holds the mutex) can never hit a recycled pid.
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  std::lock_guard<std::mutex> lock(mutex_);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = DecodeWaitStatus(status);
  changed_.notify_all();
}

std::optional<int> ServerProcess::WaitForPort(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<int> port;
  changed_.wait_for(lock, timeout, [&] {
    port = PortFromListeningLine(stdout_text_);
    return port.has_value() || exit_status_.has_value();
  });
  if (port) port_ = *port;
  return port;
}

void ServerProcess::Signal(int signal_number) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!exit_status_) ::kill(pid_, signal_number);
}

std::optional<ExitStatus> ServerProcess::WaitForExit(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return exit_status_.has_value(); });
  return exit_status_;
}

std::optional<ExitStatus> ServerProcess::Terminate(std::chrono::milliseconds timeout) {
  Signal(SIGTERM);
  return WaitForExit(timeout);
}

ExitStatus ServerProcess::Kill() {
  Signal(SIGKILL);
  // SIGKILL cannot be caught, so the wait ends; the bound only guards against a wedged kernel.
  auto status = WaitForExit(std::chrono::minutes(2));
  if (!status) throw std::runtime_error("child survived SIGKILL");
  return *status;
}

std::string ServerProcess::Output() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return combined_output_;
}

std::unique_ptr<httplib::Client> ServerProcess::MakeClient() const {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(std::chrono::seconds(10));
  client->set_read_timeout(std::chrono::seconds(60));
  client->set_write_timeout(std::chrono::seconds(60));
  return client;
}

TemporaryDirectory::TemporaryDirectory() {
  std::random_device random;
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("coachbot-process-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = std::move(candidate);
      return;
    }
  }
  throw std::runtime_error("could not create a temporary directory under " + base.string());
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string CoachbotBinary() {
  return COACHBOT_BINARY;
}

std::vector<std::string> ServeArguments(const std::filesystem::path& database, int port,
                                        const std::vector<std::string>& extra) {
  // Loopback only: a test server has no business on the machine's other interfaces.
  std::vector<std::string> arguments{"serve",
                                     "--host",
                                     "127.0.0.1",
                                     "--port",
                                     std::to_string(port),
                                     "--db",
                                     database.string(),
                                     "--content",
                                     COACH_SOURCE_DIR "/content",
                                     "--rate-limit",
                                     "0"};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return arguments;
}

bool WaitUntilHealthy(const ServerProcess& server, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto client = server.MakeClient();
  client->set_connection_timeout(std::chrono::seconds(1));
  client->set_read_timeout(std::chrono::seconds(5));
  while (std::chrono::steady_clock::now() < deadline) {
    auto response = client->Get("/healthz");
    if (response && response->status == 200) return true;
  }
  return false;
}

}  // namespace coach::process_tests
