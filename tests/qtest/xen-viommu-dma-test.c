/*
 * qtest for xen-viommu DMA remapping: the edu device does DMA through the
 * unit, with root/context/page tables written into guest RAM the way a
 * guest driver would, and the test checks where the bytes land and what
 * faults are recorded
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"

/* Unit registers */
#define BASE        0xfed90000ULL
#define GCMD        0x18
#define GSTS        0x1c
#define RTADDR      0x20
#define FSTS        0x34
#define FECTL       0x38
#define FEDATA      0x3c
#define FEADDR      0x40
#define IQH         0x80
#define IQT         0x88
#define IQA         0x90
#define IVA         0x100
#define IOTLB       0x108
#define FRCD        0x200
#define NR_FRCD     8

#define GCMD_TE     (1U << 31)
#define GCMD_SRTP   (1U << 30)
#define GCMD_QIE    (1U << 26)
#define FSTS_PPF    (1U << 1)
#define FECTL_IM    (1U << 31)
#define FECTL_IP    (1U << 30)
#define FRCD_F      (1ULL << 63)
#define FRCD_T      (1ULL << 62)

/* Fault reasons */
#define FR_ROOT_NP  0x1
#define FR_CTX_NP   0x2
#define FR_BEYOND   0x4
#define FR_WRITE    0x5
#define FR_READ     0x6
#define FR_CTX_INV  0x3
#define FR_PTE_RSVD 0xc
#define FR_INTR     0xe

/* Second-level PTE bits */
#define PTE_R       1ULL
#define PTE_W       2ULL
#define PTE_RW      (PTE_R | PTE_W)
#define PTE_PS      (1ULL << 7)

/* edu: BAR0 registers, DMA engine with a 4 KiB buffer at EDU_BUF */
#define EDU_DEVFN   QPCI_DEVFN(4, 0)
#define EDU_SID     EDU_DEVFN           /* bus 0 */
#define EDU_ID      0x00
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_RUN 1
#define EDU_CMD_TO_RAM 2
#define EDU_BUF     0x40000ULL

/* Guest RAM layout (-m 512) */
#define ROOT_GPA    0x1000000ULL        /* 16 MiB */
#define CTX_GPA     0x1001000ULL
#define TABLES_GPA  0x1100000ULL        /* page tables, bump allocated */
#define TABLES_END  0x3000000ULL
#define QUEUE_GPA   0x3800000ULL
#define STATUS_GPA  0x3900000ULL
#define PRELOAD_GPA 0x3a00000ULL        /* edu buffer preload (TE off) */
#define GPA_A       0x5000000ULL
#define GPA_B       0x5100000ULL
#define GPA_C       0x5200000ULL
#define GPA_2M      0x6000000ULL        /* 2 MiB aligned */
#define OUTSIDE_RAM     0x3ff000000000ULL   /* below HAW, nothing there */

#define LEN         256
#define DID         0x2a

typedef struct Env {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *edu;
    QPCIBar bar;
    unsigned levels;
    uint64_t slpt;
    uint64_t next_table;
    uint32_t gcmd;          /* enables currently on (GCMD is not sticky) */
} Env;

static uint32_t rd32(Env *e, uint64_t off)
{
    return qtest_readl(e->qts, BASE + off);
}

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

static void pattern(uint8_t *buf, size_t len, uint8_t seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = seed + i * 7;
    }
}

/* Guest RAM at @gpa holds the pattern @seed */
static bool ram_has(Env *e, uint64_t gpa, uint8_t seed)
{
    uint8_t want[LEN], got[LEN];

    pattern(want, LEN, seed);
    qtest_memread(e->qts, gpa, got, LEN);
    return !memcmp(want, got, LEN);
}

static bool ram_is_zero(Env *e, uint64_t gpa)
{
    uint8_t got[LEN];
    int i;

    qtest_memread(e->qts, gpa, got, LEN);
    for (i = 0; i < LEN; i++) {
        if (got[i]) {
            return false;
        }
    }
    return true;
}

static void ram_fill(Env *e, uint64_t gpa, uint8_t seed)
{
    uint8_t buf[LEN];

    pattern(buf, LEN, seed);
    qtest_memwrite(e->qts, gpa, buf, LEN);
}

