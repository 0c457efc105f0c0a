/* SPDX-License-Identifier: MIT */
/*
 * xgnt: the hypervisor side. A machine, its domains and vCPUs, and the
 * hypercalls they issue, with Xen's own ABI from Xen's public headers.
 */
#ifndef XGNT_HV_H
#define XGNT_HV_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/vcpu.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(XGNT_BUILDING) && defined(__GNUC__)
#define XGNT_API __attribute__((visibility("default")))
#else
#define XGNT_API
#endif

/* Xen's "no frame" values (not in the public headers as constants). */
#ifndef INVALID_MFN
#define INVALID_MFN (~(xen_pfn_t)0)
#endif
#ifndef INVALID_GFN
#define INVALID_GFN (~(xen_pfn_t)0)
#endif

struct xgnt_machine;
struct xgnt_domain;
struct xgnt_vcpu;

struct xgnt_machine_config {
	uint32_t nr_frames;            /* machine memory in 4 KiB frames; 0: 262144 (1 GiB) */
	uint32_t max_grant_frames;     /* default per-domain limit; 0: 64 */
	uint32_t max_maptrack_frames;  /* default per-domain limit; 0: 1024 */
	uint32_t max_grant_version;    /* 0: 2 (x86 domains); Arm domains are always 1 */
	/*
	 * xgnt extension (seed 004, opt-in): frames [nr_frames, nr_frames +
	 * nr_iomem_frames) are I/O memory, not RAM. A privileged domain may
	 * grant them and a mapper reaches them only with XGNT_GNTMAP_iomem_map.
	 * 0: no iomem, and the extension flag is ignored exactly as Xen ignores
	 * the unused GNTMAP bit.
	 */
	uint32_t nr_iomem_frames;
	/*
	 * How many kernel mappings (VMAs) all domains' address spaces may use
	 * together: each grant mapping or hole in a domain's memory can cost
	 * up to two. 0: vm.max_map_count less a reserve for the rest of the
	 * process. Operations that would exceed it fail as Xen fails an
	 * operation it has no room for; revoking a mapping never fails.
	 */
	uint32_t max_vmas;
};

/*
 * xgnt extension: a GNTMAP bit Xen leaves unused (bits 5..15 are neither
 * flags nor guest-available bits). Honoured only on machines that declare
 * iomem frames; see docs/fidelity.md.
 */
#define _XGNT_GNTMAP_iomem_map 5
#define XGNT_GNTMAP_iomem_map  (1u << _XGNT_GNTMAP_iomem_map)

/* cfg may be NULL (all defaults). NULL and errno on failure. */
XGNT_API struct xgnt_machine *xgnt_machine_create(const struct xgnt_machine_config *cfg);
/* Destroys every remaining domain, then the machine. */
XGNT_API void xgnt_machine_destroy(struct xgnt_machine *m);

/* Frames of machine memory not allocated to anyone (for tools and tests). */
XGNT_API uint32_t xgnt_machine_free_frames(struct xgnt_machine *m);

/*
 * Machine memory as a file: frame f is at offset f * 4096 of this memfd
 * (RAM, then iomem), *nr_frames of them. For a daemon that lets processes
 * act as domains: it passes the fd so that a process maps the frames it was
 * given (a grant it mapped, a page it shares). Whoever holds the fd can
 * map any frame: it is not a capability (DESIGN.md, threat model). The fd
 * stays the machine's; callers dup it if they keep it.
 */
XGNT_API int xgnt_machine_memfd(struct xgnt_machine *m, uint64_t *nr_frames);

enum xgnt_domain_type {
	XGNT_DOMAIN_HVM = 0, /* x86 auto-translated guest (HVM/PVH): Xen's HVM semantics */
	XGNT_DOMAIN_PV,      /* x86 paravirtualised guest: grant frames are MFNs */
	XGNT_DOMAIN_ARM,     /* Arm guest: auto-translated, grant v1 only */
};

struct xgnt_domain_config {
	domid_t domid;                 /* below DOMID_FIRST_RESERVED; unused on this machine */
	enum xgnt_domain_type type;
	uint32_t ram_frames;           /* RAM pages, populated at creation; 0: 16384 (64 MiB) */
	uint32_t ext_frames;           /* extended region, unpopulated; 0: 262144 (1 GiB) */
	uint32_t nr_vcpus;             /* 0: 1 */
	uint32_t max_grant_frames;     /* 0: the machine's default */
	uint32_t max_maptrack_frames;  /* 0: the machine's default */
	bool privileged;               /* control domain (what Xen allows dom0) */
	/* Highest event-channel port (Xen's max_evtchn_port; the ABI's own
	 * limit applies too). 0: 1023 (xl's default), or the ABI limit for a
	 * privileged domain. */
	uint32_t max_evtchn_port;
};

