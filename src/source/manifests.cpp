#include "source/manifests.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

#include "error.hpp"
#include "kube/decode.hpp"
#include "kube/json_reader.hpp"
#include "source/json_list.hpp"

namespace kipvs::source {

namespace json = boost::json;

// ---------------------------------------------------------------- YAML → JSON

namespace {

bool all_of(std::string_view s, bool (*pred)(char)) {
    return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// An integer of the core schema, or nullopt when `text` is not one.
std::optional<json::value> plain_integer(std::string_view text) {
    int base = 10;
    bool negative = false;
    std::string_view digits = text;
    if (text.size() > 2 && text[0] == '0' && text[1] == 'o') {
        base = 8;
        digits = text.substr(2);
        if (!all_of(digits, is_octal)) return std::nullopt;
    } else if (text.size() > 2 && text[0] == '0' && text[1] == 'x') {
        base = 16;
        digits = text.substr(2);
        if (!all_of(digits, is_hex)) return std::nullopt;
    } else {
        if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
            negative = digits[0] == '-';
            digits.remove_prefix(1);
        }
        if (!all_of(digits, is_digit)) return std::nullopt;
    }
    std::uint64_t magnitude = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
    if (ec == std::errc::result_out_of_range) {
        // Too big for 64 bits: a double, as Boost.JSON and Go's encoding/json read such numbers.
        double d = 0;
        for (char c : digits) d = d * base + (is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
        return json::value(negative ? -d : d);
    }
    if (negative) {
        constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;
        if (magnitude > limit) return json::value(-static_cast<double>(magnitude));
        if (magnitude == limit) return json::value(std::numeric_limits<std::int64_t>::min());
        return json::value(-static_cast<std::int64_t>(magnitude));
    }
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return json::value(magnitude);
    return json::value(static_cast<std::int64_t>(magnitude));
}

// A float of the core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
std::optional<json::value> plain_float(std::string_view text) {
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == ".inf" || s == ".Inf" || s == ".INF")
        return json::value(negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
    if (text == ".nan" || text == ".NaN" || text == ".NAN") return json::value(std::numeric_limits<double>::quiet_NaN());
    std::size_t i = 0;
    std::size_t int_digits = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) ++int_digits;
    std::size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        for (; i < s.size() && is_digit(s[i]); ++i) ++frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0) return std::nullopt;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        std::size_t exp_digits = 0;
        for (; i < s.size() && is_digit(s[i]); ++i) ++exp_digits;
        if (exp_digits == 0) return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    // strtod, not from_chars: libc++ 16 (the musl build) has no floating from_chars.
    // kipvs never calls setlocale, so the decimal point is '.'.
    return json::value(std::strtod(std::string(text).c_str(), nullptr));
}

json::value scalar_to_json(const yaml::Node& node) {
    const std::string& v = node.value;
    if (!node.plain) return json::value(json::string(v));
    if (node.is_null()) return json::value(nullptr);
    if (v == "true" || v == "True" || v == "TRUE") return json::value(true);
    if (v == "false" || v == "False" || v == "FALSE") return json::value(false);
    if (auto n = plain_integer(v)) return std::move(*n);
    if (auto f = plain_float(v)) return std::move(*f);
    return json::value(json::string(v));
}

void merge_into(json::object& out, const yaml::Node& source) {
    // emplace keeps what is there: explicit keys and earlier merges win (YAML merge-key rules).
    if (source.kind == yaml::Node::Kind::mapping) {
        json::value merged = to_json(source);
        for (auto& kv : merged.get_object()) out.emplace(kv.key(), std::move(kv.value()));
    } else if (source.kind == yaml::Node::Kind::sequence) {
        for (const auto& item : source.items)
            if (item.kind == yaml::Node::Kind::mapping) merge_into(out, item);
    }
}

}  // namespace

