/*
 * Unit tests for xen-viommu's hypervisor interface: the native backend
 * against recording stand-ins of the Xen libraries, and the double
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * No Xen library is linked: this file defines every libxendevicemodel,
 * libxenctrl and libxencall function the native backend calls.  The
 * stand-ins record what they are given and answer as a scripted hypervisor
 * would.  Expected values come from Xen's headers and from the wire formats
 * in docs/xen-hypervisor-interface.rst (offsets written out here, not taken
 * from the backend's structures).
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "hw/xen/xen_native.h"
#include <xencall.h>
#include <xen/hvm/dm_op.h>
#include "hw/xen/xen_viommu_hyp.h"

#define TEST_DOMID 7

/* Stand-ins ---------------------------------------------------------------- */

typedef enum {
    IOMMU_UPSTREAM,         /* no such hypercall: -ENOSYS */
    IOMMU_OLD_EFAULT,       /* 2014-16 ABI: our subop read as a handle */
    IOMMU_OLD_EINVAL,       /* 2014-16 ABI: our handle read as a count */
    IOMMU_OLD_SILENT,       /* succeeds, writes nothing */
    IOMMU_OLD_GARBAGE,      /* succeeds, writes its own status words */
    IOMMU_OLD_POSITIVE,     /* returns a count */
    IOMMU_NEW,              /* the proposed PV-IOMMU */
} IommuMode;

typedef struct DmOpRec {
    unsigned op;            /* hypercall */
    uint64_t domid;
    unsigned nr_bufs;
    GByteArray *buf[2];
    size_t size[2];
} DmOpRec;

typedef struct IommuRec {
    uint64_t subop;         /* first hypercall argument */
    uint8_t cmd[16];
    GByteArray *arg;        /* sub-op argument as sent */
    size_t arg_alloc;       /* its allocation's size */
} IommuRec;

static struct {
    /* open failures (errno, 0 = succeed) */
    int dmod_open_errno, xc_open_errno, xcall_open_errno;
    int open_handles;
    GHashTable *bufs;       /* live xencall buffers -> size */
    unsigned lib_calls;     /* calls that reach the hypervisor */

    /* xendevicemodel_inject_msi */
    unsigned inject_calls;
    uint32_t inject_domid;
    uint64_t inject_addr;
    uint32_t inject_data;

    /* xc_domain_update_msi_irq / xc_domain_unbind_msi_irq */
    unsigned bind_calls, unbind_calls;
    uint32_t msi_domid, msi_gvec, msi_pirq, msi_gflags;
    uint64_t msi_gtable;
    int msi_errno;

    /* dm_op */
    int dm_errno[64];       /* per DMOP, 0 = succeed */
    GPtrArray *dm_ops;      /* DmOpRec */

    /* iommu_op */
    IommuMode iommu_mode;
    GPtrArray *iommu_ops;   /* IommuRec */
    uint32_t pv_chunk;      /* pages per invocation before -ERESTART */
    unsigned multicalls;
    bool pv_stall;          /* -ERESTART without progress */
    int pv_fail_call;       /* map/unmap invocation (1-based) that fails */
    uint32_t pv_fail_after; /* ... after this many pages */
    int pv_fail_errno;
} sx;

static char fake_dmod, fake_xch, fake_xcall;

static uint32_t rd32(const void *p)
{
    return (uint32_t)ldl_le_p(p);
}

static int fail_errno(int e)
{
    errno = e;
    return -1;
}

static void dm_op_rec_free(gpointer p)
{
    DmOpRec *r = p;

    if (r->buf[0]) {
        g_byte_array_unref(r->buf[0]);
    }
    if (r->buf[1]) {
        g_byte_array_unref(r->buf[1]);
    }
    g_free(r);
}

static void iommu_rec_free(gpointer p)
{
    IommuRec *r = p;

    g_byte_array_unref(r->arg);
    g_free(r);
}

static void sx_reset(void)
{
    if (sx.bufs) {
        g_hash_table_destroy(sx.bufs);
    }
    if (sx.dm_ops) {
        g_ptr_array_free(sx.dm_ops, true);
    }
    if (sx.iommu_ops) {
        g_ptr_array_free(sx.iommu_ops, true);
    }
    memset(&sx, 0, sizeof(sx));
    sx.bufs = g_hash_table_new(g_direct_hash, g_direct_equal);
    sx.dm_ops = g_ptr_array_new_with_free_func(dm_op_rec_free);
    sx.iommu_ops = g_ptr_array_new_with_free_func(iommu_rec_free);
    sx.dm_errno[XEN_VIOMMU_DMOP_BIND_PT_MSI_IRQ] = EOPNOTSUPP;
    sx.dm_errno[XEN_VIOMMU_DMOP_UNBIND_PT_MSI_IRQ] = EOPNOTSUPP;
    sx.dm_errno[XEN_VIOMMU_DMOP_SET_IR_ENTRIES] = EOPNOTSUPP;
    sx.iommu_mode = IOMMU_UPSTREAM;
    sx.pv_chunk = XEN_VIOMMU_IOMMU_PREEMPT_PAGES;
}

static size_t buf_size(const void *p)
{
    gpointer v;

    g_assert_true(g_hash_table_lookup_extended(sx.bufs, p, NULL, &v));
    return GPOINTER_TO_SIZE(v);
}

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
                                           unsigned int open_flags)
{
    if (sx.dmod_open_errno) {
        errno = sx.dmod_open_errno;
        return NULL;
    }
    sx.open_handles++;
    return (xendevicemodel_handle *)&fake_dmod;
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
    g_assert_true((void *)dmod == &fake_dmod);
    sx.open_handles--;
    return 0;
}

int xendevicemodel_inject_msi(xendevicemodel_handle *dmod, domid_t domid,
                              uint64_t msi_addr, uint32_t msi_data)
{
    g_assert_true((void *)dmod == &fake_dmod);
    sx.lib_calls++;
    sx.inject_calls++;
    sx.inject_domid = domid;
    sx.inject_addr = msi_addr;
    sx.inject_data = msi_data;
    return 0;
}

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    if (sx.xc_open_errno) {
        errno = sx.xc_open_errno;
        return NULL;
    }
    sx.open_handles++;
    return (xc_interface *)&fake_xch;
}

int xc_interface_close(xc_interface *xch)
{
    g_assert_true((void *)xch == &fake_xch);
    sx.open_handles--;
    return 0;
}

int xc_domain_update_msi_irq(xc_interface *xch, uint32_t domid, uint32_t gvec,
                             uint32_t pirq, uint32_t gflags, uint64_t gtable)
{
    g_assert_true((void *)xch == &fake_xch);
    sx.lib_calls++;
    sx.bind_calls++;
    sx.msi_domid = domid;
    sx.msi_gvec = gvec;
    sx.msi_pirq = pirq;
    sx.msi_gflags = gflags;
    sx.msi_gtable = gtable;
    return sx.msi_errno ? fail_errno(sx.msi_errno) : 0;
}

int xc_domain_unbind_msi_irq(xc_interface *xch, uint32_t domid, uint32_t gvec,
                             uint32_t pirq, uint32_t gflags)
{
    g_assert_true((void *)xch == &fake_xch);
    sx.lib_calls++;
    sx.unbind_calls++;
    sx.msi_domid = domid;
    sx.msi_gvec = gvec;
    sx.msi_pirq = pirq;
    sx.msi_gflags = gflags;
    return sx.msi_errno ? fail_errno(sx.msi_errno) : 0;
}

xencall_handle *xencall_open(struct xentoollog_logger *logger,
                             unsigned open_flags)
{
    if (sx.xcall_open_errno) {
        errno = sx.xcall_open_errno;
        return NULL;
    }
    sx.open_handles++;
    return (xencall_handle *)&fake_xcall;
}

int xencall_close(xencall_handle *xcall)
{
    g_assert_true((void *)xcall == &fake_xcall);
    sx.open_handles--;
    return 0;
}

void *xencall_alloc_buffer(xencall_handle *xcall, size_t size)
{
    void *p = g_malloc0(MAX(size, 1));

    g_assert_true((void *)xcall == &fake_xcall);
    g_hash_table_insert(sx.bufs, p, GSIZE_TO_POINTER(size));
    return p;
}

void xencall_free_buffer(xencall_handle *xcall, void *p)
{
    g_assert_true((void *)xcall == &fake_xcall);
    g_assert_true(g_hash_table_remove(sx.bufs, p));
    g_free(p);
}

/* __HYPERVISOR_dm_op (domid, nr_bufs, bufs) */
int xencall3(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2, uint64_t arg3)
{
    xen_dm_op_buf_t *bufs = (xen_dm_op_buf_t *)(uintptr_t)arg3;
    DmOpRec *r = g_new0(DmOpRec, 1);
    unsigned i, dmop;

    g_assert_true((void *)xcall == &fake_xcall);
    sx.lib_calls++;
    r->op = op;
    r->domid = arg1;
    r->nr_bufs = arg2;
    g_ptr_array_add(sx.dm_ops, r);
    g_assert_cmpuint(op, ==, __HYPERVISOR_dm_op);
    g_assert_cmpuint(arg2, >=, 1);
    g_assert_cmpuint(arg2, <=, 2);
    /* The buffer array and the buffers are hypercall-safe memory */
    g_assert_cmpuint(buf_size(bufs), >=, arg2 * sizeof(*bufs));
    for (i = 0; i < arg2; i++) {
        void *p = bufs[i].h.p;

        g_assert_cmpuint(buf_size(p), >=, bufs[i].size);
        r->size[i] = bufs[i].size;
        r->buf[i] = g_byte_array_new();
        g_byte_array_append(r->buf[i], p, bufs[i].size);
    }
    g_assert_cmpuint(bufs[0].size, >=, 8);
    dmop = rd32(r->buf[0]->data);
    g_assert_cmpuint(rd32(r->buf[0]->data + 4), ==, 0);    /* pad */
    if (dmop < ARRAY_SIZE(sx.dm_errno) && sx.dm_errno[dmop]) {
        return fail_errno(sx.dm_errno[dmop]);
    }
    return dmop < ARRAY_SIZE(sx.dm_errno) ? 0 : fail_errno(EOPNOTSUPP);
}

