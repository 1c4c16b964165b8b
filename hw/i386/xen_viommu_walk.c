/*
 * xen-viommu: VT-d legacy-mode root/context lookup and second-level walk
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reserved-bit policy for second-level entries (VT-d spec 9.8), with no
 * ECAP.SC, ECAP.DT or access/dirty tracking advertised:
 *   all levels:  bits 51:HAW, bit 11 (SNP needs ECAP.SC) and bit 62 (TM
 *                needs ECAP.DT) are reserved;
 *                bit 2 (X), 10:8 (A/D/ignored), 61:52 and 63 are ignored;
 *   PML5E/PML4E: bit 7 reserved, 6:3 ignored;
 *   PDPE/PDE:    bit 7 (PS) selects a 1 GiB/2 MiB leaf; without CAP.SLLPS
 *                support for that size it is reserved.  In a superpage leaf
 *                the address bits below the page size (29:12 or 20:12) are
 *                reserved; 6:3 (EMT/IPAT) are ignored;
 *   PTE:         bit 7 and 6:3 ignored.
 * An entry with R=W=0 is not present; its other bits are not checked.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/bitops.h"
#include "xen_viommu_walk.h"

#define XVI_PAGE_SHIFT 12
#define XVI_PAGE_MASK (~0xfffULL)
#define XVI_LEVEL_BITS 9
#define XVI_ENTRIES 512
#define XVI_MAX_LEVELS 5

/* Root entry (legacy), low qword */
#define XVI_ROOT_P      BIT_ULL(0)
#define XVI_ROOT_LO_RSVD MAKE_64BIT_MASK(1, 11)

/* Context entry (legacy) */
#define XVI_CTX_P       BIT_ULL(0)
#define XVI_CTX_FPD     BIT_ULL(1)
#define XVI_CTX_TT_SHIFT 2
#define XVI_CTX_TT_MASK 3
#define XVI_CTX_LO_RSVD MAKE_64BIT_MASK(4, 8)
#define XVI_CTX_AW_MASK 7
#define XVI_CTX_DID_SHIFT 8
#define XVI_CTX_HI_RSVD (BIT_ULL(7) | MAKE_64BIT_MASK(24, 40))

/* Second-level paging entry */
#define XVI_SL_R        BIT_ULL(0)
#define XVI_SL_W        BIT_ULL(1)
#define XVI_SL_PS       BIT_ULL(7)
#define XVI_SL_SNP      BIT_ULL(11)
#define XVI_SL_TM       BIT_ULL(62)

/* Bits 51:12 of a guest-physical address field, less those above @haw. */
static uint64_t addr_field_mask(const XviWalkConfig *cfg)
{
    unsigned haw = MIN(MAX(cfg->haw, XVI_PAGE_SHIFT), 52);

    return MAKE_64BIT_MASK(XVI_PAGE_SHIFT, haw - XVI_PAGE_SHIFT);
}

/* Bits 51:HAW of a 4 KiB-aligned pointer field */
static uint64_t addr_rsvd_mask(const XviWalkConfig *cfg)
{
    return MAKE_64BIT_MASK(XVI_PAGE_SHIFT, 52 - XVI_PAGE_SHIFT) &
           ~addr_field_mask(cfg);
}

static unsigned level_shift(unsigned level)
{
    return XVI_PAGE_SHIFT + (level - 1) * XVI_LEVEL_BITS;
}

static bool read_le128(XviReadFn *read, void *opaque, uint64_t addr,
                       uint64_t *lo, uint64_t *hi)
{
    uint64_t buf[2];

    if (!read(opaque, addr, buf, sizeof(buf))) {
        return false;
    }
    *lo = le64_to_cpu(buf[0]);
    *hi = le64_to_cpu(buf[1]);
    return true;
}

