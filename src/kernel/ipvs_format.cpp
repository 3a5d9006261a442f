#include "kernel/ipvs_format.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace kipvs::kernel {
namespace {

using model::Family;

// How ipvsadm names the service on its command line ("-t 10.96.0.10:80").
std::string service_switch(const VirtualServer& s) {
    if (s.fwmark != 0) return "-f " + std::to_string(s.fwmark) + (s.family == Family::v6 ? " -6" : "");
    const char* option = s.protocol == Protocol::tcp    ? "-t"
                         : s.protocol == Protocol::udp  ? "-u"
                         : s.protocol == Protocol::sctp ? "--sctp-service"
                                                        : "--xxx-service";
    return std::string(option) + " " + host_port(s.address, s.port);
}

std::string netmask_text(const VirtualServer& s) {
    if (s.family == Family::v6) return std::to_string(s.netmask);
    std::uint32_t mask = s.netmask >= 32 ? 0xffffffffu : ~(0xffffffffu >> s.netmask);
    return std::to_string(mask >> 24) + "." + std::to_string((mask >> 16) & 0xff) + "." +
           std::to_string((mask >> 8) & 0xff) + "." + std::to_string(mask & 0xff);
}

// The sched flag names depend on the scheduler, as ipvsadm prints them.
std::vector<std::string> sched_flag_names(const VirtualServer& s) {
    std::vector<std::string> names;
    if (s.scheduler == "sh" || s.scheduler == "mh") {
        if (s.flags & service_flags::sched1) names.push_back(s.scheduler + "-fallback");
        if (s.flags & service_flags::sched2) names.push_back(s.scheduler + "-port");
    } else {
        if (s.flags & service_flags::sched1) names.push_back("flag-1");
        if (s.flags & service_flags::sched2) names.push_back("flag-2");
        if (s.flags & service_flags::sched3) names.push_back("flag-3");
    }
    return names;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
    return out;
}

const char* forwarding_switch(Forwarding f) {
    switch (f) {
        case Forwarding::masquerade: return "-m";
        case Forwarding::tunnel: return "-i";
        case Forwarding::local:
        case Forwarding::direct_route: return "-g";
        case Forwarding::bypass: break;
    }
    return "(null)";  // what ipvsadm's printf of its NULL shows
}

const char* forwarding_name(Forwarding f) {
    switch (f) {
        case Forwarding::masquerade: return "masquerade";
        case Forwarding::local: return "local";
        case Forwarding::tunnel: return "tunnel";
        case Forwarding::direct_route: return "direct-route";
        case Forwarding::bypass: return "bypass";
    }
    return "unknown";
}

const char* tunnel_type_name(TunnelType t) {
    switch (t) {
        case TunnelType::ipip: return "ipip";
        case TunnelType::gue: return "gue";
        case TunnelType::gre: return "gre";
    }
    return "unknown";
}

std::string tunnel_flags_switch(std::uint16_t flags) {
    static const char* const names[] = {"--tun-nocsum", "--tun-csum", "--tun-remcsum"};
    return flags < 3 ? names[flags] : "";
}

std::string destination_line(const std::string& service, const RealServer& d) {
    std::string line = "-a " + service + " -r " + host_port(d.address, d.port) + " " + forwarding_switch(d.forwarding) +
                       " -w " + std::to_string(d.weight);
    if (d.forwarding == Forwarding::tunnel) {
        switch (d.tunnel_type) {
            case TunnelType::ipip: line += " --tun-type ipip"; break;
            case TunnelType::gue:
                line += " --tun-type gue --tun-port " + std::to_string(d.tunnel_port) + " " +
                        tunnel_flags_switch(d.tunnel_flags);
                break;
            case TunnelType::gre: line += " --tun-type gre " + tunnel_flags_switch(d.tunnel_flags); break;
        }
    }
    return line + "\n";
}


std::string json_stats(const Stats64& s) {
    return "{\"conns\":" + std::to_string(s.conns) + ",\"in_packets\":" + std::to_string(s.in_packets) +
           ",\"out_packets\":" + std::to_string(s.out_packets) + ",\"in_bytes\":" + std::to_string(s.in_bytes) +
           ",\"out_bytes\":" + std::to_string(s.out_bytes) + ",\"cps\":" + std::to_string(s.cps) +
           ",\"in_pps\":" + std::to_string(s.in_pps) + ",\"out_pps\":" + std::to_string(s.out_pps) +
           ",\"in_bps\":" + std::to_string(s.in_bps) + ",\"out_bps\":" + std::to_string(s.out_bps) + "}";
}

std::string json_flags(const VirtualServer& s) {
    std::vector<std::string> names;
    if (s.flags & service_flags::persistent) names.push_back("\"persistent\"");
    if (s.flags & service_flags::one_packet) names.push_back("\"one-packet\"");
    for (const auto& n : sched_flag_names(s)) names.push_back(json_string(n));
    return "[" + join(names, ",") + "]";
}

auto service_order(const VirtualServer& s) {
    return std::make_tuple(s.fwmark != 0, s.family, static_cast<std::uint16_t>(s.protocol), s.address, s.port,
                           s.fwmark);
}

}  // namespace

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