/* edu DMA of LEN bytes between its buffer and @iova; waits for completion */
static void edu_dma(Env *e, bool to_ram, uint64_t iova)
{
    qpci_io_writeq(e->edu, e->bar, EDU_DMA_SRC, to_ram ? EDU_BUF : iova);
    qpci_io_writeq(e->edu, e->bar, EDU_DMA_DST, to_ram ? iova : EDU_BUF);
    qpci_io_writeq(e->edu, e->bar, EDU_DMA_CNT, LEN);
    qpci_io_writeq(e->edu, e->bar, EDU_DMA_CMD,
                   EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
    /* The DMA runs from a 100 ms virtual-clock timer */
    qtest_clock_step(e->qts, 200 * 1000 * 1000);
    g_assert_cmphex(qpci_io_readq(e->edu, e->bar, EDU_DMA_CMD) & EDU_CMD_RUN,
                    ==, 0);
}

/* test_oracle runs workloads with the unit's architectural checker on */
static bool oracle_on;

static void env_init(Env *e, const char *machine, const char *props)
{
    memset(e, 0, sizeof(*e));
    e->qts = qtest_initf("-M %s -m 512 -nodefaults -display none "
                         "-device xen-viommu%s%s%s "
                         "-device edu,addr=04.0,dma_mask=0xffffffffffffffff",
                         machine, props[0] ? "," : "", props,
                         oracle_on ? ",x-oracle=on,id=xvi" : "");
    if (oracle_on) {
        QDict *r = qtest_qmp(e->qts, "{ 'execute': 'qom-get', 'arguments': "
                             "{ 'path': 'xvi', 'property': 'x-oracle' } }");

        g_assert_true(qdict_get_bool(r, "return"));
        qobject_unref(r);
    }
    e->bus = qpci_new_pc(e->qts, NULL);
    e->edu = qpci_device_find(e->bus, EDU_DEVFN);
    g_assert_nonnull(e->edu);
    qpci_device_enable(e->edu);     /* memory space and bus master */
    e->bar = qpci_iomap(e->edu, 0, NULL);
    g_assert_cmphex(qpci_io_readl(e->edu, e->bar, EDU_ID), ==, 0x010000ed);
    e->next_table = TABLES_GPA;
    qtest_memset(e->qts, ROOT_GPA, 0, 0x2000);

    /* Translation is off: preload the edu buffer with pattern 0x11 */
    ram_fill(e, PRELOAD_GPA, 0x11);
    edu_dma(e, false, PRELOAD_GPA);
}

static void env_quit(Env *e)
{
    g_free(e->edu);
    qpci_free_pc(e->bus);
    qtest_quit(e->qts);
}

static uint64_t alloc_table(Env *e)
{
    uint64_t t = e->next_table;

    e->next_table += 0x1000;
    g_assert_cmphex(e->next_table, <=, TABLES_END);
    qtest_memset(e->qts, t, 0, 0x1000);
    return t;
}

static void set_root(Env *e, bool present)
{
    qtest_writeq(e->qts, ROOT_GPA, present ? CTX_GPA | 1 : 0);
    qtest_writeq(e->qts, ROOT_GPA + 8, 0);
}

/* Context entry of the edu: @tt 0 (translate) or 2 (pass-through) */
static void set_context(Env *e, bool present, unsigned tt, bool fpd)
{
    uint64_t lo = e->slpt | (tt << 2) | (fpd ? 2 : 0) | (present ? 1 : 0);
    uint64_t hi = (e->levels - 2) | (DID << 8);

    qtest_writeq(e->qts, CTX_GPA + EDU_DEVFN * 16, lo);
    qtest_writeq(e->qts, CTX_GPA + EDU_DEVFN * 16 + 8, hi);
}

static void gcmd(Env *e, uint32_t oneshot)
{
    wr32(e, GCMD, e->gcmd | oneshot);
    g_assert_cmphex(rd32(e, GSTS) & (e->gcmd | oneshot), ==,
                    e->gcmd | oneshot);
}

/* Point the unit at the root table and turn translation on */
static void enable_translation(Env *e)
{
    wr64(e, RTADDR, ROOT_GPA);
    gcmd(e, GCMD_SRTP);
    e->gcmd |= GCMD_TE;
    gcmd(e, 0);
}

/* Full legacy-mode setup with an empty @levels-level table for the edu */
static void setup(Env *e, unsigned levels, unsigned tt, bool fpd)
{
    e->levels = levels;
    e->slpt = alloc_table(e);
    set_root(e, true);
    set_context(e, true, tt, fpd);
    enable_translation(e);
}

/* Address of the entry for @iova at @level, creating upper tables */
static uint64_t pte_addr(Env *e, uint64_t iova, unsigned level)
{
    uint64_t table = e->slpt;
    unsigned l;

    for (l = e->levels; ; l--) {
        uint64_t ent = table + ((iova >> (12 + 9 * (l - 1))) & 0x1ff) * 8;
        uint64_t pte;

        if (l == level) {
            return ent;
        }
        pte = qtest_readq(e->qts, ent);
        if (!(pte & PTE_RW)) {
            pte = alloc_table(e) | PTE_RW;
            qtest_writeq(e->qts, ent, pte);
        }
        table = pte & 0xffffffffff000ULL;
    }
}

static void map(Env *e, uint64_t iova, uint64_t gpa, uint64_t perm,
                unsigned level)
{
    qtest_writeq(e->qts, pte_addr(e, iova, level),
                 gpa | perm | (level > 1 ? PTE_PS : 0));
}

static void map4k(Env *e, uint64_t iova, uint64_t gpa, uint64_t perm)
{
    map(e, iova, gpa, perm, 1);
}

/* Page-selective IOTLB invalidation through the registers */
static void psi_reg(Env *e, uint64_t iova)
{
    wr64(e, IVA, iova & ~0xfffULL);
    wr64(e, IOTLB, (1ULL << 63) | (3ULL << 60) | ((uint64_t)DID << 32));
    /* IVT clear, IAIG = page */
    g_assert_cmphex(rd64(e, IOTLB) >> 57, ==, (3 << 3) | 3);
}

static void check_no_fault(Env *e)
{
    g_assert_cmphex(rd32(e, FSTS), ==, 0);
    g_assert_cmphex(rd64(e, FRCD + 8), ==, 0);
}

/* Faults were recorded and cleared: none pending (FRI may stay) */
static void check_none_pending(Env *e)
{
    int i;

    g_assert_cmphex(rd32(e, FSTS) & ~0xff00u, ==, 0);
    for (i = 0; i < NR_FRCD; i++) {
        g_assert_cmphex(rd64(e, FRCD + i * 16 + 8) & FRCD_F, ==, 0);
    }
}

/* Record @i holds a fault of the edu at the page of @iova */
static void check_fault(Env *e, unsigned i, uint64_t iova, unsigned reason,
                        bool read)
{
    uint64_t hi = rd64(e, FRCD + i * 16 + 8);

    g_assert_cmphex(rd64(e, FRCD + i * 16), ==, iova & ~0xfffULL);
    g_assert_cmphex(hi & FRCD_F, ==, FRCD_F);
    g_assert_cmphex(!!(hi & FRCD_T), ==, read);
    g_assert_cmphex((hi >> 32) & 0xff, ==, reason);
    g_assert_cmphex(hi & 0xffff, ==, EDU_SID);
    g_assert_cmphex(rd32(e, FSTS) & FSTS_PPF, ==, FSTS_PPF);
    /* Exactly one record per faulting DMA */
    g_assert_cmphex(rd64(e, FRCD + ((i + 1) % NR_FRCD) * 16 + 8), ==, 0);
}

/* Tests ------------------------------------------------------------------ */

#define IOVA_R      0x12340000ULL
#define IOVA_W      0x0badc000ULL

static void translated_rw(const char *machine)
{
    Env e;

    env_init(&e, machine, "");
    setup(&e, 4, 0, false);
    map4k(&e, IOVA_R, GPA_A, PTE_R);
    map4k(&e, IOVA_W, GPA_B, PTE_W);
    ram_fill(&e, GPA_A + 0x100, 0x22);
    /* What an untranslated access would find or clobber instead */
    ram_fill(&e, IOVA_R + 0x100, 0x99);

    edu_dma(&e, false, IOVA_R + 0x100);
    edu_dma(&e, true, IOVA_W + 0x80);
    g_assert_true(ram_has(&e, GPA_B + 0x80, 0x22));
    g_assert_true(ram_is_zero(&e, IOVA_W + 0x80));
    g_assert_true(ram_has(&e, IOVA_R + 0x100, 0x99));
    check_no_fault(&e);
    env_quit(&e);
}

static void test_translated_rw(void)
{
    translated_rw("q35");
}

static void test_pc(void)
{
    translated_rw("pc");
}

static void test_fault_unmapped(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    g_assert_cmphex(rd32(&e, FECTL), ==, FECTL_IM);
    wr32(&e, FEDATA, 0x40);
    wr32(&e, FEADDR, 0xfee00000);

    /* Device write to an unmapped IOVA: reason 5, nothing written */
    edu_dma(&e, true, 0x7777040);
    check_fault(&e, 0, 0x7777040, FR_WRITE, false);
    g_assert_true(ram_is_zero(&e, 0x7777040));
    g_assert_cmphex((rd32(&e, FSTS) >> 8) & 0xff, ==, 0);
    /* Event masked: pending in IP; unmasking delivers it */
    g_assert_cmphex(rd32(&e, FECTL), ==, FECTL_IM | FECTL_IP);
    wr32(&e, FECTL, 0);
    g_assert_cmphex(rd32(&e, FECTL), ==, 0);

    /* Software clears the record: PPF goes */
    wr64(&e, FRCD + 8, FRCD_F);
    g_assert_cmphex(rd64(&e, FRCD + 8) & FRCD_F, ==, 0);
    g_assert_cmphex(rd32(&e, FSTS) & FSTS_PPF, ==, 0);

    /* Device read: reason 6 in the next record, event sent at once */
    edu_dma(&e, false, 0x8888000);
    check_fault(&e, 1, 0x8888000, FR_READ, true);
    g_assert_cmphex((rd32(&e, FSTS) >> 8) & 0xff, ==, 1);
    g_assert_cmphex(rd32(&e, FECTL), ==, 0);
    env_quit(&e);
}

static void test_read_only(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    map4k(&e, IOVA_R, GPA_A, PTE_R);
    map4k(&e, IOVA_W, GPA_B, PTE_W);
    ram_fill(&e, GPA_A, 0x33);

    /* Read works: the bytes come back out through the writable page */
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, GPA_B, 0x33));
    check_no_fault(&e);

    /* Write to the read-only page faults and changes nothing */
    ram_fill(&e, GPA_A, 0x44);
    edu_dma(&e, true, IOVA_R);
    check_fault(&e, 0, IOVA_R, FR_WRITE, false);
    g_assert_true(ram_has(&e, GPA_A, 0x44));

    /* And the write-only page cannot be read */
    edu_dma(&e, false, IOVA_W);
    check_fault(&e, 1, IOVA_W, FR_READ, true);
    env_quit(&e);
}

