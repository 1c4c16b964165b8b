/*
 * xen-viommu: unit tests for the domain-tagged LRU IOTLB
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/i386/xen_viommu_iotlb.h"

#define SZ_4K 0x1000ULL
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL

static XviTranslation tr(uint64_t iova, uint64_t gpa, unsigned level,
                         uint8_t perm)
{
    XviTranslation t = {
        .iova = iova, .gpa = gpa, .level = level, .perm = perm,
        .mask = (SZ_4K << (9 * (level - 1))) - 1,
    };
    return t;
}

static void insert(XviIotlb *tlb, uint16_t did, uint64_t iova,
                   uint64_t gpa, unsigned level)
{
    XviTranslation t = tr(iova, gpa, level, XVI_PERM_READ);

    xvi_iotlb_insert(tlb, did, &t);
}

static bool has(XviIotlb *tlb, uint16_t did, uint64_t iova)
{
    XviTranslation t;

    return xvi_iotlb_lookup(tlb, did, iova, &t);
}

static void test_hit_miss(void)
{
    XviIotlb *tlb = xvi_iotlb_new(16);
    XviTranslation t = tr(0x5000, 0x9000, 1, XVI_PERM_WRITE), out;
    XviIotlbStats st;

    g_assert_false(xvi_iotlb_lookup(tlb, 1, 0x5000, &out));
    xvi_iotlb_insert(tlb, 1, &t);
    g_assert_true(xvi_iotlb_lookup(tlb, 1, 0x5abc, &out));
    g_assert_cmphex(out.iova, ==, 0x5000);
    g_assert_cmphex(out.gpa, ==, 0x9000);
    g_assert_cmphex(out.mask, ==, 0xfff);
    g_assert_cmpuint(out.perm, ==, XVI_PERM_WRITE);
    g_assert_cmpuint(out.level, ==, 1);
    /* Other domain, other page */
    g_assert_false(xvi_iotlb_lookup(tlb, 2, 0x5000, &out));
    g_assert_false(xvi_iotlb_lookup(tlb, 1, 0x6000, &out));
    g_assert_false(xvi_iotlb_lookup(tlb, 1, 0x4fff, &out));

    /* Re-inserting the same page replaces it */
    t.gpa = 0xa000;
    t.perm = XVI_PERM_READ;
    xvi_iotlb_insert(tlb, 1, &t);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 1);
    g_assert_true(xvi_iotlb_lookup(tlb, 1, 0x5000, &out));
    g_assert_cmphex(out.gpa, ==, 0xa000);
    g_assert_cmpuint(out.perm, ==, XVI_PERM_READ);

    /* Domain 0 is a domain like any other; bad levels are ignored */
    insert(tlb, 0, 0x5000, 0x1000, 1);
    g_assert_true(has(tlb, 0, 0x5000));
    t.level = 4;
    xvi_iotlb_insert(tlb, 3, &t);
    t.level = 0;
    xvi_iotlb_insert(tlb, 3, &t);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 2);

    xvi_iotlb_get_stats(tlb, &st);
    g_assert_cmpuint(st.hits, ==, 3);
    g_assert_cmpuint(st.misses, ==, 4);
    g_assert_cmpuint(st.inserts, ==, 3);
    g_assert_cmpuint(st.evictions, ==, 0);
    xvi_iotlb_reset_stats(tlb);
    xvi_iotlb_get_stats(tlb, &st);
    g_assert_cmpuint(st.hits + st.misses + st.inserts, ==, 0);
    xvi_iotlb_free(tlb);
}