static int pv_new_abi(unsigned subop, uint8_t *a, size_t size)
{
    static unsigned pages_calls;
    uint32_t nr, n, pages_off, nr_off, done_off;
    bool map = subop == XEN_VIOMMU_IOMMUOP_MAP_PAGES;

    switch (subop) {
    case XEN_VIOMMU_IOMMUOP_QUERY_CAPABILITIES:
        memset(a, 0, size);
        stq_le_p(a, (1ULL << 39) - 1);
        stl_le_p(a + 8, XEN_VIOMMU_IOMMU_CAP_DEFAULT_IDENTITY);
        stl_le_p(a + 12, 0x1000);
        stl_le_p(a + 16, 0);
        stw_le_p(a + 20, 8);
        return 0;
    case XEN_VIOMMU_IOMMUOP_ALLOC_CONTEXT:
        stw_le_p(a, 5);
        return 0;
    case XEN_VIOMMU_IOMMUOP_MAP_PAGES:
    case XEN_VIOMMU_IOMMUOP_UNMAP_PAGES:
        break;
    default:
        return 0;
    }

    /* map: gfn@8 dfn@16 nr@32 mapped@36; unmap: dfn@8 nr@20 unmapped@24 */
    nr_off = map ? 32 : 20;
    done_off = map ? 36 : 24;
    pages_off = map ? 16 : 8;
    nr = rd32(a + nr_off);
    if (sx.iommu_ops->len == 1) {
        pages_calls = 0;
    }
    pages_calls++;
    if (sx.pv_stall) {
        stl_le_p(a + done_off, 0);
        return fail_errno(ERESTART);
    }
    n = MIN(nr, sx.pv_chunk);
    if ((int)pages_calls == sx.pv_fail_call) {
        stl_le_p(a + done_off, MIN(n, sx.pv_fail_after));
        return fail_errno(sx.pv_fail_errno);
    }
    stl_le_p(a + done_off, n);
    if (n == nr) {
        return 0;
    }
    if (map) {
        stq_le_p(a + 8, ldq_le_p(a + 8) + n);
    }
    stq_le_p(a + pages_off, ldq_le_p(a + pages_off) + n);
    stl_le_p(a + nr_off, nr - n);
    return fail_errno(ERESTART);
}

/* Whether [p, p + len) lies in one hypercall-safe buffer */
static bool in_buffer(const void *p, size_t len)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, sx.bufs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const uint8_t *b = k;

        if ((const uint8_t *)p >= b &&
            (const uint8_t *)p + len <= b + GPOINTER_TO_SIZE(v)) {
            return true;
        }
    }
    return false;
}

/*
 * One __HYPERVISOR_iommu_op (subop, cmd): @arg_size is the room the
 * sub-op argument has (its allocation, or its slot in a multicall's array)
 */
static int iommu_call(uint64_t subop, uint8_t *cmd, size_t arg_size)
{
    IommuRec *r = g_new0(IommuRec, 1);
    uint8_t *a;

    r->subop = subop;
    memcpy(r->cmd, cmd, 16);
    a = (uint8_t *)(uintptr_t)ldq_le_p(cmd + 8);
    r->arg_alloc = arg_size ? arg_size : buf_size(a);
    g_assert_true(in_buffer(a, r->arg_alloc));
    r->arg = g_byte_array_new();
    g_byte_array_append(r->arg, a, r->arg_alloc);
    g_ptr_array_add(sx.iommu_ops, r);

    switch (sx.iommu_mode) {
    case IOMMU_UPSTREAM:
        return fail_errno(ENOSYS);
    case IOMMU_OLD_EFAULT:
        return fail_errno(EFAULT);
    case IOMMU_OLD_EINVAL:
        return fail_errno(EINVAL);
    case IOMMU_OLD_SILENT:
        return 0;
    case IOMMU_OLD_GARBAGE:
        /* Its own op structure: a status word and a count */
        stl_le_p(a, 0xffffffea);
        stl_le_p(a + 4, 1);
        stq_le_p(a + 8, 0xdeadbeefcafef00dULL);
        return 0;
    case IOMMU_OLD_POSITIVE:
        return 1;
    case IOMMU_NEW:
        g_assert_cmpuint(subop, ==, XEN_VIOMMU_IOMMUOP_REMOTE_CMD);
        return pv_new_abi(lduw_le_p(cmd + 2), a, r->arg_alloc);
    }
    g_assert_not_reached();
}

/* __HYPERVISOR_iommu_op (subop, arg), __HYPERVISOR_multicall (list, nr) */
int xencall2(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2)
{
    multicall_entry_t *calls = (multicall_entry_t *)(uintptr_t)arg1;
    unsigned i;
    int rc;

    g_assert_true((void *)xcall == &fake_xcall);
    sx.lib_calls++;
    if (op == XEN_VIOMMU_HYPERVISOR_IOMMU_OP) {
        uint8_t *cmd = (uint8_t *)(uintptr_t)arg2;

        g_assert_cmpuint(buf_size(cmd), ==, 16);
        return iommu_call(arg1, cmd, 0);
    }
    g_assert_cmpuint(op, ==, __HYPERVISOR_multicall);
    sx.multicalls++;
    g_assert_cmpuint(arg2, >=, 1);
    g_assert_true(in_buffer(calls, arg2 * sizeof(*calls)));
    for (i = 0; i < arg2; i++) {
        uint8_t *cmd = (uint8_t *)(uintptr_t)calls[i].args[1];

        g_assert_cmpuint(calls[i].op, ==, XEN_VIOMMU_HYPERVISOR_IOMMU_OP);
        g_assert_true(in_buffer(cmd, 16));
        /* Each argument has a map_pages-sized slot */
        errno = 0;
        rc = iommu_call(calls[i].args[0], cmd, 40);
        calls[i].result = (xen_ulong_t)(long)(rc < 0 ? -errno : rc);
    }
    return 0;
}

/* Helpers ------------------------------------------------------------------ */

static XenViommuHyp *native_new(void)
{
    XenViommuHyp *h;

    sx_reset();
    h = xen_viommu_hyp_new_native(TEST_DOMID, &error_abort);
    g_assert_nonnull(h);
    g_assert_cmpint(sx.open_handles, ==, 3);
    return h;
}

static void native_free(XenViommuHyp *h)
{
    xen_viommu_hyp_free(h);
    g_assert_cmpint(sx.open_handles, ==, 0);
    g_assert_cmpuint(g_hash_table_size(sx.bufs), ==, 0);
}

static DmOpRec *dm_op(unsigned i)
{
    g_assert_cmpuint(i, <, sx.dm_ops->len);
    return g_ptr_array_index(sx.dm_ops, i);
}

static IommuRec *iommu_op(unsigned i)
{
    g_assert_cmpuint(i, <, sx.iommu_ops->len);
    return g_ptr_array_index(sx.iommu_ops, i);
}

static void clear_records(void)
{
    g_ptr_array_set_size(sx.dm_ops, 0);
    g_ptr_array_set_size(sx.iommu_ops, 0);
    sx.lib_calls = 0;
}

static unsigned mask_shift(uint32_t mask)
{
    return ctz32(mask);
}

/* Native: constants and construction --------------------------------------- */

static void test_header_constants(void)
{
    /* Our copies of Xen's numbers */
    g_assert_cmpuint(XEN_VIOMMU_HYPERVISOR_DM_OP, ==, __HYPERVISOR_dm_op);
    g_assert_cmpuint(__HYPERVISOR_dm_op, ==, 41);
    /* The proposed iommu_op takes the number after the last upstream one */
    g_assert_cmpuint(__HYPERVISOR_hypfs_op, ==, 42);
    g_assert_cmpuint(XEN_VIOMMU_HYPERVISOR_IOMMU_OP, ==, 43);
    g_assert_cmpuint(XEN_VIOMMU_DMOP_INJECT_MSI, ==, XEN_DMOP_inject_msi);
    g_assert_cmpuint(XEN_DMOP_nr_vcpus, ==, 20);
    g_assert_cmpuint(XEN_VIOMMU_DMOP_BIND_PT_MSI_IRQ, ==, 21);
    g_assert_cmpuint(XEN_VIOMMU_DMOP_UNBIND_PT_MSI_IRQ, ==, 22);
    g_assert_cmpuint(XEN_VIOMMU_DMOP_SET_IR_ENTRIES, >,
                     XEN_VIOMMU_DMOP_UNBIND_PT_MSI_IRQ);
    g_assert_cmpuint(XEN_VIOMMU_GFLAGS_DEST_MASK, ==,
                     XEN_DOMCTL_VMSI_X86_DEST_ID_MASK);
    g_assert_cmpuint(XEN_VIOMMU_GFLAGS_RH, ==, XEN_DOMCTL_VMSI_X86_RH_MASK);
    g_assert_cmpuint(XEN_VIOMMU_GFLAGS_DM, ==, XEN_DOMCTL_VMSI_X86_DM_MASK);
    g_assert_cmpuint(XEN_VIOMMU_GFLAGS_DELIV_MASK, ==,
                     XEN_DOMCTL_VMSI_X86_DELIV_MASK);
    g_assert_cmpuint(XEN_VIOMMU_GFLAGS_TRIG, ==,
                     XEN_DOMCTL_VMSI_X86_TRIG_MASK);
    g_assert_cmpuint(XEN_VIOMMU_GFLAGS_UNMASKED, ==,
                     XEN_DOMCTL_VMSI_X86_UNMASKED);
    g_assert_cmpuint(XEN_VIOMMU_ERESTART, ==, 85);
    /* The buffer descriptor the dm_op stand-in decodes */
    g_assert_cmpuint(sizeof(xen_dm_op_buf_t), ==, 16);
}

static void test_native_open_fail(void)
{
    Error *err = NULL;
    XenViommuHyp *h;

    sx_reset();
    sx.dmod_open_errno = ENOENT;
    h = xen_viommu_hyp_new_native(TEST_DOMID, &err);
    g_assert_null(h);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "libxendevicemodel"));
    g_assert_nonnull(strstr(error_get_pretty(err), "Xen"));
    error_free(err);
    err = NULL;
    g_assert_cmpint(sx.open_handles, ==, 0);

    sx_reset();
    sx.xcall_open_errno = EACCES;
    h = xen_viommu_hyp_new_native(TEST_DOMID, &err);
    g_assert_null(h);
    g_assert_nonnull(strstr(error_get_pretty(err), "libxencall"));
    error_free(err);
    /* What was opened is closed again, nothing reached the hypervisor */
    g_assert_cmpint(sx.open_handles, ==, 0);
    g_assert_cmpuint(sx.lib_calls, ==, 0);
}

/* Native: probe ------------------------------------------------------------ */

