/* SPDX-License-Identifier: MIT */
/*
 * Memory ops: XENMEM_add_to_physmap (grant-table frames, status frames,
 * shared_info, gmfn), remove_from_physmap, decrease_reservation and
 * populate_physmap, with Xen's checks, results and errors.
 */
#include "gnttab.h"

#include <errno.h>

/* Xen-internal: reservation ops keep their continuation in cmd. */
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK     ((1u << MEMOP_EXTENT_SHIFT) - 1)
#define DOMU_MAX_ORDER     9    /* CONFIG_DOMU_MAX_ORDER */
#define CTLDOM_MAX_ORDER   12   /* CONFIG_CTLDOM_MAX_ORDER */

static unsigned int max_order(const struct xgnt_domain *caller)
{
	return caller->privileged ? CTLDOM_MAX_ORDER : DOMU_MAX_ORDER;
}

static bool own_frame(struct xgnt_domain *d, uint64_t mfn)
{
	return mfn_valid(d->m, mfn) && !mfn_is_iomem(d->m, mfn) &&
	       atomic_load_explicit(&mfn_to_page(d->m, mfn)->owner, memory_order_acquire) == d;
}

int mem_remove_page(struct xgnt_domain *d, uint64_t gfn)
{
	struct xgnt_machine *m = d->m;
	struct p2m_entry e;

	if (!d->translated) {
		uint32_t gpfn;

		/* PV: gfn is a machine frame of d's RAM. No page tables here, so
		 * the frame also leaves d's address space (docs/fidelity.md). */
		if (!own_frame(d, gfn) ||
		    atomic_load(&mfn_to_page(m, gfn)->kind) != PGK_RAM || !get_page(m, gfn, d))
			return -EINVAL;
		plat_mutex_lock(&d->p2m_lock);
		if (!p2m_room(d, 1, false)) {
			plat_mutex_unlock(&d->p2m_lock);
			put_page(m, gfn);
			return -ENOMEM;
		}
		gpfn = atomic_load(&mfn_to_page(m, gfn)->gpfn);
		if (gpfn != INVALID_GPFN && d->p2m[gpfn].mfn == gfn &&
		    !p2m_is_grant(d->p2m[gpfn].type)) {
			p2m_clear_locked(d, gpfn);
			put_page(m, gfn);   /* the slot's reference */
		}
		if (gpfn != INVALID_GPFN && gpfn < d->ram_frames && d->pfn_to_mfn[gpfn] == gfn)
			d->pfn_to_mfn[gpfn] = INVALID_MFN;
		plat_mutex_unlock(&d->p2m_lock);
		page_release_allocated(m, gfn);
		put_page(m, gfn);
		return 0;
	}
	if (gfn >= d->nr_slots)
		return -EINVAL;
	plat_mutex_lock(&d->p2m_lock);
	e = d->p2m[gfn];
	if (e.type == P2M_EMPTY) {
		plat_mutex_unlock(&d->p2m_lock);
		return -ENOENT;
	}
	if (e.type != P2M_RAM && e.type != P2M_XENHEAP) {
		plat_mutex_unlock(&d->p2m_lock);
		return -EINVAL;   /* a foreign frame is not d's to free */
	}
	if (!p2m_room(d, 1, false)) {
		plat_mutex_unlock(&d->p2m_lock);
		return -ENOMEM;
	}
	p2m_clear_locked(d, gfn);
	plat_mutex_unlock(&d->p2m_lock);
	put_page(m, e.mfn);   /* the slot's reference */
	/* Special pages are only unhooked; normal memory is freed. */
	if (e.type == P2M_RAM)
		page_release_allocated(m, e.mfn);
	return 0;
}

/*
 * Put mfn (one reference passed in) at gpfn of translated d, as
 * xenmem_add_to_physmap_one does: what was at gpfn goes (RAM is freed,
 * special pages are unhooked), and mfn leaves its old place.
 */
