#pragma once
// Which files to insert, in which order, for one requested module: the pure
// planning layer of the loader (modprobe's job, without modprobe).
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/modules_index.hpp"

namespace kipvs::kernel::modules {

// "ip_vs conn_tab_bits=18": a module name (or alias) and its parameters,
// passed to the kernel verbatim when the module itself is inserted.
struct ModuleRequest {
    std::string name;
    std::string params;
    bool operator==(const ModuleRequest&) const = default;
};
// Throws ConfigError for an empty spec or a name with characters no module has.
ModuleRequest parse_request(std::string_view spec);

// What the kernel already holds, besides the index's modules.builtin.
struct KernelSnapshot {
    std::set<std::string> loaded;   // /proc/modules
    std::set<std::string> builtin;  // /sys/module entries that are not loadable modules
};

struct LoadStep {
    std::string name;    // canonical
    std::string path;    // as in modules.dep
    std::string params;  // only the requested module gets parameters
    // Soft dependencies are best effort, as with modprobe: their failure is
    // a warning (the module that wanted them reports its own error if it
    // really needed them).
    bool optional = false;
    bool operator==(const LoadStep&) const = default;
};

struct Plan {
    enum class Outcome { load, already_loaded, builtin, not_found };
    Outcome outcome = Outcome::not_found;
    std::string module;            // what the request resolved to (after aliases)
    std::vector<LoadStep> steps;   // dependencies first; empty unless outcome == load
    std::string reason;            // for not_found: what was looked up
};

// Resolves the request's name (canonical name, nf_conntrack's old and new
// names, then aliases) and orders its soft pre-dependencies, dependencies,
// the module and its soft post-dependencies, skipping what is loaded or
// built in. Dependencies that modules.dep names but does not list are kept
// as steps with an empty path: the loader reports them.
Plan plan_module(const ModuleIndex& index, const ModuleRequest& request, const KernelSnapshot& kernel);

}  // namespace kipvs::kernel::modules
