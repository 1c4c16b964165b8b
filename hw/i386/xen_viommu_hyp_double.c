/*
 * xen-viommu: hypervisor double
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Stands in for Xen when none runs (TCG, tests).  Implements each op with
 * the semantics Xen documents for it, including the parts that make the
 * device's job hard: inject_msi decodes like hvm_inject_msi (8-bit
 * destination, vector 0 = PIRQ, remappable bit and addr_hi ignored),
 * passthrough bindings keep gvec/gflags, PV-IOMMU preempts every 256 pages.
 * Interrupts reach QEMU through the instance's deliver callback.  Never the
 * production path.
 */

#include "qemu/osdep.h"
#include "hw/xen/xen_viommu_hyp.h"

#define XVH_PAGE_SHIFT          12
#define XVH_DOUBLE_DOMID        1
#define XVH_DOUBLE_IOVA_BITS    48

typedef struct XvhDoublePt {
    bool ext;                   /* bound with bind_pt_msi_ext */
    uint32_t gvec;
    uint32_t gflags;
    uint64_t addr;              /* ext: QEMU-format message */
    uint32_t data;
    uint32_t flags;
    uint64_t gtable;
} XvhDoublePt;

typedef struct XvhDoubleCtx {
    bool identity;
    GHashTable *map;            /* dfn -> gfn | flags, both uint64_t * */
} XvhDoubleCtx;

/* A context's map value: the gfn, the XEN_VIOMMU_IOMMU_MAP_* bits above */
#define XVH_MAP_FLAGS_SHIFT     60
#define XVH_MAP_GFN_MASK        ((1ULL << XVH_MAP_FLAGS_SHIFT) - 1)

typedef struct XvhDoubleDev {
    uint32_t sbdf;
    uint16_t ctx_no;
} XvhDoubleDev;

typedef struct XvhDouble {
    XenViommuHypDoubleConfig cfg;
    XenViommuHypDoubleStats st;

    GHashTable *pt;             /* pirq -> XvhDoublePt */

    XenViommuHypIrEntry *ir;    /* XEN_VIOMMU_IR_MAX_ENTRIES, lazily */

    uint32_t pv_max_ctx;
    uint64_t pv_pool;           /* pages the pool holds */
    XvhDoubleCtx **ctx;         /* [1..pv_max_ctx]; NULL = free */
    XvhDoubleDev *devs;
} XvhDouble;

static const XenViommuHypOps xvh_double_ops;

static XvhDouble *xvh_double(XenViommuHyp *h)
{
    return h->ops == &xvh_double_ops ? h->backend : NULL;
}

static uint64_t xvh_ram_pages(XvhDouble *d)
{
    return d->cfg.ram_size >> XVH_PAGE_SHIFT;
}

/* Deliver in QEMU's compatibility format */
static void xvh_double_deliver(XenViommuHyp *h, uint32_t dest, bool dm,
                               bool rh, uint8_t delivery, bool level,
                               uint8_t vector)
{
    uint64_t addr = 0xfee00000ULL | ((uint64_t)(dest & 0xff) << 12) |
                    ((uint64_t)(dest >> 8) << 40) | (rh ? 1 << 3 : 0) |
                    (dm ? 1 << 2 : 0);
    uint32_t data = vector | ((uint32_t)(delivery & 7) << 8) | (1u << 14) |
                    (level ? 1u << 15 : 0);

    if (h->deliver) {
        h->deliver(h->deliver_opaque, addr, data);
    }
}

static bool xvh_delivery_valid(uint8_t delivery)
{
    return delivery <= 7 && delivery != 3 && delivery != 6;
}

static XvhDoublePt *xvh_double_pt_get(XvhDouble *d, uint32_t pirq)
{
    return g_hash_table_lookup(d->pt, GUINT_TO_POINTER(pirq));
}

/*
 * Vector 0: Xen's PIRQ path of hvm_inject_msi.  Xen maps the PIRQ as an
 * emulated MSI the first time it sees it (map_domain_emuirq_pirq) and
 * raises it as an event (send_guest_pirq): counted in msi_pirq, the double
 * has no event channels.  A PIRQ Xen holds for something else (here: a
 * passthrough binding) is -EINVAL; PIRQ 0 is -ERANGE.
 */
