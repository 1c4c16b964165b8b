/*
 * Benchmarks of the DMA-remapping unit itself (make bench-unit): the same
 * workloads on no IOMMU, QEMU's intel-iommu and xen-viommu, driven through
 * the x-xen-viommu-dma-loadgen device, which times its own work inside
 * QEMU (so no qtest round trip is in the figures)
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Both units get the same VT-d legacy-mode root, context and second-level
 * tables (4-level, 4 KiB and 2 MiB pages) and the same interrupt remapping
 * table, programmed through their registers as a driver would (ECAP.IRO
 * gives each unit's IOTLB register offset).  Every figure is printed as
 *   bench WORKLOAD CONFIG V1 V2 ...
 * one value (ns per operation, or a count) per run; scripts/bench.py
 * takes medians and ratios.  This measures; it asserts only that the work
 * was done (no failed DMA where everything is mapped), never a time.
 *
 * Environment: XVI_BENCH_UNIT_RUNS (5), XVI_BENCH_UNIT_SCALE (100, percent
 * of the default operation counts), XVI_BENCH_UNIT_CONFIGS (none,intel,xen),
 * XVI_BENCH_UNIT_QEMU_B (another QEMU binary: its xen-viommu runs too, as
 * "xen-viommu-b", to compare two versions of the model in one run).
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"

/* Unit registers (same offsets on both, except the IOTLB pair) */
#define BASE        0xfed90000ULL
#define ECAP        0x10
#define GCMD        0x18
#define GSTS        0x1c
#define RTADDR      0x20
#define CCMD        0x28
#define FSTS        0x34
#define IQH         0x80
#define IQT         0x88
#define IQA         0x90
#define IRTA        0xb8
#define GCMD_TE     (1U << 31)
#define GCMD_SRTP   (1U << 30)
#define GCMD_QIE    (1U << 26)
#define GCMD_IRE    (1U << 25)
#define GCMD_SIRTP  (1U << 24)
#define IOTLB_IVT   (1ULL << 63)
#define IIRG_GLOBAL (1ULL << 60)
#define IIRG_DOMAIN (2ULL << 60)
#define IIRG_PAGE   (3ULL << 60)

/* Loadgen registers (hw/i386/xen_viommu_dma_loadgen.c) */
#define LG_ID       0x00
#define LG_BASE     0x08
#define LG_PAGES    0x10
#define LG_PATTERN  0x18
#define LG_STRIDE   0x20
#define LG_SEED     0x28
#define LG_SIZE     0x30
#define LG_COUNT    0x38
#define LG_ALIAS    0x40
#define LG_DATA     0x48
#define LG_A        0x50
#define LG_AVAL     0x58
#define LG_AMASK    0x60
#define LG_B        0x68
#define LG_BVAL     0x70
#define LG_C        0x78
#define LG_GO       0x80
#define LG_TIME_NS  0x88
#define LG_FAILS    0x90
#define LG_SEQ      0
#define LG_RANDOM   2
#define OP_READ     1
#define OP_MSI      3
#define OP_INTX     4
#define OP_MMIO     5

/* Guest RAM (-m 1024) */
#define ROOT_GPA    0x01000000ULL
#define CTX_GPA     0x01001000ULL
#define PML4_GPA    0x01002000ULL
#define PDPT_GPA    0x01003000ULL
#define PD4K_GPA    0x01004000ULL      /* 4 tables */
#define PD2M_GPA    0x01008000ULL      /* 4 tables */
#define PT_GPA      0x02000000ULL      /* 2048 tables, 8 MiB */
#define IRT_GPA     0x03000000ULL
#define QUEUE_GPA   0x04000000ULL      /* QS 7: 32768 descriptors */
#define STATUS_GPA  0x04800000ULL
#define DATA_GPA    0x10000000ULL      /* ALIAS pages of data */
#define ALIAS       65536ULL           /* 256 MiB */
#define QUEUE_LEN   32768

/* IOVA ranges: 1 Mi pages each, one with 4 KiB and one with 2 MiB pages */
#define MAX_PAGES   (1ULL << 20)
#define IOVA_4K     0x100000000ULL     /* PDPT entries 4..7 */
#define IOVA_2M     0x1000000000ULL    /* PDPT entries 64..67 */

#define PTE_RW      3ULL
#define PTE_PS      (1ULL << 7)
#define IRT_ENTRIES 4096            /* the MSIs' handles */
#define IOAPIC_IRTE 4096            /* the IO-APIC's, after them */
#define VECTOR      0x40
#define LG_SLOT     4
#define MAX_DEVS    64

typedef enum { CFG_NONE, CFG_INTEL, CFG_XEN } Cfg;
static const char *const cfg_name[] = { "none", "intel-iommu", "xen-viommu" };

