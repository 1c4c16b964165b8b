/*
 * xen-viommu: register-based and queued invalidation
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The invalidation queue is processed synchronously when software moves the
 * tail.  One IQT write handles at most one queue's worth of descriptors (the
 * queue is bounded by IQA.QS), and each descriptor's work is bounded by the
 * cache sizes, so a guest cannot make a register write do unbounded work.
 * A malformed descriptor sets FSTS.IQE and stops the queue with IQH at the
 * offending descriptor, as the specification says.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "xen_viommu_internal.h"
#include "trace.h"

/* Descriptor types (low 4 bits; bits 11:9 are the high type bits) */
#define XVI_DESC_CC         1
#define XVI_DESC_IOTLB      2
#define XVI_DESC_DEVTLB     3
#define XVI_DESC_IEC        4
#define XVI_DESC_WAIT       5
#define XVI_DESC_PIOTLB     6   /* scalable mode: PASID-based IOTLB */
#define XVI_DESC_PC         7   /* scalable mode: PASID cache */

/* Granularities shared by CCMD/IOTLB registers and descriptors */
#define XVI_GRAN_GLOBAL     1
#define XVI_GRAN_DOMAIN     2
#define XVI_GRAN_DEVICE     3   /* context: device; IOTLB: page */

/* Reserved bits per descriptor type: low and high qword */
#define XVI_CC_RSVD_LO      (0xfffc000000000000ULL | 0xffc0ULL)
#define XVI_IOTLB_RSVD_LO   (0xffffffff0000ff00ULL)
#define XVI_IOTLB_RSVD_HI   (0xf80ULL)
#define XVI_IEC_RSVD_LO     (0xffff000000000000ULL | 0x07ffffe0ULL)
/* Bit 7 (PD, page-request drain) is reserved too: ECAP.PRS is clear */
#define XVI_WAIT_RSVD_LO    (0xffffff80ULL)
#define XVI_WAIT_RSVD_HI    (3ULL)
#define XVI_TYPE_HI_MASK    (7ULL << 9)
/* PASID-based IOTLB and PASID-cache descriptors: bits 63:52, 15:12, 8:6 */
#define XVI_PDESC_RSVD_LO   (0xfff0000000000000ULL | 0xf000ULL | 0x1c0ULL)
#define XVI_PIOTLB_RSVD_HI  (0xf80ULL)
#define XVI_PDESC_PASID(lo) (((lo) >> 32) & 0xfffff)
#define XVI_PDESC_DID(lo)   (((lo) >> 16) & 0xffff)
/* PIOTLB granularity: all of a PASID's mappings, or pages of it */
#define XVI_PIOTLB_PASID    2
#define XVI_PIOTLB_PAGES    3
/* PASID-cache granularity: domain, one PASID of it, global (2 reserved) */
#define XVI_PC_DOMAIN       0
#define XVI_PC_PASID        1
#define XVI_PC_GLOBAL       3

/* Context-cache invalidation ----------------------------------------------- */

/* Returns the granularity performed (CCMD.CAIG) */
static unsigned xvi_inv_context(XenViommuState *s, unsigned gran,
                                uint16_t did, uint16_t sid)
{
    static const char *const names[] = { "?", "global", "domain", "device" };

    trace_xen_viommu_inv_context(names[gran & 3], did, sid);
    /*
     * Context entries change rarely; every granularity drops the whole
     * context cache (a generation bump), which is always correct and is
     * reported as the global invalidation it is.
     */
    xvi_dma_inv_context_all(s);
    return XVI_GRAN_GLOBAL;
}

static void xvi_inv_iotlb(XenViommuState *s, unsigned gran, uint16_t did,
                          uint64_t addr, unsigned am)
{
    switch (gran) {
    case XVI_GRAN_GLOBAL:
        trace_xen_viommu_inv_iotlb("global", did, 0, 0);
        xvi_dma_inv_iotlb_all(s);
        break;
    case XVI_GRAN_DOMAIN:
        trace_xen_viommu_inv_iotlb("domain", did, 0, 0);
        xvi_dma_inv_iotlb_domain(s, did);
        break;
    default:
        trace_xen_viommu_inv_iotlb("page", did, addr, am);
        xvi_dma_inv_iotlb_pages(s, did, addr, am);
        break;
    }
}

/* Register-based invalidation ---------------------------------------------- */