/* NULL and errno on failure (EEXIST: domid in use; EINVAL; ENOMEM). */
XGNT_API struct xgnt_domain *xgnt_domain_create(struct xgnt_machine *m,
						const struct xgnt_domain_config *cfg);
/* Xen's domain destruction: releases the domain's grants, mappings it holds,
 * event channels and memory, with Xen's rules for frames others still map.
 * 0 or -errno. */
XGNT_API int xgnt_domain_destroy(struct xgnt_domain *d);
XGNT_API struct xgnt_domain *xgnt_domain_lookup(struct xgnt_machine *m, domid_t domid);
XGNT_API domid_t xgnt_domain_id(const struct xgnt_domain *d);

/* The guest's address space as this process sees it. For HVM and Arm
 * domains addr is a guest-physical address; for PV domains a guest linear
 * address (which the model maps 1:1 onto its pseudo-physical space).
 * Returns NULL where addr is outside the domain. Reading or writing a page
 * that is not populated faults, as it would in the guest. */
XGNT_API void *xgnt_domain_va(struct xgnt_domain *d, uint64_t addr);

struct xgnt_domain_layout {
	uint64_t ram_base, ram_size;   /* populated RAM */
	uint64_t ext_base, ext_size;   /* unpopulated: room for foreign mappings,
					  grant-table frames, shared_info */
};
XGNT_API void xgnt_domain_layout(const struct xgnt_domain *d, struct xgnt_domain_layout *out);

/* PV domains grant machine frames: pfn -> mfn of their RAM, as Xen's
 * start_info mfn_list tells a PV guest. INVALID_MFN if none. */
XGNT_API xen_pfn_t xgnt_domain_pfn_to_mfn(const struct xgnt_domain *d, xen_pfn_t pfn);

/* The machine frame shown at guest frame gfn of d (translated: a GFN; PV:
 * a pseudo-physical frame of the linear 1:1 space): its RAM, a grant
 * mapping, a grant-table frame. INVALID_MFN where nothing is. */
XGNT_API xen_pfn_t xgnt_domain_gfn_to_mfn(struct xgnt_domain *d, xen_pfn_t gfn);

/* The machine frame of d's shared_info page (start_info->shared_info for a
 * PV guest; translated guests place it with XENMAPSPACE_shared_info). */
XGNT_API xen_pfn_t xgnt_domain_shared_info_mfn(const struct xgnt_domain *d);

/* vCPU id of d, or NULL. A vCPU is used by one thread at a time. */
XGNT_API struct xgnt_vcpu *xgnt_domain_vcpu(struct xgnt_domain *d, unsigned int id);

/* Hypercalls, issued by vCPU v. Numbers, argument structures, return values
 * and per-element status codes are Xen's. Guest handles inside arguments
 * (set_xen_guest_handle) hold pointers in this process. */
XGNT_API long xgnt_grant_table_op(struct xgnt_vcpu *v, unsigned int cmd, void *uop,
				  unsigned int count);
XGNT_API long xgnt_memory_op(struct xgnt_vcpu *v, unsigned int cmd, void *arg);
XGNT_API long xgnt_event_channel_op(struct xgnt_vcpu *v, int cmd, void *arg);
XGNT_API long xgnt_vcpu_op(struct xgnt_vcpu *v, int cmd, unsigned int vcpuid, void *arg);

/* Upcalls: readable (an eventfd) whenever Xen would raise the event-channel
 * upcall on this vCPU (evtchn_upcall_pending set while unmasked). The guest
 * reads its shared_info / vcpu_info to find the ports; reading the fd
 * acknowledges the wake-up, not the events. */
XGNT_API int xgnt_vcpu_upcall_fd(struct xgnt_vcpu *v);

