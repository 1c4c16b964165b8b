"""Real-Xen cases for a Xen with XEN_DMOP_set_ir_entries (patches/xen).

Interrupt remapping on: the unit remaps its MSIs and pushes decoded entries
into the patched hypervisor, whose vIOAPIC delivers the guest's remappable
IO-APIC entries through them (x2APIC: 32-bit destinations).  They need the
feature word ir-entries (XEN_FEATURES) and are skipped, with the reason,
on Debian's Xen; `make check-xen-ir` runs the suite on the patched Xen
(scripts/xen-build.sh's image through XEN_IMAGE).  On Debian's Xen the same
unit options are refused at start: xen-intremap-on in xen_cases.py.

The xen-xl-viommu cases use the patched toolstack too (patches/xen 0005,
XEN_TOOLS, feature word xl-viommu): xl.cfg's viommu= alone, libxl adding
the unit and its DMAR; bad settings are refused by xl create.
xen-xl-viommu-unpatched runs that toolstack on Debian's hypervisor
(XEN_TOOLS alone), where xl create must refuse intremap=1 and name the
missing operation.
"""

from cases import (DISK_OK, IRQ_CPU1, IR_STORM_OK, IR_STORM_ROUNDS,  # noqa: F401
                   STEERABLE_DISK, gt)
from xen_cases import (DISK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK, XenCase, _e,
                       _pred, contains, dmar_table, refused)

import os
import tempfile

IR_X2APIC = 'xen-viommu,intremap=on,x2apic=on'
# Remapping on needs a domain without PIRQs (patches/xen 0004), which only
# libxl's viommu= (0005) asks for: on a domain with PIRQs Linux keeps its
# MSIs PIRQ-encoded, compatibility format, and the unit blocks them
# (docs/xen-patches.rst).  So the cases with remapping on use viommu=.
VIOMMU_X2APIC = 'type=vtd,intremap=1,x2apic=1'
# The unit pushed entries and Xen took every batch
HYP_IR_OK = {
    'hyp.set_ir_entries.calls': gt(0), 'hyp.set_ir_entries.errors': '0',
    'hyp.set_ir_entries.refused': '0',
}
TWO_VCPUS = {'cpus_online': '0-1'}


