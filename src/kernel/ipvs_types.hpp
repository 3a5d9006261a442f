#pragma once
// The IPVS table as plain values: one struct per netlink message body
// (PARITY.md §7). The codec encodes and decodes exactly these; the
// reconciler, the fake and `kipvs dump` share them.
#include <cstdint>
#include <string>
#include <vector>

#include "model/ip.hpp"

namespace kipvs::kernel {

enum class Protocol : std::uint16_t { none = 0, tcp = 6, udp = 17, sctp = 132 };

// Service flag bits as the kernel defines them (IP_VS_SVC_F_*). HASHED is
// kernel bookkeeping: the decoder strips it and the encoder never sends it.
namespace service_flags {
inline constexpr std::uint32_t persistent = 0x0001;
inline constexpr std::uint32_t hashed = 0x0002;
inline constexpr std::uint32_t one_packet = 0x0004;
inline constexpr std::uint32_t sched1 = 0x0008;  // sh-fallback / mh-fallback
inline constexpr std::uint32_t sched2 = 0x0010;  // sh-port / mh-port
inline constexpr std::uint32_t sched3 = 0x0020;
}  // namespace service_flags

// Counters and rates; filled from STATS64 when the kernel sends it, else
// from the legacy 32-bit nest.
struct Stats64 {
    std::uint64_t conns = 0, in_packets = 0, out_packets = 0, in_bytes = 0, out_bytes = 0;
    std::uint64_t cps = 0, in_pps = 0, out_pps = 0, in_bps = 0, out_bps = 0;
    bool operator==(const Stats64&) const = default;
};

struct VirtualServer {
    model::Family family = model::Family::v4;
    // Identity: either fwmark (non-zero), or protocol + address + port.
    Protocol protocol = Protocol::tcp;
    model::IpAddress address;
    std::uint16_t port = 0;
    std::uint32_t fwmark = 0;

    std::string scheduler = "rr";
    std::uint32_t flags = 0;    // service_flags, never hashed
    std::uint32_t timeout = 0;  // persistence, seconds
    // Persistence granularity as a prefix length; 0 means the whole
    // address (/32 or /128), which is what the kernel defaults to.
    std::uint8_t netmask = 0;
    std::string pe_name;  // persistence engine, e.g. "sip"

    Stats64 stats;  // read only

    // Same service (the key the kernel looks it up by).
    bool same_key(const VirtualServer& o) const {
        if (family != o.family || fwmark != o.fwmark) return false;
        return fwmark != 0 || (protocol == o.protocol && address == o.address && port == o.port);
    }
    std::string describe() const;  // "TCP 10.96.0.10:80", "FWM 5 IPv6"
    bool operator==(const VirtualServer&) const = default;
};

enum class Forwarding : std::uint32_t { masquerade = 0, local = 1, tunnel = 2, direct_route = 3, bypass = 4 };
enum class TunnelType : std::uint8_t { ipip = 0, gue = 1, gre = 2 };
namespace tunnel_flags {
inline constexpr std::uint16_t nocsum = 0;
inline constexpr std::uint16_t csum = 1 << 0;
inline constexpr std::uint16_t remcsum = 1 << 1;
}  // namespace tunnel_flags

struct RealServer {
    // The address's family may differ from the service's only with tunnel forwarding.
    model::IpAddress address;
    std::uint16_t port = 0;
    std::uint32_t weight = 1;
    Forwarding forwarding = Forwarding::masquerade;
    std::uint32_t upper_threshold = 0;  // 0 = none
    std::uint32_t lower_threshold = 0;
    TunnelType tunnel_type = TunnelType::ipip;
    std::uint16_t tunnel_port = 0;
    std::uint16_t tunnel_flags = 0;

    // Read only.
    std::uint32_t active_conns = 0, inactive_conns = 0, persist_conns = 0;
    Stats64 stats;

    bool same_key(const RealServer& o) const { return address == o.address && port == o.port; }
    std::string describe() const;  // "10.244.1.2:80", "[fd00::2]:80"
    bool operator==(const RealServer&) const = default;
};

struct ServiceTable {
    VirtualServer service;
    std::vector<RealServer> destinations;
    bool operator==(const ServiceTable&) const = default;
};

struct IpvsInfo {
    std::uint32_t version = 0;  // 0x010201 is 1.2.1
    std::uint32_t conn_table_size = 0;
    bool operator==(const IpvsInfo&) const = default;
};

// Global connection timeouts, seconds; 0 in a set means "leave unchanged".
struct IpvsTimeouts {
    std::uint32_t tcp = 0, tcp_fin = 0, udp = 0;
    bool operator==(const IpvsTimeouts&) const = default;
};

std::string_view protocol_name(Protocol protocol);  // "TCP", "UDP", "SCTP"
// "10.96.0.10:80", "[fd00::1]:80": how ipvsadm and kipvs print an endpoint.
std::string host_port(const model::IpAddress& address, std::uint16_t port);

}  // namespace kipvs::kernel
