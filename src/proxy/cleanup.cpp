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

// The target of a saved rule ("-j X" or "-g X"), "" when it has none.
// Quoted words (comments) are skipped whole, so a comment holding " -j "
// is not taken for a target.
std::string rule_target(const std::string& rule) {
    std::vector<std::string> words;
    std::string word;
    bool quoted = false, in_word = false;
    for (std::size_t i = 0; i < rule.size(); ++i) {
        char c = rule[i];
        if (quoted) {
            if (c == '\\' && i + 1 < rule.size()) word += rule[++i];
            else if (c == '"') quoted = false;
            else word += c;
        } else if (c == '"') {
            quoted = in_word = true;
        } else if (c == ' ') {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word) words.push_back(word);
    for (std::size_t i = 0; i + 1 < words.size(); ++i)
        if (words[i] == "-j" || words[i] == "-g" || words[i] == "--jump" || words[i] == "--goto") return words[i + 1];
    return "";
}

struct SavedRule {
    std::string chain, text, target;  // text: what follows "-A CHAIN "
};

struct SavedTable {
    std::string name;
    std::vector<std::pair<std::string, bool>> chains;  // name, built-in (has a policy)
    std::vector<SavedRule> rules;
};

std::vector<SavedTable> parse_save(const std::string& saved) {
    std::vector<SavedTable> tables;
    std::size_t begin = 0;
    while (begin < saved.size()) {
        std::size_t end = saved.find('\n', begin);
        if (end == std::string::npos) end = saved.size();
        std::string line = saved.substr(begin, end - begin);
        begin = end + 1;
        if (line.empty() || line[0] == '#') continue;
        if (line[0] == '*') {
            tables.push_back({line.substr(1), {}, {}});
        } else if (tables.empty() || line == "COMMIT") {
            continue;
        } else if (line[0] == ':') {
            std::size_t space = line.find(' ');
            std::string name = line.substr(1, space == std::string::npos ? std::string::npos : space - 1);
            bool builtin = space != std::string::npos && line.compare(space + 1, 2, "- ") != 0 &&
                           line.compare(space + 1, std::string::npos, "-") != 0;
            // The hook chains by name too, for a save that does not declare them.
            for (const char* hook : {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"})
                if (name == hook) builtin = true;
            tables.back().chains.emplace_back(name, builtin);
        } else if (line.rfind("-A ", 0) == 0) {
            std::size_t space = line.find(' ', 3);
            if (space == std::string::npos) continue;
            std::string text = line.substr(space + 1);
            tables.back().rules.push_back({line.substr(3, space - 3), text, rule_target(text)});
        }
    }
    return tables;
}

// The chains of `ours` that a foreign chain (neither built in nor ours)
// jumps to, and those they reach in turn: deleting one would break the
// foreign rule, and the restore would fail on the reference. `why` gets one
// line per chain.
std::set<std::string> referenced_from_foreign(const SavedTable& table, const std::set<std::string>& ours,
                                              std::vector<std::string>& why) {
    std::set<std::string> builtin;
    for (const auto& [name, is_builtin] : table.chains)
        if (is_builtin) builtin.insert(name);
    std::set<std::string> kept;
    std::vector<std::string> queue;
    for (const auto& r : table.rules) {
        bool foreign = builtin.count(r.chain) == 0 && ours.count(r.chain) == 0;
        if (foreign && ours.count(r.target) != 0 && kept.insert(r.target).second) {
            why.push_back(table.name + " " + r.target + ": the foreign chain " + r.chain + " jumps to it");
            queue.push_back(r.target);
        }
    }
    while (!queue.empty()) {
        std::string chain = queue.back();
        queue.pop_back();
        for (const auto& r : table.rules)
            if (r.chain == chain && ours.count(r.target) != 0 && kept.insert(r.target).second) {
                why.push_back(table.name + " " + r.target + ": kept " + chain + " jumps to it");
                queue.push_back(r.target);
            }
    }
    return kept;
}

}  // namespace

bool is_kube_proxy_chain(const std::string& name) {
    static const std::set<std::string> exact = [] {
        std::set<std::string> names = {"KUBE-SERVICES",  "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS",
                                       "KUBE-POSTROUTING", "KUBE-MARK-MASQ",       "KUBE-FORWARD",
                                       "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY"};
        for (const auto& c : kernel::nat_chains()) names.insert(c);
        for (const auto& c : kernel::filter_chains()) names.insert(c);
        return names;
    }();
    if (exact.count(name) != 0) return true;
    for (const char* prefix : {"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-", "KUBE-XLB-"})
        if (name.rfind(prefix, 0) == 0) return true;
    return false;
}

OtherModeCleanup iptables_mode_cleanup(const std::string& saved) {
    OtherModeCleanup out;
    for (const auto& table : parse_save(saved)) {
        std::set<std::string> builtin, kube;
        for (const auto& [name, is_builtin] : table.chains) {
            if (is_builtin) builtin.insert(name);
            else if (is_kube_proxy_chain(name)) kube.insert(name);
        }
        std::set<std::string> kept = referenced_from_foreign(table, kube, out.kept);
        std::string part;
        for (const auto& r : table.rules) {
            if (builtin.count(r.chain) == 0 || kube.count(r.target) == 0 || kept.count(r.target) != 0) continue;
            part += "-D " + r.chain + " " + r.text + "\n";
            out.removed.push_back(table.name + " jump " + r.chain + " -> " + r.target);
        }
        std::vector<std::string> gone;
        for (const auto& chain : kube)
            if (kept.count(chain) == 0) gone.push_back(chain);
        // Declaring a chain in a restore flushes it; then none of them
        // refers to another and each can be deleted.
        for (const auto& chain : gone) part += ":" + chain + " - [0:0]\n";
        for (const auto& chain : gone) {
            part += "-X " + chain + "\n";
            out.removed.push_back(table.name + " " + chain);
        }
        if (!part.empty()) out.payload += "*" + table.name + "\n" + part + "COMMIT\n";
    }
    return out;
}

std::vector<std::string> nftables_mode_tables(const std::string& listed) {
    std::vector<std::string> out;
    for (const char* table : {"ip kube-proxy", "ip6 kube-proxy"}) {
        std::string line = std::string("table ") + table;
        std::size_t at = 0;
        while ((at = listed.find(line, at)) != std::string::npos) {
            bool starts = at == 0 || listed[at - 1] == '\n';
            std::size_t after = at + line.size();
            bool ends = after == listed.size() || listed[after] == '\n' || listed[after] == ' ';
            if (starts && ends) {
                out.emplace_back(table);
                break;
            }
            at = after;
        }
    }
    return out;
}

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
        // One that a foreign chain still jumps to stays (kube-proxy's
        // iptables mode leftovers kept by --from iptables, say).
        auto parsed = parse_save(text);
        if (!parsed.empty()) {
            std::vector<std::string> why;
            auto kept = referenced_from_foreign(parsed.front(), {present.begin(), present.end()}, why);
            present.erase(std::remove_if(present.begin(), present.end(),
                                         [&](const std::string& c) { return kept.count(c) != 0; }),
                          present.end());
        }
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
