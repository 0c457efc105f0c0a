/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_transfer (PV callers only): a frame changes owner. The caller's
 * frame is stolen (it must carry no reference but its own), the receiver's
 * accept-transfer entry is committed with a bounded compare-and-swap, the
 * frame is assigned to the receiver (and, for a translated receiver,
 * placed at the gfn its entry names; a PV receiver learns the mfn from the
 * entry), and GTF_transfer_completed is published last.
 *
 * Modelling decision: PV domains have no page tables here, so the frame
 * leaves the caller's address space as part of the transfer (under Xen the
 * guest drops its own mappings first). See docs/fidelity.md.
 */
#include "gnttab.h"

#include <errno.h>

#define PREPARE_RETRIES 4

/* Take mfn from d: on success d no longer owns or shows it, and nobody
 * holds a reference (the count is 0, so none can be taken): the caller
 * assigns or frees it. GNTST_bad_page if it is not d's to give. */
static int16_t steal_page(struct xgnt_domain *d, uint64_t mfn)
{
	struct xgnt_machine *m = d->m;
	struct page_info *pg;
	uint32_t gpfn, expect;
	bool shown;

	if (!mfn_valid(m, mfn) || mfn_is_iomem(m, mfn))
		return GNTST_bad_page;
	pg = mfn_to_page(m, mfn);
	plat_mutex_lock(&d->p2m_lock);
	if (atomic_load(&pg->owner) != d || atomic_load(&pg->kind) != PGK_RAM) {
		plat_mutex_unlock(&d->p2m_lock);
		return GNTST_bad_page;
	}
	if (!p2m_room(d, 1, false)) {
		plat_mutex_unlock(&d->p2m_lock);
		return GNTST_general_error;   /* nothing taken */
	}
	gpfn = atomic_load(&pg->gpfn);
	shown = gpfn != INVALID_GPFN && gpfn < d->nr_slots && d->p2m[gpfn].mfn == mfn &&
		(d->p2m[gpfn].type == P2M_RAM || d->p2m[gpfn].type == P2M_RAM_RO);
	/* Allocated, plus its own slot: anything more is someone else's
	 * mapping or copy in flight. A count of zero (with the allocated bit)
	 * stops any new get_page while ownership changes. */
	expect = PGC_allocated | (shown ? 2 : 1);
	if (!atomic_compare_exchange_strong(&pg->count_info, &expect, PGC_allocated)) {
		plat_mutex_unlock(&d->p2m_lock);
		return GNTST_bad_page;
	}
	if (shown)
		p2m_clear_locked(d, gpfn);   /* its reference was folded in above */
	if (gpfn != INVALID_GPFN && gpfn < d->ram_frames && d->pfn_to_mfn &&
	    d->pfn_to_mfn[gpfn] == mfn)
		d->pfn_to_mfn[gpfn] = INVALID_MFN;
	atomic_store(&pg->gpfn, INVALID_GPFN);
	atomic_store(&pg->owner, NULL);
	/* The count stays 0 while the frame has no owner: nobody can take a
	 * reference (get_page refuses a zero count) until it is assigned or
	 * freed (XSA-287 class). */
	plat_mutex_unlock(&d->p2m_lock);
	if (atomic_fetch_sub(&d->tot_pages, 1) == 1)
		dom_frame_freed(d);
	return GNTST_okay;
}

/* A stolen frame that found no home goes back to the allocator. */
static void free_stolen(struct xgnt_machine *m, uint64_t mfn)
{
	atomic_store_explicit(&mfn_to_page(m, mfn)->count_info, 1, memory_order_release);
	put_page(m, mfn);
}

/* Xen's gnttab_prepare_for_transfer: commit e's entry ref to a transfer
 * from ldom. Table read lock held. */
