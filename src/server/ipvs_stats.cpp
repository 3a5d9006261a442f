#include "server/ipvs_stats.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace kipvs::server {
namespace {

std::string_view next_token(std::string_view& line) {
    std::size_t start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        line = {};
        return {};
    }
    std::size_t end = line.find(' ', start);
    std::string_view token = line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    line = end == std::string_view::npos ? std::string_view() : line.substr(end);
    return token;
}

bool hex_u32(std::string_view text, std::uint32_t& out) {
    if (text.empty() || text.size() > 8) return false;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc() && p == text.data() + text.size();
}

// The kernel prints IPv4 as 8 hex digits ("0A600001:0050") and IPv6 with
// %pI6, eight groups of four hex digits ("[fd00:0000:…:0001]:0050").
bool parse_endpoint(std::string_view text, proxy::VsKey& key) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::uint32_t port;
    if (!hex_u32(text.substr(colon + 1), port) || port > 0xffff) return false;
    key.port = static_cast<std::uint16_t>(port);
    std::string_view host = text.substr(0, colon);
    if (host.size() == 8) {
        std::uint32_t v4;
        if (!hex_u32(host, v4)) return false;
        key.address = model::IpAddress::v4(static_cast<std::uint8_t>(v4 >> 24), static_cast<std::uint8_t>(v4 >> 16),
                                           static_cast<std::uint8_t>(v4 >> 8), static_cast<std::uint8_t>(v4));
        return true;
    }
    if (host.size() != 41 || host.front() != '[' || host.back() != ']') return false;
    model::IpAddress a;
    a.family = model::Family::v6;
    for (std::size_t g = 0; g < 8; ++g) {
        std::string_view group = host.substr(1 + g * 5, 4);
        if (g < 7 && host[1 + g * 5 + 4] != ':') return false;
        std::uint32_t v;
        if (!hex_u32(group, v) || group.size() != 4) return false;
        a.bytes[g * 2] = static_cast<std::uint8_t>(v >> 8);
        a.bytes[g * 2 + 1] = static_cast<std::uint8_t>(v);
    }
    key.address = a;
    return true;
}

std::string_view protocol_label(kernel::Protocol p) { return kernel::protocol_name(p); }

}  // namespace

std::map<proxy::VsKey, std::uint64_t> parse_proc_ip_vs(std::string_view text) {
    std::map<proxy::VsKey, std::uint64_t> out;
    // The destination lines that follow belong to the last service line
    // kept; null when that line was not one of ours (FWM) or unreadable.
    std::uint64_t* current_count = nullptr;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        std::string_view first = next_token(line);
        if (first == "->") {
            if (current_count == nullptr) continue;
            std::string_view address = next_token(line);
            std::string_view forward = next_token(line);
            std::string_view weight = next_token(line);
            std::string_view active = next_token(line);
            std::uint64_t n = 0;
            auto [p, ec] = std::from_chars(active.data(), active.data() + active.size(), n);
            // The header's "-> RemoteAddress:Port Forward Weight ActiveConn" line fails here.
            if (address.empty() || forward.empty() || weight.empty() || ec != std::errc() ||
                p != active.data() + active.size())
                continue;
            *current_count += n;
            continue;
        }
        current_count = nullptr;
        kernel::Protocol protocol;
        if (first == "TCP") protocol = kernel::Protocol::tcp;
        else if (first == "UDP") protocol = kernel::Protocol::udp;
        else if (first == "SCTP") protocol = kernel::Protocol::sctp;
        else continue;  // the banner, the column headers, FWM services
        proxy::VsKey key;
        key.protocol = protocol;
        if (!parse_endpoint(next_token(line), key)) continue;
        current_count = &out.try_emplace(key, 0).first->second;
    }
    return out;
}

