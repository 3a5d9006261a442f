#include "config/kubeconfig.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "config/config.hpp"
#include "config/yaml_tree.hpp"
#include "error.hpp"

namespace kipvs::config {

std::optional<ServerUrl> ServerUrl::parse(const std::string& text) {
    ServerUrl url;
    auto sep = text.find("://");
    if (sep == std::string::npos) return std::nullopt;
    url.scheme = text.substr(0, sep);
    if (url.scheme != "https" && url.scheme != "http") return std::nullopt;
    std::string rest = text.substr(sep + 3);
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    if (slash != std::string::npos) url.path = rest.substr(slash);
    while (!url.path.empty() && url.path.back() == '/') url.path.pop_back();
    if (authority.empty() || authority.find('@') != std::string::npos) return std::nullopt;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string::npos) return std::nullopt;
        url.host = authority.substr(1, close - 1);
        std::string after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            url.port = after.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        url.host = authority.substr(0, colon);
        if (colon != std::string::npos) url.port = authority.substr(colon + 1);
    }
    if (url.host.empty()) return std::nullopt;
    if (url.port.empty()) url.port = url.scheme == "https" ? "443" : "80";
    if (url.port.size() > 5 || url.port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    if (std::stoul(url.port) == 0 || std::stoul(url.port) > 65535) return std::nullopt;
    return url;
}

std::string ServerUrl::to_string() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return scheme + "://" + h + ":" + port + path;
}

std::string KubeCredentials::auth_summary() const {
    if (!client_cert_pem.empty()) return "client certificate";
    if (!token_file.empty()) return "token file " + token_file;
    if (!token.empty()) return "bearer token";
    return "none";
}

std::optional<std::string> decode_base64(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    unsigned buffer = 0;
    int bits = 0, padding = 0, symbols = 0;
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        int v = value(c);
        if (v < 0 || padding > 0) return std::nullopt;
        ++symbols;
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    if (symbols % 4 == 1 || padding > 2) return std::nullopt;
    if (padding > 0 && (symbols + padding) % 4 != 0) return std::nullopt;
    return out;
}

