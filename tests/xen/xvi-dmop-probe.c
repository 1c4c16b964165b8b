/*
 * Copyright (c) 2026 The xen-viommu developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * XEN_DMOP_set_ir_entries (30) against a real hypervisor, from dom0: the
 * request and error semantics of docs/xen-hypervisor-interface.rst, with the
 * wire format written out here independently of Xen's headers, and a
 * device model pushing the whole 65536-entry table 20 times over.
 *
 *   xvi-dmop-probe DOMID          every check; exit 1 if any failed
 *   xvi-dmop-probe DOMID probe    only the probe (a Xen without the
 *                                 operation answers -95, -EOPNOTSUPP)
 *
 * DOMID is an HVM guest's (e.g. just created by xl).  Prints
 * "XVP NAME rc=N want=M ok|FAIL" per check, then "XVP done failures=N".
 * Build: gcc -O2 -o xvi-dmop-probe tests/xen/xvi-dmop-probe.c -lxencall
 * (results on the patched and on Debian's Xen: docs/xen-patches.rst).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xencall.h>

#define HYPERVISOR_dm_op 41

struct op {            /* struct xen_dm_op, set_ir_entries member: 24 bytes */
    uint32_t op, pad;
    uint32_t first, nr, flags;
    uint16_t sid, pad2;
};
struct ent {           /* 16 bytes */
    uint32_t dest;
    uint8_t vector, delivery;
    uint16_t sid;
    uint32_t flags, pad;
};
struct buf {           /* xen_dm_op_buf_t on x86-64 */
    uint64_t h, size;
};

static xencall_handle *xc;
static struct op *op;
static struct ent *ents;
static struct buf *bufs;
static int failures;

static int call(unsigned int domid, unsigned int nr_bufs, size_t ent_size)
{
    int rc;

    bufs[0].h = (uintptr_t)op;
    bufs[0].size = sizeof(*op);
    bufs[1].h = (uintptr_t)ents;
    bufs[1].size = ent_size;
    rc = xencall3(xc, HYPERVISOR_dm_op, domid, nr_bufs, (uintptr_t)bufs);
    return rc < 0 ? -errno : rc;
}

static void check(const char *name, int rc, int want)
{
    printf("XVP %s rc=%d want=%d %s\n", name, rc, want,
           rc == want ? "ok" : "FAIL");
    failures += rc != want;
}

static void set(uint32_t first, uint32_t nr, uint32_t flags)
{
    memset(op, 0, sizeof(*op));
    op->op = 30;
    op->first = first;
    op->nr = nr;
    op->flags = flags;
    op->sid = 0xff00;
}

int main(int argc, char **argv)
{
    unsigned int domid, i, n;
    struct timespec t0, t1;
    int rc;

    if ( argc < 2 )
        return 2;
    domid = atoi(argv[1]);
    xc = xencall_open(NULL, 0);
    if ( !xc )
        return perror("xencall_open"), 2;
    op = xencall_alloc_buffer(xc, sizeof(*op));
    bufs = xencall_alloc_buffer(xc, 2 * sizeof(*bufs));
    ents = xencall_alloc_buffer_pages(xc, 2);
    memset(ents, 0, 8192);

    set(0, 0, 0);
    rc = call(domid, 1, 0);
    printf("XVP probe rc=%d\n", rc);
    if ( argc > 2 && !strcmp(argv[2], "probe") )
        return 0;
    check("probe", rc, 0);

    set(0, 257, 0);
    check("nr-257", call(domid, 2, 8192), -E2BIG);
    set(0, 0, 1u << 4);
    check("reserved-flag", call(domid, 1, 0), -EINVAL);
    set(0, 0, (1u << 1) | (1u << 2));
    check("enable-and-disable", call(domid, 1, 0), -EINVAL);
    set(0, 1, 1u << 2);
    check("disable-with-entries", call(domid, 2, 16), -EINVAL);
    set(0xffff, 2, 0);
    check("beyond-table", call(domid, 2, 32), -EINVAL);
    set(0, 0, 0);
    op->pad2 = 1;
    check("pad", call(domid, 1, 0), -EINVAL);
    set(0, 2, 0);
    check("entries-buffer-small", call(domid, 2, 16), -EFAULT);
    set(0, 1, 0);
    check("entries-buffer-missing", call(domid, 1, 0), -EFAULT);

    /* A bad entry anywhere refuses the whole batch */
    for ( i = 0; i < 256; i++ )
        ents[i] = (struct ent){ .dest = i, .vector = 0x30 + (i & 0x7f),
                                .flags = 1 };
    ents[200].delivery = 3;
    set(0, 256, 1u << 1);
    check("reserved-delivery", call(domid, 2, 4096), -EINVAL);
    ents[200].delivery = 0;
    ents[201].pad = 1;
    check("entry-pad", call(domid, 2, 4096), -EINVAL);
    ents[201].pad = 0;
    ents[202].flags = 1 | (3u << 4);
    check("svt-3", call(domid, 2, 4096), -EINVAL);
    ents[202].flags = 0x100;
    check("entry-reserved-flags", call(domid, 2, 4096), -EINVAL);
    ents[202].flags = 1 | (1u << 4) | (3u << 6) | 0xe;
    ents[202].sid = 0xff00;
    ents[202].dest = 0x12345678;
    set(0xff00, 256, (1u << 1) | (1u << 3));
    check("batch-enable-block-compat", call(domid, 2, 4096), 0);
    set(0, 0, 1u << 2);
    check("disable", call(domid, 1, 0), 0);

    /* A hostile device model: the whole table, again and again */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for ( n = 0; n < 20; n++ )
        for ( i = 0; i < 256; i++ )
        {
            set(i * 256, 256, (i == 255 ? 1u << 1 : 0) | (i ? 0 : 1u));
            if ( (rc = call(domid, 2, 4096)) )
                break;
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check("full-table-x20", rc, 0);
    printf("XVP full-table-x20 calls=%u seconds=%.3f\n", n * 256,
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    set(0, 0, 1u << 2);
    check("disable-after", call(domid, 1, 0), 0);

    printf("XVP done failures=%d\n", failures);
    return failures != 0;
}
