#include "kernel/ipvs_codec.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <string>

#include "error.hpp"

namespace kipvs::kernel::ipvs_codec {
namespace {

using model::Family;

std::uint16_t af_of(Family family) { return family == Family::v4 ? AF_INET : AF_INET6; }

void put_address(nlmsghdr* m, std::uint16_t type, const model::IpAddress& a, Encoding encoding) {
    // The kernel answers with the whole 16-byte union even for IPv4.
    std::size_t size = encoding == Encoding::reply ? 16 : a.size();
    mnl_attr_put(m, type, size, a.bytes.data());
}

std::uint32_t netmask_to_kernel(Family family, std::uint8_t prefix) {
    if (family == Family::v6) return prefix == 0 ? 128 : prefix;
    // IPv4: the mask itself, in network byte order.
    std::uint32_t host_order = prefix == 0 || prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
    return htonl(host_order);
}

std::uint8_t netmask_from_kernel(Family family, std::uint32_t value) {
    if (family == Family::v6) return value >= 128 ? 0 : static_cast<std::uint8_t>(value);
    std::uint32_t host_order = ntohl(value);
    std::uint8_t prefix = 0;
    while (prefix < 32 && (host_order & (0x80000000u >> prefix))) ++prefix;
    return prefix == 32 ? 0 : prefix;
}

void put_stats64(nlmsghdr* m, std::uint16_t type, const Stats64& s) {
    nlattr* nest = mnl_attr_nest_start(m, type);
    const std::uint64_t values[] = {s.conns, s.in_packets, s.out_packets, s.in_bytes, s.out_bytes,
                                    s.cps,   s.in_pps,     s.out_pps,     s.in_bps,   s.out_bps};
    for (std::uint16_t i = 0; i < 10; ++i) mnl_attr_put_u64(m, IPVS_STATS_ATTR_CONNS + i, values[i]);
    mnl_attr_nest_end(m, nest);
}

// Attributes of one level, indexed by type; unknown (newer) types are ignored.
template <std::size_t N>
struct Attributes {
    std::array<const nlattr*, N + 1> at{};
    const nlattr* operator[](std::size_t type) const { return at[type]; }
};

template <std::size_t N>
Attributes<N> collect(const void* payload, std::size_t length) {
    Attributes<N> out;
    auto* attr = static_cast<const nlattr*>(payload);
    int left = static_cast<int>(length);
    while (mnl_attr_ok(attr, left)) {
        std::uint16_t type = mnl_attr_get_type(attr);
        if (type <= N) out.at[type] = attr;
        left -= static_cast<int>(NLA_ALIGN(attr->nla_len));
        attr = mnl_attr_next(attr);
    }
    if (left >= static_cast<int>(sizeof(nlattr))) throw Error("malformed IPVS netlink message: truncated attribute");
    return out;
}

template <std::size_t N>
Attributes<N> collect_nested(const nlattr* nest) {
    return collect<N>(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest));
}

[[noreturn]] void bad(const char* what) { throw Error(std::string("malformed IPVS netlink message: ") + what); }

template <typename T>
T get_int(const nlattr* a, const char* name) {
    if (mnl_attr_get_payload_len(a) != sizeof(T)) bad(name);
    T value;
    std::memcpy(&value, mnl_attr_get_payload(a), sizeof value);
    return value;
}

std::string get_string(const nlattr* a, std::size_t max, const char* name) {
    auto* text = static_cast<const char*>(mnl_attr_get_payload(a));
    std::size_t length = strnlen(text, mnl_attr_get_payload_len(a));
    if (length >= max) bad(name);
    return std::string(text, length);
}

model::IpAddress get_address(const nlattr* a, Family family, const char* name) {
    model::IpAddress ip;
    ip.family = family;
    std::size_t have = mnl_attr_get_payload_len(a);
    if (have < ip.size() || have > 16) bad(name);
    std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), ip.size());
    return ip;
}

Family get_family(const nlattr* a, const char* name) {
    std::uint16_t af = get_int<std::uint16_t>(a, name);
    if (af == AF_INET) return Family::v4;
    if (af == AF_INET6) return Family::v6;
    bad(name);
}

