#include <lzma.h>
#include <zstd.h>

#include <catch2/catch.hpp>

#include "error.hpp"
#include "kernel/modules_decompress.hpp"

using namespace kipvs;
using namespace kipvs::kernel::modules;

namespace {

// Something module-sized that compresses well but not trivially.
std::string sample(std::size_t size) {
    std::string s = "\x7f" "ELF";
    for (std::size_t i = 0; s.size() < size; ++i) s += "symbol_" + std::to_string(i * 7919 % 1000) + '\0';
    return s;
}

std::string xz(const std::string& data, lzma_check check = LZMA_CHECK_CRC32) {
    std::string out(lzma_stream_buffer_bound(data.size()), '\0');
    std::size_t pos = 0;
    REQUIRE(lzma_easy_buffer_encode(6, check, nullptr, reinterpret_cast<const std::uint8_t*>(data.data()),
                                    data.size(), reinterpret_cast<std::uint8_t*>(out.data()), &pos,
                                    out.size()) == LZMA_OK);
    out.resize(pos);
    return out;
}

std::string zstd(const std::string& data) {
    std::string out(ZSTD_compressBound(data.size()), '\0');
    std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
    REQUIRE_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

std::string error_of(std::string (*fn)(std::string_view, std::string_view, std::size_t), const std::string& data,
                     std::size_t max = max_module_size) {
    try {
        fn(data, "m.ko.x", max);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("decompress: magic bytes", "[modules]") {
    auto data = sample(1000);
    CHECK(compression_of_content(xz(data)) == Compression::xz);
    CHECK(compression_of_content(zstd(data)) == Compression::zstd);
    CHECK(compression_of_content(std::string("\x1f\x8b\x08", 3)) == Compression::gzip);
    CHECK(compression_of_content(data) == Compression::none);
    CHECK(compression_of_content("") == Compression::none);
    CHECK(compression_of_content("\xfd") == Compression::none);
}

TEST_CASE("decompress: xz and zstd round trips", "[modules]") {
    for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(70000), std::size_t(3u << 20)}) {
        auto data = sample(size).substr(0, size);
        INFO(size);
        CHECK(decompress_xz(xz(data), "m.ko.xz") == data);
        CHECK(decompress_xz(xz(data, LZMA_CHECK_CRC64), "m.ko.xz") == data);
        CHECK(decompress_zstd(zstd(data), "m.ko.zst") == data);
    }
    // Concatenated streams are one file (xz -c a b > c).
    auto a = sample(5000), b = sample(3000);
    CHECK(decompress_xz(xz(a) + xz(b), "m.ko.xz") == a + b);
    CHECK(decompress_zstd(zstd(a) + zstd(b), "m.ko.zst") == a + b);
}

TEST_CASE("decompress: corrupt, truncated and oversized data are errors naming the file", "[modules]") {
    auto data = sample(200000);
    auto x = xz(data), z = zstd(data);
    CHECK(error_of(decompress_xz, x.substr(0, x.size() / 2)) == "m.ko.x: xz: data is truncated");
    CHECK(error_of(decompress_xz, "") == "m.ko.x: xz: data is truncated");
    CHECK(error_of(decompress_xz, "not xz at all") == "m.ko.x: xz: not in xz format");
    auto flipped = x;
    flipped[flipped.size() / 2] ^= 0x55;
    CHECK(error_of(decompress_xz, flipped).rfind("m.ko.x: xz: ", 0) == 0);
    CHECK(error_of(decompress_xz, x, 1000) == "m.ko.x: decompresses to more than 1000 bytes; refusing (corrupt or not a module)");

    CHECK(error_of(decompress_zstd, z.substr(0, z.size() / 2)) == "m.ko.x: zstd: data is truncated");
    CHECK(error_of(decompress_zstd, "") == "m.ko.x: zstd: data is truncated");
    CHECK(error_of(decompress_zstd, "not zstd").rfind("m.ko.x: zstd: ", 0) == 0);
    CHECK(error_of(decompress_zstd, z, 1000).rfind("m.ko.x: decompresses to more than", 0) == 0);
}
