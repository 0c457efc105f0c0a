/* SPDX-License-Identifier: MIT */
/*
 * Maptrack: the handles a mapper holds. Handles live in pages of 256
 * entries, allocated on demand up to max_maptrack_frames; free handles sit
 * on per-vCPU lists (threaded through grant_mapping.ref) so that vCPUs of
 * one domain do not contend. A handle returns to the list of the vCPU that
 * owns it; a vCPU with an empty list grows the table, or at the limit
 * steals from another vCPU's list (Xen's design, see docs/locking.md).
 * Like Xen, a list never gives out its last entry (the tail sentinel), so
 * puts at the tail and gets at the head never touch the same entry: one
 * maptrack frame gives a one-vCPU mapper 255 handles, not 256.
 */
#include "gnttab.h"

static bool pop(struct grant_table *gt, struct xgnt_vcpu *v, uint32_t *h)
{
	bool got = false;

	plat_mutex_lock(&v->maptrack_freelist_lock);
	if (v->maptrack_head != MAPTRACK_TAIL && v->maptrack_head != v->maptrack_tail) {
		*h = v->maptrack_head;
		v->maptrack_head = MT_GET(maptrack_entry(gt, *h), ref);
		got = true;
	}
	plat_mutex_unlock(&v->maptrack_freelist_lock);
	return got;
}

static void push(struct grant_table *gt, struct xgnt_vcpu *v, uint32_t h)
{
	plat_mutex_lock(&v->maptrack_freelist_lock);
	MT_SET(maptrack_entry(gt, h), ref, MAPTRACK_TAIL);
	if (v->maptrack_tail == MAPTRACK_TAIL)
		v->maptrack_head = h;
	else
		MT_SET(maptrack_entry(gt, v->maptrack_tail), ref, h);
	v->maptrack_tail = h;
	plat_mutex_unlock(&v->maptrack_freelist_lock);
}

/* Take a free handle from any vCPU's list (ours included) and make it ours. */
static bool steal(struct grant_table *gt, struct xgnt_vcpu *v, uint32_t *h)
{
	struct xgnt_domain *d = gt->d;
	unsigned int i;

	for (i = 0; i < d->nr_vcpus; i++) {
		struct xgnt_vcpu *victim = &d->vcpus[(v->id + 1 + i) % d->nr_vcpus];

		if (pop(gt, victim, h)) {
			MT_SET(maptrack_entry(gt, *h), vcpu, v->id);
			return true;
		}
	}
	return false;
}

int64_t mt_get_handle(struct grant_table *lgt, struct xgnt_vcpu *v)
{
	uint32_t h, limit, i;
	struct grant_mapping *page;

	if (pop(lgt, v, &h))
		return h;

	plat_mutex_lock(&lgt->maptrack_lock);
	limit = atomic_load_explicit(&lgt->maptrack_limit, memory_order_relaxed);
	if (limit / MAPTRACK_PER_PAGE < lgt->max_maptrack_frames &&
	    (page = plat_calloc(MAPTRACK_PER_PAGE, sizeof(*page))) != NULL) {
		for (i = 0; i < MAPTRACK_PER_PAGE; i++) {
			page[i].ref = MAPTRACK_TAIL;
			page[i].vcpu = v->id;
		}
		lgt->maptrack[limit / MAPTRACK_PER_PAGE] = page;
		/* Publish the page before the limit that makes it reachable. */
		atomic_store_explicit(&lgt->maptrack_limit, limit + MAPTRACK_PER_PAGE,
				      memory_order_release);
		for (i = 1; i < MAPTRACK_PER_PAGE; i++)
			push(lgt, v, limit + i);
		plat_mutex_unlock(&lgt->maptrack_lock);
		return limit;
	}
	plat_mutex_unlock(&lgt->maptrack_lock);
	/* At the limit (or out of memory): an uninitialised list first
	 * steals an entry to be its tail sentinel, then one to hand out. */
	plat_mutex_lock(&v->maptrack_freelist_lock);
	i = v->maptrack_tail == MAPTRACK_TAIL;
	plat_mutex_unlock(&v->maptrack_freelist_lock);
	if (i) {
		if (!steal(lgt, v, &h))
			return -1;
		push(lgt, v, h);
	}
	return steal(lgt, v, &h) ? (int64_t)h : -1;
}

void mt_put_handle(struct grant_table *lgt, uint32_t handle)
{
	struct grant_mapping *mt = maptrack_entry(lgt, handle);

	assert(atomic_load_explicit(&mt->flags, memory_order_relaxed) == 0);
	push(lgt, &lgt->d->vcpus[MT_GET(mt, vcpu)], handle);
}

void mt_destroy(struct grant_table *gt)
{
	uint32_t limit = atomic_load(&gt->maptrack_limit), i;

	for (i = 0; i < limit / MAPTRACK_PER_PAGE; i++)
		plat_free(gt->maptrack[i]);
	atomic_store(&gt->maptrack_limit, 0);
}