Stats64 get_stats(const nlattr* stats64, const nlattr* stats32) {
    Stats64 s;
    std::uint64_t* fields[] = {&s.conns, &s.in_packets, &s.out_packets, &s.in_bytes, &s.out_bytes,
                               &s.cps,   &s.in_pps,     &s.out_pps,     &s.in_bps,   &s.out_bps};
    if (stats64) {
        auto a = collect_nested<IPVS_STATS_ATTR_MAX>(stats64);
        for (int i = 0; i < 10; ++i)
            if (auto* v = a[IPVS_STATS_ATTR_CONNS + i]) *fields[i] = get_int<std::uint64_t>(v, "stats64 counter");
    } else if (stats32) {
        // The legacy nest: byte counters are u64, everything else u32.
        auto a = collect_nested<IPVS_STATS_ATTR_MAX>(stats32);
        for (int i = 0; i < 10; ++i) {
            auto* v = a[IPVS_STATS_ATTR_CONNS + i];
            if (!v) continue;
            int type = IPVS_STATS_ATTR_CONNS + i;
            bool wide = type == IPVS_STATS_ATTR_INBYTES || type == IPVS_STATS_ATTR_OUTBYTES;
            *fields[i] = wide ? get_int<std::uint64_t>(v, "stats counter") : get_int<std::uint32_t>(v, "stats counter");
        }
    }
    return s;
}

VirtualServer decode_service(const nlattr* nest) {
    auto a = collect_nested<IPVS_SVC_ATTR_MAX>(nest);
    VirtualServer s;
    if (!a[IPVS_SVC_ATTR_AF]) bad("service without address family");
    s.family = get_family(a[IPVS_SVC_ATTR_AF], "service address family");
    if (auto* v = a[IPVS_SVC_ATTR_FWMARK]) s.fwmark = get_int<std::uint32_t>(v, "service fwmark");
    s.protocol = Protocol::none;
    s.address.family = s.family;
    if (s.fwmark == 0) {
        if (!a[IPVS_SVC_ATTR_PROTOCOL] || !a[IPVS_SVC_ATTR_ADDR] || !a[IPVS_SVC_ATTR_PORT])
            bad("service without fwmark nor protocol, address and port");
    }
    if (auto* v = a[IPVS_SVC_ATTR_PROTOCOL]) s.protocol = static_cast<Protocol>(get_int<std::uint16_t>(v, "protocol"));
    if (auto* v = a[IPVS_SVC_ATTR_ADDR]) s.address = get_address(v, s.family, "service address");
    if (auto* v = a[IPVS_SVC_ATTR_PORT]) s.port = ntohs(get_int<std::uint16_t>(v, "service port"));
    // The kernel reports fwmark services with an all-zero address, port and
    // protocol; keep them out of the value so it compares with what was asked.
    if (s.fwmark != 0) {
        s.protocol = Protocol::none;
        s.address = model::IpAddress{};
        s.address.family = s.family;
        s.port = 0;
    }
    s.scheduler.clear();
    if (auto* v = a[IPVS_SVC_ATTR_SCHED_NAME]) s.scheduler = get_string(v, IP_VS_SCHEDNAME_MAXLEN, "scheduler name");
    if (auto* v = a[IPVS_SVC_ATTR_PE_NAME]) s.pe_name = get_string(v, IP_VS_PENAME_MAXLEN, "persistence engine name");
    if (auto* v = a[IPVS_SVC_ATTR_FLAGS]) {
        if (mnl_attr_get_payload_len(v) != sizeof(ip_vs_flags)) bad("service flags");
        ip_vs_flags flags;
        std::memcpy(&flags, mnl_attr_get_payload(v), sizeof flags);
        s.flags = flags.flags & ~service_flags::hashed;
    }
    if (auto* v = a[IPVS_SVC_ATTR_TIMEOUT]) s.timeout = get_int<std::uint32_t>(v, "persistence timeout");
    if (auto* v = a[IPVS_SVC_ATTR_NETMASK])
        s.netmask = netmask_from_kernel(s.family, get_int<std::uint32_t>(v, "netmask"));
    s.stats = get_stats(a[IPVS_SVC_ATTR_STATS64], a[IPVS_SVC_ATTR_STATS]);
    return s;
}

