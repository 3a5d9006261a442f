#include <catch2/catch.hpp>

#include "kernel/modules_index.hpp"

using namespace kipvs::kernel::modules;

namespace {

// An excerpt of Debian 12's depmod output (6.1.0-56-amd64).
const char* const debian_dep =
    "kernel/lib/libcrc32c.ko:\n"
    "kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko:\n"
    "kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko:\n"
    "kernel/net/netfilter/nf_conntrack.ko: kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko "
    "kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko kernel/lib/libcrc32c.ko\n"
    "kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko "
    "kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko "
    "kernel/lib/libcrc32c.ko\n"
    "kernel/arch/x86/crypto/crc32c-intel.ko:\n";

std::vector<std::string> problems_of(void (*parse)(std::string_view, std::string_view, ModuleIndex&),
                                     const std::string& text) {
    ModuleIndex index;
    parse(text, "f", index);
    return index.problems;
}

}  // namespace

TEST_CASE("module names: '-' and '_' are one character", "[modules]") {
    CHECK(canonical_name("crc32c-intel") == "crc32c_intel");
    CHECK(canonical_name("ip_vs") == "ip_vs");
    CHECK(module_name_of_path("kernel/arch/x86/crypto/crc32c-intel.ko") == "crc32c_intel");
    CHECK(module_name_of_path("kernel/net/netfilter/ipvs/ip_vs.ko.xz") == "ip_vs");
    CHECK(module_name_of_path("/abs/ip_vs_rr.ko.zst") == "ip_vs_rr");
    CHECK(module_name_of_path("dummy.ko.gz") == "dummy");
    CHECK(module_name_of_path("kernel/x.ko.bz2").empty());
    CHECK(module_name_of_path("kernel/.ko").empty());
    CHECK(module_name_of_path("kernel/a b.ko").empty());
    CHECK(compression_of_path("a.ko") == Compression::none);
    CHECK(compression_of_path("a.ko.xz") == Compression::xz);
    CHECK(compression_of_path("a.ko.zst") == Compression::zstd);
    CHECK(compression_of_path("a.ko.gz") == Compression::gzip);
}

TEST_CASE("modules.dep: paths and the dependency closure in depmod's order", "[modules]") {
    ModuleIndex index;
    parse_modules_dep(debian_dep, "modules.dep", index);
    CHECK(index.problems.empty());
    REQUIRE(index.files.size() == 6);
    const auto& ip_vs = index.files.at("ip_vs");
    CHECK(ip_vs.path == "kernel/net/netfilter/ipvs/ip_vs.ko");
    CHECK(ip_vs.deps == std::vector<std::string>{"nf_conntrack", "nf_defrag_ipv6", "nf_defrag_ipv4", "libcrc32c"});
    CHECK(index.files.at("crc32c_intel").path == "kernel/arch/x86/crypto/crc32c-intel.ko");
    CHECK(index.files.at("libcrc32c").deps.empty());
}

TEST_CASE("modules.dep: comments, blank lines, CRLF, tabs and no final newline", "[modules]") {
    ModuleIndex index;
    parse_modules_dep("# generated\n\n  \nkernel/a.ko:\tkernel/b.ko.xz\r\nkernel/b.ko.xz:", "modules.dep", index);
    CHECK(index.problems.empty());
    CHECK(index.files.at("a").deps == std::vector<std::string>{"b"});
    CHECK(index.files.at("b").path == "kernel/b.ko.xz");
}

TEST_CASE("modules.dep: malformed lines are skipped and named", "[modules]") {
    struct Case {
        std::string line;
        std::string problem;
    };
    const std::vector<Case> cases = {
        {"kernel/a.ko", "f:1: no ':' after the module path in \"kernel/a.ko\""},
        {": kernel/b.ko", "f:1: expected one module path before ':'"},
        {"kernel/a.ko kernel/c.ko: kernel/b.ko", "f:1: expected one module path before ':'"},
        {"kernel/a.txt: kernel/b.ko", "f:1: \"kernel/a.txt\" is not a module file"},
        {"kernel/a.ko: kernel/b", "f:1: dependency \"kernel/b\" of a is not a module file"},
        {"kernel/a.ko: kernel/b.ko.bz2", "f:1: dependency \"kernel/b.ko.bz2\" of a is not a module file"},
        {"kernel/\x01.ko:", "f:1: \"kernel/\\x01.ko\" is not a module file"},
        {"kernel/a.ko:\nkernel/x/a.ko:", "f:2: module a is listed again (first entry kept)"},
        {"kernel/a-b.ko:\nkernel/a_b.ko:", "f:2: module a_b is listed again (first entry kept)"},
    };
    for (const auto& c : cases) {
        INFO(c.line);
        auto problems = problems_of(parse_modules_dep, c.line);
        REQUIRE(problems.size() == 1);
        CHECK(problems.front().rfind(c.problem, 0) == 0);
    }
    // A bad line costs only itself.
    ModuleIndex index;
    parse_modules_dep("kernel/a.ko:\ngarbage\nkernel/b.ko: kernel/a.ko\n", "f", index);
    CHECK(index.problems.size() == 1);
    CHECK(index.files.size() == 2);
    // Very long garbage is cut in messages.
    auto long_line = problems_of(parse_modules_dep, std::string(500, 'x'));
    REQUIRE(long_line.size() == 1);
    CHECK(long_line.front().size() < 200);
}