typedef struct Env {
    QTestState *qts;
    QPCIBus *bus;
    Cfg cfg;
    const char *name;       /* config column */
    unsigned ndev;
    QPCIDevice *dev[MAX_DEVS];
    QPCIBar bar[MAX_DEVS];
    uint64_t iva, iotlb;    /* this unit's IOTLB register pair */
    uint32_t gcmd;
    uint32_t iq_tail;
} Env;

static unsigned runs = 5;
static const char *qemu_b;
static unsigned scale = 100;
static char *only_configs;

static uint64_t scaled(uint64_t n)
{
    return MAX(n * scale / 100, 1);
}

/* Unit registers */
static void wr32(Env *e, uint64_t off, uint32_t v)
{
    qtest_writel(e->qts, BASE + off, v);
}

static uint32_t rd32(Env *e, uint64_t off)
{
    return qtest_readl(e->qts, BASE + off);
}

static void wr64(Env *e, uint64_t off, uint64_t v)
{
    qtest_writeq(e->qts, BASE + off, v);
}

static uint64_t rd64(Env *e, uint64_t off)
{
    return qtest_readq(e->qts, BASE + off);
}

/* Loadgen @d registers */
static void lg_set(Env *e, unsigned d, uint64_t reg, uint64_t v)
{
    qpci_io_writeq(e->dev[d], e->bar[d], reg, v);
}

static uint64_t lg_get(Env *e, unsigned d, uint64_t reg)
{
    return qpci_io_readq(e->dev[d], e->bar[d], reg);
}

/* Run @op on loadgen @d; host ns it took; fails through @fails */
static uint64_t lg_go(Env *e, unsigned d, uint64_t op, uint64_t *fails)
{
    lg_set(e, d, LG_GO, op);
    if (fails) {
        *fails = lg_get(e, d, LG_FAILS);
    }
    return lg_get(e, d, LG_TIME_NS);
}

/* DMA-read workload on @d: @count accesses of @size over @pages pages */
static void lg_dma_setup(Env *e, unsigned d, uint64_t iova, uint64_t pages,
                         unsigned pattern, uint64_t size, uint64_t count)
{
    bool direct = e->cfg == CFG_NONE;

    lg_set(e, d, LG_BASE, direct ? DATA_GPA : iova);
    lg_set(e, d, LG_ALIAS, direct ? ALIAS : 0);
    lg_set(e, d, LG_PAGES, pages);
    lg_set(e, d, LG_PATTERN, pattern);
    lg_set(e, d, LG_SEED, 0x5eed);
    lg_set(e, d, LG_SIZE, size);
    lg_set(e, d, LG_COUNT, count);
}

static double dma_run(Env *e, unsigned d, uint64_t count)
{
    uint64_t fails, ns = lg_go(e, d, OP_READ, &fails);

    g_assert_cmpuint(fails, ==, 0);
    return (double)ns / count;
}

static void report(const char *work, Env *e, const double *v, unsigned n)
{
    unsigned i;

    printf("bench %s %s", work, e->name);
    for (i = 0; i < n; i++) {
        printf(" %.1f", v[i]);
    }
    printf("\n");
    fflush(stdout);
}

/* Tables ------------------------------------------------------------------- */

static void put_table(Env *e, uint64_t gpa, const uint64_t *ent, size_t n)
{
    g_autofree uint64_t *le = g_new(uint64_t, n);
    size_t i;

    for (i = 0; i < n; i++) {
        le[i] = cpu_to_le64(ent[i]);
    }
    qtest_bufwrite(e->qts, gpa, le, n * 8);
}

/*
 * IOVA page p of either range maps data page p % ALIAS, so every
 * configuration touches the same data whatever the working set
 */
static void build_tables(Env *e)
{
    g_autofree uint64_t *pt = g_new0(uint64_t, 512 * 512);
    uint64_t pml4[512] = { 0 }, pdpt[512] = { 0 }, pd[512];
    unsigned i, j;

    pml4[0] = PDPT_GPA | PTE_RW;
    for (i = 0; i < 4; i++) {
        pdpt[(IOVA_4K >> 30) + i] = (PD4K_GPA + i * 0x1000) | PTE_RW;
        pdpt[(IOVA_2M >> 30) + i] = (PD2M_GPA + i * 0x1000) | PTE_RW;
    }
    put_table(e, PML4_GPA, pml4, 512);
    put_table(e, PDPT_GPA, pdpt, 512);
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 512; j++) {
            pd[j] = (PT_GPA + (i * 512 + j) * 0x1000ULL) | PTE_RW;
        }
        put_table(e, PD4K_GPA + i * 0x1000, pd, 512);
        for (j = 0; j < 512; j++) {
            uint64_t p = (i * 512 + j) * 512ULL;    /* its first 4 KiB page */

            pd[j] = (DATA_GPA + (p % ALIAS) * 0x1000) | PTE_RW | PTE_PS;
        }
        put_table(e, PD2M_GPA + i * 0x1000, pd, 512);
    }
    /* The 2048 leaf tables, 512 at a time (2 MiB per write) */
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 512 * 512; j++) {
            uint64_t p = i * 512 * 512ULL + j;

            pt[j] = (DATA_GPA + (p % ALIAS) * 0x1000) | PTE_RW;
        }
        put_table(e, PT_GPA + i * 512 * 0x1000ULL, pt, 512 * 512);
    }
}

