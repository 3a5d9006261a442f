#!/bin/sh
# kipvs run end to end on a real IPVS kernel, from the static manifests in
# configs/demo: the kernel state it writes (read back with ipvsadm, ipset,
# iptables-save, ip), real traffic through a ClusterIP and a NodePort, a
# manifest edited live, a restart that writes nothing, drift repaired after
# `ipvsadm -C` and a deleted jump rule, --dry-run changing nothing, and rules
# left in place on SIGTERM.
# Run: tests/vm/vm-run --file build/kipvs --file configs/demo.yaml --file configs/demo tests/vm/proxy.sh
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh

KIPVS=/test/kipvs
CONFIG=/test/demo.yaml
LOG=/tmp/kipvs.log

check "backend1" make_backend backend1 1
check "backend2" make_backend backend2 2
check "backend3" make_backend backend3 3
check "client netns" make_backend client 9 8080


# --- kipvs check before switching: what run would change ----------------------
check "kipvs check on a cold node" sh -c "$KIPVS check --config $CONFIG >/tmp/check.out 2>&1"
check "check shows the virtual server run would add" grep -q '^#   + -A -t 10.96.0.10:80 -s rr' /tmp/check.out
check "check changes nothing" sh -c "! $IPVSADM -S -n | grep -q 10.96.0.10"

# --- one sync on a cold node -------------------------------------------------
check "kipvs run --once" sh -c "$KIPVS run --once --config $CONFIG >$LOG 2>&1"
sed 's/^/    | /' $LOG
expect_eq "ipvsadm -S -n" "$(printf '%s\n' \
    '-A -t 10.200.1.1:30080 -s rr' \
    '-a -t 10.200.1.1:30080 -r 10.200.1.2:80 -m -w 1' \
    '-a -t 10.200.1.1:30080 -r 10.200.2.2:80 -m -w 1' \
    '-A -t 10.200.2.1:30080 -s rr' \
    '-a -t 10.200.2.1:30080 -r 10.200.1.2:80 -m -w 1' \
    '-a -t 10.200.2.1:30080 -r 10.200.2.2:80 -m -w 1' \
    '-A -t 10.200.3.1:30080 -s rr' \
    '-a -t 10.200.3.1:30080 -r 10.200.1.2:80 -m -w 1' \
    '-a -t 10.200.3.1:30080 -r 10.200.2.2:80 -m -w 1' \
    '-A -t 10.200.9.1:30080 -s rr' \
    '-a -t 10.200.9.1:30080 -r 10.200.1.2:80 -m -w 1' \
    '-a -t 10.200.9.1:30080 -r 10.200.2.2:80 -m -w 1' \
    '-A -t 10.96.0.10:80 -s rr' \
    '-a -t 10.96.0.10:80 -r 10.200.1.2:80 -m -w 1' \
    '-a -t 10.96.0.10:80 -r 10.200.2.2:80 -m -w 1' \
    '-A -t 10.96.0.20:5432 -s rr -p 10800' \
    '-a -t 10.96.0.20:5432 -r 10.200.2.2:80 -m -w 1' \
    | sort)" "$($IPVSADM -S -n | sort)"
expect_eq "kube-ipvs0 addresses" "10.96.0.10/32
10.96.0.20/32" "$($IP -o -4 addr show dev kube-ipvs0 | awk '{print $4}' | sort)"
check "kube-ipvs0 stays down" sh -c "$IP link show kube-ipvs0 | grep -q 'state DOWN'"
expect_eq "KUBE-CLUSTER-IP" "10.96.0.10,tcp:80
10.96.0.20,tcp:5432" "$($IPSET list KUBE-CLUSTER-IP | sed '1,/^Members:/d' | sort)"
expect_eq "KUBE-NODE-PORT-TCP" "30080" "$($IPSET list KUBE-NODE-PORT-TCP | sed '1,/^Members:/d')"
expect_eq "KUBE-LOOP-BACK" "10.200.1.2,tcp:80,10.200.1.2
10.200.2.2,tcp:80,10.200.2.2" "$($IPSET list KUBE-LOOP-BACK | sed '1,/^Members:/d' | sort)"
check "jump rule PREROUTING -> KUBE-SERVICES" sh -c "iptables-save -t nat | grep -q -- '-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES'"
check "KUBE-POSTROUTING masquerades marked traffic" sh -c "iptables-save -t nat | grep -q -- '-A KUBE-POSTROUTING .*-j MASQUERADE'"
expect_eq "sysctl net.ipv4.vs.conntrack" 1 "$(cat /proc/sys/net/ipv4/vs/conntrack)"
check "each sysctl change is logged with its old value" grep -q 'sysctl net/ipv4/vs/conntrack: 0 -> 1' $LOG
expect_eq "sysctl net.ipv4.ip_forward" 1 "$(cat /proc/sys/net/ipv4/ip_forward)"

