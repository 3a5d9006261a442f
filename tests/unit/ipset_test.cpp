#include <catch2/catch.hpp>

#include "error.hpp"
#include "fake_ipset.hpp"
#include "kernel/ipset_sync.hpp"
#include "kernel/kube_sets.hpp"

using namespace kipvs;
using namespace kipvs::kernel;
using model::Family;

TEST_CASE("the 17 sets of IPVS mode, with kube-proxy's IPv6 names", "[ipset]") {
    REQUIRE(kube_sets().size() == kube_set_count);
    CHECK(kube_set_name(KubeSet::cluster_ip, Family::v4) == "KUBE-CLUSTER-IP");
    CHECK(kube_set_name(KubeSet::cluster_ip, Family::v6) == "KUBE-6-CLUSTER-IP");
    CHECK(kube_set_name(KubeSet::load_balancer_source_cidr, Family::v6) == "KUBE-6-LOAD-BALANCER-SOURCE-CID");
    CHECK(kube_set_name(KubeSet::node_port_local_sctp_hash, Family::v6) == "KUBE-6-NODE-PORT-LOCAL-SCTP-HAS");
    for (const auto& info : kube_sets()) {
        for (auto family : {Family::v4, Family::v6}) {
            auto name = kube_set_name(info.id, family);
            CHECK(name.size() <= max_set_name);
            CHECK(is_kube_set_name(name));
        }
        CHECK(kube_set_info(info.id).id == info.id);
    }
    CHECK_FALSE(is_kube_set_name("KUBE-SOMETHING-ELSE"));
    CHECK(kube_set_spec(KubeSet::node_port_tcp, Family::v4, 65536).create_arguments() ==
          "KUBE-NODE-PORT-TCP bitmap:port range 0-65535");
    CHECK(kube_set_spec(KubeSet::loop_back, Family::v6, 1000).create_arguments() ==
          "KUBE-6-LOOP-BACK hash:ip,port,ip family inet6 hashsize 1024 maxelem 1000");
}

TEST_CASE("entries are checked and written as ipset save prints them", "[ipset]") {
    SetSpec ip_port{"S", SetType::hash_ip_port, Family::v4};
    SetSpec net6{"S", SetType::hash_ip_port_net, Family::v6};
    SetSpec ports{"S", SetType::bitmap_port, Family::v4};
    SetSpec ip_port_ip{"S", SetType::hash_ip_port_ip, Family::v4};
    CHECK(check_entry(ip_port, "10.96.0.1,tcp:80").canonical == "10.96.0.1,tcp:80");
    CHECK(check_entry(ip_port, "10.96.0.1,sctp:080").canonical == "10.96.0.1,sctp:80");
    CHECK(check_entry(net6, "FD00::0:1,udp:53,fd00:10::/64").canonical == "fd00::1,udp:53,fd00:10::/64");
    CHECK(check_entry(net6, "fd00::1,udp:53,fd00::5/128").canonical == "fd00::1,udp:53,fd00::5");
    CHECK(check_entry(ports, "30080").canonical == "30080");
    CHECK(check_entry(ip_port_ip, "10.244.1.2,tcp:8080,10.244.1.2").canonical == "10.244.1.2,tcp:8080,10.244.1.2");

    struct Bad {
        const SetSpec& set;
        const char* entry;
        const char* problem;
    };
    const Bad bad[] = {
        {ip_port, "10.96.0.1,icmp:80", "protocol \"icmp\" is not tcp, udp or sctp"},
        {ip_port, "10.96.0.1,tcp:70000", "\"70000\" is not a port (0-65535)"},
        {ip_port, "10.96.0.300,tcp:80", "\"10.96.0.300\" is not an IP address"},
        {ip_port, "fd00::1,tcp:80", "fd00::1 is not an IPv4 address"},
        {ip_port, "10.96.0.1", "\"10.96.0.1\" does not fit hash:ip,port"},
        {ip_port, "10.96.0.1,80", "\"80\" is not proto:port"},
        {net6, "fd00::1,udp:53,10.0.0.0/8", "10.0.0.0/8 is not an IPv6 net"},
        {net6, "fd00::1,udp:53,::/0", "a /0 net cannot be stored in a hash:net set"},
        {ports, "-1", "\"-1\" is not a port (0-65535)"},
    };
    for (const auto& b : bad) {
        INFO(b.entry);
        auto checked = check_entry(b.set, b.entry);
        CHECK_FALSE(checked.canonical);
        CHECK(checked.problem == b.problem);
    }
}

