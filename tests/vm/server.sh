#!/bin/sh
# kipvs run's HTTP endpoints on a real IPVS kernel, from static manifests:
# /healthz and /livez (200 after the first sync, /healthz 503 for a node
# tainted for deletion, 503 while syncs fail and 200 when they succeed
# again), /metrics (kube-proxy's families, and ipvs_* counters equal to
# `ipvsadm -Ln --stats --exact` after real traffic; `promtool check metrics`
# when promtool is shipped in), a health-check node port answering 200/503
# as local endpoints come and go (over IPv4 and IPv6 alike without
# nodePortAddresses), --dry-run binding no port, a SIGHUP reload moving the
# metrics server (new port answers, old refused, /healthz's socket untouched,
# an unbindable address leaving the old one serving) and re-binding the
# health-check port for a new nodePortAddresses, and /healthz answering
# while a scrape over 10,000 IPVS services reads the kernel.
# Run: tests/vm/vm-run --file build/kipvs [--file /usr/bin/promtool] tests/vm/server.sh
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh

KIPVS=/test/kipvs
CONFIG=/tmp/kipvs.yaml
MANIFESTS=/tmp/manifests
LOG=/tmp/kipvs.log

check "backend1" make_backend backend1 1
check "backend2" make_backend backend2 2
check "client netns" make_backend client 9 8080

mkdir -p $MANIFESTS
cat >$CONFIG <<YAML
apiVersion: kipvs.io/v1alpha1
kind: KipvsConfiguration
hostnameOverride: demo-node
clusterCIDR: 10.200.0.0/16
healthzBindAddress: 0.0.0.0:10256
metricsBindAddress: 127.0.0.1:10249
ipvs:
  syncPeriod: 3s
  minSyncPeriod: 1s
kipvs:
  manifests: $MANIFESTS
YAML
cp /test/web.yaml $MANIFESTS/web.yaml
# A LoadBalancer service with externalTrafficPolicy: Local and its
# health-check node port; both endpoints on this node.
edge() {
    cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: demo}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.30
  clusterIPs: [10.96.0.30]
  externalTrafficPolicy: Local
  healthCheckNodePort: 32000
  ports:
  - {name: http, protocol: TCP, port: 80, targetPort: 80, nodePort: 30090}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: edge-1
  namespace: demo
  labels: {kubernetes.io/service-name: edge}
addressType: IPv4
ports:
- {name: http, protocol: TCP, port: 80}
endpoints:
- addresses: [10.200.1.2]
  conditions: {ready: true}
  nodeName: $1
- addresses: [10.200.2.2]
  conditions: {ready: true}
  nodeName: $1
YAML
}
node() {
    printf '%s\n' 'apiVersion: v1' 'kind: Node' 'metadata: {name: demo-node}' 'spec:'
    [ -n "$1" ] && printf '%s\n' '  taints:' "  - {key: $1, value: \"1\", effect: NoSchedule}"
    printf '%s\n' '  podCIDRs: [10.200.0.0/16]'
}
edge demo-node >$MANIFESTS/edge.yaml
node >$MANIFESTS/node.yaml

