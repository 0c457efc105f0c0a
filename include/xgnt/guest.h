/* SPDX-License-Identifier: MIT */
/*
 * xgnt: the guest side. What a guest OS contains to use grant tables and
 * event channels, written against a small port interface (how a guest
 * issues hypercalls and sees its own memory), so the same code runs
 * in-process, against the daemon, and later on real Xen.
 *
 * A guest context (struct xgnt_guest) is one domain as its kernel sees it.
 * The source-compatible interfaces (<xgnt/zephyr/gnttab.h>, Linux's reserve
 * API, the Mini-OS entry points, <xgnt/evtchn.h>) act for the guest bound
 * to the calling thread (xgnt_guest_bind).
 */
#ifndef XGNT_GUEST_H
#define XGNT_GUEST_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/vcpu.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(XGNT_BUILDING) && defined(__GNUC__)
#define XGNT_GUEST_API __attribute__((visibility("default")))
#else
#define XGNT_GUEST_API
#endif

#ifndef INVALID_MFN
#define INVALID_MFN (~(xen_pfn_t)0)
#endif
#ifndef INVALID_GFN
#define INVALID_GFN (~(xen_pfn_t)0)
#endif

/* ---- the port: how a guest reaches its hypervisor ------------------------ */

/* Protection bits of update_va_mapping (the same values as <xgnt/hv.h>). */
#define XGNT_PROT_READ  1u
#define XGNT_PROT_WRITE 2u

struct xgnt_port;

struct xgnt_port_ops {
	/* Hypercalls, issued on vCPU vcpu of the guest; Xen's arguments and
	 * results. */
	long (*grant_table_op)(struct xgnt_port *p, unsigned int vcpu, unsigned int cmd,
			       void *uop, unsigned int count);
	long (*memory_op)(struct xgnt_port *p, unsigned int vcpu, unsigned int cmd, void *arg);
	long (*event_channel_op)(struct xgnt_port *p, unsigned int vcpu, int cmd, void *arg);
	long (*vcpu_op)(struct xgnt_port *p, unsigned int vcpu, int cmd, unsigned int vcpuid,
			void *arg);
	/* PV only: map machine frame mfn at linear address va (INVALID_MFN:
	 * clear), prot XGNT_PROT_READ [| XGNT_PROT_WRITE]; -ENOSYS for
	 * translated guests. */
	long (*update_va_mapping)(struct xgnt_port *p, unsigned int vcpu, uint64_t va,
				  xen_pfn_t mfn, unsigned int prot);
	/* The guest's address space as this process sees it (NULL outside). */
	void *(*va)(struct xgnt_port *p, uint64_t addr);
	/* Readable when the upcall is raised on vcpu. */
	int (*upcall_fd)(struct xgnt_port *p, unsigned int vcpu);
	void (*destroy)(struct xgnt_port *p);
};

struct xgnt_port {
	const struct xgnt_port_ops *ops;
};

/* What a guest knows about itself at boot (from its start info / device
 * tree / the toolstack). */
struct xgnt_guest_info {
	domid_t domid;
	bool translated;               /* HVM/PVH/Arm: grant entries name GFNs */
	bool arm;                      /* grant v1 only */
	uint32_t nr_vcpus;
	uint64_t ram_size;             /* RAM at [0, ram_size) */
	uint64_t ext_base, ext_size;   /* unpopulated region for foreign maps etc. */
	xen_pfn_t shared_info_mfn;     /* PV: start_info->shared_info */
	const xen_pfn_t *mfn_list;     /* PV: pfn -> mfn of RAM (start_info) */
};

/* ---- the guest context ------------------------------------------------------ */

struct xgnt_guest;
struct xgnt_domain;

/* A guest over any port; takes ownership of port (destroyed with the guest). */
XGNT_GUEST_API struct xgnt_guest *xgnt_guest_create(struct xgnt_port *port,
						    const struct xgnt_guest_info *info);
