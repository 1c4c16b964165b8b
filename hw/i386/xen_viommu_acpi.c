/*
 * xen-viommu: the ACPI DMAR table describing the unit
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One DRHD at the unit's base.  It covers every PCI device of segment 0
 * (INCLUDE_PCI_ALL), so hot-plugged devices are covered too, unless some
 * host bridge bypasses the IOMMU: then the covered devices are listed one
 * by one.  The IO-APIC is always in scope with the source id the unit checks
 * its interrupt requests against; Linux only enables interrupt remapping when
 * every IO-APIC is.  So is the HPET when its FSB interrupts pass the unit
 * (property "hpet"), so that Linux remaps them too.  The same builder
 * serves QEMU's ACPI tables (with a BIOS linker) and a standalone table for
 * Xen's acpi_firmware= (no linker).
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/i386/x86.h"
#include "hw/acpi/aml-build.h"
#include "hw/acpi/bios-linker-loader.h"
#include "hw/pci/pci_bridge.h"
#include "hw/pci/pci_host.h"
#include "hw/timer/hpet.h"
#include "qemu/error-report.h"
#include "system/system.h"
#include "system/xen.h"
#include "xen_viommu_internal.h"

#define DMAR_FLAG_INTR_REMAP        (1 << 0)
#define DMAR_FLAG_X2APIC_OPT_OUT    (1 << 1)
#define DMAR_FLAG_PLATFORM_OPT_IN   (1 << 2)  /* DMA_CTRL_PLATFORM_OPT_IN */
#define DRHD_FLAG_INCLUDE_PCI_ALL   (1 << 0)
#define DMAR_TYPE_DRHD              0
#define SCOPE_ENDPOINT              1
#define SCOPE_BRIDGE                2
#define SCOPE_IOAPIC                3
#define SCOPE_HPET                  4     /* MSI-capable HPET */
#define HPET_ENUMERATION_ID         0     /* QEMU's HPET table: number 0 */
#define SCOPE_LEN                   8     /* header + one path entry */
/*
 * The IO-APIC's id as the MADT gives it, which the scope must repeat
 * (Linux turns remapping off otherwise): 0 in QEMU's own tables, 1 in
 * hvmloader's, which is where a standalone table (dmar-file=) goes.
 */
#define IOAPIC_ID_QEMU              0
#define IOAPIC_ID_HVMLOADER         1

static void dmar_append_scope(GArray *blob, uint8_t type, uint8_t enum_id,
                              uint8_t bus, uint8_t devfn)
{
    build_append_int_noprefix(blob, type, 1);
    build_append_int_noprefix(blob, SCOPE_LEN, 1);
    build_append_int_noprefix(blob, 0, 2);           /* reserved */
    build_append_int_noprefix(blob, enum_id, 1);
    build_append_int_noprefix(blob, bus, 1);         /* start bus */
    build_append_int_noprefix(blob, PCI_SLOT(devfn), 1);
    build_append_int_noprefix(blob, PCI_FUNC(devfn), 1);
}

static void dmar_scope_device(PCIBus *bus, PCIDevice *dev, void *opaque)
{
    bool bridge = object_dynamic_cast(OBJECT(dev), TYPE_PCI_BRIDGE);

    /* A bridge scope covers everything behind it */
    dmar_append_scope(opaque, bridge ? SCOPE_BRIDGE : SCOPE_ENDPOINT, 0,
                      pci_bus_num(bus), dev->devfn);
}

typedef struct DmarScan {
    bool any_bypass;
    GArray *scopes;
} DmarScan;

static int dmar_scan_host_bridge(Object *obj, void *opaque)
{
    DmarScan *scan = opaque;
    PCIBus *bus;

    if (!object_dynamic_cast(obj, TYPE_PCI_HOST_BRIDGE)) {
        return 0;
    }
    bus = PCI_HOST_BRIDGE(obj)->bus;
    if (!bus) {
        return 0;
    }
    if (pci_bus_bypass_iommu(bus)) {
        scan->any_bypass = true;
    } else if (scan->scopes) {
        pci_for_each_device_under_bus(bus, dmar_scope_device, scan->scopes);
    }
    return 0;
}

/* Length and checksum for a table nobody's linker will fix up */
static void dmar_finish_standalone(GArray *table_data, unsigned start)
{
    uint32_t len = table_data->len - start;
    uint32_t len_le = cpu_to_le32(len);
    uint8_t *t = (uint8_t *)table_data->data + start;
    uint8_t sum = 0;
    unsigned i;

    memcpy(t + 4, &len_le, sizeof(len_le));
    t[9] = 0;
    for (i = 0; i < len; i++) {
        sum += t[i];
    }
    t[9] = -sum;
}

