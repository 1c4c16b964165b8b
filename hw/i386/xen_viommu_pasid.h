/*
 * xen-viommu: VT-d scalable mode -- root/context entries, PASID directory
 * and table, first-level walk
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Pure logic, like xen_viommu_walk.c: guest memory is reached through
 * XviReadFn/XviWriteFn only, every entry is guest-controlled and bad
 * contents give the scalable-mode fault reason, never an assertion.
 */

#ifndef HW_I386_XEN_VIOMMU_PASID_H
#define HW_I386_XEN_VIOMMU_PASID_H

#include "xen_viommu_walk.h"

/* PASID-granular translation types (PASID entry PGTT) */
#define XVI_PGTT_FL        1
#define XVI_PGTT_SL        2
#define XVI_PGTT_NESTED    3
#define XVI_PGTT_PT        4

#define XVI_PASID_BITS     20

/* What the unit offers in scalable mode (ECAP/CAP) */
typedef struct XviSmConfig {
    XviWalkConfig walk;   /* widths, SAGAW, PT, page sizes (FL1GP too) */
    bool flts;            /* ECAP.FLTS: first-level translation */
    bool slts;            /* ECAP.SLTS: second-level translation */
    bool srs;             /* ECAP.SRS: supervisor requests */
    bool fl_5l;           /* CAP.FL5LP: 5-level first-level tables */
    bool nest;            /* ECAP.NEST: nested (first over second level) */
} XviSmConfig;

/* How one (requester, PASID) is translated, from its PASID entry */
typedef struct XviSmEntry {
    uint32_t pasid;
    uint8_t pgtt;         /* XVI_PGTT_* */
    uint16_t did;
    bool fpd;             /* context, PASID directory or PASID entry FPD */
    bool priv;            /* supervisor request */
    bool wpe;             /* first-level: supervisor writes honour R/W */
    uint8_t sl_levels;    /* second-level: 3..5 (from AW) */
    uint64_t slptptr;
    uint8_t fl_levels;    /* first-level: 4 or 5 (from FLPM) */
    uint64_t flptptr;
} XviSmEntry;

/*
 * Look up the scalable-mode root, context, PASID directory and PASID table
 * entries of bus/devfn for a request with PASID @pasid (@has_pasid) or
 * without one (the context's RID_PASID and RID_PRIV apply), decode and
 * validate them.  Returns XVI_FR_NONE or a scalable-mode fault reason;
 * @out->fpd is valid as far as the entries could be read, so the caller
 * can suppress recording.  @priv: the request is supervisor (requests with
 * PASID only).  Bits 11:0 of @root_table are ignored.
 */
int xvi_sm_lookup(const XviSmConfig *cfg, XviReadFn *read, void *opaque,
                  uint64_t root_table, uint8_t bus, uint8_t devfn,
                  bool has_pasid, uint32_t pasid, bool priv,
                  XviSmEntry *out);

/*
 * Translate @iova for @e.  @access is XVI_PERM_READ/WRITE.
 * First-level: the input must be canonical for the paging mode (0x80),
 * user requests need U/S at every level (0x81), writes need R/W at every
 * level unless a supervisor request with WPE clear (0x85); A is set in
 * every entry used and D in the leaf of a write (0x91 when that write
 * fails; @write may be NULL for no updates).  @out->perm is what a cached
 * copy may serve to any request of the (did, PASID): R/W only where the
 * tables allow writes and the leaf is dirty (a read of a clean page, or a
 * supervisor write to a read-only page, is not cached as writable), and
 * XVI_PERM_USER when a user request may use the page.
 * Second-level and pass-through: as xvi_sl_walk() with the scalable-mode
 * reasons.  Nested: every first-level table access and the output go
 * through the second level (faults 0x74-0x77 for table accesses it
 * refuses); the result is the smaller page with what both levels allow.
 */
int xvi_sm_walk(const XviSmConfig *cfg, XviReadFn *read, XviWriteFn *write,
                void *opaque, const XviSmEntry *e, uint64_t iova,
                unsigned access, XviTranslation *out);

/*
 * Whether a cached translation with @perm serves a request of @e with
 * @access (XVI_PERM_READ/WRITE), without walking again.
 */
bool xvi_sm_perm_ok(const XviSmEntry *e, unsigned access, uint8_t perm);

/* The second-level view of @e (SL or PT) for xvi_sl_walk(); sets ce->sm */
void xvi_sm_to_context(const XviSmEntry *e, XviContextEntry *ce);

#endif /* HW_I386_XEN_VIOMMU_PASID_H */
