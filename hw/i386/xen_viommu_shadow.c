/*
 * xen-viommu: shadow IO page tables -- mirroring a guest's second-level
 * mappings into a PV-IOMMU context
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A sync walks the guest's tables over the range (xvi_sl_walk_range) and
 * splits every leaf into the 4 KiB pages PV-IOMMU maps.  A page the mirror
 * already holds with the same gfn and permissions is only marked as seen
 * in this sync (an epoch); others are to be mapped.  Pages of the range
 * not seen are stale: they are unmapped first (so that a changed page's
 * dfn is free again), then the new pages are mapped.  Both lists are in
 * dfn order, so each run contiguous in dfn (and, for maps, in gfn with the
 * same permissions) is one operation, and all operations of a sync go to
 * the hypervisor as one batch (a multicall, continued through the
 * hypervisor's preemption by the wrappers).
 *
 * A walk that fails part way (a bad entry, the table budget, too many
 * pages) leaves mirrored only what it reached: everything else in the range
 * is unmapped, so the device sees less than the guest mapped, never more.
 */

#include "qemu/osdep.h"
#include "xen_viommu_shadow.h"

#define XVI_SHADOW_PAGE_SHIFT   12

typedef struct XviShadowPage {
    uint64_t dfn;               /* the key */
    uint64_t gfn;
    uint8_t perm;               /* XVI_PERM_* */
    uint32_t epoch;             /* last sync that saw it in the tables */
} XviShadowPage;

struct XviShadow {
    XenViommuHyp *h;
    uint16_t ctx_no;
    GHashTable *pages;          /* &dfn -> XviShadowPage */
    uint32_t epoch;
};

/* A page the tables map that the context does not hold (yet) */
typedef struct XviShadowWant {
    uint64_t dfn, gfn;
    uint8_t perm;
} XviShadowWant;

typedef struct XviShadowCollect {
    XviShadow *sh;
    uint64_t first_dfn, last_dfn;
    uint32_t seen;
    bool too_many;
    GArray *want;               /* XviShadowWant, dfn order */
} XviShadowCollect;

XviShadow *xvi_shadow_new(XenViommuHyp *h, uint16_t ctx_no)
{
    XviShadow *sh = g_new0(XviShadow, 1);

    sh->h = h;
    sh->ctx_no = ctx_no;
    sh->pages = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                      g_free);
    return sh;
}

void xvi_shadow_free(XviShadow *sh)
{
    if (sh) {
        g_hash_table_destroy(sh->pages);
        g_free(sh);
    }
}

uint16_t xvi_shadow_ctx(const XviShadow *sh)
{
    return sh->ctx_no;
}

uint32_t xvi_shadow_pages(const XviShadow *sh)
{
    return g_hash_table_size(sh->pages);
}

static void xvi_shadow_error(XviShadowResult *res, XviShadowError err,
                             int errno_val, uint64_t dfn)
{
    if (res->error == XVI_SHADOW_OK) {
        res->error = err;
        res->errno_val = errno_val;
        res->addr = dfn << XVI_SHADOW_PAGE_SHIFT;
    }
}

static int xvi_shadow_leaf(void *opaque, const XviTranslation *t)
{
    XviShadowCollect *c = opaque;
    XviShadow *sh = c->sh;
    uint64_t leaf_dfn = t->iova >> XVI_SHADOW_PAGE_SHIFT;
    uint64_t leaf_gfn = t->gpa >> XVI_SHADOW_PAGE_SHIFT;
    uint64_t leaf_last = (t->iova + t->mask) >> XVI_SHADOW_PAGE_SHIFT;
    uint64_t dfn = MAX(leaf_dfn, c->first_dfn);
    uint64_t last = MIN(leaf_last, c->last_dfn);

    for (; dfn <= last; dfn++) {
        uint64_t gfn = leaf_gfn + (dfn - leaf_dfn);
        XviShadowPage *p;

        if (c->seen == XVI_SHADOW_MAX_PAGES) {
            c->too_many = true;
            return 1;
        }
        c->seen++;
        p = g_hash_table_lookup(sh->pages, &dfn);
        if (p && p->gfn == gfn && p->perm == t->perm) {
            p->epoch = sh->epoch;
        } else {
            XviShadowWant w = { .dfn = dfn, .gfn = gfn, .perm = t->perm };

            g_array_append_val(c->want, w);
        }
    }
    return 0;
}

