#include "proxy/state_view.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "kernel/ipvs_format.hpp"

namespace kipvs::proxy {
namespace {

using model::Family;

const std::vector<std::string>& builtin_chains(const std::string& table) {
    // The order iptables-save lists a table's built-in chains in.
    static const std::vector<std::string> nat = {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"};
    static const std::vector<std::string> filter = {"INPUT", "FORWARD", "OUTPUT"};
    return table == "nat" ? nat : filter;
}

std::vector<std::string> own_chains(const std::string& table) {
    return table == "nat" ? kernel::nat_chains() : kernel::filter_chains();
}

const char* const tables[] = {"nat", "filter"};

// kipvs's part of one table, as iptables-save groups it.
struct SavedTable {
    std::string name;
    std::set<std::string> chains;                           // kipvs's, declared
    std::map<std::string, std::vector<std::string>> rules;  // chain → rules after "-A CHAIN "

    std::string print() const {
        std::string out = "*" + name + "\n";
        for (const auto& chain : chains) {
            out += ':';
            out += chain;
            out += " - [0:0]\n";
        }
        auto print_chain = [&](const std::string& chain) {
            auto it = rules.find(chain);
            if (it == rules.end()) return;
            for (const auto& rule : it->second) {
                out += "-A ";
                out += chain;
                out += ' ';
                out += rule;
                out += '\n';
            }
        };
        for (const auto& chain : builtin_chains(name)) print_chain(chain);
        for (const auto& chain : chains) print_chain(chain);
        return out + "COMMIT\n";
    }
};

// "-A CHAIN rule…" → {CHAIN, rule…}
std::pair<std::string, std::string> split_append(const std::string& line) {
    auto space = line.find(' ', 3);
    if (space == std::string::npos) return {line.substr(3), ""};
    return {line.substr(3, space - 3), line.substr(space + 1)};
}

// A rule's words; a double-quoted string (with backslash escapes) is one word.
std::vector<std::string> words(const std::string& rule) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < rule.size()) {
        if (rule[i] == ' ') {
            ++i;
            continue;
        }
        std::string word;
        bool quoted = false;
        for (; i < rule.size(); ++i) {
            char c = rule[i];
            if (!quoted && c == ' ') break;
            if (c == '\\' && i + 1 < rule.size()) {
                word += c;
                word += rule[++i];
                continue;
            }
            if (c == '"') quoted = !quoted;
            word += c;
        }
        out.push_back(std::move(word));
    }
    return out;
}

std::string hex(unsigned long value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%lx", value);
    return buf;
}

unsigned long number(const std::string& text) { return std::strtoul(text.c_str(), nullptr, 0); }

// "0x004000/0x004000" → "0x4000/0x4000"; a full mask is not printed.
std::string mark_value(const std::string& text) {
    auto slash = text.find('/');
    unsigned long value = number(text.substr(0, slash));
    unsigned long mask = slash == std::string::npos ? 0xffffffffUL : number(text.substr(slash + 1));
    std::string out = hex(value);
    if (mask != 0xffffffffUL) {
        out += '/';
        out += hex(mask);
    }
    return out;
}

std::string with_prefix(const std::string& address, Family family) {
    if (address.find('/') != std::string::npos) return address;
    return address + (family == Family::v4 ? "/32" : "/128");
}

std::string protocol_number(const std::string& name) {
    if (name == "tcp") return "6";
    if (name == "udp") return "17";
    if (name == "sctp") return "132";
    return name;
}

// "a 'b'" → "a \'b\'", as xtables_save_string escapes quotes.
std::string escaped(const std::string& quoted) {
    std::string out;
    for (std::size_t i = 0; i < quoted.size(); ++i) {
        if (quoted[i] == '\\' && i + 1 < quoted.size()) {
            out += quoted[i];
            out += quoted[++i];
            continue;
        }
        if (quoted[i] == '\'') out += '\\';
        out += quoted[i];
    }
    return out;
}


std::string rules_header(Family family) {
    std::string out = "# ";
    out += model::family_name(family);
    out += family == Family::v4 ? " rules (iptables-save)\n" : " rules (ip6tables-save)\n";
    return out;
}

}  // namespace