/* A guest for domain d of an in-process machine (<xgnt/hv.h>). */
XGNT_GUEST_API struct xgnt_guest *xgnt_guest_create_inproc(struct xgnt_domain *d);
/* Ends every grant it can, unbinds every event channel, tears the grant
 * table down and frees the context. */
XGNT_GUEST_API void xgnt_guest_destroy(struct xgnt_guest *g);

XGNT_GUEST_API const struct xgnt_guest_info *xgnt_guest_info(const struct xgnt_guest *g);
XGNT_GUEST_API struct xgnt_port *xgnt_guest_port(struct xgnt_guest *g);

/* The calling thread acts for g on vCPU vcpu (g NULL: unbind). Several
 * guests may live in one process, one per thread at a time. 0 or -errno. */
XGNT_GUEST_API int xgnt_guest_bind(struct xgnt_guest *g, unsigned int vcpu);
XGNT_GUEST_API struct xgnt_guest *xgnt_guest_current(void);
XGNT_GUEST_API unsigned int xgnt_guest_current_vcpu(void);

/* Guest address <-> pointer in this process, and the frame number the
 * guest grants for a pointer into its RAM (a GFN, or an MFN for PV). */
XGNT_GUEST_API void *xgnt_guest_va(struct xgnt_guest *g, uint64_t addr);
XGNT_GUEST_API uint64_t xgnt_guest_addr(struct xgnt_guest *g, const void *p);
XGNT_GUEST_API xen_pfn_t xgnt_guest_frame(struct xgnt_guest *g, const void *p);

/* Hypercalls on the bound vCPU (or vCPU 0 when called from an unbound
 * thread): thin wrappers over the port. */
XGNT_GUEST_API long xgnt_hyp_grant_table_op(struct xgnt_guest *g, unsigned int cmd, void *uop,
					    unsigned int count);
XGNT_GUEST_API long xgnt_hyp_memory_op(struct xgnt_guest *g, unsigned int cmd, void *arg);
XGNT_GUEST_API long xgnt_hyp_event_channel_op(struct xgnt_guest *g, int cmd, void *arg);
XGNT_GUEST_API long xgnt_hyp_vcpu_op(struct xgnt_guest *g, int cmd, unsigned int vcpuid,
				     void *arg);

/* ---- guest memory: pages of RAM, and room for foreign mappings --------------- */

/* n contiguous pages of the guest's RAM (a simple page allocator over the
 * RAM the guest owns, as a kernel's). NULL when exhausted. */
XGNT_GUEST_API void *xgnt_page_alloc(struct xgnt_guest *g, unsigned int n);
XGNT_GUEST_API void xgnt_page_free(struct xgnt_guest *g, void *p, unsigned int n);

/*
 * n contiguous pages where foreign grants can be mapped (host_addr of a
 * map op is xgnt_guest_addr() of it). From the extended region when it
 * has room, else ballooned RAM (decrease_reservation; given back with
 * populate_physmap on release). NULL when neither has room.
 */
XGNT_GUEST_API void *xgnt_unpopulated_alloc(struct xgnt_guest *g, unsigned int n);
XGNT_GUEST_API int xgnt_unpopulated_free(struct xgnt_guest *g, void *p, unsigned int n);

/* ---- grant table ------------------------------------------------------------ */

/*
 * Set the grant table up the way real guests do: GNTTABOP_set_version
 * (version 0: keep 1), GNTTABOP_query_size, then the first frame mapped
 * (XENMEM_add_to_physmap for translated guests, setup_table and the frame
 * list for PV; v2 status frames too). The table then grows on demand up to
 * the maximum the hypervisor reported. 0 or -errno.
 */
XGNT_GUEST_API int xgnt_gnttab_init(struct xgnt_guest *g, unsigned int version);
/* Suspend/resume-style re-setup: the frames are mapped again (entries in
 * use are preserved by the guest across it). */
