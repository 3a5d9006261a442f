#pragma once
// The typed cache of one informer: model values keyed by namespace/name,
// updated from LIST pages and WATCH lines, and the notifications consumers
// get. A relist is diffed against the cache, so consumers see only what
// really changed; an object that does not decode keeps its previous version.
// A consumer that keeps the objects itself (kipvs run's object store) asks
// for Retain::versions: the cache then holds each key's resourceVersion
// only, and a relist notifies the objects whose resourceVersion moved.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "kube/decode.hpp"
#include "kube/resource_sink.hpp"
#include "log/log.hpp"

namespace kipvs::kube {

inline model::Service decode(const boost::json::value& v, const model::Service*) { return decode_service(v); }
inline model::EndpointSlice decode(const boost::json::value& v, const model::EndpointSlice*) { return decode_endpoint_slice(v); }
inline model::Node decode(const boost::json::value& v, const model::Node*) { return decode_node(v); }

enum class ChangeKind { added, updated, deleted };

// What the cache keeps of each object.
enum class Retain { objects, versions };

template <class T>
struct Handlers {
    // key is "namespace/name" (or "name"); old is null for added, and always
    // under Retain::versions; current is null for deleted.
    std::function<void(ChangeKind, const std::string& key, const T* old, const T* current)> on_change;
    std::function<void()> on_synced;  // once, after the first complete LIST
};

template <class T>
class InformerCache final : public ResourceSink {
public:
    explicit InformerCache(Handlers<T> handlers = {}, Retain retain = Retain::objects)
        : handlers_(std::move(handlers)), retain_(retain) {}

    void begin_list() override {
        listed_.clear();
        listed_keys_.clear();
        ++list_;
    }

    std::string list_page(std::string_view body) override {
        boost::json::value list = parse(body, "list");
        const auto* root = list.if_object();
        if (root == nullptr) throw StreamError("list response is not a JSON object");
        ++stats_.list_pages;
        std::string cont;
        if (auto it = root->find("metadata"); it != root->end() && it->value().is_object()) {
            const auto& m = it->value().get_object();
            if (auto rv = m.find("resourceVersion"); rv != m.end() && rv->value().is_string())
                pending_rv_ = std::string(rv->value().get_string());
            if (auto c = m.find("continue"); c != m.end() && c->value().is_string())
                cont = std::string(c->value().get_string());
        }
        auto items = root->find("items");
        if (items != root->end() && !items->value().is_null()) {
            if (!items->value().is_array()) throw StreamError("list response: items is not an array");
            for (const auto& item : items->value().get_array()) {
                auto key = object_key(item);
                if (!key) {
                    ++stats_.decode_errors;
                    log::warning("list item without metadata.name skipped");
                    continue;
                }
                std::string k = key->to_string();
                // Under Retain::versions the mark is kept in versions_: a
                // set of 10,000 keys next to it would be built and freed
                // between the objects the first LIST stores, leaving holes.
                if (retain_ == Retain::versions) {
                    if (auto v = versions_.find(k); v != versions_.end()) v->second.list = list_;
                } else {
                    listed_keys_.insert(k);
                }
                try {
                    if (retain_ == Retain::versions) {
                        // Applied at once: no second copy of the list is held.
                        upsert_version(k, kube::resource_version(item), item);
                        continue;
                    }
                    listed_.insert_or_assign(k, decode(item, static_cast<const T*>(nullptr)));
                } catch (const DecodeError& e) {
                    ++stats_.decode_errors;
                    log::warning(std::string(e.what()) + " (kept the previous version)");
                }
            }
        }
        return cont;
    }

    void end_list() override {
        for (auto& [key, value] : listed_) upsert(key, std::move(value));
        for (auto it = objects_.begin(); it != objects_.end();) {
            if (listed_keys_.count(it->first) == 0) {
                std::string key = it->first;
                T old = std::move(it->second);
                it = objects_.erase(it);
                notify(ChangeKind::deleted, key, &old, nullptr);
            } else {
                ++it;
            }
        }
        for (auto it = versions_.begin(); it != versions_.end();) {
            if (it->second.list != list_) {
                std::string key = it->first;
                it = versions_.erase(it);
                notify(ChangeKind::deleted, key, nullptr, nullptr);
            } else {
                ++it;
            }
        }
        listed_.clear();
        listed_keys_.clear();
        resource_version_ = pending_rv_;
        if (!synced_) {
            synced_ = true;
            if (handlers_.on_synced) handlers_.on_synced();
        }
    }

