/*
 * xen-viommu: device state and register layout shared by the device's files
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_I386_XEN_VIOMMU_INTERNAL_H
#define HW_I386_XEN_VIOMMU_INTERNAL_H

#include "hw/i386/x86-iommu.h"
#include "hw/pci/pci.h"
#include "exec/memory.h"
#include "qemu/thread.h"
#include "qemu/seqlock.h"
#include "qemu/bitmap.h"
#include "hw/xen/xen_viommu.h"
#include "hw/xen/xen_viommu_hyp.h"
#include "xen_viommu_walk.h"
#include "xen_viommu_pasid.h"
#include "xen_viommu_iotlb.h"
#include "xen_viommu_irte.h"

/* Register offsets (VT-d spec 10.4) */
#define XVI_VER         0x00
#define XVI_CAP         0x08
#define XVI_ECAP        0x10
#define XVI_GCMD        0x18
#define XVI_GSTS        0x1c
#define XVI_RTADDR      0x20
#define XVI_CCMD        0x28
#define XVI_FSTS        0x34
#define XVI_FECTL       0x38
#define XVI_FEDATA      0x3c
#define XVI_FEADDR      0x40
#define XVI_FEUADDR     0x44
#define XVI_AFLOG       0x58
#define XVI_PMEN        0x64
#define XVI_PLMBASE     0x68
#define XVI_PLMLIMIT    0x6c
#define XVI_PHMBASE     0x70
#define XVI_PHMLIMIT    0x78
#define XVI_IQH         0x80
#define XVI_IQT         0x88
#define XVI_IQA         0x90
#define XVI_ICS         0x9c
#define XVI_IECTL       0xa0
#define XVI_IEDATA      0xa4
#define XVI_IEADDR      0xa8
#define XVI_IEUADDR     0xac
#define XVI_IRTA        0xb8
/* IOTLB registers: ECAP.IRO = XVI_IVA / 16 */
#define XVI_IVA         0x100
#define XVI_IOTLB       0x108
/* Fault recording registers: CAP.FRO = XVI_FRCD / 16, 16 bytes each */
#define XVI_FRCD        0x200
#define XVI_NR_FRCD     8
#define XVI_MMIO_SIZE   0x1000

#define XVI_VERSION     0x10        /* architecture version 1.0 */

/* CAP */
#define XVI_CAP_ND_16BIT        6ULL
#define XVI_CAP_CM              (1ULL << 7)
#define XVI_CAP_SAGAW_SHIFT     8
#define XVI_CAP_SAGAW_39        (2ULL << XVI_CAP_SAGAW_SHIFT)
#define XVI_CAP_SAGAW_48        (4ULL << XVI_CAP_SAGAW_SHIFT)
#define XVI_CAP_SAGAW_57        (8ULL << XVI_CAP_SAGAW_SHIFT)
#define XVI_CAP_MGAW_SHIFT      16
#define XVI_CAP_FRO_SHIFT       24
#define XVI_CAP_SLLPS_2M        (1ULL << 34)
#define XVI_CAP_SLLPS_1G        (1ULL << 35)
#define XVI_CAP_PSI             (1ULL << 39)
#define XVI_CAP_NFR_SHIFT       40
#define XVI_CAP_MAMV_SHIFT      48
#define XVI_CAP_DWD             (1ULL << 54)
#define XVI_CAP_DRD             (1ULL << 55)
#define XVI_CAP_FL1GP           (1ULL << 56)
#define XVI_CAP_FL5LP           (1ULL << 60)
#define XVI_MAMV                18

