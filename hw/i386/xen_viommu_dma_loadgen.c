/*
 * xen-viommu: a PCI DMA load generator for benchmarks (test only)
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * x-xen-viommu-dma-loadgen is a plain PCI device: on a GO write it performs
 * COUNT operations synchronously, in the thread that wrote GO, and records
 * the host time they took (CLOCK_MONOTONIC) and how many failed.  It knows
 * nothing of any IOMMU, so the same workload runs behind xen-viommu,
 * behind intel-iommu and with no IOMMU.  Operations (GO value):
 *
 *   1 READ, 2 WRITE  DMA of SIZE bytes (1..4096, within one page) through
 *                    the device's bus-master address space, at
 *                    BASE + page * 4 KiB + offset, page i being i % PAGES
 *                    (SEQ), i * STRIDE % PAGES (STRIDED) or a seeded
 *                    xorshift64 draw % PAGES (RANDOM); the offset steps by
 *                    SIZE through the page.  With ALIAS set, page % ALIAS
 *                    is used instead: the same data footprint as an
 *                    IOMMU mapping PAGES IOVA pages onto ALIAS pages.
 *   3 MSI            MSI writes of DATA to BASE + (i % PAGES) * STRIDE
 *                    (remappable handles are 32 bytes apart), as the
 *                    device's MSI would send them.
 *   4 INTX           INTA# pulses (assert, deassert).
 *   5 MMIO           the CPU's part, for timing register-driven work in
 *                    QEMU's thread: write64 A = AVAL + (((i + 1) * STRIDE)
 *                    & AMASK) in system memory, then write64 B = BVAL if B
 *                    is not 0, then read64 C if C is not 0.
 *
 * BAR 0 (4 KiB): 64-bit registers, 4- or 8-byte accesses.
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qemu/bitops.h"
#include "qemu/log.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/msi.h"
#include "exec/address-spaces.h"

#define TYPE_XEN_VIOMMU_DMA_LOADGEN "x-xen-viommu-dma-loadgen"
OBJECT_DECLARE_SIMPLE_TYPE(XviLoadgen, XEN_VIOMMU_DMA_LOADGEN)

enum {
    LG_ID       = 0x00,     /* read: LG_MAGIC */
    LG_BASE     = 0x08,
    LG_PAGES    = 0x10,
    LG_PATTERN  = 0x18,
    LG_STRIDE   = 0x20,
    LG_SEED     = 0x28,
    LG_SIZE     = 0x30,
    LG_COUNT    = 0x38,
    LG_ALIAS    = 0x40,
    LG_DATA     = 0x48,
    LG_A        = 0x50,
    LG_AVAL     = 0x58,
    LG_AMASK    = 0x60,
    LG_B        = 0x68,
    LG_BVAL     = 0x70,
    LG_C        = 0x78,
    LG_GO       = 0x80,     /* write: operation; read: the last one */
    LG_TIME_NS  = 0x88,     /* read: host ns the last GO took */
    LG_FAILS    = 0x90,     /* read: failed operations of the last GO */
    LG_NR_REGS  = 0x98 / 8,
};

#define LG_MAGIC    0x58564c47ULL   /* "XVLG" */
#define LG_PAGE     4096

enum { LG_SEQ, LG_STRIDED, LG_RANDOM };
enum { LG_OP_READ = 1, LG_OP_WRITE, LG_OP_MSI, LG_OP_INTX, LG_OP_MMIO };

struct XviLoadgen {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    uint64_t regs[LG_NR_REGS];
    uint8_t buf[LG_PAGE];
};

static uint64_t lg_reg(XviLoadgen *g, unsigned off)
{
    return g->regs[off / 8];
}

static uint64_t lg_page(XviLoadgen *g, uint64_t i, uint64_t *rnd)
{
    uint64_t pages = MAX(lg_reg(g, LG_PAGES), 1);
    uint64_t alias = lg_reg(g, LG_ALIAS);
    uint64_t page;

    switch (lg_reg(g, LG_PATTERN)) {
    case LG_STRIDED:
        page = i * lg_reg(g, LG_STRIDE) % pages;
        break;
    case LG_RANDOM:
        *rnd ^= *rnd << 13;
        *rnd ^= *rnd >> 7;
        *rnd ^= *rnd << 17;
        page = *rnd % pages;
        break;
    default:
        page = i % pages;
    }
    return alias ? page % alias : page;
}

static uint64_t lg_dma(XviLoadgen *g, bool write, uint64_t count)
{
    PCIDevice *pdev = PCI_DEVICE(g);
    uint64_t size = lg_reg(g, LG_SIZE);
    uint64_t rnd = lg_reg(g, LG_SEED) | 1, fails = 0, i;

    if (!size || size > LG_PAGE) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: SIZE %" PRIu64 " not in 1..4096\n",
                      TYPE_XEN_VIOMMU_DMA_LOADGEN, size);
        return count;
    }
    for (i = 0; i < count; i++) {
        uint64_t off = i * size % LG_PAGE;
        uint64_t addr;
        MemTxResult r;

        if (off + size > LG_PAGE) {
            off = 0;
        }
        addr = lg_reg(g, LG_BASE) + lg_page(g, i, &rnd) * LG_PAGE + off;
        r = write ? pci_dma_write(pdev, addr, g->buf, size) :
                    pci_dma_read(pdev, addr, g->buf, size);
        fails += r != MEMTX_OK;
    }
    return fails;
}

