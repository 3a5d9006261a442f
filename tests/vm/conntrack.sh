#!/bin/sh
# kipvs sweeps the UDP conntrack entries no serving endpoint answers, through
# ctnetlink, as kube-proxy does (PARITY.md §3.4): a DNS client that keeps its
# source port reaches a live CoreDNS at once instead of being sent to a gone
# one (or to nowhere) until its entry times out.
# Kernel fact (6.1): with net/ipv4/vs/expire_nodest_conn=1, which kipvs sets as
# kube-proxy does, IPVS itself expires a deleted destination's connections
# from a delayed work (Linux >= 5.9) and drops their conntrack entries,
# sometimes before kipvs looks (then kipvs finds nothing to flush). Part 1
# turns that sysctl off, so only kipvs's ctnetlink flush can remove the
# entry; part 2 runs with kube-proxy's sysctls; part 3 deletes the whole
# service (ClusterIP and NodePort): all its flows go, others stay; part 4
# turns an endpoint that is still listed to not serving (its destination on
# the VIP already gone while kipvs was down): only the flows it answered go,
# on the VIP and the NodePort, and TCP, another UDP service's and the
# serving endpoint's flows stay; part 5 shows a flow made before the
# service was served, answered by the VIP itself, kept while the service has
# no endpoint and swept when one appears.
# Run: tests/vm/vm-run --file build/kipvs --file build/tests/vm/udp-responder tests/vm/conntrack.sh
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh

KIPVS=/test/kipvs
UDP=/test/udp-responder
CONFIG=/tmp/kipvs.yaml
LOG=/tmp/kipvs.log
VIP=10.96.0.10

check "backend dns1" make_backend dns1 1
check "backend dns2" make_backend dns2 2
check "client netns" make_backend client 9 8080
check "udp responder in dns1" $NS dns1 $UDP 0.0.0.0 53 dns1
check "udp responder in dns2" $NS dns2 $UDP 0.0.0.0 53 dns2

mkdir -p /tmp/manifests
# write_config [SYSCTLS]: kipvs's configuration, with kipvs.sysctls overrides.
write_config() {
    cat > $CONFIG <<YAML
apiVersion: kipvs.io/v1alpha1
kind: KipvsConfiguration
hostnameOverride: test-node
clusterCIDR: 10.200.0.0/16
ipvs:
  scheduler: rr
kipvs:
  manifests: manifests
  sysctls: {${1:-}}
YAML
}

# write_dns ADDRESS...: the kube-dns Service and its EndpointSlice.
write_dns() {
    {
        cat <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  ports:
  - name: dns
    protocol: UDP
    port: 53
    targetPort: 53
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-1
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
addressType: IPv4
ports:
- name: dns
  protocol: UDP
  port: 53
endpoints:
YAML
        for _a in "$@"; do
            printf -- '- addresses: [%s]\n  conditions: {ready: true}\n  nodeName: test-node\n' "$_a"
        done
    } > /tmp/manifests/dns.yaml
}

# flows [ADDRESS [PORT]]: "CLIENT_PORT REPLY_SOURCE" of every UDP conntrack
# entry to ADDRESS:PORT (VIP:53), sorted.
flows() {
    conntrack -L -p udp --orig-dst "${1:-$VIP}" --orig-port-dst "${2:-53}" 2>/dev/null | awk '{
        n = 0; port = ""; reply = ""
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^sport=/ && port == "") port = substr($i, 7)
            if ($i ~ /^src=/ && ++n == 2) reply = substr($i, 5)
        }
        print port, reply }' | sort
}

# sync NAME: kipvs run --once, its log shown.
sync() {
    check "$1" sh -c "$KIPVS run --once --config $CONFIG >$LOG 2>&1"
    sed 's/^/    | /' $LOG
}

# ask PORT...: one query from each client source port; prints the answers.
ask() {
    for _p in "$@"; do $NS client $UDP ask $VIP 53 "$_p"; done | tr '\n' ' ' | sed 's/ $//'
}

BOTH="-A -u $VIP:53 -s rr
-a -u $VIP:53 -r 10.200.1.2:53 -m -w 1
-a -u $VIP:53 -r 10.200.2.2:53 -m -w 1"
ONE="-A -u $VIP:53 -s rr
-a -u $VIP:53 -r 10.200.1.2:53 -m -w 1"

