/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_map_grant_ref, unmap_grant_ref and unmap_and_replace, and the
 * release of a dying domain's mappings. Checks run in Xen's order
 * (xen-hypervisor.md b.1, b.2); the mapper's window changes with no grant
 * lock held on map, and under the granter's active entry on unmap, as Xen
 * edits page tables.
 *
 * A host mapping is a slot of the mapper's window showing the granter's
 * frame; the slot holds the mapping's page reference. A device mapping
 * (PV only) holds a page reference of its own and maps nothing.
 */
#include "gnttab.h"

#include <errno.h>

static bool iomem_ext(const struct xgnt_domain *ld, uint32_t flags)
{
	return ld->m->nr_iomem_frames && (flags & XGNT_GNTMAP_iomem_map);
}

/* Xen's get_paged_frame for a first pin: the machine frame behind the
 * frame number rd granted. */
static int16_t granted_frame(struct xgnt_domain *rd, uint64_t frame, bool ext, uint64_t *mfn)
{
	struct xgnt_machine *m = rd->m;

	if (ext && rd->privileged && mfn_is_iomem(m, frame)) {
		*mfn = frame;   /* iomem is identity-mapped for the control domain */
		return GNTST_okay;
	}
	if (rd->translated) {
		struct p2m_entry e;

		if (frame >= rd->nr_slots)
			return GNTST_bad_page;
		e = p2m_get(rd, frame);
		if (e.type != P2M_RAM)
			return GNTST_bad_page;
		*mfn = e.mfn;
		return GNTST_okay;
	}
	/* PV: a machine frame, which must be rd's (get_page_from_gfn). */
	if (mfn_is_iomem(m, frame))
		return GNTST_general_error;   /* MMIO rd may not grant */
	if (!get_page(m, frame, rd))
		return GNTST_bad_page;
	put_page(m, frame);
	*mfn = frame;
	return GNTST_okay;
}

/*
 * A mapping's reference on what it maps: the frame, or for I/O memory
 * (never freed) the granting domain, which must outlive the mapping. A
 * Xen-heap frame (shared_info, grant-table and status frames: a PV guest
 * can grant them) gets both: unlike RAM it does not keep its owner alive,
 * and the granter must stay, a zombie, until the mapping goes (found by
 * fuzz_hypercalls; tests/test_fuzz_found.c).
 */
static bool is_xenheap(struct xgnt_machine *m, uint64_t mfn)
{
	return atomic_load_explicit(&mfn_to_page(m, mfn)->kind, memory_order_relaxed) ==
	       PGK_XENHEAP;
}

static bool grant_frame_get(struct xgnt_domain *rd, uint64_t mfn)
{
	if (mfn_is_iomem(rd->m, mfn)) {
		get_domain(rd);
		return true;
	}
	if (!get_page(rd->m, mfn, rd))
		return false;
	if (is_xenheap(rd->m, mfn))   /* stable while we hold a reference */
		get_domain(rd);
	return true;
}

static void grant_frame_put(struct xgnt_domain *rd, uint64_t mfn)
{
	bool xenheap;

	if (mfn_is_iomem(rd->m, mfn)) {
		put_domain(rd);
		return;
	}
	xenheap = is_xenheap(rd->m, mfn);
	put_page(rd->m, mfn);
	if (xenheap)
		put_domain(rd);
}

static uint32_t pin_incr_of(uint32_t flags)
{
	bool ro = flags & GNTMAP_readonly;
	uint32_t inc = 0;

	if (flags & GNTMAP_device_map)
		inc += ro ? GNTPIN_devr_inc : GNTPIN_devw_inc;
	if (flags & GNTMAP_host_map)
		inc += ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
	return inc;
}

