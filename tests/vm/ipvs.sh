#!/bin/sh
# kipvs's IPVS programmer against a real kernel, read back by ipvsadm:
# (1) round trips both ways, (2) real traffic through a kipvs-programmed
# service, (3) per-operation errors in a batch that still applies the rest.
# Needs /test/kipvs and /test/ipvs-vm-test (tests/vm/meson.build ships them).
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh
T=/test/ipvs-vm-test

save_sorted() { $IPVSADM -S -n | sort; }
dump_sorted() { /test/kipvs dump --format ipvsadm | sort; }

# --- before ip_vs is loaded: a clear error, not an empty table.
# With /sbin/modprobe present the kernel's family lookup would load ip_vs
# on its own (request_module), so hide it for this one check.
mv /sbin/modprobe /sbin/modprobe.hidden
out=$(/test/kipvs dump 2>&1); rc=$?
mv /sbin/modprobe.hidden /sbin/modprobe
log "kipvs dump without ip_vs: $out"
check_not "ip_vs still not loaded" module_loaded ip_vs
check "dump without ip_vs fails" test "$rc" -eq 1
says_why() { printf '%s\n' "$out" | grep -q 'IPVS not available: is the ip_vs module loaded?'; }
check "dump without ip_vs says why" says_why
check "modprobe ip_vs" "$MODPROBE" ip_vs
check "dump of an empty table is empty" test -z "$(/test/kipvs dump --format ipvsadm)"
check "dump --format save has its IPVS part" sh -c "/test/kipvs dump --format save | grep -q '^# IPVS'"

# --- (1a) a table written by ipvsadm reads back identically through kipvs.
$IPVSADM -R <<'EOF'
-A -t 10.96.0.10:80 -s rr
-a -t 10.96.0.10:80 -r 10.244.1.2:80 -m -w 1
-a -t 10.96.0.10:80 -r 10.244.1.3:80 -g -w 5 -x 100 -y 10
-a -t 10.96.0.10:80 -r 10.244.1.4:80 -i -w 0
-A -u 10.96.0.11:53 -s wrr -p 10800 -M 255.255.255.0 -o
-a -u 10.96.0.11:53 -r 10.1.2.3:53 -m -w 65536
-A --sctp-service 10.96.0.12:9 -s sh -b sh-fallback,sh-port
-A -t 10.96.0.13:80 -s mh -b mh-fallback,mh-port
-A -t 10.96.0.14:80 -s dh -p 30 --pe sip
-A -t 10.96.0.15:80 -s sed
-A -t 10.96.0.16:80 -s nq
-A -t 10.96.0.17:80 -s fo
-A -t 10.96.0.18:80 -s ovf
-A -t 10.96.0.19:80 -s lc
-A -t 10.96.0.20:80 -s wlc -p
-A -t 10.96.0.21:80 -s lblc
-A -t 10.96.0.22:80 -s lblcr
-A -f 5 -s lc
-a -f 5 -r 10.244.1.9:0 -m
-A -f 6 -6 -s wlc
-A -t [fd00::1]:80 -s lblc -p 60 -M 64
-a -t [fd00::1]:80 -r [fd00::2]:80 -m
-A -u [fd00::1]:53 -s lblcr
-a -u [fd00::1]:53 -r 10.1.1.1:53 -i --tun-type gue --tun-port 6080 --tun-nocsum
-a -u [fd00::1]:53 -r 10.1.1.2:53 -i --tun-type gue --tun-port 6081 --tun-csum
-a -u [fd00::1]:53 -r 10.1.1.3:53 -i --tun-type gue --tun-port 6082 --tun-remcsum
-a -u [fd00::1]:53 -r 10.1.1.4:53 -i --tun-type gre --tun-csum
-a -u [fd00::1]:53 -r 10.1.1.5:53 -i --tun-type ipip
EOF
check "ipvsadm -R of the reference table" test $? -eq 0
log "$($IPVSADM -S -n | wc -l) lines written by ipvsadm"
expect_eq "(1a) kipvs dump == ipvsadm -S -n (table built by ipvsadm)" "$(save_sorted)" "$(dump_sorted)"
check "dump --format json" sh -c "/test/kipvs dump --format json | grep -q '\"address\":\"10.96.0.10\",\"port\":80'"
check "ipvsadm -C" "$IPVSADM" -C

# --- (1b) a table written by kipvs reads back identically through ipvsadm.
expected_write() {
    port=1000
    for s in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh; do
        printf '%s\n' "-A -t 10.96.1.1:$port -s $s" \
            "-a -t 10.96.1.1:$port -r 10.244.1.1:80 -m -w 1" \
            "-a -t 10.96.1.1:$port -r 10.244.1.2:8080 -m -w 3"
        port=$((port + 1))
    done
    cat <<'EOF'
-A -u 10.96.2.1:53 -s wrr -p 10800 -M 255.255.255.0 -o
-a -u 10.96.2.1:53 -r 10.244.2.1:53 -g -w 5
-a -u 10.96.2.1:53 -r 10.244.2.2:53 -i -w 0 --tun-type ipip
-a -u 10.96.2.1:53 -r 10.244.2.3:53 -m -w 65536
-A --sctp-service 10.96.2.2:9 -s sh -b sh-fallback,sh-port
-A -t 10.96.2.3:80 -s mh -b mh-port
-A -u 10.96.2.4:5060 -s rr -p 30 --pe sip
-A -t [fd00::1]:80 -s lblc -p 60 -M 64
-a -t [fd00::1]:80 -r [fd00::2]:80 -m -w 1
-A -u [fd00::1]:53 -s rr
-a -u [fd00::1]:53 -r 10.1.1.1:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -u [fd00::1]:53 -r 10.1.1.2:53 -i -w 1 --tun-type gue --tun-port 6081 --tun-csum
-a -u [fd00::1]:53 -r 10.1.1.3:53 -i -w 1 --tun-type gue --tun-port 6082 --tun-remcsum
-a -u [fd00::1]:53 -r 10.1.1.4:53 -i -w 1 --tun-type gre --tun-csum
-a -u [fd00::1]:53 -r [fd00::5]:53 -i -w 1 --tun-type ipip
-A -f 5 -s lc
-a -f 5 -r 10.244.3.1:0 -m -w 1
-A -f 6 -6 -s wlc
EOF
}
check "(1b) kipvs writes the reference table in one batch" $T write
expect_eq "(1b) ipvsadm -S -n == what kipvs wrote" "$(expected_write | sort)" "$(save_sorted)"
expect_eq "(1b) kipvs dump == ipvsadm -S -n (table built by kipvs)" "$(save_sorted)" "$(dump_sorted)"
check "thresholds written (ipvsadm -L --thresholds)" sh -c \
    "$IPVSADM -L -n --thresholds | grep -Eq '10.244.2.1:53 +100 +10 '"
