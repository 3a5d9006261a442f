#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "fake_ipset.hpp"
#include "fake_iptables.hpp"
#include "fake_ipvs.hpp"
#include "fake_links.hpp"
#include "proxy/reconciler.hpp"
#include "proxy/state_view.hpp"
#include "test_support.hpp"

using namespace kipvs;
using namespace kipvs::proxy;
using kernel::KubeSet;
using model::Family;

namespace {

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

kernel::ServiceTable table(const char* vip, std::uint16_t port, std::vector<const char*> backends) {
    kernel::ServiceTable t;
    t.service.address = ip(vip);
    t.service.family = t.service.address.family;
    t.service.port = port;
    for (const char* b : backends) {
        kernel::RealServer d;
        d.address = ip(b);
        d.port = 8080;
        t.destinations.push_back(d);
    }
    return t;
}

// A ClusterIP service's plan: VIP bound, in KUBE-CLUSTER-IP and KUBE-IPVS-IPS.
ServicePlan cluster_ip(const char* vip, std::uint16_t port, std::vector<const char*> backends) {
    ServicePlan plan;
    plan.virtual_servers.push_back(PlannedVirtualServer::of(table(vip, port, std::move(backends))));
    auto family = ip(vip).family;
    plan.set_entries.push_back({KubeSet::cluster_ip, family, std::string(vip) + ",tcp:" + std::to_string(port)});
    plan.set_entries.push_back({KubeSet::ipvs_ips, family, vip});
    std::sort(plan.set_entries.begin(), plan.set_entries.end());
    plan.bound_addresses.push_back(ip(vip));
    return plan;
}

// One entry in every set of both families, so every conditional rule is
// written (as in the netns golden test).
ServicePlan every_set() {
    ServicePlan plan;
    for (auto family : {Family::v4, Family::v6}) {
        std::string a = family == Family::v4 ? "10.96.0.10" : "fd00:96::10";
        std::string net = family == Family::v4 ? "192.0.2.0/24" : "2001:db8::/32";
        for (const auto& info : kernel::kube_sets()) {
            std::string entry;
            switch (info.type) {
                case kernel::SetType::hash_ip: entry = a; break;
                case kernel::SetType::hash_ip_port: entry = a + ",tcp:80"; break;
                case kernel::SetType::hash_ip_port_ip: entry = a + ",tcp:80," + a; break;
                case kernel::SetType::hash_ip_port_net: entry = a + ",tcp:80," + net; break;
                case kernel::SetType::bitmap_port: entry = "30080"; break;
            }
            plan.set_entries.push_back({info.id, family, entry});
        }
    }
    std::sort(plan.set_entries.begin(), plan.set_entries.end());
    return plan;
}

// The netns golden files' shape: chains without counters, no COMMIT.
std::string golden_shape(const std::string& rules) {
    std::string out;
    std::istringstream lines(rules);
    for (std::string line; std::getline(lines, line);) {
        if (line == "COMMIT") continue;
        if (line[0] == ':') line = line.substr(0, line.find(' '));
        out += line + "\n";
    }
    return out;
}

const char* const small_save =
    "# IPVS (ipvsadm -S -n)\n"
    "-A -t 10.96.0.10:80 -s rr\n"
    "-a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1\n"
    "-a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m -w 1\n"
    "# ipsets (ipset save)\n"
    "create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\n"
    "add KUBE-CLUSTER-IP 10.96.0.10,tcp:80\n"
    "create KUBE-EXTERNAL-IP hash:ip,port family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-EXTERNAL-IP-LOCAL hash:ip,port family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-LOAD-BALANCER hash:ip,port family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-LOAD-BALANCER-LOCAL hash:ip,port family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-LOAD-BALANCER-FW hash:ip,port family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-LOAD-BALANCER-SOURCE-IP hash:ip,port,ip family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\n"
    "create KUBE-NODE-PORT-LOCAL-TCP bitmap:port range 0-65535\n"
    "create KUBE-NODE-PORT-UDP bitmap:port range 0-65535\n"
    "create KUBE-NODE-PORT-LOCAL-UDP bitmap:port range 0-65535\n"
    "create KUBE-NODE-PORT-SCTP-HASH hash:ip,port family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-NODE-PORT-LOCAL-SCTP-HASH hash:ip,port family inet hashsize 1024 maxelem 65536\n"
    "create KUBE-HEALTH-CHECK-NODE-PORT bitmap:port range 0-65535\n"
    "create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536\n"
    "add KUBE-IPVS-IPS 10.96.0.10\n"
    "# kube-ipvs0 addresses\n"
    "10.96.0.10\n"
    "# IPv4 rules (iptables-save)\n"
    "*nat\n"
    ":KUBE-LOAD-BALANCER - [0:0]\n"
    ":KUBE-MARK-MASQ - [0:0]\n"
    ":KUBE-NODE-PORT - [0:0]\n"
    ":KUBE-POSTROUTING - [0:0]\n"
    ":KUBE-SERVICES - [0:0]\n"
    "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
    "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
    "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"
    "-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ\n"
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"
    "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE "
    "--random-fully\n"
    "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN\n"
    "-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment \"Kubernetes service cluster ip + port for "
    "masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n"
    "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT\n"
    "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\n"
    "COMMIT\n"
    "*filter\n"
    ":KUBE-FORWARD - [0:0]\n"
    ":KUBE-IPVS-FILTER - [0:0]\n"
    ":KUBE-IPVS-OUT-FILTER - [0:0]\n"
    ":KUBE-NODE-PORT - [0:0]\n"
    ":KUBE-PROXY-FIREWALL - [0:0]\n"
    ":KUBE-SOURCE-RANGES-FIREWALL - [0:0]\n"
    "-A INPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-FILTER\n"
    "-A INPUT -m comment --comment \"kube-proxy firewall rules\" -j KUBE-PROXY-FIREWALL\n"
    "-A INPUT -m comment --comment \"kubernetes health check rules\" -j KUBE-NODE-PORT\n"
    "-A FORWARD -m comment --comment \"kube-proxy firewall rules\" -j KUBE-PROXY-FIREWALL\n"
    "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n"
    "-A OUTPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-OUT-FILTER\n"
    "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n"
    "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate "
    "RELATED,ESTABLISHED -j ACCEPT\n"
    "-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN\n"
    "-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN\n"
    "-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN\n"
    "-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN\n"
    "-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN\n"
    "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with "
    "icmp-port-unreachable\n"
    "-A KUBE-NODE-PORT -m comment --comment \"Kubernetes health check node port\" -m set --match-set "
    "KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT\n"
    "-A KUBE-SOURCE-RANGES-FIREWALL -j DROP\n"
    "COMMIT\n";

ReconcilerOptions v4_options() {
    ReconcilerOptions options;
    options.cluster_cidrs = {*model::Cidr::parse("10.244.0.0/16")};
    return options;
}

}  // namespace

