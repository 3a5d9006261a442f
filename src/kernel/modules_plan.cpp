#include "kernel/modules_plan.hpp"

#include <algorithm>

#include "error.hpp"

namespace kipvs::kernel::modules {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

class Planner {
public:
    Planner(const ModuleIndex& index, const KernelSnapshot& kernel) : index_(index), kernel_(kernel) {}

    bool present(const std::string& name) const {
        return index_.files.count(name) || index_.builtin.count(name) || kernel_.builtin.count(name) ||
               kernel_.loaded.count(name);
    }
    bool builtin(const std::string& name) const {
        return index_.builtin.count(name) || kernel_.builtin.count(name);
    }
    bool loaded(const std::string& name) const { return kernel_.loaded.count(name) > 0; }

    // The module names a requested name stands for.
    std::vector<std::string> resolve(std::string_view requested) const {
        std::string name = canonical_name(requested);
        // Before 4.19 IPv4 connection tracking was its own module,
        // nf_conntrack_ipv4 (it pulls in nf_conntrack); 4.19 merged it into
        // nf_conntrack. Either name means "connection tracking for IPv4" on
        // whichever kernel runs, as kube-proxy's module list intends.
        if (name == "nf_conntrack" && present("nf_conntrack_ipv4")) return {"nf_conntrack_ipv4"};
        if (name == "nf_conntrack_ipv4" && !present(name)) name = "nf_conntrack";
        if (present(name)) return {name};
        auto alias = index_.aliases.find(name);
        if (alias != index_.aliases.end()) return alias->second;
        return {};
    }

    void add(const std::string& name, const std::string& params, bool optional) {
        if (!seen_.insert(name).second) return;
        if (loaded(name) || builtin(name)) return;
        auto file = index_.files.find(name);
        if (file == index_.files.end()) {
            // A dependency modules.dep names without its own line: the
            // loader turns the empty path into a "not found" for it.
            steps_.push_back({name, "", params, optional});
            return;
        }
        auto soft = index_.softdeps.find(name);
        if (soft != index_.softdeps.end()) add_soft(soft->second.pre);
        // modules.dep lists the whole closure with the deepest dependency
        // last; inserting in reverse order loads each before its users.
        // Recursing as well picks up the dependencies' own soft deps.
        const auto& deps = file->second.deps;
        for (auto it = deps.rbegin(); it != deps.rend(); ++it) add(*it, "", optional);
        steps_.push_back({name, file->second.path, params, optional});
        if (soft != index_.softdeps.end()) add_soft(soft->second.post);
    }

    std::vector<LoadStep> take_steps() { return std::move(steps_); }

private:
    // modprobe loads every module an alias matches (both crc32c_generic
    // and crc32c_intel for "crc32c"): the crypto API then picks the best,
    // and one failing (no SSE4.2) does not leave the alias unserved.
    void add_soft(const std::vector<std::string>& names) {
        for (const auto& soft : names) {
            auto candidates = resolve(soft);
            if (candidates.empty()) {
                std::string name = canonical_name(soft);
                if (seen_.insert(name).second) steps_.push_back({name, "", "", true});
                continue;
            }
            for (const auto& c : candidates) add(c, "", true);
        }
    }

    const ModuleIndex& index_;
    const KernelSnapshot& kernel_;
    std::set<std::string> seen_;
    std::vector<LoadStep> steps_;
};

}  // namespace

ModuleRequest parse_request(std::string_view spec) {
    spec = trim(spec);
    std::size_t end = 0;
    while (end < spec.size() && !is_space(spec[end])) ++end;
    ModuleRequest request{std::string(spec.substr(0, end)), std::string(trim(spec.substr(end)))};
    if (request.name.empty()) throw ConfigError("empty module name");
    for (char c : request.name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-';
        if (!ok) throw ConfigError("\"" + request.name + "\" is not a module name");
    }
    return request;
}

Plan plan_module(const ModuleIndex& index, const ModuleRequest& request, const KernelSnapshot& kernel) {
    Planner planner(index, kernel);
    Plan plan;
    auto candidates = planner.resolve(request.name);
    if (candidates.empty()) {
        plan.module = canonical_name(request.name);
        plan.reason = "not found in modules.dep, modules.builtin or modules.alias";
        return plan;
    }
    plan.module = candidates.front();
    for (const auto& c : candidates) {
        if (planner.builtin(c)) {
            plan.module = c;
            plan.outcome = Plan::Outcome::builtin;
            return plan;
        }
    }
    for (const auto& c : candidates) {
        if (planner.loaded(c)) {
            plan.module = c;
            plan.outcome = Plan::Outcome::already_loaded;
            return plan;
        }
    }
    for (const auto& c : candidates) planner.add(c, request.params, false);
    plan.outcome = Plan::Outcome::load;
    plan.steps = planner.take_steps();
    return plan;
}

}  // namespace kipvs::kernel::modules
