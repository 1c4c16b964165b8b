/*
 * qtest for xen-viommu interrupt remapping: a PCI device (edu) sends MSIs
 * through an interrupt remapping table in guest RAM, and the local APICs'
 * IRR shows where they went
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The vCPUs do not run under qtest, so a delivered vector stays in the
 * target LAPIC's IRR, read back with "info lapic <apic-id>".  Vectors can
 * never be acknowledged, so every check uses a vector of its own.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"
#include "xen-viommu-qtest.h"
#include "standard-headers/linux/pci_regs.h"

#define BASE        0xfed90000ULL
#define GCMD        0x18
#define GSTS        0x1c
#define FSTS        0x34
#define IQH         0x80
#define IQT         0x88
#define IQA         0x90
#define IRTA        0xb8
#define FRCD        0x200
#define NR_FRCD     8

#define GCMD_QIE    (1U << 26)
#define GCMD_IRE    (1U << 25)
#define GCMD_SIRTP  (1U << 24)
#define GCMD_CFI    (1U << 23)
#define FSTS_PPF    (1U << 1)
#define FSTS_IQE    (1U << 4)
#define FRCD_F      (1ULL << 63)
#define IRTA_EIME   (1ULL << 11)

/* IRTE low qword */
#define IRTE_P      (1ULL << 0)
#define IRTE_FPD    (1ULL << 1)
/* IRTE high qword: SID, SQ, SVT */
#define IRTE_SVT_SID (1ULL << 18)

/* IR fault reasons */
#define FR_INDEX    0x21
#define FR_NP       0x22
#define FR_ACCESS   0x23
#define FR_COMPAT   0x25
#define FR_SID      0x26

/* Guest RAM used for the table and the invalidation queue */
#define IRT_GPA     0x100000ULL
#define IRT_S       3               /* 2^(S+1) = 16 entries */
#define IRT_ENTRIES 16
#define QUEUE_GPA   0x200000ULL
#define STATUS_GPA  0x300000ULL

/* edu at 00:04.0: its requester id */
#define EDU_SLOT    4
#define EDU_SID     (EDU_SLOT << 3)
#define EDU_IRQ_RAISE 0x60

typedef struct {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
    uint8_t msi;            /* MSI capability offset */
    uint32_t gcmd;          /* enables currently commanded */
    uint32_t iq_tail;
} Ctx;

static void wr32(Ctx *c, uint64_t off, uint32_t val)
{
    qtest_writel(c->qts, BASE + off, val);
}

static uint32_t rd32(Ctx *c, uint64_t off)
{
    return qtest_readl(c->qts, BASE + off);
}

static void wr64(Ctx *c, uint64_t off, uint64_t val)
{
    qtest_writeq(c->qts, BASE + off, val);
}

static uint64_t rd64(Ctx *c, uint64_t off)
{
    return qtest_readq(c->qts, BASE + off);
}

/* test_oracle runs workloads with the unit's architectural checker on */
static bool oracle_on;

/* Boot q35 with @cpus (CPU options), the unit with @props, and edu */
static void start(Ctx *c, const char *cpus, const char *props)
{
    memset(c, 0, sizeof(*c));
    c->qts = qtest_initf("-M q35 -nodefaults -display none %s "
                         "-device xen-viommu,%s%s "
                         "-device edu,addr=%d.0", cpus, props,
                         oracle_on ? ",x-oracle=on,id=xvi" : "", EDU_SLOT);
    if (oracle_on) {
        QDict *r = qtest_qmp(c->qts, "{ 'execute': 'qom-get', 'arguments': "
                             "{ 'path': 'xvi', 'property': 'x-oracle' } }");

        g_assert_true(qdict_get_bool(r, "return"));
        qobject_unref(r);
    }
    c->bus = qpci_new_pc(c->qts, NULL);
    c->dev = qpci_device_find(c->bus, QPCI_DEVFN(EDU_SLOT, 0));
    g_assert_nonnull(c->dev);
    qpci_device_enable(c->dev);    /* memory space and bus master */
    c->bar = qpci_iomap(c->dev, 0, NULL);
    c->msi = qpci_find_capability(c->dev, PCI_CAP_ID_MSI, 0);
    g_assert_cmpuint(c->msi, !=, 0);
}

static void stop(Ctx *c)
{
    g_free(c->dev);
    qpci_free_pc(c->bus);
    qtest_quit(c->qts);
}

/* Program edu's (64-bit, one vector) MSI capability and enable it */
static void edu_msi(Ctx *c, uint32_t addr, uint16_t data)
{
    qpci_config_writel(c->dev, c->msi + PCI_MSI_ADDRESS_LO, addr);
    qpci_config_writel(c->dev, c->msi + PCI_MSI_ADDRESS_HI, 0);
    qpci_config_writew(c->dev, c->msi + PCI_MSI_DATA_64, data);
    qpci_config_writew(c->dev, c->msi + PCI_MSI_FLAGS,
                       qpci_config_readw(c->dev, c->msi + PCI_MSI_FLAGS) |
                       PCI_MSI_FLAGS_ENABLE);
}

/* Make edu send its MSI */
static void edu_fire(Ctx *c)
{
    qpci_io_writel(c->dev, c->bar, EDU_IRQ_RAISE, 1);
}

/* Program edu with a remappable-format MSI for @handle (SHV=0) and fire */
static void fire_handle(Ctx *c, uint32_t handle)
{
    edu_msi(c, 0xfee00000u | (handle & 0x7fff) << 5 | 1u << 4 |
            ((handle >> 15) & 1) << 2, 0);
    edu_fire(c);
}

