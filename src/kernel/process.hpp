#pragma once
// Running a helper program (iptables-restore, iptables-save) with text on
// its stdin and its output captured: the only processes kipvs starts, once
// per change of a payload, never once per entry.
#include <string>
#include <vector>

namespace kipvs::kernel {

struct ProcessResult {
    int exit_code = -1;  // -1: did not start or was killed
    std::string out;
    std::string err;
};

// argv[0] is looked up on PATH unless it holds a '/'. Throws kipvs::Error
// when the program cannot be started at all.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace kipvs::kernel
