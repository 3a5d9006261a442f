// Drives the real IpvsNetlink inside the VM for tests/vm/ipvs.sh: each
// subcommand programs one scenario; the guest script reads the result back
// with ipvsadm. Prints one line per operation result; exits 1 if any
// operation failed that the scenario did not expect to fail.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "error.hpp"
#include "kernel/ipvs_netlink.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

namespace {

model::IpAddress ip(const char* text) {
    auto parsed = model::IpAddress::parse(text);
    if (!parsed) throw Error(std::string("bad address in the test: ") + text);
    return *parsed;
}

VirtualServer vs(const char* address, std::uint16_t port, Protocol protocol, const char* scheduler) {
    VirtualServer s;
    s.address = ip(address);
    s.family = s.address.family;
    s.port = port;
    s.protocol = protocol;
    s.scheduler = scheduler;
    return s;
}

VirtualServer fwmark(std::uint32_t mark, model::Family family, const char* scheduler) {
    VirtualServer s;
    s.family = family;
    s.address.family = family;
    s.protocol = Protocol::none;
    s.fwmark = mark;
    s.scheduler = scheduler;
    return s;
}

RealServer rs(const char* address, std::uint16_t port, std::uint32_t weight = 1,
              Forwarding forwarding = Forwarding::masquerade) {
    RealServer d;
    d.address = ip(address);
    d.port = port;
    d.weight = weight;
    d.forwarding = forwarding;
    return d;
}

RealServer tunnel(const char* address, TunnelType type, std::uint16_t port, std::uint16_t flags) {
    RealServer d = rs(address, 53, 1, Forwarding::tunnel);
    d.tunnel_type = type;
    d.tunnel_port = port;
    d.tunnel_flags = flags;
    return d;
}

// Every scheduler the VM's kernel has, flags, persistence, IPv6, fwmark,
// SCTP and every forwarding method: the same table tests/vm/ipvs.sh expects.
std::vector<IpvsOp> full_table() {
    std::vector<IpvsOp> ops;
    std::uint16_t port = 1000;
    for (const char* sched : {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}) {
        auto s = vs("10.96.1.1", port++, Protocol::tcp, sched);
        ops.push_back(IpvsOp::add(s));
        ops.push_back(IpvsOp::add(s, rs("10.244.1.1", 80)));
        ops.push_back(IpvsOp::add(s, rs("10.244.1.2", 8080, 3)));
    }
    auto persistent = vs("10.96.2.1", 53, Protocol::udp, "wrr");
    persistent.flags = service_flags::persistent | service_flags::one_packet;
    persistent.timeout = 10800;
    persistent.netmask = 24;
    ops.push_back(IpvsOp::add(persistent));
    auto droute = rs("10.244.2.1", 53, 5, Forwarding::direct_route);
    droute.upper_threshold = 100;
    droute.lower_threshold = 10;
    ops.push_back(IpvsOp::add(persistent, droute));
    ops.push_back(IpvsOp::add(persistent, rs("10.244.2.2", 53, 0, Forwarding::tunnel)));
    ops.push_back(IpvsOp::add(persistent, rs("10.244.2.3", 53, 65536)));

    auto sh = vs("10.96.2.2", 9, Protocol::sctp, "sh");
    sh.flags = service_flags::sched1 | service_flags::sched2;
    ops.push_back(IpvsOp::add(sh));
    auto mh = vs("10.96.2.3", 80, Protocol::tcp, "mh");
    mh.flags = service_flags::sched2;
    ops.push_back(IpvsOp::add(mh));
    auto pe = vs("10.96.2.4", 5060, Protocol::udp, "rr");
    pe.flags = service_flags::persistent;
    pe.timeout = 30;
    pe.pe_name = "sip";
    ops.push_back(IpvsOp::add(pe));

    auto v6 = vs("fd00::1", 80, Protocol::tcp, "lblc");
    v6.flags = service_flags::persistent;
    v6.timeout = 60;
    v6.netmask = 64;
    ops.push_back(IpvsOp::add(v6));
    ops.push_back(IpvsOp::add(v6, rs("fd00::2", 80)));
    auto v6udp = vs("fd00::1", 53, Protocol::udp, "rr");
    ops.push_back(IpvsOp::add(v6udp));
    ops.push_back(IpvsOp::add(v6udp, tunnel("10.1.1.1", TunnelType::gue, 6080, tunnel_flags::nocsum)));
    ops.push_back(IpvsOp::add(v6udp, tunnel("10.1.1.2", TunnelType::gue, 6081, tunnel_flags::csum)));
    ops.push_back(IpvsOp::add(v6udp, tunnel("10.1.1.3", TunnelType::gue, 6082, tunnel_flags::remcsum)));
    ops.push_back(IpvsOp::add(v6udp, tunnel("10.1.1.4", TunnelType::gre, 0, tunnel_flags::csum)));
    ops.push_back(IpvsOp::add(v6udp, tunnel("fd00::5", TunnelType::ipip, 0, 0)));

    auto mark = fwmark(5, model::Family::v4, "lc");
    ops.push_back(IpvsOp::add(mark));
    ops.push_back(IpvsOp::add(mark, rs("10.244.3.1", 0)));
    ops.push_back(IpvsOp::add(fwmark(6, model::Family::v6, "wlc")));
    return ops;
}

const VirtualServer traffic_service = vs("10.96.0.10", 80, Protocol::tcp, "rr");

std::vector<IpvsOp> traffic(const char* scheduler, std::uint32_t weight1, std::uint32_t weight2) {
    VirtualServer s = traffic_service;
    s.scheduler = scheduler;
    // Adds on purpose: a second run edits what is there (idempotence).
    return {IpvsOp::add(s), IpvsOp::add(s, rs("10.200.1.2", 80, weight1)),
            IpvsOp::add(s, rs("10.200.2.2", 80, weight2))};
}

const VirtualServer victim = vs("10.96.3.1", 80, Protocol::tcp, "rr");

std::vector<IpvsOp> errors_batch() {
    auto good = vs("10.96.3.2", 80, Protocol::tcp, "rr");
    auto bad_pe = vs("10.96.3.4", 80, Protocol::tcp, "rr");
    bad_pe.flags = service_flags::persistent;
    bad_pe.timeout = 60;
    bad_pe.pe_name = "nosuchpe";
    return {
        IpvsOp::add(vs("10.96.3.3", 80, Protocol::tcp, "nosuchsched")),  // ENOENT
        IpvsOp::add(good),
        IpvsOp::edit(victim),                                                         // ESRCH: deleted underneath
        IpvsOp::add(victim, rs("10.244.9.1", 80)),                                    // ESRCH
        IpvsOp::add(vs("10.96.3.9", 80, Protocol::tcp, "rr"), rs("10.244.9.2", 80)),  // ESRCH
        IpvsOp::add(good, rs("10.244.9.3", 80)),
        IpvsOp::edit(good, rs("10.244.9.4", 80)),                  // ENOENT
        IpvsOp::remove(vs("10.96.3.8", 80, Protocol::tcp, "rr")),  // missing: fine
        IpvsOp::remove(good, rs("10.244.9.5", 80)),                // missing: fine
        IpvsOp::add(bad_pe),                                       // ENOENT
        IpvsOp::add(good, rs("10.244.9.6", 80, 2)),
    };
}

int report(const std::vector<IpvsOp>& ops, const std::vector<IpvsOpResult>& results) {
    int failed = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        if (results[i].ok()) {
            std::printf("ok %s%s\n", ops[i].describe().c_str(), results[i].converted ? " (edited)" : "");
        } else {
            std::printf("error %s\n", results[i].message.c_str());
            ++failed;
        }
    }
    return failed;
}

