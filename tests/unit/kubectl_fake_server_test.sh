#!/usr/bin/env bash
# The real kubectl against the fake API server (tests/unit/fake_apiserver.py)
# over verified TLS: if kubectl believes it (discovery, server-side tables,
# namespaced reads, a streamed watch the server ends, mutual TLS), the fake is
# close enough to a real API server for the watch client's tests to mean
# something.
# Usage: kubectl_fake_server_test.sh   (KIPVS_SOURCE_DIR: the source tree)
set -uo pipefail
src=${KIPVS_SOURCE_DIR:?}
if ! command -v kubectl >/dev/null; then
    echo "kubectl not installed: skipping the kubectl checks"
    exit 77
fi
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fails=0
ok() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
# kubectl's discovery cache goes under HOME: a fresh one, so discovery is asked for every time.
export HOME=$work/home
unset KUBECONFIG
sh "$src/tests/unit/make_test_certs.sh" "$work"

# start_server NAME [CLIENT_CA]: a fake on fd 3 (commands) / 4 (answers); sets $port.
start_server() {
    mkfifo "$work/$1.in" "$work/$1.out"
    python3 "$src/tests/unit/fake_apiserver.py" "$work/server.crt" "$work/server.key" ${2:+"$2"} \
        <"$work/$1.in" >"$work/$1.out" &
    pids+=($!)
    exec 3>"$work/$1.in" 4<"$work/$1.out"
    local first
    read -r first <&4
    port=$(printf '%s' "$first" | tr -dc '0-9')
}
send() { printf '%s\n' "$1" >&3; read -r _ <&4; }
# kubeconfig FILE PORT: a kubeconfig that trusts the test CA; its user is set by the caller.
kubeconfig() {
    kubectl config set-cluster fake --server="https://127.0.0.1:$2" --certificate-authority="$work/ca.crt" \
        --kubeconfig="$1" >/dev/null
    kubectl config set-context fake --cluster=fake --user=proxy --kubeconfig="$1" >/dev/null
    kubectl config use-context fake --kubeconfig="$1" >/dev/null
}
k() { timeout 20 kubectl --kubeconfig "$work/kc" --request-timeout=10s "$@"; }
# expect DESCRIPTION REGEX FILE
expect() {
    if grep -Eq -- "$2" "$3"; then ok "$1"; else fail "$1: no /$2/ in:"; sed 's/^/    /' "$3"; fi
}

start_server plain
kubeconfig "$work/kc" "$port"
kubectl config set-credentials proxy --token=test-token --kubeconfig="$work/kc" >/dev/null
send '{"op":"auth","token":"test-token"}'
send '{"op":"put","resource":"services","object":{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"default","name":"web","labels":{"app":"web"}},"spec":{"type":"NodePort","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"selector":{"app":"web"},"ports":[{"name":"http","protocol":"TCP","port":80,"nodePort":30080}]}}}'
send '{"op":"put","resource":"services","object":{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"kube-system","name":"kube-dns"},"spec":{"type":"ClusterIP","clusterIP":"10.96.0.53","ports":[{"name":"dns","protocol":"UDP","port":53},{"name":"dns-tcp","protocol":"TCP","port":53}]}}}'
send '{"op":"put","resource":"endpointslices","object":{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"namespace":"default","name":"web-abcde","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4","ports":[{"name":"http","protocol":"TCP","port":8080}],"endpoints":[{"addresses":["10.244.1.2"],"conditions":{"ready":true}},{"addresses":["10.244.2.2"],"conditions":{"ready":true}}]}}'

timeout 20 kubectl --kubeconfig "$work/kc" version >"$work/version.out" 2>&1
expect "kubectl version reads the server's /version" '^Server Version: v1\.[0-9]+\.[0-9]+' "$work/version.out"
k get svc -A >"$work/svc.out" 2>&1
expect "get svc -A: web with type, ClusterIP and NodePort" \
    '^default +web +NodePort +10\.96\.0\.10 +<none> +80:30080/TCP +[0-9]+s$' "$work/svc.out"
expect "get svc -A: kube-dns in kube-system" \
    '^kube-system +kube-dns +ClusterIP +10\.96\.0\.53 +<none> +53/UDP,53/TCP ' "$work/svc.out"
k get endpointslices -A >"$work/eps.out" 2>&1
expect "get endpointslices -A: the slice and its endpoints" \
    '^default +web-abcde +IPv4 +8080 +10\.244\.1\.2,10\.244\.2\.2 ' "$work/eps.out"
k get --raw /apis/discovery.k8s.io/v1/endpointslices >"$work/eps.json" 2>&1
if python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["kind"] == "EndpointSliceList" and [i["metadata"]["name"] for i in l["items"]] == ["web-abcde"]
' "$work/eps.json"; then ok "get --raw of the EndpointSlice list"; else fail "get --raw of the EndpointSlice list"; sed 's/^/    /' "$work/eps.json"; fi
k get svc web -n default -o jsonpath='{.spec.clusterIP} {.metadata.uid}' >"$work/one.out" 2>&1
expect "get one service by name, with a server-set uid" '^10\.96\.0\.10 [0-9a-f-]{36}$' "$work/one.out"
k get svc nope -n default >"$work/nope.out" 2>&1
expect "a missing service is NotFound" 'Error from server \(NotFound\): services "nope" not found' "$work/nope.out"
k get svc -n kube-system -o name >"$work/ns.out" 2>&1
if [ "$(cat "$work/ns.out")" = "service/kube-dns" ]; then ok "a namespaced list holds that namespace only"
else fail "a namespaced list holds that namespace only"; sed 's/^/    /' "$work/ns.out"; fi