int xvi_context_lookup(const XviWalkConfig *cfg, XviReadFn *read, void *opaque,
                       uint64_t root_table, uint8_t bus, uint8_t devfn,
                       XviContextEntry *ce)
{
    uint64_t lo, hi;
    unsigned aw;

    memset(ce, 0, sizeof(*ce));

    if (!read_le128(read, opaque, (root_table & XVI_PAGE_MASK) + bus * 16,
                    &lo, &hi)) {
        return XVI_FR_ROOT_ACCESS;
    }
    if (!(lo & XVI_ROOT_P)) {
        return XVI_FR_ROOT_NP;
    }
    if ((lo & (XVI_ROOT_LO_RSVD | ~MAKE_64BIT_MASK(0, 52) |
               addr_rsvd_mask(cfg))) || hi) {
        return XVI_FR_ROOT_RSVD;
    }

    if (!read_le128(read, opaque, (lo & XVI_PAGE_MASK) + devfn * 16,
                    &lo, &hi)) {
        return XVI_FR_CTX_ACCESS;
    }
    /* FPD is honoured even for a not-present or malformed entry. */
    ce->fpd = !!(lo & XVI_CTX_FPD);
    if (!(lo & XVI_CTX_P)) {
        return XVI_FR_CTX_NP;
    }
    if ((lo & XVI_CTX_LO_RSVD) || (hi & XVI_CTX_HI_RSVD)) {
        return XVI_FR_CTX_RSVD;
    }

    ce->tt = (lo >> XVI_CTX_TT_SHIFT) & XVI_CTX_TT_MASK;
    ce->did = hi >> XVI_CTX_DID_SHIFT;
    aw = hi & XVI_CTX_AW_MASK;
    if (aw >= 1 && aw <= 3) {
        ce->levels = aw + 2;
    }

    switch (ce->tt) {
    case XVI_TT_MULTI_LEVEL:
        break;
    case XVI_TT_DEV_TLB:
        /* No ECAP.DT: a device-TLB context may not be used at all. */
        return XVI_FR_TT_BLOCKED;
    case XVI_TT_PASS_THROUGH:
        /* AW and SLPTPTR are not used for pass-through. */
        return cfg->pt_supported ? XVI_FR_NONE : XVI_FR_CTX_INVALID;
    default:
        return XVI_FR_CTX_INVALID;
    }

    if (!ce->levels || !(cfg->sagaw & BIT(aw))) {
        return XVI_FR_CTX_INVALID;
    }
    if (lo & (~MAKE_64BIT_MASK(0, 52) | addr_rsvd_mask(cfg))) {
        return XVI_FR_CTX_RSVD;
    }
    ce->slptptr = lo & XVI_PAGE_MASK;
    return XVI_FR_NONE;
}

unsigned xvi_context_aw(const XviWalkConfig *cfg, const XviContextEntry *ce)
{
    if (ce->tt == XVI_TT_PASS_THROUGH) {
        return MIN(cfg->mgaw, 64);
    }
    if (ce->levels < 3 || ce->levels > XVI_MAX_LEVELS) {
        return 0;
    }
    return MIN(cfg->mgaw, level_shift(ce->levels) + XVI_LEVEL_BITS);
}

/* True when @iova has bits set at or above @width. */
static bool beyond_width(uint64_t iova, unsigned width)
{
    return width < 64 && (iova >> width);
}

/*
 * Validate a present entry at @level. Sets *@leaf when it maps a page.
 * Returns false when a reserved bit is set.
 */
static bool sl_entry_ok(const XviWalkConfig *cfg, uint64_t pte,
                        unsigned level, bool *leaf)
{
    uint64_t rsvd = addr_rsvd_mask(cfg) | XVI_SL_SNP | XVI_SL_TM;

    *leaf = level == 1;
    if (level >= 4) {
        rsvd |= XVI_SL_PS;
    } else if (level >= 2 && (pte & XVI_SL_PS)) {
        if (!(level == 2 ? cfg->sp_2m : cfg->sp_1g)) {
            return false;
        }
        *leaf = true;
        /* Address bits below the superpage size */
        rsvd |= MAKE_64BIT_MASK(XVI_PAGE_SHIFT,
                                level_shift(level) - XVI_PAGE_SHIFT);
    }
    return !(pte & rsvd);
}

static uint8_t sl_perm(uint64_t pte)
{
    return (pte & XVI_SL_R ? XVI_PERM_READ : 0) |
           (pte & XVI_SL_W ? XVI_PERM_WRITE : 0);
}

static int perm_fault(unsigned access, uint8_t perm)
{
    if ((access & XVI_PERM_WRITE) && !(perm & XVI_PERM_WRITE)) {
        return XVI_FR_WRITE;
    }
    if ((access & XVI_PERM_READ) && !(perm & XVI_PERM_READ)) {
        return XVI_FR_READ;
    }
    return XVI_FR_NONE;
}

/* Does the page at @gpa of size @mask + 1 overlap the interrupt range? */
static bool intr_overlap(uint64_t gpa, uint64_t mask)
{
    return gpa <= XVI_INTR_ADDR_LAST && gpa + mask >= XVI_INTR_ADDR_FIRST;
}

