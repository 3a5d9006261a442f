#include "kernel/ipvs_netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace kipvs::kernel {
namespace {

// Big enough for any one datagram the kernel builds for a dump.
constexpr std::size_t receive_buffer_size = 256 * 1024;
// Requests per sendmsg. Each ACK costs the receive buffer about 1 KiB of
// skb truesize, so a batch's ACKs must fit in it, or they are dropped.
constexpr std::size_t batch_messages = 1024;
constexpr int socket_buffer_bytes = 16 * 1024 * 1024;
constexpr int dump_attempts = 5;
constexpr int receive_timeout_seconds = 30;

// Thrown inside a dump when the socket overran: the dump starts again.
struct Overrun {};

}  // namespace

IpvsNetlink::IpvsNetlink() : receive_buffer_(receive_buffer_size) {
    socket_ = open_netlink_socket({NETLINK_GENERIC, "IPVS", "generic", socket_buffer_bytes, true, receive_timeout_seconds});
    port_id_ = mnl_socket_get_portid(socket_.get());
    family_ = resolve_family();
}

IpvsNetlink::~IpvsNetlink() = default;

void IpvsNetlink::send(const void* data, std::size_t length, const std::string& what) {
    if (mnl_socket_sendto(socket_.get(), data, length) < 0)
        throw Error("IPVS " + what + ": sending the request failed: " + errno_text(errno));
}

std::size_t IpvsNetlink::receive(const std::string& what) {
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(socket_.get(), receive_buffer_.data(), receive_buffer_.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) throw Overrun{};
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            throw Error("IPVS " + what + ": no reply from the kernel within " +
                        std::to_string(receive_timeout_seconds) + " s");
        throw Error("IPVS " + what + ": receiving the reply failed: " + errno_text(errno));
    }
}

std::uint16_t IpvsNetlink::resolve_family() {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* m = mnl_nlmsg_put_header(buf);
    m->nlmsg_type = GENL_ID_CTRL;
    m->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    m->nlmsg_seq = ++seq_;
    auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(m, sizeof(genlmsghdr)));
    g->cmd = CTRL_CMD_GETFAMILY;
    g->version = 1;
    mnl_attr_put_strz(m, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME);
    send(m, m->nlmsg_len, "family lookup");

    std::uint16_t id = 0;
    for (;;) {
        int left = static_cast<int>(receive("family lookup"));
        for (auto* r = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data()); mnl_nlmsg_ok(r, left);
             r = mnl_nlmsg_next(r, &left)) {
            if (r->nlmsg_seq != m->nlmsg_seq) continue;
            if (r->nlmsg_type == NLMSG_ERROR) {
                int err = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(r))->error;
                if (err == ENOENT)
                    throw Error("IPVS not available: is the ip_vs module loaded? (no generic netlink family \"" +
                                std::string(IPVS_GENL_NAME) + "\")");
                if (err != 0) throw Error("IPVS family lookup failed: " + errno_text(err));
                if (id == 0) throw Error("IPVS family lookup: no family id in the reply");
                return id;
            }
            auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(r, GENL_HDRLEN));
            int attrs_left = static_cast<int>(r->nlmsg_len) - NLMSG_HDRLEN - GENL_HDRLEN;
            for (; mnl_attr_ok(a, attrs_left); attrs_left -= NLA_ALIGN(a->nla_len), a = mnl_attr_next(a)) {
                if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID && mnl_attr_get_payload_len(a) == 2)
                    id = mnl_attr_get_u16(a);
            }
        }
    }
}