static void test_fault_pte_rsvd(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    /* Output address bit 50 is above the host address width */
    map4k(&e, IOVA_W, GPA_B | (1ULL << 50), PTE_RW);
    edu_dma(&e, true, IOVA_W);
    check_fault(&e, 0, IOVA_W, FR_PTE_RSVD, false);
    g_assert_true(ram_is_zero(&e, GPA_B));
    env_quit(&e);
}

static void test_fault_ctx_np(void)
{
    Env e;

    env_init(&e, "q35", "");
    e.levels = 4;
    e.slpt = alloc_table(&e);
    map4k(&e, IOVA_W, GPA_B, PTE_RW);
    set_root(&e, true);
    set_context(&e, false, 0, false);
    enable_translation(&e);
    edu_dma(&e, true, IOVA_W);
    check_fault(&e, 0, IOVA_W, FR_CTX_NP, false);
    g_assert_true(ram_is_zero(&e, GPA_B));
    env_quit(&e);
}

static void test_fault_root_np(void)
{
    Env e;

    env_init(&e, "q35", "");
    e.levels = 4;
    e.slpt = alloc_table(&e);
    map4k(&e, IOVA_W, GPA_B, PTE_RW);
    set_root(&e, false);
    set_context(&e, true, 0, false);
    enable_translation(&e);
    edu_dma(&e, false, IOVA_W);
    check_fault(&e, 0, IOVA_W, FR_ROOT_NP, true);
    env_quit(&e);
}

/*
 * A root entry rewritten without an invalidation: the unit goes on from
 * the context entry it holds, and the record says what that walk found
 * (a leaf not present, 0x5), not what a fresh walk would (reserved bits
 * in the root entry, 0xA).  The oracle accepts either; fuzzing found it
 * asking for the second.
 */
static void test_stale_root(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    map4k(&e, IOVA_W, GPA_B, PTE_RW);
    edu_dma(&e, true, IOVA_W);                  /* the context is cached */
    g_assert_true(ram_has(&e, GPA_B, 0x11));
    qtest_writeq(e.qts, ROOT_GPA + 8, 1ULL << 40);      /* reserved bit */
    edu_dma(&e, true, 0x7777000);
    check_fault(&e, 0, 0x7777000, FR_WRITE, false);
    g_assert_true(ram_is_zero(&e, 0x7777000));
    env_quit(&e);
}

static void test_fpd(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, true);
    map4k(&e, IOVA_W, GPA_B, PTE_RW);
    edu_dma(&e, true, 0x7777000);
    g_assert_true(ram_is_zero(&e, 0x7777000));
    /* The context still translates what is mapped */
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, GPA_B, 0x11));
    edu_dma(&e, false, 0x8888000);
    /* Faults happened (nothing written), but none was recorded */
    check_no_fault(&e);
    g_assert_cmphex(rd32(&e, FECTL), ==, FECTL_IM);
    env_quit(&e);
}

static void test_superpages(void)
{
    uint64_t iova_2m = 0x40600000ULL, iova_1g = 0x8000000000ULL;
    uint64_t off_1g = 0x7123400ULL;
    Env e;

    env_init(&e, "q35", "aw-bits=48");
    setup(&e, 4, 0, false);
    map(&e, iova_2m, GPA_2M, PTE_RW, 2);
    map(&e, iova_1g, 0, PTE_RW, 3);

    /* Anywhere in the 2 MiB page */
    edu_dma(&e, true, iova_2m + 0x12340);
    g_assert_true(ram_has(&e, GPA_2M + 0x12340, 0x11));
    edu_dma(&e, true, iova_2m + 0x1ff000);
    g_assert_true(ram_has(&e, GPA_2M + 0x1ff000, 0x11));
    /* 1 GiB page at GPA 0 */
    edu_dma(&e, true, iova_1g + off_1g);
    g_assert_true(ram_has(&e, off_1g, 0x11));
    /* Reads through both */
    ram_fill(&e, off_1g + 0x100000, 0x55);
    edu_dma(&e, false, iova_1g + off_1g + 0x100000);
    edu_dma(&e, true, iova_2m + 0x4000);
    g_assert_true(ram_has(&e, GPA_2M + 0x4000, 0x55));
    check_no_fault(&e);
    env_quit(&e);
}

static void test_pass_through(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 2, false);
    edu_dma(&e, true, 0x7200000);
    g_assert_true(ram_has(&e, 0x7200000, 0x11));
    ram_fill(&e, 0x7300000, 0x66);
    edu_dma(&e, false, 0x7300000);
    edu_dma(&e, true, 0x7400000);
    g_assert_true(ram_has(&e, 0x7400000, 0x66));
    check_no_fault(&e);
    env_quit(&e);
}

/* Map IOVA_W to A, use it, repoint it to B: the IOTLB keeps A until @inv */
static void stale_then_invalidate(Env *e, void (*inv)(Env *e, uint64_t iova))
{
    map4k(e, IOVA_W, GPA_A, PTE_RW);
    edu_dma(e, true, IOVA_W);
    g_assert_true(ram_has(e, GPA_A, 0x11));

    qtest_memset(e->qts, GPA_A, 0, LEN);
    map4k(e, IOVA_W, GPA_B, PTE_RW);
    edu_dma(e, true, IOVA_W);
    g_assert_true(ram_has(e, GPA_A, 0x11));
    g_assert_true(ram_is_zero(e, GPA_B));

    qtest_memset(e->qts, GPA_A, 0, LEN);
    inv(e, IOVA_W);
    edu_dma(e, true, IOVA_W);
    g_assert_true(ram_has(e, GPA_B, 0x11));
    g_assert_true(ram_is_zero(e, GPA_A));

    /* Unmap and invalidate: the DMA faults */
    qtest_memset(e->qts, GPA_B, 0, LEN);
    qtest_writeq(e->qts, pte_addr(e, IOVA_W, 1), 0);
    inv(e, IOVA_W);
    check_no_fault(e);
    edu_dma(e, true, IOVA_W);
    check_fault(e, 0, IOVA_W, FR_WRITE, false);
    g_assert_true(ram_is_zero(e, GPA_A));
    g_assert_true(ram_is_zero(e, GPA_B));
}

static void test_psi_registers(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    /* A neighbour page is not affected by the PSI */
    map4k(&e, IOVA_W + 0x1000, GPA_C, PTE_RW);
    edu_dma(&e, true, IOVA_W + 0x1000);
    g_assert_true(ram_has(&e, GPA_C, 0x11));
    map4k(&e, IOVA_W + 0x1000, GPA_C + 0x10000, PTE_RW);

    stale_then_invalidate(&e, psi_reg);

    qtest_memset(e.qts, GPA_C, 0, LEN);
    edu_dma(&e, true, IOVA_W + 0x1000);
    g_assert_true(ram_has(&e, GPA_C, 0x11));
    env_quit(&e);
}

