/*
 * qtest for xen-viommu in scalable mode: the edu device does DMA through
 * scalable-mode root/context entries, a PASID directory and table, and
 * first-level or second-level tables written into guest RAM; the test
 * checks where the bytes land, the A/D bits, the fault records, and the
 * 256-bit PASID-cache and PASID-based IOTLB invalidation descriptors
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
#define CAP         0x08
#define ECAP        0x10
#define GCMD        0x18
#define GSTS        0x1c
#define RTADDR      0x20
#define FSTS        0x34
#define IQH         0x80
#define IQT         0x88
#define IQA         0x90
#define FRCD        0x200
#define NR_FRCD     8

#define GCMD_TE     (1U << 31)
#define GCMD_SRTP   (1U << 30)
#define GCMD_QIE    (1U << 26)
#define FSTS_PPF    (1U << 1)
#define FSTS_IQE    (1U << 4)
#define FRCD_F      (1ULL << 63)
#define FRCD_T      (1ULL << 62)
#define TTM_SM      (1ULL << 10)
#define IQA_DW      (1ULL << 11)

#define ECAP_NEST   (1ULL << 26)
#define ECAP_SRS    (1ULL << 31)
#define ECAP_PASID  (1ULL << 40)
#define ECAP_PSS(e) (((e) >> 35) & 0x1f)
#define ECAP_SMTS   (1ULL << 43)
#define ECAP_SLTS   (1ULL << 46)
#define ECAP_FLTS   (1ULL << 47)
#define ECAP_SMPWC  (1ULL << 48)
#define ECAP_RPS    (1ULL << 49)
#define CAP_FL1GP   (1ULL << 56)
#define CAP_FL5LP   (1ULL << 60)

/* Scalable-mode fault reasons */
#define FR_RTADDR       0x30
#define FR_TTM_PASID    0x31
#define FR_CTX_NP       0x41
#define FR_CTX_RSVD     0x42
#define FR_PASID_OFF    0x45
#define FR_RID_PASID    0x48
#define FR_PDE_NP       0x51
#define FR_PE_NP        0x59
#define FR_PE_RSVD      0x5a
#define FR_PE_INVALID   0x5b
#define FR_PE_SRE       0x5d
#define FR_FL_NP        0x71
#define FR_FL_RSVD      0x72
#define FR_SL_NP        0x79
#define FR_CANONICAL    0x80
#define FR_USER         0x81
#define FR_WRITE        0x85
#define FR_READ         0x86
#define FR_INTR         0x87

/* First-level (x86) and second-level entry bits */
#define FL_P        1ULL
#define FL_RW       2ULL
#define FL_US       4ULL
#define FL_A        (1ULL << 5)
#define FL_D        (1ULL << 6)
#define FL_URW      (FL_P | FL_RW | FL_US)
#define SL_R        1ULL
#define SL_W        2ULL
#define SL_RW       3ULL

/* PASID entry: PGTT in bits 8:6 */
#define PGTT_FL     (1ULL << 6)
#define PGTT_SL     (2ULL << 6)
#define PGTT_NEST   (3ULL << 6)
#define PGTT_PT     (4ULL << 6)

/* edu: BAR0 registers, DMA engine with a 4 KiB buffer at EDU_BUF */
#define EDU_DEVFN   QPCI_DEVFN(4, 0)
#define EDU_SID     EDU_DEVFN
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_RUN 1
#define EDU_CMD_TO_RAM 2
#define EDU_BUF     0x40000ULL

/* Guest RAM layout (-m 512) */
#define ROOT_GPA    0x1000000ULL
#define CTX_GPA     0x1001000ULL        /* lower half: devfn 0-127 */
#define PDIR_GPA    0x1002000ULL
#define PTBL_GPA    0x1003000ULL        /* PASIDs 0-63 */
#define TABLES_GPA  0x1100000ULL
#define TABLES_END  0x3000000ULL
#define QUEUE_GPA   0x3800000ULL
#define STATUS_GPA  0x3900000ULL
#define PRELOAD_GPA 0x3a00000ULL
#define GPA_A       0x5000000ULL
#define GPA_B       0x5100000ULL

#define LEN         256
#define DID         0x2a
#define RID_PASID   5
#define IOVA_R      0x12340000ULL
#define IOVA_W      0x0badc000ULL

