#!/usr/bin/python3
"""make bench: the same guest workloads with no IOMMU, intel-iommu and xen-viommu.

One QEMU binary (a private copy of build/qemu-build/qemu-system-x86_64, so a
rebuild during the run cannot mix binaries), one guest (build/guest), one
sparse bench disk (build/bench/bench.img) attached twice, read-only: as the
virtio-blk disk (iommu_platform=on) and as an NVMe namespace.  Both devices sit
behind the IOMMU when there is one.

Every boot runs all the workloads (tests/guest/init, xvi.bench=):
  seq   O_DIRECT sequential reads, 1 MiB requests (after an untimed warm-up)
  irq   O_DIRECT 4 KiB reads: one request, one completion interrupt each
  ws    O_DIRECT reads into one buffer of W MiB (W MiB of distinct guest
        pages, far more than an IOTLB holds), two sizes -> cost per MiB each
Configurations, each booted RUNS times, interleaved and rotated so machine
noise hits all equally: none, intel-lazy, intel-strict, xen-lazy, xen-strict
(lazy: the kernel's default flush queue; strict: iommu.strict=1), and
xen-double (xen-lazy on the hypervisor double, for hypercalls per interrupt).
Hypercalls per page mapped and unmapped through PV-IOMMU come from the
pv-iommu qtest's driver patterns (/xen-viommu/pv-iommu/hypercalls).

Prints a table (median [min-max] per configuration, ratios of medians) and
writes build/bench/results.json (every run's raw numbers too).

Environment (defaults in brackets):
  XVI_BENCH_RUNS [3]          boots per configuration
  XVI_BENCH_SEQ_MIB [2048]    MiB per seq workload
  XVI_BENCH_IRQ_N [20000]     4 KiB requests per irq workload
  XVI_BENCH_WS_MIB [64,256]   working-set sizes (MiB), comma-separated
  XVI_BENCH_WS_TOTAL [2048]   MiB read per working-set size
  XVI_BENCH_DEVS [vda,nvme0n1]  devices for seq/irq (ws runs on the first)
  XVI_BENCH_CONFIGS [all]     subset, e.g. none,xen-lazy
  XVI_BENCH_MEM [1024]        guest MiB
  XVI_BENCH_TIMEOUT [240]     host timeout per boot (s)
  XVI_BENCH_OUT [build/bench] output directory
"""

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, 'tests', 'guest'))
import xvi_guest as G   # noqa: E402
import cases as C       # noqa: E402


def env_int(name, default):
    return int(os.environ.get(name, default))


RUNS = env_int('XVI_BENCH_RUNS', 3)
SEQ_MIB = env_int('XVI_BENCH_SEQ_MIB', 2048)
IRQ_N = env_int('XVI_BENCH_IRQ_N', 20000)
WS_MIB = [int(x) for x in os.environ.get('XVI_BENCH_WS_MIB', '64,256').split(',') if x]
WS_TOTAL = env_int('XVI_BENCH_WS_TOTAL', 2048)
DEVS = [d for d in os.environ.get('XVI_BENCH_DEVS', 'vda,nvme0n1').split(',') if d]
MEM = env_int('XVI_BENCH_MEM', 1024)
TIMEOUT = env_int('XVI_BENCH_TIMEOUT', 240)
OUT = os.path.abspath(os.environ.get('XVI_BENCH_OUT', os.path.join(REPO, 'build', 'bench')))
QEMU_SRC = os.environ.get('QEMU', os.path.join(REPO, 'build', 'qemu-build',
                                               'qemu-system-x86_64'))
GUEST = os.path.join(REPO, 'build', 'guest')

