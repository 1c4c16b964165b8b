/*
 * xen-viommu qtests: helpers shared by the test files
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XEN_VIOMMU_QTEST_H
#define TESTS_QTEST_XEN_VIOMMU_QTEST_H

#include "libqtest.h"
#include "qobject/qdict.h"

/*
 * A counter of the unit (id "viommu") from x-hyp-stats: the value of a
 * "@name VALUE" line (@field 0), or field @field of an
 * "@name calls refused errors items hypercalls" line.
 */
static inline uint64_t xvi_hyp_stat(QTestState *qts, const char *name,
                                    int field)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': '/machine/peripheral/viommu', "
                           "'property': 'x-hyp-stats' } }");
    g_auto(GStrv) lines = g_strsplit(qdict_get_str(rsp, "return"), "\n", -1);
    uint64_t val = UINT64_MAX;
    int i;

    for (i = 0; lines[i]; i++) {
        g_auto(GStrv) words = g_strsplit(lines[i], " ", -1);

        if (words[0] && !strcmp(words[0], name)) {
            g_assert_cmpint(g_strv_length(words), >, field + 1);
            val = g_ascii_strtoull(words[field + 1], NULL, 10);
        }
    }
    qobject_unref(rsp);
    if (val == UINT64_MAX) {
        g_error("no %s in x-hyp-stats", name);
    }
    return val;
}

#endif /* TESTS_QTEST_XEN_VIOMMU_QTEST_H */
