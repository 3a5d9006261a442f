// The netns suite's runner: everything runs as root inside a network
// namespace of its own, made here and gone when the process ends, so the
// host's sets, rules and links are never touched.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    if (geteuid() != 0) {
        std::puts("SKIP: the netns suite needs root");
        return 77;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        std::printf("SKIP: unshare(CLONE_NEWNET): %s\n", std::strerror(errno));
        return 77;
    }
    std::signal(SIGPIPE, SIG_IGN);
    if (std::system("ip link set lo up") != 0) std::puts("warning: could not bring lo up");
    return Catch::Session().run(argc, argv);
}
