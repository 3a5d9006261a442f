// IPVS programming at scale, for tests/bench/ipvs-bench (run in the VM):
//   ipvs-bench program N M   N services x M destinations in one apply()
//   ipvs-bench churn K       add + delete one destination K times, one op per apply()
//   ipvs-bench dump          read the whole table
// Prints "key value" lines the guest script turns into ratios; it never
// judges the figures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "kernel/ipvs_netlink.hpp"

using namespace kipvs;
using namespace kipvs::kernel;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Service i is 10.96.(i / 256).(i % 256):80, as tests/bench/ipvs-bench.sh's
// ipvsadm -R input; destination j is 10.244.(j / 256).(j % 256 + 1):8080.
VirtualServer service(unsigned i) {
    VirtualServer s;
    s.address = model::IpAddress::v4(10, 96, static_cast<std::uint8_t>(i / 256), static_cast<std::uint8_t>(i % 256));
    s.port = 80;
    return s;
}

RealServer destination(unsigned j) {
    RealServer d;
    d.address =
        model::IpAddress::v4(10, 244, static_cast<std::uint8_t>(j / 256), static_cast<std::uint8_t>(j % 256 + 1));
    d.port = 8080;
    return d;
}

int program(IpvsNetlink& ipvs, unsigned services, unsigned dests) {
    std::vector<IpvsOp> ops;
    ops.reserve(services * (dests + 1));
    for (unsigned i = 0; i < services; ++i) {
        ops.push_back(IpvsOp::add(service(i)));
        for (unsigned j = 0; j < dests; ++j) ops.push_back(IpvsOp::add(service(i), destination(j)));
    }
    auto start = Clock::now();
    auto results = ipvs.apply(ops);
    double took = seconds_since(start);
    auto failed = std::count_if(results.begin(), results.end(), [](const auto& r) { return !r.ok(); });
    std::printf("program_ops %zu\nprogram_failed %ld\nprogram_seconds %.3f\n", ops.size(), static_cast<long>(failed),
                took);
    return failed == 0 ? 0 : 1;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

int churn(IpvsNetlink& ipvs, unsigned rounds) {
    // A destination no service has yet, on the first service.
    VirtualServer s = service(0);
    RealServer d = destination(1000);
    std::vector<double> add_ms, delete_ms, all_ms;
    for (unsigned r = 0; r < rounds; ++r) {
        auto start = Clock::now();
        ipvs.add_destination(s, d);
        add_ms.push_back(seconds_since(start) * 1000);
        start = Clock::now();
        ipvs.delete_destination(s, d);
        delete_ms.push_back(seconds_since(start) * 1000);
    }
    all_ms = add_ms;
    all_ms.insert(all_ms.end(), delete_ms.begin(), delete_ms.end());
    std::printf(
        "churn_ops %zu\nchurn_p50_ms %.4f\nchurn_p99_ms %.4f\nchurn_add_p50_ms %.4f\nchurn_delete_p50_ms %.4f\n",
        all_ms.size(), percentile(all_ms, 0.50), percentile(all_ms, 0.99), percentile(add_ms, 0.50),
        percentile(delete_ms, 0.50));
    return 0;
}

int dump(IpvsNetlink& ipvs) {
    auto start = Clock::now();
    auto table = ipvs.table();
    double took = seconds_since(start);
    std::size_t dests = 0;
    for (const auto& e : table) dests += e.destinations.size();
    std::printf("dump_services %zu\ndump_destinations %zu\ndump_seconds %.3f\n", table.size(), dests, took);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        IpvsNetlink ipvs;
        if (args.size() == 3 && args[0] == "program") return program(ipvs, std::stoul(args[1]), std::stoul(args[2]));
        if (args.size() == 2 && args[0] == "churn") return churn(ipvs, std::stoul(args[1]));
        if (args.size() == 1 && args[0] == "dump") return dump(ipvs);
        std::fprintf(stderr, "usage: ipvs-bench program N M | churn K | dump\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipvs-bench: %s\n", e.what());
        return 1;
    }
}
