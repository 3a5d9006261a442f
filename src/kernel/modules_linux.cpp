#include "kernel/modules_linux.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"
#include "kernel/modules_decompress.hpp"
#include "kernel/unique_fd.hpp"
#include "log/log.hpp"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4  // <linux/module.h>, 5.17
#endif

namespace kipvs::kernel::modules {
namespace {

using Fd = UniqueFd;

class Dir {
public:
    explicit Dir(const char* path) : dir_(::opendir(path)) {}
    ~Dir() {
        if (dir_) ::closedir(dir_);
    }
    Dir(const Dir&) = delete;
    Dir& operator=(const Dir&) = delete;
    DIR* get() const { return dir_; }

private:
    DIR* dir_;
};

std::string errno_text(int err) { return std::strerror(err); }

// Reads the whole file; returns false with errno set when it cannot be opened.
bool read_whole(const std::string& path, std::string& out) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return false;
    out.clear();
    char buffer[1 << 16];
    while (true) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (n == 0) return true;
        out.append(buffer, static_cast<std::size_t>(n));
    }
}

std::string read_module_file(int fd, const std::string& path) {
    std::string out;
    char buffer[1 << 16];
    off_t offset = 0;
    while (true) {
        ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(path + ": cannot read: " + errno_text(errno));
        }
        if (n == 0) return out;
        if (out.size() > max_module_size) throw Error(path + ": larger than any module; refusing");
        out.append(buffer, static_cast<std::size_t>(n));
        offset += n;
    }
}

int finit_module(int fd, const std::string& params, int flags) {
    return ::syscall(SYS_finit_module, fd, params.c_str(), flags) == 0 ? 0 : errno;
}

int init_module(const std::string& image, const std::string& params) {
    return ::syscall(SYS_init_module, image.data(), image.size(), params.c_str()) == 0 ? 0 : errno;
}

}  // namespace

KernelSnapshot LinuxModuleKernel::snapshot() {
    KernelSnapshot snap;
    std::string text;
    // No /proc/modules: a kernel without CONFIG_MODULES (everything it has is built in).
    if (read_whole("/proc/modules", text)) snap.loaded = parse_proc_modules(text);
    // /sys/module/<name> exists for loaded modules (with an initstate file)
    // and for built-in ones that have parameters or a version (without):
    // the latter covers kernels whose modules.builtin is missing.
    Dir sys("/sys/module");
    if (sys.get()) {
        while (dirent* entry = ::readdir(sys.get())) {
            std::string name = entry->d_name;
            if (name.front() == '.') continue;
            std::string initstate = "/sys/module/" + name + "/initstate";
            if (::access(initstate.c_str(), F_OK) != 0) snap.builtin.insert(canonical_name(name));
        }
    }
    for (const auto& name : snap.loaded) snap.builtin.erase(name);
    return snap;
}

int LinuxModuleKernel::insert(const std::string& path, const std::string& params) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw Error(path + ": cannot open: " + errno_text(errno));
    char head[8] = {};
    ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
    if (n < 0) throw Error(path + ": cannot read: " + errno_text(errno));
    Compression compression = compression_of_content(std::string_view(head, static_cast<std::size_t>(n)));

    if (compression == Compression::none) {
        int err = finit_module(fd.get(), params, 0);
        // finit_module came with 3.8; init_module is the fallback before it.
        if (err == ENOSYS) err = init_module(read_module_file(fd.get(), path), params);
        return err;
    }
    if (kernel_decompress_ != Support::no) {
        int err = finit_module(fd.get(), params, MODULE_INIT_COMPRESSED_FILE);
        // EINVAL: the flag is unknown (before 5.17), or the kernel's own
        // decoder refused the stream (its xz knows only CRC32 checks, and
        // xz's default is CRC64); EOPNOTSUPP: the kernel was built without
        // CONFIG_MODULE_DECOMPRESS. kipvs's decoder handles all of these.
        if (err != EINVAL && err != EOPNOTSUPP) {
            if (kernel_decompress_ == Support::unknown)
                log::debug("modules: the kernel decompresses modules itself (MODULE_INIT_COMPRESSED_FILE)");
            kernel_decompress_ = Support::yes;
            return err;
        }
        if (kernel_decompress_ == Support::unknown)
            log::debug(std::string("modules: the kernel cannot decompress modules (finit_module: ") +
                       (err == EINVAL ? "EINVAL" : "EOPNOTSUPP") + "); decompressing in kipvs");
        kernel_decompress_ = Support::no;
    }
    std::string data = read_module_file(fd.get(), path);
    switch (compression) {
        case Compression::xz: return init_module(decompress_xz(data, path), params);
        case Compression::zstd: return init_module(decompress_zstd(data, path), params);
        default:
            throw Error(path + ": gzip-compressed modules need a kernel that decompresses modules itself "
                               "(CONFIG_MODULE_DECOMPRESS); kipvs decompresses only xz and zstd");
    }
}

std::string kernel_release() {
    utsname u{};
    if (::uname(&u) != 0) throw Error("uname: " + errno_text(errno));
    return u.release;
}

std::string module_directory(const std::string& configured) {
    if (!configured.empty()) return configured;
    return "/lib/modules/" + kernel_release();
}

ModuleIndex read_module_index(const std::string& directory) {
    ModuleIndex index;
    std::string text;
    std::string dep = directory + "/modules.dep";
    if (!read_whole(dep, text))
        throw Error(dep + ": cannot read: " + errno_text(errno) +
                    " (is this kernel's module tree installed? depmod writes this file)");
    parse_modules_dep(text, dep, index);
    struct Optional {
        const char* file;
        void (*parse)(std::string_view, std::string_view, ModuleIndex&);
    };
    for (const auto& o : {Optional{"modules.softdep", parse_modules_softdep},
                          Optional{"modules.alias", parse_modules_alias},
                          Optional{"modules.builtin", parse_modules_builtin}}) {
        std::string path = directory + "/" + o.file;
        if (read_whole(path, text)) {
            o.parse(text, path, index);
        } else if (errno != ENOENT) {
            index.problems.push_back(path + ": cannot read: " + errno_text(errno));
        }
    }
    return index;
}

}  // namespace kipvs::kernel::modules
