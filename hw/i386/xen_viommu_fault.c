/*
 * xen-viommu: primary fault logging and the unit's own event interrupts
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Faults go into XVI_NR_FRCD fault recording registers used as a ring
 * (CAP.NFR).  A fault finding its slot still full sets PFO and is lost, as
 * on hardware.  The fault event interrupt (FECTL/FEDATA/FEADDR/FEUADDR) and
 * the invalidation completion interrupt (IECTL/...) are the unit's own
 * messages: they are not remapped, and in x2APIC mode the upper address
 * register carries destination bits 31:8.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/i386/apic_internal.h"
#include "qemu/main-loop.h"
#include "xen_viommu_internal.h"
#include "trace.h"

#define XVI_FSTS_EVENTS (XVI_FSTS_PFO | XVI_FSTS_PPF | XVI_FSTS_IQE | \
                         XVI_FSTS_ICE | XVI_FSTS_ITE)

static hwaddr xvi_frcd_hi(unsigned i)
{
    return XVI_FRCD + i * 16 + 8;
}

void xvi_send_event_msi(XenViommuState *s, const char *which, hwaddr data_reg,
                        hwaddr addr_reg, hwaddr uaddr_reg)
{
    MSIMessage msg = {
        .address = xvi_get32(s, addr_reg) |
                   ((uint64_t)xvi_get32(s, uaddr_reg) << 32),
        .data = xvi_get32(s, data_reg),
    };

    trace_xen_viommu_event_irq(which, msg.address, msg.data);
    xvi_deliver_msi(s, msg.address, msg.data);
}

/* Raise the fault event, or leave it pending while masked */
static void xvi_fault_event(XenViommuState *s)
{
    if (xvi_get32(s, XVI_FECTL) & XVI_CTL_IM) {
        xvi_set_clear32(s, XVI_FECTL, XVI_CTL_IP, 0);
        return;
    }
    xvi_send_event_msi(s, "fault", XVI_FEDATA, XVI_FEADDR, XVI_FEUADDR);
    xvi_set_clear32(s, XVI_FECTL, 0, XVI_CTL_IP);
}

/* Set status bits in FSTS; an event fires when none was pending before */
static void xvi_fsts_raise(XenViommuState *s, uint32_t bits)
{
    uint32_t fsts = xvi_get32(s, XVI_FSTS);

    xvi_set32(s, XVI_FSTS, fsts | bits);
    if (!(fsts & XVI_FSTS_EVENTS)) {
        xvi_fault_event(s);
    }
}

/*
 * translate() also runs outside the BQL (virtio-blk dataplane, iothread=),
 * but the fault registers and the fault event belong to the BQL, like every
 * MMIO handler.  A fault found there is queued and recorded by a bottom
 * half in the main loop: later than the access, as hardware's logging is
 * too.  Beyond the queue's room faults are lost and PFO says so, as when
 * the recording registers are full.
 */
static void xvi_fault_defer(XenViommuState *s, uint16_t sid, uint8_t reason,
                            uint64_t addr, bool is_write, uint64_t pasid_bits)
{
    qemu_mutex_lock(&s->fault_lock);
    if (s->nr_deferred < XVI_NR_DEFERRED_FAULTS) {
        s->deferred[s->nr_deferred++] = (XviDeferredFault) {
            .sid = sid, .reason = reason, .addr = addr, .is_write = is_write,
            .pasid_bits = pasid_bits,
        };
    } else {
        s->deferred_lost = true;
    }
    qemu_mutex_unlock(&s->fault_lock);
    qemu_bh_schedule(s->fault_bh);
}

/* Record what was queued; BQL held.  Also before migration and at reset */
void xvi_fault_drain(XenViommuState *s)
{
    XviDeferredFault q[XVI_NR_DEFERRED_FAULTS];
    unsigned i, n;
    bool lost;

    qemu_mutex_lock(&s->fault_lock);
    n = s->nr_deferred;
    memcpy(q, s->deferred, n * sizeof(q[0]));
    lost = s->deferred_lost;
    s->nr_deferred = 0;
    s->deferred_lost = false;
    qemu_mutex_unlock(&s->fault_lock);

    for (i = 0; i < n; i++) {
        xvi_fault_record_pasid(s, q[i].sid, q[i].reason, q[i].addr,
                               q[i].is_write, q[i].pasid_bits);
    }
    if (lost && !(xvi_get32(s, XVI_FSTS) & XVI_FSTS_PFO)) {
        xvi_fsts_raise(s, XVI_FSTS_PFO);
    }
}

static void xvi_fault_bh(void *opaque)
{
    xvi_fault_drain(opaque);
}

void xvi_fault_init(XenViommuState *s)
{
    qemu_mutex_init(&s->fault_lock);
    s->fault_bh = qemu_bh_new_guarded(xvi_fault_bh, s,
                                      &DEVICE(s)->mem_reentrancy_guard);
}

void xvi_fault_fini(XenViommuState *s)
{
    qemu_bh_delete(s->fault_bh);
    qemu_mutex_destroy(&s->fault_lock);
}

/* At reset: what was queued belongs to the old state */
void xvi_fault_reset(XenViommuState *s)
{
    qemu_mutex_lock(&s->fault_lock);
    s->nr_deferred = 0;
    s->deferred_lost = false;
    qemu_mutex_unlock(&s->fault_lock);
}

void xvi_fault_record(XenViommuState *s, uint16_t sid, uint8_t reason,
                      uint64_t addr, bool is_write)
{
    xvi_fault_record_pasid(s, sid, reason, addr, is_write, 0);
}

