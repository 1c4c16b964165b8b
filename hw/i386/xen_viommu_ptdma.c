/*
 * xen-viommu: DMA remapping of passthrough devices through PV-IOMMU
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A passthrough device's DMA goes through the host IOMMU, which Xen
 * programs; QEMU never sees it.  To put such a device behind the guest's
 * unit, its guest-programmed translation is mirrored into a PV-IOMMU
 * context of its own (shadow IO page tables, xen_viommu_shadow.c).  Each
 * device is in one of three places:
 *
 *   DEFAULT  Xen's default context (the guest's memory 1:1): translation
 *            off, or a pass-through context entry;
 *   BLOCKED  a shared context with no mappings: translation on and the
 *            context entry not present or invalid, or no context could be
 *            had for the device -- its DMA faults, as on hardware.  It is
 *            taken when the first device needs it and given back when the
 *            last one leaves; mirrors never take the hypervisor's last
 *            context while it is not allocated, so blocking cannot fail
 *            for want of a context;
 *   MIRROR   its own context holding the mappings of its context entry.
 *
 * Context invalidations, SRTP, TE changes and reset re-evaluate every
 * device's place; IOTLB invalidations re-sync the range they cover for the
 * devices of the domain.  Caching mode is forced on while PV-IOMMU is in
 * use, so the guest also invalidates when it makes a mapping present.
 * What cannot be mirrored (the hypervisor's limits, bad tables) leaves the
 * page unmapped, records the fault the device's access would raise, and
 * logs one line for the operator per device and cause.
 *
 * Callers hold the BQL.  Backend calls are made under hyp_lock; faults are
 * recorded after it is dropped (recording may send an event interrupt,
 * which takes hyp_lock).
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "hw/i386/x86-iommu.h"
#include "xen_viommu_internal.h"
#include "xen_viommu_shadow.h"
#include "trace.h"

/* log2 of the pages of IO page tables the hypervisor keeps for the guest */
#define XVI_PV_ARENA_ORDER      20

typedef enum XviPtDmaPlace {
    XVI_PTDMA_DEFAULT,
    XVI_PTDMA_BLOCKED,
    XVI_PTDMA_MIRROR,
} XviPtDmaPlace;

/* Causes the operator is told about, once per device each */
enum {
    XVI_PTDMA_WARN_CTX = 1 << 0,
    XVI_PTDMA_WARN_POOL = 1 << 1,
    XVI_PTDMA_WARN_HYP = 1 << 2,
};

struct XenViommuPtDma {
    XenViommuState *s;          /* NULL once the unit is gone */
    QLIST_ENTRY(XenViommuPtDma) next;
    PCIDevice *pdev;
    uint32_t machine_sbdf;
    XviPtDmaPlace place;
    XviContextEntry ce;         /* MIRROR: the entry mirrored */
    XviShadow *shadow;          /* MIRROR: its context's mappings */
    unsigned warned;
    /* Deferred sync: [pending_start, pending_end] when pending */
    bool pending;
    uint64_t pending_start, pending_end;
    /* This queue batch: syncs done, whole space synced, place decided */
    unsigned batch_syncs;
    bool batch_all;
    bool batch_evaluated;
};

/*
 * Syncs of one device in one queue batch before the next is done over the
 * whole space, after which the batch needs no more (see xvi_ptdma_flush)
 */
#define XVI_PTDMA_BATCH_SYNCS   4

static const char *const xvi_ptdma_place_names[] = {
    [XVI_PTDMA_DEFAULT] = "default",
    [XVI_PTDMA_BLOCKED] = "blocked",
    [XVI_PTDMA_MIRROR] = "mirror",
};

static uint16_t xvi_ptdma_sid(XenViommuPtDma *pd)
{
    return PCI_BUILD_BDF(pci_bus_num(pci_get_bus(pd->pdev)), pd->pdev->devfn);
}

static void xvi_ptdma_warn(XenViommuPtDma *pd, unsigned cause,
                           const char *what, int err)
{
    if (pd->warned & cause) {
        return;
    }
    pd->warned |= cause;
    error_report("xen-viommu: passthrough device %02x:%02x.%x (machine "
                 "%04x:%02x:%02x.%x): %s (%s); its DMA there faults",
                 pci_bus_num(pci_get_bus(pd->pdev)),
                 PCI_SLOT(pd->pdev->devfn), PCI_FUNC(pd->pdev->devfn),
                 pd->machine_sbdf >> 16, (pd->machine_sbdf >> 8) & 0xff,
                 PCI_SLOT(pd->machine_sbdf & 0xff),
                 PCI_FUNC(pd->machine_sbdf & 0xff), what, strerror(-err));
}

