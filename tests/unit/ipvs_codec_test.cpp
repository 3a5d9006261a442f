#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>

#include <catch2/catch.hpp>
#include <vector>

#include "error.hpp"
#include "kernel/ipvs_codec.hpp"

using namespace kipvs;
using namespace kipvs::kernel;
namespace codec = kipvs::kernel::ipvs_codec;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

VirtualServer service(const char* address, std::uint16_t port, Protocol protocol = Protocol::tcp) {
    VirtualServer s;
    s.address = ip(address);
    s.family = s.address.family;
    s.port = port;
    s.protocol = protocol;
    return s;
}

VirtualServer fwmark_service(std::uint32_t mark, model::Family family) {
    VirtualServer s;
    s.family = family;
    s.address.family = family;
    s.protocol = Protocol::none;
    s.fwmark = mark;
    return s;
}

RealServer destination(const char* address, std::uint16_t port) {
    RealServer d;
    d.address = ip(address);
    d.port = port;
    return d;
}

std::vector<VirtualServer> every_kind_of_service() {
    std::vector<VirtualServer> out;
    for (const char* sched :
         {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}) {
        auto s = service("10.96.0.10", 80);
        s.scheduler = sched;
        out.push_back(s);
    }
    auto persistent = service("10.96.0.11", 53, Protocol::udp);
    persistent.flags = service_flags::persistent | service_flags::one_packet;
    persistent.timeout = 10800;
    persistent.netmask = 24;
    out.push_back(persistent);
    auto sh = service("10.96.0.12", 9, Protocol::sctp);
    sh.scheduler = "sh";
    sh.flags = service_flags::sched1 | service_flags::sched2;
    out.push_back(sh);
    auto v6 = service("fd00::1", 443);
    v6.flags = service_flags::persistent;
    v6.timeout = 60;
    v6.netmask = 64;
    v6.pe_name = "sip";
    out.push_back(v6);
    out.push_back(fwmark_service(5, model::Family::v4));
    out.push_back(fwmark_service(6, model::Family::v6));
    return out;
}

std::vector<RealServer> every_kind_of_destination() {
    std::vector<RealServer> out;
    out.push_back(destination("10.244.1.2", 80));
    auto heavy = destination("10.244.1.3", 8080);
    heavy.weight = 0x7fffffff;
    heavy.forwarding = Forwarding::direct_route;
    heavy.upper_threshold = 100;
    heavy.lower_threshold = 10;
    out.push_back(heavy);
    auto gue = destination("fd00::2", 53);
    gue.forwarding = Forwarding::tunnel;
    gue.tunnel_type = TunnelType::gue;
    gue.tunnel_port = 6080;
    gue.tunnel_flags = tunnel_flags::remcsum;
    out.push_back(gue);
    auto local = destination("127.0.0.1", 80);
    local.forwarding = Forwarding::local;
    local.weight = 0;
    out.push_back(local);
    return out;
}

struct Buffer {
    std::vector<char> bytes = std::vector<char>(codec::max_message_size);
    void* data() { return bytes.data(); }
};

}  // namespace

