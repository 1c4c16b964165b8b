/*
 * xen-viommu: unit tests for the VT-d context lookup and second-level walk
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Tables are built in a fake guest memory (xen-viommu-fake-mem.h).
 */

#include "qemu/osdep.h"
#include "xen-viommu-fake-mem.h"

/* Root table with one root entry for @bus and context table for it. */
typedef struct Ctx {
    uint64_t rt, ctp;
} Ctx;

static Ctx ctx_setup(Mem *m, uint8_t bus)
{
    Ctx c;

    c.rt = alloc_page(m);
    c.ctp = alloc_page(m);
    put64(m, c.rt + bus * 16, c.ctp | 1);
    return c;
}

static void put_ctx(Mem *m, Ctx *c, uint8_t devfn, uint64_t lo, uint64_t hi)
{
    put64(m, c->ctp + devfn * 16, lo);
    put64(m, c->ctp + devfn * 16 + 8, hi);
}

static int lookup(Mem *m, const XviWalkConfig *cfg, uint64_t rt, uint8_t bus,
                  uint8_t devfn, XviContextEntry *ce)
{
    return xvi_context_lookup(cfg, mem_read, m, rt, bus, devfn, ce);
}

static void test_context_ok(void)
{
    Mem m;
    Ctx c;
    XviContextEntry ce;
    uint64_t pt;
    unsigned aw;

    mem_init(&m);
    c = ctx_setup(&m, 3);
    pt = alloc_page(&m);
    for (aw = 1; aw <= 3; aw++) {
        put_ctx(&m, &c, 0x10 + aw, pt | 1, aw | (0x1234ULL << 8));
        g_assert_cmpint(lookup(&m, &cfg_all, c.rt, 3, 0x10 + aw, &ce), ==,
                        XVI_FR_NONE);
        g_assert_cmpuint(ce.tt, ==, 0);
        g_assert_cmpuint(ce.levels, ==, aw + 2);
        g_assert_cmpuint(ce.did, ==, 0x1234);
        g_assert_false(ce.fpd);
        g_assert_cmphex(ce.slptptr, ==, pt);
    }
    /* FPD, AVAIL (hi 6:3) ignored, RTADDR low bits ignored */
    put_ctx(&m, &c, 0xff, pt | 3, 2 | (0xf << 3) | (0xffffULL << 8));
    g_assert_cmpint(lookup(&m, &cfg_all, c.rt | 0xc00, 3, 0xff, &ce), ==,
                    XVI_FR_NONE);
    g_assert_true(ce.fpd);
    g_assert_cmpuint(ce.did, ==, 0xffff);
    g_assert_cmpuint(xvi_context_aw(&cfg_all, &ce), ==, 48);
    mem_fini(&m);
}

static void test_root_faults(void)
{
    static const uint64_t bad_lo[] = {
        BIT_ULL(1), BIT_ULL(11), BIT_ULL(46), BIT_ULL(51), BIT_ULL(52),
        BIT_ULL(63),
    };
    Mem m;
    Ctx c;
    XviContextEntry ce;
    unsigned i;

    mem_init(&m);
    c = ctx_setup(&m, 0);
    put_ctx(&m, &c, 8, alloc_page(&m) | 1, 1);

    /* Not present: other bits are not looked at */
    put64(&m, c.rt + 5 * 16, c.ctp | BIT_ULL(5));
    g_assert_cmpint(lookup(&m, &cfg_all, c.rt, 5, 8, &ce), ==,
                    XVI_FR_ROOT_NP);

    g_assert_cmpint(lookup(&m, &cfg_all, c.rt, 0, 8, &ce), ==, XVI_FR_NONE);
    for (i = 0; i < ARRAY_SIZE(bad_lo); i++) {
        put64(&m, c.rt, c.ctp | 1 | bad_lo[i]);
        g_assert_cmpint(lookup(&m, &cfg_all, c.rt, 0, 8, &ce), ==,
                        XVI_FR_ROOT_RSVD);
    }
    put64(&m, c.rt, c.ctp | 1);
    for (i = 0; i < 64; i += 21) {
        put64(&m, c.rt + 8, BIT_ULL(i));
        g_assert_cmpint(lookup(&m, &cfg_all, c.rt, 0, 8, &ce), ==,
                        XVI_FR_ROOT_RSVD);
    }
    put64(&m, c.rt + 8, 0);

    /* Table reads that fail */
    g_assert_cmpint(lookup(&m, &cfg_all, OUTSIDE, 0, 8, &ce), ==,
                    XVI_FR_ROOT_ACCESS);
    put64(&m, c.rt, OUTSIDE | 1);
    g_assert_cmpint(lookup(&m, &cfg_all, c.rt, 0, 8, &ce), ==,
                    XVI_FR_CTX_ACCESS);
    mem_fini(&m);
}

