#!/bin/sh
# The harness's own test: the VM boots with no ip_vs loaded, and ipvsadm can
# program a working IPVS service that balances real HTTP traffic. (Product
# tests do the same with kipvs in place of ipvsadm.)
# Run: tests/vm/vm-run tests/vm/harness-traffic.sh
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh

log "kernel $(uname -r)"
check_not "no ip_vs module at boot" grep -q '^ip_vs' /proc/modules
[ "$KIPVS_FAILS" -eq 0 ] || fatal "ip_vs was loaded before the test: $(grep '^ip_vs' /proc/modules)"

check "modprobe ip_vs" "$MODPROBE" ip_vs
check "ip_vs in /proc/modules" module_loaded ip_vs
check "ipvs table readable" "$IPVSADM" -Ln

check "backend1 netns" make_backend backend1 1
check "backend2 netns" make_backend backend2 2
check "kube-ipvs0 with 10.96.0.10" make_kube_ipvs0 10.96.0.10
check "dummy loaded on demand" module_loaded dummy
echo 1 > /proc/sys/net/ipv4/ip_forward

check "backend1 serves directly" test "$(http_get http://10.200.1.2/)" = backend1
check "ipvsadm -A" "$IPVSADM" -A -t 10.96.0.10:80 -s rr
check "ip_vs_rr loaded by the kernel via /sbin/modprobe" module_loaded ip_vs_rr
check "ipvsadm -a backend1" "$IPVSADM" -a -t 10.96.0.10:80 -r 10.200.1.2:80 -m
check "ipvsadm -a backend2" "$IPVSADM" -a -t 10.96.0.10:80 -r 10.200.2.2:80 -m

got=''
for _ in 1 2 3 4; do
    got="$got $(http_get http://10.96.0.10/ || echo ERROR)"
done
got=${got# }
log "4 requests to 10.96.0.10:80 -> $got"
# shellcheck disable=SC2086 # split into the four answers
set -- $got
check "4 answers" test $# -eq 4
check "answers alternate" test "$1" != "$2" -a "$1" = "$3" -a "$2" = "$4"
check "both backends answer" test "$(printf '%s\n' "$1" "$2" | sort | tr '\n' ' ')" = "backend1 backend2 "

expect_eq "ipvsadm -S -n" "-A -t 10.96.0.10:80 -s rr
-a -t 10.96.0.10:80 -r 10.200.1.2:80 -m -w 1
-a -t 10.96.0.10:80 -r 10.200.2.2:80 -m -w 1" "$($IPVSADM -S -n | sort)"
check "connections visible (ipvsadm -Lnc)" sh -c "$IPVSADM -Lnc | grep -q '10.96.0.10:80'"

# The other readers the product's tests rely on work in this guest.
check "iptables-save (nft)" iptables-nft-save
check "iptables-save (legacy)" iptables-legacy-save
check "ipset with /etc/protocols" sh -c "$IPSET create t hash:ip,port && $IPSET add t 10.96.0.1,tcp:80 && $IPSET list t | grep -q 'tcp:80'"
check "conntrack -L" conntrack -L
check "bash with /dev/fd" bash -c 'cat <(echo x) >/dev/null'

finish
