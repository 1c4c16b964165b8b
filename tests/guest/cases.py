"""Named guest test cases for xvi_guest.py.

Each Case boots the test guest once (QEMU args + kernel args) and lists what
the guest must report (XVI-RESULT keys, see tests/guest/init).  An expected
value is either a string/int (compared as text), HOST_SHA (the host's sha256
of disk.img, or of its first read_mib MiB), or a predicate from below.

q35-*/pc-* cases use xen-viommu; ref-intel-* run the same scenarios on QEMU's
own intel-iommu (a reference for the guest tooling and for the expectations);
noiommu* have no IOMMU at all.
"""

from dataclasses import dataclass, field

HOST_SHA = object()   # placeholder: the host's disk checksum


def _pred(desc, fn):
    fn.desc = desc
    return fn


def gt(n):
    return _pred('> %s' % n, lambda v: _int(v) is not None and _int(v) > n)


def at_most(n):
    return _pred('<= %s' % n, lambda v: _int(v) is not None and _int(v) <= n)


def one_of(*vals):
    return _pred('one of %s' % '|'.join(vals), lambda v: v in vals)


def has_id(n):
    """Comma list (e.g. apic_ids) contains n."""
    return _pred('contains %s' % n, lambda v: str(n) in v.split(','))


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


@dataclass
class Case:
    name: str
    desc: str
    machine: list
    device: list
    append: str = ''
    expect: dict = field(default_factory=dict)
    timeout: int = 240
    mem: int = 512
    disk_opts: str = ''
    read_mib: int = 0
    # Migrations while the guest runs xvi.rounds: 'live' (to a second QEMU
    # over a socket) or 'file' (saved to a file, restored by a new QEMU)
    migrate: tuple = ()
    # The guest reboots itself once (xvi.reboot=1; QEMU without -no-reboot)
    reboot: bool = False
    # A host file the case needs (e.g. /dev/vhost-net): skipped, visibly,
    # where it is missing
    requires: str = ''


# Common pieces ----------------------------------------------------------------

# -cpu max: the x2APIC CPUID bit (qemu64 has none, so Linux would stay in xAPIC
# mode whatever the IOMMU offers).
Q35 = ['-M', 'q35', '-smp', '2', '-cpu', 'max']
PC = ['-M', 'pc', '-smp', '2', '-cpu', 'max']
# One vCPU with APIC ID 256: socket 1 of 2, 256 cores per socket.  Linux can
# only bring it up with x2APIC + interrupt remapping (EIM).
APIC256 = ['-M', 'q35', '-smp', '1,sockets=2,cores=256,threads=1,maxcpus=512',
           '-cpu', 'max',
           '-device', 'max-x86_64-cpu,socket-id=1,core-id=0,thread-id=0']
# Two queues, two MSI-X vectors: virtio-pci falls back to one shared,
# non-managed "virtioN-virtqueues" vector whose affinity can be set from
# /proc (per-queue vectors are kernel-managed and refuse it).
STEERABLE_DISK = 'num-queues=2,vectors=2'

# Every case: the disk reads back right, no DMAR fault, no kernel WARNING/BUG.
DISK_OK = {'modules_ok': '1', 'disk_read_ok': '1', 'disk_sha256': HOST_SHA,
           'dmar_faults': '0', 'kernel_warnings': '0'}
TWO_CPUS = {'cpus_online': '0-1', 'apic_ids': '0,1'}
CPU256 = {'cpus_online': '0-1', 'apic_ids': has_id(256)}
IRQ_CPU1 = {'irq_cpu': '1', 'irq_affinity_ok': '1', 'irq_cpu_delta': gt(0),
            'irq_read_ok': '1', 'irq_read_sha256': HOST_SHA}
DMA_ON = {'dmar': 'on', 'dma_translation': 'on'}


def _e(*dicts, **kw):
    out = {}
    for d in dicts:
        out.update(d)
    out.update({k: str(v) for k, v in kw.items()})
    return out