typedef struct Env {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *edu;
    QPCIBar bar;
    uint64_t pe_q0, pe_q2;      /* PASID entry of RID_PASID */
    uint64_t fl_root, sl_root;
    uint64_t next_table;
    unsigned qi_tail;
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

static bool ram_has(Env *e, uint64_t gpa, uint8_t seed)
{
    uint8_t want[LEN], got[LEN];

    pattern(want, LEN, seed);
    qtest_memread(e->qts, gpa, got, LEN);
    return !memcmp(want, got, LEN);
}

static void ram_fill(Env *e, uint64_t gpa, uint8_t seed)
{
    uint8_t buf[LEN];

    pattern(buf, LEN, seed);
    qtest_memwrite(e->qts, gpa, buf, LEN);
}

static void edu_dma(Env *e, bool to_ram, uint64_t iova)
{
    qpci_io_writeq(e->edu, e->bar, EDU_DMA_SRC, to_ram ? EDU_BUF : iova);
    qpci_io_writeq(e->edu, e->bar, EDU_DMA_DST, to_ram ? iova : EDU_BUF);
    qpci_io_writeq(e->edu, e->bar, EDU_DMA_CNT, LEN);
    qpci_io_writeq(e->edu, e->bar, EDU_DMA_CMD,
                   EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
    qtest_clock_step(e->qts, 200 * 1000 * 1000);
    g_assert_cmphex(qpci_io_readq(e->edu, e->bar, EDU_DMA_CMD) & EDU_CMD_RUN,
                    ==, 0);
}

#define MACHINE "-M q35 -m 512 -nodefaults -display none " \
                "-device edu,addr=04.0,dma_mask=0xffffffffffffffff " \
                "-device xen-viommu,scalable-mode=on"

/* The edu of a started machine */
static void env_attach(Env *e)
{
    e->bus = qpci_new_pc(e->qts, NULL);
    e->edu = qpci_device_find(e->bus, EDU_DEVFN);
    g_assert_nonnull(e->edu);
    qpci_device_enable(e->edu);
    e->bar = qpci_iomap(e->edu, 0, NULL);
}

static void env_init(Env *e, const char *props)
{
    memset(e, 0, sizeof(*e));
    e->qts = qtest_initf(MACHINE "%s%s", props[0] ? "," : "", props);
    env_attach(e);
    e->next_table = TABLES_GPA;
    qtest_memset(e->qts, ROOT_GPA, 0, 0x4000);
    /* Translation off: preload the edu buffer with pattern 0x11 */
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

/* Scalable-mode context entry of the edu: PDTS 0, RID_PASID */
static void set_context(Env *e, bool present, uint64_t hi)
{
    uint64_t ce = CTX_GPA + EDU_DEVFN * 32;

    qtest_writeq(e->qts, ce, PDIR_GPA | (present ? 1 : 0));
    qtest_writeq(e->qts, ce + 8, hi);
    qtest_writeq(e->qts, ce + 16, 0);
    qtest_writeq(e->qts, ce + 24, 0);
}

/* PASID entry @pasid (0..63): qwords 0-2, the rest zero */
static void set_pasid_entry(Env *e, unsigned pasid, uint64_t q0, uint64_t q1,
                            uint64_t q2)
{
    uint64_t pe = PTBL_GPA + pasid * 64;

    qtest_memset(e->qts, pe, 0, 64);
    qtest_writeq(e->qts, pe, q0);
    qtest_writeq(e->qts, pe + 8, q1);
    qtest_writeq(e->qts, pe + 16, q2);
}

/*
 * The tables for the edu: root, context (RID_PASID 5), directory entry 0,
 * PASID entry 5 with @pgtt over fresh tables; translation on.
 */
static void setup(Env *e, uint64_t pgtt)
{
    e->fl_root = alloc_table(e);
    e->sl_root = alloc_table(e);
    qtest_writeq(e->qts, ROOT_GPA, CTX_GPA | 1);
    set_context(e, true, RID_PASID);
    qtest_writeq(e->qts, PDIR_GPA, PTBL_GPA | 1);
    /* AW 48 bits (4-level second-level), DID, FLPM 4-level */
    e->pe_q0 = 1 | pgtt | (2 << 2) | e->sl_root;
    e->pe_q2 = e->fl_root;
    set_pasid_entry(e, RID_PASID, e->pe_q0, DID, e->pe_q2);

    wr64(e, RTADDR, ROOT_GPA | TTM_SM);
    g_assert_cmphex(rd64(e, RTADDR), ==, ROOT_GPA | TTM_SM);
    wr32(e, GCMD, GCMD_SRTP);
    wr32(e, GCMD, GCMD_TE);
    g_assert_cmphex(rd32(e, GSTS) & GCMD_TE, ==, GCMD_TE);
}

/* Entry for @iova at @level in 4-level tables at @root, creating tables */
static uint64_t pte_addr(Env *e, uint64_t root, bool fl, uint64_t iova,
                         unsigned level)
{
    uint64_t table = root;
    unsigned l;

    for (l = 4; ; l--) {
        uint64_t ent = table + ((iova >> (12 + 9 * (l - 1))) & 0x1ff) * 8;
        uint64_t pte;

        if (l == level) {
            return ent;
        }
        pte = qtest_readq(e->qts, ent);
        if (!(pte & (fl ? FL_P : SL_RW))) {
            pte = alloc_table(e) | (fl ? FL_URW : SL_RW);
            qtest_writeq(e->qts, ent, pte);
        }
        table = pte & 0xffffffffff000ULL;
    }
}

static uint64_t fl_map(Env *e, uint64_t iova, uint64_t gpa, uint64_t bits)
{
    uint64_t ent = pte_addr(e, e->fl_root, true, iova, 1);

    qtest_writeq(e->qts, ent, gpa | bits);
    return ent;
}

static void sl_map(Env *e, uint64_t iova, uint64_t gpa, uint64_t bits)
{
    qtest_writeq(e->qts, pte_addr(e, e->sl_root, false, iova, 1), gpa | bits);
}

/* No fault pending (FSTS.FRI stays where the last record was) */
static void check_no_fault(Env *e)
{
    int i;

    g_assert_cmphex(rd32(e, FSTS) & ~0xff00u, ==, 0);
    for (i = 0; i < NR_FRCD; i++) {
        g_assert_cmphex(rd64(e, FRCD + i * 16 + 8) & FRCD_F, ==, 0);
    }
}

/* The next record holds a fault of the edu at @iova; clear it */
static void check_fault(Env *e, uint64_t iova, unsigned reason, bool read)
{
    unsigned i = (rd32(e, FSTS) >> 8) & 0xff;
    uint64_t hi = rd64(e, FRCD + i * 16 + 8);

    g_assert_cmphex(hi & FRCD_F, ==, FRCD_F);
    g_assert_cmphex((hi >> 32) & 0xff, ==, reason);
    g_assert_cmphex(rd64(e, FRCD + i * 16), ==, iova & ~0xfffULL);
    g_assert_cmphex(!!(hi & FRCD_T), ==, read);
    g_assert_cmphex(hi & 0xffff, ==, EDU_SID);
    /* No PASID in the record: the request had none */
    g_assert_cmphex(hi & (1ULL << 31), ==, 0);
    wr64(e, FRCD + i * 16 + 8, FRCD_F);
    g_assert_cmphex(rd32(e, FSTS) & FSTS_PPF, ==, 0);
}

/* Tests ------------------------------------------------------------------ */

static void test_caps(void)
{
    QTestState *qts;
    uint64_t ecap;

    qts = qtest_init("-M q35 -nodefaults -display none "
                     "-device xen-viommu,scalable-mode=on");
    ecap = qtest_readq(qts, BASE + ECAP);
    g_assert_cmphex(ecap & (ECAP_SMTS | ECAP_SLTS | ECAP_FLTS | ECAP_SRS |
                            ECAP_RPS | ECAP_SMPWC | ECAP_PASID), ==,
                    ECAP_SMTS | ECAP_SLTS | ECAP_FLTS | ECAP_SRS | ECAP_RPS |
                    ECAP_SMPWC);
    g_assert_cmphex(ecap & ECAP_NEST, ==, ECAP_NEST);
    g_assert_cmphex(qtest_readq(qts, BASE + CAP) & (CAP_FL1GP | CAP_FL5LP),
                    ==, CAP_FL1GP);
    /* TTM and DW are writable */
    qtest_writeq(qts, BASE + RTADDR, ROOT_GPA | TTM_SM);
    g_assert_cmphex(qtest_readq(qts, BASE + RTADDR), ==, ROOT_GPA | TTM_SM);
    qtest_writeq(qts, BASE + IQA, QUEUE_GPA | IQA_DW);
    g_assert_cmphex(qtest_readq(qts, BASE + IQA), ==, QUEUE_GPA | IQA_DW);
    qtest_quit(qts);

    qts = qtest_init("-M q35 -nodefaults -display none "
                     "-device xen-viommu,scalable-mode=on,first-level=off");
    ecap = qtest_readq(qts, BASE + ECAP);
    g_assert_cmphex(ecap & (ECAP_SMTS | ECAP_SLTS | ECAP_FLTS | ECAP_NEST),
                    ==, ECAP_SMTS | ECAP_SLTS);
    g_assert_cmphex(qtest_readq(qts, BASE + CAP) & CAP_FL1GP, ==, 0);
    g_assert_cmphex(ecap & ECAP_PASID, ==, 0);
    qtest_quit(qts);

    qts = qtest_init("-M q35 -nodefaults -display none "
                     "-device xen-viommu,scalable-mode=on,pasid=on");
    ecap = qtest_readq(qts, BASE + ECAP);
    g_assert_cmphex(ecap & ECAP_PASID, ==, ECAP_PASID);
    g_assert_cmpuint(ECAP_PSS(ecap), ==, 7);
    qtest_quit(qts);

    qts = qtest_init("-M q35 -nodefaults -display none "
                     "-device xen-viommu,scalable-mode=on,nesting=off");
    ecap = qtest_readq(qts, BASE + ECAP);
    g_assert_cmphex(ecap & (ECAP_FLTS | ECAP_NEST), ==, ECAP_FLTS);
    qtest_quit(qts);

    qts = qtest_init("-M q35 -nodefaults -display none "
                     "-device xen-viommu,scalable-mode=on,aw-bits=57");
    g_assert_cmphex(qtest_readq(qts, BASE + CAP) & CAP_FL5LP, ==, CAP_FL5LP);
    qtest_quit(qts);

    /* Off by default: legacy registers as before */
    qts = qtest_init("-M q35 -nodefaults -display none -device xen-viommu");
    g_assert_cmphex(qtest_readq(qts, BASE + ECAP) &
                    (ECAP_SMTS | ECAP_SLTS | ECAP_FLTS | ECAP_SRS |
                     ECAP_NEST), ==, 0);
    qtest_writeq(qts, BASE + RTADDR, ROOT_GPA | TTM_SM);
    g_assert_cmphex(qtest_readq(qts, BASE + RTADDR), ==, ROOT_GPA);
    qtest_writeq(qts, BASE + IQA, QUEUE_GPA | IQA_DW);
    g_assert_cmphex(qtest_readq(qts, BASE + IQA), ==, QUEUE_GPA);
    qtest_quit(qts);
}

static void expect_error(const char *args, const char *msg)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmd = g_strdup_printf("%s -M q35 -accel qtest "
                                           "-nodefaults -display none %s",
                                           qemu, args);
    g_autofree char *out = NULL, *err = NULL;
    g_auto(GStrv) argv = NULL;
    int status;

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, NULL));
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    if (!strstr(err, msg)) {
        g_printerr("expected '%s' in: %s\n", msg, err);
        g_assert_not_reached();
    }
}

