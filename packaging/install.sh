#!/bin/sh
# Installs kipvs from this directory (the tarball scripts/package makes) on a
# node without a package manager, or removes it.
#   ./install.sh                  install or upgrade into /
#   ./install.sh --root DIR       ... into DIR (an image being built, a test)
#   ./install.sh --uninstall      remove what an install put there
# Running it twice changes nothing the second time. Files under /etc are the
# operator's: an edited /etc/kipvs.yaml is kept on upgrade (the new default is
# written next to it as kipvs.yaml.new) and on uninstall.
# On / with systemd running it also does what the rpm's scriptlets do: preset
# the unit on first install, restart it on upgrade, stop and disable it on
# uninstall.
set -eu

root=/ mode=install
while [ $# -gt 0 ]; do
    case "$1" in
        --root) [ $# -ge 2 ] || { echo "install.sh: --root needs a directory" >&2; exit 2; }
                root=$2; shift 2 ;;
        --root=*) root=${1#--root=}; shift ;;
        --uninstall) mode=uninstall; shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -d "$root" ] || { echo "install.sh: $root is not a directory" >&2; exit 2; }
root=$(cd "$root" && pwd)
[ "$root" = / ] && prefix= || prefix=$root
payload=$(cd "$(dirname "$0")" && pwd)/files
# What was installed, and the shipped checksum of each file under /etc, so
# that an upgrade and an uninstall (from any version's tarball) can tell an
# edited configuration from the default it started as.
manifest=/usr/lib/kipvs/install.manifest

say() { printf 'install.sh: %s\n' "$*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
# Manifest lines are "PATH" or, for /etc files, "PATH SHA256".
shipped_sum() { [ -f "$prefix$manifest" ] && awk -v p="$1" '$1 == p { print $2 }' "$prefix$manifest" || true; }
live_systemd() { [ -z "$prefix" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
systemctl_root() {  # offline enable/disable/preset work on any root
    command -v systemctl >/dev/null 2>&1 || return 0
    if [ -n "$prefix" ]; then systemctl --root="$root" "$@" >/dev/null 2>&1 || :
    else systemctl --no-reload "$@" >/dev/null 2>&1 || :; fi
}

uninstall() {
    [ -f "$prefix$manifest" ] || { say "kipvs is not installed in $root"; return 0; }
    if live_systemd; then systemctl --no-reload disable --now kipvs.service >/dev/null 2>&1 || :
    else systemctl_root disable kipvs.service; fi
    while read -r path shipped; do
        # A default an upgrade set aside next to an edited file is ours too.
        [ -n "$shipped" ] && rm -f "$prefix$path.new"
        [ -e "$prefix$path" ] || continue
        if [ -n "$shipped" ] && [ "$(sum "$prefix$path")" != "$shipped" ]; then
            say "kept $path (edited)"
            continue
        fi
        rm -f "$prefix$path"
    done < "$prefix$manifest"
    rm -f "$prefix$manifest"
    rmdir "$prefix${manifest%/*}" 2>/dev/null || :
    live_systemd && systemctl daemon-reload || :
    say "removed kipvs from $root"
}

install_tree() {
    [ -f "$payload/usr/bin/kipvs" ] || { say "no files/ next to install.sh"; exit 1; }
    first=yes changed=no
    [ -f "$prefix$manifest" ] && first=no
    new_manifest=$(mktemp)
    trap 'rm -f "$new_manifest"' EXIT
    for path in $(cd "$payload" && find . -type f | sed 's|^\.||' | LC_ALL=C sort); do
        src=$payload$path dest=$prefix$path
        mode=$(stat -c %a "$src")
        case "$path" in
            /etc/*)
                new=$(sum "$src")
                echo "$path $new" >> "$new_manifest"
                if [ ! -e "$dest" ]; then
                    install -D -m "$mode" "$src" "$dest"; changed=yes
                elif [ "$(sum "$dest")" = "$new" ]; then
                    :
                elif [ "$(sum "$dest")" = "$(shipped_sum "$path")" ]; then
                    # Still the previous default: take the new one.
                    install -D -m "$mode" "$src" "$dest"; changed=yes
                elif [ "$(shipped_sum "$path")" = "$new" ]; then
                    :  # edited, and the default has not changed since
                elif ! cmp -s "$src" "$dest.new"; then
                    install -D -m "$mode" "$src" "$dest.new"
                    say "kept $path (edited); the new default is $path.new"
                fi ;;
            *)
                echo "$path" >> "$new_manifest"
                if ! cmp -s "$src" "$dest" || [ "$(stat -c %a "$dest")" != "$mode" ]; then
                    install -D -m "$mode" "$src" "$dest"; changed=yes
                fi ;;
        esac
    done
    # Files the previous version installed and this one does not ship go.
    if [ -f "$prefix$manifest" ]; then
        awk '{ print $1 }' "$prefix$manifest" | while read -r old; do
            awk -v p="$old" '$1 == p { found = 1 } END { exit !found }' "$new_manifest" ||
                { rm -f "$prefix$old"; say "removed $old (no longer shipped)"; }
        done
    fi
    if ! cmp -s "$new_manifest" "$prefix$manifest"; then
        install -D -m 0644 "$new_manifest" "$prefix$manifest"
    fi

    if [ "$first" = yes ]; then systemctl_root preset kipvs.service; fi
    if live_systemd; then
        systemctl daemon-reload
        systemd-tmpfiles --create kipvs.conf >/dev/null 2>&1 || :
        [ "$changed" = yes ] && [ "$first" = no ] && systemctl try-restart kipvs.service || :
    fi
    if [ "$changed" = yes ]; then say "installed kipvs into $root"; else say "kipvs in $root is up to date"; fi
}

if [ "$mode" = uninstall ]; then uninstall; else install_tree; fi