/* Record what the device's access would raise, unless FPD says not to */
static void xvi_ptdma_fault(XenViommuPtDma *pd, bool fpd, int reason,
                            uint64_t addr)
{
    XenViommuState *s = pd->s;

    if (fpd) {
        return;
    }
    qemu_mutex_lock(&s->lock);
    xvi_fault_record(s, xvi_ptdma_sid(pd), reason, addr, false);
    qemu_mutex_unlock(&s->lock);
}

/* Hypervisor calls (hyp_lock taken here) ---------------------------------- */

static int xvi_ptdma_reattach(XenViommuPtDma *pd, uint16_t ctx)
{
    XenViommuState *s = pd->s;
    int ret;

    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_pv_reattach_device(s->hyp, ctx, pd->machine_sbdf);
    qemu_mutex_unlock(&s->hyp_lock);
    trace_xen_viommu_ptdma_reattach(pd->machine_sbdf, ctx, ret);
    return ret;
}

/* Devices of the unit in @place */
static unsigned xvi_ptdma_count(XenViommuState *s, XviPtDmaPlace place)
{
    XenViommuPtDma *pd;
    unsigned n = 0;

    QLIST_FOREACH(pd, &s->pt_dmas, next) {
        n += pd->place == place;
    }
    return n;
}

/*
 * A context from the hypervisor.  Mirrors (@blocking false) leave one of
 * the hypervisor's contexts to the blocking context, allocated or not.
 */
static int xvi_ptdma_alloc_ctx(XenViommuState *s, uint16_t *ctx,
                               bool blocking)
{
    int ret;

    if (!blocking && xvi_ptdma_count(s, XVI_PTDMA_MIRROR) + 1 >=
        xen_viommu_hyp_caps(s->hyp)->pv.max_ctx_no) {
        return -ENOSPC;
    }
    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_pv_alloc_context(s->hyp, 0, ctx);
    qemu_mutex_unlock(&s->hyp_lock);
    return ret;
}

static void xvi_ptdma_free_ctx(XenViommuState *s, uint16_t ctx)
{
    int ret;

    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_pv_free_context(
        s->hyp, ctx, XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT);
    qemu_mutex_unlock(&s->hyp_lock);
    if (ret < 0) {
        error_report("xen-viommu: freeing PV-IOMMU context %u failed: %s",
                     ctx, strerror(-ret));
    }
}

/* Mirroring ---------------------------------------------------------------- */

/* Make [start, end] of @sh's context match the tables of @ce */
static void xvi_ptdma_sync(XenViommuPtDma *pd, XviShadow *sh,
                           const XviContextEntry *ce, uint64_t start,
                           uint64_t end)
{
    XenViommuState *s = pd->s;
    XviShadowResult res;

    qemu_mutex_lock(&s->hyp_lock);
    xvi_shadow_sync(sh, &s->walk_cfg, xvi_read_guest, s, ce, start, end,
                    &res);
    qemu_mutex_unlock(&s->hyp_lock);
    trace_xen_viommu_ptdma_sync(pd->machine_sbdf, start, end, res.mapped,
                                res.unmapped, res.map_runs, res.unmap_runs,
                                res.error);

    switch (res.error) {
    case XVI_SHADOW_OK:
        return;
    case XVI_SHADOW_TABLES:
        xvi_ptdma_fault(pd, ce->fpd, res.fault, res.addr);
        return;
    case XVI_SHADOW_NOT_OWNED:
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: iova 0x%" PRIx64 " of "
                      "passthrough device 0x%04x maps memory that is not the "
                      "guest's RAM; left unmapped\n", res.addr,
                      xvi_ptdma_sid(pd));
        break;
    case XVI_SHADOW_TOO_MANY:
        xvi_ptdma_warn(pd, XVI_PTDMA_WARN_POOL, "more pages mapped than the "
                       "unit mirrors per device", -ENOSPC);
        break;
    case XVI_SHADOW_POOL:
        xvi_ptdma_warn(pd, XVI_PTDMA_WARN_POOL, "the hypervisor's IO page "
                       "pool is exhausted", res.errno_val);
        break;
    case XVI_SHADOW_HYPERVISOR:
        xvi_ptdma_warn(pd, XVI_PTDMA_WARN_HYP, "the hypervisor refused a "
                       "PV-IOMMU mapping", res.errno_val);
        break;
    }
    /* The page is not present for the device: a read of it faults so */
    xvi_ptdma_fault(pd, ce->fpd, XVI_FR_READ, res.addr);
}

