/*
 * xen-viommu: hypervisor interface, common part
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The wrappers the device calls.  They check what is about to be sent
 * (Xen decodes some messages in ways that would misdeliver an interrupt),
 * split IR-entry batches, continue preempted PV-IOMMU operations, count
 * every operation per backend and trace it.  Backend-independent: the same
 * code runs in front of the native backend and of the double.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/xen/xen_viommu_hyp.h"

/*
 * The unit test links this file without QEMU's trace objects: only target
 * builds trace.  In a target built without Xen the native backend is not
 * compiled, and its constructor is replaced by one that says so.
 */
#ifdef COMPILING_PER_TARGET
#include "trace.h"
#ifndef CONFIG_XEN
#define XVH_NATIVE_STUB
#endif
#endif

static const char *const xvh_op_names[XEN_VIOMMU_HYP_OP__MAX] = {
    [XEN_VIOMMU_HYP_OP_PROBE] = "probe",
    [XEN_VIOMMU_HYP_OP_INJECT_MSI] = "inject_msi",
    [XEN_VIOMMU_HYP_OP_BIND_PT_MSI] = "bind_pt_msi",
    [XEN_VIOMMU_HYP_OP_UNBIND_PT_MSI] = "unbind_pt_msi",
    [XEN_VIOMMU_HYP_OP_BIND_PT_MSI_EXT] = "bind_pt_msi_ext",
    [XEN_VIOMMU_HYP_OP_UNBIND_PT_MSI_EXT] = "unbind_pt_msi_ext",
    [XEN_VIOMMU_HYP_OP_SET_IR_ENTRIES] = "set_ir_entries",
    [XEN_VIOMMU_HYP_OP_PV_QUERY_CAPS] = "pv_query_caps",
    [XEN_VIOMMU_HYP_OP_PV_INIT] = "pv_init",
    [XEN_VIOMMU_HYP_OP_PV_ALLOC_CONTEXT] = "pv_alloc_context",
    [XEN_VIOMMU_HYP_OP_PV_FREE_CONTEXT] = "pv_free_context",
    [XEN_VIOMMU_HYP_OP_PV_REATTACH_DEVICE] = "pv_reattach_device",
    [XEN_VIOMMU_HYP_OP_PV_MAP_PAGES] = "pv_map_pages",
    [XEN_VIOMMU_HYP_OP_PV_UNMAP_PAGES] = "pv_unmap_pages",
    [XEN_VIOMMU_HYP_OP_PV_MULTICALL] = "pv_multicall",
};

/* MSI address/data fields (compatibility format) */
#define MSI_ADDR_REMAPPABLE     (1ULL << 4)
#define MSI_ADDR_RH             (1ULL << 3)
#define MSI_ADDR_DM             (1ULL << 2)
#define MSI_ADDR_EXT_DEST_MASK  (0x7fULL << 5)      /* Xen's addr[11:5] */
#define MSI_ADDR_DEST_SHIFT     12
#define MSI_ADDR_HI_RSVD_MASK   (0xffULL << 32)     /* addr[39:32] */
#define MSI_ADDR_HI_DEST_SHIFT  40                  /* dest[31:8] */
#define MSI_DATA_VECTOR_MASK    0xffu
#define MSI_DATA_DELIV_SHIFT    8
#define MSI_DATA_TRIGGER        (1u << 15)

/* Largest destination Xen's extended destination ID can carry */
#define XVH_EXT_DEST_MAX        0x7fffu

const char *xen_viommu_hyp_op_name(XenViommuHypOp op)
{
    if (op >= XEN_VIOMMU_HYP_OP__MAX) {
        return "?";
    }
    return xvh_op_names[op];
}

const char *xen_viommu_hyp_backend_name(const XenViommuHyp *h)
{
    return h->ops->name;
}

static XenViommuHypOpStats *xvh_begin(XenViommuHyp *h, XenViommuHypOp op)
{
    XenViommuHypOpStats *st = &h->stats[op];

    st->calls++;
    return st;
}

static int xvh_finish(XenViommuHyp *h, XenViommuHypOp op, int ret)
{
    if (ret < 0) {
        h->stats[op].errors++;
    }
#ifdef COMPILING_PER_TARGET
    trace_xen_viommu_hyp_op(h->ops->name, xen_viommu_hyp_op_name(op), ret);
#endif
    return ret;
}

