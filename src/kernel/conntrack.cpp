#include "kernel/conntrack.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "error.hpp"

namespace kipvs::kernel {
namespace {

constexpr std::size_t receive_buffer_size = 256 * 1024;
// Deletes per sendmsg; each ACK costs the receive buffer about 1 KiB.
constexpr std::size_t batch_messages = 256;
constexpr int socket_buffer_bytes = 4 * 1024 * 1024;
constexpr int dump_attempts = 5;
constexpr int receive_timeout_seconds = 30;

// Appends its parts: gcc 12 warns falsely (-Wrestrict) on "text" + std::string.
template <typename... Parts>
std::string join(const Parts&... parts) {
    std::string out;
    (out += ... += parts);
    return out;
}


std::string flow_text(const ConntrackTuple& t) {
    std::string out = "udp ";
    out += t.source.to_string();
    out += ':';
    out += std::to_string(t.source_port);
    out += " -> ";
    out += t.destination.to_string();
    out += ':';
    out += std::to_string(t.destination_port);
    return out;
}

std::uint8_t address_family(model::Family family) { return family == model::Family::v4 ? AF_INET : AF_INET6; }

// Attributes inside `nest`, by type (the last of a type wins); a payload
// shorter than the kernel's for that type is left out.
template <std::size_t N>
void nested(const nlattr* nest, const nlattr* (&out)[N]) {
    std::fill(std::begin(out), std::end(out), nullptr);
    auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
    int left = static_cast<int>(mnl_attr_get_payload_len(nest));
    for (; mnl_attr_ok(a, left); left -= NLA_ALIGN(a->nla_len), a = mnl_attr_next(a)) {
        std::uint16_t type = mnl_attr_get_type(a);
        if (type < N) out[type] = a;
    }
}

std::optional<model::IpAddress> address_of(const nlattr* a, model::Family family) {
    std::size_t size = family == model::Family::v4 ? 4 : 16;
    if (a == nullptr || mnl_attr_get_payload_len(a) < size) return std::nullopt;
    model::IpAddress ip;
    ip.family = family;
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), size);
    return ip;
}

std::optional<std::uint16_t> port_of(const nlattr* a) {
    if (a == nullptr || mnl_attr_get_payload_len(a) < sizeof(std::uint16_t)) return std::nullopt;
    return ntohs(mnl_attr_get_u16(a));
}

std::optional<ConntrackTuple> decode_tuple(const nlattr* tuple) {
    if (tuple == nullptr) return std::nullopt;
    const nlattr* parts[CTA_TUPLE_MAX + 1];
    nested(tuple, parts);
    if (parts[CTA_TUPLE_IP] == nullptr || parts[CTA_TUPLE_PROTO] == nullptr) return std::nullopt;
    const nlattr* ip[CTA_IP_MAX + 1];
    nested(parts[CTA_TUPLE_IP], ip);
    const nlattr* proto[CTA_PROTO_MAX + 1];
    nested(parts[CTA_TUPLE_PROTO], proto);

    ConntrackTuple t;
    bool v4 = ip[CTA_IP_V4_SRC] != nullptr || ip[CTA_IP_V4_DST] != nullptr;
    model::Family family = v4 ? model::Family::v4 : model::Family::v6;
    auto source = address_of(ip[v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], family);
    auto destination = address_of(ip[v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST], family);
    if (!source || !destination) return std::nullopt;
    t.source = *source;
    t.destination = *destination;
    if (proto[CTA_PROTO_NUM] == nullptr || mnl_attr_get_payload_len(proto[CTA_PROTO_NUM]) < 1) return std::nullopt;
    t.protocol = mnl_attr_get_u8(proto[CTA_PROTO_NUM]);
    // Portless protocols (ICMP) have no ports: they stay 0.
    t.source_port = port_of(proto[CTA_PROTO_SRC_PORT]).value_or(0);
    t.destination_port = port_of(proto[CTA_PROTO_DST_PORT]).value_or(0);
    return t;
}

