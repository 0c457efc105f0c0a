/* SPDX-License-Identifier: MIT */
/*
 * The grant table of a domain: creation, growth, version switches and the
 * table-level operations (setup_table, query_size, get/set_version,
 * get_status_frames, swap_grant_ref). The table only grows, up to its
 * maximum, except that status frames go when v2 goes.
 */
#include "gnttab.h"

#include <errno.h>
#include <string.h>

#define INITIAL_NR_GRANT_FRAMES 1

static void free_xenheap(struct xgnt_machine *m, uint64_t mfn)
{
	put_page(m, mfn);   /* the table's reference */
}

struct grant_table *gt_create(struct xgnt_domain *d, unsigned int max_grant_frames,
			      unsigned int max_maptrack_frames, unsigned int version)
{
	unsigned int max_status = grant_to_status_frames(max_grant_frames), i;
	struct grant_table *gt = plat_calloc(1, sizeof(*gt));

	if (!gt)
		return NULL;
	gt->d = d;
	gt->version = version;
	gt->max_grant_frames = max_grant_frames;
	gt->max_maptrack_frames = max_maptrack_frames;
	gt->shared_mfn = plat_calloc(max_grant_frames, sizeof(*gt->shared_mfn));
	gt->status_mfn = plat_calloc(max_status, sizeof(*gt->status_mfn));
	gt->active = plat_calloc(max_grant_frames, sizeof(*gt->active));
	gt->maptrack = plat_calloc(max_maptrack_frames, sizeof(*gt->maptrack));
	plat_rwlock_init(&gt->lock);
	plat_mutex_init(&gt->maptrack_lock);
	if (!gt->shared_mfn || !gt->status_mfn || !gt->active || !gt->maptrack)
		goto fail;
	for (i = 0; i < max_grant_frames; i++)
		gt->shared_mfn[i] = INVALID_MFN;
	for (i = 0; i < max_status; i++)
		gt->status_mfn[i] = INVALID_MFN;
	plat_write_lock(&gt->lock);
	i = (unsigned int)gt_grow(gt, MIN(INITIAL_NR_GRANT_FRAMES, max_grant_frames));
	plat_write_unlock(&gt->lock);
	if (i)
		goto fail;
	return gt;
fail:
	gt_destroy(gt);
	return NULL;
}

void gt_destroy(struct grant_table *gt)
{
	struct xgnt_machine *m = gt->d->m;
	unsigned int i;

	for (i = 0; i < gt->nr_grant_frames; i++) {
		free_xenheap(m, gt->shared_mfn[i]);
		plat_free(gt->active[i]);
	}
	for (i = 0; i < gt->nr_status_frames; i++)
		free_xenheap(m, gt->status_mfn[i]);
	if (gt->maptrack)
		mt_destroy(gt);
	plat_mutex_destroy(&gt->maptrack_lock);
	plat_rwlock_destroy(&gt->lock);
	plat_free(gt->maptrack);
	plat_free(gt->active);
	plat_free(gt->status_mfn);
	plat_free(gt->shared_mfn);
	plat_free(gt);
}

/* Status frames for req grant frames (v2); write lock held. */
static int populate_status_frames(struct grant_table *gt, unsigned int req)
{
	unsigned int want = grant_to_status_frames(req), i;

	for (i = gt->nr_status_frames; i < want; i++) {
		uint64_t mfn = mach_alloc_frames(gt->d->m, gt->d, 0, PGK_XENHEAP);

		if (mfn == INVALID_MFN) {
			/* Nothing half-built: the new frames go again. */
			while (i-- > gt->nr_status_frames) {
				free_xenheap(gt->d->m, gt->status_mfn[i]);
				gt->status_mfn[i] = INVALID_MFN;
			}
			return -ENOMEM;
		}
		gt->status_mfn[i] = mfn;
	}
	gt->nr_status_frames = MAX(want, gt->nr_status_frames);
	return 0;
}

