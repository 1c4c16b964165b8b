#!/usr/bin/python3
"""Run guest cases on real Xen: Debian's Xen nested under this build's QEMU.

One L0 boot (TCG, q35, -cpu max: the L1 gets AMD SVM with nested paging)
runs Xen (multiboot) with a dom0 whose initramfs (scripts/xen-image.sh)
carries the Xen tools, this build's QEMU and the test guest; dom0's
/init (tests/xen/init) runs the planned cases one after the other with
`xl create` (tests/xen/run-cases) and prints what each did on Xen's
serial line, which is L0's stdout.  Results are read from that log.

Each case has its own timeout (enforced in dom0, and here with a margin:
a case that overruns kills L0 and the cases after it are reported as not
run); the whole L0 run has one too.

Cases that need more of the L0 (xen_cases.L0Setup: an IOMMU for Xen, a
device to pass through) get an L0 run of their own, after the default
one: its logs are l0-NAME.log and dom0-logs-NAME/.

CLI::

    xvx.py --qemu PATH --xen-dir DIR --guest-dir DIR [--case NAME ...]
           [--log-dir DIR] [--tap]
    xvx.py --list

XEN_FEATURES (words) says what the Xen offers beyond upstream (e.g.
ir-entries); XEN_IMAGE replaces the hypervisor (scripts/xen-image.sh).
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, 'tests', 'guest'))
sys.path.insert(0, HERE)
import xvi_guest  # noqa: E402
import xen_cases  # noqa: E402

# L0: what Xen runs on.  -cpu max: SVM with NPT (Debian's Xen has no shadow
# paging); needs patches 0010/0011 (TCG's SVM intercept exit codes).
# bootscrub=0: scrubbing all free RAM at boot takes long under TCG
L0_MEM = '3G'
L0_CPU = ['max']                # --l0-cpu replaces it (experiments)
L0_TCG_THREAD = ['multi']       # --l0-tcg-thread replaces it (experiments)
XEN_ARGS = ('console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M '
            'dom0_max_vcpus=1 bootscrub=0 loglvl=all guest_loglvl=all '
            'noreboot console_timestamps=boot')
DOM0_ARGS = 'console=hvc0 earlyprintk=xen'
DOM0_QEMU = '/usr/local/bin/qemu-system-x86_64'
# Until dom0's runner starts; between cases the host allows this much more
# than a case's own timeout (log relay, cleanup)
BOOT_ALLOWANCE = 240
CASE_MARGIN = 90
LOG_DISK_MIB = 64
LOG_DISK_CORE_MIB = 1024        # --core: room for device-model cores
CORES = []
# --xl / --append: extra xl.cfg lines and guest kernel arguments, all cases
EXTRA_XL = []
EXTRA_APPEND = []
# --dm-arg: extra device-model arguments, all cases (experiments: -trace ...)
EXTRA_DM = []


def guest_cmdline(case, timeout, reboot_opt=None):
    # The guest's watchdog fires before dom0's: a stuck guest still reports
    wd = max(30, timeout - 60)
    # quiet: every byte on the emulated serial line is a trip through Xen
    # to dom0's device model; the guest reports its kernel's DMAR/IOMMU
    # lines from dmesg (XVI-DMESG)
    append = ('console=ttyS0,115200 quiet panic=1 no_timer_check '
              'xvi.timeout=%d %s' % (wd, case.append)).strip()
    if case.read_mib:
        append += ' xvi.read_mib=%d' % case.read_mib
    if EXTRA_APPEND:
        append += ' ' + ' '.join(EXTRA_APPEND)
    if reboot_opt:
        append += ' xvi.reboot=%s' % reboot_opt
    return append


def xl_cfg(case, cmdline):
    """The guest's xl.cfg: libxl makes the device-model command line."""
    name = case.name
    args = ['-chardev', 'file,id=xvcser,path=/tmp/%s.serial,append=on' % name,
            '-serial', 'chardev:xvcser']
    if case.device:
        args += ['-device', '%s,x-hyp-stats-file=/tmp/%s.stats'
                 % (case.device, name)]
    if case.viommu:
        # libxl's unit: only the test's counters are set, on every xen-viommu
        args += ['-global', 'xen-viommu.x-hyp-stats-file=/tmp/%s.stats' % name]
    args += EXTRA_DM
    if case.disk:
        # disk='': no emulated disk (a passthrough one is the guest's vda)
        args += ['-drive', 'file=/images/disk.img,if=none,id=d0,format=raw,'
                 'readonly=on', '-device', case.disk]
    q = lambda s: '"%s"' % s.replace('\\', '\\\\').replace('"', '\\"')
    lines = [
        'name = %s' % q(name),
        'type = "hvm"',
        'memory = %d' % case.memory,
        'vcpus = %d' % case.vcpus,
        'device_model_version = "qemu-xen"',
        'device_model_override = %s' % q(DOM0_QEMU),
        'device_model_args_hvm = [ %s ]' % ', '.join(q(a) for a in args),
        'kernel = "/images/vmlinuz"',
        'ramdisk = "/images/initrd.img"',
        'cmdline = %s' % q(cmdline),
        'vnc = 0',
        'vga = "none"',
        'on_poweroff = "destroy"',
        'on_reboot = %s' % q('restart' if case.reboot else 'destroy'),
        'on_crash = "destroy"',
    ]
    if case.tsc_mode:
        lines.append('tsc_mode = %s' % q(case.tsc_mode))
    if case.pci:
        lines.append('pci = [ %s ]' % ', '.join(q(b) for b in case.pci))
    if case.viommu:
        lines.append('viommu = %s' % q(case.viommu))
    lines += EXTRA_XL
    if case.dmar is not None:
        lines.append('acpi_firmware = %s' % q('/plan/%s/dmar.bin' % name))
    return '\n'.join(lines) + '\n'