/* Places ------------------------------------------------------------------- */

/* Give up what the current place holds in the hypervisor */
static void xvi_ptdma_release(XenViommuPtDma *pd)
{
    XenViommuState *s = pd->s;
    XviPtDmaPlace was = pd->place;

    pd->place = XVI_PTDMA_DEFAULT;
    pd->pending = false;
    if (was == XVI_PTDMA_MIRROR) {
        /* Freeing the context drops its mappings */
        xvi_ptdma_free_ctx(s, xvi_shadow_ctx(pd->shadow));
        xvi_shadow_free(pd->shadow);
        pd->shadow = NULL;
    } else if (was == XVI_PTDMA_BLOCKED &&
               !xvi_ptdma_count(s, XVI_PTDMA_BLOCKED)) {
        xvi_ptdma_free_ctx(s, s->pv_block_ctx);
        s->pv_block_ctx = 0;
    }
}

static void xvi_ptdma_to_default(XenViommuPtDma *pd)
{
    int ret;

    if (pd->place == XVI_PTDMA_DEFAULT) {
        return;
    }
    ret = xvi_ptdma_reattach(pd, XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT);
    if (ret < 0) {
        xvi_ptdma_warn(pd, XVI_PTDMA_WARN_HYP, "moving it to the default "
                       "context failed", ret);
    }
    xvi_ptdma_release(pd);
}

static void xvi_ptdma_to_blocked(XenViommuPtDma *pd)
{
    XenViommuState *s = pd->s;
    int ret;

    if (pd->place == XVI_PTDMA_BLOCKED) {
        return;
    }
    if (!s->pv_block_ctx) {
        ret = xvi_ptdma_alloc_ctx(s, &s->pv_block_ctx, true);
        if (ret < 0) {
            /* Only if the hypervisor broke its word: it stays where it is */
            s->pv_block_ctx = 0;
            xvi_ptdma_warn(pd, XVI_PTDMA_WARN_CTX, "no PV-IOMMU context to "
                           "block it in", ret);
            return;
        }
    }
    ret = xvi_ptdma_reattach(pd, s->pv_block_ctx);
    if (ret < 0) {
        xvi_ptdma_warn(pd, XVI_PTDMA_WARN_HYP, "blocking its DMA failed",
                       ret);
    }
    xvi_ptdma_release(pd);
    pd->place = XVI_PTDMA_BLOCKED;
}

/*
 * A context of its own, filled before the device moves in, so that it
 * never sees a half-built translation.
 */
static void xvi_ptdma_to_mirror(XenViommuPtDma *pd, const XviContextEntry *ce)
{
    XenViommuState *s = pd->s;
    XviShadow *sh;
    uint16_t ctx;
    int ret;

    ret = xvi_ptdma_alloc_ctx(s, &ctx, false);
    if (ret < 0) {
        xvi_ptdma_warn(pd, XVI_PTDMA_WARN_CTX, "the hypervisor has no "
                       "PV-IOMMU context left for it", ret);
        xvi_ptdma_fault(pd, ce->fpd, XVI_FR_CTX_INVALID, 0);
        xvi_ptdma_to_blocked(pd);
        return;
    }
    sh = xvi_shadow_new(s->hyp, ctx);
    xvi_ptdma_sync(pd, sh, ce, 0, UINT64_MAX);
    ret = xvi_ptdma_reattach(pd, ctx);
    if (ret < 0) {
        xvi_ptdma_warn(pd, XVI_PTDMA_WARN_HYP, "moving it to its PV-IOMMU "
                       "context failed", ret);
        xvi_ptdma_free_ctx(s, ctx);
        xvi_shadow_free(sh);
        xvi_ptdma_to_blocked(pd);
        return;
    }
    xvi_ptdma_release(pd);
    pd->shadow = sh;
    pd->ce = *ce;
    pd->place = XVI_PTDMA_MIRROR;
}

static bool xvi_ptdma_same_ctx(const XviContextEntry *a,
                               const XviContextEntry *b)
{
    return a->tt == b->tt && a->levels == b->levels && a->did == b->did &&
           a->slptptr == b->slptptr && a->fpd == b->fpd;
}

