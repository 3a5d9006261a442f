#!/bin/bash
# kipvs under a real systemd as PID 1 (tests/vm/vm-run --systemd), installed
# as a node has it: /usr/bin/kipvs, systemd/kipvs.service, /etc/kipvs.yaml
# reading static manifests. Checks: the unit is active only after the first
# sync; `systemctl reload` refuses a broken file and applies a good one;
# journald keeps kipvs's levels; a hung kipvs (SIGSTOP) is killed and
# restarted by the watchdog while the rules stay and a ClusterIP keeps
# answering; `systemctl stop` leaves the rules; with the API server away at
# boot, the unit becomes ready on the previous run's rules, deleting nothing.
# Run: tests/vm/vm-run --systemd --file build/kipvs --file systemd/kipvs.service
#        --file configs/demo tests/vm/systemd.sh
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh

[ "$(cat /proc/1/comm)" = systemd ] || skip "PID 1 is not systemd (run with vm-run --systemd)"

prop() { systemctl show -p "$1" --value kipvs; }
rules() { $IPVSADM -S -n | sort; }
config() {
    cat > /etc/kipvs.yaml <<CFG
apiVersion: kipvs.io/v1alpha1
kind: KipvsConfiguration
hostnameOverride: demo-node
clusterCIDR: 10.200.0.0/16
ipvs:
  scheduler: $1
kipvs:
  manifests: /etc/kipvs/manifests
CFG
}

check "backend1" make_backend backend1 1
check "backend2" make_backend backend2 2
check "client netns" make_backend client 9 8080

