/*
 * xen-viommu: interrupt remapping glue -- the interrupt window, the IO-APIC
 * path, the interrupt-entry cache and delivery
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Interrupt requests reach the unit as 4-byte writes into 0xfee00000-
 * 0xfeefffff of a requester's address space (MSI/MSI-X of PCI devices) or
 * of the IO-APIC's address space.  Remappable requests are looked up in the
 * guest's interrupt remapping table through the interrupt-entry cache
 * (decoding in xen_viommu_irte.c); the result is delivered as a
 * compatibility-format message.  Consumers holding derived state (QEMU's
 * IO-APIC, KVM routes, passthrough MSI bindings) hear about every change
 * through the x86-iommu IEC notifiers.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qemu/bitmap.h"
#include "hw/i386/apic_internal.h"
#include "hw/i386/x86.h"
#include "system/xen.h"
#include "exec/address-spaces.h"
#include "xen_viommu_internal.h"
#include "trace.h"

#define XVI_IRTE_SIZE   16
#define XVI_IR_REMAPPABLE (1ULL << 4)   /* interrupt format: remappable */

/* To QEMU's APIC, or through the hypervisor backend (xen_viommu_xen.c) */
static void xvi_ir_deliver(XenViommuState *s, uint64_t addr, uint32_t data)
{
    xvi_deliver_msi(s, addr, data);
}

/*
 * With remapping on, compatibility-format requests pass through only when
 * the table is in xAPIC mode and CFI is set (VT-d 5.1.2.1, GCMD.CFI): CFI
 * has no effect with IRTA.EIME = 1.  Blocked requests fault with 0x25.
 */
bool xvi_ir_compat_blocked(XenViommuState *s)
{
    return s->irt_eime || !(xvi_get32(s, XVI_GSTS) & XVI_GCMD_CFI);
}

/* Fetch and decode entry @index, through the cache.  Lock held. */
static int xvi_ir_entry(XenViommuState *s, uint32_t index, XviIrte *e)
{
    uint64_t raw[2];
    int fault;

    if (xvi_iec_lookup(s->iec, index, e)) {
        return 0;
    }
    if (!xvi_read_guest(s, s->irt_base + (uint64_t)index * XVI_IRTE_SIZE,
                        raw, sizeof(raw))) {
        e->fpd = false;
        return XVI_FR_IR_ACCESS;
    }
    fault = xvi_irte_decode(le64_to_cpu(raw[0]), le64_to_cpu(raw[1]),
                            s->irt_eime, e);
    if (!fault) {
        xvi_iec_insert(s->iec, index, e);
        xvi_oracle_irte_fetched(s, index, le64_to_cpu(raw[0]),
                                le64_to_cpu(raw[1]));
    }
    return fault;
}

/*
 * Remap one interrupt request.  Returns 0 and the message to deliver, or the
 * fault reason (recorded unless @record_fault is false or the entry has FPD).
 */
