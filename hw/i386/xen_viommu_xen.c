/*
 * xen-viommu: the device's hypervisor side -- choosing a backend, delivering
 * interrupts through it and keeping its IR-entry table in step
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * With a backend (hypervisor=xen, or the double in tests) the unit still
 * computes its results in QEMU, but the interrupts it produces are handed to
 * the hypervisor: emulated devices' MSIs, after remapping, and the unit's own
 * event interrupts go through inject_msi.  The IO-APIC is Xen's: its
 * remappable entries are decoded by Xen's vIOAPIC with the entries this file
 * pushes (set_ir_entries) whenever the guest makes them valid -- SIRTP,
 * IRE/CFI changes and interrupt-entry-cache invalidations.  Under the double
 * (TCG) QEMU's IO-APIC still writes its requests into the unit's IO-APIC
 * address space; they go to the double's vIOAPIC instead of being remapped
 * here.  Without a backend (hypervisor=none) interrupts go to QEMU's APIC.
 *
 * All calls into the backend are made under hyp_lock.  It nests inside the
 * device's lock (fault events are raised with it held) and nothing taken
 * under it calls back into the device.
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "hw/i386/apic_internal.h"
#include "hw/i386/x86.h"
#include "hw/xen/xen.h"
#include "system/system.h"
#include "system/xen.h"
#include "xen_viommu_internal.h"

#define XVI_IRTE_SIZE           16
#define XVI_MSI_ADDR_REMAPPABLE (1ULL << 4)
/* Largest APIC ID Xen's extended destination ID reaches */
#define XVI_EXT_DEST_MAX        0x7fffu

/* Delivery into QEMU's APIC: hypervisor=none, and the double's callback */
static void xvi_apic_send(uint64_t addr, uint32_t data)
{
    /* The class follows the accelerator, fixed for the process's life */
    static APICCommonClass *apic;
    MSIMessage msg = { .address = addr, .data = data };

    if (!apic) {
        apic = apic_get_class(NULL);
    }

    if (apic && apic->send_msi) {
        apic->send_msi(&msg);
    }
}

static void xvi_hyp_double_deliver(void *opaque, uint64_t addr, uint32_t data)
{
    xvi_apic_send(addr, data);
}

void xvi_deliver_msi(XenViommuState *s, uint64_t addr, uint32_t data)
{
    int ret;

    if (!s->hyp) {
        xvi_apic_send(addr, data);
        return;
    }
    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_inject_msi(s->hyp, addr, data);
    qemu_mutex_unlock(&s->hyp_lock);
    if (ret < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: interrupt 0x%" PRIx64
                      "/0x%08x dropped: inject_msi failed (%s)\n",
                      addr, data, strerror(-ret));
    }
}

/*
 * A device's request the unit passed on untranslated (remapping off, or a
 * compatibility-format request let through): the guest's own message,
 * including Xen's PIRQ encoding, which must reach Xen as it would without
 * the unit.  Remapped results go through xvi_deliver_msi, never as PIRQs.
 */
void xvi_deliver_untranslated_msi(XenViommuState *s, uint64_t addr,
                                  uint32_t data)
{
    int ret;

    if (!s->hyp) {
        xvi_apic_send(addr, data);
        return;
    }
    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_inject_untranslated_msi(s->hyp, addr, data);
    qemu_mutex_unlock(&s->hyp_lock);
    if (ret < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: interrupt 0x%" PRIx64
                      "/0x%08x dropped: inject_msi failed (%s)\n",
                      addr, data, strerror(-ret));
    }
}

void xvi_hyp_ioapic_msi(XenViommuState *s, uint64_t addr, uint32_t data)
{
    int ret;

    if (!(addr & XVI_MSI_ADDR_REMAPPABLE) && !(data & 0xff) &&
        ((data >> 8) & 7) <= 1) {
        /*
         * Fixed or lowest-priority with vector 0, an illegal vector: what
         * QEMU's IO-APIC sends for an interrupt raised before its first
         * reset (RTEs all zero, unmasked).  No APIC accepts it; the double
         * would take it for Xen's PIRQ encoding.
         */
        return;
    }
    qemu_mutex_lock(&s->hyp_lock);
    ret = xen_viommu_hyp_double_ioapic_msi(s->hyp, addr, data);
    qemu_mutex_unlock(&s->hyp_lock);
    if (ret < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-viommu: IO-APIC interrupt 0x%"
                      PRIx64 "/0x%08x dropped by the vIOAPIC (%s)\n",
                      addr, data, strerror(-ret));
    }
}

/* IR entries --------------------------------------------------------------- */

/*
 * Decode guest entries [first, first + nr) into @out (nr at most one
 * batch).  Entries beyond the table, unreadable, not present, posted or
 * with reserved bits are not present for the hypervisor: the device keeps
 * fault recording.
 */
