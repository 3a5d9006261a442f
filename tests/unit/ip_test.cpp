#include <catch2/catch.hpp>

#include "model/ip.hpp"

using namespace kipvs::model;

TEST_CASE("addresses of both families parse and print canonically", "[ip]") {
    CHECK(IpAddress::parse("10.96.0.1")->to_string() == "10.96.0.1");
    CHECK(IpAddress::parse("10.96.0.1")->family == Family::v4);
    CHECK(IpAddress::parse("FD00:0::1")->to_string() == "fd00::1");
    CHECK(IpAddress::parse("fd00::1")->family == Family::v6);
    for (const char* bad : {"", "10.96.0", "10.96.0.256", "1.2.3.4 ", "::g", "10.0.0.1/32", "localhost"}) {
        INFO(bad);
        CHECK_FALSE(IpAddress::parse(bad));
    }
}

TEST_CASE("address classes used for node addresses", "[ip]") {
    CHECK(IpAddress::parse("127.0.0.53")->is_loopback());
    CHECK(IpAddress::parse("::1")->is_loopback());
    CHECK_FALSE(IpAddress::parse("10.0.0.1")->is_loopback());
    CHECK(IpAddress::parse("fe80::1")->is_link_local());
    CHECK(IpAddress::parse("169.254.1.1")->is_link_local());
    CHECK_FALSE(IpAddress::parse("fd00::1")->is_link_local());
    CHECK(IpAddress::parse("0.0.0.0")->is_unspecified());
    CHECK(IpAddress::parse("::")->is_unspecified());
}

TEST_CASE("CIDRs clear host bits and test membership per family", "[ip]") {
    auto cidr = Cidr::parse("10.1.2.3/8");
    REQUIRE(cidr);
    CHECK(cidr->to_string() == "10.0.0.0/8");
    CHECK(cidr->contains(*IpAddress::parse("10.255.0.1")));
    CHECK_FALSE(cidr->contains(*IpAddress::parse("11.0.0.1")));
    CHECK_FALSE(cidr->contains(*IpAddress::parse("::a00:1")));
    auto v6 = Cidr::parse("fd00:10::/33");
    REQUIRE(v6);
    CHECK(v6->contains(*IpAddress::parse("fd00:10:7fff::1")));
    CHECK_FALSE(v6->contains(*IpAddress::parse("fd00:10:8000::1")));
    CHECK(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("192.0.2.1")));
    for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "/8", "10.0.0.0/8/8"}) {
        INFO(bad);
        CHECK_FALSE(Cidr::parse(bad));
    }
}

TEST_CASE("IP:port pairs, IPv6 in brackets", "[ip]") {
    CHECK(HostPort::parse("0.0.0.0:10256")->port == 10256);
    CHECK(HostPort::parse("[::1]:10249")->to_string() == "[::1]:10249");
    CHECK(HostPort::parse("127.0.0.1:10249")->to_string() == "127.0.0.1:10249");
    for (const char* bad : {"0.0.0.0", ":10256", "::1:10249", "[::1]", "1.2.3.4:65536", "1.2.3.4:x", "[1.2.3.4]:80"}) {
        INFO(bad);
        CHECK_FALSE(HostPort::parse(bad));
    }
}
