// The proxy core at scale, for tests/bench/proxy-bench (run in the VM):
//   proxy-bench emit N M DIR         write the reference tools' inputs for the
//                                    same state (ipvsadm -R, ipset restore,
//                                    ip -batch, iptables-restore) and nothing else
//   proxy-bench first-sync N M [--emit-restore DIR]
//                                    plan N services x M endpoints and time
//                                    Reconciler::full_sync into an empty kernel
//   proxy-bench scrape N M           after a first sync, time /metrics scrapes
//                                    (src/server: one service dump plus one
//                                    read of /proc/net/ip_vs)
//   proxy-bench changes N M ROUNDS   after a first sync, replace one endpoint
//                                    of a random service ROUNDS times and time
//                                    each from upsert_slice to apply() returning
// Prints "key value" lines the guest script turns into ratios; it never
// judges the figures.
//
// The state: Service bench/svc-i is ClusterIP 10.96.(i / 256).(i % 256):80/TCP
// (port "http"), with one EndpointSlice of M ready endpoints on 10.244.0.0/15
// (port "http" 8080). Endpoint k (counted over all services) is on this node
// when k % 10 == 0 and on "other-node" otherwise: one endpoint in ten gives a
// KUBE-LOOP-BACK entry, so the sync writes that set at scale too, as a node
// running a tenth of the cluster's pods would.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "error.hpp"
#include "kernel/ipset_libipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs_netlink.hpp"
#include "kernel/kube_sets.hpp"
#include "kernel/link_netlink.hpp"
#include "proxy/object_store.hpp"
#include "proxy/reconciler.hpp"
#include "server/ipvs_stats.hpp"
#include "server/monitor.hpp"

using namespace kipvs;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* node_name = "bench-node";
constexpr const char* bench_namespace = "bench";

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// 10.0.0.0 + offset, for address ranges wider than one /16.
model::IpAddress v4_at(std::uint32_t base, std::uint32_t offset) {
    std::uint32_t a = base + offset;
    return model::IpAddress::v4(static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                                static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a));
}

constexpr std::uint32_t service_base = 0x0a600000;   // 10.96.0.0
constexpr std::uint32_t endpoint_base = 0x0af40001;  // 10.244.0.1
constexpr std::uint32_t fresh_base = 0x0afa0001;     // 10.250.0.1: replacements in `changes`

std::string service_name(unsigned i) {
    std::string name = "svc-";
    name += std::to_string(i);
    return name;
}

model::Service make_service(unsigned i) {
    model::Service s;
    s.namespace_name = bench_namespace;
    s.name = service_name(i);
    s.type = model::ServiceType::cluster_ip;
    s.cluster_ips = {v4_at(service_base, i)};
    s.ip_families = {model::Family::v4};
    model::ServicePort port;
    port.name = "http";
    port.protocol = model::Protocol::tcp;
    port.port = 80;
    s.ports = {port};
    return s;
}

model::EndpointSlice make_slice(unsigned i, unsigned m) {
    model::EndpointSlice slice;
    slice.namespace_name = bench_namespace;
    slice.name = service_name(i);
    slice.name += "-x7k2p";
    slice.service_name = service_name(i);
    slice.address_type = model::AddressType::ipv4;
    for (unsigned j = 0; j < m; ++j) {
        std::uint32_t k = i * m + j;
        model::Endpoint ep;
        ep.address = v4_at(endpoint_base, k);
        ep.node_name = k % 10 == 0 ? node_name : "other-node";
        slice.endpoints.push_back(std::move(ep));
    }
    model::EndpointPort port;
    port.name = std::string("http");
    port.protocol = model::Protocol::tcp;
    port.port = 8080;
    slice.ports = {port};
    return slice;
}

struct Bench {
    // The store keeps the only copy of the objects, so RSS is what kipvs
    // itself would hold; `changes` rebuilds a slice from its index.
    proxy::ObjectStore store;
    proxy::DesiredState desired;
    proxy::ReconcilerOptions options;
    double plan_seconds = 0;

    Bench(unsigned n, unsigned m) {
        std::vector<model::Service> services;
        std::vector<model::EndpointSlice> slices;
        services.reserve(n);
        slices.reserve(n);
        for (unsigned i = 0; i < n; ++i) {
            services.push_back(make_service(i));
            slices.push_back(make_slice(i, m));
        }
        proxy::NodeFacts facts;
        facts.name = node_name;
        auto start = Clock::now();
        store.set_options(proxy::PlanOptions{});
        store.set_node_facts(facts);
        for (auto& s : services) store.upsert_service(std::move(s));
        for (auto& s : slices) store.upsert_slice(std::move(s));
        std::vector<std::string> events;
        store.replan(desired, events);
        plan_seconds = seconds_since(start);
        for (const auto& e : events) std::fprintf(stderr, "proxy-bench: plan event: %s\n", e.c_str());
    }