static void test_context_faults(void)
{
    static const uint64_t bad_lo[] = {
        BIT_ULL(4), BIT_ULL(11), BIT_ULL(46), BIT_ULL(51), BIT_ULL(63),
    };
    static const uint64_t bad_hi[] = {
        BIT_ULL(7), BIT_ULL(24), BIT_ULL(40), BIT_ULL(63),
    };
    XviWalkConfig cfg = cfg_all;
    Mem m;
    Ctx c;
    XviContextEntry ce;
    uint64_t pt;
    unsigned i;

    mem_init(&m);
    c = ctx_setup(&m, 0);
    pt = alloc_page(&m);

    /* Not present, yet FPD is reported */
    put_ctx(&m, &c, 1, pt | 2, 1);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==, XVI_FR_CTX_NP);
    g_assert_true(ce.fpd);
    put_ctx(&m, &c, 1, 0, 0);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==, XVI_FR_CTX_NP);
    g_assert_false(ce.fpd);

    for (i = 0; i < ARRAY_SIZE(bad_lo); i++) {
        put_ctx(&m, &c, 1, pt | 3 | bad_lo[i], 1);
        g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==,
                        XVI_FR_CTX_RSVD);
        g_assert_true(ce.fpd);
    }
    for (i = 0; i < ARRAY_SIZE(bad_hi); i++) {
        put_ctx(&m, &c, 1, pt | 1, 1 | bad_hi[i]);
        g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==,
                        XVI_FR_CTX_RSVD);
    }

    /* TT */
    put_ctx(&m, &c, 1, pt | 1 | (1 << 2), 1);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==,
                    XVI_FR_TT_BLOCKED);
    put_ctx(&m, &c, 1, pt | 1 | (3 << 2), 1);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==,
                    XVI_FR_CTX_INVALID);
    /* Pass-through: AW and SLPTPTR are ignored */
    put_ctx(&m, &c, 1, BIT_ULL(50) | 1 | (2 << 2), 7 | (9 << 8));
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==, XVI_FR_NONE);
    g_assert_cmpuint(ce.tt, ==, 2);
    g_assert_cmpuint(ce.did, ==, 9);
    cfg.pt_supported = false;
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==,
                    XVI_FR_CTX_INVALID);

    /* AW: 0 and 4..7 never valid; others only if in SAGAW */
    for (i = 0; i < 8; i++) {
        put_ctx(&m, &c, 1, pt | 1, i);
        g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==,
                        i >= 1 && i <= 3 ? XVI_FR_NONE : XVI_FR_CTX_INVALID);
    }
    cfg.sagaw = BIT(2);
    put_ctx(&m, &c, 1, pt | 1, 1);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==,
                    XVI_FR_CTX_INVALID);
    put_ctx(&m, &c, 1, pt | 1, 3);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==,
                    XVI_FR_CTX_INVALID);
    put_ctx(&m, &c, 1, pt | 1, 2);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==, XVI_FR_NONE);

    /* A narrower HAW makes more pointer bits reserved */
    cfg.haw = 39;
    put_ctx(&m, &c, 1, pt | BIT_ULL(40) | 1, 2);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==, XVI_FR_CTX_RSVD);
    put64(&m, c.rt, c.ctp | BIT_ULL(39) | 1);
    g_assert_cmpint(lookup(&m, &cfg, c.rt, 0, 1, &ce), ==, XVI_FR_ROOT_RSVD);
    mem_fini(&m);
}

static int walk(Mem *m, const XviWalkConfig *cfg, const XviContextEntry *ce,
                uint64_t iova, unsigned access, XviTranslation *t)
{
    memset(t, 0xaa, sizeof(*t));
    return xvi_sl_walk(cfg, mem_read, m, ce, iova, access, t);
}

static void test_walk_levels(void)
{
    unsigned levels;

    for (levels = 3; levels <= 5; levels++) {
        uint64_t iova = 0x12345678000ULL & MAKE_64BIT_MASK(0, 12 + 9 * levels);
        XviTranslation t;
        XviContextEntry ce;
        Mem m;
        uint64_t root;

        mem_init(&m);
        root = alloc_page(&m);
        ce = ml_ctx(root, levels);
        iova |= 1ULL << (shift_of(levels) + 8);   /* use the top index */
        map(&m, root, levels, iova, 0xabcdef000ULL, 1, PTE_RW);
        m.reads = 0;
        g_assert_cmpint(walk(&m, &cfg_all, &ce, iova | 0x123,
                             XVI_PERM_READ | XVI_PERM_WRITE, &t), ==,
                        XVI_FR_NONE);
        g_assert_cmpuint(m.reads, ==, levels);
        g_assert_cmphex(t.iova, ==, iova);
        g_assert_cmphex(t.gpa, ==, 0xabcdef000ULL);
        g_assert_cmphex(t.mask, ==, 0xfff);
        g_assert_cmpuint(t.perm, ==, XVI_PERM_READ | XVI_PERM_WRITE);
        g_assert_cmpuint(t.level, ==, 1);

        /* Neighbouring page is not mapped */
        g_assert_cmpint(walk(&m, &cfg_all, &ce, iova + 0x1000,
                             XVI_PERM_READ, &t), ==, XVI_FR_READ);
        mem_fini(&m);
    }
}

