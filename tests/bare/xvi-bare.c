/*
 * xen-viommu bare-metal test, in the style of kvm-unit-tests' intel-iommu
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A guest of its own (no Linux): it programs the unit through its
 * registers as a driver does, builds the tables in its RAM, makes QEMU's
 * edu device do DMA and send MSIs through it, and checks what arrives.
 * Legacy mode always; scalable mode (first-level, nested, PASID-based
 * invalidation in 256-bit descriptors) when ECAP.SMTS says so.  Results
 * go out on COM1 as TAP; isa-debug-exit ends the run (exit status 1 when
 * every check passed).
 *
 * 32-bit protected mode, paging off: every address here is below 4 GiB.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unit registers (VT-d 10.4) */
#define UNIT        0xfed90000u
#define VER         0x00
#define CAP         0x08
#define ECAP        0x10
#define GCMD        0x18
#define GSTS        0x1c
#define RTADDR      0x20
#define FSTS        0x34
#define IQH         0x80
#define IQT         0x88
#define IQA         0x90
#define IRTA        0xb8

#define GCMD_TE     (1u << 31)
#define GCMD_SRTP   (1u << 30)
#define GCMD_QIE    (1u << 26)
#define GCMD_IRE    (1u << 25)
#define GCMD_SIRTP  (1u << 24)
#define FSTS_PPF    (1u << 1)
#define ECAP_QI     (1u << 1)
#define ECAP_IR     (1u << 3)
#define ECAP_SMTS   (1ull << 43)
#define ECAP_FLTS   (1ull << 47)
#define ECAP_NEST   (1ull << 26)
#define TTM_SM      (1u << 10)
#define IQA_DW      (1u << 11)

/* edu (hw/misc/edu.c) */
#define EDU_VENDOR  0x1234
#define EDU_DEVICE  0x11e8
#define EDU_RAISE   0x60
#define EDU_ACK     0x64
#define EDU_SRC     0x80
#define EDU_DST     0x88
#define EDU_CNT     0x90
#define EDU_CMD     0x98
#define EDU_RUN     1
#define EDU_TO_RAM  2
#define EDU_BUF     0x40000u

/* Guest RAM the tests use (the program itself sits at 1 MiB) */
#define TABLES      0x400000u           /* 4 MiB of zeroed pages */
#define TABLES_END  0x800000u
#define DATA_A      0x900000u
#define DATA_B      0x901000u
#define DATA_C      0x902000u
#define IOVA_R      0x12340000u
#define IOVA_W      0x0badc000u
#define NEST_OFF    0x1000000u          /* first-level tables' GPAs */
#define NEST_OUT    0x3000000u          /* first-level output (a GPA) */
#define VECTOR      0x41
#define DID         7
#define RID_PASID   3

#define SL_RW       3ull
#define FL_URW      7ull                /* P, R/W, U/S */
#define FL_A        (1ull << 5)
#define FL_D        (1ull << 6)

/* I/O ports and MMIO --------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v)
{
    asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;

    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t mmio_rd32(uint32_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_wr32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

static uint64_t rd64(uint32_t off)
{
    uint32_t lo = mmio_rd32(UNIT + off);

    return lo | (uint64_t)mmio_rd32(UNIT + off + 4) << 32;
}

/* 64-bit registers as two aligned dwords, low first (VT-d 10.2) */
static void wr64(uint32_t off, uint64_t v)
{
    mmio_wr32(UNIT + off + 4, v >> 32);
    mmio_wr32(UNIT + off, v);
}

static uint32_t rd32(uint32_t off)
{
    return mmio_rd32(UNIT + off);
}

static void wr32(uint32_t off, uint32_t v)
{
    mmio_wr32(UNIT + off, v);
}

static void put64(uint32_t addr, uint64_t v)
{
    *(volatile uint64_t *)addr = v;
}

static uint64_t get64(uint32_t addr)
{
    return *(volatile uint64_t *)addr;
}

void *memset(void *p, int c, size_t n);
void *memset(void *p, int c, size_t n)
{
    uint8_t *b = p;

    while (n--) {
        *b++ = c;
    }
    return p;
}

/* Output: COM1 and TAP ------------------------------------------------- */

static void putc_serial(char c)
{
    outb(0x3f8, c);
}

static void puts_serial(const char *s)
{
    while (*s) {
        putc_serial(*s++);
    }
}

