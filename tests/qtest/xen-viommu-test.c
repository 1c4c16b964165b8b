/*
 * qtest for xen-viommu: register file, configuration checks, queued
 * invalidation basics
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qemu/bswap.h"

#define BASE        0xfed90000ULL
#define VER         0x00
#define CAP         0x08
#define ECAP        0x10
#define GCMD        0x18
#define GSTS        0x1c
#define RTADDR      0x20
#define CCMD        0x28
#define FSTS        0x34
#define FECTL       0x38
#define FEDATA      0x3c
#define FEADDR      0x40
#define FEUADDR     0x44
#define IQH         0x80
#define IQT         0x88
#define IQA         0x90
#define ICS         0x9c
#define IECTL       0xa0
#define IRTA        0xb8
#define IVA         0x100
#define IOTLB       0x108
#define FRCD        0x200

#define GCMD_TE     (1U << 31)
#define GCMD_SRTP   (1U << 30)
#define GCMD_QIE    (1U << 26)
#define GCMD_IRE    (1U << 25)
#define GCMD_SIRTP  (1U << 24)
#define FSTS_IQE    (1U << 4)

/* Guest RAM used for tables and queues */
#define QUEUE_GPA   0x100000ULL
#define STATUS_GPA  0x200000ULL
#define ROOT_GPA    0x300000ULL

static QTestState *start(const char *machine, const char *props)
{
    return qtest_initf("-M %s -nodefaults -display none "
                       "-device xen-viommu%s%s", machine,
                       props[0] ? "," : "", props);
}

static uint32_t rd32(QTestState *qts, uint64_t off)
{
    return qtest_readl(qts, BASE + off);
}

static uint64_t rd64(QTestState *qts, uint64_t off)
{
    return qtest_readq(qts, BASE + off);
}

static void wr32(QTestState *qts, uint64_t off, uint32_t val)
{
    qtest_writel(qts, BASE + off, val);
}

static void wr64(QTestState *qts, uint64_t off, uint64_t val)
{
    qtest_writeq(qts, BASE + off, val);
}

/* Reset values ----------------------------------------------------------- */

static void check_reset_values(QTestState *qts, bool ir, bool eim,
                               unsigned aw)
{
    uint64_t cap = rd64(qts, CAP);
    uint64_t ecap = rd64(qts, ECAP);
    unsigned sagaw = (cap >> 8) & 0x1f;

    g_assert_cmphex(rd32(qts, VER), ==, 0x10);
    /* MGAW, SAGAW matching aw-bits */
    g_assert_cmpuint((cap >> 16) & 0x3f, ==, aw - 1);
    g_assert_cmphex(sagaw & 2, ==, 2);
    g_assert_cmphex(!!(sagaw & 4), ==, aw >= 48);
    g_assert_cmphex(!!(sagaw & 8), ==, aw >= 57);
    /* FRO/NFR: several fault recording registers at FRCD */
    g_assert_cmphex(((cap >> 24) & 0x3ff) * 16, ==, FRCD);
    g_assert_cmpuint((cap >> 40) & 0xff, >, 0);
    g_assert_true(cap & (1ULL << 39));          /* PSI */
    g_assert_true(cap & (3ULL << 34));          /* 2M and 1G */
    g_assert_cmpuint(cap & 7, ==, 6);           /* 16-bit domain ids */
    /* ECAP: QI, IRO, IR and EIM as configured */
    g_assert_true(ecap & 2);
    g_assert_cmphex(((ecap >> 8) & 0x3ff) * 16, ==, IVA);
    g_assert_cmpuint(!!(ecap & 8), ==, ir);
    g_assert_cmpuint(!!(ecap & 16), ==, eim);
    /* Status and control */
    g_assert_cmphex(rd32(qts, GSTS), ==, 0);
    g_assert_cmphex(rd32(qts, GCMD), ==, 0);
    g_assert_cmphex(rd64(qts, RTADDR), ==, 0);
    g_assert_cmphex(rd32(qts, FSTS), ==, 0);
    g_assert_cmphex(rd32(qts, FECTL), ==, 0x80000000);
    g_assert_cmphex(rd32(qts, IECTL), ==, 0x80000000);
    g_assert_cmphex(rd64(qts, IQH), ==, 0);
    g_assert_cmphex(rd64(qts, IQT), ==, 0);
    g_assert_cmphex(rd64(qts, IRTA), ==, 0);
}

