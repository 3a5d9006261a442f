#include "kernel/modules_decompress.hpp"

#include <lzma.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>

#include "error.hpp"

namespace kipvs::kernel::modules {
namespace {

constexpr std::string_view xz_magic("\xfd" "7zXZ\0", 6);
constexpr std::string_view zstd_magic("\x28\xb5\x2f\xfd", 4);
constexpr std::string_view gzip_magic("\x1f\x8b", 2);

std::string lzma_reason(lzma_ret ret) {
    switch (ret) {
        case LZMA_FORMAT_ERROR: return "not in xz format";
        case LZMA_OPTIONS_ERROR: return "unsupported xz options";
        case LZMA_DATA_ERROR: return "data is corrupt";
        case LZMA_BUF_ERROR: return "data is truncated";
        case LZMA_MEM_ERROR: return "out of memory";
        case LZMA_MEMLIMIT_ERROR: return "memory limit reached";
        default: return "liblzma error " + std::to_string(static_cast<int>(ret));
    }
}

struct LzmaStream {
    lzma_stream stream = LZMA_STREAM_INIT;
    ~LzmaStream() { lzma_end(&stream); }
};

struct ZstdContext {
    ZSTD_DCtx* ctx = ZSTD_createDCtx();
    ~ZstdContext() { ZSTD_freeDCtx(ctx); }
};

std::string too_big(std::string_view source, std::size_t max_output) {
    return std::string(source) + ": decompresses to more than " + std::to_string(max_output) +
           " bytes; refusing (corrupt or not a module)";
}

}  // namespace

Compression compression_of_content(std::string_view head) {
    if (head.substr(0, xz_magic.size()) == xz_magic) return Compression::xz;
    if (head.substr(0, zstd_magic.size()) == zstd_magic) return Compression::zstd;
    if (head.substr(0, gzip_magic.size()) == gzip_magic) return Compression::gzip;
    return Compression::none;
}

std::string decompress_xz(std::string_view data, std::string_view source, std::size_t max_output) {
    LzmaStream s;
    lzma_ret ret = lzma_stream_decoder(&s.stream, UINT64_MAX, LZMA_CONCATENATED);
    if (ret != LZMA_OK) throw Error(std::string(source) + ": xz: " + lzma_reason(ret));
    std::string out;
    s.stream.next_in = reinterpret_cast<const std::uint8_t*>(data.data());
    s.stream.avail_in = data.size();
    std::size_t chunk = std::max<std::size_t>(data.size() * 4, 64 << 10);
    while (true) {
        if (out.size() >= max_output) throw Error(too_big(source, max_output));
        std::size_t have = out.size();
        out.resize(std::min(have + chunk, max_output));
        s.stream.next_out = reinterpret_cast<std::uint8_t*>(out.data() + have);
        s.stream.avail_out = out.size() - have;
        // All input is present: LZMA_FINISH makes a truncated stream an error.
        ret = lzma_code(&s.stream, LZMA_FINISH);
        out.resize(out.size() - s.stream.avail_out);
        if (ret == LZMA_STREAM_END) return out;
        if (ret != LZMA_OK) throw Error(std::string(source) + ": xz: " + lzma_reason(ret));
    }
}

std::string decompress_zstd(std::string_view data, std::string_view source, std::size_t max_output) {
    ZstdContext z;
    if (!z.ctx) throw Error(std::string(source) + ": zstd: out of memory");
    std::string out;
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    std::size_t chunk = std::max<std::size_t>(data.size() * 4, ZSTD_DStreamOutSize());
    std::size_t last = 1;  // 0 once a frame is complete
    while (true) {
        if (in.pos == in.size && last == 0) return out;
        if (out.size() >= max_output) throw Error(too_big(source, max_output));
        std::size_t have = out.size();
        out.resize(std::min(have + chunk, max_output));
        ZSTD_outBuffer o{out.data() + have, out.size() - have, 0};
        std::size_t before = in.pos;
        last = ZSTD_decompressStream(z.ctx, &o, &in);
        out.resize(have + o.pos);
        if (ZSTD_isError(last)) throw Error(std::string(source) + ": zstd: " + ZSTD_getErrorName(last));
        // No progress with all input consumed and the frame unfinished: truncated.
        if (in.pos == in.size && last != 0 && o.pos == 0 && before == in.pos)
            throw Error(std::string(source) + ": zstd: data is truncated");
    }
}

}  // namespace kipvs::kernel::modules