static void xvi_hyp_ir_decode(XenViommuState *s, uint32_t first, uint32_t nr,
                              XenViommuHypIrEntry *out)
{
    uint64_t raw[XEN_VIOMMU_IR_MAX_BATCH * 2];
    uint32_t i, n;

    memset(out, 0, sizeof(*out) * nr);
    if (first >= s->irt_entries) {
        return;
    }
    n = MIN(nr, s->irt_entries - first);
    if (!xvi_read_guest(s, s->irt_base + (uint64_t)first * XVI_IRTE_SIZE,
                        raw, n * XVI_IRTE_SIZE)) {
        return;
    }
    for (i = 0; i < n; i++) {
        XviIrte e;

        if (xvi_irte_decode(le64_to_cpu(raw[2 * i]),
                            le64_to_cpu(raw[2 * i + 1]), s->irt_eime, &e)) {
            continue;
        }
        out[i] = (XenViommuHypIrEntry) {
            .present = true,
            .dest_logical = e.dest_mode,
            .redir_hint = e.redir_hint,
            .level = e.trigger_mode,
            .delivery = e.delivery_mode,
            .vector = e.vector,
            .dest = e.dest,
            .svt = e.svt,
            .sq = e.sq,
            .sid = e.sid,
        };
    }
}

/*
 * Push entries [first, first + nr): the state is left as it is until the
 * last batch, which carries @last_flags.  hyp_lock held.
 */
static int xvi_hyp_ir_push(XenViommuState *s, uint32_t first, uint32_t nr,
                           uint32_t last_flags)
{
    int ret;

    do {
        uint32_t n = MIN(nr, (uint32_t)XEN_VIOMMU_IR_MAX_BATCH);

        xvi_hyp_ir_decode(s, first, n, s->hyp_ir_buf);
        ret = xen_viommu_hyp_set_ir_entries(s->hyp, first, n,
                                            n == nr ? last_flags : 0,
                                            XVI_IOAPIC_SID, s->hyp_ir_buf);
        if (ret < 0) {
            return ret;
        }
        first += n;
        nr -= n;
    } while (nr);
    return 0;
}

static void xvi_hyp_ir_failed(int ret)
{
    warn_report_once("xen-viommu: pushing interrupt remapping entries to "
                     "the hypervisor failed (%s); IO-APIC interrupts may be "
                     "lost", strerror(-ret));
}

/*
 * The whole table.  Every entry is overwritten in place rather than cleared
 * first, so that entries stay usable while the push is under way; entries
 * beyond a table that shrank are pushed as not present.  hyp_lock held.
 */
static void xvi_hyp_ir_sync_locked(XenViommuState *s)
{
    uint32_t sts = xvi_get32(s, XVI_GSTS);
    uint32_t n = s->irt_set ? s->irt_entries : 0;
    uint32_t flags = XEN_VIOMMU_IR_ENABLE;
    int ret;

    if (!(sts & XVI_GCMD_IRE)) {
        /* Off, and the table cleared: it is pushed again at enable */
        s->hyp_ir_extent = 0;
        ret = xen_viommu_hyp_set_ir_entries(s->hyp, 0, 0,
                                            XEN_VIOMMU_IR_DISABLE,
                                            XVI_IOAPIC_SID, NULL);
        if (ret < 0) {
            xvi_hyp_ir_failed(ret);
        }
        return;
    }
    if (xvi_ir_compat_blocked(s)) {
        flags |= XEN_VIOMMU_IR_BLOCK_COMPAT;
    }
    ret = 0;
    if (s->hyp_ir_extent > n) {
        ret = xvi_hyp_ir_push(s, n, s->hyp_ir_extent - n, 0);
    }
    if (!ret) {
        ret = xvi_hyp_ir_push(s, 0, n, flags);
    }
    if (ret < 0) {
        xvi_hyp_ir_failed(ret);
    }
    s->hyp_ir_extent = MAX(s->hyp_ir_extent, n);
    if (!ret) {
        s->hyp_ir_extent = n;
    }
}

void xvi_hyp_ir_sync(XenViommuState *s)
{
    if (!s->hyp_ir) {
        return;
    }
    qemu_mutex_lock(&s->hyp_lock);
    xvi_hyp_ir_sync_locked(s);
    qemu_mutex_unlock(&s->hyp_lock);
}

void xvi_hyp_ir_invalidate(XenViommuState *s, bool global, uint32_t index,
                           unsigned im)
{
    uint32_t first, nr;
    int ret;

    if (!s->hyp_ir) {
        return;
    }
    if (global || im >= 16) {
        xvi_hyp_ir_sync(s);
        return;
    }
    if (!(xvi_get32(s, XVI_GSTS) & XVI_GCMD_IRE)) {
        /* Nothing is in use; the table is pushed at enable */
        return;
    }
    first = (index & 0xffff) & ~((1u << im) - 1);
    if (first >= s->irt_entries) {
        return;
    }
    nr = MIN(1u << im, s->irt_entries - first);
    qemu_mutex_lock(&s->hyp_lock);
    ret = xvi_hyp_ir_push(s, first, nr, 0);
    qemu_mutex_unlock(&s->hyp_lock);
    if (ret < 0) {
        xvi_hyp_ir_failed(ret);
    }
}

