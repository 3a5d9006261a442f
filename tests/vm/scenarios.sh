#!/bin/sh
# kipvs run end to end on a real IPVS kernel, for the service shapes proxy.sh
# does not cover, from manifests this script writes: the cold-start order
# (sets, then rules, then virtual servers, observed in the kernel while the
# rules are held back), a LoadBalancer ingress IP with
# loadBalancerSourceRanges (one client namespace let through, another
# dropped), externalIPs (bound to kube-ipvs0 unless already a node
# address), externalTrafficPolicy: Local (local endpoints only, the client's
# source address kept), SCTP, a hostNetwork endpoint on a node address (the
# `kubernetes` service on k3s), service deletion and endpoint churn.
# Assertions read the kernel with ipvsadm, ipset, iptables-legacy-save, ip
# and conntrack, and send real traffic.
# Run: tests/vm/vm-run --file build/kipvs --file build/tests/vm/sctp-responder \
#        --file /usr/bin/flock --file .../net/sctp/sctp.ko tests/vm/scenarios.sh
# (meson test vm-scenarios passes the last three when they are there).
# shellcheck source=tests/vm/lib.sh disable=SC2317 # functions run through check
. /test/lib.sh

KIPVS=/test/kipvs
CONFIG=/tmp/kipvs.yaml
LOG=/tmp/kipvs.log
M=/tmp/manifests
SAVE=iptables-legacy-save

check "backend be1" make_backend be1 1
check "backend be2" make_backend be2 2
check "client1 netns (10.200.9.2)" make_backend client1 9 8080
check "client2 netns (10.200.8.2)" make_backend client2 8 8080
# The backends answer /cgi-bin/ip with the source address they see.
for b in be1 be2; do
    mkdir -p /tmp/www-$b/cgi-bin
    # shellcheck disable=SC2016 # $REMOTE_ADDR is for the CGI script
    printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s %%s\\n" %s "$REMOTE_ADDR"\n' $b >/tmp/www-$b/cgi-bin/ip
    chmod +x /tmp/www-$b/cgi-bin/ip
done
# The `kubernetes` service's endpoint: a hostNetwork server on a node address.
mkdir -p /tmp/www-apiserver
echo apiserver >/tmp/www-apiserver/index.html
check "hostNetwork server on 10.200.9.1:6443" busybox httpd -p 10.200.9.1:6443 -h /tmp/www-apiserver

# get NETNS URL: the body, or ERROR (3 s: a dropped request is not retried).
get() { $NS "$1" busybox timeout 3 busybox wget -q -O - "$2" 2>/dev/null || echo ERROR; }
# members SET: the set's entries, sorted.
members() { $IPSET list "$1" | sed '1,/^Members:/d' | sort; }
# bound: kube-ipvs0's IPv4 addresses, sorted.
bound() { $IP -o -4 addr show dev kube-ipvs0 2>/dev/null | awk '{print $4}' | sort; }
# has LINES LINE: LINE is one of LINES (for check/check_not, which run
# functions in this shell, unlike sh -c).
has() { printf '%s\n' "$1" | grep -qx -- "$2"; }
# vs ADDRESS:PORT: that virtual server and its destinations, sorted.
vs() { $IPVSADM -S -n | grep -- " $1 " | sort; }

cat >$CONFIG <<'YAML'
apiVersion: kipvs.io/v1alpha1
kind: KipvsConfiguration
hostnameOverride: test-node
clusterCIDR: 10.244.0.0/16
ipvs:
  scheduler: rr
kipvs:
  manifests: manifests
  iptablesBackend: legacy
YAML
mkdir -p $M

# slice NAME SERVICE PROTOCOL PORT "ADDRESS NODE"...: an EndpointSlice
# (its port named as the service's: PORT_NAME, default "", as the
# EndpointSlice controller writes an unnamed one).
slice() {
    _name=$1 _svc=$2 _proto=$3 _port=$4; shift 4
    printf '%s\n' "---" "apiVersion: discovery.k8s.io/v1" "kind: EndpointSlice" "metadata:" "  name: $_name" \
        "  namespace: default" "  labels:" "    kubernetes.io/service-name: $_svc" "addressType: IPv4" "ports:" \
        "- name: \"${PORT_NAME:-}\"" "  protocol: $_proto" "  port: $_port" "endpoints:"
    for _e in "$@"; do
        printf -- '- addresses: [%s]\n  conditions: {ready: true}\n  nodeName: %s\n' "${_e% *}" "${_e#* }"
    done
}

