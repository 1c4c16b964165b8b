/*
 * xen-viommu: DMA remapping glue -- per-device address spaces, translate()
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Each requester (bus, devfn after PCI aliasing) gets a container holding
 * either the IOMMU region (translation on) or an alias of system memory
 * (translation off), with the interrupt window (0xfee00000, 1 MiB) on top:
 * DMA writes there are interrupt requests and are never translated.
 * translate() consults the context cache, then the IOTLB, then walks the
 * guest's tables (xen_viommu_walk.c).
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci_bus.h"
#include "xen_viommu_internal.h"
#include "trace.h"

#define TYPE_XEN_VIOMMU_MEMORY_REGION "xen-viommu-iommu-memory-region"

static uint16_t xvi_dev_sid(XenViommuDevAS *d)
{
    return PCI_BUILD_BDF(pci_bus_num(d->bus), d->devfn);
}

/*
 * Fault from translate(): FPD in the context entry suppresses recording.
 * @pasid_bits: what the record says of the request's PASID (0: none).
 */
static void xvi_dma_fault_pasid(XenViommuState *s, XenViommuDevAS *d,
                                int reason, uint64_t addr,
                                IOMMUAccessFlags flag, bool fpd,
                                uint64_t pasid_bits)
{
    if (flag == IOMMU_NONE || fpd) {
        /* A lookup, not an access (e.g. a replay): nothing to report */
        return;
    }
    xvi_fault_record_pasid(s, xvi_dev_sid(d), reason, addr, flag & IOMMU_WO,
                           pasid_bits);
}

static void xvi_dma_fault(XenViommuState *s, XenViommuDevAS *d, int reason,
                          uint64_t addr, IOMMUAccessFlags flag, bool fpd)
{
    xvi_dma_fault_pasid(s, d, reason, addr, flag, fpd, 0);
}

/*
 * Context entry for @d, from the cache when it is current.  Lock held.
 * Only valid entries are cached: without caching mode software need not
 * invalidate when it makes a root or context entry present.
 */
static int xvi_dev_context(XenViommuState *s, XenViommuDevAS *d)
{
    if (d->ctx_gen == s->ctx_gen && !d->ctx_fault) {
        return 0;
    }
    memset(&d->ctx, 0, sizeof(d->ctx));
    memset(&d->sm, 0, sizeof(d->sm));
    switch (s->root_ttm) {
    case XVI_TTM_LEGACY:
        d->ctx_fault = xvi_context_lookup(&s->walk_cfg, xvi_read_guest, s,
                                          s->root_table, pci_bus_num(d->bus),
                                          d->devfn, &d->ctx);
        break;
    case XVI_TTM_SCALABLE:
        /* Requests without PASID: RID_PASID (with PASID: below) */
        d->ctx_fault = xvi_sm_lookup(&s->sm_cfg, xvi_read_guest, s,
                                     s->root_table, pci_bus_num(d->bus),
                                     d->devfn, false, 0, false, &d->sm);
        /* What the legacy paths look at: domain, FPD, pass-through */
        d->ctx.did = d->sm.did;
        d->ctx.fpd = d->sm.fpd;
        d->ctx.sm = true;
        d->ctx.tt = d->sm.pgtt == XVI_PGTT_PT ? XVI_TT_PASS_THROUGH :
                                                XVI_TT_MULTI_LEVEL;
        break;
    default:
        /* TTM 10b/11b: reserved (no abort-DMA mode is offered) */
        d->ctx_fault = XVI_FR_SM_RTADDR;
        break;
    }
    d->ctx_gen = s->ctx_gen;
    return d->ctx_fault;
}

static bool xvi_write_guest_fn(void *opaque, uint64_t addr, const void *buf,
                               size_t len)
{
    return xvi_write_guest(opaque, addr, buf, len);
}

/*
 * Walk @d's tables for @addr: legacy second-level, or in scalable mode
 * those of PASID entry @e
 */