static void test_superpage(void)
{
    XviIotlb *tlb = xvi_iotlb_new(16);
    XviTranslation out;

    insert(tlb, 7, 0x40200000ULL, 0x7fe00000ULL, 2);
    insert(tlb, 7, 0x8000000000ULL, 0x3c0000000ULL, 3);
    /* Unaligned insert is aligned down to the page size */
    insert(tlb, 7, 0x80654321ULL, 0x100654321ULL, 2);

    g_assert_true(xvi_iotlb_lookup(tlb, 7, 0x403fffffULL, &out));
    g_assert_cmphex(out.iova, ==, 0x40200000ULL);
    g_assert_cmphex(out.gpa, ==, 0x7fe00000ULL);
    g_assert_cmphex(out.mask, ==, SZ_2M - 1);
    g_assert_false(xvi_iotlb_lookup(tlb, 7, 0x40400000ULL, &out));
    g_assert_true(xvi_iotlb_lookup(tlb, 7, 0x803fffffffULL, &out));
    g_assert_cmphex(out.gpa, ==, 0x3c0000000ULL);
    g_assert_cmpuint(out.level, ==, 3);
    g_assert_true(xvi_iotlb_lookup(tlb, 7, 0x80600000ULL, &out));
    g_assert_cmphex(out.iova, ==, 0x80600000ULL);
    g_assert_cmphex(out.gpa, ==, 0x100600000ULL);

    /* A 4K entry inside a superpage is found first */
    insert(tlb, 7, 0x40201000ULL, 0x5000, 1);
    g_assert_true(xvi_iotlb_lookup(tlb, 7, 0x40201000ULL, &out));
    g_assert_cmpuint(out.level, ==, 1);
    g_assert_true(xvi_iotlb_lookup(tlb, 7, 0x40202000ULL, &out));
    g_assert_cmpuint(out.level, ==, 2);
    xvi_iotlb_free(tlb);
}

static void test_lru_eviction(void)
{
    const unsigned cap = 64;
    XviIotlb *tlb = xvi_iotlb_new(cap);
    XviIotlbStats st;
    unsigned i;

    for (i = 0; i < cap; i++) {
        insert(tlb, 1 + i % 3, i * SZ_4K, i * SZ_4K, 1);
    }
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, cap);
    /* Touch entry 0 so that entry 1 becomes the oldest */
    g_assert_true(has(tlb, 1, 0));
    insert(tlb, 9, 0x1000000, 0, 1);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, cap);
    g_assert_true(has(tlb, 1, 0));
    g_assert_false(has(tlb, 2, SZ_4K));
    g_assert_true(has(tlb, 3, 2 * SZ_4K));

    /* Many more: the newest cap entries survive, one eviction each */
    for (i = 0; i < 3 * cap; i++) {
        insert(tlb, 5, SZ_2M * i, 0, 2);
    }
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, cap);
    for (i = 0; i < 3 * cap; i++) {
        g_assert(has(tlb, 5, SZ_2M * i) == (i >= 2 * cap));
    }
    for (i = 0; i < cap; i++) {
        g_assert_false(has(tlb, 1 + i % 3, i * SZ_4K));
    }
    xvi_iotlb_get_stats(tlb, &st);
    g_assert_cmpuint(st.evictions, ==, 3 * cap + 1);
    g_assert_cmpuint(st.flushed, ==, 0);

    /* Evicting a domain's last entries leaves nothing behind for it */
    xvi_iotlb_flush_domain(tlb, 1);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, cap);
    xvi_iotlb_flush_all(tlb);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 0);
    xvi_iotlb_free(tlb);

    /* Capacity 1 and 0 */
    tlb = xvi_iotlb_new(1);
    insert(tlb, 1, 0, 0, 1);
    insert(tlb, 1, SZ_4K, 0, 1);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 1);
    g_assert_true(has(tlb, 1, SZ_4K));
    xvi_iotlb_free(tlb);
    tlb = xvi_iotlb_new(0);
    insert(tlb, 1, 0, 0, 1);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 0);
    g_assert_false(has(tlb, 1, 0));
    xvi_iotlb_free(tlb);
}

