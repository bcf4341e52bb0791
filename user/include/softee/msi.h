/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSIs from the device: on x86 a message-signalled interrupt is a memory
 * write of the message data to an address in the local APICs' window,
 * 0xFEE00000..0xFEEFFFFF (Intel SDM vol. 3, 11.11).  The poller programs
 * each device's MSI (or MSI-X) capability with an address and data there;
 * a device MWr that lands in the window is an interrupt, injected into the
 * guest with KVM_SIGNAL_MSI on the VM fd, never written to memory.
 *
 *   address: 0xFEE | destination APIC ID (8 bits, 19:12) | RH (3) | DM (2) | 00
 *   data:    trigger (15) | level (14) | delivery mode (10:8) | vector (7:0)
 */
#ifndef _SOFTEE_MSI_H
#define _SOFTEE_MSI_H

#include <stdbool.h>
#include <stdint.h>

#define SOFTEE_MSI_WINDOW		0xfee00000ULL
#define SOFTEE_MSI_WINDOW_LEN		0x100000ULL
#define SOFTEE_MSI_VECTOR_DEFAULT	0x40	/* first vector the poller hands out */

/* PCI capability IDs and the registers the poller programs. */
#define SOFTEE_PCI_CAP_MSI		0x05
#define SOFTEE_PCI_CAP_MSIX		0x11
#define SOFTEE_MSI_FLAGS_ENABLE		0x0001
#define SOFTEE_MSI_FLAGS_QMASK		0x000e	/* multiple message capable */
#define SOFTEE_MSI_FLAGS_QSIZE		0x0070	/* multiple message enable */
#define SOFTEE_MSI_FLAGS_64BIT		0x0080
#define SOFTEE_MSI_FLAGS_MASKBIT	0x0100
#define SOFTEE_MSIX_FLAGS_QSIZE		0x07ff	/* table size - 1 */
#define SOFTEE_MSIX_FLAGS_MASKALL	0x4000
#define SOFTEE_MSIX_FLAGS_ENABLE	0x8000
#define SOFTEE_MSIX_ENTRY_SIZE		16
#define SOFTEE_MSIX_ENTRY_CTRL_MASKBIT	0x1

static inline bool softee_msi_is_addr(uint64_t addr)
{
	return addr >= SOFTEE_MSI_WINDOW && addr < SOFTEE_MSI_WINDOW + SOFTEE_MSI_WINDOW_LEN;
}

/* Physical destination, fixed delivery, edge: the address and data for a vector. */
static inline uint64_t softee_msi_address(uint8_t dest_apic_id)
{
	return SOFTEE_MSI_WINDOW | ((uint64_t)dest_apic_id << 12);
}

static inline uint32_t softee_msi_data(uint8_t vector)
{
	return vector;
}

/*
 * KVM_SIGNAL_MSI on vm_fd: 1 delivered, 0 blocked by the guest (masked,
 * APIC disabled), -errno.
 */
int softee_msi_signal(int vm_fd, uint64_t address, uint32_t data);

#endif /* _SOFTEE_MSI_H */