json::value to_json(const yaml::Node& node) {
    switch (node.kind) {
        case yaml::Node::Kind::scalar:
            return scalar_to_json(node);
        case yaml::Node::Kind::sequence: {
            json::array out;
            out.reserve(node.items.size());
            for (const auto& item : node.items) out.push_back(to_json(item));
            return json::value(std::move(out));
        }
        case yaml::Node::Kind::mapping: {
            json::object out;
            out.reserve(node.entries.size());
            const yaml::Node* merge = nullptr;
            for (const auto& entry : node.entries) {
                if (entry.key.plain && entry.key.value == "<<") merge = &entry.value;
                else out.insert_or_assign(entry.key.value, to_json(entry.value));
            }
            if (merge != nullptr) merge_into(out, *merge);
            return json::value(std::move(out));
        }
    }
    return json::value(nullptr);
}

// ------------------------------------------------------- Endpoints mirroring

namespace {

using kube::detail::Path;
using kube::detail::Reader;

struct PendingSlice {
    model::Family family;
    std::vector<model::Endpoint> endpoints;
};

void read_addresses(const Reader& r, const json::object& subset, const Path& sp, std::string_view key, bool ready,
                    std::vector<PendingSlice>& groups) {
    const json::array* list = r.array(subset, sp, key);
    if (list == nullptr) return;
    Path lp = sp.field(key);
    for (std::size_t i = 0; i < list->size(); ++i) {
        Path ap = lp.at(i);
        const json::object& a = r.as_object((*list)[i], ap);
        const json::string* ip = r.string(a, ap, "ip");
        if (ip == nullptr) r.fail(ap.field("ip"), "required");
        model::Endpoint e;
        e.address = r.ip(*ip, ap.field("ip"));
        e.ready = ready;
        e.serving = ready;
        if (const json::string* node = r.string(a, ap, "nodeName")) e.node_name = std::string(*node);
        auto group = std::find_if(groups.begin(), groups.end(),
                                  [&](const PendingSlice& g) { return g.family == e.address.family; });
        if (group == groups.end()) group = groups.insert(groups.end(), PendingSlice{e.address.family, {}});
        group->endpoints.push_back(std::move(e));
    }
}

}  // namespace

std::vector<model::EndpointSlice> mirror_endpoints(const json::value& value) {
    Reader r("Endpoints");
    auto meta = kube::detail::read_metadata(r, value, true);
    static const Path root{};
    std::vector<model::EndpointSlice> out;
    const json::array* subsets = r.array(*meta.root, root, "subsets");
    if (subsets == nullptr) return out;
    Path subsets_path = root.field("subsets");
    for (std::size_t i = 0; i < subsets->size(); ++i) {
        Path sp = subsets_path.at(i);
        const json::object& subset = r.as_object((*subsets)[i], sp);
        std::vector<model::EndpointPort> ports;
        if (const json::array* list = r.array(subset, sp, "ports")) {
            Path pp = sp.field("ports");
            for (std::size_t j = 0; j < list->size(); ++j) {
                const json::object& p = r.as_object((*list)[j], pp.at(j));
                model::EndpointPort port;
                // Endpoints' port name is a plain string; the mirroring controller
                // copies its address, so an absent name is "" in the slice, not nil.
                const json::string* name = r.string(p, pp.at(j), "name");
                port.name = name ? std::string(*name) : std::string();
                port.protocol = r.protocol(p, pp.at(j));
                auto number = r.integer(p, pp.at(j), "port", 1, 65535);
                if (!number) r.fail(pp.at(j).field("port"), "required");
                port.port = static_cast<std::uint16_t>(*number);
                ports.push_back(std::move(port));
            }
        }
        // The mirroring controller keeps one address type per slice.
        std::vector<PendingSlice> groups;
        read_addresses(r, subset, sp, "addresses", true, groups);
        read_addresses(r, subset, sp, "notReadyAddresses", false, groups);
        for (auto& group : groups) {
            model::EndpointSlice slice;
            slice.namespace_name = meta.namespace_name;
            slice.service_name = meta.name;  // Endpoints are named after their Service
            slice.address_type = group.family == model::Family::v4 ? model::AddressType::ipv4 : model::AddressType::ipv6;
            slice.endpoints = std::move(group.endpoints);
            slice.ports = ports;
            out.push_back(std::move(slice));
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].name = meta.name;
        if (out.size() > 1) {
            out[i].name += '-';
            out[i].name += std::to_string(i);
        }
    }
    return out;
}

