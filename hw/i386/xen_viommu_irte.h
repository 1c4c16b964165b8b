/*
 * xen-viommu: VT-d interrupt-remapping entry decoding and entry cache
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Pure logic, no device state: decoding of the 128-bit interrupt-remapping
 * table entry (IRTE, VT-d spec 9.10), parsing of remappable-format interrupt
 * requests (5.1.2), source-id verification, composition of the MSI the APIC
 * side receives, and the interrupt-entry cache (IEC).  Every input may be
 * guest controlled: bad values are reported as VT-d fault reasons, never
 * asserted on.  None of this is thread-safe; the caller serialises.
 */

#ifndef HW_I386_XEN_VIOMMU_IRTE_H
#define HW_I386_XEN_VIOMMU_IRTE_H

/* VT-d interrupt-remapping fault reasons */
enum {
    XVI_FR_IR_REQ_RSVD = 0x20, /* reserved field set in the interrupt request */
    XVI_FR_IR_INDEX = 0x21,    /* index beyond the table size (IRTA.S) */
    XVI_FR_IR_NP = 0x22,       /* IRTE present bit clear */
    XVI_FR_IR_ACCESS = 0x23,   /* reading the IRTE failed */
    XVI_FR_IR_RSVD = 0x24,     /* reserved field set in the IRTE */
    XVI_FR_IR_COMPAT = 0x25,   /* compatibility format blocked (EIME=1,CFI=0) */
    XVI_FR_IR_SID = 0x26,      /* source-id verification failed */
    XVI_FR_IR_POSTED = 0x27,   /* posted-format IRTE, posting not supported */
};

/* Number of interrupt-remapping table entries the architecture allows */
#define XVI_IRTE_MAX_ENTRIES    0x10000u

/* IRTE.SVT values */
#define XVI_SVT_NONE            0
#define XVI_SVT_SID             1   /* compare the SID under the SQ mask */
#define XVI_SVT_BUS             2   /* SID[15:8] start bus, SID[7:0] end bus */

/* IRTE.DLM values that are valid */
#define XVI_DLM_FIXED           0
#define XVI_DLM_LOWPRI          1
#define XVI_DLM_SMI             2
#define XVI_DLM_NMI             4
#define XVI_DLM_INIT            5
#define XVI_DLM_EXTINT          7

typedef struct XviIrte {
    bool present;
    bool fpd;              /* fault processing disable (even if !present) */
    uint8_t dest_mode;     /* 0 physical, 1 logical */
    uint8_t redir_hint;
    uint8_t trigger_mode;  /* 0 edge, 1 level */
    uint8_t delivery_mode; /* 0 fixed, 1 lowest prio, 2 SMI, 4 NMI, 5 INIT, */
                           /* 7 ExtINT */
    uint8_t vector;
    uint32_t dest;         /* x2APIC: 32 bits; xAPIC: the 8-bit APIC ID */
    uint8_t svt, sq;       /* source validation type and qualifier */
    uint16_t sid;
} XviIrte;

/*
 * Decode a 128-bit IRTE (lo = bits 63:0, hi = bits 127:64, host order).
 * @eime: x2APIC mode (IRTA.EIME).  Returns 0, XVI_FR_IR_NP, XVI_FR_IR_RSVD
 * or XVI_FR_IR_POSTED.  @out->fpd and ->present are filled in any case; the
 * other fields are only meaningful when 0 is returned.
 */
int xvi_irte_decode(uint64_t lo, uint64_t hi, bool eime, XviIrte *out);

/*
 * Source-id verification of @sid against the IRTE's SVT/SQ/SID (SVT 0: none;
 * 1: compare with SQ masks; 2: SID[15:8] = start bus, SID[7:0] = end bus,
 * check the requester's bus is in range).  SVT 3 (reserved) never matches.
 */
bool xvi_irte_sid_ok(const XviIrte *e, uint16_t sid);

/* An MSI write arriving in the 0xFEExxxxx interrupt window. */
typedef struct XviMsiRequest {
    bool remappable;      /* address bit 4 (interrupt format) */
    uint32_t index;       /* handle (+ subhandle if SHV); only if remappable */
    bool shv;             /* subhandle valid (address bit 3); if clear the */
                          /* request is I/OxAPIC style, data = vector etc. */
} XviMsiRequest;

/*
 * Parse address/data of an interrupt request.  Returns 0 or
 * XVI_FR_IR_REQ_RSVD (address bits 63:32 set, address bits 31:20 not 0xFEE,
 * or SHV=1 with data[31:16] != 0).  Compatibility format (bit 4 clear) is
 * reported as !remappable; blocking it is the caller's decision.  Even on
 * error @req holds what could be decoded (e.g. the index for the fault
 * record).  The index may exceed 0xFFFF when a subhandle is added; checking
 * it against the table size is the caller's job (XVI_FR_IR_INDEX).
 */
int xvi_msi_parse(uint64_t addr, uint32_t data, XviMsiRequest *req);

/*
 * Compose the compatibility-format MSI (address, data) the APIC side gets for
 * a decoded IRTE.  QEMU's own convention for x2APIC destinations: address
 * bits 19:12 carry dest[7:0], address bits 63:40 (address_hi bits 31:8)
 * carry dest[31:8].  Bits 3 (RH) and 2 (DM); data: vector, delivery mode,
 * level=1 (assert), trigger mode.
 */
void xvi_irte_to_msi(const XviIrte *e, uint64_t *addr, uint32_t *data);

/*
 * Interrupt-entry cache: decoded IRTEs by index (0..65535).  Storage is
 * allocated lazily in chunks; indexes outside the range are never cached.
 */
typedef struct XviIec XviIec;
XviIec *xvi_iec_new(void);
void xvi_iec_free(XviIec *iec);
bool xvi_iec_lookup(XviIec *iec, uint32_t index, XviIrte *out);
void xvi_iec_insert(XviIec *iec, uint32_t index, const XviIrte *e);
/*
 * Index-selective: 2^im entries starting at index aligned down to 2^im.
 * Cost proportional to the part of that range that lies in allocated chunks.
 */
void xvi_iec_invalidate(XviIec *iec, uint32_t index, unsigned im);
/* Global invalidation, O(1) (a generation bump). */
void xvi_iec_invalidate_all(XviIec *iec);

#endif /* HW_I386_XEN_VIOMMU_IRTE_H */
