/*
 * xen-viommu: unit tests for scalable-mode lookup and the first-level walk
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Tables are built in the fake guest memory of xen-viommu-fake-mem.h.
 */

#include "qemu/osdep.h"
#include "xen-viommu-fake-mem.h"
#include "hw/i386/xen_viommu_pasid.h"

#define FL_P    BIT_ULL(0)
#define FL_RW   BIT_ULL(1)
#define FL_US   BIT_ULL(2)
#define FL_A    BIT_ULL(5)
#define FL_D    BIT_ULL(6)
#define FL_PS   BIT_ULL(7)
#define FL_XD   BIT_ULL(63)
#define FL_URW  (FL_P | FL_RW | FL_US)

static const XviSmConfig sm_all = {
    .walk = {
        .mgaw = 57, .haw = 46, .sagaw = 0xe, .pt_supported = true,
        .sp_2m = true, .sp_1g = true, .fl_1g = true,
    },
    .flts = true, .slts = true, .srs = true, .fl_5l = true,
};

static bool writes_fail;

static bool mem_write(void *opaque, uint64_t addr, const void *buf,
                      size_t len)
{
    Mem *m = opaque;

    if (writes_fail || addr < MEM_BASE || addr + len > MEM_BASE + MEM_SIZE) {
        return false;
    }
    memcpy(m->buf + (addr - MEM_BASE), buf, len);
    return true;
}

/* Root table, one context table per half, a PASID directory and table */
typedef struct Sm {
    uint64_t rt, ctp_lo, ctp_hi, pdir, ptbl;
} Sm;

static Sm sm_setup(Mem *m, uint8_t bus)
{
    Sm t;

    t.rt = alloc_page(m);
    t.ctp_lo = alloc_page(m);
    t.ctp_hi = alloc_page(m);
    t.pdir = alloc_page(m);
    t.ptbl = alloc_page(m);
    put64(m, t.rt + bus * 16, t.ctp_lo | 1);
    put64(m, t.rt + bus * 16 + 8, t.ctp_hi | 1);
    return t;
}

static uint64_t ctx_addr(Sm *t, uint8_t devfn)
{
    return (devfn < 128 ? t->ctp_lo : t->ctp_hi) + (devfn & 0x7f) * 32;
}

/* Context entry for @devfn: PDTS 0 (PASIDs 0..8191), RID_PASID @rp */
static void put_ctx(Mem *m, Sm *t, uint8_t devfn, uint64_t lo, uint64_t hi)
{
    put64(m, ctx_addr(t, devfn), lo);
    put64(m, ctx_addr(t, devfn) + 8, hi);
}

static uint64_t pe_addr(Sm *t, uint32_t pasid)
{
    return t->ptbl + (pasid & 63) * 64;
}

static void put_pe(Mem *m, Sm *t, uint32_t pasid, uint64_t q0, uint64_t q1,
                   uint64_t q2)
{
    unsigned i;

    put64(m, t->pdir + (pasid >> 6) * 8, t->ptbl | 1);
    put64(m, pe_addr(t, pasid), q0);
    put64(m, pe_addr(t, pasid) + 8, q1);
    put64(m, pe_addr(t, pasid) + 16, q2);
    for (i = 3; i < 8; i++) {
        put64(m, pe_addr(t, pasid) + 8 * i, 0);
    }
}

#define PE_FL   (1ULL | (1ULL << 6))
#define PE_SL   (1ULL | (2ULL << 6))
#define PE_PT   (1ULL | (4ULL << 6))

static int lookup(Mem *m, const XviSmConfig *cfg, Sm *t, uint8_t bus,
                  uint8_t devfn, XviSmEntry *e)
{
    return xvi_sm_lookup(cfg, mem_read, m, t->rt, bus, devfn, false, 0,
                         false, e);
}