/*
 * IVA holds input addresses up to the guest address width: a
 * page-selective invalidation above 2^46 hits that page, not another one
 */
static void test_psi_wide_iva(void)
{
    uint64_t iova = 0x512345678000ULL;     /* bit 46 set, below 2^48 */
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    g_assert_cmphex(iova >> 46, !=, 0);
    map4k(&e, iova, GPA_A, PTE_RW);
    edu_dma(&e, true, iova);
    g_assert_true(ram_has(&e, GPA_A, 0x11));

    /* Remapped: the IOTLB still holds GPA_A until the PSI */
    qtest_memset(e.qts, GPA_A, 0, LEN);
    map4k(&e, iova, GPA_B, PTE_RW);
    psi_reg(&e, iova);
    g_assert_cmphex(rd64(&e, IVA), ==, iova);
    edu_dma(&e, true, iova);
    g_assert_true(ram_has(&e, GPA_B, 0x11));
    g_assert_true(ram_is_zero(&e, GPA_A));
    check_no_fault(&e);
    env_quit(&e);
}

/*
 * Nothing is translated into the interrupt range (VT-d 3.15): a page that
 * maps there faults with 0xE instead of reaching the APIC's window; a
 * superpage overlapping it works for its other pages
 */
static void test_intr_range(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    wr32(&e, FEDATA, 0x40);
    wr32(&e, FEADDR, 0xfee00000);

    map4k(&e, IOVA_W, 0xfee00000ULL, PTE_RW);
    edu_dma(&e, true, IOVA_W);
    check_fault(&e, 0, IOVA_W, FR_INTR, false);
    wr64(&e, FRCD + 8, FRCD_F);

    /* 2 MiB at 0xfee00000: blocked in its first half only */
    map(&e, 0x40000000ULL, 0xfee00000ULL, PTE_RW, 2);
    edu_dma(&e, true, 0x40000000ULL + 0x80000);
    check_fault(&e, 1, 0x40000000ULL + 0x80000, FR_INTR, false);
    wr64(&e, FRCD + 16 + 8, FRCD_F);
    /* Nothing backs 0xfef80000: the write goes nowhere, but it is allowed */
    edu_dma(&e, true, 0x40000000ULL + 0x180000);
    check_none_pending(&e);

    /* The same page through a 4 KiB mapping elsewhere is fine */
    map4k(&e, IOVA_W, GPA_A, PTE_RW);
    psi_reg(&e, IOVA_W);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, GPA_A, 0x11));
    check_none_pending(&e);
    env_quit(&e);
}

/* A failed read of the table SLPTPTR names is an invalid context (0x3) */
static void test_fault_slptptr(void)
{
    Env e;

    env_init(&e, "q35", "");
    e.levels = 4;
    e.slpt = OUTSIDE_RAM;           /* nothing there: the read fails */
    set_root(&e, true);
    set_context(&e, true, 0, false);
    enable_translation(&e);
    edu_dma(&e, true, IOVA_W);
    check_fault(&e, 0, IOVA_W, FR_CTX_INV, false);
    env_quit(&e);
}

/*
 * Clearing the F bit of the last pending record makes PPF evaluate to
 * clear, and IP clears with it (VT-d 10.4.10): unmasking later sends
 * nothing
 */
static void test_fault_ip_cleared(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    wr32(&e, FEDATA, 0x40);
    wr32(&e, FEADDR, 0xfee00000);
    edu_dma(&e, true, 0x7777040);
    check_fault(&e, 0, 0x7777040, FR_WRITE, false);
    g_assert_cmphex(rd32(&e, FECTL), ==, FECTL_IM | FECTL_IP);

    wr64(&e, FRCD + 8, FRCD_F);
    g_assert_cmphex(rd32(&e, FSTS), ==, 0);
    g_assert_cmphex(rd32(&e, FECTL), ==, FECTL_IM);
    wr32(&e, FECTL, 0);
    g_assert_cmphex(rd32(&e, FECTL), ==, 0);

    /* A new fault while unmasked is sent at once, IP stays clear */
    edu_dma(&e, false, 0x8888000);
    check_fault(&e, 1, 0x8888000, FR_READ, true);
    g_assert_cmphex(rd32(&e, FECTL), ==, 0);
    env_quit(&e);
}

/* The DMA test device with its accesses in an iothread (dataplane-like) */
#define TD_DMA_ADDR     0x40
#define TD_DMA_CMD      0x48
#define TD_DMA_DONE     0x4c
#define TD_DMA_RESULT   0x50
#define TD_DMA_DATA     0x54
#define TD_DMA_PASID    0x58
#define TD_DMA_PASID_USER 0x100

