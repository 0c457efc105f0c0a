/* SPDX-License-Identifier: MIT */
/*
 * The guest grant table's private state, shared by gnttab.c (set-up,
 * growth, resume, the free list), gnttab_access.c (grant, end, deferred
 * end, transfer), gnttab_reserve.c (reserve batches, free callbacks) and
 * gnttab_ops.c (map, unmap, copy). Locks: docs/locking.md, "Guest grant
 * table".
 */
#ifndef XGNT_GUEST_GNTTAB_INT_H
#define XGNT_GUEST_GNTTAB_INT_H

#include "guest_int.h"

#define GTAB_RESERVED        GNTTAB_NR_RESERVED_ENTRIES                 /* 8 */
#define GTAB_PER_FRAME_V1    (PAGE_SIZE / sizeof(grant_entry_v1_t))     /* 512 */
#define GTAB_PER_FRAME_V2    (PAGE_SIZE / sizeof(grant_entry_v2_t))     /* 256 */
#define GTAB_STATUS_PER_PAGE (PAGE_SIZE / sizeof(grant_status_t))       /* 2048 */
/* v2 grant frames whose status words one status frame holds. */
#define GTAB_V2_PER_STATUS   (GTAB_STATUS_PER_PAGE / GTAB_PER_FRAME_V2) /* 8 */

/*
 * link[ref] says where a reference is:
 *   GREF_USED       handed out (allocated, claimed, or lost to a peer)
 *   another ref     the next one on the free list or in a private batch
 *   GREF_END        the last one on the free list or in a private batch
 */
#define GREF_END  XGNT_GREF_LIST_END
#define GREF_USED ((grant_ref_t)0xfffffffeu)

static inline unsigned int gtab_status_frames(unsigned int grant_frames)
{
	return DIV_ROUND_UP(grant_frames, GTAB_V2_PER_STATUS);
}

/* An end of access waiting for its peer (xgnt_end_access_deferred). */
struct gtab_deferred {
	struct gtab_deferred *next;
	grant_ref_t ref;
	void (*release)(void *page, void *arg);
	void *page, *arg;
};

struct gnttab_state {
	/* Immutable between xgnt_gnttab_init and gnttab_guest_fini. */
	struct xgnt_guest *g;
	unsigned int version;          /* 1 or 2 */
	unsigned int per_frame;        /* entries per grant frame (512 or 256) */
	unsigned int max_frames;       /* the hypervisor's maximum, or less if the
					  guest had no room to place that many */
	void *area;                    /* max_frames pages where the frames live */
	void *status_area;             /* v2: gtab_status_frames(max_frames) pages */
	union {
		grant_entry_v1_t *v1;  /* version 1: area */
		grant_entry_v2_t *v2;  /* version 2: area */
	} shared;
	grant_status_t *status;        /* version 2: status_area */

	/*
	 * grow_lock serialises growth, suspend and resume: it is held across
	 * the hypercalls that place frames (no other lock is), and protects
	 * nr_status and suspended. It is never taken under free_lock.
	 */
	plat_mutex_t grow_lock;
	unsigned int nr_status;        /* v2 status frames mapped */
	bool suspended;

	/*
	 * free_lock protects the free list (free_head, free_tail, nr_free and
	 * the link[] words of the refs on it), the callback list and
	 * cb_firing. link[] words of refs in a private batch belong to the
	 * batch's owner. nr_frames is written under grow_lock and free_lock
	 * together, so that under free_lock it matches the list.
	 */
	plat_mutex_t free_lock;
	grant_ref_t *link;             /* [max_frames * per_frame] */
	grant_ref_t free_head, free_tail;
	unsigned int nr_free;
	_Atomic unsigned int nr_frames;   /* grant frames mapped (release store) */
	struct xgnt_gref_callback *callbacks;   /* pending, oldest first */
	struct xgnt_gref_callback *cb_firing;   /* whose fn runs now, or NULL */
	uintptr_t cb_firing_thread;

	/* deferred_lock protects the queue (dq_head, dq_tail). */
	plat_mutex_t deferred_lock;
	struct gtab_deferred *dq_head, **dq_tail;
	_Atomic unsigned int nr_deferred;  /* queued, or being retried */
	_Atomic unsigned int nr_leaked;    /* could not be queued (no memory) */
	atomic_flag polling;               /* an opportunistic retry is running */
};

/* g's table, or NULL before xgnt_gnttab_init (published with release). */
static inline struct gnttab_state *gtab_get(struct xgnt_guest *g)
{
	return __atomic_load_n(&g->gt, __ATOMIC_ACQUIRE);
}

static inline unsigned int gtab_nr_entries(struct gnttab_state *gt)
{
	return atomic_load_explicit(&gt->nr_frames, memory_order_acquire) * gt->per_frame;
}

/* A reference the guest may hand out: not reserved, in a mapped frame. */
static inline bool gtab_ref_ok(struct gnttab_state *gt, grant_ref_t ref)
{
	return ref >= GTAB_RESERVED && ref < gtab_nr_entries(gt);
}

/* The 16-bit flags word of ref: v1 flags, v2 hdr.flags. */
static inline uint16_t *gtab_flags(struct gnttab_state *gt, grant_ref_t ref)
{
	return gt->version == 1 ? &gt->shared.v1[ref].flags : &gt->shared.v2[ref].hdr.flags;
}

/* ---- gnttab.c: the free list ---- */
/* n refs off the free list as a chain ending in GREF_END, growing the table
 * if it must; all or nothing. 0, -ENOSPC (full), or -errno of growth. */
int gtab_take(struct gnttab_state *gt, unsigned int n, grant_ref_t *first);
/* Put the chain first..last (n refs, linked by the caller) on the free list
 * and run the callbacks that became ready. */
void gtab_put_chain(struct gnttab_state *gt, grant_ref_t first, grant_ref_t last,
		    unsigned int n);
/* Grow so that `missing` more refs would be free, if the table can. */
int gtab_grow(struct gnttab_state *gt, unsigned int seen_frames, unsigned int missing);

/* ---- gnttab_access.c ---- */
/* End access to ref (permit or an uncommitted accept-transfer): 0 and the
 * entry is invalid, or -EBUSY and it is unchanged. No lock needed. */
int gtab_end_entry(struct gnttab_state *gt, grant_ref_t ref);
/* Retry up to max deferred ends; returns how many completed. No lock held. */
unsigned int gtab_poll_deferred(struct gnttab_state *gt, unsigned int max);
/* At teardown: one last retry, then the rest are dropped (leaked). */
void gtab_deferred_fini(struct gnttab_state *gt);

/* ---- gnttab_reserve.c ---- */
/* Run, one at a time and with no lock held, the callbacks now ready. */
void gtab_fire_callbacks(struct gnttab_state *gt);

#endif