static void test_lookup_ok(void)
{
    Mem m;
    Sm t;
    XviSmEntry e;
    uint64_t fl = 0x345000, sl = 0x789000;

    mem_init(&m);
    t = sm_setup(&m, 2);
    /* RID_PASID 5, first-level 4-level tables, DID 0x1234 */
    put_ctx(&m, &t, 0x08, t.pdir | 1, 5);
    put_pe(&m, &t, 5, PE_FL | (2 << 2), 0x1234 | BIT_ULL(23), fl);
    g_assert_cmpint(lookup(&m, &sm_all, &t, 2, 0x08, &e), ==, XVI_FR_NONE);
    g_assert_cmpuint(e.pasid, ==, 5);
    g_assert_cmpuint(e.pgtt, ==, XVI_PGTT_FL);
    g_assert_cmpuint(e.did, ==, 0x1234);
    g_assert_cmpuint(e.fl_levels, ==, 4);
    g_assert_cmphex(e.flptptr, ==, fl);
    g_assert_false(e.fpd);
    g_assert_false(e.priv);

    /* 5-level first-level, supervisor by RID_PRIV with SRE and WPE */
    put_pe(&m, &t, 5, PE_FL, 7, fl | (1 << 2) | 1 | BIT_ULL(4));
    put_ctx(&m, &t, 0x08, t.pdir | 1, 5 | BIT_ULL(20));
    g_assert_cmpint(lookup(&m, &sm_all, &t, 2, 0x08, &e), ==, XVI_FR_NONE);
    g_assert_cmpuint(e.fl_levels, ==, 5);
    g_assert_true(e.priv);
    g_assert_true(e.wpe);

    /* The upper half of the root entry: devfn 0x90, second-level, AW 48 */
    put_ctx(&m, &t, 0x90, t.pdir | 1, 0);
    put_pe(&m, &t, 0, PE_SL | (2 << 2) | sl, 9, 0);
    g_assert_cmpint(lookup(&m, &sm_all, &t, 2, 0x90, &e), ==, XVI_FR_NONE);
    g_assert_cmpuint(e.pgtt, ==, XVI_PGTT_SL);
    g_assert_cmpuint(e.sl_levels, ==, 4);
    g_assert_cmphex(e.slptptr, ==, sl);
    g_assert_cmpuint(e.did, ==, 9);

    /* Pass-through ignores the table pointers and AW */
    put_pe(&m, &t, 0, PE_PT | (7 << 2) | sl, 9, 0xfff0000000000000ULL);
    g_assert_cmpint(lookup(&m, &sm_all, &t, 2, 0x90, &e), ==, XVI_FR_NONE);
    g_assert_cmpuint(e.pgtt, ==, XVI_PGTT_PT);

    /* A request with PASID 70 (directory entry 1) */
    put_ctx(&m, &t, 0x10, t.pdir | 1 | BIT_ULL(3), 0);
    put_pe(&m, &t, 70, PE_FL, 3, fl);
    g_assert_cmpint(xvi_sm_lookup(&sm_all, mem_read, &m, t.rt, 2, 0x10,
                                  true, 70, true, &e), ==, XVI_FR_SM_PE_SRE);
    put_pe(&m, &t, 70, PE_FL, 3, fl | 1);
    g_assert_cmpint(xvi_sm_lookup(&sm_all, mem_read, &m, t.rt, 2, 0x10,
                                  true, 70, true, &e), ==, XVI_FR_NONE);
    g_assert_cmpuint(e.pasid, ==, 70);
    g_assert_true(e.priv);
    mem_fini(&m);
}

