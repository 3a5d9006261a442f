#include "server/listener_change.hpp"

namespace kipvs::server {

bool listeners_conflict(const model::HostPort& a, const model::HostPort& b) {
    // Port 0 asks for a free port: it never takes the other's.
    if (a.port != b.port || a.port == 0) return false;
    if (a.address == b.address) return true;
    // Either wildcard listens on both families (StatusServers binds
    // "0.0.0.0" as "[::]" with IPV6_V6ONLY off, as Go does), so a wildcard
    // takes every address of its port.
    return a.address.is_unspecified() || b.address.is_unspecified();
}

ListenerChange plan_listener_change(const std::string& running, const std::string& next) {
    ListenerChange change;
    if (next.empty()) {
        change.step = running.empty() ? ListenerStep::keep : ListenerStep::stop;
        return change;
    }
    auto want = model::HostPort::parse(next);
    if (!want) {
        change.step = ListenerStep::refuse;
        return change;
    }
    auto have = running.empty() ? std::nullopt : model::HostPort::parse(running);
    if (!have) {
        change.step = ListenerStep::start;
        change.next = want;
        return change;
    }
    // Compared as values: "[::1]:80" and "[0::1]:80" are one address.
    if (*have == *want) return change;
    change.step = listeners_conflict(*have, *want) ? ListenerStep::close_then_bind : ListenerStep::bind_then_close;
    change.next = want;
    return change;
}

}  // namespace kipvs::server