void sort_table(std::vector<ServiceTable>& table) {
    std::sort(table.begin(), table.end(), [](const ServiceTable& a, const ServiceTable& b) {
        return service_order(a.service) < service_order(b.service);
    });
    for (auto& entry : table)
        std::sort(entry.destinations.begin(), entry.destinations.end(), [](const RealServer& a, const RealServer& b) {
            return std::tie(a.address, a.port) < std::tie(b.address, b.port);
        });
}

std::string format_ipvsadm(const std::vector<ServiceTable>& table) {
    std::string out;
    for (const auto& [s, destinations] : table) {
        std::string name = service_switch(s);
        out += "-A " + name + " -s " + s.scheduler;
        if (s.flags & service_flags::persistent) {
            out += " -p " + std::to_string(s.timeout);
            if (s.netmask != 0) out += " -M " + netmask_text(s);
        }
        if (!s.pe_name.empty()) out += " --pe " + s.pe_name;
        if (s.flags & service_flags::one_packet) out += " -o";
        if (s.flags & (service_flags::sched1 | service_flags::sched2 | service_flags::sched3))
            out += " -b " + join(sched_flag_names(s), ",");
        out += "\n";
        for (const auto& d : destinations) out += destination_line(name, d);
    }
    return out;
}

std::string format_json(const std::vector<ServiceTable>& table) {
    std::vector<std::string> services;
    for (const auto& [s, destinations] : table) {
        std::vector<std::string> dests;
        for (const auto& d : destinations) {
            std::string tunnel = "null";
            if (d.forwarding == Forwarding::tunnel)
                tunnel = "{\"type\":\"" + std::string(tunnel_type_name(d.tunnel_type)) +
                         "\",\"port\":" + std::to_string(d.tunnel_port) +
                         ",\"flags\":" + std::to_string(d.tunnel_flags) + "}";
            dests.push_back(
                "{\"address\":\"" + d.address.to_string() + "\",\"port\":" + std::to_string(d.port) +
                ",\"weight\":" + std::to_string(d.weight) + ",\"forwarding\":\"" + forwarding_name(d.forwarding) +
                "\",\"upper_threshold\":" + std::to_string(d.upper_threshold) +
                ",\"lower_threshold\":" + std::to_string(d.lower_threshold) + ",\"tunnel\":" + tunnel +
                ",\"active_conns\":" + std::to_string(d.active_conns) +
                ",\"inactive_conns\":" + std::to_string(d.inactive_conns) +
                ",\"persist_conns\":" + std::to_string(d.persist_conns) + ",\"stats\":" + json_stats(d.stats) + "}");
        }
        std::uint8_t netmask = s.netmask != 0 ? s.netmask : (s.family == Family::v4 ? 32 : 128);
        std::string key = s.fwmark != 0
                              ? "\"fwmark\":" + std::to_string(s.fwmark)
                              : "\"protocol\":\"" + std::string(protocol_name(s.protocol)) + "\",\"address\":\"" +
                                    s.address.to_string() + "\",\"port\":" + std::to_string(s.port);
        services.push_back("{\"family\":\"" + std::string(model::family_name(s.family)) + "\"," + key +
                           ",\"scheduler\":" + json_string(s.scheduler) + ",\"flags\":" + json_flags(s) +
                           ",\"timeout\":" + std::to_string(s.timeout) + ",\"netmask\":" + std::to_string(netmask) +
                           ",\"pe\":" + json_string(s.pe_name) + ",\"stats\":" + json_stats(s.stats) +
                           ",\"destinations\":[" + join(dests, ",") + "]}");
    }
    return "{\"services\":[" + join(services, ",\n") + "]}\n";
}

}  // namespace kipvs::kernel
