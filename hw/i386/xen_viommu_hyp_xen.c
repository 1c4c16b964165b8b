/*
 * xen-viommu: native hypervisor backend (libxendevicemodel, libxenctrl,
 * libxencall)
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Thin wrappers: one library call or hypercall per op.  Operations the
 * libraries do not offer (the proposed passthrough-MSI DMOPs, our IR-entry
 * DMOP, the proposed PV-IOMMU hypercall) are issued with libxencall, their
 * argument structures laid out here as docs/xen-hypervisor-interface.rst
 * specifies.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/xen/xen_native.h"
#include <xencall.h>
#include <xen/hvm/dm_op.h>
#include "hw/xen/xen_viommu_hyp.h"

/* Our copies of the ABI numbers must agree with Xen's headers */
QEMU_BUILD_BUG_ON(XEN_VIOMMU_HYPERVISOR_DM_OP != __HYPERVISOR_dm_op);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_HYPERVISOR_MULTICALL != __HYPERVISOR_multicall);
QEMU_BUILD_BUG_ON(sizeof(multicall_entry_t) != 64);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_DMOP_INJECT_MSI != XEN_DMOP_inject_msi);
/* Ours must stay clear of every DMOP the installed Xen defines */
QEMU_BUILD_BUG_ON(XEN_VIOMMU_DMOP_BIND_PT_MSI_IRQ <= XEN_DMOP_nr_vcpus);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_DMOP_SET_IR_ENTRIES <= XEN_DMOP_nr_vcpus);
#ifdef XEN_DMOP_bind_pt_msi_irq
QEMU_BUILD_BUG_ON(XEN_VIOMMU_DMOP_BIND_PT_MSI_IRQ != XEN_DMOP_bind_pt_msi_irq);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_DMOP_UNBIND_PT_MSI_IRQ !=
                  XEN_DMOP_unbind_pt_msi_irq);
#endif
/* __HYPERVISOR_iommu_op is not in released headers: 43 follows hypfs_op */
QEMU_BUILD_BUG_ON(XEN_VIOMMU_HYPERVISOR_IOMMU_OP != __HYPERVISOR_hypfs_op + 1);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_GFLAGS_DEST_MASK !=
                  XEN_DOMCTL_VMSI_X86_DEST_ID_MASK);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_GFLAGS_RH != XEN_DOMCTL_VMSI_X86_RH_MASK);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_GFLAGS_DM != XEN_DOMCTL_VMSI_X86_DM_MASK);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_GFLAGS_DELIV_MASK !=
                  XEN_DOMCTL_VMSI_X86_DELIV_MASK);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_GFLAGS_TRIG != XEN_DOMCTL_VMSI_X86_TRIG_MASK);
QEMU_BUILD_BUG_ON(XEN_VIOMMU_GFLAGS_UNMASKED != XEN_DOMCTL_VMSI_X86_UNMASKED);

/*
 * Wire formats (x86-64).  A DMOP's first buffer is struct xen_dm_op: op,
 * pad, then the operation's structure at offset 8.
 */
typedef struct XvhDmOpBindPtMsi {
    uint32_t op;
    uint32_t pad;
    uint32_t machine_irq;
    uint32_t data;
    uint32_t flags;
    uint32_t pad2;
    uint64_t addr;
    uint64_t gtable;
} XvhDmOpBindPtMsi;
QEMU_BUILD_BUG_ON(sizeof(XvhDmOpBindPtMsi) != 40);
QEMU_BUILD_BUG_ON(offsetof(XvhDmOpBindPtMsi, addr) != 24);
QEMU_BUILD_BUG_ON(offsetof(XvhDmOpBindPtMsi, gtable) != 32);

typedef struct XvhDmOpUnbindPtMsi {
    uint32_t op;
    uint32_t pad;
    uint32_t machine_irq;
    uint32_t pad2;
} XvhDmOpUnbindPtMsi;
QEMU_BUILD_BUG_ON(sizeof(XvhDmOpUnbindPtMsi) != 16);