static void check_probe_calls(void)
{
    DmOpRec *r;
    IommuRec *q;

    /* unbind of an impossible IRQ, then an empty set_ir_entries */
    g_assert_cmpuint(sx.dm_ops->len, ==, 2);
    r = dm_op(0);
    g_assert_cmpuint(r->domid, ==, TEST_DOMID);
    g_assert_cmpuint(rd32(r->buf[0]->data), ==, 22);
    g_assert_cmpuint(rd32(r->buf[0]->data + 8), ==, UINT32_MAX);
    r = dm_op(1);
    g_assert_cmpuint(r->nr_bufs, ==, 1);
    g_assert_cmpuint(rd32(r->buf[0]->data), ==,
                     XEN_VIOMMU_DMOP_SET_IR_ENTRIES);
    g_assert_cmpuint(rd32(r->buf[0]->data + 12), ==, 0);   /* nr */
    g_assert_cmpuint(rd32(r->buf[0]->data + 16), ==, 0);   /* flags */
    /* query_capabilities as remote_cmd for the guest */
    g_assert_cmpuint(sx.iommu_ops->len, ==, 1);
    q = iommu_op(0);
    g_assert_cmpuint(q->subop, ==, XEN_VIOMMU_IOMMUOP_REMOTE_CMD);
    g_assert_cmpuint(lduw_le_p(q->cmd), ==, TEST_DOMID);
    g_assert_cmpuint(lduw_le_p(q->cmd + 2), ==,
                     XEN_VIOMMU_IOMMUOP_QUERY_CAPABILITIES);
    g_assert_cmpuint(q->arg_alloc, ==, 24);
}

static void test_native_probe_upstream(void)
{
    XenViommuHyp *h = native_new();
    const XenViommuHypCaps *c = xen_viommu_hyp_caps(h);
    XenViommuHypOpStats st;

    check_probe_calls();
    g_assert_true(c->inject_msi);
    g_assert_true(c->pt_msi_bind);
    g_assert_false(c->ext_dest_id);
    g_assert_false(c->pt_msi_bind_ext);
    g_assert_false(c->ir_entries);
    g_assert_false(c->pv_iommu);
    st = xen_viommu_hyp_get_stats(h, XEN_VIOMMU_HYP_OP_PROBE);
    g_assert_cmpuint(st.calls, ==, 1);
    g_assert_cmpuint(st.errors, ==, 0);
    native_free(h);
}

static void test_native_probe_old_abi(void)
{
    static const IommuMode modes[] = {
        IOMMU_OLD_EFAULT, IOMMU_OLD_EINVAL, IOMMU_OLD_SILENT,
        IOMMU_OLD_GARBAGE, IOMMU_OLD_POSITIVE,
    };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(modes); i++) {
        XenViommuHyp *h = native_new();
        XenViommuHypCaps caps;

        sx.iommu_mode = modes[i];
        clear_records();
        g_assert_cmpint(xen_viommu_hyp_probe(h, &caps), ==, 0);
        check_probe_calls();
        g_assert_false(caps.pv_iommu);
        g_assert_false(xen_viommu_hyp_caps(h)->pv_iommu);
        g_assert_cmpuint(caps.pv.max_ctx_no, ==, 0);
        native_free(h);
    }
}

static void test_native_probe_new(void)
{
    XenViommuHyp *h;
    XenViommuHypCaps caps;

    h = native_new();
    sx.iommu_mode = IOMMU_NEW;
    sx.dm_errno[XEN_VIOMMU_DMOP_UNBIND_PT_MSI_IRQ] = EINVAL;
    sx.dm_errno[XEN_VIOMMU_DMOP_SET_IR_ENTRIES] = 0;
    clear_records();
    g_assert_cmpint(xen_viommu_hyp_probe(h, &caps), ==, 0);
    check_probe_calls();
    g_assert_true(caps.pt_msi_bind_ext);
    g_assert_true(caps.ir_entries);
    g_assert_true(caps.pv_iommu);
    g_assert_cmpuint(caps.pv.max_iova_addr, ==, (1ULL << 39) - 1);
    g_assert_cmpuint(caps.pv.pgsize_mask, ==, 0x1000);
    g_assert_cmpuint(caps.pv.max_ctx_no, ==, 8);
    g_assert_cmpuint(caps.pv.cap_flags, ==,
                     XEN_VIOMMU_IOMMU_CAP_DEFAULT_IDENTITY);
    native_free(h);
}

static void test_pv_caps_sane(void)
{
    XenViommuPvIommuCaps c = {
        .max_iova_addr = (1ULL << 48) - 1, .pgsize_mask = 0x1000,
        .cap_flags = 0x11, .max_ctx_no = 4,
    };
    XenViommuPvIommuCaps bad;

    g_assert_true(xen_viommu_hyp_pv_caps_sane(&c));
    bad = c;
    bad.pgsize_mask = 0x200000;
    g_assert_false(xen_viommu_hyp_pv_caps_sane(&bad));
    bad = c;
    bad.pgsize_mask = 0x1001;
    g_assert_false(xen_viommu_hyp_pv_caps_sane(&bad));
    bad = c;
    bad.cap_flags = 0x20;
    g_assert_false(xen_viommu_hyp_pv_caps_sane(&bad));
    bad = c;
    bad.max_iova_addr = 0;
    g_assert_false(xen_viommu_hyp_pv_caps_sane(&bad));
    bad = c;
    bad.max_iova_addr = ~0ULL;
    g_assert_false(xen_viommu_hyp_pv_caps_sane(&bad));
    bad = c;
    bad.max_pasid = 0xa5a5a5a5;
    g_assert_false(xen_viommu_hyp_pv_caps_sane(&bad));
}

/* Native: interrupts ------------------------------------------------------- */

static void test_native_inject_msi(void)
{
    XenViommuHyp *h = native_new();
    XenViommuHypOpStats st;

    clear_records();
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee12004ULL, 0x4031), ==,
                    0);
    g_assert_cmpuint(sx.inject_calls, ==, 1);
    g_assert_cmpuint(sx.inject_domid, ==, TEST_DOMID);
    g_assert_cmpuint(sx.inject_addr, ==, 0xfee12004ULL);
    g_assert_cmpuint(sx.inject_data, ==, 0x4031);

    /* Refused before any library call */
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee00010ULL, 0), ==,
                    -EINVAL);                   /* remappable, data 0 */
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee00018ULL, 0x31), ==,
                    -EINVAL);                   /* remappable, SHV */
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee12000ULL, 0x4000), ==,
                    -EINVAL);                   /* vector 0: PIRQ */
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0x100fee12000ULL, 0x31), ==,
                    -EINVAL);                   /* dest 0x112 */
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee120a0ULL, 0x31), ==,
                    -EINVAL);                   /* addr[11:5] */
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0x1fee12000ULL, 0x31), ==,
                    -EINVAL);                   /* addr[39:32] */
    g_assert_cmpuint(sx.inject_calls, ==, 1);
    g_assert_cmpuint(sx.lib_calls, ==, 1);
    st = xen_viommu_hyp_get_stats(h, XEN_VIOMMU_HYP_OP_INJECT_MSI);
    g_assert_cmpuint(st.calls, ==, 7);
    g_assert_cmpuint(st.refused, ==, 6);
    g_assert_cmpuint(st.hypercalls, ==, 1);
    g_assert_cmpuint(st.errors, ==, 0);

    /* With the extended destination ID, dest[14:8] goes to addr[11:5] */
    h->caps.ext_dest_id = true;
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, (0x12ULL << 40) |
                                              0xfee34000ULL, 0x31), ==, 0);
    g_assert_cmpuint(sx.inject_addr, ==, 0xfee34000ULL | (0x12 << 5));
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, (0x80ULL << 40) |
                                              0xfee34000ULL, 0x31), ==,
                    -EINVAL);                   /* dest 0x8034 */
    g_assert_cmpuint(sx.inject_calls, ==, 2);
    native_free(h);
}

/*
 * A message the unit passed on untranslated: Xen's PIRQ encoding (vector
 * 0, the PIRQ in dest and addr[63:40], here PIRQ 0x37 as Linux writes it:
 * delivery mode ExtINT) reaches Xen unchanged; the rest as inject_msi.
 */
static void test_native_inject_untranslated_msi(void)
{
    XenViommuHyp *h = native_new();
    XenViommuHypOpStats st;

    clear_records();
    g_assert_cmpint(xen_viommu_hyp_inject_untranslated_msi(h, 0xfee37000ULL,
                                                           0x700), ==, 0);
    g_assert_cmpuint(sx.inject_calls, ==, 1);
    g_assert_cmpuint(sx.inject_domid, ==, TEST_DOMID);
    g_assert_cmpuint(sx.inject_addr, ==, 0xfee37000ULL);
    g_assert_cmpuint(sx.inject_data, ==, 0x700);
    /* PIRQ 0x1237: the high bits in addr[63:40], as Xen reads them */
    g_assert_cmpint(xen_viommu_hyp_inject_untranslated_msi(
                        h, (0x12ULL << 40) | 0xfee37000ULL, 0x700), ==, 0);
    g_assert_cmpuint(sx.inject_addr, ==, (0x12ULL << 40) | 0xfee37000ULL);
    /* An ordinary message goes through inject_msi's checks */
    g_assert_cmpint(xen_viommu_hyp_inject_untranslated_msi(h, 0xfee12004ULL,
                                                           0x4031), ==, 0);
    g_assert_cmpuint(sx.inject_addr, ==, 0xfee12004ULL);
    g_assert_cmpuint(sx.inject_calls, ==, 3);

    /* Refused: PIRQ 0, remappable with data 0, addr[39:32] with a vector */
    g_assert_cmpint(xen_viommu_hyp_inject_untranslated_msi(h, 0xfee00000ULL,
                                                           0x700), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_inject_untranslated_msi(h, 0xfee00010ULL,
                                                           0), ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_inject_untranslated_msi(h, 0x1fee12000ULL,
                                                           0x31), ==, -EINVAL);
    /* A remapped result is never a PIRQ: vector 0 from an IRTE is refused */
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee37000ULL, 0x700), ==,
                    -EINVAL);
    g_assert_cmpuint(sx.inject_calls, ==, 3);
    st = xen_viommu_hyp_get_stats(h, XEN_VIOMMU_HYP_OP_INJECT_MSI);
    g_assert_cmpuint(st.calls, ==, 7);
    g_assert_cmpuint(st.refused, ==, 4);
    g_assert_cmpuint(st.hypercalls, ==, 3);
    g_assert_cmpuint(st.items, ==, 2);              /* the PIRQs */
    native_free(h);
}

