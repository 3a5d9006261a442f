#include "kernel/sysctl.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "error.hpp"

namespace kipvs::kernel {

std::vector<SysctlSetting> desired_sysctls(const SysctlInputs& in) {
    std::vector<SysctlSetting> out = {
        {"net/ipv4/vs/conntrack", "1", "IPVS flows need conntrack entries for masquerade and the filter rules"},
    };
    // Mode 0 avoids the 1 s first-SYN delay of reused ports on kernels before
    // 5.9; from 5.9 the kernel's own default is right (kube-proxy #93297).
    if (in.kernel >= KernelVersion{4, 1, 0} && in.kernel < KernelVersion{5, 9, 0})
        out.push_back({"net/ipv4/vs/conn_reuse_mode", "0", "kernel before 5.9"});
    out.push_back({"net/ipv4/vs/expire_nodest_conn", "1", "connections to a deleted real server end at once"});
    out.push_back({"net/ipv4/vs/expire_quiescent_template", "1", "affinity does not pin clients to a weight-0 server"});
    out.push_back({"net/ipv4/ip_forward", "1", "service traffic is forwarded to endpoints"});
    if (in.strict_arp) {
        out.push_back({"net/ipv4/conf/all/arp_ignore", "1", "ipvs.strictARP"});
        out.push_back({"net/ipv4/conf/all/arp_announce", "2", "ipvs.strictARP"});
    }
    for (const auto& [name, value] : in.overrides) {
        bool replaced = false;
        for (auto& s : out) {
            if (s.name == name) {
                s.value = value;
                s.reason = "kipvs.sysctls";
                replaced = true;
            }
        }
        if (!replaced) out.push_back({name, value, "kipvs.sysctls"});
    }
    return out;
}

std::optional<std::string> ProcSysctls::read(const std::string& name) {
    std::ifstream in(root_ + "/" + name);
    if (!in) return std::nullopt;
    std::string value;
    std::getline(in, value);
    // Multi-value sysctls are tab-separated; compare them with single spaces.
    for (char& c : value)
        if (c == '\t') c = ' ';
    return value;
}

void ProcSysctls::write(const std::string& name, const std::string& value) {
    std::string path = root_ + "/" + name;
    std::ofstream out(path);
    if (out) out << value << "\n";
    if (!out || !out.flush()) throw Error("sysctl " + name + ": cannot write " + value + " to " + path + ": " + std::strerror(errno));
}

std::vector<SysctlChange> ensure_sysctls(Sysctls& sysctls, const std::vector<SysctlSetting>& settings) {
    std::vector<SysctlChange> changes;
    for (const auto& s : settings) {
        auto current = sysctls.read(s.name);
        if (!current) throw Error("sysctl " + s.name + " does not exist (is its kernel module loaded?)");
        if (*current == s.value) continue;
        sysctls.write(s.name, s.value);
        changes.push_back({s.name, *current, s.value});
    }
    return changes;
}

}  // namespace kipvs::kernel
