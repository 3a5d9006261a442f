#!/usr/bin/env bash
# The command line as an operator meets it: verbs, exit codes, help, and
# `kipvs check` on the shipped configurations.
set -u
kipvs=$1
src=${KIPVS_SOURCE_DIR:?}
failures=0
expect_exit() {  # expect_exit WANT DESCRIPTION -- command...
    local want=$1 what=$2; shift 3
    "$@" >/tmp/kipvs-cli.out 2>/tmp/kipvs-cli.err
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL $what: exit $got, want $want"; cat /tmp/kipvs-cli.out /tmp/kipvs-cli.err; failures=$((failures + 1))
    else
        echo "ok   $what"
    fi
}
expect_text() {  # expect_text FILE PATTERN DESCRIPTION
    if grep -qF -- "$2" "$1"; then echo "ok   $3"; else echo "FAIL $3: no '$2' in:"; cat "$1"; failures=$((failures + 1)); fi
}

expect_exit 0 "version" -- "$kipvs" version
expect_text /tmp/kipvs-cli.out "kipvs " "version names kipvs"
expect_exit 0 "--help" -- "$kipvs" --help
for verb in run check plan dump cleanup modules version; do
    expect_text /tmp/kipvs-cli.out "  $verb " "--help lists $verb"
done
expect_exit 2 "no verb is a usage error" -- "$kipvs"
expect_exit 2 "unknown verb" -- "$kipvs" frobnicate
expect_text /tmp/kipvs-cli.err 'unknown verb "frobnicate"' "unknown verb is named"
expect_exit 2 "bad log level" -- "$kipvs" --log-level loud version
for verb in run plan dump cleanup modules; do
    expect_exit 0 "$verb --help" -- "$kipvs" "$verb" --help
    expect_text /tmp/kipvs-cli.out "Usage: kipvs $verb" "$verb --help shows its usage"
done

expect_exit 2 "dump with an unknown format" -- "$kipvs" dump --format yaml
# The host kernel has no IPVS (KERNEL-TESTING.md): the family lookup fails.
if [ ! -e /proc/net/ip_vs ]; then
    expect_exit 1 "dump without IPVS" -- "$kipvs" dump
    expect_text /tmp/kipvs-cli.err "IPVS not available: is the ip_vs module loaded?" "dump without IPVS says why"
    expect_exit 1 "dump --format save without IPVS" -- "$kipvs" dump --format save
fi

# --offline: the default kubeconfig search may find a real cluster's
# credentials on this machine, and tests contact only what they start.
expect_exit 0 "check the annotated default" -- "$kipvs" check --offline --config "$src/configs/kipvs.yaml"
expect_text /tmp/kipvs-cli.out "kind: KipvsConfiguration" "check prints the effective configuration"
expect_text /tmp/kipvs-cli.out '  syncPeriod: "30s"' "effective configuration has defaults filled in"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'apiVersion: kipvs.io/v1alpha1\nkind: KipvsConfiguration\nipvs:\n  shceduler: rr\n' > "$tmp/typo.yaml"
expect_exit 2 "a misspelt key fails check" -- "$kipvs" check --config "$tmp/typo.yaml"
expect_text /tmp/kipvs-cli.err "$tmp/typo.yaml:4:3: unknown field \"ipvs.shceduler\" (did you mean \"ipvs.scheduler\"?)" "misspelt key named with file:line:column and suggestion"
expect_exit 2 "a missing --config file" -- "$kipvs" check --config "$tmp/absent.yaml"
expect_exit 2 "a bad kube-proxy flag" -- "$kipvs" check --offline --config "$src/configs/kipvs.yaml" --ipvs-sync-period=7200
expect_text /tmp/kipvs-cli.err 'did you mean "7200s"' "flag duration hint"
expect_exit 1 "--strict fails on host warnings" -- env -u KUBECONFIG HOME="$tmp" "$kipvs" check --offline --strict --config "$src/configs/kipvs.yaml"
expect_exit 0 "the demo configuration checks" -- "$kipvs" check --config "$src/configs/demo.yaml"
expect_text /tmp/kipvs-cli.out "static manifests" "demo uses static manifests"
expect_text /tmp/kipvs-cli.out "listed 2 service(s), 3 endpoint(s)" "check lists the demo's manifests"
if [ ! -e /proc/net/ip_vs ]; then
    expect_text /tmp/kipvs-cli.err "reading the kernel's IPVS-mode state: IPVS not available" "check says why it shows no changes"
