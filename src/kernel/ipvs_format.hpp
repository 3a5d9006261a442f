#pragma once
// Renders an IPVS table for people and machines: the lines `ipvsadm -S -n`
// prints (so the two can be diffed), and JSON.
#include <string>
#include <vector>

#include "kernel/ipvs_types.hpp"

namespace kipvs::kernel {

// Services and their destinations in a stable order (fwmark services last,
// then by family, protocol, address, port), the order `ipvsadm -S` uses.
void sort_table(std::vector<ServiceTable>& table);

// One "-A ..." line per service followed by its "-a ..." lines, exactly as
// ipvsadm 1.31's save format.
std::string format_ipvsadm(const std::vector<ServiceTable>& table);

std::string format_json(const std::vector<ServiceTable>& table);

// A JSON string literal, quotes and escapes included.
std::string json_string(const std::string& text);

}  // namespace kipvs::kernel
