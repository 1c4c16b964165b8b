/*
 * xen-viommu: shadow IO page tables -- mirroring a guest's second-level
 * mappings into a PV-IOMMU context
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Pure logic: guest memory through a XviReadFn, the hypervisor through the
 * xen_viommu_hyp_* wrappers, so that unit tests run it against the
 * hypervisor double without a machine.  A XviShadow knows what one
 * hypervisor context holds (dfn -> gfn, permissions) and makes a range of it
 * equal to what the guest's tables say, issuing only the difference: one
 * map/unmap operation per run of pages contiguous in dfn (and gfn), all of
 * one sync in one batch.  Every table entry is guest-controlled: the work
 * one sync does is bounded by XVI_WALK_RANGE_MAX_TABLES and
 * XVI_SHADOW_MAX_PAGES.
 */

#ifndef HW_I386_XEN_VIOMMU_SHADOW_H
#define HW_I386_XEN_VIOMMU_SHADOW_H

#include "hw/xen/xen_viommu_hyp.h"
#include "xen_viommu_walk.h"

/* Pages one context mirrors at most (4 GiB) */
#define XVI_SHADOW_MAX_PAGES    (1u << 20)

typedef struct XviShadow XviShadow;

/* What went wrong in a sync, for the caller's fault and log */
typedef enum XviShadowError {
    XVI_SHADOW_OK,
    XVI_SHADOW_TABLES,          /* the guest's tables: walk fault */
    XVI_SHADOW_TOO_MANY,        /* more than XVI_SHADOW_MAX_PAGES */
    XVI_SHADOW_POOL,            /* hypervisor out of pages (-ENOMEM) */
    XVI_SHADOW_NOT_OWNED,       /* gfn not the guest's RAM (-EPERM) */
    XVI_SHADOW_HYPERVISOR,      /* any other hypervisor failure */
} XviShadowError;

typedef struct XviShadowResult {
    XviShadowError error;       /* the first one met */
    int fault;                  /* XVI_FR_* with XVI_SHADOW_TABLES */
    int errno_val;              /* negative errno from the hypervisor */
    uint64_t addr;              /* iova of the first page not mirrored */
    uint32_t mapped, unmapped;  /* pages, this sync */
    uint32_t map_runs, unmap_runs;      /* operations, this sync */
    uint32_t calls;             /* batches given to the wrappers: 0 or 1 */
} XviShadowResult;

/* An empty mirror of context @ctx_no (which must hold no mappings) */
XviShadow *xvi_shadow_new(XenViommuHyp *h, uint16_t ctx_no);
/* Forget the mirror; the context's mappings are left to the caller */
void xvi_shadow_free(XviShadow *sh);
uint16_t xvi_shadow_ctx(const XviShadow *sh);
uint32_t xvi_shadow_pages(const XviShadow *sh);

/*
 * Make the context's mappings of iovas [start, end] (inclusive) those of
 * @ce's tables.  Pages the tables map but the hypervisor refuses are left
 * unmapped (a device access to them faults) and reported in @res; the rest
 * of the range is still mirrored.  Returns 0 or -1 with @res->error set.
 */
int xvi_shadow_sync(XviShadow *sh, const XviWalkConfig *cfg,
                    XviReadFn *read, void *opaque, const XviContextEntry *ce,
                    uint64_t start, uint64_t end, XviShadowResult *res);

#endif /* HW_I386_XEN_VIOMMU_SHADOW_H */
