/*
 * Unit tests for xen-viommu's interrupt-remapping entry logic
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/i386/xen_viommu_irte.h"

/* Build the low qword of a present, remapped-format IRTE. */
static uint64_t irte_lo(unsigned dm, unsigned rh, unsigned tm, unsigned dlm,
                        unsigned vector, uint32_t dst)
{
    return 1ull | (uint64_t)dm << 2 | (uint64_t)rh << 3 | (uint64_t)tm << 4 |
           (uint64_t)dlm << 5 | (uint64_t)vector << 16 | (uint64_t)dst << 32;
}

static uint64_t irte_hi(unsigned svt, unsigned sq, uint16_t sid)
{
    return (uint64_t)svt << 18 | (uint64_t)sq << 16 | sid;
}

static void test_decode_x2apic(void)
{
    XviIrte e;
    uint64_t lo = irte_lo(1, 1, 1, 1, 0x45, 0x00012345);

    /* AVAIL bits 11:8 are software's and must be ignored */
    lo |= 0xf00;
    g_assert_cmpint(xvi_irte_decode(lo, irte_hi(1, 2, 0x0318), true, &e),
                    ==, 0);
    g_assert_true(e.present);
    g_assert_false(e.fpd);
    g_assert_cmpuint(e.dest_mode, ==, 1);
    g_assert_cmpuint(e.redir_hint, ==, 1);
    g_assert_cmpuint(e.trigger_mode, ==, 1);
    g_assert_cmpuint(e.delivery_mode, ==, 1);
    g_assert_cmpuint(e.vector, ==, 0x45);
    g_assert_cmphex(e.dest, ==, 0x12345);
    g_assert_cmpuint(e.svt, ==, 1);
    g_assert_cmpuint(e.sq, ==, 2);
    g_assert_cmphex(e.sid, ==, 0x0318);

    /* full 32-bit destination */
    g_assert_cmpint(xvi_irte_decode(irte_lo(0, 0, 0, 0, 0x20, 0xfedcba98),
                                    0, true, &e), ==, 0);
    g_assert_cmphex(e.dest, ==, 0xfedcba98);
    g_assert_cmpuint(e.dest_mode, ==, 0);
    g_assert_cmpuint(e.trigger_mode, ==, 0);

    /* FPD is reported on present entries too */
    g_assert_cmpint(xvi_irte_decode(irte_lo(0, 0, 0, 0, 0x20, 1) | 2, 0,
                                    true, &e), ==, 0);
    g_assert_true(e.fpd);
}

static void test_decode_xapic(void)
{
    XviIrte e;

    /* APIC ID in DST bits 15:8 (IRTE bits 47:40) */
    g_assert_cmpint(xvi_irte_decode(irte_lo(0, 0, 0, 4, 0x31, 0x7f00),
                                    irte_hi(0, 0, 0), false, &e), ==, 0);
    g_assert_cmphex(e.dest, ==, 0x7f);
    g_assert_cmpuint(e.delivery_mode, ==, 4);
    g_assert_cmpuint(e.vector, ==, 0x31);

    /* the same bits in x2APIC mode are the plain 32-bit destination */
    g_assert_cmpint(xvi_irte_decode(irte_lo(0, 0, 0, 4, 0x31, 0x7f00),
                                    0, true, &e), ==, 0);
    g_assert_cmphex(e.dest, ==, 0x7f00);
}

static void test_decode_valid_dlm(void)
{
    static const unsigned ok[] = { 0, 1, 2, 4, 5, 7 };
    XviIrte e;
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(ok); i++) {
        g_assert_cmpint(xvi_irte_decode(irte_lo(0, 0, 0, ok[i], 0x30, 0),
                                        0, true, &e), ==, 0);
        g_assert_cmpuint(e.delivery_mode, ==, ok[i]);
    }
}