static void test_lookup_faults(void)
{
    XviSmConfig cfg = sm_all;
    Mem m;
    Sm t;
    XviSmEntry e;
    uint64_t fl = 0x345000;

    mem_init(&m);
    t = sm_setup(&m, 0);
    put_ctx(&m, &t, 8, t.pdir | 1, 0);
    put_pe(&m, &t, 0, PE_FL, 1, fl);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_NONE);

    /* Root */
    g_assert_cmpint(xvi_sm_lookup(&cfg, mem_read, &m, OUTSIDE, 0, 8, false,
                                  0, false, &e), ==, XVI_FR_SM_ROOT_ACCESS);
    g_assert_cmpint(lookup(&m, &cfg, &t, 1, 8, &e), ==, XVI_FR_SM_ROOT_NP);
    put64(&m, t.rt, t.ctp_lo | 1 | BIT_ULL(3));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_ROOT_RSVD);
    put64(&m, t.rt, t.ctp_lo | 1 | BIT_ULL(47));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_ROOT_RSVD);
    /* The upper half's bits do not matter to the lower half */
    put64(&m, t.rt, t.ctp_lo | 1);
    put64(&m, t.rt + 8, BIT_ULL(5));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_NONE);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 0x88, &e), ==, XVI_FR_SM_ROOT_NP);
    put64(&m, t.rt + 8, OUTSIDE | 1);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 0x88, &e), ==,
                    XVI_FR_SM_CTX_ACCESS);

    /* Context */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_CTX_NP);
    put_ctx(&m, &t, 9, t.pdir | 2, 0);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_CTX_NP);
    g_assert_true(e.fpd);
    put_ctx(&m, &t, 9, t.pdir | 1 | BIT_ULL(2), 0);      /* DTE */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_CTX_RSVD);
    put_ctx(&m, &t, 9, t.pdir | 1 | BIT_ULL(4), 0);      /* PRE */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_CTX_RSVD);
    put_ctx(&m, &t, 9, t.pdir | 1 | BIT_ULL(6), 0);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_CTX_RSVD);
    put_ctx(&m, &t, 9, t.pdir | 1, BIT_ULL(21));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_CTX_RSVD);
    put_ctx(&m, &t, 9, t.pdir | 1, 0);
    put64(&m, ctx_addr(&t, 9) + 24, 1);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_CTX_RSVD);
    put64(&m, ctx_addr(&t, 9) + 24, 0);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_NONE);
    /* RID_PRIV needs SRS */
    put_ctx(&m, &t, 9, t.pdir | 1, BIT_ULL(20));
    cfg.srs = false;
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_CTX_RSVD);
    cfg.srs = true;
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_PE_SRE);

    /* RID_PASID and PASIDs beyond the directory (PDTS 0: 8192 PASIDs) */
    put_ctx(&m, &t, 9, t.pdir | 1, 8192);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_RID_PASID);
    put_ctx(&m, &t, 9, t.pdir | 1 | (1 << 9), 8192);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_PDE_NP);
    /* Requests with a PASID need PASIDE; without one they do not */
    g_assert_cmpint(xvi_sm_lookup(&cfg, mem_read, &m, t.rt, 0, 8, true, 3,
                                  false, &e), ==, XVI_FR_SM_PASID_DISABLED);
    put_ctx(&m, &t, 8, t.pdir | 1 | BIT_ULL(3), 0);
    g_assert_cmpint(xvi_sm_lookup(&cfg, mem_read, &m, t.rt, 0, 8, true, 8192,
                                  false, &e), ==, XVI_FR_SM_PASID_RANGE);
    g_assert_cmpint(xvi_sm_lookup(&cfg, mem_read, &m, t.rt, 0, 8, true,
                                  1U << 20, false, &e), ==,
                    XVI_FR_SM_PASID_RANGE);

    /* PASID directory */
    put_ctx(&m, &t, 9, OUTSIDE | 1, 0);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 9, &e), ==, XVI_FR_SM_PDE_ACCESS);
    put64(&m, t.pdir, t.ptbl | 2);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PDE_NP);
    g_assert_true(e.fpd);
    put64(&m, t.pdir, t.ptbl | 1 | BIT_ULL(2));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PDE_RSVD);
    put64(&m, t.pdir, OUTSIDE | 1);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_ACCESS);

    /* PASID entry */
    put_pe(&m, &t, 0, PE_FL & ~1ULL, 1, fl);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_NP);
    put_pe(&m, &t, 0, PE_FL | 2, 1, fl);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_NONE);
    g_assert_true(e.fpd);
    put_pe(&m, &t, 0, PE_FL | BIT_ULL(9), 1, fl);        /* SLADE */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    put_pe(&m, &t, 0, PE_FL, 1 | BIT_ULL(24), fl);       /* PGSNP */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    put_pe(&m, &t, 0, PE_FL, 1, fl | BIT_ULL(7));        /* EAFE */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    put_pe(&m, &t, 0, PE_FL, 1, fl | BIT_ULL(1));        /* ERE */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    /* NXE and SMEP have no effect without execute requests (Linux: NXE) */
    put_pe(&m, &t, 0, PE_FL, 1, fl | BIT_ULL(5) | BIT_ULL(6));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_NONE);
    put_pe(&m, &t, 0, PE_FL, 1, fl | BIT_ULL(50));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    put_pe(&m, &t, 0, PE_FL, 1, fl);
    put64(&m, pe_addr(&t, 0) + 56, 1);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    /* SRE and WPE need SRS */
    cfg.srs = false;
    put_pe(&m, &t, 0, PE_FL, 1, fl | BIT_ULL(4));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    cfg.srs = true;
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_NONE);

    /* Translation types: reserved, nested, and those not offered */
    put_pe(&m, &t, 0, 1, 1, fl);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    put_pe(&m, &t, 0, 1 | (3ULL << 6) | (2 << 2), 1, fl);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    /* Nested where offered: both tables, each with its own checks */
    cfg.nest = true;
    put_pe(&m, &t, 0, 1 | (3ULL << 6) | (2 << 2) | 0x456000, 1, fl);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_NONE);
    g_assert_cmpuint(e.pgtt, ==, XVI_PGTT_NESTED);
    g_assert_cmpuint(e.sl_levels, ==, 4);
    g_assert_cmphex(e.slptptr, ==, 0x456000);
    g_assert_cmpuint(e.fl_levels, ==, 4);
    g_assert_cmphex(e.flptptr, ==, fl);
    put_pe(&m, &t, 0, 1 | (3ULL << 6) | (4 << 2), 1, fl);       /* AW */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    put_pe(&m, &t, 0, 1 | (3ULL << 6) | (2 << 2), 1, fl | (2 << 2)); /* FLPM */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    put_pe(&m, &t, 0, 1 | (3ULL << 6) | (2 << 2) | BIT_ULL(50), 1, fl);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    put_pe(&m, &t, 0, 1 | (3ULL << 6) | (2 << 2), 1, fl | BIT_ULL(50));
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_RSVD);
    /* Nesting needs both levels */
    put_pe(&m, &t, 0, 1 | (3ULL << 6) | (2 << 2), 1, fl);
    cfg.flts = false;
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    cfg.flts = true;
    cfg.nest = false;
    put_pe(&m, &t, 0, 1 | (5ULL << 6), 1, fl);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    put_pe(&m, &t, 0, PE_FL, 1, fl);
    cfg.flts = false;
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    cfg.flts = true;
    put_pe(&m, &t, 0, PE_FL, 1, fl | (1 << 2));          /* FLPM 5-level */
    cfg.fl_5l = false;
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    cfg.fl_5l = true;
    put_pe(&m, &t, 0, PE_FL, 1, fl | (2 << 2));          /* FLPM reserved */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    put_pe(&m, &t, 0, PE_SL | (4 << 2), 1, 0);           /* AW reserved */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    cfg.walk.sagaw = 0x4;
    put_pe(&m, &t, 0, PE_SL | (3 << 2), 1, 0);           /* 57 not offered */
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    cfg.slts = false;
    put_pe(&m, &t, 0, PE_SL | (2 << 2), 1, 0);
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    put_pe(&m, &t, 0, PE_PT, 1, 0);
    cfg.walk.pt_supported = false;
    g_assert_cmpint(lookup(&m, &cfg, &t, 0, 8, &e), ==, XVI_FR_SM_PE_INVALID);
    mem_fini(&m);
}