static void lg_msi(XviLoadgen *g, uint64_t count)
{
    uint64_t pages = MAX(lg_reg(g, LG_PAGES), 1), i;
    MSIMessage msg = { .data = lg_reg(g, LG_DATA) };

    for (i = 0; i < count; i++) {
        msg.address = lg_reg(g, LG_BASE) + i % pages * lg_reg(g, LG_STRIDE);
        msi_send_message(PCI_DEVICE(g), msg);
    }
}

static uint64_t lg_mmio(XviLoadgen *g, uint64_t count)
{
    uint64_t a = lg_reg(g, LG_A), b = lg_reg(g, LG_B), c = lg_reg(g, LG_C);
    uint64_t fails = 0, i;

    for (i = 0; i < count; i++) {
        MemTxResult r, rb = MEMTX_OK, rc = MEMTX_OK;

        address_space_stq_le(&address_space_memory, a, lg_reg(g, LG_AVAL) +
                             ((i + 1) * lg_reg(g, LG_STRIDE) &
                              lg_reg(g, LG_AMASK)),
                             MEMTXATTRS_UNSPECIFIED, &r);
        if (b) {
            address_space_stq_le(&address_space_memory, b, lg_reg(g, LG_BVAL),
                                 MEMTXATTRS_UNSPECIFIED, &rb);
        }
        if (c) {
            address_space_ldq_le(&address_space_memory, c,
                                 MEMTXATTRS_UNSPECIFIED, &rc);
        }
        fails += r != MEMTX_OK || rb != MEMTX_OK || rc != MEMTX_OK;
    }
    return fails;
}

static void lg_go(XviLoadgen *g, uint64_t op)
{
    uint64_t count = lg_reg(g, LG_COUNT), fails = 0, i;
    int64_t t0 = get_clock();

    switch (op) {
    case LG_OP_READ:
    case LG_OP_WRITE:
        fails = lg_dma(g, op == LG_OP_WRITE, count);
        break;
    case LG_OP_MSI:
        lg_msi(g, count);
        break;
    case LG_OP_INTX:
        for (i = 0; i < count; i++) {
            pci_set_irq(PCI_DEVICE(g), 1);
            pci_set_irq(PCI_DEVICE(g), 0);
        }
        break;
    case LG_OP_MMIO:
        fails = lg_mmio(g, count);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: no operation %" PRIu64 "\n",
                      TYPE_XEN_VIOMMU_DMA_LOADGEN, op);
        fails = count;
    }
    g->regs[LG_TIME_NS / 8] = get_clock() - t0;
    g->regs[LG_FAILS / 8] = fails;
    g->regs[LG_GO / 8] = op;
}

static uint64_t lg_read(void *opaque, hwaddr addr, unsigned size)
{
    XviLoadgen *g = opaque;
    uint64_t val = addr / 8 == LG_ID / 8 ? LG_MAGIC : g->regs[addr / 8];

    return size == 8 ? val : extract64(val, (addr & 4) * 8, 32);
}

static void lg_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    XviLoadgen *g = opaque;
    unsigned reg = addr & ~7ULL;

    if (size == 4) {
        val = deposit64(g->regs[reg / 8], (addr & 4) * 8, 32, val);
    }
    if (reg == LG_GO) {
        lg_go(g, val);
    } else if (reg != LG_ID && reg < LG_GO) {
        g->regs[reg / 8] = val;
    }
}

static const MemoryRegionOps lg_ops = {
    .read = lg_read,
    .write = lg_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
};

static void lg_reset(DeviceState *dev)
{
    XviLoadgen *g = XEN_VIOMMU_DMA_LOADGEN(dev);

    memset(g->regs, 0, sizeof(g->regs));
    g->regs[LG_AMASK / 8] = UINT64_MAX;
}

static void lg_realize(PCIDevice *pdev, Error **errp)
{
    XviLoadgen *g = XEN_VIOMMU_DMA_LOADGEN(pdev);

    pdev->config[PCI_INTERRUPT_PIN] = 1;
    memory_region_init_io(&g->mmio, OBJECT(g), &lg_ops, g,
                          "xen-viommu-dma-loadgen", 0x1000);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &g->mmio);
}

static void lg_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = lg_realize;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x11eb;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "DMA and interrupt load generator for IOMMU benchmarks "
               "(test only)";
    dc->hotpluggable = false;
    device_class_set_legacy_reset(dc, lg_reset);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo lg_info = {
    .name = TYPE_XEN_VIOMMU_DMA_LOADGEN,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(XviLoadgen),
    .class_init = lg_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void lg_register_types(void)
{
    type_register_static(&lg_info);
}

type_init(lg_register_types)
