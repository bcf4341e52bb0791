/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attach_fw.S - the firmware of trap_attach_qemu.sh's guest: a 64 KiB flat
 * image given to an unmodified QEMU/KVM with -bios.  QEMU maps it below
 * 4 GiB (0xFFFF0000) and below 1 MiB (0xF0000); the CPU starts in real
 * mode at 0xFFFFFFF0, the image's offset 0xFFF0.
 *
 * It makes a fixed list of accesses that the test's tracer
 * (softee-trap attach) must see, in this order:
 *
 *   real mode, ports:
 *     outl 0xA0000000 + i to 0x5000, for i = 0..7 (a loop)
 *     outw 0xBEEF to 0x5002, outb 0x42 to 0x5003
 *     inl from 0x5000, and outl of what it read back to 0x5000
 *   32-bit protected mode, flat, MMIO:
 *     movl 0xB0000000 + i to 0xE0000000 + 4 * i, for i = 0..7 (a loop)
 *     movw 0xCAFE to 0xE0000020, movb 0x99 to 0xE0000022
 *     movl from 0xE0000040, and movl of what it read to 0xE0000044
 *
 * then writes 0x10 to port 0xF4: QEMU's isa-debug-exit makes QEMU exit
 * with status (0x10 << 1) | 1 = 33.  That port is QEMU's own device: it
 * still works while softee traps the others.
 *
 * Addresses are taken through the image's copy below 1 MiB (FW_LOW), so
 * nothing depends on where the image is linked or on the A20 gate.
 */
#define FW_LOW		0x000f0000
#define FW(sym)		(FW_LOW + ((sym) - fw_start))

#define FW_PORT		0x5000
#define FW_MMIO		0xe0000000
#define FW_EXIT_PORT	0xf4
#define FW_EXIT_CODE	0x10

#define SEL_CODE32	0x08
#define SEL_DATA32	0x10

	.text
	.code16
	.globl fw_start
fw_start:
fw_entry16:
	cli
	cld

	/* ports, in real mode */
	movw	$FW_PORT, %dx
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	orl	$0xa0000000, %eax
	outl	%eax, %dx
	incl	%ecx
	cmpl	$8, %ecx
	jne	1b
	movw	$FW_PORT + 2, %dx
	movw	$0xbeef, %ax
	outw	%ax, %dx
	movw	$FW_PORT + 3, %dx
	movb	$0x42, %al
	outb	%al, %dx
	movw	$FW_PORT, %dx
	inl	%dx, %eax
	outl	%eax, %dx

	/* flat 32-bit protected mode */
	lgdtl	%cs:(fw_gdtr - fw_start)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$SEL_CODE32, $FW(fw_entry32)

	.code32
fw_entry32:
	movw	$SEL_DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs

	/* MMIO */
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	orl	$0xb0000000, %eax
	movl	%eax, FW_MMIO(, %ecx, 4)
	incl	%ecx
	cmpl	$8, %ecx
	jne	2b
	movw	$0xcafe, FW_MMIO + 0x20
	movb	$0x99, FW_MMIO + 0x22
	movl	FW_MMIO + 0x40, %eax
	movl	%eax, FW_MMIO + 0x44

	/* done: QEMU exits with 33 */
	movw	$FW_EXIT_PORT, %dx
	movb	$FW_EXIT_CODE, %al
	outb	%al, %dx
3:	hlt
	jmp	3b

	/*
	 * The descriptors are marked accessed already: the image is ROM, and
	 * under KVM a CPU that has to set the bit itself writes to a read-only
	 * memslot, which KVM cannot emulate, and the far jump never completes.
	 */
	.balign	8
fw_gdt:
	.quad	0			/* null */
	.quad	0x00cf9b000000ffff	/* 0x08: code, 32-bit, base 0, 4 GiB */
	.quad	0x00cf93000000ffff	/* 0x10: data, base 0, 4 GiB */
fw_gdt_end:
fw_gdtr:
	.word	fw_gdt_end - fw_gdt - 1
	.long	FW(fw_gdt)

	/* the reset vector: 16 bytes below 4 GiB */
	.org	0xfff0
	.code16
	jmp	fw_entry16
	.org	0x10000
