/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_copy: the hypervisor copies between a grant (or the caller's own
 * frame) and another, through its own view of machine memory, so nothing
 * changes in anyone's address space. Checks in Xen's order (b.6): domains,
 * then the source claim, then the destination claim, then the bounds.
 * v2 sub-page grants limit the window; v2 transitive grants are followed
 * exactly one level.
 */
#include "gnttab.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

/* Xen returns ERESTART and re-runs the batch later when a transitive
 * grant's pins changed under it; we retry in place. Only the caller's own
 * vCPUs move those pins, so the bound is never reached in practice. */
#define COPY_RESTARTS 100000
#define RESTART       1

struct copy_buf {
	struct xgnt_domain *d;     /* referenced */
	bool read_only;
	bool have_grant;           /* pinned through a grant of d */
	bool have_page;            /* holds a reference on mfn */
	uint32_t ref;
	uint64_t mfn;
	uint16_t start, len;       /* the window the grant allows */
};

/* Xen's get_paged_frame: the frame behind gfn of d, with a reference. */
static int16_t get_paged_frame(struct xgnt_domain *d, uint64_t gfn, uint64_t *mfn)
{
	if (d->translated) {
		struct p2m_entry e;

		if (gfn >= d->nr_slots)
			return GNTST_bad_page;
		e = p2m_get(d, gfn);
		if (e.type != P2M_RAM && e.type != P2M_XENHEAP)
			return GNTST_bad_page;
		gfn = e.mfn;
	} else if (mfn_is_iomem(d->m, gfn)) {
		return GNTST_bad_page;
	}
	if (!get_page(d->m, gfn, d))
		return GNTST_bad_page;
	*mfn = gfn;
	return GNTST_okay;
}

static void release_grant_for_copy(struct xgnt_domain *rd, uint32_t gref, bool readonly);
static int acquire_grant_for_copy(struct xgnt_domain *rd, uint32_t gref, domid_t ldom,
				  bool readonly, bool allow_transitive, uint64_t *mfn,
				  uint16_t *off, uint16_t *len);

/*
 * The transitive path, taken on every acquire of an entry whose shared
 * type is GTF_transitive (not only the first): the pin on the source
 * domain's entry is taken, and its checks (GTF_readonly) made, each time,
 * and released each time. Called and returns with rgt read-locked and act
 * held (except on RESTART, when everything is released); drops both in
 * between.
 */
static int acquire_transitive(struct xgnt_domain *rd, uint32_t gref, domid_t ldom,
			      bool readonly, bool allow_transitive,
			      struct active_grant_entry **pact, uint64_t *mfn)
{
	struct grant_table *rgt = rd->gt;
	struct active_grant_entry *act = *pact;
	grant_entry_v2_t *e = shared_entry_v2(rgt, gref);
	domid_t trans_domid = __atomic_load_n(&e->transitive.trans_domid, __ATOMIC_RELAXED);
	uint32_t trans_gref = __atomic_load_n(&e->transitive.gref, __ATOMIC_RELAXED);
	uint32_t old_pin = act->pin;
	struct xgnt_domain *td;
	uint16_t toff, tlen;
	int rc;