TEST_CASE("service operations decode to what was encoded", "[ipvs]") {
    for (const auto& s : every_kind_of_service()) {
        INFO(s.describe() << " " << s.scheduler);
        for (auto op : {IpvsOp::add(s), IpvsOp::edit(s)}) {
            Buffer buf;
            nlmsghdr* m = codec::put_operation(buf.data(), 42, op, 7);
            CHECK(m->nlmsg_type == 42);
            CHECK(m->nlmsg_seq == 7);
            CHECK(m->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
            auto decoded = codec::decode(m);
            CHECK(decoded.command ==
                  (op.kind == IpvsOpKind::add_service ? IPVS_CMD_NEW_SERVICE : IPVS_CMD_SET_SERVICE));
            REQUIRE(decoded.service);
            CHECK(*decoded.service == s);
            CHECK_FALSE(decoded.destination);
        }
        Buffer buf;
        auto key = codec::decode(codec::put_operation(buf.data(), 42, IpvsOp::remove(s), 8));
        CHECK(key.command == IPVS_CMD_DEL_SERVICE);
        REQUIRE(key.service);
        CHECK(key.service->same_key(s));
        CHECK(key.service->scheduler.empty());
    }
}

TEST_CASE("destination operations decode to what was encoded", "[ipvs]") {
    auto s = service("10.96.0.10", 80);
    for (const auto& d : every_kind_of_destination()) {
        INFO(d.describe());
        for (auto op : {IpvsOp::add(s, d), IpvsOp::edit(s, d), IpvsOp::remove(s, d)}) {
            Buffer buf;
            auto decoded = codec::decode(codec::put_operation(buf.data(), 42, op, 9));
            REQUIRE(decoded.service);
            CHECK(decoded.service->same_key(s));
            REQUIRE(decoded.destination);
            if (op.kind == IpvsOpKind::delete_destination) {
                CHECK(decoded.command == IPVS_CMD_DEL_DEST);
                CHECK(decoded.destination->same_key(d));
            } else {
                CHECK(decoded.command ==
                      (op.kind == IpvsOpKind::add_destination ? IPVS_CMD_NEW_DEST : IPVS_CMD_SET_DEST));
                CHECK(*decoded.destination == d);
            }
        }
    }
}

TEST_CASE("kernel-shaped replies: 16-byte addresses, HASHED, counters", "[ipvs]") {
    auto s = service("10.96.0.10", 80);
    s.flags = service_flags::persistent;
    s.timeout = 300;
    s.stats = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    Buffer buf;
    nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_SERVICE, NLM_F_MULTI, 1);
    codec::put_service(m, s, codec::Encoding::reply);
    auto decoded = codec::decode(m);
    REQUIRE(decoded.service);
    CHECK(*decoded.service == s);  // HASHED stripped, IPv4 from the first 4 of 16 bytes

    auto d = every_kind_of_destination()[1];
    d.active_conns = 3;
    d.inactive_conns = 4;
    d.persist_conns = 5;
    d.stats = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    Buffer dbuf;
    nlmsghdr* dm = codec::start_message(dbuf.data(), 42, IPVS_CMD_NEW_DEST, NLM_F_MULTI, 2);
    codec::put_destination(dm, d, codec::Encoding::reply);
    auto ddecoded = codec::decode(dm, model::Family::v4);
    REQUIRE(ddecoded.destination);
    CHECK(*ddecoded.destination == d);
}

TEST_CASE("a destination without ADDR_FAMILY takes its service's family", "[ipvs]") {
    // Kernels before 3.18 omit the attribute: build such a reply by hand.
    Buffer buf;
    nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_DEST, NLM_F_MULTI, 1);
    nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_DEST);
    auto addr = ip("fd00::9");
    mnl_attr_put(m, IPVS_DEST_ATTR_ADDR, 16, addr.bytes.data());
    mnl_attr_put_u16(m, IPVS_DEST_ATTR_PORT, htons(8443));
    mnl_attr_put_u32(m, IPVS_DEST_ATTR_WEIGHT, 7);
    mnl_attr_nest_end(m, nest);
    auto decoded = codec::decode(m, model::Family::v6);
    REQUIRE(decoded.destination);
    CHECK(decoded.destination->address == addr);
    CHECK(decoded.destination->port == 8443);
    CHECK(decoded.destination->weight == 7);
}

TEST_CASE("legacy 32-bit stats are read when STATS64 is absent", "[ipvs]") {
    Buffer buf;
    nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_SERVICE, NLM_F_MULTI, 1);
    nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_SERVICE);
    mnl_attr_put_u16(m, IPVS_SVC_ATTR_AF, AF_INET);
    mnl_attr_put_u32(m, IPVS_SVC_ATTR_FWMARK, 3);
    nlattr* stats = mnl_attr_nest_start(m, IPVS_SVC_ATTR_STATS);
    mnl_attr_put_u32(m, IPVS_STATS_ATTR_CONNS, 11);
    mnl_attr_put_u64(m, IPVS_STATS_ATTR_INBYTES, 1ull << 40);
    mnl_attr_put_u32(m, IPVS_STATS_ATTR_OUTBPS, 99);
    mnl_attr_nest_end(m, stats);
    mnl_attr_nest_end(m, nest);
    auto decoded = codec::decode(m);
    REQUIRE(decoded.service);
    CHECK(decoded.service->fwmark == 3);
    CHECK(decoded.service->stats.conns == 11);
    CHECK(decoded.service->stats.in_bytes == (1ull << 40));
    CHECK(decoded.service->stats.out_bps == 99);
}

