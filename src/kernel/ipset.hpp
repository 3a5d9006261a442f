#pragma once
// What kipvs asks of the kernel's ipsets. The real implementation speaks
// through libipset in one library session per batch; tests use a fake that
// keeps state as the kernel does.
#include <set>
#include <string>
#include <vector>

#include "kernel/ipset_entry.hpp"

namespace kipvs::kernel {

struct IpsetChange {
    enum class Kind { add, del };
    Kind kind = Kind::add;
    std::string entry;  // canonical (check_entry)
    bool operator==(const IpsetChange&) const = default;
};

struct IpsetFailure {
    std::string set;
    std::string entry;    // empty when the failure is not about one entry
    std::string message;  // the kernel's or libipset's reason
};

class IpsetKernel {
public:
    virtual ~IpsetKernel() = default;

    virtual std::vector<std::string> set_names() = 0;
    // Creates the set when it is absent; an existing set keeps its content.
    // A set of that name with other parameters (e.g. maxelem) is brought to
    // the new ones by an atomic replace of its content. Throws kipvs::Error.
    virtual void ensure(const SetSpec& spec) = 0;
    virtual std::set<std::string> entries(const std::string& set) = 0;
    // Adds (existing entries are fine) and deletes (missing entries are
    // fine) in one batch; returns what the kernel refused. Entries must have
    // passed check_entry.
    virtual std::vector<IpsetFailure> change(const std::string& set, const std::vector<IpsetChange>& changes) = 0;
    // Replaces the whole content atomically: a temporary set is filled, swapped
    // in and destroyed, so the set is never seen half-filled.
    virtual void replace(const SetSpec& spec, const std::set<std::string>& entries) = 0;
    virtual void destroy(const std::string& set) = 0;
};

}  // namespace kipvs::kernel
