#include "kernel/kernel_version.hpp"

namespace kipvs::kernel {

std::optional<KernelVersion> parse_kernel_release(std::string_view release) {
    int parts[3] = {0, 0, 0};
    std::size_t i = 0;
    int count = 0;
    while (count < 3) {
        std::size_t start = i;
        long value = 0;
        while (i < release.size() && release[i] >= '0' && release[i] <= '9' && i - start < 6)
            value = value * 10 + (release[i++] - '0');
        if (i == start) break;
        parts[count++] = static_cast<int>(value);
        if (i < release.size() && release[i] == '.') {
            ++i;
        } else {
            break;
        }
    }
    if (count < 2) return std::nullopt;
    return KernelVersion{parts[0], parts[1], parts[2]};
}

}  // namespace kipvs::kernel
