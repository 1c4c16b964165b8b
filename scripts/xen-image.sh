#!/bin/sh
# Build what the real-Xen tests boot: Debian's Xen hypervisor, a dom0 kernel
# and a dom0 initramfs with the Xen tools, this build's QEMU and the test
# guest.
#
# Usage: scripts/xen-image.sh OUTDIR CACHEDIR QEMU GUEST_DIR
#
# OUTDIR gets:
#   xen           the hypervisor, uncompressed (multiboot image for -kernel);
#                 $XEN_IMAGE (an uncompressed xen binary) replaces Debian's
#                 and $XEN_TOOLS (scripts/xen-build.sh --tools' DIR/tools:
#                 the patched libxl, xl and what links libxl) goes over
#                 Debian's tools in dom0
#   vmlinuz       dom0 kernel: the guest's kernel package (scripts/guest-image.sh)
#   dom0.cpio     newc cpio (uncompressed: faster to unpack under TCG):
#                 static busybox, tests/xen/init as /init, tests/xen/run-cases,
#                 the Xen modules dom0 needs, xen-utils-4.17 and friends,
#                 QEMU (stripped) with its firmware, keymap and libraries,
#                 the guest's vmlinuz, initrd.img, disk.img in /images
#   image.txt     what went in, for humans (package versions, module order)
# CACHEDIR keeps the .debs (`apt-get download`, never installed), in
# CACHEDIR/xen-debs.  A re-run with nothing changed downloads nothing
# and rebuilds nothing (OUTDIR/.stamp).  Prints one line when it did work.
set -eu

die() { echo "xen-image: $*" >&2; exit 1; }

[ $# -eq 4 ] || die "usage: $0 OUTDIR CACHEDIR QEMU GUEST_DIR"
outdir=$1
cachedir=$2
qemu=$3
guest_dir=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
self=$here/$(basename "$0")
lib=$here/deb-lib.sh
. "$lib"
busybox=/bin/busybox
xenver=4.17
# Packages unpacked into dom0 (the libraries are the tools' dependencies;
# anything else `ldd` lists comes from the host, the same Debian release)
xen_pkgs="xen-utils-$xenver xen-utils-common xenstore-utils libxenmisc$xenver
libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1
libxengnttab1 libxenhypfs1 libxenstore4 libxentoolcore1 libxentoollog1 libyajl2"
hyp_pkg=xen-hypervisor-$xenver-amd64
# dom0's modules (dependencies added from modinfo); virtio for the log disk
dom0_mods="xen_evtchn xen_gntdev xen_gntalloc xen_privcmd xenfs xen_pciback
virtio_pci virtio_blk"
# Programs dom0 runs: their libraries are copied in
xen_bins="usr/lib/xen-$xenver/bin/xl usr/lib/xen-$xenver/bin/xenstored
usr/lib/xen-$xenver/bin/xenconsoled usr/lib/xen-$xenver/bin/xen-init-dom0
usr/lib/xen-$xenver/bin/libxl-save-helper usr/lib/xen-$xenver/bin/xen-hvmctx
usr/bin/xenstore-ls usr/bin/xenstore-read usr/bin/xenstore-write"
firmware="/usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin
/usr/share/qemu/kvmvapic.bin"

for f in "$repo/tests/xen/init" "$repo/tests/xen/run-cases" "$qemu" \
         "$guest_dir/vmlinuz" "$guest_dir/initrd.img" "$guest_dir/disk.img"; do
    [ -e "$f" ] || die "missing $f"
done
[ -x "$busybox" ] || die "missing $busybox (apt-get install busybox-static)"
for t in cpio dpkg-deb ldd strip sha256sum gzip; do
    command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
done
if [ -n "${XEN_TOOLS:-}" ]; then
    [ -f "$XEN_TOOLS/usr/lib/xen-$xenver/bin/xl" ] ||
        die "XEN_TOOLS=$XEN_TOOLS has no usr/lib/xen-$xenver/bin/xl (scripts/xen-build.sh --tools makes it)"
fi
if [ -n "${XEN_IMAGE:-}" ]; then
    [ -f "$XEN_IMAGE" ] || die "XEN_IMAGE=$XEN_IMAGE: no such file"
    case $(od -An -tx1 -N2 "$XEN_IMAGE" | tr -d ' ') in
    1f8b) die "XEN_IMAGE=$XEN_IMAGE is gzip-compressed: give the uncompressed xen (gunzip it)" ;;
    esac
