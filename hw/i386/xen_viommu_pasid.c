/*
 * xen-viommu: VT-d scalable mode -- root/context entries, PASID directory
 * and table, first-level walk
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reserved-bit policy, for what the unit advertises in scalable mode
 * (FLTS, SLTS, NEST, PT, SRS, RPS, SMPWC, PASID with pasid=on; no DT,
 * PRS, SC, MTS, EAFS, SLADS, ERS):
 *   root entry:    bits 11:1 and 75:65, pointer bits above HAW;
 *   context entry: DTE, PRE, bits 8:5, 127:85, all of 255:128, pointer
 *                  bits above HAW; RID_PRIV without SRS;
 *   PASID dir:     bits 11:2, pointer bits above HAW;
 *   PASID entry:   SLEE, SLADE, 11:10, 86:80, PGSNP and the memory-type
 *                  fields 127:89, bit 129, EAFE, 139:136 and all of
 *                  511:192; SRE and WPE without SRS; the table
 *                  pointer a PGTT uses, above HAW.  PWSNP is accepted (page
 *                  walks are coherent), so are NXE and SMEP (bits 134:133,
 *                  which Linux sets): they only concern execute requests,
 *                  which are not offered.  Fields a PGTT does not use (AW and
 *                  SLPTPTR for first-level and pass-through, FLPM and
 *                  FLPTPTR for second-level and pass-through) are ignored;
 *                  nested uses both, with the checks of each.
 *   first-level:   x86 paging: bits 51:HAW; PS in PML5E/PML4E; PS in a
 *                  PDPE without CAP.FL1GP; bits 29:13 of a 1 GiB and 20:13
 *                  of a 2 MiB leaf.  Bits 62:52, 11:8 and XD (bit 63, no
 *                  execute requests without ECAP.ERS) are ignored.
 * PASIDE gates requests with a PASID (0x45 without it); requests without
 * one use RID_PASID whatever it says.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/bitops.h"
#include "xen_viommu_pasid.h"

#define PAGE_MASK_4K    (~0xfffULL)

/* Scalable-mode root entry: lower half (devfn 0-127), upper half */
#define SM_ROOT_P               BIT_ULL(0)
#define SM_ROOT_RSVD            MAKE_64BIT_MASK(1, 11)

/* Scalable-mode context entry (256 bits) */
#define SM_CTX_P                BIT_ULL(0)
#define SM_CTX_FPD              BIT_ULL(1)
#define SM_CTX_DTE              BIT_ULL(2)
#define SM_CTX_PASIDE           BIT_ULL(3)
#define SM_CTX_PRE              BIT_ULL(4)
#define SM_CTX_LO_RSVD          (SM_CTX_DTE | SM_CTX_PRE | \
                                 MAKE_64BIT_MASK(5, 4))
#define SM_CTX_PDTS_SHIFT       9
#define SM_CTX_RID_PASID_MASK   MAKE_64BIT_MASK(0, 20)
#define SM_CTX_RID_PRIV         BIT_ULL(20)
#define SM_CTX_HI_RSVD          MAKE_64BIT_MASK(21, 43)

/* PASID directory entry */
#define PDE_P                   BIT_ULL(0)
#define PDE_FPD                 BIT_ULL(1)
#define PDE_RSVD                MAKE_64BIT_MASK(2, 10)

/* PASID table entry (512 bits) */
#define PE_P                    BIT_ULL(0)
#define PE_FPD                  BIT_ULL(1)
#define PE_AW_SHIFT             2
#define PE_PGTT_SHIFT           6
#define PE_Q0_RSVD              (BIT_ULL(5) | MAKE_64BIT_MASK(9, 3))
#define PE_Q1_RSVD              (MAKE_64BIT_MASK(16, 7) | \
                                 MAKE_64BIT_MASK(24, 40))
#define PE_SRE                  BIT_ULL(0)
#define PE_FLPM_SHIFT           2
#define PE_WPE                  BIT_ULL(4)
#define PE_Q2_RSVD              (BIT_ULL(1) | MAKE_64BIT_MASK(7, 5))

