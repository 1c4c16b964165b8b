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
 * only through the binding, never through pci_msi_trigger.
 *
 * With host-sbdf set it also stands in for the device's DMA: the double
 * assigns that machine device to the guest, the unit's PV-IOMMU mirror
 * (xen_viommu_ptdma.c) places it in a hypervisor context, and the DMA
 * registers make 4-byte accesses translated by the double's context for
 * that device -- never by QEMU's IOMMU region.  Test only: needs
 * xen-viommu with intremap=on and hypervisor=double.
 *
 * BAR 0 (4 KiB, 32-bit registers):
 *   0x00 FIRE     write: raise the pirq
 *   0x04 RESULT   read: result of the last FIRE (0 or a negative errno)
 *   0x08 BOUND    read: 1 while the manager holds a binding in the hypervisor
 *   0x0c PIRQ     read: the pirq
 *   0x10 DMA_LO   the device address (dfn << 12 | offset), bits 31:0
 *   0x14 DMA_HI   ... bits 63:32
 *   0x18 DMA_DATA what a DMA write stores, what a DMA read got
 *   0x1c DMA_CMD  write 1: read 4 bytes at DMA_HI:LO; 2: write DMA_DATA
 *   0x20 DMA_RES  read: result of the last DMA_CMD (0 or a negative errno:
 *                 -EFAULT when the hypervisor has no mapping, -EACCES when
 *                 it does not allow the access)
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/msi.h"
#include "hw/qdev-properties.h"
#include "hw/i386/x86-iommu.h"
#include "exec/address-spaces.h"
#include "qemu/bitops.h"
#include "xen_viommu_internal.h"

#define TYPE_XEN_VIOMMU_PT_TESTDEV "x-xen-viommu-pt-testdev"
OBJECT_DECLARE_SIMPLE_TYPE(XviPtTestDev, XEN_VIOMMU_PT_TESTDEV)

#define XVI_PT_TESTDEV_FIRE     0x00
#define XVI_PT_TESTDEV_RESULT   0x04
#define XVI_PT_TESTDEV_BOUND    0x08
#define XVI_PT_TESTDEV_PIRQ     0x0c
#define XVI_PT_TESTDEV_DMA_LO   0x10
#define XVI_PT_TESTDEV_DMA_HI   0x14
#define XVI_PT_TESTDEV_DMA_DATA 0x18
#define XVI_PT_TESTDEV_DMA_CMD  0x1c
#define XVI_PT_TESTDEV_DMA_RES  0x20
#define XVI_PT_TESTDEV_DMA_READ     1
#define XVI_PT_TESTDEV_DMA_WRITE    2
#define XVI_PT_TESTDEV_NO_SBDF  UINT32_MAX
#define XVI_PT_TESTDEV_MSI_CAP  0x50

struct XviPtTestDev {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    uint32_t pirq;              /* property */
    XenViommuState *viommu;
    XenViommuPtMsi *msi;        /* while MSI is enabled */
    int32_t result;
    uint32_t host_sbdf;         /* property; XVI_PT_TESTDEV_NO_SBDF: no DMA */
    XenViommuPtDma *dma;
    uint64_t dma_addr;
    uint32_t dma_data;
    int32_t dma_result;
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
    case XVI_PT_TESTDEV_DMA_LO:
        return (uint32_t)t->dma_addr;
    case XVI_PT_TESTDEV_DMA_HI:
        return t->dma_addr >> 32;
    case XVI_PT_TESTDEV_DMA_DATA:
        return t->dma_data;
    case XVI_PT_TESTDEV_DMA_RES:
        return (uint32_t)t->dma_result;
    }
    return 0;
}

