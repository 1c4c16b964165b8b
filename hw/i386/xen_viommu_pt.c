/*
 * xen-viommu: MSI bindings of passthrough devices
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A passthrough device's MSI is delivered by Xen: the device model binds
 * the machine pirq to a guest vector and destination (gvec, gflags) with
 * xc_domain_update_msi_irq.  With interrupt remapping the guest programs
 * remappable messages, which Xen cannot decode, so the binding has to be
 * made with the message the unit translates them to, and made again
 * whenever the translation may have changed: interrupt-entry-cache
 * invalidations, IRE/CFI changes and SIRTP (all of which come through
 * xvi_ir_invalidate).  Unbinding must repeat the gvec and gflags bound, so
 * they are remembered here.  A message the unit blocks leaves the pirq
 * unbound, with the fault recorded as if the interrupt had been sent.
 *
 * Callers hold the BQL; calls into the backend are made under hyp_lock.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "hw/i386/x86-iommu.h"
#include "xen_viommu_internal.h"

struct XenViommuPtMsi {
    XenViommuState *s;          /* NULL once the unit is gone */
    QLIST_ENTRY(XenViommuPtMsi) next;
    uint16_t sid;
    uint32_t pirq;
    uint64_t gtable;
    /* The guest's message, as last given to update */
    bool have_msg;
    uint64_t addr;
    uint32_t data;
    bool masked;
    /* What is bound in the hypervisor */
    bool bound;
    uint32_t gvec;
    uint32_t gflags;
};

/* The unit can bind passthrough MSIs: interrupt remapping and a backend */
static bool xvi_pt_usable(XenViommuState *s)
{
    return s && s->hyp && x86_iommu_ir_supported(X86_IOMMU_DEVICE(s)) &&
           xen_viommu_hyp_caps(s->hyp)->pt_msi_bind;
}

static int xvi_pt_unbind(XenViommuPtMsi *b)
{
    XenViommuState *s = b->s;
    int ret;

    if (!b->bound) {
        return 0;
    }
    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_unbind_pt_msi(s->hyp, b->gvec, b->pirq, b->gflags);
    qemu_mutex_unlock(&s->hyp_lock);
    b->bound = false;
    if (ret < 0) {
        error_report("xen-viommu: unbinding pirq %u (sid 0x%04x, gvec 0x%x, "
                     "gflags 0x%x) failed: %s", b->pirq, b->sid, b->gvec,
                     b->gflags, strerror(-ret));
    }
    return ret;
}

/*
 * Translate the remembered message and make the hypervisor's binding match
 * it.  @force binds even when the binding looks current (the caller may
 * have changed it behind our back, e.g. xen_pt's BAR remap).  Returns 0
 * when bound, 1 when left unbound because of the guest's configuration,
 * or a negative errno from the hypervisor.
 */
static int xvi_pt_apply(XenViommuPtMsi *b, bool force)
{
    XenViommuState *s = b->s;
    uint64_t addr;
    uint32_t data, gvec, gflags;
    int ret;

    if (!b->have_msg) {
        return 1;
    }
    if (xvi_ir_remap(s, b->addr, b->data, b->sid, &addr, &data, true)) {
        /* Blocked; the fault is recorded */
        xvi_pt_unbind(b);
        return 1;
    }
    if (!xen_viommu_hyp_msi_to_gflags(addr, data, !b->masked, &gvec,
                                      &gflags)) {
        /* E.g. IR off and a remappable message, vector 0 or dest > 255 */
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: MSI 0x%" PRIx64
                      "/0x%08x of 0x%04x (as 0x%" PRIx64 "/0x%08x) cannot "
                      "be bound to pirq %u\n", b->addr, b->data, b->sid,
                      addr, data, b->pirq);
        xvi_pt_unbind(b);
        return 1;
    }
    if (b->bound && b->gvec == gvec && b->gflags == gflags && !force) {
        return 0;
    }
    /* Xen keys the binding on gvec and gflags (without the mask bit) */
    if (b->bound && (b->gvec != gvec ||
                     (b->gflags & ~XEN_VIOMMU_GFLAGS_UNMASKED) !=
                     (gflags & ~XEN_VIOMMU_GFLAGS_UNMASKED))) {
        xvi_pt_unbind(b);
    }
    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_bind_pt_msi(s->hyp, gvec, b->pirq, gflags,
                                     b->gtable);
    qemu_mutex_unlock(&s->hyp_lock);
    if (ret < 0) {
        /* What Xen holds is unknown; unbinding will be tried no more */
        b->bound = false;
        error_report("xen-viommu: binding pirq %u (sid 0x%04x) to gvec 0x%x "
                     "gflags 0x%x failed: %s", b->pirq, b->sid, gvec, gflags,
                     strerror(-ret));
        return ret;
    }
    b->bound = true;
    b->gvec = gvec;
    b->gflags = gflags;
    return 0;
}

