#include <catch2/catch.hpp>

#include "fake_module_kernel.hpp"
#include "kernel/modules_loader.hpp"

using namespace kipvs;
using namespace kipvs::kernel::modules;
using kipvs::test::FakeModuleKernel;

namespace {

const std::string dir = "/lib/modules/6.1.0-56-amd64";

ModuleIndex index_for_loader() {
    ModuleIndex index;
    parse_modules_dep(
        "kernel/lib/libcrc32c.ko:\n"
        "kernel/crypto/crc32c_generic.ko:\n"
        "kernel/arch/x86/crypto/crc32c-intel.ko:\n"
        "kernel/net/netfilter/nf_conntrack.ko: kernel/lib/libcrc32c.ko\n"
        "kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko\n"
        "kernel/net/netfilter/ipvs/ip_vs_rr.ko: kernel/net/netfilter/ipvs/ip_vs.ko "
        "kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko\n"
        "kernel/drivers/net/dummy.ko.xz:\n"
        "/opt/vendor/extra.ko: kernel/ghost.ko\n",
        "modules.dep", index);
    parse_modules_softdep("softdep libcrc32c pre: crc32c\n", "modules.softdep", index);
    parse_modules_alias("alias crc32c crc32c_intel\nalias crc32c crc32c_generic\n", "modules.alias", index);
    return index;
}

FakeModuleKernel kernel_with_files() {
    FakeModuleKernel k;
    k.files[dir + "/kernel/lib/libcrc32c.ko"] = {"libcrc32c", {}, 0};
    k.files[dir + "/kernel/crypto/crc32c_generic.ko"] = {"crc32c_generic", {}, 0};
    // No SSE4.2 on this CPU.
    k.files[dir + "/kernel/arch/x86/crypto/crc32c-intel.ko"] = {"crc32c_intel", {}, ENODEV};
    k.files[dir + "/kernel/net/netfilter/nf_conntrack.ko"] = {"nf_conntrack", {"libcrc32c"}, 0};
    k.files[dir + "/kernel/net/netfilter/ipvs/ip_vs.ko"] = {"ip_vs", {"nf_conntrack"}, 0};
    k.files[dir + "/kernel/net/netfilter/ipvs/ip_vs_rr.ko"] = {"ip_vs_rr", {"ip_vs"}, 0};
    k.files[dir + "/kernel/drivers/net/dummy.ko.xz"] = {"dummy", {}, 0};
    return k;
}

}  // namespace

TEST_CASE("loader: inserts dependencies first, then reports already loaded", "[modules]") {
    auto index = index_for_loader();
    auto kernel = kernel_with_files();
    ModuleLoader loader(index, dir, kernel);
    auto r = loader.load({"ip_vs", "conn_tab_bits=18"});
    CHECK(r.state == LoadResult::State::loaded);
    CHECK(r.error.empty());
    CHECK(r.dependencies == std::vector<std::string>{"crc32c_generic", "libcrc32c", "nf_conntrack"});
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings.front() ==
          "soft dependency crc32c_intel of ip_vs: " + dir +
              "/kernel/arch/x86/crypto/crc32c-intel.ko: its initialisation found no supported device or CPU "
              "feature (ENODEV)");
    CHECK(kernel.inserted_paths() == std::vector<std::string>{dir + "/kernel/arch/x86/crypto/crc32c-intel.ko",
                                                              dir + "/kernel/crypto/crc32c_generic.ko",
                                                              dir + "/kernel/lib/libcrc32c.ko",
                                                              dir + "/kernel/net/netfilter/nf_conntrack.ko",
                                                              dir + "/kernel/net/netfilter/ipvs/ip_vs.ko"});
    CHECK(kernel.inserts.back().params == "conn_tab_bits=18");
    CHECK(kernel.inserts.front().params.empty());

    auto again = loader.load({"ip_vs", ""});
    CHECK(again.state == LoadResult::State::already_loaded);
    auto rr = loader.load({"ip_vs_rr", ""});
    CHECK(rr.state == LoadResult::State::loaded);
    CHECK(rr.dependencies.empty());
    CHECK(kernel.inserts.size() == 6);
}

