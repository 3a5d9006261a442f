#pragma once
// An in-memory ModuleKernel that answers like the kernel: inserting a module
// whose dependencies are not loaded fails with ENOENT (unknown symbol), a
// loaded one with EEXIST, a file that does not exist throws as the real
// layer does; a file can be told to fail with any errno. It records every
// insert so tests can assert the exact order.
#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "error.hpp"
#include "kernel/modules_loader.hpp"

namespace kipvs::test {

class FakeModuleKernel : public kernel::modules::ModuleKernel {
public:
    struct File {
        std::string module;               // the name the module registers as
        std::vector<std::string> needs;   // modules whose symbols it uses
        int fails_with = 0;               // an errno the kernel answers instead
    };
    struct Insert {
        std::string path;
        std::string params;
        bool operator==(const Insert&) const = default;
    };

    std::map<std::string, File> files;           // absolute path -> module file
    kernel::modules::KernelSnapshot kernel;      // what is loaded / built in
    std::vector<Insert> inserts;

    kernel::modules::KernelSnapshot snapshot() override { return kernel; }

    int insert(const std::string& path, const std::string& params) override {
        inserts.push_back({path, params});
        auto file = files.find(path);
        if (file == files.end()) throw Error(path + ": cannot open: No such file or directory");
        if (file->second.fails_with) return file->second.fails_with;
        if (kernel.loaded.count(file->second.module)) return EEXIST;
        for (const auto& need : file->second.needs)
            if (!kernel.loaded.count(need) && !kernel.builtin.count(need)) return ENOENT;
        kernel.loaded.insert(file->second.module);
        return 0;
    }

    std::vector<std::string> inserted_paths() const {
        std::vector<std::string> out;
        for (const auto& i : inserts) out.push_back(i.path);
        return out;
    }
};

}  // namespace kipvs::test
