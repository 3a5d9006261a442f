#include "source/manifests.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <boost/json/object.hpp>

#include "kube/decode.hpp"
#include "source/manifest_documents.hpp"
#include "source/manifest_files.hpp"

namespace kipvs::source {

namespace json = boost::json;

namespace {

std::string object_name(const json::value& object) {
    auto key = kube::object_key(object);
    return key ? key->to_string() : std::string("(unnamed)");
}

// Decodes the objects of a directory's files into one ManifestObjects: the
// kind and apiVersion checks, duplicates across files, Endpoints mirroring,
// and an error naming file, place, kind and name for each object refused.
class ManifestCollector final : public ManifestObjectSink {
public:
    ManifestObjects take() { return std::move(out_); }

    void add_error(std::string message) { out_.errors.push_back(std::move(message)); }

    void add_failed_file(const std::string& file) {
        if (std::find(out_.failed_files.begin(), out_.failed_files.end(), file) == out_.failed_files.end())
            out_.failed_files.push_back(file);
    }

    void add_file(std::string_view text, const std::string& file) { split_manifest_file(text, file, *this); }

    void add_file_error(std::string message, const std::string& file) override {
        add_error(std::move(message));
        add_failed_file(file);
    }

    void add_object(json::value object, const ObjectLocation& location, std::string_view default_kind) override {
        std::string kind(default_kind);
        std::string api_version;
        if (const json::object* o = object.if_object()) {
            if (auto it = o->find("kind"); it != o->end() && it->value().is_string()) kind = it->value().get_string();
            if (auto it = o->find("apiVersion"); it != o->end() && it->value().is_string())
                api_version = it->value().get_string();
        } else {
            std::string message = location.where();
            message += ": expected a Kubernetes object";
            add_error(std::move(message));
            add_failed_file(*location.file);
            return;
        }
        std::string_view expected_api;
        bool namespaced = true;
        if (kind == "Service" || kind == "Endpoints") {
            expected_api = "v1";
        } else if (kind == "EndpointSlice") {
            expected_api = "discovery.k8s.io/v1";
        } else if (kind == "Node") {
            expected_api = "v1";
            namespaced = false;
        } else if (kind.empty()) {
            // As kubectl refuses it: most likely a mistake, not another kind.
            std::string message = location.where();
            message += ": ";
            message += object_name(object);
            message += ": kind: required";
            add_error(std::move(message));
            add_failed_file(*location.file);
            return;
        } else {
            std::string message = location.where();
            message += ": ";
            message += kind;
            message += ' ';
            message += object_name(object);
            message += ": not a kind kipvs reads; ignored";
            out_.warnings.push_back(std::move(message));
            return;
        }
        if (namespaced) default_namespace(object);
        std::string name = object_name(object);
        if (!api_version.empty() && api_version != expected_api) {
            std::string message = location.where();
            message += ": ";
            message += kind;
            message += ' ';
            message += name;
            message += ": apiVersion ";
            message += api_version;
            message += " is not supported (expected ";
            message += expected_api;
            message += ')';
            add_error(std::move(message));
            add_failed(kind, object, namespaced, location);
            return;
        }
        try {
            if (kind == "Service") {
                auto s = kube::decode_service(object);
                if (claim(kind, kube::key_of(s).to_string(), location.where())) {
                    out_.origins[origin_key(kind, s.namespace_name, s.name)] = ObjectOrigin{*location.file, {}};
                    out_.services.push_back(std::move(s));
                }
            } else if (kind == "EndpointSlice") {
                auto s = kube::decode_endpoint_slice(object);
                if (claim(kind, kube::key_of(s).to_string(), location.where())) {
                    out_.origins[origin_key(kind, s.namespace_name, s.name)] = ObjectOrigin{*location.file, {}};
                    out_.slices.push_back(std::move(s));
                }
            } else if (kind == "Node") {
                auto n = kube::decode_node(object);
                if (claim(kind, n.name, location.where())) {
                    out_.origins[origin_key(kind, {}, n.name)] = ObjectOrigin{*location.file, {}};
                    out_.nodes.push_back(std::move(n));
                }
            } else {
                add_endpoints(object, location, name);
            }
        } catch (const kube::DecodeError& e) {
            add_error(decode_error_message(e.what(), kind, name, location));
            add_failed(kind, object, namespaced, location);
        }
    }

private:
    // A failed object as a FailedObject, or its whole file failed when its
    // kind or namespace/name cannot be told.
    void add_failed(const std::string& kind, const json::value& object, bool namespaced,
                    const ObjectLocation& location) {
        auto key = kube::object_key(object);
        if (!key || (namespaced && key->namespace_name.empty())) {
            add_failed_file(*location.file);
            return;
        }
        if (!namespaced) key->namespace_name.clear();
        out_.failed_objects.push_back(FailedObject{kind, std::move(key->namespace_name), std::move(key->name), *location.file});
    }

