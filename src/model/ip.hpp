#pragma once
// IP addresses and prefixes as compact values (no strings kept), shared by
// the configuration, the API decoders, the planner and the kernel layer.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kipvs::model {

enum class Family : std::uint8_t { v4 = 4, v6 = 6 };

std::string_view family_name(Family family);  // "IPv4" / "IPv6"

struct IpAddress {
    Family family = Family::v4;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes

    static std::optional<IpAddress> parse(std::string_view text);
    static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
    std::string to_string() const;
    std::size_t size() const { return family == Family::v4 ? 4 : 16; }
    bool is_loopback() const;
    bool is_link_local() const;
    bool is_unspecified() const;

    // By hand: libc++ 16 (the musl build) has no operator<=> for std::array.
    std::strong_ordering operator<=>(const IpAddress& other) const;
    bool operator==(const IpAddress&) const = default;
};

struct Cidr {
    IpAddress address;  // host bits cleared
    std::uint8_t prefix = 0;

    // "10.0.0.0/8", "fd00::/64". Host bits are cleared ("10.1.2.3/8" is
    // 10.0.0.0/8), as Go's net.ParseCIDR does for kube-proxy's fields.
    static std::optional<Cidr> parse(std::string_view text);
    bool contains(const IpAddress& ip) const;
    std::string to_string() const;

    std::strong_ordering operator<=>(const Cidr& other) const {
        if (auto c = address <=> other.address; c != 0) return c;
        return prefix <=> other.prefix;
    }
    bool operator==(const Cidr&) const = default;
};

// "IP:port" or "[IPv6]:port", port 0-65535.
struct HostPort {
    IpAddress address;
    std::uint16_t port = 0;

    static std::optional<HostPort> parse(std::string_view text);
    std::string to_string() const;
    bool operator==(const HostPort&) const = default;
};

}  // namespace kipvs::model
