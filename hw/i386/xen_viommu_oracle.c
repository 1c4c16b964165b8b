/*
 * xen-viommu: x-oracle, an architectural checker for tests and fuzzing
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * With x-oracle=on the unit's decisions are checked as they are made
 * against a reference computed from guest memory at that moment, by code
 * written from the VT-d specification (legacy mode) apart from the unit's
 * own walk, decode and caches:
 *  - a translation, or a block, agrees with a fresh walk of the root,
 *    context and second-level tables, or with what the unit may still hold
 *    cached because the guest changed its tables without invalidating;
 *  - nothing is translated into the interrupt range 0xFEE00000-0xFEEFFFFF;
 *  - a blocked access has its fault record, unless FPD, PFO or the
 *    iothread deferral (fault.c) explains why not;
 *  - after an invalidation (register or queued) no context, IOTLB or
 *    interrupt entry cache entry it covers is left that differs from the
 *    tables;
 *  - with IRE=1 every interrupt passed on is allowed by the compatibility
 *    rule or by an IRTE, with that IRTE's vector, destination and modes.
 *
 * "May still hold cached" is the oracle's own model: the contexts, leaves
 * and IRTEs the tables gave since the last invalidation that covers them,
 * as the oracle decodes that invalidation.  A violation is a bug in the
 * unit, never in the guest (guest input the unit handles as the
 * specification says passes): the oracle prints what it saw and
 * aborts (under qtest; with a guest running it stops checking instead).
 * A debugging aid, off by default.  Guest memory is read through RAM
 * pointers, so that the generic fuzzer's DMA hook does not refill it under
 * the unit; what is not RAM is not checked, and a domain whose walk left
 * RAM is not judged (beyond its blocks having records) until its IOTLB
 * invalidation.
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/bswap.h"
#include "qemu/bitops.h"
#include "qemu/bitmap.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "system/qtest.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci_bus.h"
#include "xen_viommu_internal.h"

#define O_INTR_FIRST    0xfee00000ULL
#define O_INTR_LAST     0xfeefffffULL
#define O_R             1
#define O_W             2
#define RB(r)           ((r) < 32 ? 1u << (r) : 0)
#define O_NR_DIDS       (1 << 16)
/* Beyond this many cached leaves the stale-hit check gives up (a warning) */
#define O_SHADOW_MAX    (1u << 18)

/* bits @hi..@lo (inclusive) */
static uint64_t o_bits(unsigned lo, unsigned hi)
{
    return MAKE_64BIT_MASK(lo, hi - lo + 1);
}

typedef struct OCtx {
    bool known;         /* the entries were in RAM: the rest is meaningful */
    uint32_t reasons;   /* blocked here: the fault reasons allowed */
    bool fpd;
    uint8_t tt, levels;
    uint16_t did;
    uint64_t slptptr;
} OCtx;

typedef struct ORes {
    uint32_t reasons;   /* blocked: the fault reasons allowed; 0: translates */
    uint32_t maybe;     /* may be blocked with these instead of translating */
    bool leaf;          /* a leaf with some permission: may be cached */
    uint64_t iova, gpa, mask;
    uint8_t perm;
} ORes;

typedef struct OLeaf {  /* key (did, iova, mask), value (gpa, perm) */
    uint64_t iova, mask;
    uint16_t did;
    uint64_t gpa;
    uint8_t perm;
} OLeaf;

typedef struct XviOracle {
    QemuMutex lock;
    /* Registers as the guest wrote them and the latched table pointers */
    uint64_t iva, iotlb_reg, ccmd;
    bool root_seen, irt_seen;   /* SRTP / SIRTP since reset */
    uint64_t root;
    uint64_t irt_base;
    uint32_t irt_entries;
    bool irt_eime;
    /* What the unit may hold cached */
    GHashTable *leaves;     /* OLeaf (key and value) */
    GHashTable *ctxs;       /* XenViommuDevAS * -> OCtx */
    GHashTable *irtes;      /* index + 1 -> uint64_t[2] */
    bool leaves_full;
    /*
     * Domains whose walk met a table outside RAM, which the oracle does
     * not read: what the unit cached of them is unknown until an IOTLB
     * invalidation of the domain.  A context entry outside RAM hides its
     * domain: then any domain may be opaque, until a global one.
     */
    unsigned long *opaque_dids;
    bool any_opaque;
} XviOracle;

static guint o_leaf_hash(gconstpointer p)
{
    const OLeaf *l = p;

    return (guint)((l->iova >> 12) * 0x9e3779b1u) ^ l->did ^
           (guint)(l->mask >> 12);
}

static gboolean o_leaf_equal(gconstpointer a, gconstpointer b)
{
    const OLeaf *x = a, *y = b;

    return x->iova == y->iova && x->mask == y->mask && x->did == y->did;
}

static XviOracle *o_get(XenViommuState *s)
{
    XviOracle *o = s->oracle_st;

    if (!o) {
        o = g_new0(XviOracle, 1);
        qemu_mutex_init(&o->lock);
        o->leaves = g_hash_table_new_full(o_leaf_hash, o_leaf_equal, g_free,
                                          NULL);
        o->ctxs = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        o->irtes = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        o->opaque_dids = bitmap_new(O_NR_DIDS);
        s->oracle_st = o;
    }
    return o;
}

/*
 * A disagreement: a bug in the unit (or in the oracle), whatever the guest
 * did.  Under qtest, where the tests and the fuzzer drive the machine,
 * QEMU aborts so that they see it.  With a guest running, a debugging aid
 * must not bring QEMU down: the report is made once and the checks stop.
 */
