#include "source/manifest_documents.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <system_error>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

#include "error.hpp"
#include "source/json_list.hpp"
#include "source/yaml_to_json.hpp"

namespace kipvs::source {

namespace json = boost::json;

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string where_in_file(const ObjectLocation& location, const yaml::Node* at) {
    if (at != nullptr) return yaml::where(*location.file, at->mark);
    std::string out = *location.file;
    if (!location.item.empty()) {
        out += ": ";
        out += location.item;
    }
    return out;
}

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

}  // namespace

std::string ObjectLocation::where() const { return where_in_file(*this, node); }

std::string ObjectLocation::where_field(std::string_view path) const {
    return where_in_file(*this, node != nullptr ? node_at(node, path) : nullptr);
}

namespace {

class ManifestFileSplitter {
public:
    explicit ManifestFileSplitter(ManifestObjectSink& sink) : sink_(sink) {}

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
            sink_.add_file_error(e.what(), file);
            return;
        }
        for (std::size_t i = 0; i < docs.size(); ++i) {
            ObjectLocation location{&file, &docs[i], {}};
            if (docs[i].is_null()) continue;  // an empty document ("---" twice, or a comment)
            if (docs[i].kind != yaml::Node::Kind::mapping) {
                std::string message = location.where();
                message += ": document ";
                message += std::to_string(i + 1);
                message += ": expected a Kubernetes object (a mapping), found ";
                message += docs[i].kind_name();
                sink_.add_file_error(std::move(message), file);
                continue;
            }
            add_document(to_json(docs[i]), location);
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
            sink_.add_file_error(std::move(message), file);
            return;
        }
        add_document(parser.release(), ObjectLocation{&file, nullptr, {}});
    }

    // The items of a valid List's text, as add_document takes them from its tree.
    void add_list_items(const JsonList& list, const std::string& file, const json::parse_options& options) {
        std::string_view kind = list.kind;
        std::string item_kind(kind == "List" ? std::string_view() : kind.substr(0, kind.size() - 4));
        for (std::size_t i = 0; i < list.items.size(); ++i) {
            ObjectLocation item_location{&file, nullptr, "items[" + std::to_string(i) + ']'};
            std::error_code ec;
            json::value item = json::parse(json::string_view(list.items[i].data(), list.items[i].size()), ec, {},
                                           options);
            if (ec) {  // not expected: the whole text was valid
                sink_.add_file_error(item_location.where() + ": invalid JSON: " + ec.message(), file);
                continue;
            }
            sink_.add_object(std::move(item), item_location, item_kind);
        }
    }

    void add_document(json::value doc, const ObjectLocation& location) {
        if (!doc.is_object()) {
            std::string message = location.where();
            message += ": expected a Kubernetes object (a JSON object)";
            sink_.add_file_error(std::move(message), *location.file);
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
            sink_.add_object(std::move(doc), location, {});
            return;
        }
        std::string item_kind(kind == "List" ? std::string_view() : kind.substr(0, kind.size() - 4));
        json::value items = nullptr;
        if (auto it = doc.get_object().find("items"); it != doc.get_object().end()) items = std::move(it->value());
        if (items.is_null()) return;
        if (!items.is_array()) {
            std::string message = location.where();
            message += ": ";
            message += kind;
            message += ": items: expected an array";
            sink_.add_file_error(std::move(message), *location.file);
            return;
        }
        const yaml::Node* item_nodes = location.node ? location.node->find("items") : nullptr;
        json::array& list = items.get_array();
        for (std::size_t i = 0; i < list.size(); ++i) {
            ObjectLocation item_location{location.file, nullptr, {}};
            if (item_nodes != nullptr && item_nodes->kind == yaml::Node::Kind::sequence && i < item_nodes->items.size()) {
                item_location.node = &item_nodes->items[i];
            } else {
                item_location.item = "items[" + std::to_string(i) + ']';
            }
            sink_.add_object(std::move(list[i]), item_location, item_kind);
        }
    }

    ManifestObjectSink& sink_;
};

}  // namespace

void split_manifest_file(std::string_view text, const std::string& file, ManifestObjectSink& sink) {
    ManifestFileSplitter(sink).add_file(text, file);
}

}  // namespace kipvs::source
