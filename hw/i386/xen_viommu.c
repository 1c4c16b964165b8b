/*
 * xen-viommu: Intel VT-d IOMMU model for Xen HVM guests -- device and
 * register file
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * This file owns the QOM device, its properties and the MMIO register file.
 * The register file is table driven: every register has a descriptor with
 * its width, writable and write-1-to-clear bits and a hook for side effects.
 * Any other offset or access size reads as zero and ignores writes, with a
 * guest-error log line.  Translation, interrupt remapping, invalidation and
 * fault reporting live in their own files (see xen_viommu_internal.h).
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/sysbus.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86.h"
#include "migration/vmstate.h"
#include "system/kvm.h"
#include "exec/address-spaces.h"
#include "system/dma.h"
#include "xen_viommu_internal.h"
#include "trace.h"

#ifdef CONFIG_KVM
#include "kvm/kvm_i386.h"
#endif

/* Register descriptors ----------------------------------------------------- */

typedef void XviRegHook(XenViommuState *s, uint64_t old);

typedef struct XviReg {
    const char *name;
    uint16_t off;
    uint8_t width;          /* 4 or 8 bytes */
    uint64_t rw;            /* bits software may write */
    uint64_t w1c;           /* bits software clears by writing 1 */
    XviRegHook *written;    /* side effects, after the value is stored */
} XviReg;

static void xvi_gcmd_written(XenViommuState *s, uint64_t old);
static void xvi_fsts_hook(XenViommuState *s, uint64_t old);
static void xvi_fectl_hook(XenViommuState *s, uint64_t old);
static void xvi_ccmd_hook(XenViommuState *s, uint64_t old);
static void xvi_iotlb_hook(XenViommuState *s, uint64_t old);
static void xvi_iqt_hook(XenViommuState *s, uint64_t old);
static void xvi_ics_hook(XenViommuState *s, uint64_t old);
static void xvi_iectl_hook(XenViommuState *s, uint64_t old);
static void xvi_frcd_hook(XenViommuState *s, uint64_t old);

#define ADDR_BITS   (MAKE_64BIT_MASK(12, XVI_HAW - 12))

/*
 * Masks that depend on the configuration (EIM) are narrowed at write time by
 * xvi_reg_rw_mask().  GCMD is write-only: it stores nothing and reads 0.
 */
static const XviReg xvi_regs[] = {
    { "VER",     XVI_VER,     4 },
    { "CAP",     XVI_CAP,     8 },
    { "ECAP",    XVI_ECAP,    8 },
    { "GCMD",    XVI_GCMD,    4, 0xff800000, 0, xvi_gcmd_written },
    { "GSTS",    XVI_GSTS,    4 },
    { "RTADDR",  XVI_RTADDR,  8, ADDR_BITS },
    { "CCMD",    XVI_CCMD,    8, XVI_CCMD_ICC | (3ULL << XVI_CCMD_CIRG_SHIFT) |
                                 (3ULL << XVI_CCMD_FM_SHIFT) | 0xffffffffULL,
                              0, xvi_ccmd_hook },
    { "FSTS",    XVI_FSTS,    4, 0, XVI_FSTS_W1C, xvi_fsts_hook },
    { "FECTL",   XVI_FECTL,   4, XVI_CTL_IM, 0, xvi_fectl_hook },
    { "FEDATA",  XVI_FEDATA,  4, 0xffff },
    { "FEADDR",  XVI_FEADDR,  4, 0xfffffffc },
    { "FEUADDR", XVI_FEUADDR, 4, 0xffffffff },
    { "IQH",     XVI_IQH,     8 },
    { "IQT",     XVI_IQT,     8, XVI_IQ_PTR_MASK, 0, xvi_iqt_hook },
    { "IQA",     XVI_IQA,     8, ADDR_BITS | XVI_IQA_QS_MASK },
    { "ICS",     XVI_ICS,     4, 0, XVI_ICS_IWC, xvi_ics_hook },
    { "IECTL",   XVI_IECTL,   4, XVI_CTL_IM, 0, xvi_iectl_hook },
    { "IEDATA",  XVI_IEDATA,  4, 0xffff },
    { "IEADDR",  XVI_IEADDR,  4, 0xfffffffc },
    { "IEUADDR", XVI_IEUADDR, 4, 0xffffffff },
    { "IRTA",    XVI_IRTA,    8, ADDR_BITS | XVI_IRTA_EIME | XVI_IRTA_S_MASK },
    { "IVA",     XVI_IVA,     8, 0 },             /* see xvi_reg_rw_mask() */
    { "IOTLB",   XVI_IOTLB,   8, XVI_IOTLB_IVT |
                                 (3ULL << XVI_IOTLB_IIRG_SHIFT) |
                                 XVI_IOTLB_DR | XVI_IOTLB_DW |
                                 (0xffffULL << XVI_IOTLB_DID_SHIFT),
                              0, xvi_iotlb_hook },
};

/* Fault recording registers: low qword is read-only, high qword has F W1C */
static const XviReg xvi_frcd_lo = { "FRCD.lo", 0, 8 };
static const XviReg xvi_frcd_hi = { "FRCD.hi", 0, 8, 0, XVI_FRCD_F,
                                    xvi_frcd_hook };