/* Undo a pin taken by map (or an unmap's phase 2). */
static void unpin(struct grant_table *rgt, uint32_t ref, uint32_t pin_decr, bool readonly)
{
	struct active_grant_entry *act;

	plat_read_lock(&rgt->lock);
	act = active_entry_acquire(rgt, ref);
	for (unsigned int sh = 0; sh < 32; sh += 8)
		assert(((act->pin >> sh) & 0xff) >= ((pin_decr >> sh) & 0xff));
	act->pin -= pin_decr;
	gt_reduce_status_for_pin(rgt, act, ref, readonly);
	active_entry_release(act);
	plat_read_unlock(&rgt->lock);
}

static void map_one(struct xgnt_vcpu *v, struct gnttab_map_grant_ref *op)
{
	struct xgnt_domain *ld = v->d, *rd;
	struct grant_table *lgt = ld->gt, *rgt;
	struct active_grant_entry *act;
	uint32_t flags = op->flags, ref = op->ref, pin_incr, refs = 0;
	bool readonly = flags & GNTMAP_readonly, ext = iomem_ext(ld, flags);
	uint16_t cache_flags = 0;
	struct grant_mapping *mt;
	int64_t handle;
	uint64_t mfn = 0;
	int16_t rc;

	pin_incr = pin_incr_of(flags);
	if (!pin_incr) {
		op->status = GNTST_bad_gntref;
		return;
	}
	if (ld->translated &&
	    (flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte))) {
		op->status = GNTST_general_error;
		return;
	}
	rd = dom_lookup(ld->m, op->dom);
	if (!rd) {
		op->status = GNTST_bad_domain;
		return;
	}
	rgt = rd->gt;
	handle = mt_get_handle(lgt, v);
	if (handle < 0) {
		op->status = GNTST_no_space;
		goto out_put;
	}

	plat_read_lock(&rgt->lock);
	if (ref >= nr_grant_entries(rgt)) {
		plat_read_unlock(&rgt->lock);
		rc = GNTST_bad_gntref;
		goto out_handle;
	}
	act = active_entry_acquire(rgt, ref);
	if (act->pin && (act->domid != ld->id || (act->pin & GNTPIN_incr2oflow_mask(pin_incr)) ||
			 act->is_sub_page)) {
		rc = GNTST_general_error;
		goto out_act;
	}
	if (!act->pin || (!readonly && !(act->pin & (GNTPIN_hstw_mask | GNTPIN_devw_mask)))) {
		rc = gt_set_status(rgt, ref, ld->id, readonly, true, act->pin != 0);
		if (rc != GNTST_okay)
			goto out_act;
		if (!act->pin) {
			uint64_t frame = gt_entry_frame(rgt, ref);

			cache_flags = *shared_flags(rgt, ref) & (GTF_PAT | GTF_PWT | GTF_PCD);
			rc = granted_frame(rd, frame, ext, &mfn);
			if (rc != GNTST_okay) {
				gt_reduce_status_for_pin(rgt, act, ref, readonly);
				goto out_act;
			}
			act->domid = ld->id;
			act->src_domid = rd->id;
			act->trans_gref = ref;
			act->mfn = mfn;
			act->start = 0;
			act->length = PAGE_SIZE;
			act->is_sub_page = false;
		}
	}
	act->pin += pin_incr;
	mfn = act->mfn;
	active_entry_release(act);
	plat_read_unlock(&rgt->lock);

	/* Frame references, with no grant lock held. */
	rc = GNTST_general_error;
	if (mfn_is_iomem(ld->m, mfn) && (!ext || !rd->privileged))
		goto undo;
	if (atomic_load(&rd->is_dying))
		goto undo;
	for (; refs < (uint32_t)!!(flags & GNTMAP_host_map) + !!(flags & GNTMAP_device_map); refs++)
		if (!grant_frame_get(rd, mfn))
			goto undo;

	if (flags & GNTMAP_host_map) {
		uint64_t gfn;
		struct p2m_entry old;

		if (ld->translated &&
		    (cache_flags || (flags & ~(GNTMAP_readonly | (ext ? XGNT_GNTMAP_iomem_map : 0))) !=
					    GNTMAP_host_map))
			goto undo;
		if ((flags & GNTMAP_contains_pte) || !addr_to_slot(ld, op->host_addr, &gfn))
			goto undo;   /* no page tables in this model: see docs/fidelity.md */
		plat_mutex_lock(&ld->p2m_lock);
		if (p2m_is_grant(ld->p2m[gfn].type) || !p2m_room(ld, 1, true) ||
		    p2m_set_locked(ld, gfn, mfn, readonly ? P2M_GRANT_RO : P2M_GRANT_RW, &old)) {
			plat_mutex_unlock(&ld->p2m_lock);
			goto undo;
		}
		plat_mutex_unlock(&ld->p2m_lock);
		/* The slot took the host reference; what it showed before (the
		 * guest's own page, still allocated to it) loses its view. */
		if (old.type != P2M_EMPTY)
			put_page(ld->m, old.mfn);
	}

	mt = maptrack_entry(lgt, (uint32_t)handle);
	MT_SET(mt, domid, rd->id);
	MT_SET(mt, ref, ref);
	/* Flags last: a reader that sees them sees domid and ref. */
	atomic_store_explicit(&mt->flags, flags & (GNTMAP_host_map | GNTMAP_device_map | GNTMAP_readonly),
			      memory_order_release);
	op->dev_bus_addr = mfn << PAGE_SHIFT;
	op->handle = (grant_handle_t)handle;
	op->status = GNTST_okay;
	put_domain(rd);
	return;