/* First-level paging entry */
#define FL_P                    BIT_ULL(0)
#define FL_RW                   BIT_ULL(1)
#define FL_US                   BIT_ULL(2)
#define FL_A                    BIT_ULL(5)
#define FL_D                    BIT_ULL(6)
#define FL_PS                   BIT_ULL(7)

static unsigned level_shift(unsigned level)
{
    return 12 + (level - 1) * 9;
}

/* Bits 51:12 of an address field below @haw */
static uint64_t addr_bits(const XviWalkConfig *cfg)
{
    unsigned haw = MIN(MAX(cfg->haw, 12), 52);

    return MAKE_64BIT_MASK(12, haw - 12);
}

/* Bits of a 4 KiB pointer qword that are reserved: 63:HAW */
static uint64_t ptr_rsvd(const XviWalkConfig *cfg)
{
    return ~addr_bits(cfg) & PAGE_MASK_4K;
}

static bool read_le(XviReadFn *read, void *opaque, uint64_t addr,
                    uint64_t *q, unsigned n)
{
    unsigned i;

    if (!read(opaque, addr, q, n * sizeof(*q))) {
        return false;
    }
    for (i = 0; i < n; i++) {
        q[i] = le64_to_cpu(q[i]);
    }
    return true;
}

/* A PASID entry's first-level pointer and paging mode (FLPTPTR, FLPM) */
static int decode_first_level(const XviSmConfig *cfg, const uint64_t *pe,
                              XviSmEntry *out)
{
    const XviWalkConfig *wc = &cfg->walk;
    unsigned flpm = (pe[2] >> PE_FLPM_SHIFT) & 3;

    if (flpm == 0 && wc->mgaw >= 48) {
        out->fl_levels = 4;
    } else if (flpm == 1 && cfg->fl_5l) {
        out->fl_levels = 5;
    } else {
        return XVI_FR_SM_PE_INVALID;
    }
    if (pe[2] & ptr_rsvd(wc)) {
        return XVI_FR_SM_PE_RSVD;
    }
    out->flptptr = pe[2] & PAGE_MASK_4K;
    return XVI_FR_NONE;
}

/* A PASID entry's second-level pointer and width (SLPTPTR, AW) */
static int decode_second_level(const XviSmConfig *cfg, unsigned aw,
                               const uint64_t *pe, XviSmEntry *out)
{
    const XviWalkConfig *wc = &cfg->walk;

    if (aw < 1 || aw > 3 || !(wc->sagaw & BIT(aw))) {
        return XVI_FR_SM_PE_INVALID;
    }
    if (pe[0] & ptr_rsvd(wc)) {
        return XVI_FR_SM_PE_RSVD;
    }
    out->sl_levels = aw + 2;
    out->slptptr = pe[0] & PAGE_MASK_4K;
    return XVI_FR_NONE;
}

static int decode_pasid_entry(const XviSmConfig *cfg, const uint64_t *pe,
                              XviSmEntry *out)
{
    const XviWalkConfig *wc = &cfg->walk;
    unsigned aw = (pe[0] >> PE_AW_SHIFT) & 7;
    uint64_t q2_rsvd = PE_Q2_RSVD;
    unsigned i;

    if (!cfg->srs) {
        q2_rsvd |= PE_SRE | PE_WPE;
    }
    if ((pe[0] & PE_Q0_RSVD) || (pe[1] & PE_Q1_RSVD) || (pe[2] & q2_rsvd)) {
        return XVI_FR_SM_PE_RSVD;
    }
    for (i = 3; i < 8; i++) {
        if (pe[i]) {
            return XVI_FR_SM_PE_RSVD;
        }
    }
    out->pgtt = (pe[0] >> PE_PGTT_SHIFT) & 7;
    out->did = pe[1] & 0xffff;
    out->wpe = pe[2] & PE_WPE;

    switch (out->pgtt) {
    case XVI_PGTT_FL:
        return cfg->flts ? decode_first_level(cfg, pe, out) :
                           XVI_FR_SM_PE_INVALID;
    case XVI_PGTT_SL:
        return cfg->slts ? decode_second_level(cfg, aw, pe, out) :
                           XVI_FR_SM_PE_INVALID;
    case XVI_PGTT_NESTED:
        /* Both tables: the first level's addresses are second-level input */
        if (!cfg->nest || !cfg->flts || !cfg->slts) {
            return XVI_FR_SM_PE_INVALID;
        }
        return decode_first_level(cfg, pe, out) ?:
               decode_second_level(cfg, aw, pe, out);
    case XVI_PGTT_PT:
        if (!wc->pt_supported) {
            return XVI_FR_SM_PE_INVALID;
        }
        break;
    default:
        /* The reserved values */
        return XVI_FR_SM_PE_INVALID;
    }
    return XVI_FR_NONE;
}

