#include "kernel/netlink_socket.hpp"

#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

namespace kipvs::kernel {
namespace {

void set_buffer(mnl_socket* s, int bytes, int force_option, int option) {
    int fd = mnl_socket_get_fd(s);
    // The FORCE variants exceed net.core.[rw]mem_max, with CAP_NET_ADMIN.
    if (setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) != 0)
        setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
}

}  // namespace

void MnlSocketCloser::operator()(mnl_socket* s) const { mnl_socket_close(s); }

std::string errno_text(int err) {
    std::string out = std::strerror(err);
    out += " (errno ";
    out += std::to_string(err);
    out += ')';
    return out;
}

MnlSocket open_netlink_socket(const NetlinkSocketOptions& o) {
    std::string label(o.label);
    MnlSocket s(mnl_socket_open(o.bus));
    if (!s) {
        int err = errno;
        std::string message = label;
        message += ": cannot open a ";
        message += o.bus_name;
        message += " netlink socket: ";
        message += errno_text(err);
        throw NetlinkOpenError(message, err);
    }
    if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        throw Error(label + ": cannot bind the netlink socket: " + errno_text(errno));
    set_buffer(s.get(), o.buffer_bytes, SO_RCVBUFFORCE, SO_RCVBUF);
    if (o.send_buffer) set_buffer(s.get(), o.buffer_bytes, SO_SNDBUFFORCE, SO_SNDBUF);
    int one = 1;
    mnl_socket_setsockopt(s.get(), NETLINK_CAP_ACK, &one, sizeof one);
    timeval timeout{o.receive_timeout_seconds, 0};
    setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return s;
}

}  // namespace kipvs::kernel
