#pragma once
// Counts netlink messages sent through libmnl at the real boundary: the
// netns binary is linked with -Wl,--wrap=mnl_socket_sendto, so every send of
// libipset (and of anything else on libmnl) passes through here first.
#include <cstddef>

namespace kipvs::test {
std::size_t netlink_sends();
}
