#!/usr/bin/python3
"""Seed inputs for QEMU's generic fuzzer aimed at xen-viommu.

Usage: scripts/fuzz-seeds.py QEMU_FUZZ_BINARY CORPUS_DIR

QEMU_FUZZ_ARGS / QEMU_FUZZ_OBJECTS must be set as for the fuzzing run
(scripts/fuzz.sh does that).  The generic fuzzer addresses MMIO by
"index of a fuzzed region" rather than by address, so a probe input is run
first (QTEST_LOG) to learn which index lands on the unit's register page,
the IO-APIC and edu's BAR.  Without those (another configuration) no seeds
are written; fuzzing then starts from an empty corpus.

The seeds are short command sequences that a driver would issue: set a
root table and enable translation, then let edu DMA through it; queued
invalidation with a wait descriptor; interrupt remapping with IO-APIC and
MSI sources.  Table contents come from DMA patterns (the fuzzer fills any
memory a device or the unit reads with them).

The "preset-" seeds start from the state x-fuzz-preset=on gives every
input (hw/i386/xen_viommu_fuzz.c.inc: tables at 480 MiB, TE, QIE and IRE
on, MSIs enabled) and change it: DMA through 4 KiB, 2 MiB, read-only and
unmapped pages, queued invalidations, a table entry turned into one that
maps the interrupt range, compatibility-format MSIs in xAPIC mode with and
without CFI, and a stale 2 MiB entry above 2^46 invalidated through IVA.
"""
import functools
import os
import re
import struct
import subprocess
import sys

SEP = b"FUZZ"
OP_IN, OP_OUT, OP_READ, OP_WRITE, OP_PCI_READ, OP_PCI_WRITE, \
    OP_DISABLE_PCI, OP_ADD_DMA_PATTERN, OP_CLEAR_DMA_PATTERNS, \
    OP_CLOCK_STEP = range(10)
B, W, L, Q = range(4)

XVI_BASE = 0xfed90000
IOAPIC_BASE = 0xfec00000

# GCMD/GSTS bits
TE, SRTP, QIE, IRE, SIRTP = 1 << 31, 1 << 30, 1 << 26, 1 << 25, 1 << 24
CFI = 1 << 23
PRESET = TE | QIE | IRE         # what GCMD must keep saying after the preset

# The x-fuzz-preset state (constants of hw/i386/xen_viommu_fuzz.c.inc)
FP_BASE = 0x1e000000
FP_ROOT, FP_CTX, FP_PML4 = FP_BASE, FP_BASE + 0x1000, FP_BASE + 0x2000
FP_PDPT, FP_PD, FP_PT = FP_BASE + 0x3000, FP_BASE + 0x4000, FP_BASE + 0x5000
FP_HIGH_PD = FP_BASE + 0x7000
FP_SM_ROOT, FP_SM_CTX = FP_BASE + 0x8000, FP_BASE + 0x9000
FP_PASID_DIR, FP_PASID_TABLE = FP_BASE + 0xb000, FP_BASE + 0xc000
FP_FL_PML4, FP_FL_PDPT = FP_BASE + 0xd000, FP_BASE + 0xe000
FP_FL_PD, FP_IRT = FP_BASE + 0xf000, FP_BASE + 0x10000
FP_STATUS = FP_BASE + 0x30000
FP_HIGH_IOVA = 0x520000000000
EDU_DID = 2                 # edu is 00:01.0: odd slots are in domain 2


def mmio_read(base, off, size=L):
    return bytes([OP_READ]) + struct.pack("<BBxxI", size, base, off)


def mmio_write(base, off, val, size=L):
    return bytes([OP_WRITE]) + struct.pack("<BBxxIQ", size, base, off, val)


def pci_write(dev, off, val, size=L):
    return bytes([OP_PCI_WRITE]) + struct.pack("<BBBxI", size, dev, off, val)


def dma_pattern(data, index=0, stride=0):
    return bytes([OP_ADD_DMA_PATTERN, index, stride]) + data


def clock_step():
    return bytes([OP_CLOCK_STEP])


def clear_dma_patterns():
    return bytes([OP_CLEAR_DMA_PATTERNS])


