/*
 * xen-viommu: bounded, domain-tagged IOTLB with LRU eviction
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Every entry is on three structures at once:
 *  - a chained hash table keyed by (did, page-aligned iova, level), with as
 *    many buckets as the capacity (rounded up to a power of two);
 *  - the global LRU list (head = least recently used) for eviction;
 *  - its domain's list, so domain and page flushes never scan other domains.
 * The cache counts its entries per page size, so lookups skip sizes it has
 * none of; a domain counts its own, so a page flush can pick the cheaper of
 * probing the range or scanning the domain.  Empty domains are freed.
 * Entries come from a pool allocated at creation (touched as they are first
 * used), so neither a hit nor a miss calls the allocator; memory stays
 * O(capacity).
 *
 * The leaf-table cache is a direct-mapped array keyed by (did, tables,
 * 2 MiB region), valid while its generation is current: a global or
 * domain flush is a generation bump (a domain flush drops every domain's
 * leaf tables, which costs only re-walks), a page-selective flush clears
 * the slots of the regions its range covers.
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/queue.h"
#include "qemu/atomic.h"
#include "xen_viommu_iotlb.h"

#define XVI_IOTLB_LEVELS 3      /* 4 KiB, 2 MiB, 1 GiB */
#define XVI_TABLE_SHIFT 21      /* a leaf table maps 2 MiB */
#define XVI_TABLE_SLOTS_MAX 4096
/* A page flush wider than this many regions drops all leaf tables */
#define XVI_TABLE_FLUSH_MAX 64

typedef struct XviIotlbKey {
    uint64_t iova;
    uint32_t pasid;             /* 0 in legacy mode */
    uint16_t did;
    uint8_t level;
} XviIotlbKey;

typedef struct XviIotlbDomain XviIotlbDomain;

typedef struct XviIotlbEntry {
    XviIotlbKey key;
    struct XviIotlbEntry *hnext;    /* hash chain, or the free list */
    XviTranslation t;
    XviIotlbDomain *dom;
    QTAILQ_ENTRY(XviIotlbEntry) lru;
    QLIST_ENTRY(XviIotlbEntry) dom_link;
} XviIotlbEntry;

struct XviIotlbDomain {
    uint16_t did;
    unsigned count;
    unsigned nr[XVI_IOTLB_LEVELS];  /* entries per page size */
    unsigned nr_pasid;              /* entries tagged with a PASID != 0 */
    QLIST_HEAD(, XviIotlbEntry) entries;
};

typedef struct XviTableSlot {
    uint64_t region;            /* iova >> XVI_TABLE_SHIFT */
    uint64_t root;
    uint64_t table;
    uint32_t gen;               /* valid while == XviIotlb.table_gen */
    uint16_t did;
    uint8_t perm;
} XviTableSlot;

struct XviIotlb {
    unsigned capacity;
    unsigned count;
    unsigned nr[XVI_IOTLB_LEVELS];  /* entries per page size, all domains */
    XviIotlbEntry **buckets;
    unsigned hash_bits;
    XviIotlbEntry *pool;        /* capacity entries */
    unsigned pool_used;         /* pool[pool_used..] never used yet */
    XviIotlbEntry *free;        /* returned entries, through hnext */
    GHashTable *domains;        /* did + 1 -> XviIotlbDomain */
    QTAILQ_HEAD(, XviIotlbEntry) lru;
    XviIotlbStats stats;
    XviTableSlot *tables;       /* leaf-table cache, nr_tables slots */
    unsigned nr_tables;         /* a power of two, or 0 */
    uint32_t table_gen;
    uint32_t gen;               /* xvi_iotlb_gen() */
};

static unsigned level_shift(unsigned level)
{
    return 12 + (level - 1) * 9;
}

static uint64_t level_mask(unsigned level)
{
    return MAKE_64BIT_MASK(0, level_shift(level));
}

/* @iova aligned to @level's page size */
static XviIotlbEntry **bucket(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                              uint64_t iova, unsigned level)
{
    uint64_t h = (iova >> 12) ^ ((uint64_t)did << 48) ^
                 ((uint64_t)level << 44) ^ ((uint64_t)pasid << 24);

    /* Fibonacci hashing spreads consecutive page numbers. */
    h *= 0x9e3779b97f4a7c15ULL;
    return &tlb->buckets[h >> (64 - tlb->hash_bits)];
}

/* did + 1 so that domain 0 is not a NULL key */
static gpointer dom_key(uint16_t did)
{
    return GUINT_TO_POINTER((unsigned)did + 1);
}

static XviIotlbDomain *find_domain(XviIotlb *tlb, uint16_t did)
{
    return g_hash_table_lookup(tlb->domains, dom_key(did));
}