XGNT_GUEST_API int xgnt_gnttab_resume(struct xgnt_guest *g);
XGNT_GUEST_API unsigned int xgnt_gnttab_version(struct xgnt_guest *g);
XGNT_GUEST_API unsigned int xgnt_gnttab_nr_frames(struct xgnt_guest *g);
XGNT_GUEST_API unsigned int xgnt_gnttab_max_frames(struct xgnt_guest *g);

/* Grant references: a free list safe under concurrency. -ENOSPC when the
 * table is full and cannot grow (never blocks). */
XGNT_GUEST_API int xgnt_gref_alloc(struct xgnt_guest *g, grant_ref_t *ref);
XGNT_GUEST_API void xgnt_gref_free(struct xgnt_guest *g, grant_ref_t ref);

/* Grant domid access to frame: frame and domid, barrier, flags last. */
XGNT_GUEST_API int xgnt_grant_access(struct xgnt_guest *g, domid_t domid, xen_pfn_t frame,
				     bool readonly, grant_ref_t *ref);
XGNT_GUEST_API void xgnt_grant_access_ref(struct xgnt_guest *g, grant_ref_t ref, domid_t domid,
					  xen_pfn_t frame, bool readonly);
/* Is ref still in use by its grantee (GTF_reading|GTF_writing)? */
XGNT_GUEST_API bool xgnt_grant_in_use(struct xgnt_guest *g, grant_ref_t ref);
/* End access: 0 and ref freed; -EBUSY while the peer has it mapped (the
 * entry stays and ref is kept). The _ref variant ends but keeps ref. */
XGNT_GUEST_API int xgnt_end_access(struct xgnt_guest *g, grant_ref_t ref);
XGNT_GUEST_API int xgnt_end_access_ref(struct xgnt_guest *g, grant_ref_t ref);
/*
 * End access now or later: if the peer still has it mapped, the reference
 * is queued and retried (xgnt_gnttab_poll_deferred, and on every later
 * grant operation); release(page, arg) runs only once the peer is done.
 */
XGNT_GUEST_API void xgnt_end_access_deferred(struct xgnt_guest *g, grant_ref_t ref,
					     void (*release)(void *page, void *arg), void *page,
					     void *arg);
XGNT_GUEST_API unsigned int xgnt_gnttab_poll_deferred(struct xgnt_guest *g);
XGNT_GUEST_API unsigned int xgnt_gnttab_nr_deferred(struct xgnt_guest *g);

/* Transfer: accept a frame into pfn; end returns the received frame (an MFN
 * for PV, the GFN it landed at for translated guests), or INVALID_MFN if
 * none arrived (the reference is freed either way once ended). */
XGNT_GUEST_API int xgnt_grant_transfer(struct xgnt_guest *g, domid_t domid, xen_pfn_t pfn,
				       grant_ref_t *ref);
XGNT_GUEST_API xen_pfn_t xgnt_end_transfer(struct xgnt_guest *g, grant_ref_t ref);

/* Map / unmap batches with per-op status; GNTST_eagain retried. 0, or
 * -errno from the hypercall. */
XGNT_GUEST_API int xgnt_map_refs(struct xgnt_guest *g, struct gnttab_map_grant_ref *ops,
				 unsigned int count);
XGNT_GUEST_API int xgnt_unmap_refs(struct xgnt_guest *g, struct gnttab_unmap_grant_ref *ops,
				   unsigned int count);
XGNT_GUEST_API int xgnt_copy(struct xgnt_guest *g, struct gnttab_copy *ops, unsigned int count);

/* Xen's text for a GNTST_* status. */
XGNT_GUEST_API const char *xgnt_gnttabop_error(int16_t status);

/*
 * Suspend-style teardown of the table's mappings (the frames leave the
 * guest's address space; the hypervisor keeps the entries), undone by
 * xgnt_gnttab_resume. No grant operation may run in between, as in a
 * guest whose other CPUs are stopped for suspend. 0 or -errno.
 */
