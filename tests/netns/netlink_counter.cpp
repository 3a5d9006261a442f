#include "netlink_counter.hpp"

#include <libmnl/libmnl.h>

#include <atomic>

namespace {
std::atomic<std::size_t> sends{0};
}

extern "C" ssize_t __real_mnl_socket_sendto(const struct mnl_socket* nl, const void* buf, size_t len);

extern "C" ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket* nl, const void* buf, size_t len) {
    ++sends;
    return __real_mnl_socket_sendto(nl, buf, len);
}

namespace kipvs::test {
std::size_t netlink_sends() { return sends.load(); }
}  // namespace kipvs::test
