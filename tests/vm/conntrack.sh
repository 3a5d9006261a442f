#!/bin/sh
# kipvs flushes the stale UDP conntrack entries of a deleted destination,
# through ctnetlink, as kube-proxy does (PARITY.md §3.4): a DNS client that
# keeps its source port reaches a live CoreDNS at once instead of being sent
# to the deleted one until its entry times out.
# Kernel fact (6.1): with net/ipv4/vs/expire_nodest_conn=1, which kipvs sets as
# kube-proxy does, IPVS itself expires a deleted destination's connections
# from a delayed work (Linux >= 5.9) and drops their conntrack entries,
# sometimes before kipvs looks (then kipvs finds nothing to flush). Part 1
# turns that sysctl off, so only kipvs's ctnetlink flush can remove the
# entry; part 2 runs with kube-proxy's sysctls; part 3 deletes the whole
# service (ClusterIP and NodePort): all its flows go, others stay.
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

# flows: "CLIENT_PORT REPLY_SOURCE" of every UDP conntrack entry to VIP:53, sorted.
flows() {
    conntrack -L -p udp --orig-dst $VIP --orig-port-dst 53 2>/dev/null | awk '{
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
check_not "no flush failure logged" grep -q 'flushing UDP flows' $LOG
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
check_not "no flush failure logged" grep -q 'flushing UDP flows' $LOG
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
check_not "no flush failure logged" grep -q 'flushing UDP flows' $LOG
expect_eq "no flow to the VIP left" "" "$(flows)"
expect_eq "no flow to the NodePort left" 0 "$(node_port_flows)"
expect_eq "the flow that is not the service's stays" 1 \
    "$(conntrack -L -p udp --orig-dst 10.200.1.2 --orig-port-dst 53 2>/dev/null | grep -c .)"

finish