/* Offset / 4 -> descriptor, built once */
static const XviReg *xvi_reg_map[XVI_MMIO_SIZE / 4];

static void xvi_reg_map_init(void)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(xvi_regs); i++) {
        const XviReg *r = &xvi_regs[i];
        int w;

        for (w = 0; w < r->width / 4; w++) {
            xvi_reg_map[r->off / 4 + w] = r;
        }
    }
    for (i = 0; i < XVI_NR_FRCD; i++) {
        hwaddr off = XVI_FRCD + i * 16;
        int w;

        for (w = 0; w < 2; w++) {
            xvi_reg_map[off / 4 + w] = &xvi_frcd_lo;
            xvi_reg_map[off / 4 + 2 + w] = &xvi_frcd_hi;
        }
    }
}

/* Start of the register an offset falls in (FRCD descriptors are shared) */
static hwaddr xvi_reg_start(const XviReg *r, hwaddr off)
{
    if (r == &xvi_frcd_lo || r == &xvi_frcd_hi) {
        return off & ~7ULL;
    }
    return r->off;
}

static uint64_t xvi_reg_rw_mask(XenViommuState *s, const XviReg *r)
{
    uint64_t rw = r->rw;

    /* Upper event addresses and IRTA.EIME exist only with x2APIC support */
    if (!s->x2apic_on) {
        if (r->off == XVI_FEUADDR || r->off == XVI_IEUADDR) {
            rw = 0;
        } else if (r->off == XVI_IRTA) {
            rw &= ~XVI_IRTA_EIME;
        }
    }
    if (!(s->ecap & XVI_ECAP_IR) && r->off == XVI_IRTA) {
        rw = 0;
    }
    /* Scalable mode: RTADDR.TTM and 256-bit descriptors (IQA.DW) */
    if (s->scalable_mode) {
        if (r->off == XVI_RTADDR) {
            rw |= XVI_RTADDR_TTM_MASK;
        } else if (r->off == XVI_IQA) {
            rw |= XVI_IQA_DW;
        }
    }
    /* IVA holds an input address: up to the guest address width (MGAW) */
    if (r->off == XVI_IVA) {
        rw = MAKE_64BIT_MASK(12, s->aw_bits - 12) | XVI_IVA_IH |
             XVI_IVA_AM_MASK;
    }
    return rw;
}

/* Raw register storage ---------------------------------------------------- */

uint32_t xvi_get32(XenViommuState *s, hwaddr off)
{
    return s->regs[off / 4];
}

uint64_t xvi_get64(XenViommuState *s, hwaddr off)
{
    return s->regs[off / 4] | ((uint64_t)s->regs[off / 4 + 1] << 32);
}

void xvi_set32(XenViommuState *s, hwaddr off, uint32_t val)
{
    s->regs[off / 4] = val;
}

void xvi_set64(XenViommuState *s, hwaddr off, uint64_t val)
{
    s->regs[off / 4] = (uint32_t)val;
    s->regs[off / 4 + 1] = val >> 32;
}

void xvi_set_clear32(XenViommuState *s, hwaddr off, uint32_t set,
                     uint32_t clear)
{
    s->regs[off / 4] = (s->regs[off / 4] & ~clear) | set;
}

bool xvi_read_guest(void *opaque, uint64_t addr, void *buf, size_t len)
{
    return dma_memory_read(&address_space_memory, addr, buf, len,
                           MEMTXATTRS_UNSPECIFIED) == MEMTX_OK;
}

bool xvi_write_guest(XenViommuState *s, uint64_t addr, const void *buf,
                     size_t len)
{
    return dma_memory_write(&address_space_memory, addr, buf, len,
                            MEMTXATTRS_UNSPECIFIED) == MEMTX_OK;
}

/* Side effects ------------------------------------------------------------- */