    void watch_line(std::string_view line) override {
        boost::json::value event = parse(line, "watch event");
        const auto* root = event.if_object();
        if (root == nullptr) throw StreamError("watch event is not a JSON object");
        auto type_it = root->find("type");
        auto object_it = root->find("object");
        if (type_it == root->end() || !type_it->value().is_string() || object_it == root->end())
            throw StreamError("watch event without type or object");
        std::string_view type = type_it->value().get_string();
        const boost::json::value& object = object_it->value();
        ++stats_.events;
        if (type == "ERROR") {
            const auto* status = object.if_object();
            std::int64_t code = 0;
            std::string message;
            if (status != nullptr) {
                if (auto c = status->find("code"); c != status->end() && c->value().is_int64()) code = c->value().get_int64();
                if (auto m = status->find("message"); m != status->end() && m->value().is_string())
                    message = std::string(m->value().get_string());
            }
            if (code == 410) throw GoneError("watch: " + message);
            throw StreamError("watch ERROR event " + std::to_string(code) + ": " + message);
        }
        std::string rv = kube::resource_version(object);
        if (type == "BOOKMARK") {
            ++stats_.bookmarks;
            if (!rv.empty()) resource_version_ = rv;
            return;
        }
        auto key = object_key(object);
        if (!key) throw StreamError("watch " + std::string(type) + " event without metadata.name");
        std::string k = key->to_string();
        if (type == "DELETED") {
            // Deleted by key even when the final state does not decode.
            if (auto it = objects_.find(k); it != objects_.end()) {
                T old = std::move(it->second);
                objects_.erase(it);
                notify(ChangeKind::deleted, k, &old, nullptr);
            }
            if (versions_.erase(k) > 0) notify(ChangeKind::deleted, k, nullptr, nullptr);
        } else if (type == "ADDED" || type == "MODIFIED") {
            try {
                if (retain_ == Retain::versions)
                    upsert_version(k, rv, object);
                else
                    upsert(k, decode(object, static_cast<const T*>(nullptr)));
            } catch (const DecodeError& e) {
                ++stats_.decode_errors;
                log::warning(std::string(e.what()) + " (kept the previous version)");
            }
        } else {
            throw StreamError("watch event of unknown type \"" + std::string(type.substr(0, 32)) + "\"");
        }
        if (!rv.empty()) resource_version_ = std::move(rv);
    }

    const std::string& resource_version() const override { return resource_version_; }
    InformerStats& stats() override { return stats_; }
    bool synced() const { return synced_; }

    const T* find(const std::string& key) const {
        auto it = objects_.find(key);
        return it == objects_.end() ? nullptr : &it->second;
    }
    std::size_t size() const { return retain_ == Retain::versions ? versions_.size() : objects_.size(); }
    // Sorted, for comparisons in tests and for dumps.
    std::map<std::string, T> snapshot() const { return {objects_.begin(), objects_.end()}; }
    template <class F>
    void for_each(F&& f) const {
        for (const auto& [k, v] : objects_) f(k, v);
    }

private:
    static boost::json::value parse(std::string_view text, const char* what) {
        boost::system::error_code ec;
        // One arena per document, released at once: a LIST page's DOM is
        // thousands of small nodes that would otherwise fragment the heap.
        boost::json::value v = boost::json::parse(text, ec, boost::json::make_shared_resource<boost::json::monotonic_resource>());
        if (ec) throw StreamError(std::string("malformed ") + what + ": " + ec.message());
        return v;
    }

    void upsert(const std::string& key, T value) {
        auto it = objects_.find(key);
        if (it == objects_.end()) {
            auto [pos, ok] = objects_.emplace(key, std::move(value));
            notify(ChangeKind::added, key, nullptr, &pos->second);
        } else if (!(it->second == value)) {
            T old = std::exchange(it->second, std::move(value));
            notify(ChangeKind::updated, key, &old, &it->second);
        }
    }

    // Retain::versions: an object whose resourceVersion did not move is
    // unchanged (the API server moves it on every write); one without a
    // resourceVersion is always passed on, and the consumer compares.
    void upsert_version(const std::string& key, std::string rv, const boost::json::value& object) {
        auto it = versions_.find(key);
        if (it != versions_.end() && !rv.empty() && it->second.rv == rv) return;
        T value = decode(object, static_cast<const T*>(nullptr));  // throws before anything changes
        bool added = it == versions_.end();
        if (added)
            versions_.emplace(key, Version{std::move(rv), list_});
        else
            it->second.rv = std::move(rv);
        notify(added ? ChangeKind::added : ChangeKind::updated, key, nullptr, &value);
    }

    void notify(ChangeKind kind, const std::string& key, const T* old, const T* current) {
        ++stats_.notifications;
        if (handlers_.on_change) handlers_.on_change(kind, key, old, current);
    }

    Handlers<T> handlers_;
    Retain retain_;
    std::unordered_map<std::string, T> objects_;
    struct Version {
        std::string rv;
        std::uint64_t list = 0;  // the LIST (list_) that last named it, or was running when it came
    };
    std::unordered_map<std::string, Version> versions_;  // Retain::versions
    std::uint64_t list_ = 0;                             // LISTs begun
    std::unordered_map<std::string, T> listed_;
    std::unordered_set<std::string> listed_keys_;
    std::string resource_version_;
    std::string pending_rv_;
    bool synced_ = false;
    InformerStats stats_;
};

}  // namespace kipvs::kube
