#pragma once
// Keeps kipvs's own sets equal to what it wants, writing only the
// difference: the kernel is read once per set, then the known content is
// kept in memory, so a sync that changes nothing sends nothing.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernel/ipset.hpp"

namespace kipvs::kernel {

class IpsetSync {
public:
    explicit IpsetSync(IpsetKernel& kernel) : kernel_(kernel) {}

    struct Result {
        std::size_t added = 0;
        std::size_t deleted = 0;
        bool replaced = false;  // the whole content was swapped in
        std::vector<IpsetFailure> failures;
    };

    // Brings one set to exactly `desired`. An invalid entry fails the whole
    // set before anything is sent (the set stays as it was); a kernel
    // refusal is reported and the set is read again at its next sync.
    // Only kube-proxy's set names are accepted (kipvs never touches others).
    Result sync(const SetSpec& spec, const std::set<std::string>& desired);

    // The incremental path: applies only these additions and deletions,
    // checking only them, so its cost does not grow with the set. Entries
    // already present (or already absent) cost nothing.
    Result update(const SetSpec& spec, const std::vector<std::string>& add, const std::vector<std::string>& remove);

    // Forgets what is known of a set, so the next sync reads the kernel
    // again (drift repair after someone changed it by hand).
    void forget(const std::string& set);
    void forget_all();

private:
    std::set<std::string>& known(const SetSpec& spec);

    IpsetKernel& kernel_;
    std::map<std::string, std::set<std::string>> known_;
    std::map<std::string, SetSpec> ensured_;
};

}  // namespace kipvs::kernel