# --- real traffic ----------------------------------------------------------
got=$(requests 4 http://10.96.0.10/)
log "ClusterIP 10.96.0.10:80 from the client: $got"
# shellcheck disable=SC2086 # the four answers
expect_eq "ClusterIP balances over both backends" "backend1 backend2" "$(distinct $got)"
got=$(requests 4 http://10.200.9.1:30080/)
log "NodePort 10.200.9.1:30080 from the client: $got"
# shellcheck disable=SC2086
expect_eq "NodePort balances over both backends" "backend1 backend2" "$(distinct $got)"
expect_eq "selectorless service through its Endpoints" "backend2" "$(requests 1 http://10.96.0.20:5432/)"

# --- a restart over the right state writes nothing ---------------------------
# A connection opened before the restart sends its request after it.
(sleep 4; printf 'GET / HTTP/1.0\r\n\r\n'; sleep 2) | $NS client busybox nc 10.96.0.10 80 >/tmp/held.out 2>&1 &
held=$!
sleep 1
check "kipvs run --once again" sh -c "$KIPVS run --once --config $CONFIG >$LOG 2>&1"
wait $held
check_not "sysctls already right: nothing logged" grep -q 'sysctl net/' $LOG
check "a connection held across the restart is answered" grep -q '^backend' /tmp/held.out
check "check after a sync: nothing to change" sh -c "$KIPVS check --config $CONFIG 2>&1 | grep -q 'kipvs run would change nothing'"
check "second run: no change" grep -q 'first sync (.*): virtual servers +0 ~0 -0, destinations +0 ~0 -0, set entries +0 -0, addresses +0 -0 in' $LOG ||
    sed 's/^/    | /' $LOG

# --- --dry-run reads, logs and changes nothing --------------------------------
before=$($IPVSADM -S -n | sort)
cp /test/demo/web.yaml /tmp/web.yaml.orig
sed -i 's/- addresses: \[10.200.2.2\]/- addresses: [10.200.3.2]/' /test/demo/web.yaml
check "kipvs run --once --dry-run" sh -c "$KIPVS run --once --dry-run --config $CONFIG >$LOG 2>&1"
check "dry-run logs what it would add" grep -q 'dry-run: would add destination 10.200.3.2:80 to TCP 10.96.0.10:80' $LOG
check "dry-run logs what it would drain" grep -q 'dry-run: would edit destination 10.200.2.2:80' $LOG
expect_eq "dry-run changed no IPVS state" "$before" "$($IPVSADM -S -n | sort)"
cp /tmp/web.yaml.orig /test/demo/web.yaml

# --- the daemon: live edits, drift repair, SIGTERM ----------------------------
$KIPVS run --config $CONFIG --ipvs-sync-period 3s >$LOG 2>&1 &
pid=$!
check "daemon's first sync" wait_for 20 grep -q 'first sync' $LOG
sed -i 's/- addresses: \[10.200.2.2\]/- addresses: [10.200.3.2]/' /test/demo/web.yaml
check "a live edit reaches the kernel" wait_for 10 sh -c "$IPVSADM -S -n | grep -q -- '-a -t 10.96.0.10:80 -r 10.200.3.2:80 -m -w 1'"
got=$(requests 4 http://10.96.0.10/)
log "after the edit: $got"
# shellcheck disable=SC2086
expect_eq "the new backend takes traffic" "backend1 backend3" "$(distinct $got)"
# Its earlier connections linger in TIME_WAIT, so it drains at weight 0.
check "the removed backend drains at weight 0" sh -c "$IPVSADM -S -n | grep -q -- '-a -t 10.96.0.10:80 -r 10.200.2.2:80 -m -w 0'"

# A broken manifest keeps what it held until it loads again.
cp /test/demo/web.yaml /tmp/web.yaml.good
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web\n' > /test/demo/web.yaml
check "a broken manifest is named" wait_for 10 grep -q 'web.yaml: kept the previous' $LOG
check "the load with it keeps its objects" wait_for 10 grep -q 'some kept from before' $LOG
loads=$(grep -c 'manifests: 2 services' $LOG)
check "its objects stay in the kernel" sh -c "$IPVSADM -S -n | grep -q -- '-a -t 10.96.0.10:80 -r 10.200.3.2:80 -m -w 1'"
# shellcheck disable=SC2086
expect_eq "its service keeps answering" "backend1 backend3" "$(distinct $(requests 4 http://10.96.0.10/))"
cp /tmp/web.yaml.good /test/demo/web.yaml
check "the mended manifest loads again" wait_for 10 sh -c "[ \$(grep -c 'manifests: 2 services' $LOG) -gt $loads ]"

# A new node address gets NodePorts without a restart (rtnetlink events).
$IP addr add 10.200.1.100/24 dev backend1-h
check "a new node address serves the NodePort" wait_for 10 sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.200.1.100:30080 -s rr'"
$IP addr del 10.200.1.100/24 dev backend1-h
check "a removed node address stops serving it" wait_for 10 sh -c "! $IPVSADM -S -n | grep -q -- '10.200.1.100:30080'"

$IPVSADM -C
iptables -t nat -D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
check "drift repaired after ipvsadm -C" wait_for 15 sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.96.0.10:80 -s rr'"
check "deleted jump rule put back" wait_for 15 sh -c "iptables-save -t nat | grep -q -- '-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES'"
check "drift logged with counts" grep -q 'drift repaired: virtual servers +6' $LOG

kill -TERM $pid
# exited: gone, or a zombie this shell has not reaped yet
check "SIGTERM: kipvs exits" wait_for 10 sh -c "[ ! -e /proc/$pid ] || grep -q '^State:.*Z' /proc/$pid/status"
check "SIGTERM: exit is logged" grep -q 'rules stay in place' $LOG
check "SIGTERM: rules stay" sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.96.0.10:80 -s rr'"
expect_eq "traffic flows while kipvs is down" "backend1 backend3" "$(distinct $(requests 4 http://10.96.0.10/))"
cp /tmp/web.yaml.orig /test/demo/web.yaml

# --- cleanup: IPVS mode's objects go, planted foreign ones stay ----------------
$IPVSADM -A -t 192.0.2.80:443 -s rr
$IPSET create my-own-set hash:ip
iptables -t filter -N MY-CHAIN
iptables -t filter -A INPUT -s 198.51.100.1/32 -j MY-CHAIN
check "kipvs cleanup" sh -c "$KIPVS cleanup --config $CONFIG >$LOG 2>&1"
sed 's/^/    | /' $LOG
expect_eq "only the foreign virtual server is left" "-A -t 192.0.2.80:443 -s rr" "$($IPVSADM -S -n)"
expect_eq "only the foreign set is left" "my-own-set" "$($IPSET list -n)"
check_not "kube-ipvs0 is gone" $IP link show kube-ipvs0
check_not "no KUBE- chain or jump left (IPv4)" sh -c "iptables-save | grep -q KUBE-"
check_not "no KUBE- chain or jump left (IPv6)" sh -c "ip6tables-save | grep -q KUBE-"
check "the foreign chain and its rule stay" sh -c "iptables-save -t filter | grep -q -- '-A INPUT -s 198.51.100.1/32 -j MY-CHAIN'"

# --- adoption of what kube-proxy's IPVS mode wrote: no IPVS write ------------
$IP link add kube-ipvs0 type dummy
for vip in 10.96.0.10 10.96.0.20; do $IP addr add $vip/32 dev kube-ipvs0; done
for n in 1 2 3 9; do
    $IPVSADM -A -t 10.200.$n.1:30080 -s rr
    for b in 1 2; do $IPVSADM -a -t 10.200.$n.1:30080 -r 10.200.$b.2:80 -m -w 1; done
done
$IPVSADM -A -t 10.96.0.10:80 -s rr
for b in 1 2; do $IPVSADM -a -t 10.96.0.10:80 -r 10.200.$b.2:80 -m -w 1; done
$IPVSADM -A -t 10.96.0.20:5432 -s rr -p 10800
$IPVSADM -a -t 10.96.0.20:5432 -r 10.200.2.2:80 -m -w 1
$IPSET create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
$IPSET add KUBE-CLUSTER-IP 10.96.0.10,tcp:80
$IPSET add KUBE-CLUSTER-IP 10.96.0.20,tcp:5432
check "kipvs run --once over kube-proxy's state" sh -c "$KIPVS run --once --config $CONFIG >$LOG 2>&1"
check "adopted with no IPVS or address write" grep -q 'first sync (.*): virtual servers +0 ~0 -0, destinations +0 ~0 -0, set entries +[0-9]* -0, addresses +0 -0' $LOG
grep 'first sync' $LOG | sed 's/^/    | /'

finish