static G_GNUC_PRINTF(2, 3)
void o_fail(XenViommuState *s, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    if (!qatomic_read(&s->oracle)) {
        return;         /* reported already */
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_report("xen-viommu: x-oracle: %s", msg);
    error_report("xen-viommu: x-oracle: GSTS 0x%08x FSTS 0x%08x RTADDR 0x%"
                 PRIx64 " IRTA 0x%" PRIx64 " IQA 0x%" PRIx64 " IQH 0x%"
                 PRIx64 "; this is a bug in the unit, not in the guest",
                 xvi_get32(s, XVI_GSTS), xvi_get32(s, XVI_FSTS),
                 xvi_get64(s, XVI_RTADDR), xvi_get64(s, XVI_IRTA),
                 xvi_get64(s, XVI_IQA), xvi_get64(s, XVI_IQH));
    if (qtest_enabled() || qtest_driver()) {
        abort();
    }
    error_report("xen-viommu: x-oracle: no more checks (a guest is "
                 "running: QEMU goes on)");
    qatomic_set(&s->oracle, false);
}

/*
 * The table pointers latched at SRTP/SIRTP; after an incoming migration
 * (no reset seen since) the unit's own latches are all there is.
 */
static uint64_t o_root(XenViommuState *s, XviOracle *o)
{
    return o->root_seen ? o->root : s->root_table;
}

static uint64_t o_irt_base(XenViommuState *s, XviOracle *o)
{
    return o->irt_seen ? o->irt_base : s->irt_base;
}

static uint32_t o_irt_entries(XenViommuState *s, XviOracle *o)
{
    return o->irt_seen ? o->irt_entries : s->irt_entries;
}

static bool o_irt_eime(XenViommuState *s, XviOracle *o)
{
    return o->irt_seen ? o->irt_eime : s->irt_eime;
}

/* Guest memory, RAM only; false when @addr is not (all) RAM */
static bool o_read(uint64_t addr, void *buf, size_t len)
{
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(&address_space_memory, addr, &xlat, &l,
                                 false, MEMTXATTRS_UNSPECIFIED);
    if (l < len || !memory_region_is_ram(mr) ||
        memory_region_is_ram_device(mr)) {
        return false;
    }
    memcpy(buf, (uint8_t *)memory_region_get_ram_ptr(mr) + xlat, len);
    return true;
}

static bool o_read128(uint64_t addr, uint64_t *lo, uint64_t *hi)
{
    uint64_t v[2];

    if (!o_read(addr, v, sizeof(v))) {
        return false;
    }
    *lo = le64_to_cpu(v[0]);
    *hi = le64_to_cpu(v[1]);
    return true;
}

/* DMA remapping reference ------------------------------------------------ */

/* Root and context entry for @bus/@devfn (VT-d 9.1, 9.3) */
static void o_context(XenViommuState *s, XviOracle *o, uint8_t bus,
                      uint8_t devfn, OCtx *c)
{
    uint64_t haw_rsvd = o_bits(XVI_HAW, 63);
    uint64_t lo, hi;
    uint32_t r = 0;
    unsigned aw;

    memset(c, 0, sizeof(*c));
    if (!o_read128(o_root(s, o) + bus * 16, &lo, &hi)) {
        return;
    }
    if (!(lo & 1)) {
        c->known = true;
        c->reasons = RB(0x1);
        return;
    }
    /* Legacy root entry: bits 11:1, 63:HAW and the upper qword reserved */
    if ((lo & (o_bits(1, 11) | haw_rsvd)) || hi) {
        c->known = true;
        c->reasons = RB(0xa);
        return;
    }
    if (!o_read128((lo & ~0xfffULL) + devfn * 16, &lo, &hi)) {
        return;
    }
    c->known = true;
    c->fpd = lo & 2;
    if (!(lo & 1)) {
        c->reasons = RB(0x2);
        return;
    }
    c->tt = (lo >> 2) & 3;
    c->did = hi >> 8;
    aw = hi & 7;
    if ((lo & o_bits(4, 11)) || (hi & (BIT_ULL(7) | o_bits(24, 63)))) {
        r |= RB(0xb);
    }
    switch (c->tt) {
    case 0:
        if (aw >= 1 && aw <= 3 &&
            (s->cap >> XVI_CAP_SAGAW_SHIFT) & BIT(aw)) {
            c->levels = aw + 2;
        } else {
            r |= RB(0x3);
        }
        if (lo & haw_rsvd) {
            r |= RB(0xb);
        }
        c->slptptr = lo & o_bits(12, XVI_HAW - 1);
        break;
    case 1:
        /* Device-TLB translation without ECAP.DT: a reserved encoding */
        r |= RB(0x3) | RB(0xd);
        break;
    case 2:
        /* Pass-through: SLPTPTR and AW are not used */
        if (!(s->ecap & XVI_ECAP_PT)) {
            r |= RB(0x3);
        }
        break;
    default:
        r |= RB(0x3);
        break;
    }
    c->reasons = r;
}

/*
 * Second-level walk (VT-d 3.6, 9.8) for @iova with access @acc (O_R/O_W,
 * 0 for a lookup).  False when a table is not RAM (not checked).
 */
static bool o_walk(XenViommuState *s, const OCtx *c, uint64_t iova,
                   unsigned acc, ORes *r)
{
    uint64_t table = c->slptptr, pte, mask;
    unsigned level, width;
    uint8_t perm = O_R | O_W;

    memset(r, 0, sizeof(*r));
    if (c->reasons) {
        r->reasons = c->reasons;
        return true;
    }
    if (c->tt == 2) {
        if (s->aw_bits < 64 && (iova >> s->aw_bits)) {
            r->reasons = RB(0x4);
            return true;
        }
        r->iova = r->gpa = iova & ~0xfffULL;
        r->mask = 0xfff;
        r->perm = O_R | O_W;
        return true;
    }
    width = MIN(s->aw_bits, 12 + 9 * c->levels);
    if (iova >> width) {
        r->reasons = RB(0x4);
        return true;
    }
    for (level = c->levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t rsvd = o_bits(XVI_HAW, 51) | BIT_ULL(11) | BIT_ULL(62);
        bool leaf = level == 1;

        if (!o_read(table + ((iova >> shift) & 511) * 8, &pte, 8)) {
            return false;
        }
        pte = le64_to_cpu(pte);
        if (!(pte & 3)) {
            /* Not present: a write fault for writes, else a read fault */
            r->reasons = (acc & O_W) ? RB(0x5) : RB(0x6);
            return true;
        }
        if (level >= 4) {
            rsvd |= BIT_ULL(7);
        } else if (level >= 2 && (pte & BIT_ULL(7))) {
            leaf = true;
            rsvd |= o_bits(12, shift - 1);
        }
        if (pte & rsvd) {
            r->reasons = RB(0xc);
            return true;
        }
        perm &= pte & 3;
        if (leaf) {
            uint64_t page;

            mask = MAKE_64BIT_MASK(0, shift);
            r->iova = iova & ~mask;
            r->gpa = pte & o_bits(12, XVI_HAW - 1) & ~mask;
            r->mask = mask;
            r->perm = perm;
            r->leaf = perm != 0;
            if ((acc & perm) != acc) {
                r->reasons |= (acc & O_W) && !(perm & O_W) ? RB(0x5) :
                                                              RB(0x6);
            }
            /*
             * Output in the interrupt range: blocked (3.15, reason 0xE).
             * A superpage overlapping it may be blocked as a whole, or
             * translated as its 4 KiB pages outside it.
             */
            page = r->gpa + (iova & mask & ~0xfffULL);
            if (page >= O_INTR_FIRST && page <= O_INTR_LAST) {
                r->reasons |= RB(0xe);
                r->leaf = false;
            } else if (r->gpa <= O_INTR_LAST &&
                       r->gpa + mask >= O_INTR_FIRST) {
                r->maybe |= RB(0xe);
            }
            return true;
        }
        table = pte & o_bits(12, XVI_HAW - 1);
    }
    /* Not reached: level 1 is always a leaf and c->levels is 3..5 here */
    return false;
}

static uint8_t o_perm(IOMMUAccessFlags f)
{
    return (f & IOMMU_RO ? O_R : 0) | (f & IOMMU_WO ? O_W : 0);
}

/* Does the unit's answer @e for @addr agree with @r? */
static bool o_agrees(const IOMMUTLBEntry *e, uint64_t addr, unsigned acc,
                     const ORes *r)
{
    uint64_t mask = e->addr_mask;

    if (e->perm == IOMMU_NONE) {
        return r->reasons || r->maybe || !r->perm ||
               (r->perm & acc) != acc;
    }
    if (r->reasons || o_perm(e->perm) != r->perm) {
        return false;
    }
    if (mask < 0xfff || mask > r->mask || (mask & (mask + 1)) ||
        e->iova != (addr & ~mask)) {
        return false;
    }
    return e->translated_addr + (addr & mask) == r->gpa + (addr & r->mask);
}

/* The reasons a block by @r may carry */
static uint32_t o_block_reasons(const ORes *r, unsigned acc)
{
    uint32_t m = r->reasons | r->maybe;

    if (!m) {
        m = (acc & O_W) && !(r->perm & O_W) ? RB(0x5) : RB(0x6);
    }
    return m;
}

static void o_remember_leaf(XviOracle *o, uint16_t did, const ORes *r)
{
    OLeaf *l;

    if (!r->leaf) {
        return;
    }
    if (g_hash_table_size(o->leaves) >= O_SHADOW_MAX) {
        if (!o->leaves_full) {
            warn_report("xen-viommu: x-oracle: more than %u cached leaves; "
                        "stale IOTLB hits are no longer checked",
                        O_SHADOW_MAX);
        }
        o->leaves_full = true;
        return;
    }
    l = g_new(OLeaf, 1);
    *l = (OLeaf) { .iova = r->iova, .mask = r->mask, .did = did,
                   .gpa = r->gpa, .perm = r->perm };
    g_hash_table_replace(o->leaves, l, l);
}

/* A cached leaf of @did that agrees with @e (a legitimately stale hit) */
static const OLeaf *o_cached_leaf(XviOracle *o, uint16_t did,
                                  const IOMMUTLBEntry *e, uint64_t addr,
                                  unsigned acc)
{
    unsigned level;

    for (level = 1; level <= 3; level++) {
        uint64_t mask = MAKE_64BIT_MASK(0, 12 + 9 * (level - 1));
        OLeaf key = { .iova = addr & ~mask, .mask = mask, .did = did };
        const OLeaf *l = g_hash_table_lookup(o->leaves, &key);
        ORes r = { 0 };

        if (!l) {
            continue;
        }
        r.iova = l->iova;
        r.gpa = l->gpa;
        r.mask = l->mask;
        r.perm = l->perm;
        if ((acc & r.perm) != acc) {
            r.reasons = (acc & O_W) && !(r.perm & O_W) ? RB(0x5) : RB(0x6);
        }
        if (o_agrees(e, addr, acc, &r)) {
            return l;
        }
    }
    return NULL;
}

/* A blocked access: its fault record exists (or PFO explains why not) */
static void o_check_record(XenViommuState *s, uint16_t sid, uint64_t addr,
                           bool is_write, uint32_t reasons)
{
    unsigned i;

    for (i = 0; i < XVI_NR_FRCD; i++) {
        uint64_t lo = xvi_get64(s, XVI_FRCD + i * 16);
        uint64_t hi = xvi_get64(s, XVI_FRCD + i * 16 + 8);

        if ((hi & XVI_FRCD_F) && (hi & 0xffff) == sid &&
            !(hi & XVI_FRCD_T) == is_write && lo == (addr & ~0xfffULL) &&
            (reasons & RB((hi >> XVI_FRCD_FR_SHIFT) & 0xff))) {
            return;
        }
    }
    if (xvi_get32(s, XVI_FSTS) & XVI_FSTS_PFO) {
        return;
    }
    o_fail(s, "blocked %s of 0x%" PRIx64 " by %02x:%02x.%x has no fault "
           "record (allowed reasons 0x%x as a bit mask)",
           is_write ? "write" : "read", addr, sid >> 8, PCI_SLOT(sid & 0xff),
           PCI_FUNC(sid & 0xff), reasons);
}

static bool o_ctx_same(const OCtx *a, const OCtx *b)
{
    return a->reasons == b->reasons && a->tt == b->tt && a->did == b->did &&
           a->fpd == b->fpd &&
           (a->tt || (a->levels == b->levels && a->slptptr == b->slptptr));
}

/*
 * A leaf the unit may hold under context @c explains @e; *@reason is the
 * reason of a block by it
 */
static bool o_leaf_explains(XviOracle *o, const OCtx *c,
                            const IOMMUTLBEntry *e, uint64_t addr,
                            unsigned acc, uint32_t *reason)
{
    const OLeaf *l;

    if (!c || !c->known || c->reasons || c->tt) {
        return false;
    }
    l = o_cached_leaf(o, c->did, e, addr, acc);
    if (!l) {
        return false;
    }
    *reason = (acc & O_W) && !(l->perm & O_W) ? RB(0x5) : RB(0x6);
    return true;
}

/*
 * The reasons a block may carry when the unit decided it by a context entry
 * it still holds (@sc, which the guest changed without invalidating, and
 * @sr, the walk from it) or a cached leaf, rather than by the tables in
 * memory (@fc): a guest that rewrites its root table leaves the unit
 * walking from the old context entry, and the record says what that walk
 * found.  FPD of that context counts too.
 */
static uint32_t o_cached_block_reasons(XviOracle *o, const OCtx *sc,
                                       const ORes *sr, const OCtx *fc,
                                       const IOMMUTLBEntry *e, uint64_t addr,
                                       unsigned acc, bool *fpd)
{
    const OCtx *cands[2] = { fc, sc };
    uint32_t reasons = 0;
    unsigned i;

    if (sr && o_agrees(e, addr, acc, sr)) {
        reasons |= o_block_reasons(sr, acc);
        *fpd |= sc->fpd;
    }
    for (i = 0; i < 2; i++) {
        uint32_t r;

        if (o_leaf_explains(o, cands[i], e, addr, acc, &r)) {
            reasons |= r;
            *fpd |= cands[i]->fpd;
        }
    }
    return reasons;
}

/* What the unit holds for context @c is unknown to the oracle */
static bool o_opaque(const XviOracle *o, const OCtx *c)
{
    return c && (!c->known || o->any_opaque ||
                 (!c->reasons && test_bit(c->did, o->opaque_dids)));
}

void xvi_oracle_do_translate(XenViommuState *s, XenViommuDevAS *d,
                             uint64_t addr, IOMMUAccessFlags flag,
                             bool pasid, const IOMMUTLBEntry *e)
{
    XviOracle *o = o_get(s);
    unsigned acc = o_perm(flag);
    uint16_t sid = PCI_BUILD_BDF(pci_bus_num(d->bus), d->devfn);
    uint32_t reasons = 0;
    bool fpd = false, ok = false, unjudged = false;
    bool sc_changed, sc_walked = false, opaque;
    const OCtx *sc;
    OCtx fc;
    ORes fr, sr;

    if (e->perm != IOMMU_NONE && e->translated_addr <= O_INTR_LAST &&
        e->translated_addr + e->addr_mask >= O_INTR_FIRST) {
        o_fail(s, "%02x:%02x.%x iova 0x%" PRIx64 " translated to 0x%" PRIx64
               " (mask 0x%" PRIx64 ", perm %d): into the interrupt range",
               sid >> 8, PCI_SLOT(d->devfn), PCI_FUNC(d->devfn), addr,
               e->translated_addr, e->addr_mask, e->perm);
    }

    if (pasid) {
        /*
         * The oracle's units have no scalable mode: a request with a PASID
         * has no table to go by and is blocked (ECAP.PASID clear, or the
         * legacy tables' 0x31), whatever the tables say for requests
         * without one
         */
        if (e->perm != IOMMU_NONE) {
            o_fail(s, "%02x:%02x.%x iova 0x%" PRIx64 " with a PASID "
                   "translated to 0x%" PRIx64 " (perm %d) by a unit in "
                   "legacy mode", sid >> 8, PCI_SLOT(d->devfn),
                   PCI_FUNC(d->devfn), addr, e->translated_addr, e->perm);
        }
        return;
    }
    qemu_mutex_lock(&o->lock);
    o_context(s, o, sid >> 8, d->devfn, &fc);
    sc = g_hash_table_lookup(o->ctxs, d);
    if (!fc.known || !o_walk(s, &fc, addr, acc, &fr)) {
        /*
         * A table outside RAM: not checked.  The unit may cache the context
         * entry (unless it holds an older one) and what its walk met, so
         * the domain becomes unknown to the oracle; a context entry
         * outside RAM hides which domain
         */
        if (!sc || !sc->known || o_ctx_same(sc, &fc)) {
            g_hash_table_replace(o->ctxs, d, g_memdup2(&fc, sizeof(fc)));
        }
        if (fc.known) {
            set_bit(fc.did, o->opaque_dids);
        } else {
            o->any_opaque = true;
        }
        goto out;
    }
    /* A context entry the unit may hold that the guest has changed since */
    sc_changed = sc && sc->known && !o_ctx_same(sc, &fc);
    if (sc_changed) {
        sc_walked = o_walk(s, sc, addr, acc, &sr);
    }
    opaque = o_opaque(o, sc) || o_opaque(o, &fc) ||
             (sc_changed && !sc_walked);
    if (o_agrees(e, addr, acc, &fr)) {
        /* As the tables say now: the unit may cache this */
        ok = true;
        reasons = o_block_reasons(&fr, acc);
        fpd = fc.fpd;
        if (e->perm == IOMMU_NONE) {
            /* Blocked either way, but perhaps by what the unit holds */
            reasons |= o_cached_block_reasons(o, sc, sc_walked ? &sr : NULL,
                                              &fc, e, addr, acc, &fpd);
        }
        if (!fc.reasons) {
            g_hash_table_replace(o->ctxs, d, g_memdup2(&fc, sizeof(fc)));
            if (fc.tt == 0) {
                o_remember_leaf(o, fc.did, &fr);
            }
        }
    } else if (sc_walked && o_agrees(e, addr, acc, &sr)) {
        /* A cached context entry the guest changed without invalidating */
        ok = true;
        reasons = o_block_reasons(&sr, acc);
        fpd = sc->fpd;
        if (sc->tt == 0) {
            o_remember_leaf(o, sc->did, &sr);
        }
    } else {
        /* A cached leaf: the guest changed the tables without invalidating */
        const OCtx *cands[2] = { &fc, sc };
        unsigned i;

        for (i = 0; i < 2 && !ok; i++) {
            if (o_leaf_explains(o, cands[i], e, addr, acc, &reasons)) {
                ok = true;
                fpd = cands[i]->fpd;
            }
        }
        if (!ok && (o->leaves_full || opaque)) {
            /*
             * Unexplained, but the oracle does not know all the unit may
             * hold: not judged, except that a block still needs a record
             * (for any reason) unless a context entry says FPD
             */
            ok = unjudged = true;
            fpd = fc.fpd || (sc && (!sc->known || sc->fpd));
        }
    }
    if (!ok) {
        o_fail(s, "%02x:%02x.%x %s of iova 0x%" PRIx64 ": the unit gave "
               "0x%" PRIx64 " mask 0x%" PRIx64 " perm %d; the tables give "
               "%s0x%" PRIx64 " mask 0x%" PRIx64 " perm %d (blocked: reasons "
               "0x%x), context tt %d did %u levels %u slptptr 0x%" PRIx64
               "%s, and nothing cached explains it",
               sid >> 8, PCI_SLOT(d->devfn), PCI_FUNC(d->devfn),
               acc == (O_R | O_W) ? "read/write" : acc == O_W ? "write" :
               acc == O_R ? "read" : "lookup", addr, e->translated_addr,
               e->addr_mask, e->perm, fr.reasons ? "no translation, " : "",
               fr.gpa, fr.mask, fr.perm, fr.reasons, fc.tt, fc.did,
               fc.levels, fc.slptptr, sc ? " (a context is cached)" : "");
    }
    if (e->perm == IOMMU_NONE && acc && !fpd && bql_locked()) {
        /*
         * Outside the BQL the record is made later (fault.c); with what
         * the unit holds unknown, so is the reason
         */
        o_check_record(s, sid, addr, flag & IOMMU_WO,
                       unjudged || opaque ? UINT32_MAX : reasons);
    }
out:
    qemu_mutex_unlock(&o->lock);
}

/* Invalidations ------------------------------------------------------------ */

/* Does what the tables give now for @did at @t->iova agree with @t? */
static bool o_leaf_current(XenViommuState *s, XviOracle *o, uint16_t did,
                           const XviTranslation *t)
{
    GHashTableIter it;
    XenViommuBus *vb;
    int i;

    g_hash_table_iter_init(&it, s->buses);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&vb)) {
        for (i = 0; i < PCI_DEVFN_MAX; i++) {
            OCtx c;
            ORes r;

            if (!vb->dev[i]) {
                continue;
            }
            o_context(s, o, pci_bus_num(vb->bus), i, &c);
            if (c.known && !c.reasons && !c.tt && c.did == did &&
                o_walk(s, &c, t->iova, 0, &r) && !r.reasons && r.leaf &&
                r.perm == t->perm && t->mask <= r.mask &&
                t->gpa == r.gpa + (t->iova & r.mask)) {
                return true;
            }
        }
    }
    return false;
}