RealServer decode_destination(const nlattr* nest, Family fallback) {
    auto a = collect_nested<IPVS_DEST_ATTR_MAX>(nest);
    RealServer d;
    Family family =
        a[IPVS_DEST_ATTR_ADDR_FAMILY] ? get_family(a[IPVS_DEST_ATTR_ADDR_FAMILY], "destination family") : fallback;
    if (!a[IPVS_DEST_ATTR_ADDR] || !a[IPVS_DEST_ATTR_PORT]) bad("destination without address or port");
    d.address = get_address(a[IPVS_DEST_ATTR_ADDR], family, "destination address");
    d.port = ntohs(get_int<std::uint16_t>(a[IPVS_DEST_ATTR_PORT], "destination port"));
    if (auto* v = a[IPVS_DEST_ATTR_FWD_METHOD])
        d.forwarding = static_cast<Forwarding>(get_int<std::uint32_t>(v, "forwarding method") & IP_VS_CONN_F_FWD_MASK);
    if (auto* v = a[IPVS_DEST_ATTR_WEIGHT]) d.weight = get_int<std::uint32_t>(v, "weight");
    if (auto* v = a[IPVS_DEST_ATTR_U_THRESH]) d.upper_threshold = get_int<std::uint32_t>(v, "upper threshold");
    if (auto* v = a[IPVS_DEST_ATTR_L_THRESH]) d.lower_threshold = get_int<std::uint32_t>(v, "lower threshold");
    if (auto* v = a[IPVS_DEST_ATTR_ACTIVE_CONNS]) d.active_conns = get_int<std::uint32_t>(v, "active connections");
    if (auto* v = a[IPVS_DEST_ATTR_INACT_CONNS]) d.inactive_conns = get_int<std::uint32_t>(v, "inactive connections");
    if (auto* v = a[IPVS_DEST_ATTR_PERSIST_CONNS])
        d.persist_conns = get_int<std::uint32_t>(v, "persistent connections");
    if (auto* v = a[IPVS_DEST_ATTR_TUN_TYPE])
        d.tunnel_type = static_cast<TunnelType>(get_int<std::uint8_t>(v, "tunnel type"));
    if (auto* v = a[IPVS_DEST_ATTR_TUN_PORT]) d.tunnel_port = ntohs(get_int<std::uint16_t>(v, "tunnel port"));
    if (auto* v = a[IPVS_DEST_ATTR_TUN_FLAGS]) d.tunnel_flags = get_int<std::uint16_t>(v, "tunnel flags");
    d.stats = get_stats(a[IPVS_DEST_ATTR_STATS64], a[IPVS_DEST_ATTR_STATS]);
    return d;
}

}  // namespace

nlmsghdr* start_message(void* buf, std::uint16_t family_id, std::uint8_t command, std::uint16_t flags,
                        std::uint32_t seq) {
    nlmsghdr* m = mnl_nlmsg_put_header(buf);
    m->nlmsg_type = family_id;
    m->nlmsg_flags = flags;
    m->nlmsg_seq = seq;
    auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(m, sizeof(genlmsghdr)));
    g->cmd = command;
    g->version = IPVS_GENL_VERSION;
    return m;
}

void put_service(nlmsghdr* m, const VirtualServer& s, Encoding encoding) {
    nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_SERVICE);
    mnl_attr_put_u16(m, IPVS_SVC_ATTR_AF, af_of(s.family));
    if (s.fwmark != 0) {
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_FWMARK, s.fwmark);
    } else {
        mnl_attr_put_u16(m, IPVS_SVC_ATTR_PROTOCOL, static_cast<std::uint16_t>(s.protocol));
        put_address(m, IPVS_SVC_ATTR_ADDR, s.address, encoding);
        mnl_attr_put_u16(m, IPVS_SVC_ATTR_PORT, htons(s.port));
    }
    if (encoding != Encoding::key) {
        mnl_attr_put_strz(m, IPVS_SVC_ATTR_SCHED_NAME, s.scheduler.c_str());
        if (!s.pe_name.empty()) mnl_attr_put_strz(m, IPVS_SVC_ATTR_PE_NAME, s.pe_name.c_str());
        std::uint32_t flags = s.flags & ~service_flags::hashed;
        if (encoding == Encoding::reply) flags |= service_flags::hashed;
        ip_vs_flags f{flags, ~0u};
        mnl_attr_put(m, IPVS_SVC_ATTR_FLAGS, sizeof f, &f);
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_TIMEOUT, s.timeout);
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_NETMASK, netmask_to_kernel(s.family, s.netmask));
    }
    if (encoding == Encoding::reply) put_stats64(m, IPVS_SVC_ATTR_STATS64, s.stats);
    mnl_attr_nest_end(m, nest);
}

