/*
 * xen-viommu: x-oracle hooks (debugging; see xen_viommu_oracle.c)
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Each hook is one call at the point where the unit has decided something;
 * with x-oracle=off it costs the test of s->oracle.
 */

#ifndef HW_I386_XEN_VIOMMU_ORACLE_H
#define HW_I386_XEN_VIOMMU_ORACLE_H

void xvi_oracle_do_translate(XenViommuState *s, XenViommuDevAS *d,
                             uint64_t addr, IOMMUAccessFlags flag,
                             bool pasid, const IOMMUTLBEntry *e);
void xvi_oracle_do_mmio(XenViommuState *s, hwaddr addr, uint64_t val,
                        unsigned size);
void xvi_oracle_do_qi_desc(XenViommuState *s, uint64_t lo, uint64_t hi);
void xvi_oracle_do_irte_fetched(XenViommuState *s, uint32_t index,
                                uint64_t lo, uint64_t hi);
void xvi_oracle_do_irq(XenViommuState *s, uint64_t addr, uint32_t data,
                       uint16_t sid, uint64_t out_addr, uint32_t out_data);
void xvi_oracle_do_reset(XenViommuState *s);
void xvi_oracle_free(XenViommuState *s);

/* translate() returns @e for @addr (a request with a PASID if @pasid) */
static inline void xvi_oracle_translate(XenViommuState *s, XenViommuDevAS *d,
                                        uint64_t addr, IOMMUAccessFlags flag,
                                        bool pasid, const IOMMUTLBEntry *e)
{
    if (unlikely(s->oracle)) {
        xvi_oracle_do_translate(s, d, addr, flag, pasid, e);
    }
}

/* A register write has been handled (its side effects are done) */
static inline void xvi_oracle_mmio(XenViommuState *s, hwaddr addr,
                                   uint64_t val, unsigned size)
{
    if (unlikely(s->oracle)) {
        xvi_oracle_do_mmio(s, addr, val, size);
    }
}

/* A queued descriptor has been carried out */
static inline void xvi_oracle_qi_desc(XenViommuState *s, uint64_t lo,
                                      uint64_t hi)
{
    if (unlikely(s->oracle)) {
        xvi_oracle_do_qi_desc(s, lo, hi);
    }
}

/* The interrupt entry cache takes IRTE @index as read from memory */
static inline void xvi_oracle_irte_fetched(XenViommuState *s, uint32_t index,
                                           uint64_t lo, uint64_t hi)
{
    if (unlikely(s->oracle)) {
        xvi_oracle_do_irte_fetched(s, index, lo, hi);
    }
}

/* With IRE=1, request @addr/@data from @sid goes on as @out_addr/@out_data */
static inline void xvi_oracle_irq(XenViommuState *s, uint64_t addr,
                                  uint32_t data, uint16_t sid,
                                  uint64_t out_addr, uint32_t out_data)
{
    if (unlikely(s->oracle)) {
        xvi_oracle_do_irq(s, addr, data, sid, out_addr, out_data);
    }
}

static inline void xvi_oracle_reset(XenViommuState *s)
{
    if (unlikely(s->oracle)) {
        xvi_oracle_do_reset(s);
    }
}

#endif /* HW_I386_XEN_VIOMMU_ORACLE_H */