static int xvi_dev_walk(XenViommuState *s, XenViommuDevAS *d,
                        const XviSmEntry *e, uint64_t addr, unsigned access,
                        XviTranslation *t)
{
    if (d->ctx.sm) {
        return xvi_sm_walk(&s->sm_cfg, xvi_read_guest, xvi_write_guest_fn, s,
                           e, addr, access, t);
    }
    return xvi_sl_walk(&s->walk_cfg, xvi_read_guest, s, &d->ctx, addr,
                       access, t);
}

/*
 * x-iotlb-verify: walk again on every IOTLB hit and report a cached
 * translation the guest's tables no longer hold without an invalidation.
 * A debugging aid for telling guest driver bugs from cache bugs.
 */
static void xvi_iotlb_verify(XenViommuState *s, XenViommuDevAS *d,
                             const XviSmEntry *e, uint64_t addr,
                             unsigned access, const XviTranslation *cached)
{
    XviTranslation t = { 0 };
    int fault = xvi_dev_walk(s, d, e, addr, access, &t);

    if (t.perm != cached->perm || t.gpa != cached->gpa ||
        t.mask != cached->mask) {
        qemu_log("xen-viommu: stale IOTLB entry: sid 0x%04x did %u iova "
                 "0x%" PRIx64 ": cached gpa 0x%" PRIx64 " perm %u mask 0x%"
                 PRIx64 ", tables say gpa 0x%" PRIx64 " perm %u mask 0x%"
                 PRIx64 " (walk fault %d)\n", xvi_dev_sid(d), d->ctx.did,
                 addr, cached->gpa, cached->perm, cached->mask, t.gpa,
                 t.perm, t.mask, fault);
    }
}

/*
 * Scalable mode, under the lock, for PASID entry @e: the IOTLB tagged with
 * (did, PASID), then the walk.  A cached entry that does not serve the
 * request (a clean first-level page written, say) is walked again rather
 * than faulted, so A/D and U/S come out as the tables say.  Faults are
 * recorded here, with @pasid_bits.
 */
static bool xvi_dma_translate_sm(XenViommuState *s, XenViommuDevAS *d,
                                 const XviSmEntry *e, uint64_t addr,
                                 unsigned access, IOMMUAccessFlags flag,
                                 uint64_t pasid_bits, XviTranslation *t)
{
    int fault;

    if (xvi_iotlb_lookup_pasid(s->iotlb, e->did, e->pasid, addr, t)) {
        if (unlikely(s->iotlb_verify)) {
            xvi_iotlb_verify(s, d, e, addr, access, t);
        }
        if (xvi_sm_perm_ok(e, access, t->perm)) {
            return true;
        }
    }
    trace_xen_viommu_iotlb_miss(xvi_dev_sid(d), e->did, addr);
    memset(t, 0, sizeof(*t));
    fault = xvi_dev_walk(s, d, e, addr, access, t);
    if (fault) {
        xvi_dma_fault_pasid(s, d, fault, addr, flag, e->fpd, pasid_bits);
        return false;
    }
    /*
     * Nested results are not cached: an IOTLB invalidation names
     * second-level input (guest-physical) addresses, which a combined
     * entry tagged by its first-level input could not be found by.
     */
    if (t->perm && e->pgtt != XVI_PGTT_NESTED) {
        xvi_iotlb_insert_pasid(s->iotlb, e->did, e->pasid, t);
    }
    /* The walk allowed this access, even where the cached copy may not */
    t->perm |= access;
    return true;
}

/*
 * The device's last translation, if no flush happened since and it allows
 * @access: a device streaming through a page needs neither the lock nor
 * the IOTLB.  A flush racing with this is one racing with the access
 * itself, as it would be with the lock.
 */
static bool xvi_last_lookup(XenViommuState *s, XenViommuDevAS *d,
                            uint64_t addr, unsigned access,
                            XviTranslation *t)
{
    uint32_t iotlb_gen, ctx_gen;
    unsigned seq;

    do {
        seq = seqlock_read_begin(&d->last_seq);
        *t = d->last;
        iotlb_gen = d->last_iotlb_gen;
        ctx_gen = d->last_ctx_gen;
    } while (seqlock_read_retry(&d->last_seq, seq));
    return iotlb_gen == xvi_iotlb_gen(s->iotlb) &&
           ctx_gen == qatomic_read(&s->ctx_gen) &&
           (addr & ~t->mask) == t->iova && (access & t->perm) == access;
}