static void td_dma(QPCIDevice *d, QPCIBar bar, uint64_t addr, bool write)
{
    uint32_t done = qpci_io_readl(d, bar, TD_DMA_DONE);
    int i;

    qpci_io_writel(d, bar, TD_DMA_ADDR, addr);
    qpci_io_writel(d, bar, TD_DMA_ADDR + 4, addr >> 32);
    qpci_io_writel(d, bar, TD_DMA_CMD, write ? 2 : 1);
    for (i = 0; i < 10000 && qpci_io_readl(d, bar, TD_DMA_DONE) == done;
         i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(qpci_io_readl(d, bar, TD_DMA_DONE), ==, done + 1);
}

/* Poll for a main-loop bottom half: at most 10 s */
static void wait_fsts(Env *e, uint32_t bits)
{
    int i;

    for (i = 0; i < 10000 && (rd32(e, FSTS) & bits) != bits; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(rd32(e, FSTS) & bits, ==, bits);
}

/*
 * translate() outside the BQL: accesses from an iothread are translated
 * there, and a fault they raise is recorded (and its event sent) in the
 * main loop, as any other fault.  The machine runs TCG (stopped, -S), whose
 * interrupt delivery insists on the BQL: a fault event sent from the
 * iothread would abort QEMU.
 */
/* What the test device's reads of TD_IOVA find */
#define TD_IOVA         (IOVA_W + 0x10)
#define TD_GPA          (GPA_A + (TD_IOVA & 0xfff))
#define TD_MARK         0x5eed1234

/*
 * A unit with @unit_props, edu at 04.0 and the DMA test device at 06.0
 * with @td_props (the machine stopped, -S), translation on through a
 * context entry for
 * the device, TD_IOVA mapped (read/write) onto TD_MARK in GPA_A; returns
 * the device with its BAR mapped
 */
static QPCIDevice *td_env_init(Env *e, const char *unit_props,
                               const char *td_props, QPCIBar *bar)
{
    const uint16_t sid = QPCI_DEVFN(6, 0);
    QPCIDevice *td;

    memset(e, 0, sizeof(*e));
    e->qts = qtest_initf("-M q35 -m 512 -nodefaults -display none "
                         "-accel tcg -S -object iothread,id=io0 "
                         "-device xen-viommu%s -device edu,addr=04.0 "
                         "-device x-xen-viommu-dma-testdev,addr=06.0%s",
                         unit_props, td_props);
    e->bus = qpci_new_pc(e->qts, NULL);
    td = qpci_device_find(e->bus, sid);
    g_assert_nonnull(td);
    qpci_device_enable(td);
    *bar = qpci_iomap(td, 0, NULL);
    e->next_table = TABLES_GPA;
    qtest_memset(e->qts, ROOT_GPA, 0, 0x2000);
    e->levels = 4;
    e->slpt = alloc_table(e);
    set_root(e, true);
    qtest_writeq(e->qts, CTX_GPA + sid * 16, e->slpt | 1);
    qtest_writeq(e->qts, CTX_GPA + sid * 16 + 8,
                 (e->levels - 2) | (DID << 8));
    enable_translation(e);
    wr32(e, FEDATA, 0x40);
    wr32(e, FEADDR, 0xfee00000);
    map4k(e, IOVA_W, GPA_A, PTE_RW);
    qtest_writel(e->qts, TD_GPA, TD_MARK);
    return td;
}

static void td_env_quit(Env *e, QPCIDevice *td)
{
    g_free(td);
    qpci_free_pc(e->bus);
    qtest_quit(e->qts);
}

/* A read of the test device at @iova works and gets @val */
static void td_read_expect(QPCIDevice *td, QPCIBar bar, uint64_t iova,
                           uint32_t val)
{
    td_dma(td, bar, iova, false);
    g_assert_cmpuint(qpci_io_readl(td, bar, TD_DMA_RESULT), ==, 0);
    g_assert_cmphex(qpci_io_readl(td, bar, TD_DMA_DATA), ==, val);
}

static void test_iothread_dma(void)
{
    const uint16_t sid = QPCI_DEVFN(6, 0);
    QPCIDevice *td;
    QPCIBar bar;
    uint64_t hi;
    Env e;

    td = td_env_init(&e, "", ",iothread=io0", &bar);

    /* Translated in the iothread */
    td_read_expect(td, bar, TD_IOVA, TD_MARK);
    check_no_fault(&e);

    /* A fault there: recorded by the main loop, its event sent there */
    wr32(&e, FECTL, 0);
    td_dma(td, bar, 0x8888000, true);
    g_assert_cmpuint(qpci_io_readl(td, bar, TD_DMA_RESULT), !=, 0);
    wait_fsts(&e, FSTS_PPF);
    hi = rd64(&e, FRCD + 8);
    g_assert_cmphex(rd64(&e, FRCD), ==, 0x8888000);
    g_assert_cmphex((hi >> 32) & 0xff, ==, FR_WRITE);
    g_assert_cmphex(hi & 0xffff, ==, sid);
    g_assert_false(hi & FRCD_T);
    g_assert_cmphex(rd32(&e, FECTL), ==, 0);
    /* Masked: the next one leaves the event pending */
    wr64(&e, FRCD + 8, FRCD_F);
    wr32(&e, FECTL, FECTL_IM);
    td_dma(td, bar, 0x9999000, false);
    wait_fsts(&e, FSTS_PPF);
    g_assert_cmphex(rd32(&e, FECTL), ==, FECTL_IM | FECTL_IP);

    td_env_quit(&e, td);
}

/*
 * A request with a PASID to a unit in legacy mode without PASID support
 * is blocked, unrecorded, whatever the tables say for requests without
 * one; under x-oracle, which checks the same (and aborts QEMU if the unit
 * translated it)
 */
static void test_oracle_pasid(void)
{
    QPCIDevice *td;
    QPCIBar bar;
    Env e;

    td = td_env_init(&e, ",x-oracle=on", "", &bar);
    td_read_expect(td, bar, TD_IOVA, TD_MARK);

    qpci_io_writel(td, bar, TD_DMA_PASID, 5);
    qpci_io_writel(td, bar, TD_DMA_DATA, 0);
    td_dma(td, bar, TD_IOVA, false);
    g_assert_cmpuint(qpci_io_readl(td, bar, TD_DMA_RESULT), !=, 0);
    g_assert_cmphex(qpci_io_readl(td, bar, TD_DMA_DATA), !=, TD_MARK);
    qpci_io_writel(td, bar, TD_DMA_PASID, 5 | TD_DMA_PASID_USER);
    qpci_io_writel(td, bar, TD_DMA_DATA, 0x0bad0bad);
    td_dma(td, bar, TD_IOVA, true);
    g_assert_cmpuint(qpci_io_readl(td, bar, TD_DMA_RESULT), !=, 0);
    g_assert_cmphex(qtest_readl(e.qts, TD_GPA), ==, TD_MARK);
    check_no_fault(&e);

    /* The same page without a PASID still works */
    qpci_io_writel(td, bar, TD_DMA_PASID, 0);
    td_read_expect(td, bar, TD_IOVA, TD_MARK);

    td_env_quit(&e, td);
}

/*
 * A walk through a table outside RAM: edu's DMA source register (BAR 0 +
 * 0x80) reads back what was written, so with the BAR as the last-level
 * table its entry 16 is a leaf the guest sets by MMIO.  x-oracle reads
 * only RAM and does not check such a walk; the unit caches what it found,
 * and the oracle must not take the cached answer for a bug once the
 * tables in RAM change (fuzzing found it doing so), until the domain's
 * IOTLB invalidation.
 */
static void test_oracle_mmio_table(void)
{
    const uint64_t iova = 16 << 12;
    QPCIDevice *td, *edu;
    QPCIBar bar, edu_bar;
    uint64_t pd;
    Env e;

    td = td_env_init(&e, ",x-oracle=on", "", &bar);
    edu = qpci_device_find(e.bus, EDU_DEVFN);
    g_assert_nonnull(edu);
    qpci_device_enable(edu);
    edu_bar = qpci_iomap(edu, 0, NULL);
    g_assert_false(edu_bar.is_io);
    pd = pte_addr(&e, iova, 2);
    qtest_writeq(e.qts, pd, edu_bar.addr | PTE_RW);
    qpci_io_writeq(edu, edu_bar, EDU_DMA_SRC, (TD_GPA & ~0xfffULL) | PTE_RW);
    td_read_expect(td, bar, iova | (TD_IOVA & 0xfff), TD_MARK);

    /* The tables in RAM no longer map it; the unit still holds it */
    qtest_writeq(e.qts, pd, 0);
    td_read_expect(td, bar, iova | (TD_IOVA & 0xfff), TD_MARK);
    check_no_fault(&e);

    /* After the domain's invalidation it is gone, and checked again */
    wr64(&e, IOTLB, (1ULL << 63) | (2ULL << 60) | ((uint64_t)DID << 32));
    td_dma(td, bar, iova | (TD_IOVA & 0xfff), false);
    g_assert_cmpuint(qpci_io_readl(td, bar, TD_DMA_RESULT), !=, 0);
    g_assert_cmphex(rd64(&e, FRCD), ==, iova);
    g_assert_cmphex((rd64(&e, FRCD + 8) >> 32) & 0xff, ==, FR_READ);

    g_free(edu);
    td_env_quit(&e, td);
}

static unsigned qi_tail;

static void qi_put(Env *e, uint64_t lo, uint64_t hi)
{
    qtest_writeq(e->qts, QUEUE_GPA + qi_tail * 16, lo);
    qtest_writeq(e->qts, QUEUE_GPA + qi_tail * 16 + 8, hi);
    qi_tail++;
}

/* PSI + wait descriptor with a status write, submitted through the queue */
static void psi_qi(Env *e, uint64_t iova)
{
    uint32_t token = 0x5a000000 | qi_tail;

    qtest_writel(e->qts, STATUS_GPA, 0);
    qi_put(e, 2 | (3 << 4) | (DID << 16), iova & ~0xfffULL);
    qi_put(e, 5 | (1 << 5) | ((uint64_t)token << 32), STATUS_GPA);
    wr64(e, IQT, qi_tail << 4);
    g_assert_cmphex(qtest_readl(e->qts, STATUS_GPA), ==, token);
    g_assert_cmphex(rd64(e, IQH), ==, qi_tail << 4);
}

static void test_psi_qi(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    qi_tail = 0;
    wr64(&e, IQA, QUEUE_GPA);
    e.gcmd |= GCMD_QIE;
    gcmd(&e, 0);
    stale_then_invalidate(&e, psi_qi);
    /* A PSI for another domain leaves this one's entry cached */
    map4k(&e, IOVA_R, GPA_A, PTE_RW);
    edu_dma(&e, true, IOVA_R);
    map4k(&e, IOVA_R, GPA_C, PTE_RW);
    qtest_memset(e.qts, GPA_A, 0, LEN);
    qi_put(&e, 2 | (3 << 4) | ((DID + 1) << 16), IOVA_R);
    wr64(&e, IQT, qi_tail << 4);
    edu_dma(&e, true, IOVA_R);
    g_assert_true(ram_has(&e, GPA_A, 0x11));
    g_assert_true(ram_is_zero(&e, GPA_C));
    env_quit(&e);
}

typedef struct LevelCase {
    const char *props;
    unsigned levels;
    uint64_t iova;
} LevelCase;

/* The vhost-like listener of the unit's unmap events (x-xen-viommu-...) */
#define UL_DEVFN        QPCI_DEVFN(5, 0)
#define UL_NOTIFIERS    0x00
#define UL_EVENTS       0x04
#define UL_SEL          0x08
#define UL_EV_FIRST     0x10
#define UL_EV_LAST      0x18
#define UL_EV_NOTIFIER  0x20
#define UL_N_START      0x28
#define UL_N_END        0x30
#define UL_OUTSIDE      0x38

static uint64_t ul_rd64(QPCIDevice *d, QPCIBar bar, uint64_t off)
{
    return qpci_io_readl(d, bar, off) |
           (uint64_t)qpci_io_readl(d, bar, off + 4) << 32;
}

/* Events @first.. must be exactly @n ranges, each within its notifier */
static void ul_check(QPCIDevice *d, QPCIBar bar, uint32_t first,
                     const uint64_t (*want)[2], unsigned n)
{
    unsigned i, j;

    g_assert_cmpuint(qpci_io_readl(d, bar, UL_EVENTS), >=, first + n);
    g_assert_cmpuint(qpci_io_readl(d, bar, UL_OUTSIDE), ==, 0);
    for (i = 0; i < n; i++) {
        uint64_t lo, hi;
        bool found = false;

        qpci_io_writel(d, bar, UL_SEL, first + i);
        lo = ul_rd64(d, bar, UL_EV_FIRST);
        hi = ul_rd64(d, bar, UL_EV_LAST);
        for (j = 0; j < n; j++) {
            found |= want[j][0] == lo && want[j][1] == hi;
        }
        if (!found) {
            g_error("unexpected unmap event [0x%" PRIx64 ", 0x%" PRIx64 "]",
                    lo, hi);
        }
    }
}

/*
 * IOTLB invalidations reach listeners that, like vhost, register one
 * UNMAP notifier per section of the address space: each hears the part of
 * the invalidated range inside its own section (QEMU aborts otherwise)
 */
static void test_unmap_notifiers(void)
{
    const uint64_t top = (1ULL << 48) - 1;
    const uint64_t all[2][2] = {
        { 0, 0xfedfffffULL }, { 0xfef00000ULL, top },
    };
    const uint64_t straddle[2][2] = {
        { 0xfe000000ULL, 0xfedfffffULL }, { 0xfef00000ULL, 0xffffffffULL },
    };
    const uint64_t one[1][2] = { { 0x5000, 0x5fff } };
    QPCIDevice *ul;
    QPCIBar bar;
    Env e;
    uint32_t n;

    memset(&e, 0, sizeof(e));
    e.qts = qtest_initf("-M q35 -m 512 -nodefaults -display none "
                        "-device xen-viommu "
                        "-device x-xen-viommu-dma-testdev,addr=05.0");
    e.bus = qpci_new_pc(e.qts, NULL);
    ul = qpci_device_find(e.bus, UL_DEVFN);
    g_assert_nonnull(ul);
    qpci_device_enable(ul);
    bar = qpci_iomap(ul, 0, NULL);
    e.next_table = TABLES_GPA;
    qtest_memset(e.qts, ROOT_GPA, 0, 0x2000);
    setup(&e, 4, 0, false);

    /* Two sections of translated space around the interrupt window */
    g_assert_cmpuint(qpci_io_readl(ul, bar, UL_NOTIFIERS), ==, 2);
    for (n = 0; n < 4; n++) {
        qpci_io_writel(ul, bar, UL_SEL, n);
        if (ul_rd64(ul, bar, UL_N_START) == 0) {
            g_assert_cmphex(ul_rd64(ul, bar, UL_N_END), ==, 0xfedfffffULL);
        } else if (ul_rd64(ul, bar, UL_N_START) != UINT64_MAX) {
            g_assert_cmphex(ul_rd64(ul, bar, UL_N_START), ==, 0xfef00000ULL);
        }
    }

    /* Global and domain-selective: the whole address width, cropped */
    wr64(&e, IOTLB, (1ULL << 63) | (1ULL << 60));
    ul_check(ul, bar, 0, all, 2);
    g_assert_cmpuint(qpci_io_readl(ul, bar, UL_EVENTS), ==, 2);
    wr64(&e, IOTLB, (1ULL << 63) | (2ULL << 60) | ((uint64_t)DID << 32));
    ul_check(ul, bar, 2, all, 2);

    /* Page-selective over 32 MiB straddling the window */
    wr64(&e, IVA, 0xfe000000ULL | 13);
    wr64(&e, IOTLB, (1ULL << 63) | (3ULL << 60) | ((uint64_t)DID << 32));
    ul_check(ul, bar, 4, straddle, 2);

    /* One page: one notifier */
    wr64(&e, IVA, 0x5000);
    wr64(&e, IOTLB, (1ULL << 63) | (3ULL << 60) | ((uint64_t)DID << 32));
    ul_check(ul, bar, 6, one, 1);
    g_assert_cmpuint(qpci_io_readl(ul, bar, UL_EVENTS), ==, 7);

    /* The same through the queue */
    wr64(&e, IQA, QUEUE_GPA);
    e.gcmd |= GCMD_QIE;
    gcmd(&e, 0);
    qi_tail = 0;
    qi_put(&e, 2 | (1 << 4), 0);
    qi_put(&e, 2 | (3 << 4) | (DID << 16), 0xfe000000ULL | 13);
    wr64(&e, IQT, qi_tail << 4);
    g_assert_cmphex(rd64(&e, IQH), ==, qi_tail << 4);
    ul_check(ul, bar, 7, all, 2);
    ul_check(ul, bar, 9, straddle, 2);
    g_assert_cmpuint(qpci_io_readl(ul, bar, UL_EVENTS), ==, 11);
    check_no_fault(&e);

    g_free(ul);
    e.edu = NULL;
    qpci_free_pc(e.bus);
    qtest_quit(e.qts);
}

static void test_levels(const void *opaque)
{
    const LevelCase *c = opaque;
    unsigned aw = 39 + (c->levels - 3) * 9;
    Env e;

    env_init(&e, "q35", c->props);
    setup(&e, c->levels, 0, false);
    map4k(&e, c->iova, GPA_C, PTE_RW);
    edu_dma(&e, true, c->iova + 0x20);
    g_assert_true(ram_has(&e, GPA_C + 0x20, 0x11));
    check_no_fault(&e);
    /* The same index bits one level up are a different page */
    edu_dma(&e, true, c->iova ^ (1ULL << (aw - 1)));
    check_fault(&e, 0, c->iova ^ (1ULL << (aw - 1)), FR_WRITE, false);
    wr64(&e, FRCD + 8, FRCD_F);
    /* Beyond the address width */
    edu_dma(&e, true, c->iova | (1ULL << aw));
    check_fault(&e, 1, c->iova | (1ULL << aw), FR_BEYOND, false);
    env_quit(&e);
}

static const LevelCase level_cases[] = {
    { "aw-bits=39", 3, 0x7abcdef000ULL },
    { "aw-bits=48", 4, 0xabcd12345000ULL },
    { "aw-bits=57", 5, 0x1abcdef12345000ULL },
};

/* Hostile tables ------------------------------------------------------- */

#define FR_ROOT_ACCESS  0x8
#define FR_CTX_ACCESS   0x9

/* The unit keeps working after a hostile setup: a proper one translates */
static void check_recovers(Env *e)
{
    int i;

    for (i = 0; i < NR_FRCD; i++) {
        wr64(e, FRCD + i * 16 + 8, FRCD_F);
    }
    wr32(e, FSTS, 0xff);
    set_root(e, true);
    set_context(e, true, 0, false);
    map4k(e, IOVA_R, GPA_A, PTE_R);
    map4k(e, IOVA_W, GPA_C, PTE_RW);
    ram_fill(e, GPA_A, 0x5a);
    wr64(e, RTADDR, ROOT_GPA);
    gcmd(e, GCMD_SRTP);
    wr64(e, 0x28, (1ULL << 63) | (1ULL << 61));     /* global CC inv */
    wr64(e, IOTLB, (1ULL << 63) | (1ULL << 60));    /* global IOTLB inv */
    edu_dma(e, false, IOVA_R);
    edu_dma(e, true, IOVA_W);
    g_assert_true(ram_has(e, GPA_C, 0x5a));
    /* No new fault (FRI may still name the old record: PPF is clear) */
    g_assert_cmphex(rd32(e, FSTS) & 0xff, ==, 0);
    for (i = 0; i < NR_FRCD; i++) {
        g_assert_cmphex(rd64(e, FRCD + i * 16 + 8) & FRCD_F, ==, 0);
    }
}

/* Root table in the unit's own registers, then beyond RAM */
static void test_hostile_root(void)
{
    Env e;
    uint64_t hi;

    env_init(&e, "q35", "");
    e.levels = 4;
    e.slpt = alloc_table(&e);
    wr64(&e, RTADDR, BASE);
    gcmd(&e, GCMD_SRTP);
    e.gcmd |= GCMD_TE;
    gcmd(&e, 0);
    edu_dma(&e, true, IOVA_W);
    hi = rd64(&e, FRCD + 8);
    g_assert_cmphex(hi & FRCD_F, ==, FRCD_F);
    /* VER/CAP read back as a root entry: not present, or a failed read */
    g_assert_true(((hi >> 32) & 0xff) == FR_ROOT_NP ||
                  ((hi >> 32) & 0xff) == FR_ROOT_ACCESS);
    wr64(&e, FRCD + 8, FRCD_F);

    wr64(&e, RTADDR, OUTSIDE_RAM);
    gcmd(&e, GCMD_SRTP);
    edu_dma(&e, true, IOVA_W);
    check_fault(&e, 1, IOVA_W, FR_ROOT_ACCESS, false);
    check_recovers(&e);
    env_quit(&e);
}

/*
 * A storm of seeded random register accesses (any offset, size and value),
 * random bytes in the tables and the queue the registers may point at, and
 * edu DMA in between: QEMU survives, and after a system reset the unit
 * has its reset state and translates again.  Not a fuzzer (make fuzz is);
 * it keeps the most guest-reachable paths under make check.
 */
static void test_hostile_storm(void)
{
    static const uint64_t targets[] = {
        ROOT_GPA, CTX_GPA, TABLES_GPA, QUEUE_GPA, STATUS_GPA, OUTSIDE_RAM,
        BASE, 0,
    };
    g_autoptr(GRand) r = g_rand_new_with_seed(0x5eed);
    Env e;
    int i;

    env_init(&e, "q35", "intremap=on,x2apic=on");
    for (i = 0; i < 20000; i++) {
        unsigned what = g_rand_int_range(r, 0, 100);
        uint64_t off = g_rand_int_range(r, 0, 0x1000);
        uint64_t val = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);

        if (what < 10) {
            /* Point a table register at one of the areas */
            static const uint64_t regs[] = { RTADDR, IQA, 0xb8 };

            wr64(&e, regs[g_rand_int_range(r, 0, 3)],
                 targets[g_rand_int_range(r, 0, ARRAY_SIZE(targets))] |
                 (val & 0x80f));
        } else if (what < 20) {
            /* Commands: any mix of enables and one-shots */
            wr32(&e, GCMD, val);
        } else if (what < 25) {
            wr64(&e, 0x88, (val & 0xff) << 4);              /* IQT */
        } else if (what < 45) {
            /* Random table or descriptor contents */
            qtest_writeq(e.qts, targets[g_rand_int_range(r, 0, 5)] +
                         (off & ~7ULL), val);
        } else if (what < 50) {
            edu_dma(&e, what & 1, val & 0xfffff000);
        } else if (what < 75) {
            switch (g_rand_int_range(r, 0, 4)) {
            case 0:
                qtest_writeb(e.qts, BASE + off, val);
                break;
            case 1:
                qtest_writew(e.qts, BASE + off, val);
                break;
            case 2:
                qtest_writel(e.qts, BASE + off, val);
                break;
            default:
                qtest_writeq(e.qts, BASE + off, val);
            }
        } else {
            qtest_readq(e.qts, BASE + (off & ~7ULL));
            qtest_readl(e.qts, BASE + (off & ~3ULL));
        }
    }

    qtest_system_reset(e.qts);
    g_assert_cmphex(rd32(&e, GSTS), ==, 0);
    g_assert_cmphex(rd32(&e, FSTS), ==, 0);
    g_assert_cmphex(rd64(&e, FRCD + 8), ==, 0);
    /* The reset cleared edu's BAR and bus mastering: set them up again */
    qpci_device_enable(e.edu);
    e.bar = qpci_iomap(e.edu, 0, NULL);
    e.gcmd = 0;
    e.next_table = TABLES_GPA;
    qtest_memset(e.qts, ROOT_GPA, 0, 0x2000);
    setup(&e, 4, 0, false);
    check_recovers(&e);
    env_quit(&e);
}

/* A root entry whose context table lies outside RAM */
static void test_hostile_context_table(void)
{
    Env e;

    env_init(&e, "q35", "");
    e.levels = 4;
    e.slpt = alloc_table(&e);
    qtest_writeq(e.qts, ROOT_GPA, OUTSIDE_RAM | 1);
    qtest_writeq(e.qts, ROOT_GPA + 8, 0);
    enable_translation(&e);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, 0, IOVA_R, FR_CTX_ACCESS, true);
    check_recovers(&e);
    env_quit(&e);
}

