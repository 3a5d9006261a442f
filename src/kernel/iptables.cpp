#include "kernel/iptables.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

#include "error.hpp"
#include "kernel/iptables_rules.hpp"
#include "kernel/process.hpp"
#include "log/log.hpp"

namespace kipvs::kernel {
namespace {

// k3s ships its own iptables next to its other binaries.
const char* const k3s_bin = "/var/lib/rancher/k3s/data/current/bin";

std::string locate(const std::string& program) {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin";
    path += std::string(":/usr/sbin:/sbin:") + k3s_bin;
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (dir.empty()) continue;
        std::string candidate = dir + "/" + program;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

struct Backend {
    std::string name;
    std::string restore, save;
};

Backend backend_tools(const std::string& prefix, const std::string& name) {
    return {name, locate(prefix + "-" + name + "-restore"), locate(prefix + "-" + name + "-save")};
}

std::size_t rule_count(const std::string& save_output) {
    return static_cast<std::size_t>(std::count(save_output.begin(), save_output.end(), '\n'));
}

}  // namespace

IptablesTools find_iptables(model::Family family, const std::string& preference) {
    std::string prefix = family == model::Family::v4 ? "iptables" : "ip6tables";
    std::vector<Backend> available;
    for (const char* name : {"nft", "legacy"}) {
        Backend b = backend_tools(prefix, name);
        if (!b.restore.empty() && !b.save.empty()) available.push_back(b);
    }
    if (available.empty()) {
        // An iptables without the -nft/-legacy suffixes (older distributions).
        Backend plain{"", locate(prefix + "-restore"), locate(prefix + "-save")};
        if (plain.restore.empty() || plain.save.empty())
            throw Error(prefix + "-restore not found on PATH or in " + k3s_bin);
        auto version = run_process({plain.save, "--version"});
        plain.name = version.out.find("nf_tables") != std::string::npos ? "nft" : "legacy";
        return {plain.restore, plain.save, plain.name, "the only " + prefix + " installed"};
    }
    if (preference != "auto") {
        for (const auto& b : available)
            if (b.name == preference) return {b.restore, b.save, b.name, "kipvs.iptablesBackend: " + preference};
        throw Error(prefix + "-" + preference + "-restore not found (kipvs.iptablesBackend: " + preference + ")");
    }
    if (available.size() == 1)
        return {available[0].restore, available[0].save, available[0].name, "the only backend installed"};
    std::vector<std::size_t> rules;
    for (const auto& b : available) {
        auto saved = run_process({b.save});
        for (const char* hint : {"KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY"}) {
            if (saved.out.find(hint) != std::string::npos)
                return {b.restore, b.save, b.name, std::string("kubelet's ") + hint + " chain is in " + b.name};
        }
        rules.push_back(rule_count(saved.out));
    }
    std::size_t best = rules[1] > rules[0] ? 1 : 0;  // available[0] is nft: it wins a tie
    std::string reason = rules[0] == rules[1] ? "both backends hold " + std::to_string(rules[0]) + " lines; nft is the default"
                                              : "it holds the most rules (" + std::to_string(rules[best]) + " lines)";
    return {available[best].restore, available[best].save, available[best].name, reason};
}

std::string ExecIptables::save(const std::string& table) {
    auto result = run_process({tools_.save, "-t", table});
    if (result.exit_code != 0) throw Error(tools_.save + " -t " + table + " failed: " + result.err);
    return result.out;
}

void ExecIptables::restore(const std::string& payload) {
    auto result = run_process({tools_.restore, "--noflush", "--counters", "-w", "5"}, payload);
    if (result.exit_code != 0)
        throw Error(tools_.restore + " failed (exit " + std::to_string(result.exit_code) + "): " + result.err);
}

std::vector<JumpRule> IptablesApplier::missing_jumps(std::map<std::string, std::string>& saved) {
    std::vector<JumpRule> missing;
    for (const auto& jump : jump_rules()) {
        auto it = saved.find(jump.table);
        if (it == saved.end()) it = saved.emplace(jump.table, kernel_.save(jump.table)).first;
        if (it->second.find("-A " + jump.chain + " " + jump.rule + "\n") == std::string::npos) missing.push_back(jump);
    }
    return missing;
}

namespace {

// One rule in the spelling iptables-save prints back for what kube-proxy
// writes: --or-mark/--xor-mark become --set-xmark, hex loses its leading
// zeros, REJECT's default --reject-with goes, host prefixes (/32, /128)
// and quote escapes go. Applied to both sides of the
// comparison, so a restart over the right rules restores nothing.
std::string normalize_rule(const std::string& line) {
    std::istringstream words(line);
    std::vector<std::string> out;
    for (std::string w; words >> w;) {
        if (w.size() > 2 && w.rfind("0x", 0) == 0) {
            std::string digits = w.substr(2);
            std::string suffix;
            if (auto slash = digits.find('/'); slash != std::string::npos) {
                suffix = digits.substr(slash);
                digits.erase(slash);
            }
            auto first = digits.find_first_not_of('0');
            w = "0x";
            w += first == std::string::npos ? "0" : digits.substr(first);
            if (!suffix.empty()) w += "/" + normalize_rule(suffix.substr(1));
        }
        // iptables-save escapes quotes inside comments and writes host
        // addresses with their prefix length.
        for (auto at = w.find("\\'"); at != std::string::npos; at = w.find("\\'", at)) w.erase(at, 1);
        auto strip = [&](std::string_view suffix, char marker) {
            if (w.size() > suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                w.find(marker) != std::string::npos)
                w.erase(w.size() - suffix.size());
        };
        strip("/32", '.');
        strip("/128", ':');
        out.push_back(std::move(w));
    }
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        if (out[i] == "--or-mark") {
            out[i] = "--set-xmark";
            out[i + 1] += "/" + out[i + 1];
        } else if (out[i] == "--xor-mark") {
            out[i] = "--set-xmark";
            out[i + 1] += "/0x0";
        } else if (out[i] == "--reject-with" &&
                   (out[i + 1] == "icmp-port-unreachable" || out[i + 1] == "icmp6-port-unreachable")) {
            out.erase(out.begin() + static_cast<long>(i), out.begin() + static_cast<long>(i) + 2);
            --i;
        }
    }
    std::string joined;
    for (const auto& w : out) {
        if (!joined.empty()) joined += ' ';
        joined += w;
    }
    return joined;
}

// The rules of kipvs's own chains in one table, chain by chain (a payload
// interleaves chains in write order; *-save groups them), each chain's
// rules in order. Payload and *-save spell rules alike: the netns golden
// test pins it.
std::string own_rules(const std::string& text, const std::string& table) {
    const auto chains = table == "nat" ? nat_chains() : filter_chains();
    std::map<std::string, std::string> by_chain;
    std::size_t start = text.find("*" + table + "\n");
    if (start == std::string::npos) return {};
    std::size_t end = text.find("COMMIT\n", start);
    std::istringstream lines(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("-A ", 0) != 0) continue;
        std::string chain = line.substr(3, line.find(' ', 3) - 3);
        if (std::find(chains.begin(), chains.end(), chain) != chains.end()) by_chain[chain] += normalize_rule(line) + "\n";
    }
    std::string out;
    for (const auto& [chain, rules] : by_chain) out += rules;
    return out;
}

}  // namespace