std::string saved_spelling(const std::string& rule, Family family) {
    std::vector<std::string> in = words(rule), out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const std::string& w = in[i];
        bool has_next = i + 1 < in.size();
        if ((w == "-s" || w == "-d") && has_next) {
            out.push_back(w);
            out.push_back(with_prefix(in[++i], family));
        } else if ((w == "--or-mark" || w == "--xor-mark") && has_next) {
            unsigned long value = number(in[++i]);
            out.push_back("--set-xmark");
            out.push_back(w == "--or-mark" ? hex(value) + "/" + hex(value) : hex(value) + "/0x0");
        } else if (w == "--mark" && has_next) {
            out.push_back(w);
            out.push_back(mark_value(in[++i]));
        } else if (w == "ipvs" && !out.empty() && out.back() == "-m") {
            // libxt_ipvs saves its options in a fixed order, protocols by number.
            out.push_back(w);
            std::map<std::string, std::string> options;
            std::vector<std::string> order;
            while (i + 2 < in.size() && in[i + 1].rfind("--v", 0) == 0) {
                options[in[i + 1]] = in[i + 2];
                order.push_back(in[i + 1]);
                i += 2;
            }
            if (options.count("--vproto")) options["--vproto"] = protocol_number(options["--vproto"]);
            if (options.count("--vaddr")) options["--vaddr"] = with_prefix(options["--vaddr"], family);
            std::vector<std::string> fixed = {"--vproto", "--vaddr", "--vport"};
            for (const auto& name : order)
                if (std::find(fixed.begin(), fixed.end(), name) == fixed.end()) fixed.push_back(name);
            for (const auto& name : fixed) {
                auto it = options.find(name);
                if (it == options.end()) continue;
                out.push_back(name);
                out.push_back(it->second);
            }
        } else if (!w.empty() && w.front() == '"') {
            out.push_back(escaped(w));
        } else {
            out.push_back(w);
        }
    }
    if (out.size() >= 2 && out[out.size() - 2] == "-j" && out.back() == "REJECT") {
        out.push_back("--reject-with");
        out.push_back(family == Family::v4 ? "icmp-port-unreachable" : "icmp6-port-unreachable");
    }
    std::string text;
    for (const auto& w : out) {
        if (!text.empty()) text += ' ';
        text += w;
    }
    return text;
}

StateView view_of(const DesiredState& desired, const ReconcilerOptions& options) {
    StateView view;
    for (const auto& key : desired.virtual_server_keys())
        if (const auto* planned = desired.virtual_server(key)) view.ipvs.push_back(planned->table());
    kernel::sort_table(view.ipvs);

    for (auto family : {Family::v4, Family::v6}) {
        if (std::find(options.families.begin(), options.families.end(), family) == options.families.end()) continue;
        for (const auto& info : kernel::kube_sets())
            view.sets.emplace_back(kernel::kube_set_spec(info.id, family, options.ipset_max_elements),
                                   desired.set_entries({info.id, family}));

        std::map<std::string, SavedTable> saved;
        std::istringstream lines(kernel::render_rules(rule_inputs(options, desired, family)));
        SavedTable* table = nullptr;
        for (std::string line; std::getline(lines, line);) {
            if (line.empty()) continue;
            if (line[0] == '*') {
                table = &saved[line.substr(1)];
                table->name = line.substr(1);
            } else if (table && line[0] == ':') {
                table->chains.insert(line.substr(1, line.find(' ') - 1));
            } else if (table && line.rfind("-A ", 0) == 0) {
                auto [chain, rule] = split_append(line);
                table->rules[chain].push_back(saved_spelling(rule, family));
            }
        }
        // Each jump is inserted at position 1, in list order (as kube-proxy
        // and the applier do), so the last one inserted is listed first.
        for (const auto& jump : kernel::jump_rules()) {
            auto& rules = saved[jump.table].rules[jump.chain];
            rules.insert(rules.begin(), saved_spelling(jump.rule, family));
        }
        std::string text;
        for (const char* name : tables) {
            saved[name].name = name;
            text += saved[name].print();
        }
        view.rules[family] = text;
    }

    view.addresses = desired.bound_addresses();
    std::sort(view.addresses.begin(), view.addresses.end());
    return view;
}

StateView read_view(kernel::IpvsKernel& ipvs, kernel::IpsetKernel& ipset, kernel::LinkKernel& links,
                    const std::map<Family, kernel::IptablesKernel*>& iptables, unsigned ipset_max_elements) {
    StateView view;
    view.ipvs = ipvs.table();
    kernel::sort_table(view.ipvs);

    std::set<std::string> present;
    for (const auto& name : ipset.set_names())
        if (kernel::is_kube_set_name(name)) present.insert(name);
    for (auto family : {Family::v4, Family::v6}) {
        for (const auto& info : kernel::kube_sets()) {
            auto spec = kernel::kube_set_spec(info.id, family, ipset_max_elements);
            if (present.count(spec.name) == 0) continue;
            auto entries = ipset.entries(spec.name);
            view.sets.emplace_back(std::move(spec), std::move(entries));
        }
    }

    if (links.exists(kernel::ipvs_interface)) view.addresses = links.addresses(kernel::ipvs_interface);
    std::sort(view.addresses.begin(), view.addresses.end());

    for (const auto& [family, kernel] : iptables) {
        if (!kernel) continue;
        std::string text;
        for (const char* name : tables) {
            SavedTable table;
            table.name = name;
            const auto own = own_chains(name);
            std::set<std::pair<std::string, std::string>> jumps;
            for (const auto& jump : kernel::jump_rules())
                if (jump.table == name) jumps.emplace(jump.chain, saved_spelling(jump.rule, family));
            const auto& builtin = builtin_chains(name);
            std::istringstream lines(kernel->save(name));
            for (std::string line; std::getline(lines, line);) {
                if (line.empty() || line[0] == '#') continue;
                if (line[0] == ':') {
                    std::string chain = line.substr(1, line.find(' ') - 1);
                    if (std::find(own.begin(), own.end(), chain) != own.end()) table.chains.insert(chain);
                } else if (line.rfind("-A ", 0) == 0) {
                    auto [chain, rule] = split_append(line);
                    rule = saved_spelling(rule, family);
                    bool ours = std::find(own.begin(), own.end(), chain) != own.end();
                    bool jump = std::find(builtin.begin(), builtin.end(), chain) != builtin.end() &&
                                jumps.count({chain, rule}) != 0;
                    if (ours || jump) table.rules[chain].push_back(rule);
                }
            }
            text += table.print();
        }
        view.rules[family] = text;
    }
    return view;
}