int xvi_ir_remap(XenViommuState *s, uint64_t addr, uint32_t data,
                 uint16_t sid, uint64_t *out_addr, uint32_t *out_data,
                 bool record_fault)
{
    uint32_t sts = xvi_get32(s, XVI_GSTS);
    XviMsiRequest req = { 0 };
    XviIrte e = { 0 };
    int fault;

    if (!(sts & XVI_GCMD_IRE)) {
        /* Remapping off: every request is taken as compatibility format */
        *out_addr = addr;
        *out_data = data;
        return 0;
    }

    fault = xvi_msi_parse(addr, data, &req);
    if (!fault && !req.remappable) {
        if (xvi_ir_compat_blocked(s)) {
            fault = XVI_FR_IR_COMPAT;
        } else {
            trace_xen_viommu_ir_compat(sid, addr, data);
            *out_addr = addr;
            *out_data = data;
            xvi_oracle_irq(s, addr, data, sid, *out_addr, *out_data);
            return 0;
        }
    }
    if (!fault && req.index >= s->irt_entries) {
        fault = XVI_FR_IR_INDEX;
    }
    if (!fault) {
        qemu_mutex_lock(&s->lock);
        fault = xvi_ir_entry(s, req.index, &e);
        qemu_mutex_unlock(&s->lock);
    }
    if (!fault && sid != X86_IOMMU_SID_INVALID && !xvi_irte_sid_ok(&e, sid)) {
        fault = XVI_FR_IR_SID;
    }
    if (fault == XVI_FR_IR_POSTED) {
        /* CAP.PI is clear: the IM bit is simply reserved */
        fault = XVI_FR_IR_RSVD;
    }
    if (fault) {
        trace_xen_viommu_ir_blocked(sid, fault, req.index);
        if (record_fault && !e.fpd) {
            /* Fault info carries the interrupt index in bits 63:48 */
            xvi_fault_record(s, sid, fault, (uint64_t)(req.index & 0xffff)
                             << 48, true);
        }
        return fault;
    }

    xvi_irte_to_msi(&e, out_addr, out_data);
    trace_xen_viommu_ir_remap(sid, req.index, e.dest, e.vector,
                              e.delivery_mode);
    xvi_oracle_irq(s, addr, data, sid, *out_addr, *out_data);
    return 0;
}

static void xvi_ir_request(XenViommuState *s, hwaddr offset, uint64_t val,
                           unsigned size, uint16_t sid)
{
    uint64_t addr;
    uint32_t data;

    if (size != 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: %u-byte interrupt "
                      "request at 0x%" PRIx64 " from 0x%04x ignored\n",
                      size, (uint64_t)(XVI_IR_BASE + offset), sid);
        return;
    }
    if (xvi_ir_remap(s, XVI_IR_BASE + offset, val, sid, &addr, &data,
                     true)) {
        return;
    }
    if (offset & XVI_IR_REMAPPABLE) {
        xvi_ir_deliver(s, addr, data);
    } else {
        /* Passed on as the guest wrote it, e.g. in Xen's PIRQ encoding */
        xvi_deliver_untranslated_msi(s, addr, data);
    }
}

static MemTxResult xvi_ir_dev_read(void *opaque, hwaddr addr, uint64_t *data,
                                   unsigned size, MemTxAttrs attrs)
{
    *data = 0;
    return MEMTX_OK;
}

static MemTxResult xvi_ir_dev_write(void *opaque, hwaddr addr, uint64_t val,
                                    unsigned size, MemTxAttrs attrs)
{
    XenViommuDevAS *d = opaque;
    uint16_t sid = attrs.unspecified ?
        PCI_BUILD_BDF(pci_bus_num(d->bus), d->devfn) : attrs.requester_id;

    xvi_ir_request(d->s, addr, val, size, sid);
    return MEMTX_OK;
}