# http HOST PORT PATH [NETNS]: the raw HTTP/1.0 answer, CRs removed.
http() {
    if [ -n "$4" ]; then
        printf 'GET %s HTTP/1.0\r\n\r\n' "$3" | $NS "$4" busybox timeout 5 busybox nc "$1" "$2" | tr -d '\r'
    else
        printf 'GET %s HTTP/1.0\r\n\r\n' "$3" | busybox timeout 5 busybox nc "$1" "$2" | tr -d '\r'
    fi
}
status() { http "$@" | sed -n '1s/^HTTP\/1.[01] \([0-9]*\).*/\1/p'; }
header() { _h=$1; shift; http "$@" | sed -n "s/^$_h: //p" | head -1; }
body() { http "$@" | sed '1,/^$/d'; }
# status_is CODE HOST PORT PATH [NETNS]
status_is() { _want=$1; shift; [ "$(status "$@")" = "$_want" ]; }
# body_matches REGEX HOST PORT PATH [NETNS]: on the body with tabs and newlines removed
body_matches() { _re=$1; shift; body "$@" | tr -d '\t\n' | grep -q "$_re"; }
answers() { http "$@" | grep -q '^HTTP/'; }
metrics_match() { http 127.0.0.1 10249 /metrics | grep -q "$1"; }
metrics_at() { status_is 200 127.0.0.1 "$1" /metrics; }
# listening PORT: a listener on any address of either family.
listening() { grep -q ":$(printf '%04X' "$1") 0*:0000 0A" /proc/net/tcp /proc/net/tcp6; }
# listener_inode PORT: the listening socket's inode (the same socket or not).
listener_inode() {
    awk -v p=":$(printf '%04X' "$1")\$" '$2 ~ p && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6 | head -1
}
# uptime_cs: centiseconds since boot.
uptime_cs() { awk '{ split($1, a, "."); print a[1] a[2] }' /proc/uptime; }
not_listening() { ! listening "$1"; }

# --- --dry-run binds no port ----------------------------------------------
$KIPVS run --dry-run --config $CONFIG >$LOG 2>&1 &
pid=$!
check "dry-run daemon syncs" wait_for 20 grep -q 'first sync' $LOG
check_not "dry-run: no healthz port" listening 10256
check_not "dry-run: no metrics port" listening 10249
check_not "dry-run: no health-check node port" listening 32000
kill -TERM $pid
wait $pid

# --- the daemon ---------------------------------------------------------
$KIPVS run --config $CONFIG >$LOG 2>&1 &
pid=$!
check "first sync" wait_for 20 grep -q 'first sync' $LOG
expect_eq "/healthz after the first sync" 200 "$(status 127.0.0.1 10256 /healthz)"
expect_eq "/livez" 200 "$(status 127.0.0.1 10256 /livez)"
expect_eq "/healthz content type" "application/json" "$(header Content-Type 127.0.0.1 10256 /healthz)"
check "/healthz JSON" body_matches \
    '^{"lastUpdated": "20[0-9-]* [0-9:.]* +0000 UTC","currentTime": "20[0-9-]* [0-9:.]* +0000 UTC", "nodeEligible": true}$' \
    127.0.0.1 10256 /healthz
expect_eq "/healthz from the client netns (0.0.0.0)" 200 "$(status 10.200.9.1 10256 /healthz client)"
expect_eq "unknown path" 404 "$(status 127.0.0.1 10256 /nope)"
check_not "metrics only on loopback" answers 10.200.9.1 10249 /metrics client

# A request larger than the limit is dropped without an answer.
big=$(head -c 20000 /dev/zero | tr '\0' a)
oversized() { printf 'GET /healthz HTTP/1.0\r\nX-Big: %s\r\n\r\n' "$big" | busybox timeout 5 busybox nc 127.0.0.1 10256 | grep -q HTTP; }
check_not "an oversized request gets no answer" oversized
expect_eq "and the server still answers" 200 "$(status 127.0.0.1 10256 /healthz)"

# --- health-check node port ------------------------------------------------
check "health-check node port listens" wait_for 10 listening 32000
expect_eq "hc port: 200 with local endpoints" 200 "$(status 10.200.9.1 32000 / client)"
expect_eq "hc port: endpoint weight" 2 "$(header X-Load-Balancing-Endpoint-Weight 10.200.9.1 32000 / client)"
check "hc port: JSON body" body_matches \
    '^{"service": {"namespace": "demo","name": "edge"},"localEndpoints": 2,"serviceProxyHealthy": true}$' \
    10.200.9.1 32000 / client