static gint xvi_shadow_cmp_dfn(gconstpointer a, gconstpointer b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint32_t xvi_shadow_map_flags(uint8_t perm)
{
    return (perm & XVI_PERM_READ ? XEN_VIOMMU_IOMMU_MAP_READABLE : 0) |
           (perm & XVI_PERM_WRITE ? XEN_VIOMMU_IOMMU_MAP_WRITEABLE : 0);
}

static void xvi_shadow_insert(XviShadow *sh, const XviShadowWant *w)
{
    XviShadowPage *p = g_new(XviShadowPage, 1);

    *p = (XviShadowPage) {
        .dfn = w->dfn, .gfn = w->gfn, .perm = w->perm, .epoch = sh->epoch,
    };
    g_hash_table_insert(sh->pages, &p->dfn, p);
}

/* Unmap operations for the sorted @dfns: one per run of consecutive dfns */
static void xvi_shadow_add_unmaps(GArray *ops, GArray *dfns)
{
    guint i = 0;

    while (i < dfns->len) {
        XenViommuPvPageOp op = {
            .unmap = true,
            .dfn = g_array_index(dfns, uint64_t, i),
            .nr_pages = 1,
        };

        while (i + op.nr_pages < dfns->len &&
               g_array_index(dfns, uint64_t, i + op.nr_pages) ==
               op.dfn + op.nr_pages) {
            op.nr_pages++;
        }
        g_array_append_val(ops, op);
        i += op.nr_pages;
    }
}

/*
 * Map operations for @want: one per run contiguous in dfn and gfn with the
 * same permissions.  @first gets the index in @want each starts at.
 */
static void xvi_shadow_add_maps(GArray *ops, GArray *first, GArray *want)
{
    guint i = 0;

    while (i < want->len) {
        const XviShadowWant *w = &g_array_index(want, XviShadowWant, i);
        XenViommuPvPageOp op = {
            .gfn = w->gfn,
            .dfn = w->dfn,
            .nr_pages = 1,
            .map_flags = xvi_shadow_map_flags(w->perm),
        };

        while (i + op.nr_pages < want->len) {
            const XviShadowWant *x = &g_array_index(want, XviShadowWant,
                                                    i + op.nr_pages);

            if (x->dfn != w->dfn + op.nr_pages ||
                x->gfn != w->gfn + op.nr_pages || x->perm != w->perm) {
                break;
            }
            op.nr_pages++;
        }
        g_array_append_val(ops, op);
        g_array_append_val(first, i);
        i += op.nr_pages;
    }
}

/*
 * Unmaps first (a changed page's dfn must be free before it is mapped
 * again), then maps, all in one batch; then the mirror follows what the
 * hypervisor did.  A page that failed to unmap stays in the mirror, stale,
 * so the next sync tries again -- unless the hypervisor says it is not
 * mapped at all.
 */
static void xvi_shadow_apply(XviShadow *sh, GArray *stale, GArray *want,
                             XviShadowResult *res)
{
    g_autoptr(GArray) ops = g_array_new(false, false,
                                        sizeof(XenViommuPvPageOp));
    g_autoptr(GArray) first = g_array_new(false, false, sizeof(guint));
    guint nr_unmaps, i, k;

    xvi_shadow_add_unmaps(ops, stale);
    nr_unmaps = ops->len;
    xvi_shadow_add_maps(ops, first, want);
    if (!ops->len) {
        return;
    }
    xen_viommu_hyp_pv_batch(sh->h, sh->ctx_no,
                            &g_array_index(ops, XenViommuPvPageOp, 0),
                            ops->len);
    res->calls++;
    res->unmap_runs = nr_unmaps;
    res->map_runs = ops->len - nr_unmaps;

    for (i = 0; i < ops->len; i++) {
        const XenViommuPvPageOp *op = &g_array_index(ops, XenViommuPvPageOp,
                                                     i);
        uint32_t done = MIN(op->done, op->nr_pages);

        if (op->unmap) {
            uint32_t drop = done + (op->ret == -ENOENT && done < op->nr_pages);

            for (k = 0; k < drop; k++) {
                uint64_t dfn = op->dfn + k;

                g_hash_table_remove(sh->pages, &dfn);
            }
            res->unmapped += done;
            if (op->ret < 0) {
                xvi_shadow_error(res, XVI_SHADOW_HYPERVISOR, op->ret,
                                 op->dfn + done);
            }
            continue;
        }
        for (k = 0; k < done; k++) {
            xvi_shadow_insert(sh, &g_array_index(want, XviShadowWant,
                                                 g_array_index(first, guint,
                                                               i - nr_unmaps)
                                                 + k));
        }
        res->mapped += done;
        if (op->ret < 0) {
            xvi_shadow_error(res, op->ret == -ENOMEM ? XVI_SHADOW_POOL :
                             op->ret == -EPERM ? XVI_SHADOW_NOT_OWNED :
                             XVI_SHADOW_HYPERVISOR, op->ret, op->dfn + done);
        }
    }
}

typedef struct XviShadowStale {
    XviShadow *sh;
    uint64_t first_dfn, last_dfn;
    GArray *dfns;
} XviShadowStale;

static void xvi_shadow_stale_one(gpointer key, gpointer value,
                                 gpointer opaque)
{
    XviShadowStale *st = opaque;
    XviShadowPage *p = value;

    if (p->dfn >= st->first_dfn && p->dfn <= st->last_dfn &&
        p->epoch != st->sh->epoch) {
        g_array_append_val(st->dfns, p->dfn);
    }
}

/* Pages of [first_dfn, last_dfn] the mirror holds and the sync did not see */
static GArray *xvi_shadow_stale(XviShadow *sh, uint64_t first_dfn,
                                uint64_t last_dfn)
{
    XviShadowStale st = {
        .sh = sh, .first_dfn = first_dfn, .last_dfn = last_dfn,
        .dfns = g_array_new(false, false, sizeof(uint64_t)),
    };
    uint64_t held = g_hash_table_size(sh->pages);

    /* Look up the range page by page or scan the mirror, whichever is less */
    if (last_dfn - first_dfn < held) {
        uint64_t dfn;

        for (dfn = first_dfn; dfn <= last_dfn; dfn++) {
            XviShadowPage *p = g_hash_table_lookup(sh->pages, &dfn);

            if (p && p->epoch != sh->epoch) {
                g_array_append_val(st.dfns, dfn);
            }
        }
    } else {
        g_hash_table_foreach(sh->pages, xvi_shadow_stale_one, &st);
        g_array_sort(st.dfns, xvi_shadow_cmp_dfn);
    }
    return st.dfns;
}

int xvi_shadow_sync(XviShadow *sh, const XviWalkConfig *cfg,
                    XviReadFn *read, void *opaque, const XviContextEntry *ce,
                    uint64_t start, uint64_t end, XviShadowResult *res)
{
    XviShadowCollect c = {
        .sh = sh,
        .first_dfn = start >> XVI_SHADOW_PAGE_SHIFT,
        .last_dfn = end >> XVI_SHADOW_PAGE_SHIFT,
        .want = g_array_new(false, false, sizeof(XviShadowWant)),
    };
    g_autoptr(GArray) stale = NULL;
    int ret;

    memset(res, 0, sizeof(*res));
    if (start > end) {
        g_array_free(c.want, true);
        return 0;
    }
    /* Epoch 0 is never current, so a new page is never taken as seen */
    if (++sh->epoch == 0) {
        sh->epoch = 1;
    }
    ret = xvi_sl_walk_range(cfg, read, opaque, ce, start, end,
                            xvi_shadow_leaf, &c);
    if (ret < 0) {
        res->error = XVI_SHADOW_TABLES;
        res->fault = -ret;
        res->addr = start;
    } else if (c.too_many) {
        res->error = XVI_SHADOW_TOO_MANY;
        res->addr = start;
    }

    stale = xvi_shadow_stale(sh, c.first_dfn, c.last_dfn);
    xvi_shadow_apply(sh, stale, c.want, res);
    g_array_free(c.want, true);
    return res->error == XVI_SHADOW_OK ? 0 : -1;
}