namespace {

struct Source {
    std::string file;
    std::string base_dir;
};

[[noreturn]] void refuse(const Source& src, const yaml::Node& at, const std::string& field, const std::string& problem) {
    throw ConfigError(yaml::where(src.file, at.mark) + ": " + field + ": " + problem);
}

std::string slurp(const std::string& path, bool& ok) {
    std::ifstream in(path, std::ios::binary);
    ok = static_cast<bool>(in);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string resolve(const Source& src, const std::string& path) {
    if (path.empty() || path.front() == '/') return path;
    return src.base_dir + "/" + path;
}

std::string scalar_at(const Source& src, const yaml::Node& parent, const std::string& parent_path, const char* key) {
    const yaml::Node* n = parent.find(key);
    if (!n || n->is_null()) return "";
    if (n->kind != yaml::Node::Kind::scalar)
        refuse(src, *n, parent_path + "." + key, "expected a string, found " + std::string(n->kind_name()));
    return n->value;
}

std::string openssl_reason() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "no PEM block found";
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    return buf;
}

std::string found_key_name(const yaml::Node* value, const yaml::Node& parent) {
    for (const auto& [k, v] : parent.entries)
        if (&v == value) return k.value;
    return "?";
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

BioPtr bio_of(const std::string& pem) {
    return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

// At least one certificate, and every PEM block a certificate.
std::optional<std::string> check_certificates(const std::string& pem) {
    auto bio = bio_of(pem);
    int count = 0;
    for (;;) {
        X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (!cert) break;
        X509_free(cert);
        ++count;
    }
    unsigned long err = ERR_peek_last_error();
    bool clean_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
    if (count == 0) return "not a PEM certificate (" + openssl_reason() + ")";
    if (!clean_end && err != 0) return "a PEM block is not a valid certificate (" + openssl_reason() + ")";
    ERR_clear_error();
    return std::nullopt;
}

std::optional<std::string> check_key_pair(const std::string& cert_pem, const std::string& key_pem) {
    auto key_bio = bio_of(key_pem);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
    if (!key) return "not a PEM private key (" + openssl_reason() + ")";
    auto cert_bio = bio_of(cert_pem);
    X509* cert = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
    std::optional<std::string> problem;
    if (cert && X509_check_private_key(cert, key) != 1) problem = "does not match the client certificate";
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return problem;
}

// A PEM value from either "<name>-data" (base64, embedded) or "<name>" (a file).
std::string pem_from(const Source& src, const yaml::Node& parent, const std::string& parent_path,
                     const std::string& name, const yaml::Node*& where_found) {
    std::string data_key = name + "-data";
    std::string data = scalar_at(src, parent, parent_path, data_key.c_str());
    std::string file = scalar_at(src, parent, parent_path, name.c_str());
    if (!data.empty()) {
        where_found = parent.find(data_key);
        auto decoded = decode_base64(data);
        if (!decoded) refuse(src, *where_found, parent_path + "." + data_key, "not valid base64");
        return *decoded;
    }
    if (!file.empty()) {
        where_found = parent.find(name);
        std::string path = resolve(src, file);
        bool ok = false;
        std::string content = slurp(path, ok);
        if (!ok) refuse(src, *where_found, parent_path + "." + name, "cannot read " + path + ": " + std::strerror(errno));
        return content;
    }
    where_found = nullptr;
    return "";
}

const yaml::Node* named_entry(const Source& src, const yaml::Node& root, const char* list, const std::string& name,
                              const char* inner, std::string& path_out) {
    const yaml::Node* items = root.find(list);
    if (!items || items->is_null()) return nullptr;
    if (items->kind != yaml::Node::Kind::sequence)
        refuse(src, *items, list, "expected a list, found " + std::string(items->kind_name()));
    for (std::size_t i = 0; i < items->items.size(); ++i) {
        const yaml::Node& item = items->items[i];
        if (item.kind != yaml::Node::Kind::mapping) continue;
        const yaml::Node* n = item.find("name");
        if (n && n->kind == yaml::Node::Kind::scalar && n->value == name) {
            path_out = std::string(list) + "[" + name + "]." + inner;
            const yaml::Node* body = item.find(inner);
            if (!body || body->kind != yaml::Node::Kind::mapping)
                refuse(src, body ? *body : item, path_out, "missing or not a mapping");
            return body;
        }
    }
    return nullptr;
}

}  // namespace

KubeCredentials load_kubeconfig(const std::string& path, const std::string& context_override, bool allow_plain_http) {
    bool ok = false;
    std::string text = slurp(path, ok);
    if (!ok) throw ConfigError(path + ": cannot read kubeconfig: " + std::strerror(errno));
    return parse_kubeconfig(text, path, context_override, allow_plain_http);
}

KubeCredentials parse_kubeconfig(std::string_view text, const std::string& path, const std::string& context_override,
                                 bool allow_plain_http) {
    auto docs = yaml::parse_documents(text, path);
    if (docs.empty() || docs.front().kind != yaml::Node::Kind::mapping)
        throw ConfigError(path + ": not a kubeconfig (expected a mapping with clusters, users and contexts)");
    const yaml::Node& root = docs.front();
    auto slash = path.rfind('/');
    Source src{path, slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash))};

    KubeCredentials creds;
    creds.file = path;
    creds.context = context_override.empty() ? scalar_at(src, root, "(kubeconfig)", "current-context") : context_override;
    if (creds.context.empty())
        throw ConfigError(path + ": current-context is not set (set it, or choose one with kipvs.context / --context)");

    std::string context_path;
    const yaml::Node* context = named_entry(src, root, "contexts", creds.context, "context", context_path);
    if (!context)
        throw ConfigError(path + ": context \"" + creds.context + "\" is not defined in contexts" +
                          (context_override.empty() ? " (named by current-context)" : ""));
    creds.cluster = scalar_at(src, *context, context_path, "cluster");
    creds.user = scalar_at(src, *context, context_path, "user");
    if (creds.cluster.empty()) refuse(src, *context, context_path + ".cluster", "missing");

    std::string cluster_path;
    const yaml::Node* cluster = named_entry(src, root, "clusters", creds.cluster, "cluster", cluster_path);
    if (!cluster)
        refuse(src, *context->find("cluster"), context_path + ".cluster",
               "cluster \"" + creds.cluster + "\" is not defined in clusters");

    std::string server = scalar_at(src, *cluster, cluster_path, "server");
    if (server.empty()) refuse(src, *cluster, cluster_path + ".server", "missing");
    auto url = ServerUrl::parse(server);
    const yaml::Node& server_node = *cluster->find("server");
    if (!url) refuse(src, server_node, cluster_path + ".server", "\"" + server + "\" is not an https:// URL");
    if (url->scheme == "http" && !allow_plain_http)
        refuse(src, server_node, cluster_path + ".server",
               "plain http is refused; use https, or set kipvs.allowPlainHTTP: true to allow it explicitly");
    creds.server = *url;