TEST_CASE("modules.softdep: pre and post, aliases, and words modprobe ignores", "[modules]") {
    ModuleIndex index;
    parse_modules_softdep("# comment\n"
                          "softdep libcrc32c pre: crc32c\n"
                          "softdep ext4 pre: crypto-crc32c\n"
                          "softdep m pre: a b post: c pre: d\n"
                          "softdep cifs gcm\n"
                          "softdep x pre: platform:idma64\n",
                          "modules.softdep", index);
    CHECK(index.problems.empty());
    CHECK(index.softdeps.at("libcrc32c").pre == std::vector<std::string>{"crc32c"});
    CHECK(index.softdeps.at("ext4").pre == std::vector<std::string>{"crypto-crc32c"});
    CHECK(index.softdeps.at("m").pre == std::vector<std::string>{"a", "b", "d"});
    CHECK(index.softdeps.at("m").post == std::vector<std::string>{"c"});
    CHECK(index.softdeps.count("cifs") == 0);
    CHECK(index.softdeps.at("x").pre == std::vector<std::string>{"platform:idma64"});
}

TEST_CASE("modules.softdep: malformed lines are skipped and named", "[modules]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"softdp libcrc32c pre: crc32c", "f:1: expected \"softdep\""},
        {"softdep", "f:1: softdep without a valid module name"},
        {"softdep a/b pre: c", "f:1: softdep without a valid module name"},
        {"softdep a pre: b/c", "f:1: \"b/c\" is not a module name or alias"},
    };
    for (const auto& [line, problem] : cases) {
        INFO(line);
        auto problems = problems_of(parse_modules_softdep, line);
        REQUIRE(problems.size() == 1);
        CHECK(problems.front().rfind(problem, 0) == 0);
    }
}

TEST_CASE("modules.alias: exact names kept, device patterns skipped", "[modules]") {
    ModuleIndex index;
    parse_modules_alias("alias crc32c crc32c_intel\n"
                        "alias crc32c crc32c_generic\n"
                        "alias crc32c crc32c_generic\n"
                        "alias crypto-crc32c-intel crc32c_intel\n"
                        "alias rtnl-link-dummy dummy\n"
                        "alias pci:v00008086d*sv*sd*bc*sc*i* e1000e\n",
                        "modules.alias", index);
    CHECK(index.problems.empty());
    CHECK(index.aliases.at("crc32c") == std::vector<std::string>{"crc32c_intel", "crc32c_generic"});
    CHECK(index.aliases.at("crypto_crc32c_intel") == std::vector<std::string>{"crc32c_intel"});
    CHECK(index.aliases.at("rtnl_link_dummy") == std::vector<std::string>{"dummy"});
    CHECK(index.aliases.size() == 3);

    for (const char* line : {"alias crc32c", "alias a b c", "alas a b", "alias a b/c"}) {
        INFO(line);
        CHECK(problems_of(parse_modules_alias, line).size() == 1);
    }
}

TEST_CASE("modules.builtin and /proc/modules", "[modules]") {
    ModuleIndex index;
    parse_modules_builtin("kernel/net/ipv4/tcp_cubic.ko\nkernel/crypto/crc32c_generic.ko\nbad line here\n",
                          "modules.builtin", index);
    CHECK(index.builtin == std::set<std::string>{"tcp_cubic", "crc32c_generic"});
    REQUIRE(index.problems.size() == 1);
    CHECK(index.problems.front().rfind("modules.builtin:3: expected one module path", 0) == 0);

    auto loaded = parse_proc_modules(
        "ip_vs_rr 16384 1 - Live 0x0000000000000000\n"
        "ip_vs 184320 3 ip_vs_rr, Live 0x0000000000000000\n"
        "crc32c_intel 24576 1 - Loading 0x0000000000000000\n"
        "\n");
    CHECK(loaded == std::set<std::string>{"ip_vs_rr", "ip_vs", "crc32c_intel"});
    CHECK(parse_proc_modules("").empty());
}
