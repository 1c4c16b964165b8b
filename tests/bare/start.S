/*
 * xen-viommu bare-metal test: multiboot entry and interrupt stubs
 *
 * Copyright (c) 2026 The xen-viommu developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QEMU's -kernel loads this ELF with the multiboot protocol: 32-bit
 * protected mode, flat segments, paging off, interrupts off.
 */

#define MB_MAGIC    0x1badb002
#define MB_FLAGS    0

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
_start:
    mov $stack_top, %esp
    call bare_main
1:  cli
    hlt
    jmp 1b

/* The vector the tests' interrupts use: count it, EOI, return */
    .globl irq_stub
irq_stub:
    pushal
    call irq_handler
    popal
    iret

/* Any other vector is a failure: report it and stop */
    .globl bad_vector_stub
bad_vector_stub:
    call bad_vector
1:  cli
    hlt
    jmp 1b

    .bss
    .align 16
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