fi
# kipvs plan computes the demo's state from its manifests without touching the kernel.
expect_exit 0 "plan the demo's IPVS table" -- "$kipvs" plan --config "$src/configs/demo.yaml" --format ipvsadm
expect_text /tmp/kipvs-cli.out "-A -t 10.96.0.10:80 -s rr" "plan has web's ClusterIP"
expect_text /tmp/kipvs-cli.out "-a -t 10.96.0.10:80 -r 10.200.1.2:80 -m -w 1" "plan has web's first endpoint"
expect_text /tmp/kipvs-cli.out "-a -t 10.96.0.10:80 -r 10.200.2.2:80 -m -w 1" "plan has web's second endpoint"
expect_text /tmp/kipvs-cli.out "-A -t 10.96.0.20:5432 -s rr -p " "plan has the database's persistent ClusterIP"
expect_exit 0 "plan the demo as JSON" -- "$kipvs" plan --config "$src/configs/demo.yaml" --format json
if python3 -m json.tool /tmp/kipvs-cli.out >/dev/null; then echo "ok   plan --format json parses"
else echo "FAIL plan --format json does not parse:"; cat /tmp/kipvs-cli.out; failures=$((failures + 1)); fi
expect_exit 0 "plan the demo in save format" -- "$kipvs" plan --config "$src/configs/demo.yaml"
expect_text /tmp/kipvs-cli.out "add KUBE-CLUSTER-IP 10.96.0.10,tcp:80" "plan save format has the sets"
expect_exit 2 "plan with an unknown format" -- "$kipvs" plan --config "$src/configs/demo.yaml" --format yaml
# systemd names the stream by device:inode; stderr elsewhere gets no prefixes.
: >"$tmp/journal.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/journal.err") "$kipvs" check --config "$tmp/typo.yaml" 2>>"$tmp/journal.err" >/dev/null
expect_text "$tmp/journal.err" "<3>" "journald lines carry syslog priorities"
JOURNAL_STREAM=8:1 "$kipvs" check --config "$tmp/typo.yaml" 2>"$tmp/redirected.err" >/dev/null
if grep -q '^<[0-9]>' "$tmp/redirected.err"; then
    echo "FAIL stderr redirected away from the journal has no priorities"; failures=$((failures + 1))
else
    echo "ok   stderr redirected away from the journal has no priorities"
fi

# Credentials written by the real kubectl.
# The binary is static: nothing to load at run time (both toolchains link
# with -static by default; the shipped one is musl).
file "$kipvs" > /tmp/kipvs-cli.out
expect_text /tmp/kipvs-cli.out "statically linked" "file reports a static binary"
ldd "$kipvs" > /tmp/kipvs-cli.out 2>&1 || true
expect_text /tmp/kipvs-cli.out "not a dynamic executable" "ldd reports not a dynamic executable"

if command -v kubectl >/dev/null; then
    kc="$tmp/kubeconfig"
    kubectl config set-cluster k3s --server=https://127.0.0.1:6443 --certificate-authority="$src/tests/unit/data/ca.crt" --embed-certs=true --kubeconfig="$kc" >/dev/null
    kubectl config set-credentials proxy --client-certificate="$src/tests/unit/data/client.crt" --client-key="$src/tests/unit/data/client.key" --embed-certs=true --kubeconfig="$kc" >/dev/null
    kubectl config set-context default --cluster=k3s --user=proxy --kubeconfig="$kc" >/dev/null
    kubectl config use-context default --kubeconfig="$kc" >/dev/null
    expect_exit 0 "kubectl-written kubeconfig with embedded certificates" -- "$kipvs" check --offline --config "$src/configs/kipvs.yaml" --kubeconfig "$kc"
    expect_text /tmp/kipvs-cli.out "server https://127.0.0.1:6443, auth: client certificate, CA: from kubeconfig" "kubeconfig summary"
    kubectl config set-credentials tokenuser --token=abc --kubeconfig="$kc" >/dev/null
    kubectl config set-context tok --cluster=k3s --user=tokenuser --kubeconfig="$kc" >/dev/null
    expect_exit 0 "kubectl-written token user via --context" -- "$kipvs" check --offline --config "$src/configs/kipvs.yaml" --kubeconfig "$kc" --context tok
    expect_text /tmp/kipvs-cli.out "auth: bearer token" "token auth summary"
    kubectl config set-cluster insecure --server=https://127.0.0.1:6443 --insecure-skip-tls-verify=true --kubeconfig="$kc" >/dev/null
    kubectl config set-context insec --cluster=insecure --user=tokenuser --kubeconfig="$kc" >/dev/null
    expect_exit 0 "insecure-skip-tls-verify loads" -- "$kipvs" check --offline --config "$src/configs/kipvs.yaml" --kubeconfig "$kc" --context insec
    expect_text /tmp/kipvs-cli.err "will NOT be verified" "insecure-skip-tls-verify warns loudly"
    kubectl config set-context nowhere --cluster=absent --user=proxy --kubeconfig="$kc" >/dev/null
    expect_exit 2 "a context whose cluster is absent" -- "$kipvs" check --offline --config "$src/configs/kipvs.yaml" --kubeconfig "$kc" --context nowhere
    expect_text /tmp/kipvs-cli.err 'cluster "absent" is not defined in clusters' "absent cluster named"
    kubectl config set-credentials execuser --exec-command=aws --exec-api-version=client.authentication.k8s.io/v1 --kubeconfig="$kc" >/dev/null
    kubectl config set-context ex --cluster=k3s --user=execuser --kubeconfig="$kc" >/dev/null
    expect_exit 2 "exec plugin credentials" -- "$kipvs" check --offline --config "$src/configs/kipvs.yaml" --kubeconfig "$kc" --context ex
    expect_text /tmp/kipvs-cli.err "users[execuser].user.exec: exec credential plugins are not supported" "exec plugin named"
else
    echo "kubectl not installed: skipping the kubectl-written kubeconfig checks"
    exit 77
fi

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