/* Context entry for loadgen @d: domain 1 + d, the shared tables */
static void set_context(Env *e, unsigned d)
{
    uint64_t lo = PML4_GPA | 1, hi = 2 | (uint64_t)(1 + d) << 8;
    uint64_t at = CTX_GPA + QPCI_DEVFN(LG_SLOT + d / 8, d % 8) * 16;

    qtest_writeq(e->qts, at, lo);
    qtest_writeq(e->qts, at + 8, hi);
}

static void gcmd(Env *e, uint32_t oneshot)
{
    wr32(e, GCMD, e->gcmd | oneshot);
    g_assert_cmphex(rd32(e, GSTS) & (e->gcmd | oneshot), ==,
                    e->gcmd | oneshot);
}

static void inv_global_reg(Env *e)
{
    wr64(e, CCMD, (1ULL << 63) | (1ULL << 61));
    wr64(e, e->iotlb, IOTLB_IVT | IIRG_GLOBAL);
    g_assert_cmphex(rd64(e, e->iotlb) & IOTLB_IVT, ==, 0);
}

static void enable_translation(Env *e)
{
    unsigned d;

    qtest_memset(e->qts, ROOT_GPA, 0, 0x2000);
    qtest_writeq(e->qts, ROOT_GPA, CTX_GPA | 1);
    for (d = 0; d < e->ndev; d++) {
        set_context(e, d);
    }
    build_tables(e);
    wr64(e, RTADDR, ROOT_GPA);
    gcmd(e, GCMD_SRTP);
    inv_global_reg(e);
    e->gcmd |= GCMD_TE;
    gcmd(e, 0);
}

static void env_start(Env *e, Cfg cfg, const char *name, const char *props,
                      unsigned ndev)
{
    g_autoptr(GString) args = g_string_new("");
    unsigned d;

    memset(e, 0, sizeof(*e));
    e->cfg = cfg;
    e->name = name;
    e->ndev = ndev;
    if (cfg == CFG_INTEL) {
        g_string_append_printf(args, "-device intel-iommu,%s ", props);
    } else if (cfg == CFG_XEN) {
        g_string_append_printf(args, "-device xen-viommu,id=viommu,%s ",
                               props);
    }
    for (d = 0; d < ndev; d++) {
        g_string_append_printf(args, "-device x-xen-viommu-dma-loadgen,"
                               "addr=%02x.%x%s ", LG_SLOT + d / 8, d % 8,
                               d % 8 == 0 && ndev > 1 ?
                               ",multifunction=on" : "");
    }
    if (qemu_b && !strcmp(name, "xen-viommu-b")) {
        g_autofree char *orig = g_strdup(g_getenv("QTEST_QEMU_BINARY"));

        g_setenv("QTEST_QEMU_BINARY", qemu_b, true);
        e->qts = qtest_initf("-M q35 -m 1024 -nodefaults -display none %s",
                             args->str);
        g_setenv("QTEST_QEMU_BINARY", orig, true);
    } else {
        e->qts = qtest_initf("-M q35 -m 1024 -nodefaults -display none %s",
                             args->str);
    }
    e->bus = qpci_new_pc(e->qts, NULL);
    for (d = 0; d < ndev; d++) {
        e->dev[d] = qpci_device_find(e->bus,
                                     QPCI_DEVFN(LG_SLOT + d / 8, d % 8));
        g_assert_nonnull(e->dev[d]);
        qpci_device_enable(e->dev[d]);
        e->bar[d] = qpci_iomap(e->dev[d], 0, NULL);
        g_assert_cmphex(lg_get(e, d, LG_ID), ==, 0x58564c47);
    }
    /* Data pages present on the host before anything is timed */
    qtest_memset(e->qts, DATA_GPA, 0x5a, ALIAS * 0x1000);
    if (cfg != CFG_NONE) {
        uint64_t iro = ((rd64(e, ECAP) >> 8) & 0x3ff) * 16;

        e->iva = iro;
        e->iotlb = iro + 8;
        enable_translation(e);
    }
}

static void env_stop(Env *e)
{
    unsigned d;

    for (d = 0; d < e->ndev; d++) {
        g_free(e->dev[d]);
    }
    qpci_free_pc(e->bus);
    qtest_quit(e->qts);
}

/* Configurations to run, in order */
static const struct {
    Cfg cfg;
    const char *props;
} configs[] = {
    { CFG_NONE, "" },
    { CFG_INTEL, "aw-bits=48,intremap=on" },
    { CFG_XEN, "aw-bits=48,intremap=on,x2apic=off" },
};