# --- part 1: only kipvs can remove the stale entry ---------------------------
write_config '"net/ipv4/vs/expire_nodest_conn": "0"'
write_dns 10.200.1.2 10.200.2.2
sync "kipvs run --once"
expect_eq "ipvsadm -S -n" "$BOTH" "$($IPVSADM -S -n)"
# Under tcg a sync takes seconds: the default 30 s UDP timeout must not
# expire the entries this test looks for.
echo 600 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout
echo 600 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream

answers=$(ask 40001 40002)
log "answers to source ports 40001 40002: $answers"
case $answers in
    "dns1 dns2") dns2_port=40002 dns1_port=40001 ;;
    "dns2 dns1") dns2_port=40001 dns1_port=40002 ;;
    *) dns2_port=none dns1_port=none ;;
esac
check "round robin: one answer from each backend" [ "$dns2_port" != none ]
conntrack -L -p udp 2>/dev/null | sed 's/^/    | /'
expect_eq "a conntrack entry to each backend" "$(printf '%s\n' "$dns1_port 10.200.1.2" "$dns2_port 10.200.2.2" | sort)" "$(flows)"

write_dns 10.200.1.2
sync "kipvs run --once without dns2"
expect_eq "ipvsadm -S -n" "$ONE" "$($IPVSADM -S -n)"
check "the sync reports the flushed flow" grep -q ', 1 UDP flows flushed' $LOG
check_not "no sweep failure logged" grep -q 'conntrack sweep' $LOG
conntrack -L -p udp 2>/dev/null | sed 's/^/    | /'
expect_eq "only the entry to dns1 is left" "$dns1_port 10.200.1.2" "$(flows)"

sync "kipvs run --once again"
check_not "a sync that deletes nothing flushes nothing" grep -q 'flushed' $LOG

# --- part 2: kube-proxy's sysctls, a resolver that keeps its port -----------
write_config
write_dns 10.200.1.2 10.200.2.2
sync "kipvs run --once with dns2 back"
expect_eq "ipvsadm -S -n" "$BOTH" "$($IPVSADM -S -n)"
answers=$(ask 40003 40004)
log "answers to source ports 40003 40004: $answers"
case $answers in
    "dns1 dns2") stale_port=40004 live_port=40003 ;;
    "dns2 dns1") stale_port=40003 live_port=40004 ;;
    *) stale_port=none live_port=none ;;
esac
check "round robin: one answer from each backend" [ "$stale_port" != none ]
write_dns 10.200.1.2
sync "kipvs run --once without dns2"
expect_eq "ipvsadm -S -n" "$ONE" "$($IPVSADM -S -n)"
check_not "no sweep failure logged" grep -q 'conntrack sweep' $LOG
conntrack -L -p udp 2>/dev/null | sed 's/^/    | /'
expect_eq "the entries to dns1 are left" "$(printf '%s\n' "$dns1_port 10.200.1.2" "$live_port 10.200.1.2" | sort)" "$(flows)"
expect_eq "the client that used dns2 reaches dns1 from the same port" "dns1" "$(ask $stale_port)"

# --- part 3: a deleted UDP service takes all its flows, NodePort too --------
# expire_nodest_conn off again, so that only kipvs's flush removes them.
write_config '"net/ipv4/vs/expire_nodest_conn": "0"'
write_dns 10.200.1.2 10.200.2.2
sed -i 's/^spec:$/spec:\n  type: NodePort/; s/^    targetPort: 53$/    targetPort: 53\n    nodePort: 30053/' /tmp/manifests/dns.yaml
sync "kipvs run --once with a UDP NodePort"
check "the UDP NodePort is a virtual server" sh -c "$IPVSADM -S -n | grep -q -- '-A -u 10.200.9.1:30053 -s rr'"
log "answers through the VIP and the NodePort: $(ask 40005) $($NS client $UDP ask 10.200.9.1 30053 40006)"
# A UDP flow that is not the service's: straight to dns1.
$NS client $UDP ask 10.200.1.2 53 40007 >/dev/null
# node_port_flows: UDP conntrack entries to the NodePort
node_port_flows() { conntrack -L -p udp --orig-dst 10.200.9.1 --orig-port-dst 30053 2>/dev/null | grep -c . ; }
vip_before=$(flows | grep -c .)
np_before=$(node_port_flows)
log "before the delete: $vip_before flow(s) to $VIP:53, $np_before to the NodePort"
check "flows to the VIP before the delete" [ "$vip_before" -ge 1 ]
expect_eq "a flow to the NodePort before the delete" 1 "$np_before"
rm /tmp/manifests/dns.yaml
sync "kipvs run --once without the service"
expect_eq "no virtual server left" "" "$($IPVSADM -S -n)"
conntrack -L -p udp 2>/dev/null | sed 's/^/    | /'
check "the sync reports every flow flushed" grep -q ", $((vip_before + np_before)) UDP flows flushed" $LOG
check_not "no sweep failure logged" grep -q 'conntrack sweep' $LOG
expect_eq "no flow to the VIP left" "" "$(flows)"
expect_eq "no flow to the NodePort left" 0 "$(node_port_flows)"
expect_eq "the flow that is not the service's stays" 1 \
    "$(conntrack -L -p udp --orig-dst 10.200.1.2 --orig-port-dst 53 2>/dev/null | grep -c .)"