typedef struct OIotlbInv {
    bool all_domains;
    uint16_t did;
    uint64_t first, last;
    GArray *left;           /* (did, XviTranslation) still cached */
} OIotlbInv;

typedef struct OLeft {
    uint16_t did;
    XviTranslation t;
} OLeft;

static void o_iotlb_collect(void *opaque, uint16_t did,
                            const XviTranslation *t)
{
    OIotlbInv *inv = opaque;
    OLeft l = { .did = did, .t = *t };

    if ((inv->all_domains || did == inv->did) && t->iova <= inv->last &&
        t->iova + t->mask >= inv->first) {
        g_array_append_val(inv->left, l);
    }
}

static gboolean o_leaf_covered(gpointer key, gpointer value, gpointer opaque)
{
    OIotlbInv *inv = opaque;
    OLeaf *l = key;

    return (inv->all_domains || l->did == inv->did) &&
           l->iova <= inv->last && l->iova + l->mask >= inv->first;
}

/* IOTLB invalidation @gran (1 global, 2 domain, 3 pages) has completed */
static void o_inv_iotlb(XenViommuState *s, XviOracle *o, const char *how,
                        unsigned gran, uint16_t did, uint64_t addr,
                        unsigned am)
{
    OIotlbInv inv = { .all_domains = gran == 1, .did = did, .first = 0,
                      .last = UINT64_MAX };
    unsigned i;

    if (!gran) {
        return;
    }
    if (gran == 3 && am < 52) {
        inv.first = addr & ~MAKE_64BIT_MASK(0, 12 + am);
        inv.last = inv.first + MAKE_64BIT_MASK(0, 12 + am);
    }
    qemu_mutex_lock(&o->lock);
    g_hash_table_foreach_remove(o->leaves, o_leaf_covered, &inv);
    if (gran == 1) {
        o->leaves_full = false;
        bitmap_zero(o->opaque_dids, O_NR_DIDS);
        o->any_opaque = false;
    } else if (gran == 2) {
        clear_bit(did, o->opaque_dids);
    }
    qemu_mutex_unlock(&o->lock);

    inv.left = g_array_new(false, false, sizeof(OLeft));
    qemu_mutex_lock(&s->lock);
    xvi_iotlb_foreach(s->iotlb, o_iotlb_collect, &inv);
    qemu_mutex_unlock(&s->lock);
    for (i = 0; i < inv.left->len; i++) {
        OLeft *l = &g_array_index(inv.left, OLeft, i);

        /* Left over but what the tables say anyway: no one can tell */
        if (!o_leaf_current(s, o, l->did, &l->t)) {
            o_fail(s, "%s IOTLB invalidation (granularity %u, did %u, "
                   "0x%" PRIx64 "-0x%" PRIx64 ") done, but did %u iova 0x%"
                   PRIx64 " -> 0x%" PRIx64 " (mask 0x%" PRIx64 ", perm %u) "
                   "is still cached and the tables no longer say so",
                   how, gran, did, inv.first, inv.last, l->did, l->t.iova,
                   l->t.gpa, l->t.mask, l->t.perm);
        }
    }
    g_array_free(inv.left, true);
}

