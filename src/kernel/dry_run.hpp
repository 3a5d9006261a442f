#pragma once
// `kipvs run --dry-run`: the real kernel is read, and every write is logged
// ("dry-run: would …") instead of made, so an operator can run kipvs beside
// kube-proxy and see what it would change before switching.
#include <set>
#include <string>

#include "kernel/ipset.hpp"
#include "kernel/iptables.hpp"
#include "kernel/ipvs.hpp"
#include "kernel/link.hpp"

namespace kipvs::kernel {

class DryRunIpvs final : public IpvsKernel {
public:
    explicit DryRunIpvs(IpvsKernel& real) : real_(real) {}
    IpvsInfo info() override { return real_.info(); }
    IpvsTimeouts timeouts() override { return real_.timeouts(); }
    void set_timeouts(const IpvsTimeouts& timeouts) override;
    std::vector<VirtualServer> services() override { return real_.services(); }
    std::vector<RealServer> destinations(const VirtualServer& service) override;
    void flush() override;
    void zero(const std::optional<VirtualServer>& service) override;

protected:
    std::vector<int> execute(const std::vector<IpvsOp>& ops) override;

private:
    IpvsKernel& real_;
    std::set<std::string> added_;  // services it pretended to add: they have no destinations to read
};

class DryRunIpset final : public IpsetKernel {
public:
    explicit DryRunIpset(IpsetKernel& real) : real_(real) {}
    std::vector<std::string> set_names() override { return real_.set_names(); }
    void ensure(const SetSpec& spec) override;
    std::set<std::string> entries(const std::string& set) override;
    std::vector<IpsetFailure> change(const std::string& set, const std::vector<IpsetChange>& changes) override;
    void replace(const SetSpec& spec, const std::set<std::string>& entries) override;
    void destroy(const std::string& set) override;

private:
    IpsetKernel& real_;
    std::set<std::string> missing_;  // sets it pretended to create
};

class DryRunLinks final : public LinkKernel {
public:
    explicit DryRunLinks(LinkKernel& real) : real_(real) {}
    void ensure_dummy(const std::string& name) override;
    bool exists(const std::string& name) override { return real_.exists(name); }
    void delete_link(const std::string& name) override;
    std::vector<model::IpAddress> addresses(const std::string& name) override;
    void bind(const std::string& name, const model::IpAddress& address) override;
    void unbind(const std::string& name, const model::IpAddress& address) override;
    std::vector<std::string> bind_all(const std::string& name, const std::vector<model::IpAddress>& addresses) override;
    std::vector<std::string> unbind_all(const std::string& name,
                                        const std::vector<model::IpAddress>& addresses) override;
    std::vector<InterfaceAddress> all_addresses() override { return real_.all_addresses(); }

private:
    LinkKernel& real_;
};

class DryRunIptables final : public IptablesKernel {
public:
    explicit DryRunIptables(IptablesKernel& real) : real_(real) {}
    std::string save(const std::string& table) override { return real_.save(table); }
    void restore(const std::string& payload) override;

private:
    IptablesKernel& real_;
};

}  // namespace kipvs::kernel