void put_tuple(nlmsghdr* m, std::uint16_t type, const ConntrackTuple& t) {
    nlattr* tuple = mnl_attr_nest_start(m, type);
    nlattr* ip = mnl_attr_nest_start(m, CTA_TUPLE_IP);
    bool v4 = t.source.family == model::Family::v4;
    mnl_attr_put(m, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, t.source.size(), t.source.bytes.data());
    mnl_attr_put(m, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, t.destination.size(), t.destination.bytes.data());
    mnl_attr_nest_end(m, ip);
    nlattr* proto = mnl_attr_nest_start(m, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(m, CTA_PROTO_NUM, t.protocol);
    if (t.protocol == IPPROTO_UDP || t.protocol == IPPROTO_TCP || t.protocol == IPPROTO_SCTP) {
        mnl_attr_put_u16(m, CTA_PROTO_SRC_PORT, htons(t.source_port));
        mnl_attr_put_u16(m, CTA_PROTO_DST_PORT, htons(t.destination_port));
    }
    mnl_attr_nest_end(m, proto);
    mnl_attr_nest_end(m, tuple);
}

nlmsghdr* start(char* buf, std::uint8_t command, std::uint16_t flags, std::uint32_t seq, model::Family family) {
    nlmsghdr* m = mnl_nlmsg_put_header(buf);
    m->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | command);
    m->nlmsg_flags = flags;
    m->nlmsg_seq = seq;
    auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(m, sizeof(nfgenmsg)));
    g->nfgen_family = address_family(family);
    g->version = NFNETLINK_V0;
    g->res_id = 0;
    return m;
}

// The errors a kernel without ctnetlink answers with: no netfilter netlink
// at all, or no conntrack subsystem registered in it (nfnetlink answers
// EINVAL for a subsystem it could not load).
bool unavailable(int err) { return err == EPROTONOSUPPORT || err == EINVAL || err == EOPNOTSUPP; }

std::string unavailable_hint(int err) {
    std::string out = "conntrack netlink not available: is the nf_conntrack_netlink module loaded? (";
    out += errno_text(err);
    out += ')';
    return out;
}

// Thrown inside a dump when the socket overran: the dump starts again.
struct Overrun {};

}  // namespace

namespace conntrack_codec {

nlmsghdr* put_flow(char* buf, std::uint8_t command, std::uint16_t flags, std::uint32_t seq,
                   const ConntrackFlow& flow, bool with_reply) {
    nlmsghdr* m = start(buf, command, flags, seq, flow.original.source.family);
    put_tuple(m, CTA_TUPLE_ORIG, flow.original);
    if (with_reply) put_tuple(m, CTA_TUPLE_REPLY, flow.reply);
    if (flow.zone != 0) mnl_attr_put_u16(m, CTA_ZONE, htons(flow.zone));
    return m;
}

nlmsghdr* put_dump(char* buf, model::Family family, std::uint32_t seq) {
    return start(buf, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, seq, family);
}

std::optional<ConntrackFlow> decode_flow(const nlmsghdr* message) {
    if (message->nlmsg_len < NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg))) return std::nullopt;
    const nlattr* top[CTA_MAX + 1] = {};
    auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, sizeof(nfgenmsg)));
    int left = static_cast<int>(message->nlmsg_len) - static_cast<int>(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)));
    for (; mnl_attr_ok(a, left); left -= NLA_ALIGN(a->nla_len), a = mnl_attr_next(a)) {
        std::uint16_t type = mnl_attr_get_type(a);
        if (type <= CTA_MAX) top[type] = a;
    }
    auto original = decode_tuple(top[CTA_TUPLE_ORIG]);
    auto reply = decode_tuple(top[CTA_TUPLE_REPLY]);
    if (!original || !reply) return std::nullopt;
    ConntrackFlow flow{*original, *reply, 0};
    if (top[CTA_ZONE] != nullptr && mnl_attr_get_payload_len(top[CTA_ZONE]) >= sizeof(std::uint16_t))
        flow.zone = ntohs(mnl_attr_get_u16(top[CTA_ZONE]));
    return flow;
}

}  // namespace conntrack_codec

