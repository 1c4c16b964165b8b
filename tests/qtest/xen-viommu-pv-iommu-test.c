/*
 * qtest for xen-viommu's PV-IOMMU mirror: passthrough devices' DMA
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The passthrough-like test device (x-xen-viommu-pt-testdev with host-sbdf)
 * does DMA through the hypervisor double's PV-IOMMU context for its machine
 * device, never through QEMU's IOMMU region, so what it reaches is exactly
 * what the unit mirrored into the hypervisor.  The test writes root,
 * context and page tables and invalidates like a driver in caching mode,
 * and reads the double's counters through x-hyp-stats.
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"
#include "xen-viommu-qtest.h"

/* Unit registers */
#define BASE        0xfed90000ULL
#define CAP         0x08
#define GCMD        0x18
#define GSTS        0x1c
#define RTADDR      0x20
#define CCMD        0x28
#define IQH         0x80
#define IQT         0x88
#define IQA         0x90
#define IVA         0x100
#define IOTLB       0x108
#define FRCD        0x200
#define NR_FRCD     8

#define CAP_CM      (1ULL << 7)
#define GCMD_TE     (1U << 31)
#define GCMD_SRTP   (1U << 30)
#define GCMD_QIE    (1U << 26)
#define FRCD_F      (1ULL << 63)
#define FR_CTX_INVALID  0x3
#define FR_READ     0x6

#define PTE_R       1ULL
#define PTE_W       2ULL
#define PTE_RW      (PTE_R | PTE_W)

/* The test device's BAR 0 */
#define PT_DMA_LO   0x10
#define PT_DMA_HI   0x14
#define PT_DMA_DATA 0x18
#define PT_DMA_CMD  0x1c
#define PT_DMA_RES  0x20

#define DEV_A_SLOT  5
#define DEV_B_SLOT  6
#define DEV_A_SBDF  0x300               /* machine 0000:03:00.0 */
#define DEV_B_SBDF  0x400

/* Guest RAM (-m 512) */
#define ROOT_GPA    0x1000000ULL
#define CTX_GPA     0x1001000ULL
#define TABLES_GPA  0x1100000ULL
#define TABLES_END  0x3000000ULL
#define QUEUE_GPA   0x3800000ULL        /* 256 descriptors */
#define STATUS_GPA  0x3900000ULL
#define GPA_A       0x5000000ULL
#define GPA_B       0x5100000ULL
#define BULK_GPA    0x8000000ULL        /* 1024 pages */

#define IOVA_A      0x40000000ULL
#define IOVA_BULK   0x80000000ULL       /* 4 MiB aligned */
#define BULK_PAGES  1000
#define DID         7

typedef struct PtDev {
    QPCIDevice *dev;
    QPCIBar bar;
    uint8_t devfn;
    uint64_t slpt;
} PtDev;

typedef struct Env {
    QTestState *qts;
    QPCIBus *bus;
    PtDev a, b;
    uint64_t next_table;
} Env;

static uint64_t rd64(Env *e, uint64_t off)
{
    return qtest_readq(e->qts, BASE + off);
}

static void wr32(Env *e, uint64_t off, uint32_t val)
{
    qtest_writel(e->qts, BASE + off, val);
}

static void wr64(Env *e, uint64_t off, uint64_t val)
{
    qtest_writeq(e->qts, BASE + off, val);
}

static void pt_find(Env *e, PtDev *p, unsigned slot)
{
    p->devfn = QPCI_DEVFN(slot, 0);
    p->dev = qpci_device_find(e->bus, p->devfn);
    g_assert_nonnull(p->dev);
    qpci_device_enable(p->dev);
    p->bar = qpci_iomap(p->dev, 0, NULL);
}