int xvi_sm_lookup(const XviSmConfig *cfg, XviReadFn *read, void *opaque,
                  uint64_t root_table, uint8_t bus, uint8_t devfn,
                  bool has_pasid, uint32_t pasid, bool priv,
                  XviSmEntry *out)
{
    const XviWalkConfig *wc = &cfg->walk;
    uint64_t root[2], ctx[4], pde, pe[8], ctp;
    unsigned half = devfn >> 7, pdts;
    int fault;

    memset(out, 0, sizeof(*out));
    if (!read_le(read, opaque, (root_table & PAGE_MASK_4K) + bus * 16,
                 root, 2)) {
        return XVI_FR_SM_ROOT_ACCESS;
    }
    if (!(root[half] & SM_ROOT_P)) {
        return XVI_FR_SM_ROOT_NP;
    }
    if (root[half] & (SM_ROOT_RSVD | ptr_rsvd(wc))) {
        return XVI_FR_SM_ROOT_RSVD;
    }
    ctp = root[half] & PAGE_MASK_4K;

    /* 128 entries of 256 bits per half */
    if (!read_le(read, opaque, ctp + (devfn & 0x7f) * 32, ctx, 4)) {
        return XVI_FR_SM_CTX_ACCESS;
    }
    out->fpd = ctx[0] & SM_CTX_FPD;
    if (!(ctx[0] & SM_CTX_P)) {
        return XVI_FR_SM_CTX_NP;
    }
    if ((ctx[0] & (SM_CTX_LO_RSVD | ptr_rsvd(wc))) ||
        (ctx[1] & (SM_CTX_HI_RSVD | (cfg->srs ? 0 : SM_CTX_RID_PRIV))) ||
        ctx[2] || ctx[3]) {
        return XVI_FR_SM_CTX_RSVD;
    }
    pdts = (ctx[0] >> SM_CTX_PDTS_SHIFT) & 7;
    if (!has_pasid) {
        pasid = ctx[1] & SM_CTX_RID_PASID_MASK;
        priv = ctx[1] & SM_CTX_RID_PRIV;
    } else if (!(ctx[0] & SM_CTX_PASIDE)) {
        return XVI_FR_SM_PASID_DISABLED;
    } else if (pasid >> XVI_PASID_BITS) {
        return XVI_FR_SM_PASID_RANGE;
    }
    /* The directory has 2^(PDTS + 7) entries of 64 PASIDs each */
    if ((pasid >> 6) >> (pdts + 7)) {
        return has_pasid ? XVI_FR_SM_PASID_RANGE : XVI_FR_SM_RID_PASID;
    }
    out->pasid = pasid;
    out->priv = priv;

    if (!read_le(read, opaque, (ctx[0] & PAGE_MASK_4K) + (pasid >> 6) * 8,
                 &pde, 1)) {
        return XVI_FR_SM_PDE_ACCESS;
    }
    out->fpd |= !!(pde & PDE_FPD);
    if (!(pde & PDE_P)) {
        return XVI_FR_SM_PDE_NP;
    }
    if (pde & (PDE_RSVD | ptr_rsvd(wc))) {
        return XVI_FR_SM_PDE_RSVD;
    }

    if (!read_le(read, opaque, (pde & PAGE_MASK_4K) + (pasid & 63) * 64,
                 pe, 8)) {
        return XVI_FR_SM_PE_ACCESS;
    }
    out->fpd |= !!(pe[0] & PE_FPD);
    if (!(pe[0] & PE_P)) {
        return XVI_FR_SM_PE_NP;
    }
    fault = decode_pasid_entry(cfg, pe, out);
    if (fault) {
        return fault;
    }
    if (priv && !(pe[2] & PE_SRE)) {
        return XVI_FR_SM_PE_SRE;
    }
    return XVI_FR_NONE;
}

