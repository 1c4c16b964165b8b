/*
 * xen-viommu: interface between the device and the Xen hypervisor
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Everything the device asks of the hypervisor goes through an ops table
 * (XenViommuHypOps) with two implementations: the native backend, thin
 * wrappers over libxendevicemodel, libxenctrl and libxencall, and a
 * hypervisor double that follows Xen's documented semantics so that the
 * device can be exercised under TCG.  The double is never a production
 * path.  The device calls the xen_viommu_hyp_*() wrappers below, never the
 * ops directly: the wrappers refuse messages Xen would misinterpret, split
 * batches, continue preempted operations, count and trace.
 *
 * Callers serialise: one XenViommuHyp is used under the device's lock.
 * See docs/xen-hypervisor-interface.rst.
 */

#ifndef HW_XEN_XEN_VIOMMU_HYP_H
#define HW_XEN_XEN_VIOMMU_HYP_H

/*
 * ABI numbers.  Kept here (rather than taken from Xen's headers) because
 * the common code and the double are built without Xen; the native backend
 * checks them against the headers at build time.
 */

/* Hypercalls */
#define XEN_VIOMMU_HYPERVISOR_MULTICALL         13
#define XEN_VIOMMU_HYPERVISOR_DM_OP             41
#define XEN_VIOMMU_HYPERVISOR_IOMMU_OP          43  /* proposed PV-IOMMU */

/* Device-model operations (XEN_DMOP_*) */
#define XEN_VIOMMU_DMOP_INJECT_MSI              14
#define XEN_VIOMMU_DMOP_BIND_PT_MSI_IRQ         21  /* proposed */
#define XEN_VIOMMU_DMOP_UNBIND_PT_MSI_IRQ       22  /* proposed */
#define XEN_VIOMMU_DMOP_SET_IR_ENTRIES          30  /* ours, see the docs */

/* XEN_DMOP_bind_pt_msi_irq flags */
#define XEN_VIOMMU_DMOP_MSI_FLAG_UNMASKED       (1u << 0)

/* gflags of xc_domain_update_msi_irq (XEN_DOMCTL_VMSI_X86_*) */
#define XEN_VIOMMU_GFLAGS_DEST_MASK             0x0000ffu
#define XEN_VIOMMU_GFLAGS_RH                    0x000100u
#define XEN_VIOMMU_GFLAGS_DM                    0x000200u
#define XEN_VIOMMU_GFLAGS_DELIV_MASK            0x007000u
#define XEN_VIOMMU_GFLAGS_DELIV_SHIFT           12
#define XEN_VIOMMU_GFLAGS_TRIG                  0x008000u
#define XEN_VIOMMU_GFLAGS_UNMASKED              0x010000u
#define XEN_VIOMMU_GFLAGS_ALL                   0x01f3ffu

/* XEN_DMOP_set_ir_entries (30): request flags */
#define XEN_VIOMMU_IR_CLEAR                     (1u << 0)
#define XEN_VIOMMU_IR_ENABLE                    (1u << 1)
#define XEN_VIOMMU_IR_DISABLE                   (1u << 2)
#define XEN_VIOMMU_IR_BLOCK_COMPAT              (1u << 3)
#define XEN_VIOMMU_IR_FLAGS_ALL                 0xfu
/* ... entry flags */
#define XEN_VIOMMU_IRE_PRESENT                  (1u << 0)
#define XEN_VIOMMU_IRE_DM                       (1u << 1)
#define XEN_VIOMMU_IRE_RH                       (1u << 2)
#define XEN_VIOMMU_IRE_TM                       (1u << 3)
#define XEN_VIOMMU_IRE_SVT_SHIFT                4
#define XEN_VIOMMU_IRE_SVT_MASK                 (3u << 4)
#define XEN_VIOMMU_IRE_SQ_SHIFT                 6
#define XEN_VIOMMU_IRE_SQ_MASK                  (3u << 6)
#define XEN_VIOMMU_IRE_FLAGS_ALL                0xffu
/* ... limits */
#define XEN_VIOMMU_IR_MAX_BATCH                 256
#define XEN_VIOMMU_IR_MAX_ENTRIES               0x10000u