/* Declined by the wrapper: the hypervisor never sees it */
static int xvh_refuse(XenViommuHyp *h, XenViommuHypOp op, int ret)
{
    h->stats[op].refused++;
#ifdef COMPILING_PER_TARGET
    trace_xen_viommu_hyp_op(h->ops->name, xen_viommu_hyp_op_name(op), ret);
#endif
    return ret;
}

XenViommuHypOpStats xen_viommu_hyp_get_stats(const XenViommuHyp *h,
                                             XenViommuHypOp op)
{
    XenViommuHypOpStats zero = { 0 };

    if (op >= XEN_VIOMMU_HYP_OP__MAX) {
        return zero;
    }
    return h->stats[op];
}

void xen_viommu_hyp_reset_stats(XenViommuHyp *h)
{
    memset(h->stats, 0, sizeof(h->stats));
}

void xen_viommu_hyp_set_deliver(XenViommuHyp *h, XenViommuHypDeliverFn fn,
                                void *opaque)
{
    h->deliver = fn;
    h->deliver_opaque = opaque;
}

const XenViommuHypCaps *xen_viommu_hyp_caps(const XenViommuHyp *h)
{
    return &h->caps;
}

bool xen_viommu_hyp_pv_caps_sane(const XenViommuPvIommuCaps *caps)
{
    /* 4 KiB pages must be there, nothing smaller can be */
    if (!(caps->pgsize_mask & XEN_VIOMMU_IOMMU_PGSIZE) ||
        (caps->pgsize_mask & (XEN_VIOMMU_IOMMU_PGSIZE - 1))) {
        return false;
    }
    if (caps->cap_flags & ~XEN_VIOMMU_IOMMU_CAP_ALL) {
        return false;
    }
    /* A DMA address space of at least 1 MiB, at most VT-d's 57 bits */
    if (caps->max_iova_addr < 0xfffffULL ||
        caps->max_iova_addr >= (1ULL << 57)) {
        return false;
    }
    /* PCIe PASIDs are 20-bit */
    if (caps->max_pasid > (1u << 20)) {
        return false;
    }
    return true;
}

int xen_viommu_hyp_probe(XenViommuHyp *h, XenViommuHypCaps *caps)
{
    XenViommuHypCaps found = { 0 };
    int ret;

    xvh_begin(h, XEN_VIOMMU_HYP_OP_PROBE)->hypercalls++;
    ret = h->ops->probe(h, &found);
    if (ret < 0) {
        memset(&found, 0, sizeof(found));
    }
    if (found.pv_iommu && !xen_viommu_hyp_pv_caps_sane(&found.pv)) {
        found.pv_iommu = false;
    }
    if (!found.pv_iommu) {
        memset(&found.pv, 0, sizeof(found.pv));
    }
    h->caps = found;
    if (caps) {
        *caps = found;
    }
    return xvh_finish(h, XEN_VIOMMU_HYP_OP_PROBE, ret);
}

XenViommuHyp *xen_viommu_hyp_create(const XenViommuHypOps *ops,
                                    void *backend, uint16_t domid)
{
    XenViommuHyp *h = g_new0(XenViommuHyp, 1);

    h->ops = ops;
    h->backend = backend;
    h->domid = domid;
    xen_viommu_hyp_probe(h, NULL);
    return h;
}

void xen_viommu_hyp_free(XenViommuHyp *h)
{
    if (!h) {
        return;
    }
    if (h->ops->destroy) {
        h->ops->destroy(h);
    }
    g_free(h);
}

#ifdef XVH_NATIVE_STUB
XenViommuHyp *xen_viommu_hyp_new_native(uint16_t domid, Error **errp)
{
    error_setg(errp, "xen-viommu: QEMU was built without Xen support, "
               "the native hypervisor interface is not available");
    return NULL;
}
#endif

/* MSI helpers ------------------------------------------------------------- */

/* Destination of a message in QEMU's format */
static uint32_t xvh_msi_dest(uint64_t addr)
{
    return ((addr >> MSI_ADDR_DEST_SHIFT) & 0xff) |
           (uint32_t)((addr >> MSI_ADDR_HI_DEST_SHIFT) << 8);
}

/*
 * Shared checks on a compatibility-format message in QEMU's format: not
 * remappable, not vector 0, nothing in the bits QEMU's format leaves clear.
 */
static bool xvh_msi_compat_ok(uint64_t addr, uint32_t data)
{
    if (addr & MSI_ADDR_REMAPPABLE) {
        return false;
    }
    if (!(data & MSI_DATA_VECTOR_MASK)) {
        return false;
    }
    if (addr & (MSI_ADDR_EXT_DEST_MASK | MSI_ADDR_HI_RSVD_MASK)) {
        return false;
    }
    return true;
}

