#pragma once
// IPVS generic-netlink messages <-> the values in ipvs_types.hpp
// (PARITY.md §7). Pure: no socket, so it is unit-tested without root.
//
// Each put_* appends to a message the caller has started with
// start_message(); decode() is their inverse and throws Error on a
// malformed message (netlink replies are outside input).
#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "kernel/ipvs.hpp"
#include "kernel/ipvs_types.hpp"

namespace kipvs::kernel::ipvs_codec {

// Room for the largest single request (a destination op) with margin.
inline constexpr std::size_t max_message_size = 512;

// key: the lookup key only (delete, get, the service of a destination op).
// request: everything the kernel needs to create or edit.
// reply: what the kernel sends back (16-byte addresses, HASHED set, counters):
//        lets tests and the fuzzer hand the decoder kernel-shaped input.
enum class Encoding { key, request, reply };

// Starts a genetlink message (nlmsghdr + genlmsghdr, version 1) in buf,
// which must hold max_message_size bytes.
nlmsghdr* start_message(void* buf, std::uint16_t family_id, std::uint8_t command, std::uint16_t flags,
                        std::uint32_t seq);

void put_service(nlmsghdr* message, const VirtualServer& service, Encoding encoding);
void put_destination(nlmsghdr* message, const RealServer& destination, Encoding encoding);
void put_timeouts(nlmsghdr* message, const IpvsTimeouts& timeouts);
void put_info(nlmsghdr* message, const IpvsInfo& info);

// The whole request for one operation: NEW/SET/DEL_SERVICE or _DEST, with ACK.
nlmsghdr* put_operation(void* buf, std::uint16_t family_id, const IpvsOp& op, std::uint32_t seq);

struct IpvsMessage {
    std::uint8_t command = 0;
    std::optional<VirtualServer> service;
    std::optional<RealServer> destination;
    std::optional<IpvsTimeouts> timeouts;
    std::optional<IpvsInfo> info;
};

// destination_family: the family a destination has when the kernel omits
// IPVS_DEST_ATTR_ADDR_FAMILY (kernels before 3.18): its service's.
IpvsMessage decode(const nlmsghdr* message, model::Family destination_family = model::Family::v4);

}  // namespace kipvs::kernel::ipvs_codec