static void test_reset_q35(void)
{
    QTestState *qts = start("q35", "intremap=on,x2apic=on");

    check_reset_values(qts, true, true, 48);
    qtest_quit(qts);
}

static void test_reset_pc(void)
{
    QTestState *qts = start("pc", "intremap=on,x2apic=off,aw-bits=39");

    check_reset_values(qts, true, false, 39);
    qtest_quit(qts);
}

static void test_reset_aw57_noir(void)
{
    QTestState *qts = start("q35", "intremap=off,aw-bits=57");

    check_reset_values(qts, false, false, 57);
    qtest_quit(qts);
}

static void test_dma_translation_off(void)
{
    QTestState *qts = start("q35", "intremap=on,dma-translation=off");

    /* IR-only unit: no supported AGAW, and TE is ignored */
    g_assert_cmphex((rd64(qts, CAP) >> 8) & 0x1f, ==, 0);
    wr32(qts, GCMD, GCMD_TE);
    g_assert_cmphex(rd32(qts, GSTS) & GCMD_TE, ==, 0);
    qtest_quit(qts);
}

static void test_caching_mode(void)
{
    QTestState *qts = start("q35", "caching-mode=on");

    g_assert_true(rd64(qts, CAP) & (1ULL << 7));
    qtest_quit(qts);
}

/* Register semantics ------------------------------------------------------ */

static void test_read_only(void)
{
    QTestState *qts = start("q35", "intremap=on");
    uint64_t cap = rd64(qts, CAP), ecap = rd64(qts, ECAP);

    wr32(qts, VER, 0xffffffff);
    wr64(qts, CAP, 0);
    wr64(qts, ECAP, ~0ULL);
    wr32(qts, GSTS, 0xffffffff);
    wr64(qts, IQH, 0xff0);
    g_assert_cmphex(rd32(qts, VER), ==, 0x10);
    g_assert_cmphex(rd64(qts, CAP), ==, cap);
    g_assert_cmphex(rd64(qts, ECAP), ==, ecap);
    g_assert_cmphex(rd32(qts, GSTS), ==, 0);
    g_assert_cmphex(rd64(qts, IQH), ==, 0);
    /* FECTL.IP is read-only, IM is writable */
    wr32(qts, FECTL, 0x40000000);
    g_assert_cmphex(rd32(qts, FECTL), ==, 0);
    wr32(qts, FECTL, 0x80000000);
    g_assert_cmphex(rd32(qts, FECTL), ==, 0x80000000);
    /* Writable fields keep only their bits */
    wr32(qts, FEDATA, 0xffffffff);
    g_assert_cmphex(rd32(qts, FEDATA), ==, 0xffff);
    wr32(qts, FEADDR, 0xfee00003);
    g_assert_cmphex(rd32(qts, FEADDR), ==, 0xfee00000);
    /* RTADDR: 4K-aligned address, TTM (scalable mode) not writable */
    wr64(qts, RTADDR, ROOT_GPA | 0xfff);
    g_assert_cmphex(rd64(qts, RTADDR), ==, ROOT_GPA);
    /* 64-bit registers in two 32-bit halves */
    wr32(qts, RTADDR + 4, 0x1);
    g_assert_cmphex(rd64(qts, RTADDR), ==, ROOT_GPA | (1ULL << 32));
    g_assert_cmphex(rd32(qts, RTADDR + 4), ==, 1);
    qtest_quit(qts);
}

static void test_feuaddr_needs_eim(void)
{
    QTestState *qts = start("q35", "intremap=on,x2apic=on");

    wr32(qts, FEUADDR, 0x12345600);
    g_assert_cmphex(rd32(qts, FEUADDR), ==, 0x12345600);
    qtest_quit(qts);

    qts = start("q35", "intremap=on,x2apic=off");
    wr32(qts, FEUADDR, 0x12345600);
    g_assert_cmphex(rd32(qts, FEUADDR), ==, 0);
    /* IRTA.EIME cannot be set without EIM */
    wr64(qts, IRTA, 0x400000 | (1 << 11) | 7);
    g_assert_cmphex(rd64(qts, IRTA), ==, 0x400000 | 7);
    qtest_quit(qts);
}

