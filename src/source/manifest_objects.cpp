#include "source/manifest_objects.hpp"

namespace kipvs::source {

std::string origin_key(std::string_view kind, std::string_view namespace_name, std::string_view name) {
    std::string key(kind);
    key += ' ';
    if (!namespace_name.empty()) {
        key += namespace_name;
        key += '/';
    }
    key += name;
    return key;
}

}  // namespace kipvs::source