static void test_decode_reserved(void)
{
    XviIrte e;
    uint64_t lo = irte_lo(0, 0, 0, 0, 0x30, 0x0100);
    unsigned bit;

    g_assert_cmpint(xvi_irte_decode(lo, 0, false, &e), ==, 0);

    /* low qword bits 14:12 and 31:24 */
    for (bit = 12; bit <= 14; bit++) {
        g_assert_cmpint(xvi_irte_decode(lo | 1ull << bit, 0, true, &e),
                        ==, XVI_FR_IR_RSVD);
        g_assert_true(e.present);
    }
    for (bit = 24; bit <= 31; bit++) {
        g_assert_cmpint(xvi_irte_decode(lo | 1ull << bit, 0, true, &e),
                        ==, XVI_FR_IR_RSVD);
    }
    /* high qword bits 127:84 */
    for (bit = 20; bit < 64; bit++) {
        g_assert_cmpint(xvi_irte_decode(lo, 1ull << bit, true, &e),
                        ==, XVI_FR_IR_RSVD);
    }
    /* SVT 3 */
    g_assert_cmpint(xvi_irte_decode(lo, irte_hi(3, 0, 0), true, &e),
                    ==, XVI_FR_IR_RSVD);
    /* delivery modes 3 and 6 */
    g_assert_cmpint(xvi_irte_decode(irte_lo(0, 0, 0, 3, 0x30, 0), 0, true,
                                    &e), ==, XVI_FR_IR_RSVD);
    g_assert_cmpint(xvi_irte_decode(irte_lo(0, 0, 0, 6, 0x30, 0), 0, true,
                                    &e), ==, XVI_FR_IR_RSVD);
    /* xAPIC mode: IRTE bits 39:32 and 63:48 */
    for (bit = 32; bit <= 39; bit++) {
        g_assert_cmpint(xvi_irte_decode(lo | 1ull << bit, 0, false, &e),
                        ==, XVI_FR_IR_RSVD);
        g_assert_cmpint(xvi_irte_decode(lo | 1ull << bit, 0, true, &e),
                        ==, 0);
    }
    for (bit = 48; bit <= 63; bit++) {
        g_assert_cmpint(xvi_irte_decode(lo | 1ull << bit, 0, false, &e),
                        ==, XVI_FR_IR_RSVD);
        g_assert_cmpint(xvi_irte_decode(lo | 1ull << bit, 0, true, &e),
                        ==, 0);
    }
}

static void test_decode_not_present(void)
{
    XviIrte e;

    g_assert_cmpint(xvi_irte_decode(0, 0, true, &e), ==, XVI_FR_IR_NP);
    g_assert_false(e.present);
    g_assert_false(e.fpd);

    /* FPD valid without P; garbage elsewhere does not matter */
    g_assert_cmpint(xvi_irte_decode(~1ull, ~0ull, false, &e),
                    ==, XVI_FR_IR_NP);
    g_assert_false(e.present);
    g_assert_true(e.fpd);
}

static void test_decode_posted(void)
{
    XviIrte e;
    uint64_t lo = irte_lo(0, 0, 0, 0, 0x30, 0) | 1ull << 15;

    g_assert_cmpint(xvi_irte_decode(lo, 0, true, &e), ==, XVI_FR_IR_POSTED);
    g_assert_true(e.present);
    g_assert_false(e.fpd);
    g_assert_cmpint(xvi_irte_decode(lo | 2, 0, false, &e),
                    ==, XVI_FR_IR_POSTED);
    g_assert_true(e.fpd);
}

static void test_sid_none(void)
{
    XviIrte e = { .present = true, .svt = 0, .sid = 0x1234 };

    g_assert_true(xvi_irte_sid_ok(&e, 0x1234));
    g_assert_true(xvi_irte_sid_ok(&e, 0xffff));
    g_assert_true(xvi_irte_sid_ok(&e, 0));
}

