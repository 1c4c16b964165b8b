/*
 * xen-viommu: VT-d interrupt-remapping entry decoding and entry cache
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "xen_viommu_irte.h"

/* IRTE bits 63:0, remapped format (VT-d spec 9.10) */
#define IRTE_LO_P               BIT_ULL(0)
#define IRTE_LO_FPD             BIT_ULL(1)
#define IRTE_LO_DM              BIT_ULL(2)
#define IRTE_LO_RH              BIT_ULL(3)
#define IRTE_LO_TM              BIT_ULL(4)
#define IRTE_LO_DLM_SHIFT       5
#define IRTE_LO_DLM_MASK        0x7
/* bits 11:8 AVAIL: software available, ignored */
#define IRTE_LO_IM              BIT_ULL(15)
#define IRTE_LO_VECTOR_SHIFT    16
#define IRTE_LO_VECTOR_MASK     0xff
#define IRTE_LO_DST_SHIFT       32
#define IRTE_LO_RSVD            (MAKE_64BIT_MASK(12, 3) | \
                                 MAKE_64BIT_MASK(24, 8))
/* xAPIC mode: DST bits 7:0 and 31:16 (IRTE bits 39:32, 63:48) reserved */
#define IRTE_DST_XAPIC_RSVD     0xffff00ffu
#define IRTE_DST_XAPIC_SHIFT    8
#define IRTE_DST_XAPIC_MASK     0xff

/* IRTE bits 127:64 */
#define IRTE_HI_SID_MASK        0xffff
#define IRTE_HI_SQ_SHIFT        16
#define IRTE_HI_SQ_MASK         0x3
#define IRTE_HI_SVT_SHIFT       18
#define IRTE_HI_SVT_MASK        0x3
#define IRTE_HI_RSVD            MAKE_64BIT_MASK(20, 44)
#define IRTE_SVT_RSVD           3

/* Interrupt request address (5.1.2) */
#define MSI_ADDR_HI_MASK        MAKE_64BIT_MASK(32, 32)
#define MSI_ADDR_WIN_SHIFT      20
#define MSI_ADDR_WIN_MASK       0xfff
#define MSI_ADDR_WIN            0xfee
#define MSI_ADDR_BASE           0xfee00000u
#define MSI_ADDR_HANDLE_SHIFT   5
#define MSI_ADDR_HANDLE_MASK    0x7fff
#define MSI_ADDR_FORMAT         BIT(4)
#define MSI_ADDR_SHV            BIT(3)
#define MSI_ADDR_HANDLE15       BIT(2)
#define MSI_DATA_SUBHANDLE_MASK 0xffffu
#define MSI_DATA_RSVD           0xffff0000u

/* Compatibility-format output */
#define MSI_ADDR_DM             BIT(2)
#define MSI_ADDR_RH             BIT(3)
#define MSI_ADDR_DEST_SHIFT     12
#define MSI_ADDR_EXT_DEST_SHIFT 40
#define MSI_DATA_DLM_SHIFT      8
#define MSI_DATA_LEVEL          BIT(14)
#define MSI_DATA_TM             BIT(15)