static void put_dec(unsigned v)
{
    char buf[12];
    int i = 0;

    do {
        buf[i++] = '0' + v % 10;
        v /= 10;
    } while (v);
    while (i--) {
        putc_serial(buf[i]);
    }
}

static void put_hex(uint64_t v)
{
    int i;

    puts_serial("0x");
    for (i = 60; i >= 0; i -= 4) {
        putc_serial("0123456789abcdef"[(v >> i) & 0xf]);
    }
}

static unsigned tests, failures;

static bool report(bool ok, const char *what)
{
    tests++;
    if (!ok) {
        failures++;
        puts_serial("not ");
    }
    puts_serial("ok ");
    put_dec(tests);
    puts_serial(" - ");
    puts_serial(what);
    puts_serial("\n");
    return ok;
}

static void note(const char *what, uint64_t v)
{
    puts_serial("# ");
    puts_serial(what);
    puts_serial(" ");
    put_hex(v);
    puts_serial("\n");
}

/* isa-debug-exit (iobase=0xf4): QEMU exits with (code << 1) | 1 */
static void finish(void)
{
    puts_serial("1..");
    put_dec(tests);
    puts_serial("\n");
    outb(0xf4, failures ? 1 : 0);
}

void bad_vector(void);
void bad_vector(void)
{
    report(false, "no unexpected exception or interrupt");
    finish();
}

/* PCI configuration (mechanism 1) -------------------------------------- */

static uint32_t cfg_addr(unsigned devfn, unsigned off)
{
    return 0x80000000u | devfn << 8 | (off & 0xfc);
}

static uint32_t cfg_rd32(unsigned devfn, unsigned off)
{
    outl(0xcf8, cfg_addr(devfn, off));
    return inl(0xcfc);
}

static void cfg_wr32(unsigned devfn, unsigned off, uint32_t v)
{
    outl(0xcf8, cfg_addr(devfn, off));
    outl(0xcfc, v);
}

/* Interrupts ------------------------------------------------------------ */

struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t zero, type;
    uint16_t off_hi;
} __attribute__((packed));

static struct idt_entry idt[256];
static volatile unsigned irqs;

extern char irq_stub[], bad_vector_stub[];

void irq_handler(void);
void irq_handler(void)
{
    irqs++;
    mmio_wr32(0xfee000b0, 0);          /* LAPIC EOI */
}

static void idt_set(unsigned v, void *fn)
{
    uint16_t cs;

    asm volatile("mov %%cs, %0" : "=r"(cs));
    idt[v] = (struct idt_entry) {
        .off_lo = (uint32_t)fn, .sel = cs, .type = 0x8e,
        .off_hi = (uint32_t)fn >> 16,
    };
}

static void irq_init(void)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };
    unsigned v;

    for (v = 0; v < 256; v++) {
        idt_set(v, bad_vector_stub);
    }
    idt_set(VECTOR, irq_stub);
    asm volatile("lidt %0" : : "m"(idtr));
    /* The 8259s masked: only the LAPIC's vectors come in */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    /* LAPIC on (SVR), TPR 0 */
    mmio_wr32(0xfee000f0, mmio_rd32(0xfee000f0) | 0x1ff);
    mmio_wr32(0xfee00080, 0);
}

/* Wait a little for @irqs to reach @n, interrupts on */
static bool irq_wait(unsigned n)
{
    int i;

    for (i = 0; i < 1000000 && irqs < n; i++) {
        asm volatile("sti; nop; cli");
    }
    return irqs >= n;
}

/* The unit -------------------------------------------------------------- */

static uint32_t gcmd;               /* the enables software keeps set */
static uint32_t next_page = TABLES;
static uint32_t fro;                /* fault recording registers */
static uint32_t queue, qi_tail;
static bool qi_wide;                /* IQA.DW: 256-bit descriptors */

static uint32_t alloc_page(void)
{
    uint32_t p = next_page;

    next_page += 0x1000;
    if (next_page > TABLES_END) {
        report(false, "tables fit");
        finish();
    }
    memset((void *)p, 0, 0x1000);
    return p;
}

/*
 * A one-shot command (SRTP, SIRTP) or an enable (TE, QIE, IRE, which
 * software keeps set in later writes, VT-d 10.4.4): wait for GSTS
 */
static bool command(uint32_t bit)
{
    int i;

    if (bit & (GCMD_TE | GCMD_QIE | GCMD_IRE)) {
        gcmd |= bit;
    }
    wr32(GCMD, gcmd | bit);
    for (i = 0; i < 1000; i++) {
        if (rd32(GSTS) & bit) {
            return true;
        }
    }
    return false;
}

