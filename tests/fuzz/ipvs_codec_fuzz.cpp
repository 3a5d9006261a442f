// Any bytes as an IPVS netlink reply (after the nlmsghdr) either decode or
// are refused with an Error; nothing else may escape, crash or read past
// the message.
#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "error.hpp"
#include "kernel/ipvs_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 65000) return 0;
    // A heap buffer of exactly the message, so ASan sees any over-read.
    std::vector<std::uint8_t> message(NLMSG_HDRLEN + size);
    auto* header = reinterpret_cast<nlmsghdr*>(message.data());
    header->nlmsg_len = static_cast<std::uint32_t>(message.size());
    if (size > 0) std::memcpy(message.data() + NLMSG_HDRLEN, data, size);
    try {
        kipvs::kernel::ipvs_codec::decode(header, size % 2 ? kipvs::model::Family::v6 : kipvs::model::Family::v4);
    } catch (const kipvs::Error&) {
    }
    return 0;
}