std::vector<ipvs_codec::IpvsMessage> IpvsNetlink::request(std::uint8_t command, bool dump, const VirtualServer* service,
                                                          const IpvsTimeouts* timeouts, const std::string& what) {
    char buf[ipvs_codec::max_message_size];
    model::Family fallback = service ? service->family : model::Family::v4;
    for (int attempt = 1;; ++attempt) {
        std::uint16_t flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
        nlmsghdr* m = ipvs_codec::start_message(buf, family_, command, flags, ++seq_);
        if (service) ipvs_codec::put_service(m, *service, ipvs_codec::Encoding::key);
        if (timeouts) ipvs_codec::put_timeouts(m, *timeouts);
        send(m, m->nlmsg_len, what);

        std::vector<ipvs_codec::IpvsMessage> replies;
        try {
            for (;;) {
                std::size_t n = receive(what);
                int left = static_cast<int>(n);
                for (auto* r = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data()); mnl_nlmsg_ok(r, left);
                     r = mnl_nlmsg_next(r, &left)) {
                    // Leftovers of an overrun dump carry an older sequence number.
                    if (r->nlmsg_seq != m->nlmsg_seq || r->nlmsg_pid != port_id_) continue;
                    if (r->nlmsg_type == NLMSG_DONE || r->nlmsg_type == NLMSG_ERROR) {
                        int err = 0;
                        if (r->nlmsg_type == NLMSG_ERROR)
                            err = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(r))->error;
                        else if (mnl_nlmsg_get_payload_len(r) >= sizeof(int))
                            err = -*static_cast<const int*>(mnl_nlmsg_get_payload(r));
                        if (err != 0) throw Error("IPVS " + what + ": " + errno_text(err));
                        return replies;
                    }
                    if (r->nlmsg_type == NLMSG_NOOP || r->nlmsg_type == NLMSG_OVERRUN) continue;
                    replies.push_back(ipvs_codec::decode(r, fallback));
                }
            }
        } catch (const Overrun&) {
            if (!dump || attempt >= dump_attempts)
                throw Error("IPVS " + what + ": the receive buffer overran " + std::to_string(attempt) + " time(s)");
        }
    }
}

IpvsInfo IpvsNetlink::info() {
    for (auto& r : request(IPVS_CMD_GET_INFO, false, nullptr, nullptr, "get info"))
        if (r.info) return *r.info;
    throw Error("IPVS get info: no reply");
}

IpvsTimeouts IpvsNetlink::timeouts() {
    for (auto& r : request(IPVS_CMD_GET_CONFIG, false, nullptr, nullptr, "get timeouts"))
        if (r.timeouts) return *r.timeouts;
    throw Error("IPVS get timeouts: no reply");
}

void IpvsNetlink::set_timeouts(const IpvsTimeouts& timeouts) {
    request(IPVS_CMD_SET_CONFIG, false, nullptr, &timeouts, "set timeouts");
}

std::vector<VirtualServer> IpvsNetlink::services() {
    std::vector<VirtualServer> out;
    for (auto& r : request(IPVS_CMD_GET_SERVICE, true, nullptr, nullptr, "dump services"))
        if (r.service) out.push_back(std::move(*r.service));
    return out;
}

std::vector<RealServer> IpvsNetlink::destinations(const VirtualServer& service) {
    std::vector<RealServer> out;
    for (auto& r : request(IPVS_CMD_GET_DEST, true, &service, nullptr, "dump destinations of " + service.describe()))
        if (r.destination) out.push_back(std::move(*r.destination));
    return out;
}

void IpvsNetlink::flush() { request(IPVS_CMD_FLUSH, false, nullptr, nullptr, "flush"); }

void IpvsNetlink::zero(const std::optional<VirtualServer>& service) {
    request(IPVS_CMD_ZERO, false, service ? &*service : nullptr, nullptr,
            "zero counters" + (service ? " of " + service->describe() : std::string()));
}

std::vector<int> IpvsNetlink::execute(const std::vector<IpvsOp>& ops) {
    std::vector<int> errors(ops.size(), 0);
    send_buffer_.resize(batch_messages * ipvs_codec::max_message_size);
    for (std::size_t begin = 0; begin < ops.size(); begin += batch_messages) {
        std::size_t end = std::min(ops.size(), begin + batch_messages);
        // Sequence numbers first_seq + i map each ACK back to its operation.
        std::uint32_t first_seq = seq_ + 1;
        std::size_t used = 0;
        for (std::size_t i = begin; i < end; ++i) {
            nlmsghdr* m = ipvs_codec::put_operation(send_buffer_.data() + used, family_, ops[i], ++seq_);
            used += NLMSG_ALIGN(m->nlmsg_len);
        }
        send(send_buffer_.data(), used, "batch of " + std::to_string(end - begin) + " operations");

        std::size_t pending = end - begin;
        try {
            while (pending > 0) {
                std::size_t n = receive("batch");
                int left = static_cast<int>(n);
                for (auto* r = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data()); mnl_nlmsg_ok(r, left);
                     r = mnl_nlmsg_next(r, &left)) {
                    if (r->nlmsg_type != NLMSG_ERROR || r->nlmsg_pid != port_id_) continue;
                    std::uint32_t index = r->nlmsg_seq - first_seq;
                    if (r->nlmsg_seq < first_seq || index >= end - begin) continue;
                    errors[begin + index] = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(r))->error;
                    --pending;
                }
            }
        } catch (const Overrun&) {
            throw Error("IPVS batch: the receive buffer overran; " + std::to_string(pending) +
                        " operation(s) have an unknown outcome");
        }
    }
    return errors;
}

}  // namespace kipvs::kernel