edge other-node >$MANIFESTS/edge.yaml
check "hc port: 503 once the endpoints are elsewhere" wait_for 10 status_is 503 10.200.9.1 32000 / client
expect_eq "hc port: weight 0" 0 "$(header X-Load-Balancing-Endpoint-Weight 10.200.9.1 32000 / client)"
edge demo-node >$MANIFESTS/edge.yaml
check "hc port: 200 when they come back" wait_for 10 status_is 200 10.200.9.1 32000 / client

# Without nodePortAddresses the port is kube-proxy's Go listener: every
# address of both families, so an IPv6 node address answers too.
$IP link add hc6 type dummy
$IP link set hc6 up
$IP -6 addr add fd00:99::1/64 dev hc6 nodad
check "hc port: one [::] listener for both families" \
    grep -q "00000000000000000000000000000000:7D00 00000000000000000000000000000000:0000 0A" /proc/net/tcp6
expect_eq "hc port: 200 over IPv6" 200 "$(status fd00:99::1 32000 /)"
check "hc port: IPv6 JSON body" body_matches '"localEndpoints": 2' fd00:99::1 32000 /
# healthzBindAddress 0.0.0.0:10256 is the same Go wildcard: IPv6 too.
expect_eq "/healthz on 0.0.0.0 answers over IPv6" 200 "$(status fd00:99::1 10256 /healthz)"

# --- real traffic, then /metrics against ipvsadm ---------------------------
for i in 1 2 3 4 5 6; do
    $NS client busybox timeout 5 busybox wget -q -O - http://10.96.0.10/ >/dev/null 2>&1
done
# One connection held open: active while it lasts.
(sleep 8) | $NS client busybox nc 10.96.0.10 80 >/dev/null 2>&1 &
held=$!
# The kernel folds its per-CPU counters into the service's every 2 s.
sleep 3
http 127.0.0.1 10249 /metrics >/tmp/metrics.raw
sed '1,/^$/d' /tmp/metrics.raw >/tmp/metrics.txt
stats=$($IPVSADM -Ln --stats --exact -t 10.96.0.10:80 | awk '$1 == "TCP" {print $3, $4, $5, $6, $7}')
wait $held
log "ipvsadm -Ln --stats --exact -t 10.96.0.10:80: $stats"
expect_eq "/metrics content type" "text/plain; version=0.0.4; charset=utf-8" "$(sed -n 's/^Content-Type: //p' /tmp/metrics.raw)"
labels='namespace="demo",service="web",port_name="http",protocol="TCP",virtual_address="10.96.0.10:80"'
metric() { awk -v want="$1{$labels}" '$1 == want {print $2}' /tmp/metrics.txt; }
got="$(metric ipvs_connections_total) $(metric ipvs_incoming_packets_total) $(metric ipvs_outgoing_packets_total) $(metric ipvs_incoming_bytes_total) $(metric ipvs_outgoing_bytes_total)"
expect_eq "ipvs_* counters equal ipvsadm's" "$stats" "$got"
check "at least the 7 connections made" test "$(metric ipvs_connections_total)" -ge 7
expect_eq "ipvs_connections_active: the held connection" 1 "$(metric ipvs_connections_active)"
check "the NodePort virtual server is the web service's too" grep -q \
    'ipvs_connections_total{namespace="demo",service="web",port_name="http",protocol="TCP",virtual_address="10.200.9.1:30080"} 0' /tmp/metrics.txt
for family in kubeproxy_sync_proxy_rules_duration_seconds kubeproxy_network_programming_duration_seconds; do
    check "$family is a histogram" grep -q "^# TYPE $family histogram" /tmp/metrics.txt