static XviIotlbEntry *find_entry(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                                 uint64_t iova, unsigned level)
{
    XviIotlbEntry *e;

    iova &= ~level_mask(level);
    for (e = *bucket(tlb, did, pasid, iova, level); e; e = e->hnext) {
        if (e->key.iova == iova && e->key.did == did &&
            e->key.level == level && e->key.pasid == pasid) {
            return e;
        }
    }
    return NULL;
}

/* Unlink and free @e; returns true if that freed its domain too. */
static bool drop_entry(XviIotlb *tlb, XviIotlbEntry *e)
{
    XviIotlbDomain *dom = e->dom;
    XviIotlbEntry **pp = bucket(tlb, e->key.did, e->key.pasid, e->key.iova,
                                e->key.level);

    while (*pp != e) {
        pp = &(*pp)->hnext;
    }
    *pp = e->hnext;
    QTAILQ_REMOVE(&tlb->lru, e, lru);
    QLIST_REMOVE(e, dom_link);
    dom->nr[e->key.level - 1]--;
    dom->nr_pasid -= !!e->key.pasid;
    dom->count--;
    tlb->nr[e->key.level - 1]--;
    tlb->count--;
    e->hnext = tlb->free;
    tlb->free = e;
    if (!dom->count) {
        g_hash_table_remove(tlb->domains, dom_key(dom->did));
        return true;
    }
    return false;
}

/* Every flush: copies of translations taken before it are stale */
static void bump_gen(XviIotlb *tlb)
{
    uint32_t g = tlb->gen + 1;

    qatomic_store_release(&tlb->gen, g ? g : 1);
}

uint32_t xvi_iotlb_gen(XviIotlb *tlb)
{
    return qatomic_load_acquire(&tlb->gen);
}

static XviTableSlot *table_slot(XviIotlb *tlb, uint16_t did, uint64_t region)
{
    uint64_t h = (region ^ ((uint64_t)did << 40)) * 0x9e3779b97f4a7c15ULL;

    return &tlb->tables[(h >> 32) & (tlb->nr_tables - 1)];
}

/* Drop every cached leaf table */
static void tables_flush_all(XviIotlb *tlb)
{
    if (!++tlb->table_gen) {
        /* After 2^32 flushes: no stale slot may look current again */
        memset(tlb->tables, 0, tlb->nr_tables * sizeof(*tlb->tables));
        tlb->table_gen = 1;
    }
}

/* Drop @did's leaf tables of regions overlapping [first, last] */
static void tables_flush_range(XviIotlb *tlb, uint16_t did, uint64_t first,
                               uint64_t last)
{
    uint64_t r;

    if (!tlb->nr_tables) {
        return;
    }
    if ((last >> XVI_TABLE_SHIFT) - (first >> XVI_TABLE_SHIFT) >=
        XVI_TABLE_FLUSH_MAX) {
        tables_flush_all(tlb);
        return;
    }
    for (r = first >> XVI_TABLE_SHIFT; r <= last >> XVI_TABLE_SHIFT; r++) {
        XviTableSlot *t = table_slot(tlb, did, r);

        if (t->gen == tlb->table_gen && t->did == did && t->region == r) {
            t->gen = 0;
        }
    }
}

bool xvi_iotlb_lookup_table(XviIotlb *tlb, uint16_t did, uint64_t root,
                            uint64_t iova, XviLeafTable *out)
{
    uint64_t region = iova >> XVI_TABLE_SHIFT;
    XviTableSlot *t;

    if (tlb->nr_tables) {
        t = table_slot(tlb, did, region);
        if (t->gen == tlb->table_gen && t->did == did &&
            t->region == region && t->root == root) {
            out->table = t->table;
            out->perm = t->perm;
            tlb->stats.table_hits++;
            return true;
        }
    }
    tlb->stats.table_misses++;
    return false;
}

void xvi_iotlb_insert_table(XviIotlb *tlb, uint16_t did, uint64_t root,
                            uint64_t iova, const XviLeafTable *lt)
{
    XviTableSlot *t;

    if (!tlb->nr_tables) {
        return;
    }
    t = table_slot(tlb, did, iova >> XVI_TABLE_SHIFT);
    t->region = iova >> XVI_TABLE_SHIFT;
    t->root = root;
    t->table = lt->table;
    t->did = did;
    t->perm = lt->perm;
    t->gen = tlb->table_gen;
}