    void add_endpoints(const json::value& object, const ObjectLocation& location, const std::string& name) {
        // The mirroring controller leaves Endpoints with this label alone.
        if (skip_mirror(object)) {
            std::string message = location.where();
            message += ": Endpoints ";
            message += name;
            message += ": labelled endpointslice.kubernetes.io/skip-mirror=true; ignored";
            out_.warnings.push_back(std::move(message));
            return;
        }
        auto slices = mirror_endpoints(object);
        std::string where = location.where();
        // A mirrored slice must not take the name of a slice already loaded:
        // the caches downstream are keyed by namespace/name.
        for (const auto& slice : slices) {
            auto it = seen_.find(seen_key("EndpointSlice", kube::key_of(slice).to_string()));
            if (it == seen_.end()) continue;
            std::string message = where;
            message += ": Endpoints ";
            message += name;
            message += ": its mirrored EndpointSlice ";
            message += kube::key_of(slice).to_string();
            message += " has the name of the one in ";
            message += it->second;
            message += "; ignored";
            add_error(std::move(message));
            return;
        }
        if (!claim("Endpoints", name, where)) return;
        std::string mirrored = where;
        mirrored += " (mirrored from Endpoints ";
        mirrored += name;
        mirrored += ')';
        for (auto& slice : slices) {
            seen_.emplace(seen_key("EndpointSlice", kube::key_of(slice).to_string()), mirrored);
            out_.origins[origin_key("EndpointSlice", slice.namespace_name, slice.name)] = ObjectOrigin{*location.file, name};
            out_.slices.push_back(std::move(slice));
        }
    }

    static bool skip_mirror(const json::value& object) {
        const json::value* label = nullptr;
        if (const json::object* o = object.if_object())
            if (auto m = o->find("metadata"); m != o->end() && m->value().is_object())
                if (auto l = m->value().get_object().find("labels"); l != m->value().get_object().end() && l->value().is_object())
                    label = l->value().get_object().if_contains("endpointslice.kubernetes.io/skip-mirror");
        return label != nullptr && label->is_string() && label->get_string() == "true";
    }

    // Records kind+name as loaded from `where`; false (and an error) when it
    // already was.
    bool claim(std::string_view kind, const std::string& name, const std::string& where) {
        auto [it, inserted] = seen_.emplace(seen_key(kind, name), where);
        if (inserted) return true;
        std::string message = where;
        message += ": ";
        message += kind;
        message += ' ';
        message += name;
        message += ": duplicate of the one in ";
        message += it->second;
        message += "; ignored";
        add_error(std::move(message));
        return false;
    }

    static std::string seen_key(std::string_view kind, const std::string& name) {
        std::string key(kind);
        key += ' ';
        key += name;
        return key;
    }

    // `kubectl apply -f` puts an object without a namespace in "default".
    static void default_namespace(json::value& object) {
        json::object* o = object.if_object();
        if (o == nullptr) return;
        auto it = o->find("metadata");
        if (it == o->end() || !it->value().is_object()) return;
        json::object& metadata = it->value().get_object();
        auto ns = metadata.find("namespace");
        if (ns == metadata.end() || ns->value().is_null() ||
            (ns->value().is_string() && ns->value().get_string().empty()))
            metadata["namespace"] = "default";
    }

    // "<where>: <decoder message>", where <where> is the line of the field the
    // decoder names when the object came from YAML.
    static std::string decode_error_message(std::string_view what, const std::string& kind, const std::string& name,
                                            const ObjectLocation& location) {
        std::string_view field;
        for (std::string_view shown : {std::string_view(name), std::string_view("(unnamed)")}) {
            std::string prefix = kind;
            prefix += ' ';
            prefix += shown;
            prefix += ": ";
            if (what.substr(0, prefix.size()) != prefix) continue;
            std::string_view rest = what.substr(prefix.size());
            field = rest.substr(0, rest.find(": "));
            break;
        }
        std::string message = location.where_field(field);
        message += ": ";
        message += what;
        return message;
    }

    ManifestObjects out_;
    std::map<std::string, std::string> seen_;  // "Kind ns/name" → where it was loaded from
};

}  // namespace

ManifestObjects parse_manifest_text(std::string_view text, const std::string& file) {
    ManifestCollector collector;
    collector.add_file(text, file);
    return collector.take();
}

ManifestObjects load_manifests(const std::string& directory) {
    ManifestCollector collector;
    std::error_code ec;
    std::vector<std::string> names = manifest_file_names(directory, ec);
    if (ec) {
        std::string message = directory;
        message += ": cannot read the manifest directory: ";
        message += ec.message();
        collector.add_error(std::move(message));
        collector.add_failed_file(directory);
        return collector.take();
    }
    std::string prefix = directory;
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    for (const auto& name : names) {
        std::string path = prefix;
        path += name;
        std::string error;
        auto text = read_whole_file(path, error);
        if (text) {
            collector.add_file(*text, path);
        } else {
            collector.add_error(std::move(error));
            collector.add_failed_file(path);
        }
    }
    return collector.take();
}

}  // namespace kipvs::source