/* Turn an enable off: wait for its GSTS bit to clear */
static bool disable(uint32_t bit)
{
    int i;

    gcmd &= ~bit;
    wr32(GCMD, gcmd);
    for (i = 0; i < 1000; i++) {
        if (!(rd32(GSTS) & bit)) {
            return true;
        }
    }
    return false;
}

static void qi_put(uint64_t q0, uint64_t q1)
{
    uint32_t d = queue + qi_tail * (qi_wide ? 32 : 16);

    put64(d, q0);
    put64(d + 8, q1);
    if (qi_wide) {
        put64(d + 16, 0);
        put64(d + 24, 0);
    }
    qi_tail = (qi_tail + 1) % (qi_wide ? 128 : 256);
}

/* Submit with a wait descriptor; true once its status write arrived */
static bool qi_sync(void)
{
    static volatile uint32_t status;
    int i;

    status = 0;
    qi_put(5 | 1 << 5 | (uint64_t)0x600d << 32, (uint32_t)&status);
    wr64(IQT, qi_tail << (qi_wide ? 5 : 4));
    for (i = 0; i < 100000 && status != 0x600d; i++) {
        ;
    }
    return status == 0x600d && !(rd32(FSTS) & (1u << 4));
}

static bool qi_enable(bool wide)
{
    queue = alloc_page();
    qi_tail = 0;
    qi_wide = wide;
    wr64(IQT, 0);
    wr64(IQA, queue | (wide ? IQA_DW : 0));
    return command(GCMD_QIE);
}

/* Global context, IOTLB and IEC invalidation, then a wait */
static bool invalidate_all(void)
{
    qi_put(1 | 1 << 4, 0);
    qi_put(2 | 1 << 4, 0);
    qi_put(4, 0);
    return qi_sync();
}

/* The next fault record: its reason, or -1 if none; cleared */
static int take_fault(uint16_t *sid, uint64_t *addr)
{
    unsigned i = (rd32(FSTS) >> 8) & 0xff;
    uint64_t hi = rd64(fro + i * 16 + 8);

    if (!(rd32(FSTS) & FSTS_PPF) || !(hi >> 63)) {
        return -1;
    }
    *sid = hi & 0xffff;
    *addr = rd64(fro + i * 16);
    wr64(fro + i * 16 + 8, 1ull << 63);
    return (hi >> 32) & 0xff;
}

/* edu ----------------------------------------------------------------- */

static unsigned edu_devfn;
static uint32_t edu_bar;

static bool edu_find(void)
{
    unsigned devfn;

    for (devfn = 0; devfn < 256; devfn++) {
        uint32_t id = cfg_rd32(devfn, 0);

        if ((id & 0xffff) == EDU_VENDOR && id >> 16 == EDU_DEVICE) {
            edu_devfn = devfn;
            edu_bar = cfg_rd32(devfn, 0x10) & ~0xfu;
            /* memory space and bus mastering */
            cfg_wr32(devfn, 4, cfg_rd32(devfn, 4) | 6);
            return edu_bar != 0;
        }
    }
    return false;
}

static void edu_wr64(unsigned off, uint64_t v)
{
    mmio_wr32(edu_bar + off, v);
    mmio_wr32(edu_bar + off + 4, v >> 32);
}

/* Copy 8 bytes RAM@iova -> edu buffer (read) or back (write); wait */
static bool edu_dma(bool to_ram, uint32_t iova)
{
    int i;

    edu_wr64(EDU_SRC, to_ram ? EDU_BUF : iova);
    edu_wr64(EDU_DST, to_ram ? iova : EDU_BUF);
    edu_wr64(EDU_CNT, 8);
    edu_wr64(EDU_CMD, EDU_RUN | (to_ram ? EDU_TO_RAM : 0));
    /* The DMA runs off a 100 ms timer of QEMU's virtual clock */
    for (i = 0; i < 100000000; i++) {
        if (!(mmio_rd32(edu_bar + EDU_CMD) & EDU_RUN)) {
            return true;
        }
    }
    return false;
}

