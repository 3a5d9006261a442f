#include "proxy/cleanup.hpp"

#include <algorithm>
#include <set>

#include "error.hpp"
#include "kernel/iptables_rules.hpp"
#include "kernel/kube_sets.hpp"

namespace kipvs::proxy {
namespace {

bool contains_line(const std::string& text, const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
}

}  // namespace

std::string cleanup_rules_payload(const std::map<std::string, std::string>& saved) {
    std::string payload;
    for (const char* table : {"nat", "filter"}) {
        auto it = saved.find(table);
        if (it == saved.end()) continue;
        const std::string& text = it->second;
        std::string part;
        // Jump rules first, so the chains are unreferenced when deleted.
        for (const auto& jump : kernel::jump_rules())
            if (jump.table == table && contains_line(text, "-A " + jump.chain + " " + jump.rule))
                part += "-D " + jump.chain + " " + jump.rule + "\n";
        std::vector<std::string> present;
        for (const auto& chain : std::string(table) == "nat" ? kernel::nat_chains() : kernel::filter_chains())
            if (text.find(":" + chain + " ") != std::string::npos) present.push_back(chain);
        // Declaring a chain in a restore flushes it; then none refers to another.
        for (const auto& chain : present) part += ":" + chain + " - [0:0]\n";
        for (const auto& chain : present) part += "-X " + chain + "\n";
        if (!part.empty()) payload += std::string("*") + table + "\n" + part + "COMMIT\n";
    }
    return payload;
}

CleanupReport cleanup(kernel::IpvsKernel& ipvs, kernel::IpsetKernel& ipset, kernel::LinkKernel& links,
                      const std::map<model::Family, kernel::IptablesKernel*>& iptables, const CleanupOptions& options) {
    CleanupReport report;
    std::set<model::IpAddress> bound;
    bool have_link = links.exists(kernel::ipvs_interface);
    if (have_link)
        for (const auto& a : links.addresses(kernel::ipvs_interface)) bound.insert(a);
    std::set<model::IpAddress> node(options.node_addresses.begin(), options.node_addresses.end());

    // Virtual servers: only IPVS mode's.
    std::vector<kernel::IpvsOp> ops;
    for (const auto& vs : ipvs.services()) {
        std::string name = vs.describe();
        if (vs.fwmark != 0) {
            report.kept.push_back(name + ": a firewall-mark service, never IPVS mode's");
            continue;
        }
        bool excluded = std::any_of(options.exclude_cidrs.begin(), options.exclude_cidrs.end(),
                                    [&](const model::Cidr& c) { return c.contains(vs.address); });
        bool on_ipvs0 = bound.count(vs.address) != 0;
        bool node_port = node.count(vs.address) != 0 && vs.port >= options.node_port_min && vs.port <= options.node_port_max;
        if (excluded) report.kept.push_back(name + ": inside excludeCIDRs");
        else if (!on_ipvs0 && !node_port) report.kept.push_back(name + ": not on kube-ipvs0 nor a NodePort");
        else ops.push_back(kernel::IpvsOp::remove(vs));
    }
    auto results = ipvs.apply(ops);
    for (std::size_t i = 0; i < ops.size(); ++i) {
        if (results[i].ok()) report.removed.push_back("virtual server " + ops[i].service.describe());
        else report.failures.push_back(results[i].message);
    }

    // Rules before the sets they reference.
    for (const auto& [family, rules] : iptables) {
        if (rules == nullptr) continue;
        try {
            std::map<std::string, std::string> saved{{"nat", rules->save("nat")}, {"filter", rules->save("filter")}};
            std::string payload = cleanup_rules_payload(saved);
            if (payload.empty()) continue;
            rules->restore(payload);
            report.removed.push_back(std::string(model::family_name(family)) + " chains and jump rules");
        } catch (const Error& e) {
            report.failures.push_back(std::string(model::family_name(family)) + " rules: " + e.what());
        }
    }

    try {
        for (const auto& name : ipset.set_names()) {
            if (!kernel::is_kube_set_name(name)) continue;
            try {
                ipset.destroy(name);
                report.removed.push_back("set " + name);
            } catch (const Error& e) {
                report.failures.push_back(std::string("set ") + name + ": " + e.what());
            }
        }
    } catch (const Error& e) {
        report.failures.push_back(std::string("listing sets: ") + e.what());
    }

    if (have_link) {
        try {
            links.delete_link(kernel::ipvs_interface);
            report.removed.push_back(std::string("interface ") + kernel::ipvs_interface);
        } catch (const Error& e) {
            report.failures.push_back(std::string(kernel::ipvs_interface) + ": " + e.what());
        }
    }
    return report;
}

}  // namespace kipvs::proxy
