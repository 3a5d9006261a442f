#!/bin/bash
# Guest side of tests/bench/proxy-bench, all in one boot:
#  1. the reference: the same N services x M endpoints written by
#     `ip link add` + `ip -batch` + `ipset restore` + `ipvsadm -R`;
#  2. kipvs's first sync of that state (plan + Reconciler::full_sync);
#  3. one endpoint change at N services and at 10 services, ROUNDS times each.
# Each step starts from a freshly loaded ip_vs: the kernel keeps deleted
# destinations around for minutes and every later add walks them
# (/work/shared/KERNEL-TESTING.md). Prints figures and ratios; never fails
# on time.
# Arguments: N M ROUNDS (the launcher passes its environment's, or the issue's
# 10000 10 1000).
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh
B=/test/proxy-bench
N=${1:-10000} M=${2:-10} ROUNDS=${3:-1000}

now() { printf '%s\n' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3g", a / b; else print "n/a" }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
value() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
# Changes of a local endpoint also write KUBE-LOOP-BACK: shown apart.
split() {
    log "  IPVS only: $(value "$1" ipvs_only_changes) changes, p50 $(value "$1" ipvs_only_p50_ms) ms," \
        "p99 $(value "$1" ipvs_only_p99_ms) ms; with a KUBE-LOOP-BACK change: $(value "$1" with_set_changes)," \
        "p50 $(value "$1" with_set_p50_ms) ms, p99 $(value "$1" with_set_p99_ms) ms"
}

# Everything either side wrote, then a fresh ip_vs.
clean() {
    if [ -n "${IPT:-}" ]; then
        for t in nat filter; do $IPT -t "$t" -F 2>/dev/null; $IPT -t "$t" -X 2>/dev/null; done
    fi
    $IPVSADM -C
    for s in $($IPSET list -n); do
        case $s in KUBE-*) $IPSET destroy "$s" || fatal "ipset destroy $s" ;; esac
    done
    $IP link del kube-ipvs0 2>/dev/null
    $MODPROBE -r ip_vs_rr ip_vs || fatal "cannot unload ip_vs"
    $MODPROBE -a ip_vs ip_vs_rr || fatal "cannot load ip_vs"
}

$MODPROBE -a ip_vs ip_vs_rr dummy || fatal "modprobe ip_vs ip_vs_rr dummy"
log "size: N=$N services x M=$M endpoints, ROUNDS=$ROUNDS changes (override with N, M, ROUNDS in the launcher's environment)"

# ---------------------------------------------------------------- reference
mkdir -p /tmp/ref
out=$($B emit "$N" "$M" /tmp/ref) || fatal "proxy-bench emit failed: $out"
IPT_RESTORE=$(value "$out" iptables_restore)
IPT=${IPT_RESTORE%-restore}
log "state: $(value "$out" virtual_servers) virtual servers, $(value "$out" destinations) destinations," \
    "$(value "$out" set_entries) set entries, $(value "$out" addresses) addresses; iptables: ${IPT_RESTORE:-none}"

t0=$(now)
$IP link add kube-ipvs0 type dummy || fatal "ip link add kube-ipvs0"
$IP -batch /tmp/ref/ip.batch || fatal "ip -batch"
t1=$(now)
$IPSET restore < /tmp/ref/ipset.restore || fatal "ipset restore"
t2=$(now)
$IPVSADM -R < /tmp/ref/ipvsadm.rules || fatal "ipvsadm -R"
t3=$(now)
ref_ip=$(elapsed "$t0" "$t1") ref_ipset=$(elapsed "$t1" "$t2") ref_ipvsadm=$(elapsed "$t2" "$t3")
reference=$(elapsed "$t0" "$t3")
ref_ipt=0
if [ -n "$IPT_RESTORE" ]; then
    t0=$(now); $IPT_RESTORE --noflush < /tmp/ref/iptables.restore || fatal "iptables-restore"; t1=$(now)
    ref_ipt=$(elapsed "$t0" "$t1")