static void test_gflags_pack(void)
{
    uint32_t g, gvec;

    g_assert_true(xen_viommu_hyp_pack_gflags(0xab, true, true, 1, true, true,
                                             &g));
    g_assert_cmpuint(g & XEN_DOMCTL_VMSI_X86_DEST_ID_MASK, ==, 0xab);
    g_assert_cmpuint(g & XEN_DOMCTL_VMSI_X86_RH_MASK, ==,
                     XEN_DOMCTL_VMSI_X86_RH_MASK);
    g_assert_cmpuint(g & XEN_DOMCTL_VMSI_X86_DM_MASK, ==,
                     XEN_DOMCTL_VMSI_X86_DM_MASK);
    g_assert_cmpuint((g & XEN_DOMCTL_VMSI_X86_DELIV_MASK) >>
                     mask_shift(XEN_DOMCTL_VMSI_X86_DELIV_MASK), ==, 1);
    g_assert_cmpuint(g & XEN_DOMCTL_VMSI_X86_TRIG_MASK, ==,
                     XEN_DOMCTL_VMSI_X86_TRIG_MASK);
    g_assert_cmpuint(g & XEN_DOMCTL_VMSI_X86_UNMASKED, ==,
                     XEN_DOMCTL_VMSI_X86_UNMASKED);
    g_assert_cmpuint(g & ~(XEN_DOMCTL_VMSI_X86_DEST_ID_MASK |
                           XEN_DOMCTL_VMSI_X86_RH_MASK |
                           XEN_DOMCTL_VMSI_X86_DM_MASK |
                           XEN_DOMCTL_VMSI_X86_DELIV_MASK |
                           XEN_DOMCTL_VMSI_X86_TRIG_MASK |
                           XEN_DOMCTL_VMSI_X86_UNMASKED), ==, 0);
    g_assert_true(xen_viommu_hyp_pack_gflags(5, false, false, 4, false,
                                             false, &g));
    g_assert_cmpuint(g, ==, 5 | (4 << mask_shift(
                                     XEN_DOMCTL_VMSI_X86_DELIV_MASK)));
    g_assert_false(xen_viommu_hyp_pack_gflags(0x100, false, false, 0, false,
                                              false, &g));
    g_assert_false(xen_viommu_hyp_pack_gflags(1, false, false, 8, false,
                                              false, &g));

    /* From a message: dest 0x42, RH, DM, lowest priority, level, 0x61 */
    g_assert_true(xen_viommu_hyp_msi_to_gflags(0xfee4200cULL, 0xc161, false,
                                               &gvec, &g));
    g_assert_cmpuint(gvec, ==, 0x61);
    g_assert_cmpuint(g, ==, 0x42 | XEN_DOMCTL_VMSI_X86_RH_MASK |
                     XEN_DOMCTL_VMSI_X86_DM_MASK |
                     (1 << mask_shift(XEN_DOMCTL_VMSI_X86_DELIV_MASK)) |
                     XEN_DOMCTL_VMSI_X86_TRIG_MASK);
    g_assert_false(xen_viommu_hyp_msi_to_gflags(0xfee00010ULL, 0x31, false,
                                                &gvec, &g));
    g_assert_false(xen_viommu_hyp_msi_to_gflags(0xfee00000ULL, 0x100, false,
                                                &gvec, &g));
    g_assert_false(xen_viommu_hyp_msi_to_gflags((1ULL << 40) | 0xfee00000ULL,
                                                0x31, false, &gvec, &g));
}

static void test_native_pt_msi(void)
{
    XenViommuHyp *h = native_new();
    uint32_t g;

    g_assert_true(xen_viommu_hyp_pack_gflags(0x10, false, false, 0, false,
                                             true, &g));
    clear_records();
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi(h, 0x55, 77, g, 0xfebf0000ULL),
                    ==, 0);
    g_assert_cmpuint(sx.bind_calls, ==, 1);
    g_assert_cmpuint(sx.msi_domid, ==, TEST_DOMID);
    g_assert_cmpuint(sx.msi_gvec, ==, 0x55);
    g_assert_cmpuint(sx.msi_pirq, ==, 77);
    g_assert_cmpuint(sx.msi_gflags, ==, g);
    g_assert_cmpuint(sx.msi_gtable, ==, 0xfebf0000ULL);
    g_assert_cmpint(xen_viommu_hyp_unbind_pt_msi(h, 0x55, 77, g), ==, 0);
    g_assert_cmpuint(sx.unbind_calls, ==, 1);
    g_assert_cmpuint(sx.msi_pirq, ==, 77);
    g_assert_cmpuint(sx.msi_gflags, ==, g);

    /* Refused: no vector, vector > 255, gflags bits Xen does not have */
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi(h, 0, 77, g, 0), ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi(h, 0x100, 77, g, 0), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi(h, 0x55, 77, 0xfe0000, 0), ==,
                    -EINVAL);
    g_assert_cmpuint(sx.bind_calls, ==, 1);
    g_assert_cmpuint(xen_viommu_hyp_get_stats(
                         h, XEN_VIOMMU_HYP_OP_BIND_PT_MSI).refused, ==, 3);

    /* A failing domctl is reported as -errno and counted */
    sx.msi_errno = EPERM;
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi(h, 0x55, 77, g, 0), ==,
                    -EPERM);
    g_assert_cmpuint(xen_viommu_hyp_get_stats(
                         h, XEN_VIOMMU_HYP_OP_BIND_PT_MSI).errors, ==, 1);
    native_free(h);
}

static void test_native_pt_msi_ext(void)
{
    XenViommuHyp *h = native_new();
    DmOpRec *r;
    const uint8_t *b;

    sx.dm_errno[XEN_VIOMMU_DMOP_BIND_PT_MSI_IRQ] = 0;
    sx.dm_errno[XEN_VIOMMU_DMOP_UNBIND_PT_MSI_IRQ] = 0;
    clear_records();
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi_ext(
                        h, 33, (0x123ULL << 40) | 0xfee45004ULL, 0x8061,
                        XEN_VIOMMU_DMOP_MSI_FLAG_UNMASKED, 0xfe000000ULL),
                    ==, 0);
    g_assert_cmpuint(sx.dm_ops->len, ==, 1);
    r = dm_op(0);
    g_assert_cmpuint(r->op, ==, 41);
    g_assert_cmpuint(r->domid, ==, TEST_DOMID);
    g_assert_cmpuint(r->nr_bufs, ==, 1);
    g_assert_cmpuint(r->size[0], ==, 40);
    b = r->buf[0]->data;
    g_assert_cmpuint(rd32(b), ==, 21);
    g_assert_cmpuint(rd32(b + 8), ==, 33);                 /* irq */
    g_assert_cmpuint(rd32(b + 12), ==, 0x8061);            /* data */
    g_assert_cmpuint(rd32(b + 16), ==, 1);                 /* flags */
    g_assert_cmpuint(rd32(b + 20), ==, 0);                 /* pad */
    g_assert_cmpuint(ldq_le_p(b + 24), ==,
                     (0x123ULL << 40) | 0xfee45004ULL);        /* addr */
    g_assert_cmpuint(ldq_le_p(b + 32), ==, 0xfe000000ULL);     /* gtable */

    g_assert_cmpint(xen_viommu_hyp_unbind_pt_msi_ext(h, 33), ==, 0);
    r = dm_op(1);
    g_assert_cmpuint(r->size[0], >=, 12);
    g_assert_cmpuint(rd32(r->buf[0]->data), ==, 22);
    g_assert_cmpuint(rd32(r->buf[0]->data + 8), ==, 33);

    /* Refused: remappable, vector 0, unknown flags */
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi_ext(h, 33, 0xfee00010ULL,
                                                   0x61, 0, 0), ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi_ext(h, 33, 0xfee00000ULL,
                                                   0x100, 0, 0), ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi_ext(h, 33, 0xfee00000ULL,
                                                   0x61, 2, 0), ==, -EINVAL);
    g_assert_cmpuint(sx.dm_ops->len, ==, 2);

    /* Upstream Xen does not know the DMOP */
    sx.dm_errno[XEN_VIOMMU_DMOP_BIND_PT_MSI_IRQ] = EOPNOTSUPP;
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi_ext(h, 33, 0xfee00000ULL,
                                                   0x61, 0, 0), ==,
                    -EOPNOTSUPP);
    native_free(h);
}

static XenViommuHypIrEntry ir_entry(uint32_t i)
{
    XenViommuHypIrEntry e = {
        .present = true,
        .dest_logical = i & 1,
        .redir_hint = i & 2,
        .level = i & 4,
        .delivery = i % 3 ? 0 : 1,
        .vector = 0x30 + (i & 0x7f),
        .dest = 0x10000 + i,
        .svt = 1,
        .sq = i & 3,
        .sid = 0x0100 + i,
    };

    return e;
}