void xvi_ccmd_written(XenViommuState *s)
{
    uint64_t ccmd = xvi_get64(s, XVI_CCMD);
    unsigned gran = (ccmd >> XVI_CCMD_CIRG_SHIFT) & 3;

    if (xvi_get32(s, XVI_GSTS) & XVI_GCMD_QIE) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: CCMD invalidation while "
                      "queued invalidation is on; ignored\n");
        gran = 0;
    } else if (gran) {
        gran = xvi_inv_context(s, gran, ccmd & XVI_CCMD_DID_MASK,
                               (ccmd >> XVI_CCMD_SID_SHIFT) & 0xffff);
    }
    /* Done: ICC clear, CAIG reports what was performed (0 = refused) */
    ccmd &= ~(XVI_CCMD_ICC | (3ULL << XVI_CCMD_CAIG_SHIFT));
    ccmd |= (uint64_t)gran << XVI_CCMD_CAIG_SHIFT;
    xvi_set64(s, XVI_CCMD, ccmd);
}

void xvi_iotlb_reg_written(XenViommuState *s)
{
    uint64_t reg = xvi_get64(s, XVI_IOTLB);
    uint64_t iva = xvi_get64(s, XVI_IVA);
    unsigned gran = (reg >> XVI_IOTLB_IIRG_SHIFT) & 3;
    uint16_t did = (reg >> XVI_IOTLB_DID_SHIFT) & 0xffff;
    unsigned am = iva & XVI_IVA_AM_MASK;

    if (xvi_get32(s, XVI_GSTS) & XVI_GCMD_QIE) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: IOTLB register "
                      "invalidation while queued invalidation is on; "
                      "ignored\n");
        gran = 0;
    } else if (gran == XVI_GRAN_DEVICE && am > XVI_MAMV) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: IOTLB invalidation with "
                      "AM %u above MAMV %u; done domain-selective\n",
                      am, XVI_MAMV);
        gran = XVI_GRAN_DOMAIN;
    }
    if (gran) {
        xvi_inv_iotlb(s, gran, did, iva & XVI_RTADDR_ADDR_MASK, am);
    }
    reg &= ~(XVI_IOTLB_IVT | (3ULL << XVI_IOTLB_IAIG_SHIFT));
    reg |= (uint64_t)gran << XVI_IOTLB_IAIG_SHIFT;
    xvi_set64(s, XVI_IOTLB, reg);
}

/* Queued invalidation ------------------------------------------------------ */

void xvi_qi_set_enabled(XenViommuState *s, bool on)
{
    uint64_t iqa = xvi_get64(s, XVI_IQA);

    trace_xen_viommu_qi_enable(on, iqa & XVI_IQA_ADDR_MASK,
                               256U << (iqa & XVI_IQA_QS_MASK));
    if (on) {
        /* Hardware starts fetching at the queue head, which is reset */
        xvi_set64(s, XVI_IQH, 0);
        xvi_qi_tail_written(s);
    }
}

static bool xvi_qi_bad(XenViommuState *s, uint32_t head, const char *why,
                       uint64_t lo, uint64_t hi)
{
    trace_xen_viommu_qi_error(head, why);
    qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: invalidation descriptor %u "
                  "(0x%016" PRIx64 " 0x%016" PRIx64 "): %s\n",
                  head, lo, hi, why);
    return false;
}

static bool xvi_qi_wait(XenViommuState *s, uint64_t lo, uint64_t hi)
{
    bool sw = lo & (1ULL << 5);
    bool ifl = lo & (1ULL << 4);
    uint64_t addr = hi & ~3ULL;
    uint32_t data = lo >> 32;

    trace_xen_viommu_qi_wait(sw, ifl, addr, data);
    /* What came before the wait is complete, passthrough devices included */
    xvi_ptdma_flush(s);
    xvi_ir_batch_flush(s);
    /* Status write first, then the interrupt: software may poll either */
    if (sw) {
        uint32_t le = cpu_to_le32(data);

        if (!xvi_write_guest(s, addr, &le, sizeof(le))) {
            qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: wait descriptor "
                          "status write to 0x%" PRIx64 " failed\n", addr);
        }
    }
    if (ifl) {
        xvi_inv_completion_event(s);
    }
    return true;
}

