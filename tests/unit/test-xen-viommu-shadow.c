/*
 * xen-viommu: unit tests for the shadow IO page tables (PV-IOMMU mirror)
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Guest tables in a fake guest memory (xen-viommu-fake-mem.h), the
 * hypervisor double behind the wrappers: what a passthrough device would
 * reach is asked of the double (xen_viommu_hyp_double_translate), and the
 * wrappers' counters show how many calls a sync made.
 */

#include "qemu/osdep.h"
#include "xen-viommu-fake-mem.h"
#include "hw/i386/xen_viommu_shadow.h"

#define DEV_SBDF        0x0300u         /* machine 0000:03:00.0 */
#define RAM_SIZE        (256 * 1024 * 1024ULL)
#define RAM_PAGES       (RAM_SIZE >> 12)

typedef struct Fixture {
    Mem m;
    XenViommuHyp *h;
    uint16_t ctx;
    uint64_t root;
    XviContextEntry ce;
    XviShadow *sh;
    XviShadowResult res;
} Fixture;

static void fx_init(Fixture *f, uint32_t pool_pages)
{
    static const uint32_t sbdfs[] = { DEV_SBDF };
    XenViommuHypDoubleConfig cfg = {
        .pv_iommu = true,
        .pv_max_ctx = 4,
        .pv_pool_pages = pool_pages,
        .ram_size = RAM_SIZE,
        .sbdfs = sbdfs,
        .nr_sbdfs = 1,
    };

    memset(f, 0, sizeof(*f));
    mem_init(&f->m);
    f->h = xen_viommu_hyp_new_double(&cfg);
    g_assert(xen_viommu_hyp_caps(f->h)->pv_iommu);
    g_assert_cmpint(xen_viommu_hyp_pv_init(f->h, 4, 20), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(f->h, 0, &f->ctx), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_pv_reattach_device(f->h, f->ctx, DEV_SBDF),
                    ==, 0);
    f->root = alloc_page(&f->m);
    f->ce = ml_ctx(f->root, 4);
    f->sh = xvi_shadow_new(f->h, f->ctx);
}

static void fx_fini(Fixture *f)
{
    xvi_shadow_free(f->sh);
    xen_viommu_hyp_free(f->h);
    mem_fini(&f->m);
}

static int fx_sync(Fixture *f, uint64_t start, uint64_t end)
{
    return xvi_shadow_sync(f->sh, &cfg_all, mem_read, &f->m, &f->ce, start,
                           end, &f->res);
}

static int fx_sync_all(Fixture *f)
{
    return fx_sync(f, 0, UINT64_MAX);
}

/* The guest unmaps everything: its top-level table emptied */
static void fx_empty_root(Fixture *f)
{
    unsigned i;

    for (i = 0; i < 512; i++) {
        put64(&f->m, f->root + i * 8, 0);
    }
}

/* The gfn the passthrough device reaches at @iova, or -1 when it faults */
static int64_t dev_sees(Fixture *f, uint64_t iova)
{
    uint64_t gfn;

    if (xen_viommu_hyp_double_translate(f->h, DEV_SBDF, iova >> 12, &gfn)) {
        return -1;
    }
    return gfn;
}

static uint64_t double_mappings(Fixture *f)
{
    XenViommuHypDoubleStats st;

    g_assert_cmpint(xen_viommu_hyp_double_get_stats(f->h, &st), ==, 0);
    return st.pv_mappings;
}

static XenViommuHypOpStats op_stats(Fixture *f, XenViommuHypOp op)
{
    return xen_viommu_hyp_get_stats(f->h, op);
}