// ------------------------------------------------------------------- loading

bool is_manifest_file_name(std::string_view name) {
    if (name.empty() || name.front() == '.' || name.front() == '#') return false;
    for (std::string_view ext : {".yaml", ".yml", ".json"})
        if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return true;
    return false;
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Where an object came from: a YAML node, or a JSON file and item.
struct Origin {
    const std::string* file = nullptr;
    const yaml::Node* node = nullptr;  // YAML only
    std::string item;                  // JSON only: "items[2]", or empty for the whole file

    std::string where() const { return where(node); }
    std::string where(const yaml::Node* at) const {
        if (at != nullptr) return yaml::where(*file, at->mark);
        std::string out = *file;
        if (!item.empty()) {
            out += ": ";
            out += item;
        }
        return out;
    }
};

// The node a decoder's field path ("spec.ports[0].port") names, or the
// deepest one on the way that exists (a missing field: its parent). Keys may
// contain dots (label keys), so the longest key that fits is taken.
const yaml::Node* node_at(const yaml::Node* node, std::string_view path) {
    if (path == "(object)") return node;
    while (!path.empty()) {
        if (node->kind == yaml::Node::Kind::sequence && path.front() == '[') {
            std::size_t close = path.find(']');
            std::size_t index = 0;
            auto [end, ec] = std::from_chars(path.data() + 1, path.data() + std::min(close, path.size()), index);
            if (close == std::string_view::npos || ec != std::errc() || index >= node->items.size()) return node;
            node = &node->items[index];
            path.remove_prefix(close + 1);
        } else if (node->kind == yaml::Node::Kind::mapping) {
            const yaml::MapEntry* best = nullptr;
            for (const auto& entry : node->entries) {
                const std::string& k = entry.key.value;
                if (path.substr(0, k.size()) != k) continue;
                if (path.size() > k.size() && path[k.size()] != '.' && path[k.size()] != '[') continue;
                if (best == nullptr || k.size() > best->key.value.size()) best = &entry;
            }
            if (best == nullptr) return node;
            node = &best->value;
            path.remove_prefix(best->key.value.size());
        } else {
            return node;
        }
        if (!path.empty() && path.front() == '.') path.remove_prefix(1);
    }
    return node;
}

std::string object_name(const json::value& object) {
    auto key = kube::object_key(object);
    return key ? key->to_string() : std::string("(unnamed)");
}

class ManifestCollector {
public:
    ManifestObjects take() { return std::move(out_); }

    void add_error(std::string message) { out_.errors.push_back(std::move(message)); }

    void add_failed_file(const std::string& file) {
        if (std::find(out_.failed_files.begin(), out_.failed_files.end(), file) == out_.failed_files.end())
            out_.failed_files.push_back(file);
    }

    void add_file(std::string_view text, const std::string& file) {
        if (ends_with(file, ".json")) add_json_file(text, file);
        else add_yaml_file(text, file);
    }

private:
    void add_yaml_file(std::string_view text, const std::string& file) {
        std::vector<yaml::Node> docs;
        try {
            docs = yaml::parse_documents(text, file);
        } catch (const ConfigError& e) {
            add_error(e.what());
            add_failed_file(file);
            return;
        }
        for (std::size_t i = 0; i < docs.size(); ++i) {
            Origin origin{&file, &docs[i], {}};
            if (docs[i].is_null()) continue;  // an empty document ("---" twice, or a comment)
            if (docs[i].kind != yaml::Node::Kind::mapping) {
                std::string message = origin.where();
                message += ": document ";
                message += std::to_string(i + 1);
                message += ": expected a Kubernetes object (a mapping), found ";
                message += docs[i].kind_name();
                add_error(std::move(message));
                add_failed_file(file);
                continue;
            }
            add_document(to_json(docs[i]), origin);
        }
    }

    void add_json_file(std::string_view text, const std::string& file) {
        json::parse_options options;
        options.max_depth = 64;  // as yaml_tree's nesting limit
        // Validated first, so that a List can be decoded from its items'
        // text one at a time (json_list.hpp) and a bad file still fails whole.
        std::error_code ec;
        std::size_t used = validate_json(text, options, ec);
        if (!ec) {
            if (auto list = split_json_list(text)) {
                add_list_items(*list, file, options);
                return;
            }
        }
        json::stream_parser parser({}, options);
        if (!ec) {
            used = parser.write(text.data(), text.size(), ec);
            if (!ec) parser.finish(ec);
        }
        if (ec) {
            std::size_t line = 1, column = 1;
            for (std::size_t i = 0; i < std::min(used, text.size()); ++i) {
                if (text[i] == '\n') ++line, column = 1;
                else ++column;
            }
            std::string message = yaml::where(file, yaml::Mark{line, column});
            message += ": invalid JSON: ";
            message += ec.message();
            add_error(std::move(message));
            add_failed_file(file);
            return;
        }
        add_document(parser.release(), Origin{&file, nullptr, {}});
    }

    // The items of a valid List's text, as add_document takes them from its tree.
    void add_list_items(const JsonList& list, const std::string& file, const json::parse_options& options) {
        std::string_view kind = list.kind;
        std::string item_kind(kind == "List" ? std::string_view() : kind.substr(0, kind.size() - 4));
        for (std::size_t i = 0; i < list.items.size(); ++i) {
            Origin item_origin{&file, nullptr, "items[" + std::to_string(i) + ']'};
            std::error_code ec;
            json::value item = json::parse(json::string_view(list.items[i].data(), list.items[i].size()), ec, {},
                                           options);
            if (ec) {  // not expected: the whole text was valid
                add_error(item_origin.where() + ": invalid JSON: " + ec.message());
                add_failed_file(file);
                continue;
            }
            add_object(std::move(item), item_origin, item_kind);
        }
    }

    void add_document(json::value doc, const Origin& origin) {
        if (!doc.is_object()) {
            std::string message = origin.where();
            message += ": expected a Kubernetes object (a JSON object)";
            add_error(std::move(message));
            add_failed_file(*origin.file);
            return;
        }
        const json::object& object = doc.get_object();
        // A copy: a short string lives inside the object's table, which
        // moving "items" out below may reallocate.
        std::string kind_text;
        if (auto it = object.find("kind"); it != object.end() && it->value().is_string())
            kind_text = std::string(it->value().get_string());
        std::string_view kind = kind_text;
        // "List" (kubectl get -o yaml) or "<Kind>List" (the API's list responses,
        // whose items carry no kind of their own).
        bool is_list = kind == "List" || (kind.size() > 4 && ends_with(kind, "List") && object.contains("items"));
        if (!is_list) {
            add_object(std::move(doc), origin, {});
            return;
        }
        std::string item_kind(kind == "List" ? std::string_view() : kind.substr(0, kind.size() - 4));
        json::value items = nullptr;
        if (auto it = doc.get_object().find("items"); it != doc.get_object().end()) items = std::move(it->value());
        if (items.is_null()) return;
        if (!items.is_array()) {
            std::string message = origin.where();
            message += ": ";
            message += kind;
            message += ": items: expected an array";
            add_error(std::move(message));
            add_failed_file(*origin.file);
            return;
        }
        const yaml::Node* item_nodes = origin.node ? origin.node->find("items") : nullptr;
        json::array& list = items.get_array();
        for (std::size_t i = 0; i < list.size(); ++i) {
            Origin item_origin{origin.file, nullptr, {}};
            if (item_nodes != nullptr && item_nodes->kind == yaml::Node::Kind::sequence && i < item_nodes->items.size()) {
                item_origin.node = &item_nodes->items[i];
            } else {
                item_origin.item = "items[" + std::to_string(i) + ']';
            }
            add_object(std::move(list[i]), item_origin, item_kind);
        }
    }

    void add_object(json::value object, const Origin& origin, std::string_view default_kind) {
        std::string kind(default_kind);
        std::string api_version;
        if (const json::object* o = object.if_object()) {
            if (auto it = o->find("kind"); it != o->end() && it->value().is_string()) kind = it->value().get_string();
            if (auto it = o->find("apiVersion"); it != o->end() && it->value().is_string())
                api_version = it->value().get_string();
        } else {
            std::string message = origin.where();
            message += ": expected a Kubernetes object";
            add_error(std::move(message));
            add_failed_file(*origin.file);
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
            std::string message = origin.where();
            message += ": ";
            message += object_name(object);
            message += ": kind: required";
            add_error(std::move(message));
            add_failed_file(*origin.file);
            return;
        } else {
            std::string message = origin.where();
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
            std::string message = origin.where();
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
            add_failed(kind, object, namespaced, origin);
            return;
        }
        try {
            if (kind == "Service") {
                auto s = kube::decode_service(object);
                if (claim(kind, kube::key_of(s).to_string(), origin.where())) {
                    out_.origins[origin_key(kind, s.namespace_name, s.name)] = ObjectOrigin{*origin.file, {}};
                    out_.services.push_back(std::move(s));
                }
            } else if (kind == "EndpointSlice") {
                auto s = kube::decode_endpoint_slice(object);
                if (claim(kind, kube::key_of(s).to_string(), origin.where())) {
                    out_.origins[origin_key(kind, s.namespace_name, s.name)] = ObjectOrigin{*origin.file, {}};
                    out_.slices.push_back(std::move(s));
                }
            } else if (kind == "Node") {
                auto n = kube::decode_node(object);
                if (claim(kind, n.name, origin.where())) {
                    out_.origins[origin_key(kind, {}, n.name)] = ObjectOrigin{*origin.file, {}};
                    out_.nodes.push_back(std::move(n));
                }
            } else {
                add_endpoints(object, origin, name);
            }
        } catch (const kube::DecodeError& e) {
            add_error(decode_error_message(e.what(), kind, name, origin));
            add_failed(kind, object, namespaced, origin);
        }
    }

    // A failed object as a FailedObject, or its whole file failed when its
    // kind or namespace/name cannot be told.
    void add_failed(const std::string& kind, const json::value& object, bool namespaced, const Origin& origin) {
        auto key = kube::object_key(object);
        if (!key || (namespaced && key->namespace_name.empty())) {
            add_failed_file(*origin.file);
            return;
        }
        if (!namespaced) key->namespace_name.clear();
        out_.failed_objects.push_back(FailedObject{kind, std::move(key->namespace_name), std::move(key->name), *origin.file});
    }

    void add_endpoints(const json::value& object, const Origin& origin, const std::string& name) {
        // The mirroring controller leaves Endpoints with this label alone.
        if (skip_mirror(object)) {
            std::string message = origin.where();
            message += ": Endpoints ";
            message += name;
            message += ": labelled endpointslice.kubernetes.io/skip-mirror=true; ignored";
            out_.warnings.push_back(std::move(message));
            return;
        }
        auto slices = mirror_endpoints(object);
        std::string where = origin.where();
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
            out_.origins[origin_key("EndpointSlice", slice.namespace_name, slice.name)] = ObjectOrigin{*origin.file, name};
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
                                            const Origin& origin) {
        const yaml::Node* at = origin.node;
        if (at != nullptr) {
            for (std::string_view shown : {std::string_view(name), std::string_view("(unnamed)")}) {
                std::string prefix = kind;
                prefix += ' ';
                prefix += shown;
                prefix += ": ";
                if (what.substr(0, prefix.size()) != prefix) continue;
                std::string_view rest = what.substr(prefix.size());
                at = node_at(at, rest.substr(0, rest.find(": ")));
                break;
            }
        }
        std::string message = origin.where(at);
        message += ": ";
        message += what;
        return message;
    }

    ManifestObjects out_;
    std::map<std::string, std::string> seen_;  // "Kind ns/name" → where it was loaded from
};

// The whole file, or an error naming it and errno.
std::optional<std::string> read_whole_file(const std::string& path, std::string& error) {
    kernel::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    std::string text;
    if (fd.get() >= 0) {
        char buffer[65536];
        for (;;) {
            ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n > 0) {
                text.append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0) {
                return text;
            } else if (errno != EINTR) {
                break;
            }
        }
    }
    error = path;
    error += ": cannot read: ";
    error += std::strerror(errno);
    return std::nullopt;
}

}  // namespace