/* ECAP */
#define XVI_ECAP_C              (1ULL << 0)
#define XVI_ECAP_QI             (1ULL << 1)
#define XVI_ECAP_IR             (1ULL << 3)
#define XVI_ECAP_EIM            (1ULL << 4)
#define XVI_ECAP_PT             (1ULL << 6)
#define XVI_ECAP_IRO_SHIFT      8
#define XVI_ECAP_MHMV_SHIFT     20
#define XVI_ECAP_NEST           (1ULL << 26)
#define XVI_ECAP_SRS            (1ULL << 31)
#define XVI_ECAP_PSS_SHIFT      35
#define XVI_ECAP_PASID          (1ULL << 40)
#define XVI_ECAP_SMTS           (1ULL << 43)
#define XVI_ECAP_SLTS           (1ULL << 46)
#define XVI_ECAP_FLTS           (1ULL << 47)
#define XVI_ECAP_SMPWC          (1ULL << 48)
#define XVI_ECAP_RPS            (1ULL << 49)

/* GCMD / GSTS: command bit n reports in status bit n */
#define XVI_GCMD_TE             (1U << 31)
#define XVI_GCMD_SRTP           (1U << 30)
#define XVI_GCMD_SFL            (1U << 29)
#define XVI_GCMD_EAFL           (1U << 28)
#define XVI_GCMD_WBF            (1U << 27)
#define XVI_GCMD_QIE            (1U << 26)
#define XVI_GCMD_IRE            (1U << 25)
#define XVI_GCMD_SIRTP          (1U << 24)
#define XVI_GCMD_CFI            (1U << 23)
/* Status bits that are enables (as opposed to one-shot completions) */
#define XVI_GSTS_ENABLES        (XVI_GCMD_TE | XVI_GCMD_QIE | XVI_GCMD_IRE | \
                                 XVI_GCMD_CFI)

/* RTADDR */
#define XVI_RTADDR_TTM_MASK     (3ULL << 10)   /* 0 = legacy mode */
#define XVI_RTADDR_TTM_SHIFT    10
#define XVI_TTM_LEGACY          0
#define XVI_TTM_SCALABLE        1
#define XVI_RTADDR_ADDR_MASK    (~0xfffULL)

/* CCMD */
#define XVI_CCMD_ICC            (1ULL << 63)
#define XVI_CCMD_CIRG_SHIFT     61
#define XVI_CCMD_CAIG_SHIFT     59
#define XVI_CCMD_FM_SHIFT       32
#define XVI_CCMD_SID_SHIFT      16
#define XVI_CCMD_DID_MASK       0xffffULL

/* IOTLB register */
#define XVI_IOTLB_IVT           (1ULL << 63)
#define XVI_IOTLB_IIRG_SHIFT    60
#define XVI_IOTLB_IAIG_SHIFT    57
#define XVI_IOTLB_DR            (1ULL << 49)
#define XVI_IOTLB_DW            (1ULL << 48)
#define XVI_IOTLB_DID_SHIFT     32
#define XVI_IVA_AM_MASK         0x3fULL
#define XVI_IVA_IH              (1ULL << 6)

/* FSTS */
#define XVI_FSTS_PFO            (1U << 0)
#define XVI_FSTS_PPF            (1U << 1)
#define XVI_FSTS_IQE            (1U << 4)
#define XVI_FSTS_ICE            (1U << 5)
#define XVI_FSTS_ITE            (1U << 6)
#define XVI_FSTS_FRI_SHIFT      8
#define XVI_FSTS_W1C            (XVI_FSTS_PFO | XVI_FSTS_IQE | XVI_FSTS_ICE | \
                                 XVI_FSTS_ITE)

/* FECTL / IECTL */
#define XVI_CTL_IM              (1U << 31)
#define XVI_CTL_IP              (1U << 30)

/* ICS */
#define XVI_ICS_IWC             1U

/* FRCD high qword */
#define XVI_FRCD_F              (1ULL << 63)
#define XVI_FRCD_T              (1ULL << 62)   /* 1 = read, 0 = write */
#define XVI_FRCD_FR_SHIFT       32
#define XVI_FRCD_PP             (1ULL << 31)   /* the request had a PASID */
#define XVI_FRCD_PRIV           (1ULL << 29)   /* ... privileged */
#define XVI_FRCD_PV_SHIFT       40             /* ... its value */