std::string format_ipvsadm(const StateView& view) { return kernel::format_ipvsadm(view.ipvs); }

std::string format_save(const StateView& view) {
    std::string out = "# IPVS (ipvsadm -S -n)\n";
    out += kernel::format_ipvsadm(view.ipvs);
    out += "# ipsets (ipset save)\n";
    for (const auto& [spec, entries] : view.sets) {
        out += "create ";
        out += spec.create_arguments();
        out += '\n';
        for (const auto& entry : entries) {
            out += "add ";
            out += spec.name;
            out += ' ';
            out += entry;
            out += '\n';
        }
    }
    out += "# kube-ipvs0 addresses\n";
    for (const auto& address : view.addresses) {
        out += address.to_string();
        out += '\n';
    }
    for (const auto& [family, rules] : view.rules) {
        out += rules_header(family);
        out += rules;
    }
    return out;
}

std::string format_json(const StateView& view) {
    std::string ipvs = kernel::format_json(view.ipvs);
    while (!ipvs.empty() && ipvs.back() == '\n') ipvs.pop_back();
    std::string out = "{\"ipvs\":";
    out += ipvs;
    out += ",\n\"sets\":[";
    bool first = true;
    for (const auto& [spec, entries] : view.sets) {
        out += first ? "\n" : ",\n";
        first = false;
        out += "{\"name\":" + kernel::json_string(spec.name) + ",\"type\":" + kernel::json_string(std::string(set_type_name(spec.type)));
        if (spec.type == kernel::SetType::bitmap_port) {
            out += ",\"range\":\"0-65535\"";
        } else {
            out += ",\"family\":";
            out += spec.family == Family::v4 ? "\"inet\"" : "\"inet6\"";
            out += ",\"hashsize\":" + std::to_string(spec.hashsize) + ",\"maxelem\":" + std::to_string(spec.maxelem);
        }
        out += ",\"entries\":[";
        bool first_entry = true;
        for (const auto& entry : entries) {
            if (!first_entry) out += ',';
            first_entry = false;
            out += kernel::json_string(entry);
        }
        out += "]}";
    }
    out += "],\n\"addresses\":[";
    for (std::size_t i = 0; i < view.addresses.size(); ++i) {
        if (i > 0) out += ',';
        out += kernel::json_string(view.addresses[i].to_string());
    }
    out += "],\n\"rules\":{";
    first = true;
    for (const auto& [family, rules] : view.rules) {
        if (!first) out += ',';
        first = false;
        out += kernel::json_string(std::string(model::family_name(family)));
        out += ":[";
        std::istringstream lines(rules);
        bool first_line = true;
        for (std::string line; std::getline(lines, line);) {
            if (!first_line) out += ',';
            first_line = false;
            out += kernel::json_string(line);
        }
        out += ']';
    }
    out += "}}\n";
    return out;
}

std::string diff_lines(const std::string& before, const std::string& after) {
    auto split = [](const std::string& text) {
        std::vector<std::string> lines;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        return lines;
    };
    const auto a = split(before), b = split(after);
    std::size_t prefix = 0;
    while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
    std::size_t suffix = 0;
    while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
           a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
        ++suffix;
    const std::size_t n = a.size() - prefix - suffix, m = b.size() - prefix - suffix;
    std::string out;
    auto emit = [&out](const char* sign, const std::string& line) {
        out += sign;
        out += line;
        out += '\n';
    };
    // A longest common subsequence over what differs; past a few million
    // cells (a change touching most of a big table) the removed and added
    // lines are listed as multisets instead, which loses only reorderings.
    constexpr std::size_t max_cells = 4'000'000;
    if (n * m > max_cells) {
        std::map<std::string, long> count;
        for (std::size_t i = 0; i < m; ++i) ++count[b[prefix + i]];
        for (std::size_t i = 0; i < n; ++i)
            if (--count[a[prefix + i]] < 0) emit("- ", a[prefix + i]);
        count.clear();
        for (std::size_t i = 0; i < n; ++i) ++count[a[prefix + i]];
        for (std::size_t i = 0; i < m; ++i)
            if (--count[b[prefix + i]] < 0) emit("+ ", b[prefix + i]);
        return out;
    }
    std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = m; j-- > 0;)
            at(i, j) = a[prefix + i] == b[prefix + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[prefix + i] == b[prefix + j]) {
            ++i;
            ++j;
        } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
            emit("- ", a[prefix + i++]);
        } else {
            emit("+ ", b[prefix + j++]);
        }
    }
    return out;
}

}  // namespace kipvs::proxy