bool xen_viommu_hyp_pack_gflags(uint32_t dest, bool rh, bool dm,
                                uint8_t delivery, bool level, bool unmasked,
                                uint32_t *gflags)
{
    uint32_t g;

    if (dest > XEN_VIOMMU_GFLAGS_DEST_MASK || delivery > 7) {
        return false;
    }
    g = dest;
    g |= rh ? XEN_VIOMMU_GFLAGS_RH : 0;
    g |= dm ? XEN_VIOMMU_GFLAGS_DM : 0;
    g |= (uint32_t)delivery << XEN_VIOMMU_GFLAGS_DELIV_SHIFT;
    g |= level ? XEN_VIOMMU_GFLAGS_TRIG : 0;
    g |= unmasked ? XEN_VIOMMU_GFLAGS_UNMASKED : 0;
    *gflags = g;
    return true;
}

bool xen_viommu_hyp_msi_to_gflags(uint64_t addr, uint32_t data,
                                  bool unmasked, uint32_t *gvec,
                                  uint32_t *gflags)
{
    if (!xvh_msi_compat_ok(addr, data)) {
        return false;
    }
    if (!xen_viommu_hyp_pack_gflags(xvh_msi_dest(addr),
                                    addr & MSI_ADDR_RH, addr & MSI_ADDR_DM,
                                    (data >> MSI_DATA_DELIV_SHIFT) & 7,
                                    data & MSI_DATA_TRIGGER, unmasked,
                                    gflags)) {
        return false;
    }
    *gvec = data & MSI_DATA_VECTOR_MASK;
    return true;
}

/* Interrupts --------------------------------------------------------------- */

int xen_viommu_hyp_inject_msi(XenViommuHyp *h, uint64_t addr, uint32_t data)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_INJECT_MSI;
    XenViommuHypOpStats *st = xvh_begin(h, op);
    uint32_t dest;
    uint64_t xen_addr;

    if (!xvh_msi_compat_ok(addr, data)) {
        return xvh_refuse(h, op, -EINVAL);
    }
    dest = xvh_msi_dest(addr);
    /* What Xen decodes: the low 32 bits, dest[14:8] in addr[11:5] */
    xen_addr = addr & 0xffffffffULL;
    if (dest > 0xff) {
        if (!h->caps.ext_dest_id || dest > XVH_EXT_DEST_MAX) {
            return xvh_refuse(h, op, -EINVAL);
        }
        xen_addr |= (uint64_t)(dest >> 8) << 5;
    }
    st->hypercalls++;
    return xvh_finish(h, op, h->ops->inject_msi(h, xen_addr, data));
}

/*
 * Xen's PIRQ encoding of an MSI: compatibility format, vector 0, the PIRQ
 * in the destination bits (and addr[63:40]).  Linux programs its devices'
 * MSIs so when Xen offers XENFEAT_hvm_pirqs; Xen's hvm_inject_msi then
 * raises the PIRQ's event channel.
 */
static bool xvh_msi_is_pirq(uint64_t addr, uint32_t data)
{
    return !(addr & MSI_ADDR_REMAPPABLE) && !(data & MSI_DATA_VECTOR_MASK);
}

/* The PIRQ such a message names, as hvm_inject_msi reads it */
static uint32_t xvh_msi_pirq(uint64_t addr)
{
    return ((addr >> 32) & 0xffffff00) |
           ((addr >> MSI_ADDR_DEST_SHIFT) & 0xff);
}

int xen_viommu_hyp_inject_untranslated_msi(XenViommuHyp *h, uint64_t addr,
                                           uint32_t data)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_INJECT_MSI;
    XenViommuHypOpStats *st;

    if (!xvh_msi_is_pirq(addr, data)) {
        return xen_viommu_hyp_inject_msi(h, addr, data);
    }
    /*
     * The guest's own message to Xen, which the unit passed on as it is:
     * Xen gets it exactly as it would from QEMU without the unit.  A PIRQ
     * of 0 is no PIRQ (Xen answers -ERANGE); keep it from Xen like any
     * other vector-0 message.
     */
    st = xvh_begin(h, op);
    if (!xvh_msi_pirq(addr)) {
        return xvh_refuse(h, op, -EINVAL);
    }
    st->hypercalls++;
    st->items++;
    return xvh_finish(h, op, h->ops->inject_msi(h, addr, data));
}