/* First-level format ------------------------------------------------------- */

static int fl_decode(const XviWalkReq *req, uint64_t pte, unsigned level,
                     XviPte *out)
{
    uint64_t rsvd = MAKE_64BIT_MASK(12, 40) & ~addr_bits(req->cfg);

    if (!(pte & FL_P)) {
        return XVI_FR_FL_NP;
    }
    out->leaf = level == 1;
    if (level >= 4) {
        rsvd |= FL_PS;
    } else if (level >= 2 && (pte & FL_PS)) {
        if (level == 3 && !req->cfg->fl_1g) {
            return XVI_FR_FL_RSVD;
        }
        out->leaf = true;
        /* Bit 12 is PAT; the address bits below the page size are reserved */
        rsvd |= MAKE_64BIT_MASK(13, level_shift(level) - 13);
    }
    if (pte & rsvd) {
        return XVI_FR_FL_RSVD;
    }
    out->addr = pte & addr_bits(req->cfg);
    out->perm = XVI_PERM_READ | (pte & FL_RW ? XVI_PERM_WRITE : 0) |
                (pte & FL_US ? XVI_PERM_USER : 0);
    return XVI_FR_NONE;
}

/* A supervisor request writes read-only pages unless WPE is set */
static bool fl_write_ok(bool user, bool wpe, uint8_t perm)
{
    return (perm & XVI_PERM_WRITE) || (!user && !wpe);
}

static int fl_check(const XviWalkReq *req, uint8_t perm)
{
    bool user = req->access & XVI_PERM_USER;

    if (user && !(perm & XVI_PERM_USER)) {
        return XVI_FR_SM_USER;
    }
    if ((req->access & XVI_PERM_WRITE) &&
        !fl_write_ok(user, req->wpe, perm)) {
        return XVI_FR_SM_WRITE;
    }
    return XVI_FR_NONE;
}

static int fl_done(const XviWalkReq *req, const uint64_t *addr,
                   const uint64_t *pte, unsigned n, XviTranslation *t)
{
    bool write = req->access & XVI_PERM_WRITE;
    unsigned i;

    /*
     * What a cached copy may serve, whoever asks: writes only where R/W
     * allows them and D is set.  A supervisor write to a read-only page
     * (WPE clear) passed the check but is not cached as writable.
     */
    if (!(pte[n - 1] & FL_D) && !write) {
        t->perm &= ~XVI_PERM_WRITE;
    }
    if (!req->write) {
        return XVI_FR_NONE;
    }
    /*
     * A and D live in the entry's low byte: write back just that byte, so
     * no other bit the guest changes meanwhile is overwritten.
     */
    for (i = 0; i < n; i++) {
        uint64_t set = FL_A | (i == n - 1 && write ? FL_D : 0);
        uint8_t low = pte[i] | set;

        if ((pte[i] & set) != set &&
            !req->write(req->opaque, addr[i], &low, 1)) {
            return XVI_FR_FL_AD_UPDATE;
        }
    }
    return XVI_FR_NONE;
}