int xvi_irte_decode(uint64_t lo, uint64_t hi, bool eime, XviIrte *out)
{
    uint32_t dst = lo >> IRTE_LO_DST_SHIFT;

    memset(out, 0, sizeof(*out));
    out->present = lo & IRTE_LO_P;
    out->fpd = lo & IRTE_LO_FPD;
    if (!out->present) {
        return XVI_FR_IR_NP;
    }
    /* A posted-format entry has a different layout: stop before decoding. */
    if (lo & IRTE_LO_IM) {
        return XVI_FR_IR_POSTED;
    }

    out->dest_mode = !!(lo & IRTE_LO_DM);
    out->redir_hint = !!(lo & IRTE_LO_RH);
    out->trigger_mode = !!(lo & IRTE_LO_TM);
    out->delivery_mode = (lo >> IRTE_LO_DLM_SHIFT) & IRTE_LO_DLM_MASK;
    out->vector = (lo >> IRTE_LO_VECTOR_SHIFT) & IRTE_LO_VECTOR_MASK;
    out->sid = hi & IRTE_HI_SID_MASK;
    out->sq = (hi >> IRTE_HI_SQ_SHIFT) & IRTE_HI_SQ_MASK;
    out->svt = (hi >> IRTE_HI_SVT_SHIFT) & IRTE_HI_SVT_MASK;

    if ((lo & IRTE_LO_RSVD) || (hi & IRTE_HI_RSVD) ||
        out->svt == IRTE_SVT_RSVD) {
        return XVI_FR_IR_RSVD;
    }
    switch (out->delivery_mode) {
    case XVI_DLM_FIXED:
    case XVI_DLM_LOWPRI:
    case XVI_DLM_SMI:
    case XVI_DLM_NMI:
    case XVI_DLM_INIT:
    case XVI_DLM_EXTINT:
        break;
    default:
        return XVI_FR_IR_RSVD;
    }
    if (eime) {
        out->dest = dst;
    } else {
        if (dst & IRTE_DST_XAPIC_RSVD) {
            return XVI_FR_IR_RSVD;
        }
        out->dest = (dst >> IRTE_DST_XAPIC_SHIFT) & IRTE_DST_XAPIC_MASK;
    }
    return 0;
}

bool xvi_irte_sid_ok(const XviIrte *e, uint16_t sid)
{
    /* SQ: which low bits (function number bits) are left out of the compare */
    static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
    uint8_t bus = sid >> 8;

    switch (e->svt) {
    case XVI_SVT_NONE:
        return true;
    case XVI_SVT_SID:
        return !((sid ^ e->sid) & sq_mask[e->sq & 3]);
    case XVI_SVT_BUS:
        return bus >= (e->sid >> 8) && bus <= (e->sid & 0xff);
    default:
        return false;
    }
}

int xvi_msi_parse(uint64_t addr, uint32_t data, XviMsiRequest *req)
{
    uint32_t lo = addr;

    req->remappable = lo & MSI_ADDR_FORMAT;
    req->shv = false;
    req->index = 0;
    if (req->remappable) {
        req->shv = lo & MSI_ADDR_SHV;
        req->index = ((lo >> MSI_ADDR_HANDLE_SHIFT) & MSI_ADDR_HANDLE_MASK) |
                     (lo & MSI_ADDR_HANDLE15 ? 1u << 15 : 0);
        if (req->shv) {
            req->index += data & MSI_DATA_SUBHANDLE_MASK;
        }
    }

    if ((addr & MSI_ADDR_HI_MASK) ||
        ((lo >> MSI_ADDR_WIN_SHIFT) & MSI_ADDR_WIN_MASK) != MSI_ADDR_WIN) {
        return XVI_FR_IR_REQ_RSVD;
    }
    if (req->shv && (data & MSI_DATA_RSVD)) {
        return XVI_FR_IR_REQ_RSVD;
    }
    return 0;
}

void xvi_irte_to_msi(const XviIrte *e, uint64_t *addr, uint32_t *data)
{
    uint64_t a = MSI_ADDR_BASE;
    uint32_t d;

    a |= (uint64_t)(e->dest & 0xff) << MSI_ADDR_DEST_SHIFT;
    a |= (uint64_t)(e->dest >> 8) << MSI_ADDR_EXT_DEST_SHIFT;
    if (e->redir_hint) {
        a |= MSI_ADDR_RH;
    }
    if (e->dest_mode) {
        a |= MSI_ADDR_DM;
    }

    d = e->vector;
    d |= (uint32_t)(e->delivery_mode & IRTE_LO_DLM_MASK) << MSI_DATA_DLM_SHIFT;
    d |= MSI_DATA_LEVEL;
    if (e->trigger_mode) {
        d |= MSI_DATA_TM;
    }

    *addr = a;
    *data = d;
}