const MemoryRegionOps xvi_ir_dev_ops = {
    .read_with_attrs = xvi_ir_dev_read,
    .write_with_attrs = xvi_ir_dev_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* The IO-APIC's requests carry the source id of its DMAR device scope */
static MemTxResult xvi_ir_ioapic_write(void *opaque, hwaddr addr,
                                       uint64_t val, unsigned size,
                                       MemTxAttrs attrs)
{
    XenViommuState *s = opaque;

    if (s->hyp_mode == XVI_HYP_DOUBLE && size == 4) {
        /*
         * The IO-APIC is the hypervisor's: its requests are decoded by the
         * double's vIOAPIC with the entries pushed to it, not here.
         */
        xvi_hyp_ioapic_msi(s, XVI_IR_BASE + addr, val);
        return MEMTX_OK;
    }
    xvi_ir_request(s, addr, val, size, XVI_IOAPIC_SID);
    return MEMTX_OK;
}

static const MemoryRegionOps xvi_ir_ioapic_ops = {
    .read_with_attrs = xvi_ir_dev_read,
    .write_with_attrs = xvi_ir_ioapic_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* The HPET's FSB interrupts come through the unit (property "hpet") */
bool xvi_ir_hpet_remapped(XenViommuState *s)
{
    return s->hpet && x86_iommu_ir_supported(X86_IOMMU_DEVICE(s)) &&
           !xen_enabled();
}

/*
 * An FSB message of the HPET (x86-iommu hook, patch 0012): an interrupt
 * request with the HPET's source id, as the DMAR says.  A write outside
 * the interrupt window is plain memory, left to the HPET.
 */
bool xvi_hpet_msi(X86IOMMUState *iommu, uint64_t addr, uint32_t data)
{
    XenViommuState *s = XEN_VIOMMU(iommu);

    if (!xvi_ir_hpet_remapped(s) || addr < XVI_IR_BASE ||
        addr - XVI_IR_BASE >= XVI_IR_SIZE) {
        return false;
    }
    xvi_ir_request(s, addr - XVI_IR_BASE, data, 4, XVI_HPET_SID);
    return true;
}

/* KVM MSI routes and the IO-APIC's KVM routes ask here (x86-iommu hook) */
int xvi_int_remap(X86IOMMUState *iommu, MSIMessage *src, MSIMessage *dst,
                  uint16_t sid)
{
    XenViommuState *s = XEN_VIOMMU(iommu);

    /* Route set-up is not an interrupt: no fault is recorded for it */
    return xvi_ir_remap(s, src->address, src->data, sid, &dst->address,
                        &dst->data, false) ? -EINVAL : 0;
}

/* Register side ------------------------------------------------------------ */

/*
 * Everything that holds state derived from the interrupt entries hears
 * about a change: QEMU's IO-APIC and KVM routes (x86-iommu IEC notifiers),
 * the hypervisor's copy for its vIOAPIC, passthrough MSI bindings.
 */
static void xvi_ir_notify_consumers(XenViommuState *s, bool global,
                                    uint32_t index, unsigned im)
{
    x86_iommu_iec_notify_all(X86_IOMMU_DEVICE(s), global, index, im);
    xvi_hyp_ir_invalidate(s, global, index, im);
    xvi_pt_msi_refresh(s, global, index, im);
}

void xvi_ir_invalidate(XenViommuState *s, bool global, uint32_t index,
                       unsigned im)
{
    trace_xen_viommu_iec_inv(global, index, im);
    qemu_mutex_lock(&s->lock);
    if (global) {
        xvi_iec_invalidate_all(s->iec);
    } else {
        xvi_iec_invalidate(s->iec, index, im);
    }
    qemu_mutex_unlock(&s->lock);

    if (s->ir_batch) {
        /* Told at the next wait descriptor or at the end of the batch */
        if (global || im >= 16) {
            s->ir_batch_global = true;
        } else {
            uint32_t first = (index & 0xffff) & ~((1u << im) - 1);
            uint32_t last = first + (1u << im) - 1;

            bitmap_set(s->ir_batch_pending, first / XVI_IR_CHUNK,
                       last / XVI_IR_CHUNK - first / XVI_IR_CHUNK + 1);
        }
        return;
    }
    xvi_ir_notify_consumers(s, global, index, im);
}

/*
 * A queue batch (one IQT write) reads the interrupt table once: all its
 * invalidations see the table as it is while the batch runs, so a chunk
 * of entries the consumers heard about earlier in the batch needs no
 * second look.  However many descriptors the guest queues, one register
 * write costs at most one table's worth of decoding and pushing.
 */
void xvi_ir_batch_flush(XenViommuState *s)
{
    DECLARE_BITMAP(work, XVI_IR_CHUNKS);
    unsigned long chunk;

    if (s->ir_batch_global && !s->ir_batch_global_done) {
        s->ir_batch_global_done = true;
        bitmap_fill(s->ir_batch_done, XVI_IR_CHUNKS);
        xvi_ir_notify_consumers(s, true, 0, 0);
    }
    s->ir_batch_global = false;
    bitmap_andnot(work, s->ir_batch_pending, s->ir_batch_done,
                  XVI_IR_CHUNKS);
    bitmap_zero(s->ir_batch_pending, XVI_IR_CHUNKS);
    bitmap_or(s->ir_batch_done, s->ir_batch_done, work, XVI_IR_CHUNKS);
    for (chunk = find_first_bit(work, XVI_IR_CHUNKS); chunk < XVI_IR_CHUNKS;
         chunk = find_next_bit(work, XVI_IR_CHUNKS, chunk + 1)) {
        xvi_ir_notify_consumers(s, false, chunk * XVI_IR_CHUNK,
                                XVI_IR_CHUNK_ORDER);
    }
}

void xvi_ir_batch(XenViommuState *s, bool on)
{
    if (!on) {
        xvi_ir_batch_flush(s);
    }
    s->ir_batch = on;
    s->ir_batch_global = s->ir_batch_global_done = false;
    bitmap_zero(s->ir_batch_pending, XVI_IR_CHUNKS);
    bitmap_zero(s->ir_batch_done, XVI_IR_CHUNKS);
}

void xvi_ir_set_table(XenViommuState *s)
{
    uint64_t irta = xvi_get64(s, XVI_IRTA);

    s->irt_base = irta & XVI_IRTA_ADDR_MASK;
    s->irt_entries = 1U << ((irta & XVI_IRTA_S_MASK) + 1);
    s->irt_eime = s->x2apic_on && (irta & XVI_IRTA_EIME);
    s->irt_set = true;
    trace_xen_viommu_ir_table(s->irt_base, s->irt_entries, s->irt_eime);
    /* Entries cached from the old table are meaningless now */
    xvi_ir_invalidate(s, true, 0, 0);
}

void xvi_ir_set_enabled(XenViommuState *s, bool ire, bool cfi)
{
    trace_xen_viommu_ir_enable(ire, cfi);
    xvi_ir_invalidate(s, true, 0, 0);
}

void xvi_ir_reset(XenViommuState *s)
{
    if (s->iec) {
        qemu_mutex_lock(&s->lock);
        xvi_iec_invalidate_all(s->iec);
        qemu_mutex_unlock(&s->lock);
    }
    /* Reset: remapping off in the hypervisor; after migration: reloaded */
    xvi_hyp_ir_sync(s);
    xvi_pt_msi_refresh(s, true, 0, 0);
}

void xvi_ir_init(XenViommuState *s)
{
    X86MachineState *x86ms = X86_MACHINE(qdev_get_machine());

    s->iec = xvi_iec_new();
    if (!x86_iommu_ir_supported(X86_IOMMU_DEVICE(s)) || xen_enabled()) {
        /* On Xen the IO-APIC lives in the hypervisor, not in QEMU */
        return;
    }
    memory_region_init(&s->ioapic_root, OBJECT(s), "xen-viommu-ioapic",
                       UINT64_MAX);
    memory_region_init_alias(&s->ioapic_sysmem, OBJECT(s),
                             "xen-viommu-ioapic-sysmem", get_system_memory(),
                             0, memory_region_size(get_system_memory()));
    memory_region_init_io(&s->ioapic_ir, OBJECT(s), &xvi_ir_ioapic_ops, s,
                          "xen-viommu-ioapic-ir", XVI_IR_SIZE);
    memory_region_add_subregion_overlap(&s->ioapic_root, 0,
                                        &s->ioapic_sysmem, 0);
    memory_region_add_subregion_overlap(&s->ioapic_root, XVI_IR_BASE,
                                        &s->ioapic_ir, 1);
    address_space_init(&s->ioapic_as, &s->ioapic_root, "xen-viommu-ioapic");
    x86ms->ioapic_as = &s->ioapic_as;
}