/* Lock held.  Not with iotlb-size=0 (nothing cached) or x-iotlb-verify */
static void xvi_last_set(XenViommuState *s, XenViommuDevAS *d,
                         const XviTranslation *t)
{
    if (!s->iotlb_size || s->iotlb_verify) {
        return;
    }
    seqlock_write_begin(&d->last_seq);
    d->last = *t;
    d->last_iotlb_gen = xvi_iotlb_gen(s->iotlb);
    d->last_ctx_gen = s->ctx_gen;
    seqlock_write_end(&d->last_seq);
}

/*
 * Requests with a PASID.  QEMU's transaction attributes carry one in
 * MemTxAttrs.pid (8 bits) and its privilege in .user; the memory core
 * hands translate() the index attrs_to_index() made of them.  PASID 0 is
 * taken as no PASID: attributes built from zero say 0 without meaning a
 * PASID (and Linux keeps PASID 0 for requests without one).
 */
#define XVI_IDX_NO_PASID    0
#define XVI_NR_IDX          512

static int xvi_attrs_to_index(IOMMUMemoryRegion *iommu, MemTxAttrs attrs)
{
    if (attrs.unspecified || !attrs.pid) {
        return XVI_IDX_NO_PASID;
    }
    return attrs.pid << 1 | !attrs.user;
}

static int xvi_num_indexes(IOMMUMemoryRegion *iommu)
{
    return XVI_NR_IDX;
}

static uint32_t xvi_idx_pasid(int idx)
{
    return (unsigned)idx >> 1;
}

static bool xvi_idx_priv(int idx)
{
    return idx & 1;
}

/*
 * A request with PASID @pasid, under the lock.  Without ECAP.PASID the
 * unit does not take PASIDs: the request is blocked unrecorded, as an
 * unsupported request.  With it, legacy tables fault it (0x31).  The
 * device's last valid PASID entry is kept as its context entry is, until
 * a context- or PASID-cache invalidation (or SRTP, or reset).
 */
static bool xvi_translate_pasid(XenViommuState *s, XenViommuDevAS *d,
                                uint64_t addr, unsigned access,
                                IOMMUAccessFlags flag, uint32_t pasid,
                                bool priv, XviTranslation *t)
{
    uint64_t pasid_bits = XVI_FRCD_PP | (uint64_t)pasid << XVI_FRCD_PV_SHIFT |
                          (priv ? XVI_FRCD_PRIV : 0);
    uint32_t key = pasid << 1 | priv;
    int fault;

    if (!(s->ecap & XVI_ECAP_PASID)) {
        trace_xen_viommu_pasid_unsupported(xvi_dev_sid(d), pasid, addr);
        return false;
    }
    if (s->root_ttm != XVI_TTM_SCALABLE) {
        /* Legacy tables have no PASIDs (0x31); TTM 1x is 0x30 for all */
        xvi_dma_fault_pasid(s, d, s->root_ttm == XVI_TTM_LEGACY ?
                            XVI_FR_SM_TTM_PASID : XVI_FR_SM_RTADDR, addr,
                            flag, false, pasid_bits);
        return false;
    }
    if (d->pasid_gen != s->ctx_gen || d->pasid_key != key) {
        fault = xvi_sm_lookup(&s->sm_cfg, xvi_read_guest, s, s->root_table,
                              pci_bus_num(d->bus), d->devfn, true, pasid,
                              priv, &d->pasid_sm);
        if (fault) {
            xvi_dma_fault_pasid(s, d, fault, addr, flag, d->pasid_sm.fpd,
                                pasid_bits);
            d->pasid_gen = s->ctx_gen - 1;
            return false;
        }
        d->pasid_key = key;
        d->pasid_gen = s->ctx_gen;
    }
    return xvi_dma_translate_sm(s, d, &d->pasid_sm, addr, access, flag,
                                pasid_bits, t);
}

