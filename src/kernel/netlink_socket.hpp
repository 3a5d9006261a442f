#pragma once
// The long-lived libmnl sockets kipvs writes the kernel through (IPVS over
// generic netlink, conntrack over netfilter netlink), opened one way: large
// buffers, error ACKs without a copy of the request (matched by sequence
// number), and a receive timeout so a reply the kernel never sends becomes
// an error, not a hang.
#include <memory>
#include <string>
#include <string_view>

#include "error.hpp"

struct mnl_socket;

namespace kipvs::kernel {

struct MnlSocketCloser {
    void operator()(mnl_socket* s) const;
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlSocketCloser>;

// "Operation not permitted (errno 1)"
std::string errno_text(int err);

// The socket could not be opened; `error` is the errno, for callers that
// explain particular ones.
class NetlinkOpenError : public Error {
public:
    NetlinkOpenError(const std::string& message, int err) : Error(message), error(err) {}
    int error;
};

struct NetlinkSocketOptions {
    int bus = 0;                   // NETLINK_GENERIC, NETLINK_NETFILTER
    std::string_view label;        // "IPVS", "conntrack": starts every message
    std::string_view bus_name;     // "generic", "netfilter"
    int buffer_bytes = 0;
    bool send_buffer = false;      // also enlarge the send buffer
    int receive_timeout_seconds = 30;
};

// Opens and binds the socket; throws NetlinkOpenError if it cannot be
// opened and Error if it cannot be bound.
MnlSocket open_netlink_socket(const NetlinkSocketOptions& options);

}  // namespace kipvs::kernel