TEST_CASE("a set sync writes only the difference, and nothing when nothing changed", "[ipset]") {
    test::FakeIpset kernel;
    IpsetSync sync(kernel);
    auto spec = kube_set_spec(KubeSet::cluster_ip, Family::v4, 65536);
    auto first = sync.sync(spec, {"10.96.0.1,tcp:443", "10.96.0.10,udp:53"});
    CHECK(first.failures.empty());
    CHECK(kernel.writes == std::vector<std::string>{"create KUBE-CLUSTER-IP", "add KUBE-CLUSTER-IP 10.96.0.1,tcp:443",
                                                    "add KUBE-CLUSTER-IP 10.96.0.10,udp:53"});
    kernel.writes.clear();
    sync.sync(spec, {"10.96.0.1,tcp:443", "10.96.0.10,udp:53"});
    CHECK(kernel.writes.empty());
    CHECK(kernel.reads == 1);  // the kernel is read once, then known

    sync.sync(spec, {"10.96.0.1,tcp:443", "10.96.0.11,udp:53"});
    CHECK(kernel.writes == std::vector<std::string>{"del KUBE-CLUSTER-IP 10.96.0.10,udp:53",
                                                    "add KUBE-CLUSTER-IP 10.96.0.11,udp:53"});
}

TEST_CASE("adopting a set that already holds the right content writes nothing", "[ipset]") {
    test::FakeIpset kernel;
    auto spec = kube_set_spec(KubeSet::node_port_tcp, Family::v4, 65536);
    kernel.sets[spec.name] = {spec, {"30080", "30443"}};
    IpsetSync sync(kernel);
    auto result = sync.sync(spec, {"30080", "30443"});
    CHECK(result.added == 0);
    CHECK(result.deleted == 0);
    CHECK(kernel.writes.empty());
}

TEST_CASE("when most of a set changes its content is swapped in whole", "[ipset]") {
    test::FakeIpset kernel;
    IpsetSync sync(kernel);
    auto spec = kube_set_spec(KubeSet::ipvs_ips, Family::v4, 65536);
    sync.sync(spec, {"10.96.0.1", "10.96.0.2", "10.96.0.3"});
    kernel.writes.clear();
    auto result = sync.sync(spec, {"10.96.0.1", "10.96.1.2", "10.96.1.3"});
    CHECK(result.replaced);
    CHECK(kernel.writes == std::vector<std::string>{"replace KUBE-IPVS-IPS 3"});
    CHECK(kernel.sets.at("KUBE-IPVS-IPS").entries == std::set<std::string>{"10.96.0.1", "10.96.1.2", "10.96.1.3"});
}

TEST_CASE("an invalid entry is named and the set stays as it was", "[ipset]") {
    test::FakeIpset kernel;
    IpsetSync sync(kernel);
    auto spec = kube_set_spec(KubeSet::cluster_ip, Family::v4, 65536);
    sync.sync(spec, {"10.96.0.1,tcp:443"});
    kernel.writes.clear();
    auto result = sync.sync(spec, {"10.96.0.2,tcp:443", "10.96.0.3,tcp:99999", "10.96.0.4,tcp:80"});
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].entry == "10.96.0.3,tcp:99999");
    CHECK(result.failures[0].message == "\"99999\" is not a port (0-65535)");
    CHECK(kernel.writes.empty());
    CHECK(kernel.sets.at("KUBE-CLUSTER-IP").entries == std::set<std::string>{"10.96.0.1,tcp:443"});
}

