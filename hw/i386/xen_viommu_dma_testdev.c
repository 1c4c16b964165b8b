/*
 * xen-viommu: a PCI test device that uses its DMA address space the way
 * other QEMU subsystems do
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * x-xen-viommu-dma-testdev plays two users of an IOMMU that edu does not:
 *
 * - vhost: a memory listener registers one UNMAP-only IOMMU notifier per
 *   section of an IOMMU region, bounded by the section.  The interrupt
 *   window splits the unit's address space, so each device gets several
 *   notifiers, and an IOMMU that sends an event wider than one of them
 *   trips QEMU's range assertion.
 * - dataplane: with iothread= set, DMA_CMD runs its access in the
 *   iothread, outside the BQL, as virtio-blk's dataplane does.
 *
 * Test only: the qtest reads back what happened.
 *
 * BAR 0 (4 KiB, 32-bit registers):
 *   0x00 NOTIFIERS   read: notifiers registered now
 *   0x04 EVENTS      read: events received since realize
 *   0x08 SEL         write: event (ring of 16, by number) or notifier index
 *                    the registers below describe
 *   0x10 EV_FIRST    read: first iova of event SEL (lo, hi at 0x14)
 *   0x18 EV_LAST     read: last iova of event SEL (lo, hi at 0x1c)
 *   0x20 EV_NOTIFIER read: index of the notifier that got event SEL
 *   0x28 N_START     read: start of notifier SEL (lo, hi at 0x2c)
 *   0x30 N_END       read: end of notifier SEL (lo, hi at 0x34)
 *   0x38 OUTSIDE     read: events that fell outside their notifier's range
 *   0x40 DMA_ADDR    the device address of DMA_CMD (lo, hi at 0x44)
 *   0x48 DMA_CMD     write 1: read 4 bytes at DMA_ADDR, 2: write DMA_DATA
 *   0x4c DMA_DONE    read: accesses completed (in the iothread if set)
 *   0x50 DMA_RESULT  read: MemTxResult of the last access
 *   0x54 DMA_DATA    what a write stores, what a read got
 *   0x58 DMA_PASID   bits 7:0: the PASID DMA_CMD's access carries in
 *                    MemTxAttrs.pid (0: none); bit 8: unprivileged
 *                    (MemTxAttrs.user)
 *
 * It also plays a device that issues requests with a PASID (DMA_PASID),
 * which no device QEMU emulates for x86 does.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "exec/memory.h"
#include "qemu/queue.h"
#include "qemu/atomic.h"
#include "hw/qdev-properties.h"
#include "system/iothread.h"
#include "block/aio.h"

#define TYPE_XVI_DMA_TESTDEV "x-xen-viommu-dma-testdev"
OBJECT_DECLARE_SIMPLE_TYPE(XviDmaTestDev, XVI_DMA_TESTDEV)

#define XVI_UT_NOTIFIERS    0x00
#define XVI_UT_EVENTS       0x04
#define XVI_UT_SEL          0x08
#define XVI_UT_EV_FIRST     0x10
#define XVI_UT_EV_LAST      0x18
#define XVI_UT_EV_NOTIFIER  0x20
#define XVI_UT_N_START      0x28
#define XVI_UT_N_END        0x30
#define XVI_UT_OUTSIDE      0x38
#define XVI_UT_DMA_ADDR     0x40
#define XVI_UT_DMA_CMD      0x48
#define XVI_UT_DMA_DONE     0x4c
#define XVI_UT_DMA_RESULT   0x50
#define XVI_UT_DMA_DATA     0x54
#define XVI_UT_DMA_PASID    0x58
#define XVI_UT_PASID_USER   0x100
#define XVI_UT_RING         16

typedef struct XviDmaTestDev XviDmaTestDev;

typedef struct XviUnmapNotifier {
    IOMMUNotifier n;
    XviDmaTestDev *t;
    MemoryRegion *mr;
    unsigned index;
    QLIST_ENTRY(XviUnmapNotifier) next;
} XviUnmapNotifier;

typedef struct XviUnmapEvent {
    uint64_t first, last;
    uint32_t notifier;
} XviUnmapEvent;

struct XviDmaTestDev {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    MemoryListener listener;
    QLIST_HEAD(, XviUnmapNotifier) notifiers;
    unsigned nr_notifiers;
    unsigned next_index;
    uint32_t events;
    uint32_t outside;
    uint32_t sel;
    XviUnmapEvent ring[XVI_UT_RING];

    IOThread *iothread;         /* property */
    QEMUBH *dma_bh;             /* in the iothread's context */
    uint64_t dma_addr;
    bool dma_write;
    uint32_t dma_data;
    uint32_t dma_pasid;         /* DMA_PASID */
    uint32_t dma_done;          /* atomic: the iothread sets it */
    uint32_t dma_result;
};