fi

mkdir -p "$outdir" "$cachedir/xen-debs" || die "cannot create $outdir or $cachedir"
outdir=$(cd "$outdir" && pwd)
debdir=$(cd "$cachedir/xen-debs" && pwd)
cachedir=$(cd "$cachedir" && pwd)

# Packages ----------------------------------------------------------------------
kdeb=$(kernel_deb "$cachedir")
[ -n "$kdeb" ] || die "no kernel .deb in $cachedir (run scripts/guest-image.sh first)"
debs=
for p in $hyp_pkg $xen_pkgs; do
    d=$(deb_fetch "$debdir" "$p")
    [ -n "$d" ] || die "cannot get $p: apt-get download failed and $debdir has none (apt-get update?)"
    debs="$debs $d"
done

# Up to date? -------------------------------------------------------------------
sum() { sha256sum <"$1" | cut -d' ' -f1; }
stamp_now=$( {
    for d in $kdeb $debs; do echo "$(basename "$d") $(stat -c %s "$d")"; done
    for f in "$self" "$lib" "$repo/tests/xen/init" "$repo/tests/xen/run-cases" \
             "$qemu" "$busybox" "$guest_dir/vmlinuz" "$guest_dir/initrd.img" \
             "$guest_dir/disk.img"; do
        echo "$f $(sum "$f")"
    done
    [ -n "${XEN_IMAGE:-}" ] && echo "XEN_IMAGE $(sum "$XEN_IMAGE")"
    if [ -n "${XEN_TOOLS:-}" ]; then
        (cd "$XEN_TOOLS" && find . -type f | LC_ALL=C sort | while read -r f; do
            echo "XEN_TOOLS $f $(sum "$f")"; done)
    fi
    true
} | sha256sum | cut -d' ' -f1)
if [ -f "$outdir/.stamp" ] && [ "$(cat "$outdir/.stamp")" = "$stamp_now" ] &&
   [ -s "$outdir/xen" ] && [ -s "$outdir/vmlinuz" ] && [ -s "$outdir/dom0.cpio" ]; then
    exit 0
fi

# Build ---------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/xvi-xen.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
rm -f "$outdir/.stamp"

# The hypervisor
mkdir -p "$work/hyp"
hdeb=$(echo $debs | cut -d' ' -f1)
dpkg-deb -x "$hdeb" "$work/hyp"
if [ -n "${XEN_IMAGE:-}" ]; then
    cp "$XEN_IMAGE" "$work/xen"
    xen_from="XEN_IMAGE=$XEN_IMAGE"
else
    gz=$(ls "$work/hyp/boot/xen-$xenver-amd64.gz" 2>/dev/null) ||
        die "$(basename "$hdeb") has no boot/xen-$xenver-amd64.gz"
    gzip -dc "$gz" >"$work/xen"
    xen_from=$(basename "$hdeb")
fi

# Kernel and modules
dpkg-deb -x "$kdeb" "$work/k"
kver=$(ls "$work/k/lib/modules" | head -n 1)
[ -n "$kver" ] || die "$kdeb has no lib/modules/"
r=$work/root
busybox_tree "$r" "$busybox"
# shellcheck disable=SC2086 # word lists
kmods_copy "$work/k/lib/modules/$kver" "$work" "$r/lib/modules" $dom0_mods
cp "$work/order" "$r/lib/modules/order"

# Xen tools
for d in $(echo $debs | cut -d' ' -f2-); do
    dpkg-deb -x "$d" "$work/x"
done
# The patched toolstack over Debian's (same paths, same sonames)
tools_from=
if [ -n "${XEN_TOOLS:-}" ]; then
    cp -a "$XEN_TOOLS/." "$work/x/"
    tools_from=" + XEN_TOOLS=$XEN_TOOLS"
fi
rm -rf "$work/x/usr/share/doc" "$work/x/usr/share/man" "$work/x/usr/share/lintian" \
       "$work/x/usr/lib/xen-$xenver/lib/python" "$work/x/etc/init.d"
cp -a "$work/x/." "$r/"
[ -f "$r/usr/lib/xen-$xenver/boot/hvmloader" ] || die "no hvmloader in the packages"

