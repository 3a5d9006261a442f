#pragma once
// What depmod wrote under /lib/modules/<release>, as plain data: the pure
// parsing layer of the module loader (no file or kernel access here).
// kipvs reads these text files itself instead of running modprobe or linking
// libkmod, so that a static binary can bring up IPVS on a minimal host.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kipvs::kernel::modules {

// The kernel treats '-' and '_' in module names as the same character
// ("crc32c-intel" is listed as crc32c_intel in /proc/modules): every name
// kipvs compares goes through this first.
std::string canonical_name(std::string_view name);

enum class Compression { none, gzip, xz, zstd };

// "kernel/arch/x86/crypto/crc32c-intel.ko.zst" -> "crc32c_intel"; empty when
// the path does not name a module file (.ko, .ko.gz, .ko.xz, .ko.zst).
std::string module_name_of_path(std::string_view path);
// By the file name's suffix (the loader also checks the magic bytes).
Compression compression_of_path(std::string_view path);

struct ModuleFile {
    std::string path;               // as written in modules.dep (relative to the directory, or absolute)
    std::vector<std::string> deps;  // canonical names, the full closure in depmod's order
};

struct SoftDeps {
    std::vector<std::string> pre;   // names or aliases, loaded before the module
    std::vector<std::string> post;  // loaded after it
};

struct ModuleIndex {
    std::map<std::string, ModuleFile> files;                       // canonical name -> file
    std::map<std::string, SoftDeps> softdeps;                      // canonical name -> soft deps
    std::map<std::string, std::vector<std::string>> aliases;       // alias -> canonical names, file order
    std::set<std::string> builtin;                                 // canonical names
    // Lines that were skipped, as "modules.dep:12: reason": depmod never
    // writes them, so they mean a hand-edited or damaged file; one bad line
    // must not stop every other module from loading.
    std::vector<std::string> problems;
};

// Each parser adds what it understands to `into` and records skipped lines in
// into.problems, prefixed with `source` (the file name for messages).
void parse_modules_dep(std::string_view text, std::string_view source, ModuleIndex& into);
void parse_modules_softdep(std::string_view text, std::string_view source, ModuleIndex& into);
void parse_modules_alias(std::string_view text, std::string_view source, ModuleIndex& into);
void parse_modules_builtin(std::string_view text, std::string_view source, ModuleIndex& into);

// /proc/modules: the canonical names of the loaded (loadable) modules.
std::set<std::string> parse_proc_modules(std::string_view text);

}  // namespace kipvs::kernel::modules