/* edu's MSI capability: @addr/@data, enabled */
static bool edu_msi(uint32_t addr, uint32_t data)
{
    unsigned cap = cfg_rd32(edu_devfn, 0x34) & 0xfc;

    while (cap && (cfg_rd32(edu_devfn, cap) & 0xff) != 0x05) {
        cap = (cfg_rd32(edu_devfn, cap) >> 8) & 0xfc;
    }
    if (!cap) {
        return false;
    }
    cfg_wr32(edu_devfn, cap + 4, addr);
    cfg_wr32(edu_devfn, cap + 8, 0);
    cfg_wr32(edu_devfn, cap + 12, data);
    cfg_wr32(edu_devfn, cap, cfg_rd32(edu_devfn, cap) | 1 << 16);
    return true;
}

static void edu_raise(void)
{
    mmio_wr32(edu_bar + EDU_RAISE, 1);
    mmio_wr32(edu_bar + EDU_ACK, 1);
}

/* Tables ----------------------------------------------------------------- */

/* The 4-level entry for @iova at @level below @root, tables created */
static uint32_t pte_at(uint32_t root, uint64_t iova, unsigned level,
                       uint64_t table_bits, uint32_t gpa_off)
{
    uint32_t table = root;
    unsigned l;

    for (l = 4; l > level; l--) {
        uint32_t e = table + ((iova >> (12 + 9 * (l - 1))) & 511) * 8;

        if (!(get64(e) & 1)) {
            put64(e, (alloc_page() + gpa_off) | table_bits);
        }
        table = (uint32_t)(get64(e) & ~0xfffull) - gpa_off;
    }
    return table + ((iova >> (12 + 9 * (level - 1))) & 511) * 8;
}

static bool data_is(uint32_t addr, uint64_t v)
{
    return get64(addr) == v;
}

/* Legacy mode: root, context, second-level; DMA and its faults */
static void test_legacy_dma(void)
{
    uint32_t root = alloc_page(), ctx = alloc_page(), sl = alloc_page();
    uint64_t addr;
    uint16_t sid;

    put64(root + (edu_devfn >> 8) * 16, ctx | 1);
    put64(ctx + (edu_devfn & 0xff) * 16, sl | 1);
    put64(ctx + (edu_devfn & 0xff) * 16 + 8, 2 | DID << 8);  /* AW 48 */
    put64(pte_at(sl, IOVA_R, 1, SL_RW, 0), DATA_A | 1);      /* read */
    put64(pte_at(sl, IOVA_W, 1, SL_RW, 0), DATA_B | 2);      /* write */
    put64(DATA_A, 0x1122334455667788ull);
    put64(DATA_B, 0);

    wr64(RTADDR, root);
    report(command(GCMD_SRTP), "root table pointer set (RTPS)");
    report(invalidate_all(), "global context/IOTLB/IEC invalidation");
    report(command(GCMD_TE), "DMA remapping enabled (TES)");
    report(!(rd32(FSTS) & 0xff), "no fault yet");

    report(edu_dma(false, IOVA_R) && edu_dma(true, IOVA_W),
           "edu DMA through the second level completes");
    report(data_is(DATA_B, 0x1122334455667788ull),
           "edu read IOVA_R's page and wrote IOVA_W's");
    edu_dma(true, IOVA_R);
    report(take_fault(&sid, &addr) == 5 && sid == edu_devfn &&
           addr == IOVA_R, "write to a read-only page: fault 0x5");
    edu_dma(false, 0x7000000);
    report(take_fault(&sid, &addr) == 6 && addr == 0x7000000,
           "read of an unmapped page: fault 0x6");
    /* Remap, invalidate the page (register-less: IOTLB descriptor) */
    put64(DATA_C, 0xcafe);
    put64(pte_at(sl, IOVA_R, 1, SL_RW, 0), DATA_C | 1);
    qi_put(2 | 3 << 4 | (uint64_t)DID << 16, IOVA_R);
    report(qi_sync(), "page-selective IOTLB invalidation");
    edu_dma(false, IOVA_R);
    edu_dma(true, IOVA_W);
    report(data_is(DATA_B, 0xcafe), "the new mapping is used after it");
    report(!(rd32(FSTS) & 0xff), "no fault left");
}