# QEMU, stripped of its debug info, where its default data directory is
mkdir -p "$r/usr/local/bin" "$r/usr/local/share/qemu/keymaps"
strip --strip-debug -o "$r/usr/local/bin/qemu-system-x86_64" "$qemu"
for f in $firmware; do
    [ -f "$f" ] || die "missing $f (seabios, qemu-system-data)"
    cp "$f" "$r/usr/local/share/qemu/"
done
# libxl loads SeaBIOS itself (Debian's libxl: the seabios package's file)
mkdir -p "$r/usr/share/seabios"
cp /usr/share/seabios/bios-256k.bin "$r/usr/share/seabios/"
km=/usr/share/qemu/keymaps/en-us
[ -f "$km" ] || km=$(dirname "$(dirname "$qemu")")/qemu-src/pc-bios/keymaps/en-us
[ -f "$km" ] || die "no keymaps/en-us (libxl passes -vnc, which needs it)"
cp "$km" "$r/usr/local/share/qemu/keymaps/en-us"

# Libraries: what ldd resolves, the packages' first
libpath=$work/x/usr/lib/x86_64-linux-gnu
: >"$work/libs"
for b in $xen_bins; do
    [ -f "$work/x/$b" ] || die "no $b in the Xen packages"
    LD_LIBRARY_PATH=$libpath ldd "$work/x/$b" >>"$work/libs" || die "ldd $b failed"
done
ldd "$qemu" >>"$work/libs" || die "ldd $qemu failed"
# dlopen()ed by glibc for pthread_cancel (xl's threads), not in ldd's list
echo "libgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0)" >>"$work/libs"
grep -q 'not found' "$work/libs" && die "unresolved libraries: $(grep 'not found' "$work/libs" | sort -u | tr '\n' ' ')"
for l in $(sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' "$work/libs" | sort -u); do
    case $l in
    "$libpath"/*) continue ;;          # in dom0 already, from the packages
    esac
    real=$(readlink -f "$l")
    # Debian's merged /usr: /lib is /usr/lib
    dst=$r$(echo "$l" | sed 's,^/lib/,/usr/lib/,; s,^/lib64/,/usr/lib64/,')
    mkdir -p "$(dirname "$dst")"
    [ -e "$dst" ] || cp "$real" "$dst"
done
# /lib holds the modules; the libraries live under /usr/lib and /usr/lib64
ln -sfn ../usr/lib/x86_64-linux-gnu "$r/lib/x86_64-linux-gnu"
ln -sfn usr/lib64 "$r/lib64"

# Runner, guest, directories the tools expect
cp "$repo/tests/xen/init" "$r/init"
cp "$repo/tests/xen/run-cases" "$r/bin/run-cases"
chmod 755 "$r/init" "$r/bin/run-cases"
mkdir -p "$r/images" "$r/var/lib/xen" "$r/var/log/xen" "$r/var/run" "$r/run" \
         "$r/proc/xen" "$r/plan"
for f in vmlinuz initrd.img disk.img disk.sha256; do
    cp "$guest_dir/$f" "$r/images/$f"
done
echo "$kver" >"$r/etc/kernel-release"
mknod -m 600 "$r/dev/console" c 5 1 2>/dev/null || true
cpio_newc "$r" >"$work/dom0.cpio" || die "cannot build dom0.cpio"

{
    echo "xen: $xen_from"
    echo "dom0 kernel: $(basename "$kdeb") ($kver)"
    echo "dom0 modules: $(tr '\n' ' ' <"$work/order")"
    [ -f "$work/builtin" ] && echo "built-in: $(tr '\n' ' ' <"$work/builtin")"
    for d in $debs; do echo "package: $(basename "$d")"; done
    if [ -n "${XEN_TOOLS:-}" ]; then
        echo "tools over the packages' (XEN_TOOLS=$XEN_TOOLS):"
        (cd "$XEN_TOOLS" && find . -type f | LC_ALL=C sort | sed 's,^\./,  ,')
    fi
    echo "qemu: $qemu"
} >"$work/image.txt"
mv -f "$work/xen" "$outdir/xen"
mv -f "$work/dom0.cpio" "$outdir/dom0.cpio"
mv -f "$work/image.txt" "$outdir/image.txt"
cp "$work/k/boot/vmlinuz-$kver" "$outdir/vmlinuz"
echo "$stamp_now" >"$outdir/.stamp"
echo "xen-image: built $outdir (xen from $xen_from$tools_from, dom0 $kver, $(($(stat -c %s "$outdir/dom0.cpio") >> 20)) MiB initramfs)"
