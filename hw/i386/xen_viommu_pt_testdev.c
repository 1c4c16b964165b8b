/*
 * xen-viommu: a passthrough-like PCI test device
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * x-xen-viommu-pt-testdev stands in for a device assigned with
 * xen-pci-passthrough, whose MSI Xen delivers through a pirq binding: it has
 * an MSI capability (one vector, 64-bit) whose programming it hands to the
 * unit's binding manager (xen_viommu_pt.c) as xen_pt does on config
 * writes, with a fixed fake pirq.  Writing the FIRE register asks the
 * hypervisor double to raise that pirq, so the interrupt reaches the guest
 * only through the binding, never through pci_msi_trigger.  Test only:
 * needs xen-viommu with intremap=on and hypervisor=double.
 *
 * BAR 0 (4 KiB, 32-bit registers):
 *   0x00 FIRE    write: raise the pirq
 *   0x04 RESULT  read: result of the last FIRE (0 or a negative errno)
 *   0x08 BOUND   read: 1 while the manager holds a binding in the hypervisor
 *   0x0c PIRQ    read: the pirq
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/msi.h"
#include "hw/qdev-properties.h"
#include "hw/i386/x86-iommu.h"
#include "xen_viommu_internal.h"

#define TYPE_XEN_VIOMMU_PT_TESTDEV "x-xen-viommu-pt-testdev"
OBJECT_DECLARE_SIMPLE_TYPE(XviPtTestDev, XEN_VIOMMU_PT_TESTDEV)

#define XVI_PT_TESTDEV_FIRE     0x00
#define XVI_PT_TESTDEV_RESULT   0x04
#define XVI_PT_TESTDEV_BOUND    0x08
#define XVI_PT_TESTDEV_PIRQ     0x0c
#define XVI_PT_TESTDEV_MSI_CAP  0x50

struct XviPtTestDev {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    uint32_t pirq;              /* property */
    XenViommuState *viommu;
    XenViommuPtMsi *msi;        /* while MSI is enabled */
    int32_t result;
};

/* What xen_pt does on MSI config writes: bind or unbind through the unit */
static void xvi_pt_testdev_msi_changed(XviPtTestDev *t)
{
    PCIDevice *pdev = PCI_DEVICE(t);
    MSIMessage msg;

    if (!msi_enabled(pdev)) {
        xen_viommu_pt_msi_free(t->msi);
        t->msi = NULL;
        return;
    }
    if (!t->msi) {
        t->msi = xen_viommu_pt_msi_new(t->viommu, pci_get_bdf(pdev), t->pirq,
                                       0);
        if (!t->msi) {
            return;
        }
    }
    msg = msi_get_message(pdev, 0);
    xen_viommu_pt_msi_update(t->msi, msg.address, msg.data, false);
}

static void xvi_pt_testdev_write_config(PCIDevice *pdev, uint32_t addr,
                                        uint32_t val, int len)
{
    XviPtTestDev *t = XEN_VIOMMU_PT_TESTDEV(pdev);

    pci_default_write_config(pdev, addr, val, len);
    if (ranges_overlap(addr, len, pdev->msi_cap, PCI_MSI_DATA_64 + 2)) {
        xvi_pt_testdev_msi_changed(t);
    }
}

static uint64_t xvi_pt_testdev_read(void *opaque, hwaddr addr, unsigned size)
{
    XviPtTestDev *t = opaque;

    switch (addr) {
    case XVI_PT_TESTDEV_RESULT:
        return (uint32_t)t->result;
    case XVI_PT_TESTDEV_BOUND:
        return t->msi && xen_viommu_pt_msi_bound(t->msi);
    case XVI_PT_TESTDEV_PIRQ:
        return t->pirq;
    }
    return 0;
}

static void xvi_pt_testdev_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
    XviPtTestDev *t = opaque;
    XenViommuState *s = t->viommu;

    if (addr != XVI_PT_TESTDEV_FIRE) {
        return;
    }
    qemu_mutex_lock(&s->hyp_lock);
    t->result = xen_viommu_hyp_double_fire_pirq(s->hyp, t->pirq);
    qemu_mutex_unlock(&s->hyp_lock);
}

static const MemoryRegionOps xvi_pt_testdev_ops = {
    .read = xvi_pt_testdev_read,
    .write = xvi_pt_testdev_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
};

static void xvi_pt_testdev_realize(PCIDevice *pdev, Error **errp)
{
    XviPtTestDev *t = XEN_VIOMMU_PT_TESTDEV(pdev);
    X86IOMMUState *iommu = x86_iommu_get_default();

    t->viommu = iommu ? (XenViommuState *)
        object_dynamic_cast(OBJECT(iommu), TYPE_XEN_VIOMMU) : NULL;
    if (!t->viommu || t->viommu->hyp_mode != XVI_HYP_DOUBLE ||
        !x86_iommu_ir_supported(iommu)) {
        error_setg(errp, "%s needs a xen-viommu with intremap=on and "
                   "hypervisor=double", TYPE_XEN_VIOMMU_PT_TESTDEV);
        return;
    }
    if (msi_init(pdev, XVI_PT_TESTDEV_MSI_CAP, 1, true, false, errp)) {
        return;
    }
    memory_region_init_io(&t->mmio, OBJECT(t), &xvi_pt_testdev_ops, t,
                          "xen-viommu-pt-testdev", 0x1000);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &t->mmio);
}

static void xvi_pt_testdev_exit(PCIDevice *pdev)
{
    XviPtTestDev *t = XEN_VIOMMU_PT_TESTDEV(pdev);

    xen_viommu_pt_msi_free(t->msi);
    t->msi = NULL;
    msi_uninit(pdev);
}

static void xvi_pt_testdev_reset(DeviceState *dev)
{
    XviPtTestDev *t = XEN_VIOMMU_PT_TESTDEV(dev);

    msi_reset(PCI_DEVICE(dev));
    xen_viommu_pt_msi_free(t->msi);
    t->msi = NULL;
    t->result = 0;
}

static const Property xvi_pt_testdev_props[] = {
    DEFINE_PROP_UINT32("pirq", XviPtTestDev, pirq, 42),
};

static void xvi_pt_testdev_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = xvi_pt_testdev_realize;
    k->exit = xvi_pt_testdev_exit;
    k->config_write = xvi_pt_testdev_write_config;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x11ea;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "xen-viommu passthrough MSI test device (test only)";
    dc->hotpluggable = false;
    device_class_set_legacy_reset(dc, xvi_pt_testdev_reset);
    device_class_set_props(dc, xvi_pt_testdev_props);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo xvi_pt_testdev_info = {
    .name = TYPE_XEN_VIOMMU_PT_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(XviPtTestDev),
    .class_init = xvi_pt_testdev_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void xvi_pt_testdev_register_types(void)
{
    type_register_static(&xvi_pt_testdev_info);
}

type_init(xvi_pt_testdev_register_types)