XviIotlb *xvi_iotlb_new(unsigned capacity)
{
    XviIotlb *tlb = g_new0(XviIotlb, 1);

    tlb->capacity = capacity;
    if (capacity) {
        tlb->nr_tables = MIN(pow2ceil(capacity), XVI_TABLE_SLOTS_MAX);
        tlb->tables = g_new0(XviTableSlot, tlb->nr_tables);
    }
    tlb->table_gen = 1;
    tlb->gen = 1;
    /* calloc: pages of the pool are only backed once entries are used */
    tlb->pool = g_new0(XviIotlbEntry, capacity);
    tlb->hash_bits = MAX(ctz64(pow2ceil(MAX(capacity, 16))), 4);
    tlb->buckets = g_new0(XviIotlbEntry *, 1ULL << tlb->hash_bits);
    tlb->domains = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    QTAILQ_INIT(&tlb->lru);
    return tlb;
}

void xvi_iotlb_free(XviIotlb *tlb)
{
    if (!tlb) {
        return;
    }
    xvi_iotlb_flush_all(tlb);
    g_hash_table_destroy(tlb->domains);
    g_free(tlb->buckets);
    g_free(tlb->pool);
    g_free(tlb->tables);
    g_free(tlb);
}

bool xvi_iotlb_lookup(XviIotlb *tlb, uint16_t did, uint64_t iova,
                      XviTranslation *out)
{
    return xvi_iotlb_lookup_pasid(tlb, did, 0, iova, out);
}

bool xvi_iotlb_lookup_pasid(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                            uint64_t iova, XviTranslation *out)
{
    unsigned level;

    for (level = 1; level <= XVI_IOTLB_LEVELS; level++) {
        XviIotlbEntry *e;

        if (!tlb->nr[level - 1]) {
            continue;
        }
        e = find_entry(tlb, did, pasid, iova, level);
        if (e) {
            /* Most recently used goes to the tail. */
            if (e != QTAILQ_LAST(&tlb->lru)) {
                QTAILQ_REMOVE(&tlb->lru, e, lru);
                QTAILQ_INSERT_TAIL(&tlb->lru, e, lru);
            }
            tlb->stats.hits++;
            if (out) {
                *out = e->t;
            }
            return true;
        }
    }
    tlb->stats.misses++;
    return false;
}

void xvi_iotlb_insert(XviIotlb *tlb, uint16_t did, const XviTranslation *t)
{
    xvi_iotlb_insert_pasid(tlb, did, 0, t);
}

void xvi_iotlb_insert_pasid(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                            const XviTranslation *t)
{
    XviIotlbDomain *dom;
    XviIotlbEntry *e, **pp;
    uint64_t mask;

    if (t->level < 1 || t->level > XVI_IOTLB_LEVELS || !tlb->capacity) {
        return;
    }
    mask = level_mask(t->level);
    tlb->stats.inserts++;

    e = find_entry(tlb, did, pasid, t->iova, t->level);
    if (e) {
        QTAILQ_REMOVE(&tlb->lru, e, lru);
    } else {
        if (tlb->count >= tlb->capacity) {
            /* Evict one entry; this may free @did's domain, so look after. */
            drop_entry(tlb, QTAILQ_FIRST(&tlb->lru));
            tlb->stats.evictions++;
        }
        dom = find_domain(tlb, did);
        if (!dom) {
            dom = g_new0(XviIotlbDomain, 1);
            dom->did = did;
            QLIST_INIT(&dom->entries);
            g_hash_table_insert(tlb->domains, dom_key(did), dom);
        }
        e = tlb->free;
        if (e) {
            tlb->free = e->hnext;
        } else {
            e = &tlb->pool[tlb->pool_used++];
        }
        e->key.iova = t->iova & ~mask;
        e->key.did = did;
        e->key.pasid = pasid;
        e->key.level = t->level;
        e->dom = dom;
        QLIST_INSERT_HEAD(&dom->entries, e, dom_link);
        dom->nr[t->level - 1]++;
        dom->nr_pasid += !!pasid;
        dom->count++;
        tlb->nr[t->level - 1]++;
        tlb->count++;
        pp = bucket(tlb, did, pasid, e->key.iova, e->key.level);
        e->hnext = *pp;
        *pp = e;
    }
    e->t = *t;
    e->t.iova = t->iova & ~mask;
    e->t.gpa = t->gpa & ~mask;
    e->t.mask = mask;
    QTAILQ_INSERT_TAIL(&tlb->lru, e, lru);
}

void xvi_iotlb_flush_all(XviIotlb *tlb)
{
    XviIotlbEntry *e, *next;

    bump_gen(tlb);
    tables_flush_all(tlb);
    /* O(entries): every bucket holding one is emptied as a whole */
    QTAILQ_FOREACH_SAFE(e, &tlb->lru, lru, next) {
        *bucket(tlb, e->key.did, e->key.pasid, e->key.iova,
                e->key.level) = NULL;
        e->hnext = tlb->free;
        tlb->free = e;
    }
    QTAILQ_INIT(&tlb->lru);
    g_hash_table_remove_all(tlb->domains);
    memset(tlb->nr, 0, sizeof(tlb->nr));
    tlb->stats.flushed += tlb->count;
    tlb->count = 0;
}