static void test_sid_mask(void)
{
    /* requester 02:03.5 = 0x021d; function bits are 2:0 */
    XviIrte e = { .present = true, .svt = 1, .sid = 0x021d };
    unsigned f;

    /* SQ 0: all 16 bits */
    e.sq = 0;
    g_assert_true(xvi_irte_sid_ok(&e, 0x021d));
    for (f = 0; f < 8; f++) {
        g_assert_cmpint(xvi_irte_sid_ok(&e, 0x0218 | f), ==, f == 5);
    }
    /* SQ 1: ignore bit 2 */
    e.sq = 1;
    for (f = 0; f < 8; f++) {
        g_assert_cmpint(xvi_irte_sid_ok(&e, 0x0218 | f), ==, (f & 3) == 1);
    }
    /* SQ 2: ignore bits 2:1 */
    e.sq = 2;
    for (f = 0; f < 8; f++) {
        g_assert_cmpint(xvi_irte_sid_ok(&e, 0x0218 | f), ==, (f & 1) == 1);
    }
    /* SQ 3: ignore bits 2:0 */
    e.sq = 3;
    for (f = 0; f < 8; f++) {
        g_assert_true(xvi_irte_sid_ok(&e, 0x0218 | f));
    }
    /* device and bus always count */
    for (e.sq = 0; e.sq < 4; e.sq++) {
        g_assert_false(xvi_irte_sid_ok(&e, 0x0225));
        g_assert_false(xvi_irte_sid_ok(&e, 0x031d));
        g_assert_false(xvi_irte_sid_ok(&e, 0x001d));
    }
}

static void test_sid_bus(void)
{
    /* buses 0x10..0x20 */
    XviIrte e = { .present = true, .svt = 2, .sq = 3, .sid = 0x1020 };

    g_assert_true(xvi_irte_sid_ok(&e, 0x1000));
    g_assert_true(xvi_irte_sid_ok(&e, 0x18ff));
    g_assert_true(xvi_irte_sid_ok(&e, 0x20ff));
    g_assert_false(xvi_irte_sid_ok(&e, 0x0fff));
    g_assert_false(xvi_irte_sid_ok(&e, 0x2100));
    g_assert_false(xvi_irte_sid_ok(&e, 0x0000));

    /* single bus */
    e.sid = 0x0505;
    g_assert_true(xvi_irte_sid_ok(&e, 0x0508));
    g_assert_false(xvi_irte_sid_ok(&e, 0x0608));
    g_assert_false(xvi_irte_sid_ok(&e, 0x0408));

    /* start > end: empty range */
    e.sid = 0x2010;
    g_assert_false(xvi_irte_sid_ok(&e, 0x1800));
    g_assert_false(xvi_irte_sid_ok(&e, 0x1000));
    g_assert_false(xvi_irte_sid_ok(&e, 0x2000));
}

static void test_sid_reserved(void)
{
    XviIrte e = { .present = true, .svt = 3, .sid = 0x0100 };

    g_assert_false(xvi_irte_sid_ok(&e, 0x0100));
    g_assert_false(xvi_irte_sid_ok(&e, 0));
}

static void test_msi_remappable(void)
{
    XviMsiRequest r;

    /* handle 0x1234, no SHV: data is ignored (I/OxAPIC style) */
    g_assert_cmpint(xvi_msi_parse(0xfee00000 | 0x1234 << 5 | 1 << 4,
                                  0xffff8031, &r), ==, 0);
    g_assert_true(r.remappable);
    g_assert_false(r.shv);
    g_assert_cmphex(r.index, ==, 0x1234);

    /* bits 1:0 are don't care */
    g_assert_cmpint(xvi_msi_parse(0xfee00000 | 0x1234 << 5 | 1 << 4 | 3,
                                  0, &r), ==, 0);
    g_assert_cmphex(r.index, ==, 0x1234);

    /* SHV: handle + subhandle */
    g_assert_cmpint(xvi_msi_parse(0xfee00000 | 0x100 << 5 | 1 << 4 | 1 << 3,
                                  7, &r), ==, 0);
    g_assert_true(r.remappable);
    g_assert_true(r.shv);
    g_assert_cmphex(r.index, ==, 0x107);

    /* handle bit 15 in address bit 2 */
    g_assert_cmpint(xvi_msi_parse(0xfee00000 | 0x7fff << 5 | 1 << 4 | 1 << 2,
                                  0, &r), ==, 0);
    g_assert_cmphex(r.index, ==, 0xffff);
    g_assert_cmpint(xvi_msi_parse(0xfee00000 | 1 << 4 | 1 << 2, 0, &r),
                    ==, 0);
    g_assert_cmphex(r.index, ==, 0x8000);

    /* handle + subhandle may go past 0xffff, no wrap */
    g_assert_cmpint(xvi_msi_parse(0xfee00000 | 0x7fff << 5 | 0x1c, 0xffff,
                                  &r), ==, 0);
    g_assert_cmphex(r.index, ==, 0x1fffe);
}

