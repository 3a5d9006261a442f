#pragma once
// The running kernel's version, which decides what kipvs may expect of it
// (module names, sysctl defaults).
#include <compare>
#include <optional>
#include <string_view>

namespace kipvs::kernel {

struct KernelVersion {
    int major = 0;
    int minor = 0;
    int patch = 0;
    auto operator<=>(const KernelVersion&) const = default;
};

// "6.1.0-56-amd64" -> 6.1.0; nullopt when it does not start with N.N.
std::optional<KernelVersion> parse_kernel_release(std::string_view release);

}  // namespace kipvs::kernel