/* IQA / IQH / IQT */
#define XVI_IQA_DW              (1ULL << 11)
#define XVI_IQA_QS_MASK         7ULL
#define XVI_IQA_ADDR_MASK       (~0xfffULL)
#define XVI_IQ_PTR_SHIFT        4              /* 128-bit descriptors */
#define XVI_IQ_PTR_MASK         0x7fff0ULL

/* IRTA */
#define XVI_IRTA_EIME           (1ULL << 11)
#define XVI_IRTA_S_MASK         0xfULL
#define XVI_IRTA_ADDR_MASK      (~0xfffULL)

/*
 * The IO-APIC's source id: DMAR device scope bus 0xff, device 0, function 0
 * (the value real chipsets and libxl's historic DMAR use)
 */
#define XVI_IOAPIC_BUS          0xff
#define XVI_IOAPIC_DEVFN        0
#define XVI_IOAPIC_SID          PCI_BUILD_BDF(XVI_IOAPIC_BUS, XVI_IOAPIC_DEVFN)
/* The HPET's: DMAR device scope f0:1f.0, as on Intel chipsets */
#define XVI_HPET_BUS            0xf0
#define XVI_HPET_DEVFN          PCI_DEVFN(0x1f, 0)
#define XVI_HPET_SID            PCI_BUILD_BDF(XVI_HPET_BUS, XVI_HPET_DEVFN)

/* Output address width of the walk: what a guest may map to. */
#define XVI_HAW                 46

/* The interrupt window of every requester's address space (walk.h) */
#define XVI_IR_BASE             XVI_INTR_ADDR_FIRST
#define XVI_IR_SIZE             (XVI_INTR_ADDR_LAST - XVI_INTR_ADDR_FIRST + 1)

/* Interrupt entries are told to their consumers in chunks of 256 */
#define XVI_IR_CHUNK_ORDER      8
#define XVI_IR_CHUNK            (1u << XVI_IR_CHUNK_ORDER)
#define XVI_IR_CHUNKS           (XVI_IRTE_MAX_ENTRIES / XVI_IR_CHUNK)

/* A fault found outside the BQL, recorded later (xen_viommu_fault.c) */
typedef struct XviDeferredFault {
    uint64_t addr;
    uint64_t pasid_bits;        /* XVI_FRCD_PP, _PRIV and PV, or 0 */
    uint16_t sid;
    uint8_t reason;
    bool is_write;
} XviDeferredFault;
#define XVI_NR_DEFERRED_FAULTS  16

/* What delivers the unit's interrupts (property "hypervisor") */
typedef enum XviHypMode {
    XVI_HYP_NONE,               /* QEMU's APIC, as without Xen */
    XVI_HYP_XEN,                /* the native backend (libxen) */
    XVI_HYP_DOUBLE,             /* the hypervisor double (tests, TCG) */
} XviHypMode;

/* A PCI bus behind the unit and its devices' address spaces. */
typedef struct XenViommuBus {
    PCIBus *bus;
    struct XenViommuDevAS *dev[PCI_DEVFN_MAX];
} XenViommuBus;

/* One requester's view of memory through the unit. */
typedef struct XenViommuDevAS {
    XenViommuState *s;
    PCIBus *bus;
    uint8_t devfn;
    IOMMUMemoryRegion iommu;    /* DMA remapping */
    MemoryRegion root;          /* container: iommu or nodmar, plus ir */
    MemoryRegion nodmar;        /* alias of system memory: TE off/PT */
    MemoryRegion ir;            /* 0xfee00000 interrupt window */
    AddressSpace as;
    bool translated;            /* root shows iommu (vs nodmar) */
    IOMMUNotifierFlag notifier_flags;
    /* Context cache: valid while ctx_gen == s->ctx_gen */
    uint32_t ctx_gen;
    int ctx_fault;
    XviContextEntry ctx;        /* scalable mode: did, fpd, tt from sm */
    XviSmEntry sm;              /* scalable mode: the RID_PASID's entry */
    /* The last request with a PASID: its entry, valid as the above */
    uint32_t pasid_gen;
    uint32_t pasid_key;         /* PASID << 1 | privileged */
    XviSmEntry pasid_sm;
    /*
     * The last translation, which translate() reads without the lock:
     * valid while the IOTLB's flush generation and s->ctx_gen are the ones
     * it was taken at (an IOTLB generation is never 0).  Written under the
     * lock; legacy-mode contexts only.
     */
    QemuSeqLock last_seq;
    XviTranslation last;
    uint32_t last_iotlb_gen, last_ctx_gen;
} XenViommuDevAS;