static int xvh_double_msi_pirq(XvhDouble *d, uint32_t pirq)
{
    if (!pirq) {
        return -ERANGE;
    }
    if (xvh_double_pt_get(d, pirq)) {
        return -EINVAL;
    }
    d->st.msi_pirq++;
    return 0;
}

/*
 * A compatibility-format message as Xen's vmsi_deliver takes it: the
 * destination from addr[19:12] (plus addr[11:5] as bits 14:8 when the
 * extended destination ID is on), DM addr[2]; RH, the remappable bit and
 * addr[63:32] are not looked at.  Vector 0 is illegal.
 */
static int xvh_double_xen_msi(XenViommuHyp *h, uint64_t addr, uint32_t data)
{
    XvhDouble *d = xvh_double(h);
    uint8_t vector = data & 0xff;
    uint8_t delivery = (data >> 8) & 7;
    uint32_t dest = (addr >> 12) & 0xff;

    if (!vector || !xvh_delivery_valid(delivery)) {
        return -EINVAL;
    }
    if (d->cfg.ext_dest_id) {
        dest |= ((addr >> 5) & 0x7f) << 8;
    }
    xvh_double_deliver(h, dest, addr & (1 << 2), false, delivery,
                       data & (1u << 15), vector);
    return 0;
}

static int xvh_double_inject_msi(XenViommuHyp *h, uint64_t addr,
                                 uint32_t data)
{
    uint32_t pirq = ((addr >> 32) & 0xffffff00) | ((addr >> 12) & 0xff);
    int ret;

    /* hvm_inject_msi: vector 0 is a PIRQ, whatever else the message says */
    if (!(data & 0xff)) {
        return xvh_double_msi_pirq(xvh_double(h), pirq);
    }
    ret = xvh_double_xen_msi(h, addr, data);
    if (!ret) {
        xvh_double(h)->st.msi_delivered++;
    }
    return ret;
}

/* Passthrough MSI ------------------------------------------------------- */


static void xvh_double_pt_put(XvhDouble *d, uint32_t pirq,
                              const XvhDoublePt *b)
{
    g_hash_table_insert(d->pt, GUINT_TO_POINTER(pirq), g_memdup2(b,
                                                                 sizeof(*b)));
}

static int xvh_double_bind_pt_msi(XenViommuHyp *h, uint32_t gvec,
                                  uint32_t pirq, uint32_t gflags,
                                  uint64_t gtable)
{
    XvhDouble *d = xvh_double(h);
    XvhDoublePt *old = xvh_double_pt_get(d, pirq);
    XvhDoublePt b = { .gvec = gvec, .gflags = gflags, .gtable = gtable };

    if (gvec > 0xff || (gflags & ~XEN_VIOMMU_GFLAGS_ALL)) {
        return -EINVAL;
    }
    if (old && old->ext) {
        return -EBUSY;
    }
    /* Binding a bound pirq updates it, as xc_domain_update_msi_irq does */
    xvh_double_pt_put(d, pirq, &b);
    return 0;
}

static int xvh_double_unbind_pt_msi(XenViommuHyp *h, uint32_t gvec,
                                    uint32_t pirq, uint32_t gflags)
{
    XvhDouble *d = xvh_double(h);
    XvhDoublePt *b = xvh_double_pt_get(d, pirq);

    /* Xen compares the binding without the unmasked flag */
    if (!b || b->ext || b->gvec != gvec ||
        (b->gflags & ~XEN_VIOMMU_GFLAGS_UNMASKED) !=
        (gflags & ~XEN_VIOMMU_GFLAGS_UNMASKED)) {
        return -EINVAL;
    }
    g_hash_table_remove(d->pt, GUINT_TO_POINTER(pirq));
    return 0;
}