static void test_walk_superpages(void)
{
    XviWalkConfig cfg = cfg_all;
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root, e2m, e1g;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    e2m = map(&m, root, 4, 0x40200000ULL, 0x7fe00000ULL, 2, PTE_RW);
    e1g = map(&m, root, 4, 0x8000000000ULL, 0x3c0000000ULL, 3, PTE_R);

    g_assert_cmpint(walk(&m, &cfg, &ce, 0x40212345ULL, XVI_PERM_WRITE, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmphex(t.iova, ==, 0x40200000ULL);
    g_assert_cmphex(t.gpa, ==, 0x7fe00000ULL);
    g_assert_cmphex(t.mask, ==, SZ_2M - 1);
    g_assert_cmpuint(t.level, ==, 2);

    g_assert_cmpint(walk(&m, &cfg, &ce, 0x803fffffffULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmphex(t.iova, ==, 0x8000000000ULL);
    g_assert_cmphex(t.gpa, ==, 0x3c0000000ULL);
    g_assert_cmphex(t.mask, ==, SZ_1G - 1);
    g_assert_cmpuint(t.level, ==, 3);
    g_assert_cmpuint(t.perm, ==, XVI_PERM_READ);

    /* Address bits below the superpage size are reserved */
    put64(&m, e2m, 0x7fe00000ULL | BIT_ULL(12) | PTE_PS | PTE_RW);
    g_assert_cmpint(walk(&m, &cfg, &ce, 0x40200000ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_PTE_RSVD);
    put64(&m, e2m, 0x7fe00000ULL | PTE_PS | PTE_RW);
    put64(&m, e1g, 0x3c0000000ULL | BIT_ULL(29) | PTE_PS | PTE_R);
    g_assert_cmpint(walk(&m, &cfg, &ce, 0x8000000000ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_PTE_RSVD);
    put64(&m, e1g, 0x3c0000000ULL | PTE_PS | PTE_R);

    /* PS without CAP.SLLPS support is reserved */
    cfg.sp_2m = false;
    g_assert_cmpint(walk(&m, &cfg, &ce, 0x40200000ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_PTE_RSVD);
    g_assert_cmpint(walk(&m, &cfg, &ce, 0x8000000000ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    cfg.sp_2m = true;
    cfg.sp_1g = false;
    g_assert_cmpint(walk(&m, &cfg, &ce, 0x8000000000ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_PTE_RSVD);
    g_assert_cmpint(walk(&m, &cfg, &ce, 0x40200000ULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    mem_fini(&m);
}

static void test_walk_ps_wrong_level(void)
{
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root, leaf, e;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 5);
    leaf = map(&m, root, 5, 0x5000, 0x9000, 1, PTE_RW);

    /* Bit 7 of a 4 KiB PTE is ignored */
    put64(&m, leaf, 0x9000 | PTE_PS | PTE_RW);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x5000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    g_assert_cmpuint(t.level, ==, 1);

    /* PS in a PML5E or PML4E is reserved */
    e = slot(root, 5, 0);
    put64(&m, e, get64(&m, e) | PTE_PS);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x5000, XVI_PERM_READ, &t), ==,
                    XVI_FR_PTE_RSVD);
    put64(&m, e, get64(&m, e) & ~PTE_PS);
    e = slot(get64(&m, e) & ~0xfffULL, 4, 0);
    put64(&m, e, get64(&m, e) | PTE_PS);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x5000, XVI_PERM_READ, &t), ==,
                    XVI_FR_PTE_RSVD);
    put64(&m, e, get64(&m, e) & ~PTE_PS);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x5000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    mem_fini(&m);
}

static void test_walk_pte_rsvd(void)
{
    static const uint64_t bad[] = {
        BIT_ULL(11), BIT_ULL(62), BIT_ULL(46), BIT_ULL(51),
    };
    static const uint64_t ignored[] = {
        BIT_ULL(2), BIT_ULL(3), BIT_ULL(6), BIT_ULL(8), BIT_ULL(10),
        BIT_ULL(52), BIT_ULL(61), BIT_ULL(63),
    };
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root, leaf, nonleaf[3], v;
    Mem m;
    unsigned i, j;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    leaf = map(&m, root, 4, 0x7000, 0xa000, 1, PTE_RW);
    nonleaf[0] = slot(root, 4, 0);
    nonleaf[1] = slot(get64(&m, nonleaf[0]) & ~0xfffULL, 3, 0);
    nonleaf[2] = slot(get64(&m, nonleaf[1]) & ~0xfffULL, 2, 0);

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        for (j = 0; j < 4; j++) {
            uint64_t e = j < 3 ? nonleaf[j] : leaf;

            v = get64(&m, e);
            put64(&m, e, v | bad[i]);
            g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x7000, XVI_PERM_READ,
                                 &t), ==, XVI_FR_PTE_RSVD);
            put64(&m, e, v);
        }
    }
    /* Not present entries are not checked for reserved bits */
    put64(&m, leaf, 0xa000 | BIT_ULL(11) | BIT_ULL(62));
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x7000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_WRITE);

    for (i = 0; i < ARRAY_SIZE(ignored); i++) {
        for (j = 0; j < 4; j++) {
            uint64_t e = j < 3 ? nonleaf[j] : leaf;

            put64(&m, leaf, 0xa000 | PTE_RW);
            v = get64(&m, e);
            put64(&m, e, v | ignored[i]);
            g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x7000, XVI_PERM_READ,
                                 &t), ==, XVI_FR_NONE);
            g_assert_cmphex(t.gpa, ==, 0xa000);
            put64(&m, e, v);
        }
    }
    mem_fini(&m);
}

static void test_walk_perm(void)
{
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root, e;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 3);
    map(&m, root, 3, 0x1000, 0x11000, 1, PTE_R);
    map(&m, root, 3, 0x2000, 0x12000, 1, PTE_W);

    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_WRITE);
    /* The translation is still reported with a permission fault */
    g_assert_cmphex(t.gpa, ==, 0x11000);
    g_assert_cmpuint(t.perm, ==, XVI_PERM_READ);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x1000,
                         XVI_PERM_READ | XVI_PERM_WRITE, &t), ==,
                    XVI_FR_WRITE);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x2000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_NONE);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x2000, XVI_PERM_READ, &t), ==,
                    XVI_FR_READ);
    g_assert_cmphex(t.gpa, ==, 0x12000);

    /* Permissions are ANDed over the levels */
    e = slot(root, 3, 0);
    put64(&m, e, (get64(&m, e) & ~PTE_RW) | PTE_R);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x2000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_WRITE);
    g_assert_cmpuint(t.perm, ==, 0);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    mem_fini(&m);
}