NetlinkConntrack::NetlinkConntrack() = default;
NetlinkConntrack::~NetlinkConntrack() = default;

void NetlinkConntrack::open() {
    if (socket_) return;
    MnlSocket s;
    try {
        s = open_netlink_socket(
            {NETLINK_NETFILTER, "conntrack", "netfilter", socket_buffer_bytes, false, receive_timeout_seconds});
    } catch (const NetlinkOpenError& e) {
        if (unavailable(e.error)) throw Error(unavailable_hint(e.error));
        throw;
    }
    port_id_ = mnl_socket_get_portid(s.get());
    receive_buffer_.resize(receive_buffer_size);
    socket_ = std::move(s);
}

void NetlinkConntrack::send(const void* data, std::size_t length, const std::string& what) {
    if (mnl_socket_sendto(socket_.get(), data, length) < 0) {
        int err = errno;
        std::string message = "conntrack ";
        message += what;
        message += ": sending the request failed: ";
        message += errno_text(err);
        throw Error(message);
    }
}

std::size_t NetlinkConntrack::receive(const std::string& what) {
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(socket_.get(), receive_buffer_.data(), receive_buffer_.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        int err = errno;
        if (err == EINTR) continue;
        if (err == ENOBUFS) throw Overrun{};
        std::string message = "conntrack ";
        message += what;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            message += ": no reply from the kernel within ";
            message += std::to_string(receive_timeout_seconds);
            message += " s";
        } else {
            message += ": receiving the reply failed: ";
            message += errno_text(err);
        }
        throw Error(message);
    }
}

std::vector<ConntrackFlow> NetlinkConntrack::dump(model::Family family) {
    open();
    std::string what = "dump of the ";
    what += model::family_name(family);
    what += " table";
    char buf[conntrack_codec::max_message_size];
    for (int attempt = 1;; ++attempt) {
        nlmsghdr* m = conntrack_codec::put_dump(buf, family, ++seq_);
        send(m, m->nlmsg_len, what);
        std::vector<ConntrackFlow> flows;
        try {
            for (;;) {
                int left = static_cast<int>(receive(what));
                for (auto* r = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data()); mnl_nlmsg_ok(r, left);
                     r = mnl_nlmsg_next(r, &left)) {
                    // Leftovers of an overrun dump carry an older sequence number.
                    if (r->nlmsg_seq != m->nlmsg_seq || r->nlmsg_pid != port_id_) continue;
                    if (r->nlmsg_type == NLMSG_DONE || r->nlmsg_type == NLMSG_ERROR) {
                        int err = 0;
                        if (r->nlmsg_type == NLMSG_ERROR && mnl_nlmsg_get_payload_len(r) >= sizeof(nlmsgerr))
                            err = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(r))->error;
                        else if (r->nlmsg_type == NLMSG_DONE && mnl_nlmsg_get_payload_len(r) >= sizeof(int))
                            err = -*static_cast<const int*>(mnl_nlmsg_get_payload(r));
                        if (err != 0 && unavailable(err)) throw Error(unavailable_hint(err));
                        if (err != 0) throw Error(join("conntrack ", what, ": ", errno_text(err)));
                        return flows;
                    }
                    if (r->nlmsg_type == NLMSG_NOOP || r->nlmsg_type == NLMSG_OVERRUN) continue;
                    if (auto flow = conntrack_codec::decode_flow(r)) flows.push_back(*flow);
                }
            }
        } catch (const Overrun&) {
            if (attempt >= dump_attempts)
                throw Error(join("conntrack ", what, ": the receive buffer overran ", std::to_string(attempt),
                                 " time(s)"));
        }
    }
}