static bool want(Cfg cfg)
{
    g_auto(GStrv) w = NULL;

    if (!only_configs) {
        return true;
    }
    w = g_strsplit(only_configs, ",", -1);
    return g_strv_contains((const gchar * const *)w, cfg_name[cfg]) ||
           (cfg == CFG_INTEL && g_strv_contains((const gchar * const *)w,
                                                 "intel")) ||
           (cfg == CFG_XEN && g_strv_contains((const gchar * const *)w,
                                               "xen"));
}

/*
 * One workload on every configuration, interleaved: run r of each before
 * run r + 1 of any, so that a busy machine slows all of them alike.
 */
typedef struct Work Work;
struct Work {
    const char *name;
    void (*prep)(Env *e, const Work *w);    /* untimed, once */
    double (*run)(Env *e, const Work *w);   /* one run: ns per operation */
    uint64_t iova, pages, pattern, size, count;
};

#define MAX_ENVS 4

static void run_work(Env **es, unsigned ne, const Work *w)
{
    double v[MAX_ENVS][64];
    unsigned i, r;

    for (i = 0; i < ne; i++) {
        if (w->prep) {
            w->prep(es[i], w);
        }
    }
    for (r = 0; r < runs; r++) {
        for (i = 0; i < ne; i++) {
            v[i][r] = w->run(es[i], w);
        }
    }
    for (i = 0; i < ne; i++) {
        report(w->name, es[i], v[i], runs);
    }
}

/* DMA ------------------------------------------------------------------- */

static void dma_prep(Env *e, const Work *w)
{
    unsigned d;

    for (d = 0; d < e->ndev; d++) {
        lg_dma_setup(e, d, w->iova + d * w->pages * 0x1000, w->pages,
                     w->pattern, w->size, w->count);
        dma_run(e, d, w->count);
    }
}

static double dma_once(Env *e, const Work *w)
{
    return dma_run(e, 0, w->count);
}

static void bench_dma(Env **es, unsigned ne)
{
    static const uint64_t ws[] = { 256, 4096, 16384, 65536, 262144, 1048576 };
    unsigned i, size, big;

    /* IOTLB hit: one page, again and again */
    for (size = 64; size <= 4096; size *= 64) {
        g_autofree char *name = g_strdup_printf("dma-hit-%uB", size);
        Work w = {
            name, dma_prep, dma_once, IOVA_4K, 1, LG_SEQ, size,
            scaled(size == 64 ? 400000 : 100000),
        };

        run_work(es, ne, &w);
    }

    /* Working sets, random 64-byte reads, 4 KiB and 2 MiB pages */
    for (big = 0; big < 2; big++) {
        for (i = 0; i < ARRAY_SIZE(ws); i++) {
            g_autofree char *name = g_strdup_printf("dma-ws-%s-%" PRIu64,
                                                    big ? "2M" : "4K", ws[i]);
            Work w = {
                name, dma_prep, dma_once, big ? IOVA_2M : IOVA_4K, ws[i],
                LG_RANDOM, 64, scaled(200000),
            };

            run_work(es, ne, &w);
        }
    }
}

/* Rounds of short bursts, device after device: ns per access */
static double devices_once(Env *e, const Work *w)
{
    unsigned round, d;
    uint64_t ns = 0;

    for (round = 0; round < 64 / e->ndev; round++) {
        for (d = 0; d < e->ndev; d++) {
            uint64_t fails;

            ns += lg_go(e, d, OP_READ, &fails);
            g_assert_cmpuint(fails, ==, 0);
        }
    }
    return (double)ns / (w->count * 64);
}

/* Invalidation ---------------------------------------------------------- */

static void qi_global(Env *e);

/* Empty the IOTLB, then fill it with @pages translations (one access each) */
static void fill(Env *e, uint64_t pages)
{
    if (e->gcmd & GCMD_QIE) {
        qi_global(e);
    } else {
        inv_global_reg(e);
    }
    if (!pages) {
        return;
    }
    lg_dma_setup(e, 0, IOVA_4K, pages, LG_SEQ, 64, pages);
    dma_run(e, 0, pages);
}

/*
 * @count register-based invalidations: write IVA (stepping by a page over
 * @distinct pages) if @page, then the IOTLB register, then read it back as
 * a driver polls IVT.  ns per invalidation.
 */