static int xvh_double_bind_pt_msi_ext(XenViommuHyp *h, uint32_t machine_irq,
                                      uint64_t addr, uint32_t data,
                                      uint32_t flags, uint64_t gtable)
{
    XvhDouble *d = xvh_double(h);
    XvhDoublePt *old = xvh_double_pt_get(d, machine_irq);
    XvhDoublePt b = {
        .ext = true, .addr = addr, .data = data, .flags = flags,
        .gtable = gtable,
    };

    if (!d->cfg.pt_msi_bind_ext) {
        return -EOPNOTSUPP;
    }
    if ((flags & ~XEN_VIOMMU_DMOP_MSI_FLAG_UNMASKED) || !(data & 0xff) ||
        !xvh_delivery_valid((data >> 8) & 7)) {
        return -EINVAL;
    }
    if (old && !old->ext) {
        return -EBUSY;
    }
    xvh_double_pt_put(d, machine_irq, &b);
    return 0;
}

static int xvh_double_unbind_pt_msi_ext(XenViommuHyp *h, uint32_t machine_irq)
{
    XvhDouble *d = xvh_double(h);
    XvhDoublePt *b = xvh_double_pt_get(d, machine_irq);

    if (!d->cfg.pt_msi_bind_ext) {
        return -EOPNOTSUPP;
    }
    if (!b || !b->ext) {
        return -ENOENT;
    }
    g_hash_table_remove(d->pt, GUINT_TO_POINTER(machine_irq));
    return 0;
}

int xen_viommu_hyp_double_fire_pirq(XenViommuHyp *h, uint32_t pirq)
{
    XvhDouble *d = xvh_double(h);
    XvhDoublePt *b;

    if (!d) {
        return -ENOTSUP;
    }
    b = xvh_double_pt_get(d, pirq);
    if (!b) {
        return -ENOENT;
    }
    if (b->ext) {
        /* The proposal's 32-bit destination, in QEMU's format */
        xvh_double_deliver(h, ((b->addr >> 12) & 0xff) |
                           (uint32_t)((b->addr >> 40) << 8),
                           b->addr & (1 << 2), b->addr & (1 << 3),
                           (b->data >> 8) & 7, b->data & (1u << 15),
                           b->data & 0xff);
    } else {
        /* gflags carry an 8-bit destination */
        xvh_double_deliver(h, b->gflags & XEN_VIOMMU_GFLAGS_DEST_MASK,
                           b->gflags & XEN_VIOMMU_GFLAGS_DM,
                           b->gflags & XEN_VIOMMU_GFLAGS_RH,
                           (b->gflags & XEN_VIOMMU_GFLAGS_DELIV_MASK) >>
                           XEN_VIOMMU_GFLAGS_DELIV_SHIFT,
                           b->gflags & XEN_VIOMMU_GFLAGS_TRIG, b->gvec);
    }
    d->st.pirq_delivered++;
    return 0;
}

/* IR entries -------------------------------------------------------------- */

static void xvh_double_ir_clear(XvhDouble *d)
{
    if (d->ir) {
        memset(d->ir, 0, sizeof(*d->ir) * XEN_VIOMMU_IR_MAX_ENTRIES);
    }
    d->st.ir_present = 0;
}