/*
 * @t overlaps the interrupt range: narrow it to the 4 KiB page of @iova,
 * which is blocked when it lies in the range.
 */
static int intr_clip(XviTranslation *t, uint64_t iova)
{
    uint64_t off = iova & t->mask & XVI_PAGE_MASK;

    t->iova += off;
    t->gpa += off;
    t->mask = ~XVI_PAGE_MASK;
    t->level = 1;
    return intr_overlap(t->gpa, t->mask) ? XVI_FR_INTR_ADDR : XVI_FR_NONE;
}

int xvi_walk_levels(const XviWalkFormat *fmt, const XviWalkReq *req,
                    XviTranslation *out)
{
    uint64_t addrs[XVI_WALK_MAX_LEVELS], ptes[XVI_WALK_MAX_LEVELS];
    uint64_t table = req->table & XVI_PAGE_MASK;
    uint8_t perm = XVI_PERM_READ | XVI_PERM_WRITE | XVI_PERM_USER;
    unsigned level, n = 0;

    if (req->levels < 3 || req->levels > XVI_WALK_MAX_LEVELS) {
        return fmt->fr_root_read;
    }
    if (req->leaf_table) {
        req->leaf_table->found = false;
    }
    /*
     * One entry per level: at most five reads, whatever the tables hold.
     * Level 1 entries are always leaves, so the loop ends there.  From a
     * cached leaf table, one read.
     */
    level = req->levels;
    if (req->start && !fmt->done) {
        level = 1;
        table = req->start->table;
        perm = req->start->perm;
    }
    for (;; level--) {
        unsigned idx = (req->iova >> level_shift(level)) & (XVI_ENTRIES - 1);
        uint64_t addr = table + idx * sizeof(uint64_t), pte;
        XviPte e = { 0 };
        int fault;

        if (!req->read(req->opaque, addr, &pte, sizeof(pte))) {
            /* The table the context or PASID entry names is its fault */
            return level == req->levels ? fmt->fr_root_read :
                                          fmt->fr_table_read;
        }
        pte = le64_to_cpu(pte);
        fault = fmt->decode(req, pte, level, &e);
        if (fault) {
            return fault;
        }
        if (level == 1) {
            e.leaf = true;
        }
        addrs[n] = addr;
        ptes[n++] = pte;
        perm &= e.perm;
        if (e.leaf) {
            uint64_t mask = MAKE_64BIT_MASK(0, level_shift(level));

            out->iova = req->iova & ~mask;
            out->gpa = e.addr & ~mask;
            out->mask = mask;
            out->perm = perm;
            out->level = level;
            fault = fmt->check(req, perm);
            if (!fault && fmt->fr_intr && intr_overlap(out->gpa, mask) &&
                intr_clip(out, req->iova)) {
                return fmt->fr_intr;
            }
            if (!fault && fmt->done) {
                fault = fmt->done(req, addrs, ptes, n, out);
            }
            return fault;
        }
        table = e.addr;
        if (level == 2 && req->leaf_table && !fmt->done) {
            /* Every level above the leaf table is present and valid */
            req->leaf_table->table = table;
            req->leaf_table->perm = perm;
            req->leaf_table->found = true;
        }
    }
}

/* Second-level format ------------------------------------------------------ */

static int sl_decode(const XviWalkReq *req, uint64_t pte, unsigned level,
                     XviPte *out, int fr_np_read, int fr_np_write, int fr_rsvd)
{
    bool leaf;

    if (!(pte & (XVI_SL_R | XVI_SL_W))) {
        return req->access & XVI_PERM_WRITE ? fr_np_write : fr_np_read;
    }
    if (!sl_entry_ok(req->cfg, pte, level, &leaf)) {
        return fr_rsvd;
    }
    out->addr = pte & addr_field_mask(req->cfg);
    out->perm = sl_perm(pte);
    out->leaf = leaf;
    return XVI_FR_NONE;
}

static int sl_legacy_decode(const XviWalkReq *req, uint64_t pte,
                            unsigned level, XviPte *out)
{
    /* Not-present entries fault as the access they deny */
    return sl_decode(req, pte, level, out, XVI_FR_READ, XVI_FR_WRITE,
                     XVI_FR_PTE_RSVD);
}