static double reg_inv(Env *e, uint64_t cmd, bool page, uint64_t count,
                      uint64_t distinct)
{
    uint64_t fails, ns;

    if (page) {
        lg_set(e, 0, LG_A, BASE + e->iva);
        lg_set(e, 0, LG_AVAL, IOVA_4K);
        lg_set(e, 0, LG_STRIDE, 0x1000);
        lg_set(e, 0, LG_AMASK, distinct * 0x1000 - 1);
        lg_set(e, 0, LG_B, BASE + e->iotlb);
        lg_set(e, 0, LG_BVAL, cmd);
    } else {
        lg_set(e, 0, LG_A, BASE + e->iotlb);
        lg_set(e, 0, LG_AVAL, cmd);
        lg_set(e, 0, LG_STRIDE, 0);
        lg_set(e, 0, LG_B, 0);
    }
    lg_set(e, 0, LG_C, BASE + e->iotlb);
    lg_set(e, 0, LG_COUNT, count);
    ns = lg_go(e, 0, OP_MMIO, &fails);
    g_assert_cmpuint(fails, ==, 0);
    return (double)ns / count;
}

static void qi_put(Env *e, uint64_t lo, uint64_t hi)
{
    uint64_t at = QUEUE_GPA + (e->iq_tail % QUEUE_LEN) * 16;

    qtest_writeq(e->qts, at, lo);
    qtest_writeq(e->qts, at + 8, hi);
    e->iq_tail = (e->iq_tail + 1) % QUEUE_LEN;
}

/* Descriptors, written in one go (@n 16-byte descriptors from @d) */
static void qi_put_many(Env *e, const uint64_t *d, unsigned n)
{
    unsigned first = MIN(n, QUEUE_LEN - e->iq_tail);

    put_table(e, QUEUE_GPA + e->iq_tail * 16, d, first * 2);
    if (n > first) {
        put_table(e, QUEUE_GPA, d + first * 2, (n - first) * 2);
    }
    e->iq_tail = (e->iq_tail + n) % QUEUE_LEN;
}

static uint64_t desc_psi(uint16_t did)
{
    return 2 | (3 << 4) | (uint64_t)did << 16;
}

/* Submit what was queued with one IQT write timed in QEMU: ns */
static uint64_t qi_kick(Env *e)
{
    uint64_t fails, ns;

    lg_set(e, 0, LG_A, BASE + IQT);
    lg_set(e, 0, LG_AVAL, e->iq_tail * 16);
    lg_set(e, 0, LG_STRIDE, 0);
    lg_set(e, 0, LG_B, 0);
    lg_set(e, 0, LG_C, 0);
    lg_set(e, 0, LG_COUNT, 1);
    ns = lg_go(e, 0, OP_MMIO, &fails);
    g_assert_cmpuint(fails, ==, 0);
    g_assert_cmphex(rd64(e, IQH), ==, e->iq_tail * 16);
    g_assert_cmphex(rd32(e, FSTS) & 0x70, ==, 0);
    return ns;
}

/* Wait descriptor with a status write */
static void qi_wait(Env *e, uint32_t token)
{
    qi_put(e, 5 | (1 << 5) | (uint64_t)token << 32, STATUS_GPA);
}

static void qi_enable(Env *e)
{
    wr64(e, IQA, QUEUE_GPA | 7);
    e->iq_tail = 0;
    e->gcmd |= GCMD_QIE;
    gcmd(e, 0);
}

/* Global IOTLB invalidation through the queue, untimed */
static void qi_global(Env *e)
{
    qi_put(e, 2 | (1 << 4), 0);
    qi_wait(e, 2);
    qi_kick(e);
}

/* Invalidation workloads: w->pattern says which, w->pages what to fill */
enum { INV_PAGE, INV_DOMAIN, INV_GLOBAL, INV_QUEUED = 4 };
#define INV_PSI_COUNT 512

static double inv_once(Env *e, const Work *w)
{
    unsigned kind = w->pattern & 3;
    bool queued = w->pattern & INV_QUEUED;
    const uint64_t cmd[] = {
        IOTLB_IVT | IIRG_PAGE | 1ULL << 32,
        IOTLB_IVT | IIRG_DOMAIN | 1ULL << 32,
        IOTLB_IVT | IIRG_GLOBAL,
    };
    const uint64_t desc[] = {
        desc_psi(1), 2 | (2 << 4) | (1ULL << 16), 2 | (1 << 4),
    };
    unsigned i;

    fill(e, w->pages);
    if (!queued) {
        return kind == INV_PAGE ?
            reg_inv(e, cmd[kind], true, INV_PSI_COUNT, INV_PSI_COUNT) :
            reg_inv(e, cmd[kind], false, 1, 1);
    }
    if (kind != INV_PAGE) {
        qi_put(e, desc[kind], 0);
        return qi_kick(e);
    }
    {
        g_autofree uint64_t *d = g_new(uint64_t, INV_PSI_COUNT * 2);

        for (i = 0; i < INV_PSI_COUNT; i++) {
            d[i * 2] = desc_psi(1);
            d[i * 2 + 1] = IOVA_4K + i * 0x1000ULL;
        }
        qi_put_many(e, d, INV_PSI_COUNT);
        return (double)qi_kick(e) / INV_PSI_COUNT;
    }
}

