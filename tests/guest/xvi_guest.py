#!/usr/bin/python3
"""Boot the xen-viommu test guest under TCG and parse what it reports.

The guest (scripts/guest-image.sh, tests/guest/init) prints lines
``XVI-RESULT key=value`` on its serial console and powers off.

Module use::

    results, log, rc = boot(qemu, ['-M', 'q35', '-smp', '2'],
                            ['-device', 'xen-viommu,intremap=on,x2apic=on'],
                            append_extra='intel_iommu=on', guest_dir=DIR)

CLI::

    xvi_guest.py --qemu PATH --guest-dir DIR --case NAME [--case NAME...] [--log FILE]
    xvi_guest.py --list
"""

import argparse
import hashlib
import os
import re
import shlex
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_GUEST_DIR = os.environ.get('XVI_GUEST_DIR',
                                   os.path.join(REPO, 'build', 'guest'))
DEFAULT_TIMEOUT = 240
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
if HERE not in sys.path:
    sys.path.insert(0, HERE)   # cases.py

RESULT_RE = re.compile(r'XVI-RESULT ([A-Za-z0-9_.-]+)=(.*)')
DMESG_RE = re.compile(r'XVI-DMESG (.*)')
KMSG_RE = re.compile(r'XVI-KMSG (.*)')

# The test disk.  readonly=on: the image is shared by every boot.
DISK_DRIVE = 'file={img},if=none,id=d0,format=raw,readonly=on'
DISK_DEVICE = 'virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on'
# The build tree's QEMU gets Debian's firmware directories; an installed
# one (--own-firmware) must find its own
FIRMWARE_ARGS = ['-L', '/usr/share/seabios', '-L', '/usr/share/qemu']


def _args(a):
    if a is None:
        return []
    if isinstance(a, str):
        return shlex.split(a)
    return list(a)


def guest_files(guest_dir):
    """Paths of the guest artifacts; raises FileNotFoundError if any is missing."""
    files = {k: os.path.join(guest_dir, v) for k, v in
             (('kernel', 'vmlinuz'), ('initrd', 'initrd.img'),
              ('disk', 'disk.img'), ('disk_sha', 'disk.sha256'))}
    for k, p in files.items():
        if not os.path.exists(p):
            raise FileNotFoundError(
                '%s missing: run scripts/guest-image.sh %s CACHEDIR' % (p, guest_dir))
    return files


def host_disk_sha256(guest_dir, read_mib=None):
    """sha256 of the test disk as the guest should see it (first read_mib MiB)."""
    if not read_mib:
        with open(os.path.join(guest_dir, 'disk.sha256')) as f:
            return f.read().split()[0]
    h = hashlib.sha256()
    with open(os.path.join(guest_dir, 'disk.img'), 'rb') as f:
        h.update(f.read(int(read_mib) << 20))
    return h.hexdigest()


def qemu_command(qemu, machine_args, device_args, append_extra='', guest_dir=None,
                 mem=512, disk_opts='', timeout=DEFAULT_TIMEOUT, extra_args=None,
                 reboot=False):
    """The full QEMU argv boot() runs (reboot: the guest may reset itself)."""
    files = guest_files(guest_dir or DEFAULT_GUEST_DIR)
    # The guest watchdog fires well before the host gives up, so a stuck
    # guest still reports what it had.
    guest_wd = max(30, int(timeout * 0.75) - 15)
    # no_timer_check: Linux's boot-time check that the timer interrupt
    # arrives within a few ticks is a wall-clock race under TCG on a busy
    # host ("timer doesn't work through Interrupt-remapped IO-APIC"); the
    # IO-APIC path is still used by every timer and serial interrupt.
    append = ('console=ttyS0,115200 panic=1 no_timer_check xvi.timeout=%d %s'
              % (guest_wd, append_extra or '')).strip()
    disk_dev = DISK_DEVICE + (',' + disk_opts if disk_opts else '')
    # -nodefaults: q35's default CD-ROM on its AHCI controller makes SeaBIOS
    # wait ~30 s under TCG; it also drops the default VGA and NIC.
    # A case may pick its own TCG options: '-accel tcg,thread=single' in
    # its machine args replaces the default.
    accel = 'tcg'
    margs = list(_args(machine_args))
    if '-accel' in margs:
        i = margs.index('-accel')
        accel = margs[i + 1]
        del margs[i:i + 2]
    machine_args = margs
    return ([qemu, '-accel', accel, '-nographic', '-nodefaults',
             '-serial', 'mon:stdio'] + ([] if reboot else ['-no-reboot']) +
            ['-m', str(mem),
             ] + FIRMWARE_ARGS
            + _args(machine_args) + _args(device_args) + _args(extra_args)
            + ['-kernel', files['kernel'], '-initrd', files['initrd'],
               '-append', append,
               '-drive', DISK_DRIVE.format(img=files['disk']),
               '-device', disk_dev])


