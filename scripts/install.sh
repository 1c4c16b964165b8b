#!/bin/sh
# make install: the device model, its firmware and the DMAR tool, under
# one prefix that a distribution's own QEMU does not use.
#
# Usage: scripts/install.sh QEMU_BUILD PREFIX [DESTDIR] [XEN_BUILD]
#
#   $PREFIX/lib/xen-viommu/bin/qemu-system-x86_64   the device model
#   $PREFIX/lib/xen-viommu/share/qemu/              its firmware and keymaps
#   $PREFIX/bin/xen-viommu-dmar                     writes the DMAR for
#                                                   acpi_firmware=
#   $PREFIX/share/doc/xen-viommu/                   README and docs
# and, when XEN_BUILD names a patched Xen build (scripts/xen-build.sh):
#   /boot/xen-VERSION.gz and /boot/xen-VERSION.config
#   $PREFIX/lib/xen-viommu/xen-tools/   the patched toolstack, if built
#                  (--tools): a tree of Debian's paths, to divert Debian's
#                  files and copy over / (README); never written to / here,
#                  since those files belong to xen-utils-4.17
#
# QEMU finds its data relative to its own binary (it is relocatable), so
# bin/ and share/qemu/ only have to stay side by side; DESTDIR only stages.
# Firmware is copied, not linked: the installed tree must not depend on
# the build tree, and dom0 may lack the packages the build linked from.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
qemu_build=$1
prefix=$2
destdir=${3:-}
xen_build=${4:-}

die() { echo "install: $*" >&2; exit 1; }

case $prefix in
/*) ;;
*) die "PREFIX=$prefix: give an absolute path (e.g. PREFIX=/usr/local)" ;;
esac
qemu=$qemu_build/qemu-system-x86_64
data=$qemu_build/qemu-bundle/usr/local/share/qemu
[ -x "$qemu" ] || die "no $qemu: run make first"
[ -f "$data/bios-256k.bin" ] || die "no firmware in $data: run make first"

libdir=$prefix/lib/xen-viommu
root=$destdir$libdir
install -d "$root/bin" "$root/share/qemu" "$destdir$prefix/bin" \
    "$destdir$prefix/share/doc/xen-viommu"
install -m 0755 "$qemu" "$root/bin/qemu-system-x86_64"
# -L: the build tree's firmware is links into Debian's packages
(cd "$data" && find -L . -type f) | while read -r f; do
    install -D -m 0644 "$data/$f" "$root/share/qemu/$f"
done
sed "s#^installed_qemu=\$#installed_qemu=$libdir/bin/qemu-system-x86_64#" \
    "$top/scripts/xen-viommu-dmar" > "$destdir$prefix/bin/xen-viommu-dmar"
chmod 0755 "$destdir$prefix/bin/xen-viommu-dmar"
grep -q "^installed_qemu=$libdir/bin/qemu-system-x86_64\$" \
    "$destdir$prefix/bin/xen-viommu-dmar" ||
    die "could not set the device model's path in xen-viommu-dmar"
install -m 0644 "$top/README.md" "$top"/docs/*.rst "$top"/docs/*.md \
    "$destdir$prefix/share/doc/xen-viommu/"
echo "install: device model $destdir$libdir/bin/qemu-system-x86_64"
echo "install: DMAR tool    $destdir$prefix/bin/xen-viommu-dmar"

if [ -n "$xen_build" ]; then
    [ -f "$xen_build/xen.gz" ] && [ -f "$xen_build/info" ] ||
        die "XEN_BUILD=$xen_build: no patched Xen build there"
    v=$(sed -n 's/^version: //p' "$xen_build/info")
    [ -n "$v" ] || die "$xen_build/info names no version"
    install -d "$destdir/boot"
    install -m 0644 "$xen_build/xen.gz" "$destdir/boot/xen-$v.gz"
    install -m 0644 "$xen_build/config" "$destdir/boot/xen-$v.config"
    echo "install: hypervisor   $destdir/boot/xen-$v.gz"
    if [ -d "$xen_build/tools" ]; then
        rm -rf "$root/xen-tools"
        install -d "$root/xen-tools"
        cp -a "$xen_build/tools/." "$root/xen-tools/"
        echo "install: Xen tools    $root/xen-tools (to divert Debian's and copy over /: README)"
    fi
fi
