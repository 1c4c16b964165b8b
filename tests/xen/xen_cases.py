"""Real-Xen guest cases for xvx.py: Debian's Xen, nested under TCG.

Each XenCase is one `xl create` of the test guest (tests/guest/init) in
dom0, with libxl's own device-model command line: the unit comes in through
device_model_args_hvm, its DMAR through acpi_firmware=.  expect lists what
must be reported, as in tests/guest/cases.py: the guest's XVI-RESULT keys,
xen.* keys from dom0's runner (tests/xen/run-cases), hyp.* counters from
x-hyp-stats-file, and host-side checks (dm_machine, qemu_log, dmar_iasl,
dmar_matches_file).

A case may require a feature (requires=): a word of `xl info`'s virt_caps
(hvm_directio, ...) or of XEN_FEATURES (what a patched Xen offers, e.g.
ir-entries for XEN_DMOP_set_ir_entries); without it the case is reported
as skipped, with the reason.  '!word' is the opposite: a case for a Xen
that lacks the feature (a refusal), skipped on one that has it.

A case may need more of the L0 than the default (l0=, an L0Setup): an
IOMMU for Xen and a PCI device to pass through.  xvx.py boots one L0 per
setup the chosen cases need, the default first; pci= lists the host
devices dom0 makes assignable (`xl pci-assignable-add`) and the guest gets
(`pci = [...]`).
"""

import os
import subprocess
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'guest'))
from cases import HOST_SHA, DISK_OK, gt, one_of, _e, _pred  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
# The device model the host-side DMAR checks run: xvx.py sets the run's
# --qemu (None: the tool's own default, this tree's build)
DMAR_QEMU = None