static int xvh_double_set_ir_entries(XenViommuHyp *h, uint32_t first,
                                     uint32_t nr, uint32_t flags,
                                     uint16_t ioapic_sid,
                                     const XenViommuHypIrEntry *entries)
{
    XvhDouble *d = xvh_double(h);
    uint32_t i;

    if (!d->cfg.ir_entries) {
        return -EOPNOTSUPP;
    }
    if (nr > XEN_VIOMMU_IR_MAX_BATCH) {
        return -E2BIG;
    }
    if ((flags & ~XEN_VIOMMU_IR_FLAGS_ALL) ||
        ((flags & XEN_VIOMMU_IR_ENABLE) && (flags & XEN_VIOMMU_IR_DISABLE)) ||
        ((flags & XEN_VIOMMU_IR_DISABLE) && nr) ||
        (uint64_t)first + nr > XEN_VIOMMU_IR_MAX_ENTRIES ||
        (nr && !entries)) {
        return -EINVAL;
    }
    /* All or nothing: check the whole batch first */
    for (i = 0; i < nr; i++) {
        const XenViommuHypIrEntry *e = &entries[i];

        if (e->present &&
            (!xvh_delivery_valid(e->delivery) || e->svt > 2 || e->sq > 3)) {
            return -EINVAL;
        }
    }
    if (flags & (XEN_VIOMMU_IR_CLEAR | XEN_VIOMMU_IR_DISABLE)) {
        xvh_double_ir_clear(d);
    }
    if (nr && !d->ir) {
        d->ir = g_new0(XenViommuHypIrEntry, XEN_VIOMMU_IR_MAX_ENTRIES);
    }
    for (i = 0; i < nr; i++) {
        XenViommuHypIrEntry *slot = &d->ir[first + i];

        d->st.ir_present -= slot->present;
        if (entries[i].present) {
            *slot = entries[i];
            d->st.ir_present++;
        } else {
            memset(slot, 0, sizeof(*slot));
        }
    }
    if (flags & XEN_VIOMMU_IR_ENABLE) {
        d->st.ir_enabled = true;
        d->st.ir_block_compat = flags & XEN_VIOMMU_IR_BLOCK_COMPAT;
        d->st.ir_ioapic_sid = ioapic_sid;
    } else if (flags & XEN_VIOMMU_IR_DISABLE) {
        d->st.ir_enabled = false;
        d->st.ir_block_compat = false;
    }
    return 0;
}

/* VT-d source-id verification (SVT/SQ/SID) */
static bool xvh_double_sid_ok(const XenViommuHypIrEntry *e, uint16_t sid)
{
    static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
    uint16_t mask = sq_mask[e->sq & 3];

    switch (e->svt) {
    case 0:
        return true;
    case 1:
        return !((sid ^ e->sid) & mask);
    case 2:
        return (sid >> 8) >= (e->sid >> 8) && (sid >> 8) <= (e->sid & 0xff);
    default:
        return false;
    }
}

int xen_viommu_hyp_double_ioapic_msi(XenViommuHyp *h, uint64_t addr,
                                     uint32_t data)
{
    XvhDouble *d = xvh_double(h);
    const XenViommuHypIrEntry *e;
    uint32_t index;
    int ret;

    if (!d) {
        return -ENOTSUP;
    }
    if (!(addr & (1 << 4))) {
        /* Compatibility format: the vIOAPIC's behaviour of today */
        if (d->st.ir_enabled && d->st.ir_block_compat) {
            d->st.ioapic_blocked++;
            return -EPERM;
        }
        ret = xvh_double_xen_msi(h, addr, data);
        if (ret) {
            d->st.ioapic_blocked++;
        } else {
            d->st.ioapic_delivered++;
        }
        return ret;
    }
    if (!d->st.ir_enabled || !d->ir) {
        d->st.ioapic_blocked++;
        return -ENODEV;
    }
    index = ((addr >> 5) & 0x7fff) | (((addr >> 2) & 1) << 15);
    if (addr & (1 << 3)) {
        index += data & 0xffff;
    }
    if (index >= XEN_VIOMMU_IR_MAX_ENTRIES) {
        d->st.ioapic_blocked++;
        return -EINVAL;
    }
    e = &d->ir[index];
    if (!e->present) {
        d->st.ioapic_blocked++;
        return -ENOENT;
    }
    if (!xvh_double_sid_ok(e, d->st.ir_ioapic_sid)) {
        d->st.ioapic_blocked++;
        return -EPERM;
    }
    xvh_double_deliver(h, e->dest, e->dest_logical, e->redir_hint,
                       e->delivery, e->level, e->vector);
    d->st.ioapic_delivered++;
    return 0;
}

/* PV-IOMMU ---------------------------------------------------------------- */

static XvhDoubleCtx *xvh_double_ctx(XvhDouble *d, uint16_t ctx_no)
{
    if (!d->ctx || ctx_no == XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT ||
        ctx_no > d->pv_max_ctx) {
        return NULL;
    }
    return d->ctx[ctx_no];
}

