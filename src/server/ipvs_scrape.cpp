#include "server/ipvs_scrape.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "error.hpp"
#include "kernel/ipvs_netlink.hpp"
#include "kernel/unique_fd.hpp"

namespace kipvs::server {
namespace {

// /proc files report no size: read in large chunks. Returns an errno, 0 when whole.
int read_proc(const std::string& path, std::string& out) {
    kernel::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno;
    std::vector<char> buf(1 << 16);
    for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
}

std::string families_text(const std::vector<IpvsServiceRow>& rows) {
    ExpositionWriter out;
    write_ipvs_metrics(out, rows);
    return out.take();
}

}  // namespace

IpvsScrape scrape_ipvs(kernel::IpvsKernel& ipvs, const std::string& proc_ip_vs, const VsOwners& owners) {
    IpvsScrape out;
    std::vector<IpvsServiceRow> rows;
    try {
        std::vector<kernel::VirtualServer> services = ipvs.services();
        std::map<proxy::VsKey, std::uint64_t> active;
        std::string text;
        if (int err = read_proc(proc_ip_vs, text); err == 0) {
            active = parse_proc_ip_vs(text);
        } else {
            out.problem = "reading " + proc_ip_vs + ": " + std::strerror(err) + "; ipvs_connections_active reads 0";
        }
        rows = ipvs_rows(services, active, owners);
    } catch (const Error& e) {
        out.problem = std::string("IPVS service dump: ") + e.what();
    }
    out.text = families_text(rows);
    return out;
}

IpvsReader kernel_ipvs_reader(std::string proc_ip_vs) {
    return [proc_ip_vs = std::move(proc_ip_vs)](const VsOwners& owners) {
        try {
            kernel::IpvsNetlink ipvs;
            return scrape_ipvs(ipvs, proc_ip_vs, owners);
        } catch (const Error& e) {
            IpvsScrape out;
            out.problem = std::string("IPVS netlink socket: ") + e.what();
            out.text = families_text({});
            return out;
        }
    };
}

// `running`, `waiters` and `alive` belong to the event loop's thread; the
// worker reads only the constant `post` and `reader`.
struct ScrapeWorker::Shared {
    Post post;
    IpvsReader reader;
    Done on_result;
    std::vector<Done> waiters;
    bool running = false;
    bool alive = true;
    std::size_t started = 0;
};

ScrapeWorker::ScrapeWorker(Post post, IpvsReader reader, Done on_result) : shared_(std::make_shared<Shared>()) {
    shared_->post = std::move(post);
    shared_->reader = std::move(reader);
    shared_->on_result = std::move(on_result);
}

ScrapeWorker::~ScrapeWorker() {
    shared_->alive = false;
    if (thread_.joinable()) thread_.join();
    // What the posted result would call may refer to objects going away
    // with this one (connections, timers): drop it here, on this thread.
    shared_->waiters.clear();
    shared_->on_result = nullptr;
}

bool ScrapeWorker::running() const { return shared_->running; }
std::size_t ScrapeWorker::reads_started() const { return shared_->started; }

void ScrapeWorker::scrape(const std::function<VsOwners()>& owners, Done done) {
    if (!shared_->running) {
        // The previous worker has posted its result and is ending.
        if (thread_.joinable()) thread_.join();
        thread_ = std::thread([shared = shared_, owned = owners()] {
            IpvsScrape result;
            try {
                result = shared->reader(owned);
            } catch (const std::exception& e) {
                result.problem = std::string("reading IPVS statistics: ") + e.what();
                result.text = families_text({});
            }
            shared->post([shared, result = std::move(result)] {
                if (!shared->alive) return;
                shared->running = false;
                auto waiters = std::move(shared->waiters);
                shared->waiters.clear();
                if (shared->on_result) shared->on_result(result);
                for (const auto& w : waiters) w(result);
            });
        });
        shared_->running = true;
        ++shared_->started;
    }
    shared_->waiters.push_back(std::move(done));
}

}  // namespace kipvs::server
