#include "kernel/iptables.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

#include "error.hpp"
#include "kernel/iptables_rules.hpp"
#include "kernel/process.hpp"

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

std::vector<JumpRule> IptablesApplier::missing_jumps() {
    std::vector<JumpRule> missing;
    std::map<std::string, std::string> saved;  // table → its *-save output
    for (const auto& jump : jump_rules()) {
        auto it = saved.find(jump.table);
        if (it == saved.end()) it = saved.emplace(jump.table, kernel_.save(jump.table)).first;
        if (it->second.find("-A " + jump.chain + " " + jump.rule + "\n") == std::string::npos) missing.push_back(jump);
    }
    return missing;
}

bool IptablesApplier::apply(const std::string& payload, bool verify) {
    std::vector<JumpRule> missing;
    if (verify || payload != applied_) missing = missing_jumps();
    if (payload == applied_ && missing.empty()) return false;
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
