#pragma once
// One manifest file's text as the objects in it, each with where it is: the
// documents of a YAML stream, a JSON file's one value, and the items of a
// List or <Kind>List in either. Kept apart from decoding, which is the same
// whatever the file's format.
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "config/yaml_tree.hpp"

namespace kipvs::source {

// Where an object is in its file: a YAML node, or a JSON file and item. Valid
// while the split that passed it runs (it points into the file's YAML tree).
struct ObjectLocation {
    const std::string* file = nullptr;
    const yaml::Node* node = nullptr;  // YAML only
    std::string item;                  // JSON only: "items[2]", or empty for the whole file

    // "file:line:column" (YAML) or "file: items[2]" (JSON).
    std::string where() const;
    // As where(), but at a decoder's field path ("spec.ports[0].port") when
    // the object came from YAML: the line of that field or, when it is
    // missing, of the deepest one on the way. An empty path is the object.
    std::string where_field(std::string_view path) const;
};

// Receives what split_manifest_file finds, in file order.
class ManifestObjectSink {
public:
    // One JSON value that should be a Kubernetes object. `default_kind` is a
    // <Kind>List's item kind ("Service" for a ServiceList), else empty.
    virtual void add_object(boost::json::value object, const ObjectLocation& location,
                            std::string_view default_kind) = 0;
    // Something in `file` that is not an object at all (a syntax error, a
    // scalar document, a List whose items is not an array): no object in it
    // can be matched by kind and name, so the file did not load whole.
    virtual void add_file_error(std::string message, const std::string& file) = 0;

protected:
    ~ManifestObjectSink() = default;
};

// `file` names the file in messages and its extension picks JSON (.json) or
// YAML (anything else). An empty YAML document is skipped.
void split_manifest_file(std::string_view text, const std::string& file, ManifestObjectSink& sink);

}  // namespace kipvs::source