static void test_msi_reserved(void)
{
    XviMsiRequest r;
    unsigned bit;

    /* address bits 63:32, both formats */
    for (bit = 32; bit < 64; bit++) {
        g_assert_cmpint(xvi_msi_parse(1ull << bit | 0xfee00010, 0, &r),
                        ==, XVI_FR_IR_REQ_RSVD);
        g_assert_cmpint(xvi_msi_parse(1ull << bit | 0xfee00000, 0, &r),
                        ==, XVI_FR_IR_REQ_RSVD);
    }
    /* outside the interrupt window */
    g_assert_cmpint(xvi_msi_parse(0xfed00010, 0, &r), ==, XVI_FR_IR_REQ_RSVD);
    g_assert_cmpint(xvi_msi_parse(0x7ee00010, 0, &r), ==, XVI_FR_IR_REQ_RSVD);

    /* SHV=1 with data bits 31:16 set; the index is still reported */
    for (bit = 16; bit < 32; bit++) {
        g_assert_cmpint(xvi_msi_parse(0xfee00000 | 5 << 5 | 0x18,
                                      1u << bit | 2, &r),
                        ==, XVI_FR_IR_REQ_RSVD);
        g_assert_true(r.remappable);
        g_assert_cmphex(r.index, ==, 7);
    }
}

static void test_msi_compat(void)
{
    XviMsiRequest r;

    g_assert_cmpint(xvi_msi_parse(0xfee01000, 0x4031, &r), ==, 0);
    g_assert_false(r.remappable);
    g_assert_cmpint(xvi_msi_parse(0xfeeff00c, 0xffffffff, &r), ==, 0);
    g_assert_false(r.remappable);
}

static void test_to_msi(void)
{
    XviIrte e = {
        .present = true, .dest_mode = 1, .redir_hint = 1, .trigger_mode = 1,
        .delivery_mode = 1, .vector = 0x45, .dest = 0x1234,
    };
    uint64_t addr;
    uint32_t data;

    xvi_irte_to_msi(&e, &addr, &data);
    /* address_hi bits 31:8 = dest[31:8], i.e. address_hi = 0x1200 */
    g_assert_cmphex(addr >> 40, ==, 0x12);
    g_assert_cmphex(addr >> 32, ==, 0x1200);
    g_assert_cmphex((addr >> 12) & 0xff, ==, 0x34);
    g_assert_cmphex((uint32_t)addr, ==, 0xfee3400c);
    g_assert_cmphex(data & 0xff, ==, 0x45);
    g_assert_cmphex((data >> 8) & 7, ==, 1);
    g_assert_true(data & 1 << 14);
    g_assert_true(data & 1 << 15);
    g_assert_cmphex(data, ==, 0xc145);

    /* physical, edge, fixed, full 32-bit destination */
    e = (XviIrte) { .present = true, .vector = 0x20, .dest = 0xfedcba98 };
    xvi_irte_to_msi(&e, &addr, &data);
    g_assert_cmphex(addr, ==, 0xfedcba00fee98000ull);
    g_assert_cmphex(data, ==, 0x4020);
}