TEST_CASE("IPv4 persistence netmask travels in network byte order", "[ipvs]") {
    auto s = service("10.96.0.11", 53, Protocol::udp);
    s.netmask = 24;
    Buffer buf;
    nlmsghdr* m = codec::put_operation(buf.data(), 42, IpvsOp::add(s), 1);
    // Find the raw attribute: 255.255.255.0 as bytes ff ff ff 00.
    const nlattr* svc = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(m, GENL_HDRLEN));
    const nlattr* a = static_cast<const nlattr*>(mnl_attr_get_payload(svc));
    int left = static_cast<int>(mnl_attr_get_payload_len(svc));
    std::uint32_t raw = 0;
    for (; mnl_attr_ok(a, left); left -= NLA_ALIGN(a->nla_len), a = mnl_attr_next(a))
        if (mnl_attr_get_type(a) == IPVS_SVC_ATTR_NETMASK) raw = mnl_attr_get_u32(a);
    CHECK(raw == htonl(0xffffff00u));
}

TEST_CASE("timeouts and info round-trip", "[ipvs]") {
    Buffer buf;
    nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_SET_CONFIG, NLM_F_REQUEST, 1);
    codec::put_timeouts(m, {900, 120, 300});
    CHECK(codec::decode(m).timeouts == IpvsTimeouts{900, 120, 300});
    Buffer ibuf;
    nlmsghdr* im = codec::start_message(ibuf.data(), 42, IPVS_CMD_SET_INFO, 0, 1);
    codec::put_info(im, {0x010201, 4096});
    CHECK(codec::decode(im).info == IpvsInfo{0x010201, 4096});
}

TEST_CASE("malformed replies are errors, not garbage", "[ipvs]") {
    SECTION("service without an address family") {
        Buffer buf;
        nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_SERVICE, 0, 1);
        nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_SERVICE);
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_FWMARK, 3);
        mnl_attr_nest_end(m, nest);
        CHECK_THROWS_AS(codec::decode(m), Error);
    }
    SECTION("a u16 attribute of the wrong size") {
        Buffer buf;
        nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_SERVICE, 0, 1);
        nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_SERVICE);
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_AF, AF_INET);
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_FWMARK, 3);
        mnl_attr_nest_end(m, nest);
        CHECK_THROWS_AS(codec::decode(m), Error);
    }
    SECTION("an unknown address family") {
        Buffer buf;
        nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_SERVICE, 0, 1);
        nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_SERVICE);
        mnl_attr_put_u16(m, IPVS_SVC_ATTR_AF, 99);
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_FWMARK, 3);
        mnl_attr_nest_end(m, nest);
        CHECK_THROWS_AS(codec::decode(m), Error);
    }
    SECTION("a service key without port") {
        Buffer buf;
        nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_SERVICE, 0, 1);
        nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_SERVICE);
        mnl_attr_put_u16(m, IPVS_SVC_ATTR_AF, AF_INET);
        mnl_attr_put_u16(m, IPVS_SVC_ATTR_PROTOCOL, 6);
        mnl_attr_put(m, IPVS_SVC_ATTR_ADDR, 4, "\x0a\x00\x00\x01");
        mnl_attr_nest_end(m, nest);
        CHECK_THROWS_AS(codec::decode(m), Error);
    }
    SECTION("a scheduler name without its terminator") {
        Buffer buf;
        nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_SERVICE, 0, 1);
        nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_SERVICE);
        mnl_attr_put_u16(m, IPVS_SVC_ATTR_AF, AF_INET);
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_FWMARK, 3);
        mnl_attr_put(m, IPVS_SVC_ATTR_SCHED_NAME, 16, "0123456789abcdef");
        mnl_attr_nest_end(m, nest);
        CHECK_THROWS_AS(codec::decode(m), Error);
    }
    SECTION("a truncated nest") {
        Buffer buf;
        nlmsghdr* m = codec::start_message(buf.data(), 42, IPVS_CMD_NEW_SERVICE, 0, 1);
        nlattr* nest = mnl_attr_nest_start(m, IPVS_CMD_ATTR_SERVICE);
        mnl_attr_put_u16(m, IPVS_SVC_ATTR_AF, AF_INET);
        mnl_attr_put_u32(m, IPVS_SVC_ATTR_FWMARK, 3);
        mnl_attr_nest_end(m, nest);
        nest->nla_len = static_cast<std::uint16_t>(nest->nla_len - 2);  // cuts the last attribute
        CHECK_THROWS_AS(codec::decode(m), Error);
    }
}