static void xvi_gcmd_written(XenViommuState *s, uint64_t old)
{
    uint32_t cmd = xvi_get32(s, XVI_GCMD);
    uint32_t sts = xvi_get32(s, XVI_GSTS);
    bool te = cmd & XVI_GCMD_TE;
    bool qie = cmd & XVI_GCMD_QIE;
    bool ire = cmd & XVI_GCMD_IRE;
    bool cfi = cmd & XVI_GCMD_CFI;

    /* GCMD is write-only; the command has been taken */
    xvi_set32(s, XVI_GCMD, 0);

    if (cmd & XVI_GCMD_SRTP) {
        uint64_t rta = xvi_get64(s, XVI_RTADDR);

        s->root_table = rta & XVI_RTADDR_ADDR_MASK;
        s->root_ttm = (rta & XVI_RTADDR_TTM_MASK) >> XVI_RTADDR_TTM_SHIFT;
        s->root_set = true;
        sts |= XVI_GCMD_SRTP;
        trace_xen_viommu_root_table(s->root_table);
        xvi_dma_set_root(s);
    }

    /* Without DMA remapping (dma-translation=off) TE is ignored. */
    if (!s->dma_translation) {
        te = false;
    }
    if (te != !!(sts & XVI_GCMD_TE)) {
        sts = te ? sts | XVI_GCMD_TE : sts & ~XVI_GCMD_TE;
        trace_xen_viommu_translation(te);
        xvi_set32(s, XVI_GSTS, sts);
        xvi_dma_set_enabled(s, te);
    }

    if (qie != !!(sts & XVI_GCMD_QIE)) {
        sts = qie ? sts | XVI_GCMD_QIE : sts & ~XVI_GCMD_QIE;
        xvi_set32(s, XVI_GSTS, sts);
        xvi_qi_set_enabled(s, qie);
    }

    if (s->ecap & XVI_ECAP_IR) {
        if (cmd & XVI_GCMD_SIRTP) {
            sts |= XVI_GCMD_SIRTP;
            xvi_set32(s, XVI_GSTS, sts);
            xvi_ir_set_table(s);
        }
        /* CFI only has effect in xAPIC mode, but its status always follows */
        if (ire != !!(sts & XVI_GCMD_IRE) || cfi != !!(sts & XVI_GCMD_CFI)) {
            sts = ire ? sts | XVI_GCMD_IRE : sts & ~XVI_GCMD_IRE;
            sts = cfi ? sts | XVI_GCMD_CFI : sts & ~XVI_GCMD_CFI;
            xvi_set32(s, XVI_GSTS, sts);
            xvi_ir_set_enabled(s, ire, cfi);
        }
    } else if (cmd & (XVI_GCMD_SIRTP | XVI_GCMD_IRE | XVI_GCMD_CFI)) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: interrupt remapping "
                      "command 0x%08x without ECAP.IR ignored\n", cmd);
    }

    if (cmd & (XVI_GCMD_SFL | XVI_GCMD_EAFL | XVI_GCMD_WBF)) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: GCMD 0x%08x asks for a "
                      "feature not advertised (AFL/RWBF); ignored\n", cmd);
    }

    xvi_set32(s, XVI_GSTS, sts);
    trace_xen_viommu_gcmd(cmd, sts);
}

static void xvi_fsts_hook(XenViommuState *s, uint64_t old)
{
    xvi_fault_fsts_written(s);
    if ((old & XVI_FSTS_IQE) && !(xvi_get32(s, XVI_FSTS) & XVI_FSTS_IQE)) {
        /* Fetching resumes at IQH, where the queue stopped */
        xvi_qi_tail_written(s);
    }
}

static void xvi_fectl_hook(XenViommuState *s, uint64_t old)
{
    xvi_fault_fectl_written(s);
}

static void xvi_ccmd_hook(XenViommuState *s, uint64_t old)
{
    if (xvi_get64(s, XVI_CCMD) & XVI_CCMD_ICC) {
        xvi_ccmd_written(s);
    }
}

static void xvi_iotlb_hook(XenViommuState *s, uint64_t old)
{
    if (xvi_get64(s, XVI_IOTLB) & XVI_IOTLB_IVT) {
        xvi_iotlb_reg_written(s);
    }
}

static void xvi_iqt_hook(XenViommuState *s, uint64_t old)
{
    xvi_qi_tail_written(s);
}

static void xvi_ics_hook(XenViommuState *s, uint64_t old)
{
    xvi_inv_ics_written(s);
}

static void xvi_iectl_hook(XenViommuState *s, uint64_t old)
{
    xvi_inv_iectl_written(s);
}

static void xvi_frcd_hook(XenViommuState *s, uint64_t old)
{
    /* Clearing the last F bit clears PPF, and IP with it */
    xvi_fault_fsts_written(s);
}

/* MMIO --------------------------------------------------------------------- */

static bool xvi_access_ok(hwaddr addr, unsigned size, const XviReg **r)
{
    if ((size != 4 && size != 8) || (addr & (size - 1)) ||
        addr + size > XVI_MMIO_SIZE) {
        return false;
    }
    *r = xvi_reg_map[addr / 4];
    return *r != NULL;
}

/* A 4-byte word of a register; 8-byte accesses are made of two of them */
static uint32_t xvi_read_word(XenViommuState *s, hwaddr addr)
{
    return xvi_reg_map[addr / 4] ? xvi_get32(s, addr) : 0;
}

static uint64_t xvi_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    XenViommuState *s = opaque;
    const XviReg *r;
    uint64_t val;

    if (!xvi_access_ok(addr, size, &r)) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: %u-byte read at 0x%"
                      HWADDR_PRIx " is not a register access; reads 0\n",
                      size, addr);
        return 0;
    }
    val = xvi_read_word(s, addr);
    if (size == 8) {
        val |= (uint64_t)xvi_read_word(s, addr + 4) << 32;
    }
    trace_xen_viommu_reg_read(addr, val, size);
    return val;
}