void put_destination(nlmsghdr* m, const RealServer& d, Encoding encoding) {
    nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_DEST);
    put_address(m, IPVS_DEST_ATTR_ADDR, d.address, encoding);
    mnl_attr_put_u16(m, IPVS_DEST_ATTR_PORT, htons(d.port));
    mnl_attr_put_u16(m, IPVS_DEST_ATTR_ADDR_FAMILY, af_of(d.address.family));
    if (encoding != Encoding::key) {
        mnl_attr_put_u32(m, IPVS_DEST_ATTR_FWD_METHOD, static_cast<std::uint32_t>(d.forwarding));
        mnl_attr_put_u32(m, IPVS_DEST_ATTR_WEIGHT, d.weight);
        mnl_attr_put_u32(m, IPVS_DEST_ATTR_U_THRESH, d.upper_threshold);
        mnl_attr_put_u32(m, IPVS_DEST_ATTR_L_THRESH, d.lower_threshold);
        // Only tunnels have these, and only kernels >= 5.2 know them.
        if (d.forwarding == Forwarding::tunnel) {
            mnl_attr_put_u8(m, IPVS_DEST_ATTR_TUN_TYPE, static_cast<std::uint8_t>(d.tunnel_type));
            mnl_attr_put_u16(m, IPVS_DEST_ATTR_TUN_PORT, htons(d.tunnel_port));
            mnl_attr_put_u16(m, IPVS_DEST_ATTR_TUN_FLAGS, d.tunnel_flags);
        }
    }
    if (encoding == Encoding::reply) {
        mnl_attr_put_u32(m, IPVS_DEST_ATTR_ACTIVE_CONNS, d.active_conns);
        mnl_attr_put_u32(m, IPVS_DEST_ATTR_INACT_CONNS, d.inactive_conns);
        mnl_attr_put_u32(m, IPVS_DEST_ATTR_PERSIST_CONNS, d.persist_conns);
        put_stats64(m, IPVS_DEST_ATTR_STATS64, d.stats);
    }
    mnl_attr_nest_end(m, nest);
}

void put_timeouts(nlmsghdr* m, const IpvsTimeouts& t) {
    mnl_attr_put_u32(m, IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp);
    mnl_attr_put_u32(m, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcp_fin);
    mnl_attr_put_u32(m, IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp);
}

void put_info(nlmsghdr* m, const IpvsInfo& info) {
    mnl_attr_put_u32(m, IPVS_INFO_ATTR_VERSION, info.version);
    mnl_attr_put_u32(m, IPVS_INFO_ATTR_CONN_TAB_SIZE, info.conn_table_size);
}

nlmsghdr* put_operation(void* buf, std::uint16_t family_id, const IpvsOp& op, std::uint32_t seq) {
    static constexpr std::uint8_t commands[] = {IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_SERVICE, IPVS_CMD_DEL_SERVICE,
                                                IPVS_CMD_NEW_DEST,    IPVS_CMD_SET_DEST,    IPVS_CMD_DEL_DEST};
    auto kind = static_cast<std::size_t>(op.kind);
    nlmsghdr* m = start_message(buf, family_id, commands[kind], NLM_F_REQUEST | NLM_F_ACK, seq);
    if (!op.destination) {
        put_service(m, op.service, op.kind == IpvsOpKind::delete_service ? Encoding::key : Encoding::request);
    } else {
        put_service(m, op.service, Encoding::key);
        put_destination(m, *op.destination,
                        op.kind == IpvsOpKind::delete_destination ? Encoding::key : Encoding::request);
    }
    return m;
}

IpvsMessage decode(const nlmsghdr* m, Family destination_family) {
    if (m->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) bad("short message");
    IpvsMessage out;
    out.command = static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(m))->cmd;
    const void* attrs = mnl_nlmsg_get_payload_offset(m, GENL_HDRLEN);
    std::size_t length = m->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
    // Info and config replies put their own attributes at the top level,
    // numbered like the command attributes.
    if (out.command == IPVS_CMD_GET_INFO || out.command == IPVS_CMD_SET_INFO) {
        auto a = collect<IPVS_INFO_ATTR_MAX>(attrs, length);
        IpvsInfo info;
        if (auto* v = a[IPVS_INFO_ATTR_VERSION]) info.version = get_int<std::uint32_t>(v, "version");
        if (auto* v = a[IPVS_INFO_ATTR_CONN_TAB_SIZE]) info.conn_table_size = get_int<std::uint32_t>(v, "table size");
        out.info = info;
        return out;
    }
    auto a = collect<IPVS_CMD_ATTR_MAX>(attrs, length);
    if (a[IPVS_CMD_ATTR_TIMEOUT_TCP] || a[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN] || a[IPVS_CMD_ATTR_TIMEOUT_UDP]) {
        IpvsTimeouts t;
        if (auto* v = a[IPVS_CMD_ATTR_TIMEOUT_TCP]) t.tcp = get_int<std::uint32_t>(v, "tcp timeout");
        if (auto* v = a[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]) t.tcp_fin = get_int<std::uint32_t>(v, "tcp fin timeout");
        if (auto* v = a[IPVS_CMD_ATTR_TIMEOUT_UDP]) t.udp = get_int<std::uint32_t>(v, "udp timeout");
        out.timeouts = t;
    }
    if (auto* v = a[IPVS_CMD_ATTR_SERVICE]) {
        out.service = decode_service(v);
        destination_family = out.service->family;
    }
    if (auto* v = a[IPVS_CMD_ATTR_DEST]) out.destination = decode_destination(v, destination_family);
    return out;
}

}  // namespace kipvs::kernel::ipvs_codec