static void test_native_ir_entries(void)
{
    XenViommuHyp *h = native_new();
    g_autofree XenViommuHypIrEntry *e = g_new0(XenViommuHypIrEntry, 300);
    DmOpRec *r;
    const uint8_t *b, *w;
    uint32_t i;

    for (i = 0; i < 300; i++) {
        e[i] = ir_entry(i);
    }
    e[299].present = false;
    sx.dm_errno[XEN_VIOMMU_DMOP_SET_IR_ENTRIES] = 0;
    clear_records();
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(
                        h, 1000, 300,
                        XEN_VIOMMU_IR_CLEAR | XEN_VIOMMU_IR_ENABLE, 0xf0f8,
                        e), ==, 0);
    g_assert_cmpuint(sx.dm_ops->len, ==, 2);
    for (i = 0; i < 2; i++) {
        uint32_t first = 1000 + i * 256, nr = i ? 44 : 256;
        uint32_t j;

        r = dm_op(i);
        g_assert_cmpuint(r->op, ==, 41);
        g_assert_cmpuint(r->domid, ==, TEST_DOMID);
        g_assert_cmpuint(r->nr_bufs, ==, 2);
        g_assert_cmpuint(r->size[0], ==, 24);
        b = r->buf[0]->data;
        g_assert_cmpuint(rd32(b), ==, 30);
        g_assert_cmpuint(rd32(b + 8), ==, first);
        g_assert_cmpuint(rd32(b + 12), ==, nr);
        /* CLEAR only with the first batch */
        g_assert_cmpuint(rd32(b + 16), ==,
                         i ? XEN_VIOMMU_IR_ENABLE :
                         XEN_VIOMMU_IR_CLEAR | XEN_VIOMMU_IR_ENABLE);
        g_assert_cmpuint(lduw_le_p(b + 20), ==, 0xf0f8);
        g_assert_cmpuint(lduw_le_p(b + 22), ==, 0);
        g_assert_cmpuint(r->size[1], ==, nr * 16);
        for (j = 0; j < nr; j++) {
            XenViommuHypIrEntry x = e[first - 1000 + j];
            uint32_t fl = (x.present ? 1 : 0) | (x.dest_logical ? 2 : 0) |
                          (x.redir_hint ? 4 : 0) | (x.level ? 8 : 0) |
                          (x.svt << 4) | (x.sq << 6);

            w = r->buf[1]->data + j * 16;
            g_assert_cmpuint(rd32(w), ==, x.dest);
            g_assert_cmpuint(w[4], ==, x.vector);
            g_assert_cmpuint(w[5], ==, x.delivery);
            g_assert_cmpuint(lduw_le_p(w + 6), ==, x.sid);
            g_assert_cmpuint(rd32(w + 8), ==, fl);
            g_assert_cmpuint(rd32(w + 12), ==, 0);
        }
    }
    g_assert_cmpuint(xen_viommu_hyp_get_stats(
                         h, XEN_VIOMMU_HYP_OP_SET_IR_ENTRIES).items, ==, 300);

    /* State change only: one buffer */
    clear_records();
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 0, 0,
                                                  XEN_VIOMMU_IR_DISABLE, 0,
                                                  NULL), ==, 0);
    g_assert_cmpuint(dm_op(0)->nr_bufs, ==, 1);

    /* Refused */
    clear_records();
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 0xffff, 2, 0, 0, e), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(
                        h, 0, 1, XEN_VIOMMU_IR_ENABLE | XEN_VIOMMU_IR_DISABLE,
                        0, e), ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 0, 1, 0x100, 0, e), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 0, 1, 0, 0, NULL), ==,
                    -EINVAL);
    g_assert_cmpuint(sx.dm_ops->len, ==, 0);

    /* Errors: the first failing batch ends the operation */
    sx.dm_errno[XEN_VIOMMU_DMOP_SET_IR_ENTRIES] = E2BIG;
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 0, 300, 0, 0, e), ==,
                    -E2BIG);
    g_assert_cmpuint(sx.dm_ops->len, ==, 1);
    native_free(h);
}

/* Native: PV-IOMMU --------------------------------------------------------- */

static XenViommuHyp *native_new_pv(void)
{
    XenViommuHyp *h = native_new();

    sx.iommu_mode = IOMMU_NEW;
    clear_records();
    return h;
}

static const uint8_t *check_remote(unsigned i, unsigned subop, size_t size)
{
    IommuRec *q = iommu_op(i);

    g_assert_cmpuint(q->subop, ==, XEN_VIOMMU_IOMMUOP_REMOTE_CMD);
    g_assert_cmpuint(lduw_le_p(q->cmd), ==, TEST_DOMID);
    g_assert_cmpuint(lduw_le_p(q->cmd + 2), ==, subop);
    g_assert_cmpuint(rd32(q->cmd + 4), ==, 0);
    g_assert_cmpuint(q->arg_alloc, ==, size);
    return q->arg->data;
}

static void test_native_pv_ops(void)
{
    XenViommuHyp *h = native_new_pv();
    XenViommuPvIommuCaps caps;
    const uint8_t *a;
    uint16_t ctx = 0;
    uint32_t done;

    g_assert_cmpint(xen_viommu_hyp_pv_query_caps(h, &caps), ==, 0);
    check_remote(0, XEN_VIOMMU_IOMMUOP_QUERY_CAPABILITIES, 24);
    g_assert_cmpuint(caps.max_ctx_no, ==, 8);

    g_assert_cmpint(xen_viommu_hyp_pv_init(h, 6, 10), ==, 0);
    a = check_remote(1, XEN_VIOMMU_IOMMUOP_INIT, 8);
    g_assert_cmpuint(rd32(a), ==, 6);
    g_assert_cmpuint(rd32(a + 4), ==, 10);

    g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(
                        h, XEN_VIOMMU_IOMMU_ALLOC_IDENTITY, &ctx), ==, 0);
    a = check_remote(2, XEN_VIOMMU_IOMMUOP_ALLOC_CONTEXT, 8);
    g_assert_cmpuint(rd32(a + 4), ==, XEN_VIOMMU_IOMMU_ALLOC_IDENTITY);
    g_assert_cmpuint(ctx, ==, 5);

    g_assert_cmpint(xen_viommu_hyp_pv_reattach_device(
                        h, 5, XEN_VIOMMU_SBDF(1, 0x3a, 0x11)), ==, 0);
    a = check_remote(3, XEN_VIOMMU_IOMMUOP_REATTACH_DEVICE, 12);
    g_assert_cmpuint(lduw_le_p(a), ==, 5);
    g_assert_cmpuint(lduw_le_p(a + 2), ==, 1);                 /* seg */
    g_assert_cmpuint(a[4], ==, 0x3a);                          /* bus */
    g_assert_cmpuint(a[5], ==, 0x11);                          /* devfn */
    g_assert_cmpuint(rd32(a + 8), ==, 0);                  /* pasid */

    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(
                        h, 5, 0x1234, 0x80000, 3,
                        XEN_VIOMMU_IOMMU_MAP_READABLE |
                        XEN_VIOMMU_IOMMU_MAP_WRITEABLE, &done), ==, 0);
    g_assert_cmpuint(done, ==, 3);
    a = check_remote(4, XEN_VIOMMU_IOMMUOP_MAP_PAGES, 40);
    g_assert_cmpuint(lduw_le_p(a), ==, 5);
    g_assert_cmpuint(ldq_le_p(a + 8), ==, 0x1234);             /* gfn */
    g_assert_cmpuint(ldq_le_p(a + 16), ==, 0x80000);           /* dfn */
    g_assert_cmpuint(rd32(a + 24), ==, 3);                 /* flags */
    g_assert_cmpuint(rd32(a + 28), ==, 4096);              /* pgsize */
    g_assert_cmpuint(rd32(a + 32), ==, 3);                 /* nr */

    g_assert_cmpint(xen_viommu_hyp_pv_unmap_pages(h, 5, 0x80000, 3, &done),
                    ==, 0);
    g_assert_cmpuint(done, ==, 3);
    a = check_remote(5, XEN_VIOMMU_IOMMUOP_UNMAP_PAGES, 32);
    g_assert_cmpuint(lduw_le_p(a), ==, 5);
    g_assert_cmpuint(ldq_le_p(a + 8), ==, 0x80000);
    g_assert_cmpuint(rd32(a + 16), ==, 4096);
    g_assert_cmpuint(rd32(a + 20), ==, 3);

    g_assert_cmpint(xen_viommu_hyp_pv_free_context(
                        h, 5, XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT), ==, 0);
    a = check_remote(6, XEN_VIOMMU_IOMMUOP_FREE_CONTEXT, 8);
    g_assert_cmpuint(lduw_le_p(a), ==, 5);
    g_assert_cmpuint(rd32(a + 4), ==,
                     XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT);

    /* Upstream: every sub-op fails with -ENOSYS */
    sx.iommu_mode = IOMMU_UPSTREAM;
    g_assert_cmpint(xen_viommu_hyp_pv_init(h, 1, 1), ==, -ENOSYS);
    native_free(h);
}

/* A batch: one multicall of remote commands, a preempted entry continued */
static void test_native_pv_batch(void)
{
    XenViommuHyp *h = native_new_pv();
    XenViommuPvPageOp ops[3] = {
        { .unmap = true, .dfn = 0x700, .nr_pages = 2 },
        { .gfn = 0x1234, .dfn = 0x800, .nr_pages = 3,
          .map_flags = XEN_VIOMMU_IOMMU_MAP_READABLE },
        { .gfn = 0x5000, .dfn = 0x900, .nr_pages = 300,
          .map_flags = XEN_VIOMMU_IOMMU_MAP_WRITEABLE },
    };
    XenViommuHypOpStats st;
    const uint8_t *a;

    sx.pv_chunk = 256;
    sx.multicalls = 0;
    g_assert_cmpint(xen_viommu_hyp_pv_batch(h, 5, ops, 3), ==, 0);
    g_assert_cmpuint(sx.multicalls, ==, 1);
    /* Three entries, then the third continued on its own after 256 pages */
    g_assert_cmpuint(sx.iommu_ops->len, ==, 4);
    a = check_remote(0, XEN_VIOMMU_IOMMUOP_UNMAP_PAGES, 40);
    g_assert_cmpuint(lduw_le_p(a), ==, 5);
    g_assert_cmpuint(ldq_le_p(a + 8), ==, 0x700);
    g_assert_cmpuint(rd32(a + 16), ==, 4096);
    g_assert_cmpuint(rd32(a + 20), ==, 2);
    a = check_remote(1, XEN_VIOMMU_IOMMUOP_MAP_PAGES, 40);
    g_assert_cmpuint(lduw_le_p(a), ==, 5);
    g_assert_cmpuint(ldq_le_p(a + 8), ==, 0x1234);
    g_assert_cmpuint(ldq_le_p(a + 16), ==, 0x800);
    g_assert_cmpuint(rd32(a + 24), ==, XEN_VIOMMU_IOMMU_MAP_READABLE);
    g_assert_cmpuint(rd32(a + 28), ==, 4096);
    g_assert_cmpuint(rd32(a + 32), ==, 3);
    a = check_remote(3, XEN_VIOMMU_IOMMUOP_MAP_PAGES, 40);
    g_assert_cmpuint(ldq_le_p(a + 8), ==, 0x5000 + 256);
    g_assert_cmpuint(ldq_le_p(a + 16), ==, 0x900 + 256);
    g_assert_cmpuint(rd32(a + 32), ==, 300 - 256);
    g_assert_cmpuint(ops[0].done, ==, 2);
    g_assert_cmpuint(ops[1].done, ==, 3);
    g_assert_cmpuint(ops[2].done, ==, 300);
    st = xen_viommu_hyp_get_stats(h, XEN_VIOMMU_HYP_OP_PV_MULTICALL);
    g_assert_cmpuint(st.calls, ==, 1);
    g_assert_cmpuint(st.hypercalls, ==, 1);
    st = xen_viommu_hyp_get_stats(h, XEN_VIOMMU_HYP_OP_PV_MAP_PAGES);
    g_assert_cmpuint(st.items, ==, 303);
    g_assert_cmpuint(st.hypercalls, ==, 1);

    /* A failing entry fails alone */
    clear_records();
    sx.pv_fail_call = 2;
    sx.pv_fail_after = 1;
    sx.pv_fail_errno = ENOMEM;
    ops[2].nr_pages = 3;
    g_assert_cmpint(xen_viommu_hyp_pv_batch(h, 5, ops, 3), ==, -ENOMEM);
    g_assert_cmpint(ops[0].ret, ==, 0);
    g_assert_cmpint(ops[1].ret, ==, -ENOMEM);
    g_assert_cmpuint(ops[1].done, ==, 1);
    g_assert_cmpint(ops[2].ret, ==, 0);
    g_assert_cmpuint(ops[2].done, ==, 3);
    native_free(h);
}