void xvi_fault_record_pasid(XenViommuState *s, uint16_t sid, uint8_t reason,
                            uint64_t addr, bool is_write, uint64_t pasid_bits)
{
    uint32_t fsts;
    unsigned i = s->next_frcd, j;
    uint64_t hi;

    if (!bql_locked()) {
        xvi_fault_defer(s, sid, reason, addr, is_write, pasid_bits);
        return;
    }
    fsts = xvi_get32(s, XVI_FSTS);
    trace_xen_viommu_fault(sid, reason, addr, is_write);
    hi = sid | ((uint64_t)reason << XVI_FRCD_FR_SHIFT) | XVI_FRCD_F |
         pasid_bits;
    if (!is_write) {
        hi |= XVI_FRCD_T;
    }
    /*
     * QEMU's memory core splits one faulting DMA (e.g. a 4 KiB write) into
     * many accesses, each translated and faulting on its own; a request
     * identical to a still-pending record is collapsed into it, so one bad
     * buffer cannot fill every record and overflow.
     */
    for (j = 0; j < XVI_NR_FRCD; j++) {
        if (xvi_get64(s, xvi_frcd_hi(j)) == hi &&
            xvi_get64(s, XVI_FRCD + j * 16) == (addr & ~0xfffULL)) {
            return;
        }
    }
    if (fsts & XVI_FSTS_PFO) {
        /* Overflowed already: faults are dropped until software clears PFO */
        trace_xen_viommu_fault_overflow(sid, reason);
        return;
    }
    if (xvi_get64(s, xvi_frcd_hi(i)) & XVI_FRCD_F) {
        trace_xen_viommu_fault_overflow(sid, reason);
        xvi_fsts_raise(s, XVI_FSTS_PFO);
        return;
    }

    xvi_set64(s, XVI_FRCD + i * 16, addr & ~0xfffULL);
    xvi_set64(s, xvi_frcd_hi(i), hi);
    s->next_frcd = (i + 1) % XVI_NR_FRCD;

    if (!(fsts & XVI_FSTS_PPF)) {
        /* FRI names the first record software should look at */
        fsts &= ~(0xffU << XVI_FSTS_FRI_SHIFT);
        fsts |= i << XVI_FSTS_FRI_SHIFT;
        xvi_set32(s, XVI_FSTS, fsts);
        xvi_fsts_raise(s, XVI_FSTS_PPF);
    }
}

static void xvi_fault_update_ppf(XenViommuState *s)
{
    unsigned i;

    for (i = 0; i < XVI_NR_FRCD; i++) {
        if (xvi_get64(s, xvi_frcd_hi(i)) & XVI_FRCD_F) {
            return;
        }
    }
    xvi_set_clear32(s, XVI_FSTS, 0, XVI_FSTS_PPF);
}

/*
 * After software wrote FSTS or a record's F bit.  FECTL.IP clears once every
 * status it stands for is serviced: PFO, IQE, ICE, ITE clear and PPF
 * evaluating to clear (VT-d 10.4.10).
 */
void xvi_fault_fsts_written(XenViommuState *s)
{
    /* PPF is derived from the records; W1C already cleared the rest */
    xvi_fault_update_ppf(s);
    if (!(xvi_get32(s, XVI_FSTS) & XVI_FSTS_EVENTS)) {
        xvi_set_clear32(s, XVI_FECTL, 0, XVI_CTL_IP);
    }
}

void xvi_fault_fectl_written(XenViommuState *s)
{
    uint32_t fectl = xvi_get32(s, XVI_FECTL);

    if (!(fectl & XVI_CTL_IM) && (fectl & XVI_CTL_IP)) {
        xvi_fault_event(s);
    }
}

void xvi_fault_set_iqe(XenViommuState *s)
{
    xvi_fsts_raise(s, XVI_FSTS_IQE);
}

void xvi_fault_set_ite(XenViommuState *s)
{
    xvi_fsts_raise(s, XVI_FSTS_ITE);
}

/* Invalidation completion (wait descriptor with IF) */
void xvi_inv_completion_event(XenViommuState *s)
{
    if (xvi_get32(s, XVI_ICS) & XVI_ICS_IWC) {
        /* Already pending: the interrupt fires once until IWC is cleared */
        return;
    }
    xvi_set_clear32(s, XVI_ICS, XVI_ICS_IWC, 0);
    if (xvi_get32(s, XVI_IECTL) & XVI_CTL_IM) {
        xvi_set_clear32(s, XVI_IECTL, XVI_CTL_IP, 0);
        return;
    }
    xvi_send_event_msi(s, "inv-completion", XVI_IEDATA, XVI_IEADDR,
                       XVI_IEUADDR);
}

void xvi_inv_ics_written(XenViommuState *s)
{
    if (!(xvi_get32(s, XVI_ICS) & XVI_ICS_IWC)) {
        xvi_set_clear32(s, XVI_IECTL, 0, XVI_CTL_IP);
    }
}

void xvi_inv_iectl_written(XenViommuState *s)
{
    uint32_t iectl = xvi_get32(s, XVI_IECTL);

    if (!(iectl & XVI_CTL_IM) && (iectl & XVI_CTL_IP)) {
        xvi_set_clear32(s, XVI_IECTL, 0, XVI_CTL_IP);
        xvi_send_event_msi(s, "inv-completion", XVI_IEDATA, XVI_IEADDR,
                           XVI_IEUADDR);
    }
}
