/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NVMe numbers, from the NVM Express Base Specification, revision 1.4:
 * controller registers (section 3.1), queue entries (4.2 and 4.6), PRPs
 * (4.3), status codes (4.6.1.2), admin commands (5), NVM commands (6), the
 * Identify data structures (5.15) and log pages (5.14.1).  Only what the
 * softee-box NVMe model (user/box/nvme.c) and its tests use.  Everything on
 * the wire and in host memory is little-endian.
 *
 * Status codes are written here as (SCT << 8) | SC, the 11 bits that sit
 * in bits 11:1 of a completion's status field; NVME_CQE_STATUS() puts
 * them there.
 */
#ifndef _SOFTEE_NVME_H
#define _SOFTEE_NVME_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Controller registers (BAR0 offsets, 3.1) ---------------------------------------- */

#define NVME_REG_CAP		0x00	/* 64-bit Controller Capabilities */
#define NVME_REG_VS		0x08	/* Version */
#define NVME_REG_INTMS		0x0c	/* Interrupt Mask Set (pin and MSI only) */
#define NVME_REG_INTMC		0x10	/* Interrupt Mask Clear */
#define NVME_REG_CC		0x14	/* Controller Configuration */
#define NVME_REG_CSTS		0x1c	/* Controller Status */
#define NVME_REG_NSSR		0x20	/* NVM Subsystem Reset (optional) */
#define NVME_REG_AQA		0x24	/* Admin Queue Attributes */
#define NVME_REG_ASQ		0x28	/* 64-bit Admin SQ base */
#define NVME_REG_ACQ		0x30	/* 64-bit Admin CQ base */
#define NVME_REG_CMBLOC		0x38
#define NVME_REG_CMBSZ		0x3c
#define NVME_REG_DBS		0x1000	/* doorbells */

/* Doorbell of SQ y's tail and CQ y's head, with stride 4 << CAP.DSTRD bytes. */
#define NVME_REG_SQTDBL(y, dstrd)	(NVME_REG_DBS + (2u * (y)) * (4u << (dstrd)))
#define NVME_REG_CQHDBL(y, dstrd)	(NVME_REG_DBS + (2u * (y) + 1) * (4u << (dstrd)))

/* CAP */
#define NVME_CAP_MQES_MASK	0xffffULL		/* max queue entries, 0's based */
#define NVME_CAP_CQR		(1ULL << 16)		/* contiguous queues required */
#define NVME_CAP_AMS_SHIFT	17			/* arbitration mechanisms (2 bits) */
#define NVME_CAP_TO_SHIFT	24			/* timeout, 500 ms units (8 bits) */
#define NVME_CAP_DSTRD_SHIFT	32			/* doorbell stride (4 bits) */
#define NVME_CAP_NSSRS		(1ULL << 36)
#define NVME_CAP_CSS_SHIFT	37			/* command sets (8 bits) */
#define  NVME_CAP_CSS_NVM	(1ULL << 37)
#define NVME_CAP_BPS		(1ULL << 45)
#define NVME_CAP_MPSMIN_SHIFT	48			/* 2^(12 + MPSMIN) bytes (4 bits) */
#define NVME_CAP_MPSMAX_SHIFT	52
#define NVME_CAP_PMRS		(1ULL << 56)
#define NVME_CAP_CMBS		(1ULL << 57)

/* VS: major << 16 | minor << 8 | tertiary */
#define NVME_VS(maj, min, ter)	((uint32_t)(maj) << 16 | (uint32_t)(min) << 8 | (uint32_t)(ter))

/* CC */
#define NVME_CC_EN		(1u << 0)
#define NVME_CC_CSS_SHIFT	4			/* I/O command set (3 bits) */
#define NVME_CC_CSS_MASK	(7u << 4)
#define  NVME_CC_CSS_NVM	(0u << 4)
#define NVME_CC_MPS_SHIFT	7			/* page size 2^(12 + MPS) (4 bits) */
#define NVME_CC_MPS_MASK	(0xfu << 7)
#define NVME_CC_AMS_SHIFT	11			/* arbitration (3 bits) */
#define NVME_CC_AMS_MASK	(7u << 11)
#define NVME_CC_SHN_SHIFT	14			/* shutdown notification (2 bits) */
#define NVME_CC_SHN_MASK	(3u << 14)
#define  NVME_CC_SHN_NONE	(0u << 14)
#define  NVME_CC_SHN_NORMAL	(1u << 14)
#define  NVME_CC_SHN_ABRUPT	(2u << 14)
#define NVME_CC_IOSQES_SHIFT	16			/* I/O SQ entry size 2^n (4 bits) */
#define NVME_CC_IOSQES_MASK	(0xfu << 16)
#define NVME_CC_IOCQES_SHIFT	20			/* I/O CQ entry size 2^n (4 bits) */
#define NVME_CC_IOCQES_MASK	(0xfu << 20)
#define NVME_CC_WRITABLE	0x00fffff1u		/* bits 23:4 and EN */