undo:
	while (refs--)
		grant_frame_put(rd, mfn);
	unpin(rgt, ref, pin_incr, readonly);
	goto out_handle;
out_act:
	active_entry_release(act);
	plat_read_unlock(&rgt->lock);
out_handle:
	mt_put_handle(lgt, (uint32_t)handle);
	op->status = rc;
out_put:
	put_domain(rd);
}

long gnttab_map_grant_ref(struct xgnt_vcpu *v, struct gnttab_map_grant_ref *op, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		map_one(v, &op[i]);
	return 0;
}

/* ---- unmap ---------------------------------------------------------------- */

struct unmap_common {
	uint64_t host_addr, dev_bus_addr, new_addr;
	grant_handle_t handle;
	bool replace;
	/* Batched unmap: the host slot is only marked, and taken away by the
	 * batch's flush before phase 2. */
	bool defer;
	uint64_t gfn;
	/* filled by phase 1 for phase 2 */
	uint32_t done;             /* GNTMAP_host_map|device_map|readonly undone */
	uint64_t mfn;
	uint32_t ref;
	struct xgnt_domain *rd;
};

/* Remove the host mapping at host_addr (Xen's replace_grant_host_mapping).
 * The slot's reference passes to the caller. */
static int16_t remove_host_mapping(struct xgnt_domain *ld, struct unmap_common *op, uint32_t flags)
{
	uint8_t type = (flags & GNTMAP_readonly) ? P2M_GRANT_RO : P2M_GRANT_RW;
	uint64_t gfn, ngfn;
	struct p2m_entry e, ne;
	int16_t rc = GNTST_general_error;

	if (!addr_to_slot(ld, op->host_addr, &gfn))
		return GNTST_general_error;
	if (!op->new_addr && op->defer) {
		op->gfn = gfn;
		return p2m_mark_revoking(ld, gfn, op->mfn, type) ? GNTST_general_error : GNTST_okay;
	}
	if (!op->new_addr)
		return p2m_clear_if(ld, gfn, op->mfn, type) ? GNTST_general_error : GNTST_okay;
	if (ld->translated || !addr_to_slot(ld, op->new_addr, &ngfn) || ngfn == gfn)
		return GNTST_general_error;
	/* PV unmap_and_replace: the page at new_addr moves to host_addr. */
	plat_mutex_lock(&ld->p2m_lock);
	e = ld->p2m[gfn];
	ne = ld->p2m[ngfn];
	if (e.type == type && e.mfn == op->mfn && !e.revoking && ne.type != P2M_EMPTY &&
	    !p2m_is_grant(ne.type) &&
	    p2m_room(ld, 2, false) && p2m_set_locked(ld, gfn, ne.mfn, (enum p2m_type)ne.type, &e) == 0) {
		/* The grant slot's reference (now in e) goes to phase 2; the
		 * new_addr slot's reference moved with its page. */
		p2m_clear_locked(ld, ngfn);
		rc = GNTST_okay;
	}
	plat_mutex_unlock(&ld->p2m_lock);
	return rc;
}