	if (!allow_transitive || trans_domid == rd->id)
		return GNTST_general_error;   /* one level only; never itself */
	td = dom_lookup(rd->m, trans_domid);
	if (!td)
		return GNTST_general_error;
	active_entry_release(act);
	plat_read_unlock(&rgt->lock);
	rc = acquire_grant_for_copy(td, trans_gref, rd->id, readonly, false, mfn, &toff, &tlen);
	plat_read_lock(&rgt->lock);
	*pact = act = active_entry_acquire(rgt, gref);
	if (rc != GNTST_okay) {
		put_domain(td);
		return rc == RESTART ? GNTST_general_error : rc;
	}
	/* Anything changed while unlocked: undo, with our locks dropped
	 * (XSA-411). Xen restarts the whole batch; here a change of pins (the
	 * caller's own other vCPUs at work) restarts the op, and an entry
	 * that no longer describes what is pinned fails it. */
	if (rgt->version != 2 || act->pin != old_pin ||
	    (old_pin && (act->domid != ldom || act->mfn != *mfn || act->start != toff ||
			 act->length != tlen || act->src_domid != td->id ||
			 act->trans_gref != trans_gref || !act->is_sub_page))) {
		bool pins_moved = rgt->version == 2 && act->pin != old_pin;

		gt_reduce_status_for_pin(rgt, act, gref, readonly);
		active_entry_release(act);
		plat_read_unlock(&rgt->lock);
		put_page(rd->m, *mfn);
		release_grant_for_copy(td, trans_gref, readonly);
		put_domain(td);
		if (!pins_moved) {
			plat_read_lock(&rgt->lock);
			*pact = active_entry_acquire(rgt, gref);
			return GNTST_general_error;
		}
		return RESTART;
	}
	if (!old_pin) {
		act->domid = ldom;
		act->src_domid = td->id;
		act->trans_gref = trans_gref;
		act->mfn = *mfn;
		act->start = toff;
		act->length = tlen;
		act->is_sub_page = true;
	}
	put_domain(td);   /* td's entry stays pinned for rd until release */
	return GNTST_okay;
}

/*
 * Pin gref of rd for a copy by ldom; on success returns the frame (with a
 * page reference) and the window. allow_transitive is false on the
 * recursive call: one level only.
 */
static int acquire_grant_for_copy(struct xgnt_domain *rd, uint32_t gref, domid_t ldom,
				  bool readonly, bool allow_transitive, uint64_t *mfn,
				  uint16_t *off, uint16_t *len)
{
	struct grant_table *rgt = rd->gt;
	uint32_t pin_incr = readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc, old_pin;
	struct active_grant_entry *act;
	uint16_t flags;
	bool status_change;
	int rc;

	plat_read_lock(&rgt->lock);
	if (gref >= nr_grant_entries(rgt)) {
		plat_read_unlock(&rgt->lock);
		return GNTST_bad_gntref;
	}
	act = active_entry_acquire(rgt, gref);
	if (act->pin && (act->domid != ldom || (act->pin & GNTPIN_incr2oflow_mask(pin_incr)))) {
		rc = GNTST_general_error;
		goto unlock;
	}
	old_pin = act->pin;
	status_change = !old_pin ||
			(!readonly && !(old_pin & (GNTPIN_hstw_mask | GNTPIN_devw_mask)));
	flags = __atomic_load_n(shared_flags(rgt, gref), __ATOMIC_ACQUIRE);

	if (rgt->version == 2 && (flags & GTF_type_mask) == GTF_transitive) {
		if (status_change) {
			rc = gt_set_status(rgt, gref, ldom, readonly, false, old_pin != 0);
			if (rc != GNTST_okay)
				goto unlock;
		}
		rc = acquire_transitive(rd, gref, ldom, readonly, allow_transitive, &act, mfn);
		if (rc == RESTART)
			return RESTART;          /* everything released */
		if (rc != GNTST_okay)
			goto unlock_clear;
	} else if (!old_pin) {
		uint64_t frame;

		rc = gt_set_status(rgt, gref, ldom, readonly, false, false);
		if (rc != GNTST_okay)
			goto unlock;
		frame = gt_entry_frame(rgt, gref);
		rc = get_paged_frame(rd, frame, mfn);
		if (rc != GNTST_okay)
			goto unlock_clear;
		act->domid = ldom;
		act->src_domid = rd->id;
		act->trans_gref = gref;
		act->mfn = *mfn;
		act->start = 0;
		act->length = PAGE_SIZE;
		act->is_sub_page = false;
		if (rgt->version == 2 && (flags & GTF_sub_page)) {
			grant_entry_v2_t *e = shared_entry_v2(rgt, gref);

			act->start = __atomic_load_n(&e->sub_page.page_off, __ATOMIC_RELAXED);
			act->length = __atomic_load_n(&e->sub_page.length, __ATOMIC_RELAXED);
			act->is_sub_page = true;
		}
	} else {
		/* Already pinned: the active entry's shadow is the truth, never
		 * the shared entry a guest may have rewritten since (XSA-500).
		 * An entry pinned through a transitive grant whose type the
		 * guest changed since is refused. */
		if (act->src_domid != rd->id) {
			rc = GNTST_general_error;
			goto unlock;
		}
		if (status_change) {
			uint64_t now;
			bool sub = rgt->version == 2 && (flags & GTF_sub_page);

			/* A first writable pin reads the entry again: it must still
			 * describe what is pinned (XSA-500). */
			rc = gt_set_status(rgt, gref, ldom, readonly, false, true);
			if (rc != GNTST_okay)
				goto unlock;
			rc = get_paged_frame(rd, gt_entry_frame(rgt, gref), &now);
			if (rc != GNTST_okay)
				goto unlock_clear;
			put_page(rd->m, now);
			if (now != act->mfn || sub != act->is_sub_page ||
			    (sub && (act->start != __atomic_load_n(&shared_entry_v2(rgt, gref)->sub_page.page_off,
								   __ATOMIC_RELAXED) ||
				     act->length != __atomic_load_n(&shared_entry_v2(rgt, gref)->sub_page.length,
								    __ATOMIC_RELAXED)))) {
				rc = GNTST_general_error;
				goto unlock_clear;
			}
		}
		/* The frame must still be the granter's, and the granter alive. */
		if (atomic_load(&rd->is_dying) || !get_page(rd->m, act->mfn, rd)) {
			rc = GNTST_bad_domain;
			goto unlock_clear;
		}
		*mfn = act->mfn;
	}
	act->pin += pin_incr;
	if (act->is_sub_page)
		atomic_fetch_add(&rgt->nr_v2_ops, 1);   /* set_version must wait (XSA-501) */
	*off = act->start;
	*len = act->length;
	active_entry_release(act);
	plat_read_unlock(&rgt->lock);
	return GNTST_okay;

unlock_clear:
	gt_reduce_status_for_pin(rgt, act, gref, readonly);
unlock:
	active_entry_release(act);
	plat_read_unlock(&rgt->lock);
	return rc;
}

