#include "kernel/ipset_sync.hpp"

#include <algorithm>
#include <iterator>

#include "error.hpp"
#include "kernel/kube_sets.hpp"

namespace kipvs::kernel {
namespace {

// kipvs never writes a set it does not own, on either path.
void require_owned(const SetSpec& spec) {
    if (!is_kube_set_name(spec.name)) throw Error("ipset: refusing to manage \"" + spec.name + "\": not a kipvs set");
}

IpsetFailure set_full(const SetSpec& spec, std::size_t wanted) {
    return {spec.name, "",
            "the set is full: " + std::to_string(wanted) + " entries wanted, maxelem is " +
                std::to_string(spec.maxelem) + " (raise kipvs.ipsetMaxElements)"};
}

}  // namespace

IpsetSync::Result IpsetSync::sync(const SetSpec& spec, const std::set<std::string>& desired) {
    require_owned(spec);
    Result result;
    std::set<std::string> wanted;
    for (const auto& entry : desired) {
        auto checked = check_entry(spec, entry);
        if (!checked.canonical) {
            result.failures.push_back({spec.name, entry, checked.problem});
            continue;
        }
        wanted.insert(*checked.canonical);
    }
    if (!result.failures.empty()) return result;
    if (wanted.size() > spec.maxelem) {
        result.failures.push_back(set_full(spec, wanted.size()));
        return result;
    }

    std::set<std::string>& current = known(spec);

    std::vector<std::string> to_delete, to_add;
    std::set_difference(current.begin(), current.end(), wanted.begin(), wanted.end(), std::back_inserter(to_delete));
    std::set_difference(wanted.begin(), wanted.end(), current.begin(), current.end(), std::back_inserter(to_add));
    std::vector<IpsetChange> changes;
    changes.reserve(to_delete.size() + to_add.size());
    for (auto& e : to_delete) changes.push_back({IpsetChange::Kind::del, std::move(e)});
    for (auto& e : to_add) changes.push_back({IpsetChange::Kind::add, std::move(e)});
    std::size_t deletions = to_delete.size();
    if (changes.empty()) return result;

    // When most of what the set holds goes away, swapping in a new content
    // shows the kernel's users no half-changed set and costs no more.
    if (!current.empty() && deletions * 2 > current.size()) {
        kernel_.replace(spec, wanted);
        result.replaced = true;
        result.added = changes.size() - deletions;
        result.deleted = deletions;
        current = std::move(wanted);
        return result;
    }
    result.failures = kernel_.change(spec.name, changes);
    result.deleted = deletions;
    result.added = changes.size() - deletions;
    if (result.failures.empty()) {
        current = std::move(wanted);
    } else {
        known_.erase(spec.name);  // unsure what applied: read it again next time
    }
    return result;
}

std::set<std::string>& IpsetSync::known(const SetSpec& spec) {
    auto ensured = ensured_.find(spec.name);
    if (ensured == ensured_.end() || !(ensured->second == spec)) {
        kernel_.ensure(spec);
        ensured_[spec.name] = spec;
        known_.erase(spec.name);
    }
    auto it = known_.find(spec.name);
    if (it == known_.end()) it = known_.emplace(spec.name, kernel_.entries(spec.name)).first;
    return it->second;
}

IpsetSync::Result IpsetSync::update(const SetSpec& spec, const std::vector<std::string>& add,
                                    const std::vector<std::string>& remove) {
    require_owned(spec);
    Result result;
    std::vector<IpsetChange> changes;
    auto checked = [&](const std::string& entry, IpsetChange::Kind kind) {
        auto c = check_entry(spec, entry);
        if (!c.canonical) result.failures.push_back({spec.name, entry, c.problem});
        else changes.push_back({kind, *c.canonical});
    };
    for (const auto& e : remove) checked(e, IpsetChange::Kind::del);
    for (const auto& e : add) checked(e, IpsetChange::Kind::add);
    if (!result.failures.empty()) return result;

    std::set<std::string>& current = known(spec);
    std::vector<IpsetChange> needed;
    std::size_t after = current.size();
    for (auto& c : changes) {
        bool present = current.count(c.entry) > 0;
        if (c.kind == IpsetChange::Kind::del && present) {
            --after;
            ++result.deleted;
            needed.push_back(std::move(c));
        } else if (c.kind == IpsetChange::Kind::add && !present) {
            ++after;
            ++result.added;
            needed.push_back(std::move(c));
        }
    }
    if (needed.empty()) return result;
    if (after > spec.maxelem) {
        result.failures.push_back(set_full(spec, after));
        result.added = result.deleted = 0;
        return result;
    }
    result.failures = kernel_.change(spec.name, needed);
    if (!result.failures.empty()) {
        known_.erase(spec.name);
        return result;
    }
    for (const auto& c : needed) {
        if (c.kind == IpsetChange::Kind::add) current.insert(c.entry);
        else current.erase(c.entry);
    }
    return result;
}

void IpsetSync::forget(const std::string& set) {
    known_.erase(set);
    ensured_.erase(set);
}

void IpsetSync::forget_all() {
    known_.clear();
    ensured_.clear();
}

}  // namespace kipvs::kernel