def probe(binary, workdir, name):
    """Map MMIO addresses and PCI devices to the fuzzer's indexes."""
    inp = b"".join(mmio_read(b, 0) + SEP for b in range(64))
    # One file per corpus: the configurations are seeded side by side
    path = os.path.join(workdir, ".seed-probe-" + name)
    with open(path, "wb") as f:
        f.write(inp)
    env = dict(os.environ, QTEST_LOG="1", FUZZ_SERIALIZE_QTEST="1",
               ASAN_OPTIONS="detect_leaks=0")
    out = subprocess.run([binary, "--fuzz-target=generic-fuzz", path],
                         cwd=workdir, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=300).stdout
    os.unlink(path)
    log = out.decode("latin-1")
    # Before the first command, pci_enum maps every fuzzed PCI device's BARs
    # in the order that the PCI ops index them ("outl 0xcf8 0x8000XX10" then
    # "outl 0xcfc ADDR" programs BAR0 of devfn XX).
    devfns, bar0 = [], {}
    sel = None
    reads = []
    for m in re.finditer(r"\] (outl 0xcf8|outl 0xcfc|readl) (0x[0-9a-f]+)",
                         log):
        op, a = m.group(1), int(m.group(2), 16)
        if op == "outl 0xcf8":
            sel = a
            devfn = (a >> 8) & 0xff
            if devfn not in devfns and not reads:
                devfns.append(devfn)
        elif op == "outl 0xcfc" and sel is not None and not reads:
            if sel & 0xff == 0x10 and a != 0xffffffff:
                bar0[(sel >> 8) & 0xff] = a
        elif op == "readl":
            reads.append(a)
    index = {}
    for i, a in enumerate(reads):
        index.setdefault(a, i)
    return devfns, bar0, index


def testdev_dma(utd, addr, pasid=0, write=False, data=0x5a5a5a5a):
    """One 4-byte DMA of the DMA test device, with @pasid (0: none)"""
    return [mmio_write(utd, 0x58, pasid), mmio_write(utd, 0x40, addr),
            mmio_write(utd, 0x44, addr >> 32),
            mmio_write(utd, 0x54, data),
            mmio_write(utd, 0x48, 2 if write else 1),
            mmio_read(utd, 0x50)]


def desc128(lo, hi=0):
    """One 128-bit descriptor, as the pattern its fetch takes"""
    return dma_pattern(struct.pack("<QQ", lo, hi))


