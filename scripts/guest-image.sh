#!/bin/sh
# Build the Linux test guest used by `make run` and `make check`.
#
# Usage: scripts/guest-image.sh OUTDIR CACHEDIR
#
# OUTDIR gets:
#   vmlinuz       Debian bookworm's current kernel (linux-image-amd64's dependency)
#   initrd.img    gzip'd newc cpio: static busybox + links, tests/guest/init,
#                 the (uncompressed) modules virtio PCI block needs, in order
#   disk.img      16 MiB of reproducible pseudo-random data (the test disk)
#   disk.sha256   "HEX  disk.img", sha256 of the whole image
#   kernel.txt    kernel package, version and module load order, for humans
# CACHEDIR keeps the kernel .deb (fetched with `apt-get download`, never installed).
#
# Rebuilds only when the kernel package, tests/guest/init, busybox or this
# script changed (OUTDIR/.stamp).  Prints one line when it did work.
set -eu

die() { echo "guest-image: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 OUTDIR CACHEDIR"
outdir=$1
cachedir=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
init=$repo/tests/guest/init
self=$here/$(basename "$0")
lib=$here/deb-lib.sh
. "$lib"
busybox=/bin/busybox
# Root modules the guest needs; their dependencies are added from modinfo.
want_mods="virtio_pci virtio_blk nvme virtio_net"
disk_mib=16
disk_seed=xen-viommu-guest-disk-v1

[ -f "$init" ] || die "missing $init"
[ -x "$busybox" ] || die "missing $busybox (apt-get install busybox-static; see scripts/install-deps.sh)"
"$busybox" --list >/dev/null 2>&1 || die "$busybox does not run"
if command -v file >/dev/null 2>&1; then
    file -L "$busybox" | grep -q 'statically linked' ||
        die "$busybox is not static (need busybox-static)"
fi
for t in cpio gzip xz dpkg-deb sha256sum /usr/bin/python3; do
    command -v "$t" >/dev/null 2>&1 || die "missing tool: $t (see scripts/install-deps.sh)"
done

mkdir -p "$outdir" "$cachedir" || die "cannot create $outdir or $cachedir"
outdir=$(cd "$outdir" && pwd)
cachedir=$(cd "$cachedir" && pwd)

# Kernel package --------------------------------------------------------------
deb=$(kernel_deb "$cachedir")
[ -n "$deb" ] ||
    die "no kernel: apt-cache cannot resolve linux-image-amd64 (run apt-get update?) and $cachedir has no linux-image-*-amd64 .deb"

# Up to date? ------------------------------------------------------------------
stamp_now=$(printf '%s\n' "deb=$(basename "$deb") $(stat -c %s "$deb")" \
    "init=$(sha256sum <"$init")" "script=$(sha256sum <"$self")" \
    "lib=$(sha256sum <"$lib")" \
    "busybox=$(sha256sum <"$busybox")" "disk=$disk_seed/$disk_mib" | sha256sum | cut -d' ' -f1)
if [ -f "$outdir/.stamp" ] && [ "$(cat "$outdir/.stamp")" = "$stamp_now" ] &&
   [ -s "$outdir/vmlinuz" ] && [ -s "$outdir/initrd.img" ] &&
   [ -s "$outdir/disk.img" ] && [ -s "$outdir/disk.sha256" ]; then
    exit 0
fi

# Build --------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/xvi-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
rm -f "$outdir/.stamp"

dpkg-deb -x "$deb" "$work/k" || die "cannot extract $deb"
kver=$(ls "$work/k/lib/modules" 2>/dev/null | head -n 1)
[ -n "$kver" ] || die "$deb has no lib/modules/"
vmlinuz=$work/k/boot/vmlinuz-$kver
config=$work/k/boot/config-$kver
moddir=$work/k/lib/modules/$kver
[ -f "$vmlinuz" ] || die "$deb has no boot/vmlinuz-$kver"

# What the guest relies on being built in.
if [ -f "$config" ]; then
    for c in CONFIG_INTEL_IOMMU CONFIG_IRQ_REMAP CONFIG_X86_X2APIC CONFIG_PCI_MSI \
             CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP CONFIG_DEVTMPFS CONFIG_SERIAL_8250_CONSOLE; do
        grep -q "^$c=y" "$config" || die "kernel $kver: $c is not built in"
    done
fi

mkdir -p "$work/root/lib/modules"
kmods_copy "$moddir" "$work" "$work/root/lib/modules" $want_mods
cp "$work/order" "$work/root/lib/modules/order"

# initramfs tree
r=$work/root
busybox_tree "$r" "$busybox" usr-links
cp "$init" "$r/init"
chmod 755 "$r/init"
# /init redirects to /dev/console itself once devtmpfs is up; the node here
# only helps the kernel hand /init a console (needs root, optional).
mknod -m 600 "$r/dev/console" c 5 1 2>/dev/null || true
echo "$kver" >"$r/etc/kernel-release"
cpio_newc "$r" | gzip -9n >"$work/initrd.img" || die "cannot build initrd"

# test disk: shake-256 stream of a fixed seed, reproducible everywhere
/usr/bin/python3 - "$work/disk.img" "$disk_seed" "$disk_mib" <<'PY' || die "cannot build disk.img"
import hashlib, sys
path, seed, mib = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
with open(path, "wb") as f:
    for i in range(mib):
        f.write(hashlib.shake_256(seed + b"/%d" % i).digest(1 << 20))
PY
(cd "$work" && sha256sum disk.img) >"$work/disk.sha256"

{
    echo "package: $(basename "$deb")"
    echo "kernel: $kver"
    echo "modules: $(tr '\n' ' ' <"$work/order")"
    [ -f "$work/builtin" ] && echo "built-in: $(tr '\n' ' ' <"$work/builtin")"
} >"$work/kernel.txt"

for f in initrd.img disk.img disk.sha256 kernel.txt; do
    mv -f "$work/$f" "$outdir/$f"
done
cp "$vmlinuz" "$outdir/vmlinuz"
echo "$stamp_now" >"$outdir/.stamp"
echo "guest-image: built $outdir (kernel $kver, modules: $(tr '\n' ' ' <"$work/order" | sed 's/ $//'))"