/* Is @vector in the IRR of the LAPIC with APIC ID @apic_id? */
static bool lapic_irr_has(Ctx *c, unsigned apic_id, unsigned vector)
{
    g_autofree char *out = qtest_hmp(c->qts, "info lapic %u", apic_id);
    g_autofree char *want = g_strdup_printf("%u", vector);
    g_auto(GStrv) lines = NULL;
    bool found = false, seen = false;
    int i;

    lines = g_strsplit(out, "\n", -1);
    for (i = 0; lines[i]; i++) {
        g_auto(GStrv) words = NULL;
        int j;

        if (!g_str_has_prefix(lines[i], "IRR\t")) {
            continue;
        }
        seen = true;
        words = g_strsplit_set(lines[i] + 4, " (", -1);
        for (j = 0; words[j]; j++) {
            /* "65 " or "65(level) " per vector */
            if (!strcmp(words[j], want)) {
                found = true;
            }
        }
    }
    /* Make sure the output was what we parse, e.g. the CPU exists */
    if (!seen) {
        g_error("no IRR line in 'info lapic %u': %s", apic_id, out);
    }
    return found;
}

/* The IRTE at @index */
static void irte_set(Ctx *c, unsigned index, uint64_t lo, uint64_t hi)
{
    qtest_writeq(c->qts, IRT_GPA + index * 16, lo);
    qtest_writeq(c->qts, IRT_GPA + index * 16 + 8, hi);
}

/* Remapped-format, fixed, edge, physical IRTE low qword */
static uint64_t irte_x2apic(uint32_t dest, uint8_t vector)
{
    return IRTE_P | (uint64_t)vector << 16 | (uint64_t)dest << 32;
}

static uint64_t irte_xapic(uint8_t dest, uint8_t vector)
{
    return IRTE_P | (uint64_t)vector << 16 | (uint64_t)dest << 40;
}

static void command(Ctx *c, uint32_t oneshot)
{
    wr32(c, GCMD, c->gcmd | oneshot);
}

/* Set the table, then enable IR (plus @extra enables, e.g. CFI) */
static void ir_enable(Ctx *c, bool eime, uint32_t extra)
{
    wr64(c, IRTA, IRT_GPA | (eime ? IRTA_EIME : 0) | IRT_S);
    command(c, GCMD_SIRTP);
    g_assert_true(rd32(c, GSTS) & GCMD_SIRTP);
    c->gcmd |= GCMD_IRE | extra;
    command(c, 0);
    g_assert_cmphex(rd32(c, GSTS) & (GCMD_IRE | GCMD_CFI), ==,
                    GCMD_IRE | (extra & GCMD_CFI));
}

/*
 * Take the one pending fault record: asserts there is exactly one, returns
 * its two qwords and clears it (F is write-1-to-clear).
 */
static void take_fault(Ctx *c, uint64_t *lo, uint64_t *hi)
{
    int i, n = 0;

    g_assert_true(rd32(c, FSTS) & FSTS_PPF);
    for (i = 0; i < NR_FRCD; i++) {
        uint64_t h = rd64(c, FRCD + i * 16 + 8);

        if (h & FRCD_F) {
            *lo = rd64(c, FRCD + i * 16);
            *hi = h;
            wr64(c, FRCD + i * 16 + 8, FRCD_F);
            n++;
        }
    }
    g_assert_cmpint(n, ==, 1);
    g_assert_false(rd32(c, FSTS) & FSTS_PPF);
}

static void assert_no_fault(Ctx *c)
{
    int i;

    g_assert_false(rd32(c, FSTS) & FSTS_PPF);
    for (i = 0; i < NR_FRCD; i++) {
        g_assert_false(rd64(c, FRCD + i * 16 + 8) & FRCD_F);
    }
}

/* Check a remapping fault: reason, edu's SID, interrupt index */
static void assert_ir_fault(Ctx *c, uint8_t reason, uint16_t index)
{
    uint64_t lo = 0, hi = 0;

    take_fault(c, &lo, &hi);
    g_assert_cmphex((hi >> 32) & 0xff, ==, reason);
    g_assert_cmphex(hi & 0xffff, ==, EDU_SID);
    g_assert_cmphex(lo >> 48, ==, index);
}

/* Queue @lo/@hi followed by a wait descriptor; check it completed */
static void qi_submit(Ctx *c, uint64_t lo, uint64_t hi)
{
    uint32_t tag = 0x1000 + c->iq_tail;

    if (!(c->gcmd & GCMD_QIE)) {
        wr64(c, IQA, QUEUE_GPA);            /* QS=0: 256 entries */
        c->gcmd |= GCMD_QIE;
        command(c, 0);
        g_assert_true(rd32(c, GSTS) & GCMD_QIE);
    }
    qtest_writeq(c->qts, QUEUE_GPA + c->iq_tail * 16, lo);
    qtest_writeq(c->qts, QUEUE_GPA + c->iq_tail * 16 + 8, hi);
    c->iq_tail++;
    /* wait descriptor: status write of @tag */
    qtest_writeq(c->qts, QUEUE_GPA + c->iq_tail * 16,
                 5 | 1ULL << 5 | (uint64_t)tag << 32);
    qtest_writeq(c->qts, QUEUE_GPA + c->iq_tail * 16 + 8, STATUS_GPA);
    c->iq_tail++;
    wr64(c, IQT, c->iq_tail * 16);
    g_assert_false(rd32(c, FSTS) & FSTS_IQE);
    g_assert_cmphex(rd64(c, IQH), ==, c->iq_tail * 16);
    g_assert_cmphex(qtest_readl(c->qts, STATUS_GPA), ==, tag);
}

static void iec_inv_index(Ctx *c, uint16_t index, unsigned im)
{
    qi_submit(c, 4 | 1ULL << 4 | (uint64_t)im << 27 | (uint64_t)index << 32,
              0);
}