static void test_gcmd(void)
{
    QTestState *qts = start("q35", "intremap=on,x2apic=on");

    wr64(qts, RTADDR, ROOT_GPA);
    wr32(qts, GCMD, GCMD_SRTP);
    g_assert_cmphex(rd32(qts, GSTS), ==, GCMD_SRTP);
    wr32(qts, GCMD, GCMD_TE);
    g_assert_cmphex(rd32(qts, GSTS), ==, GCMD_SRTP | GCMD_TE);
    wr64(qts, IRTA, 0x400000 | (1 << 11) | 7);
    wr32(qts, GCMD, GCMD_TE | GCMD_SIRTP);
    wr32(qts, GCMD, GCMD_TE | GCMD_IRE);
    g_assert_cmphex(rd32(qts, GSTS), ==,
                    GCMD_SRTP | GCMD_TE | GCMD_SIRTP | GCMD_IRE);
    g_assert_cmphex(rd32(qts, GCMD), ==, 0);
    /* Turning translation off leaves the others alone */
    wr32(qts, GCMD, GCMD_IRE);
    g_assert_cmphex(rd32(qts, GSTS), ==, GCMD_SRTP | GCMD_SIRTP | GCMD_IRE);
    qtest_system_reset(qts);
    g_assert_cmphex(rd32(qts, GSTS), ==, 0);
    g_assert_cmphex(rd64(qts, RTADDR), ==, 0);
    qtest_quit(qts);
}

/* Queued invalidation: wait status write, ICS W1C, IQE on a bad descriptor */
static void qi_enable(QTestState *qts)
{
    wr64(qts, IQA, QUEUE_GPA);          /* 256 entries */
    /* Like a driver: keep the other enables (TE, IRE, CFI) as they are */
    wr32(qts, GCMD, (rd32(qts, GSTS) & 0x86800000) | GCMD_QIE);
    g_assert_cmphex(rd32(qts, GSTS) & GCMD_QIE, ==, GCMD_QIE);
}

static void qi_put(QTestState *qts, unsigned idx, uint64_t lo, uint64_t hi)
{
    qtest_writeq(qts, QUEUE_GPA + idx * 16, lo);
    qtest_writeq(qts, QUEUE_GPA + idx * 16 + 8, hi);
}

