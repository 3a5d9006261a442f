#pragma once
// The ipsets of kube-proxy's IPVS mode, names included (PARITY.md §1.2), so
// that a node switches between kube-proxy and kipvs in place.
#include <string>
#include <string_view>
#include <vector>

#include "kernel/ipset_entry.hpp"

namespace kipvs::kernel {

enum class KubeSet {
    loop_back,
    cluster_ip,
    external_ip,
    external_ip_local,
    load_balancer,
    load_balancer_local,
    load_balancer_fw,
    load_balancer_source_ip,
    load_balancer_source_cidr,
    node_port_tcp,
    node_port_local_tcp,
    node_port_udp,
    node_port_local_udp,
    node_port_sctp_hash,
    node_port_local_sctp_hash,
    health_check_node_port,
    ipvs_ips,
};

inline constexpr std::size_t kube_set_count = 17;

struct KubeSetInfo {
    KubeSet id;
    std::string_view ipv4_name;  // the IPv6 name is derived: KUBE-6-…, cut to 31
    SetType type;
    std::string_view comment;  // used in iptables -m comment, never on the set
};

const std::vector<KubeSetInfo>& kube_sets();
// "KUBE-CLUSTER-IP" / "KUBE-6-CLUSTER-IP"; the two long IPv6 names are cut
// to the kernel's 31 characters exactly as kube-proxy cuts them.
std::string kube_set_name(KubeSet id, model::Family family);
SetSpec kube_set_spec(KubeSet id, model::Family family, unsigned maxelem);
const KubeSetInfo& kube_set_info(KubeSet id);
// Whether a set name is one kube-proxy's IPVS mode (or kipvs) owns; kipvs
// never touches any other set.
bool is_kube_set_name(std::string_view name);

}  // namespace kipvs::kernel