out=$($T write); rc=$?
check "(1b) writing it again succeeds" test "$rc" -eq 0
check "(1b) ... as edits of what exists" test "$(printf '%s\n' "$out" | grep -vc '(edited)$')" -eq 0
expect_eq "(1b) ... and changes nothing" "$(expected_write | sort)" "$(save_sorted)"
check "info" sh -c "$T info | grep -q '^version 1.2.1 size 4096$'"
check "timeouts read" sh -c "$T info | grep -q '^timeouts 900 120 300$'"
check "timeouts set (0 = unchanged)" $T timeouts 1000 0 200
check "timeouts read back by ipvsadm" sh -c "$IPVSADM -L --timeout | grep -q '1000 120 200'"
check "flush" $T flush
check "flushed" test -z "$(save_sorted)"

# --- (2) real traffic through a kipvs-programmed service.
check "backend1 netns" make_backend backend1 1
check "backend2 netns" make_backend backend2 2
check "kube-ipvs0 with 10.96.0.10" make_kube_ipvs0 10.96.0.10
echo 1 > /proc/sys/net/ipv4/ip_forward
check "(2) kipvs programs 10.96.0.10:80 rr" $T traffic-rr
answers() {
    _got=''
    for _ in $(seq "$1"); do _got="$_got $(http_get http://10.96.0.10/ || echo ERROR)"; done
    printf '%s\n' "${_got# }"
}
got=$(answers 4)
log "rr: $got"
# shellcheck disable=SC2086 # split into the answers
set -- $got
check "(2) rr: 4 answers" test $# -eq 4
check "(2) rr: answers alternate" test "$1" != "$2" -a "$1" = "$3" -a "$2" = "$4"
check "(2) rr: both backends answer" test "$(printf '%s\n' "$1" "$2" | sort | tr '\n' ' ')" = "backend1 backend2 "
check "(2) kipvs switches to wrr 3:1 in place" $T traffic-wrr
expect_eq "(2) wrr table" "-A -t 10.96.0.10:80 -s wrr
-a -t 10.96.0.10:80 -r 10.200.1.2:80 -m -w 3
-a -t 10.96.0.10:80 -r 10.200.2.2:80 -m -w 1" "$(save_sorted)"
got=$(answers 8)
log "wrr: $got"
n1=$(printf '%s\n' $got | grep -c '^backend1$')
n2=$(printf '%s\n' $got | grep -c '^backend2$')
expect_eq "(2) wrr: 8 requests split 6:2" "6 2" "$n1 $n2"

# --- (3) errors: reported per operation, the rest of the batch applied.
check "victim service" $T victim
check "victim deleted underneath (ipvsadm -D)" "$IPVSADM" -D -t 10.96.3.1:80
out=$($T errors 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check "(3) 6 operations failed" test "$rc" -eq 6
has() { printf '%s\n' "$out" | grep -qF -- "$1"; }
check "(3) bad scheduler named" has 'error add service TCP 10.96.3.3:80: No such file or directory (errno 2): scheduler "nosuchsched" not available'
check "(3) service deleted underneath" has 'error edit service TCP 10.96.3.1:80: No such process (errno 3): the service does not exist'
check "(3) destination for the deleted service" has 'error add destination 10.244.9.1:80 to TCP 10.96.3.1:80: No such process (errno 3)'
check "(3) destination for a missing service" has 'error add destination 10.244.9.2:80 to TCP 10.96.3.9:80: No such process (errno 3)'
check "(3) edit of a missing destination" has 'error edit destination 10.244.9.4:80 of TCP 10.96.3.2:80: No such file or directory (errno 2): the destination does not exist'
check "(3) bad persistence engine" has 'persistence engine "nosuchpe" not available'
check "(3) deletes of missing objects succeed" has 'ok delete service TCP 10.96.3.8:80'
expect_eq "(3) the rest of the batch applied" "-A -t 10.96.0.10:80 -s wrr
-A -t 10.96.3.2:80 -s rr
-a -t 10.96.0.10:80 -r 10.200.1.2:80 -m -w 3
-a -t 10.96.0.10:80 -r 10.200.2.2:80 -m -w 1
-a -t 10.96.3.2:80 -r 10.244.9.3:80 -m -w 1
-a -t 10.96.3.2:80 -r 10.244.9.6:80 -m -w 2" "$(save_sorted)"
# Kernel 6.1 answers a destination dump of a missing service with an empty
# dump, not ESRCH: the caller cannot tell, so table() tolerates both.
check "dump of a missing service's destinations is empty or an error" sh -c \
    "$T missing-dests | grep -Eq '^(0 destinations|.*No such process.*)$'"

finish
