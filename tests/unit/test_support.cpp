#include "test_support.hpp"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

namespace kipvs::test {

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kipvs-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
    std::string full = path_ + "/" + name;
    std::ofstream(full, std::ios::binary) << content;
    return full;
}

}  // namespace kipvs::test
