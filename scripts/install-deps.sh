#!/bin/sh
# Install what building QEMU 10.0 with Xen support and running the test
# guests needs on Debian 12 (bookworm).  Adds bookworm-backports (meson >= 1.5,
# python3-pycotap) and a trixie deb-src entry (QEMU 10.0 source package).
#
# Usage: scripts/install-deps.sh [--fuzz] [--check]
#   --fuzz   also what make fuzz needs (clang 14 with libFuzzer)
#   --check  only report what is missing (exit 1 if anything is)
set -eu

PKGS="gcc make pkg-config ninja-build libglib2.0-dev libpixman-1-dev \
libxen-dev libslirp-dev libfdt-dev zlib1g-dev python3-venv flex bison \
ccache xz-utils patch cpio busybox-static seabios qemu-system-data \
acpica-tools dpkg-dev ca-certificates"
FUZZ_PKGS="clang-14 libclang-rt-14-dev llvm-14"
if [ "${1:-}" = "--fuzz" ]; then
    PKGS="$PKGS $FUZZ_PKGS"
    shift
fi
BACKPORTS_PKGS="meson python3-pycotap"
SRC_LIST=/etc/apt/sources.list.d/xen-viommu.sources

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing="$missing $p"
done
meson_ok=no
if command -v meson >/dev/null 2>&1; then
    # QEMU 10.0 needs meson >= 1.5
    if /usr/bin/python3 - "$(meson --version)" <<'PY'
import sys
v = tuple(int(x) for x in sys.argv[1].split('.')[:2])
sys.exit(0 if v >= (1, 5) else 1)
PY
    then meson_ok=yes; fi
fi
pycotap_ok=no
dpkg-query -W -f='${Status}\n' python3-pycotap 2>/dev/null |
    grep -q '^install ok installed$' && pycotap_ok=yes
sources_ok=no
[ -f "$SRC_LIST" ] && sources_ok=yes

if [ -z "$missing" ] && [ $meson_ok = yes ] && [ $pycotap_ok = yes ] &&
   [ $sources_ok = yes ]; then
    exit 0
fi

if [ "${1:-}" = "--check" ]; then
    echo "missing:$missing$( [ $meson_ok = yes ] || echo ' meson>=1.5')$( [ $pycotap_ok = yes ] || echo ' python3-pycotap')$( [ $sources_ok = yes ] || echo ' apt-sources')"
    exit 1
fi

if [ "$(id -u)" != 0 ]; then
    cat >&2 <<MSG
xen-viommu: build dependencies are missing:$missing$( [ $meson_ok = yes ] || echo ' meson(>=1.5, bookworm-backports)')$( [ $pycotap_ok = yes ] || echo ' python3-pycotap(bookworm-backports)')
Run this script as root, or do by hand:
  add bookworm-backports (deb) and trixie (deb-src) to $SRC_LIST, then
  apt-get update
  apt-get install -y$missing
  apt-get install -y -t bookworm-backports $BACKPORTS_PKGS
MSG
    exit 1
fi

if [ ! -f "$SRC_LIST" ]; then
    # Same mirror as the machine's own debian.sources, when it has one.
    uri=http://deb.debian.org/debian
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        u=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources | head -n 1)
        [ -n "$u" ] && uri=$u
    fi
    cat > "$SRC_LIST" <<SRC
# Added by xen-viommu's scripts/install-deps.sh
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    echo "xen-viommu: added $SRC_LIST (bookworm-backports, trixie deb-src)"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PKGS
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends -t bookworm-backports $BACKPORTS_PKGS
