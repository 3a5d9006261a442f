#pragma once
// Netfilter conntrack, only as far as kube-proxy uses it: deleting the UDP
// flows of a service that are not answered by one of its serving endpoints
// (PARITY.md §3.4, Conntrack). UDP has no connection end, so without this a
// client that keeps its source port (a DNS resolver) is sent to a gone
// endpoint, or to nowhere, until the entry times out.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/netlink_socket.hpp"
#include "model/ip.hpp"

struct nlmsghdr;

namespace kipvs::kernel {

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

// kube-proxy's UDP conntrack sweep for one family (PARITY.md §3.4,
// Conntrack; upstream pkg/proxy/conntrack/cleanup.go), as the reconciler
// derives it from the plan: who serves each UDP frontend now.
struct UdpFlowSweep {
    using Address = std::pair<model::IpAddress, std::uint16_t>;  // address:port
    // A ClusterIP, externalIP or LB IP with its port -> the endpoints its
    // virtual server sends to. A flow to it answered by anyone else goes.
    std::map<Address, std::set<Address>> services;
    // A UDP NodePort -> the endpoints of its virtual servers: matched on
    // the port alone, whatever node address the flow went to.
    std::map<std::uint16_t, std::set<Address>> node_ports;
    // Deleted UDP virtual servers: every flow to them goes.
    std::set<Address> removed;
    bool empty() const { return services.empty() && node_ports.empty() && removed.empty(); }
};

// The UDP flows of `flows` the sweep deletes: original destination in
// `removed`; or in `services` (address and port) or `node_ports` (port) with
// a reply source that is not one of its endpoints. A frontend without
// endpoints keeps its flows, as upstream: there is nothing better to send
// them to, and they go once an endpoint appears. The reply source is
// compared with port, where upstream compares the address only: a
// targetPort change leaves no flow on the old port.
std::vector<ConntrackFlow> stale_udp_flows(const std::vector<ConntrackFlow>& flows, const UdpFlowSweep& sweep);

class ConntrackKernel {
public:
    virtual ~ConntrackKernel() = default;
    // Reads the family's table once and deletes what stale_udp_flows
    // selects, in batches. Returns how many the kernel deleted; an entry
    // gone meanwhile is not an error. Throws Error with context on a netlink
    // failure.
    virtual std::size_t sweep_udp_flows(model::Family family, const UdpFlowSweep& sweep) = 0;
};

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
// kipvs without UDP services never needs the module.
class NetlinkConntrack final : public ConntrackKernel {
public:
    NetlinkConntrack();
    ~NetlinkConntrack() override;
    NetlinkConntrack(const NetlinkConntrack&) = delete;
    NetlinkConntrack& operator=(const NetlinkConntrack&) = delete;

    std::size_t sweep_udp_flows(model::Family family, const UdpFlowSweep& sweep) override;

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
