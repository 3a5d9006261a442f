#include <catch2/catch.hpp>

#include "fake_ipset.hpp"
#include "fake_iptables.hpp"
#include "fake_ipvs.hpp"
#include "fake_links.hpp"
#include "kernel/iptables_rules.hpp"
#include "kernel/kube_sets.hpp"
#include "proxy/cleanup.hpp"

using namespace kipvs;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

kernel::VirtualServer vs(const char* address, std::uint16_t port) {
    kernel::VirtualServer s;
    s.address = ip(address);
    s.family = s.address.family;
    s.port = port;
    return s;
}

}  // namespace

TEST_CASE("cleanup removes IPVS mode's objects and leaves everything else", "[cleanup]") {
    test::FakeIpvs ipvs;
    test::FakeIpset ipset;
    test::FakeLinks links;
    test::FakeIptables iptables;

    links.ensure_dummy("kube-ipvs0");
    links.bind("kube-ipvs0", ip("10.96.0.10"));
    links.bind("kube-ipvs0", ip("10.96.100.1"));
    ipvs.add_service(vs("10.96.0.10", 80));     // a ClusterIP: goes
    ipvs.add_service(vs("10.96.100.1", 80));    // inside excludeCIDRs: stays
    ipvs.add_service(vs("192.168.1.10", 30080)); // a NodePort: goes
    ipvs.add_service(vs("192.168.1.10", 443));  // keepalived's, on a node address: stays
    ipvs.add_service(vs("192.168.50.1", 80));   // keepalived's VIP: stays
    ipset.ensure(kernel::kube_set_spec(kernel::KubeSet::cluster_ip, model::Family::v4, 65536));
    ipset.ensure(kernel::kube_set_spec(kernel::KubeSet::cluster_ip, model::Family::v6, 65536));
    ipset.ensure({"my-own-set", kernel::SetType::hash_ip});
    kernel::IptablesApplier(iptables).apply(kernel::render_rules({}), true);
    iptables.tables["filter"]["INPUT"].push_back("-s 198.51.100.1/32 -j ACCEPT");
    iptables.tables["filter"]["MY-CHAIN"] = {"-j RETURN"};

    proxy::CleanupOptions options;
    options.exclude_cidrs = {*model::Cidr::parse("10.96.100.0/24")};
    options.node_addresses = {ip("192.168.1.10")};
    auto report = proxy::cleanup(ipvs, ipset, links, {{model::Family::v4, &iptables}}, options);
    CHECK(report.failures.empty());

    std::set<std::string> left;
    for (const auto& t : ipvs.state()) left.insert(t.service.describe());
    CHECK(left == std::set<std::string>{"TCP 10.96.100.1:80", "TCP 192.168.1.10:443", "TCP 192.168.50.1:80"});
    CHECK(report.kept.size() == 3);
    CHECK(ipset.sets.size() == 1);
    CHECK(ipset.sets.count("my-own-set") == 1);
    CHECK_FALSE(links.exists("kube-ipvs0"));
    for (const auto& chain : kernel::filter_chains()) CHECK(iptables.tables["filter"].count(chain) == 0);
    for (const auto& chain : kernel::nat_chains()) CHECK(iptables.tables["nat"].count(chain) == 0);
    CHECK(iptables.tables["filter"]["INPUT"] == std::vector<std::string>{"-s 198.51.100.1/32 -j ACCEPT"});
    CHECK(iptables.tables["filter"]["MY-CHAIN"] == std::vector<std::string>{"-j RETURN"});
    CHECK(iptables.tables["nat"]["PREROUTING"].empty());
}

TEST_CASE("cleanup of a clean node changes nothing", "[cleanup]") {
    test::FakeIpvs ipvs;
    test::FakeIpset ipset;
    test::FakeLinks links;
    test::FakeIptables iptables;
    auto report = proxy::cleanup(ipvs, ipset, links, {{model::Family::v4, &iptables}}, {});
    CHECK(report.removed.empty());
    CHECK(report.failures.empty());
    CHECK(iptables.restores == 0);
}