def _scenarios(ir_x2apic, ir_xapic, ir_only, prefix):
    """The same scenarios on one IOMMU model."""
    D = ['-device', ir_x2apic]
    return [
        Case(prefix + 'ir-x2apic', 'IR in x2APIC mode, 2 vCPUs, DMA translated (lazy)',
             Q35, D, 'intel_iommu=on',
             _e(DISK_OK, TWO_CPUS, ir='x2apic')),
        Case(prefix + 'ir-x2apic-affinity',
             'IR x2APIC: disk IRQ moved to CPU 1 (IRTE rewrite) still arrives',
             Q35, D, 'intel_iommu=on xvi.irqcpu=1',
             _e(DISK_OK, TWO_CPUS, IRQ_CPU1, ir='x2apic'),
             disk_opts=STEERABLE_DISK),
        Case(prefix + 'ir-apic256', 'vCPU with APIC ID 256 online, disk IRQ routed to it',
             APIC256, D, 'intel_iommu=on xvi.irqcpu=1',
             _e(DISK_OK, CPU256, IRQ_CPU1, ir='x2apic'),
             timeout=360, disk_opts=STEERABLE_DISK),
        Case(prefix + 'ir-xapic', 'IR without EIM: Linux stays in xAPIC mode',
             Q35, ['-device', ir_xapic], 'intel_iommu=on',
             _e(DISK_OK, TWO_CPUS, ir='xapic')),
        Case(prefix + 'dma-strict', 'DMA translation, strict invalidation',
             Q35, D, 'intel_iommu=on iommu.strict=1',
             _e(DISK_OK, DMA_ON, ir='x2apic', iommu_group_type='DMA')),
        Case(prefix + 'dma-lazy', 'DMA translation, lazy (flush queue) invalidation',
             Q35, D, 'intel_iommu=on',
             _e(DISK_OK, DMA_ON, ir='x2apic', iommu_group_type='DMA-FQ',
                dmar_iasl='ok')),
        Case(prefix + 'dma-bridge',
             'disk behind a PCIe-to-PCI bridge: requester id aliasing, strict',
             Q35 + ['-device', 'pcie-pci-bridge,id=br0,bus=pcie.0'], D,
             'intel_iommu=on iommu.strict=1',
             _e(DISK_OK, DMA_ON, ir='x2apic', iommu_group_type='DMA'),
             disk_opts='bus=br0,addr=1'),
        Case(prefix + 'dma-cm', 'caching mode: invalidation on map too, strict',
             Q35, [D[0], D[1] + ',caching-mode=on'], 'intel_iommu=on iommu.strict=1',
             _e(DISK_OK, DMA_ON, ir='x2apic', iommu_group_type='DMA')),
        Case(prefix + 'dma-pt', 'iommu=pt: identity (pass-through) domains',
             Q35, D, 'intel_iommu=on iommu=pt',
             _e(DISK_OK, dmar='on', dma_translation='pt', iommu_group_type='identity')),
        Case(prefix + 'ir-only', 'dma-translation=off: interrupt remapping only',
             Q35, ['-device', ir_only], 'intel_iommu=on',
             _e(DISK_OK, TWO_CPUS, ir='x2apic', dmar='off', dma_translation='off',
                iommu_groups='0')),
    ]


def _pc(prefix, dev):
    return Case(prefix + 'dma-lazy', 'i440FX machine: DMA translation, lazy',
                PC, ['-device', dev], 'intel_iommu=on',
                _e(DISK_OK, DMA_ON, iommu_group_type='DMA-FQ'))


# QEMU's intel-iommu is q35-only ("expects a dynamic sysbus device type for
# the machine" on pc), so pc-dma-lazy has no reference case.


XEN = 'xen-viommu,intremap=on,x2apic=on'
INTEL = 'intel-iommu,intremap=on,eim=on'


def ecap_bits(on, off):
    """Hex ECAP with bits @on set and @off clear."""
    def ok(v):
        try:
            e = int(v, 16)
        except (TypeError, ValueError):
            return False
        return all(e >> b & 1 for b in on) and not any(e >> b & 1 for b in off)
    return _pred('ECAP bits %s set, %s clear' % (on, off), ok)


ECAP_SMTS, ECAP_SLTS, ECAP_FLTS = 43, 46, 47


def _sm(prefix, fl_dev, sl_dev):
    """Scalable mode (Linux sm_on): first-level tables where FLTS is offered
    (Linux's default then), second-level only where it is not; IR x2APIC."""
    out = []
    for kind, dev in (('fl', fl_dev), ('sl', sl_dev)):
        what = 'first-level' if kind == 'fl' else 'second-level'
        ecap = (ecap_bits([ECAP_SMTS, ECAP_FLTS], []) if kind == 'fl' else
                ecap_bits([ECAP_SMTS, ECAP_SLTS], [ECAP_FLTS]))
        out += [
            Case(prefix + 'sm-%s-strict' % kind,
                 'scalable mode, %s tables, strict invalidation' % what,
                 Q35, ['-device', dev], 'intel_iommu=on,sm_on iommu.strict=1',
                 _e(DISK_OK, DMA_ON, TWO_CPUS, {'dmar0_ecap': ecap},
                    ir='x2apic', iommu_group_type='DMA')),
            Case(prefix + 'sm-%s-lazy' % kind,
                 'scalable mode, %s tables, lazy (flush queue) invalidation'
                 % what,
                 Q35, ['-device', dev], 'intel_iommu=on,sm_on',
                 _e(DISK_OK, DMA_ON, TWO_CPUS, {'dmar0_ecap': ecap},
                    ir='x2apic', iommu_group_type='DMA-FQ')),
        ]
    out.append(Case(prefix + 'sm-pt', 'scalable mode, iommu=pt: pass-through '
                    'PASID entries', Q35, ['-device', fl_dev],
                    'intel_iommu=on,sm_on iommu=pt',
                    _e(DISK_OK, dmar='on', dma_translation='pt',
                       iommu_group_type='identity')))
    return out