ManifestObjects parse_manifest_text(std::string_view text, const std::string& file) {
    ManifestCollector collector;
    collector.add_file(text, file);
    return collector.take();
}

ManifestObjects load_manifests(const std::string& directory) {
    namespace fs = std::filesystem;
    ManifestCollector collector;
    std::vector<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(directory, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!is_manifest_file_name(name)) continue;
        std::error_code status_ec;
        if (!it->is_regular_file(status_ec)) continue;  // follows symlinks; a dangling one is skipped
        names.push_back(std::move(name));
    }
    if (ec) {
        std::string message = directory;
        message += ": cannot read the manifest directory: ";
        message += ec.message();
        collector.add_error(std::move(message));
        collector.add_failed_file(directory);
        return collector.take();
    }
    std::sort(names.begin(), names.end());
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

// ------------------------------------------------- keeping the last good load

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

// ------------------------------------------------------------------- watcher

namespace {

constexpr std::uint32_t directory_events =
    IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// On the parent: the directory's own name appearing or going away.
constexpr std::uint32_t parent_events = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR;

[[noreturn]] void fail_errno(std::string_view what, const std::string& path) {
    int saved = errno;
    std::string message(what);
    message += ' ';
    message += path;
    message += ": ";
    message += std::strerror(saved);
    throw Error(message);
}

}  // namespace