typedef struct XvhDmOpSetIrEntries {
    uint32_t op;
    uint32_t pad;
    uint32_t first_index;
    uint32_t nr_entries;
    uint32_t flags;
    uint16_t ioapic_sid;
    uint16_t pad2;
} XvhDmOpSetIrEntries;
QEMU_BUILD_BUG_ON(sizeof(XvhDmOpSetIrEntries) != 24);

typedef struct XvhIrEntryWire {
    uint32_t dest;
    uint8_t vector;
    uint8_t delivery;
    uint16_t sid;
    uint32_t flags;
    uint32_t pad;
} XvhIrEntryWire;
QEMU_BUILD_BUG_ON(sizeof(XvhIrEntryWire) != 16);
QEMU_BUILD_BUG_ON(offsetof(XvhIrEntryWire, sid) != 6);
QEMU_BUILD_BUG_ON(offsetof(XvhIrEntryWire, flags) != 8);

/* PV-IOMMU */
typedef struct XvhPvRemoteCmd {
    uint16_t domid;
    uint16_t subop;
    uint32_t pad;
    uint64_t arg;               /* guest handle of the sub-op's argument */
} XvhPvRemoteCmd;
QEMU_BUILD_BUG_ON(sizeof(XvhPvRemoteCmd) != 16);

typedef struct XvhPvCaps {
    uint64_t max_iova_addr;
    uint32_t cap_flags;
    uint32_t pgsize_mask;
    uint32_t max_pasid;
    uint16_t max_ctx_no;
    uint16_t pad;
} XvhPvCaps;
QEMU_BUILD_BUG_ON(sizeof(XvhPvCaps) != 24);
QEMU_BUILD_BUG_ON(offsetof(XvhPvCaps, max_ctx_no) != 20);

typedef struct XvhPvInit {
    uint32_t max_ctx_no;
    uint32_t arena_order;
} XvhPvInit;
QEMU_BUILD_BUG_ON(sizeof(XvhPvInit) != 8);

typedef struct XvhPvCtxFlags {    /* alloc (ctx_no OUT) and free */
    uint16_t ctx_no;
    uint16_t pad;
    uint32_t flags;
} XvhPvCtxFlags;
QEMU_BUILD_BUG_ON(sizeof(XvhPvCtxFlags) != 8);

typedef struct XvhPvMapPages {
    uint16_t ctx_no;
    uint16_t pad[3];
    uint64_t gfn;
    uint64_t dfn;
    uint32_t map_flags;
    uint32_t pgsize;
    uint32_t nr_pages;
    uint32_t mapped;
} XvhPvMapPages;
QEMU_BUILD_BUG_ON(sizeof(XvhPvMapPages) != 40);
QEMU_BUILD_BUG_ON(offsetof(XvhPvMapPages, mapped) != 36);

typedef struct XvhPvUnmapPages {
    uint16_t ctx_no;
    uint16_t pad[3];
    uint64_t dfn;
    uint32_t pgsize;
    uint32_t nr_pages;
    uint32_t unmapped;
    uint32_t pad2;
} XvhPvUnmapPages;
QEMU_BUILD_BUG_ON(sizeof(XvhPvUnmapPages) != 32);
/* A batch puts an unmap_pages argument where a map_pages one would go */
QEMU_BUILD_BUG_ON(sizeof(XvhPvUnmapPages) > sizeof(XvhPvMapPages));
QEMU_BUILD_BUG_ON(offsetof(XvhPvUnmapPages, unmapped) != 24);

typedef struct XvhPvReattach {
    uint16_t ctx_no;
    uint16_t seg;
    uint8_t bus;
    uint8_t devfn;
    uint16_t pad;
    uint32_t pasid;
} XvhPvReattach;
QEMU_BUILD_BUG_ON(sizeof(XvhPvReattach) != 12);