/* Map @iova -> @gpa with an x86 leaf at @leaf_level; tables with @tbits */
static uint64_t fl_map(Mem *m, uint64_t root, unsigned levels, uint64_t iova,
                       uint64_t gpa, unsigned leaf_level, uint64_t bits,
                       uint64_t tbits)
{
    uint64_t table = root;
    unsigned level;

    for (level = levels; level > leaf_level; level--) {
        uint64_t e = slot(table, level, iova);
        uint64_t pte = get64(m, e);

        if (!(pte & FL_P)) {
            pte = alloc_page(m) | tbits;
            put64(m, e, pte);
        }
        table = pte & 0xffffffffff000ULL;
    }
    put64(m, slot(table, leaf_level, iova),
          gpa | bits | (leaf_level > 1 ? FL_PS : 0));
    return slot(table, leaf_level, iova);
}

static XviSmEntry fl_entry(uint64_t root, unsigned levels)
{
    XviSmEntry e = {
        .pgtt = XVI_PGTT_FL, .did = 1, .fl_levels = levels,
        .flptptr = root,
    };
    return e;
}

static int fl_walk(Mem *m, const XviSmConfig *cfg, const XviSmEntry *e,
                   uint64_t iova, unsigned access, XviTranslation *t)
{
    memset(t, 0xaa, sizeof(*t));
    return xvi_sm_walk(cfg, mem_read, mem_write, m, e, iova, access, t);
}