typedef struct OCtxInv {
    unsigned gran;
    uint16_t did, sid, sid_mask;
} OCtxInv;

static bool o_ctx_covered(const OCtxInv *inv, uint16_t sid, uint16_t did)
{
    switch (inv->gran) {
    case 1:
        return true;
    case 2:
        return did == inv->did;
    default:
        return !((sid ^ inv->sid) & inv->sid_mask);
    }
}

static gboolean o_ctx_shadow_covered(gpointer key, gpointer value,
                                     gpointer opaque)
{
    XenViommuDevAS *d = key;
    OCtx *c = value;
    const OCtxInv *inv = opaque;

    /* A context entry the oracle could not read has no known domain */
    if (!c->known && inv->gran == 2) {
        return false;
    }
    return o_ctx_covered(inv, PCI_BUILD_BDF(pci_bus_num(d->bus), d->devfn),
                         c->did);
}

/* Context-cache invalidation (1 global, 2 domain, 3 device) completed */
static void o_inv_ctx(XenViommuState *s, XviOracle *o, const char *how,
                      unsigned gran, uint16_t did, uint16_t sid, unsigned fm)
{
    static const uint16_t fm_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
    OCtxInv inv = { .gran = gran, .did = did, .sid = sid,
                    .sid_mask = fm_mask[fm & 3] };
    GHashTableIter it;
    XenViommuBus *vb;
    int i;

    if (!gran) {
        return;
    }
    qemu_mutex_lock(&o->lock);
    g_hash_table_foreach_remove(o->ctxs, o_ctx_shadow_covered, &inv);
    qemu_mutex_unlock(&o->lock);

    g_hash_table_iter_init(&it, s->buses);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&vb)) {
        for (i = 0; i < PCI_DEVFN_MAX; i++) {
            XenViommuDevAS *d = vb->dev[i];
            uint16_t bdf = PCI_BUILD_BDF(pci_bus_num(vb->bus), i);
            XviContextEntry ce;
            bool cached;
            OCtx fc;

            if (!d) {
                continue;
            }
            qemu_mutex_lock(&s->lock);
            cached = d->ctx_gen == s->ctx_gen && !d->ctx_fault;
            ce = d->ctx;
            qemu_mutex_unlock(&s->lock);
            if (!cached || !o_ctx_covered(&inv, bdf, ce.did)) {
                continue;
            }
            o_context(s, o, bdf >> 8, i, &fc);
            if (fc.known &&
                (fc.reasons || fc.tt != ce.tt || fc.did != ce.did ||
                 fc.fpd != ce.fpd ||
                 (!fc.tt && (fc.levels != ce.levels ||
                             fc.slptptr != ce.slptptr)))) {
                o_fail(s, "%s context-cache invalidation (granularity %u, "
                       "did %u, sid 0x%04x fm %u) done, but %02x:%02x.%x "
                       "still uses a cached context (tt %u did %u slptptr "
                       "0x%" PRIx64 ") that the tables no longer hold",
                       how, gran, did, sid, fm, bdf >> 8, PCI_SLOT(i),
                       PCI_FUNC(i), ce.tt, ce.did, ce.slptptr);
            }
        }
    }
}

