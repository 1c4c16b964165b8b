/*
 * xen-viommu: VT-d legacy-mode root/context lookup and second-level walk
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Pure logic: guest memory is reached only through a XviReadFn, so this
 * file builds into unit tests that link nothing but qemuutil.  Every table
 * entry is guest-controlled; bad contents yield a VT-d fault reason, never an
 * assertion.
 */

#ifndef HW_I386_XEN_VIOMMU_WALK_H
#define HW_I386_XEN_VIOMMU_WALK_H

/* Read guest-physical memory; false when the access fails (unbacked/MMIO). */
typedef bool XviReadFn(void *opaque, uint64_t addr, void *buf, size_t len);
/* Write guest-physical memory (A/D updates); false when it fails. */
typedef bool XviWriteFn(void *opaque, uint64_t addr, const void *buf,
                        size_t len);

/* VT-d DMA-remapping fault reasons (spec Appendix A, legacy mode) */
enum {
    XVI_FR_NONE = 0,
    XVI_FR_ROOT_NP = 0x1,        /* root entry present bit clear */
    XVI_FR_CTX_NP = 0x2,         /* context entry present bit clear */
    XVI_FR_CTX_INVALID = 0x3,    /* invalid context programming (TT, AW), */
                                 /* or the SLPTPTR table unreadable */
    XVI_FR_ADDR_BEYOND_AW = 0x4, /* input address above the AGAW/MGAW */
    XVI_FR_WRITE = 0x5,          /* write to a page without W */
    XVI_FR_READ = 0x6,           /* read of a page without R */
    XVI_FR_PT_ACCESS = 0x7,      /* paging-structure read failed */
    XVI_FR_ROOT_ACCESS = 0x8,    /* root table read failed */
    XVI_FR_CTX_ACCESS = 0x9,     /* context table read failed */
    XVI_FR_ROOT_RSVD = 0xa,      /* reserved bit set in root entry */
    XVI_FR_CTX_RSVD = 0xb,       /* reserved bit set in context entry */
    XVI_FR_PTE_RSVD = 0xc,       /* reserved bit set in a paging entry */
    XVI_FR_TT_BLOCKED = 0xd,     /* translation type not allowed */
    XVI_FR_INTR_ADDR = 0xe,      /* output address in the interrupt range */