# write_service FILE NAMESPACE/NAME VIP PROTOCOL PORT NODEPORT ENDPOINT...: a
# Service (NodePort when NODEPORT is not empty) and its EndpointSlice, the
# target port equal to PORT; an ENDPOINT written ADDRESS=off is listed but
# neither ready nor serving (a pod shutting down past its grace).
write_service() {
    _file=$1 _ns=${2%/*} _name=${2#*/} _vip=$3 _proto=$4 _port=$5 _node_port=$6
    shift 6
    {
        printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec:\n' "$_name" "$_ns"
        [ -n "$_node_port" ] && printf '  type: NodePort\n'
        printf '  clusterIP: %s\n  clusterIPs: [%s]\n  ports:\n  - name: p\n    protocol: %s\n' "$_vip" "$_vip" "$_proto"
        printf '    port: %s\n    targetPort: %s\n' "$_port" "$_port"
        [ -n "$_node_port" ] && printf '    nodePort: %s\n' "$_node_port"
        printf -- '---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n'
        printf 'metadata:\n  name: %s-1\n  namespace: %s\n  labels: {kubernetes.io/service-name: %s}\n' "$_name" "$_ns" "$_name"
        printf 'addressType: IPv4\nports:\n- {name: p, protocol: %s, port: %s}\nendpoints:' "$_proto" "$_port"
        [ $# -eq 0 ] && printf ' []'
        printf '\n'
        for _e in "$@"; do
            case $_e in
                *=off) _conditions='{ready: false, serving: false, terminating: true}' ;;
                *) _conditions='{ready: true}' ;;
            esac
            printf -- '- addresses: [%s]\n  conditions: %s\n  nodeName: test-node\n' "${_e%=off}" "$_conditions"
        done
    } > "/tmp/manifests/$_file.yaml"
}

# --- part 4: an endpoint still listed but not serving -----------------------
# kube-dns (UDP, NodePort 30053) on dns1 and dns2, dns-b (UDP) and web (TCP)
# on dns2 alone. expire_nodest_conn off: only kipvs's sweep removes an entry.
write_config '"net/ipv4/vs/expire_nodest_conn": "0"'
echo 600 > /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait
write_service dns kube-system/kube-dns $VIP UDP 53 30053 10.200.1.2 10.200.2.2
write_service dns-b kube-system/dns-b 10.96.0.11 UDP 53 "" 10.200.2.2
write_service web default/web 10.96.0.12 TCP 80 "" 10.200.2.2
sync "kipvs run --once: kube-dns, dns-b, web"
check "kube-dns has both destinations" sh -c "$IPVSADM -S -n | grep -c -- '-a -u $VIP:53 ' | grep -qx 2"

