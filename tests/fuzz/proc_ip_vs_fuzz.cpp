// Any bytes as /proc/net/ip_vs parse without throwing or crashing, and the
// result is what the text says: written back in the kernel's format, it
// parses to the same map.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_property.hpp"
#include "server/ipvs_stats.hpp"

namespace {

using kipvs::fuzz::property;

std::string hex(unsigned value, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%0*X", digits, value);
    return buf;
}

// The kernel's spelling: IPv4 as 8 hex digits, IPv6 as %pI6 in brackets.
std::string endpoint(const kipvs::proxy::VsKey& key) {
    const auto& b = key.address.bytes;
    std::string out;
    if (key.address.family == kipvs::model::Family::v4) {
        out = hex((unsigned(b[0]) << 24) | (unsigned(b[1]) << 16) | (unsigned(b[2]) << 8) | b[3], 8);
    } else {
        out = "[";
        for (int g = 0; g < 8; ++g) {
            if (g > 0) out += ':';
            out += hex((unsigned(b[g * 2]) << 8) | b[g * 2 + 1], 4);
        }
        out += ']';
    }
    return out + ":" + hex(key.port, 4);
}

std::string protocol(kipvs::kernel::Protocol p) {
    switch (p) {
        case kipvs::kernel::Protocol::tcp: return "TCP";
        case kipvs::kernel::Protocol::udp: return "UDP";
        case kipvs::kernel::Protocol::sctp: return "SCTP";
        case kipvs::kernel::Protocol::none: break;
    }
    property(false, "only TCP, UDP and SCTP virtual servers are read");
    return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = kipvs::server::parse_proc_ip_vs(text);

    std::string lines = "IP Virtual Server version 1.2.1 (size=4096)\n";
    for (const auto& [key, active] : parsed) {
        lines += protocol(key.protocol) + "  " + endpoint(key) + " rr \n";
        lines += "  -> 0A000001:1F90      Masq    1      " + std::to_string(active) + "          0\n";
    }
    property(kipvs::server::parse_proc_ip_vs(lines) == parsed, "written back, the virtual servers parse the same");
    return 0;
}