static int place_frame(struct xgnt_domain *d, uint64_t gpfn, uint64_t mfn, enum p2m_type t)
{
	struct xgnt_machine *m = d->m;
	struct p2m_entry prev, old_slot = { 0 };
	uint32_t old_gpfn;
	int rc;

	plat_mutex_lock(&d->p2m_lock);
	prev = d->p2m[gpfn];
	if (p2m_is_grant(prev.type)) {
		plat_mutex_unlock(&d->p2m_lock);
		put_page(m, mfn);
		return -EINVAL;   /* Xen crashes a guest that does this */
	}
	if (!p2m_room(d, 2, false)) {
		plat_mutex_unlock(&d->p2m_lock);
		put_page(m, mfn);
		return -ENOMEM;
	}
	old_gpfn = atomic_load(&mfn_to_page(m, mfn)->gpfn);
	if (old_gpfn != INVALID_GPFN && old_gpfn != gpfn && d->p2m[old_gpfn].mfn == mfn &&
	    d->p2m[old_gpfn].type == t) {
		old_slot = d->p2m[old_gpfn];
		p2m_clear_locked(d, old_gpfn);
	}
	rc = p2m_set_locked(d, gpfn, mfn, t, &prev);
	plat_mutex_unlock(&d->p2m_lock);
	if (old_slot.type != P2M_EMPTY)
		put_page(m, old_slot.mfn);
	if (rc) {
		put_page(m, mfn);
		return rc;
	}
	if (prev.type != P2M_EMPTY) {
		put_page(m, prev.mfn);
		if (prev.type == P2M_RAM && prev.mfn != mfn)
			page_release_allocated(m, prev.mfn);
	}
	return 0;
}

static int add_to_physmap_one(struct xgnt_domain *d, unsigned int space, uint64_t idx,
			      uint64_t gpfn)
{
	struct p2m_entry e;
	uint64_t mfn;
	bool status;
	int rc;

	if (gpfn >= d->nr_slots)
		return -EINVAL;
	switch (space) {
	case XENMAPSPACE_shared_info:
		if (idx != 0)
			return -EINVAL;
		get_page_ref(d->m, d->shared_info_mfn);
		return place_frame(d, gpfn, d->shared_info_mfn, P2M_XENHEAP);
	case XENMAPSPACE_grant_table:
		/* The table's write lock is held across the physmap change, so
		 * a version switch cannot free the frame meanwhile (XSA-486). */
		plat_write_lock(&d->gt->lock);
		rc = gt_map_frame(d->gt, idx, &mfn, &status);
		if (!rc)
			rc = place_frame(d, gpfn, mfn, P2M_XENHEAP);
		plat_write_unlock(&d->gt->lock);
		return rc;
	case XENMAPSPACE_gmfn:
		e = p2m_get(d, idx);
		if (idx >= d->nr_slots || e.type != P2M_RAM || !get_page(d->m, e.mfn, d))
			return -EINVAL;
		return place_frame(d, gpfn, e.mfn, P2M_RAM);
	default:
		return -EINVAL;
	}
}

static long add_to_physmap(struct xgnt_vcpu *v, struct xen_add_to_physmap *xatp)
{
	struct xgnt_domain *d;
	long rc;

	if (!xatp)
		return -EFAULT;
	if (xatp->space == XENMAPSPACE_gmfn_foreign)
		return -ENOSYS;   /* only through add_to_physmap_batch */
	d = dom_lookup_any(v->d, xatp->domid);
	if (!d)
		return -ESRCH;
	if (!d->translated)
		rc = -EACCES;
	else if (xatp->space == XENMAPSPACE_dev_mmio && (!d->privileged || d != v->d))
		rc = -EACCES;
	else if (!xsm_target(v->d, d))
		rc = -EPERM;
	else if (xatp->space == XENMAPSPACE_gmfn_range) {
		rc = 0;
		while (xatp->size > 0) {
			rc = add_to_physmap_one(d, XENMAPSPACE_gmfn, xatp->idx, xatp->gpfn);
			if (rc < 0)
				break;
			xatp->idx++;
			xatp->gpfn++;
			xatp->size--;
		}
	} else {
		rc = add_to_physmap_one(d, xatp->space, xatp->idx, xatp->gpfn);
	}
	put_domain(d);
	return rc;
}

static long remove_from_physmap(struct xgnt_vcpu *v, struct xen_remove_from_physmap *x)
{
	struct xgnt_domain *d;
	struct p2m_entry e;
	long rc = -ENOENT;

	if (!x)
		return -EFAULT;
	d = dom_lookup_any(v->d, x->domid);
	if (!d)
		return -ESRCH;
	if (!xsm_target(v->d, d)) {
		put_domain(d);
		return -EPERM;
	}
	if (!d->translated) {
		/* A PV guest has no physmap: its own frame is a no-op. */
		if (own_frame(d, x->gpfn))
			rc = 0;
	} else if (x->gpfn < d->nr_slots) {
		plat_mutex_lock(&d->p2m_lock);
		e = d->p2m[x->gpfn];
		if (e.type == P2M_RAM || e.type == P2M_XENHEAP) {
			p2m_clear_locked(d, x->gpfn);
			rc = 0;
		}
		plat_mutex_unlock(&d->p2m_lock);
		if (!rc)
			put_page(d->m, e.mfn);   /* RAM stays allocated, just unhooked */
	}
	put_domain(d);
	return rc;
}