/* CSTS */
#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)		/* controller fatal status */
#define NVME_CSTS_SHST_SHIFT	2
#define NVME_CSTS_SHST_MASK	(3u << 2)
#define  NVME_CSTS_SHST_NORMAL	(0u << 2)		/* normal operation */
#define  NVME_CSTS_SHST_OCCUR	(1u << 2)		/* shutdown processing occurring */
#define  NVME_CSTS_SHST_CMPLT	(2u << 2)		/* shutdown processing complete */
#define NVME_CSTS_NSSRO		(1u << 4)
#define NVME_CSTS_PP		(1u << 5)		/* processing paused */

/* AQA: sizes, 0's based, 12 bits each */
#define NVME_AQA_ASQS_MASK	0x00000fffu
#define NVME_AQA_ACQS_SHIFT	16
#define NVME_AQA_ACQS_MASK	0x0fff0000u

#define NVME_ADMIN_QUEUE_MIN	2			/* entries */
#define NVME_ADMIN_QUEUE_MAX	4096

/* ---- Queue entries (4.2, 4.6) --------------------------------------------------------- */

#define NVME_SQE_SIZE		64
#define NVME_CQE_SIZE		16
#define NVME_SQES_LOG2		6
#define NVME_CQES_LOG2		4

/* A submission queue entry; its command dwords are named as the spec names them. */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;		/* FUSE bits 1:0, PSDT bits 7:6 */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;		/* data pointer: PRP entry 1, or an SGL */
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

static_assert(sizeof(struct nvme_sqe) == NVME_SQE_SIZE, "SQE is 64 bytes");
static_assert(offsetof(struct nvme_sqe, flags) == 1, "SQE flags");
static_assert(offsetof(struct nvme_sqe, cid) == 2, "SQE CID");
static_assert(offsetof(struct nvme_sqe, nsid) == 4, "SQE NSID");
static_assert(offsetof(struct nvme_sqe, mptr) == 16, "SQE MPTR");
static_assert(offsetof(struct nvme_sqe, prp1) == 24, "SQE PRP1");
static_assert(offsetof(struct nvme_sqe, prp2) == 32, "SQE PRP2");
static_assert(offsetof(struct nvme_sqe, cdw10) == 40, "SQE CDW10");
static_assert(offsetof(struct nvme_sqe, cdw15) == 60, "SQE CDW15");

#define NVME_SQE_FUSE_MASK	0x03
#define NVME_SQE_PSDT_MASK	0xc0		/* 0: PRPs; 1, 2: SGLs */

/* A completion queue entry. */
struct nvme_cqe {
	uint32_t dw0;		/* command specific */
	uint32_t dw1;
	uint16_t sqhd;		/* SQ head pointer */
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* P bit 0, SC 8:1, SCT 11:9, CRD 13:12, M 14, DNR 15 */
};

static_assert(sizeof(struct nvme_cqe) == NVME_CQE_SIZE, "CQE is 16 bytes");
static_assert(offsetof(struct nvme_cqe, sqhd) == 8, "CQE SQHD");
static_assert(offsetof(struct nvme_cqe, sqid) == 10, "CQE SQID");
static_assert(offsetof(struct nvme_cqe, cid) == 12, "CQE CID");
static_assert(offsetof(struct nvme_cqe, status) == 14, "CQE status");

#define NVME_CQE_PHASE		0x0001u
#define NVME_CQE_MORE		0x4000u
#define NVME_CQE_DNR		0x8000u
#define NVME_CQE_STATUS(s)	((uint16_t)(((s) & 0x7ff) << 1))	/* from NVME_SC_* */
#define NVME_CQE_SC(st)		(((st) >> 1) & 0xff)
#define NVME_CQE_SCT(st)	(((st) >> 9) & 0x7)

/* ---- Status codes: (SCT << 8) | SC (4.6.1.2) ---------------------------------------------- */

#define NVME_SCT_GENERIC	0
#define NVME_SCT_CMD_SPECIFIC	1
#define NVME_SCT_MEDIA		2

