#pragma once
// What the reconciler may ask of IPVS. The real implementation speaks
// generic netlink (ipvs_netlink.hpp); tests use a stateful fake.
//
// Writes go through apply(): a batch of operations whose results come back
// one per operation, as values. Idempotence lives here, once: "already
// exists" on an add becomes an edit, "does not exist" on a delete is
// success (STYLE.md 6).
#include <optional>
#include <string>
#include <vector>

#include "kernel/ipvs_types.hpp"

namespace kipvs::kernel {

enum class IpvsOpKind {
    add_service,
    edit_service,
    delete_service,
    add_destination,
    edit_destination,
    delete_destination
};

struct IpvsOp {
    IpvsOpKind kind = IpvsOpKind::add_service;
    VirtualServer service;                  // the key, and the full spec for add/edit
    std::optional<RealServer> destination;  // set for the *_destination kinds

    static IpvsOp add(VirtualServer s) { return {IpvsOpKind::add_service, std::move(s), std::nullopt}; }
    static IpvsOp edit(VirtualServer s) { return {IpvsOpKind::edit_service, std::move(s), std::nullopt}; }
    static IpvsOp remove(VirtualServer s) { return {IpvsOpKind::delete_service, std::move(s), std::nullopt}; }
    static IpvsOp add(VirtualServer s, RealServer d) {
        return {IpvsOpKind::add_destination, std::move(s), std::move(d)};
    }
    static IpvsOp edit(VirtualServer s, RealServer d) {
        return {IpvsOpKind::edit_destination, std::move(s), std::move(d)};
    }
    static IpvsOp remove(VirtualServer s, RealServer d) {
        return {IpvsOpKind::delete_destination, std::move(s), std::move(d)};
    }
    std::string describe() const;  // "add destination 10.244.1.2:80 to TCP 10.96.0.10:80"
    bool operator==(const IpvsOp&) const = default;
};

struct IpvsOpResult {
    int error = 0;           // errno from the kernel, 0 on success
    bool converted = false;  // an add that found the object and edited it instead
    std::string message;     // empty on success: "<op>: <strerror>"
    bool ok() const { return error == 0; }
};

class IpvsKernel {
public:
    virtual ~IpvsKernel() = default;

    virtual IpvsInfo info() = 0;
    virtual IpvsTimeouts timeouts() = 0;
    virtual void set_timeouts(const IpvsTimeouts& timeouts) = 0;

    virtual std::vector<VirtualServer> services() = 0;
    // A missing service: kernel 6.1 answers with an empty dump, older
    // kernels with ESRCH (thrown as Error).
    virtual std::vector<RealServer> destinations(const VirtualServer& service) = 0;
    // Every service with its destinations.
    std::vector<ServiceTable> table();

    virtual void flush() = 0;
    // Zero the counters of one service, or of all when none is given.
    virtual void zero(const std::optional<VirtualServer>& service) = 0;

    // Applies every operation, in order; a failed one does not stop the rest.
    std::vector<IpvsOpResult> apply(const std::vector<IpvsOp>& ops);

    // One operation; throws Error on failure (after the idempotence rules).
    void add_service(const VirtualServer& s) { apply_one(IpvsOp::add(s)); }
    void edit_service(const VirtualServer& s) { apply_one(IpvsOp::edit(s)); }
    void delete_service(const VirtualServer& s) { apply_one(IpvsOp::remove(s)); }
    void add_destination(const VirtualServer& s, const RealServer& d) { apply_one(IpvsOp::add(s, d)); }
    void edit_destination(const VirtualServer& s, const RealServer& d) { apply_one(IpvsOp::edit(s, d)); }
    void delete_destination(const VirtualServer& s, const RealServer& d) { apply_one(IpvsOp::remove(s, d)); }

protected:
    // The raw kernel semantics: one errno (0 = success) per operation, no
    // idempotence. Implementations should pipeline.
    virtual std::vector<int> execute(const std::vector<IpvsOp>& ops) = 0;

private:
    void apply_one(const IpvsOp& op);
};

}  // namespace kipvs::kernel
