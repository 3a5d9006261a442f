#pragma once
// What a reload does to one of the daemon's fixed listeners (/healthz on
// healthzBindAddress, /metrics on metricsBindAddress), decided from the two
// bind addresses alone so every case is tested without a socket. A moved
// listener binds its new address before the old one closes, so a scraper
// sees no gap; when the two cannot be bound at once (same port, one of them
// a wildcard that covers the other) the old one has to close first.
#include <optional>
#include <string>

#include "model/ip.hpp"

namespace kipvs::server {

enum class ListenerStep {
    keep,             // same address: untouched, open connections unaffected
    start,            // was off (or unusable), now configured
    stop,             // now empty: turned off
    bind_then_close,  // a new address that can coexist with the old one
    close_then_bind,  // a new address the kernel would refuse while the old one listens
    refuse,           // the new text is not IP:port: the old listener stays
};

struct ListenerChange {
    ListenerStep step = ListenerStep::keep;
    std::optional<model::HostPort> next;  // for start, bind_then_close, close_then_bind
};

// `running` is what the listener was bound to ("" when off), `next` the
// reloaded configuration's value.
ListenerChange plan_listener_change(const std::string& running, const std::string& next);

// Whether Linux refuses to bind `b` while a listener holds `a` (both with
// SO_REUSEADDR). kipvs's "[::]" listeners accept IPv4 too (IPV6_V6ONLY off,
// as Go's), so they cover every IPv4 address of their port.
bool listeners_conflict(const model::HostPort& a, const model::HostPort& b);

}  // namespace kipvs::server