static void test_native_pv_restart(void)
{
    XenViommuHyp *h = native_new_pv();
    XenViommuHypOpStats st;
    uint32_t done, i;

    /* 600 pages, 256 per invocation: continued twice */
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(
                        h, 2, 0x100, 0x9000, 600,
                        XEN_VIOMMU_IOMMU_MAP_READABLE, &done), ==, 0);
    g_assert_cmpuint(done, ==, 600);
    g_assert_cmpuint(sx.iommu_ops->len, ==, 3);
    for (i = 0; i < 3; i++) {
        const uint8_t *a = check_remote(i, XEN_VIOMMU_IOMMUOP_MAP_PAGES, 40);

        g_assert_cmpuint(ldq_le_p(a + 8), ==, 0x100 + i * 256);
        g_assert_cmpuint(ldq_le_p(a + 16), ==, 0x9000 + i * 256);
        g_assert_cmpuint(rd32(a + 32), ==, 600 - i * 256);
    }
    st = xen_viommu_hyp_get_stats(h, XEN_VIOMMU_HYP_OP_PV_MAP_PAGES);
    g_assert_cmpuint(st.calls, ==, 1);
    g_assert_cmpuint(st.hypercalls, ==, 3);
    g_assert_cmpuint(st.items, ==, 600);
    g_assert_cmpuint(st.errors, ==, 0);

    /* Unmap continues the same way */
    clear_records();
    sx.pv_chunk = 100;
    g_assert_cmpint(xen_viommu_hyp_pv_unmap_pages(h, 2, 0x9000, 250, &done),
                    ==, 0);
    g_assert_cmpuint(done, ==, 250);
    g_assert_cmpuint(sx.iommu_ops->len, ==, 3);
    g_assert_cmpuint(ldq_le_p(iommu_op(2)->arg->data + 8), ==, 0x9000 + 200);
    g_assert_cmpuint(rd32(iommu_op(2)->arg->data + 20), ==, 50);

    /* Failure in the second invocation, after 10 more pages */
    clear_records();
    sx.pv_chunk = 256;
    sx.pv_fail_call = 2;
    sx.pv_fail_after = 10;
    sx.pv_fail_errno = EEXIST;
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(
                        h, 2, 0x100, 0x9000, 600,
                        XEN_VIOMMU_IOMMU_MAP_READABLE, &done), ==, -EEXIST);
    g_assert_cmpuint(done, ==, 266);
    g_assert_cmpuint(sx.iommu_ops->len, ==, 2);

    /* A hypervisor that never makes progress: bounded */
    clear_records();
    sx.pv_fail_call = 0;
    sx.pv_stall = true;
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(
                        h, 2, 0x100, 0x9000, 600,
                        XEN_VIOMMU_IOMMU_MAP_READABLE, &done), ==, -EIO);
    g_assert_cmpuint(done, ==, 0);
    g_assert_cmpuint(sx.iommu_ops->len, ==,
                     XEN_VIOMMU_HYP_MAX_STALLED_RESTARTS);
    native_free(h);
}

/* Double ------------------------------------------------------------------- */

typedef struct Delivery {
    unsigned count;
    uint64_t addr;
    uint32_t data;
} Delivery;

static void deliver_cb(void *opaque, uint64_t addr, uint32_t data)
{
    Delivery *d = opaque;

    d->count++;
    d->addr = addr;
    d->data = data;
}

static uint32_t dlv_dest(const Delivery *d)
{
    return ((d->addr >> 12) & 0xff) | (uint32_t)((d->addr >> 40) << 8);
}

static const uint32_t test_sbdfs[] = {
    XEN_VIOMMU_SBDF(0, 0x03, 0x00), XEN_VIOMMU_SBDF(0, 0x04, 0x08),
};

static XenViommuHyp *double_new(bool all, Delivery *dl)
{
    XenViommuHypDoubleConfig cfg = {
        .ext_dest_id = all,
        .pt_msi_bind_ext = all,
        .ir_entries = all,
        .pv_iommu = all,
        .pv_max_ctx = 4,
        .pv_pool_pages = 1024,
        .ram_size = 64 * MiB,
        .sbdfs = test_sbdfs,
        .nr_sbdfs = ARRAY_SIZE(test_sbdfs),
    };
    XenViommuHyp *h = xen_viommu_hyp_new_double(&cfg);

    memset(dl, 0, sizeof(*dl));
    xen_viommu_hyp_set_deliver(h, deliver_cb, dl);
    return h;
}

static void test_double_probe(void)
{
    Delivery dl;
    XenViommuHyp *h = double_new(false, &dl);
    const XenViommuHypCaps *c = xen_viommu_hyp_caps(h);

    g_assert_cmpstr(xen_viommu_hyp_backend_name(h), ==, "double");
    g_assert_true(c->inject_msi && c->pt_msi_bind);
    g_assert_false(c->ext_dest_id || c->pt_msi_bind_ext || c->ir_entries ||
                   c->pv_iommu);
    xen_viommu_hyp_free(h);

    h = double_new(true, &dl);
    c = xen_viommu_hyp_caps(h);
    g_assert_true(c->ext_dest_id && c->pt_msi_bind_ext && c->ir_entries &&
                  c->pv_iommu);
    g_assert_cmpuint(c->pv.max_ctx_no, ==, 4);
    g_assert_cmpuint(c->pv.pgsize_mask, ==, 4096);
    xen_viommu_hyp_free(h);
}

static void test_double_inject_msi(void)
{
    Delivery dl;
    XenViommuHyp *h = double_new(false, &dl);
    XenViommuHypDoubleStats ds;

    /* dest 0x21, logical, lowest priority, level, vector 0x45 */
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee21004ULL, 0xc145), ==,
                    0);
    g_assert_cmpuint(dl.count, ==, 1);
    g_assert_cmpuint(dlv_dest(&dl), ==, 0x21);
    g_assert_cmpuint(dl.addr & 4, ==, 4);
    g_assert_cmpuint(dl.data & 0xff, ==, 0x45);
    g_assert_cmpuint((dl.data >> 8) & 7, ==, 1);
    g_assert_cmpuint(dl.data & 0x8000, ==, 0x8000);

    /*
     * What Xen does with messages the wrapper refuses: addr_hi and the
     * remappable bit are ignored (misdelivery), vector 0 is a PIRQ.
     */
    g_assert_cmpint(h->ops->inject_msi(h, (0x1ULL << 40) | 0xfee05000ULL,
                                       0x31), ==, 0);
    g_assert_cmpuint(dlv_dest(&dl), ==, 0x05);      /* not 0x105 */
    g_assert_cmpint(h->ops->inject_msi(h, 0xfee00010ULL | (3 << 5), 0x31),
                    ==, 0);
    g_assert_cmpuint(dlv_dest(&dl), ==, 0);         /* handle taken as dest */
    g_assert_cmpint(h->ops->inject_msi(h, 0xfee05000ULL, 0), ==, 0);
    g_assert_cmpuint(dl.count, ==, 3);      /* an event, not an interrupt */
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.msi_pirq, ==, 1);
    g_assert_cmpuint(ds.msi_delivered, ==, 3);
    /* Xen's PIRQ path: PIRQ 0 is out of range, addr[63:40] are PIRQ bits */
    g_assert_cmpint(h->ops->inject_msi(h, 0xfee00000ULL, 0x700), ==,
                    -ERANGE);
    g_assert_cmpint(h->ops->inject_msi(h, (0x1ULL << 40) | 0xfee00000ULL,
                                       0x700), ==, 0);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.msi_pirq, ==, 2);

    /* The wrapper keeps all of that away */
    dl.count = 0;
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, (0x1ULL << 40) |
                                              0xfee05000ULL, 0x31), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee00010ULL, 0), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, 0xfee05000ULL, 0), ==,
                    -EINVAL);
    g_assert_cmpuint(dl.count, ==, 0);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.msi_pirq, ==, 2);
    /* ... unless the message is the guest's own PIRQ, passed on */
    g_assert_cmpint(xen_viommu_hyp_inject_untranslated_msi(h, 0xfee05000ULL,
                                                           0x700), ==, 0);
    g_assert_cmpuint(dl.count, ==, 0);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.msi_pirq, ==, 3);
    xen_viommu_hyp_free(h);

    /* With the extended destination ID a 15-bit destination arrives */
    h = double_new(true, &dl);
    g_assert_cmpint(xen_viommu_hyp_inject_msi(h, (0x7fULL << 40) |
                                              0xfeeab000ULL, 0x31), ==, 0);
    g_assert_cmpuint(dl.count, ==, 1);
    g_assert_cmpuint(dlv_dest(&dl), ==, 0x7fab);
    xen_viommu_hyp_free(h);
}

