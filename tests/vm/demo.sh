#!/bin/sh
# The README's demo, inside the VM: kipvs proxies real traffic for the
# services in configs/demo (static manifests, no cluster needed). Backends
# and a client are network namespaces; "demo-node" is this VM.
# Run by scripts/demo; also usable by hand:
#   tests/vm/vm-run --file build/kipvs --file configs/demo.yaml --file configs/demo tests/vm/demo.sh
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh

KIPVS=/test/kipvs
CONFIG=/test/demo.yaml
LOG=/tmp/kipvs.log

step() { printf '\n=== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
get() { $NS client busybox timeout 5 busybox wget -q -O - "$1" 2>/dev/null || echo "(no answer)"; }
ask() {
    _i=0
    while [ $_i -lt "$1" ]; do
        printf '  GET %s -> %s\n' "$2" "$(get "$2")"
        _i=$((_i + 1))
    done
}

step "backends backend1, backend2, backend3 and a client, each in its own network namespace"
for n in 1 2 3; do make_backend "backend$n" "$n" || fatal "backend$n"; done
make_backend client 9 8080 || fatal "client"

step "kipvs run --config demo.yaml (manifests: $(ls /test/demo | tr '\n' ' '))"
$KIPVS run --config $CONFIG >$LOG 2>&1 &
pid=$!
i=0
until grep -q 'first sync' $LOG; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat $LOG; fatal "kipvs did not sync"; }
    sleep 0.2
done
sed 's/^/  | /' $LOG

step "what kipvs programmed"
show $IPVSADM -Ln
show $IP -4 addr show dev kube-ipvs0
show $IPSET list KUBE-CLUSTER-IP

step "requests through the ClusterIP 10.96.0.10:80 (round robin)"
ask 4 http://10.96.0.10/
step "requests through the NodePort 10.200.9.1:30080"
ask 4 http://10.200.9.1:30080/
step "the selectorless 'database' service (ClientIP affinity) through its Endpoints"
ask 2 http://10.96.0.20:5432/

step "edit the manifest live: backend2 is replaced by backend3"
printf '$ sed -i s/10.200.2.2/10.200.3.2/ demo/web.yaml\n'
lines_before=$(wc -l <$LOG)
sed -i 's/- addresses: \[10.200.2.2\]/- addresses: [10.200.3.2]/' /test/demo/web.yaml
i=0
until $IPVSADM -S -n | grep -q -- '-r 10.200.3.2:80'; do
    i=$((i + 1))
    [ $i -lt 50 ] || fatal "the edit did not reach the kernel"
    sleep 0.2
done
tail -n +"$((lines_before + 1))" $LOG | sed 's/^/  | /'
show $IPVSADM -Ln -t 10.96.0.10:80
ask 4 http://10.96.0.10/

step "stop kipvs: the rules stay, traffic keeps flowing"
kill -TERM $pid
wait $pid 2>/dev/null
tail -n 1 $LOG | sed 's/^/  | /'
ask 2 http://10.96.0.10/
printf '\ndemo done\n'