static void env_init(Env *e, const char *props, bool two)
{
    g_autofree char *dev_b = two ?
        g_strdup_printf("-device x-xen-viommu-pt-testdev,addr=%d.0,pirq=43,"
                        "host-sbdf=%d", DEV_B_SLOT, DEV_B_SBDF) :
        g_strdup("");

    memset(e, 0, sizeof(*e));
    e->qts = qtest_initf("-M q35 -m 512 -nodefaults -display none "
                         "-device xen-viommu,id=viommu,intremap=on,"
                         "hypervisor=double,x-double-pv-iommu=on%s "
                         "-device x-xen-viommu-pt-testdev,addr=%d.0,"
                         "host-sbdf=%d %s",
                         props, DEV_A_SLOT, DEV_A_SBDF, dev_b);
    e->bus = qpci_new_pc(e->qts, NULL);
    pt_find(e, &e->a, DEV_A_SLOT);
    if (two) {
        pt_find(e, &e->b, DEV_B_SLOT);
    }
    e->next_table = TABLES_GPA;
}

static void env_quit(Env *e)
{
    g_free(e->a.dev);
    g_free(e->b.dev);
    qpci_free_pc(e->bus);
    qtest_quit(e->qts);
}

/* A 4-byte DMA of @p at @iova: 0 or the device's negative errno */
static int32_t pt_dma(PtDev *p, bool write, uint64_t iova, uint32_t *data)
{
    qpci_io_writel(p->dev, p->bar, PT_DMA_LO, (uint32_t)iova);
    qpci_io_writel(p->dev, p->bar, PT_DMA_HI, iova >> 32);
    if (write) {
        qpci_io_writel(p->dev, p->bar, PT_DMA_DATA, *data);
    }
    qpci_io_writel(p->dev, p->bar, PT_DMA_CMD, write ? 2 : 1);
    if (!write) {
        *data = qpci_io_readl(p->dev, p->bar, PT_DMA_DATA);
    }
    return (int32_t)qpci_io_readl(p->dev, p->bar, PT_DMA_RES);
}

/* What @p reads at @iova, or the errno (negative) */
static int64_t pt_read(PtDev *p, uint64_t iova)
{
    uint32_t v = 0;
    int32_t ret = pt_dma(p, false, iova, &v);

    return ret ? (int64_t)ret : (int64_t)v;
}

/* A counter of the unit's x-hyp-stats (xen-viommu-qtest.h) */
static uint64_t hyp_stat(Env *e, const char *name, int field)
{
    return xvi_hyp_stat(e->qts, name, field);
}

#define STAT(e, name) hyp_stat(e, "double." name, 0)
/* Wrapper calls and hypervisor invocations of a PV-IOMMU operation */
#define CALLS(e, op) hyp_stat(e, op, 0)
#define HYPERCALLS(e, op) hyp_stat(e, op, 4)

/*
 * Hypercalls the device model issued for page operations: multicalls, and
 * map/unmap operations issued on their own.  With @restarts, also the
 * invocations that continue an operation the hypervisor preempted.
 */
static uint64_t page_hypercalls(Env *e, bool restarts)
{
    return HYPERCALLS(e, "pv_multicall") +
           (restarts ? HYPERCALLS(e, "pv_map_pages") +
                       HYPERCALLS(e, "pv_unmap_pages") :
                       CALLS(e, "pv_map_pages") + CALLS(e, "pv_unmap_pages"));
}

/* Tables ----------------------------------------------------------------- */

static uint64_t alloc_table(Env *e)
{
    uint64_t t = e->next_table;

    e->next_table += 0x1000;
    g_assert_cmphex(e->next_table, <=, TABLES_END);
    qtest_memset(e->qts, t, 0, 0x1000);
    return t;
}

/* The 4-level leaf entry for @iova in @p's tables, creating upper tables */
static uint64_t pte_addr(Env *e, PtDev *p, uint64_t iova)
{
    uint64_t table = p->slpt;
    unsigned l;

    for (l = 4; l > 1; l--) {
        uint64_t ent = table + ((iova >> (12 + 9 * (l - 1))) & 0x1ff) * 8;
        uint64_t pte = qtest_readq(e->qts, ent);

        if (!(pte & PTE_RW)) {
            pte = alloc_table(e) | PTE_RW;
            qtest_writeq(e->qts, ent, pte);
        }
        table = pte & 0xffffffffff000ULL;
    }
    return table + ((iova >> 12) & 0x1ff) * 8;
}