static void release_grant_for_copy(struct xgnt_domain *rd, uint32_t gref, bool readonly)
{
	struct grant_table *rgt = rd->gt;
	struct active_grant_entry *act;
	struct xgnt_domain *td = NULL;
	uint32_t trans_gref;

	plat_read_lock(&rgt->lock);
	act = active_entry_acquire(rgt, gref);
	if (act->is_sub_page)
		atomic_fetch_sub(&rgt->nr_v2_ops, 1);
	act->pin -= readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
	trans_gref = act->trans_gref;
	if (act->src_domid != rd->id)
		td = dom_lookup(rd->m, act->src_domid);
	gt_reduce_status_for_pin(rgt, act, gref, readonly);
	active_entry_release(act);
	plat_read_unlock(&rgt->lock);
	if (td) {
		/* One level only: bounded recursion. */
		release_grant_for_copy(td, trans_gref, readonly);
		put_domain(td);
	}
}

static void release_buf(struct copy_buf *b)
{
	/* The pin before the page reference, as Xen releases them. */
	if (b->have_grant)
		release_grant_for_copy(b->d, b->ref, b->read_only);
	if (b->have_page)
		put_page(b->d->m, b->mfn);
	b->have_grant = b->have_page = false;
}

/*
 * The domain an end of a copy names, looked up once for consecutive ops
 * of a batch that name it the same way (Xen keeps them locked across the
 * batch likewise); released when an op names another, and at the end.
 */
struct copy_dom {
	struct xgnt_domain *d;   /* referenced, or NULL */
	domid_t domid;
	bool is_gref;
};