static IOMMUTLBEntry xvi_translate(IOMMUMemoryRegion *iommu, hwaddr addr,
                                   IOMMUAccessFlags flag, int iommu_idx)
{
    XenViommuDevAS *d = container_of(iommu, XenViommuDevAS, iommu);
    XenViommuState *s = d->s;
    unsigned access = (flag & IOMMU_RO ? XVI_PERM_READ : 0) |
                      (flag & IOMMU_WO ? XVI_PERM_WRITE : 0);
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~0xfffULL,
        .translated_addr = 0,
        .addr_mask = 0xfff,
        .perm = IOMMU_NONE,
    };
    XviTranslation t;
    int fault;

    if (iommu_idx != XVI_IDX_NO_PASID) {
        qemu_mutex_lock(&s->lock);
        if (xvi_translate_pasid(s, d, addr, access, flag,
                                xvi_idx_pasid(iommu_idx),
                                xvi_idx_priv(iommu_idx), &t)) {
            goto done;
        }
        goto out;
    }
    if (access && xvi_last_lookup(s, d, addr, access, &t)) {
        entry.iova = t.iova;
        entry.translated_addr = t.gpa;
        entry.addr_mask = t.mask;
        entry.perm = (t.perm & XVI_PERM_READ ? IOMMU_RO : 0) |
                     (t.perm & XVI_PERM_WRITE ? IOMMU_WO : 0);
        goto traced;
    }
    qemu_mutex_lock(&s->lock);
    fault = xvi_dev_context(s, d);
    if (fault) {
        xvi_dma_fault(s, d, fault, addr, flag, d->ctx.fpd);
        goto out;
    }
    if (d->ctx.tt == 2) {
        /* Pass-through: untranslated, within the guest address width */
        if (addr >> s->aw_bits) {
            xvi_dma_fault(s, d, d->ctx.sm ? XVI_FR_SM_BEYOND_AW :
                          XVI_FR_ADDR_BEYOND_AW, addr, flag, d->ctx.fpd);
            goto out;
        }
        entry.translated_addr = entry.iova;
        entry.perm = IOMMU_RW;
        goto out;
    }
    if (d->ctx.sm) {
        if (!xvi_dma_translate_sm(s, d, &d->sm, addr, access, flag, 0, &t)) {
            goto out;
        }
        goto done;
    }

    if (xvi_iotlb_lookup(s->iotlb, d->ctx.did, addr, &t)) {
        if (unlikely(s->iotlb_verify)) {
            xvi_iotlb_verify(s, d, NULL, addr, access, &t);
        }
    } else {
        /*
         * The paging-structure cache names the leaf table when it can
         * (x-oracle models cached leaves only: it goes without)
         */
        uint64_t root = d->ctx.slptptr | d->ctx.levels;
        XviLeafTable start, found = { 0 };
        bool psc = !s->oracle;
        bool cached = psc && xvi_iotlb_lookup_table(s->iotlb, d->ctx.did,
                                                    root, addr, &start);

        trace_xen_viommu_iotlb_miss(xvi_dev_sid(d), d->ctx.did, addr);
        memset(&t, 0, sizeof(t));
        fault = xvi_sl_walk_cached(&s->walk_cfg, xvi_read_guest, s, &d->ctx,
                                   addr, access, cached ? &start : NULL,
                                   psc ? &found : NULL, &t);
        if (found.found) {
            xvi_iotlb_insert_table(s->iotlb, d->ctx.did, root, addr, &found);
        }
        if (fault && fault != XVI_FR_READ && fault != XVI_FR_WRITE) {
            xvi_dma_fault(s, d, fault, addr, flag, d->ctx.fpd);
            goto out;
        }
        if (t.perm) {
            xvi_iotlb_insert(s->iotlb, d->ctx.did, &t);
        }
    }
    if ((access & t.perm) != access) {
        xvi_dma_fault(s, d, (access & XVI_PERM_WRITE) &&
                      !(t.perm & XVI_PERM_WRITE) ? XVI_FR_WRITE : XVI_FR_READ,
                      addr, flag, d->ctx.fpd);
        goto out;
    }
    xvi_last_set(s, d, &t);