/* One 4-byte access; in the iothread when there is one */
static void xvi_ut_dma(void *opaque)
{
    XviDmaTestDev *t = opaque;
    uint32_t data = t->dma_data;
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    MemTxResult r;

    if (t->dma_pasid & 0xff) {
        attrs = (MemTxAttrs) {
            .pid = t->dma_pasid & 0xff,
            .user = !!(t->dma_pasid & XVI_UT_PASID_USER),
        };
    }
    r = pci_dma_rw(PCI_DEVICE(t), t->dma_addr, &data, sizeof(data),
                   t->dma_write ? DMA_DIRECTION_FROM_DEVICE :
                                  DMA_DIRECTION_TO_DEVICE, attrs);
    if (!t->dma_write) {
        t->dma_data = data;
    }
    t->dma_result = r;
    qatomic_store_release(&t->dma_done, t->dma_done + 1);
}

static void xvi_ut_notify(IOMMUNotifier *n, IOMMUTLBEntry *entry)
{
    XviUnmapNotifier *un = container_of(n, XviUnmapNotifier, n);
    XviDmaTestDev *t = un->t;
    XviUnmapEvent *ev = &t->ring[t->events % XVI_UT_RING];

    ev->first = entry->iova;
    ev->last = entry->iova + entry->addr_mask;
    ev->notifier = un->index;
    if (ev->first < n->start || ev->last > n->end) {
        t->outside++;
    }
    t->events++;
}

/* vhost_iommu_region_add: one notifier per IOMMU section */
static void xvi_ut_region_add(MemoryListener *l, MemoryRegionSection *sec)
{
    XviDmaTestDev *t = container_of(l, XviDmaTestDev, listener);
    XviUnmapNotifier *un;
    Int128 end;

    if (!memory_region_is_iommu(sec->mr)) {
        return;
    }
    end = int128_sub(int128_add(int128_make64(sec->offset_within_region),
                                sec->size), int128_one());
    un = g_new0(XviUnmapNotifier, 1);
    un->t = t;
    un->mr = sec->mr;
    un->index = t->next_index++;
    iommu_notifier_init(&un->n, xvi_ut_notify, IOMMU_NOTIFIER_UNMAP,
                        sec->offset_within_region, int128_get64(end), 0);
    memory_region_register_iommu_notifier(sec->mr, &un->n, &error_fatal);
    QLIST_INSERT_HEAD(&t->notifiers, un, next);
    t->nr_notifiers++;
}

static void xvi_ut_region_del(MemoryListener *l, MemoryRegionSection *sec)
{
    XviDmaTestDev *t = container_of(l, XviDmaTestDev, listener);
    XviUnmapNotifier *un, *tmp;

    QLIST_FOREACH_SAFE(un, &t->notifiers, next, tmp) {
        if (un->mr == sec->mr && un->n.start == sec->offset_within_region) {
            memory_region_unregister_iommu_notifier(un->mr, &un->n);
            QLIST_REMOVE(un, next);
            g_free(un);
            t->nr_notifiers--;
        }
    }
}

static XviUnmapNotifier *xvi_ut_notifier(XviDmaTestDev *t, unsigned index)
{
    XviUnmapNotifier *un;

    QLIST_FOREACH(un, &t->notifiers, next) {
        if (un->index == index) {
            return un;
        }
    }
    return NULL;
}

