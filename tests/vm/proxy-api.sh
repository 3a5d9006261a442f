#!/bin/sh
# kipvs run against the test API server on the host (tests/vm/proxy-api-test
# starts it and forwards 10.0.2.100:6443 to it): the static musl binary
# resolves the server's name through /etc/hosts, completes a verified TLS
# handshake (tls-server-name), lists and watches, programs the kernel, and a
# change pushed by the host through a watch reaches the kernel and traffic.
# A listener here holds port 30100 before the daemon starts: the host then
# adds an eTP=Local Service with that health-check node port and checks the
# FailedToStartServiceHealthcheck Event kipvs posts (and its start Event).
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh

KIPVS=/test/kipvs
CONFIG=/test/kipvs.yaml
LOG=/tmp/kipvs.log

echo "10.0.2.100 kube-api.test" >> /etc/hosts
for n in 1 2 3; do check "backend$n" make_backend "backend$n" "$n"; done
check "client netns" make_backend client 9 8080
get() { $NS client busybox timeout 5 busybox wget -q -O - "$1" 2>/dev/null || echo ERROR; }

check "kipvs run --once from the API server" sh -c "busybox timeout 60 $KIPVS run --once --config $CONFIG >$LOG 2>&1"
sed 's/^/    | /' $LOG
expect_eq "ipvsadm -S -n" "-A -t 10.96.0.10:80 -s rr
-a -t 10.96.0.10:80 -r 10.200.1.2:80 -m -w 1
-a -t 10.96.0.10:80 -r 10.200.2.2:80 -m -w 1" "$($IPVSADM -S -n)"
got="$(get http://10.96.0.10/) $(get http://10.96.0.10/)"
log "ClusterIP from the client: $got"
expect_eq "both backends answer" "backend1 backend2" "$(printf '%s\n' $got | sort | tr '\n' ' ' | sed 's/ $//')"

mkdir -p /tmp/www-busy
check "a listener holds port 30100 before kipvs binds it" busybox httpd -p 0.0.0.0:30100 -h /tmp/www-busy
$KIPVS run --config $CONFIG >$LOG 2>&1 &
pid=$!
check "daemon's first sync" wait_for 30 grep -q 'first sync' $LOG
echo "# ready for a change"
# The host first waits (up to 90 s) for the Events, then pushes the change.
check "the watched change reaches the kernel" wait_for 150 sh -c "$IPVSADM -S -n | grep -q -- '-r 10.200.3.2:80'"
check "the busy health-check node port is logged" grep -q 'health check of default/edge: .*30100' $LOG
check "backend3 takes traffic" wait_for 10 sh -c "$NS client busybox timeout 5 busybox wget -q -O - http://10.96.0.10/ | grep -q backend3"
kill -TERM $pid
sed 's/^/    | /' $LOG

# --- the static binary in an image with no libc, through musl's resolver -----
root=/tmp/nolibc
mkdir -p $root/bin $root/etc $root/test $root/tmp $root/proc
cp /bin/busybox $root/bin/busybox
cp $KIPVS $root/kipvs
cp /test/kipvs.yaml $root/test/kipvs.yaml
echo "10.0.2.100 kube-api.test" > $root/etc/hosts
check "the image holds no libc and no loader" sh -c "! find $root -name 'ld-*' -o -name 'libc*' | grep -q ."
plan_in_root() { chroot $root /kipvs --config /test/kipvs.yaml plan --format ipvsadm 2>/tmp/plan.err; }
cp /test/kubeconfig $root/test/kubeconfig
got=$(plan_in_root)
expect_eq "plan in the libc-free image, name from /etc/hosts, verified TLS" "-A -t 10.96.0.10:80 -s rr
-a -t 10.96.0.10:80 -r 10.200.1.2:80 -m -w 1
-a -t 10.96.0.10:80 -r 10.200.3.2:80 -m -w 1" "$got"
[ -n "$got" ] || sed 's/^/    | /' /tmp/plan.err

# A DNS server in its own network namespace answers kube-dns.test.
check "dns netns" make_backend dns 5
$NS dns /test/dns-responder 10.200.5.2 kube-dns.test 10.0.2.100 &
dns=$!
echo "nameserver 10.200.5.2" > $root/etc/resolv.conf
sed 's/kube-api.test/kube-dns.test/' /test/kubeconfig > $root/test/kubeconfig
got=$(plan_in_root)
expect_eq "plan in the libc-free image, name from DNS, verified TLS" "-A -t 10.96.0.10:80 -s rr
-a -t 10.96.0.10:80 -r 10.200.1.2:80 -m -w 1
-a -t 10.96.0.10:80 -r 10.200.3.2:80 -m -w 1" "$got"
[ -n "$got" ] || sed 's/^/    | /' /tmp/plan.err
# A name the DNS server does not know: the error names the server's URL.
sed 's/kube-api.test/missing.test/' /test/kubeconfig > $root/test/kubeconfig
chroot $root /bin/busybox timeout 5 /kipvs --config /test/kipvs.yaml plan --format ipvsadm >/dev/null 2>/tmp/plan.err
sed 's/^/    | /' /tmp/plan.err | head -3
check "an unknown name is reported with the server's URL" grep -q 'resolve https://missing.test:6443' /tmp/plan.err
kill $dns
finish
