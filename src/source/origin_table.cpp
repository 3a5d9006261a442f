#include "source/origin_table.hpp"

#include <limits>

#include "error.hpp"

namespace kipvs::source {

OriginTable::OriginTable(const std::map<std::string, ObjectOrigin>& origins) {
    std::map<std::string, std::uint32_t> text_index;
    auto text = [&](const std::string& s) {
        auto [it, added] = text_index.try_emplace(s, static_cast<std::uint32_t>(texts_.size()));
        if (added) texts_.push_back(s);
        return it->second;
    };
    std::size_t key_bytes = 0;
    for (const auto& [key, origin] : origins) key_bytes += key.size();
    if (key_bytes > std::numeric_limits<std::uint32_t>::max())
        throw Error("manifest origins: " + std::to_string(key_bytes) + " bytes of object names is more than 4 GiB");
    keys_.reserve(key_bytes);
    entries_.reserve(origins.size());
    for (const auto& [key, origin] : origins) {
        keys_ += key;
        Entry entry;
        entry.key_end = static_cast<std::uint32_t>(keys_.size());
        entry.file = text(origin.file);
        entry.endpoints = origin.endpoints.empty() ? 0 : text(origin.endpoints) + 1;
        entries_.push_back(entry);
    }
    texts_.shrink_to_fit();
}

std::map<std::string, ObjectOrigin> OriginTable::expand() const {
    std::map<std::string, ObjectOrigin> out;
    std::uint32_t begin = 0;
    for (const auto& entry : entries_) {
        ObjectOrigin origin{texts_[entry.file], entry.endpoints == 0 ? std::string() : texts_[entry.endpoints - 1]};
        // The keys were stored in the map's order: each goes at the end.
        out.emplace_hint(out.end(), keys_.substr(begin, entry.key_end - begin), std::move(origin));
        begin = entry.key_end;
    }
    return out;
}

}  // namespace kipvs::source
