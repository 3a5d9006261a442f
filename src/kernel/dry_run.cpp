#include "kernel/dry_run.hpp"

#include <algorithm>

#include "error.hpp"
#include "log/log.hpp"

namespace kipvs::kernel {
namespace {

void would(const std::string& what) { log::info("dry-run: would " + what); }

}  // namespace

void DryRunIpvs::set_timeouts(const IpvsTimeouts& t) {
    would("set IPVS timeouts tcp " + std::to_string(t.tcp) + " tcpfin " + std::to_string(t.tcp_fin) + " udp " +
          std::to_string(t.udp));
}

std::vector<RealServer> DryRunIpvs::destinations(const VirtualServer& service) {
    if (added_.count(service.describe())) return {};
    return real_.destinations(service);
}

void DryRunIpvs::flush() { would("flush the IPVS table"); }

void DryRunIpvs::zero(const std::optional<VirtualServer>&) {}

std::vector<int> DryRunIpvs::execute(const std::vector<IpvsOp>& ops) {
    for (const auto& op : ops) {
        would(op.describe());
        if (op.kind == IpvsOpKind::add_service) added_.insert(op.service.describe());
    }
    return std::vector<int>(ops.size(), 0);
}

void DryRunIpset::ensure(const SetSpec& spec) {
    auto names = real_.set_names();
    if (std::find(names.begin(), names.end(), spec.name) == names.end()) {
        missing_.insert(spec.name);
        would(spec.create_arguments());
    }
}

std::set<std::string> DryRunIpset::entries(const std::string& set) {
    if (missing_.count(set)) return {};
    return real_.entries(set);
}

std::vector<IpsetFailure> DryRunIpset::change(const std::string& set, const std::vector<IpsetChange>& changes) {
    for (const auto& c : changes) would(std::string(c.kind == IpsetChange::Kind::add ? "add " : "del ") + set + " " + c.entry);
    return {};
}

void DryRunIpset::replace(const SetSpec& spec, const std::set<std::string>& entries) {
    would("replace the content of " + spec.name + " with " + std::to_string(entries.size()) + " entries");
}

void DryRunIpset::destroy(const std::string& set) { would("destroy set " + set); }

void DryRunLinks::ensure_dummy(const std::string& name) {
    if (!real_.exists(name)) would("create dummy interface " + name);
}

void DryRunLinks::delete_link(const std::string& name) { would("delete interface " + name); }

std::vector<model::IpAddress> DryRunLinks::addresses(const std::string& name) {
    if (!real_.exists(name)) return {};
    return real_.addresses(name);
}

void DryRunLinks::bind(const std::string& name, const model::IpAddress& address) {
    would("bind " + address.to_string() + " to " + name);
}

void DryRunLinks::unbind(const std::string& name, const model::IpAddress& address) {
    would("unbind " + address.to_string() + " from " + name);
}

std::vector<std::string> DryRunLinks::bind_all(const std::string& name, const std::vector<model::IpAddress>& addresses) {
    for (const auto& a : addresses) bind(name, a);
    return {};
}

std::vector<std::string> DryRunLinks::unbind_all(const std::string& name,
                                                 const std::vector<model::IpAddress>& addresses) {
    for (const auto& a : addresses) unbind(name, a);
    return {};
}

void DryRunIptables::restore(const std::string& payload) {
    std::size_t rules = 0;
    for (std::size_t at = payload.find("\n-"); at != std::string::npos; at = payload.find("\n-", at + 1)) ++rules;
    would("run iptables-restore --noflush with " + std::to_string(rules) + " rules:\n" + payload);
}

}  // namespace kipvs::kernel