# The same device options the guest tests use (tests/guest/cases.py).
XEN = getattr(C, 'XEN', 'xen-viommu,intremap=on,x2apic=on')
INTEL = getattr(C, 'INTEL', 'intel-iommu,intremap=on,eim=on')
Q35 = getattr(C, 'Q35', ['-M', 'q35', '-smp', '2', '-cpu', 'max'])
LAZY = 'intel_iommu=on'
STRICT = 'intel_iommu=on iommu.strict=1'
SM = 'intel_iommu=on,sm_on'
# Modes compared, each with its intel-<mode> and xen-<mode> configurations;
# sm: scalable mode with first-level tables, lazy
MODES = ('lazy', 'strict', 'sm')
# name -> (device option or None, kernel args, mode)
CONFIGS = {
    'none': (None, LAZY, 'none'),
    'intel-lazy': (INTEL, LAZY, 'lazy'),
    'intel-strict': (INTEL, STRICT, 'strict'),
    'xen-lazy': (XEN, LAZY, 'lazy'),
    'xen-strict': (XEN, STRICT, 'strict'),
    'intel-sm': (INTEL + ',x-scalable-mode=on,x-flts=on', SM, 'sm'),
    'xen-sm': (XEN + ',scalable-mode=on', SM, 'sm'),
    # The same as xen-lazy on the hypervisor double: its hypercall counts
    'xen-double': (XEN + ',hypervisor=double', LAZY, 'lazy'),
}
only = os.environ.get('XVI_BENCH_CONFIGS')
if only:
    CONFIGS = {k: v for k, v in CONFIGS.items() if k in only.split(',')}