def dmar_table(opts, path, qemu=None):
    """Write the DMAR for unit options @opts to @path as a user does: with
    scripts/xen-viommu-dmar (README, "Using it with Xen"), for @qemu or
    DMAR_QEMU.  RuntimeError with the tool's message if it fails."""
    qemu = qemu or DMAR_QEMU
    try:
        r = subprocess.run(['sh', os.path.join(REPO, 'scripts',
                                               'xen-viommu-dmar')] +
                           (['--qemu', qemu] if qemu else []) + [path, opts],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise RuntimeError('xen-viommu-dmar %s: timed out' % opts)
    if r.returncode != 0:
        raise RuntimeError('xen-viommu-dmar %s: %s' % (
            opts, r.stderr.strip() or 'exit %d' % r.returncode))


# The emulated disk the unit translates for.  class=0x0180 (mass storage,
# other): Linux's Xen platform code asks QEMU to unplug emulated disks at
# boot, and QEMU's xen-platform unplug takes every PCI device of class SCSI
# (virtio-blk's default) for one; see README, "Using it with Xen".
DISK = ('virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on,'
        'class=0x0180')

# The unit's MSIs reach Xen through the native backend's inject_msi
HYP_XEN_OK = {
    'hyp.backend': 'native',
    'hyp.inject_msi.calls': gt(0), 'hyp.inject_msi.refused': '0',
    'hyp.inject_msi.errors': '0',
}
# libxl started the device model on xenfv, and nothing was left behind
XEN_RUN_OK = {
    'xen.create_rc': '0', 'xen.state': 'done', 'dm_machine': 'xenfv',
    'xen.leftover_domains': '0', 'xen.leftover_qemu': '0',
    'xen.leftover_xenstore': '0',
}
DMA_ON = {'dmar': 'on', 'dma_translation': 'on'}


def contains(text):
    return _pred('contains %r' % text, lambda v: v is not None and text in v)


def not_value(text):
    return _pred('!= %s' % text, lambda v: v is not None and v != text)


def refused(log, text):
    """What a refused start must show: xl create failed, @log (xl_log or
    qemu_log) contains @text, and nothing of the domain is left."""
    return {'xen.create_rc': not_value('0'), 'xen.state': 'refused',
            log: contains(text),
            'xen.leftover_domains': '0', 'xen.leftover_qemu': '0'}


# intremap=auto on upstream Xen: remapping off, with the unit's warning
# (a predicate: in a dict, _e() would turn a keyword's value into text)
AUTO_OFF = {'qemu_log': contains('intremap=auto: interrupt remapping off')}


@dataclass(frozen=True)
class L0Setup:
    """What an L0 gives Xen beyond the default one (xvx.py)."""
    name: str
    desc: str
    # Extra L0 arguments, before its own devices; {guest_dir} is replaced
    args: tuple = ()
    xen_args: str = ''          # more of Xen's command line


@dataclass
class XenCase:
    name: str
    desc: str
    device: str                 # -device argument ('' for no unit)
    append: str = ''            # guest kernel command line, extra
    expect: dict = field(default_factory=dict)
    # This case's own timeout, in dom0 (the host adds a margin).  Nested
    # guests are slow: ~1-2 min each on an idle 2-core machine, several
    # times that on a loaded one.
    timeout: int = 900
    requires: tuple = ()
    dmar: str = None            # unit options for dmar-file= (acpi_firmware=)
    read_mib: int = 0
    save_at: int = 0            # xl save/restore after this many rounds
    reboot: bool = False        # on_reboot = "restart"
    vcpus: int = 1
    memory: int = 256
    disk: str = DISK
    tsc_mode: str = None        # xl.cfg tsc_mode (None: Xen's default)
    l0: L0Setup = None          # None: the default L0
    pci: tuple = ()             # host BDFs passed through (xl.cfg pci=)
    # xl.cfg viommu= (patches/xen 0005): libxl adds the unit and its DMAR
    # itself; device is then '' (the test's counters come with -global)
    viommu: str = None


OFF = 'xen-viommu,intremap=off'

CASES = [
    XenCase('xen-dma-strict',
            'intremap=off: DMA remapping of a virtio-blk disk, strict '
            'invalidation; MSIs via inject_msi (Xen PIRQs)',
            OFF, 'intel_iommu=on iommu.strict=1',
            # items: the guest's PIRQ-encoded MSIs, passed on to Xen
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK,
               {'hyp.inject_msi.items': gt(0)}, ir='off',
               iommu_group_type='DMA'),
            dmar='intremap=off'),
    XenCase('xen-dma-lazy',
            'intremap=off: DMA remapping, lazy (flush queue); the DMAR '
            'hvmloader passed on is the one dmar-file= wrote',
            OFF, 'intel_iommu=on',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK, ir='off',
               iommu_group_type='DMA-FQ', dmar_iasl='ok',
               dmar_matches_file='yes', dmar_table='1'),
            dmar='intremap=off'),
    XenCase('xen-ir-only',
            'dma-translation=off (README for passthrough on upstream Xen): '
            'no DMA translation; intremap=auto turns remapping off with a '
            'warning',
            'xen-viommu,dma-translation=off', 'intel_iommu=on',
            _e(DISK_OK, XEN_RUN_OK, AUTO_OFF, ir='off', dmar='off',
               dma_translation='off', dmar_no_translation='1',
               iommu_groups='0'),
            dmar='intremap=off,dma-translation=off'),
    XenCase('xen-intremap-on',
            'intremap=on is refused at start, with the reason: upstream '
            'Xen lacks the IR-entries operation',
            'xen-viommu,intremap=on',
            expect=refused('qemu_log', "intremap=on needs the hypervisor's "
                           "IR-entries operation"),
            timeout=300, dmar='intremap=off'),
    XenCase('xen-intremap-auto',
            'intremap=auto (the default): remapping off with a warning, DMA '
            'remapping on',
            'xen-viommu', 'intel_iommu=on iommu.strict=1',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK, AUTO_OFF, ir='off'),
            dmar='intremap=off'),
    XenCase('xen-save-restore',
            'xl save + xl restore while the guest reads through the unit '
            '(strict); it goes on with the right data',
            OFF, 'intel_iommu=on iommu.strict=1 xvi.rounds=16',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK,
               {'rounds_sha256': HOST_SHA, 'rounds_min_irqs': gt(0),
                'xen.rounds_after_restore': gt(2)},
               rounds_ok='16', ir='off', **{'xen.save_rc': '0',
                                            'xen.restore_rc': '0'}),
            timeout=1500, read_mib=8, save_at=5, dmar='intremap=off'),
    XenCase('xen-reboot',
            'the guest reboots itself (on_reboot="restart"): the second '
            'boot works and nothing is left behind',
            OFF, 'intel_iommu=on xvi.reboot=1',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK, ir='off',
               boot_count='2', host_reboots='1'),
            timeout=1500, reboot=True, dmar='intremap=off'),
    # A Xen with XEN_DMOP_set_ir_entries and the patched xl (issue 14):
    # remapping on, xAPIC mode
    XenCase('xen-ir-xapic',
            'viommu="type=vtd,intremap=1,x2apic=0" on a Xen with the '
            'IR-entries operation',
            '', 'intel_iommu=on',
            _e(DISK_OK, DMA_ON, HYP_XEN_OK, XEN_RUN_OK, ir='xapic'),
            requires=('ir-entries', 'xl-viommu'), timeout=600,
            viommu='type=vtd,intremap=1,x2apic=0'),
]

# Remapping on, on the patched Xen (issue 14): xen_ir_cases.py
from xen_ir_cases import IR_CASES  # noqa: E402
CASES += IR_CASES
# Passthrough, on an L0 that gives Xen an IOMMU (issue 13): xen_pt_cases.py
from xen_pt_cases import PT_CASES  # noqa: E402
CASES += PT_CASES

_BY_NAME = {c.name: c for c in CASES}
assert len(_BY_NAME) == len(CASES), 'duplicate case names'


def get(name):
    return _BY_NAME.get(name)
