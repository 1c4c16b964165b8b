#!/bin/sh
# Debian's +ds QEMU tarball ships no firmware.  Point the build's data
# directory (where a QEMU run from the build tree looks) at the firmware
# Debian packages: SeaBIOS, and qemu-system-data's option ROMs
# (linuxboot_dma.bin for -kernel, kvmvapic.bin, NIC ROMs).
# Usage: scripts/link-firmware.sh QEMU_BUILD_DIR
set -eu
dst=$1/qemu-bundle/usr/local/share/qemu
mkdir -p "$dst"
for f in /usr/share/seabios/*.bin /usr/share/qemu/*.bin /usr/share/qemu/*.rom; do
    [ -e "$f" ] || continue
    [ -e "$dst/${f##*/}" ] || ln -sf "$f" "$dst/"
done
[ -e "$dst/bios-256k.bin" ] || {
    echo "link-firmware: no bios-256k.bin (install Debian's seabios)" >&2
    exit 1
}