/* Put @pd where the unit's registers and its context entry say */
static void xvi_ptdma_evaluate(XenViommuPtDma *pd)
{
    XenViommuState *s = pd->s;
    XviContextEntry ce = { 0 };
    uint16_t sid = xvi_ptdma_sid(pd);
    int fault;

    if (!(xvi_get32(s, XVI_GSTS) & XVI_GCMD_TE)) {
        xvi_ptdma_to_default(pd);
    } else {
        fault = xvi_context_lookup(&s->walk_cfg, xvi_read_guest, s,
                                   s->root_table, PCI_BUS_NUM(sid),
                                   sid & 0xff, &ce);
        if (fault) {
            xvi_ptdma_to_blocked(pd);
        } else if (ce.tt == XVI_TT_PASS_THROUGH) {
            xvi_ptdma_to_default(pd);
        } else if (pd->place != XVI_PTDMA_MIRROR ||
                   !xvi_ptdma_same_ctx(&pd->ce, &ce)) {
            xvi_ptdma_to_mirror(pd, &ce);
        }
    }
    trace_xen_viommu_ptdma_place(pd->machine_sbdf,
                                 xvi_ptdma_place_names[pd->place]);
}

/* Hooks from the rest of the unit ------------------------------------------ */

void xvi_ptdma_contexts_changed(XenViommuState *s)
{
    XenViommuPtDma *pd;

    QLIST_FOREACH(pd, &s->pt_dmas, next) {
        if (s->pv_defer && pd->batch_evaluated) {
            /* The batch sees one state of the tables: decided already */
            continue;
        }
        xvi_ptdma_evaluate(pd);
        pd->batch_evaluated = s->pv_defer;
    }
}

void xvi_ptdma_iotlb_invalidate(XenViommuState *s, bool all_domains,
                                uint16_t did, uint64_t start, uint64_t end)
{
    XenViommuPtDma *pd;

    QLIST_FOREACH(pd, &s->pt_dmas, next) {
        if (pd->place != XVI_PTDMA_MIRROR ||
            (!all_domains && pd->ce.did != did)) {
            continue;
        }
        if (!s->pv_defer) {
            xvi_ptdma_sync(pd, pd->shadow, &pd->ce, start, end);
        } else if (pd->pending) {
            pd->pending_start = MIN(pd->pending_start, start);
            pd->pending_end = MAX(pd->pending_end, end);
        } else {
            pd->pending = true;
            pd->pending_start = start;
            pd->pending_end = end;
        }
    }
}

/*
 * All invalidations of one queue batch see the guest's tables as they are
 * while the batch runs, so a device synced over the whole space in the
 * batch needs no further sync in it.  After a few syncs of smaller ranges
 * the next one covers the whole space: however many invalidations and
 * waits a guest queues, one register write costs each device at most a
 * few bounded walks (XVI_WALK_RANGE_MAX_TABLES tables each).
 */
void xvi_ptdma_flush(XenViommuState *s)
{
    XenViommuPtDma *pd;

    QLIST_FOREACH(pd, &s->pt_dmas, next) {
        if (pd->pending && pd->place == XVI_PTDMA_MIRROR &&
            !(s->pv_defer && pd->batch_all)) {
            uint64_t start = pd->pending_start, end = pd->pending_end;

            if (s->pv_defer && pd->batch_syncs >= XVI_PTDMA_BATCH_SYNCS) {
                start = 0;
                end = UINT64_MAX;
            }
            xvi_ptdma_sync(pd, pd->shadow, &pd->ce, start, end);
            pd->batch_syncs++;
            pd->batch_all |= !start && end == UINT64_MAX;
        }
        pd->pending = false;
    }
}

void xvi_ptdma_defer(XenViommuState *s, bool on)
{
    XenViommuPtDma *pd;

    if (!on) {
        xvi_ptdma_flush(s);
    }
    s->pv_defer = on;
    QLIST_FOREACH(pd, &s->pt_dmas, next) {
        pd->batch_syncs = 0;
        pd->batch_all = pd->batch_evaluated = false;
    }
}