/* A 4-byte DMA as the host IOMMU would do it: through the double's context */
static int xvi_pt_testdev_dma(XviPtTestDev *t, bool write)
{
    XenViommuState *s = t->viommu;
    uint64_t gfn;
    MemTxResult res;
    int ret;

    if (t->host_sbdf == XVI_PT_TESTDEV_NO_SBDF || (t->dma_addr & 3)) {
        return -EINVAL;
    }
    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_double_dma(s->hyp, t->host_sbdf, t->dma_addr >> 12,
                                    write, &gfn);
    qemu_mutex_unlock(&s->hyp_lock);
    if (ret < 0) {
        return ret;
    }
    if (write) {
        uint32_t le = cpu_to_le32(t->dma_data);

        res = address_space_write(&address_space_memory,
                                  gfn << 12 | (t->dma_addr & 0xfff),
                                  MEMTXATTRS_UNSPECIFIED, &le, 4);
    } else {
        uint32_t le = 0;

        res = address_space_read(&address_space_memory,
                                 gfn << 12 | (t->dma_addr & 0xfff),
                                 MEMTXATTRS_UNSPECIFIED, &le, 4);
        t->dma_data = le32_to_cpu(le);
    }
    return res == MEMTX_OK ? 0 : -EIO;
}

static void xvi_pt_testdev_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
    XviPtTestDev *t = opaque;
    XenViommuState *s = t->viommu;

    switch (addr) {
    case XVI_PT_TESTDEV_FIRE:
        qemu_mutex_lock(&s->hyp_lock);
        t->result = xen_viommu_hyp_double_fire_pirq(s->hyp, t->pirq);
        qemu_mutex_unlock(&s->hyp_lock);
        break;
    case XVI_PT_TESTDEV_DMA_LO:
        t->dma_addr = deposit64(t->dma_addr, 0, 32, val);
        break;
    case XVI_PT_TESTDEV_DMA_HI:
        t->dma_addr = deposit64(t->dma_addr, 32, 32, val);
        break;
    case XVI_PT_TESTDEV_DMA_DATA:
        t->dma_data = val;
        break;
    case XVI_PT_TESTDEV_DMA_CMD:
        t->dma_result = val == XVI_PT_TESTDEV_DMA_READ ||
                        val == XVI_PT_TESTDEV_DMA_WRITE ?
                        xvi_pt_testdev_dma(t, val == XVI_PT_TESTDEV_DMA_WRITE) :
                        -EINVAL;
        break;
    }
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
    if (t->host_sbdf != XVI_PT_TESTDEV_NO_SBDF) {
        /* What the toolstack does before QEMU adds the device */
        if (xen_viommu_hyp_double_assign_device(t->viommu->hyp,
                                                t->host_sbdf)) {
            error_setg(errp, "%s: host-sbdf 0x%x is assigned already",
                       TYPE_XEN_VIOMMU_PT_TESTDEV, t->host_sbdf);
            return;
        }
        if (!xen_viommu_pt_dma_attach(pdev, t->host_sbdf, &t->dma, errp)) {
            return;
        }
    }
    if (msi_init(pdev, XVI_PT_TESTDEV_MSI_CAP, 1, true, false, errp)) {
        xen_viommu_pt_dma_detach(t->dma);
        t->dma = NULL;
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
    xen_viommu_pt_dma_detach(t->dma);
    t->dma = NULL;
    msi_uninit(pdev);
}

static void xvi_pt_testdev_reset(DeviceState *dev)
{
    XviPtTestDev *t = XEN_VIOMMU_PT_TESTDEV(dev);

    msi_reset(PCI_DEVICE(dev));
    xen_viommu_pt_msi_free(t->msi);
    t->msi = NULL;
    t->result = 0;
    t->dma_addr = 0;
    t->dma_data = 0;
    t->dma_result = 0;
}

static const Property xvi_pt_testdev_props[] = {
    DEFINE_PROP_UINT32("pirq", XviPtTestDev, pirq, 42),
    DEFINE_PROP_UINT32("host-sbdf", XviPtTestDev, host_sbdf,
                       XVI_PT_TESTDEV_NO_SBDF),
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
    dc->desc = "xen-viommu passthrough MSI and DMA test device (test only)";
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