static void test_qi_wait_and_iqe(void)
{
    QTestState *qts = start("q35", "intremap=on");

    qi_enable(qts);
    /* Global IOTLB, global context, then wait with status write + IF */
    qi_put(qts, 0, 0x2 | (1 << 4), 0);
    qi_put(qts, 1, 0x1 | (1 << 4), 0);
    qi_put(qts, 2, 0x5 | (1 << 5) | (1 << 4) | (0xcafeULL << 32),
           STATUS_GPA);
    qtest_writel(qts, STATUS_GPA, 0);
    wr64(qts, IQT, 3 << 4);
    g_assert_cmphex(qtest_readl(qts, STATUS_GPA), ==, 0xcafe);
    g_assert_cmphex(rd64(qts, IQH), ==, 3 << 4);
    /* IF set ICS.IWC; IECTL masked so IP is pending */
    g_assert_cmphex(rd32(qts, ICS), ==, 1);
    g_assert_cmphex(rd32(qts, IECTL), ==, 0xc0000000);
    wr32(qts, ICS, 1);
    g_assert_cmphex(rd32(qts, ICS), ==, 0);
    g_assert_cmphex(rd32(qts, IECTL), ==, 0x80000000);

    /* A context-cache descriptor with a reserved bit: IQE, queue stops */
    qi_put(qts, 3, 0x1 | (1 << 4) | (1ULL << 63), 0);
    qi_put(qts, 4, 0x5 | (1 << 5) | (0xbeefULL << 32), STATUS_GPA);
    wr64(qts, IQT, 5 << 4);
    g_assert_cmphex(rd32(qts, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    g_assert_cmphex(rd64(qts, IQH), ==, 3 << 4);
    g_assert_cmphex(qtest_readl(qts, STATUS_GPA), ==, 0xcafe);
    /* Fault event pending while masked */
    g_assert_cmphex(rd32(qts, FECTL), ==, 0xc0000000);
    /* Software fixes the descriptor and clears IQE (W1C): queue resumes */
    qi_put(qts, 3, 0x1 | (1 << 4), 0);
    wr32(qts, FSTS, FSTS_IQE);
    g_assert_cmphex(rd32(qts, FSTS), ==, 0);
    /* Hardware fetches again from IQH as soon as IQE is clear */
    g_assert_cmphex(qtest_readl(qts, STATUS_GPA), ==, 0xbeef);
    g_assert_cmphex(rd64(qts, IQH), ==, 5 << 4);
    wr64(qts, IQT, 5 << 4);
    g_assert_cmphex(rd64(qts, IQH), ==, 5 << 4);

    /* A tail beyond the queue size is an error too */
    wr64(qts, IQA, QUEUE_GPA);              /* QS 0: 256 entries */
    wr64(qts, IQT, 300 << 4);
    g_assert_cmphex(rd32(qts, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    qtest_quit(qts);
}

/*
 * Hostile queues: each ends in the architectural answer (IQE with IQH at
 * the descriptor, or the descriptor done), never a crash or a hang
 */
static void test_hostile_queue(void)
{
    /* -m 128: RAM ends at 0x8000000 */
    const uint64_t ram_end = 0x8000000ULL;
    QTestState *qts = start("q35", "intremap=on");
    static const uint64_t bad[][2] = {
        { 0x1 | (1 << 4) | (1ULL << 9), 0 },    /* type bits 11:9 */
        { 0x1 | (1 << 4), 1 },                  /* context: hi reserved */
        { 0x1, 0 },                             /* context: no granularity */
        { 0x2 | (1 << 4) | (1ULL << 8), 0 },    /* IOTLB: lo reserved */
        { 0x2 | (3 << 4), 19 },                 /* IOTLB: AM above MAMV */
        { 0x3 | (1 << 4), 0 },                  /* device-TLB: lo reserved */
        { 0x3, 0 },                             /* device-TLB: no ECAP.DT */
        { 0x5 | (1 << 7), 0 },                  /* wait: PD without PRS */
        { 0x4 | (1 << 5), 0 },                  /* IEC: lo reserved */
        { 0x4, 1 },                             /* IEC: hi reserved */
        { 0x5 | (1 << 8), 0 },                  /* wait: lo reserved */
        { 0x5 | (1 << 5), STATUS_GPA | 1 },     /* wait: unaligned status */
        { 0x6, 0 }, { 0x7, 0 }, { 0x9, 0 }, { 0xf, 0 },    /* other types */
        { 0, 0 },                               /* zero */
    };
    unsigned i;

    qi_enable(qts);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        qi_put(qts, 0, bad[i][0], bad[i][1]);
        wr64(qts, IQT, 1 << 4);
        g_assert_cmphex(rd32(qts, FSTS) & FSTS_IQE, ==, FSTS_IQE);
        g_assert_cmphex(rd64(qts, IQH), ==, 0);
        /* Fixed and cleared, the queue runs again */
        qi_put(qts, 0, 0x1 | (1 << 4), 0);
        wr32(qts, FSTS, FSTS_IQE);
        g_assert_cmphex(rd64(qts, IQH), ==, 1 << 4);
        wr64(qts, IQT, 1 << 4);
        g_assert_cmphex(rd64(qts, IQH), ==, 1 << 4);
        /* Off, tail back to 0, on again: IQH restarts at 0 */
        wr32(qts, GCMD, 0);
        wr64(qts, IQT, 0);
        qi_enable(qts);
    }

    /*
     * The largest queue (QS 7: 32768 descriptors, 512 KiB) whose first page
     * is the last of RAM: the 257th fetch fails, IQE stops it there
     */
    wr32(qts, GCMD, 0);
    wr64(qts, IQT, 0);
    for (i = 0; i < 256; i++) {
        qtest_writeq(qts, ram_end - 0x1000 + i * 16, 0x1 | (1 << 4));
        qtest_writeq(qts, ram_end - 0x1000 + i * 16 + 8, 0);
    }
    wr64(qts, IQA, (ram_end - 0x1000) | 7);
    wr32(qts, GCMD, GCMD_QIE);
    wr64(qts, IQT, 32767ULL << 4);
    g_assert_cmphex(rd32(qts, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    g_assert_cmphex(rd64(qts, IQH), ==, 256 << 4);
    /* Cleared while the queue is on, IQE comes back at once */
    wr32(qts, FSTS, FSTS_IQE);
    g_assert_cmphex(rd32(qts, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    g_assert_cmphex(rd64(qts, IQH), ==, 256 << 4);
    wr32(qts, GCMD, 0);
    wr32(qts, FSTS, FSTS_IQE);
    g_assert_cmphex(rd32(qts, FSTS) & FSTS_IQE, ==, 0);

    /* A queue at the top of the address space: the addresses wrap */
    wr64(qts, IQT, 0);
    wr64(qts, IQA, 0xfffffffffffff000ULL | 7);
    wr32(qts, GCMD, GCMD_QIE);
    wr64(qts, IQT, 32767ULL << 4);
    g_assert_cmphex(rd32(qts, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    g_assert_cmphex(rd64(qts, IQH), ==, 0);
    wr32(qts, GCMD, 0);
    wr32(qts, FSTS, FSTS_IQE);

    /* Wrapping around the end of a 256-entry queue: one lap, in order */
    wr64(qts, IQT, 0);
    qi_enable(qts);
    for (i = 0; i < 256; i++) {
        qi_put(qts, i, 0x2 | (1 << 4), 0);      /* global IOTLB */
    }
    wr64(qts, IQT, 250 << 4);
    g_assert_cmphex(rd64(qts, IQH), ==, 250 << 4);
    qi_put(qts, 9, 0x5 | (1 << 5) | (0x7777ULL << 32), STATUS_GPA);
    qtest_writel(qts, STATUS_GPA, 0);
    wr64(qts, IQT, 10 << 4);
    g_assert_cmphex(rd64(qts, IQH), ==, 10 << 4);
    g_assert_cmphex(qtest_readl(qts, STATUS_GPA), ==, 0x7777);

    /*
     * Wait descriptors whose status goes outside RAM or into the unit's own
     * registers (IQT): done, the write dropped or blocked as re-entrant
     */
    qi_put(qts, 10, 0x5 | (1 << 5) | (0x1234ULL << 32), 0x7ff00000000ULL);
    qi_put(qts, 11, 0x5 | (1 << 5) | (0x20ULL << 32), BASE + IQT);
    qi_put(qts, 12, 0x5 | (1 << 5) | (0x8888ULL << 32), STATUS_GPA);
    wr64(qts, IQT, 13 << 4);
    g_assert_cmphex(rd64(qts, IQH), ==, 13 << 4);
    g_assert_cmphex(rd64(qts, IQT), ==, 13 << 4);
    g_assert_cmphex(qtest_readl(qts, STATUS_GPA), ==, 0x8888);
    g_assert_cmphex(rd32(qts, FSTS) & FSTS_IQE, ==, 0);
    qtest_quit(qts);
}

/*
 * dmar-file=: the table hvmloader will append, as written: checksum, the
 * flags the options ask for, one DRHD at the base with the IO-APIC at
 * ff:00.0
 */
static void test_dmar_file(void)
{
    int opt_in;

    /* opt_in 1 also turns "hpet" off: no HPET scope then */
    for (opt_in = 0; opt_in < 2; opt_in++) {
        g_autofree char *path = NULL;
        g_autofree char *props = NULL;
        g_autofree guint8 *t = NULL;
        g_autoptr(GError) err = NULL;
        QTestState *qts;
        gsize len, i;
        uint8_t sum = 0;
        int fd;

        fd = g_file_open_tmp("xen-viommu-dmar-XXXXXX", &path, &err);
        g_assert_no_error(err);
        close(fd);
        props = g_strdup_printf("intremap=on,x2apic=off,dmar-file=%s%s",
                                path, opt_in ? ",platform-opt-in=on,hpet=off"
                                             : "");
        qts = start("pc", props);
        g_assert_true(g_file_get_contents(path, (char **)&t, &len, &err));
        g_assert_no_error(err);
        qtest_quit(qts);
        unlink(path);

        g_assert_cmpuint(len, ==, 48 + 16 + 8 + (opt_in ? 0 : 8));
        g_assert_cmpmem(t, 4, "DMAR", 4);
        g_assert_cmpuint(t[4] | t[5] << 8, ==, len);
        for (i = 0; i < len; i++) {
            sum += t[i];
        }
        g_assert_cmpuint(sum, ==, 0);
        /* INTR_REMAP, X2APIC_OPT_OUT, and DMA_CTRL_PLATFORM_OPT_IN */
        g_assert_cmphex(t[37], ==, 1 | 2 | (opt_in ? 4 : 0));
        /* DRHD, INCLUDE_PCI_ALL, base; scope: IO-APIC 0 at ff:00.0 */
        g_assert_cmpuint(t[48], ==, 0);
        g_assert_cmpuint(t[52] & 1, ==, 1);
        g_assert_cmphex(ldq_le_p(t + 56), ==, BASE);
        g_assert_cmpuint(t[64], ==, 3);
        /* The file is for hvmloader, whose MADT gives the IO-APIC id 1 */
        g_assert_cmpuint(t[68], ==, 1);
        g_assert_cmpuint(t[69], ==, 0xff);
        g_assert_cmpuint(t[70], ==, 0);
        g_assert_cmpuint(t[71], ==, 0);
        g_assert_cmpuint(t[50] | t[51] << 8, ==, len - 48);
        if (!opt_in) {
            /* The HPET (block 0) at f0:1f.0: its FSB interrupts remapped */
            g_assert_cmpuint(t[72], ==, 4);
            g_assert_cmpuint(t[76], ==, 0);
            g_assert_cmpuint(t[77], ==, 0xf0);
            g_assert_cmpuint(t[78], ==, 0x1f);
            g_assert_cmpuint(t[79], ==, 0);
        }
    }
}

static void test_register_invalidation(void)
{
    QTestState *qts = start("q35", "");

    /* Global context invalidation: ICC clears, CAIG reports global */
    wr64(qts, CCMD, (1ULL << 63) | (1ULL << 61));
    g_assert_cmphex(rd64(qts, CCMD) >> 59, ==, 1 << 2 | 1);
    /*
     * Domain- and device-selective: the unit drops its whole context cache,
     * and CAIG says so (global)
     */
    wr64(qts, CCMD, (1ULL << 63) | (2ULL << 61) | 5);
    g_assert_cmphex(rd64(qts, CCMD) >> 59, ==, 2 << 2 | 1);
    wr64(qts, CCMD, (1ULL << 63) | (3ULL << 61) | (0x20ULL << 16) | 5);
    g_assert_cmphex(rd64(qts, CCMD) >> 59, ==, 3 << 2 | 1);
    /* IVA keeps input addresses up to MGAW (48 bits), not the HAW */
    wr64(qts, IVA, 0xfffffffff000ULL | 0x7f);
    g_assert_cmphex(rd64(qts, IVA), ==, 0xfffffffff000ULL | 0x7f);
    wr64(qts, IVA, ~0ULL);
    g_assert_cmphex(rd64(qts, IVA), ==, 0xfffffffff000ULL | 0x7f);
    /* Page-selective IOTLB invalidation of domain 5 */
    wr64(qts, IVA, 0x12345000 | 2);
    wr64(qts, IOTLB, (1ULL << 63) | (3ULL << 60) | (5ULL << 32));
    g_assert_cmphex(rd64(qts, IOTLB) >> 57, ==, (3 << 3) | 3);
    qtest_quit(qts);
}

/* Hostile accesses: every offset, every size, reads and writes */
static void test_odd_accesses(void)
{
    QTestState *qts = start("q35", "intremap=on,x2apic=on");
    uint64_t off;

    for (off = 0; off < 0x1000; off++) {
        qtest_readb(qts, BASE + off);
        if (!(off & 1)) {
            qtest_readw(qts, BASE + off);
            qtest_writew(qts, BASE + off, 0xffff);
        }
        qtest_writeb(qts, BASE + off, 0xff);
    }
    /* Odd-sized and misaligned reads read as zero */
    g_assert_cmphex(qtest_readw(qts, BASE + VER), ==, 0);
    g_assert_cmphex(qtest_readl(qts, BASE + VER + 2), ==, 0);
    g_assert_cmphex(qtest_readq(qts, BASE + CAP + 4), ==, 0);
    /* Aligned all-ones writes everywhere: side effects, but no crash */
    for (off = 0; off < 0x1000; off += 4) {
        qtest_writel(qts, BASE + off, 0xffffffff);
        if (!(off & 7)) {
            qtest_writeq(qts, BASE + off, ~0ULL);
        }
        qtest_readl(qts, BASE + off);
    }
    /* Still alive and still the same unit */
    g_assert_cmphex(rd32(qts, VER), ==, 0x10);
    qtest_system_reset(qts);
    g_assert_cmphex(rd32(qts, GSTS), ==, 0);
    qtest_quit(qts);
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
 * Architectural state survives a migration: registers, latched table
 * pointers, queue position, fault records; and the destination keeps
 * working (queued invalidation resumes where it was).
 */
static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/xen-viommu-mig-%d",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("exec:cat > %s", file);
    QTestState *src = start("q35", "intremap=on,x2apic=on");
    QTestState *dst;
    uint32_t regs[0x280 / 4];
    unsigned i;

    /* Translation on, IR table set and enabled, QI used, a fault logged */
    wr64(src, RTADDR, ROOT_GPA);
    wr32(src, GCMD, GCMD_SRTP);
    wr32(src, GCMD, GCMD_TE);
    wr64(src, IRTA, 0x400000 | (1 << 11) | 7);
    wr32(src, GCMD, GCMD_TE | GCMD_SIRTP);
    wr32(src, GCMD, GCMD_TE | GCMD_IRE);
    wr32(src, FEDATA, 0x41);
    wr32(src, FEADDR, 0xfee01000);
    wr32(src, FEUADDR, 0x100);
    qi_enable(src);
    qi_put(src, 0, 0x5 | (1 << 5) | (0x1111ULL << 32), STATUS_GPA);
    wr64(src, IQT, 1 << 4);
    /* A bad descriptor: IQE pending across the migration */
    qi_put(src, 1, 0x7, 0);
    wr64(src, IQT, 2 << 4);
    g_assert_cmphex(rd32(src, FSTS) & FSTS_IQE, ==, FSTS_IQE);
    for (i = 0; i < ARRAY_SIZE(regs); i++) {
        regs[i] = rd32(src, i * 4);
    }

    qtest_qmp_assert_success(src, "{ 'execute': 'migrate', 'arguments': "
                             "{ 'uri': %s } }", uri);
    wait_migration(src, "query-migrate", "status", "active");
    qtest_quit(src);

    dst = qtest_initf("-M q35 -nodefaults -display none "
                      "-device xen-viommu,intremap=on,x2apic=on "
                      "-incoming 'exec:cat %s'", file);
    wait_migration(dst, "query-status", "status", "inmigrate");
    for (i = 0; i < ARRAY_SIZE(regs); i++) {
        g_assert_cmphex(rd32(dst, i * 4), ==, regs[i]);
    }
    g_assert_cmphex(rd32(dst, GSTS), ==,
                    GCMD_TE | GCMD_SRTP | GCMD_SIRTP | GCMD_IRE | GCMD_QIE);
    /* The queue resumes at the bad descriptor once fixed */
    qi_put(dst, 1, 0x5 | (1 << 5) | (0x2222ULL << 32), STATUS_GPA);
    wr32(dst, FSTS, FSTS_IQE);
    wr64(dst, IQT, 2 << 4);
    g_assert_cmphex(qtest_readl(dst, STATUS_GPA), ==, 0x2222);
    g_assert_cmphex(rd64(dst, IQH), ==, 2 << 4);
    qtest_quit(dst);
    unlink(file);
}

/* A destination whose properties differ refuses the stream */
static void test_migration_mismatch(void)
{
    g_autofree char *file = g_strdup_printf("%s/xen-viommu-mig2-%d",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("exec:cat > %s", file);
    QTestState *src = start("q35", "intremap=on,x2apic=on");
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmd = NULL, *err = NULL;
    g_auto(GStrv) argv = NULL;
    int status;

    qtest_qmp_assert_success(src, "{ 'execute': 'migrate', 'arguments': "
                             "{ 'uri': %s } }", uri);
    wait_migration(src, "query-migrate", "status", "active");
    qtest_quit(src);

    cmd = g_strdup_printf("%s -M q35 -accel qtest -nodefaults -display none "
                          "-device xen-viommu,intremap=on,x2apic=off "
                          "-incoming 'exec:cat %s'", qemu, file);
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, &err, &status, NULL));
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    g_assert_nonnull(strstr(err, "use the same properties on both sides"));
    unlink(file);
}

/* Configuration errors ---------------------------------------------------- */

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
    /* QEMU must refuse to start, with the message */
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    if (!strstr(err, msg)) {
        g_printerr("expected '%s' in: %s\n", msg, err);
        g_assert_not_reached();
    }
}

/* hypervisor=double realizes under -accel qtest; its counters are there */
static void test_hypervisor_double(void)
{
    QTestState *qts = qtest_init("-M q35 -nodefaults -display none "
                                 "-device xen-viommu,id=viommu,intremap=on,"
                                 "hypervisor=double");
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': '/machine/peripheral/viommu', "
                           "'property': 'x-hyp-stats' } }");
    const char *text = qdict_get_str(rsp, "return");

    g_assert_true(g_str_has_prefix(text, "backend double\n"));
    g_assert_nonnull(strstr(text, "\nset_ir_entries "));
    qobject_unref(rsp);
    qtest_quit(qts);

    /* Without a backend: the same property says so */
    qts = qtest_init("-M q35 -nodefaults -display none "
                     "-device xen-viommu,id=viommu,hypervisor=none");
    rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': "
                    "{ 'path': '/machine/peripheral/viommu', "
                    "'property': 'x-hyp-stats' } }");
    g_assert_cmpstr(qdict_get_str(rsp, "return"), ==, "backend none\n");
    qobject_unref(rsp);
    qtest_quit(qts);
}

static void test_config_errors(void)
{
    expect_error("-device xen-viommu,intremap=off,x2apic=on",
                 "x2apic=on requires intremap=on");
    expect_error("-device xen-viommu,aw-bits=40",
                 "aw-bits=40 is not supported");
    expect_error("-device xen-viommu,device-iotlb=on",
                 "device-iotlb=on is not supported");
    expect_error("-device xen-viommu,base=0xfed90800",
                 "must be 4 KiB aligned");
    expect_error("-smp 1,sockets=2,cores=256,maxcpus=512 "
                 "-device xen-viommu,intremap=on,x2apic=off",
                 "need interrupt remapping in x2APIC mode");
    expect_error("-device xen-viommu -device xen-viommu",
                 "multiple vIOMMUs");
    /* Hypervisor backing (hw/i386/xen_viommu_xen.c) */
    expect_error("-device xen-viommu,hypervisor=xen",
                 "hypervisor=xen needs QEMU to run as Xen's device model");
    expect_error("-device xen-viommu,hypervisor=double,intremap=on,"
                 "x-double-ir-entries=off",
                 "intremap=on needs the hypervisor's IR-entries operation");
    expect_error("-smp 1,sockets=2,cores=256,maxcpus=512 "
                 "-device xen-viommu,hypervisor=double",
                 "8-bit destinations only");
    expect_error("-device xen-viommu,hypervisor=hyperv",
                 "is not one of auto, xen, double, none");
    /* Passthrough DMA (hw/i386/xen_viommu_ptdma.c) */
    expect_error("-device xen-viommu,hypervisor=double,pv-iommu=on",
                 "pv-iommu=on needs PV-IOMMU (__HYPERVISOR_iommu_op) in the "
                 "hypervisor, which does not offer it");
    expect_error("-device xen-viommu,pv-iommu=on",
                 "which is not used (hypervisor=none)");
    expect_error("-device xen-viommu,hypervisor=double,x-double-pv-iommu=on,"
                 "pv-iommu=on,dma-translation=off",
                 "pv-iommu=on needs dma-translation=on");
    expect_error("-device xen-viommu,intremap=on,hypervisor=double "
                 "-device x-xen-viommu-pt-testdev,host-sbdf=768",
                 "cannot be put under the unit's DMA remapping: pv-iommu is "
                 "off");
    test_hypervisor_double();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/xen-viommu/reset/q35", test_reset_q35);
    qtest_add_func("/xen-viommu/reset/pc", test_reset_pc);
    qtest_add_func("/xen-viommu/reset/aw57-noir", test_reset_aw57_noir);
    qtest_add_func("/xen-viommu/reset/dma-translation-off",
                   test_dma_translation_off);
    qtest_add_func("/xen-viommu/reset/caching-mode", test_caching_mode);
    qtest_add_func("/xen-viommu/regs/read-only", test_read_only);
    qtest_add_func("/xen-viommu/regs/feuaddr-eim", test_feuaddr_needs_eim);
    qtest_add_func("/xen-viommu/regs/gcmd", test_gcmd);
    qtest_add_func("/xen-viommu/regs/odd-accesses", test_odd_accesses);
    qtest_add_func("/xen-viommu/inv/registers", test_register_invalidation);
    qtest_add_func("/xen-viommu/acpi/dmar-file", test_dmar_file);
    qtest_add_func("/xen-viommu/inv/qi-wait-iqe", test_qi_wait_and_iqe);
    qtest_add_func("/xen-viommu/hostile/queue", test_hostile_queue);
    qtest_add_func("/xen-viommu/config/errors", test_config_errors);
    qtest_add_func("/xen-viommu/migration/state", test_migration);
    qtest_add_func("/xen-viommu/migration/mismatch", test_migration_mismatch);
    return g_test_run();
}