def preset_more_seeds(xvi, pdev, edu_dma, edu_fire, frcd, pit_masked,
                      utd=None):
    """Legacy-mode seeds from the preset for what the first ones miss.

    Completion interrupts (wait descriptors with IF, ICS, IECTL), masked
    fault events and a full set of fault records (PFO), context entries
    of every type and width (pass-through, 3 levels and FPD taken; device
    TLB, reserved type, 5 levels, not present and reserved bits refused),
    each IRTE source-id check, index invalidations of the interrupt entry
    cache, MSIs with a subhandle; with the DMA test device, requests with
    a PASID, an interrupt request with reserved data bits and the UNMAP
    events that invalidations send.
    """
    seeds = {}
    unmapped = 0x20000000                   # the preset maps 0-512 MiB
    wait_if = desc128(5 | 1 << 4)
    seeds["preset-wait-if"] = [
        wait_if, mmio_write(xvi, 0x88, 0x10, Q), clear_dma_patterns(),
        mmio_read(xvi, 0x9c), mmio_write(xvi, 0x9c, 1),      # ICS.IWC
        mmio_write(xvi, 0xa0, 1 << 31),                      # IECTL.IM
        wait_if, mmio_write(xvi, 0x88, 0x20, Q), clear_dma_patterns(),
        mmio_read(xvi, 0xa0), mmio_write(xvi, 0xa0, 0),      # IP: sent now
        mmio_read(xvi, 0x9c), mmio_write(xvi, 0x9c, 1), mmio_read(xvi, 0xa0)]
    seeds["preset-fault-masked"] = \
        [mmio_write(xvi, 0x38, 1 << 31)] + \
        edu_dma(unmapped, 0x40000, 0x100, 1) + \
        [mmio_read(xvi, 0x38), mmio_write(xvi, 0x38, 0)] + frcd + \
        [mmio_write(xvi, 0x208, 1 << 63, Q),                 # FRCD0.F
         mmio_write(xvi, 0x34, 1)] + \
        edu_dma(0x40000, unmapped + 0x1000, 0x100, 3) + frcd    # write
    seq = []
    for n in range(10):                     # 8 fault records, then PFO
        seq += edu_dma(unmapped + n * 0x1000, 0x40000, 0x100, 1)
    seeds["preset-fault-overflow"] = seq + frcd + [
        mmio_write(xvi, 0x20c, 1 << 31), mmio_write(xvi, 0x34, 1),
        mmio_read(xvi, 0x34)] + edu_dma(unmapped, 0x40000, 0x100, 1) + frcd
    # The first DMA of an input reads the root and context entries (the
    # caches start empty): the patterns give them, and the entries of the
    # walk after them as the preset has them (each read takes the next
    # pattern).  Pass-through, 3 levels and FPD are taken; device TLB (not
    # offered), reserved type, 5 levels (aw-bits=48), not present and
    # reserved bits are refused.
    ctx_hi = 2 | EDU_DID << 8
    walk4 = [FP_PDPT | 3, FP_PD | 3, FP_PT | 3, 0x3003]
    for name, lo, hi, walk in (
            ("pt", FP_PML4 | 2 << 2 | 1, ctx_hi, []),
            ("devtlb", FP_PML4 | 1 << 2 | 1, ctx_hi, []),
            ("tt3", FP_PML4 | 3 << 2 | 1, ctx_hi, []),
            ("aw3", FP_PDPT | 1, 1 | EDU_DID << 8, walk4[1:]),
            ("aw5", FP_PML4 | 1, 3 | EDU_DID << 8, []),
            ("np", FP_PML4, ctx_hi, []),
            ("rsvd", FP_PML4 | 0x10 | 1, ctx_hi, []),
            ("fpd", FP_PML4 | 2 | 1, ctx_hi, walk4)):
        seeds["preset-ctx-" + name] = pit_masked + [
            dma_pattern(struct.pack("<QQ", FP_CTX | 1, 0)),
            dma_pattern(struct.pack("<QQ", lo, hi))] + \
            [dma_pattern(struct.pack("<Q", e)) for e in walk] + \
            edu_dma(0x3000, 0x40000, 0x100, 1) + [clear_dma_patterns()] + \
            edu_dma(0x40000, 0x6000, 0x100, 3) + \
            edu_dma(FP_HIGH_IOVA, 0x40000, 0x100, 1) + \
            edu_dma(unmapped, 0x40000, 0x100, 1) + frcd
    seeds["preset-root-np"] = pit_masked + \
        [dma_pattern(struct.pack("<QQ", FP_CTX, 0))] + \
        edu_dma(0x3000, 0x40000, 0x100, 1) + [clear_dma_patterns()] + frcd
    # IRTE 1 (edu's MSI) with each source-id check: SID, SID with SQ,
    # bus range, reserved SVT; edu is 00:01.0 (0x0008)
    for name, hi in (("sid", 1 << 18 | 0x0008),
                     ("sid-other", 1 << 18 | 0x0010),
                     ("sq", 1 << 18 | 3 << 16 | 0x000f),
                     ("bus", 2 << 18 | 0x0000),
                     ("bus-other", 2 << 18 | 0x0101),
                     ("svt3", 3 << 18 | 0x0008)):
        seeds["preset-irte-" + name] = \
            [dma_pattern(struct.pack("<QQ", 1 | 0x41 << 16, hi))] + \
            edu_fire + [clear_dma_patterns()] + edu_fire + frcd
    # Index invalidations of the entry cache between MSIs: one entry,
    # masks beyond ECAP.MHMV (15), the top handle, then a global one
    seq = list(edu_fire)
    for n, lo in enumerate((4 | 1 << 4 | 1 << 32, 4 | 1 << 4 | 16 << 27,
                            4 | 1 << 4 | 31 << 27, 4 | 1 << 4 | 0xffff << 32,
                            4)):
        seq += [desc128(lo), mmio_write(xvi, 0x88, 0x10 * (n + 1), Q),
                clear_dma_patterns()] + edu_fire
    seeds["preset-iec-index"] = seq + frcd
    # A subhandle (SHV): handle 0 + data 1 is IRTE 1; then a handle
    # beyond the table (IRTA.S = 7: 256 entries), and handle bit 15
    # (address bit 2).  (edu's MSI data is 16 bits: the reserved upper
    # data bits come from the test device below.)
    seq = []
    for addr, data in ((0xfee00018, 1), (0xfee00010 | 0x100 << 5, 0),
                       (0xfee00014, 0)):
        seq += [pci_write(pdev, 0x44, addr), pci_write(pdev, 0x4c, data)] + \
            edu_fire
    seeds["preset-msi-shv"] = seq + frcd
    if utd is not None:
        td = functools.partial(testdev_dma, utd)
        # A unit without PASID support blocks requests with one
        seeds["preset-td-pasid"] = td(0x3000) + td(0x3000, 5) + \
            td(0x4000, 0x105, True) + td(0x3000) + frcd
        # An interrupt request written by DMA: SHV with subhandle 1, then
        # with reserved data bits 31:16 (blocked)
        seeds["preset-td-msi"] = \
            td(0xfee00018, write=True, data=1) + \
            td(0xfee00018, write=True, data=0x10001) + frcd
        # Cached translations, then invalidations (the device is 00:04.0,
        # domain 1): each sends UNMAP events to the test device's
        # notifiers, one per section of its address space
        seq = td(0x3000) + td(0x200000) + td(FP_HIGH_IOVA)
        for n, (lo, hi) in enumerate((
                (2 | 3 << 4 | 1 << 16, 0x3000),              # page
                (2 | 3 << 4 | 1 << 16, 0xfe000000 | 13),     # over 0xfee
                (2 | 2 << 4 | 1 << 16, 0),                   # domain
                (1 | 3 << 4 | 1 << 16 | 0x20 << 32, 0),      # device ctx
                (2 | 1 << 4, 0))):                           # global
            seq += [desc128(lo, hi), mmio_write(xvi, 0x88, 0x10 * (n + 1), Q),
                    clear_dma_patterns()] + td(0x3000)
        seeds["preset-td-unmap"] = seq + [
            mmio_read(utd, 0x00), mmio_read(utd, 0x04),
            mmio_write(utd, 0x08, 0), mmio_read(utd, 0x10),
            mmio_read(utd, 0x18), mmio_read(utd, 0x38)]
    return seeds


