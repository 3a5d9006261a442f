#pragma once
// What loading manifests yields: the model objects, what failed to load as
// values, and the file of every loaded object. These are the values the
// loader, the last-good merge and the source's owner pass between them.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "model/endpoint_slice.hpp"
#include "model/node.hpp"
#include "model/service.hpp"

namespace kipvs::source {

// An object whose kind and namespace/name are known but that did not load
// (a decode error, an unsupported apiVersion). The namespace is defaulted as
// for loaded objects; empty for a Node.
struct FailedObject {
    std::string kind;  // "Service", "EndpointSlice", "Endpoints" or "Node"
    std::string namespace_name;
    std::string name;
    std::string file;
    bool operator==(const FailedObject&) const = default;
};

// Where a loaded object came from.
struct ObjectOrigin {
    std::string file;
    std::string endpoints;  // a slice mirrored from an Endpoints object: its "ns/name"; else empty
    bool operator==(const ObjectOrigin&) const = default;
};

// The key of ManifestObjects::origins: "Service demo/web",
// "EndpointSlice demo/web-1", "Node node-1" (no namespace).
std::string origin_key(std::string_view kind, std::string_view namespace_name, std::string_view name);

struct ManifestObjects {
    std::vector<model::Service> services;
    std::vector<model::EndpointSlice> slices;  // including those mirrored from Endpoints
    std::vector<model::Node> nodes;
    std::vector<std::string> errors;    // objects (or files) that were not loaded
    std::vector<std::string> warnings;  // objects of kinds kipvs does not read
    // Files that did not load whole: unreadable, not valid YAML/JSON, or
    // holding something whose kind or namespace/name cannot be told (a
    // scalar document, an object without kind or name), so that no previous
    // object can be matched to it. The directory itself when it cannot be
    // listed. What did load from such a file is in the lists above.
    std::vector<std::string> failed_files;
    std::vector<FailedObject> failed_objects;
    // One entry per object in services, slices and nodes, keyed by origin_key.
    std::map<std::string, ObjectOrigin> origins;
};

}  // namespace kipvs::source