TEST_CASE("the planned state of one ClusterIP service, in save format", "[state-view]") {
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.2.2", "10.244.1.2"}));
    auto view = view_of(desired, v4_options());
    CHECK(format_save(view) == small_save);
    CHECK(format_ipvsadm(view) ==
          "-A -t 10.96.0.10:80 -s rr\n"
          "-a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1\n"
          "-a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m -w 1\n");
}

TEST_CASE("planned rules are spelled as iptables-save prints them back (netns golden files)", "[state-view]") {
    DesiredState desired;
    desired.set_service("default/all", every_set());
    ReconcilerOptions options = v4_options();
    options.families = {Family::v4, Family::v6};
    auto view = view_of(desired, options);
    REQUIRE(view.rules.size() == 2);
    CHECK(golden_shape(view.rules.at(Family::v4)) ==
          test::read_file(test::source_dir() + "/tests/netns/golden/iptables-v4.txt"));
    CHECK(golden_shape(view.rules.at(Family::v6)) ==
          test::read_file(test::source_dir() + "/tests/netns/golden/iptables-v6.txt"));
    CHECK(view.sets.size() == 2 * kernel::kube_sets().size());
    CHECK(view.sets.front().first.name == "KUBE-LOOP-BACK");
    CHECK(view.sets.back().first.name == "KUBE-6-IPVS-IPS");
}

TEST_CASE("iptables-save spelling of the rules kipvs renders", "[state-view]") {
    struct Case {
        const char* rendered;
        Family family;
        const char* saved;
    };
    const Case cases[] = {
        {"-j MARK --or-mark 0x004000", Family::v4, "-j MARK --set-xmark 0x4000/0x4000"},
        {"-j MARK --xor-mark 0x000001", Family::v4, "-j MARK --set-xmark 0x1/0x0"},
        {"-m mark ! --mark 0x004000/0x004000 -j RETURN", Family::v4, "-m mark ! --mark 0x4000/0x4000 -j RETURN"},
        {"-m set --match-set KUBE-6-IPVS-IPS dst -j REJECT", Family::v6,
         "-m set --match-set KUBE-6-IPVS-IPS dst -j REJECT --reject-with icmp6-port-unreachable"},
        {"-s 10.96.0.10 -m ipvs --vaddr 10.96.0.10 --vproto tcp --vport 80 -j DROP", Family::v4,
         "-s 10.96.0.10/32 -m ipvs --vproto 6 --vaddr 10.96.0.10/32 --vport 80 -j DROP"},
        {"-s fd00::10 -m ipvs --vaddr fd00::10 --vproto sctp --vport 53 -j DROP", Family::v6,
         "-s fd00::10/128 -m ipvs --vproto 132 --vaddr fd00::10/128 --vport 53 -j DROP"},
        {"-m comment --comment \"with type 'hash ip:port'\" -j RETURN", Family::v4,
         "-m comment --comment \"with type \\'hash ip:port\\'\" -j RETURN"},
        {"! -s 10.244.0.0/16 -j KUBE-MARK-MASQ", Family::v4, "! -s 10.244.0.0/16 -j KUBE-MARK-MASQ"},
    };
    for (const auto& c : cases) {
        INFO(c.rendered);
        CHECK(saved_spelling(c.rendered, c.family) == c.saved);
        CHECK(saved_spelling(c.saved, c.family) == c.saved);  // already saved: unchanged
    }
}