/*
 * PV page tables, reduced to what the model needs (HYPERVISOR_update_va_mapping):
 * map machine frame mfn at the page of linear address va in the PV domain's
 * address space, or clear that page (mfn == INVALID_MFN). The frame must be
 * the domain's own (RAM, its grant-table or status frames, its shared_info),
 * as Xen allows a PV guest, or for the control domain a frame of I/O
 * memory (the iomem extension); a page holding a grant mapping cannot be
 * overwritten (unmap it first). prot: XGNT_PROT_READ, optionally
 * XGNT_PROT_WRITE. 0, -EINVAL (bad va, frame or prot), -EPERM (not the
 * domain's frame), -EBUSY (a grant mapping is there), -ENOSYS (not PV).
 */
#define XGNT_PROT_READ  1u
#define XGNT_PROT_WRITE 2u
XGNT_API long xgnt_update_va_mapping(struct xgnt_vcpu *v, uint64_t va, xen_pfn_t mfn,
				     unsigned int prot);

/* ---- Introspection, for tools (xgnt dump) and tests. ---------------------
 * Each walk takes a consistent snapshot under the relevant locks and calls
 * cb once per item; a non-zero return from cb stops the walk and is
 * returned. */

struct xgnt_grant_info {          /* a shared entry in use (flags != 0) */
	grant_ref_t ref;
	uint16_t flags;           /* GTF_* of the entry (v2: type bits) */
	uint16_t status;          /* v2: the status word; v1: GTF_reading|writing of flags */
	domid_t domid;            /* the grantee */
	uint64_t frame;           /* as the granter wrote it */
};
struct xgnt_active_info {         /* an active (pinned) entry */
	grant_ref_t ref;
	domid_t domid;            /* pinned for */
	uint32_t pin;             /* Xen's packed counters */
	uint8_t hstw, hstr, devw, devr;
	xen_pfn_t mfn;
	uint16_t start, length;   /* sub-page window */
	bool is_sub_page;
	domid_t trans_domid;
	grant_ref_t trans_gref;
};
struct xgnt_mapping_info {        /* a live maptrack entry of the mapper */
	grant_handle_t handle;
	domid_t domid;            /* granter */
	grant_ref_t ref;
	uint32_t flags;           /* GNTMAP_* still held (host/device/readonly) */
	unsigned int vcpu;
};
struct xgnt_table_info {
	unsigned int version;
	unsigned int nr_grant_frames, max_grant_frames;
	unsigned int nr_status_frames;
	unsigned int maptrack_limit, max_maptrack_frames;
	unsigned int nr_active, nr_mappings;
};

XGNT_API int xgnt_domain_table_info(struct xgnt_domain *d, struct xgnt_table_info *out);
XGNT_API int xgnt_domain_walk_grants(struct xgnt_domain *d,
				     int (*cb)(const struct xgnt_grant_info *, void *),
				     void *arg);
XGNT_API int xgnt_domain_walk_active(struct xgnt_domain *d,
				     int (*cb)(const struct xgnt_active_info *, void *),
				     void *arg);
XGNT_API int xgnt_domain_walk_mappings(struct xgnt_domain *d,
				       int (*cb)(const struct xgnt_mapping_info *, void *),
				       void *arg);

/*
 * The invariant checker (for tests and fuzzers): at a quiescent point (no
 * hypercall in flight) checks that pins equal the maptrack entries naming
 * them, every grant mapping
 * is backed by exactly one slot of its mapper's address space and no slot
 * shows a frame that is neither the domain's own nor granted to it, and
 * every frame's reference count balances. With XGNT_CHECK_GTF also that
 * GTF_reading/GTF_writing are set exactly while pinned: Xen maintains
 * them, but they live in memory the granting guest can write, so only a
 * caller that knows its guests left them alone can ask for it. 0, or
 * -EUCLEAN with the first violation described in buf.
 */
#define XGNT_CHECK_GTF 1u
XGNT_API int xgnt_machine_check(struct xgnt_machine *m, unsigned int flags, char *buf,
				size_t len);

/* Xen's 'g' debug key: each domain's grant table, active entries and
 * maptrack, as text (a header line, then one line per item). 0 or the
 * walk's -errno. */
XGNT_API int xgnt_machine_dump(struct xgnt_machine *m, FILE *out);
XGNT_API int xgnt_domain_dump(struct xgnt_domain *d, FILE *out);

/* Domains of the machine, in domid order (including none that are dying). */
XGNT_API int xgnt_machine_walk_domains(struct xgnt_machine *m,
				       int (*cb)(struct xgnt_domain *, void *), void *arg);

#ifdef __cplusplus
}
#endif
#endif /* XGNT_HV_H */