/*
 * Interrupt-entry cache.
 *
 * 65536 slots split into chunks allocated on first insert, so an idle cache
 * is just the chunk directory.  A slot is valid when its generation equals
 * the cache's; global invalidation bumps the cache generation (O(1)), and
 * index-selective invalidation zeroes the generation of the slots in range.
 * Generation 0 is never current, so zeroed (fresh or invalidated) slots are
 * invalid.  Should the 32-bit generation ever wrap, all chunks are freed.
 */
#define IEC_CHUNK_BITS          8
#define IEC_CHUNK_SIZE          (1u << IEC_CHUNK_BITS)
#define IEC_NCHUNKS             (XVI_IRTE_MAX_ENTRIES / IEC_CHUNK_SIZE)

typedef struct XviIecSlot {
    uint32_t gen;
    XviIrte irte;
} XviIecSlot;

struct XviIec {
    uint32_t gen;
    XviIecSlot *chunk[IEC_NCHUNKS];
};

XviIec *xvi_iec_new(void)
{
    XviIec *iec = g_new0(XviIec, 1);

    iec->gen = 1;
    return iec;
}

static void xvi_iec_free_chunks(XviIec *iec)
{
    unsigned i;

    for (i = 0; i < IEC_NCHUNKS; i++) {
        g_free(iec->chunk[i]);
        iec->chunk[i] = NULL;
    }
}

void xvi_iec_free(XviIec *iec)
{
    if (!iec) {
        return;
    }
    xvi_iec_free_chunks(iec);
    g_free(iec);
}

static XviIecSlot *xvi_iec_slot(XviIec *iec, uint32_t index, bool alloc)
{
    XviIecSlot **chunk;

    if (index >= XVI_IRTE_MAX_ENTRIES) {
        return NULL;
    }
    chunk = &iec->chunk[index >> IEC_CHUNK_BITS];
    if (!*chunk) {
        if (!alloc) {
            return NULL;
        }
        *chunk = g_new0(XviIecSlot, IEC_CHUNK_SIZE);
    }
    return &(*chunk)[index & (IEC_CHUNK_SIZE - 1)];
}

bool xvi_iec_lookup(XviIec *iec, uint32_t index, XviIrte *out)
{
    XviIecSlot *s = xvi_iec_slot(iec, index, false);

    if (!s || s->gen != iec->gen) {
        return false;
    }
    *out = s->irte;
    return true;
}

void xvi_iec_insert(XviIec *iec, uint32_t index, const XviIrte *e)
{
    XviIecSlot *s = xvi_iec_slot(iec, index, true);

    if (!s) {
        return;
    }
    s->irte = *e;
    s->gen = iec->gen;
}

void xvi_iec_invalidate(XviIec *iec, uint32_t index, unsigned im)
{
    uint64_t n, start, end, i;

    if (im >= 32) {
        xvi_iec_invalidate_all(iec);
        return;
    }
    n = 1ull << im;
    start = index & ~(n - 1);
    end = MIN(start + n, (uint64_t)XVI_IRTE_MAX_ENTRIES);
    if (start == 0 && end == XVI_IRTE_MAX_ENTRIES) {
        xvi_iec_invalidate_all(iec);
        return;
    }

    for (i = start; i < end; ) {
        XviIecSlot *chunk = iec->chunk[i >> IEC_CHUNK_BITS];
        uint64_t chunk_end = (i | (IEC_CHUNK_SIZE - 1)) + 1;
        uint64_t stop = MIN(end, chunk_end);

        if (chunk) {
            for (; i < stop; i++) {
                chunk[i & (IEC_CHUNK_SIZE - 1)].gen = 0;
            }
        }
        i = stop;
    }
}

void xvi_iec_invalidate_all(XviIec *iec)
{
    if (++iec->gen == 0) {
        xvi_iec_free_chunks(iec);
        iec->gen = 1;
    }
}
