#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace coach::adapters::web {

/// Ends the reading side of every accepted TCP connection of this process whose local port is `local_port` (not the
/// listening socket itself) and whose peer `should_end` accepts (its address as cpp-httplib writes
/// Request::remote_addr, numeric, and its port), so that a worker waiting for the next request on an idle keep-alive
/// connection sees the end of the stream at once. cpp-httplib 0.11's stop() only closes the listening socket: each idle
/// keep-alive connection kept its worker, and so the server's shutdown, for up to the keep-alive timeout. Bytes already
/// received are still read (Linux delivers queued data before the end of stream) and writing is not affected, but a
/// body still on its way would be cut: the caller leaves out the connections whose request is being read. Finds the
/// sockets through /proc/self/fd (Linux). Returns how many connections it ended.
std::size_t EndKeepAliveConnections(int local_port,
                                    const std::function<bool(const std::string& address, int port)>& should_end);

}  // namespace coach::adapters::web