/* Interrupt remapping, xAPIC mode: edu's MSI through an IRTE */
static void test_ir(void)
{
    uint32_t irt = alloc_page();
    unsigned before;
    uint64_t addr;
    uint16_t sid;

    /* IRTE 5: present, fixed, physical, vector, APIC 0; SID verified */
    put64(irt + 5 * 16, 1 | (uint64_t)VECTOR << 16);
    put64(irt + 5 * 16 + 8, edu_devfn | 1u << 18);
    wr64(IRTA, irt | 7);                /* 256 entries, EIME = 0 */
    report(command(GCMD_SIRTP), "IR table pointer set (IRTPS)");
    report(invalidate_all(), "interrupt entry cache invalidated");
    report(command(GCMD_IRE), "interrupt remapping enabled (IRES)");

    /* Remappable format: handle 5, SHV 0 */
    report(edu_msi(0xfee00000u | 5 << 5 | 1 << 4, 0), "edu MSI programmed");
    before = irqs;
    edu_raise();
    report(irq_wait(before + 1), "edu MSI arrives through IRTE 5");
    /* IRTE 6 not present: blocked and recorded (0x22) */
    edu_msi(0xfee00000u | 6 << 5 | 1 << 4, 0);
    before = irqs;
    edu_raise();
    report(!irq_wait(before + 1), "MSI through a not-present IRTE blocked");
    report(take_fault(&sid, &addr) == 0x22 && sid == edu_devfn &&
           (addr >> 48) == 6, "fault 0x22 recorded with the handle");
    /* A compatibility-format MSI is blocked while CFI is clear (0x25) */
    edu_msi(0xfee00000u, VECTOR);
    before = irqs;
    edu_raise();
    report(!irq_wait(before + 1) && take_fault(&sid, &addr) == 0x25,
           "compatibility-format MSI blocked (0x25)");
}

/*
 * Nested: first-level tables at guest-physical addresses NEST_OFF above
 * the pages that hold them, which the second level at @sl maps back; the
 * leaf for @iova maps it to the GPA @out, which the second level maps to
 * @hpa.
 */
static uint32_t nest_fl, nest_sl;

static void nest_map(uint64_t iova, uint32_t out, uint32_t hpa)
{
    uint32_t table = nest_fl;
    unsigned l;

    for (l = 4; l > 1; l--) {
        uint32_t e = table + ((iova >> (12 + 9 * (l - 1))) & 511) * 8;

        if (!(get64(e) & 1)) {
            uint32_t t = alloc_page();

            put64(pte_at(nest_sl, t + NEST_OFF, 1, SL_RW, 0), t | SL_RW);
            put64(e, (t + NEST_OFF) | FL_URW);
        }
        table = (uint32_t)(get64(e) & ~0xfffull) - NEST_OFF;
    }
    put64(table + ((iova >> 12) & 511) * 8, out | FL_URW);
    put64(pte_at(nest_sl, out, 1, SL_RW, 0), hpa | SL_RW);
}

static void test_nested(uint32_t pe, uint32_t sl)
{
    nest_sl = sl;
    nest_fl = alloc_page();
    put64(pte_at(sl, nest_fl + NEST_OFF, 1, SL_RW, 0), nest_fl | SL_RW);
    nest_map(IOVA_R, NEST_OUT, DATA_A);
    nest_map(IOVA_W, NEST_OUT + 0x1000, DATA_B);
    put64(pe, 1 | 2 << 2 | 3 << 6 | sl);
    put64(pe + 16, nest_fl + NEST_OFF);
    qi_put(7 | 3 << 4, 0);
    qi_put(6 | 2 << 4 | DID << 16 | (uint64_t)RID_PASID << 32, 0);
    report(invalidate_all(), "nested PASID entry made known");
    put64(DATA_A, 0x4e4e4e4eull);
    put64(DATA_B, 0);
    edu_dma(false, IOVA_R);
    edu_dma(true, IOVA_W);
    report(data_is(DATA_B, 0x4e4e4e4eull),
           "edu DMA through first level over second level (nested)");
    report(!(rd32(FSTS) & 0xff), "no fault");
    /*
     * The second level moves the output: seen after its invalidation (the
     * unit walks nested translations every time; a unit that cached them
     * would have to find them by the guest-physical page)
     */
    put64(DATA_C, 0x5a5a5a5aull);
    put64(pte_at(nest_sl, NEST_OUT, 1, SL_RW, 0), DATA_C | SL_RW);
    qi_put(2 | 3 << 4 | (uint64_t)DID << 16, NEST_OUT);
    report(qi_sync(), "IOTLB invalidation of the second-level page");
    edu_dma(false, IOVA_R);
    edu_dma(true, IOVA_W);
    report(data_is(DATA_B, 0x5a5a5a5aull), "the second level's new page");
}