static int populate_one(struct xgnt_domain *d, xen_pfn_t *slot, unsigned int order)
{
	uint64_t gpfn = *slot, n = 1ull << order, mfn, j;
	struct p2m_entry prev;

	if (gpfn >= d->nr_slots || gpfn + n > d->nr_slots)
		return -EINVAL;
	if (atomic_load(&d->tot_pages) + n > d->max_pages)
		return -ENOMEM;   /* over-allocation */
	mfn = mach_alloc_frames(d->m, d, order, PGK_RAM);
	if (mfn == INVALID_MFN)
		return -ENOMEM;
	plat_mutex_lock(&d->p2m_lock);
	for (j = 0; j < n; j++) {
		if (p2m_is_grant(d->p2m[gpfn + j].type))
			break;
	}
	/* Destruction marks d dying, then passes through this lock: a dying
	 * domain's new frames go straight back. */
	if (j < n || atomic_load(&d->is_dying) || !p2m_room(d, (unsigned int)n, false)) {
		plat_mutex_unlock(&d->p2m_lock);
		for (j = 0; j < n; j++)
			page_release_allocated(d->m, mfn + j);
		return -EINVAL;
	}
	for (j = 0; j < n; j++) {
		struct p2m_entry e = d->p2m[gpfn + j];

		if (!d->translated && e.type != P2M_EMPTY) {
			/* PV: the guest maps the new frame itself; just record m2p. */
			atomic_store(&mfn_to_page(d->m, mfn + j)->gpfn, (uint32_t)(gpfn + j));
		} else {
			get_page_ref(d->m, mfn + j);
			if (p2m_set_locked(d, gpfn + j, mfn + j, P2M_RAM, &prev)) {
				put_page(d->m, mfn + j);
				prev.type = P2M_EMPTY;
			}
			if (prev.type != P2M_EMPTY)
				put_page(d->m, prev.mfn);   /* still allocated to d: x86 keeps it */
		}
		if (!d->translated && gpfn + j < d->ram_frames)
			d->pfn_to_mfn[gpfn + j] = mfn + j;
	}
	plat_mutex_unlock(&d->p2m_lock);
	if (!d->translated)
		*slot = mfn;   /* a PV guest learns the machine frame */
	return 0;
}

static long reservation_op(struct xgnt_vcpu *v, unsigned int op, unsigned int start,
			   struct xen_memory_reservation *r)
{
	struct xgnt_domain *d;
	xen_pfn_t *list;
	unsigned int i, j;

	if (!r)
		return start;
	if (r->nr_extents > (UINT32_MAX >> MEMOP_EXTENT_SHIFT) || start >= r->nr_extents)
		return start;
	list = r->extent_start.p;
	if (!list)
		return start;
	d = dom_lookup_any(v->d, r->domid);
	if (!d)
		return start;
	if (!xsm_target(v->d, d) || r->extent_order > max_order(v->d) ||
	    atomic_load(&d->is_dying)) {
		put_domain(d);
		return start;
	}
	for (i = start; i < r->nr_extents; i++) {
		if (op == XENMEM_decrease_reservation) {
			for (j = 0; j < (1u << r->extent_order); j++)
				if (mem_remove_page(d, list[i] + j))
					goto out;
		} else if (populate_one(d, &list[i], r->extent_order)) {
			goto out;
		}
	}
out:
	put_domain(d);
	return i;
}

long xgnt_memory_op(struct xgnt_vcpu *v, unsigned int cmd, void *arg)
{
	unsigned int op, start;

	if (!v)
		return -EINVAL;
	op = cmd & MEMOP_CMD_MASK;
	start = cmd >> MEMOP_EXTENT_SHIFT;
	switch (op) {
	case XENMEM_decrease_reservation:
	case XENMEM_populate_physmap:
		return reservation_op(v, op, start, arg);
	case XENMEM_add_to_physmap:
		return add_to_physmap(v, arg);
	case XENMEM_remove_from_physmap:
		return remove_from_physmap(v, arg);
	default:
		return -ENOSYS;
	}
}
