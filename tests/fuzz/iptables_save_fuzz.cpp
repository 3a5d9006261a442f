// Any bytes as `iptables-save` output, read by the two parsers that take
// it: `kipvs cleanup --from iptables` / `kipvs cleanup` (which kube-proxy
// chains to delete) and the applier's drift check (are kipvs's rules and
// jumps still there). Neither may throw or crash, and the cleanup payload
// must be safe to restore: it deletes only kube-proxy chains, only rules
// the save holds, and leaves no remaining rule jumping to a deleted chain.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_property.hpp"
#include "kernel/iptables.hpp"
#include "kernel/iptables_rules.hpp"
#include "proxy/cleanup.hpp"

namespace {

using kipvs::fuzz::property;

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        out.emplace_back(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    }
    return out;
}

bool starts(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The target of an unquoted rule: the word after -j/-g. Rules with quotes or
// escapes are left to the unit tests; the oracle stays simple.
std::string plain_target(const std::string& rule) {
    std::vector<std::string> words;
    std::string_view rest(rule);
    while (!rest.empty()) {
        auto space = rest.find(' ');
        if (space != 0) words.emplace_back(rest.substr(0, space));
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
    for (std::size_t i = 0; i + 1 < words.size(); ++i)
        if (words[i] == "-j" || words[i] == "-g" || words[i] == "--jump" || words[i] == "--goto") return words[i + 1];
    return "";
}

struct Block {
    std::vector<std::pair<std::string, std::string>> rules;  // chain, text after "-A CHAIN "
};

// The save's tables in order, as cleanup reads them ("*name" opens one).
std::vector<std::pair<std::string, Block>> blocks_of(const std::vector<std::string>& lines) {
    std::vector<std::pair<std::string, Block>> out;
    for (const auto& line : lines) {
        if (!line.empty() && line[0] == '*') out.emplace_back(line.substr(1), Block{});
        else if (!out.empty() && starts(line, "-A ") && line.find(' ', 3) != std::string::npos) {
            auto space = line.find(' ', 3);
            out.back().second.rules.emplace_back(line.substr(3, space - 3), line.substr(space + 1));
        }
    }
    return out;
}

void check_other_mode_cleanup(const std::string& saved, const std::vector<std::string>& saved_lines) {
    auto cleanup = kipvs::proxy::iptables_mode_cleanup(saved);
    std::set<std::string> present(saved_lines.begin(), saved_lines.end());
    auto input = blocks_of(saved_lines);
    // A save names each table once; with repeats, which block a payload
    // table came from is ambiguous, so only the shape is checked.
    std::set<std::string> names;
    bool unique_tables = true;
    for (const auto& [name, rules] : input) unique_tables = names.insert(name).second && unique_tables;
    std::size_t block = 0, actions = 0;
    std::string table;
    std::set<std::string> gone;
    std::set<std::pair<std::string, std::string>> deleted;
    auto finish_table = [&] {
        // Each payload table is one of the save's, in order (a save may
        // repeat a table name; cleanup treats each block on its own).
        while (block < input.size() && input[block].first != table) ++block;
        property(block < input.size(), "each payload table is a table of the save");
        if (!unique_tables) return;
        for (const auto& [chain, text] : input[block].second.rules) {
            if (gone.count(chain) != 0 || deleted.count({chain, text}) != 0) continue;
            if (text.find('"') != std::string::npos || text.find('\\') != std::string::npos) continue;
            property(gone.count(plain_target(text)) == 0, "no remaining rule jumps to a deleted chain");
        }
        ++block;
    };
    bool open = false;
    for (const auto& line : lines_of(cleanup.payload)) {
        if (!open) {
            property(!line.empty() && line[0] == '*', "the payload opens a table");
            table = line.substr(1);
            gone.clear();
            deleted.clear();
            open = true;
        } else if (line == "COMMIT") {
            finish_table();
            open = false;
        } else if (starts(line, "-D ")) {
            property(present.count("-A " + line.substr(3)) != 0, "a deleted rule is one the save holds");
            auto space = line.find(' ', 3);
            property(space != std::string::npos, "a deleted rule names its chain");
            deleted.emplace(line.substr(3, space - 3), line.substr(space + 1));
            ++actions;
        } else if (starts(line, "-X ")) {
            std::string chain = line.substr(3);
            property(kipvs::proxy::is_kube_proxy_chain(chain), "only kube-proxy chains are deleted");
            property(cleanup.payload.find(":" + chain + " - [0:0]\n") != std::string::npos,
                     "a deleted chain is flushed first");
            gone.insert(chain);
            ++actions;
        } else {
            bool flush = line.size() > 9 && line[0] == ':' && line.compare(line.size() - 8, 8, " - [0:0]") == 0;
            property(flush, "the payload holds only deletions and chain flushes");
        }
    }
    property(!open, "every payload table is committed");
    property(cleanup.removed.size() == actions, "one report line per deleted rule or chain");
}

void check_own_cleanup(const std::string& saved) {
    std::string payload = kipvs::proxy::cleanup_rules_payload({{"nat", saved}, {"filter", saved}});
    std::set<std::string> ours;
    for (const auto& c : kipvs::kernel::nat_chains()) ours.insert(c);
    for (const auto& c : kipvs::kernel::filter_chains()) ours.insert(c);
    std::set<std::string> jumps;
    for (const auto& j : kipvs::kernel::jump_rules()) jumps.insert("-D " + j.chain + " " + j.rule);
    for (const auto& line : lines_of(payload)) {
        if (starts(line, "-X ")) property(ours.count(line.substr(3)) != 0, "kipvs cleanup deletes only kipvs chains");
        if (starts(line, "-D ")) property(jumps.count(line) != 0, "kipvs cleanup deletes only kipvs's jump rules");
    }
}

void check_nftables_tables(const std::string& listed) {
    for (const auto& table : kipvs::proxy::nftables_mode_tables(listed))
        property(table == "ip kube-proxy" || table == "ip6 kube-proxy", "only kube-proxy's nftables tables");
}

// A kernel that holds the fuzz input as every table's save.
class SavedIptables final : public kipvs::kernel::IptablesKernel {
public:
    explicit SavedIptables(std::string saved) : saved_(std::move(saved)) {}
    std::string save(const std::string&) override { return saved_; }
    void restore(const std::string& payload) override { restored.push_back(payload); }
    std::vector<std::string> restored;

private:
    std::string saved_;
};

void check_applier(const std::string& saved, std::uint8_t shape) {
    kipvs::kernel::RuleInputs inputs;
    inputs.family = shape & 1 ? kipvs::model::Family::v6 : kipvs::model::Family::v4;
    inputs.masquerade_all = shape & 2;
    inputs.random_fully = shape & 4;
    std::string payload = kipvs::kernel::render_rules(inputs);
    SavedIptables kernel(saved);
    kipvs::kernel::IptablesApplier applier(kernel);
    bool restored = applier.apply(payload, true);
    property(restored == !kernel.restored.empty(), "apply says whether it restored");
    if (restored) {
        // The payload itself, plus only the missing jump rules.
        const std::string& text = kernel.restored.back();
        property(text.size() >= payload.size(), "the restore holds the payload");
        std::set<std::string> jumps;
        for (const auto& j : kipvs::kernel::jump_rules()) jumps.insert("-I " + j.chain + " 1 " + j.rule);
        std::set<std::string> wanted;
        for (const auto& line : lines_of(payload)) wanted.insert(line);
        for (const auto& line : lines_of(text))
            property(wanted.count(line) != 0 || jumps.count(line) != 0, "the restore adds only jump rules");
    }
    // What was applied is not applied again without a verify.
    property(!applier.apply(payload, false), "an unchanged payload is not restored again");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string saved(reinterpret_cast<const char*>(data), size);
    auto lines = lines_of(saved);
    check_other_mode_cleanup(saved, lines);
    check_own_cleanup(saved);
    check_nftables_tables(saved);
    check_applier(saved, size > 0 ? data[0] : 0);
    return 0;
}
