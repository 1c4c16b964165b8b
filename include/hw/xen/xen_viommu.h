/*
 * xen-viommu: an Intel VT-d IOMMU model for Xen HVM guests (public API)
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Kept small on purpose: machine and ACPI code include this header, so it
 * must not change when the device's internals do.
 */

#ifndef HW_XEN_XEN_VIOMMU_H
#define HW_XEN_XEN_VIOMMU_H

#include "qom/object.h"

#define TYPE_XEN_VIOMMU "xen-viommu"
OBJECT_DECLARE_SIMPLE_TYPE(XenViommuState, XEN_VIOMMU)

/* Where the register page sits unless the "base" property says otherwise. */
#define XEN_VIOMMU_DEFAULT_BASE 0xfed90000ULL

struct BIOSLinker;

/**
 * xen_viommu_build_dmar: append the ACPI DMAR table describing @s
 * @s: the device
 * @table_data: ACPI table blob to append to
 * @linker: BIOS linker (may be NULL when building a standalone table)
 * @oem_id: OEM ID for the table header
 * @oem_table_id: OEM table ID for the table header
 */
void xen_viommu_build_dmar(XenViommuState *s, GArray *table_data,
                           struct BIOSLinker *linker, const char *oem_id,
                           const char *oem_table_id);

/*
 * MSI bindings of passthrough devices (hw/i386/xen_viommu_pt.c).
 *
 * A passthrough device's MSI or MSI-X vector is delivered by Xen through a
 * pirq binding.  With a unit that remaps interrupts, the binding is made
 * through it: the guest's message is translated, the translated gvec and
 * gflags are bound, and the unit re-binds on every interrupt-entry-cache
 * invalidation, IRE/CFI and SIRTP change.  Callers hold the BQL.
 */
typedef struct XenViommuPtMsi XenViommuPtMsi;

/*
 * A binding of machine @pirq for requester @sid (the device's BDF as the
 * guest sees it), MSI-X table at @gtable (0 for MSI).  Nothing is bound
 * until the first update.  NULL when @s cannot remap passthrough MSIs
 * (interrupt remapping off, or no hypervisor backend).
 */
XenViommuPtMsi *xen_viommu_pt_msi_new(XenViommuState *s, uint16_t sid,
                                      uint32_t pirq, uint64_t gtable);
/*
 * The guest programmed (@addr, @data), @masked or not.  Returns 0 when
 * bound, 1 when left unbound because of the guest's configuration (blocked
 * by the unit, which records the fault, or not expressible to Xen), or a
 * negative errno when the hypervisor failed.
 */
int xen_viommu_pt_msi_update(XenViommuPtMsi *b, uint64_t addr, uint32_t data,
                             bool masked);
/* Unbind with the values bound, then free: the unbind result; @b may be NULL */
int xen_viommu_pt_msi_free(XenViommuPtMsi *b);
bool xen_viommu_pt_msi_bound(const XenViommuPtMsi *b);
/*
 * The compatibility-format message @s turns (@addr, @data) from @sid into,
 * without recording a fault: 0, or -EINVAL when blocked.
 */
int xen_viommu_pt_msi_translate(XenViommuState *s, uint16_t sid,
                                uint64_t addr, uint32_t data,
                                uint64_t *out_addr, uint32_t *out_data);

/*
 * DMA remapping of passthrough devices (hw/i386/xen_viommu_ptdma.c).
 *
 * A passthrough device's DMA is translated by the host IOMMU, which Xen
 * programs.  With a unit that translates DMA, the device's guest-programmed
 * mappings are mirrored into a PV-IOMMU context of its own.  Callers hold
 * the BQL.
 */
typedef struct XenViommuPtDma XenViommuPtDma;

/*
 * Put passthrough device @pdev (the machine device @machine_sbdf,
 * segment << 16 | bus << 8 | devfn) under the default IOMMU's DMA
 * remapping.  true with *@out NULL when there is nothing to do (no
 * xen-viommu, or its DMA translation off); false with @errp set when the
 * unit translates DMA but cannot mirror (pv-iommu off).
 */
bool xen_viommu_pt_dma_attach(PCIDevice *pdev, uint32_t machine_sbdf,
                              XenViommuPtDma **out, Error **errp);
/* Back to the default context, then free; @pd may be NULL */
void xen_viommu_pt_dma_detach(XenViommuPtDma *pd);

#endif /* HW_XEN_XEN_VIOMMU_H */