static void test_double_pt_msi(void)
{
    Delivery dl;
    XenViommuHyp *h = double_new(false, &dl);
    XenViommuHypDoubleStats ds;
    uint32_t g, g2;

    g_assert_true(xen_viommu_hyp_pack_gflags(0x42, false, true, 0, true,
                                             false, &g));
    g_assert_cmpint(xen_viommu_hyp_double_fire_pirq(h, 40), ==, -ENOENT);
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi(h, 0x66, 40, g, 0), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_double_fire_pirq(h, 40), ==, 0);
    g_assert_cmpuint(dl.count, ==, 1);
    g_assert_cmpuint(dlv_dest(&dl), ==, 0x42);
    g_assert_cmpuint(dl.addr & 4, ==, 4);
    g_assert_cmpuint(dl.data & 0xff, ==, 0x66);
    g_assert_cmpuint(dl.data & 0x8000, ==, 0x8000);

    /* Rebinding updates */
    g_assert_true(xen_viommu_hyp_pack_gflags(0x07, false, false, 0, false,
                                             false, &g2));
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi(h, 0x67, 40, g2, 0), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_double_fire_pirq(h, 40), ==, 0);
    g_assert_cmpuint(dlv_dest(&dl), ==, 0x07);
    g_assert_cmpuint(dl.data & 0xff, ==, 0x67);
    /* Xen holds pirq 40 for the passthrough device: no emulated MSI PIRQ */
    g_assert_cmpint(h->ops->inject_msi(h, 0xfee28000ULL, 0x700), ==, -EINVAL);

    /* Unbind must name the binding: gvec and gflags (unmasked aside) */
    g_assert_cmpint(xen_viommu_hyp_unbind_pt_msi(h, 0x66, 40, g2), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_unbind_pt_msi(h, 0x67, 40, g), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_unbind_pt_msi(h, 0x67, 41, g2), ==,
                    -EINVAL);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.pt_bound, ==, 1);
    g_assert_cmpint(xen_viommu_hyp_unbind_pt_msi(
                        h, 0x67, 40, g2 | XEN_VIOMMU_GFLAGS_UNMASKED), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_double_fire_pirq(h, 40), ==, -ENOENT);
    g_assert_cmpuint(xen_viommu_hyp_get_stats(
                         h, XEN_VIOMMU_HYP_OP_UNBIND_PT_MSI).errors, ==, 3);

    /* The proposed DMOPs are absent unless configured */
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi_ext(h, 41, 0xfee00000ULL,
                                                   0x31, 0, 0), ==,
                    -EOPNOTSUPP);
    xen_viommu_hyp_free(h);

    /* ... and carry 32-bit destinations when they are */
    h = double_new(true, &dl);
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi_ext(
                        h, 41, (0x1234ULL << 40) | 0xfee56000ULL, 0x31, 0, 0),
                    ==, 0);
    g_assert_cmpint(xen_viommu_hyp_bind_pt_msi(h, 0x31, 41, 0, 0), ==,
                    -EBUSY);
    g_assert_cmpint(xen_viommu_hyp_double_fire_pirq(h, 41), ==, 0);
    g_assert_cmpuint(dlv_dest(&dl), ==, 0x123456);
    g_assert_cmpint(xen_viommu_hyp_unbind_pt_msi_ext(h, 41), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_unbind_pt_msi_ext(h, 41), ==, -ENOENT);
    g_assert_cmpint(xen_viommu_hyp_double_fire_pirq(h, 41), ==, -ENOENT);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.pirq_delivered, ==, 1);
    xen_viommu_hyp_free(h);
}

/* Remappable-format request for @handle, as an IO-APIC RTE produces it */
static uint64_t rmp_addr(uint32_t handle)
{
    return 0xfee00000ULL | (1 << 4) | ((uint64_t)(handle & 0x7fff) << 5) |
           ((uint64_t)((handle >> 15) & 1) << 2);
}

static void test_double_ir_entries(void)
{
    Delivery dl;
    XenViommuHyp *h = double_new(false, &dl);
    XenViommuHypIrEntry e[4] = { 0 };
    g_autofree XenViommuHypIrEntry *many = NULL;
    XenViommuHypDoubleStats ds;
    const uint16_t ioapic_sid = 0xf0f8;
    uint32_t i;

    /* Absent unless configured */
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 0, 0, 0, 0, NULL), ==,
                    -EOPNOTSUPP);
    xen_viommu_hyp_free(h);

    h = double_new(true, &dl);
    e[0] = (XenViommuHypIrEntry) {
        .present = true, .vector = 0x51, .dest = 0x10203, .level = true,
        .dest_logical = true, .svt = 1, .sq = 0, .sid = ioapic_sid,
    };
    e[1] = (XenViommuHypIrEntry) {
        .present = true, .vector = 0x52, .dest = 3, .svt = 1,
        .sid = 0x0018,                       /* someone else's */
    };
    e[2] = (XenViommuHypIrEntry) {
        .present = true, .vector = 0x53, .dest = 4, .delivery = 4,
        .svt = 2, .sid = 0xe0f0,             /* buses e0..f0 */
    };
    /* e[3] not present */

    /* Not enabled yet: remappable requests are dropped */
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(0), 0), ==,
                    -ENODEV);
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(
                        h, 10, 4, XEN_VIOMMU_IR_ENABLE, ioapic_sid, e), ==,
                    0);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_true(ds.ir_enabled);
    g_assert_cmpuint(ds.ir_present, ==, 3);
    g_assert_cmpuint(ds.ir_ioapic_sid, ==, ioapic_sid);

    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(10), 0), ==,
                    0);
    g_assert_cmpuint(dl.count, ==, 1);
    g_assert_cmpuint(dlv_dest(&dl), ==, 0x10203);
    g_assert_cmpuint(dl.addr & 4, ==, 4);
    g_assert_cmpuint(dl.data & 0xff, ==, 0x51);
    g_assert_cmpuint(dl.data & 0x8000, ==, 0x8000);
    /* Source-id check against the IO-APIC's SID */
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(11), 0), ==,
                    -EPERM);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(12), 0), ==,
                    0);
    g_assert_cmpuint(dlv_dest(&dl), ==, 4);
    g_assert_cmpuint((dl.data >> 8) & 7, ==, 4);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(13), 0), ==,
                    -ENOENT);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(14), 0), ==,
                    -ENOENT);
    /* Subhandle: handle 8 + 2 with SHV */
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(8) | 8, 2),
                    ==, 0);
    g_assert_cmpuint(dl.data & 0xff, ==, 0x51);
    /* handle[15] in addr bit 2 */
    e[0].vector = 0x77;
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 0x8001, 1, 0, 0, e), ==,
                    0);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(0x8001), 0),
                    ==, 0);
    g_assert_cmpuint(dl.data & 0xff, ==, 0x77);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(1), 0), ==,
                    -ENOENT);

    /* Compatibility format: delivered as today unless blocked */
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, 0xfee02000ULL, 0x33),
                    ==, 0);
    g_assert_cmpuint(dlv_dest(&dl), ==, 2);
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(
                        h, 0, 0, XEN_VIOMMU_IR_ENABLE |
                        XEN_VIOMMU_IR_BLOCK_COMPAT, ioapic_sid, NULL), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, 0xfee02000ULL, 0x33),
                    ==, -EPERM);

    /* A bad entry rejects the whole batch */
    e[1].delivery = 3;
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 100, 2, 0, 0, e), ==,
                    -EINVAL);
    e[1].delivery = 0;
    e[1].svt = 3;
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(h, 100, 2, 0, 0, e), ==,
                    -EINVAL);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.ir_present, ==, 4);

    /* The op limits batches; the wrapper splits */
    many = g_new0(XenViommuHypIrEntry, 1000);
    for (i = 0; i < 1000; i++) {
        many[i] = ir_entry(i);
        many[i].svt = 0;
    }
    g_assert_cmpint(h->ops->set_ir_entries(h, 0, 257, 0, 0, many), ==,
                    -E2BIG);
    xen_viommu_hyp_reset_stats(h);
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(
                        h, 2000, 1000, XEN_VIOMMU_IR_CLEAR, 0, many), ==, 0);
    g_assert_cmpuint(xen_viommu_hyp_get_stats(
                         h, XEN_VIOMMU_HYP_OP_SET_IR_ENTRIES).hypercalls, ==,
                     4);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.ir_present, ==, 1000);  /* cleared first */
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(2999), 0),
                    ==, 0);
    g_assert_cmpuint(dlv_dest(&dl), ==, many[999].dest);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(10), 0), ==,
                    -ENOENT);

    /* Disable: cleared, back to today's behaviour */
    g_assert_cmpint(xen_viommu_hyp_set_ir_entries(
                        h, 0, 0, XEN_VIOMMU_IR_DISABLE, 0, NULL), ==, 0);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_false(ds.ir_enabled);
    g_assert_cmpuint(ds.ir_present, ==, 0);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, rmp_addr(2999), 0),
                    ==, -ENODEV);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, 0xfee02000ULL, 0x33),
                    ==, 0);
    xen_viommu_hyp_free(h);
}

static void test_double_pv_absent(void)
{
    Delivery dl;
    XenViommuHyp *h = double_new(false, &dl);
    uint64_t gfn;
    uint16_t ctx;

    g_assert_cmpint(xen_viommu_hyp_pv_init(h, 1, 4), ==, -ENOSYS);
    g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(h, 0, &ctx), ==,
                    -ENOSYS);
    /* Passthrough DMA then goes through the default context, 1:1 */
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[0], 0x123,
                                                    &gfn), ==, 0);
    g_assert_cmpuint(gfn, ==, 0x123);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[0],
                                                    64 * MiB >> 12, &gfn),
                    ==, -EFAULT);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, 0x999, 0, &gfn), ==,
                    -ENODEV);
    xen_viommu_hyp_free(h);
}