/* Interrupt remapping reference ------------------------------------------ */

typedef struct OIrte {
    int fault;          /* 0 or the reason (0x22 not present, 0x24, ...) */
    uint32_t dest;
    uint8_t vector, dlm, tm, dm, rh;
    uint8_t svt, sq;
    uint16_t sid;
} OIrte;

/* IRTE, remapped format (VT-d 9.10) */
static void o_irte(uint64_t lo, uint64_t hi, bool eime, OIrte *e)
{
    uint32_t dst = lo >> 32;

    memset(e, 0, sizeof(*e));
    if (!(lo & 1)) {
        e->fault = 0x22;
        return;
    }
    e->dm = (lo >> 2) & 1;
    e->rh = (lo >> 3) & 1;
    e->tm = (lo >> 4) & 1;
    e->dlm = (lo >> 5) & 7;
    e->vector = lo >> 16;
    e->sid = hi;
    e->sq = (hi >> 16) & 3;
    e->svt = (hi >> 18) & 3;
    /* IM (posted, bit 15) without CAP.PI, bits 14:12, 31:24, 127:84 */
    if ((lo & (o_bits(12, 15) | o_bits(24, 31))) || (hi >> 20) ||
        e->svt == 3 || e->dlm == 3 || e->dlm == 6) {
        e->fault = 0x24;
        return;
    }
    if (eime) {
        e->dest = dst;
    } else if (dst & 0xffff00ffu) {
        e->fault = 0x24;
    } else {
        e->dest = (dst >> 8) & 0xff;
    }
}

