#pragma once
// API JSON → model values (the edge of kube/). Only the fields the proxy
// needs are read; unknown fields are ignored. A missing required field, a
// wrong JSON type or an invalid value rejects the whole object with a
// DecodeError naming kind, namespace/name and the field path, e.g.
//   Service default/web: spec.ports[1].port: expected an integer 1-65535
#include <optional>
#include <string>

#include <boost/json/fwd.hpp>

#include "error.hpp"
#include "model/endpoint_slice.hpp"
#include "model/node.hpp"
#include "model/service.hpp"

namespace kipvs::kube {

class DecodeError : public Error {
public:
    using Error::Error;
};

// namespace/name of any object; what a cache is keyed by.
struct ObjectKey {
    std::string namespace_name;  // empty for cluster-scoped objects
    std::string name;
    std::string to_string() const { return namespace_name.empty() ? name : namespace_name + "/" + name; }
    bool operator==(const ObjectKey&) const = default;
};

// metadata.namespace/name and metadata.resourceVersion, read leniently so that
// an object that does not decode can still be deleted by key.
std::optional<ObjectKey> object_key(const boost::json::value& object);
std::string resource_version(const boost::json::value& object);

model::Service decode_service(const boost::json::value& object);
model::EndpointSlice decode_endpoint_slice(const boost::json::value& object);
model::Node decode_node(const boost::json::value& object);

inline ObjectKey key_of(const model::Service& s) { return {s.namespace_name, s.name}; }
inline ObjectKey key_of(const model::EndpointSlice& s) { return {s.namespace_name, s.name}; }
inline ObjectKey key_of(const model::Node& n) { return {"", n.name}; }

}  // namespace kipvs::kube