    /* Scalable mode (RTADDR.TTM = 01b) */
    XVI_FR_SM_RTADDR = 0x30,     /* RTADDR.TTM is a reserved value */
    XVI_FR_SM_TTM_PASID = 0x31,  /* request with PASID, TTM legacy */
    XVI_FR_SM_ROOT_ACCESS = 0x38,
    XVI_FR_SM_ROOT_NP = 0x39,    /* LP or UP clear */
    XVI_FR_SM_ROOT_RSVD = 0x3a,
    XVI_FR_SM_CTX_ACCESS = 0x40,
    XVI_FR_SM_CTX_NP = 0x41,
    XVI_FR_SM_CTX_RSVD = 0x42,
    XVI_FR_SM_CTX_INVALID = 0x43,
    XVI_FR_SM_PASID_DISABLED = 0x45, /* request with PASID, PASIDE clear */
    XVI_FR_SM_PASID_RANGE = 0x46,    /* PASID beyond the directory (PDTS) */
    XVI_FR_SM_RID_PASID = 0x48,      /* RID_PASID beyond the directory */
    XVI_FR_SM_PDE_ACCESS = 0x50,
    XVI_FR_SM_PDE_NP = 0x51,
    XVI_FR_SM_PDE_RSVD = 0x52,
    XVI_FR_SM_PE_ACCESS = 0x58,
    XVI_FR_SM_PE_NP = 0x59,
    XVI_FR_SM_PE_RSVD = 0x5a,
    XVI_FR_SM_PE_INVALID = 0x5b,     /* PGTT, AW or FLPM not supported */
    XVI_FR_SM_PE_SRE = 0x5d,         /* supervisor request, SRE clear */
    XVI_FR_FL_ACCESS = 0x70,         /* a first-level table unreadable */
    XVI_FR_FL_NP = 0x71,
    XVI_FR_FL_RSVD = 0x72,
    XVI_FR_FL_ROOT = 0x73,           /* the FLPTPTR table unreadable */
    /* Nested: the second level refuses a first-level table access */
    XVI_FR_NEST_BEYOND_AW = 0x74,    /* its address beyond the width */
    XVI_FR_NEST_ROOT_READ = 0x75,    /* the FLPTPTR table's read */
    XVI_FR_NEST_READ = 0x76,         /* a lower table's read */
    XVI_FR_NEST_WRITE = 0x77,        /* an A/D write */
    XVI_FR_SL_SM_ACCESS = 0x78,      /* a second-level table unreadable */
    XVI_FR_SL_SM_NP = 0x79,          /* second-level entry R = W = 0 */
    XVI_FR_SL_SM_RSVD = 0x7a,
    XVI_FR_SL_SM_ROOT = 0x7b,        /* the SLPTPTR table unreadable */
    XVI_FR_SM_CANONICAL = 0x80,      /* first-level input not canonical */
    XVI_FR_SM_USER = 0x81,           /* user request, U/S clear */
    XVI_FR_SM_BEYOND_AW = 0x83,      /* input above the address width */
    XVI_FR_SM_WRITE = 0x85,
    XVI_FR_SM_READ = 0x86,
    XVI_FR_SM_INTR_ADDR = 0x87,
    XVI_FR_FL_AD_UPDATE = 0x91,      /* setting A/D in an entry failed */
};

/*
 * The interrupt address range (VT-d 3.15): no translation may output into
 * it, since writes there are interrupt requests that remapping must see.
 */
#define XVI_INTR_ADDR_FIRST 0xfee00000ULL
#define XVI_INTR_ADDR_LAST  0xfeefffffULL
#define XVI_PERM_READ  1
#define XVI_PERM_WRITE 2
/* First-level: U/S set at every level (a user request may use it) */
#define XVI_PERM_USER  4

/* Context-entry translation types (legacy mode) */
#define XVI_TT_MULTI_LEVEL 0
#define XVI_TT_DEV_TLB     1
#define XVI_TT_PASS_THROUGH 2

typedef struct XviWalkConfig {
    unsigned mgaw;        /* guest address width in bits: 39, 48 or 57 */
    unsigned haw;         /* host address width (bits of output address) */
    uint8_t sagaw;        /* CAP.SAGAW: bit1=3-, bit2=4-, bit3=5-level */
    bool pt_supported;    /* ECAP.PT: TT=2 allowed */
    bool sp_2m, sp_1g;    /* CAP.SLLPS superpage support */
    bool fl_1g;           /* CAP.FL1GP: first-level 1 GiB pages */
} XviWalkConfig;

typedef struct XviContextEntry {
    uint8_t tt;           /* 0 = multi-level translation, 2 = pass-through */
    uint8_t levels;       /* 3, 4 or 5 (from AW); 0 if AW is unusable */
    uint16_t did;
    bool fpd;             /* fault processing disable */
    bool sm;              /* scalable mode: its fault reasons */
    uint64_t slptptr;     /* page-aligned second-level table root */
} XviContextEntry;

/*
 * Fetch root and legacy (128-bit) context entry for bus/devfn from the root
 * table at @root_table, decode and validate them. Returns XVI_FR_NONE or a
 * fault reason. @ce->fpd is valid whenever the context entry could be read
 * (even if the result is a fault), so the caller can suppress recording.
 * Bits 11:0 of @root_table are ignored (RTADDR_REG keeps TTM there).
 */
int xvi_context_lookup(const XviWalkConfig *cfg, XviReadFn *read, void *opaque,
                       uint64_t root_table, uint8_t bus, uint8_t devfn,
                       XviContextEntry *ce);

