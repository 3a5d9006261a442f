#include "server/exposition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kipvs::server {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), per_bucket_(bounds_.size() + 1, 0) {
    std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double value) {
    // The first bucket whose upper bound is >= value ("le" is inclusive).
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++per_bucket_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += value;
}

std::uint64_t Histogram::cumulative(std::size_t i) const {
    std::uint64_t total = 0;
    for (std::size_t b = 0; b <= i && b < per_bucket_.size(); ++b) total += per_bucket_[b];
    return total;
}

std::vector<double> Histogram::exponential(double start, double factor, std::size_t count) {
    std::vector<double> out;
    double v = start;
    for (std::size_t i = 0; i < count; ++i, v *= factor) out.push_back(v);
    return out;
}

std::vector<double> Histogram::linear(double start, double width, std::size_t count) {
    std::vector<double> out;
    for (std::size_t i = 0; i < count; ++i) out.push_back(start + width * static_cast<double>(i));
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    if (ec != std::errc()) return "NaN";
    return std::string(buf, end);
}

namespace {

// Label values escape backslash, double quote and newline; HELP text
// escapes backslash and newline (the format's two rules).
void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (quote && c == '"') out += "\\\"";
        else out += c;
    }
}

}  // namespace

void ExpositionWriter::family(std::string_view name, std::string_view help, MetricType type) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_escaped(out_, help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += type == MetricType::counter ? " counter\n" : type == MetricType::gauge ? " gauge\n" : " histogram\n";
}

void ExpositionWriter::series(std::string_view name, const MetricLabels& labels,
                              const std::pair<std::string, std::string>* extra) {
    out_ += name;
    if (labels.empty() && extra == nullptr) return;
    out_ += '{';
    bool first = true;
    auto one = [&](const std::pair<std::string, std::string>& l) {
        if (!first) out_ += ',';
        first = false;
        out_ += l.first;
        out_ += "=\"";
        append_escaped(out_, l.second, true);
        out_ += '"';
    };
    for (const auto& l : labels) one(l);
    if (extra != nullptr) one(*extra);
    out_ += '}';
}

void ExpositionWriter::sample(std::string_view name, const MetricLabels& labels, double value) {
    series(name, labels, nullptr);
    out_ += ' ';
    out_ += format_value(value);
    out_ += '\n';
}

void ExpositionWriter::sample(std::string_view name, const MetricLabels& labels, std::uint64_t value) {
    // Integers as integers: a double would round counters above 2^53.
    series(name, labels, nullptr);
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
}

std::string ExpositionWriter::render_labels(const MetricLabels& labels) {
    ExpositionWriter w;
    w.series("", labels, nullptr);
    return w.take();
}

void ExpositionWriter::sample_rendered(std::string_view name, std::string_view rendered_labels, std::uint64_t value) {
    out_ += name;
    out_ += rendered_labels;
    out_ += ' ';
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, ec == std::errc() ? end : buf);
    out_ += '\n';
}

void ExpositionWriter::histogram(std::string_view name, const MetricLabels& labels, const Histogram& h) {
    std::string bucket = std::string(name) + "_bucket";
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < h.upper_bounds().size(); ++i) {
        running = h.cumulative(i);
        std::pair<std::string, std::string> le{"le", format_value(h.upper_bounds()[i])};
        series(bucket, labels, &le);
        out_ += ' ';
        out_ += std::to_string(running);
        out_ += '\n';
    }
    std::pair<std::string, std::string> inf{"le", "+Inf"};
    series(bucket, labels, &inf);
    out_ += ' ';
    out_ += std::to_string(h.count());
    out_ += '\n';
    sample(std::string(name) + "_sum", labels, h.sum());
    sample(std::string(name) + "_count", labels, h.count());
}

}  // namespace kipvs::server