static bool prepare_for_transfer(struct grant_table *gt, uint32_t ref, domid_t ldom)
{
	uint32_t *word, scombo;
	int retries = 0;

	if (ref >= nr_grant_entries(gt))
		return false;
	word = (uint32_t *)(void *)shared_flags(gt, ref);   /* flags, domid */
	scombo = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	for (;;) {
		if ((uint16_t)scombo != GTF_accept_transfer || (domid_t)(scombo >> 16) != ldom)
			return false;
		if (__atomic_compare_exchange_n(word, &scombo, scombo | GTF_transfer_committed,
						false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
		if (retries++ == PREPARE_RETRIES)
			return false;   /* the guest keeps rewriting it */
	}
}

/* Hand the stolen frame (our one reference) to e as its memory. */
static void assign_page(struct xgnt_domain *e, uint64_t mfn)
{
	struct page_info *pg = mfn_to_page(e->m, mfn);

	atomic_store(&pg->owner, e);
	atomic_store(&pg->gpfn, INVALID_GPFN);
	if (atomic_fetch_add(&e->tot_pages, 1) == 0)
		get_domain(e);
	/* From a zero count nobody could raise: now e's memory. */
	atomic_store_explicit(&pg->count_info, PGC_allocated | 1, memory_order_release);
}

static int16_t transfer_one(struct xgnt_vcpu *v, struct gnttab_transfer *gop)
{
	struct xgnt_domain *d = v->d, *e;
	struct grant_table *egt;
	struct p2m_entry prev;
	uint64_t mfn = gop->mfn, frame;
	int16_t rc;

	rc = steal_page(d, mfn);
	if (rc != GNTST_okay)
		return rc;
	e = dom_lookup(d->m, gop->domid);
	if (!e) {
		free_stolen(d->m, mfn);
		return GNTST_bad_domain;
	}
	egt = e->gt;
	plat_read_lock(&egt->lock);   /* no version change until committed */
	if (atomic_load(&e->is_dying) || atomic_load(&e->tot_pages) >= e->max_pages ||
	    !prepare_for_transfer(egt, gop->ref, d->id)) {
		plat_read_unlock(&egt->lock);
		put_domain(e);
		free_stolen(d->m, mfn);
		return GNTST_general_error;
	}
	/* Assigned under e's p2m lock, which destruction passes through after
	 * marking e dying: a dying domain never gains a frame. */
	plat_mutex_lock(&e->p2m_lock);
	if (atomic_load(&e->is_dying) || atomic_load(&e->tot_pages) >= e->max_pages) {
		plat_mutex_unlock(&e->p2m_lock);
		plat_read_unlock(&egt->lock);
		put_domain(e);
		free_stolen(d->m, mfn);
		return GNTST_general_error;
	}
	assign_page(e, mfn);
	rc = GNTST_okay;
	prev.type = P2M_EMPTY;
	if (e->translated) {
		frame = gt_entry_frame(egt, gop->ref);
		get_page_ref(e->m, mfn);   /* for the slot */
		if (frame >= e->nr_slots || p2m_is_grant(e->p2m[frame].type) ||
		    !p2m_room(e, 1, false) || p2m_set_locked(e, frame, mfn, P2M_RAM, &prev)) {
			prev.type = P2M_EMPTY;
			rc = GNTST_general_error;   /* the frame stays e's, unplaced */
		}
	}
	plat_mutex_unlock(&e->p2m_lock);
	if (e->translated) {
		if (rc != GNTST_okay)
			put_page(e->m, mfn);
		else if (prev.type != P2M_EMPTY)
			put_page(e->m, prev.mfn);  /* still allocated to e, as on x86 */
	} else if (egt->version == 1) {
		__atomic_store_n(&shared_entry_v1(egt, gop->ref)->frame, (uint32_t)mfn,
				 __ATOMIC_RELAXED);
		atomic_store(&mfn_to_page(e->m, mfn)->gpfn, INVALID_GPFN);
	} else {
		__atomic_store_n(&shared_entry_v2(egt, gop->ref)->full_page.frame, mfn,
				 __ATOMIC_RELAXED);
	}
	/* The frame before the flag that says it is there; set even when
	 * placing it failed (Xen does the same). */
	__atomic_fetch_or(shared_flags(egt, gop->ref), (uint16_t)GTF_transfer_completed,
			  __ATOMIC_RELEASE);
	plat_read_unlock(&egt->lock);
	put_domain(e);
	return rc;
}

long gnttab_transfer(struct xgnt_vcpu *v, struct gnttab_transfer *op, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		op[i].status = transfer_one(v, &op[i]);
	return 0;
}
