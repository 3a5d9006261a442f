#pragma once
// LinkKernel over rtnetlink (libnl-route), and a watcher of address changes.
#include <memory>

#include "kernel/link.hpp"

struct nl_sock;

namespace kipvs::kernel {

class NetlinkLinks final : public LinkKernel {
public:
    NetlinkLinks();
    ~NetlinkLinks() override;

    void ensure_dummy(const std::string& name) override;
    bool exists(const std::string& name) override;
    void delete_link(const std::string& name) override;
    std::vector<model::IpAddress> addresses(const std::string& name) override;
    void bind(const std::string& name, const model::IpAddress& address) override;
    void unbind(const std::string& name, const model::IpAddress& address) override;
    std::vector<std::string> bind_all(const std::string& name, const std::vector<model::IpAddress>& addresses) override;
    std::vector<std::string> unbind_all(const std::string& name,
                                        const std::vector<model::IpAddress>& addresses) override;
    std::vector<InterfaceAddress> all_addresses() override;

    std::size_t writes() const { return writes_; }

private:
    int index_of(const std::string& name);
    void change_address(const std::string& name, const model::IpAddress& address, bool add);
    std::vector<std::string> change_all(const std::string& name, const std::vector<model::IpAddress>& addresses, bool add);

    struct SockDeleter {
        void operator()(nl_sock* s) const;
    };
    std::unique_ptr<nl_sock, SockDeleter> sock_;
    std::size_t writes_ = 0;
};

// Subscribed to the kernel's IPv4 and IPv6 address notifications, so a new
// node address gets NodePort service without a restart.
class AddressWatcher {
public:
    AddressWatcher();
    ~AddressWatcher();
    int fd() const;  // readable when a notification is waiting
    // Waits up to timeout_ms for notifications; true if any address changed.
    bool wait(int timeout_ms);

private:
    struct SockDeleter {
        void operator()(nl_sock* s) const;
    };
    std::unique_ptr<nl_sock, SockDeleter> sock_;
};

}  // namespace kipvs::kernel