static void iec_inv_global(Ctx *c)
{
    qi_submit(c, 4, 0);
}

/*
 * Passthrough-like device (x-xen-viommu-pt-testdev): its MSI is bound to a
 * pirq in the hypervisor double through the unit, and raised by the double
 */
#define PT_SLOT         5
#define PT_SID          (PT_SLOT << 3)
#define PT_FIRE         0x00
#define PT_RESULT       0x04
#define PT_BOUND        0x08

typedef struct {
    QPCIDevice *dev;
    QPCIBar bar;
    uint8_t msi;
} PtDev;

static void pt_start(Ctx *c, PtDev *pt)
{
    start(c, "-smp 2", "id=viommu,intremap=on,x2apic=off,hypervisor=double "
          "-device x-xen-viommu-pt-testdev,addr=" stringify(PT_SLOT) ".0");
    pt->dev = qpci_device_find(c->bus, QPCI_DEVFN(PT_SLOT, 0));
    g_assert_nonnull(pt->dev);
    qpci_device_enable(pt->dev);
    pt->bar = qpci_iomap(pt->dev, 0, NULL);
    pt->msi = qpci_find_capability(pt->dev, PCI_CAP_ID_MSI, 0);
    g_assert_cmpuint(pt->msi, !=, 0);
}

/* Program the (64-bit) MSI capability with remappable handle @handle */
static void pt_msi_handle(PtDev *pt, uint32_t handle)
{
    qpci_config_writel(pt->dev, pt->msi + PCI_MSI_ADDRESS_LO,
                       0xfee00000u | (handle & 0x7fff) << 5 | 1u << 4 |
                       ((handle >> 15) & 1) << 2);
    qpci_config_writel(pt->dev, pt->msi + PCI_MSI_ADDRESS_HI, 0);
    qpci_config_writew(pt->dev, pt->msi + PCI_MSI_DATA_64, 0);
}

static void pt_msi_enable(PtDev *pt, bool on)
{
    uint16_t flags = qpci_config_readw(pt->dev, pt->msi + PCI_MSI_FLAGS);

    qpci_config_writew(pt->dev, pt->msi + PCI_MSI_FLAGS,
                       on ? flags | PCI_MSI_FLAGS_ENABLE :
                       flags & ~PCI_MSI_FLAGS_ENABLE);
}

/* Ask the double to raise the device's pirq; its result */
static int32_t pt_fire(PtDev *pt)
{
    qpci_io_writel(pt->dev, pt->bar, PT_FIRE, 1);
    return (int32_t)qpci_io_readl(pt->dev, pt->bar, PT_RESULT);
}

/* A counter of the unit's x-hyp-stats (xen-viommu-qtest.h) */
static uint64_t hyp_stat(Ctx *c, const char *name, int field)
{
    return xvi_hyp_stat(c->qts, name, field);
}

/* Per-operation counters: calls refused errors items */
#define ST_CALLS    0
#define ST_REFUSED  1
#define ST_ERRORS   2

static void assert_pt_no_errors(Ctx *c)
{
    g_assert_cmpuint(hyp_stat(c, "bind_pt_msi", ST_ERRORS), ==, 0);
    g_assert_cmpuint(hyp_stat(c, "bind_pt_msi", ST_REFUSED), ==, 0);
    g_assert_cmpuint(hyp_stat(c, "unbind_pt_msi", ST_ERRORS), ==, 0);
    g_assert_cmpuint(hyp_stat(c, "unbind_pt_msi", ST_REFUSED), ==, 0);
}

/*
 * The binding follows the IRTE: bound with the translated message, bound
 * again (old binding unbound with the values it was made with) after an
 * invalidation, unbound with a fault when the entry goes away, unbound when
 * the guest disables MSI.
 */