/* Generic command status */
#define NVME_SC_SUCCESS			0x000
#define NVME_SC_INVALID_OPCODE		0x001
#define NVME_SC_INVALID_FIELD		0x002
#define NVME_SC_CID_CONFLICT		0x003
#define NVME_SC_DATA_XFER_ERROR		0x004
#define NVME_SC_POWER_LOSS_ABORT	0x005
#define NVME_SC_INTERNAL		0x006
#define NVME_SC_ABORT_REQ		0x007
#define NVME_SC_ABORT_SQ_DELETED	0x008
#define NVME_SC_FUSED_FAIL		0x009
#define NVME_SC_FUSED_MISSING		0x00a
#define NVME_SC_INVALID_NS		0x00b	/* Invalid Namespace or Format */
#define NVME_SC_CMD_SEQ_ERROR		0x00c
#define NVME_SC_SGL_INVALID_LAST	0x00d
#define NVME_SC_SGL_INVALID_COUNT	0x00e
#define NVME_SC_SGL_INVALID_DATA	0x00f
#define NVME_SC_SGL_INVALID_METADATA	0x010
#define NVME_SC_SGL_INVALID_TYPE	0x011
#define NVME_SC_CMB_INVALID_USE		0x012
#define NVME_SC_PRP_INVALID_OFFSET	0x013
#define NVME_SC_LBA_RANGE		0x080	/* LBA Out of Range */
#define NVME_SC_CAP_EXCEEDED		0x081
#define NVME_SC_NS_NOT_READY		0x082

/* Command specific status */
#define NVME_SC_CQ_INVALID		0x100	/* Completion Queue Invalid */
#define NVME_SC_QID_INVALID		0x101	/* Invalid Queue Identifier */
#define NVME_SC_QUEUE_SIZE		0x102	/* Invalid Queue Size */
#define NVME_SC_ABORT_LIMIT		0x103	/* Abort Command Limit Exceeded */
#define NVME_SC_AER_LIMIT		0x105	/* Asynchronous Event Request Limit Exceeded */
#define NVME_SC_FW_SLOT_INVALID		0x106
#define NVME_SC_FW_IMAGE_INVALID	0x107
#define NVME_SC_IV_INVALID		0x108	/* Invalid Interrupt Vector */
#define NVME_SC_LOG_INVALID		0x109	/* Invalid Log Page */
#define NVME_SC_FORMAT_INVALID		0x10a
#define NVME_SC_QUEUE_DELETE		0x10c	/* Invalid Queue Deletion */
#define NVME_SC_FEAT_NOT_SAVEABLE	0x10d
#define NVME_SC_FEAT_NOT_CHANGEABLE	0x10e
#define NVME_SC_FEAT_NOT_NS_SPECIFIC	0x10f

/* Media and data integrity errors */
#define NVME_SC_WRITE_FAULT		0x280
#define NVME_SC_READ_ERROR		0x281	/* Unrecovered Read Error */

/* ---- PRPs (4.3) --------------------------------------------------------------------- */

#define NVME_PAGE_SHIFT		12	/* CC.MPS 0: the only page size the model takes */
#define NVME_PAGE_SIZE		(1u << NVME_PAGE_SHIFT)
#define NVME_PRP_ENTRY_SIZE	8

/* ---- Admin commands (5) --------------------------------------------------------------- */

#define NVME_ADM_DELETE_SQ	0x00
#define NVME_ADM_CREATE_SQ	0x01
#define NVME_ADM_GET_LOG_PAGE	0x02
#define NVME_ADM_DELETE_CQ	0x04
#define NVME_ADM_CREATE_CQ	0x05
#define NVME_ADM_IDENTIFY	0x06
#define NVME_ADM_ABORT		0x08
#define NVME_ADM_SET_FEATURES	0x09
#define NVME_ADM_GET_FEATURES	0x0a
#define NVME_ADM_ASYNC_EVENT	0x0c
#define NVME_ADM_NS_MGMT	0x0d
#define NVME_ADM_FW_COMMIT	0x10
#define NVME_ADM_FW_DOWNLOAD	0x11
#define NVME_ADM_KEEP_ALIVE	0x18
#define NVME_ADM_DBBUF_CONFIG	0x7c
#define NVME_ADM_FORMAT_NVM	0x80

/* Create I/O CQ: CDW10 QID 15:0, QSIZE 31:16; CDW11 PC bit 0, IEN bit 1, IV 31:16 */
/* Create I/O SQ: CDW10 QID 15:0, QSIZE 31:16; CDW11 PC bit 0, QPRIO 2:1, CQID 31:16 */
#define NVME_QUEUE_PC		0x1u
#define NVME_CQ_IEN		0x2u