/* Store @val into bits [shift, shift + 8 * size) of register @r */
static void xvi_reg_write(XenViommuState *s, const XviReg *r, hwaddr addr,
                          uint64_t val, unsigned size)
{
    hwaddr start = xvi_reg_start(r, addr);
    unsigned shift = (addr - start) * 8;
    uint64_t lanes = MAKE_64BIT_MASK(shift, size * 8);
    uint64_t rw = xvi_reg_rw_mask(s, r) & lanes;
    uint64_t w1c = r->w1c & lanes;
    uint64_t old, new;

    old = r->width == 8 ? xvi_get64(s, start) : xvi_get32(s, start);
    val <<= shift;
    new = (old & ~rw) | (val & rw);
    new &= ~(val & w1c);
    if (r->width == 8) {
        xvi_set64(s, start, new);
    } else {
        xvi_set32(s, start, new);
    }
    if (r->written && (rw | w1c)) {
        r->written(s, old);
    }
    xvi_oracle_mmio(s, addr, val >> shift, size);
}

static void xvi_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    XenViommuState *s = opaque;
    const XviReg *r;

    if (!xvi_access_ok(addr, size, &r)) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: %u-byte write of 0x%"
                      PRIx64 " at 0x%" HWADDR_PRIx " is not a register "
                      "access; ignored\n", size, val, addr);
        return;
    }
    trace_xen_viommu_reg_write(addr, val, size);
    if (size == 8 && r->width == 4) {
        /* Two neighbouring 32-bit registers: low word first, like a CPU */
        const XviReg *hi = xvi_reg_map[(addr + 4) / 4];

        xvi_reg_write(s, r, addr, (uint32_t)val, 4);
        if (hi) {
            xvi_reg_write(s, hi, addr + 4, val >> 32, 4);
        }
        return;
    }
    xvi_reg_write(s, r, addr, val, size);
}

static const MemoryRegionOps xvi_mmio_ops = {
    .read = xvi_mmio_read,
    .write = xvi_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    /* Accept everything and sort it out in xvi_access_ok() */
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
};

/* Capabilities and reset --------------------------------------------------- */

static void xvi_init_caps(XenViommuState *s)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);
    uint64_t cap, ecap;

    cap = XVI_CAP_ND_16BIT |
          ((uint64_t)(s->aw_bits - 1) << XVI_CAP_MGAW_SHIFT) |
          ((uint64_t)(XVI_FRCD / 16) << XVI_CAP_FRO_SHIFT) |
          ((uint64_t)(XVI_NR_FRCD - 1) << XVI_CAP_NFR_SHIFT) |
          ((uint64_t)XVI_MAMV << XVI_CAP_MAMV_SHIFT) |
          XVI_CAP_PSI | XVI_CAP_SLLPS_2M | XVI_CAP_SLLPS_1G |
          XVI_CAP_DRD | XVI_CAP_DWD;
    if (s->dma_translation) {
        cap |= XVI_CAP_SAGAW_39;
        if (s->aw_bits >= 48) {
            cap |= XVI_CAP_SAGAW_48;
        }
        if (s->aw_bits >= 57) {
            cap |= XVI_CAP_SAGAW_57;
        }
    }
    if (s->caching_mode) {
        cap |= XVI_CAP_CM;
    }

    /* Page-walk coherent: QEMU reads guest tables straight from RAM */
    ecap = XVI_ECAP_C | XVI_ECAP_QI |
           ((uint64_t)(XVI_IVA / 16) << XVI_ECAP_IRO_SHIFT);
    if (x86_iommu_ir_supported(x86)) {
        ecap |= XVI_ECAP_IR | (0xfULL << XVI_ECAP_MHMV_SHIFT);
        if (s->x2apic_on) {
            ecap |= XVI_ECAP_EIM;
        }
    }
    if (x86->pt_supported) {
        ecap |= XVI_ECAP_PT;
    }
    if (s->scalable_mode) {
        /*
         * Second-level and pass-through always, first-level unless
         * first-level=off, nested with first-level unless nesting=off;
         * supervisor requests, RID_PASID, coherent page walks; requests
         * with PASID with pasid=on.  No ATS, page requests or A/D for
         * second-level.
         */
        ecap |= XVI_ECAP_SMTS | XVI_ECAP_SLTS | XVI_ECAP_SRS |
                XVI_ECAP_RPS | XVI_ECAP_SMPWC;
        if (s->first_level == ON_OFF_AUTO_ON) {
            ecap |= XVI_ECAP_FLTS;
            cap |= XVI_CAP_FL1GP;
            if (s->aw_bits >= 57) {
                cap |= XVI_CAP_FL5LP;
            }
        }
        if (s->nesting == ON_OFF_AUTO_ON) {
            ecap |= XVI_ECAP_NEST;
        }
        /* PASIDs of 8 bits, as MemTxAttrs.pid carries them (PSS + 1) */
        if (s->pasid) {
            ecap |= XVI_ECAP_PASID | (7ULL << XVI_ECAP_PSS_SHIFT);
        }
    }
    s->cap = cap;
    s->ecap = ecap;

    s->walk_cfg = (XviWalkConfig) {
        .mgaw = s->aw_bits,
        .haw = XVI_HAW,
        .sagaw = (cap >> XVI_CAP_SAGAW_SHIFT) & 0x1f,
        .pt_supported = x86->pt_supported,
        .sp_2m = true,
        .sp_1g = true,
        .fl_1g = cap & XVI_CAP_FL1GP,
    };
    s->sm_cfg = (XviSmConfig) {
        .walk = s->walk_cfg,
        .flts = ecap & XVI_ECAP_FLTS,
        .slts = ecap & XVI_ECAP_SLTS,
        .srs = ecap & XVI_ECAP_SRS,
        .fl_5l = cap & XVI_CAP_FL5LP,
        .nest = ecap & XVI_ECAP_NEST,
    };
}