static XvhDoubleDev *xvh_double_dev(XvhDouble *d, uint32_t sbdf)
{
    unsigned i;

    for (i = 0; i < d->cfg.nr_sbdfs; i++) {
        if (d->devs[i].sbdf == sbdf) {
            return &d->devs[i];
        }
    }
    return NULL;
}

/* -ENOSYS as upstream without PV-IOMMU, -EINVAL before init */
static int xvh_double_pv_check(XvhDouble *d, bool need_init)
{
    if (!d->cfg.pv_iommu) {
        return -ENOSYS;
    }
    if (need_init && !d->st.pv_initialised) {
        return -EINVAL;
    }
    return 0;
}

static int xvh_double_pv_query_caps(XenViommuHyp *h,
                                    XenViommuPvIommuCaps *caps)
{
    XvhDouble *d = xvh_double(h);
    int ret = xvh_double_pv_check(d, false);

    if (ret) {
        return ret;
    }
    caps->max_iova_addr = (1ULL << XVH_DOUBLE_IOVA_BITS) - 1;
    caps->cap_flags = XEN_VIOMMU_IOMMU_CAP_DEFAULT_IDENTITY |
                      XEN_VIOMMU_IOMMU_CAP_IDENTITY;
    caps->pgsize_mask = XEN_VIOMMU_IOMMU_PGSIZE;
    caps->max_pasid = 0;
    caps->max_ctx_no = d->st.pv_initialised ? d->pv_max_ctx :
                       d->cfg.pv_max_ctx;
    return 0;
}

static int xvh_double_pv_init(XenViommuHyp *h, uint32_t max_ctx_no,
                              uint32_t arena_order)
{
    XvhDouble *d = xvh_double(h);
    int ret = xvh_double_pv_check(d, false);

    if (ret) {
        return ret;
    }
    if (d->st.pv_initialised) {
        return -EEXIST;
    }
    /* The toolstack's limits (the configuration) are enforced */
    if (max_ctx_no > d->cfg.pv_max_ctx || arena_order >= 32) {
        return -EINVAL;
    }
    d->pv_max_ctx = max_ctx_no;
    d->pv_pool = MIN(1ULL << arena_order, (uint64_t)d->cfg.pv_pool_pages);
    d->ctx = g_new0(XvhDoubleCtx *, max_ctx_no + 1);
    d->st.pv_initialised = true;
    return 0;
}

static int xvh_double_pv_alloc_context(XenViommuHyp *h, uint32_t alloc_flags,
                                       uint16_t *ctx_no)
{
    XvhDouble *d = xvh_double(h);
    int ret = xvh_double_pv_check(d, true);
    uint32_t i;

    if (ret) {
        return ret;
    }
    if (alloc_flags & ~XEN_VIOMMU_IOMMU_ALLOC_IDENTITY) {
        return -EINVAL;
    }
    for (i = 1; i <= d->pv_max_ctx; i++) {
        if (!d->ctx[i]) {
            XvhDoubleCtx *c = g_new0(XvhDoubleCtx, 1);

            c->identity = alloc_flags & XEN_VIOMMU_IOMMU_ALLOC_IDENTITY;
            c->map = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                           g_free, g_free);
            d->ctx[i] = c;
            d->st.pv_contexts++;
            *ctx_no = i;
            return 0;
        }
    }
    return -ENOSPC;
}

static void xvh_double_ctx_destroy(XvhDouble *d, XvhDoubleCtx *c)
{
    uint32_t n = g_hash_table_size(c->map);

    d->st.pv_mappings -= n;
    g_hash_table_destroy(c->map);
    g_free(c);
}