/* Fill pattern of query_capabilities' buffer: left in place = not sane */
#define XVH_CAPS_POISON 0xa5

typedef struct XvhNative {
    xendevicemodel_handle *dmod;
    xc_interface *xch;
    xencall_handle *xcall;
} XvhNative;

static XvhNative *xvh_native(XenViommuHyp *h)
{
    return h->backend;
}

/* Libraries return -1 and set errno */
static int xvh_lib_ret(int rc)
{
    if (rc >= 0) {
        return rc;
    }
    return errno ? -errno : -EIO;
}

/*
 * One __HYPERVISOR_dm_op with @op as buffer 0 and @extra (if any) as
 * buffer 1, both in hypercall-safe memory.  @op is copied back.
 */
static int xvh_dm_op(XenViommuHyp *h, void *op, size_t op_size,
                     const void *extra, size_t extra_size)
{
    XvhNative *n = xvh_native(h);
    xen_dm_op_buf_t *bufs;
    void *b0 = NULL, *b1 = NULL;
    unsigned nr_bufs = extra_size ? 2 : 1;
    int ret = -ENOMEM;

    bufs = xencall_alloc_buffer(n->xcall, sizeof(*bufs) * nr_bufs);
    b0 = xencall_alloc_buffer(n->xcall, op_size);
    if (extra_size) {
        b1 = xencall_alloc_buffer(n->xcall, extra_size);
    }
    if (!bufs || !b0 || (extra_size && !b1)) {
        goto out;
    }
    memcpy(b0, op, op_size);
    set_xen_guest_handle_raw(bufs[0].h, b0);
    bufs[0].size = op_size;
    if (extra_size) {
        memcpy(b1, extra, extra_size);
        set_xen_guest_handle_raw(bufs[1].h, b1);
        bufs[1].size = extra_size;
    }
    errno = 0;
    ret = xvh_lib_ret(xencall3(n->xcall, __HYPERVISOR_dm_op, h->domid,
                               nr_bufs, (uint64_t)(uintptr_t)bufs));
    memcpy(op, b0, op_size);
out:
    if (b1) {
        xencall_free_buffer(n->xcall, b1);
    }
    if (b0) {
        xencall_free_buffer(n->xcall, b0);
    }
    if (bufs) {
        xencall_free_buffer(n->xcall, bufs);
    }
    return ret;
}

/*
 * One PV-IOMMU sub-op on behalf of the guest: __HYPERVISOR_iommu_op
 * (remote_cmd, {domid, subop, handle of @arg}).  @arg is copied into
 * hypercall-safe memory (pre-filled with @fill when @fill >= 0 and @arg
 * is only an output) and back.
 */
static int xvh_pv_op(XenViommuHyp *h, uint16_t subop, void *arg,
                     size_t size, int fill)
{
    XvhNative *n = xvh_native(h);
    XvhPvRemoteCmd *cmd;
    void *buf;
    int ret = -ENOMEM;

    cmd = xencall_alloc_buffer(n->xcall, sizeof(*cmd));
    buf = xencall_alloc_buffer(n->xcall, size);
    if (!cmd || !buf) {
        goto out;
    }
    if (fill >= 0) {
        memset(buf, fill, size);
    } else {
        memcpy(buf, arg, size);
    }
    memset(cmd, 0, sizeof(*cmd));
    cmd->domid = h->domid;
    cmd->subop = subop;
    cmd->arg = (uint64_t)(uintptr_t)buf;
    errno = 0;
    ret = xvh_lib_ret(xencall2(n->xcall, XEN_VIOMMU_HYPERVISOR_IOMMU_OP,
                               XEN_VIOMMU_IOMMUOP_REMOTE_CMD,
                               (uint64_t)(uintptr_t)cmd));
    memcpy(arg, buf, size);
out:
    if (buf) {
        xencall_free_buffer(n->xcall, buf);
    }
    if (cmd) {
        xencall_free_buffer(n->xcall, cmd);
    }
    return ret;
}

