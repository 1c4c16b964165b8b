"""Real-Xen cases for a Xen with XEN_DMOP_set_ir_entries (patches/xen).

Interrupt remapping on: the unit remaps its MSIs and pushes decoded entries
into the patched hypervisor, whose vIOAPIC delivers the guest's remappable
IO-APIC entries through them (x2APIC: 32-bit destinations).  They need the
feature word ir-entries (XEN_FEATURES) and are skipped, with the reason,
on Debian's Xen; `make check-xen-ir` runs the suite on the patched Xen
(scripts/xen-build.sh's image through XEN_IMAGE).  On Debian's Xen the same
unit options are refused at start: xen-intremap-on in xen_cases.py.
"""

from cases import (DISK_OK, IRQ_CPU1, IR_STORM_OK, IR_STORM_ROUNDS,  # noqa: F401
                   STEERABLE_DISK, gt)
from xen_cases import (DISK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK, XenCase, _e)

IR_X2APIC = 'xen-viommu,intremap=on,x2apic=on'
# The unit pushed entries and Xen took every batch
HYP_IR_OK = {
    'hyp.set_ir_entries.calls': gt(0), 'hyp.set_ir_entries.errors': '0',
    'hyp.set_ir_entries.refused': '0',
}
TWO_VCPUS = {'cpus_online': '0-1'}

IR_CASES = [
    XenCase('xen-ir-x2apic',
            'patched Xen: intremap=on,x2apic=on, 2 vCPUs: "Enabled IRQ '
            'remapping in x2apic mode", the disk reads back right through '
            'DMA remapping, IO-APIC lines through the pushed entries',
            IR_X2APIC, 'intel_iommu=on',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, HYP_IR_OK, XEN_RUN_OK, TWO_VCPUS,
               ir='x2apic'),
            requires=('ir-entries',), dmar='intremap=on,x2apic=on', vcpus=2,
            timeout=420),
    XenCase('xen-ir-x2apic-affinity',
            'patched Xen: IR x2APIC, the disk IRQ moved to vCPU 1 (IRTE '
            'rewrite, pushed) still arrives, on vCPU 1',
            IR_X2APIC, 'intel_iommu=on xvi.irqcpu=1',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, HYP_IR_OK, XEN_RUN_OK, TWO_VCPUS,
               IRQ_CPU1, ir='x2apic'),
            requires=('ir-entries',), dmar='intremap=on,x2apic=on', vcpus=2,
            timeout=420, disk=DISK + ',' + STEERABLE_DISK),
    # The same hostile writer as the double's xen-double-ir-storm: bounded
    # pushes, nothing misdelivered (the disk's interrupts keep arriving)
    XenCase('xen-ir-storm',
            'patched Xen: the guest re-latches its interrupt table and '
            'moves its disk interrupts in a loop while reading the disk',
            IR_X2APIC,
            'intel_iommu=on iomem=relaxed xvi.irstorm=%d' % IR_STORM_ROUNDS,
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, HYP_IR_OK, XEN_RUN_OK, TWO_VCPUS,
               IR_STORM_OK, ir='x2apic'),
            requires=('ir-entries',), dmar='intremap=on,x2apic=on', vcpus=2,
            timeout=600, read_mib=4, disk=DISK + ',' + STEERABLE_DISK),
]