static bool o_sid_ok(const OIrte *e, uint16_t sid)
{
    static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

    switch (e->svt) {
    case 0:
        return true;
    case 1:
        return !((sid ^ e->sid) & sq_mask[e->sq]);
    case 2:
        return (sid >> 8) >= (e->sid >> 8) && (sid >> 8) <= (e->sid & 0xff);
    default:
        return false;
    }
}

/* Is @e (from raw @lo/@hi) the entry that allowed out_addr/out_data? */
static bool o_irte_allows(bool eime, uint64_t lo, uint64_t hi,
                          uint16_t sid, uint64_t out_addr, uint32_t out_data)
{
    OIrte e;
    uint32_t dest = ((out_addr >> 12) & 0xff) | ((out_addr >> 40) << 8);

    o_irte(lo, hi, eime, &e);
    return !e.fault && (sid == X86_IOMMU_SID_INVALID || o_sid_ok(&e, sid)) &&
           (out_addr & 0xfff00000ULL) == O_INTR_FIRST &&
           dest == e.dest && ((out_addr >> 2) & 1) == e.dm &&
           ((out_addr >> 3) & 1) == e.rh && (out_data & 0xff) == e.vector &&
           ((out_data >> 8) & 7) == e.dlm && ((out_data >> 15) & 1) == e.tm;
}

