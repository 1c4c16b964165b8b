#!/bin/sh
# Build the bare-metal test (tests/bare, kvm-unit-tests style) and run it
# on the unit in each configuration below, under TCG.  Prints TAP: the
# guest's own lines, each named by its configuration.
#
# Usage: tests/bare/run.sh QEMU OUT_DIR [--tap -k]   (extra words ignored)
set -u

here=$(cd "$(dirname "$0")" && pwd)
qemu=$1
out=$2
mkdir -p "$out"
elf=$out/xvi-bare.elf

# A 32-bit freestanding multiboot ELF; no C library, no libgcc
if ! gcc -m32 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
        -fno-builtin -nostdlib -static -no-pie -O2 -Wall -Wextra -Werror \
        -mgeneral-regs-only -Wl,-T,"$here/link.ld" -Wl,-m,elf_i386 \
        -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
        -o "$elf" "$here/start.S" "$here/xvi-bare.c" > "$out/build.log" 2>&1; then
    echo "not ok - bare: build failed: $(head -n 3 "$out/build.log" | tr '\n' ' ')"
    exit 1
fi

# name and unit options; edu at 00:04.0 does the DMA and the MSIs
configs="
legacy intremap=on,x2apic=off
legacy-oracle intremap=on,x2apic=off,x-oracle=on
scalable intremap=on,x2apic=off,scalable-mode=on
"
echo "$configs" | while read -r name opts; do
    [ -n "$name" ] || continue
    log=$out/$name.log
    timeout 120 "$qemu" -M q35 -accel tcg -m 128 -nodefaults -display none \
        -serial "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -device "xen-viommu,$opts" \
        -device edu,addr=04.0,dma_mask=0xffffffffffffffff \
        -kernel "$elf" > "$out/$name.qemu.log" 2>&1
    rc=$?
    # The guest's lines, named; its plan must match what it reported
    sed -n "s/^\(not ok\|ok\) [0-9]* - \(.*\)/\1 - bare\/$name: \2/p" "$log"
    plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log")
    got=$(grep -cE '^(not ok|ok) [0-9]+ - ' "$log")
    # isa-debug-exit: 1 = every check passed, 3 = some failed
    case $rc in
    1) [ "$plan" = "$got" ] && continue ;;
    3) continue ;;
    esac
    echo "not ok - bare/$name: the run ended with status $rc after $got checks (plan ${plan:-none}; log: $log, $out/$name.qemu.log)"
done
