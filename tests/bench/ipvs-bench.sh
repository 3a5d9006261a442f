#!/bin/bash
# Guest side of tests/bench/ipvs-bench: the same 10k x 10 table written by
# ipvsadm -R and by kipvs, each into a freshly loaded ip_vs (the kernel
# keeps deleted destinations around, which slows later adds:
# /work/shared/KERNEL-TESTING.md), then per-op latency and dumps.
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh
B=/test/ipvs-bench
N=${N:-10000} M=${M:-10} ROUNDS=${ROUNDS:-1000}

now() { printf '%s\n' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3g", a / b; else print "n/a" }'; }
value() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
reload() {
    $IPVSADM -C
    $MODPROBE -r ip_vs_rr ip_vs || fatal "cannot unload ip_vs"
    $MODPROBE ip_vs || fatal "cannot load ip_vs"
}

$MODPROBE ip_vs || fatal "modprobe ip_vs"
$MODPROBE ip_vs_rr
# The same table as ipvs-bench's: service i 10.96.(i/256).(i%256):80 rr,
# destination j 10.244.(j/256).(j%256+1):8080 masquerade weight 1.
awk -v n="$N" -v m="$M" 'BEGIN {
    for (i = 0; i < n; i++) {
        s = sprintf("10.96.%d.%d:80", int(i / 256), i % 256)
        printf "-A -t %s -s rr\n", s
        for (j = 0; j < m; j++) printf "-a -t %s -r 10.244.%d.%d:8080 -m -w 1\n", s, int(j / 256), j % 256 + 1
    }
}' > /tmp/table.rules
log "table: $N services x $M destinations ($(wc -l < /tmp/table.rules) ipvsadm lines)"

# ipvsadm -R into a fresh table.
t0=$(now); $IPVSADM -R < /tmp/table.rules; t1=$(now)
restore=$(elapsed "$t0" "$t1")
t0=$(now); $IPVSADM -S -n > /tmp/ipvsadm.save; t1=$(now)
ipvsadm_save=$(elapsed "$t0" "$t1")
t0=$(now); /test/kipvs dump --format ipvsadm > /tmp/kipvs.save; t1=$(now)
kipvs_dump=$(elapsed "$t0" "$t1")
if [ "$(sort /tmp/ipvsadm.save | md5sum)" = "$(sort /tmp/kipvs.save | md5sum)" ]; then same=yes; else same=NO; fi
log "ipvsadm -R: ${restore}s; ipvsadm -S -n: ${ipvsadm_save}s; kipvs dump: ${kipvs_dump}s (same text: $same)"

# One ipvsadm -a / -d at 10k services, for comparison (median of 5 pairs).
singles=()
for _ in 1 2 3 4 5; do
    t0=$(now); $IPVSADM -a -t 10.96.0.0:80 -r 10.244.3.232:8080 -m -w 1; t1=$(now)
    $IPVSADM -d -t 10.96.0.0:80 -r 10.244.3.232:8080
    singles+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) * 1000 }')")
done
ipvsadm_a_ms=$(printf '%s\n' "${singles[@]}" | sort -n | sed -n 3p)
log "one ipvsadm -a at $N services: ${ipvsadm_a_ms} ms (median of 5, process start included)"

# kipvs into a fresh table.
reload
out=$($B program "$N" "$M") || fatal "ipvs-bench program failed: $out"
program=$(value "$out" program_seconds)
log "kipvs program: ${program}s ($(value "$out" program_ops) ops, $(value "$out" program_failed) failed)"
out=$($B dump); kipvs_dump_inproc=$(value "$out" dump_seconds)
log "kipvs dump in process: ${kipvs_dump_inproc}s ($(value "$out" dump_services) services, $(value "$out" dump_destinations) destinations)"
# ip_vs calibrates its rate estimator in a kthread after the first service
# appears; let that settle so both churns measure the steady state.
sleep 3
out=$($B churn "$ROUNDS"); p50_big=$(value "$out" churn_p50_ms); p99_big=$(value "$out" churn_p99_ms)
log "churn at $N services: p50 ${p50_big} ms, p99 ${p99_big} ms"

reload
$B program 10 "$M" > /dev/null || fatal "ipvs-bench program 10 failed"
sleep 3
out=$($B churn "$ROUNDS"); p50_small=$(value "$out" churn_p50_ms); p99_small=$(value "$out" churn_p99_ms)
log "churn at 10 services: p50 ${p50_small} ms, p99 ${p99_small} ms"

echo "RESULT kipvs program / ipvsadm -R ($N x $M): $(ratio "$program" "$restore") (target <= 1.0, aim 0.5)"
echo "RESULT churn p99 at $N / p99 at 10: $(ratio "$p99_big" "$p99_small") (target <= 1.5)"
echo "RESULT kipvs op p50 / one ipvsadm -a: $(ratio "$p50_big" "$ipvsadm_a_ms")"
echo "RESULT kipvs dump / ipvsadm -S -n: $(ratio "$kipvs_dump" "$ipvsadm_save") (target <= 1.0; same text: $same)"
exit 0
