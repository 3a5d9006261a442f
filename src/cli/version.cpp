#include <netlink/version.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include <cstdio>
#include <string>

#include "cli/cli.hpp"
#include "version.hpp"

namespace kipvs::cli {

int run_version(const GlobalOptions&, const std::vector<std::string>& args) {
    if (!args.empty()) {
        std::fprintf(stderr, "kipvs version: unexpected argument \"%s\"\n", args.front().c_str());
        return exit_usage;
    }
#if defined(__clang__)
    std::string compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
    std::string compiler = "gcc " __VERSION__;
#else
    std::string compiler = "unknown compiler";
#endif
#if defined(_LIBCPP_VERSION)
    std::string cxxlib = "libc++";
#else
    std::string cxxlib = "libstdc++";
#endif
#if defined(__GLIBC__)
    std::string libc = "glibc";
#else
    std::string libc = "musl";
#endif
    std::printf("kipvs %s\n", version::string);
    std::printf("built with %s, %s, %s\n", compiler.c_str(), cxxlib.c_str(), libc.c_str());
    std::printf("libraries: %s, libyaml %s, %s\n", OpenSSL_version(OPENSSL_VERSION), yaml_get_version_string(),
                LIBNL_STRING);
    return exit_ok;
}

}  // namespace kipvs::cli