def unit_dmar(opts):
    """The DMAR the unit's dmar-file= writes for options @opts
    (scripts/xen-viommu-dmar, this build's QEMU).  RuntimeError if the
    tool fails: the case then fails with the tool's message."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'dmar.bin')
        dmar_table(opts, path)
        with open(path, 'rb') as f:
            return f.read()


def libxl_dmar(opts):
    """The guest's DMAR is libxl's (patch 0005): the unit's own table for
    @opts byte for byte, but for the checksum and the OEM and creator
    fields (bytes 9-35), which are Xen's, as in hvmloader's tables.  hpet=off
    in @opts: the tool runs the unit under TCG, where QEMU's HPET is behind
    it; under Xen the unit leaves the HPET (Xen's) out of its table."""
    def ok(got):
        if not isinstance(got, bytes) or not got or sum(got) % 256:
            return False
        want = unit_dmar(opts)
        return (got[:9] == want[:9] and got[36:] == want[36:] and
                got[10:16] == b'Xen\0\0\0' and got[16:24] == b'HVM\0\0\0\0\0'
                and got[28:32] == b'HVML')
    return _pred('the unit\'s table for %s (Xen\'s OEM fields)' % opts, ok)

IR_CASES = [
    XenCase('xen-ir-x2apic-affinity',
            'patched Xen and xl (viommu=, a domain without PIRQs): IR '
            'x2APIC, the disk IRQ moved to vCPU 1 (IRTE rewrite, pushed) '
            'still arrives, on vCPU 1',
            '', 'intel_iommu=on xvi.irqcpu=1',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, HYP_IR_OK, XEN_RUN_OK, TWO_VCPUS,
               IRQ_CPU1, ir='x2apic'),
            requires=('ir-entries', 'xl-viommu'), vcpus=2, timeout=600,
            disk=DISK + ',' + STEERABLE_DISK, viommu=VIOMMU_X2APIC),
    # The same hostile writer as the double's xen-double-ir-storm: bounded
    # pushes, nothing misdelivered (the disk's interrupts keep arriving)
    XenCase('xen-ir-storm',
            'patched Xen and xl: the guest re-latches its interrupt table '
            'and moves its disk interrupts in a loop while reading the disk',
            '', 'intel_iommu=on iomem=relaxed xvi.irstorm=%d' % IR_STORM_ROUNDS,
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, HYP_IR_OK, XEN_RUN_OK, TWO_VCPUS,
               IR_STORM_OK, ir='x2apic'),
            requires=('ir-entries', 'xl-viommu'), vcpus=2, timeout=600,
            read_mib=4, disk=DISK + ',' + STEERABLE_DISK,
            viommu=VIOMMU_X2APIC),
    # The patched toolstack (patches/xen 0005, XEN_TOOLS; feature xl-viommu):
    # the unit and its DMAR from xl.cfg's viommu= alone
    XenCase('xen-xl-viommu',
            'patched Xen and xl: viommu="type=vtd,intremap=1,x2apic=1" and '
            'nothing else: libxl adds the unit and its DMAR; "Enabled IRQ '
            'remapping in x2apic mode", the disk reads back right',
            '', 'intel_iommu=on',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, HYP_IR_OK, XEN_RUN_OK, TWO_VCPUS,
               {'xl_log': contains('xen-viommu,base=0xfed90000,intremap=on,'
                                   'x2apic=on,dma-translation=on'),
                '_dmar': libxl_dmar('intremap=on,x2apic=on,hpet=off')},
               ir='x2apic', dmar_table='1'),
            requires=('ir-entries', 'xl-viommu'), vcpus=2, timeout=600,
            viommu='type=vtd,intremap=1,x2apic=1'),
    XenCase('xen-xl-viommu-dma',
            'patched xl: viommu="type=vtd,intremap=0" alone: a DMA-remapping '
            'unit and libxl\'s DMAR (the unit\'s table, Xen\'s OEM fields); '
            'the disk reads back right, lazy',
            '', 'intel_iommu=on',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK,
               {'xl_log': contains('xen-viommu,base=0xfed90000,intremap=off,'
                                   'x2apic=off,dma-translation=on'),
                '_dmar': libxl_dmar('intremap=off,hpet=off')},
               ir='off', iommu_group_type='DMA-FQ', dmar_iasl='ok',
               dmar_table='1'),
            requires=('xl-viommu',), viommu='type=vtd,intremap=0'),
    XenCase('xen-xl-viommu-bad',
            'patched xl: a bad viommu= value is refused by xl create, with '
            'the option named',
            '', expect=refused('xl_log', "viommu: invalid value 'yes' for "
                               "'x2apic' (0 or 1)"),
            requires=('xl-viommu',), timeout=120,
            viommu='type=vtd,intremap=1,x2apic=yes'),
    # The patched toolstack on Debian's hypervisor (XEN_TOOLS without
    # XEN_IMAGE): libxl asks Xen for the operation before it creates the
    # domain and refuses with the operation named
    XenCase('xen-xl-viommu-unpatched',
            'patched xl on Debian\'s hypervisor: viommu="type=vtd,'
            'intremap=1,x2apic=1" is refused by xl create, with the missing '
            'operation named',
            '', expect=refused('xl_log', 'viommu: intremap=1 needs the '
                               'hypervisor operation XEN_DMOP_set_ir_entries'),
            requires=('xl-viommu', '!ir-entries'), timeout=120,
            viommu='type=vtd,intremap=1,x2apic=1'),
    XenCase('xen-xl-viommu-combo',
            'patched libxl: x2apic=1 without intremap is refused by xl '
            'create, with the reason',
            '', expect=refused('xl_log', 'viommu: x2apic=1 needs intremap=1'),
            requires=('xl-viommu',), timeout=120,
            viommu='type=vtd,intremap=0,x2apic=1'),
]