static void test_fl_pages(void)
{
    XviSmConfig cfg = sm_all;
    XviTranslation t;
    XviSmEntry e;
    uint64_t root, root5;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    e = fl_entry(root, 4);
    fl_map(&m, root, 4, 0x1000, 0x11000, 1, FL_URW | FL_XD, FL_URW);
    fl_map(&m, root, 4, 0x40200000ULL, 0x80200000ULL, 2, FL_URW, FL_URW);
    fl_map(&m, root, 4, 0x80000000ULL, 0x40000000ULL, 3,
           FL_URW | BIT_ULL(12), FL_URW);
    /* The upper half of the canonical space */
    fl_map(&m, root, 4, 0xffff800000003000ULL, 0x13000, 1, FL_URW, FL_URW);

    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0x1234, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_NONE);
    g_assert_cmphex(t.iova, ==, 0x1000);
    g_assert_cmphex(t.gpa, ==, 0x11000);
    g_assert_cmphex(t.mask, ==, 0xfff);
    g_assert_cmpuint(t.level, ==, 1);
    g_assert_cmpuint(t.perm, ==,
                     XVI_PERM_READ | XVI_PERM_WRITE | XVI_PERM_USER);
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0x40212345ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x80200000ULL);
    g_assert_cmphex(t.mask, ==, SZ_2M - 1);
    /* PAT (bit 12) of a 1 GiB page is not an address bit */
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0x80001000ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x40000000ULL);
    g_assert_cmpuint(t.level, ==, 3);
    cfg.walk.fl_1g = false;
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0x80001000ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_FL_RSVD);
    cfg.walk.fl_1g = true;
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0xffff800000003000ULL,
                            XVI_PERM_READ, &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x13000);

    /* Canonical addresses (4-level: bits 63:47 equal) */
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 1ULL << 47, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_CANONICAL);
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0xffff000000003000ULL,
                            XVI_PERM_READ, &t), ==, XVI_FR_SM_CANONICAL);
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 1ULL << 63, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_CANONICAL);

    /* 5-level: bit 47 is an address bit, 56 the sign */
    root5 = alloc_page(&m);
    e = fl_entry(root5, 5);
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0x0100800000005000ULL,
                            XVI_PERM_READ, &t), ==, XVI_FR_SM_CANONICAL);
    fl_map(&m, root5, 5, 0xff00800000005000ULL, 0x16000, 1, FL_URW, FL_URW);
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0xff00800000005000ULL,
                            XVI_PERM_READ, &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x16000);
    fl_map(&m, root5, 5, 0x0000800000005000ULL, 0x15000, 1, FL_URW, FL_URW);
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 0x0000800000005000ULL,
                            XVI_PERM_READ, &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x15000);
    g_assert_cmpint(fl_walk(&m, &cfg, &e, 1ULL << 56, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_CANONICAL);
    mem_fini(&m);
}

static void test_fl_faults(void)
{
    XviTranslation t;
    XviSmEntry e;
    uint64_t root, leaf, pde;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    e = fl_entry(root, 4);
    leaf = fl_map(&m, root, 4, 0x1000, 0x11000, 1, FL_URW, FL_URW);
    pde = slot(get64(&m, slot(get64(&m, slot(root, 4, 0)) & ~0xfffULL, 3, 0))
               & ~0xfffULL, 2, 0);

    /* Not present */
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x2000, XVI_PERM_READ, &t), ==,
                    XVI_FR_FL_NP);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 1ULL << 40, XVI_PERM_WRITE, &t),
                    ==, XVI_FR_FL_NP);
    /* Reserved: address above HAW, PS in a PML4E, low bits of a 2 MiB leaf */
    put64(&m, leaf, 0x11000 | FL_URW | BIT_ULL(46));
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_FL_RSVD);
    /* Ignored bits: 62:52, 11:8 */
    put64(&m, leaf, 0x11000 | FL_URW | BIT_ULL(55) | BIT_ULL(9));
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    put64(&m, slot(root, 4, 0), get64(&m, slot(root, 4, 0)) | FL_PS);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_FL_RSVD);
    put64(&m, slot(root, 4, 0), get64(&m, slot(root, 4, 0)) & ~FL_PS);
    fl_map(&m, root, 4, 0x600000, 0x2000000 | BIT_ULL(13), 2, FL_URW, FL_URW);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x600000, XVI_PERM_READ, &t), ==,
                    XVI_FR_FL_RSVD);

    /* User request, U/S clear in a table entry */
    put64(&m, pde, get64(&m, pde) & ~FL_US);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_USER);
    /* A supervisor request may use it, and write read-only pages without WPE */
    e.priv = true;
    put64(&m, pde, get64(&m, pde) & ~FL_RW);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_NONE);
    /* Not cached as writable: a user request of the PASID may not write */
    g_assert_false(t.perm & XVI_PERM_WRITE);
    g_assert_false(t.perm & XVI_PERM_USER);
    g_assert_false(xvi_sm_perm_ok(&e, XVI_PERM_WRITE, t.perm));
    e.wpe = true;
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_SM_WRITE);
    e.priv = e.wpe = false;
    put64(&m, pde, get64(&m, pde) | FL_US);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_SM_WRITE);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    g_assert_false(t.perm & XVI_PERM_WRITE);

    /* Tables that cannot be read */
    put64(&m, pde, OUTSIDE | FL_URW);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_FL_ACCESS);
    e.flptptr = OUTSIDE;
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_FL_ROOT);

    /* Output into the interrupt range */
    e.flptptr = root = alloc_page(&m);
    fl_map(&m, root, 4, 0x5000, 0xfee00000ULL, 1, FL_URW, FL_URW);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x5000, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_INTR_ADDR);
    mem_fini(&m);
}