static int xvh_double_pv_free_context(XenViommuHyp *h, uint16_t ctx_no,
                                      uint32_t free_flags)
{
    XvhDouble *d = xvh_double(h);
    int ret = xvh_double_pv_check(d, true);
    XvhDoubleCtx *c;
    unsigned i, attached = 0;

    if (ret) {
        return ret;
    }
    if (ctx_no == XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT ||
        (free_flags & ~XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT)) {
        return -EINVAL;
    }
    c = xvh_double_ctx(d, ctx_no);
    if (!c) {
        return -ENOENT;
    }
    for (i = 0; i < d->cfg.nr_sbdfs; i++) {
        attached += d->devs[i].ctx_no == ctx_no;
    }
    if (attached && !(free_flags & XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT)) {
        return -EBUSY;
    }
    for (i = 0; i < d->cfg.nr_sbdfs; i++) {
        if (d->devs[i].ctx_no == ctx_no) {
            d->devs[i].ctx_no = XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT;
            d->st.pv_attached--;
        }
    }
    xvh_double_ctx_destroy(d, c);
    d->ctx[ctx_no] = NULL;
    d->st.pv_contexts--;
    return 0;
}

static int xvh_double_pv_reattach_device(XenViommuHyp *h, uint16_t ctx_no,
                                         uint32_t sbdf, uint32_t pasid)
{
    XvhDouble *d = xvh_double(h);
    int ret = xvh_double_pv_check(d, true);
    XvhDoubleDev *dev;

    if (ret) {
        return ret;
    }
    if (pasid) {
        return -EOPNOTSUPP;
    }
    dev = xvh_double_dev(d, sbdf);
    if (!dev) {
        return -ENODEV;
    }
    if (ctx_no != XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT &&
        !xvh_double_ctx(d, ctx_no)) {
        return -ENOENT;
    }
    d->st.pv_attached -= dev->ctx_no != XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT;
    d->st.pv_attached += ctx_no != XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT;
    dev->ctx_no = ctx_no;
    return 0;
}

/* A context map/unmap may change: allocated, not identity, 4 KiB pages */
static int xvh_double_pv_target(XvhDouble *d, uint16_t ctx_no,
                                uint32_t pgsize, XvhDoubleCtx **out)
{
    int ret = xvh_double_pv_check(d, true);
    XvhDoubleCtx *c;

    if (ret) {
        return ret;
    }
    if (ctx_no == XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT ||
        pgsize != XEN_VIOMMU_IOMMU_PGSIZE) {
        return -EINVAL;
    }
    c = xvh_double_ctx(d, ctx_no);
    if (!c) {
        return -ENOENT;
    }
    if (c->identity) {
        return -EINVAL;
    }
    *out = c;
    return 0;
}

static int xvh_double_pv_map_pages(XenViommuHyp *h, XenViommuPvMapPages *op)
{
    XvhDouble *d = xvh_double(h);
    const uint64_t max_dfn = ((1ULL << XVH_DOUBLE_IOVA_BITS) - 1) >>
                             XVH_PAGE_SHIFT;
    XvhDoubleCtx *c;
    uint32_t done = 0;
    int ret;

    op->mapped = 0;
    ret = xvh_double_pv_target(d, op->ctx_no, op->pgsize, &c);
    if (ret) {
        return ret;
    }
    if (op->map_flags & ~(XEN_VIOMMU_IOMMU_MAP_READABLE |
                          XEN_VIOMMU_IOMMU_MAP_WRITEABLE |
                          XEN_VIOMMU_IOMMU_MAP_CACHE)) {
        return -EINVAL;
    }
    while (done < op->nr_pages) {
        uint64_t gfn = op->gfn + done, dfn = op->dfn + done, val;

        if (done == XEN_VIOMMU_IOMMU_PREEMPT_PAGES) {
            ret = -XEN_VIOMMU_ERESTART;
            break;
        }
        if (gfn >= xvh_ram_pages(d) || gfn < op->gfn) {
            ret = -EPERM;       /* not the guest's memory */
            break;
        }
        if (dfn > max_dfn || dfn < op->dfn) {
            ret = -EINVAL;
            break;
        }
        if (g_hash_table_contains(c->map, &dfn)) {
            ret = -EEXIST;
            break;
        }
        if (d->st.pv_mappings >= d->pv_pool) {
            ret = -ENOMEM;
            break;
        }
        /* The mapping's permissions ride above the gfn */
        val = gfn | (uint64_t)(op->map_flags & (XEN_VIOMMU_IOMMU_MAP_READABLE |
                                                XEN_VIOMMU_IOMMU_MAP_WRITEABLE))
                    << XVH_MAP_FLAGS_SHIFT;
        g_hash_table_insert(c->map, g_memdup2(&dfn, sizeof(dfn)),
                            g_memdup2(&val, sizeof(val)));
        d->st.pv_mappings++;
        done++;
    }
    op->mapped = done;
    if (ret == -XEN_VIOMMU_ERESTART) {
        op->gfn += done;
        op->dfn += done;
        op->nr_pages -= done;
    }
    return ret;
}