static void test_double_pv_contexts(void)
{
    Delivery dl;
    XenViommuHyp *h = double_new(true, &dl);
    XenViommuHypDoubleStats ds;
    uint16_t ctx[5];
    uint64_t gfn;
    unsigned i;

    g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(h, 0, &ctx[0]), ==,
                    -EINVAL);                   /* before init */
    g_assert_cmpint(xen_viommu_hyp_pv_init(h, 5, 10), ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_pv_init(h, 3, 10), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_pv_init(h, 3, 10), ==, -EEXIST);
    for (i = 0; i < 3; i++) {
        g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(h, 0, &ctx[i]), ==,
                        0);
        g_assert_cmpuint(ctx[i], ==, i + 1);
    }
    g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(h, 0, &ctx[3]), ==,
                    -ENOSPC);
    g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(h, 0x80, &ctx[3]), ==,
                    -EINVAL);

    /* The default context is not ours to free or change */
    g_assert_cmpint(xen_viommu_hyp_pv_free_context(h, 0, 0), ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(h, 0, 1, 1, 1, 1, NULL), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_pv_free_context(h, 4, 0), ==, -ENOENT);

    /* Reattach: only assigned devices, only allocated contexts */
    g_assert_cmpint(xen_viommu_hyp_pv_reattach_device(h, ctx[0], 0x0500),
                    ==, -ENODEV);
    g_assert_cmpint(xen_viommu_hyp_pv_reattach_device(h, 4, test_sbdfs[0]),
                    ==, -ENOENT);
    g_assert_cmpint(h->ops->pv_reattach_device(h, ctx[0], test_sbdfs[0], 1),
                    ==, -EOPNOTSUPP);
    g_assert_cmpint(xen_viommu_hyp_pv_reattach_device(h, ctx[0],
                                                      test_sbdfs[0]), ==, 0);

    /* An attached device sees only its context's mappings */
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[0], 0x10,
                                                    &gfn), ==, -EFAULT);
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(h, ctx[0], 0x200, 0x10, 2,
                                                XEN_VIOMMU_IOMMU_MAP_READABLE,
                                                NULL), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[0], 0x11,
                                                    &gfn), ==, 0);
    g_assert_cmpuint(gfn, ==, 0x201);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[1], 0x11,
                                                    &gfn), ==, 0);
    g_assert_cmpuint(gfn, ==, 0x11);            /* default: 1:1 */

    /* Busy while a device is attached, unless reattached to default */
    g_assert_cmpint(xen_viommu_hyp_pv_free_context(h, ctx[0], 0), ==,
                    -EBUSY);
    g_assert_cmpint(xen_viommu_hyp_pv_free_context(h, ctx[0], 2), ==,
                    -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_pv_free_context(
                        h, ctx[0], XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT),
                    ==, 0);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[0], 0x11,
                                                    &gfn), ==, 0);
    g_assert_cmpuint(gfn, ==, 0x11);

    /* Identity context: 1:1 and not modifiable */
    g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(
                        h, XEN_VIOMMU_IOMMU_ALLOC_IDENTITY, &ctx[3]), ==, 0);
    g_assert_cmpuint(ctx[3], ==, ctx[0]);       /* slot reused */
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(h, ctx[3], 1, 1, 1, 1, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_pv_reattach_device(h, ctx[3],
                                                      test_sbdfs[1]), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[1], 0x42,
                                                    &gfn), ==, 0);
    g_assert_cmpuint(gfn, ==, 0x42);

    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.pv_contexts, ==, 3);
    g_assert_cmpuint(ds.pv_attached, ==, 1);
    g_assert_cmpuint(ds.pv_mappings, ==, 0);

    /* What a guest reset does: free everything, nothing may remain */
    for (i = 1; i <= 3; i++) {
        g_assert_cmpint(xen_viommu_hyp_pv_free_context(
                            h, i, XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT), ==,
                        0);
    }
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.pv_contexts, ==, 0);
    g_assert_cmpuint(ds.pv_attached, ==, 0);
    g_assert_cmpuint(ds.pv_mappings, ==, 0);
    xen_viommu_hyp_free(h);
}

static void test_double_pv_map(void)
{
    Delivery dl;
    XenViommuHyp *h = double_new(true, &dl);
    const uint64_t ram_pages = 64 * MiB >> 12;
    XenViommuPvMapPages m;
    XenViommuPvUnmapPages u;
    XenViommuHypDoubleStats ds;
    XenViommuHypOpStats st;
    uint32_t done;
    uint16_t ctx;
    uint64_t gfn;

    g_assert_cmpint(xen_viommu_hyp_pv_init(h, 2, 10), ==, 0);  /* 1024 */
    g_assert_cmpint(xen_viommu_hyp_pv_alloc_context(h, 0, &ctx), ==, 0);
    g_assert_cmpint(xen_viommu_hyp_pv_reattach_device(h, ctx, test_sbdfs[1]),
                    ==, 0);

    /* One invocation stops after 256 pages with the fields advanced */
    m = (XenViommuPvMapPages) {
        .ctx_no = ctx, .gfn = 0x1000, .dfn = 0x50000, .pgsize = 4096,
        .nr_pages = 600, .map_flags = XEN_VIOMMU_IOMMU_MAP_READABLE,
    };
    g_assert_cmpint(h->ops->pv_map_pages(h, &m), ==, -XEN_VIOMMU_ERESTART);
    g_assert_cmpuint(m.mapped, ==, 256);
    g_assert_cmpuint(m.gfn, ==, 0x1000 + 256);
    g_assert_cmpuint(m.dfn, ==, 0x50000 + 256);
    g_assert_cmpuint(m.nr_pages, ==, 600 - 256);
    u = (XenViommuPvUnmapPages) {
        .ctx_no = ctx, .dfn = 0x50000, .pgsize = 4096, .nr_pages = 256,
    };
    g_assert_cmpint(h->ops->pv_unmap_pages(h, &u), ==, 0);
    g_assert_cmpuint(u.unmapped, ==, 256);

    /* The wrapper continues until done */
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(
                        h, ctx, 0x1000, 0x50000, 600,
                        XEN_VIOMMU_IOMMU_MAP_READABLE, &done), ==, 0);
    g_assert_cmpuint(done, ==, 600);
    st = xen_viommu_hyp_get_stats(h, XEN_VIOMMU_HYP_OP_PV_MAP_PAGES);
    g_assert_cmpuint(st.hypercalls, ==, 3);
    g_assert_cmpuint(st.items, ==, 600);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[1],
                                                    0x50000 + 599, &gfn), ==,
                    0);
    g_assert_cmpuint(gfn, ==, 0x1000 + 599);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, test_sbdfs[1],
                                                    0x50000 + 600, &gfn), ==,
                    -EFAULT);

    /* Over an existing dfn: refused, the pages before it stay mapped */
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(
                        h, ctx, 0x3000, 0x50000 - 5, 10,
                        XEN_VIOMMU_IOMMU_MAP_READABLE, &done), ==, -EEXIST);
    g_assert_cmpuint(done, ==, 5);
    /* Not the guest's memory */
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(
                        h, ctx, ram_pages - 1, 0x90000, 2,
                        XEN_VIOMMU_IOMMU_MAP_READABLE, &done), ==, -EPERM);
    g_assert_cmpuint(done, ==, 1);
    /* 4 KiB pages only, known flags only */
    m.pgsize = 2 * MiB;
    m.nr_pages = 1;
    g_assert_cmpint(h->ops->pv_map_pages(h, &m), ==, -EINVAL);
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(h, ctx, 1, 0xa0000, 1, 0x8,
                                                &done), ==, -EINVAL);
    /* The page pool (1024) runs out: 606 used */
    g_assert_cmpint(xen_viommu_hyp_pv_map_pages(
                        h, ctx, 0x2000, 0xb0000, 500,
                        XEN_VIOMMU_IOMMU_MAP_READABLE, &done), ==, -ENOMEM);
    g_assert_cmpuint(done, ==, 1024 - 606);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.pv_mappings, ==, 1024);

    /* Unmap: continues too; an unmapped dfn stops it */
    g_assert_cmpint(xen_viommu_hyp_pv_unmap_pages(h, ctx, 0x50000, 600,
                                                  &done), ==, 0);
    g_assert_cmpuint(done, ==, 600);
    g_assert_cmpint(xen_viommu_hyp_pv_unmap_pages(h, ctx, 0x50000, 1, &done),
                    ==, -ENOENT);
    g_assert_cmpuint(done, ==, 0);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.pv_mappings, ==, 1024 - 600);

    /* Freeing the context returns its pages */
    g_assert_cmpint(xen_viommu_hyp_pv_free_context(
                        h, ctx, XEN_VIOMMU_IOMMU_FREE_REATTACH_DEFAULT), ==, 0);
    xen_viommu_hyp_double_get_stats(h, &ds);
    g_assert_cmpuint(ds.pv_mappings, ==, 0);
    g_assert_cmpuint(ds.pv_contexts, ==, 0);
    xen_viommu_hyp_free(h);
}

static void test_double_only_on_double(void)
{
    XenViommuHyp *h = native_new();
    XenViommuHypDoubleStats ds;
    uint64_t gfn;

    g_assert_cmpstr(xen_viommu_hyp_backend_name(h), ==, "native");
    g_assert_cmpint(xen_viommu_hyp_double_fire_pirq(h, 1), ==, -ENOTSUP);
    g_assert_cmpint(xen_viommu_hyp_double_ioapic_msi(h, 0, 0), ==, -ENOTSUP);
    g_assert_cmpint(xen_viommu_hyp_double_translate(h, 0, 0, &gfn), ==,
                    -ENOTSUP);
    g_assert_cmpint(xen_viommu_hyp_double_get_stats(h, &ds), ==, -ENOTSUP);
    g_assert_cmpstr(xen_viommu_hyp_op_name(XEN_VIOMMU_HYP_OP_PV_MAP_PAGES),
                    ==, "pv_map_pages");
    g_assert_cmpuint(xen_viommu_hyp_get_stats(h, XEN_VIOMMU_HYP_OP__MAX).calls,
                     ==, 0);
    native_free(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xen-viommu-hyp/native/header-constants",
                    test_header_constants);
    g_test_add_func("/xen-viommu-hyp/native/open-fail", test_native_open_fail);
    g_test_add_func("/xen-viommu-hyp/native/probe-upstream",
                    test_native_probe_upstream);
    g_test_add_func("/xen-viommu-hyp/native/probe-old-abi",
                    test_native_probe_old_abi);
    g_test_add_func("/xen-viommu-hyp/native/probe-new",
                    test_native_probe_new);
    g_test_add_func("/xen-viommu-hyp/native/pv-caps-sane", test_pv_caps_sane);
    g_test_add_func("/xen-viommu-hyp/native/inject-msi",
                    test_native_inject_msi);
    g_test_add_func("/xen-viommu-hyp/native/inject-untranslated-msi",
                    test_native_inject_untranslated_msi);
    g_test_add_func("/xen-viommu-hyp/native/gflags", test_gflags_pack);
    g_test_add_func("/xen-viommu-hyp/native/pt-msi", test_native_pt_msi);
    g_test_add_func("/xen-viommu-hyp/native/pt-msi-ext",
                    test_native_pt_msi_ext);
    g_test_add_func("/xen-viommu-hyp/native/ir-entries",
                    test_native_ir_entries);
    g_test_add_func("/xen-viommu-hyp/native/pv-ops", test_native_pv_ops);
    g_test_add_func("/xen-viommu-hyp/native/pv-batch", test_native_pv_batch);
    g_test_add_func("/xen-viommu-hyp/native/pv-restart",
                    test_native_pv_restart);
    g_test_add_func("/xen-viommu-hyp/native/double-only",
                    test_double_only_on_double);
    g_test_add_func("/xen-viommu-hyp/double/probe", test_double_probe);
    g_test_add_func("/xen-viommu-hyp/double/inject-msi",
                    test_double_inject_msi);
    g_test_add_func("/xen-viommu-hyp/double/pt-msi", test_double_pt_msi);
    g_test_add_func("/xen-viommu-hyp/double/ir-entries",
                    test_double_ir_entries);
    g_test_add_func("/xen-viommu-hyp/double/pv-absent",
                    test_double_pv_absent);
    g_test_add_func("/xen-viommu-hyp/double/pv-contexts",
                    test_double_pv_contexts);
    g_test_add_func("/xen-viommu-hyp/double/pv-map", test_double_pv_map);
    return g_test_run();
}
