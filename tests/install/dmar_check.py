#!/usr/bin/python3
"""Check a DMAR table written by xen-viommu-dmar (make install's tool).

Usage: dmar_check.py FILE intremap=on|off x2apic=on|off

Reads the table as a guest's firmware would and prints one "ok"/"not ok"
line: the ACPI header (signature, length, checksum), the flags the unit's
options call for (INTR_REMAP, X2APIC_OPT_OUT), one DRHD at the unit's
base covering all PCI devices, and the IO-APIC scope hvmloader's MADT
needs (enumeration id 1, source id ff:00.0), and no HPET scope (Xen
emulates the HPET itself).
"""
import struct
import sys

DRHD_BASE = 0xfed90000
INTR_REMAP, X2APIC_OPT_OUT = 1 << 0, 1 << 1
DRHD_INCLUDE_PCI_ALL = 1 << 0
SCOPE_IOAPIC, SCOPE_HPET = 3, 4


def check(blob, intremap, x2apic):
    if len(blob) < 48 or blob[:4] != b'DMAR':
        return 'not a DMAR table'
    length = struct.unpack_from('<I', blob, 4)[0]
    if length != len(blob):
        return 'length field %d, file %d bytes' % (length, len(blob))
    if sum(blob) & 0xff:
        return 'checksum does not sum to zero'
    flags = blob[37]
    want = (INTR_REMAP if intremap else 0)
    if intremap and not x2apic:
        want |= X2APIC_OPT_OUT
    if flags & (INTR_REMAP | X2APIC_OPT_OUT) != want:
        return 'flags %#x, want %#x' % (flags, want)
    off, drhds = 48, []
    while off + 4 <= len(blob):
        typ, slen = struct.unpack_from('<HH', blob, off)
        if slen < 4 or off + slen > len(blob):
            return 'bad structure length %d at %d' % (slen, off)
        if typ == 0:
            drhds.append(blob[off:off + slen])
        off += slen
    if len(drhds) != 1:
        return '%d DRHDs, want 1' % len(drhds)
    d = drhds[0]
    dflags, base = d[4], struct.unpack_from('<Q', d, 8)[0]
    if base != DRHD_BASE or not dflags & DRHD_INCLUDE_PCI_ALL:
        return 'DRHD base %#x flags %#x' % (base, dflags)
    soff, ioapics, hpets = 16, [], 0
    while soff + 6 <= len(d):
        styp, sl, enum_id, bus = d[soff], d[soff + 1], d[soff + 4], d[soff + 5]
        if sl < 8:
            return 'bad device scope length %d' % sl
        if styp == SCOPE_IOAPIC:
            ioapics.append((enum_id, bus, d[soff + 6], d[soff + 7]))
        hpets += styp == SCOPE_HPET
        soff += sl
    if ioapics != [(1, 0xff, 0, 0)]:
        return 'IO-APIC scopes %r, want id 1 at ff:00.0' % ioapics
    if hpets:
        return 'an HPET scope: a xenfv machine has no QEMU HPET'
    return None


def main(argv):
    path, opts = argv[1], dict(a.split('=') for a in argv[2:])
    with open(path, 'rb') as f:
        blob = f.read()
    why = check(blob, opts.get('intremap') == 'on', opts.get('x2apic') == 'on')
    name = 'DMAR %s' % ' '.join(argv[2:])
    print('not ok - %s: %s' % (name, why) if why else 'ok - %s' % name)
    return 1 if why else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
