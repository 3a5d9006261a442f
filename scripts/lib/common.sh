# Shared by the scripts: where downloaded toolchains and packages are cached.
# The cache lives outside the source tree so that a fresh clone reuses it and
# `git clean` never throws away a 70 MB toolchain.
KIPVS_CACHE=${KIPVS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kipvs}
KIPVS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export KIPVS_CACHE KIPVS_SRC

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Debian archive this machine already uses, read from its apt sources so
# that no host is ever written into the project.
debian_archive_uri() {
    local uri
    uri=$(awk '
        /^URIs:/ { u = $2 }
        /^Suites:/ { if ($0 ~ /(bookworm|trixie)( |$)/ && $0 !~ /security/) { print u; exit } }
    ' /etc/apt/sources.list.d/*.sources 2>/dev/null)
    if [ -z "$uri" ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {
                  for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; exit } }' \
              /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
    fi
    [ -n "$uri" ] || die "no Debian archive found in /etc/apt/sources.list*"
    printf '%s\n' "$uri"
}

# apt-get with a private configuration pointing at another suite of the same
# archive: the system's sources and package database are never touched.
apt_other_suite() {
    local suite=$1; shift
    local dir="$KIPVS_CACHE/apt-$suite"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/etc"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
        "$(debian_archive_uri)" "$suite" > "$dir/etc/sources.list"
    apt-get -q \
        -o Dir::Etc::SourceList="$dir/etc/sources.list" \
        -o Dir::Etc::SourceParts=/nonexistent \
        -o Dir::State::Lists="$dir/lists" \
        -o Dir::Cache="$dir/cache" \
        -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root \
        "$@"
}