/* Ops ---------------------------------------------------------------------- */

static int xvh_native_inject_msi(XenViommuHyp *h, uint64_t addr,
                                 uint32_t data)
{
    errno = 0;
    return xvh_lib_ret(xendevicemodel_inject_msi(xvh_native(h)->dmod,
                                                 h->domid, addr, data));
}

static int xvh_native_bind_pt_msi(XenViommuHyp *h, uint32_t gvec,
                                  uint32_t pirq, uint32_t gflags,
                                  uint64_t gtable)
{
    errno = 0;
    return xvh_lib_ret(xc_domain_update_msi_irq(xvh_native(h)->xch, h->domid,
                                                gvec, pirq, gflags, gtable));
}

static int xvh_native_unbind_pt_msi(XenViommuHyp *h, uint32_t gvec,
                                    uint32_t pirq, uint32_t gflags)
{
    errno = 0;
    return xvh_lib_ret(xc_domain_unbind_msi_irq(xvh_native(h)->xch, h->domid,
                                                gvec, pirq, gflags));
}

static int xvh_native_bind_pt_msi_ext(XenViommuHyp *h, uint32_t machine_irq,
                                      uint64_t addr, uint32_t data,
                                      uint32_t flags, uint64_t gtable)
{
    XvhDmOpBindPtMsi op = {
        .op = XEN_VIOMMU_DMOP_BIND_PT_MSI_IRQ,
        .machine_irq = machine_irq,
        .data = data,
        .flags = flags,
        .addr = addr,
        .gtable = gtable,
    };

    return xvh_dm_op(h, &op, sizeof(op), NULL, 0);
}

static int xvh_native_unbind_pt_msi_ext(XenViommuHyp *h, uint32_t machine_irq)
{
    XvhDmOpUnbindPtMsi op = {
        .op = XEN_VIOMMU_DMOP_UNBIND_PT_MSI_IRQ,
        .machine_irq = machine_irq,
    };

    return xvh_dm_op(h, &op, sizeof(op), NULL, 0);
}

static void xvh_ir_entry_encode(const XenViommuHypIrEntry *e,
                                XvhIrEntryWire *w)
{
    memset(w, 0, sizeof(*w));
    w->dest = e->dest;
    w->vector = e->vector;
    w->delivery = e->delivery;
    w->sid = e->sid;
    w->flags = (e->present ? XEN_VIOMMU_IRE_PRESENT : 0) |
               (e->dest_logical ? XEN_VIOMMU_IRE_DM : 0) |
               (e->redir_hint ? XEN_VIOMMU_IRE_RH : 0) |
               (e->level ? XEN_VIOMMU_IRE_TM : 0) |
               (((uint32_t)e->svt << XEN_VIOMMU_IRE_SVT_SHIFT) &
                XEN_VIOMMU_IRE_SVT_MASK) |
               (((uint32_t)e->sq << XEN_VIOMMU_IRE_SQ_SHIFT) &
                XEN_VIOMMU_IRE_SQ_MASK);
}

static int xvh_native_set_ir_entries(XenViommuHyp *h, uint32_t first,
                                     uint32_t nr, uint32_t flags,
                                     uint16_t ioapic_sid,
                                     const XenViommuHypIrEntry *entries)
{
    XvhDmOpSetIrEntries op = {
        .op = XEN_VIOMMU_DMOP_SET_IR_ENTRIES,
        .first_index = first,
        .nr_entries = nr,
        .flags = flags,
        .ioapic_sid = ioapic_sid,
    };
    g_autofree XvhIrEntryWire *wire = NULL;
    uint32_t i;

    if (nr) {
        wire = g_new(XvhIrEntryWire, nr);
        for (i = 0; i < nr; i++) {
            xvh_ir_entry_encode(&entries[i], &wire[i]);
        }
    }
    return xvh_dm_op(h, &op, sizeof(op), wire, nr * sizeof(*wire));
}

