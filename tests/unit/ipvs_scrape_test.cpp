// The /metrics scrape's kernel read on a worker thread: one read in flight,
// later scrapes share it, results come back through the event loop's post.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "server/ipvs_scrape.hpp"

using namespace kipvs;
using namespace kipvs::server;
using namespace std::chrono_literals;

namespace {

// The event loop stand-in: the worker posts here, the test runs them.
class PostQueue {
public:
    void post(std::function<void()> f) {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(f));
        ready_.notify_all();
    }
    // Waits up to 10 s for one posted function and runs it here.
    bool run_one() {
        std::function<void()> f;
        {
            std::unique_lock lock(mutex_);
            if (!ready_.wait_for(lock, 10s, [&] { return !queue_.empty(); })) return false;
            f = std::move(queue_.front());
            queue_.pop_front();
        }
        f();
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
};

VsOwners one_owner() {
    proxy::VsKey key;
    key.address = *model::IpAddress::parse("10.96.0.10");
    key.port = 80;
    return {{key, VsOwner{"shop", "web", "http"}}};
}

}  // namespace

TEST_CASE("scrape worker: a scrape during a read shares it; the next starts another", "[server]") {
    PostQueue loop;
    std::promise<void> release;
    auto released = release.get_future().share();
    std::thread::id reader_thread;
    std::size_t owners_seen = 0;
    ScrapeWorker worker([&loop](std::function<void()> f) { loop.post(std::move(f)); },
                        [&](const VsOwners& owners) {
                            reader_thread = std::this_thread::get_id();
                            owners_seen = owners.size();
                            released.wait();
                            return IpvsScrape{"ipvs_text\n", ""};
                        });
    int owner_calls = 0;
    auto owners = [&] {
        ++owner_calls;
        return one_owner();
    };
    std::vector<std::string> answers;
    worker.scrape(owners, [&](const IpvsScrape& r) { answers.push_back("first " + r.text); });
    worker.scrape(owners, [&](const IpvsScrape& r) { answers.push_back("second " + r.text); });
    CHECK(worker.running());
    CHECK(worker.reads_started() == 1);
    CHECK(owner_calls == 1);  // taken once, when the read starts
    CHECK(answers.empty());   // nothing answers before the read ends

    release.set_value();
    REQUIRE(loop.run_one());
    CHECK(answers == std::vector<std::string>{"first ipvs_text\n", "second ipvs_text\n"});
    CHECK_FALSE(worker.running());
    CHECK(reader_thread != std::this_thread::get_id());
    CHECK(owners_seen == 1);

    worker.scrape(owners, [&](const IpvsScrape& r) { answers.push_back("third " + r.text); });
    CHECK(worker.reads_started() == 2);
    REQUIRE(loop.run_one());
    CHECK(answers.back() == "third ipvs_text\n");
}

TEST_CASE("scrape worker: a reader that throws answers with the problem and empty families", "[server]") {
    PostQueue loop;
    std::vector<std::string> problems;
    ScrapeWorker worker([&loop](std::function<void()> f) { loop.post(std::move(f)); },
                        [](const VsOwners&) -> IpvsScrape { throw std::runtime_error("no netlink today"); },
                        [&](const IpvsScrape& r) { problems.push_back("once: " + r.problem); });
    IpvsScrape got;
    worker.scrape([] { return VsOwners{}; }, [&](const IpvsScrape& r) { got = r; });
    REQUIRE(loop.run_one());
    CHECK(got.problem == "reading IPVS statistics: no netlink today");
    CHECK(got.text.find("# TYPE ipvs_connections_active gauge\n") != std::string::npos);
    CHECK(problems == std::vector<std::string>{"once: reading IPVS statistics: no netlink today"});
}

TEST_CASE("scrape worker: destroyed during a read, it waits and answers nobody", "[server]") {
    PostQueue loop;
    bool answered = false;
    {
        ScrapeWorker worker([&loop](std::function<void()> f) { loop.post(std::move(f)); },
                            [](const VsOwners&) {
                                std::this_thread::sleep_for(50ms);
                                return IpvsScrape{"late\n", ""};
                            });
        worker.scrape([] { return VsOwners{}; }, [&](const IpvsScrape&) { answered = true; });
    }
    // The read finished (the destructor joined) and posted; running it is harmless.
    REQUIRE(loop.run_one());
    CHECK_FALSE(answered);
}