done
check "syncs counted" grep -q '^kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} [1-9]' /tmp/metrics.txt
check "last sync timestamp" grep -q '^kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1[0-9]*' /tmp/metrics.txt
check "endpoint changes counted" grep -q '^kubeproxy_sync_proxy_rules_endpoint_changes_total [1-9]' /tmp/metrics.txt
check "service changes counted" grep -q '^kubeproxy_sync_proxy_rules_service_changes_total [1-9]' /tmp/metrics.txt
check "healthz answers counted" grep -q '^kubeproxy_proxy_healthz_total{code="200"} [1-9]' /tmp/metrics.txt
if [ -x /test/promtool ]; then
    /test/promtool check metrics </tmp/metrics.txt >/tmp/promtool.out 2>&1
    sed 's/^/    promtool| /' /tmp/promtool.out
    # kube-proxy's own names draw lint complaints (kept for its dashboards);
    # anything else fails.
    check_not "promtool: nothing but kube-proxy's names" sh -c \
        "grep -v -e '^kubeproxy_sync_proxy_rules_no_local_endpoints_total non-counter metrics should not have \"_total\" suffix\$' /tmp/promtool.out | grep -q ."
else
    log "promtool not shipped in: skipping promtool check metrics"
fi

# --- node eligibility --------------------------------------------------------
node ToBeDeletedByClusterAutoscaler >$MANIFESTS/node.yaml
check "tainted node: /healthz 503" wait_for 10 status_is 503 127.0.0.1 10256 /healthz
check "tainted node: nodeEligible false" body_matches '"nodeEligible": false' 127.0.0.1 10256 /healthz
expect_eq "tainted node: /livez 200" 200 "$(status 127.0.0.1 10256 /livez)"
node >$MANIFESTS/node.yaml
check "untainted: /healthz 200" wait_for 10 status_is 200 127.0.0.1 10256 /healthz

# --- syncs that fail turn /healthz red after 2 x syncPeriod -------------------
restore=$(sed -n 's/.*IPv4 rules through \([^ ]*\) .*/\1/p' $LOG | head -1)
log "iptables-restore in use: $restore"
mv "$restore" "$restore.real"
printf '#!/bin/sh\necho "planted failure" >&2\nexit 1\n' >"$restore"
chmod +x "$restore"
# Drift makes the next full sync restore the rules, which now fails.
iptables -t nat -D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
check "the failed restore is logged" wait_for 10 grep -q 'rules: .*planted failure' $LOG
check "failing syncs: /healthz 503" wait_for 15 status_is 503 127.0.0.1 10256 /healthz
expect_eq "failing syncs: /livez 503 too" 503 "$(status 127.0.0.1 10256 /livez)"
check "restore failures counted" metrics_match \
    '^kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family="IPv4"} [1-9]'
mv "$restore.real" "$restore"
check "syncs succeed again: /healthz 200" wait_for 15 status_is 200 127.0.0.1 10256 /healthz
check "metrics counted the 503s" metrics_match '^kubeproxy_proxy_healthz_total{code="503"} [1-9]'

# --- SIGHUP: the metrics server moves, the health-check port re-binds ---------
healthz_socket=$(listener_inode 10256)
sed -i 's/^metricsBindAddress: .*/metricsBindAddress: 127.0.0.1:10250/' $CONFIG
echo 'nodePortAddresses: [10.200.9.0/24]' >>$CONFIG
kill -HUP $pid
check "reload: applied in place" wait_for 10 grep -q 'reload: node addresses, metrics server address$' $LOG
check "reload: /metrics on the new port" wait_for 10 metrics_at 10250
check_not "reload: the old metrics port refuses" answers 127.0.0.1 10249 /metrics
check "reload: the move is logged" grep -q 'metrics server moved from 127.0.0.1:10249 to 127.0.0.1:10250' $LOG
expect_eq "reload: /healthz keeps its socket" "$healthz_socket" "$(listener_inode 10256)"
expect_eq "reload: /healthz still 200" 200 "$(status 127.0.0.1 10256 /healthz)"
# 10.200.9.1:32000 in /proc/net/tcp's byte order.
check "reload: hc port on the nodePortAddresses address" wait_for 10 \
    grep -q "0109C80A:7D00 00000000:0000 0A" /proc/net/tcp
