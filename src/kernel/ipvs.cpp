#include "kernel/ipvs.hpp"

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace kipvs::kernel {

std::string_view protocol_name(Protocol protocol) {
    switch (protocol) {
        case Protocol::tcp: return "TCP";
        case Protocol::udp: return "UDP";
        case Protocol::sctp: return "SCTP";
        case Protocol::none: break;
    }
    return "unknown";
}

namespace {

// The kernel's errno alone misleads ("No such file or directory" for a
// scheduler name): say what it means for this operation.
std::string explain(const IpvsOp& op, int error) {
    std::string text = op.describe() + ": " + std::strerror(error) + " (errno " + std::to_string(error) + ")";
    bool service_op = !op.destination;
    if (error == ENOENT && service_op && op.kind != IpvsOpKind::delete_service)
        text += ": scheduler \"" + op.service.scheduler + "\"" +
                (op.service.pe_name.empty() ? "" : " or persistence engine \"" + op.service.pe_name + "\"") +
                " not available";
    else if (error == ESRCH)
        text += ": the service does not exist";
    else if (error == ENOENT && !service_op)
        text += ": the destination does not exist";
    return text;
}

}  // namespace

std::string host_port(const model::IpAddress& address, std::uint16_t port) {
    std::string text;
    if (address.family == model::Family::v6) text += '[';
    text += address.to_string();
    if (address.family == model::Family::v6) text += ']';
    text += ':';
    text += std::to_string(port);
    return text;
}

std::string VirtualServer::describe() const {
    if (fwmark != 0) return "FWM " + std::to_string(fwmark) + (family == model::Family::v6 ? " IPv6" : "");
    return std::string(protocol_name(protocol)) + " " + host_port(address, port);
}

std::string RealServer::describe() const { return host_port(address, port); }

std::string IpvsOp::describe() const {
    switch (kind) {
        case IpvsOpKind::add_service: return "add service " + service.describe();
        case IpvsOpKind::edit_service: return "edit service " + service.describe();
        case IpvsOpKind::delete_service: return "delete service " + service.describe();
        case IpvsOpKind::add_destination:
            return "add destination " + destination->describe() + " to " + service.describe();
        case IpvsOpKind::edit_destination:
            return "edit destination " + destination->describe() + " of " + service.describe();
        case IpvsOpKind::delete_destination:
            return "delete destination " + destination->describe() + " from " + service.describe();
    }
    return "unknown operation";
}

std::vector<ServiceTable> IpvsKernel::table() {
    std::vector<ServiceTable> out;
    for (auto& service : services()) {
        ServiceTable entry{std::move(service), {}};
        try {
            entry.destinations = destinations(entry.service);
        } catch (const Error&) {
            // Deleted between the two dumps: the table is a snapshot without it.
            continue;
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<IpvsOpResult> IpvsKernel::apply(const std::vector<IpvsOp>& ops) {
    std::vector<int> errors = execute(ops);
    std::vector<IpvsOpResult> results(ops.size());

    // Adds that found the object already there are retried as edits, in
    // one more pipelined batch.
    std::vector<IpvsOp> edits;
    std::vector<std::size_t> edit_index;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        int err = errors[i];
        IpvsOpKind kind = ops[i].kind;
        bool is_delete = kind == IpvsOpKind::delete_service || kind == IpvsOpKind::delete_destination;
        bool is_add = kind == IpvsOpKind::add_service || kind == IpvsOpKind::add_destination;
        if (is_delete && (err == ENOENT || err == ESRCH)) err = 0;
        if (is_add && err == EEXIST) {
            IpvsOp edit = ops[i];
            edit.kind = kind == IpvsOpKind::add_service ? IpvsOpKind::edit_service : IpvsOpKind::edit_destination;
            edits.push_back(std::move(edit));
            edit_index.push_back(i);
            results[i].converted = true;
            continue;
        }
        results[i].error = err;
    }
    if (!edits.empty()) {
        std::vector<int> edit_errors = execute(edits);
        for (std::size_t j = 0; j < edits.size(); ++j) results[edit_index[j]].error = edit_errors[j];
    }
    for (std::size_t i = 0; i < ops.size(); ++i) {
        if (results[i].error != 0) results[i].message = explain(ops[i], results[i].error);
    }
    return results;
}

void IpvsKernel::apply_one(const IpvsOp& op) {
    auto result = apply({op}).front();
    if (!result.ok()) throw Error("IPVS: " + result.message);
}

}  // namespace kipvs::kernel