/* Scalable mode: PASID-based IOTLB invalidation */
static bool xvi_qi_piotlb(XenViommuState *s, uint32_t head, uint64_t lo,
                          uint64_t hi)
{
    unsigned gran = (lo >> 4) & 3;
    unsigned am = hi & XVI_IVA_AM_MASK;
    uint16_t did = XVI_PDESC_DID(lo);

    if ((lo & XVI_PDESC_RSVD_LO) || (hi & XVI_PIOTLB_RSVD_HI) ||
        gran < XVI_PIOTLB_PASID) {
        return xvi_qi_bad(s, head, "PASID-based IOTLB descriptor reserved "
                          "field set", lo, hi);
    }
    if (gran == XVI_PIOTLB_PAGES && am > XVI_MAMV) {
        /* Invalidating more than asked is always allowed */
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: PASID-based IOTLB "
                      "invalidation with AM %u above MAMV %u; done for the "
                      "whole PASID\n", am, XVI_MAMV);
        gran = XVI_PIOTLB_PASID;
    }
    if (gran == XVI_PIOTLB_PASID) {
        trace_xen_viommu_inv_iotlb("pasid", did, 0, 64);
        xvi_dma_inv_piotlb(s, did, XVI_PDESC_PASID(lo), 0, 64);
    } else {
        trace_xen_viommu_inv_iotlb("pasid-page", did, hi, am);
        xvi_dma_inv_piotlb(s, did, XVI_PDESC_PASID(lo),
                           hi & XVI_RTADDR_ADDR_MASK, am);
    }
    return true;
}

/* Scalable mode: PASID-cache invalidation */
static bool xvi_qi_pc(XenViommuState *s, uint32_t head, uint64_t lo,
                      uint64_t hi)
{
    unsigned gran = (lo >> 4) & 3;

    if ((lo & XVI_PDESC_RSVD_LO) || hi || gran == 2) {
        return xvi_qi_bad(s, head, "PASID-cache descriptor reserved field "
                          "set", lo, hi);
    }
    /*
     * Cached PASID entries live with the context entries (one per
     * requester, for its RID_PASID): any granularity drops them all.
     */
    trace_xen_viommu_inv_context(gran == XVI_PC_GLOBAL ? "pasid-global" :
                                 gran == XVI_PC_PASID ? "pasid" :
                                 "pasid-domain", XVI_PDESC_DID(lo), 0);
    xvi_dma_inv_context_all(s);
    return true;
}

/*
 * Handle one descriptor; @upper is bits 255:128 of a 256-bit descriptor
 * (IQA.DW), NULL for 128-bit ones.  false = invalid (IQE)
 */
static bool xvi_qi_desc(XenViommuState *s, uint32_t head, uint64_t lo,
                        uint64_t hi, const uint64_t *upper)
{
    unsigned type = lo & 0xf;

    trace_xen_viommu_qi_desc(head, lo, hi);
    if (lo & XVI_TYPE_HI_MASK) {
        return xvi_qi_bad(s, head, "unsupported descriptor type", lo, hi);
    }
    /* No descriptor the unit knows uses bits 255:128 */
    if (upper && (upper[0] || upper[1])) {
        return xvi_qi_bad(s, head, "256-bit descriptor with bits 255:128 "
                          "set", lo, hi);
    }
    switch (type) {
    case XVI_DESC_CC: {
        unsigned gran = (lo >> 4) & 3;

        if ((lo & XVI_CC_RSVD_LO) || hi || !gran) {
            return xvi_qi_bad(s, head, "context-cache descriptor reserved "
                              "field set", lo, hi);
        }
        xvi_inv_context(s, gran, (lo >> 16) & 0xffff, (lo >> 32) & 0xffff);
        return true;
    }
    case XVI_DESC_IOTLB: {
        unsigned gran = (lo >> 4) & 3;
        unsigned am = hi & XVI_IVA_AM_MASK;

        if ((lo & XVI_IOTLB_RSVD_LO) || (hi & XVI_IOTLB_RSVD_HI) || !gran) {
            return xvi_qi_bad(s, head, "IOTLB descriptor reserved field set",
                              lo, hi);
        }
        if (gran == XVI_GRAN_DEVICE && am > XVI_MAMV) {
            return xvi_qi_bad(s, head, "IOTLB descriptor AM above MAMV",
                              lo, hi);
        }
        xvi_inv_iotlb(s, gran, (lo >> 16) & 0xffff,
                      hi & XVI_RTADDR_ADDR_MASK, am);
        return true;
    }
    case XVI_DESC_DEVTLB:
        /* ECAP.DT is clear: the descriptor type is not supported */
        return xvi_qi_bad(s, head, "device-TLB invalidation without "
                          "ECAP.DT", lo, hi);
    case XVI_DESC_IEC:
        if ((lo & XVI_IEC_RSVD_LO) || hi) {
            return xvi_qi_bad(s, head, "interrupt-entry-cache descriptor "
                              "reserved field set", lo, hi);
        }
        if (lo & (1ULL << 4)) {
            xvi_ir_invalidate(s, false, (lo >> 32) & 0xffff,
                              (lo >> 27) & 0x1f);
        } else {
            xvi_ir_invalidate(s, true, 0, 0);
        }
        return true;
    case XVI_DESC_WAIT:
        if ((lo & XVI_WAIT_RSVD_LO) || (hi & XVI_WAIT_RSVD_HI)) {
            return xvi_qi_bad(s, head, "wait descriptor reserved field set",
                              lo, hi);
        }
        return xvi_qi_wait(s, lo, hi);
    case XVI_DESC_PIOTLB:
        if (!s->scalable_mode) {
            break;
        }
        return xvi_qi_piotlb(s, head, lo, hi);
    case XVI_DESC_PC:
        if (!s->scalable_mode) {
            break;
        }
        return xvi_qi_pc(s, head, lo, hi);
    default:
        break;
    }
    return xvi_qi_bad(s, head, "unsupported descriptor type", lo, hi);
}