static void test_mirror_and_diff(void)
{
    Fixture f;
    uint64_t leaf;
    unsigned i;

    fx_init(&f, 1 << 16);
    /* Eight pages contiguous in iova and gpa, then two scattered ones */
    for (i = 0; i < 8; i++) {
        map(&f.m, f.root, 4, 0x10000 + i * 0x1000, 0x200000 + i * 0x1000, 1,
            PTE_RW);
    }
    map(&f.m, f.root, 4, 0x40000, 0x900000, 1, PTE_R);
    leaf = map(&f.m, f.root, 4, 0x7f0000000ULL, 0x345000, 1, PTE_W);

    g_assert_cmpint(fx_sync_all(&f), ==, 0);
    g_assert_cmpuint(f.res.mapped, ==, 10);
    g_assert_cmpuint(f.res.map_runs, ==, 3);
    g_assert_cmpuint(f.res.unmap_runs, ==, 0);
    g_assert_cmpuint(f.res.calls, ==, 1);
    for (i = 0; i < 8; i++) {
        g_assert_cmpint(dev_sees(&f, 0x10000 + i * 0x1000 + 0x123), ==,
                        0x200 + i);
    }
    g_assert_cmpint(dev_sees(&f, 0x40000), ==, 0x900);
    g_assert_cmpint(dev_sees(&f, 0x7f0000000ULL), ==, 0x345);
    g_assert_cmpint(dev_sees(&f, 0x18000), ==, -1);
    g_assert_cmpint(dev_sees(&f, 0), ==, -1);
    g_assert_cmpuint(double_mappings(&f), ==, 10);
    g_assert_cmpuint(xvi_shadow_pages(f.sh), ==, 10);

    /* Nothing changed: no hypervisor call at all */
    g_assert_cmpint(fx_sync_all(&f), ==, 0);
    g_assert_cmpuint(f.res.calls, ==, 0);

    /* A changed page: unmapped, mapped again with the new gfn */
    put64(&f.m, leaf, 0x346000 | PTE_RW);
    g_assert_cmpint(fx_sync(&f, 0x7f0000000ULL, 0x7f0000fffULL), ==, 0);
    g_assert_cmpuint(f.res.unmap_runs, ==, 1);
    g_assert_cmpuint(f.res.map_runs, ==, 1);
    g_assert_cmpint(dev_sees(&f, 0x7f0000000ULL), ==, 0x346);

    /* A cleared page is unmapped; a sync of another range leaves it be */
    put64(&f.m, leaf, 0);
    g_assert_cmpint(fx_sync(&f, 0, 0xfffff), ==, 0);
    g_assert_cmpint(dev_sees(&f, 0x7f0000000ULL), ==, 0x346);
    g_assert_cmpint(fx_sync(&f, 0x7f0000000ULL, 0x7f0000fffULL), ==, 0);
    g_assert_cmpuint(f.res.unmapped, ==, 1);
    g_assert_cmpint(dev_sees(&f, 0x7f0000000ULL), ==, -1);
    g_assert_cmpuint(double_mappings(&f), ==, 9);

    /* The tables emptied: nothing left in the hypervisor, two runs */
    fx_empty_root(&f);
    g_assert_cmpint(fx_sync_all(&f), ==, 0);
    g_assert_cmpuint(f.res.unmap_runs, ==, 2);
    g_assert_cmpuint(double_mappings(&f), ==, 0);
    g_assert_cmpuint(xvi_shadow_pages(f.sh), ==, 0);
    fx_fini(&f);
}

/* Contiguous pages are one operation, whatever preempts */
static void test_batching(void)
{
    XenViommuHypOpStats before, after;
    Fixture f;
    unsigned i;

    fx_init(&f, 1 << 16);
    for (i = 0; i < 1000; i++) {
        map(&f.m, f.root, 4, 0x1000000 + i * 0x1000ULL,
            0x4000000 + i * 0x1000ULL, 1, PTE_RW);
    }
    before = op_stats(&f, XEN_VIOMMU_HYP_OP_PV_MAP_PAGES);
    g_assert_cmpint(fx_sync(&f, 0x1000000, 0x1000000 + 1000 * 0x1000 - 1), ==,
                    0);
    after = op_stats(&f, XEN_VIOMMU_HYP_OP_PV_MAP_PAGES);
    g_assert_cmpuint(f.res.map_runs, ==, 1);
    /* The double preempts every 256 pages: four invocations */
    g_assert_cmpuint(after.hypercalls - before.hypercalls, ==, 4);
    g_assert_cmpuint(after.items - before.items, ==, 1000);
    g_assert_cmpint(dev_sees(&f, 0x1000000 + 999 * 0x1000ULL), ==,
                    0x4000 + 999);

    /* A 2 MiB superpage is 512 pages in one call */
    map(&f.m, f.root, 4, 0x40000000, 0x8000000, 2, PTE_R);
    g_assert_cmpint(fx_sync(&f, 0x40000000, 0x401fffff), ==, 0);
    g_assert_cmpuint(f.res.map_runs, ==, 1);
    g_assert_cmpuint(f.res.mapped, ==, 512);
    g_assert_cmpint(dev_sees(&f, 0x401ff000), ==, 0x8000 + 511);

    /* Unmapping the 1000 pages: one call */
    for (i = 0; i < 1000; i++) {
        put64(&f.m, map(&f.m, f.root, 4, 0x1000000 + i * 0x1000ULL, 0, 1, 0),
              0);
    }
    g_assert_cmpint(fx_sync(&f, 0x1000000, 0x1000000 + 1000 * 0x1000 - 1), ==,
                    0);
    g_assert_cmpuint(f.res.unmap_runs, ==, 1);
    g_assert_cmpuint(f.res.unmapped, ==, 1000);
    g_assert_cmpuint(double_mappings(&f), ==, 512);
    fx_fini(&f);
}

