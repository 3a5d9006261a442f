#pragma once
// Static manifests: a directory of YAML (multi-document) or JSON files holding
// Services, discovery.k8s.io/v1 EndpointSlices, v1 Endpoints and Nodes, for
// nodes that run without an API server. Objects are decoded by kube/'s
// decoders into the same model values the API client produces; an Endpoints
// object becomes the EndpointSlice(s) the EndpointSlice mirroring controller
// would have written for it.
//
// Loading never throws for bad content: every bad object is one entry in
// `errors` naming file:line:column (YAML) or file plus item index (JSON),
// kind and namespace/name, and the rest of the directory still loads. The
// caller decides what to log. What failed is also reported as values
// (failed_files, failed_objects) and every loaded object's file is recorded
// (origins), so that merge_with_previous can keep the last good version of
// what a bad edit broke instead of deleting its rules.
//
// This header is the source's whole interface. Its parts live in their own
// files, and all but manifest_documents.hpp (the loader's alone) are included
// here so that a user of the source needs only this one:
//   manifest_objects.hpp    what a load yields (ManifestObjects, origin_key)
//   manifest_files.hpp      which files are manifests, reading them
//   manifest_documents.hpp  one file's text as its objects (YAML or JSON, Lists)
//   yaml_to_json.hpp        a YAML document as the JSON kubectl would send
//   endpoints_mirror.hpp    v1 Endpoints as EndpointSlices
//   last_good_merge.hpp     putting back what a failed file or object held
//   manifest_watcher.hpp    the inotify watch of the directory
#include <string>
#include <string_view>

#include "source/endpoints_mirror.hpp"
#include "source/last_good_merge.hpp"
#include "source/manifest_files.hpp"
#include "source/manifest_objects.hpp"
#include "source/manifest_watcher.hpp"
#include "source/yaml_to_json.hpp"

namespace kipvs::source {

// Every manifest file of `directory` (not recursive), in name order. Symlinks
// to regular files are followed. Namespaced objects without a namespace go to
// "default", as `kubectl apply -f` would put them. Of two objects with the
// same kind and namespace/name the first (in name order) is kept.
ManifestObjects load_manifests(const std::string& directory);

// One file's content; `file` names it in messages and its extension picks
// JSON (.json) or YAML (anything else). What load_manifests does per file.
ManifestObjects parse_manifest_text(std::string_view text, const std::string& file);

}  // namespace kipvs::source
