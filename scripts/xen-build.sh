#!/bin/sh
# Build the Xen 4.17 hypervisor with xen-viommu's Xen patch series
# (patches/xen/series) applied to Debian 12's `xen` source package.
#
# Usage: scripts/xen-build.sh [--test] [--test-only] [--tools]
#   (none)       build, or find in the cache, and print the image's directory
#   --test       also build and run the host unit tests of the patched code
#                (tools/tests/ir_table)
#   --test-only  only those tests (needs the source, not a hypervisor build)
#   --cached     print the image's directory if it is built, else fail
#                (builds and downloads nothing; make install uses it)
#   --tools      the hypervisor and the patched toolstack (patch 0005: xl.cfg
#                viommu=): libxl, xl and what links libxl, in DIR/tools
#   --cached-tools  print the directory if the hypervisor and the tools are
#                built, else fail
#
# The hypervisor is built with `make -C xen` (Debian's config: its
# debian/xen-kconfig through olddefconfig), with ccache, $JOBS jobs.  The
# result goes to $CACHE_DIR/xen-build/KEY/{xen,xen.gz,config,info}, KEY
# being a hash of the source package version and of every file of the
# series, so an unchanged series rebuilds nothing.  A source package that is
# not Xen 4.17.x is refused.
#
# With --tools, the tools are configured as Debian's packages are (paths,
# /usr/lib/xen-4.17) and only tools/libs, tools/xl and tools/helpers are
# built, with ccache.  DIR/tools is a tree to copy over a dom0 that has
# Debian's xen-utils-4.17: libxenlight, libxlutil and libxenguest and
# libxenctrl, which libxl's domain builder shares structures with, in
# usr/lib/x86_64-linux-gnu; xl, libxl-save-helper, xen-init-dom0 and
# init-xenstore-domain (everything of Debian's that links libxl, whose ABI
# the patch changes) in usr/lib/xen-4.17/bin.  DIR/tools.info lists them.
#
# Environment: CACHE_DIR (~/.cache/xen-viommu), BUILD_DIR (build),
#   JOBS (2), XEN_DSC (a Debian xen .dsc to use instead of apt's).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE_DIR=${CACHE_DIR:-$HOME/.cache/xen-viommu}
BUILD_DIR=${BUILD_DIR:-$top/build}
JOBS=${JOBS:-2}
series_dir=$top/patches/xen
src_cache=$CACHE_DIR/xen-src
SRC_LIST=/etc/apt/sources.list.d/xen-viommu-xen.sources
# Bump when the recipe below changes what is built
RECIPE=1

say() { echo "xen-build: $*" >&2; }
die() { echo "xen-build: error: $*" >&2; exit 1; }

mode=build
case ${1:-} in
"") ;;
--test) mode=build-test ;;
--test-only) mode="test" ;;
--cached) mode=cached ;;
--tools) mode=tools ;;
--cached-tools) mode=cached-tools ;;
*) die "unknown option $1 (see the head of $0)" ;;
esac

xen_version_ok() {
    case $1 in
    4.17.*) return 0 ;;
    *) return 1 ;;
    esac
}

for t in dpkg-source patch xz make gcc python3 sha256sum; do
    command -v "$t" >/dev/null 2>&1 ||
        die "$t is missing (Debian: apt-get install dpkg-dev patch xz-utils make gcc python3 coreutils)"
done