    std::size_t set_entry_count() const {
        std::size_t total = 0;
        for (const auto& info : kernel::kube_sets()) total += desired.set_entries({info.id, model::Family::v4}).size();
        return total;
    }
};

// The reconciler's real kernel handles, IPv4 only.
struct Kernel {
    kernel::IpvsNetlink ipvs;
    kernel::LibIpset ipset;
    kernel::NetlinkLinks links;
    kernel::ExecIptables iptables{kernel::find_iptables(model::Family::v4, "auto")};

    proxy::KernelHandles handles() { return {ipvs, ipset, links, {{model::Family::v4, &iptables}}}; }
};

long status_kb(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    std::string prefix = field;
    prefix += ':';
    while (std::getline(in, line))
        if (line.compare(0, prefix.size(), prefix) == 0) return std::stol(line.substr(prefix.size()));
    return -1;
}

void print_memory() {
    std::printf("rss_kb %ld\nvm_hwm_kb %ld\n", status_kb("VmRSS"), status_kb("VmHWM"));
}

std::string option_flag(kernel::Protocol p) {
    switch (p) {
        case kernel::Protocol::tcp: return "-t";
        case kernel::Protocol::udp: return "-u";
        case kernel::Protocol::sctp: return "--sctp-service";
        default: return "-t";
    }
}

std::string forwarding_flag(kernel::Forwarding f) {
    switch (f) {
        case kernel::Forwarding::masquerade: return "-m";
        case kernel::Forwarding::direct_route: return "-g";
        case kernel::Forwarding::tunnel: return "-i";
        default: return "-m";
    }
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error("cannot write " + path);
}

// The same state in the reference tools' own input formats, from what the
// desired state holds (not from a second synthesis), so both sides write
// exactly the same objects.
void emit_restore(const Bench& bench, const std::string& dir) {
    std::string ipvs;
    for (const auto& key : bench.desired.virtual_server_keys()) {
        const proxy::PlannedVirtualServer* t = bench.desired.virtual_server(key);
        if (t == nullptr) continue;
        std::string vs = option_flag(t->service.protocol);
        vs += ' ';
        vs += kernel::host_port(t->service.address, t->service.port);
        ipvs += "-A " + vs + " -s " + t->service.scheduler;
        if (t->service.timeout != 0) {
            ipvs += " -p ";
            ipvs += std::to_string(t->service.timeout);
        }
        ipvs += '\n';
        for (const auto& d : t->destinations) {
            ipvs += "-a " + vs + " -r ";
            ipvs += kernel::host_port(d.address, d.port);
            ipvs += ' ';
            ipvs += forwarding_flag(d.real_server().forwarding);
            ipvs += " -w ";
            ipvs += std::to_string(d.weight);
            ipvs += '\n';
        }
    }
    write_file(dir + "/ipvsadm.rules", ipvs);

    std::string sets;
    for (const auto& info : kernel::kube_sets()) {
        auto spec = kernel::kube_set_spec(info.id, model::Family::v4, bench.options.ipset_max_elements);
        sets += "create " + spec.create_arguments() + '\n';
        for (const auto& entry : bench.desired.set_entries({info.id, model::Family::v4}))
            sets += "add " + spec.name + ' ' + entry + '\n';
    }
    write_file(dir + "/ipset.restore", sets);

    std::string batch;
    for (const auto& a : bench.desired.bound_addresses()) {
        batch += "address add ";
        batch += a.to_string();
        batch += "/32 dev kube-ipvs0\n";
    }
    write_file(dir + "/ip.batch", batch);

    // Not part of the reference, but the full sync writes it too:
    // the guest times it separately so the ratio can be read both ways.
    write_file(dir + "/iptables.restore",
               kernel::render_rules(proxy::rule_inputs(bench.options, bench.desired, model::Family::v4)));
    try {
        auto tools = kernel::find_iptables(model::Family::v4, "auto");
        std::printf("iptables_restore %s\n", tools.restore.c_str());
    } catch (const Error& e) {
        std::fprintf(stderr, "proxy-bench: %s\n", e.what());
    }
}

void print_counts(const Bench& bench) {
    std::printf("services %zu\nendpoints %zu\nvirtual_servers %zu\ndestinations %zu\nset_entries %zu\naddresses %zu\n",
                bench.store.service_count(), bench.store.endpoint_count(), bench.desired.virtual_server_count(),
                bench.desired.destination_count(), bench.set_entry_count(), bench.desired.bound_addresses().size());
}