static void test_pt_msi(void)
{
    Ctx c;
    PtDev pt;

    pt_start(&c, &pt);
    ir_enable(&c, false, 0);

    /* Bind: IRTE 6 -> vector 0xa1 at APIC ID 1 */
    irte_set(&c, 6, irte_xapic(1, 0xa1), IRTE_SVT_SID | PT_SID);
    pt_msi_handle(&pt, 6);
    g_assert_cmpuint(hyp_stat(&c, "double.pt_bound", 0), ==, 0);
    pt_msi_enable(&pt, true);
    g_assert_cmpuint(qpci_io_readl(pt.dev, pt.bar, PT_BOUND), ==, 1);
    g_assert_cmpuint(hyp_stat(&c, "double.pt_bound", 0), ==, 1);
    g_assert_cmpuint(hyp_stat(&c, "bind_pt_msi", ST_CALLS), ==, 1);
    g_assert_cmpint(pt_fire(&pt), ==, 0);
    g_assert_true(lapic_irr_has(&c, 1, 0xa1));
    g_assert_false(lapic_irr_has(&c, 0, 0xa1));
    g_assert_cmpuint(hyp_stat(&c, "double.pirq_delivered", 0), ==, 1);
    /* Through the binding only: nothing was injected as an MSI */
    g_assert_cmpuint(hyp_stat(&c, "double.msi_delivered", 0), ==, 0);

    /* Invalidating another entry leaves the binding alone */
    iec_inv_index(&c, 2, 0);
    g_assert_cmpuint(hyp_stat(&c, "bind_pt_msi", ST_CALLS), ==, 1);

    /* Rebind: vector 0xa2 at APIC ID 0 after invalidating entries 4-7 */
    irte_set(&c, 6, irte_xapic(0, 0xa2), IRTE_SVT_SID | PT_SID);
    iec_inv_index(&c, 4, 2);
    g_assert_cmpuint(hyp_stat(&c, "unbind_pt_msi", ST_CALLS), ==, 1);
    g_assert_cmpuint(hyp_stat(&c, "bind_pt_msi", ST_CALLS), ==, 2);
    g_assert_cmpint(pt_fire(&pt), ==, 0);
    g_assert_true(lapic_irr_has(&c, 0, 0xa2));
    g_assert_false(lapic_irr_has(&c, 1, 0xa2));
    assert_pt_no_errors(&c);
    assert_no_fault(&c);

    /* Not present: unbound, the fault recorded, nothing delivered */
    irte_set(&c, 6, irte_xapic(1, 0xa3) & ~IRTE_P, 0);
    iec_inv_global(&c);
    g_assert_cmpuint(qpci_io_readl(pt.dev, pt.bar, PT_BOUND), ==, 0);
    g_assert_cmpuint(hyp_stat(&c, "double.pt_bound", 0), ==, 0);
    g_assert_cmpuint(hyp_stat(&c, "unbind_pt_msi", ST_CALLS), ==, 2);
    {
        uint64_t lo = 0, hi = 0;

        take_fault(&c, &lo, &hi);
        g_assert_cmphex((hi >> 32) & 0xff, ==, FR_NP);
        g_assert_cmphex(hi & 0xffff, ==, PT_SID);
        g_assert_cmphex(lo >> 48, ==, 6);
    }
    g_assert_cmpint(pt_fire(&pt), ==, -ENOENT);
    g_assert_false(lapic_irr_has(&c, 0, 0xa3));
    g_assert_false(lapic_irr_has(&c, 1, 0xa3));

    /* Present again: bound again */
    irte_set(&c, 6, irte_xapic(1, 0xa4), 0);
    iec_inv_index(&c, 6, 0);
    g_assert_cmpuint(hyp_stat(&c, "double.pt_bound", 0), ==, 1);
    g_assert_cmpint(pt_fire(&pt), ==, 0);
    g_assert_true(lapic_irr_has(&c, 1, 0xa4));

    /* Disable MSI: unbound with the values bound */
    pt_msi_enable(&pt, false);
    g_assert_cmpuint(hyp_stat(&c, "double.pt_bound", 0), ==, 0);
    g_assert_cmpuint(hyp_stat(&c, "unbind_pt_msi", ST_CALLS), ==, 3);
    g_assert_cmpint(pt_fire(&pt), ==, -ENOENT);

    /* IRE off: the remappable message cannot be bound; on: bound again */
    pt_msi_enable(&pt, true);
    g_assert_cmpuint(hyp_stat(&c, "double.pt_bound", 0), ==, 1);
    c.gcmd &= ~GCMD_IRE;
    command(&c, 0);
    g_assert_cmpuint(hyp_stat(&c, "double.pt_bound", 0), ==, 0);
    c.gcmd |= GCMD_IRE;
    command(&c, 0);
    g_assert_cmpuint(hyp_stat(&c, "double.pt_bound", 0), ==, 1);

    assert_pt_no_errors(&c);
    assert_no_fault(&c);
    g_free(pt.dev);
    stop(&c);
}

/* Tests ------------------------------------------------------------------- */

/* xAPIC mode: 8-bit destination in IRTE bits 47:40 */
static void test_xapic_delivery(void)
{
    Ctx c;

    start(&c, "-smp 2", "intremap=on,x2apic=off");
    ir_enable(&c, false, 0);

    irte_set(&c, 3, irte_xapic(1, 0x41), 0);
    fire_handle(&c, 3);
    g_assert_true(lapic_irr_has(&c, 1, 0x41));
    g_assert_false(lapic_irr_has(&c, 0, 0x41));

    irte_set(&c, 4, irte_xapic(0, 0x42), 0);
    fire_handle(&c, 4);
    g_assert_true(lapic_irr_has(&c, 0, 0x42));
    g_assert_false(lapic_irr_has(&c, 1, 0x42));

    /* SHV=1: handle 8 + subhandle 2 in the data selects entry 10 */
    irte_set(&c, 8, irte_xapic(0, 0x43), 0);
    irte_set(&c, 10, irte_xapic(1, 0x44), 0);
    edu_msi(&c, 0xfee00000u | 8 << 5 | 1u << 4 | 1u << 3, 2);
    edu_fire(&c);
    g_assert_true(lapic_irr_has(&c, 1, 0x44));
    g_assert_false(lapic_irr_has(&c, 0, 0x43));
    g_assert_false(lapic_irr_has(&c, 1, 0x43));

    assert_no_fault(&c);
    stop(&c);
}

static void test_faults(void)
{
    Ctx c;

    start(&c, "-smp 2", "intremap=on,x2apic=off");
    ir_enable(&c, false, 0);

    /* Not present */
    irte_set(&c, 5, irte_xapic(1, 0x50) & ~IRTE_P, 0);
    fire_handle(&c, 5);
    assert_ir_fault(&c, FR_NP, 5);
    g_assert_false(lapic_irr_has(&c, 1, 0x50));

    /* Beyond the table (16 entries); the entry in RAM is valid */
    irte_set(&c, IRT_ENTRIES, irte_xapic(1, 0x51), 0);
    fire_handle(&c, IRT_ENTRIES);
    assert_ir_fault(&c, FR_INDEX, IRT_ENTRIES);
    g_assert_false(lapic_irr_has(&c, 1, 0x51));

    /* Source-id verification: wrong SID blocked, the right one passes */
    irte_set(&c, 6, irte_xapic(1, 0x52), IRTE_SVT_SID | (EDU_SID + 8));
    fire_handle(&c, 6);
    assert_ir_fault(&c, FR_SID, 6);
    g_assert_false(lapic_irr_has(&c, 1, 0x52));

    irte_set(&c, 7, irte_xapic(1, 0x53), IRTE_SVT_SID | EDU_SID);
    fire_handle(&c, 7);
    assert_no_fault(&c);
    g_assert_true(lapic_irr_has(&c, 1, 0x53));

    /* FPD: a non-present entry blocks silently */
    irte_set(&c, 9, (irte_xapic(1, 0x54) & ~IRTE_P) | IRTE_FPD, 0);
    fire_handle(&c, 9);
    assert_no_fault(&c);
    g_assert_false(lapic_irr_has(&c, 1, 0x54));

    /* ... and the faults above were real: without FPD it is recorded */
    irte_set(&c, 11, irte_xapic(1, 0x55) & ~IRTE_P, 0);
    fire_handle(&c, 11);
    assert_ir_fault(&c, FR_NP, 11);
    stop(&c);
}

