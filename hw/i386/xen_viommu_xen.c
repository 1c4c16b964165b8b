/*
 * xen-viommu: the device's hypervisor side (placeholder)
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
