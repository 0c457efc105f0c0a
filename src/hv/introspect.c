/* SPDX-License-Identifier: MIT */
/*
 * Introspection for tools and tests: snapshots of a domain's grant
 * entries, active entries and maptrack, taken under the table lock and
 * handed to the callback after the lock is dropped (a callback may issue
 * hypercalls).
 */
#include "gnttab.h"

#include <errno.h>
#include <stdlib.h>

int xgnt_domain_table_info(struct xgnt_domain *d, struct xgnt_table_info *out)
{
	struct grant_table *gt;
	unsigned int i, n;
	uint32_t limit;

	if (!d || !out)
		return -EINVAL;
	gt = d->gt;
	plat_read_lock(&gt->lock);
	out->version = gt->version;
	out->nr_grant_frames = gt->nr_grant_frames;
	out->max_grant_frames = gt->max_grant_frames;
	out->nr_status_frames = gt->nr_status_frames;
	out->max_maptrack_frames = gt->max_maptrack_frames;
	out->nr_active = 0;
	n = nr_grant_entries(gt);
	for (i = 0; i < n; i++) {
		struct active_grant_entry *act = active_entry_acquire(gt, i);

		out->nr_active += act->pin != 0;
		active_entry_release(act);
	}
	plat_read_unlock(&gt->lock);
	limit = atomic_load_explicit(&gt->maptrack_limit, memory_order_acquire);
	out->maptrack_limit = limit;
	out->nr_mappings = 0;
	for (i = 0; i < limit; i++)
		out->nr_mappings +=
			atomic_load_explicit(&maptrack_entry(gt, i)->flags, memory_order_acquire) != 0;
	return 0;
}

int xgnt_domain_walk_grants(struct xgnt_domain *d,
			    int (*cb)(const struct xgnt_grant_info *, void *), void *arg)
{
	struct xgnt_grant_info *snap;
	struct grant_table *gt;
	unsigned int i, n, k = 0;
	int rc = 0;

	if (!d || !cb)
		return -EINVAL;
	gt = d->gt;
	plat_read_lock(&gt->lock);
	n = nr_grant_entries(gt);
	snap = malloc((n ? n : 1) * sizeof(*snap));
	if (!snap) {
		plat_read_unlock(&gt->lock);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		uint16_t flags = __atomic_load_n(shared_flags(gt, i), __ATOMIC_ACQUIRE);
		uint16_t status = gt->version == 1 ? flags & (GTF_reading | GTF_writing)
						   : __atomic_load_n(status_word(gt, i), __ATOMIC_ACQUIRE);

		if (!flags && !status)
			continue;
		snap[k].ref = i;
		snap[k].flags = flags;
		snap[k].status = status;
		snap[k].domid = gt->version == 1 ? shared_entry_v1(gt, i)->domid
						 : shared_entry_v2(gt, i)->hdr.domid;
		snap[k].frame = gt_entry_frame(gt, i);
		k++;
	}
	plat_read_unlock(&gt->lock);
	for (i = 0; i < k && !rc; i++)
		rc = cb(&snap[i], arg);
	free(snap);
	return rc;
}

int xgnt_domain_walk_active(struct xgnt_domain *d,
			    int (*cb)(const struct xgnt_active_info *, void *), void *arg)
{
	struct xgnt_active_info *snap;
	struct grant_table *gt;
	unsigned int i, n, k = 0;
	int rc = 0;

	if (!d || !cb)
		return -EINVAL;
	gt = d->gt;
	plat_read_lock(&gt->lock);
	n = nr_grant_entries(gt);
	snap = malloc((n ? n : 1) * sizeof(*snap));
	if (!snap) {
		plat_read_unlock(&gt->lock);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct active_grant_entry *act = active_entry_acquire(gt, i);

		if (act->pin) {
			snap[k] = (struct xgnt_active_info){
				.ref = i, .domid = act->domid, .pin = act->pin,
				.hstw = (uint8_t)(act->pin >> GNTPIN_hstw_shift),
				.hstr = (uint8_t)(act->pin >> GNTPIN_hstr_shift),
				.devw = (uint8_t)(act->pin >> GNTPIN_devw_shift),
				.devr = (uint8_t)(act->pin >> GNTPIN_devr_shift),
				.mfn = act->mfn, .start = act->start, .length = act->length,
				.is_sub_page = act->is_sub_page, .trans_domid = act->src_domid,
				.trans_gref = act->trans_gref,
			};
			k++;
		}
		active_entry_release(act);
	}
	plat_read_unlock(&gt->lock);
	for (i = 0; i < k && !rc; i++)
		rc = cb(&snap[i], arg);
	free(snap);
	return rc;
}

int xgnt_domain_walk_mappings(struct xgnt_domain *d,
			      int (*cb)(const struct xgnt_mapping_info *, void *), void *arg)
{
	struct xgnt_mapping_info *snap;
	struct grant_table *gt;
	uint32_t limit, i, k = 0;
	int rc = 0;

	if (!d || !cb)
		return -EINVAL;
	gt = d->gt;
	plat_mutex_lock(&gt->maptrack_lock);   /* no page appears meanwhile */
	limit = atomic_load_explicit(&gt->maptrack_limit, memory_order_acquire);
	snap = malloc((limit ? limit : 1) * sizeof(*snap));
	if (!snap) {
		plat_mutex_unlock(&gt->maptrack_lock);
		return -ENOMEM;
	}
	for (i = 0; i < limit; i++) {
		struct grant_mapping *mt = maptrack_entry(gt, i);
		uint32_t flags = atomic_load_explicit(&mt->flags, memory_order_acquire);

		if (!flags)
			continue;
		snap[k++] = (struct xgnt_mapping_info){
			.handle = (grant_handle_t)i, .domid = MT_GET(mt, domid), .ref = MT_GET(mt, ref),
			.flags = flags, .vcpu = MT_GET(mt, vcpu),
		};
	}
	plat_mutex_unlock(&gt->maptrack_lock);
	for (i = 0; i < k && !rc; i++)
		rc = cb(&snap[i], arg);
	free(snap);
	return rc;
}