void xen_viommu_build_dmar(XenViommuState *s, GArray *table_data,
                           struct BIOSLinker *linker, const char *oem_id,
                           const char *oem_table_id)
{
    AcpiTable table = { .sig = "DMAR", .rev = 1, .oem_id = oem_id,
                        .oem_table_id = oem_table_id };
    DmarScan scan = { 0 };
    GArray *scopes = g_array_new(false, true, 1);
    uint8_t dmar_flags = 0;
    uint8_t drhd_flags = 0;
    uint8_t ioapic_id = s->ioapic_id <= UINT8_MAX ? s->ioapic_id :
                        linker && !xen_enabled() ? IOAPIC_ID_QEMU :
                        IOAPIC_ID_HVMLOADER;
    /* Listed only where its interrupts really come through the unit */
    bool hpet = xvi_ir_hpet_remapped(s) &&
                object_resolve_path_type("", TYPE_HPET, NULL);
    unsigned start = table_data->len;

    object_child_foreach_recursive(object_get_root(), dmar_scan_host_bridge,
                                   &scan);
    if (scan.any_bypass) {
        scan.scopes = scopes;
        object_child_foreach_recursive(object_get_root(),
                                       dmar_scan_host_bridge, &scan);
    } else {
        drhd_flags |= DRHD_FLAG_INCLUDE_PCI_ALL;
    }

    if (s->ecap & XVI_ECAP_IR) {
        dmar_flags |= DMAR_FLAG_INTR_REMAP;
        if (!(s->ecap & XVI_ECAP_EIM)) {
            /* Keep the OS in xAPIC mode: the unit has no 32-bit dests */
            dmar_flags |= DMAR_FLAG_X2APIC_OPT_OUT;
        }
    }

    if (s->platform_opt_in) {
        /*
         * The firmware promises DMA protection from boot: Windows' Kernel
         * DMA Protection requires it, Linux forces the IOMMU on for
         * untrusted (external) devices when it is set
         */
        dmar_flags |= DMAR_FLAG_PLATFORM_OPT_IN;
    }

    acpi_table_begin(&table, table_data);
    build_append_int_noprefix(table_data, XVI_HAW - 1, 1); /* host width */
    build_append_int_noprefix(table_data, dmar_flags, 1);
    build_append_int_noprefix(table_data, 0, 8);           /* reserved */
    build_append_int_noprefix(table_data, 0, 2);

    /* DRHD */
    build_append_int_noprefix(table_data, DMAR_TYPE_DRHD, 2);
    build_append_int_noprefix(table_data, 16 + SCOPE_LEN + scopes->len +
                              (hpet ? SCOPE_LEN : 0), 2);
    build_append_int_noprefix(table_data, drhd_flags, 1);
    build_append_int_noprefix(table_data, 0, 1);           /* reserved */
    build_append_int_noprefix(table_data, 0, 2);           /* segment */
    build_append_int_noprefix(table_data, s->base, 8);
    dmar_append_scope(table_data, SCOPE_IOAPIC, ioapic_id,
                      XVI_IOAPIC_BUS, XVI_IOAPIC_DEVFN);
    g_array_append_vals(table_data, scopes->data, scopes->len);
    g_array_free(scopes, true);
    if (hpet) {
        dmar_append_scope(table_data, SCOPE_HPET, HPET_ENUMERATION_ID,
                          XVI_HPET_BUS, XVI_HPET_DEVFN);
    }

    if (linker) {
        acpi_table_end(linker, &table);
    } else {
        dmar_finish_standalone(table_data, start);
    }
}

/*
 * The DMAR as a file for Xen's xl.cfg acpi_firmware= (hvmloader appends it
 * to the guest's ACPI tables): written once the machine is complete, so the
 * device scopes are final.
 */
static void xvi_dmar_file_notify(Notifier *n, void *data)
{
    XenViommuState *s = container_of(n, XenViommuState, dmar_file_done);
    X86MachineState *x86ms = X86_MACHINE(qdev_get_machine());
    g_autoptr(GArray) blob = g_array_new(false, true, 1);
    g_autoptr(GError) err = NULL;

    xen_viommu_build_dmar(s, blob, NULL, x86ms->oem_id, x86ms->oem_table_id);
    if (!g_file_set_contents(s->dmar_file, blob->data, blob->len, &err)) {
        error_report("xen-viommu: dmar-file=%s: %s", s->dmar_file,
                     err->message);
        exit(1);
    }
}

bool xvi_dmar_file_init(XenViommuState *s, Error **errp)
{
    int fd;

    if (!s->dmar_file) {
        return true;
    }
    /* Fail now, with the property named, rather than after machine init */
    fd = qemu_create(s->dmar_file, O_WRONLY | O_TRUNC, 0644, errp);
    if (fd < 0) {
        error_prepend(errp, "xen-viommu: dmar-file: ");
        return false;
    }
    close(fd);
    s->dmar_file_done.notify = xvi_dmar_file_notify;
    qemu_add_machine_init_done_notifier(&s->dmar_file_done);
    return true;
}
