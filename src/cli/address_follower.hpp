#pragma once
// The node's addresses as they change: the kernel's address notifications
// (kernel::AddressWatcher) read on the daemon's event loop, so a new node
// address gets NodePort service and health-check ports without a restart.
#include <functional>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "kernel/link_netlink.hpp"

namespace kipvs::cli {

class AddressFollower {
public:
    // Calls `changed` on the loop after each batch of notifications. When
    // the kernel refuses the subscription it says so once and never calls.
    AddressFollower(boost::asio::io_context& io, std::function<void()> changed);
    void stop();

private:
    void wait();

    std::optional<kernel::AddressWatcher> watcher_;
    std::optional<boost::asio::posix::stream_descriptor> fd_;
    std::function<void()> changed_;
};

}  // namespace kipvs::cli
