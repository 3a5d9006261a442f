#pragma once
// The /metrics scrape's kernel part (the IPVS service dump and
// /proc/net/ip_vs) runs on a worker thread: at 10k services it takes
// seconds, mostly the kernel writing /proc/net/ip_vs, and the event loop
// must keep syncing, watching and answering health checks meanwhile. One
// read is in flight at a time; a scrape arriving during it shares its result.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "kernel/ipvs.hpp"
#include "server/ipvs_stats.hpp"

namespace kipvs::server {

using VsOwners = std::map<proxy::VsKey, VsOwner>;

struct IpvsScrape {
    std::string text;     // the ipvs_* families, always present (empty families on failure)
    std::string problem;  // why rows or active counts are missing; "" when whole
};

// One reading of the kernel through `ipvs` and `proc_ip_vs`, named after
// `owners`. A failed read leaves rows out and says why.
IpvsScrape scrape_ipvs(kernel::IpvsKernel& ipvs, const std::string& proc_ip_vs, const VsOwners& owners);

// Runs on the worker thread: it may touch nothing the event loop uses.
using IpvsReader = std::function<IpvsScrape(const VsOwners& owners)>;

// The real reader: a netlink socket of its own for each scrape, so the
// daemon's long-lived IPVS socket never crosses threads.
IpvsReader kernel_ipvs_reader(std::string proc_ip_vs = "/proc/net/ip_vs");

class ScrapeWorker {
public:
    // Runs a function on the event loop's thread (asio::post); called from the worker.
    using Post = std::function<void(std::function<void()>)>;
    using Done = std::function<void(const IpvsScrape&)>;

    // `on_result` sees each finished read once, before its waiters.
    ScrapeWorker(Post post, IpvsReader reader, Done on_result = {});
    // Waits for a read in flight; its waiters are dropped unanswered.
    ~ScrapeWorker();
    ScrapeWorker(const ScrapeWorker&) = delete;
    ScrapeWorker& operator=(const ScrapeWorker&) = delete;

    // On the event loop: starts a read with owners() (called only then) or
    // joins the one in flight; `done` runs on the loop with its result.
    void scrape(const std::function<VsOwners()>& owners, Done done);

    bool running() const;
    std::size_t reads_started() const;

    struct Shared;

private:
    std::shared_ptr<Shared> shared_;
    std::thread thread_;
};

}  // namespace kipvs::server