static int sl_sm_decode(const XviWalkReq *req, uint64_t pte, unsigned level,
                        XviPte *out)
{
    return sl_decode(req, pte, level, out, XVI_FR_SL_SM_NP, XVI_FR_SL_SM_NP,
                     XVI_FR_SL_SM_RSVD);
}

static int sl_legacy_check(const XviWalkReq *req, uint8_t perm)
{
    return perm_fault(req->access, perm);
}

static int sl_sm_check(const XviWalkReq *req, uint8_t perm)
{
    switch (perm_fault(req->access, perm)) {
    case XVI_FR_WRITE:
        return XVI_FR_SM_WRITE;
    case XVI_FR_READ:
        return XVI_FR_SM_READ;
    default:
        return XVI_FR_NONE;
    }
}

static const XviWalkFormat sl_legacy_format = {
    .decode = sl_legacy_decode,
    .check = sl_legacy_check,
    .fr_root_read = XVI_FR_CTX_INVALID,
    .fr_table_read = XVI_FR_PT_ACCESS,
    .fr_intr = XVI_FR_INTR_ADDR,
};

static const XviWalkFormat sl_sm_format = {
    .decode = sl_sm_decode,
    .check = sl_sm_check,
    .fr_root_read = XVI_FR_SL_SM_ROOT,
    .fr_table_read = XVI_FR_SL_SM_ACCESS,
    .fr_intr = XVI_FR_SM_INTR_ADDR,
};

int xvi_sl_walk(const XviWalkConfig *cfg, XviReadFn *read, void *opaque,
                const XviContextEntry *ce, uint64_t iova, unsigned access,
                XviTranslation *out)
{
    return xvi_sl_walk_cached(cfg, read, opaque, ce, iova, access, NULL, NULL,
                              out);
}

int xvi_sl_walk_cached(const XviWalkConfig *cfg, XviReadFn *read,
                       void *opaque, const XviContextEntry *ce, uint64_t iova,
                       unsigned access, const XviLeafTable *start,
                       XviLeafTable *leaf_table, XviTranslation *out)
{
    XviWalkReq req = {
        .cfg = cfg,
        .read = read,
        .opaque = opaque,
        .table = ce->slptptr,
        .levels = ce->levels,
        .iova = iova,
        .access = access & (XVI_PERM_READ | XVI_PERM_WRITE),
        .start = start,
        .leaf_table = leaf_table,
    };

    if (leaf_table) {
        leaf_table->found = false;
    }

    if (ce->tt == XVI_TT_PASS_THROUGH) {
        if (beyond_width(iova, cfg->mgaw)) {
            return ce->sm ? XVI_FR_SM_BEYOND_AW : XVI_FR_ADDR_BEYOND_AW;
        }
        out->iova = out->gpa = iova & XVI_PAGE_MASK;
        out->mask = ~XVI_PAGE_MASK;
        out->perm = XVI_PERM_READ | XVI_PERM_WRITE;
        out->level = 1;
        return XVI_FR_NONE;
    }
    if (ce->tt != XVI_TT_MULTI_LEVEL || ce->levels < 3 ||
        ce->levels > XVI_MAX_LEVELS) {
        return ce->sm ? XVI_FR_SM_PE_INVALID : XVI_FR_CTX_INVALID;
    }
    if (beyond_width(iova, xvi_context_aw(cfg, ce))) {
        return ce->sm ? XVI_FR_SM_BEYOND_AW : XVI_FR_ADDR_BEYOND_AW;
    }
    return xvi_walk_levels(ce->sm ? &sl_sm_format : &sl_legacy_format, &req,
                           out);
}

typedef struct RangeWalk {
    const XviWalkConfig *cfg;
    XviReadFn *read;
    void *opaque;
    uint64_t start, end;
    XviLeafFn *fn;
    void *fn_opaque;
    unsigned tables_left;       /* XVI_WALK_RANGE_MAX_TABLES budget */
    unsigned top_level;         /* the table SLPTPTR points to */
    uint64_t buf[XVI_MAX_LEVELS][XVI_ENTRIES];
} RangeWalk;

/*
 * Hand @t to the visitor, leaving out what maps into the interrupt range: a
 * superpage that overlaps it goes as its smaller pages, so at most 511 2 MiB
 * and 512 4 KiB pieces for a 1 GiB page.  Pieces outside [start, end] are
 * still reported, as a whole leaf would be.
 */