static uint64_t xvi_ut_read(void *opaque, hwaddr addr, unsigned size)
{
    XviDmaTestDev *t = opaque;
    XviUnmapEvent *ev = &t->ring[t->sel % XVI_UT_RING];
    XviUnmapNotifier *un = xvi_ut_notifier(t, t->sel);
    uint64_t v;

    switch (addr) {
    case XVI_UT_DMA_DONE:
        return qatomic_load_acquire(&t->dma_done);
    case XVI_UT_DMA_RESULT:
        return t->dma_result;
    case XVI_UT_DMA_DATA:
        return t->dma_data;
    case XVI_UT_DMA_PASID:
        return t->dma_pasid;
    case XVI_UT_NOTIFIERS:
        return t->nr_notifiers;
    case XVI_UT_EVENTS:
        return t->events;
    case XVI_UT_EV_NOTIFIER:
        return ev->notifier;
    case XVI_UT_OUTSIDE:
        return t->outside;
    }
    switch (addr & ~4ULL) {
    case XVI_UT_EV_FIRST:
        v = ev->first;
        break;
    case XVI_UT_EV_LAST:
        v = ev->last;
        break;
    case XVI_UT_N_START:
        v = un ? un->n.start : UINT64_MAX;
        break;
    case XVI_UT_N_END:
        v = un ? un->n.end : UINT64_MAX;
        break;
    default:
        return 0;
    }
    return addr & 4 ? v >> 32 : (uint32_t)v;
}

static void xvi_ut_write(void *opaque, hwaddr addr, uint64_t val,
                         unsigned size)
{
    XviDmaTestDev *t = opaque;

    switch (addr) {
    case XVI_UT_SEL:
        t->sel = val;
        break;
    case XVI_UT_DMA_ADDR:
        t->dma_addr = deposit64(t->dma_addr, 0, 32, val);
        break;
    case XVI_UT_DMA_ADDR + 4:
        t->dma_addr = deposit64(t->dma_addr, 32, 32, val);
        break;
    case XVI_UT_DMA_DATA:
        t->dma_data = val;
        break;
    case XVI_UT_DMA_PASID:
        t->dma_pasid = val & (0xff | XVI_UT_PASID_USER);
        break;
    case XVI_UT_DMA_CMD:
        if (val != 1 && val != 2) {
            break;
        }
        t->dma_write = val == 2;
        if (t->dma_bh) {
            qemu_bh_schedule(t->dma_bh);
        } else {
            xvi_ut_dma(t);
        }
        break;
    }
}

static const MemoryRegionOps xvi_ut_ops = {
    .read = xvi_ut_read,
    .write = xvi_ut_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
};

static void xvi_ut_realize(PCIDevice *pdev, Error **errp)
{
    XviDmaTestDev *t = XVI_DMA_TESTDEV(pdev);

    memory_region_init_io(&t->mmio, OBJECT(t), &xvi_ut_ops, t,
                          "xen-viommu-dma-testdev", 4096);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &t->mmio);
    t->listener = (MemoryListener) {
        .name = "xen-viommu-dma-testdev",
        .region_add = xvi_ut_region_add,
        .region_del = xvi_ut_region_del,
    };
    memory_listener_register(&t->listener, pci_get_address_space(pdev));
    if (t->iothread) {
        t->dma_bh = aio_bh_new(iothread_get_aio_context(t->iothread),
                               xvi_ut_dma, t);
    }
}

static void xvi_ut_exit(PCIDevice *pdev)
{
    XviDmaTestDev *t = XVI_DMA_TESTDEV(pdev);

    memory_listener_unregister(&t->listener);
    if (t->dma_bh) {
        qemu_bh_delete(t->dma_bh);
    }
}

static const Property xvi_ut_props[] = {
    DEFINE_PROP_LINK("iothread", XviDmaTestDev, iothread, TYPE_IOTHREAD,
                     IOThread *),
};

static void xvi_ut_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = xvi_ut_realize;
    k->exit = xvi_ut_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f1;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "xen-viommu test device: vhost-like notifiers, "
               "iothread DMA";
    device_class_set_props(dc, xvi_ut_props);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo xvi_ut_info = {
    .name = TYPE_XVI_DMA_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(XviDmaTestDev),
    .class_init = xvi_ut_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void xvi_ut_register_types(void)
{
    type_register_static(&xvi_ut_info);
}

type_init(xvi_ut_register_types)
