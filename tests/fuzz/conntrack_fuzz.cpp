// Any bytes as one ctnetlink dump entry (the nfgenmsg and attributes after
// a header whose length is the message's): decode_flow never throws nor
// reads past the message, and a flow it decodes encodes back (put_flow) to
// a message that decodes to the same flow.
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_property.hpp"
#include "kernel/conntrack.hpp"

namespace {

namespace codec = kipvs::kernel::conntrack_codec;

// put_flow writes ports only for the protocols that have them; ICMP's
// identity travels in other attributes.
void drop_portless_ports(kipvs::kernel::ConntrackTuple& t) {
    if (t.protocol == IPPROTO_TCP || t.protocol == IPPROTO_UDP || t.protocol == IPPROTO_SCTP) return;
    t.source_port = t.destination_port = 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using kipvs::fuzz::property;
    if (size > 65000) return 0;
    // A heap buffer of exactly the message, so ASan sees any over-read.
    std::vector<std::uint8_t> message(NLMSG_HDRLEN + size);
    auto* header = reinterpret_cast<nlmsghdr*>(message.data());
    header->nlmsg_len = static_cast<std::uint32_t>(message.size());
    if (size > 0) std::memcpy(message.data() + NLMSG_HDRLEN, data, size);
    auto flow = codec::decode_flow(header);
    if (!flow) return 0;

    for (auto* t : {&flow->original, &flow->reply}) {
        property(t->source.family == t->destination.family, "a tuple's two addresses are of one family");
        drop_portless_ports(*t);
    }
    alignas(nlmsghdr) char buf[codec::max_message_size] = {};
    nlmsghdr* encoded = codec::put_flow(buf, 0 /* IPCTNL_MSG_CT_NEW */, 0, 1, *flow, true);
    property(encoded->nlmsg_len <= sizeof buf, "an encoded flow fits max_message_size");
    auto again = codec::decode_flow(encoded);
    property(again.has_value(), "an encoded flow decodes");
    property(*again == *flow, "an encoded flow decodes to itself");
    return 0;
}