static void test_config_errors(void)
{
    expect_error("-device xen-viommu,scalable-mode=on,dma-translation=off",
                 "scalable-mode=on requires dma-translation=on");
    expect_error("-device xen-viommu,first-level=on",
                 "first-level=on requires scalable-mode=on");
    expect_error("-device xen-viommu,scalable-mode=on,first-level=on,"
                 "aw-bits=39", "first-level=on requires aw-bits=48 or 57");
    expect_error("-device xen-viommu,nesting=on",
                 "nesting=on requires scalable-mode=on");
    expect_error("-device xen-viommu,pasid=on",
                 "pasid=on requires scalable-mode=on");
    expect_error("-device xen-viommu,scalable-mode=on,first-level=off,"
                 "nesting=on", "nesting=on requires first-level translation");
    expect_error("-device xen-viommu,scalable-mode=on,pv-iommu=on",
                 "scalable-mode=on cannot be combined with pv-iommu=on");
    expect_error("-device xen-viommu,scalable-mode=on,x-oracle=on",
                 "x-oracle=on models legacy mode only");
    /* Passthrough devices: refused, even with a PV-IOMMU hypervisor */
    expect_error("-device xen-viommu,scalable-mode=on,hypervisor=double,"
                 "x-double-pv-iommu=on "
                 "-device x-xen-viommu-pt-testdev,host-sbdf=768",
                 "cannot be put under the unit's DMA remapping in scalable "
                 "mode");
}

/* First-level translation of reads and writes; A and D in the leaves */
static void test_first_level(void)
{
    uint64_t r_ent, w_ent;
    Env e;

    env_init(&e, "");
    setup(&e, PGTT_FL);
    r_ent = fl_map(&e, IOVA_R, GPA_A, FL_URW);
    w_ent = fl_map(&e, IOVA_W, GPA_B, FL_URW);
    ram_fill(&e, GPA_A + 0x100, 0x22);
    ram_fill(&e, IOVA_R + 0x100, 0x99);

    edu_dma(&e, false, IOVA_R + 0x100);
    edu_dma(&e, true, IOVA_W + 0x80);
    g_assert_true(ram_has(&e, GPA_B + 0x80, 0x22));
    g_assert_true(ram_has(&e, IOVA_R + 0x100, 0x99));
    check_no_fault(&e);
    /* A in the read's leaf, A and D in the written one */
    g_assert_cmphex(qtest_readq(e.qts, r_ent), ==, GPA_A | FL_URW | FL_A);
    g_assert_cmphex(qtest_readq(e.qts, w_ent), ==,
                    GPA_B | FL_URW | FL_A | FL_D);
    /* A write through the page that was only read sets D too */
    edu_dma(&e, true, IOVA_R + 0x200);
    g_assert_true(ram_has(&e, GPA_A + 0x200, 0x22));
    g_assert_cmphex(qtest_readq(e.qts, r_ent), ==,
                    GPA_A | FL_URW | FL_A | FL_D);
    check_no_fault(&e);
    env_quit(&e);
}

static void test_second_level_and_pt(void)
{
    Env e;

    env_init(&e, "first-level=off");
    setup(&e, PGTT_SL);
    sl_map(&e, IOVA_R, GPA_A, SL_R);
    sl_map(&e, IOVA_W, GPA_B, SL_W);
    ram_fill(&e, GPA_A, 0x33);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, GPA_B, 0x33));
    check_no_fault(&e);
    /* Second-level faults in scalable mode */
    edu_dma(&e, true, IOVA_R);
    check_fault(&e, IOVA_R, FR_WRITE, false);
    edu_dma(&e, false, IOVA_W);
    check_fault(&e, IOVA_W, FR_READ, true);
    edu_dma(&e, false, 0x7000000);
    check_fault(&e, 0x7000000, FR_SL_NP, true);
    /* First-level is not offered here */
    set_pasid_entry(&e, RID_PASID, 1 | PGTT_FL, DID, e.fl_root);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_PE_INVALID, true);

    /* Pass-through: untranslated */
    set_pasid_entry(&e, RID_PASID, 1 | PGTT_PT, DID, 0);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    ram_fill(&e, GPA_A + 0x400, 0x44);
    edu_dma(&e, false, GPA_A + 0x400);
    edu_dma(&e, true, GPA_B + 0x400);
    g_assert_true(ram_has(&e, GPA_B + 0x400, 0x44));
    check_no_fault(&e);
    env_quit(&e);
}

/* Every scalable-mode fault reason an edu request can reach */
static void test_faults(void)
{
    uint64_t ent;
    Env e;

    env_init(&e, "");
    setup(&e, PGTT_FL);
    ent = fl_map(&e, IOVA_R, GPA_A, FL_P | FL_US);

    /* First-level: not present, read-only written, not canonical */
    edu_dma(&e, false, 0x7000000);
    check_fault(&e, 0x7000000, FR_FL_NP, true);
    edu_dma(&e, true, IOVA_R);
    check_fault(&e, IOVA_R, FR_WRITE, false);
    edu_dma(&e, false, 1ULL << 47);
    check_fault(&e, 1ULL << 47, FR_CANONICAL, true);
    /* A user request (RID_PRIV clear) and U/S clear */
    qtest_writeq(e.qts, ent, GPA_A | FL_P);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_USER, true);
    /* Reserved bit (PS in the PML4E) */
    qtest_writeq(e.qts, e.fl_root, qtest_readq(e.qts, e.fl_root) | (1 << 7));
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_FL_RSVD, true);
    qtest_writeq(e.qts, e.fl_root, qtest_readq(e.qts, e.fl_root) & ~0x80ULL);
    /* The interrupt range */
    fl_map(&e, IOVA_W, 0xfee00000ULL, FL_URW);
    edu_dma(&e, false, IOVA_W);
    check_fault(&e, IOVA_W, FR_INTR, true);
    qtest_writeq(e.qts, ent, GPA_A | FL_URW);
    edu_dma(&e, false, IOVA_R);
    check_no_fault(&e);

    /*
     * The PASID entry, directory and context entry: a new root table
     * pointer makes the cached ones stale (SRTP drops them)
     */
    set_pasid_entry(&e, RID_PASID, e.pe_q0 | (1ULL << 9), DID, e.pe_q2);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_PE_RSVD, true);
    /*
     * Nested, whose FLPTPTR the (empty) second level does not map; at an
     * address no earlier request left in the IOTLB
     */
    set_pasid_entry(&e, RID_PASID, 1 | PGTT_NEST | (2 << 2) | e.sl_root,
                    DID, e.pe_q2);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, 0x7000000);
    check_fault(&e, 0x7000000, FR_SL_NP, true);
    set_pasid_entry(&e, RID_PASID, e.pe_q0 & ~1ULL, DID, e.pe_q2);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_PE_NP, true);
    /* FPD in the PASID entry: no record */
    set_pasid_entry(&e, RID_PASID, (e.pe_q0 & ~1ULL) | 2, DID, e.pe_q2);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_no_fault(&e);
    set_pasid_entry(&e, RID_PASID, e.pe_q0, DID, e.pe_q2);
    qtest_writeq(e.qts, PDIR_GPA, PTBL_GPA);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_PDE_NP, true);
    qtest_writeq(e.qts, PDIR_GPA, PTBL_GPA | 1);
    set_context(&e, true, 64 * 128);    /* beyond PDTS 0's 8192 PASIDs */
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_RID_PASID, true);
    set_context(&e, true, RID_PASID | (1ULL << 21));
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_CTX_RSVD, true);
    set_context(&e, false, RID_PASID);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_CTX_NP, true);
    set_context(&e, true, RID_PASID);

    /* TTM 10b is reserved: every request faults */
    wr64(&e, RTADDR, ROOT_GPA | (2ULL << 10));
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_RTADDR, true);
    wr64(&e, RTADDR, ROOT_GPA | TTM_SM);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    edu_dma(&e, false, IOVA_R);
    check_no_fault(&e);
    env_quit(&e);
}