static int16_t unmap_phase1(struct xgnt_vcpu *v, struct unmap_common *op)
{
	struct xgnt_domain *ld = v->d, *rd;
	struct grant_table *lgt = ld->gt, *rgt;
	struct active_grant_entry *act;
	struct grant_mapping *map;
	uint32_t flags, limit;
	domid_t dom;
	int16_t rc = GNTST_okay;
	bool put_handle;

	op->done = 0;
	op->rd = NULL;
	limit = atomic_load_explicit(&lgt->maptrack_limit, memory_order_acquire);
	if (op->handle >= limit)
		return GNTST_bad_handle;
	map = maptrack_entry(lgt, op->handle);
	flags = atomic_load_explicit(&map->flags, memory_order_acquire);
	if (!flags)
		return GNTST_bad_handle;
	dom = MT_GET(map, domid);
	rd = dom_lookup(ld->m, dom);
	if (NEVER(!rd))            /* granters outlive their mapped frames */
		return GNTST_general_error;
	rgt = rd->gt;
	plat_read_lock(&rgt->lock);
	op->ref = MT_GET(map, ref);
	if (op->ref >= nr_grant_entries(rgt)) {
		rc = GNTST_bad_handle;
		goto unlock;
	}
	act = active_entry_acquire(rgt, op->ref);
	/* The active entry's lock also guards its maptrack entries: a racing
	 * unmap of the same handle shows up here. */
	flags = atomic_load_explicit(&map->flags, memory_order_acquire);
	if (!flags || MT_GET(map, domid) != dom || MT_GET(map, ref) != op->ref) {
		rc = GNTST_bad_handle;
		goto act_release;
	}
	op->mfn = act->mfn;
	if (op->dev_bus_addr && (flags & GNTMAP_device_map) &&
	    op->dev_bus_addr != op->mfn << PAGE_SHIFT) {
		rc = GNTST_bad_dev_addr;
		goto act_release;
	}
	if (op->host_addr && (flags & GNTMAP_host_map)) {
		rc = remove_host_mapping(ld, op, flags);
		if (rc != GNTST_okay)
			goto act_release;
		flags &= ~GNTMAP_host_map;
		op->done |= GNTMAP_host_map;
	}
	if (op->dev_bus_addr && (flags & GNTMAP_device_map)) {
		flags &= ~GNTMAP_device_map;
		op->done |= GNTMAP_device_map;
	}
	op->done |= op->done ? (flags & GNTMAP_readonly) : 0;
	put_handle = !(flags & (GNTMAP_host_map | GNTMAP_device_map));
	atomic_store_explicit(&map->flags, put_handle ? 0 : flags, memory_order_release);
	active_entry_release(act);
	plat_read_unlock(&rgt->lock);
	if (put_handle)
		mt_put_handle(lgt, op->handle);
	op->rd = rd;   /* phase 2 drops the reference */
	return GNTST_okay;

act_release:
	active_entry_release(act);
unlock:
	plat_read_unlock(&rgt->lock);
	put_domain(rd);
	return rc;
}

/* Phase 2, after the mapping is gone from the mapper's address space:
 * page references, then pins and the granter's GTF_reading/writing. */