static int xvh_native_pv_query_caps(XenViommuHyp *h,
                                    XenViommuPvIommuCaps *caps)
{
    XvhPvCaps c;
    int ret;

    memset(&c, XVH_CAPS_POISON, sizeof(c));
    ret = xvh_pv_op(h, XEN_VIOMMU_IOMMUOP_QUERY_CAPABILITIES, &c, sizeof(c),
                    XVH_CAPS_POISON);
    caps->max_iova_addr = c.max_iova_addr;
    caps->cap_flags = c.cap_flags;
    caps->pgsize_mask = c.pgsize_mask;
    caps->max_pasid = c.max_pasid;
    caps->max_ctx_no = c.max_ctx_no;
    return ret;
}

static int xvh_native_pv_init(XenViommuHyp *h, uint32_t max_ctx_no,
                              uint32_t arena_order)
{
    XvhPvInit a = { .max_ctx_no = max_ctx_no, .arena_order = arena_order };

    return xvh_pv_op(h, XEN_VIOMMU_IOMMUOP_INIT, &a, sizeof(a), -1);
}

static int xvh_native_pv_alloc_context(XenViommuHyp *h, uint32_t alloc_flags,
                                       uint16_t *ctx_no)
{
    XvhPvCtxFlags a = { .flags = alloc_flags };
    int ret;

    ret = xvh_pv_op(h, XEN_VIOMMU_IOMMUOP_ALLOC_CONTEXT, &a, sizeof(a), -1);
    if (ret >= 0) {
        *ctx_no = a.ctx_no;
    }
    return ret;
}

static int xvh_native_pv_free_context(XenViommuHyp *h, uint16_t ctx_no,
                                      uint32_t free_flags)
{
    XvhPvCtxFlags a = { .ctx_no = ctx_no, .flags = free_flags };

    return xvh_pv_op(h, XEN_VIOMMU_IOMMUOP_FREE_CONTEXT, &a, sizeof(a), -1);
}

static int xvh_native_pv_reattach_device(XenViommuHyp *h, uint16_t ctx_no,
                                         uint32_t sbdf, uint32_t pasid)
{
    XvhPvReattach a = {
        .ctx_no = ctx_no,
        .seg = sbdf >> 16,
        .bus = (sbdf >> 8) & 0xff,
        .devfn = sbdf & 0xff,
        .pasid = pasid,
    };

    return xvh_pv_op(h, XEN_VIOMMU_IOMMUOP_REATTACH_DEVICE, &a, sizeof(a),
                     -1);
}

static int xvh_native_pv_map_pages(XenViommuHyp *h, XenViommuPvMapPages *op)
{
    XvhPvMapPages a = {
        .ctx_no = op->ctx_no,
        .gfn = op->gfn,
        .dfn = op->dfn,
        .map_flags = op->map_flags,
        .pgsize = op->pgsize,
        .nr_pages = op->nr_pages,
    };
    int ret;

    ret = xvh_pv_op(h, XEN_VIOMMU_IOMMUOP_MAP_PAGES, &a, sizeof(a), -1);
    /* Xen advances these for a restart */
    op->gfn = a.gfn;
    op->dfn = a.dfn;
    op->nr_pages = a.nr_pages;
    op->mapped = a.mapped;
    return ret;
}

static int xvh_native_pv_unmap_pages(XenViommuHyp *h,
                                     XenViommuPvUnmapPages *op)
{
    XvhPvUnmapPages a = {
        .ctx_no = op->ctx_no,
        .dfn = op->dfn,
        .pgsize = op->pgsize,
        .nr_pages = op->nr_pages,
    };
    int ret;

    ret = xvh_pv_op(h, XEN_VIOMMU_IOMMUOP_UNMAP_PAGES, &a, sizeof(a), -1);
    op->dfn = a.dfn;
    op->nr_pages = a.nr_pages;
    op->unmapped = a.unmapped;
    return ret;
}