/* Identify: CDW10 CNS 7:0, CNTID 31:16 */
#define NVME_ID_CNS_NS		0x00
#define NVME_ID_CNS_CTRL	0x01
#define NVME_ID_CNS_NS_ACTIVE	0x02	/* active namespace ID list */
#define NVME_ID_CNS_NS_DESC	0x03	/* namespace identification descriptor list */
#define NVME_ID_SIZE		4096

/* Features: CDW10 FID 7:0, SEL 10:8 (get), SV bit 31 (set) */
#define NVME_FEAT_ARBITRATION	0x01
#define NVME_FEAT_POWER_MGMT	0x02
#define NVME_FEAT_LBA_RANGE	0x03
#define NVME_FEAT_TEMP_THRESH	0x04
#define NVME_FEAT_ERR_RECOVERY	0x05
#define NVME_FEAT_VOLATILE_WC	0x06
#define NVME_FEAT_NUM_QUEUES	0x07
#define NVME_FEAT_IRQ_COALESCE	0x08
#define NVME_FEAT_IRQ_CONFIG	0x09
#define NVME_FEAT_WRITE_ATOMIC	0x0a
#define NVME_FEAT_ASYNC_EVENT	0x0b
#define NVME_FEAT_AUTO_PST	0x0c
#define NVME_FEAT_KATO		0x0f
#define NVME_FEAT_SEL_SHIFT	8
#define NVME_FEAT_SEL_MASK	(7u << 8)
#define  NVME_FEAT_SEL_CURRENT	0
#define  NVME_FEAT_SEL_DEFAULT	1
#define  NVME_FEAT_SEL_SAVED	2
#define  NVME_FEAT_SEL_CAPS	3
#define NVME_FEAT_CAP_CHANGEABLE 0x4u	/* Get Features SEL=3: bit 2 changeable */

/* Get Log Page: CDW10 LID 7:0, NUMDL 31:16; CDW11 NUMDU 15:0; CDW12/13 offset */
#define NVME_LOG_ERROR		0x01
#define NVME_LOG_SMART		0x02
#define NVME_LOG_FW_SLOT	0x03
#define NVME_LOG_ERROR_ENTRY_SIZE 64
#define NVME_LOG_SMART_SIZE	512
#define NVME_LOG_FW_SLOT_SIZE	512

/* SMART / Health Information log page (5.14.1.2): byte offsets */
#define NVME_SMART_CRIT_WARN	0
#define NVME_SMART_TEMP		1	/* 2 bytes, Kelvin */
#define NVME_SMART_AVAIL_SPARE	3
#define NVME_SMART_SPARE_THRESH	4
#define NVME_SMART_PCT_USED	5
#define NVME_SMART_DATA_READ	32	/* 16 bytes each: units of 1000 x 512 bytes */
#define NVME_SMART_DATA_WRITTEN	48
#define NVME_SMART_HOST_READS	64
#define NVME_SMART_HOST_WRITES	80
#define NVME_SMART_POWER_CYCLES	112
#define NVME_SMART_POWER_HOURS	128
#define NVME_SMART_ERR_ENTRIES	176

/* Firmware Slot Information log page (5.14.1.3) */
#define NVME_FW_SLOT_AFI	0	/* active firmware info: slot in bits 2:0 */
#define NVME_FW_SLOT_FRS1	8	/* 8 ASCII bytes per slot */

/* ---- NVM commands (6) --------------------------------------------------------------- */

#define NVME_CMD_FLUSH		0x00
#define NVME_CMD_WRITE		0x01
#define NVME_CMD_READ		0x02
#define NVME_CMD_WRITE_UNCOR	0x04
#define NVME_CMD_COMPARE	0x05
#define NVME_CMD_WRITE_ZEROES	0x08
#define NVME_CMD_DSM		0x09

/* Read, Write, Write Zeroes: CDW10/11 SLBA; CDW12 NLB 15:0 (0's based), bits below */
#define NVME_RW_NLB_MASK	0xffffu
#define NVME_RW_DEAC		(1u << 25)	/* Write Zeroes: deallocate */
#define NVME_RW_FUA		(1u << 30)
#define NVME_RW_LR		(1u << 31)

#define NVME_NSID_ALL		0xffffffffu

/* ---- Identify Controller (5.15.2.2): byte offsets ------------------------------------- */

