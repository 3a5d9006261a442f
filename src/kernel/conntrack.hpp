#pragma once
// Netfilter conntrack, only as far as kube-proxy uses it: deleting the UDP
// flows that still point at an endpoint that went away (PARITY.md §3.4,
// Conntrack). UDP has no connection end, so without this a client that keeps
// its source port (a DNS resolver) is sent to the deleted endpoint until the
// entry times out.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel/netlink_socket.hpp"
#include "model/ip.hpp"

struct nlmsghdr;

namespace kipvs::kernel {

class ConntrackKernel {
public:
    virtual ~ConntrackKernel() = default;
    // Deletes the UDP entries whose original destination is
    // service_address:service_port and whose reply source is
    // endpoint:endpoint_port: what an IPVS-NATed flow looks like with
    // net/ipv4/vs/conntrack=1. Returns how many were deleted; an entry gone
    // meanwhile is not an error. Throws Error with context on a netlink failure.
    virtual std::size_t delete_udp_flows(const model::IpAddress& service_address, std::uint16_t service_port,
                                         const model::IpAddress& endpoint, std::uint16_t endpoint_port) = 0;
    // Deletes the UDP entries whose original destination is one of
    // `services` (VIP:port or node address:NodePort), whatever endpoint they
    // went to: what a deleted UDP virtual server leaves behind. kube-proxy
    // deletes the flows whose reply source is not a serving endpoint; a
    // service that is gone has none. One table read per family for the
    // whole batch. Returns how many were deleted; throws as above.
    virtual std::size_t delete_udp_service_flows(const std::vector<model::HostPort>& services) = 0;
};

// One direction of a conntrack entry.
struct ConntrackTuple {
    model::IpAddress source, destination;
    std::uint8_t protocol = 0;  // IPPROTO_*
    std::uint16_t source_port = 0, destination_port = 0;
    bool operator==(const ConntrackTuple&) const = default;
};

struct ConntrackFlow {
    ConntrackTuple original, reply;
    std::uint16_t zone = 0;
    bool operator==(const ConntrackFlow&) const = default;
};

// The UDP flows of `flows` whose original destination is one of `services`
// (the selection delete_udp_service_flows makes, shared with the fake).
std::vector<ConntrackFlow> udp_flows_to(const std::vector<ConntrackFlow>& flows,
                                        const std::vector<model::HostPort>& services);

// ctnetlink messages as values (the codec half of NetlinkConntrack, tested
// without a kernel).
namespace conntrack_codec {

// Space for one request: a header and a flow's two tuples with room to spare.
constexpr std::size_t max_message_size = 512;

// Writes an IPCTNL_MSG_CT_* message for `flow` into `buf`: the original
// tuple, the reply tuple when `with_reply`, and the zone when not 0.
nlmsghdr* put_flow(char* buf, std::uint8_t command, std::uint16_t flags, std::uint32_t seq,
                   const ConntrackFlow& flow, bool with_reply);
// Writes a dump request (IPCTNL_MSG_CT_GET, NLM_F_DUMP) for one family.
nlmsghdr* put_dump(char* buf, model::Family family, std::uint32_t seq);
// Decodes one entry of a dump; nullopt when it has no complete original and
// reply tuple (never throws on malformed input).
std::optional<ConntrackFlow> decode_flow(const nlmsghdr* message);

}  // namespace conntrack_codec

// The real ConntrackKernel over ctnetlink (NETLINK_NETFILTER, the
// nf_conntrack_netlink module). The socket is opened on first use, so that a
// kipvs that never deletes a UDP destination never needs the module.
class NetlinkConntrack final : public ConntrackKernel {
public:
    NetlinkConntrack();
    ~NetlinkConntrack() override;
    NetlinkConntrack(const NetlinkConntrack&) = delete;
    NetlinkConntrack& operator=(const NetlinkConntrack&) = delete;

    std::size_t delete_udp_flows(const model::IpAddress& service_address, std::uint16_t service_port,
                                 const model::IpAddress& endpoint, std::uint16_t endpoint_port) override;
    std::size_t delete_udp_service_flows(const std::vector<model::HostPort>& services) override;

    // Every entry of one family's table.
    std::vector<ConntrackFlow> dump(model::Family family);
    // Deletes each flow by its original tuple; returns how many the kernel
    // deleted (ENOENT, already gone, is not counted and not an error).
    std::size_t remove(const std::vector<ConntrackFlow>& flows);

private:
    void open();
    void send(const void* data, std::size_t length, const std::string& what);
    std::size_t receive(const std::string& what);

    MnlSocket socket_;
    std::uint32_t port_id_ = 0;
    std::uint32_t seq_ = 0;
    std::vector<char> receive_buffer_;
    std::vector<char> send_buffer_;
};

}  // namespace kipvs::kernel
