/*
 * xen-viommu: bounded, domain-tagged IOTLB with LRU eviction
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Every entry is on three structures at once:
 *  - a hash table keyed by (did, page-aligned iova, level) for lookups;
 *  - the global LRU list (head = least recently used) for eviction;
 *  - its domain's list, so domain and page flushes never scan other domains.
 * A domain also counts its entries per page size, so lookups skip sizes it
 * has none of and a page flush can pick the cheaper of probing the range or
 * scanning the domain.  Empty domains are freed: memory stays O(capacity).
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/queue.h"
#include "xen_viommu_iotlb.h"

#define XVI_IOTLB_LEVELS 3      /* 4 KiB, 2 MiB, 1 GiB */

typedef struct XviIotlbKey {
    uint64_t iova;
    uint16_t did;
    uint8_t level;
} XviIotlbKey;

typedef struct XviIotlbDomain XviIotlbDomain;

typedef struct XviIotlbEntry {
    XviIotlbKey key;            /* first: the hash table keys on it */
    XviTranslation t;
    XviIotlbDomain *dom;
    QTAILQ_ENTRY(XviIotlbEntry) lru;
    QLIST_ENTRY(XviIotlbEntry) dom_link;
} XviIotlbEntry;

struct XviIotlbDomain {
    uint16_t did;
    unsigned count;
    unsigned nr[XVI_IOTLB_LEVELS];  /* entries per page size */
    QLIST_HEAD(, XviIotlbEntry) entries;
};

struct XviIotlb {
    unsigned capacity;
    unsigned count;
    GHashTable *entries;        /* XviIotlbKey -> XviIotlbEntry */
    GHashTable *domains;        /* did + 1 -> XviIotlbDomain */
    QTAILQ_HEAD(, XviIotlbEntry) lru;
    XviIotlbStats stats;
};

static unsigned level_shift(unsigned level)
{
    return 12 + (level - 1) * 9;
}

static uint64_t level_mask(unsigned level)
{
    return MAKE_64BIT_MASK(0, level_shift(level));
}

static guint key_hash(gconstpointer p)
{
    const XviIotlbKey *k = p;
    uint64_t h = (k->iova >> 12) ^ ((uint64_t)k->did << 48) ^
                 ((uint64_t)k->level << 44);

    /* Fibonacci hashing spreads consecutive page numbers. */
    h *= 0x9e3779b97f4a7c15ULL;
    return h >> 32;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    const XviIotlbKey *ka = a, *kb = b;

    return ka->iova == kb->iova && ka->did == kb->did &&
           ka->level == kb->level;
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

static XviIotlbEntry *find_entry(XviIotlb *tlb, uint16_t did, uint64_t iova,
                                 unsigned level)
{
    XviIotlbKey key = {
        .iova = iova & ~level_mask(level),
        .did = did,
        .level = level,
    };

    return g_hash_table_lookup(tlb->entries, &key);
}

/* Unlink and free @e; returns true if that freed its domain too. */
static bool drop_entry(XviIotlb *tlb, XviIotlbEntry *e)
{
    XviIotlbDomain *dom = e->dom;

    g_hash_table_remove(tlb->entries, &e->key);
    QTAILQ_REMOVE(&tlb->lru, e, lru);
    QLIST_REMOVE(e, dom_link);
    dom->nr[e->key.level - 1]--;
    dom->count--;
    tlb->count--;
    g_free(e);
    if (!dom->count) {
        g_hash_table_remove(tlb->domains, dom_key(dom->did));
        return true;
    }
    return false;
}

XviIotlb *xvi_iotlb_new(unsigned capacity)
{
    XviIotlb *tlb = g_new0(XviIotlb, 1);

    tlb->capacity = capacity;
    tlb->entries = g_hash_table_new(key_hash, key_equal);
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
    g_hash_table_destroy(tlb->entries);
    g_hash_table_destroy(tlb->domains);
    g_free(tlb);
}

bool xvi_iotlb_lookup(XviIotlb *tlb, uint16_t did, uint64_t iova,
                      XviTranslation *out)
{
    XviIotlbDomain *dom = find_domain(tlb, did);
    unsigned level;

    for (level = 1; dom && level <= XVI_IOTLB_LEVELS; level++) {
        XviIotlbEntry *e;

        if (!dom->nr[level - 1]) {
            continue;
        }
        e = find_entry(tlb, did, iova, level);
        if (e) {
            /* Most recently used goes to the tail. */
            QTAILQ_REMOVE(&tlb->lru, e, lru);
            QTAILQ_INSERT_TAIL(&tlb->lru, e, lru);
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
    XviIotlbDomain *dom;
    XviIotlbEntry *e;
    uint64_t mask;

    if (t->level < 1 || t->level > XVI_IOTLB_LEVELS || !tlb->capacity) {
        return;
    }
    mask = level_mask(t->level);
    tlb->stats.inserts++;

    e = find_entry(tlb, did, t->iova, t->level);
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
        e = g_new0(XviIotlbEntry, 1);
        e->key.iova = t->iova & ~mask;
        e->key.did = did;
        e->key.level = t->level;
        e->dom = dom;
        QLIST_INSERT_HEAD(&dom->entries, e, dom_link);
        dom->nr[t->level - 1]++;
        dom->count++;
        tlb->count++;
        g_hash_table_add(tlb->entries, &e->key);
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

    QTAILQ_FOREACH_SAFE(e, &tlb->lru, lru, next) {
        g_free(e);
    }
    QTAILQ_INIT(&tlb->lru);
    g_hash_table_remove_all(tlb->entries);
    g_hash_table_remove_all(tlb->domains);
    tlb->stats.flushed += tlb->count;
    tlb->count = 0;
}

void xvi_iotlb_flush_domain(XviIotlb *tlb, uint16_t did)
{
    XviIotlbDomain *dom = find_domain(tlb, did);
    XviIotlbEntry *e, *next;

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

    if (!dom) {
        return;
    }
    if (am >= 52) {
        first = 0;
        last = UINT64_MAX;
    } else {
        first = addr & ~MAKE_64BIT_MASK(0, 12 + am);
        last = first + MAKE_64BIT_MASK(0, 12 + am);
    }

    /* Probes needed per present page size; at most 3 * 2^51, no overflow */
    for (level = 1; level <= XVI_IOTLB_LEVELS; level++) {
        unsigned shift = level_shift(level);

        if (dom->nr[level - 1]) {
            probes += (last >> shift) - (first >> shift) + 1;
        }
    }

    if (probes >= dom->count) {
        /* Small domain or big range: scan the domain's own entries. */
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
            e = find_entry(tlb, did, a, level);
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