/* PV-IOMMU sub-operations of __HYPERVISOR_iommu_op */
#define XEN_VIOMMU_IOMMUOP_NOOP                 0
#define XEN_VIOMMU_IOMMUOP_QUERY_CAPABILITIES   1
#define XEN_VIOMMU_IOMMUOP_INIT                 2
#define XEN_VIOMMU_IOMMUOP_ALLOC_CONTEXT        3
#define XEN_VIOMMU_IOMMUOP_FREE_CONTEXT         4
#define XEN_VIOMMU_IOMMUOP_REATTACH_DEVICE      5
#define XEN_VIOMMU_IOMMUOP_MAP_PAGES            6
#define XEN_VIOMMU_IOMMUOP_UNMAP_PAGES          7
#define XEN_VIOMMU_IOMMUOP_REMOTE_CMD           8
/* ... capability bits */
#define XEN_VIOMMU_IOMMU_CAP_DEFAULT_IDENTITY   (1u << 0)
#define XEN_VIOMMU_IOMMU_CAP_CACHE              (1u << 1)
#define XEN_VIOMMU_IOMMU_CAP_NESTED             (1u << 2)
#define XEN_VIOMMU_IOMMU_CAP_PASID              (1u << 3)
#define XEN_VIOMMU_IOMMU_CAP_IDENTITY           (1u << 4)
#define XEN_VIOMMU_IOMMU_CAP_ALL                0x1fu
/* ... flags */
#define XEN_VIOMMU_IOMMU_ALLOC_IDENTITY         (1u << 0)
#define XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT  (1u << 0)
#define XEN_VIOMMU_IOMMU_MAP_READABLE           (1u << 0)
#define XEN_VIOMMU_IOMMU_MAP_WRITEABLE          (1u << 1)
#define XEN_VIOMMU_IOMMU_MAP_CACHE              (1u << 2)
#define XEN_VIOMMU_IOMMU_DEFAULT_CONTEXT        0
#define XEN_VIOMMU_IOMMU_PGSIZE                 4096u
/* Pages Xen handles between two preemption checks */
#define XEN_VIOMMU_IOMMU_PREEMPT_PAGES          256
/* map_pages/unmap_pages operations batched into one multicall at most */
#define XEN_VIOMMU_PV_MULTI_MAX                 512

/* Xen's ERESTART as the host reports it (Linux: 85) */
#ifdef ERESTART
#define XEN_VIOMMU_ERESTART                     ERESTART
#else
#define XEN_VIOMMU_ERESTART                     85
#endif

/*
 * A preempted PV-IOMMU operation is re-issued by the wrappers.  Each
 * restart must make progress (fewer pages left); this many restarts without
 * progress fail the operation with -EIO.
 */
#define XEN_VIOMMU_HYP_MAX_STALLED_RESTARTS     16

/* PCI SBDF as a 32-bit number: segment << 16 | bus << 8 | devfn */
#define XEN_VIOMMU_SBDF(seg, bus, devfn) \
    (((uint32_t)(seg) << 16) | ((uint32_t)(bus) << 8) | (uint32_t)(devfn))

typedef struct XenViommuHyp XenViommuHyp;

/* Result of query_capabilities (host representation) */
typedef struct XenViommuPvIommuCaps {
    uint64_t max_iova_addr;
    uint32_t cap_flags;         /* XEN_VIOMMU_IOMMU_CAP_* */
    uint32_t pgsize_mask;
    uint32_t max_pasid;
    uint16_t max_ctx_no;
} XenViommuPvIommuCaps;

/* What the hypervisor offers, as found by probe */
typedef struct XenViommuHypCaps {
    bool inject_msi;            /* XEN_DMOP_inject_msi */
    bool ext_dest_id;           /* MSI addr[11:5] = destination bits 14:8 */
    bool pt_msi_bind;           /* domctl: xc_domain_update_msi_irq */
    bool pt_msi_bind_ext;       /* proposed XEN_DMOP_(un)bind_pt_msi_irq */
    bool ir_entries;            /* XEN_DMOP_set_ir_entries (ours) */
    bool pv_iommu;              /* a sane query_capabilities answer */
    XenViommuPvIommuCaps pv;    /* valid when pv_iommu */
} XenViommuHypCaps;

/*
 * One decoded interrupt-remapping entry pushed with set_ir_entries (host
 * representation; the wire format is in the docs).
 */