bool IptablesApplier::apply(const std::string& payload, bool verify) {
    std::vector<JumpRule> missing;
    bool chains_differ = false;
    if (verify || payload != applied_) {
        std::map<std::string, std::string> saved;
        missing = missing_jumps(saved);
        // A verified apply also compares kipvs's chains with the kernel: a
        // rule removed by hand is drift, and rules already right (left by a
        // previous run) need no restore.
        if (verify) {
            for (const char* table : {"nat", "filter"}) {
                auto it = saved.find(table);
                if (it == saved.end()) it = saved.emplace(table, kernel_.save(table)).first;
                auto held = own_rules(it->second, table), wanted = own_rules(payload, table);
                if (held != wanted) {
                    chains_differ = true;
                    log::debug(std::string("iptables: kipvs's ") + table + " chains differ from what it wants; held:\n" +
                               held + "wanted:\n" + wanted);
                }
            }
            if (!chains_differ && missing.empty()) {
                applied_ = payload;
                return false;
            }
        }
    }
    if (payload == applied_ && missing.empty() && !chains_differ) return false;
    // kube-proxy inserts each missing jump at position 1, in list order; the
    // same lines in the restore give the same final order.
    std::string text = payload;
    for (const auto& jump : missing) {
        auto commit = text.find("COMMIT\n", text.find("*" + jump.table + "\n"));
        text.insert(commit, "-I " + jump.chain + " 1 " + jump.rule + "\n");
    }
    ++restores_;
    try {
        kernel_.restore(text);
    } catch (const Error&) {
        applied_.clear();
        throw;
    }
    applied_ = payload;
    return true;
}

}  // namespace kipvs::kernel