static void bench_inv(Env **es, unsigned ne, bool queued)
{
    static const uint64_t fills[] = { 0, 4096, 65536 };
    static const char *const kinds[] = { "page", "domain", "global" };
    unsigned f, k;

    for (f = 0; f < ARRAY_SIZE(fills); f++) {
        for (k = 0; k < ARRAY_SIZE(kinds); k++) {
            g_autofree char *name =
                g_strdup_printf("inv-%s-%s-%" PRIu64, kinds[k],
                                queued ? "qi" : "reg", fills[f]);
            Work w = {
                name, NULL, inv_once, 0, fills[f],
                k | (queued ? INV_QUEUED : 0),
            };

            run_work(es, ne, &w);
        }
    }
}

/*
 * Queued-invalidation throughput: 4096 descriptors per submission, mixed
 * as a busy driver queues them (per 8: 5 page-selective IOTLB, 1 domain,
 * 1 interrupt entry, 1 wait with status write), on a 4096-entry cache.
 * Reported as descriptors per second.
 */
static double qi_mixed_once(Env *e, const Work *w)
{
    const unsigned n = 4096;
    g_autofree uint64_t *d = g_new(uint64_t, n * 2);
    unsigned i;

    for (i = 0; i < n; i++) {
        uint64_t lo, hi = 0;

        switch (i % 8) {
        case 5:
            lo = 2 | (2 << 4) | (2ULL << 16);           /* other domain */
            break;
        case 6:
            lo = 4 | (1 << 4) | (uint64_t)(i % IRT_ENTRIES) << 32;
            break;
        case 7:
            lo = 5 | (1 << 5) | (uint64_t)i << 32;
            hi = STATUS_GPA;
            break;
        default:
            lo = desc_psi(1);
            hi = IOVA_4K + (i * 7 % 4096) * 0x1000ULL;
        }
        d[i * 2] = lo;
        d[i * 2 + 1] = hi;
    }
    fill(e, 4096);
    qi_put_many(e, d, n);
    return n * 1e9 / qi_kick(e);
}

/* Interrupts ------------------------------------------------------------ */

static void ir_enable(Env *e)
{
    g_autofree uint64_t *irt = g_new0(uint64_t, IRT_ENTRIES * 4);
    unsigned i;

    for (i = 0; i < IRT_ENTRIES; i++) {
        irt[i * 2] = 1 | (uint64_t)VECTOR << 16;    /* P, APIC ID 0 */
    }
    irt[IOAPIC_IRTE * 2] = 1 | (uint64_t)(VECTOR + 1) << 16;
    put_table(e, IRT_GPA, irt, IRT_ENTRIES * 4);
    wr64(e, IRTA, IRT_GPA | 12);                    /* 2^13 entries */
    gcmd(e, GCMD_SIRTP);
    e->gcmd |= GCMD_IRE;
    gcmd(e, 0);
}

static void iec_flush(Env *e)
{
    qi_put(e, 4, 0);
    qi_wait(e, 1);
    qi_kick(e);
}

/* Is @vector pending in APIC ID 0's IRR (vCPUs never run under qtest)? */
static bool lapic0_irr_has(Env *e, unsigned vector)
{
    g_autofree char *out = qtest_hmp(e->qts, "info lapic 0");
    g_autofree char *want = g_strdup_printf(" %u", vector);
    const char *irr = strstr(out, "IRR\t");
    const char *end = irr ? strchr(irr, '\n') : NULL;
    const char *hit;

    g_assert_nonnull(end);
    hit = g_strstr_len(irr + 3, end - irr - 3, want);
    return hit && (hit[strlen(want)] == ' ' || hit[strlen(want)] == '(' ||
                   hit + strlen(want) == end);
}

/* @count MSIs over @handles remappable handles (or compatibility format) */
static double msi_run(Env *e, uint64_t handles, uint64_t count)
{
    bool remap = e->cfg != CFG_NONE;

    lg_set(e, 0, LG_BASE, remap ? 0xfee00010ULL : 0xfee00000ULL);
    lg_set(e, 0, LG_STRIDE, remap ? 32 : 0);
    lg_set(e, 0, LG_PAGES, handles);
    lg_set(e, 0, LG_DATA, remap ? 0 : VECTOR);
    lg_set(e, 0, LG_COUNT, count);
    return (double)lg_go(e, 0, OP_MSI, NULL) / count;
}

/* IO-APIC redirection entry @pin */
static void ioapic_rte(Env *e, unsigned pin, uint64_t rte)
{
    qtest_writel(e->qts, 0xfec00000, 0x10 + pin * 2);
    qtest_writel(e->qts, 0xfec00010, rte);
    qtest_writel(e->qts, 0xfec00000, 0x11 + pin * 2);
    qtest_writel(e->qts, 0xfec00010, rte >> 32);
}