# A raw watch from the list's resourceVersion: events stream while it is open,
# then the server ends it at timeoutSeconds and kubectl exits cleanly.
rv=$(k get --raw /api/v1/services | python3 -c 'import json, sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
k get --raw "/api/v1/services?watch=1&allowWatchBookmarks=true&resourceVersion=$rv&timeoutSeconds=4" \
    >"$work/watch.out" 2>"$work/watch.err" &
watcher=$!
send '{"op":"put","resource":"services","object":{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"default","name":"late"},"spec":{"type":"ClusterIP","clusterIP":"10.96.0.77","ports":[{"port":8080}]}}}'
send '{"op":"delete","resource":"services","key":"default/late"}'
streamed=no
for _ in $(seq 100); do
    grep -q '"DELETED"' "$work/watch.out" 2>/dev/null && { kill -0 "$watcher" 2>/dev/null && streamed=yes; break; }
    sleep 0.1
done
if [ $streamed = yes ]; then ok "watch events reach kubectl while the watch is open"
else fail "watch events reach kubectl while the watch is open"; fi
start=$SECONDS
wait "$watcher"
status=$?
if [ $status -eq 0 ] && [ $((SECONDS - start)) -le 10 ]; then ok "the server ends the watch at timeoutSeconds; kubectl exits 0"
else fail "the server ends the watch at timeoutSeconds (exit $status after $((SECONDS - start)) s)"; cat "$work/watch.err"; fi
if python3 -c '
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events if e["type"] != "BOOKMARK"]
assert seen == [("ADDED", "late"), ("DELETED", "late")], seen
assert all(int(e["object"]["metadata"]["resourceVersion"]) > int(sys.argv[2]) for e in events)
' "$work/watch.out" "$rv"; then ok "the raw watch holds exactly the changes after the list"
else fail "the raw watch holds exactly the changes after the list"; sed 's/^/    /' "$work/watch.out"; fi

# kubectl's own watch asks for tables as events; ending the watch ends kubectl.
k get svc -A --watch >"$work/w.out" 2>&1 &
watcher=$!
for _ in $(seq 150); do grep -q kube-dns "$work/w.out" 2>/dev/null && break; sleep 0.1; done
send '{"op":"put","resource":"services","object":{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"default","name":"later"},"spec":{"type":"ClusterIP","clusterIP":"10.96.0.78","ports":[{"port":9090}]}}}'
for _ in $(seq 150); do grep -q later "$work/w.out" 2>/dev/null && break; sleep 0.1; done
send '{"op":"end_watches"}'
wait "$watcher"
status=$?
expect "get svc -A --watch prints an added service as a row" '^default +later +ClusterIP +10\.96\.0\.78 +<none> +9090/TCP ' "$work/w.out"
if [ $status -eq 0 ]; then ok "get --watch exits 0 when the server ends the watch"; else fail "get --watch exit $status"; fi

kubectl config set-credentials proxy --token=wrong --kubeconfig="$work/kc" >/dev/null
k get svc -A >"$work/401.out" 2>&1
expect "a wrong token is Unauthorized" 'error: You must be logged in to the server \(Unauthorized\)' "$work/401.out"
exec 3>&- 4<&-

# Mutual TLS: the server requires a client certificate signed by its CA.
start_server mtls "$work/ca.crt"
kubeconfig "$work/kc" "$port"
kubectl config set-credentials proxy --client-certificate="$work/client.crt" --client-key="$work/client.key" \
    --embed-certs=true --kubeconfig="$work/kc" >/dev/null
send '{"op":"put","resource":"services","object":{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"default","name":"mtls"},"spec":{"type":"ClusterIP","clusterIP":"10.96.0.9","ports":[{"port":443}]}}}'
k get svc -A >"$work/mtls.out" 2>&1
expect "mutual TLS with the kubeconfig's client certificate" '^default +mtls +ClusterIP +10\.96\.0\.9 ' "$work/mtls.out"
kubectl config set-credentials proxy --client-certificate="$work/rogueclient.crt" --client-key="$work/rogueclient.key" \
    --embed-certs=true --kubeconfig="$work/kc" >/dev/null
k get svc -A >"$work/rogue.out" 2>&1
expect "a client certificate from another CA is refused" 'tls: unknown certificate authority' "$work/rogue.out"
kubectl config unset users.proxy --kubeconfig="$work/kc" >/dev/null
kubectl config set-credentials proxy --token=test-token --kubeconfig="$work/kc" >/dev/null
k get svc -A >"$work/nocert.out" 2>&1
expect "no client certificate is refused" 'tls: certificate required' "$work/nocert.out"
exec 3>&- 4<&-

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