int run(const std::vector<std::string>& args) {
    if (args.empty())
        throw Error("usage: ipvs-vm-test write|traffic-rr|traffic-wrr|victim|errors|info|timeouts T F U|flush");
    const std::string& what = args[0];
    IpvsNetlink ipvs;
    if (what == "write") {
        auto ops = full_table();
        return report(ops, ipvs.apply(ops)) == 0 ? 0 : 1;
    }
    if (what == "traffic-rr" || what == "traffic-wrr") {
        auto ops = what == "traffic-rr" ? traffic("rr", 1, 1) : traffic("wrr", 3, 1);
        return report(ops, ipvs.apply(ops)) == 0 ? 0 : 1;
    }
    if (what == "victim") {
        ipvs.add_service(victim);
        return 0;
    }
    if (what == "errors") {
        // Exit status: how many failed (the script expects exactly 6).
        auto ops = errors_batch();
        return report(ops, ipvs.apply(ops));
    }
    if (what == "info") {
        auto info = ipvs.info();
        auto t = ipvs.timeouts();
        std::printf("version %u.%u.%u size %u\ntimeouts %u %u %u\n", info.version >> 16, (info.version >> 8) & 0xff,
                    info.version & 0xff, info.conn_table_size, t.tcp, t.tcp_fin, t.udp);
        return 0;
    }
    if (what == "timeouts" && args.size() == 4) {
        ipvs.set_timeouts({static_cast<std::uint32_t>(std::stoul(args[1])),
                           static_cast<std::uint32_t>(std::stoul(args[2])),
                           static_cast<std::uint32_t>(std::stoul(args[3]))});
        return 0;
    }
    if (what == "missing-dests") {
        try {
            auto found = ipvs.destinations(vs("10.96.9.9", 1, Protocol::tcp, "rr"));
            std::printf("%zu destinations\n", found.size());
        } catch (const Error& e) {
            std::printf("%s\n", e.what());
        }
        return 0;
    }
    if (what == "flush") {
        ipvs.flush();
        return 0;
    }
    throw Error("unknown subcommand " + what);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipvs-vm-test: %s\n", e.what());
        return 2;
    }
}