CASES = (
    _scenarios(XEN, 'xen-viommu,intremap=on,x2apic=off',
               XEN + ',dma-translation=off', 'q35-')
    + [_pc('pc-', XEN)]
    + _sm('q35-', XEN + ',scalable-mode=on',
          XEN + ',scalable-mode=on,first-level=off')
    # intel-iommu's x-scalable-mode without x-flts offers second-level only
    + _sm('ref-intel-', INTEL + ',x-scalable-mode=on,x-flts=on',
          INTEL + ',x-scalable-mode=on')
    + _scenarios(INTEL, 'intel-iommu,intremap=on,eim=off',
                 INTEL + ',dma-translation=off', 'ref-intel-')
    + [
        # make check-slow: every vCPU of a 288-vCPU guest online (APIC IDs
        # 0..287), which only works with interrupt remapping in x2APIC mode
        Case('q35-ir-288', '288 vCPUs, all online, IR in x2APIC mode',
             # One TCG thread running the vCPUs in turn: 288 host threads
             # on two cores starve each other into soft lockups
             ['-M', 'q35', '-smp', '288', '-cpu', 'max',
              '-accel', 'tcg,thread=single'], ['-device', XEN],
             # lpj: skip the per-CPU delay calibration, minutes under TCG
             'intel_iommu=on lpj=4000000',
             _e(DISK_OK, ir='x2apic', cpus_online='0-287'),
             timeout=3600, mem=4096),
        # Reliability: a guest migrated live and through a file, then one
        # that reboots itself, keep translated DMA and remapped interrupts
        Case('q35-migrate', 'live migration, then save/restore through a '
             'file, while the guest reads through the IOMMU',
             Q35, ['-device', XEN], 'intel_iommu=on iommu.strict=1 xvi.rounds=24',
             _e(DISK_OK, DMA_ON,
                {'rounds_min_irqs': gt(0), 'rounds_sha256': HOST_SHA,
                 'host_rounds_after': gt(3)},
                ir='x2apic', rounds_ok='24', host_migrations='2'),
             timeout=360, read_mib=16, migrate=('live', 'file')),
        Case('q35-reboot', 'the guest reboots itself; the second boot finds '
             'the unit as at power-on and works',
             Q35, ['-device', XEN], 'intel_iommu=on xvi.reboot=1',
             _e(DISK_OK, DMA_ON, TWO_CPUS, ir='x2apic', boot_count='2',
                host_reboots='1'),
             timeout=360, reboot=True),
        Case('q35-race', 'every vCPU hammers the unit\'s registers while '
             'the disk is read through it',
             Q35, ['-device', XEN], 'intel_iommu=on iomem=relaxed xvi.race=30',
             _e(DISK_OK, DMA_ON, TWO_CPUS, {'race_sha256': HOST_SHA},
                {'race_rounds_while_reading_min': gt(0)}, ir='x2apic',
                race_cpus_ok='2', race_reads='6', race_reads_bad='0'),
             read_mib=16),
        # translate() from an iothread (virtio-blk dataplane) while every
        # vCPU hammers the unit's registers from the BQL side
        Case('q35-dma-iothread', 'disk in an iothread (dataplane): DMA '
             'translated outside the BQL while the vCPUs hit the registers',
             Q35 + ['-object', 'iothread,id=io0'], ['-device', XEN],
             'intel_iommu=on iommu.strict=1 iomem=relaxed xvi.race=20 '
             'xvi.race_reads=3',
             _e(DISK_OK, DMA_ON, TWO_CPUS, {'race_sha256': HOST_SHA},
                {'race_rounds_while_reading_min': gt(0)}, ir='x2apic',
                race_cpus_ok='2', race_reads='3', race_reads_bad='0',
                iommu_group_type='DMA'),
             read_mib=16, disk_opts='iothread=io0'),
        # vhost registers one UNMAP notifier per section of the device's
        # address space (the interrupt window splits it); strict mode sends
        # page-selective invalidations, the guest's driver global ones
        Case('q35-vhost-net', 'virtio-net with vhost and iommu_platform: '
             'vhost hears every invalidation inside its own sections',
             Q35 + ['-netdev', 'tap,id=n0,vhost=on,script=no,downscript=no,'
                    'ifname=xvitap0',
                    '-device', 'virtio-net-pci,netdev=n0,iommu_platform=on,'
                    'disable-legacy=on'],
             ['-device', XEN], 'intel_iommu=on iommu.strict=1',
             _e(DISK_OK, DMA_ON, TWO_CPUS, ir='x2apic'),
             requires='/dev/vhost-net'),
        Case('noiommu', 'no IOMMU: no DMAR, no IR, disk still fine',
             Q35, [], 'intel_iommu=on',
             _e(DISK_OK, TWO_CPUS, ir='off', dmar='off', dmar_table='0',
                iommu_groups='0')),
        Case('noiommu-apic256', 'no IOMMU: the APIC ID 256 vCPU cannot come up',
             APIC256, [], 'intel_iommu=on',
             _e(DISK_OK, ir='off', dmar='off', cpus_online='0'), timeout=360),
    ]
)