# 1. Debian's xen 4.17 source package ----------------------------------------
# bookworm's deb-src entries, added the way install-deps.sh adds trixie's
add_sources() {
    [ -f "$SRC_LIST" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        die "apt knows no xen 4.17 source package; as root add deb-src entries for bookworm, bookworm-updates and bookworm-security to $SRC_LIST and run apt-get update (or rerun this script as root)"
    fi
    uri=http://deb.debian.org/debian
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        u=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources | head -n 1)
        [ -n "$u" ] && uri=$u
    fi
    cat > "$SRC_LIST" <<SRC
# Added by xen-viommu's scripts/xen-build.sh (Xen 4.17 source package)
Types: deb-src
URIs: $uri
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: ${uri%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    say "added $SRC_LIST (bookworm deb-src); apt-get update"
    apt-get update -q >/dev/null
}

# Versions of `xen` apt knows, newest first
apt_versions() {
    apt-cache showsrc xen 2>/dev/null | sed -n 's/^Version: //p' | sort -u |
        python3 -c '
import sys, subprocess, functools
vs = [l.strip() for l in sys.stdin if l.strip()]
def cmp(a, b):
    if a == b: return 0
    r = subprocess.run(["dpkg", "--compare-versions", a, "gt", b])
    return -1 if r.returncode == 0 else 1
print("\n".join(sorted(vs, key=functools.cmp_to_key(cmp))))'
}

# The .dsc to build: $XEN_DSC, else the newest 4.17.x apt knows that is
# cached or downloads, else the newest cached one.
find_dsc() {
    if [ -n "${XEN_DSC:-}" ]; then
        [ -f "$XEN_DSC" ] || die "XEN_DSC=$XEN_DSC: no such file"
        echo "$XEN_DSC"
        return 0
    fi
    mkdir -p "$src_cache"
    vers=$(apt_versions | grep -E '^4\.17\.' || true)
    if [ -z "$vers" ] && [ ! -f "$SRC_LIST" ] && [ "${mode#cached}" = "$mode" ]; then
        add_sources
        vers=$(apt_versions | grep -E '^4\.17\.' || true)
    fi
    # Versions whose download failed in the last day are not tried again
    # (e.g. a mirror that has bookworm-security's binaries but not sources).
    unavail=$src_cache/unavailable
    [ -n "$(find "$unavail" -mmin -1440 2>/dev/null)" ] || rm -f "$unavail"
    for v in $vers; do
        dsc=$src_cache/xen_$v.dsc
        if [ -f "$dsc" ]; then
            echo "$dsc"
            return 0
        fi
        grep -qxF "$v" "$unavail" 2>/dev/null && continue
        [ "${mode#cached}" != "$mode" ] && continue
        if (cd "$src_cache" && apt-get source --download-only "xen=$v") \
               >"$src_cache/apt-source.log" 2>&1 && [ -f "$dsc" ]; then
            say "downloaded Debian source package xen $v into $src_cache"
            echo "$dsc"
            return 0
        fi
        why=$(sed -n 's/^ *\([0-9][0-9][0-9]  *[A-Za-z][A-Za-z ]*\).*/\1/p' "$src_cache/apt-source.log" | head -n 1)
        say "apt-get source xen=$v failed (${why:-see $src_cache/apt-source.log}); trying an older 4.17"
        echo "$v" >> "$unavail"
    done
    # shellcheck disable=SC2012 # Debian file names: no odd characters
    dsc=$(ls "$src_cache"/xen_4.17.*.dsc 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dsc" ] ||
        die "no xen 4.17.x source package known to apt or cached in $src_cache"
    echo "$dsc"
}

dsc=$(find_dsc)
deb_ver=$(sed -n 's/^Version: //p' "$dsc" | head -n 1)
xen_version_ok "$deb_ver" ||
    die "Debian xen $deb_ver ($dsc): xen-viommu's Xen patches are for Xen 4.17.x"

# 2. Key: source version, recipe and every file of the series ----------------
[ -f "$series_dir/series" ] || die "no $series_dir/series"
patches=$(grep -v '^[[:space:]]*\(#\|$\)' "$series_dir/series")
for p in $patches; do
    [ -f "$series_dir/$p" ] || die "patches/xen/series names $p, which is missing"
done
# The series order matters, so does every patch's content
key=$( {
    echo "recipe $RECIPE"
    echo "source $deb_ver"
    for p in $patches; do
        echo "patch $p $(sha256sum < "$series_dir/$p" | cut -d' ' -f1)"
    done
} | sha256sum | cut -c1-16)
out=$CACHE_DIR/xen-build/$key

if [ "$mode" = cached ]; then
    [ -f "$out/xen.gz" ] || die "not built: $out (make xen builds it)"
    echo "$out"
    exit 0
fi
if [ "$mode" = cached-tools ]; then
    [ -f "$out/xen.gz" ] && [ -f "$out/tools.info" ] ||
        die "not built: $out with its tools (scripts/xen-build.sh --tools builds them)"
    echo "$out"
    exit 0
fi
if [ "$mode" = tools ] && [ -f "$out/xen.gz" ] && [ -f "$out/tools.info" ]; then
    say "cached: $out (Xen $deb_ver with patches/xen and its tools, key $key)"
    echo "$out"
    exit 0
fi
if [ "$mode" = build ] && [ -f "$out/xen.gz" ]; then
    say "cached: $out (Xen $deb_ver with patches/xen, key $key)"
    echo "$out"
    exit 0
fi

# 3. Patched tree in $BUILD_DIR/xen/src (one path, so ccache keeps hitting) --
tree=$BUILD_DIR/xen/src
stamp=$tree/.xen-viommu-key
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$key" ]; then
    say "preparing $tree: Debian xen $deb_ver + patches/xen"
    rm -rf "$tree" "$tree.tmp"
    mkdir -p "$BUILD_DIR/xen"
    # Debian's own debian/patches are applied by dpkg-source
    dpkg-source --no-check -x "$dsc" "$tree.tmp" >"$BUILD_DIR/xen/extract.log" 2>&1 ||
        die "dpkg-source -x $dsc failed (see $BUILD_DIR/xen/extract.log)"
    v=$(sed -n 's/^export XEN_\(VERSION\|SUBVERSION\) *= *//p' "$tree.tmp/xen/Makefile" | paste -sd.)
    xen_version_ok "$v." ||
        { rm -rf "$tree.tmp"; die "the source of $dsc is Xen $v; xen-viommu's Xen patches are for Xen 4.17.x"; }
    for p in $patches; do
        patch -d "$tree.tmp" -p1 -s --no-backup-if-mismatch -f < "$series_dir/$p" \
            >"$BUILD_DIR/xen/patch.log" 2>&1 ||
            { cat "$BUILD_DIR/xen/patch.log" >&2; die "patches/xen/$p does not apply to Debian xen $deb_ver"; }
    done
    echo "$key" > "$tree.tmp/.xen-viommu-key"
    mv "$tree.tmp" "$tree"
fi

# 4. Host unit tests of the patched hypervisor code ---------------------------
run_tests() {
    # tools/Rules.mk insists on a configured tools tree; these tests need
    # nothing from it, so a stand-in keeps Xen's ./configure out of the way.
    [ -f "$tree/config/Tools.mk" ] ||
        echo "# xen-viommu: tools not configured; only tools/tests are built" \
             > "$tree/config/Tools.mk"
    log=$BUILD_DIR/xen/unit.log
    if make -C "$tree/tools/tests/ir_table" -s run >"$log" 2>&1; then
        tail -n 1 "$log"
    else
        cat "$log" >&2
        die "tools/tests/ir_table failed (log: $log)"
    fi
}

if [ "$mode" = test ]; then
    run_tests
    exit 0
fi

# 5. The hypervisor -----------------------------------------------------------
if [ ! -f "$out/xen.gz" ]; then
    log=$BUILD_DIR/xen/build.log
    cp "$tree/debian/xen-kconfig" "$tree/xen/.config"
    cc=gcc
    command -v ccache >/dev/null 2>&1 && cc="ccache gcc"
    say "building the hypervisor ($JOBS jobs, CC=$cc); log: $log"
    start=$(date +%s)
    # Relative paths inside the tree for ccache, whichever clone builds it
    if ! (export CCACHE_BASEDIR="$tree" CCACHE_NOHASHDIR=1
          make -C "$tree/xen" XEN_TARGET_ARCH=x86_64 CC="$cc" olddefconfig &&
          make -C "$tree/xen" -j"$JOBS" XEN_TARGET_ARCH=x86_64 CC="$cc" \
              XEN_VENDORVERSION=+viommu) >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "hypervisor build failed (log: $log)"
    fi
    secs=$(( $(date +%s) - start ))
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    cp "$tree/xen/xen" "$tree/xen/xen.gz" "$out.tmp/"
    cp "$tree/xen/.config" "$out.tmp/config"
    {
        echo "source: Debian xen $deb_ver"
        echo "version: $(make -s -C "$tree/xen" XEN_VENDORVERSION=+viommu xenversion 2>/dev/null)"
        echo "key: $key"
        echo "built: $(date -u +%FT%TZ) in ${secs}s with $JOBS jobs"
        echo "patches:"
        for p in $patches; do echo "  $p"; done
    } > "$out.tmp/info"
    rm -rf "$out"
    mv "$out.tmp" "$out"
    say "built in ${secs}s: $out"
fi

[ "$mode" = build-test ] && run_tests

# 6. The toolstack (--tools) ----------------------------------------------------
# What goes into DIR/tools: built file, where it goes
tools_files="
tools/libs/ctrl/libxenctrl.so.4.17.0 usr/lib/x86_64-linux-gnu
tools/libs/guest/libxenguest.so.4.17.0 usr/lib/x86_64-linux-gnu
tools/libs/light/libxenlight.so.4.17.0 usr/lib/x86_64-linux-gnu
tools/libs/util/libxlutil.so.4.17.0 usr/lib/x86_64-linux-gnu
tools/xl/xl usr/lib/xen-4.17/bin
tools/libs/light/libxl-save-helper usr/lib/xen-4.17/bin
tools/helpers/xen-init-dom0 usr/lib/xen-4.17/bin
tools/helpers/init-xenstore-domain usr/lib/xen-4.17/bin"

# Debian packages the toolstack build needs: what each provides, checked
# by a command or a file so that an installed package is not re-installed.
# python3-dev: the headers of Debian's python3 (not of one earlier in PATH)
py_include=$(/usr/bin/python3 -c \
    'import sysconfig; print(sysconfig.get_config_var("INCLUDEPY"))' \
    2>/dev/null) || py_include=/usr/include/python3
tools_deps="
autoconf cmd:autoconf
autoconf cmd:autoheader
acpica-tools cmd:iasl
bison cmd:bison
flex cmd:flex
pkg-config cmd:pkg-config
autotools-dev /usr/share/misc/config.sub
libyajl-dev /usr/include/yajl/yajl_version.h
uuid-dev /usr/include/uuid/uuid.h
zlib1g-dev /usr/include/zlib.h
libncurses-dev /usr/include/ncurses.h
python3-dev $py_include/Python.h"

# Install what the toolstack build lacks (as root), or say what to install
tools_install_deps() {
    missing=$(echo "$tools_deps" | while read -r pkg what; do
        [ -n "$pkg" ] || continue
        case $what in
        cmd:*) command -v "${what#cmd:}" >/dev/null 2>&1 && continue ;;
        *) [ -f "$what" ] && continue ;;
        esac
        echo "$pkg"
    done | sort -u | tr '\n' ' ')
    [ -n "$missing" ] || return 0
    if [ "$(id -u)" != 0 ]; then
        die "--tools: packages missing: $missing(as root: apt-get install $missing)"
    fi
    say "--tools: installing $missing"
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends $missing >"$BUILD_DIR/xen/apt-tools.log" 2>&1 ||
        die "--tools: apt-get install $missing failed (see $BUILD_DIR/xen/apt-tools.log)"
}

