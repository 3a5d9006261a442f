#include <catch2/catch.hpp>

#include "kernel/ipvs_format.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

ServiceTable entry(const char* address, std::uint16_t port, Protocol protocol, const char* scheduler) {
    ServiceTable e;
    e.service.address = ip(address);
    e.service.family = e.service.address.family;
    e.service.port = port;
    e.service.protocol = protocol;
    e.service.scheduler = scheduler;
    return e;
}

RealServer dest(const char* address, std::uint16_t port, Forwarding fwd, std::uint32_t weight) {
    RealServer d;
    d.address = ip(address);
    d.port = port;
    d.forwarding = fwd;
    d.weight = weight;
    return d;
}

RealServer tunnel(const char* address, TunnelType type, std::uint16_t port, std::uint16_t flags) {
    RealServer d = dest(address, 53, Forwarding::tunnel, 1);
    d.tunnel_type = type;
    d.tunnel_port = port;
    d.tunnel_flags = flags;
    return d;
}

}  // namespace

// The expected text is what ipvsadm 1.31 (Debian 12) printed for the same
// table in the VM, sorted; tests/vm/ipvs.sh compares the two for real.
TEST_CASE("ipvsadm save format, every field", "[ipvs]") {
    std::vector<ServiceTable> table;
    auto e = entry("10.96.0.10", 80, Protocol::tcp, "rr");
    e.destinations = {dest("10.244.1.2", 80, Forwarding::masquerade, 1),
                      dest("10.244.1.3", 80, Forwarding::direct_route, 5),
                      dest("10.244.1.4", 80, Forwarding::tunnel, 0)};
    e.destinations[1].upper_threshold = 100;  // ipvsadm -S does not print thresholds
    table.push_back(e);
    e = entry("10.96.0.13", 80, Protocol::tcp, "mh");
    e.service.flags = service_flags::sched1 | service_flags::sched2;
    table.push_back(e);
    e = entry("10.96.0.14", 80, Protocol::tcp, "dh");
    e.service.flags = service_flags::persistent;
    e.service.timeout = 30;
    e.service.pe_name = "sip";
    table.push_back(e);
    e = entry("10.96.0.11", 53, Protocol::udp, "wrr");
    e.service.flags = service_flags::persistent;
    e.service.timeout = 10800;
    e.service.netmask = 24;
    table.push_back(e);
    e = entry("10.96.0.21", 80, Protocol::udp, "rr");
    e.service.flags = service_flags::one_packet;
    e.destinations = {dest("10.1.2.3", 80, Forwarding::masquerade, 65536)};
    table.push_back(e);
    e = entry("10.96.0.12", 9, Protocol::sctp, "sh");
    e.service.flags = service_flags::sched1 | service_flags::sched2;
    table.push_back(e);
    e = entry("10.96.0.15", 80, Protocol::tcp, "wlc");
    e.service.flags = service_flags::sched3;
    table.push_back(e);
    e = entry("fd00::1", 80, Protocol::tcp, "lblc");
    e.service.flags = service_flags::persistent;
    e.service.timeout = 60;
    e.service.netmask = 64;
    e.destinations = {dest("fd00::2", 80, Forwarding::masquerade, 1)};
    table.push_back(e);
    e = entry("fd00::1", 53, Protocol::udp, "lblcr");
    e.destinations = {tunnel("10.1.1.1", TunnelType::gue, 6080, tunnel_flags::nocsum),
                      tunnel("10.1.1.2", TunnelType::gue, 6081, tunnel_flags::csum),
                      tunnel("10.1.1.3", TunnelType::gue, 6082, tunnel_flags::remcsum),
                      tunnel("10.1.1.4", TunnelType::gre, 0, tunnel_flags::csum),
                      tunnel("10.1.1.5", TunnelType::ipip, 0, 0)};
    table.push_back(e);
    ServiceTable fwm;
    fwm.service.fwmark = 5;
    fwm.service.protocol = Protocol::none;
    fwm.service.scheduler = "lc";
    fwm.destinations = {dest("10.244.1.9", 0, Forwarding::masquerade, 1)};
    table.push_back(fwm);
    fwm.service.fwmark = 6;
    fwm.service.family = model::Family::v6;
    fwm.service.scheduler = "wlc";
    fwm.destinations.clear();
    table.push_back(fwm);

    sort_table(table);
    CHECK(format_ipvsadm(table) ==
          "-A -t 10.96.0.10:80 -s rr\n"
          "-a -t 10.96.0.10:80 -r 10.244.1.2:80 -m -w 1\n"
          "-a -t 10.96.0.10:80 -r 10.244.1.3:80 -g -w 5\n"
          "-a -t 10.96.0.10:80 -r 10.244.1.4:80 -i -w 0 --tun-type ipip\n"
          "-A -t 10.96.0.13:80 -s mh -b mh-fallback,mh-port\n"
          "-A -t 10.96.0.14:80 -s dh -p 30 --pe sip\n"
          "-A -t 10.96.0.15:80 -s wlc -b flag-3\n"
          "-A -u 10.96.0.11:53 -s wrr -p 10800 -M 255.255.255.0\n"
          "-A -u 10.96.0.21:80 -s rr -o\n"
          "-a -u 10.96.0.21:80 -r 10.1.2.3:80 -m -w 65536\n"
          "-A --sctp-service 10.96.0.12:9 -s sh -b sh-fallback,sh-port\n"
          "-A -t [fd00::1]:80 -s lblc -p 60 -M 64\n"
          "-a -t [fd00::1]:80 -r [fd00::2]:80 -m -w 1\n"
          "-A -u [fd00::1]:53 -s lblcr\n"
          "-a -u [fd00::1]:53 -r 10.1.1.1:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum\n"
          "-a -u [fd00::1]:53 -r 10.1.1.2:53 -i -w 1 --tun-type gue --tun-port 6081 --tun-csum\n"
          "-a -u [fd00::1]:53 -r 10.1.1.3:53 -i -w 1 --tun-type gue --tun-port 6082 --tun-remcsum\n"
          "-a -u [fd00::1]:53 -r 10.1.1.4:53 -i -w 1 --tun-type gre --tun-csum\n"
          "-a -u [fd00::1]:53 -r 10.1.1.5:53 -i -w 1 --tun-type ipip\n"
          "-A -f 5 -s lc\n"
          "-a -f 5 -r 10.244.1.9:0 -m -w 1\n"
          "-A -f 6 -6 -s wlc\n");
}

TEST_CASE("json dump names every field", "[ipvs]") {
    auto e = entry("10.96.0.10", 80, Protocol::tcp, "sh");
    e.service.flags = service_flags::persistent | service_flags::sched2;
    e.service.timeout = 10800;
    e.destinations = {dest("10.244.1.2", 8080, Forwarding::masquerade, 1)};
    e.destinations[0].active_conns = 2;
    std::string json = format_json({e});
    CHECK(json.find("\"protocol\":\"TCP\",\"address\":\"10.96.0.10\",\"port\":80") != std::string::npos);
    CHECK(json.find("\"flags\":[\"persistent\",\"sh-port\"]") != std::string::npos);
    CHECK(json.find("\"netmask\":32") != std::string::npos);
    CHECK(json.find("\"forwarding\":\"masquerade\"") != std::string::npos);
    CHECK(json.find("\"active_conns\":2") != std::string::npos);
    CHECK(json.find("\"tunnel\":null") != std::string::npos);
}