bool xvi_ptdma_realize(XenViommuState *s, Error **errp)
{
    const XenViommuHypCaps *caps = s->hyp ? xen_viommu_hyp_caps(s->hyp) :
                                   NULL;
    bool avail = caps && caps->pv_iommu;
    uint32_t max_ctx;
    int ret;

    QLIST_INIT(&s->pt_dmas);
    switch (s->pv_iommu) {
    case ON_OFF_AUTO_ON:
        if (!s->dma_translation) {
            error_setg(errp, "xen-viommu: pv-iommu=on needs "
                       "dma-translation=on");
            return false;
        }
        if (!avail) {
            error_setg(errp, "xen-viommu: pv-iommu=on needs PV-IOMMU "
                       "(__HYPERVISOR_iommu_op) in the hypervisor, which %s",
                       s->hyp ? "does not offer it" :
                       "is not used (hypervisor=none)");
            error_append_hint(errp, "Use pv-iommu=off (passthrough devices "
                              "are then refused while DMA translation is "
                              "on) or dma-translation=off.\n");
            return false;
        }
        s->pv_on = true;
        break;
    case ON_OFF_AUTO_OFF:
        s->pv_on = false;
        break;
    default:
        s->pv_on = avail && s->dma_translation;
        break;
    }
    if (!s->pv_on) {
        return true;
    }
    max_ctx = caps->pv.max_ctx_no;
    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_pv_init(s->hyp, max_ctx, XVI_PV_ARENA_ORDER);
    qemu_mutex_unlock(&s->hyp_lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "xen-viommu: pv-iommu: initialising "
                         "PV-IOMMU with %u contexts failed", max_ctx);
        s->pv_on = false;
        return false;
    }
    if (!s->caching_mode) {
        /* Without it the guest does not invalidate when it maps */
        s->caching_mode = true;
        info_report("xen-viommu: pv-iommu: caching mode on, so that "
                    "passthrough devices see new mappings");
    }
    return true;
}

void xvi_ptdma_unrealize(XenViommuState *s)
{
    XenViommuPtDma *pd, *tmp;

    QLIST_FOREACH_SAFE(pd, &s->pt_dmas, next, tmp) {
        xvi_ptdma_to_default(pd);
        QLIST_REMOVE(pd, next);
        pd->s = NULL;
    }
}

/* Public API ------------------------------------------------------------- */

bool xen_viommu_pt_dma_attach(PCIDevice *pdev, uint32_t machine_sbdf,
                              XenViommuPtDma **out, Error **errp)
{
    X86IOMMUState *iommu = x86_iommu_get_default();
    XenViommuState *s = iommu ? (XenViommuState *)
        object_dynamic_cast(OBJECT(iommu), TYPE_XEN_VIOMMU) : NULL;
    XenViommuPtDma *pd;

    *out = NULL;
    if (!s || !s->dma_translation) {
        return true;
    }
    if (s->scalable_mode) {
        /* The mirror copies legacy-mode second-level tables only */
        error_setg(errp, "xen-viommu: passthrough device %02x.%x cannot be "
                   "put under the unit's DMA remapping in scalable mode",
                   PCI_SLOT(pdev->devfn), PCI_FUNC(pdev->devfn));
        error_append_hint(errp, "Scalable-mode tables are not mirrored into "
                          "the hypervisor.  Drop scalable-mode, or use "
                          "dma-translation=off for an interrupt-remapping-"
                          "only unit.\n");
        return false;
    }
    if (!s->pv_on) {
        error_setg(errp, "xen-viommu: passthrough device %02x.%x cannot be "
                   "put under the unit's DMA remapping: pv-iommu is off",
                   PCI_SLOT(pdev->devfn), PCI_FUNC(pdev->devfn));
        error_append_hint(errp, "The hypervisor needs PV-IOMMU for that.  "
                          "Use dma-translation=off on the xen-viommu for an "
                          "interrupt-remapping-only unit, or a Xen with "
                          "PV-IOMMU.\n");
        return false;
    }
    pd = g_new0(XenViommuPtDma, 1);
    pd->s = s;
    pd->pdev = pdev;
    pd->machine_sbdf = machine_sbdf;
    pd->place = XVI_PTDMA_DEFAULT;
    QLIST_INSERT_HEAD(&s->pt_dmas, pd, next);
    /* Hot-added while the guest runs: take the place its tables give */
    xvi_ptdma_evaluate(pd);
    *out = pd;
    return true;
}

void xen_viommu_pt_dma_detach(XenViommuPtDma *pd)
{
    if (!pd) {
        return;
    }
    if (pd->s) {
        xvi_ptdma_to_default(pd);
        QLIST_REMOVE(pd, next);
    }
    g_free(pd);
}
