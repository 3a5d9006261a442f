#pragma once
// Applying IPVS mode's rules with iptables-restore --noflush: only kipvs's
// chains are declared (and so rewritten) and its jump rules inserted; every
// other chain and rule on the node is left alone.
#include <map>
#include <string>
#include <vector>

#include "kernel/iptables_rules.hpp"
#include "model/ip.hpp"

namespace kipvs::kernel {

struct IptablesTools {
    std::string restore;  // e.g. /usr/sbin/iptables-nft-restore
    std::string save;
    std::string backend;  // "legacy" or "nft"
    std::string reason;   // why this backend was chosen, for `kipvs check`
};

// Finds iptables-restore/-save for a family on PATH or in k3s's bundled
// binaries. With preference "auto" the backend already holding the
// system's rules wins (kube-proxy's iptables-wrapper rule): kubelet's canary
// or hint chains first, then the backend with more rules, nft on a tie.
// Throws kipvs::Error when no iptables is found.
IptablesTools find_iptables(model::Family family, const std::string& preference);

// What the applier needs of iptables; tests use a fake that keeps rules.
class IptablesKernel {
public:
    virtual ~IptablesKernel() = default;
    // One table as *-save prints it. Throws kipvs::Error.
    virtual std::string save(const std::string& table) = 0;
    // A restore payload applied with --noflush. Throws kipvs::Error with the
    // restore's own message.
    virtual void restore(const std::string& payload) = 0;
};

// The real one: iptables-save / iptables-restore --noflush, one process each.
class ExecIptables final : public IptablesKernel {
public:
    explicit ExecIptables(IptablesTools tools) : tools_(std::move(tools)) {}
    std::string save(const std::string& table) override;
    void restore(const std::string& payload) override;
    const IptablesTools& tools() const { return tools_; }

private:
    IptablesTools tools_;
};

class IptablesApplier {
public:
    explicit IptablesApplier(IptablesKernel& kernel) : kernel_(kernel) {}

    // Applies `payload` (render_rules) unless it is what was applied last
    // and, when `verify` is set, the kernel still holds every jump rule
    // (checked with one *-save per table). Missing jump rules are inserted at
    // position 1 in the same restore. Returns whether iptables-restore ran;
    // throws kipvs::Error with the restore's message on failure.
    bool apply(const std::string& payload, bool verify);

    std::size_t restores() const { return restores_; }

private:
    // `saved`: table → its *-save output, filled as tables are read.
    std::vector<JumpRule> missing_jumps(std::map<std::string, std::string>& saved);

    IptablesKernel& kernel_;
    std::string applied_;
    std::size_t restores_ = 0;
};

}  // namespace kipvs::kernel