def write_plan(plan_dir, cases, qemu, features, total):
    os.makedirs(plan_dir)
    with open(os.path.join(plan_dir, 'cases'), 'w') as f:
        f.write(''.join(c.name + '\n' for c in cases))
    with open(os.path.join(plan_dir, 'features'), 'w') as f:
        f.write(' '.join(features) + '\n')
    with open(os.path.join(plan_dir, 'total_timeout'), 'w') as f:
        f.write('%d\n' % total)
    if CORES:
        open(os.path.join(plan_dir, 'core'), 'w').close()
    dmars = {}
    for c in cases:
        d = os.path.join(plan_dir, c.name)
        os.makedirs(d)
        with open(os.path.join(d, 'xl.cfg'), 'w') as f:
            f.write(xl_cfg(c, guest_cmdline(c, c.timeout,
                                            '1' if c.reboot else None)))
        if c.reboot:
            with open(os.path.join(d, 'xl-restart.cfg'), 'w') as f:
                f.write(xl_cfg(c, guest_cmdline(c, c.timeout, '2')))
        with open(os.path.join(d, 'env'), 'w') as f:
            f.write('TIMEOUT=%d\nREQUIRES=%s\nSAVE_AT=%d\nPCI=%s\n'
                    % (c.timeout, shlex.quote(' '.join(c.requires)),
                       c.save_at, shlex.quote(' '.join(c.pci))))
        if c.dmar is not None:
            path = os.path.join(d, 'dmar.bin')
            if c.dmar in dmars:
                shutil.copy(dmars[c.dmar], path)
            else:
                xen_cases.dmar_table(c.dmar, path, qemu)
                dmars[c.dmar] = path


def cpio_of(root, out):
    """newc archive of @root's contents (as /plan in dom0) appended to @out."""
    files = subprocess.run(
        'cd %s && find plan | LC_ALL=C sort' % shlex.quote(root), shell=True,
        check=True, capture_output=True, text=True).stdout
    subprocess.run(['cpio', '-o', '-H', 'newc', '-R', '0:0', '--quiet'],
                   cwd=root, input=files.encode(), stdout=out, check=True)