static int xvh_double_pv_unmap_pages(XenViommuHyp *h,
                                     XenViommuPvUnmapPages *op)
{
    XvhDouble *d = xvh_double(h);
    XvhDoubleCtx *c;
    uint32_t done = 0;
    int ret;

    op->unmapped = 0;
    ret = xvh_double_pv_target(d, op->ctx_no, op->pgsize, &c);
    if (ret) {
        return ret;
    }
    while (done < op->nr_pages) {
        uint64_t dfn = op->dfn + done;

        if (done == XEN_VIOMMU_IOMMU_PREEMPT_PAGES) {
            ret = -XEN_VIOMMU_ERESTART;
            break;
        }
        if (!g_hash_table_remove(c->map, &dfn)) {
            ret = -ENOENT;
            break;
        }
        d->st.pv_mappings--;
        done++;
    }
    op->unmapped = done;
    if (ret == -XEN_VIOMMU_ERESTART) {
        op->dfn += done;
        op->nr_pages -= done;
    }
    return ret;
}

/* A multicall: the entries in order, each with its own result */
static int xvh_double_pv_multi(XenViommuHyp *h, XenViommuPvBatchEntry *e,
                               unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        e[i].ret = e[i].unmap ? xvh_double_pv_unmap_pages(h, &e[i].unmap_op) :
                                xvh_double_pv_map_pages(h, &e[i].map);
    }
    return 0;
}

/*
 * What device @sbdf reaches at @dfn: the gfn, and the XEN_VIOMMU_IOMMU_MAP_*
 * permissions of the mapping (the default and identity contexts map the
 * guest's memory 1:1, readable and writeable).
 */
static int xvh_double_lookup(XenViommuHyp *h, uint32_t sbdf, uint64_t dfn,
                             uint64_t *gfn, uint32_t *flags)
{
    XvhDouble *d = xvh_double(h);
    XvhDoubleDev *dev;
    XvhDoubleCtx *c = NULL;
    uint64_t *v;

    if (!d) {
        return -ENOTSUP;
    }
    dev = xvh_double_dev(d, sbdf);
    if (!dev) {
        return -ENODEV;
    }
    if (dev->ctx_no != XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT) {
        c = xvh_double_ctx(d, dev->ctx_no);
    }
    if (!c || c->identity) {
        if (dfn >= xvh_ram_pages(d)) {
            return -EFAULT;
        }
        *gfn = dfn;
        *flags = XEN_VIOMMU_IOMMU_MAP_READABLE | XEN_VIOMMU_IOMMU_MAP_WRITEABLE;
        return 0;
    }
    v = g_hash_table_lookup(c->map, &dfn);
    if (!v) {
        return -EFAULT;
    }
    *gfn = *v & XVH_MAP_GFN_MASK;
    *flags = *v >> XVH_MAP_FLAGS_SHIFT;
    return 0;
}

int xen_viommu_hyp_double_translate(XenViommuHyp *h, uint32_t sbdf,
                                    uint64_t dfn, uint64_t *gfn)
{
    uint32_t flags;

    return xvh_double_lookup(h, sbdf, dfn, gfn, &flags);
}

int xen_viommu_hyp_double_dma(XenViommuHyp *h, uint32_t sbdf, uint64_t dfn,
                              bool write, uint64_t *gfn)
{
    uint32_t flags, need = write ? XEN_VIOMMU_IOMMU_MAP_WRITEABLE :
                                   XEN_VIOMMU_IOMMU_MAP_READABLE;
    int ret = xvh_double_lookup(h, sbdf, dfn, gfn, &flags);

    if (ret) {
        return ret;
    }
    return flags & need ? 0 : -EACCES;
}