int xen_viommu_hyp_bind_pt_msi(XenViommuHyp *h, uint32_t gvec, uint32_t pirq,
                               uint32_t gflags, uint64_t gtable)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_BIND_PT_MSI;
    XenViommuHypOpStats *st = xvh_begin(h, op);

    if (gvec == 0 || gvec > 0xff || (gflags & ~XEN_VIOMMU_GFLAGS_ALL)) {
        return xvh_refuse(h, op, -EINVAL);
    }
    st->hypercalls++;
    return xvh_finish(h, op, h->ops->bind_pt_msi(h, gvec, pirq, gflags,
                                                 gtable));
}

int xen_viommu_hyp_unbind_pt_msi(XenViommuHyp *h, uint32_t gvec,
                                 uint32_t pirq, uint32_t gflags)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_UNBIND_PT_MSI;
    XenViommuHypOpStats *st = xvh_begin(h, op);

    if (gvec > 0xff || (gflags & ~XEN_VIOMMU_GFLAGS_ALL)) {
        return xvh_refuse(h, op, -EINVAL);
    }
    st->hypercalls++;
    return xvh_finish(h, op, h->ops->unbind_pt_msi(h, gvec, pirq, gflags));
}

int xen_viommu_hyp_bind_pt_msi_ext(XenViommuHyp *h, uint32_t machine_irq,
                                   uint64_t addr, uint32_t data,
                                   uint32_t flags, uint64_t gtable)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_BIND_PT_MSI_EXT;
    XenViommuHypOpStats *st = xvh_begin(h, op);

    if (!xvh_msi_compat_ok(addr, data) ||
        (flags & ~XEN_VIOMMU_DMOP_MSI_FLAG_UNMASKED)) {
        return xvh_refuse(h, op, -EINVAL);
    }
    st->hypercalls++;
    return xvh_finish(h, op, h->ops->bind_pt_msi_ext(h, machine_irq, addr,
                                                     data, flags, gtable));
}

int xen_viommu_hyp_unbind_pt_msi_ext(XenViommuHyp *h, uint32_t machine_irq)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_UNBIND_PT_MSI_EXT;

    xvh_begin(h, op)->hypercalls++;
    return xvh_finish(h, op, h->ops->unbind_pt_msi_ext(h, machine_irq));
}

int xen_viommu_hyp_set_ir_entries(XenViommuHyp *h, uint32_t first,
                                  uint32_t nr, uint32_t flags,
                                  uint16_t ioapic_sid,
                                  const XenViommuHypIrEntry *entries)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_SET_IR_ENTRIES;
    XenViommuHypOpStats *st = xvh_begin(h, op);
    uint32_t done = 0;
    int ret;

    if ((flags & ~XEN_VIOMMU_IR_FLAGS_ALL) ||
        ((flags & XEN_VIOMMU_IR_ENABLE) && (flags & XEN_VIOMMU_IR_DISABLE)) ||
        ((flags & XEN_VIOMMU_IR_DISABLE) && nr) ||
        (uint64_t)first + nr > XEN_VIOMMU_IR_MAX_ENTRIES ||
        (nr && !entries)) {
        return xvh_refuse(h, op, -EINVAL);
    }
    do {
        uint32_t n = MIN(nr - done, (uint32_t)XEN_VIOMMU_IR_MAX_BATCH);
        uint32_t f = done ? flags & ~XEN_VIOMMU_IR_CLEAR : flags;

        st->hypercalls++;
        ret = h->ops->set_ir_entries(h, first + done, n, f, ioapic_sid,
                                     nr ? entries + done : NULL);
        if (ret < 0) {
            break;
        }
        done += n;
        st->items += n;
    } while (done < nr);
    return xvh_finish(h, op, ret < 0 ? ret : 0);
}

/* PV-IOMMU ----------------------------------------------------------------- */

int xen_viommu_hyp_pv_query_caps(XenViommuHyp *h, XenViommuPvIommuCaps *caps)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_PV_QUERY_CAPS;

    xvh_begin(h, op)->hypercalls++;
    return xvh_finish(h, op, h->ops->pv_query_caps(h, caps));
}

int xen_viommu_hyp_pv_init(XenViommuHyp *h, uint32_t max_ctx_no,
                           uint32_t arena_order)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_PV_INIT;

    xvh_begin(h, op)->hypercalls++;
    return xvh_finish(h, op, h->ops->pv_init(h, max_ctx_no, arena_order));
}