done:
    entry.iova = t.iova;
    entry.translated_addr = t.gpa;
    entry.addr_mask = t.mask;
    entry.perm = (t.perm & XVI_PERM_READ ? IOMMU_RO : 0) |
                 (t.perm & XVI_PERM_WRITE ? IOMMU_WO : 0);
out:
    qemu_mutex_unlock(&s->lock);
traced:
    xvi_oracle_translate(s, d, addr, flag, iommu_idx != XVI_IDX_NO_PASID,
                         &entry);
    trace_xen_viommu_translate(xvi_dev_sid(d), addr, entry.translated_addr,
                               entry.addr_mask, entry.perm);
    return entry;
}

static int xvi_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                   IOMMUNotifierFlag old,
                                   IOMMUNotifierFlag new, Error **errp)
{
    XenViommuDevAS *d = container_of(iommu, XenViommuDevAS, iommu);

    if (new & IOMMU_NOTIFIER_MAP) {
        error_setg(errp, "xen-viommu: devices that mirror IOMMU mappings "
                   "(vfio-pci) are not supported behind this unit");
        return -EINVAL;
    }
    /* Invalidations look for listeners only while there are some */
    d->s->unmap_listeners += !!(new & IOMMU_NOTIFIER_UNMAP) -
                             !!(d->notifier_flags & IOMMU_NOTIFIER_UNMAP);
    d->notifier_flags = new;
    return 0;
}

/*
 * Tell UNMAP listeners (if any) that [addr, addr + size) may have changed.
 * Each notifier hears only the part inside its own range: listeners such
 * as vhost register one per section of the address space, which the
 * interrupt window splits, and QEMU's core refuses an event that is wider
 * than the notifier it is given to.
 */
static void xvi_notify_unmap(XenViommuDevAS *d, uint64_t addr, uint64_t size)
{
    uint64_t last = addr + size - 1;
    IOMMUNotifier *n;

    if (!(d->notifier_flags & IOMMU_NOTIFIER_UNMAP)) {
        return;
    }
    IOMMU_NOTIFIER_FOREACH(n, &d->iommu) {
        IOMMUTLBEvent ev = {
            .type = IOMMU_NOTIFIER_UNMAP,
            .entry = {
                .target_as = &address_space_memory,
                .perm = IOMMU_NONE,
            },
        };

        if (!(n->notifier_flags & IOMMU_NOTIFIER_UNMAP) ||
            n->start > last || n->end < addr) {
            continue;
        }
        ev.entry.iova = MAX(addr, n->start);
        ev.entry.addr_mask = MIN(last, n->end) - ev.entry.iova;
        memory_region_notify_iommu_one(n, &ev);
    }
}

static void xvi_for_each_dev(XenViommuState *s,
                             void (*fn)(XenViommuDevAS *d, void *opaque),
                             void *opaque)
{
    GHashTableIter it;
    XenViommuBus *vb;
    int i;

    g_hash_table_iter_init(&it, s->buses);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&vb)) {
        for (i = 0; i < PCI_DEVFN_MAX; i++) {
            if (vb->dev[i]) {
                fn(vb->dev[i], opaque);
            }
        }
    }
}

/* Address spaces ----------------------------------------------------------- */

static void xvi_dev_switch(XenViommuDevAS *d, bool translated)
{
    if (d->translated == translated) {
        return;
    }
    trace_xen_viommu_as_switch(xvi_dev_sid(d), translated);
    memory_region_transaction_begin();
    memory_region_set_enabled(MEMORY_REGION(&d->iommu), translated);
    memory_region_set_enabled(&d->nodmar, !translated);
    memory_region_transaction_commit();
    d->translated = translated;
}