/* Counters ----------------------------------------------------------------- */

char *xvi_hyp_stats_text(XenViommuState *s)
{
    GString *out = g_string_new(NULL);
    XenViommuHypDoubleStats ds;
    int op;

    if (!s->hyp) {
        g_string_append(out, "backend none\n");
        return g_string_free(out, false);
    }
    qemu_mutex_lock(&s->hyp_lock);
    g_string_append_printf(out, "backend %s\n",
                           xen_viommu_hyp_backend_name(s->hyp));
    for (op = 0; op < XEN_VIOMMU_HYP_OP__MAX; op++) {
        XenViommuHypOpStats st = xen_viommu_hyp_get_stats(s->hyp, op);

        g_string_append_printf(out, "%s %" PRIu64 " %" PRIu64 " %" PRIu64
                               " %" PRIu64 " %" PRIu64 "\n",
                               xen_viommu_hyp_op_name(op), st.calls,
                               st.refused, st.errors, st.items,
                               st.hypercalls);
    }
    if (!xen_viommu_hyp_double_get_stats(s->hyp, &ds)) {
        g_string_append_printf(out,
                               "double.msi_delivered %" PRIu64 "\n"
                               "double.msi_pirq %" PRIu64 "\n"
                               "double.ioapic_delivered %" PRIu64 "\n"
                               "double.ioapic_blocked %" PRIu64 "\n"
                               "double.ir_present %u\n"
                               "double.ir_enabled %d\n"
                               "double.ir_block_compat %d\n"
                               "double.pirq_delivered %" PRIu64 "\n"
                               "double.pt_bound %u\n"
                               "double.pv_initialised %d\n"
                               "double.pv_contexts %u\n"
                               "double.pv_mappings %" PRIu64 "\n"
                               "double.pv_attached %u\n",
                               ds.msi_delivered, ds.msi_pirq,
                               ds.ioapic_delivered, ds.ioapic_blocked,
                               ds.ir_present, ds.ir_enabled,
                               ds.ir_block_compat, ds.pirq_delivered,
                               ds.pt_bound, ds.pv_initialised,
                               ds.pv_contexts, ds.pv_mappings,
                               ds.pv_attached);
    }
    qemu_mutex_unlock(&s->hyp_lock);
    return g_string_free(out, false);
}

static void xvi_hyp_exit(Notifier *n, void *data)
{
    XenViommuState *s = container_of(n, XenViommuState, hyp_exit);
    g_autofree char *text = xvi_hyp_stats_text(s);
    g_autoptr(GError) err = NULL;

    if (!g_file_set_contents(s->hyp_stats_file, text, -1, &err)) {
        warn_report("xen-viommu: x-hyp-stats-file: %s", err->message);
    }
}

/* Realize ------------------------------------------------------------------ */

static bool xvi_hyp_mode(XenViommuState *s, Error **errp)
{
    const char *mode = s->hypervisor ? s->hypervisor : "auto";

    if (!strcmp(mode, "auto")) {
        s->hyp_mode = xen_enabled() ? XVI_HYP_XEN : XVI_HYP_NONE;
    } else if (!strcmp(mode, "none")) {
        s->hyp_mode = XVI_HYP_NONE;
    } else if (!strcmp(mode, "xen")) {
        if (!xen_enabled()) {
            error_setg(errp, "xen-viommu: hypervisor=xen needs QEMU to run "
                       "as Xen's device model (-accel xen)");
            error_append_hint(errp, "Use hypervisor=none (or auto) without "
                              "Xen; hypervisor=double stands in for Xen in "
                              "tests.\n");
            return false;
        }
        s->hyp_mode = XVI_HYP_XEN;
    } else if (!strcmp(mode, "double")) {
        if (xen_enabled()) {
            error_setg(errp, "xen-viommu: hypervisor=double is refused under "
                       "-accel xen: the hypervisor double is for tests only");
            error_append_hint(errp, "Use hypervisor=xen (or auto).\n");
            return false;
        }
        s->hyp_mode = XVI_HYP_DOUBLE;
    } else {
        error_setg(errp, "xen-viommu: hypervisor=%s is not one of auto, xen, "
                   "double, none", mode);
        return false;
    }
    return true;
}