# A LoadBalancer that only 10.200.9.0/24 (client1) may reach.
{
    cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.1.10
  clusterIPs: [10.96.1.10]
  loadBalancerSourceRanges: [10.200.9.0/24]
  ports: [{protocol: TCP, port: 80, targetPort: 80, nodePort: 30081}]
status:
  loadBalancer:
    ingress: [{ip: 192.0.2.10}]
YAML
    slice lb-1 lb TCP 80 "10.200.1.2 test-node" "10.200.2.2 test-node"
} >$M/lb.yaml
# externalIPs: one foreign address, one that is a node address.
{
    cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec:
  clusterIP: 10.96.1.20
  clusterIPs: [10.96.1.20]
  externalIPs: [198.51.100.20, 10.200.1.1]
  ports: [{protocol: TCP, port: 8080, targetPort: 80}]
YAML
    slice ext-1 ext TCP 80 "10.200.2.2 test-node"
} >$M/ext.yaml
# externalTrafficPolicy: Local; be2 is on another node.
{
    cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: local, namespace: default}
spec:
  type: NodePort
  clusterIP: 10.96.1.30
  clusterIPs: [10.96.1.30]
  externalTrafficPolicy: Local
  ports: [{protocol: TCP, port: 80, targetPort: 80, nodePort: 30083}]
YAML
    slice local-1 local TCP 80 "10.200.1.2 test-node" "10.200.2.2 other-node"
} >$M/local.yaml
{
    cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: sctp, namespace: default}
spec:
  clusterIP: 10.96.1.40
  clusterIPs: [10.96.1.40]
  ports: [{protocol: SCTP, port: 9999, targetPort: 9999}]
YAML
    slice sctp-1 sctp SCTP 9999 "10.200.1.2 test-node"
} >$M/sctp.yaml
# As on a k3s server: the API server is a hostNetwork endpoint on the node.
{
    cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: kubernetes, namespace: default}
spec:
  clusterIP: 10.96.0.1
  clusterIPs: [10.96.0.1]
  ports: [{name: https, protocol: TCP, port: 443, targetPort: 6443}]
YAML
    PORT_NAME=https slice kubernetes kubernetes TCP 6443 "10.200.9.1 test-node"
} >$M/kubernetes.yaml
{
    cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: churn, namespace: default}
spec:
  clusterIP: 10.96.1.50
  clusterIPs: [10.96.1.50]
  ports: [{protocol: TCP, port: 80, targetPort: 80}]
YAML
    slice churn-1 churn TCP 80 "10.200.1.2 test-node"
} >$M/churn.yaml

# --- cold start on an empty node: sets, then rules, then virtual servers ----
# kipvs's iptables-restore waits (-w) for the xtables lock; holding it (with
# the host's flock, shipped in) stops the first sync between its sets and
# its rules, where the kernel is read: the sets and their entries are
# there, no rule, no address, no virtual server yet. Without flock the
# same reads land in the natural window (the restore takes seconds under
# tcg), less surely.
check_not "empty node: no virtual server" sh -c "$IPVSADM -S -n | grep -q ."
rm -f /tmp/release
if command -v flock >/dev/null; then
    touch /run/xtables.lock
    # Released by the reads below, about 2 s after kipvs starts waiting
    # (it gives up after 5); the 15 s bound only stops a broken run hanging.
    # shellcheck disable=SC2016 # for the inner sh
    flock /run/xtables.lock sh -c 'i=0; while [ ! -e /tmp/release ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done' &
    locker=$!
    check "the xtables lock is held" wait_for 5 sh -c "! flock -n /run/xtables.lock true"
else
    log "no flock in the guest: reading the kernel in the natural window"
    locker=
