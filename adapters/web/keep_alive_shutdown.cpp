#include "adapters/web/keep_alive_shutdown.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <vector>

namespace coach::adapters::web {
namespace {

int LocalPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return -1;
}

struct Peer {
  std::string address;  ///< empty: not an accepted TCP connection
  int port = 0;
};

/// The peer of `fd` when it is an accepted (connected, not listening) TCP socket.
Peer AcceptedConnectionPeer(int fd) {
  int type = 0;
  int listening = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) return {};
  length = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening != 0) return {};
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) return {};
  // The way httplib names the peer (getnameinfo, numeric), so that keys match Request::remote_addr.
  char host[NI_MAXHOST] = {};
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&peer), peer_length, host, sizeof host, nullptr, 0, NI_NUMERICHOST) !=
      0) {
    return {};
  }
  int port = 0;
  if (peer.ss_family == AF_INET) port = ntohs(reinterpret_cast<const sockaddr_in&>(peer).sin_port);
  if (peer.ss_family == AF_INET6) port = ntohs(reinterpret_cast<const sockaddr_in6&>(peer).sin6_port);
  return Peer{host, port};
}

}  // namespace

std::size_t EndKeepAliveConnections(int local_port,
                                    const std::function<bool(const std::string& address, int port)>& should_end) {
  // The descriptors first, then the calls: the directory stream has a descriptor of its own.
  std::vector<int> descriptors;
  if (DIR* directory = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(directory)) {
      if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
      descriptors.push_back(std::atoi(entry->d_name));
    }
    ::closedir(directory);
  }
  std::size_t ended = 0;
  for (const int fd : descriptors) {
    struct stat status {};
    if (::fstat(fd, &status) != 0 || !S_ISSOCK(status.st_mode)) continue;
    if (LocalPort(fd) != local_port) continue;
    const Peer peer = AcceptedConnectionPeer(fd);
    if (peer.address.empty() || !should_end(peer.address, peer.port)) continue;
    if (::shutdown(fd, SHUT_RD) == 0) ++ended;
  }
  return ended;
}

}  // namespace coach::adapters::web
