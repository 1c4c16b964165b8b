/*
 * xen-viommu: bounded, domain-tagged IOTLB with LRU eviction
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Caches XviTranslation results of the second-level walk (4 KiB, 2 MiB and
 * 1 GiB leaves) per domain id.  Memory is bounded by the capacity given at
 * creation; a full cache evicts its least recently used entry.  Lookup,
 * insert and eviction are O(1); a domain flush costs O(that domain's
 * entries); a page-selective flush costs O(min(range pages, domain
 * entries)).  Not thread-safe: the caller serialises access.
 *
 * It also holds a paging-structure cache for the last level: where the
 * 4 KiB leaf table of a 2 MiB-aligned IOVA region lies, so that a miss in
 * the IOTLB reads one table entry instead of walking every level.  It is
 * dropped wherever the IOTLB is flushed (a page-selective flush drops the
 * regions of its range), so it never outlives an invalidation.
 */

#ifndef HW_I386_XEN_VIOMMU_IOTLB_H
#define HW_I386_XEN_VIOMMU_IOTLB_H

#include "xen_viommu_walk.h"

typedef struct XviIotlb XviIotlb;

typedef struct XviIotlbStats {
    uint64_t hits, misses, inserts, evictions, flushed;
    /* Hash probes plus entries examined by xvi_iotlb_flush_pages() */
    uint64_t flush_probes;
    uint64_t table_hits, table_misses;  /* leaf-table cache lookups */
} XviIotlbStats;

/* @capacity 0 gives a cache that never holds anything. */
XviIotlb *xvi_iotlb_new(unsigned capacity);
void xvi_iotlb_free(XviIotlb *tlb);

/*
 * Find a cached translation of @iova for @did (any page size, smallest
 * first); on a hit copy it to @out (page-aligned iova/gpa, as inserted).
 */
bool xvi_iotlb_lookup(XviIotlb *tlb, uint16_t did, uint64_t iova,
                      XviTranslation *out);

/*
 * Cache @t (t->level 1..3; anything else is ignored).  Replaces an entry for
 * the same did/page/size.  t->iova and t->gpa are aligned down to the size.
 */
void xvi_iotlb_insert(XviIotlb *tlb, uint16_t did, const XviTranslation *t);

/*
 * Scalable mode tags entries with (did, PASID) too: the calls above are
 * those for PASID 0 (legacy mode's only tag).
 */
bool xvi_iotlb_lookup_pasid(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                            uint64_t iova, XviTranslation *out);
void xvi_iotlb_insert_pasid(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                            const XviTranslation *t);

void xvi_iotlb_flush_all(XviIotlb *tlb);
/* Every PASID of @did */
void xvi_iotlb_flush_domain(XviIotlb *tlb, uint16_t did);

/*
 * 2^am 4K pages at addr (addr aligned down to that size); drops any entry
 * (any size, any PASID) overlapping the range.  am >= 52 covers every
 * address.
 */
void xvi_iotlb_flush_pages(XviIotlb *tlb, uint16_t did, uint64_t addr,
                           unsigned am);
/* The same for the entries of one PASID of @did: O(@did's entries) */
void xvi_iotlb_flush_pasid(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                           uint64_t addr, unsigned am);

/*
 * The leaf table for @iova in the tables at @root (a context's SLPTPTR,
 * with its number of levels in bits 2:0) of domain @did.  Bounded and
 * direct-mapped: an insert may replace another region's entry.
 */
bool xvi_iotlb_lookup_table(XviIotlb *tlb, uint16_t did, uint64_t root,
                            uint64_t iova, XviLeafTable *out);
void xvi_iotlb_insert_table(XviIotlb *tlb, uint16_t did, uint64_t root,
                            uint64_t iova, const XviLeafTable *lt);

/*
 * Call @fn for every cached translation, least recently used first, without
 * touching the LRU order or the statistics (for checkers such as x-oracle).
 */
typedef void XviIotlbVisitFn(void *opaque, uint16_t did,
                             const XviTranslation *t);
void xvi_iotlb_foreach(XviIotlb *tlb, XviIotlbVisitFn *fn, void *opaque);

/*
 * Bumped (never to 0) by every flush call, whatever it found: a copy of a
 * translation taken at generation g is still valid while this is g.  The
 * one function that may be called without the caller's serialisation.
 */
uint32_t xvi_iotlb_gen(XviIotlb *tlb);

unsigned xvi_iotlb_count(XviIotlb *tlb);
unsigned xvi_iotlb_capacity(XviIotlb *tlb);
void xvi_iotlb_get_stats(XviIotlb *tlb, XviIotlbStats *st);
void xvi_iotlb_reset_stats(XviIotlb *tlb);

#endif /* HW_I386_XEN_VIOMMU_IOTLB_H */