static void xvi_reset_hold(Object *obj, ResetType type)
{
    XenViommuState *s = XEN_VIOMMU(obj);

    trace_xen_viommu_reset();
    memset(s->regs, 0, sizeof(s->regs));
    xvi_set32(s, XVI_VER, XVI_VERSION);
    xvi_set64(s, XVI_CAP, s->cap);
    xvi_set64(s, XVI_ECAP, s->ecap);
    xvi_set32(s, XVI_FECTL, XVI_CTL_IM);
    xvi_set32(s, XVI_IECTL, XVI_CTL_IM);

    s->root_table = 0;
    s->root_ttm = 0;
    s->root_set = false;
    s->irt_base = 0;
    s->irt_entries = 0;
    s->irt_eime = false;
    s->irt_set = false;
    s->next_frcd = 0;
    xvi_fault_reset(s);

    xvi_dma_reset(s);
    xvi_ir_reset(s);
    xvi_oracle_reset(s);
}

/* After every device's reset: the fuzzer's preset touches other devices */
static void xvi_reset_exit(Object *obj, ResetType type)
{
    XenViommuState *s = XEN_VIOMMU(obj);

    if (s->fuzz_preset) {
        xvi_fuzz_preset(s);
    }
}

/* Realize ------------------------------------------------------------------ */

/* nesting against first-level, once that is decided */
static bool xvi_check_nesting(XenViommuState *s, Error **errp)
{
    if (s->first_level == ON_OFF_AUTO_ON) {
        if (s->nesting == ON_OFF_AUTO_AUTO) {
            s->nesting = ON_OFF_AUTO_ON;
        }
        return true;
    }
    if (s->nesting == ON_OFF_AUTO_ON) {
        error_setg(errp, "xen-viommu: nesting=on requires first-level "
                   "translation");
        error_append_hint(errp, "Nested translation is first-level tables "
                          "over second-level ones; drop first-level=off "
                          "(and use aw-bits=48 or 57) or drop nesting.\n");
        return false;
    }
    s->nesting = ON_OFF_AUTO_OFF;
    return true;
}

/* scalable-mode, first-level and nesting against the other options */
static bool xvi_check_scalable(XenViommuState *s, Error **errp)
{
    if (!s->scalable_mode) {
        if (s->first_level == ON_OFF_AUTO_ON ||
            s->nesting == ON_OFF_AUTO_ON || s->pasid) {
            error_setg(errp, "xen-viommu: %s=on requires scalable-mode=on",
                       s->first_level == ON_OFF_AUTO_ON ? "first-level" :
                       s->nesting == ON_OFF_AUTO_ON ? "nesting" : "pasid");
            error_append_hint(errp, "First-level and nested translation "
                              "and requests with a PASID exist in scalable "
                              "mode only; add scalable-mode=on or drop the "
                              "option.\n");
            return false;
        }
        s->first_level = ON_OFF_AUTO_OFF;
        s->nesting = ON_OFF_AUTO_OFF;
        return true;
    }
    if (!s->dma_translation) {
        error_setg(errp, "xen-viommu: scalable-mode=on requires "
                   "dma-translation=on");
        error_append_hint(errp, "Scalable mode is a DMA-remapping table "
                          "format; drop scalable-mode or "
                          "dma-translation=off.\n");
        return false;
    }
    if (s->pv_iommu == ON_OFF_AUTO_ON) {
        error_setg(errp, "xen-viommu: scalable-mode=on cannot be combined "
                   "with pv-iommu=on");
        error_append_hint(errp, "Passthrough devices are mirrored from "
                          "legacy-mode tables only; use pv-iommu=off (they "
                          "are then refused) or drop scalable-mode.\n");
        return false;
    }
    if (s->oracle) {
        error_setg(errp, "xen-viommu: x-oracle=on models legacy mode only");
        error_append_hint(errp, "Drop x-oracle or scalable-mode.\n");
        return false;
    }
    /* Passthrough devices are refused in scalable mode (see the docs) */
    s->pv_iommu = ON_OFF_AUTO_OFF;
    if (s->aw_bits < 48) {
        if (s->first_level == ON_OFF_AUTO_ON) {
            error_setg(errp, "xen-viommu: first-level=on requires "
                       "aw-bits=48 or 57");
            error_append_hint(errp, "First-level tables have 4 or 5 levels "
                              "(48- or 57-bit addresses); use aw-bits=48 or "
                              "first-level=off.\n");
            return false;
        }
        s->first_level = ON_OFF_AUTO_OFF;
    } else if (s->first_level == ON_OFF_AUTO_AUTO) {
        s->first_level = ON_OFF_AUTO_ON;
    }
    return xvi_check_nesting(s, errp);
}