typedef struct XviTranslation {
    uint64_t iova;        /* input address, aligned to the page size */
    uint64_t gpa;         /* output address, aligned to the page size */
    uint64_t mask;        /* page size - 1: 0xfff, 0x1fffff or 0x3fffffff */
    uint8_t perm;         /* XVI_PERM_* effective (AND over all levels) */
    uint8_t level;        /* 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB leaf */
} XviTranslation;

/*
 * The level loop shared by the table formats (second-level here,
 * first-level in xen_viommu_pasid.c): index, read and decode one entry per
 * level, AND the permissions, stop at a leaf.  A format says how its
 * entries decode, which access its permissions allow and which fault
 * reasons it reports.
 */
/*
 * A leaf (level-1) table: where it is and what the levels above it allow,
 * as a paging-structure cache keeps it (xen_viommu_iotlb.h).
 */
typedef struct XviLeafTable {
    uint64_t table;     /* guest-physical address of the level-1 table */
    uint8_t perm;       /* XVI_PERM_* ANDed over the levels above it */
    bool found;         /* a walk went through it (XviWalkReq.leaf_table) */
} XviLeafTable;

typedef struct XviWalkReq {
    const XviWalkConfig *cfg;
    XviReadFn *read;
    XviWriteFn *write;    /* A/D updates; NULL for formats without them */
    void *opaque;
    uint64_t table;       /* page-aligned top table */
    unsigned levels;      /* 3..5 */
    uint64_t iova;
    unsigned access;      /* XVI_PERM_READ/WRITE; XVI_PERM_USER: user */
    bool wpe;             /* first-level: supervisor writes honour R/W */
    /*
     * Paging-structure cache for the last level, for formats without a
     * done() callback (which needs the whole path): with @start, only the
     * entry in that leaf table is read, the levels above taken as cached;
     * @leaf_table, if set, gets the leaf table the walk went through.
     */
    const XviLeafTable *start;
    XviLeafTable *leaf_table;
} XviWalkReq;

typedef struct XviPte {
    uint64_t addr;        /* next table, or the leaf's page frame */
    uint8_t perm;         /* XVI_PERM_* this entry allows */
    bool leaf;
} XviPte;

#define XVI_WALK_MAX_LEVELS 5

typedef struct XviWalkFormat {
    /* Decode @pte at @level: XVI_FR_NONE, or not present / reserved */
    int (*decode)(const XviWalkReq *req, uint64_t pte, unsigned level,
                  XviPte *out);
    /* The fault of permissions @perm for the request, or XVI_FR_NONE */
    int (*check)(const XviWalkReq *req, uint8_t perm);
    /*
     * Optional, after a successful translation: @n entries from the top
     * (address, value) of the path, e.g. for A/D updates.  May fault and
     * may narrow @t->perm.
     */
    int (*done)(const XviWalkReq *req, const uint64_t *addr,
                const uint64_t *pte, unsigned n, XviTranslation *t);
    uint8_t fr_root_read;   /* the top table is unreadable */
    uint8_t fr_table_read;  /* a lower table is unreadable */
    /* Output in the interrupt range; XVI_FR_NONE: not checked there */
    uint8_t fr_intr;
} XviWalkFormat;

/*
 * Walk @req with @fmt.  On a permission fault @out is filled (as for
 * xvi_sl_walk); otherwise it is filled only on success.  At most
 * @req->levels reads.
 */
int xvi_walk_levels(const XviWalkFormat *fmt, const XviWalkReq *req,
                    XviTranslation *out);