static void test_round_trip(void)
{
    XviMsiRequest r;
    XviIrte e;
    uint64_t addr;
    uint32_t data;
    uint32_t dst = 0x1234;

    /* request -> index, IRTE -> decoded entry -> compat MSI */
    g_assert_cmpint(xvi_msi_parse(0xfee00000 | 42 << 5 | 0x18, 0, &r), ==, 0);
    g_assert_cmpuint(r.index, ==, 42);
    g_assert_cmpint(xvi_irte_decode(irte_lo(0, 0, 1, 0, 0x61, dst),
                                    irte_hi(1, 0, 0x0008), true, &e), ==, 0);
    g_assert_true(xvi_irte_sid_ok(&e, 0x0008));
    xvi_irte_to_msi(&e, &addr, &data);
    /* address_hi bits 31:8 = dest[31:8], i.e. address_hi = 0x1200 */
    g_assert_cmphex(addr >> 40, ==, 0x12);
    g_assert_cmphex(addr >> 32, ==, 0x1200);
    g_assert_cmphex((addr >> 12) & 0xff, ==, 0x34);
    g_assert_cmphex(addr & 0xc, ==, 0);
    g_assert_cmphex(data, ==, 0xc061);

    /* xAPIC: destination stays below 256, address_hi is 0 */
    g_assert_cmpint(xvi_irte_decode(irte_lo(1, 1, 0, 1, 0x62, 0x0300), 0,
                                    false, &e), ==, 0);
    xvi_irte_to_msi(&e, &addr, &data);
    g_assert_cmphex(addr, ==, 0xfee0300c);
    g_assert_cmphex(data, ==, 0x4162);
}

static XviIrte iec_entry(uint32_t n)
{
    return (XviIrte) {
        .present = true, .vector = n & 0xff, .dest = n, .sid = n,
    };
}

static void test_iec_basic(void)
{
    XviIec *iec = xvi_iec_new();
    XviIrte e = iec_entry(5), got;

    g_assert_false(xvi_iec_lookup(iec, 5, &got));
    xvi_iec_insert(iec, 5, &e);
    g_assert_true(xvi_iec_lookup(iec, 5, &got));
    g_assert_cmpuint(got.dest, ==, 5);
    g_assert_false(xvi_iec_lookup(iec, 4, &got));
    g_assert_false(xvi_iec_lookup(iec, 6, &got));

    /* replace */
    e = iec_entry(0x99);
    xvi_iec_insert(iec, 5, &e);
    g_assert_true(xvi_iec_lookup(iec, 5, &got));
    g_assert_cmpuint(got.dest, ==, 0x99);

    /* both ends, and out of range indexes are never cached */
    e = iec_entry(0);
    xvi_iec_insert(iec, 0, &e);
    e = iec_entry(0xffff);
    xvi_iec_insert(iec, 0xffff, &e);
    g_assert_true(xvi_iec_lookup(iec, 0, &got));
    g_assert_true(xvi_iec_lookup(iec, 0xffff, &got));
    g_assert_cmpuint(got.dest, ==, 0xffff);
    xvi_iec_insert(iec, 0x10000, &e);
    xvi_iec_insert(iec, UINT32_MAX, &e);
    g_assert_false(xvi_iec_lookup(iec, 0x10000, &got));
    g_assert_false(xvi_iec_lookup(iec, UINT32_MAX, &got));

    xvi_iec_free(iec);
    xvi_iec_free(NULL);
}

static void iec_fill(XviIec *iec, uint32_t first, uint32_t count)
{
    uint32_t i;

    for (i = first; i < first + count; i++) {
        XviIrte e = iec_entry(i);

        xvi_iec_insert(iec, i, &e);
    }
}

static void iec_expect(XviIec *iec, uint32_t first, uint32_t count,
                       bool cached)
{
    XviIrte got;
    uint32_t i;

    for (i = first; i < first + count; i++) {
        g_assert_cmpint(xvi_iec_lookup(iec, i, &got), ==, cached);
        if (cached) {
            g_assert_cmpuint(got.dest, ==, i);
        }
    }
}