int gt_grow(struct grant_table *gt, unsigned int req)
{
	unsigned int cur = gt->nr_grant_frames, i;

	assert(plat_write_held(&gt->lock));
	if (req > gt->max_grant_frames)
		return -EINVAL;
	if (req <= cur && (gt->version == 1 || grant_to_status_frames(req) <= gt->nr_status_frames))
		return 0;
	/* Active entries, then shared frames, then status frames; nothing
	 * is visible (nr_grant_frames) until all of them exist (XSA-26). */
	for (i = cur; i < req; i++) {
		gt->active[i] = plat_calloc(ACGNT_PER_CHUNK, sizeof(**gt->active));
		if (!gt->active[i])
			goto fail;
		gt->shared_mfn[i] = mach_alloc_frames(gt->d->m, gt->d, 0, PGK_XENHEAP);
		if (gt->shared_mfn[i] == INVALID_MFN)
			goto fail;
	}
	if (gt->version == 2 && populate_status_frames(gt, MAX(req, cur)) != 0)
		goto fail;
	gt->nr_grant_frames = MAX(req, cur);
	return 0;

fail:
	for (i = cur; i < req; i++) {
		if (gt->shared_mfn[i] != INVALID_MFN)
			free_xenheap(gt->d->m, gt->shared_mfn[i]);
		gt->shared_mfn[i] = INVALID_MFN;
		plat_free(gt->active[i]);
		gt->active[i] = NULL;
	}
	return -ENOMEM;
}

int gt_map_frame(struct grant_table *gt, uint64_t idx, uint64_t *mfn, bool *status)
{
	assert(plat_write_held(&gt->lock));
	*status = false;
	if (gt->version == 2 && (idx & XENMAPIDX_grant_table_status)) {
		idx &= ~(uint64_t)XENMAPIDX_grant_table_status;
		*status = true;
		if (idx >= gt->nr_status_frames) {
			uint64_t nr_grant = status_to_grant_frames((unsigned int)MIN(idx + 1, 1u << 20));

			if (nr_grant <= gt->max_grant_frames)
				gt_grow(gt, (unsigned int)nr_grant);
			if (idx >= gt->nr_status_frames)
				return -EINVAL;
		}
		*mfn = gt->status_mfn[idx];
	} else {
		if (idx >= gt->nr_grant_frames) {
			if (idx >= gt->max_grant_frames)
				return -EINVAL;
			if (gt_grow(gt, (unsigned int)idx + 1))
				return -ENOMEM;
		}
		*mfn = gt->shared_mfn[idx];
	}
	get_page_ref(gt->d->m, *mfn);  /* for the slot that will show it */
	return 0;
}

uint64_t gt_frame_gmfn(struct grant_table *gt, uint64_t mfn)
{
	uint32_t gpfn;

	if (!gt->d->translated)
		return mfn;
	gpfn = atomic_load_explicit(&mfn_to_page(gt->d->m, mfn)->gpfn, memory_order_relaxed);
	return gpfn == INVALID_GPFN ? (uint64_t)INVALID_GFN : gpfn;
}

long gnttab_setup_table(struct xgnt_vcpu *v, struct gnttab_setup_table *op, unsigned int count)
{
	struct xgnt_domain *d;
	struct grant_table *gt;
	xen_pfn_t *list;
	unsigned int i;

	if (count != 1)
		return -EINVAL;
	if (!op)
		return -EFAULT;
	list = op->frame_list.p;
	if (op->nr_frames && !list)
		return -EFAULT;
	d = dom_lookup_any(v->d, op->dom);
	if (!d) {
		op->status = GNTST_bad_domain;
		return 0;
	}
	if (!xsm_target(v->d, d)) {
		op->status = GNTST_permission_denied;
		goto out;
	}
	gt = d->gt;
	plat_write_lock(&gt->lock);
	if (op->nr_frames > gt->max_grant_frames || gt_grow(gt, op->nr_frames) != 0) {
		op->status = GNTST_general_error;
		goto unlock;
	}
	op->status = GNTST_okay;
	for (i = 0; i < op->nr_frames; i++)
		list[i] = gt_frame_gmfn(gt, gt->shared_mfn[i]);
unlock:
	plat_write_unlock(&gt->lock);
out:
	put_domain(d);
	return 0;
}

