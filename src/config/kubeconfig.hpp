#pragma once
// Kubeconfig files (as kubectl and k3s write them) → the credentials the
// watch client needs. Certificates, keys and tokens are read and checked here,
// so a broken kubeconfig is reported by `kipvs check` naming file and field,
// not discovered later as a failed TLS handshake.
#include <optional>
#include <string>
#include <vector>

namespace kipvs::config {

struct Config;

struct ServerUrl {
    std::string scheme;  // "https" (or "http" when explicitly allowed)
    std::string host;    // a name or an IP, without brackets
    std::string port;    // "443" when absent
    std::string path;    // a base path prefix, "" for none

    static std::optional<ServerUrl> parse(const std::string& text);
    std::string to_string() const;
};

struct KubeCredentials {
    std::string file;  // the kubeconfig read
    std::string context;
    std::string cluster;
    std::string user;

    ServerUrl server;
    std::string ca_pem;  // empty: the system trust store
    bool insecure_skip_tls_verify = false;
    std::string tls_server_name;

    std::string client_cert_pem;
    std::string client_key_pem;
    std::string token;       // a static bearer token
    std::string token_file;  // re-read when it changes (rotating projected tokens)

    // "client certificate", "bearer token", "token file /path", "none"
    std::string auth_summary() const;
};

// Throws ConfigError naming the file, line:column and field.
KubeCredentials load_kubeconfig(const std::string& path, const std::string& context_override = "",
                                bool allow_plain_http = false);

// The same, from text already read; `path` names it and anchors relative paths.
KubeCredentials parse_kubeconfig(std::string_view text, const std::string& path,
                                 const std::string& context_override = "", bool allow_plain_http = false);

struct KubeconfigLocation {
    std::string path;
    std::string reason;  // how it was chosen, e.g. "clientConnection.kubeconfig"
};

// The kubeconfig kipvs uses: the configured one, else the first that exists of
// $KUBECONFIG, k3s's kube-proxy credentials, /etc/kipvs/kubeconfig, k3s's
// admin kubeconfig and ~/.kube/config. `searched` lists every place looked at.
std::optional<KubeconfigLocation> locate_kubeconfig(const Config& config, std::vector<std::string>& searched);

// Strict base64 (standard alphabet, padding optional, whitespace skipped).
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace kipvs::config