int xen_viommu_hyp_pv_alloc_context(XenViommuHyp *h, uint32_t alloc_flags,
                                    uint16_t *ctx_no)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_PV_ALLOC_CONTEXT;

    xvh_begin(h, op)->hypercalls++;
    return xvh_finish(h, op, h->ops->pv_alloc_context(h, alloc_flags,
                                                      ctx_no));
}

int xen_viommu_hyp_pv_free_context(XenViommuHyp *h, uint16_t ctx_no,
                                   uint32_t free_flags)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_PV_FREE_CONTEXT;

    xvh_begin(h, op)->hypercalls++;
    return xvh_finish(h, op, h->ops->pv_free_context(h, ctx_no, free_flags));
}

int xen_viommu_hyp_pv_reattach_device(XenViommuHyp *h, uint16_t ctx_no,
                                      uint32_t sbdf)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_PV_REATTACH_DEVICE;

    xvh_begin(h, op)->hypercalls++;
    return xvh_finish(h, op, h->ops->pv_reattach_device(h, ctx_no, sbdf, 0));
}

/*
 * Re-issue a preempted operation until it completes.  @invoke performs one
 * invocation on @arg and returns its result; @left points at the pages
 * still to do and @done_now at the pages done by the last invocation, both
 * inside @arg.
 */
typedef int (*XvhInvokeFn)(XenViommuHyp *h, void *arg);

static int xvh_run_restartable(XenViommuHyp *h, XenViommuHypOpStats *st,
                               XvhInvokeFn invoke, void *arg,
                               uint32_t *left, uint32_t *done_now,
                               uint32_t *done)
{
    const uint32_t want = *left;
    unsigned stalled = 0;
    uint32_t before, total;
    int ret;

    for (;;) {
        before = MIN(*left, want);
        *done_now = 0;
        st->hypercalls++;
        ret = invoke(h, arg);
        if (ret != -XEN_VIOMMU_ERESTART) {
            break;
        }
        if (*left < before) {
            stalled = 0;
        } else if (++stalled >= XEN_VIOMMU_HYP_MAX_STALLED_RESTARTS) {
            ret = -EIO;
            break;
        }
    }
    /*
     * Restarts are accounted by how far the hypervisor advanced the
     * fields, the last invocation by what it reports done.
     */
    total = (want - before) + MIN(*done_now, before);
    st->items += total;
    if (done) {
        *done = total;
    }
    return ret;
}

static int xvh_invoke_map(XenViommuHyp *h, void *arg)
{
    return h->ops->pv_map_pages(h, arg);
}

static int xvh_invoke_unmap(XenViommuHyp *h, void *arg)
{
    return h->ops->pv_unmap_pages(h, arg);
}

int xen_viommu_hyp_pv_map_pages(XenViommuHyp *h, uint16_t ctx_no,
                                uint64_t gfn, uint64_t dfn, uint32_t nr_pages,
                                uint32_t map_flags, uint32_t *done)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_PV_MAP_PAGES;
    XenViommuHypOpStats *st = xvh_begin(h, op);
    XenViommuPvMapPages m = {
        .ctx_no = ctx_no,
        .gfn = gfn,
        .dfn = dfn,
        .map_flags = map_flags,
        .pgsize = XEN_VIOMMU_IOMMU_PGSIZE,
        .nr_pages = nr_pages,
    };
    int ret;

    ret = xvh_run_restartable(h, st, xvh_invoke_map, &m, &m.nr_pages,
                              &m.mapped, done);
    return xvh_finish(h, op, ret);
}

/* @op on its own, continued through preemption: a call of its wrapper */
static void xvh_page_op_one(XenViommuHyp *h, uint16_t ctx_no,
                            XenViommuPvPageOp *op)
{
    if (op->unmap) {
        op->ret = xen_viommu_hyp_pv_unmap_pages(h, ctx_no, op->dfn,
                                                op->nr_pages, &op->done);
    } else {
        op->ret = xen_viommu_hyp_pv_map_pages(h, ctx_no, op->gfn, op->dfn,
                                              op->nr_pages, op->map_flags,
                                              &op->done);
    }
}

/*
 * A preempted entry: the hypervisor advanced its fields past the pages it
 * did; the rest is done on its own.
 */