static void map4k(Env *e, PtDev *p, uint64_t iova, uint64_t gpa, uint64_t perm)
{
    qtest_writeq(e->qts, pte_addr(e, p, iova), gpa | perm);
}

/* Context entry of @p: translated (tt 0) or pass-through (tt 2) */
static void set_context(Env *e, PtDev *p, bool present, unsigned tt)
{
    if (!p->slpt) {
        p->slpt = alloc_table(e);
    }
    qtest_writeq(e->qts, CTX_GPA + p->devfn * 16,
                 p->slpt | (tt << 2) | (present ? 1 : 0));
    qtest_writeq(e->qts, CTX_GPA + p->devfn * 16 + 8, 2 | (DID << 8));
}

static void inv_context_global(Env *e)
{
    wr64(e, CCMD, (1ULL << 63) | (1ULL << 61));
}

/* Register-based IOTLB invalidation: page-selective of 2^@am pages */
static void inv_pages(Env *e, uint64_t iova, unsigned am)
{
    wr64(e, IVA, iova | am);
    wr64(e, IOTLB, (1ULL << 63) | (3ULL << 60) | ((uint64_t)DID << 32));
}

static void inv_domain(Env *e)
{
    wr64(e, IOTLB, (1ULL << 63) | (2ULL << 60) | ((uint64_t)DID << 32));
}

/* Root table, @p's context entry, SRTP, TE on */
static void enable(Env *e, PtDev *p)
{
    qtest_memset(e->qts, ROOT_GPA, 0, 0x2000);
    qtest_writeq(e->qts, ROOT_GPA, CTX_GPA | 1);
    if (p) {
        set_context(e, p, true, 0);
    }
    wr64(e, RTADDR, ROOT_GPA);
    wr32(e, GCMD, GCMD_SRTP);
    wr32(e, GCMD, GCMD_TE);
    g_assert_cmphex(qtest_readl(e->qts, BASE + GSTS) & GCMD_TE, ==, GCMD_TE);
}

/* Whether a fault record holds @reason for @sid at the page of @addr */
static bool has_fault(Env *e, unsigned reason, uint16_t sid, uint64_t addr)
{
    int i;

    for (i = 0; i < NR_FRCD; i++) {
        uint64_t hi = rd64(e, FRCD + i * 16 + 8);

        if ((hi & FRCD_F) && ((hi >> 32) & 0xff) == reason &&
            (hi & 0xffff) == sid && rd64(e, FRCD + i * 16) == addr) {
            return true;
        }
    }
    return false;
}

/* Tests ------------------------------------------------------------------ */

/* pv-iommu forces caching mode; without PV-IOMMU it resolves off */
static void test_config(void)
{
    QTestState *qts;
    Env e;

    env_init(&e, "", false);
    g_assert_cmphex(rd64(&e, CAP) & CAP_CM, ==, CAP_CM);
    g_assert_cmpuint(STAT(&e, "pv_initialised"), ==, 1);
    env_quit(&e);

    qts = qtest_init("-M q35 -nodefaults -display none "
                     "-device xen-viommu,intremap=on,hypervisor=double");
    g_assert_cmphex(qtest_readq(qts, BASE + CAP) & CAP_CM, ==, 0);
    qtest_quit(qts);

    /* An interrupt-remapping-only unit takes a passthrough device as is */
    qts = qtest_init("-M q35 -nodefaults -display none "
                     "-device xen-viommu,intremap=on,hypervisor=double,"
                     "dma-translation=off "
                     "-device x-xen-viommu-pt-testdev,host-sbdf=768");
    g_assert_cmphex(qtest_readq(qts, BASE + CAP) & CAP_CM, ==, 0);
    qtest_quit(qts);
}