struct XenViommuState {
    X86IOMMUState parent_obj;

    /* Properties */
    uint64_t base;
    OnOffAuto x2apic;
    uint8_t aw_bits;
    bool caching_mode;
    bool dma_translation;
    uint32_t iotlb_size;
    bool iotlb_verify;
    char *dmar_file;
    bool platform_opt_in;       /* DMAR DMA_CTRL_PLATFORM_OPT_IN */
    uint32_t ioapic_id;         /* DMAR IO-APIC scope id; > 255: auto */
    bool scalable_mode;         /* ECAP.SMTS: RTADDR.TTM = 01b tables */
    bool pasid;                 /* ECAP.PASID: requests with a PASID */
    OnOffAuto first_level;      /* ECAP.FLTS (scalable mode) */
    OnOffAuto nesting;          /* ECAP.NEST (scalable mode) */
    bool hpet;                  /* the HPET in the DMAR, its MSIs remapped */
    Notifier dmar_file_done;

    /* Derived at realize */
    bool x2apic_on;
    uint64_t cap, ecap;
    XviWalkConfig walk_cfg;
    XviSmConfig sm_cfg;         /* scalable mode: what ECAP offers */

    MemoryRegion mmio;
    /* Register values, indexed by offset / 4 (64-bit registers use 2 slots) */
    uint32_t regs[XVI_MMIO_SIZE / 4];

    /*
     * Latched state: the registers hold what software wrote, these what
     * the hardware acted on
     */
    uint64_t root_table;
    bool root_set;              /* SRTP was done since reset */
    uint8_t root_ttm;           /* RTADDR.TTM latched by SRTP */
    uint64_t irt_base;
    uint32_t irt_entries;
    bool irt_eime;
    bool irt_set;               /* SIRTP was done since reset */
    uint64_t iq_base;
    uint32_t iq_entries;
    /* Interrupt-entry invalidations gathered over a queue batch (ir.c) */
    bool ir_batch;
    bool ir_batch_global, ir_batch_global_done;
    DECLARE_BITMAP(ir_batch_pending, XVI_IR_CHUNKS);
    DECLARE_BITMAP(ir_batch_done, XVI_IR_CHUNKS);
    uint8_t next_frcd;

    /* Faults found in iothreads, waiting for the BQL (fault.c) */
    QemuMutex fault_lock;
    QEMUBH *fault_bh;
    unsigned nr_deferred;
    bool deferred_lost;
    XviDeferredFault deferred[XVI_NR_DEFERRED_FAULTS];

    /* Translation state, protected by lock */
    QemuMutex lock;
    XviIotlb *iotlb;
    XviIec *iec;
    uint32_t ctx_gen;
    GHashTable *buses;          /* PCIBus * -> XenViommuBus * */
    unsigned unmap_listeners;   /* devices with UNMAP notifiers */

    /* IO-APIC interrupts: written into ioapic_as, remapped as SID ioapic_sid */
    AddressSpace ioapic_as;
    MemoryRegion ioapic_root;
    MemoryRegion ioapic_sysmem;
    MemoryRegion ioapic_ir;

    /* Hypervisor backing (xen_viommu_xen.c) */
    char *hypervisor;           /* property: auto, xen, double, none */
    bool double_ext_dest_id;    /* x-double-* properties */
    bool double_ir_entries;
    bool double_pt_msi_bind_ext;
    char *hyp_stats_file;       /* x-hyp-stats-file: counters at exit */
    bool intremap_auto;         /* intremap=auto: may be turned off */
    XviHypMode hyp_mode;
    XenViommuHyp *hyp;          /* NULL with hypervisor=none */
    bool hyp_ir;                /* IR entries are pushed to the backend */
    uint32_t hyp_ir_extent;     /* entries [0, extent) may be present */
    XenViommuHypIrEntry *hyp_ir_buf;    /* XEN_VIOMMU_IR_MAX_BATCH */
    QemuMutex hyp_lock;         /* serialises hyp calls; after lock */
    Notifier hyp_exit;