static void xvh_page_op_continue(XenViommuHyp *h, XenViommuPvBatchEntry *e,
                                 XenViommuPvPageOp *op)
{
    XenViommuHypOpStats *st;
    uint32_t *left, *done_now, more = 0;
    XvhInvokeFn invoke;
    void *arg;

    if (op->unmap) {
        st = &h->stats[XEN_VIOMMU_HYP_OP_PV_UNMAP_PAGES];
        invoke = xvh_invoke_unmap;
        arg = &e->unmap_op;
        left = &e->unmap_op.nr_pages;
        done_now = &e->unmap_op.unmapped;
    } else {
        st = &h->stats[XEN_VIOMMU_HYP_OP_PV_MAP_PAGES];
        invoke = xvh_invoke_map;
        arg = &e->map;
        left = &e->map.nr_pages;
        done_now = &e->map.mapped;
    }
    op->done = op->nr_pages - MIN(*left, op->nr_pages);
    st->items += op->done;
    op->ret = xvh_run_restartable(h, st, invoke, arg, left, done_now, &more);
    op->done += more;
}

/* @n ops in one multicall */
static void xvh_page_ops_multi(XenViommuHyp *h, XenViommuHypOpStats *mst,
                               uint16_t ctx_no, XenViommuPvPageOp *ops,
                               unsigned n)
{
    g_autofree XenViommuPvBatchEntry *e = g_new0(XenViommuPvBatchEntry, n);
    unsigned i;
    int ret;

    for (i = 0; i < n; i++) {
        e[i].unmap = ops[i].unmap;
        e[i].map = (XenViommuPvMapPages) {
            .ctx_no = ctx_no, .gfn = ops[i].gfn, .dfn = ops[i].dfn,
            .map_flags = ops[i].map_flags,
            .pgsize = XEN_VIOMMU_IOMMU_PGSIZE, .nr_pages = ops[i].nr_pages,
        };
        e[i].unmap_op = (XenViommuPvUnmapPages) {
            .ctx_no = ctx_no, .dfn = ops[i].dfn,
            .pgsize = XEN_VIOMMU_IOMMU_PGSIZE, .nr_pages = ops[i].nr_pages,
        };
    }
    mst->hypercalls++;
    mst->items += n;
    ret = h->ops->pv_multi(h, e, n);
    for (i = 0; i < n; i++) {
        XenViommuPvPageOp *op = &ops[i];

        if (ret < 0) {
            /* The multicall itself failed, so none of it ran: one by one */
            xvh_page_op_one(h, ctx_no, op);
        } else if (e[i].ret == -XEN_VIOMMU_ERESTART) {
            xvh_page_op_continue(h, &e[i], op);
        } else {
            op->done = MIN(op->unmap ? e[i].unmap_op.unmapped :
                           e[i].map.mapped, op->nr_pages);
            op->ret = e[i].ret;
            h->stats[op->unmap ? XEN_VIOMMU_HYP_OP_PV_UNMAP_PAGES :
                     XEN_VIOMMU_HYP_OP_PV_MAP_PAGES].items += op->done;
        }
    }
}

int xen_viommu_hyp_pv_batch(XenViommuHyp *h, uint16_t ctx_no,
                            XenViommuPvPageOp *ops, unsigned n)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_PV_MULTICALL;
    XenViommuHypOpStats *st = xvh_begin(h, op);
    unsigned i, k;
    int ret = 0;

    for (i = 0; i < n; i += k) {
        k = MIN(n - i, (unsigned)XEN_VIOMMU_PV_MULTI_MAX);
        if (h->ops->pv_multi && k > 1) {
            xvh_page_ops_multi(h, st, ctx_no, ops + i, k);
        } else {
            k = 1;
            xvh_page_op_one(h, ctx_no, &ops[i]);
        }
    }
    for (i = 0; i < n; i++) {
        if (ops[i].ret < 0) {
            ret = ops[i].ret;
            break;
        }
    }
    return xvh_finish(h, op, ret);
}

int xen_viommu_hyp_pv_unmap_pages(XenViommuHyp *h, uint16_t ctx_no,
                                  uint64_t dfn, uint32_t nr_pages,
                                  uint32_t *done)
{
    const XenViommuHypOp op = XEN_VIOMMU_HYP_OP_PV_UNMAP_PAGES;
    XenViommuHypOpStats *st = xvh_begin(h, op);
    XenViommuPvUnmapPages u = {
        .ctx_no = ctx_no,
        .dfn = dfn,
        .pgsize = XEN_VIOMMU_IOMMU_PGSIZE,
        .nr_pages = nr_pages,
    };
    int ret;

    ret = xvh_run_restartable(h, st, xvh_invoke_unmap, &u, &u.nr_pages,
                              &u.unmapped, done);
    return xvh_finish(h, op, ret);
}
