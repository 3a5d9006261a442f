#pragma once
// YAML manifests are decoded by the same kube/ decoders as the API server's
// JSON, so a YAML document is first turned into the JSON kubectl would have
// sent for it.
#include <boost/json/value.hpp>

#include "config/yaml_tree.hpp"

namespace kipvs::source {

// A YAML node as the JSON the API server would have received from kubectl.
// Plain scalars are typed by the YAML 1.2 core schema: null, ~ and empty →
// null; true/false (and their True/TRUE forms) → bool; decimal, 0o octal and
// 0x hex integers → int64 (uint64 above it, double beyond that); decimal
// floats, .inf and .nan → double. Quoted and block scalars stay strings.
// Unlike go-yaml v2 (kubectl), "yes", "on" and "0777" are not YAML 1.1 bools
// or octal: they stay a string and the decimal 777. "<<" merge keys are
// expanded; explicit keys win over merged ones.
boost::json::value to_json(const yaml::Node& node);

}  // namespace kipvs::source
