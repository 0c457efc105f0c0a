/* SPDX-License-Identifier: MIT */
/*
 * Granting and ending access, following the protocol of Xen's public
 * grant_table.h: an entry is published frame and domid first, flags last
 * with release; it is ended only when the peer no longer uses it (v1: a
 * compare-and-swap on the flags; v2: clear the flags, then look at the
 * status word), and a busy entry keeps its reference. Deferred ends, and
 * accept-transfer entries with their end.
 */
#include "gnttab_int.h"

#include <errno.h>
#include <sched.h>
#include <time.h>

#define GTF_IN_USE (GTF_reading | GTF_writing)

/* Compare-and-swap attempts against a hypervisor that keeps changing an
 * entry's flags (it changes them only while pinning or unpinning). */
#define END_RETRIES 64

/* How long end_transfer waits for a committed transfer to complete. */
#define TRANSFER_WAIT_NS 1000000000ll

static void write_entry(struct gnttab_state *gt, grant_ref_t ref, domid_t domid,
			xen_pfn_t frame, uint16_t flags)
{
	if (gt->version == 1) {
		grant_entry_v1_t *e = &gt->shared.v1[ref];

		__atomic_store_n(&e->frame, (uint32_t)frame, __ATOMIC_RELAXED);
		__atomic_store_n(&e->domid, domid, __ATOMIC_RELAXED);
		/* The barrier of the header's step 3: flags last. */
		__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
	} else {
		grant_entry_v2_t *e = &gt->shared.v2[ref];

		__atomic_store_n(&e->full_page.frame, (uint64_t)frame, __ATOMIC_RELAXED);
		__atomic_store_n(&e->hdr.domid, domid, __ATOMIC_RELAXED);
		__atomic_store_n(&e->hdr.flags, flags, __ATOMIC_RELEASE);
	}
}

/* A frame a v1 entry cannot name (its frame field has 32 bits). */
static bool frame_too_big(struct gnttab_state *gt, xen_pfn_t frame)
{
	return gt->version == 1 && frame > UINT32_MAX;
}

int xgnt_grant_access(struct xgnt_guest *g, domid_t domid, xen_pfn_t frame, bool readonly,
		      grant_ref_t *ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	int rc;

	if (!gt)
		return -ENODEV;
	if (!ref || frame_too_big(gt, frame))
		return -EINVAL;
	rc = xgnt_gref_alloc(g, ref);
	if (rc)
		return rc;
	write_entry(gt, *ref, domid, frame, GTF_permit_access | (readonly ? GTF_readonly : 0));
	return 0;
}

void xgnt_grant_access_ref(struct xgnt_guest *g, grant_ref_t ref, domid_t domid,
			   xen_pfn_t frame, bool readonly)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	if (!gt || !gtab_ref_ok(gt, ref) || frame_too_big(gt, frame)) {
		guest_log("grant_access_ref: bad ref %u or frame %#llx", ref,
			  (unsigned long long)frame);
		return;
	}
	write_entry(gt, ref, domid, frame, GTF_permit_access | (readonly ? GTF_readonly : 0));
}

bool xgnt_grant_in_use(struct xgnt_guest *g, grant_ref_t ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	if (!gt || ref >= gtab_nr_entries(gt))
		return false;
	if (gt->version == 1)
		return __atomic_load_n(&gt->shared.v1[ref].flags, __ATOMIC_ACQUIRE) & GTF_IN_USE;
	return __atomic_load_n(&gt->status[ref], __ATOMIC_ACQUIRE) & GTF_IN_USE;
}

/*
 * The header's "invalidating an unused entry": compare-and-swap the flags
 * to 0 unless the entry is busy (permit: mapped; accept-transfer:
 * committed). busy_mask says which bits mean busy.
 */
static int end_cas(uint16_t *pflags, uint16_t busy_mask)
{
	uint16_t flags = __atomic_load_n(pflags, __ATOMIC_ACQUIRE);
	unsigned int tries;

	for (tries = 0; tries < END_RETRIES; tries++) {
		if (flags & busy_mask)
			return -EBUSY;
		/* Reuse of the entry depends on this succeeding: no barrier
		 * beyond the exchange itself (the header's NB). */
		if (__atomic_compare_exchange_n(pflags, &flags, 0, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return 0;
	}
	return -EBUSY;   /* it keeps changing: someone is using it */
}

static bool is_transfer(uint16_t flags)
{
	return (flags & GTF_type_mask) == GTF_accept_transfer;
}

int gtab_end_entry(struct gnttab_state *gt, grant_ref_t ref)
{
	grant_entry_v2_t *e;
	uint16_t flags;

	if (gt->version == 1) {
		uint16_t *pflags = &gt->shared.v1[ref].flags;

		flags = __atomic_load_n(pflags, __ATOMIC_ACQUIRE);
		return end_cas(pflags, is_transfer(flags) ? GTF_transfer_committed : GTF_IN_USE);
	}
	e = &gt->shared.v2[ref];
	flags = __atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE);
	if (is_transfer(flags))   /* Xen commits transfers in hdr.flags */
		return end_cas(&e->hdr.flags, GTF_transfer_committed);
	/*
	 * v2 keeps reading/writing in the status word: clear the flags so no
	 * new mapping can start, then look (Xen sets the status, then
	 * re-reads the flags: one of us sees the other). If the peer has it,
	 * put the entry back as it was and keep the reference.
	 */
	__atomic_store_n(&e->hdr.flags, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&gt->status[ref], __ATOMIC_SEQ_CST) & GTF_IN_USE) {
		__atomic_store_n(&e->hdr.flags, flags, __ATOMIC_RELEASE);
		return -EBUSY;
	}
	return 0;
}