class L0:
    """The L0 QEMU; its stdout (Xen's serial line) gathered by a thread."""

    def __init__(self, cmd, log_path):
        self.log = open(log_path, 'wb')
        self.log.write(('# ' + ' '.join(shlex.quote(c) for c in cmd) + '\n')
                       .encode())
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.th = threading.Thread(target=self._reader, daemon=True)
        self.th.start()

    def _reader(self):
        while True:
            b = self.proc.stdout.read1(65536)
            if not b:
                break
            with self.lock:
                self.buf += b
            self.log.write(b)
            self.log.flush()

    def text(self):
        with self.lock:
            return self.buf.decode('utf-8', 'replace').replace('\r', '')

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.th.join(5)
        self.log.close()


def l0_tag(setup):
    """The suffix of @setup's log names: '' for the default L0."""
    return '-' + setup.name if setup else ''


def l0_args(setup, guest_dir):
    """The L0 arguments @setup (xen_cases.L0Setup or None) adds."""
    if not setup:
        return []
    return [a.replace('{guest_dir}', guest_dir) for a in setup.args]


def run_l0(qemu, xen_dir, cases, log_dir, features, setup=None,
           guest_dir=None, verbose=False):
    """Boot L0 once for @cases (all with L0 @setup); returns (log text,
    {name: seconds}, why L0 ended early or None, log archive dir or None,
    L0 seconds)."""
    tag = l0_tag(setup)
    total = BOOT_ALLOWANCE + sum(c.timeout + CASE_MARGIN for c in cases)
    tmp = tempfile.mkdtemp(prefix='xvx-')
    try:
        # A copy: a rebuild may replace the binary while L0 runs
        shutil.copy(qemu, os.path.join(tmp, 'qemu-system-x86_64'))
        qemu = os.path.join(tmp, 'qemu-system-x86_64')
        write_plan(os.path.join(tmp, 'plan'), cases, qemu, features,
                   total - 60)
        initrd = os.path.join(tmp, 'dom0-run.cpio')
        with open(initrd, 'wb') as out:
            with open(os.path.join(xen_dir, 'dom0.cpio'), 'rb') as base:
                shutil.copyfileobj(base, out, 1 << 20)
            cpio_of(tmp, out)
        logdisk = os.path.join(tmp, 'logs.tar')
        with open(logdisk, 'wb') as f:
            f.truncate((LOG_DISK_CORE_MIB if CORES else LOG_DISK_MIB) << 20)
        kernel = os.path.join(xen_dir, 'vmlinuz')
        for p in (kernel, initrd):
            if ',' in p or ' ' in p:
                raise RuntimeError('multiboot module path %r has a comma or '
                                   'space' % p)
        xen_args = XEN_ARGS
        if setup and setup.xen_args:
            xen_args += ' ' + setup.xen_args
        cmd = [qemu, '-M', 'q35', '-accel', 'tcg,thread=%s' % L0_TCG_THREAD[0],
               '-cpu', L0_CPU[0],
               '-smp', '2', '-m', L0_MEM, '-nographic', '-nodefaults',
               '-serial', 'stdio', '-no-reboot',
               '-L', '/usr/share/seabios', '-L', '/usr/share/qemu',
               '-kernel', os.path.join(xen_dir, 'xen'), '-append', xen_args,
               '-initrd', '%s %s,%s' % (kernel, DOM0_ARGS, initrd)]
        # The setup's IOMMU before any PCI device; the log disk takes the
        # first free slot (dom0's /dev/vda)
        cmd += l0_args(setup, guest_dir)
        cmd += ['-drive', 'file=%s,format=raw,if=none,id=logs' % logdisk,
                '-device', 'virtio-blk-pci,drive=logs']
        t0 = time.monotonic()
        l0 = L0(cmd, os.path.join(log_dir, 'l0%s.log' % tag))
        deadline = t0 + total
        early = None
        seconds = {}
        begun = {}
        while l0.proc.poll() is None:
            time.sleep(1)
            now = time.monotonic()
            text = l0.text()
            for m in re.finditer(r'XVC-BEGIN (\S+) (\d+)', text):
                begun.setdefault(m.group(1), (now, int(m.group(2))))
            ended = set(re.findall(r'XVC-END (\S+)', text))
            for name, (t, to) in begun.items():
                if name not in ended and now > t + to + CASE_MARGIN:
                    early = ('case %s overran its %d s timeout by %d s: L0 '
                             'killed' % (name, to, CASE_MARGIN))
                    break
            if early:
                break
            if 'XVD done 1' in text:
                # dom0 powers off now
                try:
                    l0.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    early = 'dom0 finished but L0 did not exit'
                break
            if now > deadline:
                early = 'L0 overall timeout (%d s)' % total
                break
        l0.kill()
        elapsed = time.monotonic() - t0
        for name, (t, _) in begun.items():
            seconds[name] = t - t0
        text = l0.text()
        if not early and 'XVD done 1' not in text:
            early = 'L0 exited (status %s) before dom0 finished' % (
                l0.proc.returncode)
        # dom0's log archive
        arch = os.path.join(log_dir, 'dom0-logs' + tag)
        shutil.rmtree(arch, ignore_errors=True)
        os.makedirs(arch)
        r = subprocess.run(['tar', '-xf', logdisk, '-C', arch],
                           capture_output=True)
        if r.returncode != 0:
            arch = None
        return text, seconds, early, arch, elapsed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_lines(text, name):
    """Lines dom0 printed for case @name, by kind; and the whole region of
    the L0 log between its BEGIN and END (Xen's own lines included)."""
    kinds = {}
    for m in re.finditer(r'XVC %s ([a-z.-]+): ?(.*)' % re.escape(name), text):
        kinds.setdefault(m.group(1), []).append(m.group(2))
    # dom0's values are single words; Xen's console can append its own
    # output ("(d2) ...") to the line before the newline comes
    results = dict(re.findall(r'XVC %s XVI-RESULT (xen\.[a-z_]+)=([^\s(]*)'
                              % re.escape(name), text))
    b = text.find('XVC-BEGIN %s ' % name)
    e = text.find('XVC-END %s' % name)
    region = text[b:e if e > b else None] if b >= 0 else ''
    return kinds, {k: v.strip() for k, v in results.items()}, region