std::size_t NetlinkConntrack::remove(const std::vector<ConntrackFlow>& flows) {
    if (flows.empty()) return 0;
    open();
    std::size_t deleted = 0;
    std::string first_error;
    send_buffer_.resize(batch_messages * conntrack_codec::max_message_size);
    for (std::size_t begin = 0; begin < flows.size(); begin += batch_messages) {
        std::size_t end = std::min(flows.size(), begin + batch_messages);
        // Sequence numbers first_seq + i map each ACK back to its flow.
        std::uint32_t first_seq = seq_ + 1;
        std::size_t used = 0;
        for (std::size_t i = begin; i < end; ++i) {
            nlmsghdr* m = conntrack_codec::put_flow(send_buffer_.data() + used, IPCTNL_MSG_CT_DELETE,
                                                    NLM_F_REQUEST | NLM_F_ACK, ++seq_, flows[i], false);
            used += NLMSG_ALIGN(m->nlmsg_len);
        }
        std::string what = "delete of ";
        what += std::to_string(end - begin);
        what += " flow(s)";
        send(send_buffer_.data(), used, what);
        std::size_t pending = end - begin;
        try {
            while (pending > 0) {
                int left = static_cast<int>(receive(what));
                for (auto* r = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data()); mnl_nlmsg_ok(r, left);
                     r = mnl_nlmsg_next(r, &left)) {
                    if (r->nlmsg_type != NLMSG_ERROR || r->nlmsg_pid != port_id_) continue;
                    if (mnl_nlmsg_get_payload_len(r) < sizeof(nlmsgerr)) continue;
                    if (r->nlmsg_seq < first_seq || r->nlmsg_seq - first_seq >= end - begin) continue;
                    --pending;
                    int err = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(r))->error;
                    // Gone already: expired, or deleted by someone else.
                    if (err == ENOENT) continue;
                    if (err == 0) {
                        ++deleted;
                    } else if (first_error.empty()) {
                        first_error = "conntrack delete of ";
                        first_error += flow_text(flows[begin + (r->nlmsg_seq - first_seq)].original);
                        first_error += ": ";
                        first_error += errno_text(err);
                    }
                }
            }
        } catch (const Overrun&) {
            throw Error(join("conntrack ", what, ": the receive buffer overran; ", std::to_string(pending),
                             " delete(s) have an unknown outcome"));
        }
    }
    if (!first_error.empty()) {
        first_error += " (";
        first_error += std::to_string(deleted);
        first_error += " other flow(s) deleted)";
        throw Error(first_error);
    }
    return deleted;
}

std::vector<ConntrackFlow> stale_udp_flows(const std::vector<ConntrackFlow>& flows, const UdpFlowSweep& sweep) {
    std::vector<ConntrackFlow> out;
    if (sweep.empty()) return out;
    // A table of 100k entries: a few lookups per entry, not a pass over the
    // services per entry.
    auto not_served = [](const std::set<UdpFlowSweep::Address>& endpoints, const UdpFlowSweep::Address& reply) {
        return !endpoints.empty() && endpoints.count(reply) == 0;
    };
    for (const auto& flow : flows) {
        if (flow.original.protocol != IPPROTO_UDP) continue;
        UdpFlowSweep::Address to{flow.original.destination, flow.original.destination_port};
        UdpFlowSweep::Address reply{flow.reply.source, flow.reply.source_port};
        bool stale = sweep.removed.count(to) != 0;
        if (!stale) {
            auto s = sweep.services.find(to);
            stale = s != sweep.services.end() && not_served(s->second, reply);
        }
        if (!stale) {
            auto n = sweep.node_ports.find(to.second);
            stale = n != sweep.node_ports.end() && not_served(n->second, reply);
        }
        if (stale) out.push_back(flow);
    }
    return out;
}

std::size_t NetlinkConntrack::sweep_udp_flows(model::Family family, const UdpFlowSweep& sweep) {
    if (sweep.empty()) return 0;
    return remove(stale_udp_flows(dump(family), sweep));
}

}  // namespace kipvs::kernel
