#pragma once
// Typed access to one JSON object for the decoders: every accessor knows the
// field path it reads, so a rejection says exactly where (PARITY: errors carry
// context at the edge). Paths are a chain of stack frames, rendered to text
// only when an error is thrown.
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "model/ip.hpp"
#include "model/service.hpp"

namespace kipvs::kube::detail {

struct Path {
    const Path* parent = nullptr;
    std::string_view key;  // empty: an array index
    std::size_t index = 0;

    Path field(std::string_view name) const { return Path{this, name, 0}; }
    Path at(std::size_t i) const { return Path{this, {}, i}; }
    std::string to_string() const;
};

// Throws DecodeError "<kind> <ns/name>: <path>: <what>".
class Reader {
public:
    explicit Reader(std::string_view kind) : kind_(kind) {}
    void set_object_name(std::string name) { object_ = std::move(name); }

    [[noreturn]] void fail(const Path& path, std::string_view what) const;

    // Absent and null read as "not there" (Go's omitempty and nil pointers).
    const boost::json::object* object(const boost::json::object& in, const Path& parent, std::string_view key) const;
    const boost::json::array* array(const boost::json::object& in, const Path& parent, std::string_view key) const;
    const boost::json::string* string(const boost::json::object& in, const Path& parent, std::string_view key) const;
    const bool* boolean(const boost::json::object& in, const Path& parent, std::string_view key) const;
    // An integer in [min, max]; JSON numbers like 80.0 are refused, as Go does.
    std::optional<std::int64_t> integer(const boost::json::object& in, const Path& parent, std::string_view key,
                                        std::int64_t min, std::int64_t max) const;

    const boost::json::object& as_object(const boost::json::value& v, const Path& path) const;
    std::string_view as_string(const boost::json::value& v, const Path& path) const;

    model::IpAddress ip(std::string_view text, const Path& path) const;
    model::Cidr cidr(std::string_view text, const Path& path) const;
    model::Protocol protocol(const boost::json::object& in, const Path& parent) const;
    // metadata.labels, sorted by key.
    model::Labels labels(const boost::json::object& metadata, const Path& metadata_path) const;

private:
    std::string_view kind_;
    std::string object_;
};

// The top-level object and its metadata; sets the reader's object name.
// Namespaced kinds require metadata.namespace.
struct Metadata {
    const boost::json::object* root = nullptr;
    const boost::json::object* metadata = nullptr;
    std::string namespace_name;
    std::string name;
};
Metadata read_metadata(Reader& reader, const boost::json::value& value, bool namespaced);

}  // namespace kipvs::kube::detail
