#!/bin/sh
# kipvs loads its kernel modules itself: booted with no module loaded and no
# /sbin/modprobe (vm-run --no-modprobe), `kipvs modules load` brings up ip_vs
# and its dependencies from plain .ko, .ko.xz and .ko.zst trees, reports each
# module, and names the module and the reason when it cannot.
# Run through tests/vm/modules-load-test (it prepares /test/mods-*).
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh
K=/test/kipvs
ver=$(uname -r)
log "kernel $ver"

# has TEXT REGEX: TEXT has a line matching REGEX.
has() { printf '%s\n' "$1" | grep -q -- "$2"; }
show() { printf '%s\n' "$1" | sed 's/^/    | /'; }
loaded_count() { grep -c . /proc/modules; }
# Unloads every module (users before what they use: several passes).
# shellcheck disable=SC2317,SC2013 # called through check; names are words
unload_all() {
    for _ in 1 2 3 4 5 6 7 8; do
        for m in $(cut -d' ' -f1 /proc/modules); do rmmod "$m" 2>/dev/null; done
    done
    ! grep -q . /proc/modules
}
config_for() { # directory -> config path
    printf 'apiVersion: kipvs.io/v1alpha1\nkind: KipvsConfiguration\nkipvs:\n  modules:\n    directory: %s\n' "$1" \
        > "/tmp/$(basename "$1").yaml"
    echo "/tmp/$(basename "$1").yaml"
}
default_set_loaded() { # label
    for m in ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack dummy nf_conntrack_netlink nfnetlink libcrc32c nf_defrag_ipv4 nf_defrag_ipv6; do
        check "$1: $m in /proc/modules" module_loaded $m
    done
    check "$1: a crc32c implementation (libcrc32c's softdep)" grep -qE '^crc32c_(generic|intel) ' /proc/modules
}

check_not "no /sbin/modprobe" test -e /sbin/modprobe
expect_eq "no module loaded at boot" 0 "$(loaded_count)"

out=$($K check 2>&1)
check "check: kernel release" has "$out" "^# kernel: $ver\$"
check "check: ip_vs loadable" has "$out" "^#   ip_vs: loadable\$"
check "check: dummy loadable" has "$out" "^#   dummy: loadable\$"

# ---- plain .ko from /lib/modules/$(uname -r), the default set
out=$($K modules load 2>&1)
expect_eq "modules load exits 0" 0 $?
show "$out"
default_set_loaded "plain"
check "line: ip_vs loaded with its dependencies" has "$out" "^ip_vs: loaded with .*nf_conntrack"
check "line: dummy loaded" has "$out" "^dummy: loaded\$"
check "lsmod lists ip_vs" sh -c "lsmod | grep -q '^ip_vs '"
check "ipvsadm reads the IPVS table" "$IPVSADM" -Ln
out=$($K modules load 2>&1)
expect_eq "second load exits 0" 0 $?
check "line: ip_vs already loaded" has "$out" "^ip_vs: already loaded\$"
check "line: ip_vs_rr already loaded" has "$out" "^ip_vs_rr: already loaded\$"
out=$($K check 2>&1)
check "check: ip_vs loaded" has "$out" "^#   ip_vs: loaded\$"
check "check: nf_conntrack loaded" has "$out" "^#   nf_conntrack: loaded\$"

# ---- parameters
check "unload all" unload_all
out=$($K modules load 'ip_vs conn_tab_bits=18' 2>&1)
expect_eq "load with a parameter exits 0" 0 $?
show "$out"
expect_eq "ip_vs conn_tab_bits" 18 "$(cat /sys/module/ip_vs/parameters/conn_tab_bits 2>&1)"

# ---- compressed trees (kipvs.modules.directory)
for c in xz zst; do
    check "unload all before .$c" unload_all
    out=$($K --config "$(config_for /test/mods-$c)" --log-level debug modules load 2>&1)
    expect_eq ".$c: modules load exits 0" 0 $?
    show "$out"
    default_set_loaded ".$c"
    # What this kernel can do, recorded: Debian 12's 6.1 has no
    # CONFIG_MODULE_DECOMPRESS, so kipvs decompresses.
    if has "$out" "decompresses modules itself"; then
        log ".$c: the kernel decompressed (MODULE_INIT_COMPRESSED_FILE)"
    else
        check ".$c: decompressed in kipvs" has "$out" "cannot decompress modules (finit_module: EOPNOTSUPP)"
    fi
done

# ---- errors name the module and the reason
check "unload all before the error cases" unload_all
out=$($K modules load no_such_module 2>&1)
expect_eq "missing module exits 1" 1 $?
show "$out"
check "missing: named, not found" has "$out" "^no_such_module: failed: not found in modules.dep"
bad=$(config_for /test/mods-bad)
out=$($K --config "$bad" modules load bad_elf 2>&1)
expect_eq "corrupt .ko exits 1" 1 $?
show "$out"
check "corrupt .ko: ENOEXEC explained" has "$out" "^bad_elf: failed: /test/mods-bad/kernel/bad_elf.ko: not a valid module.*(ENOEXEC)"
out=$($K --config "$bad" modules load bad_xz bad_zst 2>&1)
expect_eq "corrupt .xz/.zst exit 1" 1 $?
show "$out"
check "truncated .xz: named" has "$out" "^bad_xz: failed: /test/mods-bad/kernel/bad_xz.ko.xz: xz: data is"
check "corrupt .zst: named" has "$out" "^bad_zst: failed: /test/mods-bad/kernel/bad_zst.ko.zst: zstd: "
out=$($K --config "$bad" modules load ip_vs_wrr 2>&1)
expect_eq "missing dependency exits 1" 1 $?
show "$out"
check "missing dependency: unknown symbol (ENOENT)" has "$out" "^ip_vs_wrr: failed: /test/mods-bad/kernel/ip_vs_wrr.ko: unknown symbol or missing dependency.*(ENOENT)"
out=$($K --config "$bad" modules load needs_ghost 2>&1)
expect_eq "dependency not in modules.dep exits 1" 1 $?
check "dependency not in modules.dep: named" has "$out" "^needs_ghost: failed: dependency ghost of needs_ghost: not found"
if su -s /bin/sh nobody -c true 2>/dev/null; then
    out=$(su -s /bin/sh nobody -c "$K modules load dummy" 2>&1)
    expect_eq "without CAP_SYS_MODULE exits 1" 1 $?
    show "$out"
    check "without CAP_SYS_MODULE: EPERM explained" has "$out" "^dummy: failed: /lib/modules/$ver/kernel/drivers/net/dummy.ko: not permitted: .*CAP_SYS_MODULE.*(EPERM)"
else
    log "su is unavailable: EPERM case not run"
fi
expect_eq "nothing loaded by the failures" "" "$(cut -d' ' -f1 /proc/modules | grep -v '^dummy$')"

finish
