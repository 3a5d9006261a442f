// Any bytes as the content of a static manifest file, read both as YAML and
// as JSON: parse, YAML → JSON typing, list expansion, Endpoints mirroring and
// the three decoders. Bad input must come out as error entries; nothing may
// throw or crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "source/manifests.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    static const std::string yaml_file = "fuzz.yaml";
    static const std::string json_file = "fuzz.json";
    (void)kipvs::source::parse_manifest_text(text, yaml_file);
    (void)kipvs::source::parse_manifest_text(text, json_file);
    return 0;
}