def parse(log):
    """XVI-RESULT key=value lines -> dict (last value wins); extra lists under
    '_dmesg' and '_kmsg'."""
    results = {}
    dmesg, kmsg, dmar = [], [], []
    for line in log.splitlines():
        line = line.replace('\r', '')
        if line.startswith('XVI-DMAR '):
            dmar.extend(line.split()[1:])
            continue
        m = RESULT_RE.search(line)
        if m:
            results[m.group(1)] = m.group(2).strip()
            continue
        m = DMESG_RE.search(line)
        if m:
            dmesg.append(m.group(1))
            continue
        m = KMSG_RE.search(line)
        if m:
            kmsg.append(m.group(1))
    results['_dmesg'] = dmesg
    results['_kmsg'] = kmsg
    results['_dmar'] = bytes(int(b, 16) for b in dmar if len(b) == 2)
    return results


def iasl_check(table):
    """Disassemble an ACPI table with iasl; 'ok' or what iasl objected to."""
    import tempfile
    if not table:
        return 'no-table'
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'dmar.dat')
        with open(path, 'wb') as f:
            f.write(table)
        try:
            p = subprocess.run(['iasl', '-d', path], cwd=d, capture_output=True,
                               text=True, timeout=60)
        except OSError as e:
            return 'iasl-missing(%s)' % e
        out = p.stdout + p.stderr
        bad = [l for l in out.splitlines()
               if re.search(r'error|warning|invalid|checksum', l, re.I)
               and not re.search(r'\b0 errors?\b', l, re.I)]
        if p.returncode != 0 or bad or not os.path.exists(
                os.path.join(d, 'dmar.dsl')):
            return 'iasl-error(%s)' % (bad[0] if bad else 'rc=%d' % p.returncode)
        return 'ok'


class Qmp:
    """A minimal QMP client on a unix socket: commands in, answers out."""

    def __init__(self, path, timeout=30):
        import socket
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.buf = b''
        self._read()                    # greeting
        self.cmd('qmp_capabilities')

    def _read(self):
        import json
        while b'\n' not in self.buf:
            b = self.sock.recv(65536)
            if not b:
                raise EOFError('QMP closed')
            self.buf += b
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def cmd(self, name, **args):
        import json
        msg = {'execute': name}
        if args:
            msg['arguments'] = args
        self.sock.sendall(json.dumps(msg).encode() + b'\n')
        while True:
            r = self._read()
            if 'event' in r:
                continue
            if 'error' in r:
                raise RuntimeError('%s: %s' % (name, r['error'].get('desc')))
            return r.get('return')

    def close(self):
        self.sock.close()


