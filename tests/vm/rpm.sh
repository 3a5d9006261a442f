#!/bin/bash
# The package's life on a node, under a real systemd as PID 1: the host's
# rpm installs, upgrades and erases the rpm scripts/package built, so the
# scriptlets are the package's, run by rpm, against the live systemd.
#   rpm -i: %post presets the unit enabled, reloads systemd and creates
#     /run/xtables.lock through tmpfiles.d; after the operator's edit of
#     /etc/kipvs.yaml, `systemctl start` is active once the first sync is in
#     and a ClusterIP answers.
#   rpm -U to release 2: %postun restarts kipvs (a new MainPID) while a
#     client keeps using the ClusterIP; the edit is kept; the new kipvs adopts
#     the rules, writing nothing.
#   rpm -e: %preun stops and disables the unit, the files go, the edit stays
#     as .rpmsave, the rules stay (kube-proxy's behaviour on stop).
#   The tarball's install.sh: install (preset), enable --now, --uninstall.
# Run by tests/vm/rpm-test, which builds the packages and ships rpm.
# Usage (guest): rpm.sh VERSION
# shellcheck source=tests/vm/lib.sh
. /test/lib.sh

[ "$(cat /proc/1/comm)" = systemd ] || skip "PID 1 is not systemd (run with vm-run --systemd)"
version=${1:?usage: rpm.sh VERSION}
rpm1=/test/kipvs-$version-1.x86_64.rpm
rpm2=/test/kipvs-$version-2.x86_64.rpm
tarball=/test/kipvs-$version-linux-amd64.tar.gz

# Debian's rpm keeps its database in ~/.rpmdb; an rpm-based node's is
# /var/lib/rpm. It also warns on every install or erase unless told
# --force-debian (an option rpm's own rpmdb does not know).
mkdir -p /etc/rpm
echo '%_dbpath /var/lib/rpm' > /etc/rpm/macros
prop() { systemctl show -p "$1" --value kipvs; }
rules() { $IPVSADM -S -n | sort; }
reloads() { journalctl -b --no-pager -o cat _PID=1 | grep -c '^Reloading\.$'; }
ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
installed_files() {  # the files rpm lists for kipvs, each present
    local f
    for f in $(rpm -ql kipvs); do [ -f "$f" ] || { echo "missing $f"; return 1; }; done
}