/*
 * @n map/unmap remote commands in one __HYPERVISOR_multicall: the entry
 * list, the commands and their arguments each in one hypercall-safe array
 * (an unmap argument fits the 40 bytes of a map's).
 */
static int xvh_native_pv_multi(XenViommuHyp *h, XenViommuPvBatchEntry *e,
                               unsigned n)
{
    XvhNative *nat = xvh_native(h);
    multicall_entry_t *calls;
    XvhPvRemoteCmd *cmds;
    XvhPvMapPages *args;
    unsigned i;
    int ret = -ENOMEM;

    calls = xencall_alloc_buffer(nat->xcall, sizeof(*calls) * n);
    cmds = xencall_alloc_buffer(nat->xcall, sizeof(*cmds) * n);
    args = xencall_alloc_buffer(nat->xcall, sizeof(*args) * n);
    if (!calls || !cmds || !args) {
        goto out;
    }
    memset(calls, 0, sizeof(*calls) * n);
    memset(cmds, 0, sizeof(*cmds) * n);
    memset(args, 0, sizeof(*args) * n);
    for (i = 0; i < n; i++) {
        if (e[i].unmap) {
            XvhPvUnmapPages *u = (XvhPvUnmapPages *)&args[i];

            u->ctx_no = e[i].unmap_op.ctx_no;
            u->dfn = e[i].unmap_op.dfn;
            u->pgsize = e[i].unmap_op.pgsize;
            u->nr_pages = e[i].unmap_op.nr_pages;
        } else {
            args[i].ctx_no = e[i].map.ctx_no;
            args[i].gfn = e[i].map.gfn;
            args[i].dfn = e[i].map.dfn;
            args[i].map_flags = e[i].map.map_flags;
            args[i].pgsize = e[i].map.pgsize;
            args[i].nr_pages = e[i].map.nr_pages;
        }
        cmds[i].domid = h->domid;
        cmds[i].subop = e[i].unmap ? XEN_VIOMMU_IOMMUOP_UNMAP_PAGES :
                                     XEN_VIOMMU_IOMMUOP_MAP_PAGES;
        cmds[i].arg = (uint64_t)(uintptr_t)&args[i];
        calls[i].op = XEN_VIOMMU_HYPERVISOR_IOMMU_OP;
        calls[i].args[0] = XEN_VIOMMU_IOMMUOP_REMOTE_CMD;
        calls[i].args[1] = (uint64_t)(uintptr_t)&cmds[i];
    }
    errno = 0;
    ret = xvh_lib_ret(xencall2(nat->xcall, __HYPERVISOR_multicall,
                               (uint64_t)(uintptr_t)calls, n));
    for (i = 0; ret >= 0 && i < n; i++) {
        /* An entry's result is the hypercall's return value */
        e[i].ret = (int)(long)calls[i].result;
        if (e[i].unmap) {
            XvhPvUnmapPages *u = (XvhPvUnmapPages *)&args[i];

            e[i].unmap_op.dfn = u->dfn;
            e[i].unmap_op.nr_pages = u->nr_pages;
            e[i].unmap_op.unmapped = u->unmapped;
        } else {
            e[i].map.gfn = args[i].gfn;
            e[i].map.dfn = args[i].dfn;
            e[i].map.nr_pages = args[i].nr_pages;
            e[i].map.mapped = args[i].mapped;
        }
    }
out:
    if (args) {
        xencall_free_buffer(nat->xcall, args);
    }
    if (cmds) {
        xencall_free_buffer(nat->xcall, cmds);
    }
    if (calls) {
        xencall_free_buffer(nat->xcall, calls);
    }
    return ret;
}