std::map<proxy::VsKey, VsOwner> vs_owners(const std::map<std::string, proxy::ServicePlan>& plans,
                                          const std::map<std::string, model::Service>& services) {
    std::map<proxy::VsKey, VsOwner> out;
    for (const auto& [key, plan] : plans) {
        auto s = services.find(key);
        if (s == services.end()) continue;
        const model::Service& service = s->second;
        for (const auto& table : plan.virtual_servers) {
            const auto& vs = table.service;
            const model::ServicePort* match = nullptr;
            bool on_node_port = false;
            for (const auto& p : service.ports) {
                if (proxy::kernel_protocol(p.protocol) != vs.protocol) continue;
                // A service port wins over a nodePort with the same number.
                if (p.port == vs.port && (match == nullptr || on_node_port)) {
                    match = &p;
                    on_node_port = false;
                } else if (p.node_port != 0 && p.node_port == vs.port && match == nullptr) {
                    match = &p;
                    on_node_port = true;
                }
            }
            VsOwner owner{service.namespace_name, service.name, match != nullptr ? match->name : std::string()};
            // The first service by key wins a shared virtual server, as in DesiredState.
            out.try_emplace(proxy::VsKey::of(vs), std::move(owner));
        }
    }
    return out;
}

std::vector<IpvsServiceRow> ipvs_rows(const std::vector<kernel::VirtualServer>& kernel,
                                      const std::map<proxy::VsKey, std::uint64_t>& active,
                                      const std::map<proxy::VsKey, VsOwner>& owners) {
    std::vector<IpvsServiceRow> rows;
    for (const auto& vs : kernel) {
        if (vs.fwmark != 0) continue;
        auto key = proxy::VsKey::of(vs);
        auto owner = owners.find(key);
        if (owner == owners.end()) continue;
        IpvsServiceRow row;
        row.owner = owner->second;
        row.protocol = vs.protocol;
        row.virtual_address = kernel::host_port(vs.address, vs.port);
        row.stats = vs.stats;
        if (auto a = active.find(key); a != active.end()) row.active_connections = a->second;
        rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const IpvsServiceRow& a, const IpvsServiceRow& b) {
        return std::tie(a.owner.namespace_name, a.owner.service, a.owner.port_name, a.protocol, a.virtual_address) <
               std::tie(b.owner.namespace_name, b.owner.service, b.owner.port_name, b.protocol, b.virtual_address);
    });
    return rows;
}

void write_ipvs_metrics(ExpositionWriter& out, const std::vector<IpvsServiceRow>& rows) {
    std::vector<std::string> labels;
    labels.reserve(rows.size());
    std::size_t bytes = 0;
    for (const auto& r : rows) {
        labels.push_back(ExpositionWriter::render_labels({{"namespace", r.owner.namespace_name},
                                                          {"service", r.owner.service},
                                                          {"port_name", r.owner.port_name},
                                                          {"protocol", std::string(protocol_label(r.protocol))},
                                                          {"virtual_address", r.virtual_address}}));
        bytes += labels.back().size() + 48;
    }
    out.reserve(out.text().size() + 6 * bytes + 2048);
    struct Family {
        const char* name;
        const char* help;
        MetricType type;
        std::uint64_t (*value)(const IpvsServiceRow&);
    };
    const Family families[] = {
        {"ipvs_incoming_packets_total", "Packets received by the service's IPVS virtual server.", MetricType::counter,
         [](const IpvsServiceRow& r) { return r.stats.in_packets; }},
        {"ipvs_outgoing_packets_total", "Packets sent by the service's IPVS virtual server.", MetricType::counter,
         [](const IpvsServiceRow& r) { return r.stats.out_packets; }},
        {"ipvs_incoming_bytes_total", "Bytes received by the service's IPVS virtual server.", MetricType::counter,
         [](const IpvsServiceRow& r) { return r.stats.in_bytes; }},
        {"ipvs_outgoing_bytes_total", "Bytes sent by the service's IPVS virtual server.", MetricType::counter,
         [](const IpvsServiceRow& r) { return r.stats.out_bytes; }},
        {"ipvs_connections_total", "Connections scheduled by the service's IPVS virtual server.", MetricType::counter,
         [](const IpvsServiceRow& r) { return r.stats.conns; }},
        {"ipvs_connections_active", "Active connections of the service's IPVS virtual server, over its destinations.",
         MetricType::gauge, [](const IpvsServiceRow& r) { return r.active_connections; }},
    };
    for (const auto& f : families) {
        out.family(f.name, f.help, f.type);
        for (std::size_t i = 0; i < rows.size(); ++i) out.sample_rendered(f.name, labels[i], f.value(rows[i]));
    }
}

}  // namespace kipvs::server
