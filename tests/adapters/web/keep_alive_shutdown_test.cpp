#include "adapters/web/keep_alive_shutdown.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using coach::adapters::web::EndKeepAliveConnections;

namespace {

/// A socket descriptor closed at scope exit.
struct Socket {
  int fd = -1;
  explicit Socket(int descriptor) : fd(descriptor) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

int PortOf(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  return ntohs(address.sin_port);
}

int PeerPortOf(int accepted) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  REQUIRE(::getpeername(accepted, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  return ntohs(address.sin_port);
}

bool Every(const std::string&, int) {
  return true;
}

/// A listening socket on 127.0.0.1 and a port the kernel picks.
int ListenOnLoopback() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  return fd;
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

}  // namespace

TEST_CASE("accepted connections on the port see the end of the stream after what they already received",
          "[keep_alive_shutdown]") {
  Socket listener(ListenOnLoopback());
  const int port = PortOf(listener.fd);

  Socket idle_client(Connect(port));
  Socket idle(::accept(listener.fd, nullptr, nullptr));
  Socket busy_client(Connect(port));
  Socket busy(::accept(listener.fd, nullptr, nullptr));
  REQUIRE(::send(busy_client.fd, "GET", 3, 0) == 3);
  char byte = 0;
  REQUIRE(::recv(busy.fd, &byte, 1, MSG_PEEK) == 1);  // arrived before the shutdown

  Socket reading_client(Connect(port));
  Socket reading(::accept(listener.fd, nullptr, nullptr));
  const int reading_port = PeerPortOf(reading.fd);

  // Not the listener, not the clients (other local ports), not the connection the filter keeps; peers are named as
  // httplib names them.
  std::vector<std::string> addresses;
  CHECK(EndKeepAliveConnections(port, [&](const std::string& peer_address, int peer_port) {
          addresses.push_back(peer_address);
          return peer_port != reading_port;
        }) == 2);
  CHECK(addresses == std::vector<std::string>(3, "127.0.0.1"));
  REQUIRE(::send(reading_client.fd, "x", 1, 0) == 1);
  CHECK(::recv(reading.fd, &byte, 1, 0) == 1);  // still reading: a body arriving now is read

  char buffer[8] = {};
  CHECK(::recv(idle.fd, buffer, sizeof buffer, 0) == 0);  // the idle one: end of stream at once
  CHECK(::recv(busy.fd, buffer, sizeof buffer, 0) == 3);  // the request already received is still read
  CHECK(std::string(buffer, 3) == "GET");
  CHECK(::recv(busy.fd, buffer, sizeof buffer, 0) == 0);
  CHECK(::send(busy.fd, "200", 3, MSG_NOSIGNAL) == 3);  // and answered
  CHECK(::recv(busy_client.fd, buffer, sizeof buffer, 0) == 3);

  // The listener still accepts (what stops it is the server's own stop()).
  Socket late_client(Connect(port));
  Socket late(::accept(listener.fd, nullptr, nullptr));
  CHECK(late.fd >= 0);
}

TEST_CASE("connections on other ports are left alone", "[keep_alive_shutdown]") {
  Socket listener(ListenOnLoopback());
  const int port = PortOf(listener.fd);
  Socket client(Connect(port));
  Socket accepted(::accept(listener.fd, nullptr, nullptr));

  CHECK(EndKeepAliveConnections(port == 65535 ? 1 : port + 1, Every) == 0);
  REQUIRE(::send(client.fd, "x", 1, 0) == 1);
  char byte = 0;
  CHECK(::recv(accepted.fd, &byte, 1, 0) == 1);
}