static void test_mirror(void)
{
    uint64_t calls;
    uint32_t v;
    Env e;
    int i;

    env_init(&e, "", false);
    qtest_writel(e.qts, GPA_A, 0xaaaa0001);
    qtest_writel(e.qts, GPA_B, 0xbbbb0002);

    /* Translation off: the default context, the guest's memory 1:1 */
    g_assert_cmpint(pt_read(&e.a, GPA_A), ==, 0xaaaa0001);
    g_assert_cmpuint(STAT(&e, "pv_attached"), ==, 0);

    /* On, nothing mapped: its own context, DMA faults there */
    enable(&e, &e.a);
    g_assert_cmpuint(STAT(&e, "pv_attached"), ==, 1);
    g_assert_cmpint(pt_read(&e.a, GPA_A), ==, -EFAULT);
    g_assert_cmpint(pt_read(&e.a, IOVA_A), ==, -EFAULT);

    /* Map as a caching-mode driver does: write the PTE, invalidate */
    map4k(&e, &e.a, IOVA_A, GPA_A, PTE_R);
    inv_pages(&e, IOVA_A, 0);
    g_assert_cmpint(pt_read(&e.a, IOVA_A + 0), ==, 0xaaaa0001);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 1);
    /* Read-only: a write is refused by the hypervisor */
    v = 0x1234;
    g_assert_cmpint(pt_dma(&e.a, true, IOVA_A, &v), ==, -EACCES);
    g_assert_cmphex(qtest_readl(e.qts, GPA_A), ==, 0xaaaa0001);

    /* Remapped writeable to another page: the change is seen, not the old */
    map4k(&e, &e.a, IOVA_A, GPA_B, PTE_RW);
    inv_pages(&e, IOVA_A, 0);
    g_assert_cmpint(pt_read(&e.a, IOVA_A), ==, 0xbbbb0002);
    v = 0xcafe0003;
    g_assert_cmpint(pt_dma(&e.a, true, IOVA_A + 4, &v), ==, 0);
    g_assert_cmphex(qtest_readl(e.qts, GPA_B + 4), ==, 0xcafe0003);
    g_assert_cmphex(qtest_readl(e.qts, GPA_A + 4), ==, 0);

    /* Unmapped and invalidated: the device faults in the hypervisor */
    map4k(&e, &e.a, IOVA_A, 0, 0);
    inv_pages(&e, IOVA_A, 0);
    g_assert_cmpint(pt_read(&e.a, IOVA_A), ==, -EFAULT);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 0);

    /*
     * 1000 pages in one page-selective invalidation (am = 10 covers 1024):
     * one hypercall, whatever the hypervisor's preemption
     */
    for (i = 0; i < BULK_PAGES; i++) {
        map4k(&e, &e.a, IOVA_BULK + i * 0x1000ULL, BULK_GPA + i * 0x1000ULL,
              PTE_RW);
    }
    qtest_writel(e.qts, BULK_GPA + 999 * 0x1000 + 8, 0x99900008);
    calls = page_hypercalls(&e, false);
    inv_pages(&e, IOVA_BULK, 10);
    g_assert_cmpuint(page_hypercalls(&e, false) - calls, ==, 1);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, BULK_PAGES);
    g_assert_cmpint(pt_read(&e.a, IOVA_BULK + 999 * 0x1000 + 8), ==,
                    0x99900008);

    /* Unmapped lazily: one domain-selective invalidation, one hypercall */
    for (i = 0; i < BULK_PAGES; i++) {
        map4k(&e, &e.a, IOVA_BULK + i * 0x1000ULL, 0, 0);
    }
    calls = page_hypercalls(&e, false);
    inv_domain(&e);
    g_assert_cmpuint(page_hypercalls(&e, false) - calls, ==, 1);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 0);
    g_assert_cmpint(pt_read(&e.a, IOVA_BULK), ==, -EFAULT);

    /* A pass-through context entry: back to the default context */
    map4k(&e, &e.a, IOVA_A, GPA_A, PTE_RW);
    inv_pages(&e, IOVA_A, 0);
    set_context(&e, &e.a, true, 2);
    inv_context_global(&e);
    g_assert_cmpint(pt_read(&e.a, GPA_A), ==, 0xaaaa0001);
    g_assert_cmpuint(STAT(&e, "pv_attached"), ==, 0);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 0);

    /* Translated again, then a not-present context entry: blocked */
    set_context(&e, &e.a, true, 0);
    inv_context_global(&e);
    g_assert_cmpint(pt_read(&e.a, IOVA_A), ==, 0xaaaa0001);
    set_context(&e, &e.a, false, 0);
    inv_context_global(&e);
    g_assert_cmpint(pt_read(&e.a, IOVA_A), ==, -EFAULT);
    g_assert_cmpint(pt_read(&e.a, GPA_A), ==, -EFAULT);

    /* Blocked: in the shared blocking context, the only one allocated */
    g_assert_cmpuint(STAT(&e, "pv_contexts"), ==, 1);
    g_assert_cmpuint(STAT(&e, "pv_attached"), ==, 1);

    /* TE off: the default context, no context left */
    wr32(&e, GCMD, 0);
    g_assert_cmpint(pt_read(&e.a, GPA_A), ==, 0xaaaa0001);
    g_assert_cmpuint(STAT(&e, "pv_attached"), ==, 0);
    g_assert_cmpuint(STAT(&e, "pv_contexts"), ==, 0);
    env_quit(&e);
}