#define FL_FORMAT(intr) {                   \
    .decode = fl_decode,                    \
    .check = fl_check,                      \
    .done = fl_done,                        \
    .fr_root_read = XVI_FR_FL_ROOT,         \
    .fr_table_read = XVI_FR_FL_ACCESS,      \
    .fr_intr = (intr),                      \
}

static const XviWalkFormat fl_format = FL_FORMAT(XVI_FR_SM_INTR_ADDR);

/*
 * The first level of a nested translation: its output is guest-physical,
 * an intermediate address; the interrupt range is checked on the second
 * level's output (3.14: the address after remapping)
 */
static const XviWalkFormat fl_nested_format = FL_FORMAT(XVI_FR_NONE);

void xvi_sm_to_context(const XviSmEntry *e, XviContextEntry *ce)
{
    memset(ce, 0, sizeof(*ce));
    ce->tt = e->pgtt == XVI_PGTT_PT ? XVI_TT_PASS_THROUGH :
                                      XVI_TT_MULTI_LEVEL;
    ce->levels = e->sl_levels;
    ce->did = e->did;
    ce->fpd = e->fpd;
    ce->sm = true;
    ce->slptptr = e->slptptr;
}

bool xvi_sm_perm_ok(const XviSmEntry *e, unsigned access, uint8_t perm)
{
    if ((e->pgtt == XVI_PGTT_FL || e->pgtt == XVI_PGTT_NESTED) &&
        !e->priv && !(perm & XVI_PERM_USER)) {
        return false;
    }
    return (access & perm & (XVI_PERM_READ | XVI_PERM_WRITE)) ==
           (access & (XVI_PERM_READ | XVI_PERM_WRITE));
}

/*
 * Nested translation: the first level's table addresses are guest-physical,
 * translated by the second level before each read (and A/D write), which
 * must allow that access.  A second-level fault met on the way is the
 * request's fault.
 */
typedef struct XviNestRw {
    const XviWalkConfig *cfg;
    XviReadFn *read;
    XviWriteFn *write;
    void *opaque;
    XviContextEntry sl;
    unsigned reads;         /* first-level reads so far: the first is root */
    int fault;              /* the fault that stopped a read or write */
} XviNestRw;

/*
 * The second level's answer for a first-level table access, as the
 * request's fault: refused permissions and a too-wide address have
 * reasons of their own in nested translation (0x74-0x77); a missing,
 * reserved or unreadable second-level entry is reported as it is.
 */
static int nest_fault(int sl_fault, unsigned access, bool root)
{
    switch (sl_fault) {
    case XVI_FR_SM_BEYOND_AW:
        return XVI_FR_NEST_BEYOND_AW;
    case XVI_FR_SM_READ:
    case XVI_FR_SM_WRITE:
        if (access & XVI_PERM_WRITE) {
            return XVI_FR_NEST_WRITE;
        }
        return root ? XVI_FR_NEST_ROOT_READ : XVI_FR_NEST_READ;
    }
    return sl_fault;
}

static bool nest_gpa(XviNestRw *n, uint64_t gpa, size_t len, unsigned access,
                     bool root, uint64_t *hpa)
{
    XviTranslation t = { 0 };
    int fault = xvi_sl_walk(n->cfg, n->read, n->opaque, &n->sl, gpa, access,
                            &t);

    /* Entries are naturally aligned: @len never crosses a page */
    if (!fault && ((gpa & t.mask) + len - 1) > t.mask) {
        fault = XVI_FR_SL_SM_ACCESS;
    }
    if (fault) {
        n->fault = nest_fault(fault, access, root);
        return false;
    }
    *hpa = t.gpa | (gpa & t.mask);
    return true;
}

static bool nest_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    XviNestRw *n = opaque;
    bool root = !n->reads++;
    uint64_t hpa;

    return nest_gpa(n, gpa, len, XVI_PERM_READ, root, &hpa) &&
           n->read(n->opaque, hpa, buf, len);
}