static void unmap_phase2(struct xgnt_domain *ld, struct unmap_common *op)
{
	bool ro = op->done & GNTMAP_readonly;
	uint32_t decr = 0;

	if (!op->rd)
		return;
	if (op->done & GNTMAP_host_map) {
		decr += ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
		grant_frame_put(op->rd, op->mfn);
	}
	if (op->done & GNTMAP_device_map) {
		decr += ro ? GNTPIN_devr_inc : GNTPIN_devw_inc;
		grant_frame_put(op->rd, op->mfn);
	}
	if (decr)
		unpin(op->rd->gt, op->ref, decr, ro);
	put_domain(op->rd);
	op->rd = NULL;
}

#define UNMAP_BATCH 32   /* GNTTAB_UNMAP_BATCH_SIZE: one flush per 32 unmaps */

/*
 * As Xen: phase 1 for up to 32 ops (their host slots only marked), one
 * flush (one mmap per contiguous run of slots: the user-space twin of the
 * TLB flush), then phase 2. The granter learns "free" only after the flush.
 */
long gnttab_unmap_grant_ref(struct xgnt_vcpu *v, struct gnttab_unmap_grant_ref *op,
			    unsigned int count)
{
	struct unmap_common c[UNMAP_BATCH];
	uint64_t gfns[UNMAP_BATCH];
	unsigned int i, k, n, ng;

	for (i = 0; i < count; i += n) {
		n = MIN(count - i, UNMAP_BATCH);
		for (k = 0, ng = 0; k < n; k++) {
			c[k] = (struct unmap_common){
				.host_addr = op[i + k].host_addr,
				.dev_bus_addr = op[i + k].dev_bus_addr,
				.handle = op[i + k].handle, .defer = true,
			};
			op[i + k].status = unmap_phase1(v, &c[k]);
			if (c[k].done & GNTMAP_host_map)
				gfns[ng++] = c[k].gfn;
		}
		p2m_flush_revoking(v->d, gfns, ng);
		for (k = 0; k < n; k++)
			unmap_phase2(v->d, &c[k]);
	}
	return 0;
}

long gnttab_unmap_and_replace(struct xgnt_vcpu *v, struct gnttab_unmap_and_replace *op,
			      unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		struct unmap_common c = {
			.host_addr = op[i].host_addr, .new_addr = op[i].new_addr,
			.handle = op[i].handle, .replace = true,
		};

		op[i].status = unmap_phase1(v, &c);
		unmap_phase2(v->d, &c);
	}
	return 0;
}

/*
 * Domain destruction, phase 1: everything d maps of others goes. First the
 * grant slots leave d's window (so nothing is reachable), then, walking the
 * maptrack backwards as Xen does, pins and references are dropped.
 */
void gnttab_release_mappings(struct xgnt_domain *d)
{
	struct grant_table *lgt = d->gt;
	uint32_t limit = atomic_load_explicit(&lgt->maptrack_limit, memory_order_acquire);
	uint64_t gfn;

	plat_mutex_lock(&d->p2m_lock);
	for (gfn = 0; gfn < d->nr_slots; gfn++)
		if (p2m_is_grant(d->p2m[gfn].type))
			p2m_clear_locked(d, gfn);   /* the reference goes below */
	plat_mutex_unlock(&d->p2m_lock);

	while (limit--) {
		struct grant_mapping *map = maptrack_entry(lgt, limit);
		uint32_t flags = atomic_load_explicit(&map->flags, memory_order_acquire);
		struct unmap_common c = { .handle = (grant_handle_t)limit };
		struct active_grant_entry *act;

		if (!flags)
			continue;
		c.rd = dom_lookup(d->m, MT_GET(map, domid));
		if (NEVER(!c.rd))
			continue;
		plat_read_lock(&c.rd->gt->lock);
		act = active_entry_acquire(c.rd->gt, MT_GET(map, ref));
		c.mfn = act->mfn;
		c.ref = MT_GET(map, ref);
		c.done = flags;
		atomic_store_explicit(&map->flags, 0, memory_order_release);
		active_entry_release(act);
		plat_read_unlock(&c.rd->gt->lock);
		mt_put_handle(lgt, (uint32_t)limit);
		unmap_phase2(d, &c);
	}
}