static void test_flush_domain(void)
{
    XviIotlb *tlb = xvi_iotlb_new(100);
    XviIotlbStats st;
    unsigned i;

    for (i = 0; i < 30; i++) {
        insert(tlb, i % 3, i * SZ_4K, 0, 1);
    }
    insert(tlb, 1, SZ_1G, 0, 3);
    xvi_iotlb_flush_domain(tlb, 1);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 20);
    for (i = 0; i < 30; i++) {
        g_assert(has(tlb, i % 3, i * SZ_4K) == (i % 3 != 1));
    }
    g_assert_false(has(tlb, 1, SZ_1G));
    xvi_iotlb_get_stats(tlb, &st);
    g_assert_cmpuint(st.flushed, ==, 11);

    /* The domain can be filled again after its flush */
    insert(tlb, 1, SZ_4K, 0, 1);
    g_assert_true(has(tlb, 1, SZ_4K));
    xvi_iotlb_flush_domain(tlb, 4);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 21);
    xvi_iotlb_flush_all(tlb);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 0);
    g_assert_false(has(tlb, 0, 0));
    xvi_iotlb_free(tlb);
}

static void fill_mixed(XviIotlb *tlb)
{
    insert(tlb, 1, 0x0, 0, 1);
    insert(tlb, 1, 0x3000, 0, 1);
    insert(tlb, 1, 0x4000, 0, 1);
    insert(tlb, 1, 0x200000, 0, 2);     /* 2M at 2M */
    insert(tlb, 1, SZ_1G, 0, 3);        /* 1G at 1G */
    insert(tlb, 2, 0x3000, 0, 1);       /* other domain */
}

static void test_flush_pages(void)
{
    XviIotlb *tlb = xvi_iotlb_new(100);

    fill_mixed(tlb);
    /* am=2: 16 KiB at 0x0 (addr aligned down): drops 0x0 and 0x3000 */
    xvi_iotlb_flush_pages(tlb, 1, 0x2000, 2);
    g_assert_false(has(tlb, 1, 0x0));
    g_assert_false(has(tlb, 1, 0x3000));
    g_assert_true(has(tlb, 1, 0x4000));
    g_assert_true(has(tlb, 2, 0x3000));
    g_assert_true(has(tlb, 1, 0x200000));
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 4);

    /* One 4K page inside a superpage drops the superpage */
    xvi_iotlb_flush_pages(tlb, 1, 0x234000, 0);
    g_assert_false(has(tlb, 1, 0x200000));
    xvi_iotlb_flush_pages(tlb, 1, SZ_1G + SZ_2M * 7, 9);
    g_assert_false(has(tlb, 1, SZ_1G));
    g_assert_true(has(tlb, 1, 0x4000));
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 2);

    /* A range containing the superpage, and am beyond the address space */
    fill_mixed(tlb);
    xvi_iotlb_flush_pages(tlb, 1, 0, 19);       /* 2 GiB at 0 */
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 1);
    g_assert_true(has(tlb, 2, 0x3000));
    fill_mixed(tlb);
    xvi_iotlb_flush_pages(tlb, 1, 0x1234, 63);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 1);
    /* Top of the address space: no wrap-around (scan, then probing) */
    insert(tlb, 1, UINT64_MAX & ~(SZ_1G - 1), 0, 3);
    insert(tlb, 1, 0, 0, 1);
    xvi_iotlb_flush_pages(tlb, 1, UINT64_MAX, 0);
    g_assert_true(has(tlb, 1, 0));
    g_assert_false(has(tlb, 1, UINT64_MAX));
    insert(tlb, 1, UINT64_MAX & ~(SZ_1G - 1), 0, 3);
    insert(tlb, 1, UINT64_MAX & ~(SZ_4K - 1), 0, 1);
    insert(tlb, 1, 0x1000, 0, 1);
    insert(tlb, 1, 0x2000, 0, 1);
    xvi_iotlb_flush_pages(tlb, 1, UINT64_MAX, 0);
    g_assert_false(has(tlb, 1, UINT64_MAX));
    g_assert_false(has(tlb, 1, UINT64_MAX & ~(SZ_1G - 1)));
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 4);
    xvi_iotlb_free(tlb);
}