TEST_CASE("loader: EEXIST is success (another loader raced us)", "[modules]") {
    auto index = index_for_loader();
    auto kernel = kernel_with_files();
    ModuleLoader loader(index, dir, kernel);  // snapshot taken now: nothing loaded
    kernel.kernel.loaded.insert("dummy");     // udev loads it meanwhile
    auto r = loader.load({"dummy", ""});
    CHECK(r.state == LoadResult::State::already_loaded);
    CHECK(r.error.empty());
}

TEST_CASE("loader: failures name the module and the reason", "[modules]") {
    auto index = index_for_loader();
    SECTION("not found") {
        auto kernel = kernel_with_files();
        auto r = ModuleLoader(index, dir, kernel).load({"ip_vs_nope", ""});
        CHECK(r.state == LoadResult::State::failed);
        CHECK(r.error == "ip_vs_nope: not found in modules.dep, modules.builtin or modules.alias (in " + dir + ")");
        CHECK(kernel.inserts.empty());
    }
    SECTION("a dependency fails: the module is not tried") {
        auto kernel = kernel_with_files();
        kernel.files[dir + "/kernel/net/netfilter/nf_conntrack.ko"].fails_with = EKEYREJECTED;
        auto r = ModuleLoader(index, dir, kernel).load({"ip_vs", ""});
        CHECK(r.state == LoadResult::State::failed);
        CHECK(r.error == "dependency nf_conntrack of ip_vs: " + dir +
                             "/kernel/net/netfilter/nf_conntrack.ko: signature rejected: the module is unsigned or "
                             "its signature does not verify, and the kernel enforces signatures (EKEYREJECTED)");
        CHECK(kernel.inserts.back().path == dir + "/kernel/net/netfilter/nf_conntrack.ko");
    }
    SECTION("no CAP_SYS_MODULE") {
        auto kernel = kernel_with_files();
        kernel.files[dir + "/kernel/drivers/net/dummy.ko.xz"].fails_with = EPERM;
        auto r = ModuleLoader(index, dir, kernel).load({"dummy", ""});
        CHECK(r.error.find("dummy: " + dir + "/kernel/drivers/net/dummy.ko.xz: not permitted: loading modules "
                                             "needs CAP_SYS_MODULE") == 0);
        CHECK(r.error.substr(r.error.size() - 7) == "(EPERM)");
    }
    SECTION("modules.dep lags: unknown symbol") {
        auto kernel = kernel_with_files();
        kernel.files[dir + "/kernel/net/netfilter/ipvs/ip_vs.ko"].needs.push_back("nf_nat");
        auto r = ModuleLoader(index, dir, kernel).load({"ip_vs", ""});
        CHECK(r.error.find("ip_vs: " + dir + "/kernel/net/netfilter/ipvs/ip_vs.ko: unknown symbol or missing "
                                             "dependency") == 0);
    }
    SECTION("the file is missing or cannot be decompressed") {
        auto kernel = kernel_with_files();
        kernel.files.erase(dir + "/kernel/drivers/net/dummy.ko.xz");
        auto r = ModuleLoader(index, dir, kernel).load({"dummy", ""});
        CHECK(r.error == "dummy: " + dir + "/kernel/drivers/net/dummy.ko.xz: cannot open: No such file or directory");
    }
    SECTION("an absolute path and a dependency modules.dep does not list") {
        auto kernel = kernel_with_files();
        auto r = ModuleLoader(index, dir, kernel).load({"extra", ""});
        CHECK(r.error == "dependency ghost of extra: not found in modules.dep, modules.builtin or modules.alias (in " +
                             dir + ")");
        CHECK(kernel.inserts.empty());
    }
}

TEST_CASE("loader: errno explanations", "[modules]") {
    CHECK(explain_insert_errno(ENOEXEC) ==
          "not a valid module: the file is corrupt or built for another architecture (ENOEXEC)");
    CHECK(explain_insert_errno(EBADMSG).find("signature") != std::string::npos);
    CHECK(explain_insert_errno(ENOKEY).find("signature") != std::string::npos);
    CHECK(explain_insert_errno(EINVAL).find("(EINVAL)") != std::string::npos);
    CHECK(explain_insert_errno(ENOMEM).find("(ENOMEM)") != std::string::npos);
    CHECK(explain_insert_errno(12345).find("(errno 12345)") != std::string::npos);
}