/*
 * Hostile tables: a 65536-entry table whose first page is the last of RAM,
 * a table in the unit's own registers, huge invalidation masks
 */
static void test_hostile_table(void)
{
    const uint64_t last_page = 0x8000000ULL - 0x1000;      /* -m 128 */
    Ctx c;

    start(&c, "-smp 2", "intremap=on,x2apic=off");
    qtest_memset(c.qts, last_page, 0, 0x1000);
    qtest_writeq(c.qts, last_page + 5 * 16, irte_xapic(1, 0x60));
    qtest_writeq(c.qts, last_page + 5 * 16 + 8, 0);
    wr64(&c, IRTA, last_page | 15);
    command(&c, GCMD_SIRTP);
    c.gcmd |= GCMD_IRE;
    command(&c, 0);
    g_assert_true(rd32(&c, GSTS) & GCMD_IRE);

    /* In RAM: delivered; beyond RAM: the entry cannot be read */
    fire_handle(&c, 5);
    assert_no_fault(&c);
    g_assert_true(lapic_irr_has(&c, 1, 0x60));
    fire_handle(&c, 300);
    assert_ir_fault(&c, FR_ACCESS, 300);
    fire_handle(&c, 65535);
    assert_ir_fault(&c, FR_ACCESS, 65535);

    /* Invalidations with the largest index and mask: bounded, entry kept */
    iec_inv_index(&c, 0xffff, 15);
    iec_inv_index(&c, 0, 31);
    iec_inv_global(&c);
    fire_handle(&c, 5);
    assert_no_fault(&c);

    /*
     * The table in the unit's own register page: reading it is re-entrant
     * I/O, refused, so the entry cannot be read (and nothing deadlocks)
     */
    wr64(&c, IRTA, BASE | 15);
    command(&c, GCMD_SIRTP);
    fire_handle(&c, 1);
    assert_ir_fault(&c, FR_ACCESS, 1);
    stop(&c);
}

/*
 * x2APIC mode: compatibility format is blocked, and CFI has no effect
 * (VT-d 5.1.2.1: blocked when EIME = 1 or CFIS = 0)
 */
static void test_cfi(void)
{
    Ctx c;
    uint32_t compat = 0xfee00000u | 1u << 12;    /* physical, APIC ID 1 */

    start(&c, "-smp 2", "intremap=on,x2apic=on");
    ir_enable(&c, true, 0);

    edu_msi(&c, compat, 0x60);
    edu_fire(&c);
    assert_ir_fault(&c, FR_COMPAT, 0);
    g_assert_false(lapic_irr_has(&c, 1, 0x60));

    c.gcmd |= GCMD_CFI;
    command(&c, 0);
    g_assert_true(rd32(&c, GSTS) & GCMD_CFI);
    edu_msi(&c, compat, 0x61);
    edu_fire(&c);
    assert_ir_fault(&c, FR_COMPAT, 0);
    g_assert_false(lapic_irr_has(&c, 1, 0x61));
    stop(&c);
}

/* xAPIC mode: compatibility format passes only while CFI is set */
static void test_cfi_xapic(void)
{
    Ctx c;
    uint32_t compat = 0xfee00000u | 1u << 12;

    start(&c, "-smp 2", "intremap=on,x2apic=off");
    ir_enable(&c, false, 0);
    edu_msi(&c, compat, 0x62);
    edu_fire(&c);
    assert_ir_fault(&c, FR_COMPAT, 0);
    g_assert_false(lapic_irr_has(&c, 1, 0x62));

    c.gcmd |= GCMD_CFI;
    command(&c, 0);
    g_assert_true(rd32(&c, GSTS) & GCMD_CFI);
    edu_msi(&c, compat, 0x63);
    edu_fire(&c);
    assert_no_fault(&c);
    g_assert_true(lapic_irr_has(&c, 1, 0x63));
    g_assert_false(lapic_irr_has(&c, 0, 0x63));

    /* Clearing CFI blocks them again */
    c.gcmd &= ~GCMD_CFI;
    command(&c, 0);
    edu_msi(&c, compat, 0x64);
    edu_fire(&c);
    assert_ir_fault(&c, FR_COMPAT, 0);
    g_assert_false(lapic_irr_has(&c, 1, 0x64));
    stop(&c);
}

/*
 * What the unit tells the hypervisor's vIOAPIC follows the same rule:
 * compatibility-format RTEs are blocked unless EIME = 0 and CFI = 1
 */
static void test_cfi_hyp(void)
{
    static const struct {
        bool eime;
        uint32_t cfi;
        int blocked;
    } cases[] = {
        { false, 0, 1 }, { false, GCMD_CFI, 0 },
        { true, 0, 1 }, { true, GCMD_CFI, 1 },
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        Ctx c;

        start(&c, "-smp 2", "id=viommu,intremap=on,x2apic=on,"
              "hypervisor=double,x-double-ir-entries=on");
        ir_enable(&c, cases[i].eime, cases[i].cfi);
        g_assert_cmpint(hyp_stat(&c, "double.ir_enabled", 0), ==, 1);
        g_assert_cmpint(hyp_stat(&c, "double.ir_block_compat", 0), ==,
                        cases[i].blocked);
        stop(&c);
    }
}