/*
 * Process descriptors from IQH to IQT; false when it stopped on an error.
 * @shift: log2 of the descriptor size (4, or 5 for 256-bit descriptors)
 */
static bool xvi_qi_run(XenViommuState *s, uint64_t base, uint32_t entries,
                       uint32_t head, uint32_t tail, unsigned shift)
{
    uint32_t done = 0;

    /* At most one lap: the queue cannot hold more descriptors than this */
    while (head != tail && done < entries) {
        uint64_t desc[4];
        bool wide = shift > XVI_IQ_PTR_SHIFT;

        if (!xvi_read_guest(s, base + ((uint64_t)head << shift), desc,
                            (size_t)1 << shift)) {
            xvi_qi_bad(s, head, "descriptor fetch failed", 0, 0);
            xvi_set64(s, XVI_IQH, (uint64_t)head << shift);
            return false;
        }
        if (wide) {
            desc[2] = le64_to_cpu(desc[2]);
            desc[3] = le64_to_cpu(desc[3]);
        }
        if (!xvi_qi_desc(s, head, le64_to_cpu(desc[0]),
                         le64_to_cpu(desc[1]), wide ? &desc[2] : NULL)) {
            /* IQH keeps pointing at the offending descriptor */
            xvi_set64(s, XVI_IQH, (uint64_t)head << shift);
            return false;
        }
        xvi_oracle_qi_desc(s, le64_to_cpu(desc[0]), le64_to_cpu(desc[1]));
        head = (head + 1) % entries;
        done++;
    }
    xvi_set64(s, XVI_IQH, (uint64_t)head << shift);
    return true;
}

void xvi_qi_tail_written(XenViommuState *s)
{
    uint64_t iqa = xvi_get64(s, XVI_IQA);
    /* IQA.DW (writable in scalable mode only): 256-bit descriptors */
    unsigned shift = XVI_IQ_PTR_SHIFT + !!(iqa & XVI_IQA_DW);
    uint32_t entries = (4096U << (iqa & XVI_IQA_QS_MASK)) >> shift;
    uint64_t base = iqa & XVI_IQA_ADDR_MASK;
    uint64_t iqt = xvi_get64(s, XVI_IQT);
    uint32_t head = xvi_get64(s, XVI_IQH) >> shift;
    uint32_t tail = iqt >> shift;
    bool ok;

    if (!(xvi_get32(s, XVI_GSTS) & XVI_GCMD_QIE) ||
        (xvi_get32(s, XVI_FSTS) & XVI_FSTS_IQE)) {
        /* Stopped until software enables it or clears the error */
        return;
    }
    if (tail >= entries) {
        xvi_qi_bad(s, head, "tail beyond the queue size", 0, 0);
        xvi_fault_set_iqe(s);
        return;
    }
    if (shift > XVI_IQ_PTR_SHIFT && (iqt & BIT_ULL(XVI_IQ_PTR_SHIFT))) {
        xvi_qi_bad(s, head, "tail not aligned to a 256-bit descriptor", 0, 0);
        xvi_fault_set_iqe(s);
        return;
    }
    /*
     * Mirror syncs for passthrough devices and what interrupt-entry
     * invalidations tell the consumers are gathered over the batch and done
     * before each wait descriptor and at the end, so that a queue of
     * invalidations costs one walk per device and at most one interrupt
     * table's worth of work, not that per descriptor.
     */
    xvi_ptdma_defer(s, true);
    xvi_ir_batch(s, true);
    ok = xvi_qi_run(s, base, entries, head % entries, tail, shift);
    xvi_ir_batch(s, false);
    xvi_ptdma_defer(s, false);
    if (!ok) {
        xvi_fault_set_iqe(s);
    }
}
