#include "kernel/modules_loader.hpp"

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace kipvs::kernel::modules {
namespace {

std::string errno_name(int err) {
    switch (err) {
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case ENOEXEC: return "ENOEXEC";
        case EINVAL: return "EINVAL";
        case EBADMSG: return "EBADMSG";
        case EKEYREJECTED: return "EKEYREJECTED";
        case ENOKEY: return "ENOKEY";
        case ENOPKG: return "ENOPKG";
        case ENODEV: return "ENODEV";
        case EBUSY: return "EBUSY";
        case ENOMEM: return "ENOMEM";
        case ENOSYS: return "ENOSYS";
        case EFAULT: return "EFAULT";
        case ETXTBSY: return "ETXTBSY";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        default: return "errno " + std::to_string(err);
    }
}

}  // namespace

std::string explain_insert_errno(int err) {
    std::string why;
    switch (err) {
        case EPERM:
            why = "not permitted: loading modules needs CAP_SYS_MODULE (run as root), and "
                  "kernel.modules_disabled or lockdown may forbid it";
            break;
        case ENOENT:
            // finit_module has no file name to miss: ENOENT is resolve_symbol failing.
            why = "unknown symbol or missing dependency: a module it needs is not loaded "
                  "(modules.dep out of date? run depmod; dmesg names the symbol)";
            break;
        case ENOEXEC:
            why = "not a valid module: the file is corrupt or built for another architecture";
            break;
        case EKEYREJECTED:
            why = "signature rejected: the module is unsigned or its signature does not verify, "
                  "and the kernel enforces signatures";
            break;
        case ENOKEY:
            why = "signature rejected: signed with a key the kernel does not trust";
            break;
        case EBADMSG:
            why = "signature rejected: the signature is malformed";
            break;
        case ENOPKG:
            why = "signature rejected: the kernel lacks the signature's hash or key algorithm";
            break;
        case EINVAL:
            why = "rejected as invalid: built for another kernel (version magic) or a bad parameter; "
                  "dmesg says which";
            break;
        case ENODEV:
            why = "its initialisation found no supported device or CPU feature";
            break;
        default:
            why = std::strerror(err);
    }
    return why + " (" + errno_name(err) + ")";
}

ModuleLoader::ModuleLoader(const ModuleIndex& index, std::string directory, ModuleKernel& kernel)
    : index_(index), directory_(std::move(directory)), kernel_(kernel), snapshot_(kernel.snapshot()) {}

LoadResult ModuleLoader::load(const ModuleRequest& request) {
    LoadResult result;
    result.request = request.name;
    Plan plan = plan_module(index_, request, snapshot_);
    result.module = plan.module;
    switch (plan.outcome) {
        case Plan::Outcome::not_found:
            result.error = plan.module + ": " + plan.reason + " (in " + directory_ + ")";
            return result;
        case Plan::Outcome::builtin:
            result.state = LoadResult::State::builtin;
            return result;
        case Plan::Outcome::already_loaded:
            result.state = LoadResult::State::already_loaded;
            return result;
        case Plan::Outcome::load:
            break;
    }
    bool raced = false;
    for (const auto& step : plan.steps) {
        bool is_target = step.name == plan.module;
        std::string what = is_target ? plan.module : "dependency " + step.name + " of " + plan.module;
        if (step.optional) what = "soft dependency " + step.name + " of " + plan.module;
        std::string failure;
        if (step.path.empty()) {
            failure = what + ": not found in modules.dep, modules.builtin or modules.alias (in " + directory_ + ")";
        } else {
            std::string path = step.path.front() == '/' ? step.path : directory_ + "/" + step.path;
            int err = 0;
            try {
                err = kernel_.insert(path, step.params);
            } catch (const Error& e) {
                failure = what + ": " + e.what();
            }
            if (failure.empty() && err != 0 && err != EEXIST)
                failure = what + ": " + path + ": " + explain_insert_errno(err);
            if (failure.empty()) {
                snapshot_.loaded.insert(step.name);
                if (is_target && err == EEXIST) raced = true;
                if (!is_target) result.dependencies.push_back(step.name);
            }
        }
        if (failure.empty()) continue;
        if (step.optional) {
            result.warnings.push_back(failure);
            continue;
        }
        result.error = failure;
        return result;
    }
    result.state = raced ? LoadResult::State::already_loaded : LoadResult::State::loaded;
    return result;
}

}  // namespace kipvs::kernel::modules
