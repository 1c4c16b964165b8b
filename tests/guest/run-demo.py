#!/usr/bin/python3
"""`make run`: boot the test guest on xen-viommu and say what it sees.

    run-demo.py --qemu PATH --guest-dir DIR [--log FILE] [--device SPEC]

Exit 0 if the guest booted and reported done=1.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import xvi_guest  # noqa: E402

MACHINE = ['-M', 'q35', '-smp', '2', '-cpu', 'max']
DEVICE = 'xen-viommu,intremap=on,x2apic=on'
APPEND = 'intel_iommu=on xvi.irqcpu=1'
# one shared, non-managed MSI-X vector the guest can move to CPU 1
DISK_OPTS = 'num-queues=2,vectors=2'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--guest-dir', default=xvi_guest.DEFAULT_GUEST_DIR)
    ap.add_argument('--log', help='console log (default: GUEST_DIR/demo.log)')
    ap.add_argument('--device', default=DEVICE,
                    help='IOMMU -device (default %(default)s)')
    ap.add_argument('--timeout', type=int, default=240)
    a = ap.parse_args()
    log_path = a.log or os.path.join(a.guest_dir, 'demo.log')

    argv = MACHINE + ['-device', a.device]
    print('Booting Linux under TCG: %s' % ' '.join(argv))
    sys.stdout.flush()
    try:
        r, log, rc = xvi_guest.boot(a.qemu, MACHINE, ['-device', a.device], APPEND,
                                    timeout=a.timeout, log_path=log_path,
                                    guest_dir=a.guest_dir, disk_opts=DISK_OPTS)
    except FileNotFoundError as e:
        print('error: %s' % e)
        return 1
    g = r.get
    booted = g('done') == '1'
    print('Guest %s in %.0fs (kernel %s); console log: %s'
          % ('finished' if booted else 'did NOT finish', r['_time'],
             g('kernel', '?'), log_path))
    if not booted:
        tail = [l for l in log.splitlines() if l.strip()][-15:]
        print('Last console lines:')
        for l in tail:
            print('  | ' + l.rstrip())
        return 1

    print()
    print('What the guest kernel says about the IOMMU:')
    lines = [l for l in r['_dmesg'] if 'command line' not in l.lower()]
    for l in lines[:40] or ['(nothing)']:
        print('  ' + l)
    print()
    print('CPUs online:        %s (APIC IDs %s)' % (g('cpus_online'), g('apic_ids')))
    print('Interrupt remapping: %s   APIC routing: %s'
          % (g('ir'), g('apic_routing', '?')))
    print('DMA remapping:      %s (disk %s in group %s, type %s); %s IOMMU groups'
          % (g('dma_translation'), g('disk_pci', '?'), g('disk_iommu_group', '-'),
             g('iommu_group_type'), g('iommu_groups')))
    if g('dmar0_cap'):
        print('VT-d unit:          version %s cap %s ecap %s'
              % (g('dmar0_version'), g('dmar0_cap'), g('dmar0_ecap')))
    want = xvi_guest.host_disk_sha256(a.guest_dir)
    same = g('disk_sha256') == want
    print('Disk checksum:      %s (%s)'
          % (g('disk_sha256', 'none'),
             'matches the host' if same else 'host has %s' % want))
    if g('irq_cpu'):
        print('Disk IRQ %s moved to CPU %s: %s; %s interrupts arrived there'
              % (g('irq_list'), g('irq_cpu'),
                 'accepted' if g('irq_affinity_ok') == '1' else 'REFUSED',
                 g('irq_cpu_delta')))

    gaps = []
    if g('dmar_table') != '1':
        gaps.append('no ACPI DMAR table: the guest found no VT-d unit')
    if g('ir') == 'off':
        gaps.append('interrupt remapping is off')
    elif g('ir') == 'xapic':
        gaps.append('interrupt remapping only in xAPIC mode (no x2APIC/EIM)')
    if g('dmar') != 'on':
        gaps.append('no DMA remapping unit registered (dma_translation=%s)'
                    % g('dma_translation'))
    if g('dmar_faults', '0') != '0':
        gaps.append('%s DMAR fault lines in the guest log' % g('dmar_faults'))
    if g('disk_read_ok') != '1' or not same:
        gaps.append('the disk did not read back right through the IOMMU')
    if g('cpus_online') != '0-1':
        gaps.append('not all CPUs came online (%s)' % g('cpus_online'))
    if g('irq_cpu') and g('irq_cpu_delta', '0') in ('0', ''):
        gaps.append('no disk interrupt reached CPU %s after moving it' % g('irq_cpu'))
    if g('kernel_warnings', '0') != '0':
        gaps.append('%s kernel WARNING/BUG lines (see the log)' % g('kernel_warnings'))
    if g('error'):
        gaps.append('guest error: %s' % g('error'))
    print()
    if gaps:
        print('Not working yet:')
        for x in gaps:
            print('  - ' + x)
    else:
        print('All good: DMA and interrupt remapping work as the guest sees them.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
