#pragma once
// "Did you mean …?" for misspelt keys and names.
#include <string>
#include <string_view>
#include <vector>

namespace kipvs {

std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `word`, or "" when none is close enough to help.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace kipvs
