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

#endif /* HW_XEN_XEN_VIOMMU_H */