void xvi_oracle_do_irq(XenViommuState *s, uint64_t addr, uint32_t data,
                       uint16_t sid, uint64_t out_addr, uint32_t out_data)
{
    XviOracle *o = o_get(s);
    uint32_t sts = xvi_get32(s, XVI_GSTS);
    uint32_t index;
    const uint64_t *cached;
    bool eime = o_irt_eime(s, o);
    uint64_t lo, hi;
    bool fresh;

    if (!(sts & XVI_GCMD_IRE)) {
        return;
    }
    if (!(addr & BIT_ULL(4))) {
        /* Compatibility format: only in xAPIC mode with CFI set (5.1.2.1) */
        if (eime || !(sts & XVI_GCMD_CFI) || out_addr != addr ||
            out_data != data) {
            o_fail(s, "compatibility-format interrupt 0x%" PRIx64 "/0x%08x "
                   "from 0x%04x passed on as 0x%" PRIx64 "/0x%08x with "
                   "EIME=%d CFIS=%d", addr, data, sid, out_addr, out_data,
                   eime, !!(sts & XVI_GCMD_CFI));
        }
        return;
    }
    index = ((addr >> 5) & 0x7fff) | (((addr >> 2) & 1) << 15);
    if (addr & BIT_ULL(3)) {
        index += data & 0xffff;
    }
    if ((addr >> 32) || (addr & 0xfff00000ULL) != O_INTR_FIRST ||
        ((addr & BIT_ULL(3)) && (data >> 16)) ||
        index >= o_irt_entries(s, o)) {
        o_fail(s, "interrupt request 0x%" PRIx64 "/0x%08x from 0x%04x "
               "(index %u of %u) should have been blocked, passed on as "
               "0x%" PRIx64 "/0x%08x", addr, data, sid, index,
               o_irt_entries(s, o), out_addr, out_data);
    }
    qemu_mutex_lock(&o->lock);
    fresh = o_read128(o_irt_base(s, o) + (uint64_t)index * 16, &lo, &hi);
    cached = g_hash_table_lookup(o->irtes, GUINT_TO_POINTER(index + 1));
    if (!(fresh && o_irte_allows(eime, lo, hi, sid, out_addr, out_data)) &&
        !(cached && o_irte_allows(eime, cached[0], cached[1], sid, out_addr,
                                  out_data)) &&
        (fresh || cached)) {
        o_fail(s, "interrupt 0x%" PRIx64 "/0x%08x from 0x%04x passed on as "
               "0x%" PRIx64 "/0x%08x, but IRTE %u holds 0x%016" PRIx64
               " 0x%016" PRIx64 "%s (EIME=%d)", addr, data, sid, out_addr,
               out_data, index, fresh ? hi : 0, fresh ? lo : 0,
               cached ? " and the one cached since the last invalidation "
               "does not allow it either" : "", eime);
    }
    qemu_mutex_unlock(&o->lock);
}

void xvi_oracle_do_irte_fetched(XenViommuState *s, uint32_t index,
                                uint64_t lo, uint64_t hi)
{
    XviOracle *o = o_get(s);
    uint64_t raw[2] = { lo, hi };

    qemu_mutex_lock(&o->lock);
    g_hash_table_replace(o->irtes, GUINT_TO_POINTER(index + 1),
                         g_memdup2(raw, sizeof(raw)));
    qemu_mutex_unlock(&o->lock);
}

typedef struct OIecInv {
    uint32_t first, last;
    GArray *fetched;        /* covered indexes fetched since invalidated */
} OIecInv;

static gboolean o_irte_covered(gpointer key, gpointer value, gpointer opaque)
{
    OIecInv *inv = opaque;
    uint32_t index = GPOINTER_TO_UINT(key) - 1;

    if (index < inv->first || index > inv->last) {
        return false;
    }
    g_array_append_val(inv->fetched, index);
    return true;
}

/*
 * Interrupt entry cache invalidation completed.  The unit caches only what
 * it fetched, and the oracle saw every fetch: those are the entries to look
 * at, however big the table.
 */
