#pragma once
// Exponential backoff with jitter for the watch client: 1 s doubling to a 30 s
// cap, each delay drawn from [d/2, d] so that many nodes restarting together
// do not hit the API server in step.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

#include <sys/random.h>

namespace kipvs::kube {

// A seed for jitter from getrandom(2): unlike std::random_device (libc++
// opens /dev/urandom) it needs no device file, so kipvs runs in a minimal
// image without /dev too. Jitter needs no cryptographic strength: the time
// is the fallback.
inline std::uint32_t jitter_seed() {
    std::uint32_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof seed))
        seed = static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return seed;
}

class Backoff {
public:
    using Duration = std::chrono::milliseconds;
    Backoff(Duration initial = std::chrono::seconds(1), Duration cap = std::chrono::seconds(30))
        : initial_(initial), cap_(cap), next_(initial), rng_(jitter_seed()) {}

    Duration next() {
        Duration d = next_;
        next_ = std::min(cap_, next_ * 2);
        std::uniform_int_distribution<std::int64_t> dist(d.count() / 2, d.count());
        return Duration(dist(rng_));
    }
    void reset() { next_ = initial_; }
    Duration current() const { return next_; }

private:
    Duration initial_;
    Duration cap_;
    Duration next_;
    std::minstd_rand rng_;
};

}  // namespace kipvs::kube
