#include "systemd/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "error.hpp"

namespace kipvs::systemd {
namespace {

std::string errno_text(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

struct SocketAddress {
    sockaddr_un address{};
    socklen_t length = 0;
};

// An abstract name is the bytes after '@' with a leading NUL and no
// terminator (its length is part of the name); a path is NUL-terminated.
SocketAddress socket_address(const std::string& text) {
    SocketAddress out;
    out.address.sun_family = AF_UNIX;
    if (text.empty() || (text.front() != '/' && text.front() != '@'))
        throw Error("NOTIFY_SOCKET \"" + text + "\": neither a path nor an @abstract name");
    if (text.size() >= sizeof out.address.sun_path)
        throw Error("NOTIFY_SOCKET \"" + text + "\": longer than a socket address can be (" +
                    std::to_string(sizeof out.address.sun_path - 1) + " bytes)");
    std::memcpy(out.address.sun_path, text.data(), text.size());
    std::size_t used = text.size();
    if (text.front() == '@') {
        out.address.sun_path[0] = '\0';
    } else {
        ++used;  // the terminator
    }
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + used);
    return out;
}

std::string take_env(const char* name, bool unset) {
    const char* value = std::getenv(name);
    std::string copy = value ? value : "";
    if (unset && value) ::unsetenv(name);
    return copy;
}

}  // namespace

Notifier::Notifier(std::string address) : address_(std::move(address)) {
    if (!address_.empty()) socket_address(address_);  // refuse a bad one now, not at the first send
}

Notifier Notifier::from_environment(bool unset) { return Notifier(take_env("NOTIFY_SOCKET", unset)); }

void Notifier::send(std::string_view state) {
    if (!enabled()) return;
    SocketAddress to = socket_address(address_);
    if (fd_.get() < 0) {
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (fd_.get() < 0) throw Error("notify socket: socket(AF_UNIX): " + errno_text(errno));
    }
    ssize_t sent;
    do {
        sent = ::sendto(fd_.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to.address),
                        to.length);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) throw Error("notify socket " + address_ + ": sendto: " + errno_text(errno));
    if (static_cast<std::size_t>(sent) != state.size())
        throw Error("notify socket " + address_ + ": sent " + std::to_string(sent) + " of " +
                    std::to_string(state.size()) + " bytes");
}

std::string ready_state(std::string_view status) {
    std::string out = "READY=1";
    if (!status.empty()) {
        out += '\n';
        out += status_state(status);
    }
    return out;
}

std::string reloading_state(std::chrono::microseconds monotonic) {
    return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic.count());
}

std::string status_state(std::string_view status) {
    // One line: a newline would start another assignment.
    std::string out = "STATUS=";
    for (char c : status) out += c == '\n' ? ' ' : c;
    return out;
}

std::chrono::microseconds monotonic_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::microseconds(ts.tv_nsec / 1000);
}

std::optional<std::chrono::microseconds> watchdog_period(const char* watchdog_usec, const char* watchdog_pid,
                                                         long pid) {
    if (!watchdog_usec || !*watchdog_usec) return std::nullopt;
    auto number = [](const char* name, const char* text) {
        char* end = nullptr;
        errno = 0;
        unsigned long long value = std::strtoull(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || *text == '-')
            throw Error(std::string(name) + " \"" + text + "\" is not a whole number");
        return value;
    };
    if (watchdog_pid && *watchdog_pid && number("WATCHDOG_PID", watchdog_pid) != static_cast<unsigned long long>(pid))
        return std::nullopt;  // meant for another process (e.g. our parent)
    auto usec = number("WATCHDOG_USEC", watchdog_usec);
    if (usec == 0) return std::nullopt;
    return std::chrono::microseconds(usec);
}

std::optional<std::chrono::microseconds> watchdog_period_from_environment(bool unset) {
    std::string usec = take_env("WATCHDOG_USEC", unset);
    std::string pid = take_env("WATCHDOG_PID", unset);
    return watchdog_period(usec.c_str(), pid.c_str(), static_cast<long>(::getpid()));
}

}  // namespace kipvs::systemd
