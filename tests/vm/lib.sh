# shellcheck shell=sh disable=SC2034 # the $IP... paths are for the scripts
# Helpers for guest scripts run by tests/vm/vm-run (shipped as /test/lib.sh).
# POSIX sh: guest scripts usually run under busybox sh, where busybox applets
# win over PATH, so iproute2, ipvsadm, ipset and modprobe are called by
# absolute path ($IP, $IPVSADM, ...).
#
#   . /test/lib.sh
#   check "ip_vs loads" $MODPROBE ip_vs
#   expect_eq "scheduler" "rr" "$sched"
#   finish                      # exit 1 if any check failed, else 0

IP=/usr/sbin/ip
IPVSADM=/usr/sbin/ipvsadm
IPSET=/usr/sbin/ipset
MODPROBE=/sbin/modprobe
NS="$IP netns exec"
KIPVS_FAILS=0

log() { printf '# %s\n' "$*"; }
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
fatal() { printf 'FATAL: %s\n' "$*"; exit 1; }

# check NAME CMD...: runs CMD; prints "ok NAME" or "FAIL NAME" plus its output.
check() {
    _name=$1; shift
    if _out=$("$@" 2>&1); then
        printf 'ok %s\n' "$_name"
    else
        printf 'FAIL %s (exit %s): %s\n' "$_name" "$?" "$*"
        [ -z "$_out" ] || printf '%s\n' "$_out" | sed 's/^/    /'
        KIPVS_FAILS=$((KIPVS_FAILS + 1))
    fi
}

# check_not NAME CMD...: like check, but CMD must fail.
check_not() {
    _name=$1; shift
    if "$@" >/dev/null 2>&1; then
        printf 'FAIL %s: succeeded: %s\n' "$_name" "$*"
        KIPVS_FAILS=$((KIPVS_FAILS + 1))
    else
        printf 'ok %s\n' "$_name"
    fi
}

# expect_eq NAME EXPECTED ACTUAL (multi-line values are shown as a diff)
expect_eq() {
    if [ "$2" = "$3" ]; then
        printf 'ok %s\n' "$1"
    else
        printf 'FAIL %s\n' "$1"
        printf '%s\n' "$2" > /tmp/.expected
        printf '%s\n' "$3" > /tmp/.actual
        diff -u /tmp/.expected /tmp/.actual | sed '1,2d; s/^/    /'
        KIPVS_FAILS=$((KIPVS_FAILS + 1))
    fi
}

# finish: summary line and exit status for the whole guest script.
finish() {
    if [ "$KIPVS_FAILS" -eq 0 ]; then
        log "all checks passed"
        exit 0
    fi
    log "$KIPVS_FAILS check(s) failed"
    exit 1
}

# wait_for SECONDS CMD...: retries CMD every 0.2 s.
wait_for() {
    _deadline=$(($(date +%s) + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$_deadline" ] || return 1
        sleep 0.2
    done
}

# module_loaded NAME: true if NAME is in /proc/modules.
module_loaded() { grep -q "^$1 " /proc/modules; }

# make_backend NAME N [PORT]: network namespace NAME behind a veth pair,
# host side 10.200.N.1/24 (link NAME-h), namespace side 10.200.N.2/24 (eth0,
# default route via the host), serving "NAME" with busybox httpd on PORT (80).
make_backend() {
    _n=$1 _i=$2 _port=${3:-80}
    # Each dynamic exec costs ~0.1 s under tcg: batch the ip commands.
    $IP netns add "$_n" || return 1
    printf '%s\n' "link add $_n-h type veth peer name eth0 netns $_n" \
        "addr add 10.200.$_i.1/24 dev $_n-h" "link set $_n-h up" | $IP -batch - || return 1
    printf '%s\n' "link set lo up" "addr add 10.200.$_i.2/24 dev eth0" "link set eth0 up" \
        "route add default via 10.200.$_i.1" | $IP -n "$_n" -batch - || return 1
    mkdir -p "/tmp/www-$_n"
    printf '%s\n' "$_n" > "/tmp/www-$_n/index.html"
    # httpd forks into the background; it keeps the namespace's network.
    $NS "$_n" busybox httpd -p "$_port" -h "/tmp/www-$_n" || return 1
}

# make_kube_ipvs0 VIP...: the dummy link kube-proxy keeps its VIPs on
# (left down, as kube-proxy does: the /32s are still local addresses).
make_kube_ipvs0() {
    $IP link show kube-ipvs0 >/dev/null 2>&1 || $IP link add kube-ipvs0 type dummy || return 1
    for _vip in "$@"; do
        case $_vip in */*) ;; *:*) _vip=$_vip/128 ;; *) _vip=$_vip/32 ;; esac
        $IP addr add "$_vip" dev kube-ipvs0 || return 1
    done
}

# http_get URL: body of URL (wget -T crashes in busybox 1.35: use timeout).
http_get() { timeout 5 wget -q -O - "$1"; }

# requests N URL [NETNS]: the answers to N requests from NETNS (default
# client, the namespace make_backend made), space-separated; ERROR for each
# that failed.
requests() {
    _n=$1 _url=$2 _ns=${3:-client} _got=''
    while [ "$_n" -gt 0 ]; do
        _got="$_got $($NS "$_ns" busybox timeout 5 busybox wget -q -O - "$_url" 2>/dev/null || echo ERROR)"
        _n=$((_n - 1))
    done
    echo "${_got# }"
}

# distinct WORDS: the distinct words, sorted, space-separated.
distinct() { printf '%s\n' "$@" | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# traffic_start URL: a client in the client namespace requesting URL every
# 0.5 s in the background, one line per answer (ERROR for a failure) in
# /tmp/traffic.log, until traffic_stop.
traffic_start() {
    (
        while :; do
            $NS client busybox timeout 3 busybox wget -q -O - "$1" 2>/dev/null || echo ERROR
            sleep 0.5
        done
    ) > /tmp/traffic.log &
    traffic=$!
}

# traffic_stop WHAT MIN: stops the client; checks it got at least MIN
# answers and that none failed, and logs them.
traffic_stop() {
    kill "$traffic"
    wait "$traffic" 2>/dev/null
    _answers=$(wc -l < /tmp/traffic.log)
    _errors=$(grep -c ERROR /tmp/traffic.log)
    log "traffic during $1: $_answers requests, $_errors failed, answers: $(sort /tmp/traffic.log | uniq -c | tr -s ' \n' ' ')"
    check "traffic flowed during $1" test "$_answers" -ge "$2"
    expect_eq "no request failed during $1" 0 "$_errors"
}