int xen_viommu_hyp_double_assign_device(XenViommuHyp *h, uint32_t sbdf)
{
    XvhDouble *d = xvh_double(h);

    if (!d) {
        return -ENOTSUP;
    }
    if (xvh_double_dev(d, sbdf)) {
        return -EEXIST;
    }
    d->devs = g_renew(XvhDoubleDev, d->devs, d->cfg.nr_sbdfs + 1);
    d->devs[d->cfg.nr_sbdfs++] = (XvhDoubleDev) {
        .sbdf = sbdf,
        .ctx_no = XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT,
    };
    return 0;
}

/* Instance ---------------------------------------------------------------- */

static int xvh_double_probe(XenViommuHyp *h, XenViommuHypCaps *caps)
{
    XvhDouble *d = xvh_double(h);

    caps->inject_msi = true;
    caps->pt_msi_bind = true;
    caps->ext_dest_id = d->cfg.ext_dest_id;
    caps->pt_msi_bind_ext = d->cfg.pt_msi_bind_ext;
    caps->ir_entries = d->cfg.ir_entries;
    caps->pv_iommu = xvh_double_pv_query_caps(h, &caps->pv) == 0;
    return 0;
}

int xen_viommu_hyp_double_get_stats(const XenViommuHyp *h,
                                    XenViommuHypDoubleStats *st)
{
    if (h->ops != &xvh_double_ops) {
        return -ENOTSUP;
    }
    *st = ((XvhDouble *)h->backend)->st;
    st->pt_bound = g_hash_table_size(((XvhDouble *)h->backend)->pt);
    return 0;
}

static void xvh_double_destroy(XenViommuHyp *h)
{
    XvhDouble *d = xvh_double(h);
    uint32_t i;

    if (d->ctx) {
        for (i = 1; i <= d->pv_max_ctx; i++) {
            if (d->ctx[i]) {
                xvh_double_ctx_destroy(d, d->ctx[i]);
            }
        }
        g_free(d->ctx);
    }
    g_hash_table_destroy(d->pt);
    g_free(d->ir);
    g_free(d->devs);
    g_free(d);
}

static const XenViommuHypOps xvh_double_ops = {
    .name = "double",
    .probe = xvh_double_probe,
    .inject_msi = xvh_double_inject_msi,
    .bind_pt_msi = xvh_double_bind_pt_msi,
    .unbind_pt_msi = xvh_double_unbind_pt_msi,
    .bind_pt_msi_ext = xvh_double_bind_pt_msi_ext,
    .unbind_pt_msi_ext = xvh_double_unbind_pt_msi_ext,
    .set_ir_entries = xvh_double_set_ir_entries,
    .pv_query_caps = xvh_double_pv_query_caps,
    .pv_init = xvh_double_pv_init,
    .pv_alloc_context = xvh_double_pv_alloc_context,
    .pv_free_context = xvh_double_pv_free_context,
    .pv_reattach_device = xvh_double_pv_reattach_device,
    .pv_map_pages = xvh_double_pv_map_pages,
    .pv_multi = xvh_double_pv_multi,
    .pv_unmap_pages = xvh_double_pv_unmap_pages,
    .destroy = xvh_double_destroy,
};

XenViommuHyp *xen_viommu_hyp_new_double(const XenViommuHypDoubleConfig *cfg)
{
    XvhDouble *d = g_new0(XvhDouble, 1);
    unsigned i;

    if (cfg) {
        d->cfg = *cfg;
    }
    d->devs = g_new0(XvhDoubleDev, d->cfg.nr_sbdfs);
    for (i = 0; i < d->cfg.nr_sbdfs; i++) {
        d->devs[i].sbdf = cfg->sbdfs[i];
    }
    d->cfg.sbdfs = NULL;        /* copied into devs */
    d->pt = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                  g_free);
    return xen_viommu_hyp_create(&xvh_double_ops, d, XVH_DOUBLE_DOMID);
}
