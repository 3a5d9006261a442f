#include "kernel/ipset_entry.hpp"

#include <charconv>
#include <vector>

namespace kipvs::kernel {

std::string_view set_type_name(SetType type) {
    switch (type) {
        case SetType::hash_ip: return "hash:ip";
        case SetType::hash_ip_port: return "hash:ip,port";
        case SetType::hash_ip_port_ip: return "hash:ip,port,ip";
        case SetType::hash_ip_port_net: return "hash:ip,port,net";
        case SetType::bitmap_port: return "bitmap:port";
    }
    return "?";
}

std::string SetSpec::create_arguments() const {
    std::string out = name + " " + std::string(set_type_name(type));
    if (type == SetType::bitmap_port) return out + " range 0-65535";
    out += family == model::Family::v4 ? " family inet" : " family inet6";
    return out + " hashsize " + std::to_string(hashsize) + " maxelem " + std::to_string(maxelem);
}

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        auto pos = text.find(sep, start);
        parts.push_back(text.substr(start, pos - start));
        if (pos == std::string_view::npos) return parts;
        start = pos + 1;
    }
}

// Built by appending: gcc 12 warns falsely (-Wrestrict) on "x" + std::string(...).
std::string quote(std::string_view text) {
    std::string out = "\"";
    out += text;
    out += '"';
    return out;
}

std::optional<unsigned> port_of(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
    return value;
}

struct Checker {
    const SetSpec& set;
    std::string problem;

    std::optional<std::string> address(std::string_view text) {
        auto ip = model::IpAddress::parse(text);
        if (!ip) return fail(quote(text) + " is not an IP address");
        if (ip->family != set.family)
            return fail(std::string(text) + " is not an " + std::string(model::family_name(set.family)) + " address");
        return ip->to_string();
    }

    std::optional<std::string> proto_port(std::string_view text) {
        auto colon = text.find(':');
        if (colon == std::string_view::npos) return fail(quote(text) + " is not proto:port");
        std::string_view proto = text.substr(0, colon);
        if (proto != "tcp" && proto != "udp" && proto != "sctp")
            return fail("protocol \"" + std::string(proto) + "\" is not tcp, udp or sctp");
        auto port = port_of(text.substr(colon + 1));
        if (!port) return fail(quote(text.substr(colon + 1)) + " is not a port (0-65535)");
        return std::string(proto) + ":" + std::to_string(*port);
    }

    std::optional<std::string> net(std::string_view text) {
        if (text.find('/') == std::string_view::npos) return address(text);
        auto cidr = model::Cidr::parse(text);
        if (!cidr) return fail(quote(text) + " is not a CIDR");
        if (cidr->address.family != set.family)
            return fail(std::string(text) + " is not an " + std::string(model::family_name(set.family)) + " net");
        if (cidr->prefix == 0) return fail("a /0 net cannot be stored in a hash:net set");
        if (cidr->prefix == (set.family == model::Family::v4 ? 32 : 128)) return cidr->address.to_string();
        return cidr->to_string();
    }

    std::optional<std::string> fail(std::string why) {
        problem = std::move(why);
        return std::nullopt;
    }
};

}  // namespace

EntryCheck check_entry(const SetSpec& set, std::string_view entry) {
    Checker c{set, ""};
    auto parts = split(entry, ',');
    std::size_t want = set.type == SetType::hash_ip || set.type == SetType::bitmap_port ? 1
                       : set.type == SetType::hash_ip_port                              ? 2
                                                                                         : 3;
    if (parts.size() != want) {
        return {std::nullopt, quote(entry) + " does not fit " + std::string(set_type_name(set.type))};
    }
    std::optional<std::string> out;
    switch (set.type) {
        case SetType::bitmap_port:
            if (auto port = port_of(parts[0])) out = std::to_string(*port);
            else c.problem = quote(parts[0]) + " is not a port (0-65535)";
            break;
        case SetType::hash_ip:
            out = c.address(parts[0]);
            break;
        case SetType::hash_ip_port:
        case SetType::hash_ip_port_ip:
        case SetType::hash_ip_port_net: {
            auto ip = c.address(parts[0]);
            auto pp = ip ? c.proto_port(parts[1]) : std::nullopt;
            if (!pp) break;
            out = *ip + "," + *pp;
            if (set.type == SetType::hash_ip_port_ip) {
                auto second = c.address(parts[2]);
                out = second ? std::optional(*out + "," + *second) : std::nullopt;
            } else if (set.type == SetType::hash_ip_port_net) {
                auto n = c.net(parts[2]);
                out = n ? std::optional(*out + "," + *n) : std::nullopt;
            }
            break;
        }
    }
    return {out, out ? "" : c.problem};
}

}  // namespace kipvs::kernel