static void test_fl_accessed_dirty(void)
{
    XviTranslation t;
    XviSmEntry e;
    uint64_t root, leaf, l4, l3, l2;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    e = fl_entry(root, 4);
    leaf = fl_map(&m, root, 4, 0x1000, 0x11000, 1, FL_URW, FL_URW);
    l4 = slot(root, 4, 0);
    l3 = slot(get64(&m, l4) & ~0xfffULL, 3, 0);
    l2 = slot(get64(&m, l3) & ~0xfffULL, 2, 0);

    /* A read sets A everywhere, not D, and caches no write permission */
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    g_assert_true(get64(&m, l4) & FL_A);
    g_assert_true(get64(&m, l3) & FL_A);
    g_assert_true(get64(&m, l2) & FL_A);
    g_assert_cmphex(get64(&m, leaf), ==, 0x11000 | FL_URW | FL_A);
    g_assert_false(t.perm & XVI_PERM_WRITE);
    /* A write sets D in the leaf only */
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_NONE);
    g_assert_cmphex(get64(&m, leaf), ==, 0x11000 | FL_URW | FL_A | FL_D);
    g_assert_false(get64(&m, l2) & FL_D);
    /* Once dirty, a read may be cached writable */
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    g_assert_true(t.perm & XVI_PERM_WRITE);
    g_assert_true(xvi_sm_perm_ok(&e, XVI_PERM_WRITE, t.perm));

    /* Nothing to update: no write at all, even if writes would fail */
    writes_fail = true;
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_NONE);
    put64(&m, leaf, 0x11000 | FL_URW | FL_A);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_FL_AD_UPDATE);
    writes_fail = false;
    /* A permission fault updates nothing */
    put64(&m, leaf, 0x11000 | FL_P | FL_US);
    g_assert_cmpint(fl_walk(&m, &sm_all, &e, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_SM_WRITE);
    g_assert_cmphex(get64(&m, leaf), ==, 0x11000 | FL_P | FL_US);
    mem_fini(&m);
}

