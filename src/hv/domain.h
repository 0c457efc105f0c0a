/* SPDX-License-Identifier: MIT */
/*
 * Domains and vCPUs: identity, lifetime, and the domain's address space
 * (the window), whose slots are its physmap (translated guests) or its
 * page tables reduced to one mapping per linear page (PV guests).
 */
#ifndef XGNT_HV_DOMAIN_H
#define XGNT_HV_DOMAIN_H

#include "machine.h"

struct grant_table;
struct evtchn_domain;
struct evtchn_vcpu;

/* What a slot of the window shows. Every non-empty slot holds a page ref. */
enum p2m_type {
	P2M_EMPTY = 0,
	P2M_RAM,        /* the domain's own frame, writable */
	P2M_RAM_RO,     /* PV only: own frame mapped read-only (update_va_mapping) */
	P2M_XENHEAP,    /* grant-table / status frame or shared_info, writable */
	P2M_GRANT_RW,   /* foreign frame through a grant mapping */
	P2M_GRANT_RO,
};

struct p2m_entry {
	uint32_t mfn;
	uint8_t type;   /* enum p2m_type */
	uint8_t revoking; /* grant slot being unmapped: still shown until the
			     batch's flush (p2m_flush_revoking); nothing else
			     may use or change it meanwhile */
};

static inline bool p2m_is_grant(uint8_t t)
{
	return t == P2M_GRANT_RW || t == P2M_GRANT_RO;
}

struct xgnt_vcpu {
	/* Immutable after creation. */
	struct xgnt_domain *d;
	unsigned int id;

	/*
	 * Per-vCPU maptrack free list (handles of d as a mapper), threaded
	 * through grant_mapping.ref. Innermost lock: nothing is taken inside.
	 */
	plat_mutex_t maptrack_freelist_lock;
	uint32_t maptrack_head;   /* MAPTRACK_TAIL when empty */
	uint32_t maptrack_tail;

	int upcall_fd;            /* eventfd: readable when the upcall is raised */
	struct evtchn_vcpu *ev;   /* immutable pointer; see event.h */
};

struct xgnt_domain {
	/* Immutable after creation. */
	struct xgnt_machine *m;
	domid_t id;
	enum xgnt_domain_type type;
	bool translated;          /* HVM and Arm: grant entries name GFNs */
	bool privileged;
	uint32_t ram_frames, ext_frames;
	uint32_t nr_slots;        /* ram_frames + ext_frames */
	uint8_t *window;          /* nr_slots pages of this process's address space */
	uint32_t nr_vcpus;
	struct xgnt_vcpu *vcpus;
	uint32_t max_pages;       /* Xen's max_pages: what the domain may own */
	uint64_t shared_info_mfn;
	struct grant_table *gt;   /* pointer immutable; contents have their locks */
	struct evtchn_domain *ev; /* likewise */

	/* Lifetime: a reference per lookup in flight, one held by the domain
	 * table while the domain is live, one held while it owns frames. */
	_Atomic int refcnt;
	_Atomic bool is_dying;
	_Atomic uint32_t tot_pages;

	/*
	 * p2m_lock protects p2m[], pfn_to_mfn[] and what the window shows.
	 * Order: gt->lock -> act->lock -> p2m_lock -> m->alloc_lock (see
	 * gnttab.h). Destruction marks a domain dying and then passes through
	 * this lock, so whoever gives a domain frames checks is_dying under it.
	 */
	plat_mutex_t p2m_lock;
	struct p2m_entry *p2m;    /* [nr_slots] */
	int64_t vmas;             /* kernel mappings the window uses now */
	uint64_t *pfn_to_mfn;     /* PV only: [ram_frames] the start_info mfn list */
};

static inline bool is_pv(const struct xgnt_domain *d)
{
	return d->type == XGNT_DOMAIN_PV;
}

void get_domain(struct xgnt_domain *d);
void put_domain(struct xgnt_domain *d);

/* Xen's rcu_lock_domain_by_any_id: DOMID_SELF is the caller. Referenced. */
struct xgnt_domain *dom_lookup_any(struct xgnt_domain *self, domid_t id);
/* Xen's rcu_lock_domain_by_id: DOMID_SELF is not accepted. Referenced. */
struct xgnt_domain *dom_lookup(struct xgnt_machine *m, domid_t id);
/* The first domain with an id >= *id (referenced, as dom_lookup), found in
 * one pass under domains_lock; *id is set past it. NULL when none is left.
 * For walks over every domain: one lock hold, not one per possible id. */
struct xgnt_domain *dom_lookup_next(struct xgnt_machine *m, unsigned int *id);

/* XSM_TARGET under the dummy policy: self, or a privileged caller. */
static inline bool xsm_target(const struct xgnt_domain *src, const struct xgnt_domain *t)
{
	return src == t || src->privileged;
}

/* Called by put_page when a dying domain gives up its last frame. */
void dom_frame_freed(struct xgnt_domain *d);

/* ---- the window (p2m.c). All of these take d->p2m_lock themselves. ---- */

/* Show mfn at slot gfn with type t; the caller passes in one page ref,
 * which the slot keeps on success. The previous content of the slot (if
 * any) is returned in *old, with its ref now owned by the caller. */
int p2m_set(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, enum p2m_type t,
	    struct p2m_entry *old);
/* Empty slot gfn if it holds (mfn, t) [t < 0: any non-grant type]; the
 * slot's ref passes to the caller. -ENOENT if it holds something else. */
int p2m_clear_if(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, int t);
struct p2m_entry p2m_get(struct xgnt_domain *d, uint64_t gfn);
/*
 * Batched revocation (Xen flushes once per unmap batch): mark slot gfn,
 * which must show (mfn, t) and not be marked already, as going (0 or
 * -ENOENT); then take every marked slot of gfns[] away with one mmap per
 * contiguous run. The slots' references pass to the caller.
 */
int p2m_mark_revoking(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, int t);
void p2m_flush_revoking(struct xgnt_domain *d, uint64_t *gfns, unsigned int n);
/* Unlocked versions for callers holding p2m_lock. */
int p2m_set_locked(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, enum p2m_type t,
		   struct p2m_entry *old);
void p2m_clear_locked(struct xgnt_domain *d, uint64_t gfn);
/* Empty every slot, dropping refs (domain teardown). */
void p2m_teardown(struct xgnt_domain *d);
/* Room for `changes` more slot changes (and a new grant slot) within the
 * machine's mapping budget; p2m_lock held. */
bool p2m_room(struct xgnt_domain *d, unsigned int changes, bool new_grant);
/* The window appears / goes (domain create and free). */
void p2m_window_created(struct xgnt_domain *d);
void p2m_window_gone(struct xgnt_domain *d);
/* Map a run of the window at once: slots [gfn, gfn+n) show mfn..mfn+n-1. */
int p2m_populate_run(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, uint32_t n);

/* A slot's guest frame number from a host_addr: translated guests use
 * guest-physical addresses, PV guests linear ones; both are 1:1 here. */
static inline bool addr_to_slot(const struct xgnt_domain *d, uint64_t addr, uint64_t *gfn)
{
	*gfn = addr >> PAGE_SHIFT;
	return *gfn < d->nr_slots;
}

/* ---- memory ops (memory.c) ---- */
/* Remove the page at gfn from d (Xen's guest_remove_page). 0 or -errno. */
int mem_remove_page(struct xgnt_domain *d, uint64_t gfn);

#endif /* XGNT_HV_DOMAIN_H */