static int report_leaf(RangeWalk *rw, const XviTranslation *t)
{
    XviTranslation piece = *t;
    uint64_t size;
    unsigned i;
    int ret;

    if (!intr_overlap(t->gpa, t->mask)) {
        return rw->fn(rw->fn_opaque, t);
    }
    if (t->level == 1) {
        return 0;
    }
    piece.level = t->level - 1;
    piece.mask = MAKE_64BIT_MASK(0, level_shift(piece.level));
    size = piece.mask + 1;
    for (i = 0; i < XVI_ENTRIES; i++) {
        piece.iova = t->iova + i * size;
        piece.gpa = t->gpa + i * size;
        ret = report_leaf(rw, &piece);
        if (ret) {
            return ret;
        }
    }
    return 0;
}

/*
 * Visit the part of [rw->start, rw->end] that the table at @table (level
 * @level, covering the naturally aligned block at @base) translates.
 * Recursion depth is the table depth, at most five.
 */
static int walk_table(RangeWalk *rw, uint64_t table, unsigned level,
                      uint64_t base, uint8_t perm)
{
    unsigned shift = level_shift(level);
    uint64_t last = base + MAKE_64BIT_MASK(0, shift + XVI_LEVEL_BITS);
    uint64_t *ent = rw->buf[level - 1];
    unsigned first, stop, i;

    first = (MAX(rw->start, base) - base) >> shift;
    stop = (MIN(rw->end, last) - base) >> shift;

    /*
     * Tables may be shared or refer to themselves, so the number of tables
     * visited is not bounded by the guest's memory: the budget is.
     */
    if (!rw->tables_left) {
        return -XVI_FR_PT_ACCESS;
    }
    rw->tables_left--;

    /* One read for the slice of the table the range needs */
    if (!rw->read(rw->opaque, table + first * sizeof(uint64_t), &ent[first],
                  (stop - first + 1) * sizeof(uint64_t))) {
        return level == rw->top_level ? -XVI_FR_CTX_INVALID :
                                        -XVI_FR_PT_ACCESS;
    }

    for (i = first; i <= stop; i++) {
        uint64_t pte = le64_to_cpu(ent[i]);
        uint64_t iova = base + ((uint64_t)i << shift);
        uint8_t p = perm & sl_perm(pte);
        bool leaf;
        int ret;

        if (!(pte & (XVI_SL_R | XVI_SL_W))) {
            continue;
        }
        if (!sl_entry_ok(rw->cfg, pte, level, &leaf)) {
            return -XVI_FR_PTE_RSVD;
        }
        if (!p) {
            /* Present at every level, but no access gets through. */
            continue;
        }
        if (!leaf) {
            ret = walk_table(rw, pte & addr_field_mask(rw->cfg), level - 1,
                             iova, p);
        } else {
            XviTranslation t = {
                .iova = iova,
                .gpa = pte & addr_field_mask(rw->cfg) &
                       ~MAKE_64BIT_MASK(0, shift),
                .mask = MAKE_64BIT_MASK(0, shift),
                .perm = p,
                .level = level,
            };
            ret = report_leaf(rw, &t);
        }
        if (ret) {
            return ret;
        }
    }
    return 0;
}

int xvi_sl_walk_range(const XviWalkConfig *cfg, XviReadFn *read, void *opaque,
                      const XviContextEntry *ce, uint64_t start, uint64_t end,
                      XviLeafFn *fn, void *fn_opaque)
{
    g_autofree RangeWalk *rw = NULL;
    unsigned width;

    if (ce->tt != XVI_TT_MULTI_LEVEL || ce->levels < 3 ||
        ce->levels > XVI_MAX_LEVELS) {
        return -XVI_FR_CTX_INVALID;
    }
    width = xvi_context_aw(cfg, ce);
    if (width < 64) {
        end = MIN(end, MAKE_64BIT_MASK(0, width));
    }
    if (start > end) {
        return 0;
    }

    /* Entry buffers (20 KiB) live on the heap, not the caller's stack. */
    rw = g_new(RangeWalk, 1);
    rw->cfg = cfg;
    rw->read = read;
    rw->opaque = opaque;
    rw->start = start;
    rw->end = end;
    rw->fn = fn;
    rw->fn_opaque = fn_opaque;
    rw->tables_left = XVI_WALK_RANGE_MAX_TABLES;
    rw->top_level = ce->levels;
    return walk_table(rw, ce->slptptr & XVI_PAGE_MASK, ce->levels, 0,
                      XVI_PERM_READ | XVI_PERM_WRITE);
}