int print_failures(const proxy::SyncReport& report, const char* what) {
    std::printf("%s_failures %zu\n", what, report.failures.size());
    for (std::size_t i = 0; i < report.failures.size() && i < 5; ++i)
        std::fprintf(stderr, "proxy-bench: %s: %s\n", what, report.failures[i].c_str());
    return report.failures.empty() ? 0 : 1;
}

int emit(unsigned n, unsigned m, const std::string& dir) {
    Bench bench(n, m);
    std::printf("plan_seconds %.3f\n", bench.plan_seconds);
    print_counts(bench);
    print_memory();  // the planner's share, without the reconciler's copy of the kernel
    emit_restore(bench, dir);
    return 0;
}

int first_sync(unsigned n, unsigned m, const std::string& emit_dir) {
    Bench bench(n, m);
    if (!emit_dir.empty()) emit_restore(bench, emit_dir);
    Kernel kernel;
    proxy::Reconciler reconciler(kernel.handles(), bench.options);
    auto start = Clock::now();
    auto report = reconciler.full_sync(bench.desired);
    double took = seconds_since(start);
    std::printf("plan_seconds %.3f\nsync_seconds %.3f\n", bench.plan_seconds, took);
    print_counts(bench);
    std::printf("sync_changes %zu\n", report.changes());
    std::fprintf(stderr, "proxy-bench: first sync: %s\n", report.summary().c_str());
    int rc = print_failures(report, "sync");
    print_memory();
    return rc;
}