/* q35 routes INTA# of slot S to PIRQ E-H: GSI 20 + S % 4 */
#define LG_GSI (20 + LG_SLOT % 4)

static void msi_prep(Env *e, const Work *w)
{
    if (e->cfg != CFG_NONE && !(e->gcmd & GCMD_IRE)) {
        ir_enable(e);
    }
    g_assert_false(lapic0_irr_has(e, VECTOR));
    msi_run(e, 1, w->count);
    g_assert_true(lapic0_irr_has(e, VECTOR));
}

static double msi_hit_once(Env *e, const Work *w)
{
    return msi_run(e, 1, w->count);
}

/* Each of 4096 entries once, right after a global IEC invalidation */
static double msi_miss_once(Env *e, const Work *w)
{
    if (e->cfg == CFG_NONE) {
        return msi_run(e, 1, IRT_ENTRIES);
    }
    iec_flush(e);
    return msi_run(e, IRT_ENTRIES, IRT_ENTRIES);
}

/* Edge-triggered, to APIC ID 0; remappable entry 4096 behind a unit */
static void intx_prep(Env *e, const Work *w)
{
    ioapic_rte(e, LG_GSI, e->cfg == CFG_NONE ? VECTOR + 1 :
               (VECTOR + 1) | 1ULL << 48 | (uint64_t)IOAPIC_IRTE << 49);
    lg_set(e, 0, LG_COUNT, w->count);
    g_assert_false(lapic0_irr_has(e, VECTOR + 1));
    lg_go(e, 0, OP_INTX, NULL);
    g_assert_true(lapic0_irr_has(e, VECTOR + 1));
}

static double intx_once(Env *e, const Work *w)
{
    return (double)lg_go(e, 0, OP_INTX, NULL) / w->count;
}

static void bench_irq(Env **es, unsigned ne)
{
    const Work msi_hit = {
        "msi-hit", msi_prep, msi_hit_once, .count = scaled(100000),
    };
    const Work msi_miss = { "msi-miss", NULL, msi_miss_once };
    const Work intx = {
        "ioapic-intx", intx_prep, intx_once, .count = scaled(100000),
    };

    run_work(es, ne, &msi_hit);
    run_work(es, ne, &msi_miss);
    run_work(es, ne, &intx);
}

/* Memory ---------------------------------------------------------------- */

static uint64_t rss_kib(Env *e)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status",
                                            qtest_pid(e->qts));
    g_autofree char *text = NULL;
    const char *p;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    p = strstr(text, "RssAnon:");
    g_assert_nonnull(p);
    return g_ascii_strtoull(p + 8, NULL, 10);
}

/*
 * Host memory per cached translation: growth of QEMU's anonymous RSS over
 * the first fill of an empty cache (tables and data are present already;
 * a second fill would reuse what the allocator got back)
 */
static void bench_memory(Env *e, uint64_t pages)
{
    uint64_t before;
    double v[1];

    inv_global_reg(e);
    before = rss_kib(e);
    fill(e, pages);
    /* Signed: the allocator may hand back memory it had already */
    v[0] = ((double)rss_kib(e) - before) * 1024.0 / pages;
    report("mem-bytes-per-entry", e, v, 1);
}

/* Hypervisor calls (xen-viommu on the double) ---------------------------- */

/* All hypercalls so far: the last column of x-hyp-stats' operation lines */
static uint64_t hypercalls(Env *e)
{
    QDict *rsp = qtest_qmp(e->qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': '/machine/peripheral/viommu', "
                           "'property': 'x-hyp-stats' } }");
    g_auto(GStrv) lines = g_strsplit(qdict_get_str(rsp, "return"), "\n", -1);
    uint64_t sum = 0;
    int i;

    for (i = 0; lines[i]; i++) {
        g_auto(GStrv) w = g_strsplit(lines[i], " ", -1);

        if (g_strv_length(w) >= 6 && g_ascii_isdigit(w[1][0]) &&
            strcmp(w[0], "probe")) {
            sum += g_ascii_strtoull(w[5], NULL, 10);
        }
    }
    qobject_unref(rsp);
    return sum;
}