TEST_CASE("a set that would overflow maxelem is reported, not sent", "[ipset]") {
    test::FakeIpset kernel;
    IpsetSync sync(kernel);
    auto spec = kube_set_spec(KubeSet::ipvs_ips, Family::v4, 2);
    auto result = sync.sync(spec, {"10.96.0.1", "10.96.0.2", "10.96.0.3"});
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].message == "the set is full: 3 entries wanted, maxelem is 2 (raise kipvs.ipsetMaxElements)");
    CHECK(kernel.writes.empty());
}

TEST_CASE("a kernel refusal is reported with its entry and the set is read again next time", "[ipset]") {
    test::FakeIpset kernel;
    auto spec = kube_set_spec(KubeSet::ipvs_ips, Family::v4, 3);
    IpsetSync sync(kernel);
    sync.sync(spec, {"10.96.0.1"});
    // Someone else shrank the kernel's set (or filled it) behind kipvs's back.
    kernel.sets.at(spec.name).spec.maxelem = 2;
    auto result = sync.sync(spec, {"10.96.0.1", "10.96.0.2", "10.96.0.3"});
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].entry == "10.96.0.3");
    std::size_t reads = kernel.reads;
    kernel.sets.at(spec.name).spec.maxelem = 3;
    CHECK(sync.sync(spec, {"10.96.0.1", "10.96.0.2", "10.96.0.3"}).failures.empty());
    CHECK(kernel.reads == reads + 1);
    CHECK(kernel.sets.at(spec.name).entries.size() == 3);
}

TEST_CASE("kipvs never manages a set it does not own", "[ipset]") {
    test::FakeIpset kernel;
    IpsetSync sync(kernel);
    SetSpec foreign{"my-firewall", SetType::hash_ip, Family::v4};
    CHECK_THROWS_AS(sync.sync(foreign, {"10.0.0.1"}), Error);
    CHECK(kernel.writes.empty());
}

TEST_CASE("the incremental path sends only real changes and checks only them", "[ipset]") {
    test::FakeIpset kernel;
    IpsetSync sync(kernel);
    auto spec = kube_set_spec(KubeSet::cluster_ip, Family::v4, 3);
    sync.sync(spec, {"10.96.0.1,tcp:443", "10.96.0.2,tcp:443"});
    kernel.writes.clear();
    auto result = sync.update(spec, {"10.96.0.3,tcp:443", "10.96.0.1,tcp:443"}, {"10.96.0.9,tcp:1"});
    CHECK(result.added == 1);
    CHECK(result.deleted == 0);
    CHECK(kernel.writes == std::vector<std::string>{"add KUBE-CLUSTER-IP 10.96.0.3,tcp:443"});
    CHECK(sync.update(spec, {"10.96.0.4,tcp:443"}, {}).failures.at(0).message ==
          "the set is full: 4 entries wanted, maxelem is 3 (raise kipvs.ipsetMaxElements)");
    CHECK(sync.update(spec, {"10.96.0.4,udp:x"}, {}).failures.at(0).entry == "10.96.0.4,udp:x");
    kernel.writes.clear();
    CHECK(sync.update(spec, {"10.96.0.4,tcp:443"}, {"10.96.0.1,tcp:443"}).failures.empty());
    CHECK(kernel.writes == std::vector<std::string>{"del KUBE-CLUSTER-IP 10.96.0.1,tcp:443",
                                                    "add KUBE-CLUSTER-IP 10.96.0.4,tcp:443"});
    CHECK_THROWS_AS(sync.update(SetSpec{"other", SetType::hash_ip, Family::v4}, {"10.0.0.1"}, {}), Error);
}
