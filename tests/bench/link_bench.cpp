// Binding 10,000 service addresses to kube-ipvs0: kipvs (one long-lived
// rtnetlink socket) against `ip -batch` of the same addresses, side by side
// in one boot of the VM (tests/bench/link-bench). Figures only.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "kernel/link_netlink.hpp"
#include "kernel/process.hpp"

using namespace kipvs;
using namespace kipvs::kernel;
using Clock = std::chrono::steady_clock;

int main() {
    const int count = 10'000;
    std::vector<model::IpAddress> vips;
    for (int i = 0; i < count; ++i) vips.push_back(model::IpAddress::v4(10, 96, static_cast<std::uint8_t>(i / 256),
                                                                        static_cast<std::uint8_t>(i % 256)));
    NetlinkLinks links;
    {
        std::ofstream batch("/tmp/link-bench.batch");
        for (const auto& v : vips) batch << "address add " << v.to_string() << "/32 dev kube-ipvs0\n";
    }
    links.ensure_dummy(ipvs_interface);
    auto start = Clock::now();
    auto r = run_process({"/usr/sbin/ip", "-batch", "/tmp/link-bench.batch"});
    double ip_batch = std::chrono::duration<double>(Clock::now() - start).count();
    if (r.exit_code != 0) {
        std::printf("ip -batch failed: %s\n", r.err.c_str());
        return 1;
    }
    links.delete_link(ipvs_interface);
    links.ensure_dummy(ipvs_interface);
    start = Clock::now();
    auto refused = links.bind_all(ipvs_interface, vips);
    if (!refused.empty()) std::printf("refused: %s\n", refused.front().c_str());
    double kipvs = std::chrono::duration<double>(Clock::now() - start).count();
    std::size_t bound = links.addresses(ipvs_interface).size();
    std::printf("bench link: bind %d addresses to kube-ipvs0: kipvs %.3f s, ip -batch %.3f s, ratio %.2fx "
                "(target <= 1.0x); %zu bound\n",
                count, kipvs, ip_batch, kipvs / ip_batch, bound);
    return bound == static_cast<std::size_t>(count) ? 0 : 1;
}