/* The hypervisor's pool runs out: what fits is mapped, the rest reported */
/*
 * Scattered pages, and a change that unmaps and maps: one multicall per
 * sync (runs beyond XEN_VIOMMU_PV_MULTI_MAX take more)
 */
static void test_one_multicall(void)
{
    XenViommuHypOpStats mc0, mc1;
    Fixture f;
    unsigned i;

    fx_init(&f, 1 << 16);
    for (i = 0; i < 300; i++) {
        map(&f.m, f.root, 4, 0x100000 + i * 0x1000ULL,
            0x800000 + ((i * 37) % 300) * 0x1000ULL, 1, PTE_RW);
    }
    mc0 = op_stats(&f, XEN_VIOMMU_HYP_OP_PV_MULTICALL);
    g_assert_cmpint(fx_sync_all(&f), ==, 0);
    mc1 = op_stats(&f, XEN_VIOMMU_HYP_OP_PV_MULTICALL);
    g_assert_cmpuint(f.res.map_runs, ==, 300);
    g_assert_cmpuint(f.res.calls, ==, 1);
    g_assert_cmpuint(mc1.calls - mc0.calls, ==, 1);
    g_assert_cmpuint(mc1.hypercalls - mc0.hypercalls, ==, 1);
    g_assert_cmpuint(op_stats(&f, XEN_VIOMMU_HYP_OP_PV_MAP_PAGES).hypercalls,
                     ==, 0);
    for (i = 0; i < 300; i++) {
        g_assert_cmpint(dev_sees(&f, 0x100000 + i * 0x1000ULL), ==,
                        0x800 + (i * 37) % 300);
    }

    /* Every other page moved: 150 unmaps and 150 maps, one multicall */
    for (i = 0; i < 300; i += 2) {
        map(&f.m, f.root, 4, 0x100000 + i * 0x1000ULL,
            0x900000 + i * 0x1000ULL, 1, PTE_R);
    }
    g_assert_cmpint(fx_sync_all(&f), ==, 0);
    mc0 = op_stats(&f, XEN_VIOMMU_HYP_OP_PV_MULTICALL);
    g_assert_cmpuint(f.res.unmap_runs, ==, 150);
    g_assert_cmpuint(f.res.map_runs, ==, 150);
    g_assert_cmpuint(mc0.hypercalls - mc1.hypercalls, ==, 1);
    g_assert_cmpint(dev_sees(&f, 0x100000), ==, 0x900);
    g_assert_cmpint(dev_sees(&f, 0x101000), ==, 0x800 + 37);

    /* 1024 scattered pages: ceil(1024 / XEN_VIOMMU_PV_MULTI_MAX) */
    for (i = 0; i < 1024; i++) {
        map(&f.m, f.root, 4, 0x10000000 + i * 0x1000ULL,
            0x2000000 + ((i * 37) % 1024) * 0x1000ULL, 1, PTE_RW);
    }
    g_assert_cmpint(fx_sync(&f, 0x10000000, 0x10000000 + 1024 * 0x1000 - 1),
                    ==, 0);
    mc1 = op_stats(&f, XEN_VIOMMU_HYP_OP_PV_MULTICALL);
    g_assert_cmpuint(mc1.hypercalls - mc0.hypercalls, ==,
                     DIV_ROUND_UP(1024, XEN_VIOMMU_PV_MULTI_MAX));
    g_assert_cmpuint(double_mappings(&f), ==, 1324);
    fx_fini(&f);
}