TEST_CASE("the JSON format parses and holds all four parts", "[state-view]") {
    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2"}));
    desired.set_service("default/all", every_set());
    ReconcilerOptions options = v4_options();
    options.families = {Family::v4, Family::v6};
    auto json = boost::json::parse(format_json(view_of(desired, options)));
    auto& root = json.as_object();
    CHECK(root.at("ipvs").at("services").as_array().size() == 1);
    CHECK(root.at("sets").as_array().size() == 2 * kernel::kube_sets().size());
    auto& first = root.at("sets").as_array().front().as_object();
    CHECK(first.at("name").as_string() == "KUBE-LOOP-BACK");
    CHECK(first.at("family").as_string() == "inet");
    CHECK(root.at("addresses").as_array().size() == 1);
    auto& rules = root.at("rules").as_object();
    CHECK(rules.at("IPv4").as_array().front().as_string() == "*nat");
    CHECK(rules.at("IPv6").as_array().back().as_string() == "COMMIT");
}

TEST_CASE("the read view leaves out other sets, chains and rules", "[state-view]") {
    test::FakeIpvs ipvs;
    test::FakeIpset ipset;
    test::FakeLinks links;
    test::FakeIptables iptables;
    ipset.ensure(kernel::kube_set_spec(KubeSet::cluster_ip, Family::v4, 65536));
    ipset.change("KUBE-CLUSTER-IP", {{kernel::IpsetChange::Kind::add, "10.96.0.10,tcp:80"}});
    ipset.ensure({"my-blocklist", kernel::SetType::hash_ip, Family::v4, 1024, 65536});
    links.ensure_dummy("kube-ipvs0");
    links.ensure_dummy("eth0");
    links.bind("kube-ipvs0", ip("10.96.0.10"));
    links.bind("eth0", ip("192.0.2.5"));
    iptables.restore(
        "*filter\n:MY-CHAIN - [0:0]\n:KUBE-FORWARD - [0:0]\n"
        "-A MY-CHAIN -j ACCEPT\n-A INPUT -j MY-CHAIN\n"
        "-A KUBE-FORWARD -m mark --mark 0x004000/0x004000 -j ACCEPT\n"
        "-I FORWARD 1 -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\nCOMMIT\n");

    auto view = read_view(ipvs, ipset, links, {{Family::v4, &iptables}});
    REQUIRE(view.sets.size() == 1);
    CHECK(view.sets[0].first == kernel::kube_set_spec(KubeSet::cluster_ip, Family::v4, 65536));
    CHECK(view.sets[0].second == std::set<std::string>{"10.96.0.10,tcp:80"});
    CHECK(view.addresses == std::vector{ip("10.96.0.10")});
    CHECK(view.rules.at(Family::v4) ==
          "*nat\nCOMMIT\n"
          "*filter\n:KUBE-FORWARD - [0:0]\n"
          "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n"
          "-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT\n"
          "COMMIT\n");
}

TEST_CASE("planned and read views of a reconciled kernel print the same", "[state-view]") {
    test::FakeIpvs ipvs;
    test::FakeIpset ipset;
    test::FakeLinks links;
    test::FakeIptables iptables4, iptables6;
    ReconcilerOptions options = v4_options();
    options.families = {Family::v4, Family::v6};
    Reconciler reconciler(
        KernelHandles{ipvs, ipset, links, {{Family::v4, &iptables4}, {Family::v6, &iptables6}}}, options);

    DesiredState desired;
    desired.set_service("default/web", cluster_ip("10.96.0.10", 80, {"10.244.1.2", "10.244.2.2"}));
    desired.set_service("default/web6", cluster_ip("fd00:96::10", 443, {"fd00:244::2"}));
    desired.set_service("default/all", every_set());
    auto report = reconciler.full_sync(desired);
    REQUIRE(report.failures.empty());

    auto planned = format_save(view_of(desired, options));
    auto read = format_save(read_view(ipvs, ipset, links, {{Family::v4, &iptables4}, {Family::v6, &iptables6}}));
    CHECK(diff_lines(planned, read) == "");
    CHECK(planned == read);
}

TEST_CASE("diff_lines lists removed and added lines in order", "[state-view]") {
    CHECK(diff_lines("a\nb\nc\n", "a\nb\nc\n") == "");
    CHECK(diff_lines("a\nb\nc\n", "a\nx\nc\nd\n") == "- b\n+ x\n+ d\n");
    CHECK(diff_lines("", "a\n") == "+ a\n");
    CHECK(diff_lines("a\nb\n", "") == "- a\n- b\n");
}
