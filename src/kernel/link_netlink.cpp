#include "kernel/link_netlink.hpp"

#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "error.hpp"

namespace kipvs::kernel {
namespace {

template <typename T, void (*Free)(T*)>
struct Owned {
    T* p = nullptr;
    ~Owned() {
        if (p) Free(p);
    }
};

void put_link(rtnl_link* l) { rtnl_link_put(l); }
void put_addr(rtnl_addr* a) { rtnl_addr_put(a); }
void put_nladdr(nl_addr* a) { nl_addr_put(a); }
void free_cache(nl_cache* c) { nl_cache_free(c); }

nl_sock* connected_socket() {
    nl_sock* s = nl_socket_alloc();
    if (!s) throw Error("rtnetlink: cannot allocate a socket");
    if (int rc = nl_connect(s, NETLINK_ROUTE); rc < 0) {
        nl_socket_free(s);
        throw Error(std::string("rtnetlink: connect: ") + nl_geterror(rc));
    }
    return s;
}

model::IpAddress from_nl(nl_addr* a) {
    model::IpAddress ip;
    ip.family = nl_addr_get_family(a) == AF_INET6 ? model::Family::v6 : model::Family::v4;
    std::memcpy(ip.bytes.data(), nl_addr_get_binary_addr(a), ip.size());
    return ip;
}

}  // namespace

void NetlinkLinks::SockDeleter::operator()(nl_sock* s) const { nl_socket_free(s); }
void AddressWatcher::SockDeleter::operator()(nl_sock* s) const { nl_socket_free(s); }

NetlinkLinks::NetlinkLinks() : sock_(connected_socket()) {}
NetlinkLinks::~NetlinkLinks() = default;

int NetlinkLinks::index_of(const std::string& name) {
    Owned<rtnl_link, put_link> link;
    int rc = rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &link.p);
    if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV) return 0;
    if (rc < 0) throw Error("rtnetlink: looking up " + name + ": " + nl_geterror(rc));
    return rtnl_link_get_ifindex(link.p);
}

bool NetlinkLinks::exists(const std::string& name) { return index_of(name) != 0; }

void NetlinkLinks::ensure_dummy(const std::string& name) {
    if (exists(name)) return;
    Owned<rtnl_link, put_link> link{rtnl_link_alloc()};
    rtnl_link_set_name(link.p, name.c_str());
    if (int rc = rtnl_link_set_type(link.p, "dummy"); rc < 0)
        throw Error("rtnetlink: dummy links are not available: " + std::string(nl_geterror(rc)));
    ++writes_;
    int rc = rtnl_link_add(sock_.get(), link.p, NLM_F_CREATE);
    if (rc < 0 && rc != -NLE_EXIST)
        throw Error("rtnetlink: creating dummy link " + name + ": " + nl_geterror(rc) +
                    " (is the dummy module available?)");
}

void NetlinkLinks::delete_link(const std::string& name) {
    if (!exists(name)) return;
    Owned<rtnl_link, put_link> link{rtnl_link_alloc()};
    rtnl_link_set_name(link.p, name.c_str());
    ++writes_;
    if (int rc = rtnl_link_delete(sock_.get(), link.p); rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NODEV)
        throw Error("rtnetlink: deleting " + name + ": " + nl_geterror(rc));
}

std::vector<InterfaceAddress> NetlinkLinks::all_addresses() {
    Owned<nl_cache, free_cache> links, addrs;
    if (int rc = rtnl_link_alloc_cache(sock_.get(), AF_UNSPEC, &links.p); rc < 0)
        throw Error(std::string("rtnetlink: listing links: ") + nl_geterror(rc));
    if (int rc = rtnl_addr_alloc_cache(sock_.get(), &addrs.p); rc < 0)
        throw Error(std::string("rtnetlink: listing addresses: ") + nl_geterror(rc));
    std::vector<InterfaceAddress> out;
    for (nl_object* o = nl_cache_get_first(addrs.p); o; o = nl_cache_get_next(o)) {
        auto* a = reinterpret_cast<rtnl_addr*>(o);
        nl_addr* local = rtnl_addr_get_local(a);
        if (!local) continue;
        int family = nl_addr_get_family(local);
        if (family != AF_INET && family != AF_INET6) continue;
        char name[64] = "";
        rtnl_link_i2name(links.p, rtnl_addr_get_ifindex(a), name, sizeof name);
        out.push_back({name, from_nl(local)});
    }
    return out;
}