fi
reference_all=$(sum "$reference" "$ref_ipt")
log "reference: ${reference}s (ip link add + ip -batch ${ref_ip}s, ipset restore ${ref_ipset}s, ipvsadm -R ${ref_ipvsadm}s);" \
    "iptables-restore --noflush ${ref_ipt}s more"
ref_vs=$($IPVSADM -S -n | grep -c '^-A')
ref_dests=$($IPVSADM -S -n | grep -c '^-a')
clean

# ---------------------------------------------------------------- first sync
out=$($B first-sync "$N" "$M") || fatal "proxy-bench first-sync failed: $out"
plan=$(value "$out" plan_seconds) sync=$(value "$out" sync_seconds)
sync_rss=$(value "$out" rss_kb) sync_hwm=$(value "$out" vm_hwm_kb)
kipvs_vs=$($IPVSADM -S -n | grep -c '^-A')
kipvs_dests=$($IPVSADM -S -n | grep -c '^-a')
log "kipvs: plan ${plan}s, full_sync ${sync}s; kernel holds $kipvs_vs virtual servers, $kipvs_dests destinations" \
    "(reference: $ref_vs, $ref_dests); RSS $(mb "$sync_rss") MiB, peak $(mb "$sync_hwm") MiB"
clean

# ---------------------------------------------------------------- changes
out=$($B changes "$N" "$M" "$ROUNDS") || fatal "proxy-bench changes $N failed: $out"
p50_big=$(value "$out" p50_ms) p99_big=$(value "$out" p99_ms) max_big=$(value "$out" max_ms)
changes_rss=$(value "$out" rss_kb) changes_hwm=$(value "$out" vm_hwm_kb)
log "one endpoint change at $N services: p50 ${p50_big} ms, p99 ${p99_big} ms, max ${max_big} ms" \
    "($(value "$out" change_unexpected) unexpected reports); RSS $(mb "$changes_rss") MiB, peak $(mb "$changes_hwm") MiB"
split "$out"
clean
out=$($B changes 10 "$M" "$ROUNDS") || fatal "proxy-bench changes 10 failed: $out"
p50_small=$(value "$out" p50_ms) p99_small=$(value "$out" p99_ms) max_small=$(value "$out" max_ms)
log "one endpoint change at 10 services: p50 ${p50_small} ms, p99 ${p99_small} ms, max ${max_small} ms"
split "$out"

rss=$sync_rss
[ "$changes_rss" -gt "$rss" ] && rss=$changes_rss
hwm=$sync_hwm
[ "$changes_hwm" -gt "$hwm" ] && hwm=$changes_hwm

echo "SUMMARY proxy core at $N services x $M endpoints (ROUNDS=$ROUNDS), one boot"
echo "  reference (ip link/-batch + ipset restore + ipvsadm -R): ${reference}s (+ iptables-restore: ${reference_all}s)"
echo "  kipvs first sync: ${sync}s (+ plan ${plan}s)"
echo "  one change at $N: p50 ${p50_big} ms, p99 ${p99_big} ms, max ${max_big} ms"
echo "  one change at 10: p50 ${p50_small} ms, p99 ${p99_small} ms, max ${max_small} ms"
echo "  RSS after sync $(mb "$sync_rss") MiB, after changes $(mb "$changes_rss") MiB, peak $(mb "$hwm") MiB"
echo "RESULT kipvs full_sync / reference: $(ratio "$sync" "$reference") (target <= 1.0);" \
    "/ reference with iptables-restore: $(ratio "$sync" "$reference_all");" \
    "plan + sync / reference: $(ratio "$(sum "$plan" "$sync")" "$reference")"
echo "RESULT change p99 at $N / p99 at 10: $(ratio "$p99_big" "$p99_small") (target <= 1.5)"
echo "RESULT change p99 at $N: ${p99_big} ms (target < 100 ms)"
echo "RESULT RSS at $N x $M: $(mb "$rss") MiB, peak $(mb "$hwm") MiB (target < 50 MB)"
exit 0
