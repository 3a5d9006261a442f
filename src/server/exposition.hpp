#pragma once
// The Prometheus text exposition format (version 0.0.4), written by hand:
// kipvs exports a few dozen series, which does not justify a client library.
// Pure: no clock, no I/O, so the exact text is unit-tested and fed to
// `promtool check metrics`.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kipvs::server {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Cumulative buckets as Prometheus wants them; the +Inf bucket is `count`.
class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double value);

    const std::vector<double>& upper_bounds() const { return bounds_; }
    // Observations <= upper_bounds()[i] (cumulative).
    std::uint64_t cumulative(std::size_t i) const;
    std::uint64_t count() const { return count_; }
    double sum() const { return sum_; }

    // start, start*factor, ... (count bounds): client_golang's ExponentialBuckets.
    static std::vector<double> exponential(double start, double factor, std::size_t count);
    // start, start+width, ... (count bounds): LinearBuckets.
    static std::vector<double> linear(double start, double width, std::size_t count);

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> per_bucket_;  // not cumulative: observe() stays O(log n)
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

enum class MetricType { counter, gauge, histogram };

class ExpositionWriter {
public:
    // HELP and TYPE lines; every sample of the family follows before the next.
    void family(std::string_view name, std::string_view help, MetricType type);
    void sample(std::string_view name, const MetricLabels& labels, double value);
    void sample(std::string_view name, const MetricLabels& labels, std::uint64_t value);
    void histogram(std::string_view name, const MetricLabels& labels, const Histogram& h);
    // For one label set written under several families (the ipvs_* rows at
    // 10k services): rendered and escaped once by render_labels().
    static std::string render_labels(const MetricLabels& labels);
    void sample_rendered(std::string_view name, std::string_view rendered_labels, std::uint64_t value);
    void reserve(std::size_t bytes) { out_.reserve(bytes); }

    const std::string& text() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    void series(std::string_view name, const MetricLabels& labels, const std::pair<std::string, std::string>* extra);
    std::string out_;
};

// Shortest text that reads back as the same double; "+Inf", "-Inf", "NaN".
std::string format_value(double value);

}  // namespace kipvs::server
