#!/bin/bash
# Guest side of tests/bench/run-memory-bench: `kipvs run` from the API
# server, then from manifests; RSS and peak once the first sync is logged.
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh
N=${1:-10000} M=${2:-10}
echo "10.0.2.100 kube-api.test" >> /etc/hosts
for mode in api manifests; do
    /test/kipvs run --config /test/bench/$mode.yaml >/tmp/$mode.log 2>&1 &
    pid=$!
    start=$EPOCHREALTIME
    if ! wait_for 900 grep -q 'first sync' /tmp/$mode.log; then
        log "$mode: no first sync:"; sed 's/^/    /' /tmp/$mode.log | tail -20
        kill -TERM $pid; wait $pid; continue
    fi
    took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    sleep 2  # let the first sync's temporaries go
    rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$pid/status)
    hwm=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$pid/status)
    log "$(grep 'first sync' /tmp/$mode.log | sed 's/^[^ ]* [a-z]* *//')"
    log "RESULT kipvs run from $mode at $N x $M: RSS $rss MiB, peak $hwm MiB (target < 50 MB); first sync logged after $took s"
    kill -TERM $pid
    wait $pid
done
# The same sources without the reconciler: `kipvs plan --follow` holds the
# informers (or manifests), the store and the plans, and nothing of the kernel.
for mode in api manifests; do
    /test/kipvs plan --follow --format ipvsadm --config /test/bench/$mode.yaml >/tmp/plan-$mode.out 2>/tmp/plan-$mode.log &
    pid=$!
    if ! wait_for 900 grep -q -- '^-A ' /tmp/plan-$mode.out; then
        log "plan from $mode: no output:"; tail -20 /tmp/plan-$mode.log | sed 's/^/    /'
        kill -TERM $pid; wait $pid; continue
    fi
    sleep 5  # the whole table printed
    rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$pid/status)
    hwm=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$pid/status)
    log "RESULT kipvs plan --follow from $mode at $N x $M (no reconciler): RSS $rss MiB, peak $hwm MiB"
    kill -TERM $pid
    wait $pid
done
