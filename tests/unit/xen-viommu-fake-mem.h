/*
 * xen-viommu unit tests: a fake guest memory with second-level tables
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A buffer at MEM_BASE whose read callback fails for anything outside it,
 * like unbacked guest memory, and helpers that build VT-d second-level
 * tables in it.  Shared by the walk and shadow tests.
 */

#ifndef TESTS_UNIT_XEN_VIOMMU_FAKE_MEM_H
#define TESTS_UNIT_XEN_VIOMMU_FAKE_MEM_H

#include "qemu/bswap.h"
#include "qemu/bitops.h"
#include "hw/i386/xen_viommu_walk.h"

#ifndef MEM_PAGES
#define MEM_PAGES 256
#endif
#define MEM_BASE 0x100000ULL
#define MEM_SIZE (MEM_PAGES * 4096ULL)
#define OUTSIDE 0x80000000ULL       /* a guest address that is not backed */

#define PTE_R BIT_ULL(0)
#define PTE_W BIT_ULL(1)
#define PTE_RW (PTE_R | PTE_W)
#define PTE_PS BIT_ULL(7)

#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL

typedef struct Mem {
    uint8_t *buf;
    unsigned next_page;
    unsigned reads;
} Mem;

static inline bool mem_read(void *opaque, uint64_t addr, void *buf,
                            size_t len)
{
    Mem *m = opaque;

    m->reads++;
    if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE ||
        len > MEM_SIZE - (addr - MEM_BASE)) {
        return false;
    }
    memcpy(buf, m->buf + (addr - MEM_BASE), len);
    return true;
}

static inline void mem_init(Mem *m)
{
    m->buf = g_malloc0(MEM_SIZE);
    m->next_page = 0;
    m->reads = 0;
}

static inline void mem_fini(Mem *m)
{
    g_free(m->buf);
}

/* A zeroed 4 KiB page of fake guest memory; returns its address. */
static inline uint64_t alloc_page(Mem *m)
{
    g_assert_cmpuint(m->next_page, <, MEM_PAGES);
    return MEM_BASE + 4096ULL * m->next_page++;
}

static inline void put64(Mem *m, uint64_t addr, uint64_t val)
{
    uint64_t le = cpu_to_le64(val);

    g_assert(addr >= MEM_BASE && addr + 8 <= MEM_BASE + MEM_SIZE);
    memcpy(m->buf + (addr - MEM_BASE), &le, 8);
}

static inline uint64_t get64(Mem *m, uint64_t addr)
{
    uint64_t le;

    memcpy(&le, m->buf + (addr - MEM_BASE), 8);
    return le64_to_cpu(le);
}

static const XviWalkConfig cfg_all G_GNUC_UNUSED = {
    .mgaw = 57, .haw = 46, .sagaw = 0xe, .pt_supported = true,
    .sp_2m = true, .sp_1g = true,
};

static inline unsigned shift_of(unsigned level)
{
    return 12 + 9 * (level - 1);
}

/* Address of the entry for @iova in the table at @table of @level. */
static inline uint64_t slot(uint64_t table, unsigned level, uint64_t iova)
{
    return table + 8 * ((iova >> shift_of(level)) & 511);
}

/*
 * Map @iova -> @gpa with a leaf at @leaf_level (1, 2 or 3) in the tables of
 * @levels rooted at @root, allocating intermediate tables (RW) as needed.
 * Returns the address of the leaf entry.
 */
static inline uint64_t map(Mem *m, uint64_t root, unsigned levels,
                           uint64_t iova, uint64_t gpa, unsigned leaf_level,
                           uint64_t bits)
{
    uint64_t table = root;
    unsigned level;

    for (level = levels; level > leaf_level; level--) {
        uint64_t e = slot(table, level, iova);
        uint64_t pte = get64(m, e);

        if (!(pte & PTE_RW)) {
            pte = alloc_page(m) | PTE_RW;
            put64(m, e, pte);
        }
        table = pte & ~0xfffULL;
    }
    put64(m, slot(table, leaf_level, iova),
          gpa | bits | (leaf_level > 1 ? PTE_PS : 0));
    return slot(table, leaf_level, iova);
}

static inline XviContextEntry ml_ctx(uint64_t root, unsigned levels)
{
    XviContextEntry ce = {
        .tt = 0, .levels = levels, .did = 1, .slptptr = root,
    };
    return ce;
}

#endif