std::vector<model::IpAddress> NetlinkLinks::addresses(const std::string& name) {
    std::vector<model::IpAddress> out;
    for (auto& a : all_addresses())
        if (a.interface == name) out.push_back(a.address);
    return out;
}

namespace {

rtnl_addr* address_object(int index, const model::IpAddress& address) {
    rtnl_addr* a = rtnl_addr_alloc();
    int family = address.family == model::Family::v4 ? AF_INET : AF_INET6;
    Owned<nl_addr, put_nladdr> local{nl_addr_build(family, address.bytes.data(), address.size())};
    nl_addr_set_prefixlen(local.p, static_cast<int>(address.size() * 8));
    rtnl_addr_set_ifindex(a, index);
    rtnl_addr_set_local(a, local.p);
    return a;
}

bool goal_met(int rc, bool add) {
    return rc == -NLE_EXIST || (!add && (rc == -NLE_NOADDR || rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV));
}

}  // namespace

void NetlinkLinks::change_address(const std::string& name, const model::IpAddress& address, bool add) {
    int index = index_of(name);
    if (index == 0) throw Error("rtnetlink: no link " + name);
    Owned<rtnl_addr, put_addr> a{address_object(index, address)};
    ++writes_;
    int rc = add ? rtnl_addr_add(sock_.get(), a.p, 0) : rtnl_addr_delete(sock_.get(), a.p, 0);
    if (goal_met(rc, add)) return;  // already bound, or already gone
    if (rc < 0)
        throw Error("rtnetlink: " + std::string(add ? "binding " : "unbinding ") + address.to_string() + " on " + name +
                    ": " + nl_geterror(rc));
}

std::vector<std::string> NetlinkLinks::change_all(const std::string& name, const std::vector<model::IpAddress>& addresses,
                                                  bool add) {
    int index = index_of(name);  // once for the whole batch
    if (index == 0) throw Error("rtnetlink: no link " + name);
    std::vector<std::string> refused;
    for (const auto& address : addresses) {
        Owned<rtnl_addr, put_addr> a{address_object(index, address)};
        ++writes_;
        int rc = add ? rtnl_addr_add(sock_.get(), a.p, 0) : rtnl_addr_delete(sock_.get(), a.p, 0);
        if (rc < 0 && !goal_met(rc, add))
            refused.push_back(std::string(add ? "binding " : "unbinding ") + address.to_string() + " on " + name + ": " +
                              nl_geterror(rc));
    }
    return refused;
}

std::vector<std::string> NetlinkLinks::bind_all(const std::string& name, const std::vector<model::IpAddress>& addresses) {
    return change_all(name, addresses, true);
}

std::vector<std::string> NetlinkLinks::unbind_all(const std::string& name,
                                                  const std::vector<model::IpAddress>& addresses) {
    return change_all(name, addresses, false);
}

void NetlinkLinks::bind(const std::string& name, const model::IpAddress& address) { change_address(name, address, true); }
void NetlinkLinks::unbind(const std::string& name, const model::IpAddress& address) {
    change_address(name, address, false);
}

AddressWatcher::AddressWatcher() : sock_(nl_socket_alloc()) {
    if (!sock_) throw Error("rtnetlink: cannot allocate a socket");
    nl_socket_disable_seq_check(sock_.get());
    if (int rc = nl_connect(sock_.get(), NETLINK_ROUTE); rc < 0)
        throw Error(std::string("rtnetlink: connect: ") + nl_geterror(rc));
    if (int rc = nl_socket_add_memberships(sock_.get(), RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, 0); rc < 0)
        throw Error(std::string("rtnetlink: subscribing to address changes: ") + nl_geterror(rc));
    nl_socket_set_nonblocking(sock_.get());
}

AddressWatcher::~AddressWatcher() = default;

int AddressWatcher::fd() const { return nl_socket_get_fd(sock_.get()); }

bool AddressWatcher::wait(int timeout_ms) {
    pollfd p{fd(), POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    // The messages themselves do not matter: the caller reads all addresses
    // again in one dump. Drain them so the next wait blocks.
    char buf[16384];
    bool any = false;
    while (recv(fd(), buf, sizeof buf, MSG_DONTWAIT) > 0) any = true;
    return any;
}

}  // namespace kipvs::kernel