typedef struct XenViommuHypIrEntry {
    bool present;
    bool dest_logical;          /* DM */
    bool redir_hint;            /* RH */
    bool level;                 /* TM */
    uint8_t delivery;           /* delivery mode, 0..7 (3 and 6 reserved) */
    uint8_t vector;
    uint32_t dest;              /* APIC ID, 32-bit (x2APIC) */
    uint8_t svt;                /* source validation type, 0..2 */
    uint8_t sq;                 /* source-id qualifier, 0..3 */
    uint16_t sid;               /* source-id (or bus range) to check */
} XenViommuHypIrEntry;

/*
 * In/out arguments of one map_pages / unmap_pages invocation, mirroring
 * the hypercall structures.  A backend op performs one invocation; when it
 * returns -XEN_VIOMMU_ERESTART the address/count fields have been advanced
 * past the done pages and the op must be invoked again with them.
 * mapped/unmapped count the pages done by that one invocation.
 */
typedef struct XenViommuPvMapPages {
    uint16_t ctx_no;
    uint64_t gfn;
    uint64_t dfn;
    uint32_t map_flags;         /* XEN_VIOMMU_IOMMU_MAP_* */
    uint32_t pgsize;
    uint32_t nr_pages;
    uint32_t mapped;            /* out */
} XenViommuPvMapPages;

typedef struct XenViommuPvUnmapPages {
    uint16_t ctx_no;
    uint64_t dfn;
    uint32_t pgsize;
    uint32_t nr_pages;
    uint32_t unmapped;          /* out */
} XenViommuPvUnmapPages;

/* One entry of a multicall: a map_pages or an unmap_pages */
typedef struct XenViommuPvBatchEntry {
    bool unmap;
    XenViommuPvMapPages map;
    XenViommuPvUnmapPages unmap_op;
    int ret;                    /* out: the entry's result */
} XenViommuPvBatchEntry;

/* One operation of a batch, for the wrapper */
typedef struct XenViommuPvPageOp {
    bool unmap;
    uint64_t gfn;               /* map only */
    uint64_t dfn;
    uint32_t nr_pages;
    uint32_t map_flags;         /* map only */
    uint32_t done;              /* out: pages mapped or unmapped */
    int ret;                    /* out: 0 or the negative errno */
} XenViommuPvPageOp;

/*
 * The ops table.  Every op performs exactly one hypervisor operation and
 * returns 0 (or a non-negative hypercall result) or a negative errno.
 */
typedef struct XenViommuHypOps {
    const char *name;           /* "native" or "double" */
    int (*probe)(XenViommuHyp *h, XenViommuHypCaps *caps);
    /* Compatibility-format MSI, in the form Xen decodes it */
    int (*inject_msi)(XenViommuHyp *h, uint64_t addr, uint32_t data);
    int (*bind_pt_msi)(XenViommuHyp *h, uint32_t gvec, uint32_t pirq,
                       uint32_t gflags, uint64_t gtable);
    int (*unbind_pt_msi)(XenViommuHyp *h, uint32_t gvec, uint32_t pirq,
                         uint32_t gflags);
    int (*bind_pt_msi_ext)(XenViommuHyp *h, uint32_t machine_irq,
                           uint64_t addr, uint32_t data, uint32_t flags,
                           uint64_t gtable);
    int (*unbind_pt_msi_ext)(XenViommuHyp *h, uint32_t machine_irq);
    /* At most XEN_VIOMMU_IR_MAX_BATCH entries */
    int (*set_ir_entries)(XenViommuHyp *h, uint32_t first, uint32_t nr,
                          uint32_t flags, uint16_t ioapic_sid,
                          const XenViommuHypIrEntry *entries);
    /* PV-IOMMU, each issued as remote_cmd on behalf of h->domid */
    int (*pv_query_caps)(XenViommuHyp *h, XenViommuPvIommuCaps *caps);
    int (*pv_init)(XenViommuHyp *h, uint32_t max_ctx_no,
                   uint32_t arena_order);
    int (*pv_alloc_context)(XenViommuHyp *h, uint32_t alloc_flags,
                            uint16_t *ctx_no);
    int (*pv_free_context)(XenViommuHyp *h, uint16_t ctx_no,
                           uint32_t free_flags);
    int (*pv_reattach_device)(XenViommuHyp *h, uint16_t ctx_no,
                              uint32_t sbdf, uint32_t pasid);
    int (*pv_map_pages)(XenViommuHyp *h, XenViommuPvMapPages *op);
    /*
     * @n (at most XEN_VIOMMU_PV_MULTI_MAX) entries in one multicall, in
     * order: each is updated as pv_(un)map_pages would update it, with its
     * result in ->ret.  Returns the multicall's own result.
     */
    int (*pv_multi)(XenViommuHyp *h, XenViommuPvBatchEntry *e, unsigned n);
    int (*pv_unmap_pages)(XenViommuHyp *h, XenViommuPvUnmapPages *op);
    void (*destroy)(XenViommuHyp *h);
} XenViommuHypOps;