long gnttab_query_size(struct xgnt_vcpu *v, struct gnttab_query_size *op, unsigned int count)
{
	struct xgnt_domain *d;

	if (count != 1)
		return -EINVAL;
	if (!op)
		return -EFAULT;
	d = dom_lookup_any(v->d, op->dom);
	if (!d) {
		op->status = GNTST_bad_domain;
		return 0;
	}
	if (!xsm_target(v->d, d)) {
		op->status = GNTST_permission_denied;
	} else {
		plat_read_lock(&d->gt->lock);
		op->nr_frames = d->gt->nr_grant_frames;
		op->max_nr_frames = d->gt->max_grant_frames;
		plat_read_unlock(&d->gt->lock);
		op->status = GNTST_okay;
	}
	put_domain(d);
	return 0;
}

long gnttab_get_version(struct xgnt_vcpu *v, struct gnttab_get_version *op, unsigned int count)
{
	struct xgnt_domain *d;
	long rc = 0;

	(void)count;   /* Xen does not check it */
	if (!op)
		return -EFAULT;
	d = dom_lookup_any(v->d, op->dom);
	if (!d)
		return -ESRCH;
	if (!xsm_target(v->d, d)) {
		rc = -EPERM;
	} else {
		plat_read_lock(&d->gt->lock);
		op->version = d->gt->version;
		plat_read_unlock(&d->gt->lock);
	}
	put_domain(d);
	return rc;
}

/* v2 -> v1: status frames leave the guest's physmap and are freed, unless
 * something else still references them (a PV guest's own mapping). */
static int unpopulate_status_frames(struct grant_table *gt)
{
	struct xgnt_domain *d = gt->d;
	struct xgnt_machine *m = d->m;
	unsigned int i;

	for (i = 0; i < gt->nr_status_frames; i++) {
		uint64_t mfn = gt->status_mfn[i];
		uint32_t gpfn = atomic_load(&mfn_to_page(m, mfn)->gpfn);

		if (d->translated && gpfn != INVALID_GPFN &&
		    p2m_clear_if(d, gpfn, mfn, P2M_XENHEAP) == 0)
			put_page(m, mfn);   /* the slot's reference */
	}
	for (i = 0; i < gt->nr_status_frames; i++) {
		uint32_t c = atomic_load(&mfn_to_page(m, gt->status_mfn[i])->count_info);

		if ((c & PGC_count_mask) != 1)
			return -EBUSY;
	}
	for (i = 0; i < gt->nr_status_frames; i++) {
		free_xenheap(m, gt->status_mfn[i]);
		gt->status_mfn[i] = INVALID_MFN;
	}
	gt->nr_status_frames = 0;
	return 0;
}

long gnttab_set_version(struct xgnt_vcpu *v, struct gnttab_set_version *op, unsigned int count)
{
	struct xgnt_domain *d = v->d;
	struct grant_table *gt = d->gt;
	grant_entry_v1_t reserved[GNTTAB_NR_RESERVED];
	unsigned int max_version, i;
	long res;

	(void)count;   /* Xen does not check it */
	if (!op)
		return -EFAULT;
	max_version = d->type == XGNT_DOMAIN_ARM ? 1 : d->m->max_grant_version;

	res = -EINVAL;
	if (op->version != 1 && op->version != 2)
		goto out;
	res = -ENOSYS;
	if (op->version == 2 && max_version == 1)
		goto out;
	plat_write_lock(&gt->lock);
	res = 0;
	if (gt->version == op->version)
		goto out_unlock;
	/* Only the reserved entries may be in use across a switch. */
	for (i = GNTTAB_NR_RESERVED; i < nr_grant_entries(gt); i++) {
		if (__atomic_load_n(&active_entry(gt, i)->pin, __ATOMIC_RELAXED)) {
			guest_log("d%u: ref %u in use, cannot change version", d->id, i);
			res = -EBUSY;
			goto out_unlock;
		}
	}
	if (gt->version == 1) {
		res = populate_status_frames(gt, gt->nr_grant_frames);
		if (res)
			goto out_unlock;
		memcpy(reserved, shared_entry_v1(gt, 0), sizeof(reserved));
	} else {
		res = -EAGAIN;
		if (atomic_load(&gt->nr_v2_ops))
			goto out_unlock;
		for (i = 0; i < GNTTAB_NR_RESERVED; i++) {
			grant_entry_v2_t *e = shared_entry_v2(gt, i);
			uint16_t flags = __atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE);
			uint64_t frame = __atomic_load_n(&e->full_page.frame, __ATOMIC_RELAXED);

			res = -ERANGE;
			if ((flags & GTF_type_mask) == GTF_transitive ||
			    ((flags & GTF_type_mask) == GTF_permit_access && (frame >> 32)))
				goto out_unlock;
			memset(&reserved[i], 0, sizeof(reserved[i]));
			if ((flags & GTF_type_mask) == GTF_permit_access) {
				reserved[i].flags = flags | *status_word(gt, i);
				reserved[i].domid = e->hdr.domid;
				reserved[i].frame = (uint32_t)frame;
			}
		}
		res = unpopulate_status_frames(gt);
		if (res)
			goto out_unlock;
	}
	/* No crud from the old format. */
	for (i = 0; i < gt->nr_grant_frames; i++)
		memset(mfn_to_virt(d->m, gt->shared_mfn[i]), 0, PAGE_SIZE);
	gt->version = op->version;
	for (i = 0; i < GNTTAB_NR_RESERVED; i++) {
		if (gt->version == 1) {
			*shared_entry_v1(gt, i) = reserved[i];
		} else {
			grant_entry_v2_t *e = shared_entry_v2(gt, i);

			*status_word(gt, i) = reserved[i].flags & (GTF_reading | GTF_writing);
			e->hdr.flags = reserved[i].flags & ~(GTF_reading | GTF_writing);
			e->hdr.domid = reserved[i].domid;
			e->full_page.frame = reserved[i].frame;
		}
	}
	res = 0;