/* 256-bit descriptors ----------------------------------------------------- */

static void qi_put(Env *e, uint64_t q0, uint64_t q1, uint64_t q2,
                   uint64_t q3)
{
    uint64_t d = QUEUE_GPA + e->qi_tail * 32;

    qtest_writeq(e->qts, d, q0);
    qtest_writeq(e->qts, d + 8, q1);
    qtest_writeq(e->qts, d + 16, q2);
    qtest_writeq(e->qts, d + 24, q3);
    e->qi_tail++;
}

/* Submit what was put, with a wait descriptor; check it all completed */
static void qi_run(Env *e)
{
    uint32_t token = 0x5a000000 | e->qi_tail;

    qi_put(e, 5 | (1 << 5) | ((uint64_t)token << 32), STATUS_GPA, 0, 0);
    wr64(e, IQT, e->qi_tail << 5);
    g_assert_cmphex(rd32(e, FSTS) & FSTS_IQE, ==, 0);
    g_assert_cmphex(rd64(e, IQH), ==, e->qi_tail << 5);
    g_assert_cmphex(qtest_readl(e->qts, STATUS_GPA), ==, token);
}

/* One descriptor that must stop the queue with IQE, IQH at it */
static void qi_bad(Env *e, uint64_t q0, uint64_t q1, uint64_t q2,
                   uint64_t q3)
{
    unsigned at = e->qi_tail;

    qi_put(e, q0, q1, q2, q3);
    wr64(e, IQT, e->qi_tail << 5);
    g_assert_cmphex(rd32(e, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    g_assert_cmphex(rd64(e, IQH), ==, at << 5);
    /* Software replaces it with a no-op wait and clears IQE */
    qtest_writeq(e->qts, QUEUE_GPA + at * 32, 5);
    qtest_writeq(e->qts, QUEUE_GPA + at * 32 + 8, 0);
    qtest_writeq(e->qts, QUEUE_GPA + at * 32 + 16, 0);
    qtest_writeq(e->qts, QUEUE_GPA + at * 32 + 24, 0);
    wr32(e, FSTS, FSTS_IQE);
    g_assert_cmphex(rd64(e, IQH), ==, e->qi_tail << 5);
}

static void qi_enable(Env *e)
{
    e->qi_tail = 0;
    wr64(e, IQA, QUEUE_GPA | IQA_DW);
    wr32(e, GCMD, GCMD_TE | GCMD_QIE);
    g_assert_cmphex(rd32(e, GSTS) & GCMD_QIE, ==, GCMD_QIE);
}

/*
 * Nested translation: the first-level tables live at guest-physical
 * addresses NEST_OFF above the RAM that holds them (nothing is there:
 * an untranslated read of them fails), the second level maps them back.
 */
#define NEST_OFF    0x100000000ULL
#define NEST_OUT_R  0x180000000ULL      /* first-level outputs (GPAs) */
#define NEST_OUT_W  0x180100000ULL

/* A first-level path for @iova through tables the second level maps */
static uint64_t nest_fl_map(Env *e, uint64_t iova, uint64_t gpa)
{
    uint64_t table = e->fl_root, ent;
    unsigned l;

    for (l = 4; l > 1; l--) {
        uint64_t pte;

        ent = table + ((iova >> (12 + 9 * (l - 1))) & 0x1ff) * 8;
        pte = qtest_readq(e->qts, ent);
        if (!(pte & FL_P)) {
            uint64_t t = alloc_table(e);

            sl_map(e, t + NEST_OFF, t, SL_RW);
            pte = (t + NEST_OFF) | FL_URW;
            qtest_writeq(e->qts, ent, pte);
        }
        table = (pte & 0xffffffffff000ULL) - NEST_OFF;
    }
    ent = table + ((iova >> 12) & 0x1ff) * 8;
    qtest_writeq(e->qts, ent, gpa | FL_URW);
    return ent;
}

static void nest_setup(Env *e)
{
    setup(e, PGTT_NEST);
    sl_map(e, e->fl_root + NEST_OFF, e->fl_root, SL_RW);
    e->pe_q2 = e->fl_root + NEST_OFF;
    set_pasid_entry(e, RID_PASID, e->pe_q0, DID, e->pe_q2);
    wr32(e, GCMD, GCMD_SRTP | GCMD_TE);
}

/*
 * The edu's requests through both levels: first-level tables read (and
 * their A/D bits set) through the second level, the output translated by
 * it; second-level faults are the request's; the second level's
 * invalidation (the IOTLB descriptor, by guest-physical address) is seen.
 */
static void test_nested(void)
{
    uint64_t r_ent, w_ent, sl_l1;
    Env e;

    env_init(&e, "");
    nest_setup(&e);
    qi_enable(&e);
    r_ent = nest_fl_map(&e, IOVA_R, NEST_OUT_R);
    w_ent = nest_fl_map(&e, IOVA_W, NEST_OUT_W);
    sl_map(&e, NEST_OUT_R, GPA_A, SL_R);
    sl_map(&e, NEST_OUT_W, GPA_B, SL_RW);
    ram_fill(&e, GPA_A + 0x100, 0x61);
    ram_fill(&e, IOVA_R + 0x100, 0x62);

    edu_dma(&e, false, IOVA_R + 0x100);
    edu_dma(&e, true, IOVA_W + 0x80);
    g_assert_true(ram_has(&e, GPA_B + 0x80, 0x61));
    check_no_fault(&e);
    g_assert_cmphex(qtest_readq(e.qts, r_ent), ==, NEST_OUT_R | FL_URW | FL_A);
    g_assert_cmphex(qtest_readq(e.qts, w_ent), ==,
                    NEST_OUT_W | FL_URW | FL_A | FL_D);

    /* The second level's permission: its output is read-only */
    edu_dma(&e, true, IOVA_R);
    check_fault(&e, IOVA_R, FR_WRITE, false);
    g_assert_true(ram_has(&e, IOVA_R + 0x100, 0x62));

    /* The second level moves the output: after its invalidation, seen */
    sl_map(&e, NEST_OUT_W, PRELOAD_GPA, SL_RW);
    qi_put(&e, 2 | (3 << 4) | (DID << 16), NEST_OUT_W, 0, 0);
    qi_run(&e);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, PRELOAD_GPA, 0x61));
    check_no_fault(&e);

    /* A first-level table the second level stops mapping */
    sl_l1 = pte_addr(&e, e.sl_root, false,
                     (qtest_readq(e.qts, e.fl_root) & 0xffffffffff000ULL), 1);
    qtest_writeq(e.qts, sl_l1, 0);
    qi_put(&e, 2 | (2 << 4) | (DID << 16), 0, 0, 0);
    qi_run(&e);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_SL_NP, true);
    /* The second level's output unmapped */
    qtest_writeq(e.qts, sl_l1, ((qtest_readq(e.qts, e.fl_root) &
                                 0xffffffffff000ULL) - NEST_OFF) | SL_RW);
    sl_map(&e, NEST_OUT_R, 0, 0);
    qi_put(&e, 2 | (2 << 4) | (DID << 16), 0, 0, 0);
    qi_run(&e);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_SL_NP, true);
    check_no_fault(&e);
    env_quit(&e);

    /* Not offered: nested is then an invalid PGTT */
    env_init(&e, "nesting=off");
    nest_setup(&e);
    nest_fl_map(&e, IOVA_R, NEST_OUT_R);
    sl_map(&e, NEST_OUT_R, GPA_A, SL_RW);
    edu_dma(&e, false, IOVA_R);
    check_fault(&e, IOVA_R, FR_PE_INVALID, true);
    env_quit(&e);
}