static void test_walk_not_present(void)
{
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root, e;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    /* Empty top level */
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0, XVI_PERM_READ, &t), ==,
                    XVI_FR_READ);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_WRITE);
    /* Not-present intermediate entry (only X set) */
    map(&m, root, 4, 0x3000, 0x13000, 1, PTE_RW);
    e = slot(root, 4, 0);
    put64(&m, e, (get64(&m, e) & ~PTE_RW) | BIT_ULL(2));
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x3000,
                         XVI_PERM_READ | XVI_PERM_WRITE, &t), ==,
                    XVI_FR_WRITE);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x3000, XVI_PERM_READ, &t), ==,
                    XVI_FR_READ);
    mem_fini(&m);
}

/* The same walk in scalable mode reports the scalable-mode reasons */
static void test_walk_sm_faults(void)
{
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root, e;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    ce.sm = true;
    map(&m, root, 4, 0x1000, 0x11000, 1, PTE_R);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x1000, XVI_PERM_READ, &t), ==,
                    XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0x11000);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x1000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_SM_WRITE);
    map(&m, root, 4, 0x2000, 0x12000, 1, PTE_W);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x2000, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_READ);
    /* Not present, for reads and writes alike */
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x3000, XVI_PERM_READ, &t), ==,
                    XVI_FR_SL_SM_NP);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x3000, XVI_PERM_WRITE, &t), ==,
                    XVI_FR_SL_SM_NP);
    /* Reserved bit 11 (SNP) in the leaf */
    e = map(&m, root, 4, 0x4000, 0x14000, 1, PTE_RW | BIT_ULL(11));
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x4000, XVI_PERM_READ, &t), ==,
                    XVI_FR_SL_SM_RSVD);
    /* Lower table unreadable, then the SLPTPTR table itself */
    put64(&m, e, PTE_RW);
    put64(&m, slot(root, 4, 0), OUTSIDE | PTE_RW);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x4000, XVI_PERM_READ, &t), ==,
                    XVI_FR_SL_SM_ACCESS);
    ce.slptptr = OUTSIDE;
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x4000, XVI_PERM_READ, &t), ==,
                    XVI_FR_SL_SM_ROOT);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 1ULL << 48, XVI_PERM_READ, &t),
                    ==, XVI_FR_SM_BEYOND_AW);

    /* Output into the interrupt range */
    ce.slptptr = root = alloc_page(&m);
    map(&m, root, 4, 0x5000, 0xfee00000ULL, 1, PTE_RW);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x5000, XVI_PERM_READ, &t), ==,
                    XVI_FR_SM_INTR_ADDR);

    /* Pass-through beyond the width */
    ce.tt = XVI_TT_PASS_THROUGH;
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 1ULL << 57, XVI_PERM_READ, &t),
                    ==, XVI_FR_SM_BEYOND_AW);
    mem_fini(&m);
}