    /* Passthrough MSI bindings (xen_viommu_pt.c), under the BQL */
    QLIST_HEAD(, XenViommuPtMsi) pt_msis;

    /* Passthrough DMA through PV-IOMMU (xen_viommu_ptdma.c), under the BQL */
    OnOffAuto pv_iommu;         /* property */
    bool pv_on;                 /* resolved at realize */
    bool double_pv_iommu;       /* x-double-pv-* properties */
    uint16_t double_pv_max_ctx;
    uint32_t double_pv_pool_pages;
    uint16_t pv_block_ctx;      /* shared blocking context, 0 = none */
    bool pv_defer;              /* syncs gathered (queued invalidation) */
    QLIST_HEAD(, XenViommuPtDma) pt_dmas;

    /* x-oracle: checks against the specification (xen_viommu_oracle.c) */
    bool oracle;
    struct XviOracle *oracle_st;
    bool fuzz_preset;           /* x-fuzz-preset (xen_viommu_fuzz.c) */
};

/* Register access helpers (xen_viommu.c) */
uint32_t xvi_get32(XenViommuState *s, hwaddr off);
uint64_t xvi_get64(XenViommuState *s, hwaddr off);
void xvi_set32(XenViommuState *s, hwaddr off, uint32_t val);
void xvi_set64(XenViommuState *s, hwaddr off, uint64_t val);
void xvi_set_clear32(XenViommuState *s, hwaddr off, uint32_t set,
                     uint32_t clear);
bool xvi_read_guest(void *opaque, uint64_t addr, void *buf, size_t len);
bool xvi_write_guest(XenViommuState *s, uint64_t addr, const void *buf,
                     size_t len);

/* ACPI (xen_viommu_acpi.c) */
bool xvi_dmar_file_init(XenViommuState *s, Error **errp);

/* Fault recording and event interrupts (xen_viommu_fault.c) */
void xvi_fault_init(XenViommuState *s);
void xvi_fault_fini(XenViommuState *s);
void xvi_fault_reset(XenViommuState *s);
/* Any thread; outside the BQL the record is made later by a bottom half */
void xvi_fault_record(XenViommuState *s, uint16_t sid, uint8_t reason,
                      uint64_t addr, bool is_write);
/* The same for a request with a PASID: @pasid_bits as XviDeferredFault's */
void xvi_fault_record_pasid(XenViommuState *s, uint16_t sid, uint8_t reason,
                            uint64_t addr, bool is_write,
                            uint64_t pasid_bits);
void xvi_fault_drain(XenViommuState *s);
void xvi_fault_fsts_written(XenViommuState *s);
void xvi_fault_fectl_written(XenViommuState *s);
void xvi_fault_set_iqe(XenViommuState *s);
void xvi_fault_set_ite(XenViommuState *s);
void xvi_inv_completion_event(XenViommuState *s);
void xvi_inv_ics_written(XenViommuState *s);
void xvi_inv_iectl_written(XenViommuState *s);
void xvi_send_event_msi(XenViommuState *s, const char *which, hwaddr data_reg,
                        hwaddr addr_reg, hwaddr uaddr_reg);

/* DMA remapping glue (xen_viommu_dma.c) */
void xvi_dma_init(XenViommuState *s);
void xvi_dma_reset(XenViommuState *s);
void xvi_dma_set_root(XenViommuState *s);
void xvi_dma_set_enabled(XenViommuState *s, bool on);
void xvi_dma_inv_context_all(XenViommuState *s);
void xvi_dma_inv_iotlb_all(XenViommuState *s);
void xvi_dma_inv_iotlb_domain(XenViommuState *s, uint16_t did);
void xvi_dma_inv_iotlb_pages(XenViommuState *s, uint16_t did, uint64_t addr,
                             unsigned am);