def dm_args(xl_lines):
    """The device-model command line from `xl -vvv create`'s debug lines."""
    args = []
    on = False
    for line in xl_lines:
        if 'with additional environment' in line:
            break
        if 'Spawning device-model' in line:
            on = True
            continue
        if not on:
            continue
        m = re.search(r'libxl__spawn_local_dm: Domain \d+:  (.*)$', line)
        if not m or 'with additional environment' in line:
            if args:
                break
            continue
        args.append(m.group(1))
    return args


def evaluate(case, text, guest_dir, dmar_file_bytes=None, early=None):
    """(ok, reason, results, report lines) for one case from the L0 log."""
    kinds, xres, region = case_lines(text, case.name)
    skip = re.search(r'XVC-SKIP %s (.*)' % re.escape(case.name), text)
    if skip:
        return 'skip', skip.group(1).strip(), {}, [skip.group(0)]
    guest = '\n'.join(kinds.get('guest', []))
    results = xvi_guest.parse(guest)
    results.update(xres)
    results['_time'] = 0
    results['host_reboots'] = str(guest.count('XVI-REBOOTING'))
    with tempfile.NamedTemporaryFile('w', suffix='.stats') as f:
        f.write('\n'.join(kinds.get('stats', [])) + '\n')
        f.flush()
        results.update(xvi_guest.read_hyp_stats(f.name))
    args = dm_args(kinds.get('xl', []))
    if '-machine' in args:
        results['dm_machine'] = args[args.index('-machine') + 1].split(',')[0]
    results['qemu_log'] = '\n'.join(kinds.get('qemu', []))
    results['xl_log'] = '\n'.join(kinds.get('xl', []))
    if 'dmar_iasl' in case.expect:
        results['dmar_iasl'] = xvi_guest.iasl_check(results.get('_dmar'))
    if 'dmar_matches_file' in case.expect:
        results['dmar_matches_file'] = (
            'yes' if dmar_file_bytes and results.get('_dmar') == dmar_file_bytes
            else 'no')
    if 'XVC-BEGIN %s ' % case.name not in text:
        fails = ['not run (%s)' % (early or 'dom0 never got to it')]
    elif case.expect.get('xen.state') == 'refused':
        fails = []
        for key, want in case.expect.items():
            got = results.get(key)
            ok = want(got) if callable(want) else got == str(want)
            if not ok:
                fails.append('%s=%s (want %s)' % (
                    key, '<missing>' if got is None else
                    (got if len(got) < 80 else got[:80] + '...'),
                    getattr(want, 'desc', '== %s' % want)))
    else:
        fails = xvi_guest.check(case, results, guest_dir)
        if results.get('xen.state') not in ('done', None) and not any(
                'xen.state' in f for f in fails):
            fails.insert(0, 'xen.state=%s' % results.get('xen.state'))
    if 'XVC-END %s' % case.name not in text and 'XVC-BEGIN %s ' % case.name in text:
        fails.insert(0, 'case did not end (%s)' % (early or 'L0 ended'))
    report = ['# case %s: %s' % (case.name, case.desc)]
    report += ['# ' + l for l in kinds.get('xl', []) if l.startswith('# ')]
    report += ['# device model: ' + ' '.join(shlex.quote(a) for a in args)]
    report += ['# guest: ' + l for l in results.get('_dmesg', [])[:40]]
    return (not fails), '; '.join(fails), results, report + [region]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--qemu', help='this build\'s qemu-system-x86_64 (L0 and '
                    'the device model)')
    ap.add_argument('--xen-dir', help='scripts/xen-image.sh output')
    ap.add_argument('--guest-dir', help='scripts/guest-image.sh output')
    ap.add_argument('--case', action='append', default=[],
                    help='case to run (repeatable; default: all)')
    ap.add_argument('--log-dir', default=os.path.join(REPO, 'build', 'check',
                                                      'xen'))
    ap.add_argument('--xl', action='append', default=[],
                    help='extra xl.cfg line for every case (experiments)')
    ap.add_argument('--append', action='append', default=[],
                    help='extra guest kernel argument (experiments)')
    ap.add_argument('--dm-arg', action='append', default=[],
                    help='extra device-model argument for every case '
                    '(experiments, e.g. -d guest_errors)')
    ap.add_argument('--l0-cpu', help='L0 -cpu model (experiments; default '
                    '%s)' % L0_CPU[0])
    ap.add_argument('--l0-tcg-thread', choices=('single', 'multi'),
                    help='L0 TCG threading (experiments; default %s)'
                    % L0_TCG_THREAD[0])
    ap.add_argument('--core', action='store_true',
                    help='keep device-model core dumps (debugging)')
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--tap', action='store_true', help='TAP lines only')
    a = ap.parse_args(argv)
    if a.list:
        for c in xen_cases.CASES:
            req = ' (needs %s)' % ','.join(c.requires) if c.requires else ''
            print('%-22s %s%s' % (c.name, c.desc, req))
        return 0
    if not (a.qemu and a.xen_dir and a.guest_dir):
        ap.error('--qemu, --xen-dir and --guest-dir are required')
    # Host-side table checks use the device model under test
    xen_cases.DMAR_QEMU = os.path.abspath(a.qemu)
    cases = []
    for n in a.case or [c.name for c in xen_cases.CASES]:
        c = xen_cases.get(n)
        if not c:
            print('not ok - xen/%s: no such case (see --list)' % n)
            return 1
        cases.append(c)
    if a.core:
        CORES.append(True)
    EXTRA_XL.extend(a.xl)
    EXTRA_APPEND.extend(a.append)
    EXTRA_DM.extend(a.dm_arg)
    if a.l0_cpu:
        L0_CPU[0] = a.l0_cpu
    if a.l0_tcg_thread:
        L0_TCG_THREAD[0] = a.l0_tcg_thread
    features = os.environ.get('XEN_FEATURES', '').split()
    os.makedirs(a.log_dir, exist_ok=True)
    # One L0 per setup the cases need, the default L0 first
    groups = []
    for c in cases:
        for g in groups:
            if g[0] == c.l0:
                g[1].append(c)
                break
        else:
            groups.append((c.l0, [c]))
    groups.sort(key=lambda g: g[0] is not None)
    status = 0
    summary = []
    for setup, group in groups:
        st, line = run_group(a, setup, group, features)
        status |= st
        summary.append(line)
    total = sum(x[0] for x in summary)
    banner = summary[-1][1]
    early = '; '.join(x[2] for x in summary if x[2])
    print('# real-Xen suite: %s, %.0f s (%s)%s' % (
        'one L0 run' if len(summary) == 1 else '%d L0 runs (%s)' % (
            len(summary), ', '.join('%s %.0f s' % (x[3], x[0])
                                    for x in summary)),
        total, banner, '; ' + early if early else ''))
    return status


