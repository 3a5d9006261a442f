#include "kube/json_reader.hpp"

#include <algorithm>
#include <vector>

#include "kube/decode.hpp"

namespace kipvs::kube::detail {

namespace json = boost::json;

std::string Path::to_string() const {
    std::vector<const Path*> chain;
    for (const Path* p = this; p != nullptr; p = p->parent) chain.push_back(p);
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        const Path& p = **it;
        if (p.parent == nullptr && p.key.empty()) continue;  // the root
        if (p.key.empty()) {
            out += '[' + std::to_string(p.index) + ']';
        } else {
            if (!out.empty()) out += '.';
            out += p.key;
        }
    }
    return out.empty() ? "(object)" : out;
}

void Reader::fail(const Path& path, std::string_view what) const {
    std::string message(kind_);
    message += ' ';
    message += object_.empty() ? "(unnamed)" : object_;
    message += ": ";
    message += path.to_string();
    message += ": ";
    message += what;
    throw DecodeError(message);
}

namespace {
const json::value* find(const json::object& in, std::string_view key) {
    auto it = in.find(key);
    if (it == in.end() || it->value().is_null()) return nullptr;
    return &it->value();
}
}  // namespace

const json::object* Reader::object(const json::object& in, const Path& parent, std::string_view key) const {
    const json::value* v = find(in, key);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) fail(parent.field(key), "expected an object");
    return &v->get_object();
}

const json::array* Reader::array(const json::object& in, const Path& parent, std::string_view key) const {
    const json::value* v = find(in, key);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) fail(parent.field(key), "expected an array");
    return &v->get_array();
}

const json::string* Reader::string(const json::object& in, const Path& parent, std::string_view key) const {
    const json::value* v = find(in, key);
    if (v == nullptr) return nullptr;
    if (!v->is_string()) fail(parent.field(key), "expected a string");
    return &v->get_string();
}

const bool* Reader::boolean(const json::object& in, const Path& parent, std::string_view key) const {
    const json::value* v = find(in, key);
    if (v == nullptr) return nullptr;
    if (!v->is_bool()) fail(parent.field(key), "expected true or false");
    return v->if_bool();
}

std::optional<std::int64_t> Reader::integer(const json::object& in, const Path& parent, std::string_view key,
                                            std::int64_t min, std::int64_t max) const {
    const json::value* v = find(in, key);
    if (v == nullptr) return std::nullopt;
    std::int64_t n = 0;
    if (v->is_int64()) {
        n = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) {
        n = static_cast<std::int64_t>(v->get_uint64());
    } else {
        fail(parent.field(key), "expected an integer " + std::to_string(min) + "-" + std::to_string(max));
    }
    if (n < min || n > max)
        fail(parent.field(key), std::to_string(n) + " is outside " + std::to_string(min) + "-" + std::to_string(max));
    return n;
}

const json::object& Reader::as_object(const json::value& v, const Path& path) const {
    if (!v.is_object()) fail(path, "expected an object");
    return v.get_object();
}

std::string_view Reader::as_string(const json::value& v, const Path& path) const {
    if (!v.is_string()) fail(path, "expected a string");
    return v.get_string();
}

model::IpAddress Reader::ip(std::string_view text, const Path& path) const {
    auto ip = model::IpAddress::parse(text);
    if (!ip) fail(path, "\"" + std::string(text.substr(0, 64)) + "\" is not an IP address");
    return *ip;
}

model::Cidr Reader::cidr(std::string_view text, const Path& path) const {
    auto cidr = model::Cidr::parse(text);
    if (!cidr) fail(path, "\"" + std::string(text.substr(0, 64)) + "\" is not a CIDR");
    return *cidr;
}

model::Protocol Reader::protocol(const json::object& in, const Path& parent) const {
    const json::string* p = string(in, parent, "protocol");
    if (p == nullptr || *p == "TCP") return model::Protocol::tcp;  // the API default
    if (*p == "UDP") return model::Protocol::udp;
    if (*p == "SCTP") return model::Protocol::sctp;
    fail(parent.field("protocol"), "\"" + std::string(p->subview(0, std::min<std::size_t>(p->size(), 64))) +
                                       "\" is not TCP, UDP or SCTP");
}

model::Labels Reader::labels(const json::object& metadata, const Path& metadata_path) const {
    model::Labels out;
    const json::object* labels = object(metadata, metadata_path, "labels");
    if (labels == nullptr) return out;
    Path path = metadata_path.field("labels");
    out.reserve(labels->size());
    for (const auto& kv : *labels) out.emplace_back(std::string(kv.key()), std::string(as_string(kv.value(), path.field(kv.key()))));
    std::sort(out.begin(), out.end());
    return out;
}

Metadata read_metadata(Reader& reader, const json::value& value, bool namespaced) {
    static const Path root{};
    Metadata m;
    m.root = &reader.as_object(value, root);
    m.metadata = reader.object(*m.root, root, "metadata");
    Path path = root.field("metadata");
    if (m.metadata == nullptr) reader.fail(path, "required");
    const json::string* name = reader.string(*m.metadata, path, "name");
    const json::string* ns = namespaced ? reader.string(*m.metadata, path, "namespace") : nullptr;
    if (ns != nullptr) m.namespace_name = std::string(*ns);
    if (name != nullptr) m.name = std::string(*name);
    reader.set_object_name(m.namespace_name.empty() ? m.name : m.namespace_name + "/" + m.name);
    if (m.name.empty()) reader.fail(path.field("name"), "required");
    if (namespaced && m.namespace_name.empty()) reader.fail(path.field("namespace"), "required");
    return m;
}

}  // namespace kipvs::kube::detail

namespace kipvs::kube {

std::optional<ObjectKey> object_key(const boost::json::value& object) {
    const auto* root = object.if_object();
    if (root == nullptr) return std::nullopt;
    auto it = root->find("metadata");
    if (it == root->end() || !it->value().is_object()) return std::nullopt;
    const auto& metadata = it->value().get_object();
    ObjectKey key;
    if (auto n = metadata.find("name"); n != metadata.end() && n->value().is_string())
        key.name = std::string(n->value().get_string());
    if (auto n = metadata.find("namespace"); n != metadata.end() && n->value().is_string())
        key.namespace_name = std::string(n->value().get_string());
    if (key.name.empty()) return std::nullopt;
    return key;
}

std::string resource_version(const boost::json::value& object) {
    const auto* root = object.if_object();
    if (root == nullptr) return {};
    auto it = root->find("metadata");
    if (it == root->end() || !it->value().is_object()) return {};
    const auto& metadata = it->value().get_object();
    auto rv = metadata.find("resourceVersion");
    if (rv == metadata.end() || !rv->value().is_string()) return {};
    return std::string(rv->value().get_string());
}

}  // namespace kipvs::kube
