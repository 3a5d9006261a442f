#include "source/last_good_merge.hpp"

#include <cstddef>
#include <set>
#include <string_view>

namespace kipvs::source {

namespace {

// `file` is `failed` or, when `failed` is the directory, a file in it.
bool comes_from(const std::string& file, const std::string& failed) {
    if (failed.empty() || file.compare(0, failed.size(), failed) != 0) return false;
    return file.size() == failed.size() || failed.back() == '/' || file[failed.size()] == '/';
}

class PreviousKeeper {
public:
    PreviousKeeper(const ManifestObjects& previous, ManifestObjects& current) : previous_(previous), current_(current) {
        for (const auto& s : current.services) present_.insert(origin_key("Service", s.namespace_name, s.name));
        for (const auto& s : current.slices) present_.insert(origin_key("EndpointSlice", s.namespace_name, s.name));
        for (const auto& n : current.nodes) present_.insert(origin_key("Node", {}, n.name));
    }

    // Keeps what `previous` had from `failed` (a file or the directory).
    std::size_t keep_file(const std::string& failed) {
        auto from_failed = [&](const std::string& key, std::string& file) {
            auto it = previous_.origins.find(key);
            if (it == previous_.origins.end() || !comes_from(it->second.file, failed)) return false;
            file = it->second.file;
            return true;
        };
        std::size_t kept = 0;
        std::string file;
        for (const auto& s : previous_.services)
            if (from_failed(origin_key("Service", s.namespace_name, s.name), file)) kept += keep(s, file);
        for (const auto& s : previous_.slices)
            if (from_failed(origin_key("EndpointSlice", s.namespace_name, s.name), file)) kept += keep(s, file);
        for (const auto& n : previous_.nodes)
            if (from_failed(origin_key("Node", {}, n.name), file)) kept += keep(n, file);
        return kept;
    }

    // Keeps the previous version of `failed`: for Endpoints, the slices mirrored from it.
    std::size_t keep_object(const FailedObject& failed) {
        std::size_t kept = 0;
        if (failed.kind == "Service") {
            for (const auto& s : previous_.services)
                if (s.namespace_name == failed.namespace_name && s.name == failed.name) kept += keep(s, failed.file);
        } else if (failed.kind == "EndpointSlice") {
            for (const auto& s : previous_.slices)
                if (s.namespace_name == failed.namespace_name && s.name == failed.name) kept += keep(s, failed.file);
        } else if (failed.kind == "Node") {
            for (const auto& n : previous_.nodes)
                if (n.name == failed.name) kept += keep(n, failed.file);
        } else if (failed.kind == "Endpoints") {
            std::string endpoints = failed.namespace_name;
            endpoints += '/';
            endpoints += failed.name;
            for (const auto& s : previous_.slices) {
                auto it = previous_.origins.find(origin_key("EndpointSlice", s.namespace_name, s.name));
                if (it != previous_.origins.end() && it->second.endpoints == endpoints) kept += keep(s, failed.file);
            }
        }
        return kept;
    }

private:
    bool keep(const model::Service& s, const std::string& file) {
        return keep_as(origin_key("Service", s.namespace_name, s.name), file, [&] { current_.services.push_back(s); });
    }
    bool keep(const model::EndpointSlice& s, const std::string& file) {
        return keep_as(origin_key("EndpointSlice", s.namespace_name, s.name), file, [&] { current_.slices.push_back(s); });
    }
    bool keep(const model::Node& n, const std::string& file) {
        return keep_as(origin_key("Node", {}, n.name), file, [&] { current_.nodes.push_back(n); });
    }

    template <typename Add>
    bool keep_as(const std::string& key, const std::string& file, Add add) {
        if (!present_.insert(key).second) return false;  // `current` has its own, or it was kept already
        add();
        ObjectOrigin origin;
        if (auto it = previous_.origins.find(key); it != previous_.origins.end()) origin = it->second;
        origin.file = file;
        current_.origins[key] = std::move(origin);
        return true;
    }

    const ManifestObjects& previous_;
    ManifestObjects& current_;
    std::set<std::string> present_;
};

std::string count_of(std::size_t n, std::string_view what) {
    std::string out = std::to_string(n);
    out += ' ';
    out += what;
    if (n != 1) out += 's';
    return out;
}

}  // namespace

ManifestObjects merge_with_previous(const ManifestObjects& previous, ManifestObjects current,
                                    std::vector<std::string>& notes) {
    PreviousKeeper keeper(previous, current);
    // Objects first, so that a file's note counts only what no object note names.
    for (const auto& failed : current.failed_objects) {
        std::size_t kept = keeper.keep_object(failed);
        if (kept == 0) continue;
        std::string note = failed.file;
        note += ": ";
        note += origin_key(failed.kind, failed.namespace_name, failed.name);
        if (failed.kind == "Endpoints") {
            note += ": kept the previous ";
            note += count_of(kept, "EndpointSlice");
            note += " mirrored from it until it loads again";
        } else {
            note += ": kept the previous version until it loads again";
        }
        notes.push_back(std::move(note));
    }
    for (const auto& failed : current.failed_files) {
        std::size_t kept = keeper.keep_file(failed);
        if (kept == 0) continue;
        std::string note = failed;
        note += ": kept the previous ";
        note += count_of(kept, "object");
        note += " until it loads again";
        notes.push_back(std::move(note));
    }
    return current;
}

}  // namespace kipvs::source