static AddressSpace *xvi_get_as(PCIBus *bus, void *opaque, int devfn)
{
    XenViommuState *s = opaque;
    XenViommuBus *vb = g_hash_table_lookup(s->buses, bus);
    XenViommuDevAS *d;
    g_autofree char *name = NULL;

    if (devfn < 0 || devfn >= PCI_DEVFN_MAX) {
        return &address_space_memory;
    }
    if (!vb) {
        vb = g_new0(XenViommuBus, 1);
        vb->bus = bus;
        g_hash_table_insert(s->buses, bus, vb);
    }
    d = vb->dev[devfn];
    if (d) {
        return &d->as;
    }

    d = g_new0(XenViommuDevAS, 1);
    d->s = s;
    d->bus = bus;
    d->devfn = devfn;
    d->ctx_gen = s->ctx_gen - 1;
    d->pasid_gen = s->ctx_gen - 1;
    seqlock_init(&d->last_seq);
    name = g_strdup_printf("xen-viommu-%02x.%x", PCI_SLOT(devfn),
                           PCI_FUNC(devfn));

    memory_region_init(&d->root, OBJECT(s), name, UINT64_MAX);
    memory_region_init_iommu(&d->iommu, sizeof(d->iommu),
                             TYPE_XEN_VIOMMU_MEMORY_REGION, OBJECT(s),
                             "xen-viommu-dmar", UINT64_MAX);
    memory_region_init_alias(&d->nodmar, OBJECT(s), "xen-viommu-nodmar",
                             get_system_memory(), 0,
                             memory_region_size(get_system_memory()));
    memory_region_init_io(&d->ir, OBJECT(s), &xvi_ir_dev_ops, d,
                          "xen-viommu-ir", XVI_IR_SIZE);
    memory_region_add_subregion_overlap(&d->root, 0,
                                        MEMORY_REGION(&d->iommu), 0);
    memory_region_add_subregion_overlap(&d->root, 0, &d->nodmar, 0);
    memory_region_add_subregion_overlap(&d->root, XVI_IR_BASE, &d->ir, 1);

    d->translated = !(xvi_get32(s, XVI_GSTS) & XVI_GCMD_TE);
    xvi_dev_switch(d, !d->translated);
    address_space_init(&d->as, &d->root, name);
    vb->dev[devfn] = d;
    return &d->as;
}

const PCIIOMMUOps xvi_pci_iommu_ops = {
    .get_address_space = xvi_get_as,
};

static void xvi_dev_enable(XenViommuDevAS *d, void *opaque)
{
    xvi_dev_switch(d, *(bool *)opaque);
}

void xvi_dma_set_enabled(XenViommuState *s, bool on)
{
    xvi_for_each_dev(s, xvi_dev_enable, &on);
    xvi_ptdma_contexts_changed(s);
}

void xvi_dma_init(XenViommuState *s)
{
    s->buses = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    s->iotlb = xvi_iotlb_new(s->iotlb_size);
}

void xvi_dma_reset(XenViommuState *s)
{
    bool off = false;

    qemu_mutex_lock(&s->lock);
    s->ctx_gen++;
    xvi_iotlb_flush_all(s->iotlb);
    qemu_mutex_unlock(&s->lock);
    if (s->buses) {
        xvi_for_each_dev(s, xvi_dev_enable, &off);
    }
    /*
     * Passthrough devices follow GSTS: back to the default context at
     * reset, where the incoming state puts them after migration
     */
    xvi_ptdma_contexts_changed(s);
}

void xvi_dma_set_root(XenViommuState *s)
{
    /* A new root table makes every cached context entry stale */
    xvi_dma_inv_context_all(s);
}

/* Invalidation ------------------------------------------------------------- */

void xvi_dma_inv_context_all(XenViommuState *s)
{
    qemu_mutex_lock(&s->lock);
    s->ctx_gen++;
    qemu_mutex_unlock(&s->lock);
    xvi_ptdma_contexts_changed(s);
}

typedef struct XviUnmapReq {
    bool all_domains;
    uint16_t did;
    uint64_t addr, size;
} XviUnmapReq;

