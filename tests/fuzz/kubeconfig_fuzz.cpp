// Any bytes given as a kubeconfig either load or are refused with a
// ConfigError (file references resolve under a directory that does not exist).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/kubeconfig.hpp"
#include "error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        kipvs::config::parse_kubeconfig(text, "/nonexistent-kipvs-fuzz/kubeconfig");
    } catch (const kipvs::ConfigError&) {
    }
    return 0;
}
