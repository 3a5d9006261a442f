#include "model/ip.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace kipvs::model {

std::string_view family_name(Family family) { return family == Family::v4 ? "IPv4" : "IPv6"; }

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress ip;
    if (text.find(':') == std::string_view::npos) {
        ip.family = Family::v4;
        if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
    } else {
        ip.family = Family::v6;
        if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
    }
    return ip;
}

std::strong_ordering IpAddress::operator<=>(const IpAddress& other) const {
    if (family != other.family) return family <=> other.family;
    int c = std::memcmp(bytes.data(), other.bytes.data(), bytes.size());
    return c < 0 ? std::strong_ordering::less : c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal;
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    IpAddress ip;
    ip.bytes[0] = a;
    ip.bytes[1] = b;
    ip.bytes[2] = c;
    ip.bytes[3] = d;
    return ip;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(family == Family::v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

bool IpAddress::is_loopback() const {
    if (family == Family::v4) return bytes[0] == 127;
    static constexpr std::array<std::uint8_t, 16> one{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return bytes == one;
}

bool IpAddress::is_link_local() const {
    if (family == Family::v4) return bytes[0] == 169 && bytes[1] == 254;
    return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
}

bool IpAddress::is_unspecified() const {
    for (std::size_t i = 0; i < size(); ++i)
        if (bytes[i] != 0) return false;
    return true;
}

namespace {

IpAddress masked(IpAddress ip, unsigned prefix) {
    for (unsigned i = 0; i < ip.size(); ++i) {
        unsigned bits_here = prefix > i * 8 ? std::min(8u, prefix - i * 8) : 0;
        ip.bytes[i] &= static_cast<std::uint8_t>(bits_here == 0 ? 0 : 0xff << (8 - bits_here));
    }
    return ip;
}

std::optional<unsigned> parse_number(std::string_view text, unsigned max) {
    unsigned value = 0;
    if (text.empty() || text.size() > 5) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
    return value;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto ip = IpAddress::parse(text.substr(0, slash));
    if (!ip) return std::nullopt;
    auto prefix = parse_number(text.substr(slash + 1), ip->family == Family::v4 ? 32 : 128);
    if (!prefix) return std::nullopt;
    Cidr cidr{masked(*ip, *prefix), static_cast<std::uint8_t>(*prefix)};
    return cidr;
}

bool Cidr::contains(const IpAddress& ip) const {
    return ip.family == address.family && masked(ip, prefix) == address;
}

std::string Cidr::to_string() const { return address.to_string() + "/" + std::to_string(prefix); }

std::optional<HostPort> HostPort::parse(std::string_view text) {
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find("]:");
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        if (host.find(':') == std::string_view::npos) return std::nullopt;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;
    }
    auto ip = IpAddress::parse(host);
    auto number = parse_number(port, 65535);
    if (!ip || !number) return std::nullopt;
    return HostPort{*ip, static_cast<std::uint16_t>(*number)};
}

std::string HostPort::to_string() const {
    std::string host = address.to_string();
    if (address.family == Family::v6) host = "[" + host + "]";
    return host + ":" + std::to_string(port);
}

}  // namespace kipvs::model