/* Both strategies of flush_pages: domain scan and range probing */
static void test_flush_pages_cost(void)
{
    XviIotlb *tlb = xvi_iotlb_new(4096);
    XviIotlbStats st;
    unsigned i;

    /* Few entries, huge range: scans the 3 entries, not 2^30 pages */
    insert(tlb, 1, 0x1000, 0, 1);
    insert(tlb, 1, SZ_1G * 5, 0, 3);
    insert(tlb, 1, 1ULL << 42, 0, 1);
    insert(tlb, 2, 0x1000, 0, 1);
    xvi_iotlb_reset_stats(tlb);
    xvi_iotlb_flush_pages(tlb, 1, 0, 30);
    xvi_iotlb_get_stats(tlb, &st);
    g_assert_cmpuint(st.flushed, ==, 2);
    g_assert_cmpuint(st.flush_probes, <=, 3);
    g_assert_true(has(tlb, 1, 1ULL << 42));
    g_assert_true(has(tlb, 2, 0x1000));

    /* Many entries, small range: probes a few slots, not 4000 entries */
    for (i = 0; i < 4000; i++) {
        insert(tlb, 3, i * SZ_4K, 0, 1);
    }
    insert(tlb, 3, SZ_2M * 100, 0, 2);
    xvi_iotlb_reset_stats(tlb);
    xvi_iotlb_flush_pages(tlb, 3, 0x10000, 2);
    xvi_iotlb_get_stats(tlb, &st);
    g_assert_cmpuint(st.flushed, ==, 4);
    g_assert_cmpuint(st.flush_probes, <=, 5);
    g_assert_false(has(tlb, 3, 0x13000));
    g_assert_true(has(tlb, 3, 0x14000));
    g_assert_true(has(tlb, 3, 0xf000));

    xvi_iotlb_reset_stats(tlb);
    xvi_iotlb_flush_pages(tlb, 3, SZ_2M * 100 + 0x5000, 0);
    xvi_iotlb_get_stats(tlb, &st);
    g_assert_cmpuint(st.flushed, ==, 1);
    g_assert_cmpuint(st.flush_probes, <=, 2);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 2 + 4000 - 4);
    xvi_iotlb_free(tlb);
}

/*
 * Random operations against a reference model: whatever the LRU evicts, a
 * hit must always return a translation the model still holds, i.e. one
 * that was inserted and not flushed since.
 */
typedef struct ModelEntry {
    uint16_t did;
    uint8_t level;
    uint64_t iova;
    uint64_t gpa;
    uint8_t perm;
    bool live;
} ModelEntry;

#define MODEL_MAX 4096

static ModelEntry *model_find(ModelEntry *m, unsigned n, uint16_t did,
                              unsigned level, uint64_t iova)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (m[i].live && m[i].did == did && m[i].level == level &&
            m[i].iova == iova) {
            return &m[i];
        }
    }
    return NULL;
}

