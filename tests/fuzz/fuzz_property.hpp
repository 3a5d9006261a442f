#pragma once
// A property a fuzz target asserts: when it fails the target aborts, so
// libFuzzer keeps the input as a crash artifact, and says which one failed.
#include <cstdio>
#include <cstdlib>

namespace kipvs::fuzz {

inline void property(bool holds, const char* what) {
    if (holds) return;
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
}

}  // namespace kipvs::fuzz