class _Console:
    """A QEMU process whose console output is gathered by a thread."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.chunks = []
        self.done = threading.Event()
        self.th = threading.Thread(target=self._reader, daemon=True)
        self.th.start()

    def _reader(self):
        buf = b''
        while True:
            b = self.proc.stdout.read1(65536)
            if not b:
                break
            self.chunks.append(b)
            buf = (buf + b)[-256:]
            if b'XVI-RESULT done=1' in buf:
                self.done.set()
        self.done.set()

    def text(self):
        return b''.join(self.chunks).decode('utf-8', 'replace')

    def wait_for(self, pattern, deadline):
        """Until @pattern (a regex) is in the output; the match or None."""
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                return re.search(pattern, self.text())
            time.sleep(0.2)
        return None

    def finish(self, deadline):
        """Wait for the guest to finish (or the deadline); True if killed."""
        while self.proc.poll() is None:
            if self.done.wait(0.2):
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                self.th.join(5)
                return True
        self.th.join(5)
        return False

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.th.join(5)


def _migrate(src_qmp, uri, deadline):
    """Migrate through @uri and wait until the source says completed."""
    src_qmp.cmd('migrate', uri=uri)
    while time.monotonic() < deadline:
        st = src_qmp.cmd('query-migrate').get('status')
        if st == 'completed':
            return
        if st in ('failed', 'cancelled'):
            raise RuntimeError('migration %s: %s' % (
                st, src_qmp.cmd('query-migrate').get('error-desc', '?')))
        time.sleep(0.2)
    raise RuntimeError('migration did not complete')


def boot_migrating(qemu, machine_args, device_args, append_extra, steps,
                   timeout=DEFAULT_TIMEOUT, log_path=None, guest_dir=None,
                   mem=512, disk_opts=''):
    """Boot the guest, then move it through @steps ('live' or 'file'
    migrations to new QEMU processes) while it runs xvi.rounds.

    Returns (results, log, rc) like boot(), with host_migrations (steps
    done) and host_rounds_after (rounds the guest did in the last process).
    """
    import tempfile
    t0 = time.monotonic()
    deadline = t0 + timeout
    tmp = tempfile.TemporaryDirectory(prefix='xvi-mig-')
    base = qemu_command(qemu, machine_args, device_args, append_extra, guest_dir,
                        mem, disk_opts, timeout)

    def spawn(i, incoming=None):
        cmd = base + ['-qmp', 'unix:%s/qmp%d,server=on,wait=off' % (tmp.name, i)]
        if incoming:
            cmd += ['-incoming', incoming]
        return _Console(cmd), cmd

    consoles, cmds, error, done_steps = [], [], None, 0
    cur, cmd = spawn(0)
    consoles.append(cur)
    cmds.append(cmd)
    try:
        qmp = Qmp('%s/qmp0' % tmp.name)
        for i, step in enumerate(steps, 1):
            # Migrate once the guest has done two more rounds here
            base_rounds = len(re.findall(r'XVI-PROGRESS', cur.text()))
            if not cur.wait_for(r'(?s)(XVI-PROGRESS.*){%d}' % (base_rounds + 2),
                                deadline):
                raise RuntimeError('no progress before migration %d' % i)
            if step == 'live':
                # The destination listens once its monitor answers
                uri = 'unix:%s/mig%d' % (tmp.name, i)
                nxt, cmd = spawn(i, uri)
                consoles.append(nxt)
                cmds.append(cmd)
                nqmp = Qmp('%s/qmp%d' % (tmp.name, i))
                _migrate(qmp, uri, deadline)
            else:
                path = '%s/state%d' % (tmp.name, i)
                _migrate(qmp, 'file:' + path, deadline)
                nxt, cmd = spawn(i, 'file:' + path)
                consoles.append(nxt)
                cmds.append(cmd)
                nqmp = Qmp('%s/qmp%d' % (tmp.name, i))
            qmp.cmd('quit')
            qmp.close()
            cur.finish(time.monotonic() + 15)
            cur, qmp = nxt, nqmp
            done_steps = i
        qmp.close()
    except (RuntimeError, OSError, EOFError) as e:
        error = str(e)
    timed_out = cur.finish(deadline)
    for c in consoles:
        c.kill()
    elapsed = time.monotonic() - t0
    log = ''.join('\n# --- QEMU process %d ---\n%s' % (i, c.text())
                  for i, c in enumerate(consoles))
    rc = None if timed_out else cur.proc.returncode
    if log_path:
        if os.path.dirname(log_path):
            os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(log_path, 'w') as f:
            for c in cmds:
                f.write('# ' + ' '.join(shlex.quote(x) for x in c) + '\n')
            f.write(log)
            f.write('\n# qemu rc=%s time=%.1fs%s%s\n'
                    % (rc, elapsed, ' TIMEOUT' if timed_out else '',
                       ' ERROR ' + error if error else ''))
    tmp.cleanup()
    results = parse(log)
    results.update(_time=elapsed, _timeout=timed_out,
                   host_migrations=str(done_steps),
                   host_rounds_after=str(len(re.findall(
                       r'XVI-PROGRESS', consoles[-1].text()))))
    if error:
        results['_error'] = 'migration: ' + error
    return results, log, rc


def boot(qemu, machine_args, device_args, append_extra='', timeout=DEFAULT_TIMEOUT,
         log_path=None, guest_dir=None, mem=512, disk_opts='', extra_args=None,
         reboot=False):
    """Boot the guest once.

    Returns (results, log, rc): results is the dict of XVI-RESULT values (plus
    '_dmesg'/'_kmsg' lists and '_time' seconds, '_timeout' True if QEMU had to
    be killed); log is the whole console output; rc is QEMU's exit code
    (None when it was killed on timeout).
    """
    cmd = qemu_command(qemu, machine_args, device_args, append_extra, guest_dir,
                       mem, disk_opts, timeout, extra_args, reboot)
    if log_path and os.path.dirname(log_path):
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    except OSError as e:
        log = 'cannot run %s: %s\n' % (qemu, e)
        if log_path:
            with open(log_path, 'w') as f:
                f.write(log)
        results = parse('')
        results.update(_time=0.0, _timeout=False, _error=log.strip())
        return results, log, None
    chunks = []
    done = threading.Event()

    def reader():
        buf = b''
        while True:
            b = proc.stdout.read1(65536)
            if not b:
                break
            chunks.append(b)
            buf = (buf + b)[-256:]
            if b'XVI-RESULT done=1' in buf:
                done.set()
        done.set()

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    timed_out = False
    deadline = t0 + timeout
    # After done=1 the guest powers off at once; don't wait forever if not.
    while proc.poll() is None:
        if done.wait(0.2):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            break
        if time.monotonic() > deadline:
            timed_out = True
            proc.kill()
            proc.wait()
            break
    th.join(5)
    elapsed = time.monotonic() - t0
    log = b''.join(chunks).decode('utf-8', 'replace')
    rc = None if timed_out else proc.returncode
    if log_path:
        with open(log_path, 'w') as f:
            f.write('# ' + ' '.join(shlex.quote(c) for c in cmd) + '\n')
            f.write(log)
            f.write('\n# qemu rc=%s time=%.1fs%s\n'
                    % (rc, elapsed, ' TIMEOUT' if timed_out else ''))
    results = parse(log)
    results['_time'] = elapsed
    results['_timeout'] = timed_out
    results['host_reboots'] = str(log.count('XVI-REBOOTING'))
    return results, log, rc


# Expectations -------------------------------------------------------------------

def check(case, results, guest_dir):
    """List of failure strings for a case's expectations (empty: pass)."""
    import cases as C
    fails = []
    if results.get('_error'):
        return [results['_error']]
    if results.get('done') != '1':
        why = 'timeout' if results.get('_timeout') else 'no done=1'
        err = results.get('error')
        return ['guest did not finish (%s%s)' % (why, ', ' + err if err else '')]
    if 'error' in results:
        fails.append('guest error: %s' % results['error'])
    for key, want in case.expect.items():
        got = results.get(key)
        if want is C.HOST_SHA:
            want = host_disk_sha256(guest_dir, case.read_mib)
        if callable(want):
            ok = got is not None and want(got)
            desc = getattr(want, 'desc', want.__name__)
        else:
            ok = got == str(want)
            desc = '== %s' % want
        if not ok:
            fails.append('%s=%s (want %s)' % (key, got if got is not None else '<missing>',
                                              desc))
    return fails


