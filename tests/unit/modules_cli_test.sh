#!/usr/bin/env bash
# `kipvs modules load` and `kipvs check`'s modules section on the host, with
# a fake module tree: everything that happens before a module is inserted
# (resolving names, built-ins, "not found", unreadable trees) needs no root
# and no loadable-module kernel. Inserting is covered by tests/vm.
set -u
kipvs=$1
failures=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=$tmp/out err=$tmp/err
expect() {  # expect WANT-EXIT DESCRIPTION PATTERN -- command...   (PATTERN in stdout+stderr)
    local want=$1 what=$2 pattern=$3; shift 4
    "$@" >"$out" 2>"$err"
    local got=$?
    if [ "$got" -ne "$want" ] || ! cat "$out" "$err" | grep -qE -- "$pattern"; then
        echo "FAIL $what: exit $got (want $want), want /$pattern/ in:"; cat "$out" "$err"; failures=$((failures + 1))
    else
        echo "ok   $what"
    fi
}
tree=$tmp/modules
mkdir -p "$tree/kernel"
printf 'kernel/ip_vs.ko:\nkernel/dummy.ko:\n' > "$tree/modules.dep"
printf 'kernel/net/netfilter/nf_conntrack.ko\nkernel/net/netfilter/ipvs/ip_vs_rr.ko\n' > "$tree/modules.builtin"
printf 'alias rtnl-link-dummy dummy\nalias conntrack-x nf_conntrack\n' > "$tree/modules.alias"
printf 'garbage line\n' > "$tree/modules.softdep"
cfg=$tmp/kipvs.yaml
printf 'apiVersion: kipvs.io/v1alpha1\nkind: KipvsConfiguration\nkipvs:\n  modules:\n    directory: %s\n' "$tree" > "$cfg"

expect 2 "modules without load is a usage error" 'expected "load' -- "$kipvs" modules
expect 2 "an unknown option" 'unknown option "--frob"' -- "$kipvs" modules load --frob
expect 2 "a bad module name" '"a/b" is not a module name' -- "$kipvs" --config "$cfg" modules load a/b
expect 0 "built-in modules succeed" '^nf_conntrack: built-in$' -- "$kipvs" --config "$cfg" modules load nf_conntrack ip_vs_rr
expect 0 "an alias of a built-in" '^conntrack-x: built-in \(as nf_conntrack\)$' -- "$kipvs" --config "$cfg" modules load conntrack-x
expect 0 "nf_conntrack_ipv4 means nf_conntrack on 4.19+" '^nf_conntrack_ipv4: built-in \(as nf_conntrack\)$' -- "$kipvs" --config "$cfg" modules load nf_conntrack_ipv4
expect 1 "a missing module is named" "^nope: failed: not found in modules.dep, modules.builtin or modules.alias \(in $tree\)$" -- "$kipvs" --config "$cfg" modules load nope
expect 1 "a missing file is named" "^ip_vs: failed: $tree/kernel/ip_vs.ko: cannot open: No such file or directory$" -- "$kipvs" --config "$cfg" modules load ip_vs
expect 1 "skipped lines are warnings" "modules: skipped $tree/modules.softdep:1: expected \"softdep\"" -- "$kipvs" --config "$cfg" modules load nope
expect 1 "no modules.dep" "$tmp/none/modules.dep: cannot read: No such file or directory" -- "$kipvs" --config <(printf 'apiVersion: kipvs.io/v1alpha1\nkind: KipvsConfiguration\nkipvs:\n  modules:\n    directory: %s\n' "$tmp/none") modules load
expect 0 "check reports the kernel" "^# kernel: $(uname -r)$" -- "$kipvs" check --config "$cfg"
expect 0 "check reports built-ins" '^#   nf_conntrack: built-in$' -- "$kipvs" check --config "$cfg"
# The rest assumes a host kernel without IPVS (KERNEL-TESTING.md): with it,
# ip_vs would be reported as loaded or built-in instead.
if [ -e /sys/module/ip_vs ] || [ -e /sys/module/ip_vs_wrr ]; then
    echo "skip check's ip_vs cases: this kernel has IPVS"
    [ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
    exit 0
fi
expect 0 "check: a listed module without its file is missing" "module ip_vs: needs ip_vs, but $tree/kernel/ip_vs.ko is not readable" -- "$kipvs" check --config "$cfg"
expect 0 "check: an absent module is missing" '^#   ip_vs_wrr: missing$' -- "$kipvs" check --config "$cfg"
: > "$tree/kernel/ip_vs.ko"
expect 0 "check: a listed module with its file is loadable" '^#   ip_vs: loadable$' -- "$kipvs" check --config "$cfg"
expect 1 "check --strict fails on a missing module" 'module ip_vs_wrr: missing' -- "$kipvs" check --strict --config "$cfg"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