static void o_inv_iec(XenViommuState *s, XviOracle *o, bool global,
                      uint32_t index, unsigned im)
{
    OIecInv inv = { 0, XVI_IRTE_MAX_ENTRIES - 1 };
    unsigned n;

    if (!global) {
        inv.first = index & ~((1u << im) - 1);
        inv.last = MIN(inv.first + (1u << im) - 1, XVI_IRTE_MAX_ENTRIES - 1);
    }
    inv.fetched = g_array_new(false, false, sizeof(uint32_t));
    qemu_mutex_lock(&o->lock);
    g_hash_table_foreach_remove(o->irtes, o_irte_covered, &inv);
    qemu_mutex_unlock(&o->lock);

    for (n = 0; n < inv.fetched->len; n++) {
        uint32_t i = g_array_index(inv.fetched, uint32_t, n);
        uint64_t lo, hi;
        XviIrte c;
        OIrte f;
        bool hit;

        qemu_mutex_lock(&s->lock);
        hit = xvi_iec_lookup(s->iec, i, &c);
        qemu_mutex_unlock(&s->lock);
        if (!hit || !o_read128(o_irt_base(s, o) + (uint64_t)i * 16, &lo,
                               &hi)) {
            continue;
        }
        o_irte(lo, hi, o_irt_eime(s, o), &f);
        if (f.fault || f.dest != c.dest || f.vector != c.vector ||
            f.dlm != c.delivery_mode || f.tm != c.trigger_mode ||
            f.dm != c.dest_mode || f.rh != c.redir_hint || f.svt != c.svt ||
            f.sq != c.sq || f.sid != c.sid) {
            o_fail(s, "interrupt entry cache invalidation (%s, index %u, im "
                   "%u) done, but entry %u is still cached (vector 0x%02x "
                   "dest 0x%x) and the table holds 0x%016" PRIx64 " 0x%016"
                   PRIx64, global ? "global" : "selective", index, im, i,
                   c.vector, c.dest, hi, lo);
        }
    }
    g_array_free(inv.fetched, true);
}

/* Registers and descriptors ------------------------------------------------ */

void xvi_oracle_do_mmio(XenViommuState *s, hwaddr addr, uint64_t val,
                        unsigned size)
{
    XviOracle *o = o_get(s);
    unsigned shift = (addr & 7) * 8;
    uint64_t lanes = MAKE_64BIT_MASK(shift, size * 8);
    uint64_t v = (val << shift) & lanes;
    bool qie = xvi_get32(s, XVI_GSTS) & XVI_GCMD_QIE;
    uint64_t r;

    switch (addr & ~7ULL) {
    case XVI_IVA:
        o->iva = (o->iva & ~lanes) | v;
        break;
    case XVI_IOTLB:
        o->iotlb_reg = r = (o->iotlb_reg & ~lanes) | v;
        if ((v & XVI_IOTLB_IVT) && !qie) {
            o_inv_iotlb(s, o, "register", (r >> XVI_IOTLB_IIRG_SHIFT) & 3,
                        r >> XVI_IOTLB_DID_SHIFT, o->iva & ~0xfffULL,
                        o->iva & XVI_IVA_AM_MASK);
        }
        break;
    case XVI_CCMD:
        o->ccmd = r = (o->ccmd & ~lanes) | v;
        if ((v & XVI_CCMD_ICC) && !qie) {
            o_inv_ctx(s, o, "register", (r >> XVI_CCMD_CIRG_SHIFT) & 3,
                      r & XVI_CCMD_DID_MASK, r >> XVI_CCMD_SID_SHIFT,
                      (r >> XVI_CCMD_FM_SHIFT) & 3);
        }
        break;
    case XVI_GCMD:
        r = v & 0xffffffffULL;
        if (r & XVI_GCMD_SRTP) {
            o->root = xvi_get64(s, XVI_RTADDR) & ~0xfffULL;
            o->root_seen = true;
        }
        if ((r & XVI_GCMD_SIRTP) && (s->ecap & XVI_ECAP_IR)) {
            uint64_t irta = xvi_get64(s, XVI_IRTA);

            o->irt_base = irta & ~0xfffULL;
            o->irt_entries = 2u << (irta & XVI_IRTA_S_MASK);
            o->irt_eime = (s->ecap & XVI_ECAP_EIM) && (irta & XVI_IRTA_EIME);
            o->irt_seen = true;
        }
        break;
    }
}

void xvi_oracle_do_qi_desc(XenViommuState *s, uint64_t lo, uint64_t hi)
{
    XviOracle *o = o_get(s);

    switch (lo & 0xf) {
    case 1:
        o_inv_ctx(s, o, "queued", (lo >> 4) & 3, lo >> 16, lo >> 32,
                  (lo >> 48) & 3);
        break;
    case 2:
        o_inv_iotlb(s, o, "queued", (lo >> 4) & 3, lo >> 16, hi & ~0xfffULL,
                    hi & 0x3f);
        break;
    case 4:
        o_inv_iec(s, o, !(lo & 0x10), (lo >> 32) & 0xffff, (lo >> 27) & 0x1f);
        break;
    }
}

/* At unrealize: the oracle's state goes with the unit */
void xvi_oracle_free(XenViommuState *s)
{
    XviOracle *o = s->oracle_st;

    if (!o) {
        return;
    }
    g_hash_table_destroy(o->leaves);
    g_hash_table_destroy(o->ctxs);
    g_hash_table_destroy(o->irtes);
    g_free(o->opaque_dids);
    qemu_mutex_destroy(&o->lock);
    g_free(o);
    s->oracle_st = NULL;
}

void xvi_oracle_do_reset(XenViommuState *s)
{
    XviOracle *o = o_get(s);

    qemu_mutex_lock(&o->lock);
    o->iva = o->iotlb_reg = o->ccmd = o->root = o->irt_base = 0;
    o->irt_entries = 0;
    o->irt_eime = false;
    o->root_seen = o->irt_seen = true;
    o->leaves_full = false;
    bitmap_zero(o->opaque_dids, O_NR_DIDS);
    o->any_opaque = false;
    g_hash_table_remove_all(o->leaves);
    g_hash_table_remove_all(o->ctxs);
    g_hash_table_remove_all(o->irtes);
    qemu_mutex_unlock(&o->lock);
}

/* x-fuzz-preset, the fuzzer's other aid, lives in a file of its own */
#include "xen_viommu_fuzz.c.inc"