_BY_NAME = {c.name: c for c in CASES}
assert len(_BY_NAME) == len(CASES), 'duplicate case names'


def get(name):
    return _BY_NAME.get(name)


# Hypervisor double ------------------------------------------------------------
# hypervisor=double: interrupts go through the device's hypervisor interface
# (hw/i386/xen_viommu_xen.c) into the stand-in for Xen.  hyp.* keys are the
# backend's counters (x-hyp-stats-file, read by xvi_guest.py after QEMU
# exits).  Every MSI is remapped before inject_msi: a remappable or vector-0
# message would be refused by the wrapper (refused > 0) or counted by the
# double as a PIRQ (msi_pirq > 0).  The IO-APIC's remappable RTEs (the serial
# console's IRQ 4, the timer) are decoded by the double's vIOAPIC with the
# entries the device pushed (set_ir_entries).

XEN_DOUBLE = XEN + ',hypervisor=double'
IR_STORM_ROUNDS = 20
IR_STORM_OK = {
    'irstorm_ok': '1', 'irstorm_reads': gt(0), 'irstorm_reads_bad': '0',
    'irstorm_sha256': HOST_SHA, 'irstorm_irqs': gt(0),
    'irstorm_moves': gt(IR_STORM_ROUNDS - 1),
    'hyp.set_ir_entries.calls': at_most(256 * (IR_STORM_ROUNDS + 8) +
                                        8 * IR_STORM_ROUNDS),
}

HYP_DOUBLE_OK = {
    'hyp.backend': 'double',
    'hyp.inject_msi.calls': gt(0), 'hyp.inject_msi.refused': '0',
    'hyp.inject_msi.errors': '0', 'hyp.double.msi_pirq': '0',
    'hyp.set_ir_entries.calls': gt(0), 'hyp.set_ir_entries.items': gt(0),
    'hyp.set_ir_entries.refused': '0', 'hyp.set_ir_entries.errors': '0',
    'hyp.double.ioapic_delivered': gt(0),
}

XEN_DOUBLE_CASES = [
    Case('xen-double-ir-x2apic',
         'hypervisor double: IR x2APIC, DMA translated, MSIs via inject_msi, '
         'IO-APIC via pushed IR entries',
         Q35, ['-device', XEN_DOUBLE], 'intel_iommu=on',
         _e(DISK_OK, TWO_CPUS, DMA_ON, HYP_DOUBLE_OK, ir='x2apic')),
    Case('xen-double-ir-xapic',
         'hypervisor double: IR without EIM, 8-bit destinations pushed',
         Q35, ['-device', 'xen-viommu,intremap=on,x2apic=off,hypervisor=double'],
         'intel_iommu=on',
         _e(DISK_OK, TWO_CPUS, HYP_DOUBLE_OK, ir='xapic')),
    # A hostile interrupt-table writer (xvi.irstorm): every SIRTP costs at
    # most one whole table's pushes (256 batches of Linux's 65536 entries),
    # each affinity move a few; the guest's interrupts keep arriving
    Case('xen-double-ir-storm',
         'hypervisor double: the guest re-latches its interrupt table and '
         'moves its disk interrupts in a loop while reading the disk',
         Q35, ['-device', XEN_DOUBLE],
         'intel_iommu=on iomem=relaxed xvi.irstorm=%d' % IR_STORM_ROUNDS,
         _e(DISK_OK, TWO_CPUS, DMA_ON, HYP_DOUBLE_OK, IR_STORM_OK,
            ir='x2apic'),
         disk_opts=STEERABLE_DISK, read_mib=4),
    Case('xen-double-ir-only',
         'hypervisor double: dma-translation=off, interrupt remapping only',
         Q35, ['-device', XEN_DOUBLE + ',dma-translation=off'], 'intel_iommu=on',
         _e(DISK_OK, TWO_CPUS, HYP_DOUBLE_OK, ir='x2apic', dmar='off',
            dma_translation='off', iommu_groups='0')),
]

CASES = CASES + XEN_DOUBLE_CASES
_BY_NAME = {c.name: c for c in CASES}
assert len(_BY_NAME) == len(CASES), 'duplicate case names'