/*
 * Walk the second-level tables of @ce for @iova. @access is the XVI_PERM_*
 * needed. On success fills @out and returns XVI_FR_NONE. If the translation
 * exists but lacks the needed permission, fills @out and returns
 * XVI_FR_WRITE/XVI_FR_READ. Not-present entries (R=W=0) fault with
 * XVI_FR_WRITE for writes and XVI_FR_READ for reads (as hardware reports).
 * A translation whose output falls in the interrupt address range gives
 * XVI_FR_INTR_ADDR; a superpage that overlaps the range only in part is
 * reported as the 4 KiB page @iova falls in, so that no cached or notified
 * entry ever covers the range.
 *
 * With @ce->sm the scalable-mode fault reasons are reported instead:
 * XVI_FR_SL_SM_* for the tables, XVI_FR_SM_READ/WRITE, _BEYOND_AW and
 * _INTR_ADDR.
 *
 * For a pass-through context (tt == 2) no table is read: the result is the
 * identity 4 KiB page with read/write permission, or XVI_FR_ADDR_BEYOND_AW
 * above cfg->mgaw.  Any other tt, or levels outside 3..5, gives
 * XVI_FR_CTX_INVALID.
 */
int xvi_sl_walk(const XviWalkConfig *cfg, XviReadFn *read, void *opaque,
                const XviContextEntry *ce, uint64_t iova, unsigned access,
                XviTranslation *out);

/*
 * xvi_sl_walk() for a unit with a paging-structure cache: @start, if not
 * NULL, is the leaf table an earlier walk of the same context found for
 * the 2 MiB region of @iova (one read instead of a walk, as hardware's
 * caches do until software invalidates); @leaf_table, if not NULL, gets
 * the leaf table this walk went through (found = false when it ended
 * above level 1: a superpage, a fault, pass-through), for the caller to
 * cache.
 */
int xvi_sl_walk_cached(const XviWalkConfig *cfg, XviReadFn *read,
                       void *opaque, const XviContextEntry *ce, uint64_t iova,
                       unsigned access, const XviLeafTable *start,
                       XviLeafTable *leaf_table, XviTranslation *out);

/*
 * Visit every present leaf mapping of @ce that overlaps [start, end]
 * (inclusive), in address order, calling @fn for each (a superpage leaf is
 * reported once with its own iova/mask). Stops and returns @fn's value if
 * it returns non-zero. Bounded by the range and by present entries. Returns a
 * negative fault reason (-XVI_FR_*) if a table read fails or an entry has
 * reserved bits; 0 when done. (Needed later to mirror mappings into Xen.)
 *
 * Details: a leaf is reported only if some access through it succeeds
 * (effective perm != 0), so a subtree below an entry that already leaves no
 * permission is skipped unread.  A leaf whose output lies in the interrupt
 * address range is not reported (nothing may be mapped there); a superpage
 * overlapping it is reported as its smaller pages outside it.  @end is
 * clamped to the context's address width, so [0, UINT64_MAX] means
 * "everything"; start > end visits nothing.
 * Only multi-level contexts (tt == 0) can be walked; others give
 * -XVI_FR_CTX_INVALID.  @fn should return a positive value to stop, so it
 * cannot be mistaken for a fault.
 *
 * At most XVI_WALK_RANGE_MAX_TABLES tables are read in one call (enough
 * for 32 GiB mapped with 4 KiB pages); a walk that needs more (shared or
 * self-referencing tables) stops with -XVI_FR_PT_ACCESS.
 */
#define XVI_WALK_RANGE_MAX_TABLES 16384
typedef int XviLeafFn(void *opaque, const XviTranslation *t);
int xvi_sl_walk_range(const XviWalkConfig *cfg, XviReadFn *read, void *opaque,
                      const XviContextEntry *ce, uint64_t start, uint64_t end,
                      XviLeafFn *fn, void *fn_opaque);

/*
 * Input address width in bits of @ce: min(MGAW, AGAW) for multi-level
 * translation, MGAW for pass-through, 0 when @ce->levels is unusable.
 */
unsigned xvi_context_aw(const XviWalkConfig *cfg, const XviContextEntry *ce);

#endif /* HW_I386_XEN_VIOMMU_WALK_H */
