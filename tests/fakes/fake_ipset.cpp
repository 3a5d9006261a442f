#include "fake_ipset.hpp"

#include "error.hpp"

namespace kipvs::test {

std::vector<std::string> FakeIpset::set_names() {
    std::vector<std::string> out;
    for (const auto& [name, set] : sets) out.push_back(name);
    return out;
}

void FakeIpset::ensure(const kernel::SetSpec& spec) {
    auto it = sets.find(spec.name);
    if (it != sets.end() && it->second.spec == spec) return;
    if (it != sets.end()) {
        replace(spec, it->second.entries);
        return;
    }
    writes.push_back("create " + spec.name);
    sets[spec.name] = Set{spec, {}};
}

std::set<std::string> FakeIpset::entries(const std::string& set) {
    ++reads;
    auto it = sets.find(set);
    if (it == sets.end()) throw Error("ipset: reading " + set + " failed: The set with the given name does not exist");
    return it->second.entries;
}

std::vector<kernel::IpsetFailure> FakeIpset::change(const std::string& set,
                                                     const std::vector<kernel::IpsetChange>& changes) {
    auto it = sets.find(set);
    if (it == sets.end()) return {{set, "", "The set with the given name does not exist"}};
    for (const auto& c : changes) {
        bool add = c.kind == kernel::IpsetChange::Kind::add;
        writes.push_back(std::string(add ? "add " : "del ") + set + " " + c.entry);
        if (!add) {
            it->second.entries.erase(c.entry);
        } else if (!it->second.entries.count(c.entry)) {
            // The kernel stops a batch at its first refusal.
            if (it->second.entries.size() >= it->second.spec.maxelem)
                return {{set, c.entry, "Hash is full, cannot add more elements"}};
            it->second.entries.insert(c.entry);
        }
    }
    return {};
}

void FakeIpset::replace(const kernel::SetSpec& spec, const std::set<std::string>& entries) {
    writes.push_back("replace " + spec.name + " " + std::to_string(entries.size()));
    sets[spec.name] = Set{spec, entries};
}

void FakeIpset::destroy(const std::string& set) {
    writes.push_back("destroy " + set);
    sets.erase(set);
}

}  // namespace kipvs::test