/* Operations, for the counters */
typedef enum XenViommuHypOp {
    XEN_VIOMMU_HYP_OP_PROBE,
    XEN_VIOMMU_HYP_OP_INJECT_MSI,
    XEN_VIOMMU_HYP_OP_BIND_PT_MSI,
    XEN_VIOMMU_HYP_OP_UNBIND_PT_MSI,
    XEN_VIOMMU_HYP_OP_BIND_PT_MSI_EXT,
    XEN_VIOMMU_HYP_OP_UNBIND_PT_MSI_EXT,
    XEN_VIOMMU_HYP_OP_SET_IR_ENTRIES,
    XEN_VIOMMU_HYP_OP_PV_QUERY_CAPS,
    XEN_VIOMMU_HYP_OP_PV_INIT,
    XEN_VIOMMU_HYP_OP_PV_ALLOC_CONTEXT,
    XEN_VIOMMU_HYP_OP_PV_FREE_CONTEXT,
    XEN_VIOMMU_HYP_OP_PV_REATTACH_DEVICE,
    XEN_VIOMMU_HYP_OP_PV_MAP_PAGES,
    XEN_VIOMMU_HYP_OP_PV_UNMAP_PAGES,
    XEN_VIOMMU_HYP_OP_PV_MULTICALL,
    XEN_VIOMMU_HYP_OP__MAX,
} XenViommuHypOp;

/*
 * Per-operation counters.  calls: wrapper invocations; refused: declined by
 * the wrapper without reaching the hypervisor; errors: the hypervisor
 * failed the operation; hypercalls: backend invocations (batches and
 * restarts included); items: pages mapped/unmapped, IR entries pushed.
 */
typedef struct XenViommuHypOpStats {
    uint64_t calls;
    uint64_t refused;
    uint64_t errors;
    uint64_t hypercalls;
    uint64_t items;
} XenViommuHypOpStats;

/*
 * Interrupt delivery from the double into QEMU's APIC.  @addr/@data are in
 * QEMU's compatibility format: dest[7:0] in addr[19:12], x2APIC dest[31:8]
 * in addr[63:40], DM addr[2], RH addr[3]; data as on the bus.
 */
typedef void (*XenViommuHypDeliverFn)(void *opaque, uint64_t addr,
                                      uint32_t data);

struct XenViommuHyp {
    const XenViommuHypOps *ops;
    void *backend;              /* the backend's private state */
    uint16_t domid;
    XenViommuHypCaps caps;      /* last probe */
    XenViommuHypDeliverFn deliver;  /* double only */
    void *deliver_opaque;
    XenViommuHypOpStats stats[XEN_VIOMMU_HYP_OP__MAX];
};

/* Configuration of the double */
typedef struct XenViommuHypDoubleConfig {
    bool ext_dest_id;
    bool pt_msi_bind_ext;
    bool ir_entries;
    bool pv_iommu;
    uint16_t pv_max_ctx;        /* contexts besides the default one */
    uint32_t pv_pool_pages;     /* page pool: mapped pages at most */
    uint64_t ram_size;          /* guest RAM, bytes: gfns below are owned */
    const uint32_t *sbdfs;      /* machine SBDFs assigned to the guest */
    unsigned nr_sbdfs;
} XenViommuHypDoubleConfig;

/* Constructors */

/*
 * Open the Xen library handles for guest @domid and probe.  Fails (NULL,
 * @errp set) when the handles cannot be opened, e.g. not running on Xen,
 * or when QEMU was built without Xen.
 */
XenViommuHyp *xen_viommu_hyp_new_native(uint16_t domid, Error **errp);
XenViommuHyp *xen_viommu_hyp_new_double(const XenViommuHypDoubleConfig *cfg);
void xen_viommu_hyp_free(XenViommuHyp *h);

/* Used by the constructors: allocate @h around a backend and probe */
XenViommuHyp *xen_viommu_hyp_create(const XenViommuHypOps *ops,
                                    void *backend, uint16_t domid);

void xen_viommu_hyp_set_deliver(XenViommuHyp *h, XenViommuHypDeliverFn fn,
                                void *opaque);
