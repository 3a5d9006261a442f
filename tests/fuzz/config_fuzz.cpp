// Any bytes given as /etc/kipvs.yaml either load or are refused with a
// ConfigError; nothing else may escape, crash or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_load.hpp"
#include "error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto loaded = kipvs::config::load_config_text(text, "/fuzz/kipvs.yaml");
        // What loads must render and load back.
        kipvs::config::load_config_text(kipvs::config::render_config(loaded.config), "/fuzz/rendered.yaml");
    } catch (const kipvs::ConfigError&) {
    }
    return 0;
}