ManifestWatcher::ManifestWatcher(std::string directory) : directory_(std::move(directory)) {
    namespace fs = std::filesystem;
    fs::path path = fs::path(directory_).lexically_normal();
    if (path.has_filename() == false && path.has_parent_path()) path = path.parent_path();  // "dir/" → "dir"
    base_name_ = path.filename().string();
    parent_ = path.has_parent_path() ? path.parent_path().string() : std::string(".");
    fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (fd_.get() < 0) fail_errno("inotify_init1 for", directory_);
    watch_directory();
    if (dir_watch_ < 0) fail_errno("cannot watch", directory_);
    // Best effort: without it, only the replacement of the directory goes unseen.
    if (!base_name_.empty() && base_name_ != "." && base_name_ != "..")
        parent_watch_ = ::inotify_add_watch(fd_.get(), parent_.c_str(), parent_events);
}

void ManifestWatcher::watch_directory() {
    // The same inode gives back the same descriptor; a new one, a new descriptor.
    dir_watch_ = ::inotify_add_watch(fd_.get(), directory_.c_str(), directory_events);
}

bool ManifestWatcher::drain() {
    bool changed = false;
    bool rewatch = false;
    alignas(inotify_event) char buffer[8192];
    for (;;) {
        ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            fail_errno("reading inotify events for", directory_);
        }
        if (n == 0) break;
        for (std::size_t offset = 0; offset + sizeof(inotify_event) <= static_cast<std::size_t>(n);) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
            offset += sizeof(inotify_event) + event->len;
            std::string_view name = event->len > 0 ? std::string_view(event->name) : std::string_view();
            if (event->mask & IN_Q_OVERFLOW) {
                changed = true;
                rewatch = true;
            } else if (event->wd == dir_watch_ && dir_watch_ >= 0) {
                if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                    changed = true;
                    rewatch = true;
                } else if (!(event->mask & IN_ISDIR) && is_manifest_file_name(name)) {
                    changed = true;
                }
            } else if (event->wd == parent_watch_ && parent_watch_ >= 0) {
                if (name == base_name_) {
                    changed = true;
                    rewatch = true;
                }
            }
        }
    }
    if (rewatch) {
        int old = dir_watch_;
        watch_directory();
        // A directory moved away keeps its watch (and its old descriptor) until
        // it is removed: drop it, so that its events are not taken for ours.
        if (old >= 0 && old != dir_watch_) ::inotify_rm_watch(fd_.get(), old);
    }
    return changed;
}

}  // namespace kipvs::source