static bool xvi_check_config(XenViommuState *s, Error **errp)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);
    X86MachineState *x86ms = X86_MACHINE(qdev_get_machine());
    bool ir = x86_iommu_ir_supported(x86);
    unsigned max_apic_id = x86ms->apic_id_limit ? x86ms->apic_id_limit - 1 : 0;

    if (s->aw_bits != 39 && s->aw_bits != 48 && s->aw_bits != 57) {
        error_setg(errp, "xen-viommu: aw-bits=%u is not supported",
                   s->aw_bits);
        error_append_hint(errp, "Use aw-bits=39, 48 or 57 (3-, 4- or "
                          "5-level second-level tables).\n");
        return false;
    }
    if (x86->dt_supported) {
        error_setg(errp, "xen-viommu: device-iotlb=on is not supported");
        error_append_hint(errp, "Drop device-iotlb (the unit has no ATS).\n");
        return false;
    }
    if (s->base & (XVI_MMIO_SIZE - 1) || s->base >= 4 * GiB) {
        error_setg(errp, "xen-viommu: base=0x%" PRIx64 " must be 4 KiB "
                   "aligned and below 4 GiB", s->base);
        return false;
    }
    if ((s->iotlb_size && s->iotlb_size < 16) ||
        s->iotlb_size > 1024 * 1024) {
        error_setg(errp, "xen-viommu: iotlb-size=%u is out of range",
                   s->iotlb_size);
        error_append_hint(errp, "Use 0 (no IOTLB) or a value between 16 "
                          "and 1048576.\n");
        return false;
    }

    if (!xvi_check_scalable(s, errp)) {
        return false;
    }

    switch (s->x2apic) {
    case ON_OFF_AUTO_ON:
        if (!ir) {
            error_setg(errp, "xen-viommu: x2apic=on requires intremap=on");
            error_append_hint(errp, "x2APIC destinations are only reachable "
                              "through interrupt remapping; add intremap=on "
                              "or drop x2apic=on.\n");
            return false;
        }
        s->x2apic_on = true;
        break;
    case ON_OFF_AUTO_OFF:
        s->x2apic_on = false;
        break;
    default:
        /* Extended interrupt mode whenever interrupts are remapped */
        s->x2apic_on = ir;
        break;
    }

#ifdef CONFIG_KVM
    if (s->x2apic_on && kvm_irqchip_is_split() && !kvm_enable_x2apic()) {
        if (s->x2apic == ON_OFF_AUTO_ON) {
            error_setg(errp, "xen-viommu: x2apic=on needs KVM's x2APIC API, "
                       "which this kernel lacks");
            error_append_hint(errp, "Use x2apic=off (at most 255 APIC "
                              "IDs).\n");
            return false;
        }
        s->x2apic_on = false;
    }
#endif

    if (max_apic_id > 255 && !s->x2apic_on) {
        error_setg(errp, "xen-viommu: the machine has APIC IDs up to %u, "
                   "which need interrupt remapping in x2APIC mode",
                   max_apic_id);
        error_append_hint(errp, "Use intremap=on,x2apic=on (or "
                          "x2apic=auto), or fewer CPUs.\n");
        return false;
    }
    if (max_apic_id > 255 && s->x2apic == ON_OFF_AUTO_AUTO) {
        info_report("xen-viommu: x2apic=auto: x2APIC mode on for APIC IDs "
                    "up to %u", max_apic_id);
    }
    return true;
}

static void xvi_realize(DeviceState *dev, Error **errp)
{
    XenViommuState *s = XEN_VIOMMU(dev);
    PCMachineState *pcms = PC_MACHINE(qdev_get_machine());

    if (!xvi_hyp_realize(s, errp)) {
        return;
    }
    if (!xvi_check_config(s, errp)) {
        goto fail;
    }
    if (!xvi_ptdma_realize(s, errp)) {
        goto fail;
    }
    xvi_init_caps(s);
    if (!xvi_dmar_file_init(s, errp)) {
        goto fail;
    }

    qemu_mutex_init(&s->lock);
    xvi_fault_init(s);
    memory_region_init_io(&s->mmio, OBJECT(s), &xvi_mmio_ops, s,
                          "xen-viommu", XVI_MMIO_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(s), &s->mmio);
    sysbus_mmio_map(SYS_BUS_DEVICE(s), 0, s->base);

    xvi_dma_init(s);
    xvi_ir_init(s);
    pci_setup_iommu(pcms->pcibus, &xvi_pci_iommu_ops, s);
    return;

fail:
    xvi_hyp_unrealize(s);
}

/* Runs before x86-iommu's realize, which resolves intremap=auto */
static DeviceRealize xvi_parent_realize;

static void xvi_pre_realize(DeviceState *dev, Error **errp)
{
    XenViommuState *s = XEN_VIOMMU(dev);

    s->intremap_auto =
        X86_IOMMU_DEVICE(dev)->intr_supported == ON_OFF_AUTO_AUTO;
    xvi_parent_realize(dev, errp);
}