# which_port PORT_A PORT_B ADDRESS PORT: one query from each source port
# through ADDRESS:PORT; prints "PORT_TO_DNS1 PORT_TO_DNS2" (rr: one each).
which_port() {
    _a=$($NS client $UDP ask "$3" "$4" "$1") _b=$($NS client $UDP ask "$3" "$4" "$2")
    log "answers to source ports $1 $2 through $3:$4: $_a $_b" >&2
    case "$_a $_b" in
        "dns1 dns2") echo "$1 $2" ;;
        "dns2 dns1") echo "$2 $1" ;;
        *) echo "none none" ;;
    esac
}
ports=$(which_port 40021 40022 $VIP 53)
vip_live=${ports% *} vip_stale=${ports#* }
ports=$(which_port 40023 40024 10.200.9.1 30053)
np_live=${ports% *} np_stale=${ports#* }
check "round robin on the VIP" [ "$vip_stale" != none ]
check "round robin on the NodePort" [ "$np_stale" != none ]
expect_eq "dns-b answers from dns2" dns2 "$($NS client $UDP ask 10.96.0.11 53 40025)"
expect_eq "web answers from dns2" dns2 "$($NS client timeout 5 wget -q -O - http://10.96.0.12/)"
tcp_flows() { conntrack -L -p tcp --orig-dst 10.96.0.12 --orig-port-dst 80 2>/dev/null | grep -c . ; }
expect_eq "a TCP entry to web" 1 "$(tcp_flows)"

# dns2's destination on the VIP goes while kipvs is down (an operator, a
# kipvs stopped mid-sync): kipvs deletes only the NodePort ones itself, and
# the sweep still finds the VIP's flow to dns2.
$IPVSADM -d -u $VIP:53 -r 10.200.2.2:53
write_service dns kube-system/kube-dns $VIP UDP 53 30053 10.200.1.2 10.200.2.2=off
sync "kipvs run --once: dns2 listed but not serving for kube-dns"
check "kube-dns has dns1 alone" sh -c "$IPVSADM -S -n | grep -c -- '-a -u $VIP:53 ' | grep -qx 1"
check "kipvs deleted the NodePort destinations alone" grep -q 'destinations +0 ~0 -3,' $LOG
conntrack -L 2>/dev/null | sed 's/^/    | /'
check "the sync reports the two flows dns2 answered" grep -q ', 2 UDP flows flushed' $LOG
check_not "no sweep failure logged" grep -q 'conntrack sweep' $LOG
expect_eq "the VIP keeps the entry dns1 answers" "$vip_live 10.200.1.2" "$(flows)"
expect_eq "the NodePort keeps the entry dns1 answers" "$np_live 10.200.1.2" "$(flows 10.200.9.1 30053)"
expect_eq "dns-b keeps its entry to dns2" "40025 10.200.2.2" "$(flows 10.96.0.11 53)"
expect_eq "web keeps its TCP entry to dns2" 1 "$(tcp_flows)"
# (No query from $vip_stale here: with expire_nodest_conn off, IPVS's own
# connection to the deleted destination still holds it; part 2 shows that
# client with kube-proxy's sysctls.)

# --- part 5: a flow made before the service was served -----------------------
# Its address already local, no virtual server yet (kipvs not started, or
# not there yet): the host answers port unreachable and conntrack keeps an
# UNREPLIED entry whose reply source is the VIP itself. (A virtual server
# without destinations makes none: IPVS drops before conntrack confirms.)
LATE=10.96.0.13
$IP addr add $LATE/32 dev kube-ipvs0
expect_eq "no answer before the service exists" NO-ANSWER "$($NS client $UDP ask $LATE 53 40030)"
expect_eq "an entry answered by the VIP itself" "40030 $LATE" "$(flows $LATE 53)"
write_service late default/late $LATE UDP 53 ""
sync "kipvs run --once: late, without endpoints"
check "late is a virtual server without destinations" sh -c "$IPVSADM -S -n | grep -q -- '-A -u $LATE:53 ' && ! $IPVSADM -S -n | grep -q -- '-a -u $LATE:53 '"
expect_eq "without an endpoint the entry stays" "40030 $LATE" "$(flows $LATE 53)"
write_service late default/late $LATE UDP 53 "" 10.200.1.2
sync "kipvs run --once: late served by dns1"
check "the sync reports the swept flow" grep -q ', 1 UDP flows flushed' $LOG
expect_eq "the entry answered by the VIP is gone" "" "$(flows $LATE 53)"
expect_eq "the same source port reaches dns1" dns1 "$($NS client $UDP ask $LATE 53 40030)"
expect_eq "its new entry is answered by dns1" "40030 10.200.1.2" "$(flows $LATE 53)"
expect_eq "kube-dns, dns-b and web keep theirs" "$vip_live 10.200.1.2|$np_live 10.200.1.2|40025 10.200.2.2|1" \
    "$(flows)|$(flows 10.200.9.1 30053)|$(flows 10.96.0.11 53)|$(tcp_flows)"

finish