static void test_walk_beyond_aw(void)
{
    XviWalkConfig cfg = cfg_all;
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 3);
    map(&m, root, 3, 0x7ffffff000ULL, 0x1000, 1, PTE_RW);
    g_assert_cmpint(walk(&m, &cfg, &ce, 0x7fffffffffULL, XVI_PERM_READ, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmpint(walk(&m, &cfg, &ce, 1ULL << 39, XVI_PERM_READ, &t), ==,
                    XVI_FR_ADDR_BEYOND_AW);
    g_assert_cmpint(walk(&m, &cfg, &ce, UINT64_MAX, XVI_PERM_READ, &t), ==,
                    XVI_FR_ADDR_BEYOND_AW);

    /* MGAW narrower than the context's AGAW wins */
    ce = ml_ctx(root, 4);
    cfg.mgaw = 39;
    g_assert_cmpint(walk(&m, &cfg, &ce, 1ULL << 39, XVI_PERM_READ, &t), ==,
                    XVI_FR_ADDR_BEYOND_AW);
    cfg.mgaw = 48;
    g_assert_cmpint(walk(&m, &cfg, &ce, 1ULL << 39, XVI_PERM_READ, &t), ==,
                    XVI_FR_READ);
    g_assert_cmpint(walk(&m, &cfg, &ce, 1ULL << 48, XVI_PERM_READ, &t), ==,
                    XVI_FR_ADDR_BEYOND_AW);
    mem_fini(&m);
}

static void test_walk_pass_through(void)
{
    XviContextEntry ce = { .tt = 2 };
    XviWalkConfig cfg = cfg_all;
    XviTranslation t;
    Mem m;

    mem_init(&m);
    cfg.mgaw = 48;
    g_assert_cmpint(walk(&m, &cfg, &ce, 0x123456789ULL, XVI_PERM_WRITE, &t),
                    ==, XVI_FR_NONE);
    g_assert_cmphex(t.iova, ==, 0x123456000ULL);
    g_assert_cmphex(t.gpa, ==, 0x123456000ULL);
    g_assert_cmphex(t.mask, ==, 0xfff);
    g_assert_cmpuint(t.perm, ==, XVI_PERM_READ | XVI_PERM_WRITE);
    g_assert_cmpint(walk(&m, &cfg, &ce, 1ULL << 48, XVI_PERM_READ, &t), ==,
                    XVI_FR_ADDR_BEYOND_AW);
    g_assert_cmpuint(m.reads, ==, 0);

    /* Unusable contexts are refused, not walked */
    ce.tt = 1;
    g_assert_cmpint(walk(&m, &cfg, &ce, 0, XVI_PERM_READ, &t), ==,
                    XVI_FR_CTX_INVALID);
    ce.tt = 0;
    ce.levels = 6;
    g_assert_cmpint(walk(&m, &cfg, &ce, 0, XVI_PERM_READ, &t), ==,
                    XVI_FR_CTX_INVALID);
    g_assert_cmpuint(m.reads, ==, 0);
    mem_fini(&m);
}

static int count_leaf(void *opaque, const XviTranslation *t);

static void test_walk_access_fail(void)
{
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root, e;
    unsigned n = 0;
    Mem m;

    mem_init(&m);
    /* The table SLPTPTR points to: an invalid context entry (0x3) */
    ce = ml_ctx(OUTSIDE, 4);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0, XVI_PERM_READ, &t), ==,
                    XVI_FR_CTX_INVALID);
    g_assert_cmpint(xvi_sl_walk_range(&cfg_all, mem_read, &m, &ce, 0,
                                      UINT64_MAX, count_leaf, &n), ==,
                    -XVI_FR_CTX_INVALID);
    /* A table below it: a paging-entry access fault (0x7) */
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    map(&m, root, 4, 0x3000, 0x13000, 1, PTE_RW);
    e = slot(root, 4, 0);
    put64(&m, e, OUTSIDE | PTE_RW);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x3000, XVI_PERM_READ, &t), ==,
                    XVI_FR_PT_ACCESS);
    mem_fini(&m);
}

static int count_leaf(void *opaque, const XviTranslation *t)
{
    (*(unsigned *)opaque)++;
    return 0;
}

static void test_walk_self_reference(void)
{
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root;
    unsigned i, n = 0;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 5);
    /* Every entry of the only table points back at it */
    for (i = 0; i < 512; i++) {
        put64(&m, root + i * 8, root | PTE_RW);
    }
    m.reads = 0;
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x1234567890ULL, XVI_PERM_WRITE,
                         &t), ==, XVI_FR_NONE);
    g_assert_cmpuint(m.reads, ==, 5);
    g_assert_cmphex(t.gpa, ==, root);

    /* A range walk over 2 GiB: 2^19 leaves, all through the same table */
    g_assert_cmpint(xvi_sl_walk_range(&cfg_all, mem_read, &m, &ce, 0,
                                      2 * SZ_1G - 1, count_leaf, &n), ==, 0);
    g_assert_cmpuint(n, ==, 2 * SZ_1G / 4096);

    /* The whole space would be 2^45 leaves: the table budget stops it */
    n = 0;
    m.reads = 0;
    g_assert_cmpint(xvi_sl_walk_range(&cfg_all, mem_read, &m, &ce, 0,
                                      UINT64_MAX, count_leaf, &n), ==,
                    -XVI_FR_PT_ACCESS);
    g_assert_cmpuint(m.reads, ==, XVI_WALK_RANGE_MAX_TABLES);
    mem_fini(&m);
}

typedef struct Leaves {
    GArray *seen;
    unsigned stop_after;
} Leaves;

static int record_leaf(void *opaque, const XviTranslation *t)
{
    Leaves *l = opaque;

    g_array_append_val(l->seen, *t);
    return l->stop_after && l->seen->len == l->stop_after ? 42 : 0;
}

static int range(Mem *m, const XviContextEntry *ce, uint64_t start,
                 uint64_t end, Leaves *l)
{
    g_array_set_size(l->seen, 0);
    return xvi_sl_walk_range(&cfg_all, mem_read, m, ce, start, end,
                             record_leaf, l);
}