fi
start=$(date +%s)
(cd /tmp && $KIPVS run --once --config $CONFIG >$LOG 2>&1; echo $? >/tmp/kipvs.rc) &
check "first sync: the sets and their entries come first" wait_for 30 \
    sh -c "[ \$($IPSET list KUBE-CLUSTER-IP 2>/dev/null | sed '1,/^Members:/d' | wc -l) -eq 6 ]"
# A virtual server or an address written out of order would show up in
# this second; then the reads, side by side, so the lock is held briefly.
sleep 1
$IPSET list -n >/tmp/then.sets & r1=$!
$SAVE -t nat >/tmp/then.nat & r2=$!
$SAVE -t filter >/tmp/then.filter & r3=$!
$IPVSADM -S -n >/tmp/then.ipvs & r4=$!
bound >/tmp/then.addrs & r5=$!
wait $r1 $r2 $r3 $r4 $r5
touch /tmp/release
sets_then=$(grep -c '^KUBE-' /tmp/then.sets)
rules_then=$(grep -c KUBE- /tmp/then.nat)
filter_then=$(grep -c KUBE- /tmp/then.filter)
vs_then=$(wc -l </tmp/then.ipvs)
addrs_then=$(wc -l </tmp/then.addrs)
[ -z "$locker" ] || wait $locker
log "while the rules were held back: $sets_then sets, $rules_then nat and $filter_then filter rule lines, $vs_then IPVS lines, $addrs_then addresses"
check "while the rules wait, the sets are there" [ "$sets_then" -ge 9 ]
expect_eq "while the rules wait, no KUBE- nat rule yet" 0 "$rules_then"
expect_eq "while the rules wait, no KUBE- filter rule yet" 0 "$filter_then"
expect_eq "while the rules wait, no kube-ipvs0 address yet" 0 "$addrs_then"
expect_eq "while the rules wait, no virtual server yet" 0 "$vs_then"
check "first sync finishes" wait_for 30 test -e /tmp/kipvs.rc
expect_eq "first sync exit code" 0 "$(cat /tmp/kipvs.rc)"
log "first sync took $(($(date +%s) - start)) s"
sed 's/^/    | /' $LOG
check "then the rules" sh -c "$SAVE -t nat | grep -q -- '-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES'"
check "then the virtual servers" sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.96.1.10:80 -s rr'"

