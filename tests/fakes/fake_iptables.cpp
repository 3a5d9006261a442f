#include "fake_iptables.hpp"

#include <algorithm>
#include <sstream>

#include "error.hpp"

namespace kipvs::test {

std::string FakeIptables::save(const std::string& table) {
    std::string out = "*" + table + "\n";
    auto it = tables.find(table);
    if (it != tables.end()) {
        for (const auto& [chain, rules] : it->second) out += ":" + chain + " - [0:0]\n";
        for (const auto& [chain, rules] : it->second)
            for (const auto& rule : rules) out += "-A " + chain + " " + rule + "\n";
    }
    return out + "COMMIT\n";
}

void FakeIptables::restore(const std::string& payload) {
    ++restores;
    if (fail_next_restore) {
        fail_next_restore = false;
        throw Error("iptables-restore failed (exit 1): fake refusal");
    }
    auto staged = tables;  // a restore applies whole or not at all
    std::istringstream lines(payload);
    std::string table;
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] == '#' || line == "COMMIT") continue;
        if (line[0] == '*') {
            table = line.substr(1);
        } else if (line[0] == ':') {
            staged[table][line.substr(1, line.find(' ') - 1)].clear();
        } else if (line.rfind("-A ", 0) == 0) {
            auto space = line.find(' ', 3);
            staged[table][line.substr(3, space - 3)].push_back(line.substr(space + 1));
        } else if (line.rfind("-I ", 0) == 0) {
            auto space = line.find(' ', 3);
            std::string chain = line.substr(3, space - 3);
            auto rest = line.substr(space + 1);  // "1 rule…"
            auto& rules = staged[table][chain];
            rules.insert(rules.begin(), rest.substr(rest.find(' ') + 1));
        } else if (line.rfind("-D ", 0) == 0) {
            auto space = line.find(' ', 3);
            auto& rules = staged[table][line.substr(3, space - 3)];
            auto it = std::find(rules.begin(), rules.end(), line.substr(space + 1));
            if (it == rules.end()) throw Error("iptables-restore failed (exit 1): no such rule: " + line);
            rules.erase(it);
        } else if (line.rfind("-X ", 0) == 0) {
            auto chain = line.substr(3);
            auto& chains = staged[table];
            auto it = chains.find(chain);
            if (it == chains.end() || !it->second.empty())
                throw Error("iptables-restore failed (exit 1): cannot delete chain " + chain);
            chains.erase(it);
        } else {
            throw Error("iptables-restore failed (exit 2): cannot parse: " + line);
        }
    }
    tables = std::move(staged);
}

}  // namespace kipvs::test