#define PIOTLB(g, did, pasid)  (6 | ((uint64_t)(g) << 4) | \
                                ((uint64_t)(did) << 16) | \
                                ((uint64_t)(pasid) << 32))
#define PC(g, did, pasid)      (7 | ((uint64_t)(g) << 4) | \
                                ((uint64_t)(did) << 16) | \
                                ((uint64_t)(pasid) << 32))

/*
 * Requests with a PASID, from the DMA test device (its DMA_PASID register
 * puts one in the access's MemTxAttrs.pid) at 05.0
 */
#define TD_DEVFN        QPCI_DEVFN(5, 0)
#define TD_DMA_ADDR     0x40
#define TD_DMA_CMD      0x48
#define TD_DMA_DONE     0x4c
#define TD_DMA_RESULT   0x50
#define TD_DMA_DATA     0x54
#define TD_DMA_PASID    0x58
#define TD_PASID_USER   0x100
#define CTX_PASIDE      (1ULL << 3)
#define FRCD_PP         (1ULL << 31)
#define FRCD_PRIV       (1ULL << 29)
#define FRCD_PV(hi)     (((hi) >> 40) & 0xfffff)
#define TD_PASID        7
#define TD_DID          0x2b
#define GPA_C           0x5200000ULL
#define TD_MEMTX_OK     0           /* MemTxResult MEMTX_OK */

typedef struct Td {
    QPCIDevice *dev;
    QPCIBar bar;
} Td;

static Td td_attach(Env *e)
{
    Td td = { .dev = qpci_device_find(e->bus, TD_DEVFN) };

    g_assert_nonnull(td.dev);
    qpci_device_enable(td.dev);
    td.bar = qpci_iomap(td.dev, 0, NULL);
    return td;
}

/*
 * One 4-byte access by the test device with @pasid_reg (a read, or a
 * write of @val when @write); its MemTxResult, *@data what a read got
 */
static uint32_t td_dma(Td *td, uint32_t pasid_reg, uint64_t iova,
                       bool write, uint32_t *data)
{
    uint32_t done = qpci_io_readl(td->dev, td->bar, TD_DMA_DONE);

    qpci_io_writel(td->dev, td->bar, TD_DMA_PASID, pasid_reg);
    qpci_io_writel(td->dev, td->bar, TD_DMA_ADDR, iova);
    qpci_io_writel(td->dev, td->bar, TD_DMA_ADDR + 4, iova >> 32);
    qpci_io_writel(td->dev, td->bar, TD_DMA_DATA, *data);
    qpci_io_writel(td->dev, td->bar, TD_DMA_CMD, write ? 2 : 1);
    g_assert_cmpuint(qpci_io_readl(td->dev, td->bar, TD_DMA_DONE), ==,
                     done + 1);
    *data = qpci_io_readl(td->dev, td->bar, TD_DMA_DATA);
    return qpci_io_readl(td->dev, td->bar, TD_DMA_RESULT);
}

static uint32_t td_read(Td *td, uint32_t pasid_reg, uint64_t iova,
                        uint32_t *data)
{
    *data = 0;
    return td_dma(td, pasid_reg, iova, false, data);
}

static uint32_t td_write(Td *td, uint32_t pasid_reg, uint64_t iova,
                         uint32_t val)
{
    return td_dma(td, pasid_reg, iova, true, &val);
}

/* The next record is the test device's PASID request to @iova; clear it */
static void check_pasid_fault(Env *e, uint64_t iova, unsigned reason,
                              uint32_t pasid, bool priv)
{
    unsigned i = (rd32(e, FSTS) >> 8) & 0xff;
    uint64_t hi = rd64(e, FRCD + i * 16 + 8);

    g_assert_cmphex(hi & FRCD_F, ==, FRCD_F);
    g_assert_cmphex((hi >> 32) & 0xff, ==, reason);
    g_assert_cmphex(hi & 0xffff, ==, TD_DEVFN);
    g_assert_cmphex(rd64(e, FRCD + i * 16), ==, iova & ~0xfffULL);
    g_assert_cmphex(hi & FRCD_PP, ==, FRCD_PP);
    g_assert_cmphex(FRCD_PV(hi), ==, pasid);
    g_assert_cmphex(!!(hi & FRCD_PRIV), ==, priv);
    wr64(e, FRCD + i * 16 + 8, FRCD_F);
}

/*
 * First-level tables of their own for PASID @pasid (DID @did, PASID entry
 * qword 2 bits @q2_bits), mapping @iova to @gpa; returns the leaf's address
 */
static uint64_t pasid_fl_map(Env *e, unsigned pasid, uint16_t did,
                             uint64_t q2_bits, uint64_t iova, uint64_t gpa)
{
    uint64_t root = alloc_table(e), saved = e->fl_root, ent;

    set_pasid_entry(e, pasid, 1 | PGTT_FL, did, root | q2_bits);
    e->fl_root = root;
    ent = fl_map(e, iova, gpa, FL_URW | FL_A | FL_D);
    e->fl_root = saved;
    return ent;
}

/* The test device's context entry: PASIDE as asked, RID_PASID the edu's */
static void td_context(Env *e, bool paside)
{
    qtest_writeq(e->qts, CTX_GPA + TD_DEVFN * 32,
                 PDIR_GPA | 1 | (paside ? CTX_PASIDE : 0));
    qtest_writeq(e->qts, CTX_GPA + TD_DEVFN * 32 + 8, RID_PASID);
    qtest_writeq(e->qts, CTX_GPA + TD_DEVFN * 32 + 16, 0);
    qtest_writeq(e->qts, CTX_GPA + TD_DEVFN * 32 + 24, 0);
}

/*
 * Requests with and without a PASID from one device: each goes through
 * its own PASID entry (RID_PASID for none), the IOTLB keeps them apart by
 * (domain, PASID), faults record the PASID and the privilege; PASIDE and
 * SRE gate them; a unit without pasid=on blocks them unrecorded.
 */