static void test_random_model(void)
{
    ModelEntry *m = g_new0(ModelEntry, MODEL_MAX);
    XviIotlb *tlb = xvi_iotlb_new(16);
    GRand *rnd = g_rand_new_with_seed(1234);
    unsigned n = 0, op;

    for (op = 0; op < 200000; op++) {
        unsigned r = g_rand_int_range(rnd, 0, 100);
        uint16_t did = g_rand_int_range(rnd, 1, 4);
        unsigned level = g_rand_int_range(rnd, 0, 10) ? 1 : 2;
        uint64_t span = level == 1 ? SZ_4K : SZ_2M;
        uint64_t iova = 0xff000000ULL +
                        (uint64_t)g_rand_int_range(rnd, 0, 64) * SZ_4K;
        XviTranslation t;

        iova &= ~(span - 1);
        if (r < 45) {
            ModelEntry *e = model_find(m, n, did, level, iova);
            uint8_t perm = g_rand_int_range(rnd, 1, 4);
            uint64_t gpa = (uint64_t)g_rand_int_range(rnd, 1, 1 << 20) * span;

            for (unsigned i = 0; !e && i < n; i++) {
                e = m[i].live ? NULL : &m[i];
            }
            if (!e) {
                g_assert_cmpuint(n, <, MODEL_MAX);
                e = &m[n++];
            }
            *e = (ModelEntry) { did, level, iova, gpa, perm, true };
            t = tr(iova, gpa, level, perm);
            xvi_iotlb_insert(tlb, did, &t);
        } else if (r < 85) {
            uint64_t a = 0xff000000ULL +
                         (uint64_t)g_rand_int_range(rnd, 0, 64) * SZ_4K;

            if (xvi_iotlb_lookup(tlb, did, a, &t)) {
                ModelEntry *e = model_find(m, n, did, t.level, t.iova);

                g_assert_nonnull(e);
                g_assert_cmphex(e->gpa, ==, t.gpa);
                g_assert_cmpuint(e->perm, ==, t.perm);
                g_assert_cmphex(a & ~t.mask, ==, t.iova);
            }
        } else if (r < 97) {
            unsigned am = g_rand_int_range(rnd, 0, 12);
            uint64_t a = 0xff000000ULL +
                         (uint64_t)g_rand_int_range(rnd, 0, 64) * SZ_4K;
            uint64_t first = a & ~((SZ_4K << am) - 1);
            uint64_t last = first + (SZ_4K << am) - 1;
            unsigned i;

            xvi_iotlb_flush_pages(tlb, did, a, am);
            for (i = 0; i < n; i++) {
                uint64_t sz = m[i].level == 1 ? SZ_4K : SZ_2M;

                if (m[i].live && m[i].did == did && m[i].iova <= last &&
                    m[i].iova + sz - 1 >= first) {
                    m[i].live = false;
                }
            }
        } else if (r < 99) {
            unsigned i;

            xvi_iotlb_flush_domain(tlb, did);
            for (i = 0; i < n; i++) {
                if (m[i].did == did) {
                    m[i].live = false;
                }
            }
        } else {
            unsigned i;

            xvi_iotlb_flush_all(tlb);
            g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 0);
            for (i = 0; i < n; i++) {
                m[i].live = false;
            }
        }
        g_assert_cmpuint(xvi_iotlb_count(tlb), <=, 16);
    }
    g_rand_free(rnd);
    xvi_iotlb_free(tlb);
    g_free(m);
}

/* Leaf-table cache: keyed by domain, tables and 2 MiB region */
static bool has_table(XviIotlb *tlb, uint16_t did, uint64_t root,
                      uint64_t iova, uint64_t want)
{
    XviLeafTable lt = { 0 };

    if (!xvi_iotlb_lookup_table(tlb, did, root, iova, &lt)) {
        return false;
    }
    g_assert_cmphex(lt.table, ==, want);
    return true;
}

