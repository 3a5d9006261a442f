#include "cli/address_follower.hpp"

#include <unistd.h>

#include "error.hpp"
#include "log/log.hpp"

namespace kipvs::cli {

AddressFollower::AddressFollower(boost::asio::io_context& io, std::function<void()> changed)
    : changed_(std::move(changed)) {
    try {
        watcher_.emplace();
    } catch (const Error& e) {
        log::warning(std::string("not following address changes: ") + e.what());
        return;
    }
    // A duplicate: the descriptor Asio closes is not the watcher's.
    fd_.emplace(io, ::dup(watcher_->fd()));
    wait();
}

void AddressFollower::stop() {
    if (fd_) fd_->close();
}

void AddressFollower::wait() {
    fd_->async_wait(boost::asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        if (watcher_->wait(0)) changed_();
        wait();
    });
}

}  // namespace kipvs::cli