static void test_pasid_requests(void)
{
    uint64_t rid_ent, p_ent;
    uint32_t data;
    Env e;
    Td td;

    env_init(&e, "pasid=on -device x-xen-viommu-dma-testdev,addr=05.0");
    td = td_attach(&e);
    setup(&e, PGTT_FL);
    qi_enable(&e);
    td_context(&e, true);
    rid_ent = fl_map(&e, IOVA_R, GPA_A, FL_URW | FL_A | FL_D);
    p_ent = pasid_fl_map(&e, TD_PASID, TD_DID, 0, IOVA_R, GPA_B);
    qtest_writel(e.qts, GPA_A, 0xaaaa0001);
    qtest_writel(e.qts, GPA_B, 0xbbbb0002);
    qtest_writel(e.qts, GPA_C, 0xcccc0003);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE | GCMD_QIE);

    /* One address, two PASID entries (a user request: U/S is set) */
    g_assert_cmpuint(td_read(&td, 0, IOVA_R, &data), ==, TD_MEMTX_OK);
    g_assert_cmphex(data, ==, 0xaaaa0001);
    g_assert_cmpuint(td_read(&td, TD_PASID | TD_PASID_USER, IOVA_R, &data),
                     ==, TD_MEMTX_OK);
    g_assert_cmphex(data, ==, 0xbbbb0002);
    check_no_fault(&e);

    /*
     * Both cached, tagged apart: remap both; a PASID-based invalidation of
     * TD_PASID shows its new page only
     */
    qtest_writeq(e.qts, rid_ent, GPA_C | FL_URW | FL_A | FL_D);
    qtest_writeq(e.qts, p_ent, GPA_C | FL_URW | FL_A | FL_D);
    qi_put(&e, PIOTLB(2, TD_DID, TD_PASID), 0, 0, 0);
    qi_run(&e);
    td_read(&td, TD_PASID | TD_PASID_USER, IOVA_R, &data);
    g_assert_cmphex(data, ==, 0xcccc0003);
    td_read(&td, 0, IOVA_R, &data);
    g_assert_cmphex(data, ==, 0xaaaa0001);
    qi_put(&e, PIOTLB(2, DID, RID_PASID), 0, 0, 0);
    qi_run(&e);
    td_read(&td, 0, IOVA_R, &data);
    g_assert_cmphex(data, ==, 0xcccc0003);

    /* A PASID with no entry: recorded with the PASID */
    g_assert_cmpuint(td_read(&td, 9 | TD_PASID_USER, IOVA_R, &data), !=,
                     TD_MEMTX_OK);
    check_pasid_fault(&e, IOVA_R, FR_PE_NP, 9, false);
    /* A privileged request (MemTxAttrs.user clear) needs SRE */
    g_assert_cmpuint(td_read(&td, TD_PASID, 0x7000000, &data), !=,
                     TD_MEMTX_OK);
    check_pasid_fault(&e, 0x7000000, FR_PE_SRE, TD_PASID, true);
    pasid_fl_map(&e, TD_PASID, TD_DID, 1, IOVA_R, GPA_B);  /* SRE */
    qi_put(&e, PC(1, TD_DID, TD_PASID), 0, 0, 0);
    qi_put(&e, PIOTLB(2, TD_DID, TD_PASID), 0, 0, 0);
    qi_run(&e);
    g_assert_cmpuint(td_read(&td, TD_PASID, IOVA_R, &data), ==, TD_MEMTX_OK);
    g_assert_cmphex(data, ==, 0xbbbb0002);
    /*
     * PASIDE clear: requests with a PASID fault, the others do not; the
     * same request as the last one too (its kept entry went with the
     * context-cache invalidation)
     */
    td_context(&e, false);
    qi_put(&e, 1 | (1 << 4), 0, 0, 0);  /* context cache, global */
    qi_run(&e);
    g_assert_cmpuint(td_read(&td, TD_PASID, 0x7000000, &data), !=,
                     TD_MEMTX_OK);
    check_pasid_fault(&e, 0x7000000, FR_PASID_OFF, TD_PASID, true);
    g_assert_cmpuint(td_read(&td, 0, IOVA_R, &data), ==, TD_MEMTX_OK);
    check_no_fault(&e);
    /* Legacy tables have no PASIDs: such a request faults with 0x31 */
    wr64(&e, RTADDR, ROOT_GPA);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE | GCMD_QIE);
    g_assert_cmpuint(td_read(&td, TD_PASID | TD_PASID_USER, IOVA_R, &data),
                     !=, TD_MEMTX_OK);
    check_pasid_fault(&e, IOVA_R, FR_TTM_PASID, TD_PASID, false);
    g_free(td.dev);
    env_quit(&e);

    /* Without pasid=on: blocked, nothing recorded */
    env_init(&e, "pasid=off -device x-xen-viommu-dma-testdev,addr=05.0");
    td = td_attach(&e);
    setup(&e, PGTT_FL);
    td_context(&e, true);
    fl_map(&e, IOVA_R, GPA_A, FL_URW | FL_A | FL_D);
    pasid_fl_map(&e, TD_PASID, TD_DID, 0, IOVA_R, GPA_B);
    qtest_writel(e.qts, GPA_A, 0xaaaa0001);
    wr32(&e, GCMD, GCMD_SRTP | GCMD_TE);
    g_assert_cmpuint(td_read(&td, TD_PASID | TD_PASID_USER, IOVA_R, &data),
                     !=, TD_MEMTX_OK);
    check_no_fault(&e);
    g_assert_cmpuint(td_read(&td, 0, IOVA_R, &data), ==, TD_MEMTX_OK);
    g_assert_cmphex(data, ==, 0xaaaa0001);
    g_free(td.dev);
    env_quit(&e);
}

/*
 * The IOTLB is tagged with (domain, PASID): a PASID-based invalidation of
 * another PASID or domain leaves the edu's cached translation alone, one
 * of its own (page or whole PASID) drops it.  The cached translation
 * shows after the table changes: the edu still reads the old page.
 */
static void test_piotlb(void)
{
    uint64_t ent;
    Env e;

    env_init(&e, "");
    setup(&e, PGTT_FL);
    qi_enable(&e);
    ent = fl_map(&e, IOVA_R, GPA_A, FL_URW | FL_A | FL_D);
    ram_fill(&e, GPA_A, 0x51);
    ram_fill(&e, GPA_B, 0x52);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, IOVA_W);          /* unmapped: fault, nothing written */
    check_fault(&e, IOVA_W, FR_FL_NP, false);

    /* Remap IOVA_R to GPA_B without telling the unit */
    qtest_writeq(e.qts, ent, GPA_B | FL_URW | FL_A | FL_D);
    fl_map(&e, IOVA_W, PRELOAD_GPA, FL_URW | FL_A | FL_D);

    /* Other PASID of the domain, other domain: still the old page */
    qi_put(&e, PIOTLB(3, DID, RID_PASID + 1), IOVA_R, 0, 0);
    qi_put(&e, PIOTLB(2, DID + 1, RID_PASID), 0, 0, 0);
    qi_run(&e);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, PRELOAD_GPA, 0x51));

    /* Page-selective, its own PASID, a 2-page mask covering IOVA_R */
    qi_put(&e, PIOTLB(3, DID, RID_PASID), (IOVA_R + 0x1000) | 1, 0, 0);
    qi_run(&e);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, PRELOAD_GPA, 0x52));

    /* All of the PASID */
    qtest_writeq(e.qts, ent, GPA_A | FL_URW | FL_A | FL_D);
    qi_put(&e, PIOTLB(2, DID, RID_PASID), 0, 0, 0);
    qi_run(&e);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, PRELOAD_GPA, 0x51));

    /* The legacy IOTLB descriptor covers every PASID of the domain */
    qtest_writeq(e.qts, ent, GPA_B | FL_URW | FL_A | FL_D);
    qi_put(&e, 2 | (2 << 4) | (DID << 16), 0, 0, 0);
    qi_run(&e);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, PRELOAD_GPA, 0x52));
    check_no_fault(&e);
    env_quit(&e);
}