int xgnt_end_access_ref(struct xgnt_guest *g, grant_ref_t ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	if (!gt)
		return -ENODEV;
	if (!gtab_ref_ok(gt, ref))
		return -EINVAL;
	return gtab_end_entry(gt, ref);
}

int xgnt_end_access(struct xgnt_guest *g, grant_ref_t ref)
{
	int rc = xgnt_end_access_ref(g, ref);

	if (!rc)
		xgnt_gref_free(g, ref);
	return rc;
}

/* ---- deferred ends ---------------------------------------------------------------- */

void xgnt_end_access_deferred(struct xgnt_guest *g, grant_ref_t ref,
			      void (*release)(void *page, void *arg), void *page, void *arg)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	struct gtab_deferred *d;

	if (!gt || !gtab_ref_ok(gt, ref)) {
		guest_log("end_access_deferred: bad ref %u", ref);
		return;
	}
	if (gtab_end_entry(gt, ref) == 0) {
		xgnt_gref_free(g, ref);
		if (release)
			release(page, arg);
		return;
	}
	d = plat_malloc(sizeof(*d));
	if (!d) {
		/* Nothing safe to do with the page while the peer has it. */
		plat_log(PLAT_LOG_WARN, "d%u: leaking grant %u and its page", g->info.domid, ref);
		atomic_fetch_add_explicit(&gt->nr_leaked, 1, memory_order_relaxed);
		return;
	}
	d->next = NULL;
	d->ref = ref;
	d->release = release;
	d->page = page;
	d->arg = arg;
	atomic_fetch_add_explicit(&gt->nr_deferred, 1, memory_order_relaxed);
	plat_mutex_lock(&gt->deferred_lock);
	*gt->dq_tail = d;
	gt->dq_tail = &d->next;
	plat_mutex_unlock(&gt->deferred_lock);
}

/* Up to max entries off the head of the queue, for one caller to retry. */
static struct gtab_deferred *dq_detach(struct gnttab_state *gt, unsigned int max)
{
	struct gtab_deferred *head, **pp;
	unsigned int n = 0;

	plat_mutex_lock(&gt->deferred_lock);
	head = gt->dq_head;
	for (pp = &gt->dq_head; *pp && n < max; pp = &(*pp)->next)
		n++;
	gt->dq_head = *pp;
	*pp = NULL;
	if (!gt->dq_head)
		gt->dq_tail = &gt->dq_head;
	plat_mutex_unlock(&gt->deferred_lock);
	return head;
}

static void dq_requeue(struct gnttab_state *gt, struct gtab_deferred *head,
		       struct gtab_deferred **tail)
{
	if (!head)
		return;
	plat_mutex_lock(&gt->deferred_lock);
	*gt->dq_tail = head;
	gt->dq_tail = tail;
	plat_mutex_unlock(&gt->deferred_lock);
}

unsigned int gtab_poll_deferred(struct gnttab_state *gt, unsigned int max)
{
	struct gtab_deferred *d = dq_detach(gt, max), *next, *again = NULL, **tail = &again;
	unsigned int done = 0;

	/* No lock held from here: release callbacks may call back in. */
	for (; d; d = next) {
		next = d->next;
		if (gtab_end_entry(gt, d->ref)) {
			d->next = NULL;
			*tail = d;
			tail = &d->next;
			continue;
		}
		xgnt_gref_free(gt->g, d->ref);
		if (d->release)
			d->release(d->page, d->arg);
		plat_free(d);
		atomic_fetch_sub_explicit(&gt->nr_deferred, 1, memory_order_relaxed);
		done++;
	}
	dq_requeue(gt, again, tail);
	return done;
}

unsigned int xgnt_gnttab_poll_deferred(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	return gt ? gtab_poll_deferred(gt, UINT32_MAX) : 0;
}