check "backend1" make_backend backend1 1
check "backend2" make_backend backend2 2
check "client netns" make_backend client 9 8080
mkdir -p /etc/kipvs/manifests
cp /test/demo/*.yaml /etc/kipvs/manifests/
check "rpm --initdb" rpm --initdb
check "the database is in /var/lib/rpm" test -f /var/lib/rpm/rpmdb.sqlite
check_not "no xtables lock before the install" test -e /run/xtables.lock
expect_eq "systemd has no kipvs.service yet" not-found "$(prop LoadState)"

# --- rpm -i: %post ------------------------------------------------------------
r0=$(reloads)
t0=$(ms)
check "rpm -i" rpm -i --force-debian --nodeps "$rpm1"
log "rpm -i took $(secs $(($(ms) - t0))) s"
expect_eq "installed" "kipvs-$version-1.x86_64" "$(rpm -q kipvs)"
check "the files are laid out" installed_files
check "rpm -V is clean" rpm -V --nodeps kipvs
check "the installed binary runs" sh -c "/usr/bin/kipvs version | grep -q '^kipvs '"
expect_eq "%post: the preset enabled kipvs.service" enabled "$(systemctl is-enabled kipvs)"
check "%post: enabled through multi-user.target" test -L /etc/systemd/system/multi-user.target.wants/kipvs.service
check "%post: systemd reloaded" test "$(reloads)" -gt "$r0"
expect_eq "systemd has the unit from the package" "loaded enabled" "$(prop LoadState) $(prop UnitFileState)"
expect_eq "%post: tmpfiles made /run/xtables.lock (mode, owner, size)" "600 root 0" \
    "$(stat -c '%a %U %s' /run/xtables.lock 2>&1)"
expect_eq "%post did not start kipvs (presets enable only)" inactive "$(systemctl is-active kipvs)"

# --- the operator's edit, then start ---------------------------------------------
sed -i -e 's|^hostnameOverride: ""|hostnameOverride: demo-node|' \
    -e 's|^clusterCIDR: ""|clusterCIDR: 10.200.0.0/16|' \
    -e 's|^  manifests: ""|  manifests: /etc/kipvs/manifests|' /etc/kipvs.yaml
expect_eq "the edit took (3 lines)" 3 "$(grep -cE '^hostnameOverride: demo-node|^clusterCIDR: 10.200.0.0/16|^  manifests: /etc/kipvs/manifests' /etc/kipvs.yaml)"
expect_eq "rpm -V: only the edited config differs" "c /etc/kipvs.yaml" "$(rpm -V --nodeps kipvs | awk '{ print $2, $3 }')"
edited=$(sha256sum < /etc/kipvs.yaml)
t0=$(ms)
check "systemctl start kipvs" systemctl start kipvs
log "start to active: $(secs $(($(ms) - t0))) s; boot to active: $(cut -d' ' -f1 /proc/uptime) s (guest uptime, the install included)"
if [ "$(systemctl is-active kipvs)" != active ]; then
    systemctl --no-pager status kipvs
    journalctl -b --no-pager -o short-monotonic | tail -40
    fatal "kipvs did not start; the remaining checks need it"
fi
check "ClusterIP programmed when start returned" sh -c "$IPVSADM -S -n | grep -q -- '-A -t 10.96.0.10:80 -s rr'"
got=$(requests 4 http://10.96.0.10/)
log "ClusterIP answers: $got"
# shellcheck disable=SC2086
expect_eq "ClusterIP balances over both backends" "backend1 backend2" "$(distinct $got)"

# --- rpm -U: %postun restarts kipvs, the kernel keeps serving ------------------
pid=$(prop MainPID)
before=$(rules)
r0=$(reloads)
traffic_start http://10.96.0.10/
sleep 2
t0=$(ms)
check "rpm -U to release 2" rpm -U --force-debian --nodeps "$rpm2"
log "rpm -U took $(secs $(($(ms) - t0))) s"
sleep 2
traffic_stop "the upgrade" 5
expect_eq "upgraded" "kipvs-$version-2.x86_64" "$(rpm -q kipvs)"
newpid=$(prop MainPID)
log "MainPID $pid -> $newpid"
check "%postun: kipvs restarted (a new MainPID)" test "$newpid" != "$pid" -a "$newpid" != 0
expect_eq "active after the upgrade" active "$(systemctl is-active kipvs)"
expect_eq "restarted by systemctl, not after a crash" 0 "$(prop NRestarts)"
expect_eq "%preun of the old release left the unit enabled" enabled "$(systemctl is-enabled kipvs)"
check "%post/%postun: systemd reloaded" test "$(reloads)" -gt "$r0"
expect_eq "systemd has the upgraded unit file" no "$(prop NeedDaemonReload)"
journalctl -b --no-pager -o short-monotonic -u kipvs | grep -E 'Stopp|Start|first sync' | sed 's/^/    | /'
# The restart, from systemd stopping the old kipvs to the new one's READY=1.
restart=$(journalctl -b --no-pager -o short-monotonic -u kipvs | awk '
    { t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t) }
    /Stopping kipvs.service/ { stop = t + 0 }
    /Started kipvs.service/ && stop { up = t + 0 }
    END { if (stop && up > stop) printf "%.3f", up - stop }')
log "upgrade restart (Stopping to Started): ${restart:-?} s"
check "the journal shows the stop and the new start" test -n "$restart"
check "the new kipvs adopted the rules, writing nothing" sh -c \
    "journalctl --no-pager -o cat _PID=$newpid | grep -q 'first sync (.*): virtual servers +0 ~0 -0, destinations +0 ~0 -0, set entries +0 -0, addresses +0 -0'"
expect_eq "the rules are the same" "$before" "$(rules)"
expect_eq "the upgrade kept the edited /etc/kipvs.yaml" "$edited" "$(sha256sum < /etc/kipvs.yaml)"
check_not "no .rpmnew: the default did not change" test -e /etc/kipvs.yaml.rpmnew
check "the files are laid out" installed_files

# --- rpm -e: %preun stops and disables; the rules stay --------------------------
files=$(rpm -ql kipvs)
t0=$(ms)
check "rpm -e kipvs" rpm -e --force-debian --nodeps kipvs
log "rpm -e took $(secs $(($(ms) - t0))) s"
check_not "erased" rpm -q kipvs
expect_eq "%preun: stopped" inactive "$(systemctl is-active kipvs)"
check_not "%preun: disabled (no wants link)" test -e /etc/systemd/system/multi-user.target.wants/kipvs.service
check_not "%postun: systemd forgot the unit file" sh -c "systemctl list-unit-files kipvs.service | grep -q kipvs"
left=$(for f in $files; do [ ! -e "$f" ] || echo "$f"; done)
expect_eq "the files are gone" "" "$left"
expect_eq "the edited config is kept as .rpmsave" "$edited" "$(sha256sum < /etc/kipvs.yaml.rpmsave 2>&1)"
expect_eq "the rules stay after the erase" "$before" "$(rules)"
got=$(requests 2 http://10.96.0.10/)
check "ClusterIP answers with kipvs erased" sh -c "! echo '$got' | grep -q ERROR"

# --- the tarball's install.sh under the same systemd -----------------------------
mkdir -p /tmp/tarball
tar -xzf "$tarball" -C /tmp/tarball
pkg=/tmp/tarball/kipvs-$version-linux-amd64
check "install.sh" "$pkg/install.sh"
expect_eq "install.sh: the preset enabled kipvs.service" enabled "$(systemctl is-enabled kipvs)"
mv /etc/kipvs.yaml.rpmsave /etc/kipvs.yaml
t0=$(ms)
check "systemctl enable --now kipvs" systemctl enable --now kipvs
log "enable --now to active: $(secs $(($(ms) - t0))) s"
expect_eq "active from the tarball's install" active "$(systemctl is-active kipvs)"
got=$(requests 2 http://10.96.0.10/)
check "ClusterIP answers" sh -c "! echo '$got' | grep -q ERROR"
check "install.sh --uninstall" "$pkg/install.sh" --uninstall
expect_eq "uninstall: stopped" inactive "$(systemctl is-active kipvs)"
check_not "uninstall: disabled" test -e /etc/systemd/system/multi-user.target.wants/kipvs.service
left=$(for f in $files; do [ ! -e "$f" ] || echo "$f"; done)
expect_eq "uninstall: only the edited config is left" /etc/kipvs.yaml "$left"
expect_eq "uninstall: the rules stay" "$before" "$(rules)"
finish