/* The PASID cache: a changed PASID entry counts once invalidated */
static void test_pasid_cache(void)
{
    uint64_t other;
    Env e;

    env_init(&e, "");
    setup(&e, PGTT_FL);
    qi_enable(&e);
    fl_map(&e, IOVA_R, GPA_A, FL_URW | FL_A | FL_D);
    ram_fill(&e, GPA_A, 0x61);
    ram_fill(&e, GPA_B, 0x62);
    edu_dma(&e, false, IOVA_R);
    check_no_fault(&e);

    /* Other first-level tables, other domain, for the same PASID */
    other = e.fl_root;
    e.fl_root = alloc_table(&e);
    fl_map(&e, IOVA_R, GPA_B, FL_URW | FL_A | FL_D);
    set_pasid_entry(&e, RID_PASID, e.pe_q0, DID + 1, e.fl_root);
    /* PASID-selective, then domain-selective PASID-cache invalidation */
    qi_put(&e, PC(1, DID, RID_PASID), 0, 0, 0);
    qi_put(&e, PIOTLB(2, DID, RID_PASID), 0, 0, 0);
    qi_run(&e);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, PRELOAD_GPA);
    check_fault(&e, PRELOAD_GPA, FR_FL_NP, false);
    g_assert_true(ram_has(&e, GPA_B, 0x62));
    fl_map(&e, PRELOAD_GPA, PRELOAD_GPA, FL_URW | FL_A | FL_D);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, PRELOAD_GPA);
    g_assert_true(ram_has(&e, PRELOAD_GPA, 0x62));

    /* Back to the first tables; global PASID-cache invalidation */
    set_pasid_entry(&e, RID_PASID, e.pe_q0, DID, other);
    qi_put(&e, PC(3, 0, 0), 0, 0, 0);
    qi_put(&e, PC(0, DID + 1, 0), 0, 0, 0);
    qi_run(&e);
    edu_dma(&e, false, IOVA_R);
    check_no_fault(&e);
    env_quit(&e);
}

/* Reserved fields and descriptors the unit does not offer */
static void test_descriptor_errors(void)
{
    Env e;

    env_init(&e, "");
    setup(&e, PGTT_FL);
    qi_enable(&e);
    qi_run(&e);
    /* PIOTLB granularities 0 and 1, reserved bits, reserved address bits */
    qi_bad(&e, PIOTLB(0, DID, 1), 0, 0, 0);
    qi_bad(&e, PIOTLB(1, DID, 1), 0, 0, 0);
    qi_bad(&e, PIOTLB(2, DID, 1) | (1ULL << 7), 0, 0, 0);
    qi_bad(&e, PIOTLB(2, DID, 1) | (1ULL << 60), 0, 0, 0);
    qi_bad(&e, PIOTLB(3, DID, 1), IOVA_R | (1 << 8), 0, 0);
    /* PASID cache: granularity 2, bits in the second qword */
    qi_bad(&e, PC(2, DID, 1), 0, 0, 0);
    qi_bad(&e, PC(0, DID, 1), 1, 0, 0);
    /* PASID-based device-TLB (no ECAP.DT), upper 128 bits set */
    qi_bad(&e, 8, 0, 0, 0);
    qi_bad(&e, 2 | (1 << 4), 0, 1, 0);
    qi_bad(&e, 5, 0, 0, 1ULL << 63);
    /* A tail between two 256-bit descriptors */
    wr64(&e, IQT, (e.qi_tail << 5) | 0x10);
    g_assert_cmphex(rd32(&e, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    wr64(&e, IQT, e.qi_tail << 5);
    wr32(&e, FSTS, FSTS_IQE);
    qi_run(&e);
    check_no_fault(&e);
    env_quit(&e);
}

/*
 * Seeded random register accesses (TTM and DW among the bits), random
 * bytes in the scalable-mode tables and the 256-bit queue, edu DMA in
 * between: QEMU survives, and after a system reset the unit translates
 * through proper first-level tables again.  Not a fuzzer.
 */
static void test_hostile_storm(void)
{
    static const uint64_t targets[] = {
        ROOT_GPA, CTX_GPA, PDIR_GPA, PTBL_GPA, TABLES_GPA, QUEUE_GPA,
        STATUS_GPA, 0x3ff000000000ULL, BASE, 0,
    };
    g_autoptr(GRand) r = g_rand_new_with_seed(0x5eed15);
    Env e;
    int i;

    env_init(&e, "intremap=on,x2apic=on");
    for (i = 0; i < 20000; i++) {
        unsigned what = g_rand_int_range(r, 0, 100);
        uint64_t off = g_rand_int_range(r, 0, 0x1000);
        uint64_t val = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);

        if (what < 10) {
            static const uint64_t regs[] = { RTADDR, IQA, 0xb8 };

            wr64(&e, regs[g_rand_int_range(r, 0, 3)],
                 targets[g_rand_int_range(r, 0, ARRAY_SIZE(targets))] |
                 (val & 0xc0f));
        } else if (what < 20) {
            wr32(&e, GCMD, val);
        } else if (what < 25) {
            wr64(&e, IQT, (val & 0xff) << 4);
        } else if (what < 45) {
            qtest_writeq(e.qts, targets[g_rand_int_range(r, 0, 7)] +
                         (off & ~7ULL), val);
        } else if (what < 50) {
            edu_dma(&e, what & 1, val & 0xfffff000);
        } else if (what < 80) {
            qtest_writel(e.qts, BASE + (off & ~3ULL), val);
        } else {
            qtest_readq(e.qts, BASE + (off & ~7ULL));
        }
    }

    qtest_system_reset(e.qts);
    g_assert_cmphex(rd32(&e, GSTS), ==, 0);
    g_assert_cmphex(rd64(&e, RTADDR), ==, 0);
    qpci_device_enable(e.edu);
    e.bar = qpci_iomap(e.edu, 0, NULL);
    e.next_table = TABLES_GPA;
    qtest_memset(e.qts, ROOT_GPA, 0, 0x4000);
    wr32(&e, FSTS, 0xff);
    for (i = 0; i < NR_FRCD; i++) {
        wr64(&e, FRCD + i * 16 + 8, FRCD_F);
    }
    setup(&e, PGTT_FL);
    fl_map(&e, IOVA_R, GPA_A, FL_URW);
    fl_map(&e, IOVA_W, GPA_B, FL_URW);
    ram_fill(&e, GPA_A, 0x5a);
    edu_dma(&e, false, IOVA_R);
    edu_dma(&e, true, IOVA_W);
    g_assert_true(ram_has(&e, GPA_B, 0x5a));
    check_no_fault(&e);
    env_quit(&e);
}

/* Migration ---------------------------------------------------------------- */

static void wait_migration(QTestState *qts, const char *cmd, const char *key,
                           const char *busy)
{
    int i;

    for (i = 0; i < 500; i++) {
        QDict *rsp = qtest_qmp(qts, "{ 'execute': %s }", cmd);
        QDict *ret = qdict_get_qdict(rsp, "return");
        const char *st = ret ? qdict_get_try_str(ret, key) : NULL;
        bool done = st && strcmp(st, busy) && strcmp(st, "setup") &&
                    strcmp(st, "active");

        if (st && !strcmp(st, "failed")) {
            g_error("migration failed");
        }
        qobject_unref(rsp);
        if (done) {
            return;
        }
        g_usleep(10 * 1000);
    }
    g_error("migration did not finish");
}

/*
 * The latched table format travels (its subsection): on the destination
 * the edu's DMA goes through the same scalable-mode tables, with no SRTP.
 */
static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/xen-viommu-sm-mig-%d",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("exec:cat > %s", file);
    Env e, d;

    env_init(&e, "");
    setup(&e, PGTT_FL);
    fl_map(&e, IOVA_R, GPA_A, FL_URW);
    fl_map(&e, IOVA_W, GPA_B, FL_URW);
    ram_fill(&e, GPA_A, 0x71);
    edu_dma(&e, false, IOVA_R);
    check_no_fault(&e);
    qtest_qmp_assert_success(e.qts, "{ 'execute': 'migrate', 'arguments': "
                             "{ 'uri': %s } }", uri);
    wait_migration(e.qts, "query-migrate", "status", "active");
    env_quit(&e);

    memset(&d, 0, sizeof(d));
    d.qts = qtest_initf(MACHINE " -incoming 'exec:cat %s'", file);
    wait_migration(d.qts, "query-status", "status", "inmigrate");
    env_attach(&d);
    g_assert_cmphex(rd64(&d, RTADDR), ==, ROOT_GPA | TTM_SM);
    /* Read through the tables (the source's write of A came along) */
    ram_fill(&d, GPA_A + 0x100, 0x72);
    edu_dma(&d, false, IOVA_R + 0x100);
    edu_dma(&d, true, IOVA_W);
    g_assert_true(ram_has(&d, GPA_B, 0x72));
    check_no_fault(&d);
    env_quit(&d);
    unlink(file);
}

