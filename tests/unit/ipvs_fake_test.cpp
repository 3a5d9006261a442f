#include <catch2/catch.hpp>
#include <cerrno>

#include "error.hpp"
#include "fake_ipvs.hpp"

using namespace kipvs;
using namespace kipvs::kernel;

namespace {

VirtualServer vs(const char* address, std::uint16_t port, const char* scheduler = "rr") {
    VirtualServer s;
    s.address = *model::IpAddress::parse(address);
    s.family = s.address.family;
    s.port = port;
    s.scheduler = scheduler;
    return s;
}

RealServer rs(const char* address, std::uint16_t port, std::uint32_t weight = 1) {
    RealServer d;
    d.address = *model::IpAddress::parse(address);
    d.port = port;
    d.weight = weight;
    return d;
}

}  // namespace

TEST_CASE("a batch applies every operation and reports each failure with its object", "[ipvs]") {
    test::FakeIpvs ipvs;
    auto a = vs("10.96.0.10", 80);
    auto bad = vs("10.96.0.11", 80, "nosuch");
    auto missing = vs("10.96.0.12", 80);
    auto results = ipvs.apply({IpvsOp::add(a), IpvsOp::add(a, rs("10.244.1.2", 80)), IpvsOp::add(bad),
                               IpvsOp::add(missing, rs("10.244.1.3", 80)), IpvsOp::add(a, rs("10.244.1.4", 80))});
    REQUIRE(results.size() == 5);
    CHECK(results[0].ok());
    CHECK(results[1].ok());
    CHECK(results[2].error == ENOENT);
    CHECK(results[2].message.find("add service TCP 10.96.0.11:80") != std::string::npos);
    CHECK(results[2].message.find("scheduler \"nosuch\"") != std::string::npos);
    CHECK(results[3].error == ESRCH);
    CHECK(results[3].message.find("add destination 10.244.1.3:80 to TCP 10.96.0.12:80") != std::string::npos);
    CHECK(results[3].message.find("service does not exist") != std::string::npos);
    CHECK(results[4].ok());
    REQUIRE(ipvs.state().size() == 1);
    CHECK(ipvs.state()[0].destinations.size() == 2);
    CHECK(ipvs.batches() == 1);
}

TEST_CASE("adds of existing objects become edits; deletes of missing ones succeed", "[ipvs]") {
    test::FakeIpvs ipvs;
    auto a = vs("10.96.0.10", 80);
    ipvs.add_service(a);
    ipvs.add_destination(a, rs("10.244.1.2", 80, 1));

    auto changed = a;
    changed.scheduler = "wrr";
    auto results = ipvs.apply({IpvsOp::add(changed), IpvsOp::add(changed, rs("10.244.1.2", 80, 5)),
                               IpvsOp::remove(changed, rs("10.244.9.9", 80)), IpvsOp::remove(vs("10.96.0.99", 80)),
                               IpvsOp::remove(vs("10.96.0.99", 80), rs("10.244.1.2", 80))});
    for (const auto& r : results) CHECK(r.ok());
    CHECK(results[0].converted);
    CHECK(results[1].converted);
    CHECK(ipvs.state()[0].service.scheduler == "wrr");
    CHECK(ipvs.state()[0].destinations[0].weight == 5);
    // The conversions went to the kernel as one more batch of edits.
    CHECK(ipvs.batches() == 4);
    CHECK(ipvs.executed().back() == IpvsOp::edit(changed, rs("10.244.1.2", 80, 5)));
}

TEST_CASE("edits of missing objects are errors", "[ipvs]") {
    test::FakeIpvs ipvs;
    auto a = vs("10.96.0.10", 80);
    CHECK_THROWS_AS(ipvs.edit_service(a), Error);
    ipvs.add_service(a);
    CHECK_THROWS_WITH(ipvs.edit_destination(a, rs("10.244.1.2", 80)),
                      Catch::Contains("edit destination 10.244.1.2:80 of TCP 10.96.0.10:80") &&
                          Catch::Contains("destination does not exist"));
    CHECK_THROWS_AS(ipvs.destinations(vs("10.96.0.11", 80)), Error);
}

TEST_CASE("only a tunnel may cross address families", "[ipvs]") {
    test::FakeIpvs ipvs;
    auto v6 = vs("fd00::1", 53);
    ipvs.add_service(v6);
    CHECK_THROWS_AS(ipvs.add_destination(v6, rs("10.1.1.1", 53)), Error);
    auto t = rs("10.1.1.1", 53);
    t.forwarding = Forwarding::tunnel;
    ipvs.add_destination(v6, t);
    CHECK(ipvs.table().at(0).destinations.size() == 1);
}

TEST_CASE("timeouts of 0 are left unchanged", "[ipvs]") {
    test::FakeIpvs ipvs;
    ipvs.set_timeouts({0, 60, 0});
    CHECK(ipvs.timeouts() == IpvsTimeouts{900, 60, 300});
}