static void test_iec_invalidate_index(void)
{
    XviIec *iec = xvi_iec_new();

    iec_fill(iec, 0, 1024);

    /* single entry */
    xvi_iec_invalidate(iec, 100, 0);
    iec_expect(iec, 99, 1, true);
    iec_expect(iec, 100, 1, false);
    iec_expect(iec, 101, 1, true);

    /* im=3 with an unaligned index: 0x48..0x4f */
    xvi_iec_invalidate(iec, 0x4d, 3);
    iec_expect(iec, 0x40, 8, true);
    iec_expect(iec, 0x48, 8, false);
    iec_expect(iec, 0x50, 8, true);

    /* across a chunk boundary: 0x100..0x1ff plus neighbours kept */
    xvi_iec_invalidate(iec, 0x1ab, 8);
    iec_expect(iec, 0xff, 1, true);
    iec_expect(iec, 0x100, 0x100, false);
    iec_expect(iec, 0x200, 1, true);

    /* im=9: 0x200..0x3ff, covering two chunks */
    xvi_iec_invalidate(iec, 0x3ff, 9);
    iec_expect(iec, 0x1ff, 1, false);
    iec_expect(iec, 0x200, 0x200, false);
    iec_expect(iec, 0x0, 0x48, true);

    /* re-insert works after invalidation */
    iec_fill(iec, 0x48, 8);
    iec_expect(iec, 0x48, 8, true);

    /* range over unallocated chunks and beyond the table: harmless */
    xvi_iec_invalidate(iec, 0x8000, 15);
    xvi_iec_invalidate(iec, 0x12345, 4);
    xvi_iec_invalidate(iec, UINT32_MAX, 31);
    iec_expect(iec, 0x0, 0x48, true);

    /* im >= 16 covers the whole table */
    xvi_iec_invalidate(iec, 0x1234, 16);
    iec_expect(iec, 0, 0x100, false);
    iec_fill(iec, 0, 16);
    xvi_iec_invalidate(iec, 0, 40);
    iec_expect(iec, 0, 16, false);

    xvi_iec_free(iec);
}

static void test_iec_invalidate_all(void)
{
    XviIec *iec = xvi_iec_new();

    iec_fill(iec, 0, 16);
    iec_fill(iec, 0xfff0, 16);
    xvi_iec_invalidate_all(iec);
    iec_expect(iec, 0, 16, false);
    iec_expect(iec, 0xfff0, 16, false);

    /* entries cached afterwards are live, the old ones stay dead */
    iec_fill(iec, 8, 4);
    iec_expect(iec, 0, 8, false);
    iec_expect(iec, 8, 4, true);
    iec_expect(iec, 12, 4, false);

    xvi_iec_invalidate_all(iec);
    xvi_iec_invalidate_all(iec);
    iec_expect(iec, 8, 4, false);

    xvi_iec_free(iec);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xen-viommu/irte/decode/x2apic", test_decode_x2apic);
    g_test_add_func("/xen-viommu/irte/decode/xapic", test_decode_xapic);
    g_test_add_func("/xen-viommu/irte/decode/delivery-modes",
                    test_decode_valid_dlm);
    g_test_add_func("/xen-viommu/irte/decode/reserved", test_decode_reserved);
    g_test_add_func("/xen-viommu/irte/decode/not-present",
                    test_decode_not_present);
    g_test_add_func("/xen-viommu/irte/decode/posted", test_decode_posted);
    g_test_add_func("/xen-viommu/irte/sid/none", test_sid_none);
    g_test_add_func("/xen-viommu/irte/sid/mask", test_sid_mask);
    g_test_add_func("/xen-viommu/irte/sid/bus", test_sid_bus);
    g_test_add_func("/xen-viommu/irte/sid/reserved", test_sid_reserved);
    g_test_add_func("/xen-viommu/irte/msi/remappable", test_msi_remappable);
    g_test_add_func("/xen-viommu/irte/msi/reserved", test_msi_reserved);
    g_test_add_func("/xen-viommu/irte/msi/compat", test_msi_compat);
    g_test_add_func("/xen-viommu/irte/to-msi", test_to_msi);
    g_test_add_func("/xen-viommu/irte/round-trip", test_round_trip);
    g_test_add_func("/xen-viommu/irte/iec/basic", test_iec_basic);
    g_test_add_func("/xen-viommu/irte/iec/invalidate-index",
                    test_iec_invalidate_index);
    g_test_add_func("/xen-viommu/irte/iec/invalidate-all",
                    test_iec_invalidate_all);
    return g_test_run();
}