/* Queue off, tail and head back to 0, on again */
static void queue_restart(Ctx *c)
{
    c->gcmd &= ~GCMD_QIE;
    command(c, 0);
    wr64(c, IQT, 0);
    c->iq_tail = 0;
    c->gcmd |= GCMD_QIE;
    command(c, 0);
    g_assert_cmphex(rd64(c, IQH), ==, 0);
}

/*
 * An interrupt-entry-cache storm on the hypervisor path: one IQT write of
 * hundreds of invalidations and waits costs at most one pass over the
 * table (256 pushes of 256 entries for 65536), not one per descriptor
 */
static void test_iec_storm_hyp(void)
{
    uint64_t pushes;
    unsigned i;
    Ctx c;

    start(&c, "-smp 2", "id=viommu,intremap=on,x2apic=on,"
          "hypervisor=double,x-double-ir-entries=on");
    qtest_memset(c.qts, IRT_GPA, 0, 0x100000);
    wr64(&c, IRTA, IRT_GPA | IRTA_EIME | 15);      /* 65536 entries */
    command(&c, GCMD_SIRTP);
    c.gcmd |= GCMD_IRE;
    command(&c, 0);
    wr64(&c, IQA, QUEUE_GPA);                       /* 256 descriptors */
    c.gcmd |= GCMD_QIE;
    command(&c, 0);

    /* 127 global invalidations, each followed by a wait */
    pushes = hyp_stat(&c, "set_ir_entries", ST_CALLS);
    for (i = 0; i < 254; i += 2) {
        qtest_writeq(c.qts, QUEUE_GPA + i * 16, 4);
        qtest_writeq(c.qts, QUEUE_GPA + i * 16 + 8, 0);
        qtest_writeq(c.qts, QUEUE_GPA + (i + 1) * 16,
                     5 | 1ULL << 5 | (uint64_t)i << 32);
        qtest_writeq(c.qts, QUEUE_GPA + (i + 1) * 16 + 8, STATUS_GPA);
    }
    wr64(&c, IQT, 254 << 4);
    g_assert_cmphex(rd64(&c, IQH), ==, 254 << 4);
    g_assert_cmphex(qtest_readl(c.qts, STATUS_GPA), ==, 252);
    pushes = hyp_stat(&c, "set_ir_entries", ST_CALLS) - pushes;
    g_assert_cmpuint(pushes, >, 0);
    g_assert_cmpuint(pushes, <=, 65536 / 256);

    /* The same entry again and again: pushed once */
    queue_restart(&c);
    pushes = hyp_stat(&c, "set_ir_entries", ST_CALLS);
    for (i = 0; i < 254; i += 2) {
        qtest_writeq(c.qts, QUEUE_GPA + i * 16, 4 | 1ULL << 4 | 5ULL << 32);
        qtest_writeq(c.qts, QUEUE_GPA + i * 16 + 8, 0);
        qtest_writeq(c.qts, QUEUE_GPA + (i + 1) * 16,
                     5 | 1ULL << 5 | (uint64_t)(i + 1000) << 32);
        qtest_writeq(c.qts, QUEUE_GPA + (i + 1) * 16 + 8, STATUS_GPA);
    }
    wr64(&c, IQT, 254 << 4);
    g_assert_cmphex(rd64(&c, IQH), ==, 254 << 4);
    g_assert_cmpuint(hyp_stat(&c, "set_ir_entries", ST_CALLS) - pushes, ==,
                     1);

    /* Still correct: an entry changed and invalidated is what Xen holds */
    queue_restart(&c);
    irte_set(&c, 300, irte_x2apic(1, 0x55), 0);
    iec_inv_index(&c, 300, 0);
    g_assert_cmpuint(hyp_stat(&c, "double.ir_present", 0), ==, 1);
    g_assert_cmpuint(hyp_stat(&c, "set_ir_entries", ST_ERRORS), ==, 0);
    stop(&c);
}

/* HPET (-global hpet.msi=on): timer 2 has FSB delivery */
#define HPET_BASE       0xfed00000ULL
#define HPET_CFG        0x010
#define HPET_T2         (0x100 + 2 * 0x20)
#define HPET_TN_ENABLE  (1ULL << 2)
#define HPET_TN_FSB     (1ULL << 14)
#define HPET_SID        ((0xf0 << 8) | (0x1f << 3))

/* Arm HPET timer 2 to fire once through FSB with @addr/@data, let it fire */
static void hpet_fire(Ctx *c, uint32_t addr, uint32_t data)
{
    qtest_writeq(c->qts, HPET_BASE + HPET_CFG, 0);
    qtest_writeq(c->qts, HPET_BASE + 0xf0, 0);                 /* counter */
    qtest_writeq(c->qts, HPET_BASE + HPET_T2 + 0x10,
                 (uint64_t)addr << 32 | data);
    qtest_writeq(c->qts, HPET_BASE + HPET_T2 + 0x08, 1000);    /* compare */
    qtest_writeq(c->qts, HPET_BASE + HPET_T2,
                 HPET_TN_ENABLE | HPET_TN_FSB);
    qtest_writeq(c->qts, HPET_BASE + HPET_CFG, 1);
    qtest_clock_step(c->qts, 1000 * 1000);
    qtest_writeq(c->qts, HPET_BASE + HPET_CFG, 0);
}

/*
 * The HPET's FSB interrupts go through the unit with the HPET's source id
 * (the DMAR's f0:1f.0): remapped, source-checked, and blocked in
 * compatibility format like any other request
 */
