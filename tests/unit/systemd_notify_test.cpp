// The notify protocol against real AF_UNIX datagram sockets, as systemd
// binds them: a path and an abstract name.
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include <catch2/catch.hpp>

#include "error.hpp"
#include "kernel/unique_fd.hpp"
#include "systemd/notify.hpp"
#include "test_support.hpp"

using namespace kipvs;
using kipvs::kernel::UniqueFd;

namespace {

// A bound datagram socket standing in for systemd's notify socket.
class Listener {
public:
    // `abstract`: bind "\0name" and report "@name", as systemd does for
    // per-service sockets.
    Listener(const std::string& path_or_name, bool abstract) {
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        REQUIRE(fd_.get() >= 0);
        timeval timeout{2, 0};
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        socklen_t length;
        if (abstract) {
            std::memcpy(address.sun_path + 1, path_or_name.data(), path_or_name.size());
            length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path_or_name.size());
            name_ = "@" + path_or_name;
        } else {
            std::memcpy(address.sun_path, path_or_name.data(), path_or_name.size());
            length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_or_name.size() + 1);
            name_ = path_or_name;
        }
        REQUIRE(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), length) == 0);
    }
    const std::string& name() const { return name_; }
    // One datagram, exactly as sent ("" when none came within 2 s).
    std::string receive() {
        char buf[4096];
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
    }

private:
    UniqueFd fd_;
    std::string name_;
};

std::string unique_abstract_name() { return "kipvs-notify-test-" + std::to_string(::getpid()); }

}  // namespace

TEST_CASE("notify datagrams reach a path socket one state change each", "[systemd]") {
    test::TempDir dir;
    Listener systemd(dir.path() + "/notify", false);
    systemd::Notifier notifier(systemd.name());
    REQUIRE(notifier.enabled());
    notifier.send(systemd::ready_state("3 services, 5 endpoints"));
    notifier.send(systemd::watchdog_state);
    notifier.send(systemd::stopping_state);
    CHECK(systemd.receive() == "READY=1\nSTATUS=3 services, 5 endpoints");
    CHECK(systemd.receive() == "WATCHDOG=1");
    CHECK(systemd.receive() == "STOPPING=1");
}

TEST_CASE("notify datagrams reach an @abstract socket", "[systemd]") {
    Listener systemd(unique_abstract_name(), true);
    systemd::Notifier notifier(systemd.name());
    notifier.send(systemd::reloading_state(std::chrono::microseconds(123456789)));
    notifier.send(systemd::ready_state(""));
    CHECK(systemd.receive() == "RELOADING=1\nMONOTONIC_USEC=123456789");
    CHECK(systemd.receive() == "READY=1");
}

TEST_CASE("notify reads NOTIFY_SOCKET and keeps it from children", "[systemd]") {
    Listener systemd(unique_abstract_name() + "-env", true);
    ::setenv("NOTIFY_SOCKET", systemd.name().c_str(), 1);
    auto notifier = systemd::Notifier::from_environment();
    CHECK(std::getenv("NOTIFY_SOCKET") == nullptr);
    CHECK(notifier.address() == systemd.name());
    notifier.send(systemd::status_state("API server unreachable:\nprevious rules kept"));
    CHECK(systemd.receive() == "STATUS=API server unreachable: previous rules kept");

    auto outside = systemd::Notifier::from_environment();  // no NOTIFY_SOCKET: a shell
    CHECK_FALSE(outside.enabled());
    CHECK_NOTHROW(outside.send(systemd::watchdog_state));
}

TEST_CASE("notify errors name the socket", "[systemd]") {
    test::TempDir dir;
    systemd::Notifier gone(dir.path() + "/nobody-listens");
    try {
        gone.send(systemd::watchdog_state);
        FAIL("sending to a missing socket succeeded");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("nobody-listens") && Catch::Contains("sendto"));
    }
    CHECK_THROWS_AS(systemd::Notifier("relative/path"), Error);
    CHECK_THROWS_AS(systemd::Notifier("/" + std::string(200, 'x')), Error);
}

TEST_CASE("the monotonic clock matches CLOCK_MONOTONIC", "[systemd]") {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    auto now = systemd::monotonic_now();
    auto before = std::chrono::seconds(ts.tv_sec) + std::chrono::microseconds(ts.tv_nsec / 1000);
    CHECK(now >= before);
    CHECK(now - before < std::chrono::seconds(5));
}

TEST_CASE("the watchdog period is WATCHDOG_USEC when meant for this process", "[systemd]") {
    using std::chrono::microseconds;
    CHECK(systemd::watchdog_period("3000000", nullptr, 42) == microseconds(3'000'000));
    CHECK(systemd::watchdog_period("3000000", "42", 42) == microseconds(3'000'000));
    CHECK_FALSE(systemd::watchdog_period("3000000", "41", 42));  // our parent's
    CHECK_FALSE(systemd::watchdog_period(nullptr, nullptr, 42));
    CHECK_FALSE(systemd::watchdog_period("0", nullptr, 42));
    CHECK_THROWS_AS(systemd::watchdog_period("3s", nullptr, 42), Error);
    CHECK_THROWS_AS(systemd::watchdog_period("-1", nullptr, 42), Error);
    CHECK_THROWS_AS(systemd::watchdog_period("5", "x", 42), Error);

    ::setenv("WATCHDOG_USEC", "2000000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    CHECK(systemd::watchdog_period_from_environment() == microseconds(2'000'000));
    CHECK(std::getenv("WATCHDOG_USEC") == nullptr);
    CHECK(std::getenv("WATCHDOG_PID") == nullptr);
}