/*
 * Probe without side effects:
 * - inject_msi and the domctl binding exist in every supported Xen (the
 *   domctl needs a privileged QEMU; a deprivileged one learns at bind);
 * - upstream never offers the extended destination ID to a device model;
 * - the proposed DMOPs: unbinding an IRQ that cannot exist is answered
 *   -EOPNOTSUPP by a Xen without them and with an argument error by one
 *   that has them;
 * - set_ir_entries with nothing to do and no flags is a no-op;
 * - PV-IOMMU: only a sane query_capabilities answer counts (upstream says
 *   -ENOSYS; the 2014-16 XenServer ABI on the same number reads the
 *   arguments in another order and fails or returns nonsense).
 */
static int xvh_native_probe(XenViommuHyp *h, XenViommuHypCaps *caps)
{
    int rc;

    caps->inject_msi = true;
    caps->pt_msi_bind = true;
    caps->ext_dest_id = false;

    rc = xvh_native_unbind_pt_msi_ext(h, UINT32_MAX);
    caps->pt_msi_bind_ext = rc == 0 || rc == -EINVAL || rc == -ENOENT;

    rc = xvh_native_set_ir_entries(h, 0, 0, 0, 0, NULL);
    caps->ir_entries = rc == 0;

    rc = xvh_native_pv_query_caps(h, &caps->pv);
    caps->pv_iommu = rc == 0 && xen_viommu_hyp_pv_caps_sane(&caps->pv);
    return 0;
}

static void xvh_native_destroy(XenViommuHyp *h)
{
    XvhNative *n = xvh_native(h);

    if (n->xcall) {
        xencall_close(n->xcall);
    }
    if (n->xch) {
        xc_interface_close(n->xch);
    }
    if (n->dmod) {
        xendevicemodel_close(n->dmod);
    }
    g_free(n);
}

static const XenViommuHypOps xvh_native_ops = {
    .name = "native",
    .probe = xvh_native_probe,
    .inject_msi = xvh_native_inject_msi,
    .bind_pt_msi = xvh_native_bind_pt_msi,
    .unbind_pt_msi = xvh_native_unbind_pt_msi,
    .bind_pt_msi_ext = xvh_native_bind_pt_msi_ext,
    .unbind_pt_msi_ext = xvh_native_unbind_pt_msi_ext,
    .set_ir_entries = xvh_native_set_ir_entries,
    .pv_query_caps = xvh_native_pv_query_caps,
    .pv_init = xvh_native_pv_init,
    .pv_alloc_context = xvh_native_pv_alloc_context,
    .pv_free_context = xvh_native_pv_free_context,
    .pv_reattach_device = xvh_native_pv_reattach_device,
    .pv_map_pages = xvh_native_pv_map_pages,
    .pv_multi = xvh_native_pv_multi,
    .pv_unmap_pages = xvh_native_pv_unmap_pages,
    .destroy = xvh_native_destroy,
};

XenViommuHyp *xen_viommu_hyp_new_native(uint16_t domid, Error **errp)
{
    XvhNative *n = g_new0(XvhNative, 1);
    XenViommuHyp *h;
    const char *what;

    what = "libxendevicemodel";
    errno = 0;
    n->dmod = xendevicemodel_open(NULL, 0);
    if (!n->dmod) {
        goto fail;
    }
    what = "libxenctrl";
    errno = 0;
    n->xch = xc_interface_open(NULL, NULL, 0);
    if (!n->xch) {
        goto fail;
    }
    what = "libxencall";
    errno = 0;
    n->xcall = xencall_open(NULL, 0);
    if (!n->xcall) {
        goto fail;
    }
    h = xen_viommu_hyp_create(&xvh_native_ops, n, domid);
    return h;

fail:
    error_setg_errno(errp, errno ? errno : ENODEV,
                     "xen-viommu: cannot open %s for domain %u "
                     "(is QEMU running on Xen, with privileges?)",
                     what, domid);
    if (n->xch) {
        xc_interface_close(n->xch);
    }
    if (n->dmod) {
        xendevicemodel_close(n->dmod);
    }
    g_free(n);
    return NULL;
}