static void test_leaf_tables(void)
{
    const uint64_t root = 0x100000 | 4;
    XviIotlb *tlb = xvi_iotlb_new(4096), *none = xvi_iotlb_new(0);
    XviLeafTable lt = { .table = 0x7000, .perm = XVI_PERM_READ }, out;
    XviIotlbStats st;
    unsigned i;

    g_assert_false(has_table(tlb, 1, root, SZ_2M * 3, 0));
    xvi_iotlb_insert_table(tlb, 1, root, SZ_2M * 3 + 0x5000, &lt);
    g_assert_true(xvi_iotlb_lookup_table(tlb, 1, root, SZ_2M * 4 - 1, &out));
    g_assert_cmphex(out.table, ==, 0x7000);
    g_assert_cmpuint(out.perm, ==, XVI_PERM_READ);
    /* Another region, domain, table root or depth: not that entry */
    g_assert_false(has_table(tlb, 1, root, SZ_2M * 4, 0));
    g_assert_false(has_table(tlb, 2, root, SZ_2M * 3, 0));
    g_assert_false(has_table(tlb, 1, 0x200000 | 4, SZ_2M * 3, 0));
    g_assert_false(has_table(tlb, 1, 0x100000 | 3, SZ_2M * 3, 0));
    xvi_iotlb_get_stats(tlb, &st);
    g_assert_cmpuint(st.table_hits, ==, 1);

    /* A page flush in the region drops it, though no IOTLB entry exists */
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 0);
    xvi_iotlb_flush_pages(tlb, 1, SZ_2M * 3 + 0x1ff000, 0);
    g_assert_false(has_table(tlb, 1, root, SZ_2M * 3, 0));

    /* ... only its own domain's, and only the regions of its range */
    lt.table = 0x8000;
    xvi_iotlb_insert_table(tlb, 1, root, SZ_2M * 3, &lt);
    xvi_iotlb_insert_table(tlb, 1, root, SZ_2M * 5, &lt);
    xvi_iotlb_flush_pages(tlb, 2, SZ_2M * 3, 0);
    xvi_iotlb_flush_pages(tlb, 1, SZ_2M * 4, 9);
    g_assert_true(has_table(tlb, 1, root, SZ_2M * 3, 0x8000));
    g_assert_true(has_table(tlb, 1, root, SZ_2M * 5, 0x8000));
    /* 4 MiB at 4 MiB: regions 2 and 3 */
    xvi_iotlb_flush_pages(tlb, 1, SZ_2M * 2, 10);
    g_assert_false(has_table(tlb, 1, root, SZ_2M * 3, 0));
    g_assert_true(has_table(tlb, 1, root, SZ_2M * 5, 0x8000));
    /* A range wider than the slot scan drops everything */
    xvi_iotlb_flush_pages(tlb, 1, 1ULL << 40, 30);
    g_assert_false(has_table(tlb, 1, root, SZ_2M * 5, 0));

    /* Domain and global flushes drop them, with or without IOTLB entries */
    for (i = 0; i < 3; i++) {
        xvi_iotlb_insert_table(tlb, 7, root, SZ_2M * i, &lt);
    }
    insert(tlb, 7, 0x1000, 0x2000, 1);
    xvi_iotlb_flush_domain(tlb, 9);
    for (i = 0; i < 3; i++) {
        g_assert_false(has_table(tlb, 7, root, SZ_2M * i, 0));
    }
    xvi_iotlb_insert_table(tlb, 7, root, 0, &lt);
    xvi_iotlb_flush_all(tlb);
    g_assert_false(has_table(tlb, 7, root, 0, 0));

    /* Replaced in place: a later insert for the region wins */
    xvi_iotlb_insert_table(tlb, 7, root, 0, &lt);
    lt.table = 0x9000;
    xvi_iotlb_insert_table(tlb, 7, root, 0x1000, &lt);
    g_assert_true(has_table(tlb, 7, root, 0, 0x9000));

    /* A cache of capacity 0 holds nothing */
    xvi_iotlb_insert_table(none, 1, root, 0, &lt);
    g_assert_false(has_table(none, 1, root, 0, 0));
    xvi_iotlb_flush_pages(none, 1, 0, 0);
    xvi_iotlb_flush_all(none);
    xvi_iotlb_free(none);
    xvi_iotlb_free(tlb);
}

/* The generation moves with every flush, found something or not */
static void test_gen(void)
{
    XviIotlb *tlb = xvi_iotlb_new(16);
    uint32_t g = xvi_iotlb_gen(tlb);

    g_assert_cmpuint(g, !=, 0);
    insert(tlb, 1, 0x1000, 0x2000, 1);
    g_assert_true(has(tlb, 1, 0x1000));
    g_assert_cmpuint(xvi_iotlb_gen(tlb), ==, g);
    xvi_iotlb_flush_pages(tlb, 9, 0x1000, 0);
    g_assert_cmpuint(xvi_iotlb_gen(tlb), !=, g);
    g = xvi_iotlb_gen(tlb);
    xvi_iotlb_flush_domain(tlb, 9);
    g_assert_cmpuint(xvi_iotlb_gen(tlb), !=, g);
    g = xvi_iotlb_gen(tlb);
    xvi_iotlb_flush_pasid(tlb, 9, 1, 0, 52);
    g_assert_cmpuint(xvi_iotlb_gen(tlb), !=, g);
    g = xvi_iotlb_gen(tlb);
    xvi_iotlb_flush_all(tlb);
    g_assert_cmpuint(xvi_iotlb_gen(tlb), !=, g);
    xvi_iotlb_free(tlb);
}

/* Scalable mode: (did, PASID) tags, flushes of one PASID or all of them */
static bool has_pasid(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                      uint64_t iova, uint64_t *gpa)
{
    XviTranslation t;

    if (!xvi_iotlb_lookup_pasid(tlb, did, pasid, iova, &t)) {
        return false;
    }
    *gpa = t.gpa;
    return true;
}