#define NVME_IDC_VID		0	/* 2 */
#define NVME_IDC_SSVID		2	/* 2 */
#define NVME_IDC_SN		4	/* 20 ASCII, space padded */
#define NVME_IDC_MN		24	/* 40 */
#define NVME_IDC_FR		64	/* 8 */
#define NVME_IDC_RAB		72
#define NVME_IDC_IEEE		73	/* 3 */
#define NVME_IDC_CMIC		76
#define NVME_IDC_MDTS		77	/* max transfer 2^MDTS pages; 0: no limit */
#define NVME_IDC_CNTLID		78	/* 2 */
#define NVME_IDC_VER		80	/* 4 */
#define NVME_IDC_RTD3R		84	/* 4 */
#define NVME_IDC_RTD3E		88	/* 4 */
#define NVME_IDC_OAES		92	/* 4 */
#define NVME_IDC_CTRATT		96	/* 4 */
#define NVME_IDC_CNTRLTYPE	111	/* 1: I/O controller */
#define NVME_IDC_OACS		256	/* 2 */
#define NVME_IDC_ACL		258	/* abort command limit, 0's based */
#define NVME_IDC_AERL		259	/* async event request limit, 0's based */
#define NVME_IDC_FRMW		260
#define NVME_IDC_LPA		261
#define NVME_IDC_ELPE		262	/* error log entries, 0's based */
#define NVME_IDC_NPSS		263	/* power states, 0's based */
#define NVME_IDC_AVSCC		264
#define NVME_IDC_APSTA		265
#define NVME_IDC_WCTEMP		266	/* 2, Kelvin */
#define NVME_IDC_CCTEMP		268	/* 2, Kelvin */
#define NVME_IDC_KAS		320	/* 2 */
#define NVME_IDC_SQES		512	/* max 7:4, required 3:0 (log2) */
#define NVME_IDC_CQES		513
#define NVME_IDC_MAXCMD		514	/* 2 */
#define NVME_IDC_NN		516	/* 4: number of namespaces */
#define NVME_IDC_ONCS		520	/* 2 */
#define  NVME_ONCS_COMPARE	0x01
#define  NVME_ONCS_WRITE_UNCOR	0x02
#define  NVME_ONCS_DSM		0x04
#define  NVME_ONCS_WRITE_ZEROES	0x08
#define NVME_IDC_FUSES		522	/* 2 */
#define NVME_IDC_FNA		524
#define NVME_IDC_VWC		525
#define  NVME_VWC_PRESENT	0x01
#define  NVME_VWC_FLUSH_ALL	0x06	/* bits 2:1 = 11b: NSID FFFFFFFFh flush supported */
#define NVME_IDC_AWUN		526	/* 2 */
#define NVME_IDC_AWUPF		528	/* 2 */
#define NVME_IDC_SGLS		536	/* 4 */
#define NVME_IDC_SUBNQN		768	/* 256, NUL-terminated UTF-8 */
#define NVME_IDC_PSD0		2048	/* 32 bytes per power state descriptor */
#define  NVME_PSD_MP		0	/* 2: max power, centiwatts */
#define  NVME_PSD_ENLAT		4	/* 4: entry latency, us */
#define  NVME_PSD_EXLAT		8	/* 4: exit latency, us */

/* ---- Identify Namespace (6.1.5 / 5.15.2.1): byte offsets ------------------------------- */

#define NVME_IDNS_NSZE		0	/* 8: size in blocks */
#define NVME_IDNS_NCAP		8	/* 8: capacity */
#define NVME_IDNS_NUSE		16	/* 8: utilization */
#define NVME_IDNS_NSFEAT	24
#define NVME_IDNS_NLBAF		25	/* LBA formats, 0's based */
#define NVME_IDNS_FLBAS		26	/* formatted LBA size: format index in 3:0 */
#define NVME_IDNS_MC		27
#define NVME_IDNS_DPC		28
#define NVME_IDNS_DPS		29
#define NVME_IDNS_NMIC		30
#define NVME_IDNS_DLFEAT	33
#define NVME_IDNS_NGUID		104	/* 16 */
#define NVME_IDNS_EUI64		120	/* 8 */
#define NVME_IDNS_LBAF0		128	/* 4 per format: MS 15:0, LBADS 23:16, RP 25:24 */
#define  NVME_LBAF_LBADS_SHIFT	16

/* Namespace identification descriptor (5.15.2.4): NIDT, NIDL, 2 reserved, NID */
#define NVME_NIDT_EUI64		0x01	/* 8 bytes */
#define NVME_NIDT_NGUID		0x02	/* 16 bytes */
#define NVME_NIDT_UUID		0x03	/* 16 bytes */
#define NVME_NIDT_HDR		4

#endif /* _SOFTEE_NVME_H */