static void xvi_dev_unmap(XenViommuDevAS *d, void *opaque)
{
    XviUnmapReq *req = opaque;

    if (!(d->notifier_flags & IOMMU_NOTIFIER_UNMAP)) {
        return;
    }
    if (!req->all_domains && d->ctx_gen == d->s->ctx_gen &&
        !d->ctx_fault && d->ctx.did != req->did) {
        return;
    }
    /*
     * A nested device's addresses are first-level input; the request's
     * may be second-level input: whatever it names, all of them.
     */
    if (d->ctx.sm && d->sm.pgtt == XVI_PGTT_NESTED) {
        xvi_notify_unmap(d, 0, 1ULL << d->s->aw_bits);
        return;
    }
    xvi_notify_unmap(d, req->addr, req->size);
}

void xvi_dma_inv_iotlb_all(XenViommuState *s)
{
    XviUnmapReq req = { .all_domains = true, .addr = 0, .size = 0 };

    qemu_mutex_lock(&s->lock);
    xvi_iotlb_flush_all(s->iotlb);
    qemu_mutex_unlock(&s->lock);
    req.size = 1ULL << s->aw_bits;
    if (s->unmap_listeners) {
        xvi_for_each_dev(s, xvi_dev_unmap, &req);
    }
    xvi_ptdma_iotlb_invalidate(s, true, 0, 0, UINT64_MAX);
}

void xvi_dma_inv_iotlb_domain(XenViommuState *s, uint16_t did)
{
    XviUnmapReq req = { .did = did, .size = 1ULL << s->aw_bits };

    qemu_mutex_lock(&s->lock);
    xvi_iotlb_flush_domain(s->iotlb, did);
    qemu_mutex_unlock(&s->lock);
    if (s->unmap_listeners) {
        xvi_for_each_dev(s, xvi_dev_unmap, &req);
    }
    xvi_ptdma_iotlb_invalidate(s, false, did, 0, UINT64_MAX);
}

void xvi_dma_inv_iotlb_pages(XenViommuState *s, uint16_t did, uint64_t addr,
                             unsigned am)
{
    uint64_t size = 4096ULL << am;
    XviUnmapReq req = { .did = did, .addr = addr & ~(size - 1),
                        .size = size };

    qemu_mutex_lock(&s->lock);
    xvi_iotlb_flush_pages(s->iotlb, did, addr, am);
    qemu_mutex_unlock(&s->lock);
    if (s->unmap_listeners) {
        xvi_for_each_dev(s, xvi_dev_unmap, &req);
    }
    xvi_ptdma_iotlb_invalidate(s, false, did, req.addr,
                               req.addr + req.size - 1);
}

void xvi_dma_inv_piotlb(XenViommuState *s, uint16_t did, uint32_t pasid,
                        uint64_t addr, unsigned am)
{
    uint64_t size = am >= 52 ? 0 : 4096ULL << am;
    XviUnmapReq req = { .did = did };

    if (size) {
        req.addr = addr & ~(size - 1);
        req.size = size;
    } else {
        req.size = 1ULL << s->aw_bits;
    }
    qemu_mutex_lock(&s->lock);
    xvi_iotlb_flush_pasid(s->iotlb, did, pasid, addr, am);
    qemu_mutex_unlock(&s->lock);
    /* Notifiers hear of the domain's range: they know no PASIDs */
    if (s->unmap_listeners) {
        xvi_for_each_dev(s, xvi_dev_unmap, &req);
    }
    xvi_ptdma_iotlb_invalidate(s, false, did, req.addr,
                               req.addr + req.size - 1);
}

/* The IOMMU memory region type --------------------------------------------- */

static void xvi_iommu_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = xvi_translate;
    imrc->notify_flag_changed = xvi_notify_flag_changed;
    imrc->attrs_to_index = xvi_attrs_to_index;
    imrc->num_indexes = xvi_num_indexes;
}

static const TypeInfo xvi_iommu_mr_info = {
    .parent = TYPE_IOMMU_MEMORY_REGION,
    .name = TYPE_XEN_VIOMMU_MEMORY_REGION,
    .class_init = xvi_iommu_mr_class_init,
};

static void xvi_dma_register_types(void)
{
    type_register_static(&xvi_iommu_mr_info);
}

type_init(xvi_dma_register_types)