out_unlock:
	plat_write_unlock(&gt->lock);
out:
	op->version = gt->version;  /* written back even on error */
	return res;
}

long gnttab_get_status_frames(struct xgnt_vcpu *v, struct gnttab_get_status_frames *op,
			      unsigned int count)
{
	struct xgnt_domain *d;
	uint64_t *list;
	unsigned int i;

	if (count != 1)
		return -EINVAL;
	if (!op)
		return -EFAULT;
	list = op->frame_list.p;
	if (op->nr_frames && !list)
		return -EFAULT;
	d = dom_lookup_any(v->d, op->dom);
	if (!d) {
		op->status = GNTST_bad_domain;
		return 0;
	}
	if (!xsm_target(v->d, d)) {
		op->status = GNTST_permission_denied;
		goto out;
	}
	plat_read_lock(&d->gt->lock);
	if (op->nr_frames > d->gt->nr_status_frames) {   /* XSA-382: status frames */
		op->status = GNTST_general_error;
	} else {
		op->status = GNTST_okay;
		for (i = 0; i < op->nr_frames; i++)
			list[i] = gt_frame_gmfn(d->gt, d->gt->status_mfn[i]);
	}
	plat_read_unlock(&d->gt->lock);
out:
	put_domain(d);
	return 0;
}

static int16_t swap_one(struct grant_table *gt, grant_ref_t a, grant_ref_t b)
{
	int16_t rc = GNTST_okay;

	plat_write_lock(&gt->lock);
	if (a >= nr_grant_entries(gt) || b >= nr_grant_entries(gt)) {
		rc = GNTST_bad_gntref;
		goto out;
	}
	if (a == b)
		goto out;
	/* The write lock excludes every other holder of these entries. */
	if (active_entry(gt, a)->pin || active_entry(gt, b)->pin) {
		rc = GNTST_eagain;
		goto out;
	}
	if (gt->version == 1) {
		grant_entry_v1_t t = *shared_entry_v1(gt, a);

		*shared_entry_v1(gt, a) = *shared_entry_v1(gt, b);
		*shared_entry_v1(gt, b) = t;
	} else {
		grant_entry_v2_t t = *shared_entry_v2(gt, a);
		grant_status_t s = *status_word(gt, a);

		*shared_entry_v2(gt, a) = *shared_entry_v2(gt, b);
		*shared_entry_v2(gt, b) = t;
		*status_word(gt, a) = *status_word(gt, b);
		*status_word(gt, b) = s;
	}
out:
	plat_write_unlock(&gt->lock);
	return rc;
}

long gnttab_swap_grant_ref(struct xgnt_vcpu *v, struct gnttab_swap_grant_ref *op,
			   unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		op[i].status = swap_one(v->d->gt, op[i].ref_a, op[i].ref_b);
	return 0;
}