/* A second-level table pointer outside RAM, and one into MMIO */
static void test_hostile_page_table(void)
{
    Env e;

    env_init(&e, "q35", "");
    setup(&e, 4, 0, false);
    /* Top-level entry for IOVA_W points outside RAM */
    qtest_writeq(e.qts, e.slpt + ((IOVA_W >> 39) & 0x1ff) * 8,
                 OUTSIDE_RAM | PTE_RW);
    edu_dma(&e, true, IOVA_W);
    check_fault(&e, 0, IOVA_W, 0x7, false);
    /* ... and into the unit's own register page */
    qtest_writeq(e.qts, e.slpt + ((IOVA_W >> 39) & 0x1ff) * 8,
                 BASE | PTE_RW);
    psi_reg(&e, IOVA_W);
    edu_dma(&e, true, IOVA_W);
    g_assert_cmphex(rd64(&e, FRCD + 16 + 8) & FRCD_F, ==, FRCD_F);
    qtest_writeq(e.qts, e.slpt + ((IOVA_W >> 39) & 0x1ff) * 8, 0);
    check_recovers(&e);
    env_quit(&e);
}

/*
 * The workloads above again with x-oracle=on: after every translation,
 * fault and invalidation the unit is checked against a reference walk of
 * the tables in guest memory (and its model of what may legitimately be
 * cached), and QEMU aborts on a disagreement, which fails the test.  The
 * workloads include stale IOTLB entries used before their invalidation,
 * superpages over the interrupt range, pass-through, FPD and hostile
 * tables: correct behaviour the oracle must accept.
 */
