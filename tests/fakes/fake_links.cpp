#include "fake_links.hpp"

#include "error.hpp"

namespace kipvs::test {

void FakeLinks::ensure_dummy(const std::string& name) {
    if (links.count(name)) return;
    writes.push_back("create " + name);
    links[name];
}

void FakeLinks::delete_link(const std::string& name) {
    if (!links.erase(name)) return;
    writes.push_back("delete " + name);
}

std::vector<model::IpAddress> FakeLinks::addresses(const std::string& name) {
    auto it = links.find(name);
    if (it == links.end()) return {};
    return {it->second.begin(), it->second.end()};
}

void FakeLinks::bind(const std::string& name, const model::IpAddress& address) {
    auto it = links.find(name);
    if (it == links.end()) throw Error("rtnetlink: no link " + name);
    if (it->second.insert(address).second) writes.push_back("bind " + name + " " + address.to_string());
}

void FakeLinks::unbind(const std::string& name, const model::IpAddress& address) {
    auto it = links.find(name);
    if (it == links.end()) throw Error("rtnetlink: no link " + name);
    if (it->second.erase(address)) writes.push_back("unbind " + name + " " + address.to_string());
}

std::vector<std::string> FakeLinks::bind_all(const std::string& name, const std::vector<model::IpAddress>& addresses) {
    for (const auto& a : addresses) bind(name, a);
    return {};
}

std::vector<std::string> FakeLinks::unbind_all(const std::string& name,
                                               const std::vector<model::IpAddress>& addresses) {
    for (const auto& a : addresses) unbind(name, a);
    return {};
}

std::vector<kernel::InterfaceAddress> FakeLinks::all_addresses() {
    std::vector<kernel::InterfaceAddress> out;
    for (const auto& [name, addrs] : links)
        for (const auto& a : addrs) out.push_back({name, a});
    return out;
}

}  // namespace kipvs::test
