#pragma once
// The real IpvsKernel: the kernel's "IPVS" generic-netlink family over one
// long-lived netlink socket (libmnl). Needs CAP_NET_ADMIN; works on the
// network namespace it was created in.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernel/ipvs.hpp"
#include "kernel/ipvs_codec.hpp"
#include "kernel/netlink_socket.hpp"

namespace kipvs::kernel {

class IpvsNetlink final : public IpvsKernel {
public:
    // Throws Error when the socket cannot be opened or the IPVS family is
    // not registered (ip_vs not loaded).
    IpvsNetlink();
    ~IpvsNetlink() override;
    IpvsNetlink(const IpvsNetlink&) = delete;
    IpvsNetlink& operator=(const IpvsNetlink&) = delete;

    IpvsInfo info() override;
    IpvsTimeouts timeouts() override;
    void set_timeouts(const IpvsTimeouts& timeouts) override;
    std::vector<VirtualServer> services() override;
    std::vector<RealServer> destinations(const VirtualServer& service) override;
    void flush() override;
    void zero(const std::optional<VirtualServer>& service) override;

protected:
    std::vector<int> execute(const std::vector<IpvsOp>& ops) override;

private:
    // One request; returns the decoded replies (a dump's parts, or the one
    // answer of a get). Throws Error naming `what` and the errno.
    std::vector<ipvs_codec::IpvsMessage> request(std::uint8_t command, bool dump, const VirtualServer* service,
                                                 const IpvsTimeouts* timeouts, const std::string& what);
    std::uint16_t resolve_family();
    void send(const void* data, std::size_t length, const std::string& what);
    std::size_t receive(const std::string& what);

    MnlSocket socket_;
    std::uint32_t port_id_ = 0;
    std::uint32_t seq_ = 0;
    std::uint16_t family_ = 0;
    std::vector<char> receive_buffer_;
    std::vector<char> send_buffer_;
};

}  // namespace kipvs::kernel