/* Scalable mode: first-level, nested, PASID-based invalidation */
static void test_scalable(uint64_t ecap)
{
    uint32_t root = alloc_page(), ctx = alloc_page(), pdir = alloc_page();
    uint32_t ptbl = alloc_page(), fl = alloc_page(), sl = alloc_page();
    uint32_t pe = ptbl + RID_PASID * 64, leaf;
    uint64_t addr;
    uint16_t sid;

    report(ecap & ECAP_FLTS, "ECAP.FLTS (first-level) offered");
    report(disable(GCMD_TE) && disable(GCMD_QIE), "DMA remapping and QI off");
    report(qi_enable(true), "QI on with 256-bit descriptors");

    put64(root + (edu_devfn >> 8) * 16, ctx | 1);     /* LP: devfn 0-127 */
    put64(ctx + (edu_devfn & 0x7f) * 32, pdir | 1);
    put64(ctx + (edu_devfn & 0x7f) * 32 + 8, RID_PASID);
    put64(pdir, ptbl | 1);
    /* First-level, AW 48 (for the second level later), FLPM 4-level */
    put64(pe, 1 | 2 << 2 | 1 << 6 | sl);
    put64(pe + 8, DID);
    put64(pe + 16, fl);
    leaf = pte_at(fl, IOVA_R, 1, FL_URW, 0);
    put64(leaf, DATA_A | FL_URW);
    put64(pte_at(fl, IOVA_W, 1, FL_URW, 0), DATA_B | FL_URW);
    put64(DATA_A, 0xf1f1f1f1ull);
    put64(DATA_B, 0);

    wr64(RTADDR, root | TTM_SM);
    report(command(GCMD_SRTP), "scalable-mode root table set");
    qi_put(7 | 3 << 4, 0);              /* PASID cache, all */
    qi_put(6 | 2 << 4 | DID << 16 | (uint64_t)RID_PASID << 32, 0);
    report(invalidate_all(), "PASID-cache and PASID-based invalidation");
    report(command(GCMD_TE), "DMA remapping enabled in scalable mode");
    edu_dma(false, IOVA_R);
    edu_dma(true, IOVA_W);
    report(data_is(DATA_B, 0xf1f1f1f1ull), "edu DMA through first level");
    report((get64(leaf) & (FL_A | FL_D)) == FL_A, "A set, D clear on read");
    report(!(rd32(FSTS) & 0xff), "no fault");
    edu_dma(false, 1ull << 31 | IOVA_R);
    report(take_fault(&sid, &addr) == 0x71, "first-level not present: 0x71");

    /* Remapped: stale until the PASID-based IOTLB invalidation */
    put64(DATA_C, 0xc3c3c3c3ull);
    put64(leaf, DATA_C | FL_URW | FL_A);
    qi_put(6 | 3 << 4 | DID << 16 | (uint64_t)RID_PASID << 32, IOVA_R);
    report(qi_sync(), "page-selective PASID-based IOTLB invalidation");
    edu_dma(false, IOVA_R);
    edu_dma(true, IOVA_W);
    report(data_is(DATA_B, 0xc3c3c3c3ull), "the new page is used after it");

    if (report(ecap & ECAP_NEST, "ECAP.NEST (nested) offered")) {
        test_nested(pe, sl);
    }
}

void bare_main(void);
void bare_main(void)
{
    uint64_t cap, ecap;

    puts_serial("# xen-viommu bare-metal test\n");
    irq_init();
    cap = rd64(CAP);
    ecap = rd64(ECAP);
    note("CAP", cap);
    note("ECAP", ecap);
    fro = ((cap >> 24) & 0x3ff) * 16;
    report(rd32(VER) == 0x10, "version 1.0");
    report(cap & (1u << 10), "CAP.SAGAW: 4-level (48-bit) tables");
    report((ecap & (ECAP_QI | ECAP_IR)) == (ECAP_QI | ECAP_IR),
           "ECAP: queued invalidation and interrupt remapping");
    report(rd32(GSTS) == 0 && rd32(FSTS) == 0, "off and clean at start");
    if (!report(edu_find(), "edu found, BAR 0 assigned")) {
        finish();
        return;
    }
    report(qi_enable(false), "queued invalidation enabled (QIES)");
    test_legacy_dma();
    test_ir();
    if (ecap & ECAP_SMTS) {
        test_scalable(ecap);
    }
    finish();
}