build_tools() {
    tools_install_deps
    log=$BUILD_DIR/xen/tools.log
    : >"$log"
    say "building the tools: libxl, xl ($JOBS jobs); log: $log"
    start=$(date +%s)
    cc=gcc
    command -v ccache >/dev/null 2>&1 && cc="ccache gcc"
    # Debian's source has no configure scripts (its build runs autoreconf):
    # generate them, then configure as debian/rules does (the same paths,
    # QEMU, SeaBIOS and OVMF from their packages), without what is not
    # built here (firmware, stubdoms, OCaml, Go, docs)
    if [ ! -f "$tree/.xen-viommu-tools-configured" ]; then
        if ! (cd "$tree" &&
              cp /usr/share/misc/config.sub /usr/share/misc/config.guess . &&
              ./autogen.sh &&
              ./configure --disable-stubdom --prefix=/usr \
                  --includedir=/usr/include \
                  --libdir=/usr/lib/x86_64-linux-gnu \
                  --with-libexec-libdir-suffix=/x86_64-linux-gnu \
                  --sysconfdir=/etc --localstatedir=/var \
                  --with-libexec-leaf-dir=xen-4.17 \
                  --disable-qemu-traditional --disable-rombios \
                  --disable-seabios --disable-ocamltools --disable-golang \
                  --disable-xsmpolicy --disable-monitors --disable-docs \
                  --with-system-qemu=/usr/libexec/xen-qemu-system-i386 \
                  --with-system-seabios=/usr/share/seabios/bios-256k.bin \
                  --enable-ovmf --with-system-ovmf=/usr/share/ovmf/OVMF.fd \
                  CC="$cc") >>"$log" 2>&1; then
            tail -n 20 "$log" >&2
            die "configuring the tools failed (log: $log)"
        fi
        touch "$tree/.xen-viommu-tools-configured"
    fi
    if ! (export CCACHE_BASEDIR="$tree" CCACHE_NOHASHDIR=1
          for d in tools/include tools/libs tools/xl tools/helpers; do
              make -C "$tree/$d" -j"$JOBS" XEN_TARGET_ARCH=x86_64 CC="$cc" ||
                  exit 1
          done) >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "tools build failed (log: $log)"
    fi
    secs=$(( $(date +%s) - start ))
    rm -rf "$out/tools.tmp"
    echo "$tools_files" | while read -r f dir; do
        [ -n "$f" ] || continue
        mkdir -p "$out/tools.tmp/$dir"
        cp "$tree/$f" "$out/tools.tmp/$dir/"
        case $f in
        *.so.4.17.0)
            b=$(basename "$f" .0)
            ln -sf "$b.0" "$out/tools.tmp/$dir/$b" ;;
        esac
    done
    {
        echo "source: Debian xen $deb_ver"
        echo "key: $key"
        echo "built: $(date -u +%FT%TZ) in ${secs}s with $JOBS jobs"
        echo "files:"
        (cd "$out/tools.tmp" && find . -type f | sort | sed 's,^\./,  ,')
    } > "$out/tools.info.tmp"
    rm -rf "$out/tools"
    mv "$out/tools.tmp" "$out/tools"
    mv "$out/tools.info.tmp" "$out/tools.info"
    say "tools built in ${secs}s: $out/tools"
}

[ "$mode" = tools ] && [ ! -f "$out/tools.info" ] && build_tools
echo "$out"
