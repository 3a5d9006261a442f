#!/usr/bin/env bash
# `kipvs plan` against the fake API server over verified TLS: the informers
# feed the planner and the output is the IPVS table IPVS mode would program;
# `plan --follow` prints a change pushed through a watch.
# Usage: plan_api_test.sh KIPVS   (KIPVS_SOURCE_DIR: the source tree)
set -euo pipefail
kipvs=$1
src=${KIPVS_SOURCE_DIR:?}
work=$(mktemp -d)
server_pid=''
cleanup() {
    [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fails=0
ok() { printf 'ok %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

sh "$src/tests/unit/make_test_certs.sh" "$work"
mkfifo "$work/in" "$work/out"
python3 "$src/tests/unit/fake_apiserver.py" "$work/server.crt" "$work/server.key" <"$work/in" >"$work/out" &
server_pid=$!
exec 3>"$work/in" 4<"$work/out"
read -r first <&4
port=$(printf '%s' "$first" | tr -dc '0-9')
send() { printf '%s\n' "$1" >&3; read -r _ <&4; }

cat >"$work/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $work/ca.crt
users:
- name: kipvs
  user:
    token: test-token
contexts:
- name: fake
  context: {cluster: fake, user: kipvs}
current-context: fake
KC
cat >"$work/kipvs.yaml" <<CFG
apiVersion: kipvs.io/v1alpha1
kind: KipvsConfiguration
hostnameOverride: node-a
clientConnection:
  kubeconfig: $work/kubeconfig
CFG

svc='{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"default","name":"web","resourceVersion":"1"},"spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"ports":[{"name":"http","protocol":"TCP","port":80}]}}'
slice() {  # slice ADDRESS...
    local eps='' a
    for a in "$@"; do eps="$eps${eps:+,}{\"addresses\":[\"$a\"],\"conditions\":{\"ready\":true},\"nodeName\":\"node-b\"}"; done
    printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"namespace":"default","name":"web-1","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4","ports":[{"name":"http","protocol":"TCP","port":8080}],"endpoints":[%s]}' "$eps"
}
send "{\"op\":\"put\",\"resource\":\"services\",\"object\":$svc}"
send "{\"op\":\"put\",\"resource\":\"endpointslices\",\"object\":$(slice 10.244.1.2 10.244.2.2)}"

expected='-A -t 10.96.0.10:80 -s rr
-a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1
-a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m -w 1'
if out=$("$kipvs" --config "$work/kipvs.yaml" plan --format ipvsadm 2>"$work/plan.err") && [ "$out" = "$expected" ]; then
    ok "plan from the API server"
else
    fail "plan from the API server"
    printf '%s\n' "$out" "--- stderr:" "$(cat "$work/plan.err")" | sed 's/^/    /'
fi

"$kipvs" --config "$work/kipvs.yaml" plan --follow --format ipvsadm >"$work/follow.out" 2>"$work/follow.err" &
follow=$!
for _ in $(seq 50); do grep -q -- '-A -t 10.96.0.10:80' "$work/follow.out" 2>/dev/null && break; sleep 0.1; done
send "{\"op\":\"put\",\"resource\":\"endpointslices\",\"object\":$(slice 10.244.1.2 10.244.3.3)}"
for _ in $(seq 50); do grep -q -- '10.244.3.3' "$work/follow.out" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$follow" 2>/dev/null || true
wait "$follow" 2>/dev/null || true
if grep -q -- '^+ -a -t 10.96.0.10:80 -r 10.244.3.3:8080 -m -w 1' "$work/follow.out" &&
    grep -q -- '^- -a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m -w 1' "$work/follow.out"; then
    ok "plan --follow prints a watched change as a diff"
else
    fail "plan --follow prints a watched change as a diff"
    sed 's/^/    /' "$work/follow.out" "$work/follow.err"
fi
# insecure-skip-tls-verify: the server is not verified, and every connection says so.
sed -e "s|certificate-authority: .*|insecure-skip-tls-verify: true|" "$work/kubeconfig" >"$work/insecure.kubeconfig"
sed -e "s|$work/kubeconfig|$work/insecure.kubeconfig|" "$work/kipvs.yaml" >"$work/insecure.yaml"
if out=$("$kipvs" --config "$work/insecure.yaml" plan --format ipvsadm 2>"$work/insecure.err") &&
    [ -n "$out" ] &&
    [ "$(grep -c "insecure-skip-tls-verify is set in $work/insecure.kubeconfig: the identity of https://127.0.0.1:$port is not checked" "$work/insecure.err")" -ge 2 ]; then
    ok "insecure-skip-tls-verify warns on every connection"
else
    fail "insecure-skip-tls-verify warns on every connection"
    sed 's/^/    /' "$work/insecure.err"
fi

# kipvs check reaches the API server through the same client and says what it listed.
"$kipvs" --config "$work/kipvs.yaml" check >"$work/check.out" 2>"$work/check.err" || true
if grep -qF "# sources: API server https://127.0.0.1:$port" "$work/check.out" &&
    grep -qF "listed 1 service(s), 2 endpoint(s)" "$work/check.out"; then
    ok "check lists the API server's objects"
else
    fail "check lists the API server's objects"
    sed 's/^/    /' "$work/check.out" "$work/check.err"
fi
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=''
start=$(date +%s)
"$kipvs" --config "$work/kipvs.yaml" check --wait 2s >"$work/check.out" 2>"$work/check.err" || true
if grep -qF "no complete list of Services and EndpointSlices from API server https://127.0.0.1:$port within 2 s" "$work/check.err" &&
    [ $(($(date +%s) - start)) -lt 10 ]; then
    ok "check names an unreachable API server within its --wait"
else
    fail "check names an unreachable API server within its --wait"
    sed 's/^/    /' "$work/check.out" "$work/check.err"
fi
exit $((fails > 0))