#define SEEN(l, i) (&g_array_index((l)->seen, XviTranslation, (i)))

static void test_walk_range(void)
{
    static const struct {
        uint64_t iova, gpa;
        unsigned level;
        uint64_t bits;
    } maps[] = {
        { 0x0, 0x20000, 1, PTE_RW },
        { 0x5000, 0x21000, 1, PTE_R },
        { 0x1ff000, 0x22000, 1, PTE_W },
        { 0x600000, 0x40000000, 2, PTE_RW },
        { 0x40000000, 0x80000000, 3, PTE_R },
        { 0x8000000000ULL, 0x23000, 1, PTE_RW },
        { 0xffffffff000ULL, 0x24000, 1, PTE_RW },
    };
    Leaves l = { .seen = g_array_new(false, false, sizeof(XviTranslation)) };
    XviContextEntry ce;
    uint64_t root, e;
    unsigned i;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    for (i = 0; i < ARRAY_SIZE(maps); i++) {
        map(&m, root, 4, maps[i].iova, maps[i].gpa, maps[i].level,
            maps[i].bits);
    }
    /* Present at every level but R-only above W-only: nothing gets through */
    map(&m, root, 4, 0x10000000000ULL, 0x25000, 1, PTE_W);
    e = slot(root, 4, 0x10000000000ULL);
    put64(&m, e, (get64(&m, e) & ~PTE_RW) | PTE_R);

    g_assert_cmpint(range(&m, &ce, 0, UINT64_MAX, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, ARRAY_SIZE(maps));
    for (i = 0; i < ARRAY_SIZE(maps); i++) {
        XviTranslation *t = SEEN(&l, i);

        g_assert_cmphex(t->iova, ==, maps[i].iova);
        g_assert_cmphex(t->gpa, ==, maps[i].gpa);
        g_assert_cmpuint(t->level, ==, maps[i].level);
        g_assert_cmphex(t->mask, ==, (1ULL << shift_of(maps[i].level)) - 1);
        g_assert_cmpuint(t->perm, ==, maps[i].bits);
    }

    /* Partial ranges; superpages overlapping the edge are reported whole */
    g_assert_cmpint(range(&m, &ce, 0x1000, 0x1ff000, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, 2);
    g_assert_cmphex(SEEN(&l, 0)->iova, ==, 0x5000);
    g_assert_cmphex(SEEN(&l, 1)->iova, ==, 0x1ff000);
    g_assert_cmpint(range(&m, &ce, 0x7fffff, 0x40000000, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, 2);
    g_assert_cmphex(SEEN(&l, 0)->iova, ==, 0x600000);
    g_assert_cmphex(SEEN(&l, 1)->iova, ==, 0x40000000);
    g_assert_cmpint(range(&m, &ce, 0x7fffffffULL, 0x7fffffffULL, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, 1);
    g_assert_cmphex(SEEN(&l, 0)->iova, ==, 0x40000000);
    g_assert_cmpint(range(&m, &ce, 0x1000, 0x4fff, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, 0);
    g_assert_cmpint(range(&m, &ce, 0x6000, 0x5000, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, 0);
    /* Beyond the 48-bit AGAW there is nothing */
    g_assert_cmpint(range(&m, &ce, 1ULL << 48, UINT64_MAX, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, 0);

    /* The callback stops the walk */
    l.stop_after = 3;
    g_assert_cmpint(range(&m, &ce, 0, UINT64_MAX, &l), ==, 42);
    g_assert_cmpuint(l.seen->len, ==, 3);
    l.stop_after = 0;

    /* Faults: reserved bit, unreadable table */
    e = slot(root, 4, 0x8000000000ULL);
    put64(&m, e, get64(&m, e) | BIT_ULL(62));
    g_assert_cmpint(range(&m, &ce, 0, UINT64_MAX, &l), ==, -XVI_FR_PTE_RSVD);
    g_assert_cmpint(range(&m, &ce, 0, 0x7fffffffffULL, &l), ==, 0);
    put64(&m, e, OUTSIDE | PTE_RW);
    g_assert_cmpint(range(&m, &ce, 0x8000000000ULL, UINT64_MAX, &l), ==,
                    -XVI_FR_PT_ACCESS);

    ce.tt = 2;
    g_assert_cmpint(range(&m, &ce, 0, UINT64_MAX, &l), ==,
                    -XVI_FR_CTX_INVALID);
    g_array_free(l.seen, true);
    mem_fini(&m);
}

/*
 * Nothing translates into the interrupt address range (VT-d 3.15): such
 * accesses fault with 0xE; a superpage that overlaps the range only in part
 * translates its other pages as 4 KiB pages.
 */
static void test_walk_intr_range(void)
{
    static const struct {
        uint64_t gpa;
        int fault;
    } pages[] = {
        { 0xfedff000ULL, XVI_FR_NONE }, { 0xfee00000ULL, XVI_FR_INTR_ADDR },
        { 0xfee80000ULL, XVI_FR_INTR_ADDR },
        { 0xfeeff000ULL, XVI_FR_INTR_ADDR }, { 0xfef00000ULL, XVI_FR_NONE },
    };
    XviTranslation t;
    XviContextEntry ce;
    uint64_t root;
    unsigned i;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    for (i = 0; i < ARRAY_SIZE(pages); i++) {
        uint64_t iova = 0x100000 + i * 0x1000;

        map(&m, root, 4, iova, pages[i].gpa, 1, PTE_RW);
        g_assert_cmpint(walk(&m, &cfg_all, &ce, iova + 0x40, XVI_PERM_WRITE,
                             &t), ==, pages[i].fault);
        g_assert_cmpint(walk(&m, &cfg_all, &ce, iova, XVI_PERM_READ, &t), ==,
                        pages[i].fault);
    }

    /* 2 MiB page at 0xfee00000: its first half is the interrupt range */
    map(&m, root, 4, 0x40000000ULL, 0xfee00000ULL, 2, PTE_RW);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x40001000ULL, XVI_PERM_WRITE,
                         &t), ==, XVI_FR_INTR_ADDR);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x40105123ULL, XVI_PERM_WRITE,
                         &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.iova, ==, 0x40105000ULL);
    g_assert_cmphex(t.gpa, ==, 0xfef05000ULL);
    g_assert_cmphex(t.mask, ==, 0xfff);
    g_assert_cmpuint(t.level, ==, 1);

    /* 1 GiB page over 0xc0000000-0xffffffff */
    map(&m, root, 4, 0x80000000ULL, 0xc0000000ULL, 3, PTE_R);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x80000000ULL + 0x3ee00000ULL,
                         XVI_PERM_READ, &t), ==, XVI_FR_INTR_ADDR);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x80001000ULL, XVI_PERM_READ,
                         &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.gpa, ==, 0xc0001000ULL);
    g_assert_cmphex(t.mask, ==, 0xfff);
    /* A permission fault is still the permission fault */
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x80001000ULL, XVI_PERM_WRITE,
                         &t), ==, XVI_FR_WRITE);
    /* A superpage clear of the range is untouched */
    map(&m, root, 4, 0x40200000ULL, 0xfe000000ULL, 2, PTE_RW);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, 0x40200000ULL, XVI_PERM_READ,
                         &t), ==, XVI_FR_NONE);
    g_assert_cmphex(t.mask, ==, SZ_2M - 1);
    mem_fini(&m);
}