XGNT_GUEST_API int xgnt_gnttab_suspend(struct xgnt_guest *g);

/* Transfer on a reference the caller holds (Linux's _ref variants): end
 * returns the frame as xgnt_end_transfer does but keeps ref. */
XGNT_GUEST_API void xgnt_grant_transfer_ref(struct xgnt_guest *g, grant_ref_t ref, domid_t domid,
					    xen_pfn_t pfn);
XGNT_GUEST_API xen_pfn_t xgnt_end_transfer_ref(struct xgnt_guest *g, grant_ref_t ref);

/* xgnt_gnttab_poll_deferred returns how many deferred ends it completed;
 * xgnt_gnttab_nr_deferred counts those still waiting. Ends that could not
 * be queued (no memory) are leaked with their pages, as Linux does: */
XGNT_GUEST_API unsigned int xgnt_gnttab_nr_leaked(struct xgnt_guest *g);

/* ---- reserve batches and free callbacks (what Linux's reserve API wraps) ---- */

/* The end of a private batch: a head equal to it holds no references. */
#define XGNT_GREF_LIST_END ((grant_ref_t)0xffffffffu)

/*
 * Take n references at once into a private batch (all or nothing; the
 * table grows if it must): *head is the first, and the batch is chained
 * through the library. 0, -ENOSPC, or -ENODEV before xgnt_gnttab_init.
 * A batch is its owner's: claims and releases on one batch must not race.
 */
XGNT_GUEST_API int xgnt_gref_alloc_batch(struct xgnt_guest *g, unsigned int n, grant_ref_t *head);
/* One reference from the batch: the ref (>= 0), or -ENOSPC when empty. */
XGNT_GUEST_API int xgnt_gref_claim(struct xgnt_guest *g, grant_ref_t *head);
/* Put a claimed (ended) reference back into the batch. */
XGNT_GUEST_API void xgnt_gref_release(struct xgnt_guest *g, grant_ref_t *head, grant_ref_t ref);
/* Give every unclaimed reference of the batch back to the table. */
XGNT_GUEST_API void xgnt_gref_free_batch(struct xgnt_guest *g, grant_ref_t head);
XGNT_GUEST_API bool xgnt_gref_batch_empty(const grant_ref_t *head);
/* References free in the frames mapped now (growth can add more). */
XGNT_GUEST_API unsigned int xgnt_gref_nr_free(struct xgnt_guest *g);

/*
 * Free callbacks (Linux's gnttab_request_free_callback): fn(arg) runs once,
 * as soon as at least count references are free (at once if they already
 * are, the table growing first if it can), from the thread that freed
 * them and with no library lock held, so fn may allocate references.
 * Requesting a callback already pending changes nothing. The struct is
 * the caller's and must stay valid until it has fired or been cancelled;
 * cancel returns only once fn is no longer running (unless called from
 * fn itself).
 */
struct xgnt_gref_callback {
	struct xgnt_gref_callback *next;   /* private */
	void (*fn)(void *arg);
	void *arg;
	unsigned int count;
};
XGNT_GUEST_API void xgnt_gref_request_free_callback(struct xgnt_guest *g,
						    struct xgnt_gref_callback *cb,
						    void (*fn)(void *arg), void *arg,
						    unsigned int count);
XGNT_GUEST_API void xgnt_gref_cancel_free_callback(struct xgnt_guest *g,
						   struct xgnt_gref_callback *cb);

#ifdef __cplusplus
}
#endif

/* The source-compatible interfaces over the guest bound to the calling
 * thread: Zephyr's, Linux's and Mini-OS's grant-table APIs (each header
 * may also be included alone). XGNT_GUEST_NO_COMPAT leaves them out. */
#ifndef XGNT_GUEST_NO_COMPAT
#include <xgnt/zephyr/gnttab.h>
#include <xgnt/linux/grant_table.h>
#include <xgnt/minios/gnttab.h>
#endif
#endif /* XGNT_GUEST_H */