/* Scalable mode: one PASID of @did, 2^am pages at @addr (am >= 52: all) */
void xvi_dma_inv_piotlb(XenViommuState *s, uint16_t did, uint32_t pasid,
                        uint64_t addr, unsigned am);
extern const PCIIOMMUOps xvi_pci_iommu_ops;

/* Invalidation (xen_viommu_qi.c) */
void xvi_ccmd_written(XenViommuState *s);
void xvi_iotlb_reg_written(XenViommuState *s);
void xvi_qi_set_enabled(XenViommuState *s, bool on);
void xvi_qi_tail_written(XenViommuState *s);

/* Interrupt remapping (xen_viommu_ir.c) */
void xvi_ir_init(XenViommuState *s);
void xvi_ir_reset(XenViommuState *s);
void xvi_ir_set_table(XenViommuState *s);
void xvi_ir_set_enabled(XenViommuState *s, bool ire, bool cfi);
/* Compatibility-format requests are blocked (IRE assumed on) */
bool xvi_ir_compat_blocked(XenViommuState *s);
void xvi_ir_invalidate(XenViommuState *s, bool global, uint32_t index,
                       unsigned im);
/* Gather invalidations over a queue batch; flush before a wait completes */
void xvi_ir_batch(XenViommuState *s, bool on);
void xvi_ir_batch_flush(XenViommuState *s);
extern const MemoryRegionOps xvi_ir_dev_ops;
bool xvi_ir_hpet_remapped(XenViommuState *s);
bool xvi_hpet_msi(X86IOMMUState *iommu, uint64_t addr, uint32_t data);
int xvi_int_remap(X86IOMMUState *iommu, MSIMessage *src, MSIMessage *dst,
                  uint16_t sid);
int xvi_ir_remap(XenViommuState *s, uint64_t addr, uint32_t data,
                 uint16_t sid, uint64_t *out_addr, uint32_t *out_data,
                 bool record_fault);

/* Hypervisor backing (xen_viommu_xen.c) */
bool xvi_hyp_realize(XenViommuState *s, Error **errp);
void xvi_hyp_unrealize(XenViommuState *s);
void xvi_deliver_msi(XenViommuState *s, uint64_t addr, uint32_t data);
void xvi_deliver_untranslated_msi(XenViommuState *s, uint64_t addr,
                                  uint32_t data);
void xvi_hyp_ioapic_msi(XenViommuState *s, uint64_t addr, uint32_t data);
void xvi_hyp_ir_sync(XenViommuState *s);
void xvi_hyp_ir_invalidate(XenViommuState *s, bool global, uint32_t index,
                           unsigned im);
char *xvi_hyp_stats_text(XenViommuState *s);

/* Passthrough MSI bindings (xen_viommu_pt.c) */
void xvi_pt_msi_refresh(XenViommuState *s, bool global, uint32_t index,
                        unsigned im);
void xvi_pt_msi_detach_all(XenViommuState *s);

/* Passthrough DMA through PV-IOMMU (xen_viommu_ptdma.c) */
bool xvi_ptdma_realize(XenViommuState *s, Error **errp);
void xvi_ptdma_unrealize(XenViommuState *s);
void xvi_ptdma_contexts_changed(XenViommuState *s);
void xvi_ptdma_iotlb_invalidate(XenViommuState *s, bool all_domains,
                                uint16_t did, uint64_t start, uint64_t end);
/* While deferred, IOTLB invalidations only widen each device's pending range */
void xvi_ptdma_defer(XenViommuState *s, bool on);
/* Sync the pending ranges now */
void xvi_ptdma_flush(XenViommuState *s);

/* Test only: at reset, the state drivers leave the unit in (fuzz.c) */
void xvi_fuzz_preset(XenViommuState *s);

#include "xen_viommu_oracle.h"

#endif /* HW_I386_XEN_VIOMMU_INTERNAL_H */