/* The range walk (PV-IOMMU mirror) reports nothing in the interrupt range */
static void test_walk_range_intr(void)
{
    Leaves l = { .seen = g_array_new(false, false, sizeof(XviTranslation)) };
    uint64_t root, total = 0;
    XviContextEntry ce;
    unsigned i, n4k = 0, n2m = 0;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    map(&m, root, 4, 0x1000, 0xfee01000ULL, 1, PTE_RW);
    map(&m, root, 4, 0x40000000ULL, 0xc0000000ULL, 3, PTE_RW);
    g_assert_cmpint(range(&m, &ce, 0, UINT64_MAX, &l), ==, 0);
    for (i = 0; i < l.seen->len; i++) {
        XviTranslation *t = SEEN(&l, i);

        g_assert_true(t->gpa + t->mask < 0xfee00000ULL ||
                      t->gpa > 0xfeefffffULL);
        g_assert_cmphex(t->gpa - 0xc0000000ULL, ==, t->iova - 0x40000000ULL);
        g_assert_cmpuint(t->perm, ==, XVI_PERM_READ | XVI_PERM_WRITE);
        n4k += t->level == 1;
        n2m += t->level == 2;
        total += t->mask + 1;
    }
    g_assert_cmpuint(n2m, ==, 511);
    g_assert_cmpuint(n4k, ==, 256);
    g_assert_cmphex(total, ==, SZ_1G - 0x100000ULL);
    g_array_free(l.seen, true);
    mem_fini(&m);
}

/* 5 levels: the top index and the 57-bit clamp */
static void test_walk_range_5level(void)
{
    Leaves l = { .seen = g_array_new(false, false, sizeof(XviTranslation)) };
    XviContextEntry ce;
    uint64_t root, top = (1ULL << 57) - 0x1000;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 5);
    map(&m, root, 5, top, 0x30000, 1, PTE_RW);
    map(&m, root, 5, 0, 0x31000, 1, PTE_RW);
    g_assert_cmpint(range(&m, &ce, 0, UINT64_MAX, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, 2);
    g_assert_cmphex(SEEN(&l, 1)->iova, ==, top);
    g_assert_cmpint(range(&m, &ce, top + 0xfff, UINT64_MAX, &l), ==, 0);
    g_assert_cmpuint(l.seen->len, ==, 1);
    g_array_free(l.seen, true);
    mem_fini(&m);
}