static void xvi_unrealize(DeviceState *dev)
{
    XenViommuState *s = XEN_VIOMMU(dev);

    xvi_hyp_unrealize(s);
    xvi_fault_fini(s);
    xvi_oracle_free(s);
    qemu_mutex_destroy(&s->lock);
}

static char *xvi_get_hyp_stats(Object *obj, Error **errp)
{
    return xvi_hyp_stats_text(XEN_VIOMMU(obj));
}

/* Migration ---------------------------------------------------------------- */

static int xvi_post_load(void *opaque, int version_id)
{
    XenViommuState *s = opaque;
    uint32_t sts = xvi_get32(s, XVI_GSTS);

    /* Capabilities come from this side's configuration */
    if (xvi_get64(s, XVI_CAP) != s->cap || xvi_get64(s, XVI_ECAP) != s->ecap) {
        error_report("xen-viommu: incoming CAP/ECAP 0x%" PRIx64 "/0x%" PRIx64
                     " differ from this device's 0x%" PRIx64 "/0x%" PRIx64
                     "; use the same properties on both sides",
                     xvi_get64(s, XVI_CAP), xvi_get64(s, XVI_ECAP),
                     s->cap, s->ecap);
        return -EINVAL;
    }
    if (s->next_frcd >= XVI_NR_FRCD || s->root_ttm > 3 ||
        (s->root_ttm && !s->scalable_mode)) {
        return -EINVAL;
    }
    /* Caches are rebuilt, not migrated; address spaces follow GSTS.TES */
    xvi_dma_reset(s);
    xvi_ir_reset(s);
    xvi_dma_set_enabled(s, sts & XVI_GCMD_TE);
    return 0;
}

static int xvi_pre_save(void *opaque)
{
    /* Faults iothreads found before the VM stopped are part of the state */
    xvi_fault_drain(opaque);
    return 0;
}

/* Scalable mode: the table format SRTP latched (legacy streams lack it) */
static bool xvi_sm_needed(void *opaque)
{
    XenViommuState *s = opaque;

    return s->root_ttm != XVI_TTM_LEGACY;
}