static void test_hpet(void)
{
    uint32_t remap = 0xfee00000u | 9u << 5 | 1u << 4;
    Ctx c;

    start(&c, "-smp 2 -global hpet.msi=on", "intremap=on,x2apic=on");
    ir_enable(&c, true, 0);
    irte_set(&c, 9, irte_x2apic(1, 0x77), IRTE_SVT_SID | HPET_SID);
    hpet_fire(&c, remap, 0);
    g_assert_true(lapic_irr_has(&c, 1, 0x77));
    g_assert_false(lapic_irr_has(&c, 0, 0x77));
    assert_no_fault(&c);

    /* An entry for another source: 0x26, the HPET's id in the record */
    irte_set(&c, 9, irte_x2apic(1, 0x78), IRTE_SVT_SID | EDU_SID);
    iec_inv_index(&c, 9, 0);
    hpet_fire(&c, remap, 0);
    g_assert_false(lapic_irr_has(&c, 1, 0x78));
    {
        uint64_t lo = 0, hi = 0;

        take_fault(&c, &lo, &hi);
        g_assert_cmphex((hi >> 32) & 0xff, ==, FR_SID);
        g_assert_cmphex(hi & 0xffff, ==, HPET_SID);
        g_assert_cmphex(lo >> 48, ==, 9);
    }

    /* Compatibility format straight to the APIC is blocked now */
    hpet_fire(&c, 0xfee00000u | 1u << 12, 0x79);
    g_assert_false(lapic_irr_has(&c, 1, 0x79));
    {
        uint64_t lo = 0, hi = 0;

        take_fault(&c, &lo, &hi);
        g_assert_cmphex((hi >> 32) & 0xff, ==, FR_COMPAT);
        g_assert_cmphex(hi & 0xffff, ==, HPET_SID);
    }
    stop(&c);
}

/* Interrupt-entry cache: stale until invalidated */
static void test_iec(void)
{
    Ctx c;

    start(&c, "-smp 2", "intremap=on,x2apic=on");
    ir_enable(&c, true, 0);

    irte_set(&c, 3, irte_x2apic(1, 0x70), 0);
    fire_handle(&c, 3);
    g_assert_true(lapic_irr_has(&c, 1, 0x70));

    /* New vector in RAM: the cached entry is still used */
    irte_set(&c, 3, irte_x2apic(1, 0x71), 0);
    fire_handle(&c, 3);
    g_assert_false(lapic_irr_has(&c, 1, 0x71));

    /* Invalidating another index changes nothing */
    iec_inv_index(&c, 2, 0);
    fire_handle(&c, 3);
    g_assert_false(lapic_irr_has(&c, 1, 0x71));

    /* Entries 0-3 (IM=2): the new vector arrives */
    iec_inv_index(&c, 0, 2);
    fire_handle(&c, 3);
    g_assert_true(lapic_irr_has(&c, 1, 0x71));
    assert_no_fault(&c);

    /* Not present in RAM: still cached, still delivered, no fault */
    irte_set(&c, 3, irte_x2apic(1, 0x71) & ~IRTE_P, 0);
    fire_handle(&c, 3);
    assert_no_fault(&c);

    /* Global invalidation: now blocked */
    iec_inv_global(&c);
    fire_handle(&c, 3);
    assert_ir_fault(&c, FR_NP, 3);
    stop(&c);
}

/*
 * x2APIC destination above 255.  CPUs: APIC IDs 0, 1 and 256.
 *
 * The LAPICs cannot be switched to x2APIC mode under qtest (that takes a
 * guest MSR write), and QEMU's xAPIC-mode LAPIC matches a physical
 * destination on its 8-bit ID, so APIC ID 256 answers to 0 as APIC ID 0
 * does: destination 256 reaches CPUs 256 and 0, not 1.  What shows that
 * destination bits 31:8 are carried through is 0x1ff: kept whole it
 * matches no xAPIC-mode LAPIC, truncated to 0xff it would be a broadcast.
 */
static void test_x2apic_dest(void)
{
    Ctx c;

    start(&c, "-smp 1,sockets=2,cores=256,threads=1,maxcpus=512 -cpu max "
          "-device max-x86_64-cpu,socket-id=0,core-id=1,thread-id=0 "
          "-device max-x86_64-cpu,socket-id=1,core-id=0,thread-id=0",
          "intremap=on,x2apic=on");
    ir_enable(&c, true, 0);

    irte_set(&c, 1, irte_x2apic(256, 0x80), 0);
    fire_handle(&c, 1);
    g_assert_true(lapic_irr_has(&c, 256, 0x80));
    g_assert_false(lapic_irr_has(&c, 1, 0x80));

    irte_set(&c, 2, irte_x2apic(1, 0x81), 0);
    fire_handle(&c, 2);
    g_assert_true(lapic_irr_has(&c, 1, 0x81));
    g_assert_false(lapic_irr_has(&c, 0, 0x81));
    g_assert_false(lapic_irr_has(&c, 256, 0x81));

    irte_set(&c, 3, irte_x2apic(0x1ff, 0x82), 0);
    fire_handle(&c, 3);
    g_assert_false(lapic_irr_has(&c, 0, 0x82));
    g_assert_false(lapic_irr_has(&c, 1, 0x82));
    g_assert_false(lapic_irr_has(&c, 256, 0x82));

    /* Positive control for the above: 0xff is a broadcast */
    irte_set(&c, 4, irte_x2apic(0xff, 0x83), 0);
    fire_handle(&c, 4);
    g_assert_true(lapic_irr_has(&c, 0, 0x83));
    g_assert_true(lapic_irr_has(&c, 1, 0x83));
    g_assert_true(lapic_irr_has(&c, 256, 0x83));

    assert_no_fault(&c);
    stop(&c);
}