/* A cached leaf table: one read, the same answer as the whole walk */
static void test_walk_cached(void)
{
    const uint64_t a = 0x40000000ULL + 3 * SZ_2M + 0x7000;
    XviTranslation t, full;
    XviLeafTable lt, ro;
    XviContextEntry ce, pt = { .tt = XVI_TT_PASS_THROUGH };
    uint64_t root, leaf;
    Mem m;

    mem_init(&m);
    root = alloc_page(&m);
    ce = ml_ctx(root, 4);
    leaf = map(&m, root, 4, a, 0x11000, 1, PTE_RW);
    map(&m, root, 4, a + 0x5000, 0x12000, 1, PTE_R);
    map(&m, root, 4, a + SZ_2M, 0x13000, 1, PTE_RW);
    map(&m, root, 4, 0x80000000ULL, 0x400000, 2, PTE_RW);

    /* A full walk reports the leaf table it went through */
    m.reads = 0;
    g_assert_cmpint(xvi_sl_walk_cached(&cfg_all, mem_read, &m, &ce, a,
                                       XVI_PERM_WRITE, NULL, &lt, &t), ==,
                    XVI_FR_NONE);
    g_assert_cmpuint(m.reads, ==, 4);
    g_assert_true(lt.found);
    g_assert_cmphex(lt.table, ==, leaf & ~0xfffULL);
    g_assert_cmpuint(lt.perm, ==, XVI_PERM_READ | XVI_PERM_WRITE);

    /* From it: one read, as the whole walk says, faults included */
    m.reads = 0;
    g_assert_cmpint(xvi_sl_walk_cached(&cfg_all, mem_read, &m, &ce,
                                       a + 0x5000, XVI_PERM_WRITE, &lt, NULL,
                                       &t), ==, XVI_FR_WRITE);
    g_assert_cmpuint(m.reads, ==, 1);
    g_assert_cmpint(walk(&m, &cfg_all, &ce, a + 0x5000, XVI_PERM_WRITE,
                         &full), ==, XVI_FR_WRITE);
    g_assert_cmphex(t.gpa, ==, full.gpa);
    g_assert_cmphex(t.iova, ==, full.iova);
    g_assert_cmpuint(t.perm, ==, full.perm);
    g_assert_cmpint(xvi_sl_walk_cached(&cfg_all, mem_read, &m, &ce,
                                       a + 0x1000, XVI_PERM_READ, &lt, NULL,
                                       &t), ==, XVI_FR_READ);

    /* What the levels above allowed comes from the cached entry */
    ro = lt;
    ro.perm = XVI_PERM_READ;
    g_assert_cmpint(xvi_sl_walk_cached(&cfg_all, mem_read, &m, &ce, a,
                                       XVI_PERM_WRITE, &ro, NULL, &t), ==,
                    XVI_FR_WRITE);
    g_assert_cmpuint(t.perm, ==, XVI_PERM_READ);

    /* No leaf table: a superpage, a fault above level 1, pass-through */
    g_assert_cmpint(xvi_sl_walk_cached(&cfg_all, mem_read, &m, &ce,
                                       0x80000000ULL, XVI_PERM_READ, NULL,
                                       &lt, &t), ==, XVI_FR_NONE);
    g_assert_false(lt.found);
    g_assert_cmpint(xvi_sl_walk_cached(&cfg_all, mem_read, &m, &ce,
                                       1ULL << 40, XVI_PERM_READ, NULL, &lt,
                                       &t), ==, XVI_FR_READ);
    g_assert_false(lt.found);
    g_assert_cmpint(xvi_sl_walk_cached(&cfg_all, mem_read, &m, &pt, a,
                                       XVI_PERM_READ, NULL, &lt, &t), ==,
                    XVI_FR_NONE);
    g_assert_false(lt.found);
    mem_fini(&m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xen-viommu/walk/context-ok", test_context_ok);
    g_test_add_func("/xen-viommu/walk/root-faults", test_root_faults);
    g_test_add_func("/xen-viommu/walk/context-faults", test_context_faults);
    g_test_add_func("/xen-viommu/walk/levels", test_walk_levels);
    g_test_add_func("/xen-viommu/walk/superpages", test_walk_superpages);
    g_test_add_func("/xen-viommu/walk/ps-wrong-level",
                    test_walk_ps_wrong_level);
    g_test_add_func("/xen-viommu/walk/pte-rsvd", test_walk_pte_rsvd);
    g_test_add_func("/xen-viommu/walk/perm", test_walk_perm);
    g_test_add_func("/xen-viommu/walk/not-present", test_walk_not_present);
    g_test_add_func("/xen-viommu/walk/beyond-aw", test_walk_beyond_aw);
    g_test_add_func("/xen-viommu/walk/sm-faults", test_walk_sm_faults);
    g_test_add_func("/xen-viommu/walk/pass-through", test_walk_pass_through);
    g_test_add_func("/xen-viommu/walk/access-fail", test_walk_access_fail);
    g_test_add_func("/xen-viommu/walk/self-reference",
                    test_walk_self_reference);
    g_test_add_func("/xen-viommu/walk/range", test_walk_range);
    g_test_add_func("/xen-viommu/walk/range-5level", test_walk_range_5level);
    g_test_add_func("/xen-viommu/walk/intr-range", test_walk_intr_range);
    g_test_add_func("/xen-viommu/walk/range-intr", test_walk_range_intr);
    g_test_add_func("/xen-viommu/walk/cached", test_walk_cached);
    return g_test_run();
}