static bool nest_write(void *opaque, uint64_t gpa, const void *buf,
                       size_t len)
{
    XviNestRw *n = opaque;
    uint64_t hpa;

    return nest_gpa(n, gpa, len, XVI_PERM_WRITE, false, &hpa) &&
           n->write(n->opaque, hpa, buf, len);
}

/*
 * The first-level result @fl (for @iova) through the second level: the
 * smaller page of the two, the permissions both allow.
 */
static int nest_output(XviNestRw *n, uint64_t iova, unsigned access,
                       const XviTranslation *fl, XviTranslation *out)
{
    uint64_t gpa = fl->gpa | (iova & fl->mask), hpa;
    XviTranslation sl = { 0 };
    int fault = xvi_sl_walk(n->cfg, n->read, n->opaque, &n->sl, gpa, access,
                            &sl);
    uint64_t mask;

    if (fault) {
        return fault;
    }
    mask = MIN(fl->mask, sl.mask);
    hpa = sl.gpa | (gpa & sl.mask);
    out->iova = iova & ~mask;
    out->gpa = hpa & ~mask;
    out->mask = mask;
    out->level = MIN(fl->level, sl.level);
    out->perm = fl->perm & (sl.perm | XVI_PERM_USER);
    return XVI_FR_NONE;
}

int xvi_sm_walk(const XviSmConfig *cfg, XviReadFn *read, XviWriteFn *write,
                void *opaque, const XviSmEntry *e, uint64_t iova,
                unsigned access, XviTranslation *out)
{
    XviNestRw nest = { 0 };
    XviTranslation fl = { 0 };
    XviContextEntry ce;
    XviWalkReq req;
    unsigned width;
    int fault;

    access &= XVI_PERM_READ | XVI_PERM_WRITE;
    switch (e->pgtt) {
    case XVI_PGTT_SL:
    case XVI_PGTT_PT:
        xvi_sm_to_context(e, &ce);
        return xvi_sl_walk(&cfg->walk, read, opaque, &ce, iova, access, out);
    case XVI_PGTT_FL:
        break;
    case XVI_PGTT_NESTED:
        if (e->sl_levels < 3 || e->sl_levels > 5) {
            return XVI_FR_SM_PE_INVALID;
        }
        nest = (XviNestRw) {
            .cfg = &cfg->walk,
            .read = read,
            .write = write,
            .opaque = opaque,
        };
        xvi_sm_to_context(e, &nest.sl);
        break;
    default:
        return XVI_FR_SM_PE_INVALID;
    }

    /* Canonical: bits 63:width-1 all equal (sign extension) */
    width = e->fl_levels == 5 ? 57 : 48;
    if (e->fl_levels != 4 && e->fl_levels != 5) {
        return XVI_FR_SM_PE_INVALID;
    }
    if ((uint64_t)((int64_t)(iova << (64 - width)) >> (64 - width)) != iova) {
        return XVI_FR_SM_CANONICAL;
    }
    req = (XviWalkReq) {
        .cfg = &cfg->walk,
        .read = read,
        .write = write,
        .opaque = opaque,
        .table = e->flptptr,
        .levels = e->fl_levels,
        .iova = iova,
        .access = access | (e->priv ? 0 : XVI_PERM_USER),
        .wpe = e->wpe,
    };
    if (e->pgtt != XVI_PGTT_NESTED) {
        return xvi_walk_levels(&fl_format, &req, out);
    }
    req.read = nest_read;
    req.write = write ? nest_write : NULL;
    req.opaque = &nest;
    /*
     * A/D bits are set once the first level allows the access, before the
     * second level has looked at the output: a write it then refuses
     * leaves D set, as a CPU's nested paging may
     */
    fault = xvi_walk_levels(&fl_nested_format, &req, &fl);
    if (nest.fault) {
        /* A table read or A/D write the second level refused */
        return nest.fault;
    }
    if (fault) {
        /* Permission faults come with the translation, as for one level */
        *out = fl;
        return fault;
    }
    return nest_output(&nest, iova, access, &fl, out);
}
