#pragma once
// Carries out load plans against the kernel, through ModuleKernel, and turns
// the kernel's errno into a reason an operator can act on. EEXIST ("already
// loaded", e.g. a race with udev) is success here, in this one place.
#include <string>
#include <vector>

#include "kernel/modules_index.hpp"
#include "kernel/modules_plan.hpp"

namespace kipvs::kernel::modules {

// The thin syscall layer (modules_linux.hpp has the real one; the unit tests
// a recording fake).
class ModuleKernel {
public:
    virtual ~ModuleKernel() = default;
    virtual KernelSnapshot snapshot() = 0;
    // Inserts the module file at `path` with `params`. Returns 0 or the errno
    // of the kernel's refusal; throws kipvs::Error when the file cannot be
    // read or decompressed (the kernel never saw it).
    virtual int insert(const std::string& path, const std::string& params) = 0;
};

struct LoadResult {
    enum class State { loaded, already_loaded, builtin, failed };
    std::string request;                   // the name as asked
    std::string module;                    // what it resolved to
    State state = State::failed;
    std::vector<std::string> dependencies; // inserted along the way, in order
    std::vector<std::string> warnings;     // optional soft dependencies that failed
    std::string error;                     // for failed: the reason, naming the module
};

class ModuleLoader {
public:
    // `directory` is where modules.dep's relative paths start.
    ModuleLoader(const ModuleIndex& index, std::string directory, ModuleKernel& kernel);
    LoadResult load(const ModuleRequest& request);

private:
    const ModuleIndex& index_;
    std::string directory_;
    ModuleKernel& kernel_;
    KernelSnapshot snapshot_;
};

// Why finit_module/init_module refused, e.g. for ENOENT "unknown symbol or
// missing dependency ...". Ends with the errno's name in parentheses.
std::string explain_insert_errno(int err);

}  // namespace kipvs::kernel::modules
