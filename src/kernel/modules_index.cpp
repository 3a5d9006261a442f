#include "kernel/modules_index.hpp"

#include <algorithm>
#include <array>

namespace kipvs::kernel::modules {
namespace {

struct Suffix {
    std::string_view text;
    Compression compression;
};
constexpr std::array<Suffix, 4> module_suffixes = {{
    {".ko", Compression::none},
    {".ko.gz", Compression::gzip},
    {".ko.xz", Compression::xz},
    {".ko.zst", Compression::zstd},
}};

const Suffix* suffix_of(std::string_view path) {
    for (const auto& s : module_suffixes) {
        if (path.size() > s.text.size() && path.substr(path.size() - s.text.size()) == s.text) return &s;
    }
    return nullptr;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_space(line[i])) ++i;
        std::size_t start = i;
        while (i < line.size() && !is_space(line[i])) ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

// Calls fn(line_number, words) for every line that is not blank or a comment.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        auto words = split_words(line);
        if (words.empty() || words.front().front() == '#') continue;
        fn(number, line, words);
    }
}

std::string where(std::string_view source, std::size_t line) {
    return std::string(source) + ":" + std::to_string(line) + ": ";
}

// Module names are kernel identifiers plus '-': anything else (a NUL, a
// slash, a quote) cannot come from depmod and would only confuse messages.
bool is_module_name(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-';
    });
}

// Soft dependencies may name aliases too ("platform:idma64", "crypto-crc32c").
bool is_alias_name(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        unsigned char u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7f && c != '/';
    });
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text.substr(0, 80)) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    if (text.size() > 80) out += "...";
    return out + "\"";
}

}  // namespace

std::string canonical_name(std::string_view name) {
    std::string out(name);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

std::string module_name_of_path(std::string_view path) {
    const Suffix* s = suffix_of(path);
    if (!s) return {};
    std::string_view file = path.substr(0, path.size() - s->text.size());
    auto slash = file.rfind('/');
    if (slash != std::string_view::npos) file = file.substr(slash + 1);
    if (!is_module_name(file)) return {};
    return canonical_name(file);
}

Compression compression_of_path(std::string_view path) {
    const Suffix* s = suffix_of(path);
    return s ? s->compression : Compression::none;
}

void parse_modules_dep(std::string_view text, std::string_view source, ModuleIndex& into) {
    for_each_line(text, [&](std::size_t number, std::string_view line, const std::vector<std::string_view>&) {
        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            into.problems.push_back(where(source, number) + "no ':' after the module path in " + quoted(line));
            return;
        }
        auto head = split_words(line.substr(0, colon));
        if (head.size() != 1) {
            into.problems.push_back(where(source, number) + "expected one module path before ':' in " +
                                    quoted(line));
            return;
        }
        std::string name = module_name_of_path(head.front());
        if (name.empty()) {
            into.problems.push_back(where(source, number) + quoted(head.front()) +
                                    " is not a module file (.ko, .ko.gz, .ko.xz or .ko.zst)");
            return;
        }
        ModuleFile file{std::string(head.front()), {}};
        for (auto dep : split_words(line.substr(colon + 1))) {
            std::string dep_name = module_name_of_path(dep);
            if (dep_name.empty()) {
                into.problems.push_back(where(source, number) + "dependency " + quoted(dep) + " of " + name +
                                        " is not a module file");
                return;
            }
            file.deps.push_back(std::move(dep_name));
        }
        // Like modprobe, the first entry for a name wins.
        if (!into.files.emplace(name, std::move(file)).second)
            into.problems.push_back(where(source, number) + "module " + name + " is listed again (first entry kept)");
    });
}

void parse_modules_softdep(std::string_view text, std::string_view source, ModuleIndex& into) {
    for_each_line(text, [&](std::size_t number, std::string_view, const std::vector<std::string_view>& words) {
        if (words[0] != "softdep") {
            into.problems.push_back(where(source, number) + "expected \"softdep\", found " + quoted(words[0]));
            return;
        }
        if (words.size() < 2 || !is_module_name(words[1])) {
            into.problems.push_back(where(source, number) + "softdep without a valid module name");
            return;
        }
        enum class Mode { none, pre, post } mode = Mode::none;
        SoftDeps deps;
        bool ignored = false;
        for (std::size_t i = 2; i < words.size(); ++i) {
            if (words[i] == "pre:") {
                mode = Mode::pre;
            } else if (words[i] == "post:") {
                mode = Mode::post;
            } else if (!is_alias_name(words[i])) {
                into.problems.push_back(where(source, number) + quoted(words[i]) + " is not a module name or alias");
                return;
            } else if (mode == Mode::pre) {
                deps.pre.emplace_back(words[i]);
            } else if (mode == Mode::post) {
                deps.post.emplace_back(words[i]);
            } else {
                // A module's MODULE_SOFTDEP("gcm") without pre:/post: lands
                // in modules.softdep verbatim (cifs does it); modprobe
                // ignores such words, and so does kipvs.
                ignored = true;
            }
        }
        if (ignored && deps.pre.empty() && deps.post.empty()) return;
        auto& entry = into.softdeps[canonical_name(words[1])];
        entry.pre.insert(entry.pre.end(), deps.pre.begin(), deps.pre.end());
        entry.post.insert(entry.post.end(), deps.post.begin(), deps.post.end());
    });
}

void parse_modules_alias(std::string_view text, std::string_view source, ModuleIndex& into) {
    for_each_line(text, [&](std::size_t number, std::string_view, const std::vector<std::string_view>& words) {
        if (words[0] != "alias" || words.size() != 3) {
            into.problems.push_back(where(source, number) + "expected \"alias PATTERN MODULE\"");
            return;
        }
        if (!is_module_name(words[2])) {
            into.problems.push_back(where(source, number) + quoted(words[2]) + " is not a module name");
            return;
        }
        // Wildcard patterns are device ids for hotplug (pci:v8086d*...);
        // kipvs resolves names such as "crc32c" or "rtnl-link-dummy" only,
        // so it keeps exact aliases and saves holding ~25k patterns.
        if (words[1].find_first_of("*?[") != std::string_view::npos) return;
        auto& names = into.aliases[canonical_name(words[1])];
        std::string name = canonical_name(words[2]);
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    });
}

void parse_modules_builtin(std::string_view text, std::string_view source, ModuleIndex& into) {
    for_each_line(text, [&](std::size_t number, std::string_view line, const std::vector<std::string_view>& words) {
        std::string name = words.size() == 1 ? module_name_of_path(words[0]) : std::string();
        if (name.empty()) {
            into.problems.push_back(where(source, number) + "expected one module path, found " + quoted(line));
            return;
        }
        into.builtin.insert(std::move(name));
    });
}

std::set<std::string> parse_proc_modules(std::string_view text) {
    std::set<std::string> names;
    for_each_line(text, [&](std::size_t, std::string_view, const std::vector<std::string_view>& words) {
        if (is_module_name(words[0])) names.insert(canonical_name(words[0]));
    });
    return names;
}

}  // namespace kipvs::kernel::modules