    const yaml::Node* found = nullptr;
    creds.ca_pem = pem_from(src, *cluster, cluster_path, "certificate-authority", found);
    if (found) {
        if (auto problem = check_certificates(creds.ca_pem))
            refuse(src, *found, cluster_path + "." + found_key_name(found, *cluster), *problem);
    }
    std::string skip = scalar_at(src, *cluster, cluster_path, "insecure-skip-tls-verify");
    creds.insecure_skip_tls_verify = skip == "true";
    if (!skip.empty() && skip != "true" && skip != "false")
        refuse(src, *cluster->find("insecure-skip-tls-verify"), cluster_path + ".insecure-skip-tls-verify",
               "expected true or false");
    creds.tls_server_name = scalar_at(src, *cluster, cluster_path, "tls-server-name");

    if (!creds.user.empty()) {
        std::string user_path;
        const yaml::Node* user = named_entry(src, root, "users", creds.user, "user", user_path);
        if (!user)
            refuse(src, *context->find("user"), context_path + ".user",
                   "user \"" + creds.user + "\" is not defined in users");
        for (const char* unsupported : {"exec", "auth-provider"}) {
            if (const yaml::Node* n = user->find(unsupported); n && !n->is_null())
                refuse(src, *n, user_path + "." + unsupported,
                       std::string(unsupported) +
                           " credential plugins are not supported by kipvs; use a client certificate or a token");
        }
        if (const yaml::Node* n = user->find("username"); n && !n->is_null())
            refuse(src, *n, user_path + ".username", "basic authentication is not supported; use a client certificate or a token");
        const yaml::Node* cert_at = nullptr;
        const yaml::Node* key_at = nullptr;
        creds.client_cert_pem = pem_from(src, *user, user_path, "client-certificate", cert_at);
        creds.client_key_pem = pem_from(src, *user, user_path, "client-key", key_at);
        if (cert_at && !key_at) refuse(src, *cert_at, user_path, "client-certificate given without client-key");
        if (key_at && !cert_at) refuse(src, *key_at, user_path, "client-key given without client-certificate");
        if (cert_at) {
            if (auto problem = check_certificates(creds.client_cert_pem))
                refuse(src, *cert_at, user_path + "." + found_key_name(cert_at, *user), *problem);
            if (auto problem = check_key_pair(creds.client_cert_pem, creds.client_key_pem))
                refuse(src, *key_at, user_path + "." + found_key_name(key_at, *user), *problem);
        }
        creds.token = scalar_at(src, *user, user_path, "token");
        std::string token_file = scalar_at(src, *user, user_path, "tokenFile");
        if (!token_file.empty()) {
            creds.token_file = resolve(src, token_file);
            bool readable = false;
            std::string token = slurp(creds.token_file, readable);
            if (!readable)
                refuse(src, *user->find("tokenFile"), user_path + ".tokenFile",
                       "cannot read " + creds.token_file + ": " + std::strerror(errno));
            if (token.find_first_not_of(" \n\r\t") == std::string::npos)
                refuse(src, *user->find("tokenFile"), user_path + ".tokenFile", creds.token_file + " is empty");
        }
    }
    return creds;
}

std::optional<KubeconfigLocation> locate_kubeconfig(const Config& config, std::vector<std::string>& searched) {
    if (!config.kubeconfig.empty()) {
        searched.push_back(config.kubeconfig);
        return KubeconfigLocation{config.kubeconfig, "clientConnection.kubeconfig"};
    }
    std::vector<KubeconfigLocation> candidates;
    if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
        std::stringstream list(env);
        for (std::string p; std::getline(list, p, ':');)
            if (!p.empty()) candidates.push_back({p, "$KUBECONFIG"});
    }
    candidates.push_back({"/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig", "k3s's kube-proxy credentials"});
    candidates.push_back({"/etc/kipvs/kubeconfig", "kipvs's kubeconfig"});
    candidates.push_back({"/etc/rancher/k3s/k3s.yaml", "k3s's admin kubeconfig"});
    if (const char* home = std::getenv("HOME"); home && *home)
        candidates.push_back({std::string(home) + "/.kube/config", "~/.kube/config"});
    for (const auto& c : candidates) {
        searched.push_back(c.path);
        if (access(c.path.c_str(), F_OK) == 0) return c;
    }
    return std::nullopt;
}

}  // namespace kipvs::config
