#pragma once
// The sysctls IPVS mode needs (PARITY.md §3.8): what to set, and setting it
// by "ensure" — read, write only when different, report old and new.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/kernel_version.hpp"

namespace kipvs::kernel {

struct SysctlSetting {
    std::string name;  // "net/ipv4/vs/conntrack"
    std::string value;
    std::string reason;
};

struct SysctlInputs {
    KernelVersion kernel;
    bool strict_arp = false;
    std::map<std::string, std::string> overrides;  // kipvs.sysctls
};

// What kipvs sets, in order; an override replaces kipvs's value (or adds a
// sysctl kipvs would not set).
std::vector<SysctlSetting> desired_sysctls(const SysctlInputs& inputs);

class Sysctls {
public:
    virtual ~Sysctls() = default;
    virtual std::optional<std::string> read(const std::string& name) = 0;  // nullopt: absent
    virtual void write(const std::string& name, const std::string& value) = 0;  // throws kipvs::Error
};

// /proc/sys (or another root, for tests).
class ProcSysctls final : public Sysctls {
public:
    explicit ProcSysctls(std::string root = "/proc/sys") : root_(std::move(root)) {}
    std::optional<std::string> read(const std::string& name) override;
    void write(const std::string& name, const std::string& value) override;

private:
    std::string root_;
};

struct SysctlChange {
    std::string name;
    std::string old_value;  // "(absent)" when the sysctl does not exist
    std::string new_value;
};

// Writes what differs; a sysctl that does not exist is an error naming it
// (e.g. net/ipv4/vs/* before ip_vs is loaded).
std::vector<SysctlChange> ensure_sysctls(Sysctls& sysctls, const std::vector<SysctlSetting>& settings);

}  // namespace kipvs::kernel