static int16_t lock_domain(struct xgnt_vcpu *v, domid_t domid, bool is_gref,
			   struct copy_dom *cd, struct copy_buf *b)
{
	if (!cd->d || cd->domid != domid || cd->is_gref != is_gref) {
		if (cd->d)
			put_domain(cd->d);
		cd->d = NULL;
		/* Both ends' domains are looked up before either end's "gmfn
		 * only with DOMID_SELF" check, which claim_buf makes: what
		 * real Xen 4.17 answers (tests/xen, docs/fidelity.md). */
		cd->d = dom_lookup_any(v->d, domid);
		if (!cd->d)
			return GNTST_bad_domain;
		cd->domid = domid;
		cd->is_gref = is_gref;
	}
	b->d = cd->d;
	return GNTST_okay;
}

static int claim_buf(struct xgnt_vcpu *v, const struct gnttab_copy_ptr *p, bool is_gref,
		     struct copy_buf *b)
{
	int rc;

	if (is_gref) {
		rc = acquire_grant_for_copy(b->d, p->u.ref, v->d->id, b->read_only, true,
					    &b->mfn, &b->start, &b->len);
		if (rc != GNTST_okay)
			return rc;
		b->ref = p->u.ref;
		b->have_grant = true;
	} else {
		if (p->domid != DOMID_SELF)
			return GNTST_permission_denied;
		rc = get_paged_frame(b->d, p->u.gmfn, &b->mfn);
		if (rc != GNTST_okay)
			return rc;
		b->start = 0;
		b->len = PAGE_SIZE;
	}
	b->have_page = true;
	return GNTST_okay;
}

static int copy_one(struct xgnt_vcpu *v, const struct gnttab_copy *op, struct copy_dom *sd,
		    struct copy_dom *dd)
{
	struct copy_buf src = { .read_only = true }, dst = { .read_only = false };
	bool sg = op->flags & GNTCOPY_source_gref, dg = op->flags & GNTCOPY_dest_gref;
	int rc;

	if (!op->len)
		return GNTST_okay;   /* nothing validated */
	rc = lock_domain(v, op->source.domid, sg, sd, &src);
	if (rc == GNTST_okay)
		rc = lock_domain(v, op->dest.domid, dg, dd, &dst);
	if (rc == GNTST_okay)
		rc = claim_buf(v, &op->source, sg, &src);
	if (rc == GNTST_okay)
		rc = claim_buf(v, &op->dest, dg, &dst);
	if (rc != GNTST_okay)
		goto out;
	/* Checked after both ends are claimed, as Xen does: a bad op still
	 * transiently pins (and flags GTF_reading/GTF_writing). */
	if (op->source.offset + op->len > PAGE_SIZE || op->dest.offset + op->len > PAGE_SIZE) {
		rc = GNTST_bad_copy_arg;
	} else if (op->source.offset < src.start ||
		   op->source.offset + op->len > src.start + src.len ||
		   op->dest.offset < dst.start ||
		   op->dest.offset + op->len > dst.start + dst.len) {
		rc = GNTST_general_error;   /* outside the sub-page window */
	} else {
		memmove((uint8_t *)mfn_to_virt(v->d->m, dst.mfn) + op->dest.offset,
			(uint8_t *)mfn_to_virt(v->d->m, src.mfn) + op->source.offset, op->len);
	}
out:
	release_buf(&dst);
	release_buf(&src);
	return rc;
}

long gnttab_copy(struct xgnt_vcpu *v, struct gnttab_copy *op, unsigned int count)
{
	struct copy_dom sd = { 0 }, dd = { 0 };
	unsigned int i, tries;

	for (i = 0; i < count; i++) {
		int rc = RESTART;

		for (tries = 0; rc == RESTART && tries < COPY_RESTARTS; tries++) {
			if (tries)
				sched_yield();
			rc = copy_one(v, &op[i], &sd, &dd);
		}
		op[i].status = (int16_t)(rc == RESTART ? GNTST_general_error : rc);
	}
	if (sd.d)
		put_domain(sd.d);
	if (dd.d)
		put_domain(dd.d);
	return 0;
}