unsigned int xgnt_gnttab_nr_deferred(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	return gt ? atomic_load_explicit(&gt->nr_deferred, memory_order_relaxed) : 0;
}

unsigned int xgnt_gnttab_nr_leaked(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	return gt ? atomic_load_explicit(&gt->nr_leaked, memory_order_relaxed) : 0;
}

void gtab_deferred_fini(struct gnttab_state *gt)
{
	struct gtab_deferred *d, *next;
	unsigned int n = 0;

	gtab_poll_deferred(gt, UINT32_MAX);
	/* What is left is still used by a peer: its page is never released. */
	for (d = dq_detach(gt, UINT32_MAX); d; d = next) {
		next = d->next;
		plat_free(d);
		n++;
	}
	if (n)
		guest_log("d%u: %u deferred grants still in use at teardown", gt->g->info.domid, n);
}

/* ---- transfer ------------------------------------------------------------------------ */

void xgnt_grant_transfer_ref(struct xgnt_guest *g, grant_ref_t ref, domid_t domid, xen_pfn_t pfn)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	if (!gt || !gtab_ref_ok(gt, ref) || frame_too_big(gt, pfn)) {
		guest_log("grant_transfer_ref: bad ref %u or pfn %#llx", ref,
			  (unsigned long long)pfn);
		return;
	}
	write_entry(gt, ref, domid, pfn, GTF_accept_transfer);
}

int xgnt_grant_transfer(struct xgnt_guest *g, domid_t domid, xen_pfn_t pfn, grant_ref_t *ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	int rc;

	if (!gt)
		return -ENODEV;
	if (!ref || frame_too_big(gt, pfn))
		return -EINVAL;
	rc = xgnt_gref_alloc(g, ref);
	if (rc)
		return rc;
	write_entry(gt, *ref, domid, pfn, GTF_accept_transfer);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/*
 * The header's protocol for ending an accept-transfer entry. 0 with the
 * frame (INVALID_MFN if nothing was transferred), the entry invalid;
 * -ETIMEDOUT if a committed transfer never completed (the entry is left
 * alone: Xen may still write it); -EINVAL if ref grants access instead.
 */
static int end_transfer(struct gnttab_state *gt, grant_ref_t ref, xen_pfn_t *frame)
{
	uint16_t *pflags = gtab_flags(gt, ref), flags;
	int64_t deadline = 0;
	unsigned int spins;

	*frame = INVALID_MFN;
	flags = __atomic_load_n(pflags, __ATOMIC_ACQUIRE);
	if (flags && !is_transfer(flags))
		return -EINVAL;   /* not an accept-transfer entry: left alone */
	if (end_cas(pflags, GTF_transfer_committed) == 0)
		return 0;   /* not committed: nothing came, and now nothing will */
	/* Committed: Xen writes the frame, then sets completed, promptly. */
	for (spins = 0;; spins++) {
		flags = __atomic_load_n(pflags, __ATOMIC_ACQUIRE);
		if (flags & GTF_transfer_completed)
			break;
		if (spins < 100)
			continue;
		if (!deadline)
			deadline = now_ns() + TRANSFER_WAIT_NS;
		else if (now_ns() > deadline)
			return -ETIMEDOUT;
		sched_yield();
	}
	/* The frame is read after the flag that says it is there (acquire). */
	if (gt->version == 1)
		*frame = __atomic_load_n(&gt->shared.v1[ref].frame, __ATOMIC_RELAXED);
	else
		*frame = __atomic_load_n(&gt->shared.v2[ref].full_page.frame, __ATOMIC_RELAXED);
	/* Xen is done with the entry: it can be invalidated for reuse. */
	__atomic_store_n(pflags, 0, __ATOMIC_RELEASE);
	return 0;
}

xen_pfn_t xgnt_end_transfer_ref(struct xgnt_guest *g, grant_ref_t ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	xen_pfn_t frame;

	if (!gt || !gtab_ref_ok(gt, ref))
		return INVALID_MFN;
	if (end_transfer(gt, ref, &frame))
		guest_log("d%u: ref %u: no transfer to end, or it never completed",
			  g->info.domid, ref);
	return frame;
}

xen_pfn_t xgnt_end_transfer(struct xgnt_guest *g, grant_ref_t ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	xen_pfn_t frame;

	if (!gt || !gtab_ref_ok(gt, ref))
		return INVALID_MFN;
	if (end_transfer(gt, ref, &frame)) {
		/* The reference stays taken: Xen may still write its entry. */
		guest_log("d%u: ref %u: no transfer to end, or it never completed",
			  g->info.domid, ref);
		return INVALID_MFN;
	}
	xgnt_gref_free(g, ref);
	return frame;
}