static const VMStateDescription xvi_vmstate_sm = {
    .name = "xen-viommu/scalable-mode",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = xvi_sm_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(root_ttm, XenViommuState),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription xvi_vmstate = {
    .name = "xen-viommu",
    .version_id = 1,
    .minimum_version_id = 1,
    .priority = MIG_PRI_IOMMU,
    .pre_save = xvi_pre_save,
    .post_load = xvi_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(regs, XenViommuState, XVI_MMIO_SIZE / 4),
        VMSTATE_UINT64(root_table, XenViommuState),
        VMSTATE_BOOL(root_set, XenViommuState),
        VMSTATE_UINT64(irt_base, XenViommuState),
        VMSTATE_UINT32(irt_entries, XenViommuState),
        VMSTATE_BOOL(irt_eime, XenViommuState),
        VMSTATE_BOOL(irt_set, XenViommuState),
        VMSTATE_UINT8(next_frcd, XenViommuState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &xvi_vmstate_sm,
        NULL
    },
};

/* QOM ---------------------------------------------------------------------- */

static const Property xvi_properties[] = {
    DEFINE_PROP_UINT64("base", XenViommuState, base, XEN_VIOMMU_DEFAULT_BASE),
    DEFINE_PROP_ON_OFF_AUTO("x2apic", XenViommuState, x2apic,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_UINT8("aw-bits", XenViommuState, aw_bits, 48),
    DEFINE_PROP_BOOL("caching-mode", XenViommuState, caching_mode, false),
    DEFINE_PROP_BOOL("dma-translation", XenViommuState, dma_translation,
                     true),
    DEFINE_PROP_UINT32("iotlb-size", XenViommuState, iotlb_size, 4096),
    DEFINE_PROP_STRING("dmar-file", XenViommuState, dmar_file),
    DEFINE_PROP_BOOL("platform-opt-in", XenViommuState, platform_opt_in,
                     false),
    DEFINE_PROP_BOOL("scalable-mode", XenViommuState, scalable_mode, false),
    DEFINE_PROP_ON_OFF_AUTO("first-level", XenViommuState, first_level,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_ON_OFF_AUTO("nesting", XenViommuState, nesting,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("pasid", XenViommuState, pasid, false),
    DEFINE_PROP_BOOL("hpet", XenViommuState, hpet, true),
    DEFINE_PROP_UINT32("ioapic-id", XenViommuState, ioapic_id, UINT32_MAX),
    DEFINE_PROP_BOOL("x-iotlb-verify", XenViommuState, iotlb_verify, false),
    DEFINE_PROP_STRING("hypervisor", XenViommuState, hypervisor),
    DEFINE_PROP_BOOL("x-double-ext-dest-id", XenViommuState,
                     double_ext_dest_id, false),
    DEFINE_PROP_BOOL("x-double-ir-entries", XenViommuState,
                     double_ir_entries, true),
    DEFINE_PROP_BOOL("x-double-pt-msi-bind-ext", XenViommuState,
                     double_pt_msi_bind_ext, false),
    DEFINE_PROP_STRING("x-hyp-stats-file", XenViommuState, hyp_stats_file),
    DEFINE_PROP_BOOL("x-oracle", XenViommuState, oracle, false),
    DEFINE_PROP_BOOL("x-fuzz-preset", XenViommuState, fuzz_preset, false),
    DEFINE_PROP_ON_OFF_AUTO("pv-iommu", XenViommuState, pv_iommu,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("x-double-pv-iommu", XenViommuState, double_pv_iommu,
                     false),
    DEFINE_PROP_UINT16("x-double-pv-max-ctx", XenViommuState,
                       double_pv_max_ctx, 8),
    DEFINE_PROP_UINT32("x-double-pv-pool-pages", XenViommuState,
                       double_pv_pool_pages, 262144),
};

static void xvi_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    X86IOMMUClass *x86_class = X86_IOMMU_DEVICE_CLASS(klass);

    xvi_reg_map_init();
    x86_class->realize = xvi_realize;
    x86_class->int_remap = xvi_int_remap;
    x86_class->hpet_msi = xvi_hpet_msi;
    device_class_set_parent_realize(dc, xvi_pre_realize, &xvi_parent_realize);
    dc->unrealize = xvi_unrealize;
    rc->phases.hold = xvi_reset_hold;
    rc->phases.exit = xvi_reset_exit;
    dc->vmsd = &xvi_vmstate;
    dc->hotpluggable = false;
    dc->user_creatable = true;
    dc->desc = "Intel VT-d IOMMU for Xen HVM guests (DMA and interrupt "
               "remapping)";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, xvi_properties);

    object_class_property_set_description(klass, "base",
        "Guest-physical address of the register page");
    object_class_property_set_description(klass, "x2apic",
        "Extended interrupt mode (ECAP.EIM): 32-bit x2APIC destinations; "
        "auto = on when intremap is on");
    object_class_property_set_description(klass, "aw-bits",
        "Guest address width: 39, 48 or 57 bits (3-, 4-, 5-level tables)");
    object_class_property_set_description(klass, "caching-mode",
        "CAP.CM: the guest also invalidates when it creates mappings");
    object_class_property_set_description(klass, "dma-translation",
        "DMA remapping; off gives an interrupt-remapping-only unit");
    object_class_property_set_description(klass, "scalable-mode",
        "Scalable mode (ECAP.SMTS): PASID tables with first-level, "
        "second-level and pass-through translation, 256-bit invalidation "
        "descriptors");
    object_class_property_set_description(klass, "first-level",
        "Scalable mode: offer first-level (x86 page table) translation "
        "(ECAP.FLTS); auto = on with scalable-mode and aw-bits >= 48");
    object_class_property_set_description(klass, "nesting",
        "Scalable mode: offer nested translation, first-level tables over "
        "second-level ones (ECAP.NEST); auto = on with first-level");
    object_class_property_set_description(klass, "pasid",
        "Scalable mode: take requests with a PASID (ECAP.PASID, 8-bit "
        "PASIDs from the transaction's MemTxAttrs.pid; 0 means none)");
    object_class_property_set_description(klass, "iotlb-size",
        "IOTLB capacity in entries (least recently used evicted)");
    object_class_property_set_description(klass, "dmar-file",
        "Also write the unit's ACPI DMAR table to this file (for Xen's "
        "acpi_firmware=)");
    object_class_property_set_description(klass, "hypervisor",
        "What delivers interrupts: xen (Xen's hypervisor interface), double "
        "(the tests' stand-in for Xen), none (QEMU's APIC); auto = xen under "
        "-accel xen, else none");
    object_class_property_set_description(klass, "pv-iommu",
        "Put passthrough devices under DMA remapping by mirroring their "
        "mappings into the hypervisor (PV-IOMMU); forces caching-mode on; "
        "auto = on when the hypervisor has PV-IOMMU and dma-translation is "
        "on");
    object_class_property_set_description(klass, "x-oracle",
        "Debugging: check every translation, invalidation and remapped "
        "interrupt against the specification; on a unit bug abort "
        "under qtest, else report it and stop checking");
    object_class_property_set_description(klass, "x-fuzz-preset",
        "Test only: at every reset, set the unit, its tables in guest RAM "
        "and the devices' MSIs up as drivers would (for the fuzzer)");
    object_class_property_set_description(klass, "x-hyp-stats-file",
        "Write the hypervisor backend's per-operation counters to this file "
        "at exit");
    object_class_property_add_str(klass, "x-hyp-stats", xvi_get_hyp_stats,
                                  NULL);
    object_class_property_set_description(klass, "x-hyp-stats",
        "The hypervisor backend's counters: 'op calls refused errors items "
        "hypercalls' lines");
}

static const TypeInfo xvi_info = {
    .name = TYPE_XEN_VIOMMU,
    .parent = TYPE_X86_IOMMU_DEVICE,
    .instance_size = sizeof(XenViommuState),
    .class_init = xvi_class_init,
};

static void xvi_register_types(void)
{
    type_register_static(&xvi_info);
}

type_init(xvi_register_types)
