#pragma once
// ipset set specifications and entries in the text form `ipset save` prints,
// so that what kipvs wants and what the kernel reads back compare as strings.
#include <optional>
#include <string>
#include <string_view>

#include "model/ip.hpp"

namespace kipvs::kernel {

enum class SetType { hash_ip, hash_ip_port, hash_ip_port_ip, hash_ip_port_net, bitmap_port };

std::string_view set_type_name(SetType type);  // "hash:ip,port"

struct SetSpec {
    std::string name;
    SetType type = SetType::hash_ip;
    model::Family family = model::Family::v4;  // ignored by bitmap:port
    unsigned hashsize = 1024;
    unsigned maxelem = 65536;

    // "create NAME TYPE family inet hashsize 1024 maxelem 65536", as kube-proxy
    // creates its sets (no comment extension); bitmap:port gets range 0-65535.
    std::string create_arguments() const;
    bool operator==(const SetSpec&) const = default;
};

// The longest set name the kernel takes (IPSET_MAXNAMELEN - 1).
inline constexpr std::size_t max_set_name = 31;

struct EntryCheck {
    std::optional<std::string> canonical;  // the entry as `ipset save` prints it
    std::string problem;                   // why it was refused
};

// Validates an entry for a set before anything is sent: the address parses
// and is of the set's family, the protocol is tcp, udp or sctp, the port is
// 0-65535, the net parses. Canonical form: lower-case compressed IPv6,
// numeric ports, a /32 or /128 net written as a plain address.
EntryCheck check_entry(const SetSpec& set, std::string_view entry);

}  // namespace kipvs::kernel