static void test_sm_sl_pt(void)
{
    XviTranslation t;
    XviSmEntry e = {
        .pgtt = XVI_PGTT_SL, .did = 3, .sl_levels = 3,
    };
    Mem m;

    mem_init(&m);
    e.slptptr = alloc_page(&m);
    map(&m, e.slptptr, 3, 0x7000, 0x17000, 1, PTE_R);
    g_assert_cmpint(xvi_sm_walk(&sm_all, mem_read, mem_write, &m, &e, 0x7000,
                                XVI_PERM_READ, &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x17000);
    g_assert_cmpint(xvi_sm_walk(&sm_all, mem_read, mem_write, &m, &e, 0x7000,
                                XVI_PERM_WRITE, &t), ==, XVI_FR_SM_WRITE);
    g_assert_cmpint(xvi_sm_walk(&sm_all, mem_read, mem_write, &m, &e, 0x8000,
                                XVI_PERM_READ, &t), ==, XVI_FR_SL_SM_NP);
    g_assert_cmpint(xvi_sm_walk(&sm_all, mem_read, mem_write, &m, &e,
                                1ULL << 39, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_BEYOND_AW);
    /* Second-level results serve user and supervisor requests alike */
    g_assert_true(xvi_sm_perm_ok(&e, XVI_PERM_READ, XVI_PERM_READ));

    e.pgtt = XVI_PGTT_PT;
    g_assert_cmpint(xvi_sm_walk(&sm_all, mem_read, mem_write, &m, &e,
                                0x123456789000ULL, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x123456789000ULL);
    g_assert_cmpint(xvi_sm_walk(&sm_all, mem_read, mem_write, &m, &e,
                                1ULL << 57, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_BEYOND_AW);
    e.pgtt = XVI_PGTT_NESTED;
    g_assert_cmpint(xvi_sm_walk(&sm_all, mem_read, mem_write, &m, &e, 0,
                                XVI_PERM_READ, &t), ==, XVI_FR_SM_PE_INVALID);
    mem_fini(&m);
}

/*
 * Nested: first-level tables at guest-physical addresses NEST_OFF above
 * the fake memory that holds them, the second level mapping each back.
 */
#define NEST_OFF    0x40000000ULL
#define NEST_OUT    0x50000000ULL       /* a GPA the first level maps to */

typedef struct Nest {
    XviSmEntry e;
    uint64_t fl_hpa[4];                 /* the first-level tables, top first */
    uint64_t fl_gpa[4];
    uint64_t sl_of_table[4];            /* their second-level leaves */
} Nest;

static const XviSmConfig sm_nest = {
    .walk = {
        .mgaw = 48, .haw = 46, .sagaw = 0x6, .pt_supported = true,
        .sp_2m = true, .sp_1g = true, .fl_1g = true,
    },
    .flts = true, .slts = true, .srs = true, .nest = true,
};

/*
 * 4-level first-level tables for @iova -> NEST_OUT (a leaf at
 * @fl_leaf_level), over 3-level second-level tables that map the tables'
 * GPAs with @sl_table_bits and NEST_OUT to @hpa with a leaf at
 * @sl_leaf_level and @sl_bits.
 */
static Nest nest_setup(Mem *m, uint64_t iova, unsigned fl_leaf_level,
                       uint64_t sl_table_bits, uint64_t hpa,
                       unsigned sl_leaf_level, uint64_t sl_bits)
{
    Nest n = { 0 };
    unsigned i, level;

    n.e.pgtt = XVI_PGTT_NESTED;
    n.e.did = 4;
    n.e.fl_levels = 4;
    n.e.sl_levels = 3;
    n.e.slptptr = alloc_page(m);
    for (i = 0; i < 4; i++) {
        n.fl_hpa[i] = alloc_page(m);
        n.fl_gpa[i] = n.fl_hpa[i] + NEST_OFF;
        n.sl_of_table[i] = map(m, n.e.slptptr, 3, n.fl_gpa[i], n.fl_hpa[i],
                               1, sl_table_bits);
    }
    n.e.flptptr = n.fl_gpa[0];
    for (level = 4, i = 0; level > fl_leaf_level; level--, i++) {
        put64(m, slot(n.fl_hpa[i], level, iova), n.fl_gpa[i + 1] | FL_URW);
    }
    put64(m, slot(n.fl_hpa[i], level, iova), NEST_OUT | FL_URW |
          (fl_leaf_level > 1 ? FL_PS : 0));
    map(m, n.e.slptptr, 3, NEST_OUT, hpa, sl_leaf_level, sl_bits);
    return n;
}

static void test_nested(void)
{
    XviTranslation t;
    Nest n;
    Mem m;
    unsigned i;

    /* 4 KiB over 4 KiB: the second level's output, both permissions */
    mem_init(&m);
    n = nest_setup(&m, 0x3000, 1, PTE_RW, 0x7654000, 1, PTE_RW);
    m.reads = 0;
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3456, XVI_PERM_WRITE, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmphex(t.iova, ==, 0x3000);
    g_assert_cmphex(t.gpa, ==, 0x7654000);
    g_assert_cmphex(t.mask, ==, 0xfff);
    g_assert_cmpuint(t.level, ==, 1);
    g_assert_cmpuint(t.perm, ==,
                     XVI_PERM_READ | XVI_PERM_WRITE | XVI_PERM_USER);
    /*
     * Per first-level read: a second-level walk (3) and the read; per A/D
     * write a walk; the output's walk: 4 * 4 + 4 * 3 + 3
     */
    g_assert_cmpuint(m.reads, <=, 31);
    /* A and D were set through the second level, in the tables' pages */
    for (i = 0; i < 4; i++) {
        g_assert_true(get64(&m, slot(n.fl_hpa[i], 4 - i, 0x3000)) & FL_A);
    }
    g_assert_true(get64(&m, slot(n.fl_hpa[3], 1, 0x3000)) & FL_D);

    /* The second level's read-only output: reads only */
    map(&m, n.e.slptptr, 3, NEST_OUT, 0x7654000, 1, PTE_R);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_WRITE, &t),
                    ==, XVI_FR_SM_WRITE);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmpuint(t.perm, ==, XVI_PERM_READ | XVI_PERM_USER);
    /* Not present in the second level: its fault */
    map(&m, n.e.slptptr, 3, NEST_OUT, 0x7654000, 1, 0);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_SL_SM_NP);
    mem_fini(&m);

    /* Page sizes: the smaller of the two */
    mem_init(&m);
    n = nest_setup(&m, 0x40200000ULL, 2, PTE_RW, 0x7654000, 1, PTE_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x40203456ULL, XVI_PERM_READ,
                            &t), ==, XVI_FR_SL_SM_NP);
    /* NEST_OUT + 0x3000 is what 0x40203456 reaches */
    map(&m, n.e.slptptr, 3, NEST_OUT + 0x3000, 0x7000000, 1, PTE_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x40203456ULL, XVI_PERM_READ,
                            &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.iova, ==, 0x40203000ULL);
    g_assert_cmphex(t.gpa, ==, 0x7000000);
    g_assert_cmphex(t.mask, ==, 0xfff);
    mem_fini(&m);
    mem_init(&m);
    n = nest_setup(&m, 0x40200000ULL, 2, PTE_RW, 0x7600000, 2, PTE_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x40212345ULL, XVI_PERM_READ,
                            &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.iova, ==, 0x40200000ULL);
    g_assert_cmphex(t.gpa, ==, 0x7600000);
    g_assert_cmphex(t.mask, ==, SZ_2M - 1);
    g_assert_cmpuint(t.level, ==, 2);
    mem_fini(&m);
    mem_init(&m);
    n = nest_setup(&m, 0x3000, 1, PTE_RW, 0x7600000, 2, PTE_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x7600000);
    g_assert_cmphex(t.mask, ==, 0xfff);
    mem_fini(&m);
}