/* Does an invalidation of [index, index + 2^im) concern @b's message? */
static bool xvi_pt_affected(XenViommuPtMsi *b, uint32_t index, unsigned im)
{
    XviMsiRequest req = { 0 };
    uint32_t first;

    if (!b->have_msg) {
        return false;
    }
    if (xvi_msi_parse(b->addr, b->data, &req) || !req.remappable) {
        /* Blocked or compatibility format: IRE/CFI changes only */
        return false;
    }
    if (im >= 16) {
        return true;
    }
    first = (index & 0xffff) & ~((1u << im) - 1);
    return req.index >= first && req.index - first < (1u << im);
}

void xvi_pt_msi_refresh(XenViommuState *s, bool global, uint32_t index,
                        unsigned im)
{
    XenViommuPtMsi *b;

    QLIST_FOREACH(b, &s->pt_msis, next) {
        if (global || xvi_pt_affected(b, index, im)) {
            xvi_pt_apply(b, false);
        }
    }
}

/* The unit goes away: bindings stay with their owners, inert */
void xvi_pt_msi_detach_all(XenViommuState *s)
{
    XenViommuPtMsi *b, *tmp;

    QLIST_FOREACH_SAFE(b, &s->pt_msis, next, tmp) {
        xvi_pt_unbind(b);
        QLIST_REMOVE(b, next);
        b->s = NULL;
    }
}

/* Public API (include/hw/xen/xen_viommu.h) --------------------------------- */

XenViommuPtMsi *xen_viommu_pt_msi_new(XenViommuState *s, uint16_t sid,
                                      uint32_t pirq, uint64_t gtable)
{
    XenViommuPtMsi *b;

    if (!xvi_pt_usable(s)) {
        return NULL;
    }
    b = g_new0(XenViommuPtMsi, 1);
    b->s = s;
    b->sid = sid;
    b->pirq = pirq;
    b->gtable = gtable;
    QLIST_INSERT_HEAD(&s->pt_msis, b, next);
    return b;
}

int xen_viommu_pt_msi_update(XenViommuPtMsi *b, uint64_t addr, uint32_t data,
                             bool masked)
{
    if (!b->s) {
        return -ENODEV;
    }
    b->have_msg = true;
    b->addr = addr;
    b->data = data;
    b->masked = masked;
    return xvi_pt_apply(b, true);
}

int xen_viommu_pt_msi_free(XenViommuPtMsi *b)
{
    int ret = 0;

    if (!b) {
        return 0;
    }
    if (b->s) {
        ret = xvi_pt_unbind(b);
        QLIST_REMOVE(b, next);
    }
    g_free(b);
    return ret;
}

bool xen_viommu_pt_msi_bound(const XenViommuPtMsi *b)
{
    return b->s && b->bound;
}

int xen_viommu_pt_msi_translate(XenViommuState *s, uint16_t sid,
                                uint64_t addr, uint32_t data,
                                uint64_t *out_addr, uint32_t *out_data)
{
    /* Not an interrupt: nothing is recorded */
    return xvi_ir_remap(s, addr, data, sid, out_addr, out_data, false) ?
        -EINVAL : 0;
}
