#pragma once
// Small helpers shared by the unit tests.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace kipvs::test {

// The source tree, set by meson for every test.
inline std::string source_dir() {
    const char* dir = std::getenv("KIPVS_SOURCE_DIR");
    return dir ? dir : ".";
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// A scratch directory removed when the test ends.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string write(const std::string& name, const std::string& content) const;

private:
    std::string path_;
};

}  // namespace kipvs::test