/*
 * IRE=0: MSIs pass untranslated, even with a table set and an address in
 * remappable format.  Handle 0x80 puts 1 in address bits 19:12, so the
 * untranslated message goes to APIC ID 1 with the data as vector; with
 * IRE=1 the same request is looked up (and, beyond the table, blocked).
 */
/*
 * The workloads above again with x-oracle=on: every interrupt the unit
 * passes on with IRE=1 is checked against the compatibility rule and the
 * IRTE in memory (or the one cached since the last invalidation), and the
 * interrupt entry cache after each invalidation; QEMU aborts on a
 * disagreement, which fails the test.  Faults, hostile tables, CFI in both
 * modes and stale cached entries are correct behaviour it must accept.
 */
static void test_oracle(void)
{
    static void (*const workloads[])(void) = {
        test_xapic_delivery, test_faults, test_hostile_table, test_cfi,
        test_cfi_xapic, test_iec, test_x2apic_dest,
    };
    int i;

    oracle_on = true;
    for (i = 0; i < ARRAY_SIZE(workloads); i++) {
        workloads[i]();
    }
    oracle_on = false;
}

static void test_ir_disabled(void)
{
    Ctx c;

    start(&c, "-smp 2", "intremap=on,x2apic=off");
    wr64(&c, IRTA, IRT_GPA | IRT_S);
    command(&c, GCMD_SIRTP);
    g_assert_true(rd32(&c, GSTS) & GCMD_SIRTP);
    g_assert_false(rd32(&c, GSTS) & GCMD_IRE);

    edu_msi(&c, 0xfee00000u | 0x80 << 5 | 1u << 4, 0x90);
    edu_fire(&c);
    g_assert_true(lapic_irr_has(&c, 1, 0x90));
    g_assert_false(lapic_irr_has(&c, 0, 0x90));
    assert_no_fault(&c);

    c.gcmd |= GCMD_IRE;
    command(&c, 0);
    edu_msi(&c, 0xfee00000u | 0x80 << 5 | 1u << 4, 0x91);
    edu_fire(&c);
    assert_ir_fault(&c, FR_INDEX, 0x80);
    g_assert_false(lapic_irr_has(&c, 1, 0x91));
    stop(&c);
}

/*
 * Xen's PIRQ encoding (vector 0, the PIRQ in the destination bits): what
 * Linux on Xen programs into its devices when Xen offers
 * XENFEAT_hvm_pirqs.  Passed on untranslated, the message reaches the
 * hypervisor double as the guest wrote it, and its PIRQ path raises the
 * PIRQ.  A remapped message whose entry gives vector 0 never does.
 */
static void test_pirq(void)
{
    Ctx c;

    /* Remapping off: PIRQ 0x37, delivery mode ExtINT, as Linux writes it */
    start(&c, "-smp 2", "id=viommu,intremap=off,hypervisor=double");
    edu_msi(&c, 0xfee37000u, 0x0700);
    edu_fire(&c);
    g_assert_cmpuint(hyp_stat(&c, "double.msi_pirq", 0), ==, 1);
    g_assert_cmpuint(hyp_stat(&c, "inject_msi", ST_REFUSED), ==, 0);
    g_assert_cmpuint(hyp_stat(&c, "inject_msi", ST_ERRORS), ==, 0);
    /* PIRQ 0 is no PIRQ: kept from the hypervisor */
    edu_msi(&c, 0xfee00000u, 0x0700);
    edu_fire(&c);
    g_assert_cmpuint(hyp_stat(&c, "double.msi_pirq", 0), ==, 1);
    g_assert_cmpuint(hyp_stat(&c, "inject_msi", ST_REFUSED), ==, 1);
    assert_no_fault(&c);
    stop(&c);

    /* Remapping on: an entry with vector 0 is refused, not a PIRQ */
    start(&c, "-smp 2", "id=viommu,intremap=on,x2apic=off,hypervisor=double");
    ir_enable(&c, false, 0);
    irte_set(&c, 5, irte_xapic(0x37, 0), 0);
    fire_handle(&c, 5);
    g_assert_cmpuint(hyp_stat(&c, "double.msi_pirq", 0), ==, 0);
    g_assert_cmpuint(hyp_stat(&c, "inject_msi", ST_REFUSED), ==, 1);
    /* ... and with CFI a compatibility-format PIRQ passes as it is */
    c.gcmd |= GCMD_CFI;
    command(&c, 0);
    edu_msi(&c, 0xfee37000u, 0x0700);
    edu_fire(&c);
    g_assert_cmpuint(hyp_stat(&c, "double.msi_pirq", 0), ==, 1);
    assert_no_fault(&c);
    stop(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/xen-viommu/ir/oracle", test_oracle);
    qtest_add_func("/xen-viommu/ir/xapic-delivery", test_xapic_delivery);
    qtest_add_func("/xen-viommu/ir/faults", test_faults);
    qtest_add_func("/xen-viommu/ir/hostile-table", test_hostile_table);
    qtest_add_func("/xen-viommu/ir/iec", test_iec);
    qtest_add_func("/xen-viommu/ir/cfi", test_cfi);
    qtest_add_func("/xen-viommu/ir/cfi-xapic", test_cfi_xapic);
    qtest_add_func("/xen-viommu/ir/cfi-hyp", test_cfi_hyp);
    qtest_add_func("/xen-viommu/ir/iec-storm-hyp", test_iec_storm_hyp);
    qtest_add_func("/xen-viommu/ir/hpet", test_hpet);
    qtest_add_func("/xen-viommu/ir/x2apic-dest", test_x2apic_dest);
    qtest_add_func("/xen-viommu/ir/disabled", test_ir_disabled);
    qtest_add_func("/xen-viommu/ir/pt-msi", test_pt_msi);
    qtest_add_func("/xen-viommu/ir/pirq", test_pirq);
    return g_test_run();
}