static void test_nested_faults(void)
{
    XviTranslation t;
    Nest n;
    Mem m;

    /* A first-level table the second level does not map */
    mem_init(&m);
    n = nest_setup(&m, 0x3000, 1, PTE_RW, 0x7654000, 1, PTE_RW);
    put64(&m, n.sl_of_table[2], 0);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_SL_SM_NP);
    /* ... or maps read-only: reads, but no A/D update (0x77) */
    put64(&m, n.sl_of_table[2], n.fl_hpa[2] | PTE_R);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NEST_WRITE);
    put64(&m, slot(n.fl_hpa[2], 2, 0x3000),
          get64(&m, slot(n.fl_hpa[2], 2, 0x3000)) | FL_A);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    /* ... or write-only: no read (0x76; 0x75 for the FLPTPTR table) */
    put64(&m, n.sl_of_table[2], n.fl_hpa[2] | PTE_W);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NEST_READ);
    put64(&m, n.sl_of_table[2], n.fl_hpa[2] | PTE_RW);
    put64(&m, n.sl_of_table[0], n.fl_hpa[0] | PTE_W);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NEST_ROOT_READ);
    put64(&m, n.sl_of_table[0], n.fl_hpa[0] | PTE_RW);
    /* ... or maps to memory that is not there */
    put64(&m, n.sl_of_table[2], OUTSIDE | PTE_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_FL_ACCESS);
    put64(&m, n.sl_of_table[2], n.fl_hpa[2] | PTE_RW);
    /* FLPTPTR beyond the second level's 39 bits (0x74) */
    n.e.flptptr = 1ULL << 40;
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NEST_BEYOND_AW);
    n.e.flptptr = n.fl_gpa[0];
    /* Second-level tables that cannot be read */
    n.e.slptptr = OUTSIDE;
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_SL_SM_ROOT);
    mem_fini(&m);

    /*
     * The interrupt range: the final output in it faults; the first
     * level's (guest-physical, intermediate) output in it does not
     */
    mem_init(&m);
    n = nest_setup(&m, 0x3000, 1, PTE_RW, 0xfee00000ULL, 1, PTE_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_SM_INTR_ADDR);
    put64(&m, slot(n.fl_hpa[3], 1, 0x3000), 0xfee00000ULL | FL_URW);
    map(&m, n.e.slptptr, 3, 0xfee00000ULL, 0x7654000, 1, PTE_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x7654000);
    mem_fini(&m);

    /* First-level faults are the first level's, U/S as for one level */
    mem_init(&m);
    n = nest_setup(&m, 0x3000, 1, PTE_RW, 0x7654000, 1, PTE_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x4000, XVI_PERM_READ, &t),
                    ==, XVI_FR_FL_NP);
    put64(&m, slot(n.fl_hpa[3], 1, 0x3000), NEST_OUT | FL_P | FL_RW);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_SM_USER);
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 1ULL << 47, XVI_PERM_READ,
                            &t), ==, XVI_FR_SM_CANONICAL);
    /* Nested results serve supervisor requests only where U/S is clear */
    n.e.priv = true;
    g_assert_cmpint(fl_walk(&m, &sm_nest, &n.e, 0x3000, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    n.e.priv = false;
    g_assert_false(xvi_sm_perm_ok(&n.e, XVI_PERM_READ, t.perm));
    mem_fini(&m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xen-viommu/pasid/lookup-ok", test_lookup_ok);
    g_test_add_func("/xen-viommu/pasid/lookup-faults", test_lookup_faults);
    g_test_add_func("/xen-viommu/pasid/fl-pages", test_fl_pages);
    g_test_add_func("/xen-viommu/pasid/fl-faults", test_fl_faults);
    g_test_add_func("/xen-viommu/pasid/fl-accessed-dirty",
                    test_fl_accessed_dirty);
    g_test_add_func("/xen-viommu/pasid/sl-pt", test_sm_sl_pt);
    g_test_add_func("/xen-viommu/pasid/nested", test_nested);
    g_test_add_func("/xen-viommu/pasid/nested-faults", test_nested_faults);
    return g_test_run();
}