int scrape(unsigned n, unsigned m) {
    Bench bench(n, m);
    Kernel kernel;
    proxy::Reconciler reconciler(kernel.handles(), bench.options);
    int rc = print_failures(reconciler.full_sync(bench.desired), "sync");
    server::Monitor monitor({model::Family::v4}, std::chrono::seconds(60), std::chrono::system_clock::now());
    std::vector<double> ms;
    std::size_t bytes = 0;
    for (int i = 0; i < 5; ++i) {
        auto start = Clock::now();
        std::string problem;
        auto reply = monitor.metrics({bench.store, bench.desired, &kernel.ipvs}, &problem);
        ms.push_back(seconds_since(start) * 1000);
        bytes = reply.body.size();
        if (!problem.empty()) std::fprintf(stderr, "proxy-bench: scrape: %s\n", problem.c_str());
    }
    std::sort(ms.begin(), ms.end());
    // Where one scrape's time goes, stage by stage.
    auto t = Clock::now();
    auto lap = [&t] {
        double v = seconds_since(t) * 1000;
        t = Clock::now();
        return v;
    };
    auto dump = kernel.ipvs.services();
    double dump_ms = lap();
    std::ifstream proc("/proc/net/ip_vs");
    std::string text((std::istreambuf_iterator<char>(proc)), std::istreambuf_iterator<char>());
    double read_ms = lap();
    auto active = server::parse_proc_ip_vs(text);
    double parse_ms = lap();
    auto owners = server::vs_owners(bench.desired.plans(), bench.store.services());
    double owners_ms = lap();
    auto rows = server::ipvs_rows(dump, active, owners);
    double rows_ms = lap();
    server::ExpositionWriter out;
    server::write_ipvs_metrics(out, rows);
    double write_ms = lap();
    monitor.write_proxy_metrics(out, bench.store);
    double proxy_ms = lap();
    // The alternative for active connections: one destination dump per
    // virtual server.
    std::uint64_t dump_active = 0;
    for (const auto& vs : dump)
        for (const auto& d : kernel.ipvs.destinations(vs)) dump_active += d.active_conns;
    std::printf("alt_destination_dumps_ms %.1f\nalt_active_connections %llu\n", lap(),
                static_cast<unsigned long long>(dump_active));
    std::printf("stage_dump_ms %.1f\nstage_proc_read_ms %.1f\nstage_proc_parse_ms %.1f\nstage_owners_ms %.1f\n"
                "stage_rows_ms %.1f\nstage_write_ms %.1f\nstage_proxy_metrics_ms %.1f\nproc_bytes %zu\n",
                dump_ms, read_ms, parse_ms, owners_ms, rows_ms, write_ms, proxy_ms, text.size());
    std::printf("scrapes %zu\nscrape_min_ms %.1f\nscrape_median_ms %.1f\nscrape_max_ms %.1f\nscrape_bytes %zu\n",
                ms.size(), ms.front(), ms[ms.size() / 2], ms.back(), bytes);
    print_counts(bench);
    return rc;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

int changes(unsigned n, unsigned m, unsigned rounds) {
    if (n == 0 || m == 0 || rounds == 0) throw Error("changes wants N, M and ROUNDS above 0");
    Bench bench(n, m);
    Kernel kernel;
    proxy::Reconciler reconciler(kernel.handles(), bench.options);
    auto start = Clock::now();
    auto first = reconciler.full_sync(bench.desired);
    std::printf("plan_seconds %.3f\nsync_seconds %.3f\n", bench.plan_seconds, seconds_since(start));
    int rc = print_failures(first, "sync");
    // ip_vs calibrates its rate estimator in a kthread after the first
    // service appears (as in ipvs-bench.sh): measure the steady state.
    std::this_thread::sleep_for(std::chrono::seconds(3));

    std::mt19937 random(20240607);
    std::uniform_int_distribution<unsigned> pick_service(0, n - 1), pick_endpoint(0, m - 1);
    std::vector<double> ms, with_sets, ipvs_only;  // all; those that also wrote KUBE-LOOP-BACK; the rest
    ms.reserve(rounds);
    std::size_t failures = 0, unexpected = 0;
    std::vector<std::string> events;
    std::map<std::pair<unsigned, unsigned>, model::IpAddress> replaced;  // (service, endpoint) → address now
    for (unsigned r = 0; r < rounds; ++r) {
        unsigned i = pick_service(random);
        replaced[{i, pick_endpoint(random)}] = v4_at(fresh_base, r);
        // The watch's decoded object, built before the clock starts.
        model::EndpointSlice arriving = make_slice(i, m);
        for (auto it = replaced.lower_bound({i, 0}); it != replaced.end() && it->first.first == i; ++it)
            arriving.endpoints[it->first.second].address = it->second;
        auto t0 = Clock::now();
        bench.store.upsert_slice(std::move(arriving));
        auto delta = bench.store.replan(bench.desired, events);
        auto report = reconciler.apply(bench.desired, delta);
        ms.push_back(seconds_since(t0) * 1000);
        (report.set_added + report.set_deleted > 0 ? with_sets : ipvs_only).push_back(ms.back());
        failures += report.failures.size();
        // One destination in, the old one quiesced and (idle) deleted.
        if (report.dest_added != 1 || report.dest_deleted != 1) {
            if (unexpected++ < 3)
                std::fprintf(stderr, "proxy-bench: change %u: %s\n", r, report.summary().c_str());
        }
    }
    std::printf("rounds %u\np50_ms %.4f\np99_ms %.4f\nmax_ms %.4f\nmean_ms %.4f\n", rounds, percentile(ms, 0.50),
                percentile(ms, 0.99), *std::max_element(ms.begin(), ms.end()),
                [&] {
                    double sum = 0;
                    for (double v : ms) sum += v;
                    return sum / static_cast<double>(ms.size());
                }());
    std::printf("change_failures %zu\nchange_unexpected %zu\n", failures, unexpected);
    // Replacing a local endpoint also changes KUBE-LOOP-BACK (one ipset
    // del + add): shown apart so a slow set path is visible.
    std::printf("ipvs_only_changes %zu\n", ipvs_only.size());
    if (!ipvs_only.empty())
        std::printf("ipvs_only_p50_ms %.4f\nipvs_only_p99_ms %.4f\n", percentile(ipvs_only, 0.50),
                    percentile(ipvs_only, 0.99));
    std::printf("with_set_changes %zu\n", with_sets.size());
    if (!with_sets.empty())
        std::printf("with_set_p50_ms %.4f\nwith_set_p99_ms %.4f\n", percentile(with_sets, 0.50),
                    percentile(with_sets, 0.99));
    print_counts(bench);
    print_memory();
    return rc == 0 && failures == 0 ? 0 : 1;
}

unsigned number(const std::string& text) {
    std::size_t used = 0;
    unsigned long v = std::stoul(text, &used);
    if (used != text.size() || v > 1'000'000) throw Error("not a count: " + text);
    return static_cast<unsigned>(v);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 4 && args[0] == "emit") return emit(number(args[1]), number(args[2]), args[3]);
        if (args.size() == 3 && args[0] == "first-sync") return first_sync(number(args[1]), number(args[2]), "");
        if (args.size() == 5 && args[0] == "first-sync" && args[3] == "--emit-restore")
            return first_sync(number(args[1]), number(args[2]), args[4]);
        if (args.size() == 3 && args[0] == "scrape") return scrape(number(args[1]), number(args[2]));
        if (args.size() == 4 && args[0] == "changes")
            return changes(number(args[1]), number(args[2]), number(args[3]));
        std::fprintf(stderr,
                     "usage: proxy-bench emit N M DIR | first-sync N M [--emit-restore DIR] | scrape N M | "
                     "changes N M ROUNDS\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "proxy-bench: %s\n", e.what());
        return 1;
    }
}
