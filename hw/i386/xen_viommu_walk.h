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
};

/*
 * The interrupt address range (VT-d 3.15): no translation may output into
 * it, since writes there are interrupt requests that remapping must see.
 */
#define XVI_INTR_ADDR_FIRST 0xfee00000ULL
#define XVI_INTR_ADDR_LAST  0xfeefffffULL
#define XVI_PERM_READ  1
#define XVI_PERM_WRITE 2

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
} XviWalkConfig;

typedef struct XviContextEntry {
    uint8_t tt;           /* 0 = multi-level translation, 2 = pass-through */
    uint8_t levels;       /* 3, 4 or 5 (from AW); 0 if AW is unusable */
    uint16_t did;
    bool fpd;             /* fault processing disable */
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
 * For a pass-through context (tt == 2) no table is read: the result is the
 * identity 4 KiB page with read/write permission, or XVI_FR_ADDR_BEYOND_AW
 * above cfg->mgaw.  Any other tt, or levels outside 3..5, gives
 * XVI_FR_CTX_INVALID.
 */
int xvi_sl_walk(const XviWalkConfig *cfg, XviReadFn *read, void *opaque,
                const XviContextEntry *ce, uint64_t iova, unsigned access,
                XviTranslation *out);

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