check_not "reload: hc port gone from IPv6" answers fd00:99::1 32000 /
expect_eq "reload: hc port answers on 10.200.9.1" 200 "$(status 10.200.9.1 32000 / client)"
# An address the node does not have: logged with it, the old server stays.
sed -i 's/^metricsBindAddress: .*/metricsBindAddress: 192.0.2.1:10251/' $CONFIG
kill -HUP $pid
check "reload: an unbindable address is logged with it" wait_for 10 grep -q \
    'metrics server: listening on 192.0.2.1:10251: .*; still serving on 127.0.0.1:10250' $LOG
check "reload: the old metrics server still answers" metrics_at 10250

# --- a slow scrape leaves the event loop free ----------------------------------
# A full sync reads every virtual server in the kernel too, on the event
# loop: a long syncPeriod keeps this part about the scrape alone (and moves
# /healthz's timeout, 2 x syncPeriod, with it).
sed -i -e 's/^  syncPeriod: .*/  syncPeriod: 60s/' -e 's/^metricsBindAddress: .*/metricsBindAddress: 127.0.0.1:10250/' $CONFIG
kill -HUP $pid
check "reload: a new syncPeriod moves the health timeout" wait_for 10 grep -q \
    'reload: sync periods, metrics server address, health timeout$' $LOG
sleep 4  # the full sync due under the old period
# 10,000 virtual servers nobody owns (not on kube-ipvs0: kipvs leaves them)
# make the kernel slow to dump them and to write /proc/net/ip_vs.
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "-A -t 10.99.%d.%d:80 -s rr\n", i / 250, i % 250 + 1 }' >/tmp/many.ipvs
check "10,000 extra virtual servers" $IPVSADM -R </tmp/many.ipvs
h0=$(uptime_cs)
idle=$(status 127.0.0.1 10256 /healthz)
h1=$(uptime_cs)
log "/healthz with no scrape running: $(((h1 - h0) * 10)) ms ($idle); kipvs threads: $(ls /proc/$pid/task | wc -l)"
scrape() { printf 'GET /metrics HTTP/1.0\r\n\r\n' | busybox timeout 60 busybox nc 127.0.0.1 10250 >"$1"; }
t0=$(uptime_cs)
scrape /tmp/slow.metrics
t1=$(uptime_cs)
log "one scrape with 10,000 extra IPVS services: $(((t1 - t0) * 10)) ms"
check "the scrape completes" grep -q '^ipvs_connections_total{namespace="demo",service="web"' /tmp/slow.metrics
# Scrapes back to back keep the worker reading the kernel; /healthz answers
# throughout. How many answers came while the worker thread was alive is a
# figure, not a check: it depends on the emulator's speed.
(while [ ! -e /tmp/stop-scrapes ]; do scrape /dev/null; done) &
storm=$!
sleep 0.1
n=0 answered=0 overlapped=0 worst=0
while [ $n -lt 10 ]; do
    h0=$(uptime_cs)
    [ "$(status 127.0.0.1 10256 /healthz)" = 200 ] && answered=$((answered + 1))
    h1=$(uptime_cs)
    [ "$(ls /proc/$pid/task | wc -l)" -gt 1 ] && overlapped=$((overlapped + 1))
    [ $((h1 - h0)) -gt $worst ] && worst=$((h1 - h0))
    n=$((n + 1))
done
touch /tmp/stop-scrapes
wait $storm
log "/healthz during back-to-back scrapes: $answered/10 answered 200, slowest $((worst * 10)) ms," \
    "$overlapped/10 with the scrape worker still reading"
expect_eq "/healthz answers 200 during back-to-back scrapes" 10 "$answered"

# --- a removed eTP=Local service closes its port -----------------------------
rm $MANIFESTS/edge.yaml
check "health-check node port closed with its service" wait_for 10 not_listening 32000

kill -TERM $pid
check "SIGTERM: kipvs exits" wait_for 10 sh -c "[ ! -e /proc/$pid ] || grep -q '^State:.*Z' /proc/$pid/status"
check_not "SIGTERM: ports closed" listening 10256

finish