static bool xvi_hyp_check_caps(XenViommuState *s, Error **errp)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);
    X86MachineState *x86ms = X86_MACHINE(qdev_get_machine());
    const XenViommuHypCaps *caps = xen_viommu_hyp_caps(s->hyp);
    const char *name = xen_viommu_hyp_backend_name(s->hyp);
    unsigned max_apic_id = x86ms->apic_id_limit ? x86ms->apic_id_limit - 1 : 0;

    if (!caps->inject_msi) {
        error_setg(errp, "xen-viommu: the %s hypervisor cannot inject MSIs",
                   name);
        return false;
    }
    if (x86_iommu_ir_supported(x86) && !caps->ir_entries) {
        if (!s->intremap_auto) {
            error_setg(errp, "xen-viommu: intremap=on needs the hypervisor's "
                       "IR-entries operation (XEN_DMOP_set_ir_entries), "
                       "which the %s hypervisor does not offer", name);
            error_append_hint(errp, "Xen's vIOAPIC cannot decode remappable "
                              "IO-APIC entries without it: a guest with "
                              "interrupt remapping on would lose its IO-APIC "
                              "interrupts.  Use intremap=off (or auto), or a "
                              "Xen with the operation.\n");
            return false;
        }
        warn_report("xen-viommu: intremap=auto: interrupt remapping off: the "
                    "%s hypervisor lacks the IR-entries operation "
                    "(XEN_DMOP_set_ir_entries), without which Xen's vIOAPIC "
                    "cannot decode remappable IO-APIC entries", name);
        x86->intr_supported = ON_OFF_AUTO_OFF;
    }
    if (max_apic_id > 255 && !caps->ext_dest_id) {
        error_setg(errp, "xen-viommu: the machine has APIC IDs up to %u, but "
                   "the %s hypervisor delivers interrupts to 8-bit "
                   "destinations only (no extended destination ID)",
                   max_apic_id, name);
        error_append_hint(errp, "Use fewer vCPUs (APIC IDs up to 255), or a "
                          "Xen with the extended destination ID.\n");
        return false;
    }
    if (max_apic_id > XVI_EXT_DEST_MAX) {
        error_setg(errp, "xen-viommu: the machine has APIC IDs up to %u, "
                   "beyond the %u the %s hypervisor's extended destination "
                   "ID reaches", max_apic_id, XVI_EXT_DEST_MAX, name);
        error_append_hint(errp, "Use fewer vCPUs.\n");
        return false;
    }
    s->hyp_ir = x86_iommu_ir_supported(x86);
    return true;
}

bool xvi_hyp_realize(XenViommuState *s, Error **errp)
{
    MachineState *ms = MACHINE(qdev_get_machine());

    qemu_mutex_init(&s->hyp_lock);
    if (s->hyp_stats_file) {
        s->hyp_exit.notify = xvi_hyp_exit;
        qemu_add_exit_notifier(&s->hyp_exit);
    }
    if (!xvi_hyp_mode(s, errp)) {
        goto fail;
    }
    switch (s->hyp_mode) {
    case XVI_HYP_XEN:
        s->hyp = xen_viommu_hyp_new_native(xen_domid, errp);
        if (!s->hyp) {
            goto fail;
        }
        break;
    case XVI_HYP_DOUBLE: {
        XenViommuHypDoubleConfig cfg = {
            .ext_dest_id = s->double_ext_dest_id,
            .pt_msi_bind_ext = s->double_pt_msi_bind_ext,
            .ir_entries = s->double_ir_entries,
            .pv_iommu = s->double_pv_iommu,
            .pv_max_ctx = s->double_pv_max_ctx,
            .pv_pool_pages = s->double_pv_pool_pages,
            .ram_size = ms->ram_size,
        };

        s->hyp = xen_viommu_hyp_new_double(&cfg);
        xen_viommu_hyp_set_deliver(s->hyp, xvi_hyp_double_deliver, s);
        break;
    }
    default:
        return true;
    }
    if (!xvi_hyp_check_caps(s, errp)) {
        goto fail;
    }
    if (s->hyp_ir) {
        s->hyp_ir_buf = g_new0(XenViommuHypIrEntry, XEN_VIOMMU_IR_MAX_BATCH);
    }
    return true;

fail:
    xvi_hyp_unrealize(s);
    return false;
}

void xvi_hyp_unrealize(XenViommuState *s)
{
    if (s->hyp) {
        xvi_ptdma_unrealize(s);
        xvi_pt_msi_detach_all(s);
    }
    if (s->hyp_exit.notify) {
        qemu_remove_exit_notifier(&s->hyp_exit);
        s->hyp_exit.notify = NULL;
    }
    xen_viommu_hyp_free(s->hyp);
    s->hyp = NULL;
    s->hyp_ir = false;
    g_free(s->hyp_ir_buf);
    s->hyp_ir_buf = NULL;
    qemu_mutex_destroy(&s->hyp_lock);
}
