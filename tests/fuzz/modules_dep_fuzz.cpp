// Any bytes as modules.dep, modules.softdep, modules.alias, modules.builtin or
// /proc/modules parse without crashing (bad lines become problems), and any
// index they make can be planned against: cycles, self-dependencies and
// dangling names must terminate.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "error.hpp"
#include "kernel/modules_index.hpp"
#include "kernel/modules_plan.hpp"

using namespace kipvs::kernel::modules;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // One input feeds every parser: sections split at form feeds, so the
    // fuzzer can grow a consistent dep + softdep + alias set.
    std::string_view parts[4];
    for (auto& part : parts) {
        auto end = text.find('\f');
        part = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    ModuleIndex index;
    parse_modules_dep(parts[0], "modules.dep", index);
    parse_modules_softdep(parts[1], "modules.softdep", index);
    parse_modules_alias(parts[2], "modules.alias", index);
    parse_modules_builtin(parts[3], "modules.builtin", index);
    KernelSnapshot kernel;
    kernel.loaded = parse_proc_modules(parts[3]);

    std::size_t planned = 0;
    for (const auto& [name, file] : index.files) {
        if (++planned > 64) break;
        auto plan = plan_module(index, {name, ""}, kernel);
        // Every module is inserted at most once per plan.
        std::set<std::string> once;
        for (const auto& step : plan.steps)
            if (!once.insert(step.name).second) __builtin_trap();
    }
    for (const auto& [alias, names] : index.aliases) plan_module(index, {alias, ""}, kernel);
    return 0;
}