def read_hyp_stats(path):
    """The xen-viommu x-hyp-stats-file written at QEMU's exit -> dict:
    'op calls refused errors items hypercalls' lines give hyp.OP.calls etc.,
    'key value'
    lines (backend, double.*) give hyp.KEY."""
    out = {}
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        w = line.split()
        if len(w) >= 5:
            for k, v in zip(('calls', 'refused', 'errors', 'items',
                             'hypercalls'), w[1:]):
                out['hyp.%s.%s' % (w[0], k)] = v
        elif len(w) == 2:
            out['hyp.' + w[0]] = w[1]
    return out


def _with_hyp_stats(device_args, path):
    """Add x-hyp-stats-file=PATH to the xen-viommu -device argument."""
    return [a + ',x-hyp-stats-file=' + path if a.startswith('xen-viommu') else a
            for a in _args(device_args)]


def run_case(qemu, guest_dir, case, log_path=None):
    """Boot a cases.Case; returns (ok, reason, seconds, results, log)."""
    import tempfile
    append = case.append
    if case.read_mib:
        append += ' xvi.read_mib=%d' % case.read_mib
    device = case.device
    stats_dir = None
    # hyp.* expectations: the device's hypervisor counters, read after exit
    if any(k.startswith('hyp.') for k in case.expect):
        stats_dir = tempfile.TemporaryDirectory(prefix='xvi-hyp-')
        stats_path = os.path.join(stats_dir.name, 'stats.txt')
        device = _with_hyp_stats(device, stats_path)
    if case.migrate:
        results, log, rc = boot_migrating(qemu, case.machine, device, append,
                                          case.migrate, timeout=case.timeout,
                                          log_path=log_path,
                                          guest_dir=guest_dir, mem=case.mem,
                                          disk_opts=case.disk_opts)
    else:
        results, log, rc = boot(qemu, case.machine, device, append,
                                timeout=case.timeout, log_path=log_path,
                                guest_dir=guest_dir, mem=case.mem,
                                disk_opts=case.disk_opts, reboot=case.reboot)
    if stats_dir:
        results.update(read_hyp_stats(stats_path))
        stats_dir.cleanup()
    if 'dmar_iasl' in case.expect:
        results['dmar_iasl'] = iasl_check(results.get('_dmar'))
    fails = check(case, results, guest_dir)
    if not fails and rc not in (0, None):
        fails.append('qemu exit code %s' % rc)
    if 'done' not in results:
        tail = [l for l in log.splitlines() if l.strip()][-3:]
        if tail:
            fails.append('last output: ' + ' | '.join(t.strip() for t in tail))
    return not fails, '; '.join(fails), results['_time'], results, log