def scalable_seeds(xvi, edu_dma, frcd, utd):
    """Seeds for FUZZ_CONFIG=scalable, from the scalable-mode preset.

    The preset (xen_viommu_fuzz.c.inc) gives every requester one PASID
    table: PASID n is first-level, second-level, nested or pass-through
    for n % 4 = 0..3 (DIDs 1-4), 60-63 not present, 128 and above have no
    directory entry; RID_PASID is the slot % 4 (edu at 00:01.0: second
    level; the DMA test device at 00:04.0: first level).  The queue takes
    256-bit descriptors.  The DMA test device's DMA_PASID register makes
    its requests carry a PASID (bit 8: user).
    """
    TTM_SM = 1 << 10
    USER = 0x100

    def ut_dma(addr, pasid=0, write=False):
        return testdev_dma(utd, addr, pasid, write)

    def desc(lo, hi=0):
        """One 256-bit descriptor, as the pattern its fetch takes"""
        return dma_pattern(struct.pack("<QQQQ", lo, hi, 0, 0))

    def queue(*descs):
        return list(descs) + [
            mmio_write(xvi, 0x88, 0x20 * len(descs), Q),  # IQT
            clear_dma_patterns(), mmio_read(xvi, 0x80, Q),
            mmio_read(xvi, 0x34), mmio_read(xvi, 0xb0)]   # FSTS, IQERCD

    def piotlb(did, pasid, addr=None, am=0):
        gran = 2 if addr is None else 3
        return desc(6 | gran << 4 | did << 16 | pasid << 32,
                    0 if addr is None else addr | am)

    def pc(gran, did, pasid):
        return desc(7 | gran << 4 | did << 16 | pasid << 32)

    wait = desc(5 | 1 << 5 | 0x1234 << 32, FP_STATUS)

    def pasid_entry(pgtt, flptr=FP_FL_PML4, slptr=FP_PML4, aw=2, did=1,
                    q2=1, extra0=0):
        return struct.pack("<8Q", slptr | pgtt << 6 | aw << 2 | 1 | extra0,
                           did, flptr | q2, 0, 0, 0, 0, 0)

    def lookup(pe, pde=FP_PASID_TABLE | 1, ctx0=FP_PASID_DIR | 8 | 1,
               ctx1=0):
        """Patterns for one lookup: root, context, directory, PASID entry"""
        return [dma_pattern(struct.pack("<QQ", FP_SM_CTX | 1,
                                        (FP_SM_CTX + 0x1000) | 1)),
                dma_pattern(struct.pack("<4Q", ctx0, ctx1, 0, 0)),
                dma_pattern(struct.pack("<Q", pde)), dma_pattern(pe)]

    seeds = {}
    # Every translation type through PASIDs and RID_PASID, reads and
    # writes, user and supervisor, mapped, read-only and unmapped pages
    seq = edu_dma(0x40000, 0x3000, 0x100, 3) + edu_dma(0x3000, 0x40000,
                                                       0x100, 1)
    for pasid in (0, 1, 2, 3, 4, 5 | USER, 6 | USER, 7, 61, 64, 130):
        seq += ut_dma(0x3000, pasid) + ut_dma(0x40000, pasid, True)
    seeds["sm-types"] = seq + frcd
    seq = []
    for pasid in (0, 1, 2, 4 | USER):
        seq += ut_dma(0xa00000, pasid, True) + ut_dma(0x20000000, pasid) + \
            ut_dma(FP_HIGH_IOVA, pasid) + ut_dma(0xfee00000, pasid)
    seeds["sm-faults"] = seq + frcd * 3
    # Cached translations, then each scalable-mode invalidation
    seq = ut_dma(0x3000, 4) + ut_dma(0x5000, 1) + ut_dma(0x200000, 2)
    seq += queue(piotlb(1, 4, 0x3000), piotlb(2, 1), wait,
                 pc(1, 1, 4), pc(0, 3, 0), pc(3, 0, 0),
                 desc(1 | 1 << 4), desc(2 | 1 << 4), wait)
    seq += ut_dma(0x3000, 4) + ut_dma(0x5000, 1) + ut_dma(0x200000, 2)
    seq += queue(piotlb(1, 4, 0x200000, 9), piotlb(3, 2, 0x0, 12),
                 desc(4), wait)
    seeds["sm-invalidate"] = seq + frcd
    # Bad descriptors: reserved fields, granularity 2 of the PASID cache,
    # bits 255:128 set, an unaligned tail
    seeds["sm-bad-desc"] = queue(pc(2, 1, 1)) + \
        queue(dma_pattern(struct.pack("<4Q", 6 | 1 << 4, 0, 1, 0))) + [
            mmio_write(xvi, 0x34, 1 << 4),                # clear IQE
            mmio_write(xvi, 0x88, 0x10, Q), mmio_read(xvi, 0x34)]
    # Lookups whose tables the patterns give: a first-level walk (its
    # entries from the later patterns), a nested one, reserved PGTT,
    # 5-level paging, SRE clear for a supervisor request, FPD
    fl = [dma_pattern(struct.pack("<Q", FP_FL_PDPT | 7)),
          dma_pattern(struct.pack("<Q", FP_FL_PD | 7)),
          dma_pattern(struct.pack("<Q", 0x200000 | 0x87))]
    # (each lookup its own PASID, so that no cached entry stands in for it;
    # the first, without a PASID, takes RID_PASID and RID_PRIV from the
    # context entry the patterns give)
    seq = lookup(pasid_entry(1), ctx1=1 << 20) + fl + ut_dma(0x200000) + \
        [clear_dma_patterns()] + frcd
    for n, pe in enumerate((pasid_entry(1), pasid_entry(3), pasid_entry(5),
                            pasid_entry(1, q2=1 | 1 << 2),
                            pasid_entry(1, q2=0), pasid_entry(2, aw=4),
                            pasid_entry(1, extra0=2))):
        seq += lookup(pe) + fl + ut_dma(0x200000, 8 + 4 * n) + \
            [clear_dma_patterns()] + frcd
    seeds["sm-tables"] = seq
    # Back to legacy tables and into scalable mode again
    seeds["sm-switch"] = [
        mmio_write(xvi, 0x20, FP_ROOT, Q), mmio_write(xvi, 0x18, PRESET | SRTP),
        mmio_read(xvi, 0x1c)] + edu_dma(0x40000, 0x3000, 0x100, 1) + \
        ut_dma(0x3000, 4) + [
        mmio_write(xvi, 0x20, FP_SM_ROOT | TTM_SM, Q),
        mmio_write(xvi, 0x18, PRESET | SRTP)] + \
        queue(desc(1 | 1 << 4), pc(3, 0, 0), desc(2 | 1 << 4)) + \
        ut_dma(0x3000, 4) + edu_dma(0x40000, 0x3000, 0x100, 1) + frcd
    return seeds


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    os.makedirs(corpus, exist_ok=True)
    devfns, bar0, index = probe(binary,
                                os.path.dirname(os.path.abspath(corpus)),
                                os.path.basename(os.path.abspath(corpus)))
    # edu is the first PCI device of the default configuration (00:01.0)
    edu_devfn = 0x08
    need = {"xen-viommu": XVI_BASE, "ioapic": IOAPIC_BASE,
            "edu": bar0.get(edu_devfn, -1)}
    missing = [n for n, a in need.items() if a not in index]
    if missing or edu_devfn not in devfns:
        print("fuzz-seeds: %s not found among the fuzzed regions; no seeds"
              % ", ".join(missing or ["edu at 00:01.0"]))
        return
    xvi, ioa, edu = (index[need[n]] for n in ("xen-viommu", "ioapic", "edu"))
    # The DMA test device comes fourth (00:04.0)
    testdev_devfn = 0x20
    pdev = devfns.index(edu_devfn)


    def edu_dma(src, dst, cnt, cmd):
        return [mmio_write(edu, 0x80, src, Q), mmio_write(edu, 0x88, dst, Q),
                mmio_write(edu, 0x90, cnt, Q), mmio_write(edu, 0x98, cmd, Q)] \
            + [clock_step()] * 12     # edu's DMA timer is 100 ms away

    # edu's MSI capability is at 0x40 (64-bit address): remappable format,
    # handle 0 (address bit 4 = format, bit 3 = SHV).
    edu_msi = [pci_write(pdev, 0x44, 0xfee00010), pci_write(pdev, 0x48, 0),
               pci_write(pdev, 0x4c, 0), pci_write(pdev, 0x40, 0x00810005)]

    seeds = {}
    # 1. DMA remapping.  Each DMA read takes the next pattern in turn: for
    #    the first, three patterns give a present root entry, a context entry
    #    (AW=48, domain 1) and present second-level entries, all at 0x200000;
    #    the others fill every table read with the same entry.
    walk = [dma_pattern(struct.pack("<QQ", 0x200001, 0)),
            dma_pattern(struct.pack("<QQ", 0x200001, 0x102)),
            dma_pattern(struct.pack("<QQ", 0x200003, 0x200003))]
    for n, pats in enumerate((walk,
                              [dma_pattern(struct.pack("<Q", 0x200003))],
                              [dma_pattern(struct.pack("<QQ", 0x200001,
                                                       0x10102))])):
        seeds["dma-remap-%d" % n] = pats + [
            mmio_write(xvi, 0x20, 0x100000, Q),          # RTADDR
            mmio_write(xvi, 0x18, SRTP),                  # GCMD.SRTP
            mmio_read(xvi, 0x1c),                         # GSTS
            mmio_write(xvi, 0x18, TE),                    # GCMD.TE
        ] + edu_dma(0x1000, 0x40000, 0x100, 1) \
          + edu_dma(0x40000, 0x3000, 0x100, 3 | 4) + [
            mmio_read(xvi, 0x34),                         # FSTS
            mmio_read(xvi, 0x200, Q), mmio_read(xvi, 0x208, Q),   # FRCD0
            mmio_write(xvi, 0x28, (1 << 63) | (1 << 61), Q),  # CCMD global
            mmio_write(xvi, 0x108, (1 << 63) | (1 << 60), Q),  # IOTLB global
        ] + edu_dma(0x2000, 0x40800, 0x80, 1)
    # 2. Queued invalidation: descriptors from the pattern (a wait with
    #    status write, then context/IOTLB/IEC invalidations).
    for n, pat in enumerate((struct.pack("<QQ", 0x0000abcd00000025, 0x300000),
                             struct.pack("<QQ", 0x11, 0),
                             struct.pack("<QQ", 0x12, 0) +
                             struct.pack("<QQ", 0x4, 0) +
                             struct.pack("<QQ", 0x0000000100000035, 0x300008))):
        seeds["qi-%d" % n] = [
            dma_pattern(pat),
            mmio_write(xvi, 0x90, 0x400000, Q),           # IQA, 256 entries
            mmio_write(xvi, 0x18, QIE),                   # GCMD.QIE
            mmio_read(xvi, 0x1c),
            mmio_write(xvi, 0x88, 0x30, Q),               # IQT: 3 descriptors
            mmio_read(xvi, 0x80, Q), mmio_read(xvi, 0x9c),
            mmio_write(xvi, 0xa0, 0),                     # IECTL unmask
            mmio_write(xvi, 0x88, 0x40, Q),
            mmio_read(xvi, 0x34),
        ]
    # 3. Interrupt remapping, x2APIC mode: IRTEs from the pattern; an
    #    IO-APIC entry in remappable format and edu's MSI and INTx.
    for n, pat in enumerate((struct.pack("<QQ", 0x0000000100300001, 0),
                             struct.pack("<QQ", 0x0000000000410001,
                                         (1 << 18) | 0x0008))):
        seq = [
            dma_pattern(pat),
            mmio_write(xvi, 0xb8, 0x500000 | (1 << 11) | 7, Q),  # IRTA, EIME
            mmio_write(xvi, 0x18, SIRTP),
            mmio_write(xvi, 0x18, IRE),
            mmio_read(xvi, 0x1c),
        ]
        for pin in (0, 2) + tuple(range(16, 24)):
            # redirection entries (PCI INTx: pins 16-23): remappable, handle pin
            seq += [mmio_write(ioa, 0x00, 0x10 + 2 * pin),
                    mmio_write(ioa, 0x10, 0x0),
                    mmio_write(ioa, 0x00, 0x11 + 2 * pin),
                    mmio_write(ioa, 0x10, (pin << 17) | (1 << 16))]
        seq += [mmio_write(edu, 0x60, 1), mmio_write(edu, 0x64, 1)]
        seq += edu_msi + [mmio_write(edu, 0x60, 1), mmio_write(edu, 0x64, 1),
                          mmio_write(xvi, 0x38, 0),      # FECTL unmask
                          mmio_read(xvi, 0x34)]
        seq += [mmio_write(xvi, 0x18, 0)]                # all off
        seeds["intremap-%d" % n] = seq
    # 4. Cases of the conformance review: a second-level leaf that points
    #    into the interrupt range (must fault, 0xE); a page-selective
    #    invalidation above 2^46 and one straddling the interrupt window
    #    (notifier cropping); an IEC storm (one batch of 255 global IEC
    #    invalidations and waits: bounded work).
    seeds["dma-intr-range"] = [
        dma_pattern(struct.pack("<QQ", 0x200001, 0)),
        dma_pattern(struct.pack("<QQ", 0x200001, 0x102)),
        dma_pattern(struct.pack("<QQ", 0x200003, 0x200003)),
        dma_pattern(struct.pack("<QQ", 0xfee00003, 0xfee00083)),
        mmio_write(xvi, 0x20, 0x100000, Q), mmio_write(xvi, 0x18, SRTP),
        mmio_write(xvi, 0x18, TE),
    ] + edu_dma(0x40000, 0x1000, 0x100, 3 | 4) + [
        mmio_read(xvi, 0x34), mmio_read(xvi, 0x208, Q)]
    seeds["iva-wide"] = [
        mmio_write(xvi, 0x20, 0x100000, Q), mmio_write(xvi, 0x18, SRTP),
        mmio_write(xvi, 0x18, TE),
        mmio_write(xvi, 0x100, 0x512345678000, Q),        # IVA above 2^46
        mmio_write(xvi, 0x108, (1 << 63) | (3 << 60) | (1 << 32), Q),
        mmio_write(xvi, 0x100, 0xfe000000 | 13, Q),       # straddles 0xfee
        mmio_write(xvi, 0x108, (1 << 63) | (3 << 60) | (1 << 32), Q),
        mmio_read(xvi, 0x108, Q)]
    seeds["iec-storm"] = [
        dma_pattern(struct.pack("<QQ", 0x4, 0) +
                    struct.pack("<QQ", 0x0000000100000025, 0x300000)),
        mmio_write(xvi, 0xb8, 0x500000 | (1 << 11) | 15, Q),  # 65536 IRTEs
        mmio_write(xvi, 0x18, SIRTP), mmio_write(xvi, 0x18, IRE),
        mmio_write(xvi, 0x90, 0x400000, Q),
        mmio_write(xvi, 0x18, IRE | QIE),
        mmio_write(xvi, 0x88, 0xff0, Q),                  # 255 descriptors
        mmio_read(xvi, 0x80, Q), mmio_read(xvi, 0x34)]
    # 5. From the x-fuzz-preset state
    frcd = [mmio_read(xvi, 0x34), mmio_read(xvi, 0x200, Q),
            mmio_read(xvi, 0x208, Q)]
    edu_fire = [mmio_write(edu, 0x60, 1), mmio_write(edu, 0x64, 1)]
    # The PIT ticks on IO-APIC pin 2 while edu's DMA timer runs, and its
    # first interrupt fetches IRTE 2: that read would take the first of the
    # patterns meant for a walk.  Seeds that give a walk's entries by
    # patterns mask the pin first.
    pit_masked = [mmio_write(ioa, 0x00, 0x14),
                  mmio_write(ioa, 0x10, 0x32 | 1 << 16)]
    seeds["preset-dma"] = \
        edu_dma(0x40000, 0x3000, 0x100, 3) + \
        edu_dma(0x400000, 0x40000, 0x100, 1) + \
        edu_dma(0x40000, 0xa00000, 0x100, 3) + \
        edu_dma(0x20000000, 0x40000, 0x100, 1) + frcd
    # A page-selective IOTLB and a wait descriptor, filled in when the
    # unit fetches them (each fetch takes the next pattern); then the same
    # DMA again
    seeds["preset-qi"] = \
        edu_dma(0x40000, 0x3000, 0x100, 1) + [
            dma_pattern(struct.pack("<QQ", 2 | 3 << 4 | EDU_DID << 16,
                                    0x3000)),
            dma_pattern(struct.pack("<QQ", 5 | 1 << 5 | 0x1234 << 32,
                                    FP_STATUS)),
            mmio_write(xvi, 0x88, 0x20, Q), clear_dma_patterns(),
            mmio_read(xvi, 0x80, Q)] + \
        edu_dma(0x40000, 0x3000, 0x100, 1) + frcd
    # edu's MSI through IRTE 1; then the IRTE read turned into a
    # not-present, a posted and a reserved-bit entry
    # (a global IEC descriptor, fetched first, drops the cached entry)
    seeds["preset-msi"] = edu_fire + [
        dma_pattern(struct.pack("<QQ", 0x4, 0)),
        dma_pattern(struct.pack("<QQ", 0x0000000000410000, 0)),
        dma_pattern(struct.pack("<QQ", 0x0000000000418001, 0)),
        dma_pattern(struct.pack("<QQ", 0x0000000000411001, 0)),
        mmio_write(xvi, 0x88, 0x10, Q)] + edu_fire * 3 + [
        clear_dma_patterns()] + frcd
    # A walk whose last entry maps the interrupt range (fault 0xE)
    seeds["preset-intr-range"] = pit_masked + [
        dma_pattern(struct.pack("<QQ", FP_CTX | 1, 0)),
        dma_pattern(struct.pack("<QQ", FP_PML4 | 1, 2 | EDU_DID << 8)),
        dma_pattern(struct.pack("<Q", FP_PDPT | 3)),
        dma_pattern(struct.pack("<Q", FP_PD | 3)),
        dma_pattern(struct.pack("<Q", FP_PT | 3)),
        dma_pattern(struct.pack("<Q", 0xfee00003)),
    ] + edu_dma(0x40000, 0x3000, 0x100, 3) + [clear_dma_patterns()] + frcd
    # xAPIC mode: a compatibility-format MSI is blocked (0x25) while CFI
    # is clear and passes once it is set
    seeds["preset-compat-xapic"] = [
        mmio_write(xvi, 0xb8, FP_IRT | 7, Q),             # IRTA, EIME=0
        mmio_write(xvi, 0x18, PRESET | SIRTP),
        mmio_write(xvi, 0x18, PRESET),
        pci_write(pdev, 0x44, 0xfee00000), pci_write(pdev, 0x4c, 0x41),
    ] + edu_fire + frcd + [mmio_write(xvi, 0x18, PRESET | CFI)] + \
        edu_fire + [mmio_read(xvi, 0x1c)]
    # A 2 MiB translation above 2^46 is cached; its table entry is then
    # cleared (a descriptor fetch from that table page, filled with zeros,
    # is how the fuzzer writes memory) and invalidated through IVA; the
    # next DMA must fault
    seeds["preset-stale-wide-iva"] = [
        mmio_write(xvi, 0x18, TE | IRE)] + \
        edu_dma(FP_HIGH_IOVA, 0x40000, 0x100, 1) + [
        dma_pattern(bytes(16)),
        mmio_write(xvi, 0x90, FP_HIGH_PD, Q),
        mmio_write(xvi, 0x18, TE | IRE | QIE),
        mmio_write(xvi, 0x88, 0x10, Q),
        clear_dma_patterns(),
        mmio_write(xvi, 0x18, TE | IRE),
        mmio_write(xvi, 0x100, FP_HIGH_IOVA | 9, Q),      # IVA, AM=9
        mmio_write(xvi, 0x108, (1 << 63) | (3 << 60) | (EDU_DID << 32), Q),
    ] + edu_dma(FP_HIGH_IOVA, 0x40000, 0x100, 1) + frcd
    utd = None
    if testdev_devfn in devfns and bar0.get(testdev_devfn, -1) in index:
        utd = index[bar0[testdev_devfn]]
    if "scalable-mode=on" in os.environ.get("QEMU_FUZZ_ARGS", ""):
        # Scalable mode: its own seeds on top (the legacy ones still reach
        # the unit: they set their own tables, or use the same DMA)
        if utd is not None:
            seeds.update(scalable_seeds(xvi, edu_dma, frcd, utd))
    else:
        seeds.update(preset_more_seeds(xvi, pdev, edu_dma, edu_fire, frcd,
                                       pit_masked, utd))
    for name, cmds in seeds.items():
        with open(os.path.join(corpus, "seed-" + name), "wb") as f:
            f.write(SEP.join(cmds))
    print("fuzz-seeds: wrote %d seeds (xen-viommu region %d, ioapic %d, "
          "edu %d, edu PCI index %d, DMA test device %s)"
          % (len(seeds), xvi, ioa, edu, pdev, utd))


if __name__ == "__main__":
    main()
