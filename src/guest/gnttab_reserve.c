/* SPDX-License-Identifier: MIT */
/*
 * Reserve batches and free callbacks, the layer Linux's reserve API
 * (gnttab_alloc_grant_references and friends) wraps: a batch is a private
 * chain of references taken from the free list all at once, claimed and
 * released by its owner without any lock; a free callback runs once when
 * enough references are free, never under a lock it could need.
 */
#include "gnttab_int.h"

#include <errno.h>
#include <sched.h>

int xgnt_gref_alloc_batch(struct xgnt_guest *g, unsigned int n, grant_ref_t *head)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	if (!gt)
		return -ENODEV;
	if (!head)
		return -EINVAL;
	if (!n) {
		*head = GREF_END;
		return 0;
	}
	return gtab_take(gt, n, head);
}

int xgnt_gref_claim(struct xgnt_guest *g, grant_ref_t *head)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	grant_ref_t ref;

	if (!gt || !head)
		return -EINVAL;
	ref = *head;
	if (ref == GREF_END)
		return -ENOSPC;
	if (!gtab_ref_ok(gt, ref) || gt->link[ref] == GREF_USED) {
		guest_log("gref_claim: head %u is not a batch", ref);
		return -EINVAL;
	}
	*head = gt->link[ref];
	gt->link[ref] = GREF_USED;
	return (int)ref;
}

void xgnt_gref_release(struct xgnt_guest *g, grant_ref_t *head, grant_ref_t ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	if (!gt || !head || !gtab_ref_ok(gt, ref) || gt->link[ref] != GREF_USED) {
		guest_log("gref_release: ref %u is not a claimed reference", ref);
		return;
	}
	gt->link[ref] = *head;
	*head = ref;
}

bool xgnt_gref_batch_empty(const grant_ref_t *head)
{
	return !head || *head == GREF_END;
}

void xgnt_gref_free_batch(struct xgnt_guest *g, grant_ref_t head)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	unsigned int n = 0, limit;
	grant_ref_t ref, last = GREF_END;

	if (!gt || head == GREF_END)
		return;
	/* The chain is the owner's: walk it without a lock, bounded. */
	limit = gtab_nr_entries(gt);
	for (ref = head; ref != GREF_END; ref = gt->link[ref]) {
		if (!gtab_ref_ok(gt, ref) || gt->link[ref] == GREF_USED || n == limit) {
			guest_log("gref_free_batch: broken batch at ref %u: leaked", ref);
			return;
		}
		last = ref;
		n++;
	}
	gtab_put_chain(gt, head, last, n);
}

/* ---- free callbacks ------------------------------------------------------------------ */

/* free_lock held: unlink cb if it is pending; whether it was. */
static bool cb_unlink(struct gnttab_state *gt, struct xgnt_gref_callback *cb)
{
	struct xgnt_gref_callback **pp;

	assert(plat_mutex_held(&gt->free_lock));
	for (pp = &gt->callbacks; *pp; pp = &(*pp)->next) {
		if (*pp == cb) {
			*pp = cb->next;
			cb->next = NULL;
			return true;
		}
	}
	return false;
}

/*
 * One thread fires at a time (cb_firing); a thread that frees references
 * while another fires leaves the work to it: the firing loop looks again
 * after every callback, so nothing ready is missed. The callback struct is
 * not touched once its fn has been called (fn may free it).
 */
void gtab_fire_callbacks(struct gnttab_state *gt)
{
	struct xgnt_gref_callback **pp, *cb;
	void (*fn)(void *);
	void *arg;

	plat_mutex_lock(&gt->free_lock);
	if (gt->cb_firing) {
		plat_mutex_unlock(&gt->free_lock);
		return;
	}
	for (;;) {
		for (pp = &gt->callbacks; *pp && (*pp)->count > gt->nr_free; pp = &(*pp)->next)
			;
		cb = *pp;
		if (!cb)
			break;
		*pp = cb->next;
		cb->next = NULL;
		fn = cb->fn;
		arg = cb->arg;
		gt->cb_firing = cb;
		gt->cb_firing_thread = plat_self();
		plat_mutex_unlock(&gt->free_lock);
		fn(arg);
		plat_mutex_lock(&gt->free_lock);
		gt->cb_firing = NULL;
	}
	plat_mutex_unlock(&gt->free_lock);
}

void xgnt_gref_request_free_callback(struct xgnt_guest *g, struct xgnt_gref_callback *cb,
				     void (*fn)(void *arg), void *arg, unsigned int count)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	struct xgnt_gref_callback **pp;
	unsigned int missing = 0, seen = 0;

	if (!gt || !cb || !fn) {
		guest_log("request_free_callback: no table, callback or function");
		return;
	}
	plat_mutex_lock(&gt->free_lock);
	for (pp = &gt->callbacks; *pp; pp = &(*pp)->next) {
		if (*pp == cb) {   /* already pending: as Linux, nothing changes */
			plat_mutex_unlock(&gt->free_lock);
			return;
		}
	}
	cb->next = NULL;
	cb->fn = fn;
	cb->arg = arg;
	cb->count = count;
	*pp = cb;
	if (count > gt->nr_free) {
		missing = count - gt->nr_free;
		seen = atomic_load_explicit(&gt->nr_frames, memory_order_relaxed);
	}
	plat_mutex_unlock(&gt->free_lock);
	/* Free now includes what the table can still grow by. */
	if (missing)
		gtab_grow(gt, seen, missing);
	gtab_fire_callbacks(gt);
}

void xgnt_gref_cancel_free_callback(struct xgnt_guest *g, struct xgnt_gref_callback *cb)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	if (!gt || !cb)
		return;
	plat_mutex_lock(&gt->free_lock);
	cb_unlink(gt, cb);
	/* Running on another thread: wait for it, so the caller may free cb. */
	while (gt->cb_firing == cb && gt->cb_firing_thread != plat_self()) {
		plat_mutex_unlock(&gt->free_lock);
		sched_yield();
		plat_mutex_lock(&gt->free_lock);
	}
	plat_mutex_unlock(&gt->free_lock);
}