const char *xen_viommu_hyp_backend_name(const XenViommuHyp *h);
const char *xen_viommu_hyp_op_name(XenViommuHypOp op);
/* Counters of @op (zeroes for an out-of-range @op) */
XenViommuHypOpStats xen_viommu_hyp_get_stats(const XenViommuHyp *h,
                                             XenViommuHypOp op);
void xen_viommu_hyp_reset_stats(XenViommuHyp *h);

/* Probe again; the result is also kept in h->caps */
int xen_viommu_hyp_probe(XenViommuHyp *h, XenViommuHypCaps *caps);
const XenViommuHypCaps *xen_viommu_hyp_caps(const XenViommuHyp *h);

/*
 * Judge a query_capabilities answer: true only for something the proposed
 * PV-IOMMU could have written (4 KiB pages, known capability bits, sane
 * address width and PASID range).
 */
bool xen_viommu_hyp_pv_caps_sane(const XenViommuPvIommuCaps *caps);

/* gflags for xc_domain_update_msi_irq; false if @dest > 255 or bad mode */
bool xen_viommu_hyp_pack_gflags(uint32_t dest, bool rh, bool dm,
                                uint8_t delivery, bool level, bool unmasked,
                                uint32_t *gflags);
/*
 * gvec and gflags of a compatibility-format MSI (QEMU's format); false if
 * the message is remappable, has vector 0 or a destination above 255.
 */
bool xen_viommu_hyp_msi_to_gflags(uint64_t addr, uint32_t data,
                                  bool unmasked, uint32_t *gvec,
                                  uint32_t *gflags);

/* Wrappers: return 0 or a negative errno */

/*
 * Inject a compatibility-format MSI (QEMU's format).  Refused with -EINVAL,
 * never forwarded: remappable messages (addr bit 4), vector 0 (Xen's PIRQ
 * encoding), addr[11:5] or addr[39:32] set, destinations above 255 without
 * ext_dest_id or above 32767 with it.
 */
int xen_viommu_hyp_inject_msi(XenViommuHyp *h, uint64_t addr, uint32_t data);
/*
 * Inject a message the unit did not translate (remapping off, or a
 * compatibility-format request passed through): the guest's own.  Xen's
 * PIRQ encoding (not remappable, vector 0, the PIRQ in dest and
 * addr[63:40]) is forwarded unchanged and counted in inject_msi's items;
 * PIRQ 0 is refused.  Anything else goes through inject_msi's checks.
 */
int xen_viommu_hyp_inject_untranslated_msi(XenViommuHyp *h, uint64_t addr,
                                           uint32_t data);
int xen_viommu_hyp_bind_pt_msi(XenViommuHyp *h, uint32_t gvec, uint32_t pirq,
                               uint32_t gflags, uint64_t gtable);
int xen_viommu_hyp_unbind_pt_msi(XenViommuHyp *h, uint32_t gvec,
                                 uint32_t pirq, uint32_t gflags);
/* @addr/@data in QEMU's format, 32-bit destinations allowed */
int xen_viommu_hyp_bind_pt_msi_ext(XenViommuHyp *h, uint32_t machine_irq,
                                   uint64_t addr, uint32_t data,
                                   uint32_t flags, uint64_t gtable);
int xen_viommu_hyp_unbind_pt_msi_ext(XenViommuHyp *h, uint32_t machine_irq);
/*
 * Push entries [first, first + nr) in batches of XEN_VIOMMU_IR_MAX_BATCH.
 * XEN_VIOMMU_IR_CLEAR applies to the first batch only, ENABLE/DISABLE/
 * BLOCK_COMPAT to every batch.  nr may be 0 to change state only.
 */
int xen_viommu_hyp_set_ir_entries(XenViommuHyp *h, uint32_t first,
                                  uint32_t nr, uint32_t flags,
                                  uint16_t ioapic_sid,
                                  const XenViommuHypIrEntry *entries);
int xen_viommu_hyp_pv_query_caps(XenViommuHyp *h, XenViommuPvIommuCaps *caps);
int xen_viommu_hyp_pv_init(XenViommuHyp *h, uint32_t max_ctx_no,
                           uint32_t arena_order);
int xen_viommu_hyp_pv_alloc_context(XenViommuHyp *h, uint32_t alloc_flags,
                                    uint16_t *ctx_no);
int xen_viommu_hyp_pv_free_context(XenViommuHyp *h, uint16_t ctx_no,
                                   uint32_t free_flags);