/* x-fuzz-preset's scalable-mode state (hw/i386/xen_viommu_fuzz.c.inc) */
#define FP_SM_ROOT      0x1e008000ULL
#define FP_IQ           0x1e020000ULL
#define FP_FL_PT        0x1e011000ULL
#define FP_HIGH_IOVA    0x520000000000ULL
#define FP_HIGH_GPA     0x4000000ULL

/*
 * The fuzzer's scalable-mode starting state: from reset the unit is in
 * scalable mode with translation and 256-bit queued invalidation on, and
 * PASID n translates identically through the type n % 4 gives (first
 * level, second level, nested, pass-through), A and D set as the first
 * level is used; PASIDs 60-63 and 128 and above fault as not present,
 * the read-only page faults on user writes.
 */
static void test_fuzz_preset(void)
{
    static const uint32_t pasids[] = {
        0, 1, 2, 3, 4 | TD_PASID_USER, 5 | TD_PASID_USER, 8,
    };
    uint32_t data;
    unsigned i;
    Env e;
    Td td;

    env_init(&e, "pasid=on,x-fuzz-preset=on "
             "-device x-xen-viommu-dma-testdev,addr=05.0");
    td = td_attach(&e);
    g_assert_cmphex(rd32(&e, GSTS) & (GCMD_TE | GCMD_SRTP | GCMD_QIE), ==,
                    GCMD_TE | GCMD_SRTP | GCMD_QIE);
    g_assert_cmphex(rd64(&e, RTADDR), ==, FP_SM_ROOT | TTM_SM);
    g_assert_cmphex(rd64(&e, IQA), ==, FP_IQ | IQA_DW);

    /* env_init's preload went through the edu's RID_PASID (first level) */
    edu_dma(&e, true, GPA_A);
    g_assert_true(ram_has(&e, GPA_A, 0x11));
    for (i = 0; i < ARRAY_SIZE(pasids); i++) {
        qtest_writel(e.qts, 0x5000 + i * 4, 0x5a000000 + i);
        g_assert_cmpuint(td_read(&td, pasids[i], 0x5000 + i * 4, &data), ==,
                         TD_MEMTX_OK);
        g_assert_cmphex(data, ==, 0x5a000000 + i);
        g_assert_cmpuint(td_write(&td, pasids[i], 0x6000 + i * 4, ~i), ==,
                         TD_MEMTX_OK);
        g_assert_cmphex(qtest_readl(e.qts, 0x6000 + i * 4), ==, ~i);
    }
    check_no_fault(&e);
    /* The first level's leaves of a read and a write page */
    g_assert_cmphex(qtest_readq(e.qts, FP_FL_PT + 5 * 8), ==,
                    0x5000 | FL_URW | FL_A);
    g_assert_cmphex(qtest_readq(e.qts, FP_FL_PT + 6 * 8), ==,
                    0x6000 | FL_URW | FL_A | FL_D);
    /* Above 2^46, through a 2 MiB page: first level, second, nested */
    qtest_writel(e.qts, FP_HIGH_GPA + 0x10, 0x5a5a0001);
    for (i = 0; i < 3; i++) {
        g_assert_cmpuint(td_read(&td, i ? i : 4, FP_HIGH_IOVA + 0x10, &data),
                         ==, TD_MEMTX_OK);
        g_assert_cmphex(data, ==, 0x5a5a0001);
    }
    check_no_fault(&e);

    /* A user write to the read-only page (a supervisor one, WPE clear, may) */
    g_assert_cmpuint(td_write(&td, 4, 0xa00000, 1), ==, TD_MEMTX_OK);
    g_assert_cmpuint(td_write(&td, 4 | TD_PASID_USER, 0xa00000, 1), !=,
                     TD_MEMTX_OK);
    check_pasid_fault(&e, 0xa00000, FR_WRITE, 4, false);
    g_assert_cmpuint(td_read(&td, 61, 0x5000, &data), !=, TD_MEMTX_OK);
    check_pasid_fault(&e, 0x5000, FR_PE_NP, 61, true);
    g_assert_cmpuint(td_read(&td, 130, 0x5000, &data), !=, TD_MEMTX_OK);
    check_pasid_fault(&e, 0x5000, FR_PDE_NP, 130, true);
    g_free(td.dev);
    env_quit(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/xen-viommu/sm/caps", test_caps);
    qtest_add_func("/xen-viommu/sm/config-errors", test_config_errors);
    qtest_add_func("/xen-viommu/sm/first-level", test_first_level);
    qtest_add_func("/xen-viommu/sm/second-level-pt",
                   test_second_level_and_pt);
    qtest_add_func("/xen-viommu/sm/faults", test_faults);
    qtest_add_func("/xen-viommu/sm/piotlb", test_piotlb);
    qtest_add_func("/xen-viommu/sm/nested", test_nested);
    qtest_add_func("/xen-viommu/sm/pasid-requests", test_pasid_requests);
    qtest_add_func("/xen-viommu/sm/pasid-cache", test_pasid_cache);
    qtest_add_func("/xen-viommu/sm/descriptor-errors",
                   test_descriptor_errors);
    qtest_add_func("/xen-viommu/sm/migration", test_migration);
    qtest_add_func("/xen-viommu/sm/hostile-storm", test_hostile_storm);
    qtest_add_func("/xen-viommu/sm/fuzz-preset", test_fuzz_preset);
    return g_test_run();
}
