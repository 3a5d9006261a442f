#include "kernel/kube_sets.hpp"

namespace kipvs::kernel {

const std::vector<KubeSetInfo>& kube_sets() {
    static const std::vector<KubeSetInfo> table = {
        {KubeSet::loop_back, "KUBE-LOOP-BACK", SetType::hash_ip_port_ip,
         "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"},
        {KubeSet::cluster_ip, "KUBE-CLUSTER-IP", SetType::hash_ip_port,
         "Kubernetes service cluster ip + port for masquerade purpose"},
        {KubeSet::external_ip, "KUBE-EXTERNAL-IP", SetType::hash_ip_port,
         "Kubernetes service external ip + port for masquerade and filter purpose"},
        {KubeSet::external_ip_local, "KUBE-EXTERNAL-IP-LOCAL", SetType::hash_ip_port,
         "Kubernetes service external ip + port with externalTrafficPolicy=local"},
        {KubeSet::load_balancer, "KUBE-LOAD-BALANCER", SetType::hash_ip_port, "Kubernetes service lb portal"},
        {KubeSet::load_balancer_local, "KUBE-LOAD-BALANCER-LOCAL", SetType::hash_ip_port,
         "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"},
        {KubeSet::load_balancer_fw, "KUBE-LOAD-BALANCER-FW", SetType::hash_ip_port,
         "Kubernetes service load balancer ip + port for load balancer with sourceRange"},
        {KubeSet::load_balancer_source_ip, "KUBE-LOAD-BALANCER-SOURCE-IP", SetType::hash_ip_port_ip,
         "Kubernetes service load balancer ip + port + source IP for packet filter purpose"},
        {KubeSet::load_balancer_source_cidr, "KUBE-LOAD-BALANCER-SOURCE-CIDR", SetType::hash_ip_port_net,
         "Kubernetes service load balancer ip + port + source cidr for packet filter purpose"},
        {KubeSet::node_port_tcp, "KUBE-NODE-PORT-TCP", SetType::bitmap_port,
         "Kubernetes nodeport TCP port for masquerade purpose"},
        {KubeSet::node_port_local_tcp, "KUBE-NODE-PORT-LOCAL-TCP", SetType::bitmap_port,
         "Kubernetes nodeport TCP port with externalTrafficPolicy=local"},
        {KubeSet::node_port_udp, "KUBE-NODE-PORT-UDP", SetType::bitmap_port,
         "Kubernetes nodeport UDP port for masquerade purpose"},
        {KubeSet::node_port_local_udp, "KUBE-NODE-PORT-LOCAL-UDP", SetType::bitmap_port,
         "Kubernetes nodeport UDP port with externalTrafficPolicy=local"},
        {KubeSet::node_port_sctp_hash, "KUBE-NODE-PORT-SCTP-HASH", SetType::hash_ip_port,
         "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"},
        {KubeSet::node_port_local_sctp_hash, "KUBE-NODE-PORT-LOCAL-SCTP-HASH", SetType::hash_ip_port,
         "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"},
        {KubeSet::health_check_node_port, "KUBE-HEALTH-CHECK-NODE-PORT", SetType::bitmap_port,
         "Kubernetes health check node port"},
        {KubeSet::ipvs_ips, "KUBE-IPVS-IPS", SetType::hash_ip, "Addresses on the ipvs interface"},
    };
    return table;
}

const KubeSetInfo& kube_set_info(KubeSet id) { return kube_sets()[static_cast<std::size_t>(id)]; }

std::string kube_set_name(KubeSet id, model::Family family) {
    std::string name(kube_set_info(id).ipv4_name);
    if (family == model::Family::v4) return name;
    std::string v6 = "KUBE-6-" + name.substr(5);
    return v6.substr(0, max_set_name);
}

SetSpec kube_set_spec(KubeSet id, model::Family family, unsigned maxelem) {
    SetSpec spec;
    spec.name = kube_set_name(id, family);
    spec.type = kube_set_info(id).type;
    spec.family = family;
    spec.maxelem = maxelem;
    return spec;
}

bool is_kube_set_name(std::string_view name) {
    for (const auto& info : kube_sets())
        for (auto family : {model::Family::v4, model::Family::v6})
            if (kube_set_name(info.id, family) == name) return true;
    return false;
}

}  // namespace kipvs::kernel