/* Reboot leaves no device outside the default context and no mapping */
static void test_reset(void)
{
    Env e;
    int i;

    env_init(&e, "", true);
    qtest_writel(e.qts, GPA_A, 0xaaaa0001);
    enable(&e, &e.a);
    set_context(&e, &e.b, true, 0);
    inv_context_global(&e);
    for (i = 0; i < 16; i++) {
        map4k(&e, &e.a, IOVA_A + i * 0x1000ULL, GPA_A + i * 0x1000ULL,
              PTE_RW);
        map4k(&e, &e.b, IOVA_A + i * 0x1000ULL, GPA_A + i * 0x1000ULL,
              PTE_R);
    }
    inv_domain(&e);
    g_assert_cmpuint(STAT(&e, "pv_contexts"), ==, 2);
    g_assert_cmpuint(STAT(&e, "pv_attached"), ==, 2);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 32);
    g_assert_cmpint(pt_read(&e.b, IOVA_A), ==, 0xaaaa0001);

    qtest_system_reset(e.qts);
    g_assert_cmphex(qtest_readl(e.qts, BASE + GSTS), ==, 0);
    g_assert_cmpuint(STAT(&e, "pv_contexts"), ==, 0);
    g_assert_cmpuint(STAT(&e, "pv_attached"), ==, 0);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 0);
    /* The reset cleared the device's BAR: set it up again */
    g_free(e.a.dev);
    pt_find(&e, &e.a, DEV_A_SLOT);
    g_assert_cmpint(pt_read(&e.a, GPA_A), ==, 0xaaaa0001);
    env_quit(&e);
}

/* The hypervisor's limits: the faults hardware would give, DMA blocked */
static void test_limits(void)
{
    Env e;
    int i;

    /* Two contexts: one for a device, the last kept for blocking */
    env_init(&e, ",x-double-pv-max-ctx=2,x-double-pv-pool-pages=16", true);
    qtest_writel(e.qts, GPA_A, 0xaaaa0001);
    enable(&e, &e.a);
    for (i = 0; i < 20; i++) {
        map4k(&e, &e.a, IOVA_A + i * 0x1000ULL, GPA_A + i * 0x1000ULL,
              PTE_RW);
    }
    qtest_writel(e.qts, GPA_A + 15 * 0x1000, 0xf00d000f);
    inv_pages(&e, IOVA_A, 5);

    /* The pool holds 16 pages: the 17th is not mapped, a read faults */
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 16);
    g_assert_cmpint(pt_read(&e.a, IOVA_A + 15 * 0x1000), ==, 0xf00d000f);
    g_assert_cmpint(pt_read(&e.a, IOVA_A + 16 * 0x1000), ==, -EFAULT);
    g_assert_true(has_fault(&e, FR_READ, e.a.devfn, IOVA_A + 16 * 0x1000));

    /* No context left for the second device: blocked, never 1:1 */
    set_context(&e, &e.b, true, 0);
    inv_context_global(&e);
    g_assert_true(has_fault(&e, FR_CTX_INVALID, e.b.devfn, 0));
    g_assert_cmpint(pt_read(&e.b, GPA_A), ==, -EFAULT);
    g_assert_cmpint(pt_read(&e.b, IOVA_A), ==, -EFAULT);
    g_assert_cmpuint(STAT(&e, "pv_attached"), ==, 2);
    env_quit(&e);
}

