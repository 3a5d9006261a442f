#pragma once
// The command-line address of the VM test responders (udp-responder,
// sctp-responder): an IPv4 address and a port, refused with the tool's name.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

inline bool parse_responder_address(const char* tool, const char* address, const char* port, sockaddr_in& out) {
    out = {};
    out.sin_family = AF_INET;
    out.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
    if (inet_pton(AF_INET, address, &out.sin_addr) == 1) return true;
    std::fprintf(stderr, "%s: bad address %s\n", tool, address);
    return false;
}
