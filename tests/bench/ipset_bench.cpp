// Prints how kipvs fills and changes a hash:ip,port set against `ipset
// restore` of the same entries, measured side by side in one run (inside a
// private network namespace). Figures only: it never fails on time.
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "kernel/ipset_libipset.hpp"
#include "kernel/ipset_sync.hpp"
#include "kernel/kube_sets.hpp"

using namespace kipvs::kernel;
using Clock = std::chrono::steady_clock;

namespace {

std::set<std::string> entries(std::size_t count) {
    std::set<std::string> out;
    for (std::size_t i = 0; out.size() < count; ++i)
        out.insert("10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
                   std::to_string(i & 255) + ",tcp:" + std::to_string(80 + i % 3));
    return out;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU seconds (user + system) of this process or of its finished children:
// on a busy 2-core machine wall time says more about the neighbours.
double cpu_seconds(int who) {
    rusage usage{};
    getrusage(who, &usage);
    auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return secs(usage.ru_utime) + secs(usage.ru_stime);
}

}  // namespace

int main() {
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
        std::puts("ipset bench: needs root (it runs in a private network namespace)");
        return 77;
    }
    for (std::size_t count : {10'000u, 100'000u}) {
        auto want = entries(count);
        SetSpec spec = kube_set_spec(KubeSet::cluster_ip, kipvs::model::Family::v4, 262144);

        std::string path = "/tmp/kipvs-ipset-bench.restore";
        {
            std::ofstream out(path);
            out << "create " << spec.create_arguments() << "\n";
            for (const auto& e : want) out << "add " << spec.name << " " << e << "\n";
        }
        auto start = Clock::now();
        double children_before = cpu_seconds(RUSAGE_CHILDREN);
        if (std::system(("ipset restore -f " + path).c_str()) != 0) return 1;
        double restore = seconds_since(start);
        double restore_cpu = cpu_seconds(RUSAGE_CHILDREN) - children_before;
        std::system(("ipset destroy " + spec.name).c_str());
        std::remove(path.c_str());

        LibIpset kernel;
        IpsetSync sync(kernel);
        start = Clock::now();
        double self_before = cpu_seconds(RUSAGE_SELF);
        auto result = sync.sync(spec, want);
        double kipvs_fill = seconds_since(start);
        double kipvs_cpu = cpu_seconds(RUSAGE_SELF) - self_before;
        if (!result.failures.empty()) return 1;
        std::printf("bench ipset: fill %zu entries: kipvs %.3f s (cpu %.3f s), ipset restore %.3f s (cpu %.3f s); "
                    "ratio wall %.2fx, cpu %.2fx (target <= 1.0x)\n",
                    count, kipvs_fill, kipvs_cpu, restore, restore_cpu, kipvs_fill / restore, kipvs_cpu / restore_cpu);

        if (count == 100'000) {
            std::size_t before = kernel.commands_sent();
            start = Clock::now();
            auto one = sync.update(spec, {"10.200.0.1,tcp:80"}, {*want.begin()});
            double change = seconds_since(start);
            std::printf("bench ipset: change 1 entry in %zu: %zu kernel command(s) (one del + one add), %.3f ms, "
                        "replaced whole: %s\n",
                        count, kernel.commands_sent() - before, change * 1000, one.replaced ? "yes" : "no");
        }
        kernel.destroy(spec.name);
    }
    return 0;
}