/*
 * Hypervisor calls per guest operation, as a driver in caching mode makes
 * them: strict mode invalidates every map and unmap page-selectively; lazy
 * mode invalidates maps the same way but frees IOVAs in batches followed by
 * one domain-selective flush.  Buffers of @pages pages, contiguous in IOVA
 * and (@scattered false) in guest memory or not.  Printed as
 * "pv-iommu-calls MODE SHAPE ..." lines for make bench; the assertions
 * hold the mirror to one call per run of contiguous pages.
 */
static void hypercalls_case(bool strict, unsigned pages, bool scattered)
{
    const unsigned total = 1024;
    const unsigned am = ctz32(pages);
    uint64_t issued0, invoked0, inv = 0, issued, invoked;
    unsigned b, i;
    Env e;

    env_init(&e, "", false);
    enable(&e, &e.a);
    issued0 = page_hypercalls(&e, false);
    invoked0 = page_hypercalls(&e, true);
    for (b = 0; b < total / pages; b++) {
        uint64_t iova = IOVA_BULK + (uint64_t)b * pages * 0x1000;

        for (i = 0; i < pages; i++) {
            unsigned n = b * pages + i;
            uint64_t gpa = BULK_GPA + (scattered ? (n * 37) % total : n) *
                           0x1000ULL;

            map4k(&e, &e.a, iova + i * 0x1000ULL, gpa, PTE_RW);
        }
        inv_pages(&e, iova, am);
        inv++;
    }
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, total);
    for (b = 0; b < total / pages; b++) {
        uint64_t iova = IOVA_BULK + (uint64_t)b * pages * 0x1000;

        for (i = 0; i < pages; i++) {
            map4k(&e, &e.a, iova + i * 0x1000ULL, 0, 0);
        }
        if (strict) {
            inv_pages(&e, iova, am);
            inv++;
        }
    }
    if (!strict) {
        inv_domain(&e);
        inv++;
    }
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 0);
    issued = page_hypercalls(&e, false) - issued0;
    invoked = page_hypercalls(&e, true) - invoked0;
    g_test_message("pv-iommu-calls %s %u-page-%s invalidations %" PRIu64
                   " hypercalls %" PRIu64 " with-restarts %" PRIu64
                   " pages %u", strict ? "strict" : "lazy", pages,
                   scattered ? "scattered" : "contiguous", inv, issued,
                   invoked, 2 * total);
    /* One hypercall per invalidation, however many pages it covers */
    g_assert_cmpuint(issued, ==, inv);
    env_quit(&e);
}

/* One mirrored device, translation and queued invalidation on */
static void env_init_queued(Env *e)
{
    env_init(e, "", false);
    enable(e, &e->a);
    wr64(e, IQA, QUEUE_GPA);
    wr32(e, GCMD, GCMD_TE | GCMD_QIE);
}

/*
 * Queued invalidation: a batch of page-selective descriptors is one sync,
 * complete when the wait descriptor that follows reports
 */