static void test_pool_exhausted(void)
{
    Fixture f;
    unsigned i;

    fx_init(&f, 16);
    for (i = 0; i < 20; i++) {
        map(&f.m, f.root, 4, 0x100000 + i * 0x1000ULL,
            0x300000 + i * 0x1000ULL, 1, PTE_RW);
    }
    g_assert_cmpint(fx_sync_all(&f), ==, -1);
    g_assert_cmpint(f.res.error, ==, XVI_SHADOW_POOL);
    g_assert_cmpint(f.res.errno_val, ==, -ENOMEM);
    g_assert_cmphex(f.res.addr, ==, 0x100000 + 16 * 0x1000);
    g_assert_cmpuint(f.res.mapped, ==, 16);
    g_assert_cmpint(dev_sees(&f, 0x100000 + 15 * 0x1000), ==, 0x300 + 15);
    g_assert_cmpint(dev_sees(&f, 0x100000 + 16 * 0x1000), ==, -1);
    g_assert_cmpuint(xvi_shadow_pages(f.sh), ==, 16);

    /* Freed room is used by the next sync */
    put64(&f.m, map(&f.m, f.root, 4, 0x100000, 0, 1, 0), 0);
    g_assert_cmpint(fx_sync_all(&f), ==, -1);
    g_assert_cmpuint(f.res.unmapped, ==, 1);
    g_assert_cmpuint(f.res.mapped, ==, 1);
    g_assert_cmpint(dev_sees(&f, 0x100000 + 16 * 0x1000), ==, 0x300 + 16);
    fx_fini(&f);
}

/* A gfn outside the guest's RAM is refused; the rest is still mirrored */
static void test_not_owned(void)
{
    Fixture f;

    fx_init(&f, 1 << 16);
    map(&f.m, f.root, 4, 0x1000, RAM_SIZE + 0x5000, 1, PTE_RW);
    map(&f.m, f.root, 4, 0x3000, 0x5000, 1, PTE_RW);
    g_assert_cmpint(fx_sync_all(&f), ==, -1);
    g_assert_cmpint(f.res.error, ==, XVI_SHADOW_NOT_OWNED);
    g_assert_cmphex(f.res.addr, ==, 0x1000);
    g_assert_cmpint(dev_sees(&f, 0x1000), ==, -1);
    g_assert_cmpint(dev_sees(&f, 0x3000), ==, 5);
    fx_fini(&f);
}

/* Bad tables: the device keeps what was read before the bad entry, no more */
static void test_bad_tables(void)
{
    Fixture f;
    uint64_t leaf;
    unsigned i;

    fx_init(&f, 1 << 16);
    map(&f.m, f.root, 4, 0x1000, 0x11000, 1, PTE_RW);
    leaf = map(&f.m, f.root, 4, 0x200000, 0x12000, 1, PTE_RW);
    g_assert_cmpint(fx_sync_all(&f), ==, 0);
    g_assert_cmpint(dev_sees(&f, 0x200000), ==, 0x12);

    /* A reserved bit (bit 62) in the second page's entry */
    put64(&f.m, leaf, 0x12000 | PTE_RW | BIT_ULL(62));
    g_assert_cmpint(fx_sync_all(&f), ==, -1);
    g_assert_cmpint(f.res.error, ==, XVI_SHADOW_TABLES);
    g_assert_cmpint(f.res.fault, ==, XVI_FR_PTE_RSVD);
    g_assert_cmpint(dev_sees(&f, 0x1000), ==, 0x11);
    g_assert_cmpint(dev_sees(&f, 0x200000), ==, -1);

    /* Self-referencing tables: bounded work, nothing beyond the budget */
    for (i = 0; i < 512; i++) {
        put64(&f.m, f.root + i * 8, f.root | PTE_RW);
    }
    g_assert_cmpint(fx_sync_all(&f), ==, -1);
    g_assert(f.res.error == XVI_SHADOW_TABLES ||
             f.res.error == XVI_SHADOW_TOO_MANY);
    g_assert_cmpuint(xvi_shadow_pages(f.sh), <=, XVI_SHADOW_MAX_PAGES);
    g_assert_cmpuint(double_mappings(&f), ==, xvi_shadow_pages(f.sh));
    fx_empty_root(&f);
    g_assert_cmpint(fx_sync_all(&f), ==, 0);
    g_assert_cmpuint(double_mappings(&f), ==, 0);
    fx_fini(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xen-viommu/shadow/mirror-and-diff",
                    test_mirror_and_diff);
    g_test_add_func("/xen-viommu/shadow/batching", test_batching);
    g_test_add_func("/xen-viommu/shadow/one-multicall", test_one_multicall);
    g_test_add_func("/xen-viommu/shadow/pool-exhausted", test_pool_exhausted);
    g_test_add_func("/xen-viommu/shadow/not-owned", test_not_owned);
    g_test_add_func("/xen-viommu/shadow/bad-tables", test_bad_tables);
    return g_test_run();
}
