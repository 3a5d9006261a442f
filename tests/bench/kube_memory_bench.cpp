// Memory of the informer caches at scale: the fake API server serves 10,000
// Services and 1,000 EndpointSlices of 100 endpoints; the Service and
// EndpointSlice informers list and watch them over TLS; the bench prints the
// whole process's RSS and the time to the first sync. Figures only.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "fake_apiserver.hpp"
#include "kube/informer.hpp"
#include "kube/informer_cache.hpp"
#include "log/log.hpp"
#include "test_support.hpp"

using namespace kipvs;

namespace {
long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string key;
    long value = 0;
    while (status >> key) {
        if (key == "VmRSS:") {
            status >> value;
            return value;
        }
        status.ignore(4096, '\n');
    }
    return -1;
}
}  // namespace

int main(int argc, char** argv) {
    int services = argc > 1 ? std::atoi(argv[1]) : 10000;
    int slices = argc > 2 ? std::atoi(argv[2]) : 1000;
    int endpoints = argc > 3 ? std::atoi(argv[3]) : 100;
    log::set_level(std::getenv("KIPVS_BENCH_VERBOSE") ? log::Level::debug : log::Level::warning);
    long before = rss_kib();
    test::FakeApiServer server(test::test_cert_dir());
    server.command(R"({"op": "generate", "services": )" + std::to_string(services) + R"(, "slices": )" +
                   std::to_string(slices) + R"(, "endpoints": )" + std::to_string(endpoints) + "}");
    config::KubeCredentials creds;
    creds.file = "(bench)";
    creds.server = *config::ServerUrl::parse(server.url());
    creds.ca_pem = test::read_file(test::test_cert_dir() + "/ca.crt");

    boost::asio::io_context io;
    kube::InformerCache<model::Service> svc_cache;
    kube::InformerCache<model::EndpointSlice> slice_cache;
    std::optional<kube::Informer> svc_informer, slice_informer;
    svc_informer.emplace(io.get_executor(), creds, kube::ClientOptions{}, svc_cache, kube::services_informer());
    slice_informer.emplace(io.get_executor(), creds, kube::ClientOptions{}, slice_cache,
                           kube::endpoint_slices_informer());
    int done = 0;
    boost::asio::co_spawn(io, svc_informer->run(), [&](std::exception_ptr) { ++done; });
    boost::asio::co_spawn(io, slice_informer->run(), [&](std::exception_ptr) { ++done; });
    auto start = std::chrono::steady_clock::now();
    while (!(svc_cache.synced() && slice_cache.synced())) io.run_for(std::chrono::milliseconds(20));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::size_t eps = 0;
    slice_cache.for_each([&](const std::string&, const model::EndpointSlice& s) { eps += s.endpoints.size(); });
    long after = rss_kib();
    std::printf("informers synced %zu services, %zu slices, %zu endpoints in %.2f s\n", svc_cache.size(),
                slice_cache.size(), eps, seconds);
    std::printf("RSS: %.1f MB whole process (%.1f MB before the informers; target < 50 MB)\n", after / 1024.0,
                before / 1024.0);
    log::debug("stopping the informers");
#if defined(__GLIBC__)
    // How much of that is glibc keeping freed LIST buffers (musl returns them itself).
    malloc_trim(0);
    std::printf("RSS after malloc_trim: %.1f MB\n", rss_kib() / 1024.0);
#endif
    svc_informer->stop();
    slice_informer->stop();
    while (done < 2) io.run_for(std::chrono::milliseconds(20));
    log::debug("informers stopped");
    return 0;
}