static void bench_hypercalls(void)
{
    const uint64_t n = 1000;
    double v[1];
    uint64_t h;
    Env e;

    env_start(&e, CFG_XEN, "xen-viommu-double",
              "aw-bits=48,intremap=on,x2apic=off,hypervisor=double", 1);
    fill(&e, 4096);
    h = hypercalls(&e);
    reg_inv(&e, IOTLB_IVT | IIRG_PAGE | 1ULL << 32, true, n, 4096);
    v[0] = (double)(hypercalls(&e) - h) / n;
    report("hyp-per-inv-page-reg", &e, v, 1);

    qi_enable(&e);
    h = hypercalls(&e);
    {
        g_autofree uint64_t *d = g_new(uint64_t, n * 2);
        unsigned i;

        for (i = 0; i < n; i++) {
            d[i * 2] = desc_psi(1);
            d[i * 2 + 1] = IOVA_4K + i * 0x1000ULL;
        }
        qi_put_many(&e, d, n);
        qi_kick(&e);
    }
    v[0] = (double)(hypercalls(&e) - h) / n;
    report("hyp-per-inv-page-qi", &e, v, 1);

    ir_enable(&e);
    h = hypercalls(&e);
    msi_run(&e, 1, n);
    v[0] = (double)(hypercalls(&e) - h) / n;
    report("hyp-per-msi", &e, v, 1);

    ioapic_rte(&e, 20 + LG_SLOT % 4,
               (VECTOR + 1) | 1ULL << 48 | (uint64_t)IOAPIC_IRTE << 49);
    h = hypercalls(&e);
    lg_set(&e, 0, LG_COUNT, n);
    lg_go(&e, 0, OP_INTX, NULL);
    v[0] = (double)(hypercalls(&e) - h) / n;
    report("hyp-per-ioapic-intx", &e, v, 1);
    env_stop(&e);
}

/* Tests ----------------------------------------------------------------- */

/* The configurations asked for, started; returns how many */
static unsigned envs_start(Env *envs, Env **es, unsigned ndev)
{
    unsigned c, ne = 0;

    for (c = 0; c < ARRAY_SIZE(configs); c++) {
        if (want(configs[c].cfg)) {
            env_start(&envs[ne], configs[c].cfg, cfg_name[configs[c].cfg],
                      configs[c].props, ndev);
            es[ne] = &envs[ne];
            ne++;
        }
    }
    if (qemu_b) {
        env_start(&envs[ne], CFG_XEN, "xen-viommu-b", configs[2].props, ndev);
        es[ne] = &envs[ne];
        ne++;
    }
    return ne;
}

static void test_units(void)
{
    Env envs[MAX_ENVS], *es[MAX_ENVS], *units[MAX_ENVS];
    unsigned ne = envs_start(envs, es, 1), nu = 0, i;
    Work mixed = { "qi-mixed-desc-per-s", NULL, qi_mixed_once };

    for (i = 0; i < ne; i++) {
        if (es[i]->cfg != CFG_NONE) {
            units[nu++] = es[i];
        }
    }
    bench_dma(es, ne);
    bench_inv(units, nu, false);
    for (i = 0; i < nu; i++) {
        qi_enable(units[i]);
    }
    bench_inv(units, nu, true);
    run_work(units, nu, &mixed);
    bench_irq(es, ne);
    for (i = 0; i < ne; i++) {
        env_stop(es[i]);
    }
}

/* Devices behind one unit: each its own domain, 8 pages each, in turn */
static void test_devices(void)
{
    static const unsigned ndevs[] = { 1, 8, 64 };
    unsigned k, i;

    for (k = 0; k < ARRAY_SIZE(ndevs); k++) {
        Env envs[MAX_ENVS], *es[MAX_ENVS];
        unsigned ne = envs_start(envs, es, ndevs[k]);
        g_autofree char *name = g_strdup_printf("dma-devices-%u", ndevs[k]);
        Work w = {
            name, dma_prep, devices_once, IOVA_4K, 8, LG_SEQ, 64,
            scaled(1024),
        };

        run_work(es, ne, &w);
        for (i = 0; i < ne; i++) {
            env_stop(es[i]);
        }
    }
}

static void test_memory(void)
{
    Env e;

    if (want(CFG_INTEL)) {
        env_start(&e, CFG_INTEL, "intel-iommu", configs[1].props, 1);
        bench_memory(&e, 1000);
        env_stop(&e);
    }
    if (want(CFG_XEN)) {
        env_start(&e, CFG_XEN, "xen-viommu",
                  "aw-bits=48,iotlb-size=65536", 1);
        bench_memory(&e, 65536);
        env_stop(&e);
    }
}

int main(int argc, char **argv)
{
    const char *s;

    g_test_init(&argc, &argv, NULL);
    s = g_getenv("XVI_BENCH_UNIT_RUNS");
    if (s) {
        runs = CLAMP(atoi(s), 1, 64);
    }
    s = g_getenv("XVI_BENCH_UNIT_SCALE");
    if (s) {
        scale = CLAMP(atoi(s), 1, 10000);
    }
    only_configs = g_strdup(g_getenv("XVI_BENCH_UNIT_CONFIGS"));
    qemu_b = g_getenv("XVI_BENCH_UNIT_QEMU_B");
    qtest_add_func("/xen-viommu-bench/units", test_units);
    qtest_add_func("/xen-viommu-bench/devices", test_devices);
    qtest_add_func("/xen-viommu-bench/memory", test_memory);
    qtest_add_func("/xen-viommu-bench/hypercalls", bench_hypercalls);
    return g_test_run();
}