# --- installed as the package lays it out -----------------------------------
cp /test/kipvs /usr/bin/kipvs && chmod 755 /usr/bin/kipvs
cp /test/kipvs.service /etc/systemd/system/kipvs.service
mkdir -p /etc/kipvs/manifests
cp /test/demo/*.yaml /etc/kipvs/manifests/
config rr
# What the package's tmpfiles.d/kipvs.conf makes at boot: the unit's
# sandbox cannot create files in /run.
touch /run/xtables.lock
systemctl daemon-reload

# --- start: active only once the first sync is in the kernel ----------------
t0=$(date +%s)
check "systemctl start kipvs" systemctl start kipvs
log "systemctl start returned after $(($(date +%s) - t0)) s"
if [ "$(systemctl is-active kipvs)" != active ]; then
    systemctl --no-pager status kipvs
    journalctl -b --no-pager -o short-monotonic | tail -40
    fatal "kipvs did not start; the remaining checks need it"
fi
expect_eq "active" active "$(systemctl is-active kipvs)"
# start returns when systemd has READY=1: the rules must be there already.
check "ClusterIP programmed when start returned" sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.96.0.10:80 -s rr'"
journalctl -b --no-pager -o cat | grep -E 'first sync|Started kipvs.service' | sed 's/^/    | /'
first=$(journalctl -b --no-pager -o cat | grep -n 'first sync' | head -1 | cut -d: -f1)
started=$(journalctl -b --no-pager -o cat | grep -n 'Started kipvs.service' | head -1 | cut -d: -f1)
check "first sync logged before systemd saw the unit started" test "${first:-999999}" -lt "${started:-0}"
status=$(prop StatusText)
log "STATUS: $status"
check "STATUS has the counts, the last sync and the source" \
    sh -c "echo '$status' | grep -Eq '^[0-9]+ services, [0-9]+ endpoints, [0-9]+ virtual servers; last sync [0-9:]+Z; manifests in /etc/kipvs/manifests: listed$'"
got=$(requests 4 http://10.96.0.10/)
log "ClusterIP answers: $got"
# shellcheck disable=SC2086
expect_eq "ClusterIP balances over both backends" "backend1 backend2" "$(distinct $got)"

# --- reload ----------------------------------------------------------------
before=$(rules)
printf 'apiVersion: kipvs.io/v1alpha1\nkind: KipvsConfiguration\nipvs:\n  scheduler: nonsense\n' > /etc/kipvs.yaml
check "reload with a broken file" systemctl reload kipvs
check "the refusal is logged with its error" wait_for 20 sh -c \
    "journalctl -u kipvs --no-pager -o cat | grep -q 'reload: .*nonsense.*the running configuration stays'"
expect_eq "still active after a refused reload" active "$(systemctl is-active kipvs)"
sleep 2
expect_eq "the rules did not change" "$before" "$(rules)"
config sh
check "reload with a good file" systemctl reload kipvs
check "the new scheduler reaches the kernel" wait_for 30 sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.96.0.10:80 -s sh'"
check "the reload says what it applied" sh -c \
    "journalctl -u kipvs --no-pager -o cat | grep -q 'reload: scheduler (all services replanned)'"
expect_eq "active after the reload" active "$(systemctl is-active kipvs)"
expect_eq "reload did not restart kipvs" 0 "$(prop NRestarts)"

# --- journald keeps the levels ----------------------------------------------
journalctl -u kipvs --no-pager -o verbose | grep -E '^ *PRIORITY=' | sort | uniq -c | sed 's/^/    | /'
check "info lines at priority 6" sh -c "journalctl -u kipvs --no-pager -p info..info -o cat | grep -q 'first sync'"
check "the refused reload at priority 3 (err)" sh -c \
    "journalctl -u kipvs --no-pager -p err..err -o cat | grep -q 'the running configuration stays'"
check_not "no info line among errors" sh -c "journalctl -u kipvs --no-pager -p err -o cat | grep -q 'first sync'"
check_not "no <N> prefix left in messages" sh -c "journalctl -u kipvs --no-pager -o cat | grep -q '^<[0-9]>'"

# --- the watchdog kills a hung kipvs; the kernel keeps serving --------------
mkdir -p /etc/systemd/system/kipvs.service.d
printf '[Service]\nWatchdogSec=10s\nRestartSec=1s\n' > /etc/systemd/system/kipvs.service.d/test.conf
systemctl daemon-reload
check "restart under a 10 s watchdog" systemctl restart kipvs
expect_eq "the unit's watchdog period" 10s "$(prop WatchdogUSec)"
restarts=$(prop NRestarts)
sleep 12   # longer than the watchdog: a turning kipvs is not killed
expect_eq "a healthy kipvs is not restarted by the watchdog" "$restarts" "$(prop NRestarts)"
check "kipvs pings the watchdog" sh -c "journalctl -u kipvs --no-pager -o cat | grep -q 'systemd watchdog: pinging every 5000.0 ms'"
pid=$(prop MainPID)
before=$(rules)
traffic_start http://10.96.0.10/
t0=$(date +%s)
kill -STOP "$pid"
log "kipvs (pid $pid) stopped"
sleep 3
expect_eq "rules in place while kipvs hangs" "$before" "$(rules)"
check "a new kipvs after the watchdog fired" wait_for 60 sh -c \
    "[ \"\$(systemctl show -p MainPID --value kipvs)\" != $pid ] && [ \"\$(systemctl is-active kipvs)\" = active ]"
log "replaced after $(($(date +%s) - t0)) s; MainPID $(prop MainPID), NRestarts $(prop NRestarts)"
sleep 2
traffic_stop "the hang and the restart" 10
journalctl -b --no-pager -o cat | grep -iE 'watchdog' | sed 's/^/    | /'
check "systemd reported the watchdog timeout" sh -c "journalctl -b --no-pager -o cat | grep -q 'Watchdog timeout'"
expect_eq "restarted once" $((restarts + 1)) "$(prop NRestarts)"
expect_eq "the restarted kipvs adopted the rules unchanged" "$before" "$(rules)"

# --- stop leaves the rules ----------------------------------------------------
check "systemctl stop kipvs" systemctl stop kipvs
expect_eq "inactive" inactive "$(systemctl is-active kipvs)"
expect_eq "rules in place after stop" "$before" "$(rules)"
got=$(requests 2 http://10.96.0.10/)
check "ClusterIP answers with kipvs stopped" sh -c "! echo '$got' | grep -q ERROR"

# --- API server away at boot: ready on the previous rules, nothing deleted ---
cat > /etc/kipvs/kubeconfig <<'KC'
apiVersion: v1
kind: Config
clusters:
- name: away
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: kipvs
  user: {token: t}
contexts:
- name: away
  context: {cluster: away, user: kipvs}
current-context: away
KC
cat > /etc/kipvs.yaml <<'CFG'
apiVersion: kipvs.io/v1alpha1
kind: KipvsConfiguration
hostnameOverride: demo-node
clusterCIDR: 10.200.0.0/16
clientConnection:
  kubeconfig: /etc/kipvs/kubeconfig
ipvs:
  scheduler: sh
CFG
t0=$(date +%s)
check "start with the API server unreachable" systemctl start kipvs
log "ready after $(($(date +%s) - t0)) s"
expect_eq "active without the API server" active "$(systemctl is-active kipvs)"
status=$(prop StatusText)
log "STATUS: $status"
check "STATUS says the API is unreachable and the rules are kept" \
    sh -c "echo '$status' | grep -q 'unreachable since start; keeping [0-9]* IPVS virtual servers'"
restarts=$(prop NRestarts)
sleep 12   # past the 10 s watchdog: an API outage is not a hang
expect_eq "no watchdog restart while the API is away" "$restarts" "$(prop NRestarts)"
expect_eq "still active while the API is away" active "$(systemctl is-active kipvs)"
expect_eq "nothing deleted while the API is away" "$before" "$(rules)"
check "stop" systemctl stop kipvs
finish