# --- LoadBalancer with loadBalancerSourceRanges --------------------------------
check "LB ingress IP is a virtual server" sh -c "$IPVSADM -S -n | grep -q -- '-A -t 192.0.2.10:80 -s rr'"
check "LB ingress IP bound to kube-ipvs0" has "$(bound)" 192.0.2.10/32
expect_eq "KUBE-LOAD-BALANCER" "192.0.2.10,tcp:80" "$(members KUBE-LOAD-BALANCER)"
expect_eq "KUBE-LOAD-BALANCER-FW" "192.0.2.10,tcp:80" "$(members KUBE-LOAD-BALANCER-FW)"
expect_eq "KUBE-LOAD-BALANCER-SOURCE-CIDR" "192.0.2.10,tcp:80,10.200.9.0/24" "$(members KUBE-LOAD-BALANCER-SOURCE-CIDR)"
check "the source-range firewall drops the rest" sh -c "$SAVE -t filter | grep -q -- '-A KUBE-SOURCE-RANGES-FIREWALL -j DROP'"
a=$(get client1 http://192.0.2.10/)
b=$(get client1 http://192.0.2.10/)
log "client1 (10.200.9.2, inside the range) to the LB: $a $b"
check "an allowed source gets through" sh -c "echo '$a $b' | grep -q 'be[12]' && ! echo '$a $b' | grep -q ERROR"
expect_eq "another source is dropped" ERROR "$(get client2 http://192.0.2.10/)"
expect_eq "the same client2 reaches the ClusterIP of that service" 1 \
    "$(get client2 http://10.96.1.10/ | grep -c '^be[12]$')"

# --- externalIPs ---------------------------------------------------------------
check "externalIP is a virtual server" sh -c "$IPVSADM -S -n | grep -q -- '-A -t 198.51.100.20:8080 -s rr'"
check "externalIP that is a node address is a virtual server" sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.200.1.1:8080 -s rr'"
check "externalIP bound to kube-ipvs0" has "$(bound)" 198.51.100.20/32
check_not "a node address is not bound to kube-ipvs0" has "$(bound)" 10.200.1.1/32
expect_eq "KUBE-EXTERNAL-IP" "10.200.1.1,tcp:8080
198.51.100.20,tcp:8080" "$(members KUBE-EXTERNAL-IP)"
expect_eq "externalIP reachable" be2 "$(get client1 http://198.51.100.20:8080/)"
expect_eq "node-address externalIP reachable" be2 "$(get client2 http://10.200.1.1:8080/)"

# --- externalTrafficPolicy: Local ------------------------------------------------
expect_eq "eTP=Local NodePort: only the local endpoint" "-A -t 10.200.9.1:30083 -s rr
-a -t 10.200.9.1:30083 -r 10.200.1.2:80 -m -w 1" "$(vs 10.200.9.1:30083)"
expect_eq "its ClusterIP: every endpoint" "-A -t 10.96.1.30:80 -s rr
-a -t 10.96.1.30:80 -r 10.200.1.2:80 -m -w 1
-a -t 10.96.1.30:80 -r 10.200.2.2:80 -m -w 1" "$(vs 10.96.1.30:80)"
check "KUBE-NODE-PORT-LOCAL-TCP" has "$(members KUBE-NODE-PORT-LOCAL-TCP)" 30083
# unmapped BODY: "be1 [::ffff:10.200.9.2]" (httpd's dual-stack socket) -> "be1 10.200.9.2"
unmapped() { echo "$1" | sed 's/\[::ffff:\(.*\)\]/\1/'; }
seen=$(unmapped "$(get client1 http://10.200.9.1:30083/cgi-bin/ip)")
log "eTP=Local NodePort from client1: $seen"
if echo "$seen" | grep -q '^be'; then
    expect_eq "the backend sees the client's own address" "be1 10.200.9.2" "$seen"
    seen=$(unmapped "$(get client1 http://10.200.9.1:30081/cgi-bin/ip)")
    log "eTP=Cluster NodePort from client1: $seen"
    check "eTP=Cluster traffic is masqueraded (control)" sh -c "echo '$seen' | grep -Eq '^be[12] 10\\.200\\.[12]\\.1$'"
else
    log "busybox httpd without CGI: source checked in conntrack only"
fi
# Independent of the backend: the reply goes to the client, not to the node.
ct=$(conntrack -L -p tcp --orig-dst 10.200.9.1 --orig-port-dst 30083 2>/dev/null | head -1)
log "conntrack: $ct"
check "conntrack: eTP=Local reply goes to the client (not SNATed)" sh -c "echo '$ct' | grep -q 'src=10.200.1.2 dst=10.200.9.2'"

# --- SCTP ------------------------------------------------------------------------
check "SCTP service in IPVS" sh -c "$IPVSADM -S -n | grep -q -- '--sctp-service 10.96.1.40:9999 -s rr'"
check "SCTP destination" sh -c "$IPVSADM -S -n | grep -q -- '--sctp-service 10.96.1.40:9999 -r 10.200.1.2:9999 -m -w 1'"
check "SCTP in KUBE-CLUSTER-IP" has "$(members KUBE-CLUSTER-IP)" 10.96.1.40,sctp:9999
# Traffic when the test shipped sctp.ko and sctp-responder (meson does):
# the base image has no SCTP module.
if [ -e /test/sctp.ko ] && [ -x /test/sctp-responder ]; then
    $MODPROBE -a libcrc32c udp_tunnel ip6_udp_tunnel
    check "sctp.ko loads" insmod /test/sctp.ko
    # shellcheck disable=SC2086 # $NS is "ip netns exec"
    check "SCTP responder in be1" $NS be1 /test/sctp-responder 0.0.0.0 9999 be1-sctp
    expect_eq "SCTP traffic through the ClusterIP" be1-sctp "$($NS client1 /test/sctp-responder ask 10.96.1.40 9999 2>&1)"
    check "the SCTP connection went through IPVS" sh -c "$IPVSADM -Lnc | grep -q 'SCTP.*10.96.1.40:9999 *10.200.1.2:9999'"
else
    log "SCTP: kernel state only (no sctp.ko or sctp-responder shipped)"
fi

# --- a hostNetwork endpoint on the node ---------------------------------------------
expect_eq "kubernetes service to the node address" "-A -t 10.96.0.1:443 -s rr
-a -t 10.96.0.1:443 -r 10.200.9.1:6443 -m -w 1" "$(vs 10.96.0.1:443)"
expect_eq "a pod reaches the hostNetwork endpoint" apiserver "$(get client1 http://10.96.0.1:443/)"
expect_eq "the node itself reaches it" apiserver "$(busybox timeout 3 busybox wget -q -O - http://10.96.0.1:443/ 2>/dev/null || echo ERROR)"

# --- the daemon: service deletion, endpoint churn ------------------------------
(cd /tmp && exec $KIPVS run --config $CONFIG >$LOG 2>&1) &
pid=$!
check "daemon's first sync" wait_for 30 grep -q 'first sync' $LOG
check "first sync adopts: no change" grep -q 'first sync (.*): virtual servers +0 ~0 -0, destinations +0 ~0 -0' $LOG

rm $M/ext.yaml
check "service deleted: its virtual servers go" wait_for 15 sh -c "! $IPVSADM -S -n | grep -q ':8080 '"
check_not "service deleted: its ClusterIP virtual server too" sh -c "$IPVSADM -S -n | grep -q 10.96.1.20"
check_not "service deleted: ClusterIP unbound" has "$(bound)" 10.96.1.20/32
check_not "service deleted: externalIP unbound" has "$(bound)" 198.51.100.20/32
check_not "service deleted: KUBE-CLUSTER-IP entry gone" has "$(members KUBE-CLUSTER-IP)" 10.96.1.20,tcp:8080
expect_eq "service deleted: KUBE-EXTERNAL-IP empty" "" "$(members KUBE-EXTERNAL-IP)"
check "other services stay" sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.96.1.10:80 -s rr'"
expect_eq "deleted externalIP no longer answers" ERROR "$(get client1 http://198.51.100.20:8080/)"

# live_is WANT: the churn service's destinations with weight > 0 are WANT
live_is() { [ "$(vs 10.96.1.50:80 | awk '$1 == "-a" && $NF != 0 {print $5}' | tr '\n' ' ' | sed 's/ $//')" = "$1" ]; }
# churn EXPECTED "ADDRESS NODE"...: rewrite the slice, wait for the kernel
churn() {
    _want=$1; shift
    slice churn-1 churn TCP 80 "$@" >/tmp/churn-slice.yaml
    { sed '/^---$/,$d' $M/churn.yaml; cat /tmp/churn-slice.yaml; } >/tmp/churn.yaml && mv /tmp/churn.yaml $M/churn.yaml
    check "churn: kernel holds $_want" wait_for 15 live_is "$_want"
}
churn_start=$(date +%s)
churn "10.200.1.2:80 10.200.2.2:80" "10.200.1.2 test-node" "10.200.2.2 test-node"
got="$(get client1 http://10.96.1.50/) $(get client1 http://10.96.1.50/)"
# shellcheck disable=SC2086 # the two answers
expect_eq "churn: both serve" "be1 be2" "$(printf '%s\n' $got | sort -u | tr '\n' ' ' | sed 's/ $//')"
churn "10.200.2.2:80" "10.200.2.2 test-node"
expect_eq "churn: only be2 serves" "be2 be2" "$(get client1 http://10.96.1.50/) $(get client1 http://10.96.1.50/)"
churn "10.200.1.2:80" "10.200.1.2 test-node"
expect_eq "churn: only be1 serves" "be1" "$(get client1 http://10.96.1.50/)"
churn "10.200.1.2:80 10.200.2.2:80" "10.200.1.2 test-node" "10.200.2.2 test-node"
log "four endpoint changes applied and served in $(($(date +%s) - churn_start)) s"

kill -TERM $pid
wait $pid
finish