int xen_viommu_hyp_pv_reattach_device(XenViommuHyp *h, uint16_t ctx_no,
                                      uint32_t sbdf);
/*
 * Map @nr_pages 4 KiB pages gfn -> dfn, continuing preempted invocations.
 * *@done (may be NULL) gets the pages mapped, also on failure: the pages
 * [dfn, dfn + *done) are then mapped and the caller decides whether to
 * unmap them.
 */
int xen_viommu_hyp_pv_map_pages(XenViommuHyp *h, uint16_t ctx_no,
                                uint64_t gfn, uint64_t dfn, uint32_t nr_pages,
                                uint32_t map_flags, uint32_t *done);
int xen_viommu_hyp_pv_unmap_pages(XenViommuHyp *h, uint16_t ctx_no,
                                  uint64_t dfn, uint32_t nr_pages,
                                  uint32_t *done);
/*
 * Do @n map and unmap operations on context @ctx_no, in order, with as few
 * hypervisor invocations as possible: up to XEN_VIOMMU_PV_MULTI_MAX in one
 * multicall, a preempted entry continued on its own.  Each op's done and
 * ret are filled in; a failed op does not stop the others.  Counted as one
 * pv_multicall call (its hypercalls: the multicalls issued, its items: the
 * ops in them); an op issued on its own counts as a pv_map_pages or
 * pv_unmap_pages call; pages go to their items, continuations after
 * preemption to their hypercalls.  Returns 0 or the first failed op's
 * negative errno.
 */
int xen_viommu_hyp_pv_batch(XenViommuHyp *h, uint16_t ctx_no,
                            XenViommuPvPageOp *ops, unsigned n);

/* Double-only functions (tests and the TCG device); -ENOTSUP on native */

/*
 * Play Xen's vIOAPIC: @addr/@data is the interrupt request an IO-APIC RTE
 * produces (remappable format: addr bit 4, handle in addr[19:5] and addr[2],
 * SHV addr[3], subhandle data[15:0]).  Looked up in the pushed entries,
 * source-checked against the IO-APIC's SID and delivered.  Compatibility
 * format is delivered as today unless blocked.  0 when delivered.
 */
int xen_viommu_hyp_double_ioapic_msi(XenViommuHyp *h, uint64_t addr,
                                     uint32_t data);
/* Interrupt from a passthrough device bound with bind_pt_msi(_ext) */
int xen_viommu_hyp_double_fire_pirq(XenViommuHyp *h, uint32_t pirq);
/*
 * DMA of passthrough device @sbdf at @dfn through its context: 0 and *@gfn,
 * -EFAULT when not mapped, -ENODEV for a device not assigned.
 */
int xen_viommu_hyp_double_translate(XenViommuHyp *h, uint32_t sbdf,
                                    uint64_t dfn, uint64_t *gfn);
/* The same for a read or a write: -EACCES when the mapping does not allow it */
int xen_viommu_hyp_double_dma(XenViommuHyp *h, uint32_t sbdf, uint64_t dfn,
                              bool write, uint64_t *gfn);

/*
 * Assign machine device @sbdf to the guest, as the toolstack does before
 * the device model adds the passthrough device: 0, -EEXIST if it is.
 */
int xen_viommu_hyp_double_assign_device(XenViommuHyp *h, uint32_t sbdf);

typedef struct XenViommuHypDoubleStats {
    uint64_t msi_delivered;     /* inject_msi delivered */
    uint64_t msi_pirq;          /* inject_msi: Xen's PIRQ encoding, raised */
    uint64_t pirq_delivered;    /* fire_pirq delivered */
    uint64_t ioapic_delivered;
    uint64_t ioapic_blocked;
    uint32_t ir_present;        /* present entries in the table */
    bool ir_enabled;
    bool ir_block_compat;
    uint16_t ir_ioapic_sid;
    uint32_t pt_bound;          /* pirqs bound, both kinds */
    bool pv_initialised;
    uint32_t pv_contexts;       /* allocated, default excluded */
    uint64_t pv_mappings;       /* pages mapped, all contexts */
    uint32_t pv_attached;       /* devices outside the default context */
} XenViommuHypDoubleStats;

int xen_viommu_hyp_double_get_stats(const XenViommuHyp *h,
                                    XenViommuHypDoubleStats *st);

#endif /* HW_XEN_XEN_VIOMMU_HYP_H */