static void test_oracle(void)
{
    static void (*const workloads[])(void) = {
        test_translated_rw, test_fault_unmapped, test_read_only,
        test_fault_pte_rsvd, test_fault_ctx_np, test_fault_root_np,
        test_fpd, test_stale_root, test_superpages, test_pass_through,
        test_psi_registers, test_psi_qi, test_psi_wide_iva, test_intr_range,
        test_fault_slptptr,
        test_hostile_root, test_hostile_context_table,
        test_hostile_page_table,
    };
    int i;

    oracle_on = true;
    for (i = 0; i < ARRAY_SIZE(workloads); i++) {
        workloads[i]();
    }
    oracle_on = false;
}

/*
 * x-fuzz-preset, the fuzzer's starting state (under the oracle): from reset
 * translation, queued invalidation and remapping are on, the tables in RAM
 * map IOVA 0-512 MiB onto the same addresses (10-12 MiB read-only) and
 * 0x520000000000 onto 64 MiB, and edu's MSI is on, remappable, handle 1
 */
static void test_fuzz_preset(void)
{
    uint8_t msi;
    Env e;

    env_init(&e, "q35", "intremap=on,x2apic=on,x-fuzz-preset=on,"
             "x-oracle=on");
    g_assert_cmphex(rd32(&e, GSTS), ==, 0xc7000000);   /* TE SRTP QIE IRE */
    msi = qpci_find_capability(e.edu, 0x05, 0);        /* MSI */
    g_assert_cmpuint(msi, !=, 0);
    g_assert_cmphex(qpci_config_readl(e.edu, msi + 4), ==, 0xfee00030);
    g_assert_true(qpci_config_readw(e.edu, msi + 2) & 1);

    /* env_init's preload went through the identity map: edu holds 0x11 */
    edu_dma(&e, true, GPA_A);
    g_assert_true(ram_has(&e, GPA_A, 0x11));
    edu_dma(&e, true, 0x520000000000ULL + 0x1000);
    g_assert_true(ram_has(&e, 0x4000000ULL + 0x1000, 0x11));
    edu_dma(&e, true, 0xa01000ULL);
    check_fault(&e, 0, 0xa01000ULL, FR_WRITE, false);
    env_quit(&e);
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/xen-viommu-dma/translate/read-write", test_translated_rw);
    qtest_add_func("/xen-viommu-dma/fault/unmapped", test_fault_unmapped);
    qtest_add_func("/xen-viommu-dma/fault/read-only", test_read_only);
    qtest_add_func("/xen-viommu-dma/fault/pte-reserved", test_fault_pte_rsvd);
    qtest_add_func("/xen-viommu-dma/fault/context-not-present",
                   test_fault_ctx_np);
    qtest_add_func("/xen-viommu-dma/fault/root-not-present",
                   test_fault_root_np);
    qtest_add_func("/xen-viommu-dma/translate/superpages", test_superpages);
    qtest_add_func("/xen-viommu-dma/translate/pass-through",
                   test_pass_through);
    qtest_add_func("/xen-viommu-dma/inv/psi-registers", test_psi_registers);
    qtest_add_func("/xen-viommu-dma/inv/psi-qi", test_psi_qi);
    qtest_add_func("/xen-viommu-dma/inv/psi-wide-iva", test_psi_wide_iva);
    qtest_add_func("/xen-viommu-dma/inv/unmap-notifiers",
                   test_unmap_notifiers);
    qtest_add_func("/xen-viommu-dma/fault/intr-range", test_intr_range);
    qtest_add_func("/xen-viommu-dma/fault/slptptr", test_fault_slptptr);
    qtest_add_func("/xen-viommu-dma/fault/ip-cleared", test_fault_ip_cleared);
    qtest_add_func("/xen-viommu-dma/translate/iothread", test_iothread_dma);
    for (i = 0; i < ARRAY_SIZE(level_cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/xen-viommu-dma/translate/levels-%u",
                            level_cases[i].levels);

        qtest_add_data_func(path, &level_cases[i], test_levels);
    }
    qtest_add_func("/xen-viommu-dma/fault/fpd", test_fpd);
    qtest_add_func("/xen-viommu-dma/fault/stale-root", test_stale_root);
    qtest_add_func("/xen-viommu-dma/machine/pc", test_pc);
    qtest_add_func("/xen-viommu-dma/hostile/root", test_hostile_root);
    qtest_add_func("/xen-viommu-dma/hostile/storm", test_hostile_storm);
    qtest_add_func("/xen-viommu-dma/hostile/context-table",
                   test_hostile_context_table);
    qtest_add_func("/xen-viommu-dma/hostile/page-table",
                   test_hostile_page_table);
    qtest_add_func("/xen-viommu-dma/oracle/workloads", test_oracle);
    qtest_add_func("/xen-viommu-dma/oracle/fuzz-preset", test_fuzz_preset);
    qtest_add_func("/xen-viommu-dma/oracle/pasid-request", test_oracle_pasid);
    qtest_add_func("/xen-viommu-dma/oracle/mmio-table",
                   test_oracle_mmio_table);
    return g_test_run();
}