static void insert_pasid(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                         uint64_t iova, uint64_t gpa, unsigned level)
{
    XviTranslation t = tr(iova, gpa, level, XVI_PERM_READ);

    xvi_iotlb_insert_pasid(tlb, did, pasid, &t);
}

static void test_pasid_tags(void)
{
    XviIotlb *tlb = xvi_iotlb_new(64);
    uint64_t gpa = 0;
    uint32_t p;

    for (p = 0; p < 3; p++) {
        insert_pasid(tlb, 1, p * 0x7ffff, 0x5000, 0x10000 * (p + 1), 1);
        insert_pasid(tlb, 1, p * 0x7ffff, 0x6000, 0x20000 * (p + 1), 1);
    }
    insert_pasid(tlb, 2, 0x7ffff, 0x5000, 0x99000, 1);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 7);
    for (p = 0; p < 3; p++) {
        g_assert_true(has_pasid(tlb, 1, p * 0x7ffff, 0x5000, &gpa));
        g_assert_cmphex(gpa, ==, 0x10000 * (p + 1));
    }
    /* The legacy calls are PASID 0 */
    g_assert_true(has(tlb, 1, 0x5000));
    g_assert_false(has_pasid(tlb, 1, 5, 0x5000, &gpa));

    /* One page of one PASID */
    xvi_iotlb_flush_pasid(tlb, 1, 0x7ffff, 0x5000, 0);
    g_assert_false(has_pasid(tlb, 1, 0x7ffff, 0x5000, &gpa));
    g_assert_true(has_pasid(tlb, 1, 0x7ffff, 0x6000, &gpa));
    g_assert_true(has_pasid(tlb, 1, 0, 0x5000, &gpa));
    g_assert_true(has_pasid(tlb, 1, 0xffffe, 0x5000, &gpa));
    g_assert_true(has_pasid(tlb, 2, 0x7ffff, 0x5000, &gpa));
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 6);

    /* All of one PASID */
    xvi_iotlb_flush_pasid(tlb, 1, 0xffffe, 0, 64);
    g_assert_false(has_pasid(tlb, 1, 0xffffe, 0x5000, &gpa));
    g_assert_false(has_pasid(tlb, 1, 0xffffe, 0x6000, &gpa));
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 4);

    /* A page flush of the domain covers every PASID, not other domains */
    insert_pasid(tlb, 1, 0xffffe, 0x6000, 0x1000, 1);
    xvi_iotlb_flush_pages(tlb, 1, 0x6000, 0);
    g_assert_false(has_pasid(tlb, 1, 0, 0x6000, &gpa));
    g_assert_false(has_pasid(tlb, 1, 0x7ffff, 0x6000, &gpa));
    g_assert_false(has_pasid(tlb, 1, 0xffffe, 0x6000, &gpa));
    g_assert_true(has_pasid(tlb, 1, 0, 0x5000, &gpa));
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 2);

    /* A domain flush covers every PASID */
    xvi_iotlb_flush_domain(tlb, 1);
    g_assert_cmpuint(xvi_iotlb_count(tlb), ==, 1);
    g_assert_true(has_pasid(tlb, 2, 0x7ffff, 0x5000, &gpa));
    xvi_iotlb_free(tlb);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xen-viommu/iotlb/hit-miss", test_hit_miss);
    g_test_add_func("/xen-viommu/iotlb/random-model", test_random_model);
    g_test_add_func("/xen-viommu/iotlb/superpage", test_superpage);
    g_test_add_func("/xen-viommu/iotlb/lru-eviction", test_lru_eviction);
    g_test_add_func("/xen-viommu/iotlb/flush-domain", test_flush_domain);
    g_test_add_func("/xen-viommu/iotlb/flush-pages", test_flush_pages);
    g_test_add_func("/xen-viommu/iotlb/flush-pages-cost",
                    test_flush_pages_cost);
    g_test_add_func("/xen-viommu/iotlb/leaf-tables", test_leaf_tables);
    g_test_add_func("/xen-viommu/iotlb/gen", test_gen);
    g_test_add_func("/xen-viommu/iotlb/pasid-tags", test_pasid_tags);
    return g_test_run();
}