void xvi_iotlb_flush_domain(XviIotlb *tlb, uint16_t did)
{
    XviIotlbDomain *dom = find_domain(tlb, did);
    XviIotlbEntry *e, *next;

    bump_gen(tlb);
    tables_flush_all(tlb);
    if (!dom) {
        return;
    }
    QLIST_FOREACH_SAFE(e, &dom->entries, dom_link, next) {
        tlb->stats.flushed++;
        if (drop_entry(tlb, e)) {
            break;  /* that was the last one; @dom is gone */
        }
    }
}

void xvi_iotlb_flush_pages(XviIotlb *tlb, uint16_t did, uint64_t addr,
                           unsigned am)
{
    XviIotlbDomain *dom = find_domain(tlb, did);
    XviIotlbEntry *e, *next;
    uint64_t first, last, probes = 0;
    unsigned level;

    bump_gen(tlb);
    if (am >= 52) {
        first = 0;
        last = UINT64_MAX;
    } else {
        first = addr & ~MAKE_64BIT_MASK(0, 12 + am);
        last = first + MAKE_64BIT_MASK(0, 12 + am);
    }
    /* Leaf tables may be cached for a domain with no IOTLB entry left */
    tables_flush_range(tlb, did, first, last);
    if (!dom) {
        return;
    }

    /* Probes needed per present page size; at most 3 * 2^51, no overflow */
    for (level = 1; level <= XVI_IOTLB_LEVELS; level++) {
        unsigned shift = level_shift(level);

        if (dom->nr[level - 1]) {
            probes += (last >> shift) - (first >> shift) + 1;
        }
    }

    if (probes >= dom->count || dom->nr_pasid) {
        /*
         * Small domain or big range, or PASIDs to cover (probes find one
         * PASID's entries): scan the domain's own entries.
         */
        tlb->stats.flush_probes += dom->count;
        QLIST_FOREACH_SAFE(e, &dom->entries, dom_link, next) {
            if (e->key.iova <= last && e->key.iova + e->t.mask >= first) {
                tlb->stats.flushed++;
                if (drop_entry(tlb, e)) {
                    return;
                }
            }
        }
        return;
    }

    /* Big domain, small range: probe each page slot of each size. */
    for (level = 1; level <= XVI_IOTLB_LEVELS; level++) {
        uint64_t size = 1ULL << level_shift(level);
        uint64_t a = first & ~(size - 1);

        for (; dom->nr[level - 1]; a += size) {
            tlb->stats.flush_probes++;
            e = find_entry(tlb, did, 0, a, level);
            if (e) {
                tlb->stats.flushed++;
                if (drop_entry(tlb, e)) {
                    return;
                }
            }
            if (a >= (last & ~(size - 1))) {
                break;
            }
        }
    }
}

void xvi_iotlb_foreach(XviIotlb *tlb, XviIotlbVisitFn *fn, void *opaque)
{
    XviIotlbEntry *e;

    QTAILQ_FOREACH(e, &tlb->lru, lru) {
        fn(opaque, e->key.did, &e->t);
    }
}

void xvi_iotlb_flush_pasid(XviIotlb *tlb, uint16_t did, uint32_t pasid,
                           uint64_t addr, unsigned am)
{
    XviIotlbDomain *dom = find_domain(tlb, did);
    XviIotlbEntry *e, *next;
    uint64_t first = 0, last = UINT64_MAX;

    bump_gen(tlb);
    if (am < 52) {
        first = addr & ~MAKE_64BIT_MASK(0, 12 + am);
        last = first + MAKE_64BIT_MASK(0, 12 + am);
    }
    tables_flush_range(tlb, did, first, last);
    if (!dom) {
        return;
    }
    /* O(the domain's entries), whatever the range */
    tlb->stats.flush_probes += dom->count;
    QLIST_FOREACH_SAFE(e, &dom->entries, dom_link, next) {
        if (e->key.pasid == pasid && e->key.iova <= last &&
            e->key.iova + e->t.mask >= first) {
            tlb->stats.flushed++;
            if (drop_entry(tlb, e)) {
                return;
            }
        }
    }
}

unsigned xvi_iotlb_count(XviIotlb *tlb)
{
    return tlb->count;
}

unsigned xvi_iotlb_capacity(XviIotlb *tlb)
{
    return tlb->capacity;
}

void xvi_iotlb_get_stats(XviIotlb *tlb, XviIotlbStats *st)
{
    *st = tlb->stats;
}

void xvi_iotlb_reset_stats(XviIotlb *tlb)
{
    memset(&tlb->stats, 0, sizeof(tlb->stats));
}
