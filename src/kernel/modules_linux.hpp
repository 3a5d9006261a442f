#pragma once
// The real kernel side of the module loader: /proc/modules, /sys/module,
// finit_module(2)/init_module(2), and reading depmod's files from disk.
#include <string>

#include "kernel/modules_index.hpp"
#include "kernel/modules_loader.hpp"

namespace kipvs::kernel::modules {

class LinuxModuleKernel : public ModuleKernel {
public:
    KernelSnapshot snapshot() override;
    int insert(const std::string& path, const std::string& params) override;

private:
    // Whether finit_module(MODULE_INIT_COMPRESSED_FILE) works, learnt on the
    // first compressed module: the kernel decompresses only when built with
    // CONFIG_MODULE_DECOMPRESS (5.17+); Debian 12's 6.1 is not.
    enum class Support { unknown, yes, no } kernel_decompress_ = Support::unknown;
};

// uname -r.
std::string kernel_release();
// The configured directory, or /lib/modules/<release> when empty.
std::string module_directory(const std::string& configured);

// Reads modules.dep (required: throws kipvs::Error naming the file) and
// modules.softdep, modules.alias, modules.builtin (each optional) from the
// directory.
ModuleIndex read_module_index(const std::string& directory);

}  // namespace kipvs::kernel::modules