def main(argv=None):
    import cases as C
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--qemu', help='qemu-system-x86_64 to run')
    ap.add_argument('--guest-dir', default=DEFAULT_GUEST_DIR,
                    help='vmlinuz, initrd.img, disk.img (default %(default)s)')
    ap.add_argument('--case', action='append', default=[],
                    help='case to run (repeatable)')
    ap.add_argument('--log', help='console log file (with several cases: '
                    'a directory, one NAME.log each)')
    ap.add_argument('--own-firmware', action='store_true',
                    help='no -L: QEMU finds its firmware itself (an '
                    'installed device model, see make install)')
    ap.add_argument('--list', action='store_true', help='list the cases')
    ap.add_argument('-v', '--verbose', action='store_true',
                    help='print the parsed results')
    a = ap.parse_args(argv)
    if a.list:
        for c in C.CASES:
            print('%-30s %s' % (c.name, c.desc))
        return 0
    if a.own_firmware:
        del FIRMWARE_ARGS[:]
    if not a.qemu or not a.case:
        ap.error('--qemu and --case are required (or --list)')
    try:
        guest_files(a.guest_dir)
    except FileNotFoundError as e:
        print('not ok - %s: %s' % (a.case[0], e))
        return 1
    status = 0
    for name in a.case:
        case = C.get(name)
        if case is None:
            print('not ok - %s: no such case (see --list)' % name)
            status = 1
            continue
        if case.requires and not os.path.exists(case.requires):
            print('ok - %s # SKIP %s is not on this host' %
                  (name, case.requires))
            continue
        log_path = a.log
        if a.log and len(a.case) > 1:
            log_path = os.path.join(a.log, name + '.log')
        ok, reason, secs, results, log = run_case(a.qemu, a.guest_dir, case, log_path)
        if a.verbose:
            for k, v in results.items():
                if not k.startswith('_'):
                    print('# %s=%s' % (k, v))
        if ok:
            print('ok - %s (%ds)' % (name, round(secs)))
        else:
            print('not ok - %s: %s (%ds)' % (name, reason, round(secs)))
            if log_path:
                print('# console log: %s' % log_path)
            status = 1
        sys.stdout.flush()
    return status


if __name__ == '__main__':
    sys.exit(main())