def run_group(a, setup, cases, features):
    """One L0 run for @cases (L0 @setup); prints their TAP lines.  Returns
    (status, (L0 seconds, banner, why L0 ended early, L0 name))."""
    tag = l0_tag(setup)
    l0_name = 'L0 ' + setup.name if setup else 'default L0'
    try:
        text, seconds, early, arch, elapsed = run_l0(
            a.qemu, a.xen_dir, cases, a.log_dir, features, setup,
            a.guest_dir)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        for c in cases:
            print('not ok - xen/%s: harness: %s' % (c.name, e))
        return 1, (0, 'no Xen banner', 'harness: %s' % e, l0_name)
    banner = re.search(r'Xen version \S+ .*', text)
    head = ['# L0: %s' % os.path.join(a.log_dir, 'l0%s.log' % tag),
            '# %s' % (banner.group(0) if banner else 'no Xen version line')]
    if setup:
        head += ['# L0 setup %s: %s' % (setup.name, setup.desc),
                 '# L0 args: ' + ' '.join(l0_args(setup, a.guest_dir))]
    # What Xen made of the IOMMU (or that it found none)
    head += ['# xen: ' + l for l in re.findall(
        r'^\(XEN\)[^\n]*(?:VT-d|AMD-Vi|IOMMU|iommu|DMAR|IVRS|I/O virt|'
        r'[Ii]nterrupt [Rr]emapping|x2APIC)[^\n]*', text, re.M)[:40]]
    head += ['# dom0 %s' % l for l in re.findall(r'XVD (.*)', text)[:12]]
    status = 0
    # The DMAR files the plan carried, to compare with what the guest got
    dmar_bytes = {}
    for c in cases:
        if c.dmar is not None and c.dmar not in dmar_bytes:
            with tempfile.TemporaryDirectory() as d:
                p = os.path.join(d, 'dmar.bin')
                try:
                    xen_cases.dmar_table(c.dmar, p, a.qemu)
                    dmar_bytes[c.dmar] = open(p, 'rb').read()
                except RuntimeError:
                    dmar_bytes[c.dmar] = None
    for c in cases:
        try:
            ok, reason, results, report = evaluate(
                c, text, a.guest_dir, dmar_bytes.get(c.dmar), early)
        except RuntimeError as e:
            # A host-side check could not run (xen_ir_cases.unit_dmar)
            ok, reason, results = False, 'harness: %s' % e, {}
            report = ['# ' + reason]
        log = os.path.join(a.log_dir, c.name + '.log')
        with open(log, 'w') as f:
            f.write('\n'.join(head + report) + '\n')
            if arch:
                f.write('# dom0 logs: %s/logs/%s.*\n' % (arch, c.name))
        secs = results.get('xen.seconds', '?')
        if ok == 'skip':
            print('ok - xen/%s # SKIP %s' % (c.name, reason))
        elif ok:
            print('ok - xen/%s (%ss)' % (c.name, secs))
        else:
            print('not ok - xen/%s: %s (%ss; log: %s)' % (c.name, reason,
                                                         secs, log))
            status = 1
        sys.stdout.flush()
    return status, (elapsed, banner.group(0) if banner else 'no Xen banner',
                    early, l0_name)

if __name__ == '__main__':
    sys.exit(main())