def workloads():
    """[(result tag, xvi.bench item, unit, amount)]; amount: MiB or requests."""
    w = []
    for d in DEVS:
        w.append(('seq_' + d, 'seq:%s:%d' % (d, SEQ_MIB), 'MiB/s', SEQ_MIB))
    for d in DEVS:
        w.append(('irq_' + d, 'irq:%s:%d' % (d, IRQ_N), 'req/s', IRQ_N))
    for m in WS_MIB:
        n = max(1, WS_TOTAL // m)
        w.append(('ws%d_%s' % (m, DEVS[0]), 'ws:%s:%d' % (DEVS[0], m), 'MiB/s', n * m))
    return w


# Setup ----------------------------------------------------------------------------

def wait_for(path, secs=300):
    """The build may be replaced under a lock meanwhile: wait for it."""
    t = time.monotonic() + secs
    while not os.access(path, os.X_OK):
        if time.monotonic() > t:
            sys.exit('bench: %s missing' % path)
        time.sleep(2)


def setup():
    """Private QEMU copy, bench disk, guest dir; returns (qemu, guest_dir, disk)."""
    os.makedirs(OUT, exist_ok=True)
    wait_for(QEMU_SRC)
    qemu = os.path.join(OUT, 'qemu-system-x86_64')
    for attempt in range(5):   # retry if the binary is being relinked
        try:
            shutil.copy2(QEMU_SRC, qemu + '.tmp')
            os.replace(qemu + '.tmp', qemu)
            subprocess.run([qemu, '--version'], check=True, capture_output=True)
            break
        except (OSError, subprocess.CalledProcessError):
            time.sleep(5)
            wait_for(QEMU_SRC)
    else:
        sys.exit('bench: cannot copy a working %s' % QEMU_SRC)
    # Sparse: the host serves holes from memory, so the device side is cheap
    # and the IOMMU path is what differs.  Big enough for every workload.
    need = max([SEQ_MIB] + [max(1, WS_TOTAL // m) * m for m in WS_MIB]) + 64
    disk = os.path.join(OUT, 'bench.img')
    if not os.path.exists(disk) or os.path.getsize(disk) < need << 20:
        with open(disk, 'ab') as f:
            f.truncate(need << 20)
    # xvi_guest.boot() takes vmlinuz/initrd.img/disk.img from one directory.
    gdir = os.path.join(OUT, 'guest')
    os.makedirs(gdir, exist_ok=True)
    for name, target in (('vmlinuz', os.path.join(GUEST, 'vmlinuz')),
                         ('initrd.img', os.path.join(GUEST, 'initrd.img')),
                         ('disk.img', disk)):
        link = os.path.join(gdir, name)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    with open(os.path.join(gdir, 'disk.sha256'), 'w') as f:
        f.write('-  disk.img\n')   # unused: the bench checks no checksum
    return qemu, gdir, disk


def perf_works():
    """perf stat -e instructions usable here?  (None, note) if not."""
    try:
        p = subprocess.run(['perf', 'stat', '-x,', '-e', 'instructions', 'true'],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, 'perf not available (%s); instruction counts skipped' % e
    line = (p.stderr.strip().splitlines() or [''])[-1]
    if p.returncode or not line.split(',')[0].strip().isdigit():
        return False, ('perf stat -e instructions does not count here (%s); '
                       'instruction counts skipped, QEMU CPU time shown instead'
                       % (line.split(',')[0].strip() or 'rc=%d' % p.returncode))
    return True, 'instructions: perf stat -e instructions on the whole QEMU process'


def hyp_stats_supported(qemu):
    """Hook: a future xen-viommu property x-hyp-stats-file (hypercall counts)."""
    p = subprocess.run([qemu, '-device', 'xen-viommu,help'], capture_output=True,
                       text=True)
    return 'x-hyp-stats-file' in p.stdout


# One boot -----------------------------------------------------------------------------

def boot_once(qemu, gdir, disk, name, run, use_perf, hyp_stats):
    dev, append, _ = CONFIGS[name]
    tag = '%s-%d' % (name, run)
    items = ','.join(w[1] for w in workloads())
    append = '%s xvi.read_mib=1 xvi.bench=%s xvi.bench_ws_total=%d' % (append, items, WS_TOTAL)
    device = []
    if dev:
        if dev.startswith('xen-viommu') and hyp_stats:
            dev += ',x-hyp-stats-file=' + os.path.join(OUT, 'logs', tag + '.hyp')
        device = ['-device', dev]
    extra = ['-drive', 'file=%s,if=none,id=n0,format=raw,readonly=on' % disk,
             '-device', 'nvme,serial=xvibench,drive=n0']
    cmd_qemu = qemu
    perf_out = os.path.join(OUT, 'logs', tag + '.perf')
    if use_perf:   # boot() runs argv[0]: a wrapper puts perf in front
        cmd_qemu = os.path.join(OUT, 'perf-qemu.sh')
        with open(cmd_qemu, 'w') as f:
            f.write('#!/bin/sh\nexec perf stat -x, -e instructions -o "%s" -- "%s" "$@"\n'
                    % (perf_out, qemu))
        os.chmod(cmd_qemu, 0o755)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r, log, rc = G.boot(cmd_qemu, Q35, device, append, timeout=TIMEOUT,
                        log_path=os.path.join(OUT, 'logs', tag + '.log'),
                        guest_dir=gdir, mem=MEM, extra_args=extra)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {'config': name, 'run': run, 'rc': rc, 'boot_s': round(r['_time'], 2),
           'qemu_cpu_s': round(ru1.ru_utime + ru1.ru_stime
                               - ru0.ru_utime - ru0.ru_stime, 2),
           'ok': r.get('bench_done') == '1' and not r.get('error'),
           'group_type': r.get('iommu_group_type'), 'error': r.get('error'),
           'w': {}}
    # sanity: the guest really ran in the mode this configuration stands for
    want = {'none': 'none', 'lazy': 'DMA-FQ', 'strict': 'DMA',
            'sm': 'DMA-FQ'}[CONFIGS[name][2]]
    if out['ok'] and out['group_type'] != want:
        out['ok'] = False
        out['error'] = 'iommu_group_type=%s, want %s' % (out['group_type'], want)
    for wtag, _, _, amount in workloads():
        s = r.get('bench_%s_s' % wtag)
        if s is None or float(s) <= 0:
            out['w'][wtag] = {'error': r.get('bench_%s_error' % wtag, 'missing')}
            continue
        out['w'][wtag] = {'s': float(s), 'rate': amount / float(s),
                          'irqs': int(r.get('bench_%s_irqs' % wtag, 0))}
    if use_perf and os.path.exists(perf_out):
        for line in open(perf_out):
            f = line.split(',')
            if len(f) > 2 and f[2] == 'instructions' and f[0].isdigit():
                out['instructions'] = int(f[0])
    if hyp_stats and os.path.exists(os.path.join(OUT, 'logs', tag + '.hyp')):
        with open(os.path.join(OUT, 'logs', tag + '.hyp')) as f:
            out['hyp_stats'] = f.read()
    return out


# Summary ------------------------------------------------------------------------------

def stats(vals):
    return {'median': statistics.median(vals), 'min': min(vals), 'max': max(vals),
            'n': len(vals)} if vals else None


def summarize(runs):
    """Per workload and mode: per-config time/rate stats and xen ratios."""
    summary = {}
    wl = [(w[0], w[2]) for w in workloads()] + [('boot', 's')]
    for wtag, unit in wl:
        for mode in MODES:
            cfgs = ['none', 'intel-' + mode, 'xen-' + mode]
            row = {'unit': unit, 'configs': {}}
            for c in cfgs:
                if c not in CONFIGS:
                    continue
                if wtag == 'boot':
                    t = [x['boot_s'] for x in runs if x['config'] == c]
                    cpu = [x['qemu_cpu_s'] for x in runs if x['config'] == c]
                    row['configs'][c] = {'s': stats(t), 'qemu_cpu_s': stats(cpu)}
                    ins = [x['instructions'] for x in runs
                           if x['config'] == c and 'instructions' in x]
                    if ins:
                        row['configs'][c]['instructions'] = stats(ins)
                    continue
                ok = [x['w'][wtag] for x in runs if x['config'] == c
                      and 's' in x['w'].get(wtag, {})]
                row['configs'][c] = {'s': stats([o['s'] for o in ok]),
                                     'rate': stats([o['rate'] for o in ok]),
                                     'failed': sum(1 for x in runs if x['config'] == c
                                                   and 's' not in x['w'].get(wtag, {}))}
            med = {c: v['s']['median'] for c, v in row['configs'].items() if v['s']}
            x = 'xen-' + mode
            # time ratios: > 1 means xen-viommu is slower
            if x in med and 'none' in med:
                row['xen_vs_none'] = med[x] / med['none']
            if x in med and 'intel-' + mode in med:
                row['xen_vs_intel'] = med[x] / med['intel-' + mode]
            summary['%s/%s' % (wtag, mode)] = row
    # working set: cost per MiB (ms) at each size, and its growth small -> large
    ws = {}
    for mode in MODES:
        for c in ('none', 'intel-' + mode, 'xen-' + mode):
            costs = {}
            for m in WS_MIB:
                r = summary.get('ws%d_%s/%s' % (m, DEVS[0], mode), {}).get('configs', {})
                if r.get(c, {}).get('s'):
                    amount = max(1, WS_TOTAL // m) * m
                    costs[m] = 1000.0 * r[c]['s']['median'] / amount
            if len(costs) >= 2:
                lo, hi = min(costs), max(costs)
                ws['%s/%s' % (c, mode)] = {'ms_per_mib': costs,
                                           'growth': costs[hi] / costs[lo]}
    return summary, ws


def fmt_stat(st, unit_rate=False):
    if not st:
        return 'FAIL'
    return '%.2f [%.2f-%.2f]' % (st['median'], st['min'], st['max'])


def table(summary, ws):
    lines = []
    hdr = '%-16s %-6s  %-20s %-20s %-20s %8s %8s' % (
        'workload', 'mode', 'none', 'intel-iommu', 'xen-viommu', 'xen/none', 'xen/intel')
    lines += ['Guest wall time in seconds, median [min-max]; ratios of medians '
              '(>1: xen-viommu slower)', hdr, '-' * len(hdr)]
    for key, row in summary.items():
        wtag, mode = key.split('/')
        cf = row['configs']
        cells = [fmt_stat(cf.get(c, {}).get('s')) if c in cf else '-'
                 for c in ('none', 'intel-' + mode, 'xen-' + mode)]
        r1 = '%.3f' % row['xen_vs_none'] if 'xen_vs_none' in row else '-'
        r2 = '%.3f' % row['xen_vs_intel'] if 'xen_vs_intel' in row else '-'
        lines.append('%-16s %-6s  %-20s %-20s %-20s %8s %8s'
                     % (wtag, mode, cells[0], cells[1], cells[2], r1, r2))
    lines += ['', 'Guest-reported throughput, median (seq/ws MiB/s, irq req/s)']
    for key, row in summary.items():
        if key.startswith('boot/'):
            continue
        cf = row['configs']
        mode = key.split('/')[1]
        cells = ['%.0f' % cf[c]['rate']['median'] if cf.get(c, {}).get('rate') else '-'
                 for c in ('none', 'intel-' + mode, 'xen-' + mode)]
        fails = sum(v.get('failed', 0) for v in cf.values())
        lines.append('%-16s %-6s  %-20s %-20s %-20s %s %s'
                     % (key.split('/')[0], mode, cells[0], cells[1], cells[2],
                        row['unit'], '(%d failed runs)' % fails if fails else ''))
    lines += ['', 'QEMU CPU time per boot (s), median [min-max]']
    for mode in MODES:
        cf = summary['boot/' + mode]['configs']
        lines.append('%-16s %-6s  %s' % ('qemu_cpu', mode, '  '.join(
            '%s=%s' % (c, fmt_stat(v['qemu_cpu_s'])) for c, v in cf.items())))
    if ws:
        lines += ['', 'Working set: cost per MiB (ms) at each size; growth = large/small']
        for k, v in ws.items():
            lines.append('%-20s %s  growth %.2f' % (k, '  '.join(
                '%d MiB: %.3f' % (m, c) for m, c in sorted(v['ms_per_mib'].items())),
                v['growth']))
    return '\n'.join(lines)


# Hypercall counts ---------------------------------------------------------------

def parse_hyp_stats(text):
    """x-hyp-stats text -> {op: {'calls': n, ..., 'hypercalls': n}}"""
    out = {}
    for line in text.splitlines():
        w = line.split()
        if len(w) >= 5 and w[1].isdigit():
            out[w[0]] = dict(zip(('calls', 'refused', 'errors', 'items',
                                  'hypercalls'), map(int, w[1:])))
    return out


def interrupt_hypercalls(runs):
    """Hypercalls per 1000 guest interrupts on the double (xen-double boots):
    every hypercall of the boot against the completion interrupts the guest
    counted in its irq workloads (an upper bound: the boot's other interrupts
    and set-up calls are in the numerator too)."""
    rows = []
    for x in runs:
        if x['config'] != 'xen-double' or 'hyp_stats' not in x or not x['ok']:
            continue
        st = parse_hyp_stats(x['hyp_stats'])
        irqs = sum(v.get('irqs', 0) for k, v in x['w'].items()
                   if k.startswith('irq_'))
        inject = st.get('inject_msi', {}).get('hypercalls', 0)
        total = sum(v.get('hypercalls', 0) for k, v in st.items()
                    if k != 'probe')
        if irqs:
            rows.append({'run': x['run'], 'irqs': irqs, 'inject_msi': inject,
                         'set_ir_entries': st.get('set_ir_entries', {}).get(
                             'hypercalls', 0),
                         'refused': st.get('inject_msi', {}).get('refused', 0),
                         'per_1000_irqs': 1000.0 * total / irqs})
    return rows


def pv_iommu_hypercalls(qemu):
    """The pv-iommu qtest's driver patterns: hypercalls per guest operation."""
    test = os.path.join(os.path.dirname(QEMU_SRC), 'tests', 'qtest',
                        'xen-viommu-pv-iommu-test')
    if not os.path.exists(test):
        return None, 'no %s' % test
    p = subprocess.run([test, '-p', '/x86_64/xen-viommu/pv-iommu/hypercalls'],
                       env=dict(os.environ, QTEST_QEMU_BINARY=qemu),
                       capture_output=True, text=True, timeout=600)
    rows = []
    for line in p.stdout.splitlines():
        w = line.split()
        if len(w) > 2 and w[1] == 'pv-iommu-calls':
            kv = dict(zip(w[4::2], map(int, w[5::2])))
            kv.update(mode=w[2], shape=w[3])
            kv['per_1000_pages'] = 1000.0 * kv['hypercalls'] / kv['pages']
            kv['per_invalidation'] = kv['hypercalls'] / kv['invalidations']
            rows.append(kv)
    return rows, None if p.returncode == 0 else 'qtest failed (rc %d)' % p.returncode


def hypercall_table(irq_rows, pv_rows, pv_note):
    lines = ['', 'Hypervisor calls (hypervisor double)']
    if irq_rows:
        per = [r['per_1000_irqs'] for r in irq_rows]
        lines.append('interrupts: %.1f hypercalls per 1000 interrupts, median '
                     'of %d boots (inject_msi %s, set_ir_entries %s, refused %s)'
                     % (statistics.median(per), len(per),
                        '/'.join(str(r['inject_msi']) for r in irq_rows),
                        '/'.join(str(r['set_ir_entries']) for r in irq_rows),
                        '/'.join(str(r['refused']) for r in irq_rows)))
    else:
        lines.append('interrupts: no xen-double boot with counts')
    if pv_rows:
        lines.append('%-8s %-22s %8s %8s %10s %10s %10s' % (
            'mode', 'buffers', 'invals', 'calls', 'restarts', 'per 1000p',
            'per inval'))
        for r in pv_rows:
            lines.append('%-8s %-22s %8d %8d %10d %10.1f %10.2f' % (
                r['mode'], r['shape'], r['invalidations'], r['hypercalls'],
                r['with-restarts'] - r['hypercalls'], r['per_1000_pages'],
                r['per_invalidation']))
        lines.append('(PV-IOMMU: 1024 pages mapped and unmapped by a caching-mode '
                     'driver; restarts: continuations after preemption)')
    else:
        lines.append('PV-IOMMU: %s' % (pv_note or 'no counts'))
    return lines


def main():
    qemu, gdir, disk = setup()
    os.makedirs(os.path.join(OUT, 'logs'), exist_ok=True)
    use_perf, perf_note = perf_works()
    hyp = hyp_stats_supported(qemu)
    names = list(CONFIGS)
    total = RUNS * len(names)
    print('bench: %d configurations x %d runs = %d boots; workloads: %s'
          % (len(names), RUNS, total, ', '.join(w[0] for w in workloads())))
    print('bench: %s' % perf_note)
    if not hyp:
        print('bench: xen-viommu has no x-hyp-stats-file property: no hypercall counts')
    sys.stdout.flush()
    runs = []
    t0 = time.monotonic()
    for run in range(RUNS):
        # rotate the order each round: no configuration always goes first
        order = names[run % len(names):] + names[:run % len(names)]
        for name in order:
            x = boot_once(qemu, gdir, disk, name, run, use_perf, hyp)
            runs.append(x)
            bad = [w for w, v in x['w'].items() if 'error' in v]
            print('bench: [%d/%d] %-12s run %d  %5.1fs%s' % (
                len(runs), total, name, run, x['boot_s'],
                '' if x['ok'] and not bad else '  FAILED: %s %s' % (
                    x['error'] or '', ','.join(bad))))
            sys.stdout.flush()
    summary, ws = summarize(runs)
    irq_rows = interrupt_hypercalls(runs)
    # The qtest and the binary it runs come from the build tree together
    pv_rows, pv_note = pv_iommu_hypercalls(QEMU_SRC)
    text = table(summary, ws) + '\n' + '\n'.join(
        hypercall_table(irq_rows, pv_rows, pv_note))
    print()
    print(text)
    res = {
        'date': time.strftime('%Y-%m-%d %H:%M:%S %z'),
        'machine': {'cpu': _cpu_model(), 'nproc': os.cpu_count(),
                    'kernel': platform.release()},
        'qemu': QEMU_SRC, 'qemu_size': os.path.getsize(qemu),
        'params': {'runs': RUNS, 'seq_mib': SEQ_MIB, 'irq_n': IRQ_N,
                   'ws_mib': WS_MIB, 'ws_total_mib': WS_TOTAL, 'devs': DEVS,
                   'mem_mib': MEM},
        'configs': {k: {'device': v[0], 'append': v[1]} for k, v in CONFIGS.items()},
        'notes': [perf_note],
        'total_s': round(time.monotonic() - t0, 1),
        'summary': summary, 'working_set': ws, 'runs': runs,
        'hypercalls': {'interrupts': irq_rows, 'pv_iommu': pv_rows,
                       'pv_iommu_note': pv_note},
    }
    path = os.path.join(OUT, 'results.json')
    with open(path, 'w') as f:
        json.dump(res, f, indent=1, sort_keys=True)
    with open(os.path.join(OUT, 'results.txt'), 'w') as f:
        f.write(text + '\n')
    print('\nbench: %d boots in %.0fs; %s, logs in %s'
          % (len(runs), res['total_s'], path, os.path.join(OUT, 'logs')))
    return 1 if any(not x['ok'] for x in runs) else 0


def _cpu_model():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == '__main__':
    sys.exit(main())
