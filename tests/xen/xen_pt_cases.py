"""Real-Xen passthrough cases (issue 13): an L0 that gives Xen an IOMMU.

The L0 (L0_VTD) has QEMU's intel-iommu and a second copy of the test disk,
which dom0 makes assignable (`xl pci-assignable-add`) and the guest gets
with xl.cfg's pci=[...]: QEMU's xen-pci-passthrough in the device model,
the device's DMA through the IOMMU Xen programs, its MSI-X bound with
xc_domain_update_msi_irq.  The guest has no emulated disk, so its
/dev/vda is the passthrough one: the usual disk checks (DISK_OK), and
xvi.rounds counts the disk's interrupts per round of reads.

Upstream Xen has no PV-IOMMU, so the unit must not translate DMA
(dma-translation=off, README): with remapping off (upstream), xen_pt binds
the guest's PIRQ-format messages itself; with remapping on (the patched
Xen and xl, ir-entries and xl-viommu: viommu= in xl.cfg, a domain without
PIRQs) the guest programs remappable messages and the unit binds them
(patch 0008, hyp.bind_pt_msi).
"""

from cases import DISK_OK, HOST_SHA, gt  # noqa: E402
from xen_cases import AUTO_OFF, L0Setup, XEN_RUN_OK, XenCase, _e

# Passthrough (issue 13): QEMU's intel-iommu for Xen (Xen takes a DMAR
# whatever the CPU's vendor; the L1 CPU is AMD under TCG -cpu max) and a
# copy of the test disk at 00:10.0 to pass through: virtio-blk with
# iommu_platform=on, so that its DMA goes through the IOMMU Xen programs,
# and MSI-X.  class=0x0180 as for the emulated disk.  The L0's log disk
# keeps the lower slot (dom0's /dev/vda).
# eim=on: Xen 4.17 turns x2APIC on even when the unit has no EIM, and then
# writes x2APIC destinations into IRTEs the unit reads in xAPIC format
# (bits 15:8): every interrupt meant for CPU 1 reached CPU 0 ("CPU0: No irq
# handler for vector 39").  no-sharept: Xen shares the p2m with VT-d when
# the VMX EPT capability MSR allows it; TCG reads that MSR as 0 on its AMD
# CPU (real AMD CPUs fault), so Xen would give the unit the NPT tables.
PT_BDF = '0000:00:10.0'
L0_VTD = L0Setup(
    'vtd', 'intel-iommu (intremap=on,eim=on) and a virtio-blk disk at %s '
    'to pass through' % PT_BDF,
    ('-device', 'intel-iommu,intremap=on,eim=on',
     '-drive', 'file={guest_dir}/disk.img,if=none,id=pt0,format=raw,'
     'readonly=on',
     '-device', 'virtio-blk-pci,drive=pt0,iommu_platform=on,'
     'disable-legacy=on,class=0x0180,addr=0x10'),
    xen_args='iommu=verbose,no-sharept')

# The unit pushed entries and Xen took every batch (remapping on)
HYP_IR_OK = {
    'hyp.set_ir_entries.calls': gt(0), 'hyp.set_ir_entries.errors': '0',
    'hyp.set_ir_entries.refused': '0',
}

PT_CASES = [
    # Passthrough (issue 13): an L0 that gives Xen an IOMMU.  Upstream Xen
    # has no PV-IOMMU, so the unit must not translate DMA (README): the
    # device's DMA goes through the IOMMU Xen programs, its MSI-X through
    # xen-pci-passthrough's own xc_domain_update_msi_irq (remapping off: the
    # unit's binding manager, patch 0008, stays out of it)
    XenCase('xen-pt-ir-only',
            'a virtio-blk disk of the L0 (behind intel-iommu) passed through '
            'with pci=[...] next to dma-translation=off: the guest reads it '
            'right, its MSI-X interrupts arrive (Xen delivers them, not the '
            'unit)',
            'xen-viommu,dma-translation=off',
            'intel_iommu=on xvi.rounds=2',
            _e(DISK_OK, XEN_RUN_OK, AUTO_OFF,
               {'rounds_sha256': HOST_SHA, 'rounds_min_irqs': gt(0),
                'hyp.inject_msi.calls': '0', 'hyp.bind_pt_msi.calls': '0'},
               ir='off', dmar='off', dma_translation='off',
               dmar_no_translation='1', rounds_ok='2',
               **{'xen.pci_assignable_rc': '0'}),
            dmar='intremap=off,dma-translation=off', read_mib=8,
            disk='', l0=L0_VTD, pci=(PT_BDF,), timeout=900),
    # Remapping on (patched Xen and xl, patches/xen 0004/0005): libxl's
    # viommu= adds the unit and creates the domain without PIRQs, so that
    # the guest programs remappable MSI-X messages into the passthrough
    # disk; the unit translates them and binds them (patch 0008) through
    # Xen's xc_domain_update_msi_irq.  A unit given by hand on a domain
    # with PIRQs gets PIRQ-encoded MSIs, which it must block with
    # compatibility format off (docs/xen-passthrough.rst).
    XenCase('xen-pt-xl-viommu',
            'patched Xen and xl: the L0 disk passed through next to '
            'viommu="type=vtd,intremap=1,x2apic=1,dma_translation=0": its '
            'remappable MSI-X messages bound through the unit, the guest '
            'reads it right and gets its interrupts',
            '', 'intel_iommu=on xvi.rounds=2',
            _e(DISK_OK, HYP_IR_OK, XEN_RUN_OK,
               {'rounds_sha256': HOST_SHA, 'rounds_min_irqs': gt(0),
                'hyp.bind_pt_msi.calls': gt(0),
                'hyp.bind_pt_msi.refused': '0',
                'hyp.bind_pt_msi.errors': '0'},
               ir='x2apic', dmar='off', dma_translation='off',
               rounds_ok='2', **{'xen.pci_assignable_rc': '0'}),
            requires=('ir-entries', 'xl-viommu'), read_mib=8, disk='',
            l0=L0_VTD, pci=(PT_BDF,), timeout=600,
            viommu='type=vtd,intremap=1,x2apic=1,dma_translation=0'),
]