static void test_queued(void)
{
    uint64_t calls;
    unsigned i;
    Env e;

    env_init_queued(&e);
    for (i = 0; i < 200; i++) {
        uint64_t iova = IOVA_BULK + i * 0x1000ULL;

        map4k(&e, &e.a, iova, BULK_GPA + ((i * 37) % 200) * 0x1000ULL,
              PTE_RW);
        /* IOTLB page-selective, domain DID, one page */
        qtest_writeq(e.qts, QUEUE_GPA + i * 16,
                     0x2 | (3 << 4) | ((uint64_t)DID << 16));
        qtest_writeq(e.qts, QUEUE_GPA + i * 16 + 8, iova);
    }
    qtest_writel(e.qts, BULK_GPA + 37 * 0x1000, 0x37370001);
    /* Wait with status write */
    qtest_writeq(e.qts, QUEUE_GPA + 200 * 16,
                 0x5 | (1 << 5) | (0x600dULL << 32));
    qtest_writeq(e.qts, QUEUE_GPA + 200 * 16 + 8, STATUS_GPA);
    qtest_writel(e.qts, STATUS_GPA, 0);
    calls = page_hypercalls(&e, false);
    wr64(&e, IQT, 201 << 4);
    g_assert_cmphex(qtest_readl(e.qts, STATUS_GPA), ==, 0x600d);
    g_assert_cmphex(rd64(&e, IQH), ==, 201 << 4);
    g_assert_cmpuint(page_hypercalls(&e, false) - calls, ==, 1);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, 200);
    g_assert_cmpint(pt_read(&e.a, IOVA_BULK + 0x1000), ==, 0x37370001);
    env_quit(&e);
}

/*
 * A hostile batch: 127 page-selective invalidations, each followed by a
 * wait, in one IQT write.  The batch sees one state of the tables, so after
 * a few syncs the next covers the whole space and the rest need none: a
 * handful of hypercalls instead of one per wait, and every page right.
 */
static void test_queued_storm(void)
{
    const unsigned n = 127;
    uint64_t calls;
    unsigned i;
    Env e;

    env_init_queued(&e);
    for (i = 0; i < n; i++) {
        uint64_t iova = IOVA_BULK + i * 0x1000ULL;

        map4k(&e, &e.a, iova, BULK_GPA + i * 0x1000ULL, PTE_RW);
        qtest_writel(e.qts, BULK_GPA + i * 0x1000ULL, 0x5700 + i);
        qtest_writeq(e.qts, QUEUE_GPA + 2 * i * 16,
                     0x2 | (3 << 4) | ((uint64_t)DID << 16));
        qtest_writeq(e.qts, QUEUE_GPA + 2 * i * 16 + 8, iova);
        qtest_writeq(e.qts, QUEUE_GPA + (2 * i + 1) * 16,
                     0x5 | (1 << 5) | ((uint64_t)i << 32));
        qtest_writeq(e.qts, QUEUE_GPA + (2 * i + 1) * 16 + 8, STATUS_GPA);
    }
    calls = page_hypercalls(&e, false);
    wr64(&e, IQT, (2 * n) << 4);
    g_assert_cmphex(rd64(&e, IQH), ==, (2 * n) << 4);
    g_assert_cmphex(qtest_readl(e.qts, STATUS_GPA), ==, n - 1);
    g_assert_cmpuint(page_hypercalls(&e, false) - calls, <=, 5);
    g_assert_cmpuint(STAT(&e, "pv_mappings"), ==, n);
    for (i = 0; i < n; i++) {
        g_assert_cmpint(pt_read(&e.a, IOVA_BULK + i * 0x1000ULL), ==,
                        0x5700 + i);
    }
    env_quit(&e);
}

static void test_hypercalls(void)
{
    hypercalls_case(true, 1, false);
    hypercalls_case(false, 1, false);
    hypercalls_case(true, 64, false);
    hypercalls_case(false, 64, false);
    hypercalls_case(true, 64, true);
    hypercalls_case(false, 64, true);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/xen-viommu/pv-iommu/config", test_config);
    qtest_add_func("/xen-viommu/pv-iommu/mirror", test_mirror);
    qtest_add_func("/xen-viommu/pv-iommu/reset", test_reset);
    qtest_add_func("/xen-viommu/pv-iommu/limits", test_limits);
    qtest_add_func("/xen-viommu/pv-iommu/queued", test_queued);
    qtest_add_func("/xen-viommu/pv-iommu/queued-storm", test_queued_storm);
    qtest_add_func("/xen-viommu/pv-iommu/hypercalls", test_hypercalls);
    return g_test_run();
}
