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
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "config/yaml_tree.hpp"
#include "kernel/unique_fd.hpp"
#include "model/endpoint_slice.hpp"
#include "model/node.hpp"
#include "model/service.hpp"

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

// *.yaml, *.yml or *.json, not hidden, not an editor's scratch file.
bool is_manifest_file_name(std::string_view name);

// Every manifest file of `directory` (not recursive), in name order. Symlinks
// to regular files are followed. Namespaced objects without a namespace go to
// "default", as `kubectl apply -f` would put them. Of two objects with the
// same kind and namespace/name the first (in name order) is kept.
ManifestObjects load_manifests(const std::string& directory);

// One file's content; `file` names it in messages and its extension picks
// JSON (.json) or YAML (anything else). What load_manifests does per file.
ManifestObjects parse_manifest_text(std::string_view text, const std::string& file);

// `current` (a fresh load) with what a failed file or object held in
// `previous` (the last result of this function) put back: for each failed
// file, the previous objects that came from it (from under it, for the
// directory); for each failed object, its previous version (for Endpoints,
// the slices mirrored from it). Nothing is put back over an object that
// `current` has. Appends one note a file or object kept, as "<file>: kept the
// previous 2 objects until the file loads again". Kept objects keep their
// origin, moved to the file where they failed.
ManifestObjects merge_with_previous(const ManifestObjects& previous, ManifestObjects current,
                                    std::vector<std::string>& notes);

// A v1 Endpoints object as the slices the mirroring controller makes of it:
// one slice per subset and address family, named after the Endpoints object
// when there is only one and "<name>-<index>" otherwise; addresses are ready,
// notReadyAddresses neither ready nor serving; an unnamed port is named "".
// Throws kube::DecodeError ("Endpoints ns/name: subsets[0]...: ...").
std::vector<model::EndpointSlice> mirror_endpoints(const boost::json::value& endpoints);

// Watches a manifest directory with inotify. The owner polls fd() for
// readability (poll, or an asio posix::stream_descriptor) and calls drain(),
// which reads every pending event and says whether a reload is due.
//
// Limits (kept simple on purpose):
// - Not recursive; subdirectories are ignored like in load_manifests.
// - A file rewritten in place (truncate, then write) is reported on close,
//   but a reload caused by another event meanwhile may read it half-written:
//   write a scratch file and rename it in, as kubectl-style tools do.
// - Files that are symlinks are not followed for events: retargeting a
//   symlink in place is seen only when the link itself is replaced.
// - The directory itself being deleted, renamed or replaced (a new directory
//   or symlink renamed onto its path) is seen through a watch on its parent;
//   the watch is moved to whatever is at the path then, and drain() reports
//   a change. Without access to the parent that case goes unnoticed until
//   the owner's periodic resync.
// - On a queue overflow drain() reports a change, since events were lost.
class ManifestWatcher {
public:
    // Throws Error naming the directory and errno if inotify cannot be set up.
    explicit ManifestWatcher(std::string directory);

    int fd() const { return fd_.get(); }
    // Reads all pending events without blocking; true when a manifest file
    // was written, created, moved or deleted, or the directory was replaced.
    bool drain();
    // False while nothing exists at the directory's path to watch.
    bool watching() const { return dir_watch_ >= 0; }

private:
    void watch_directory();

    std::string directory_;
    std::string parent_;
    std::string base_name_;
    kernel::UniqueFd fd_;
    int dir_watch_ = -1;
    int parent_watch_ = -1;
};

}  // namespace kipvs::source
