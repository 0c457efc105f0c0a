/* SPDX-License-Identifier: MIT */
/*
 * The window: a domain's address space as real mappings of machine frames.
 * Slot gfn shows frame mfn at window + gfn * PAGE_SIZE (MAP_SHARED of the
 * machine memfd, MAP_FIXED so the change is one atomic replacement);
 * an empty slot is an inaccessible page. Every non-empty slot holds a
 * reference on its frame, so a frame is never freed while a slot shows it.
 */
#include "domain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static int prot_of(enum p2m_type t)
{
	switch (t) {
	case P2M_RAM_RO:
	case P2M_GRANT_RO:
		return PROT_READ;
	case P2M_EMPTY:
		return PROT_NONE;
	default:
		return PROT_READ | PROT_WRITE;
	}
}

static bool own_type(uint8_t t)
{
	return t == P2M_RAM || t == P2M_RAM_RO || t == P2M_XENHEAP;
}

static uint8_t *slot_va(struct xgnt_domain *d, uint64_t gfn)
{
	return d->window + (gfn << PAGE_SHIFT);
}

/*
 * Revocation must not fail: if the kernel cannot replace the mapping
 * (out of memory for page tables or VMAs), the frame would stay reachable,
 * which the threat model forbids. Stop rather than continue unsafely.
 */
static void make_inaccessible(struct xgnt_domain *d, uint64_t gfn, uint64_t n)
{
	void *p = mmap(slot_va(d, gfn), n << PAGE_SHIFT, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);

	if (p == MAP_FAILED) {
		perror("xgnt: cannot revoke a mapping");
		abort();
	}
}

/*
 * Kernel mappings: the window is one VMA per maximal run of slots that the
 * kernel merges (empty with empty; frames with the same protection at
 * consecutive machine frames). Each slot write keeps the exact count, so
 * that no operation a guest can ask for leaves too few mappings for
 * revocation, which must not fail (see p2m_room).
 */
static bool joins(const struct p2m_entry *a, const struct p2m_entry *b)
{
	if (a->type == P2M_EMPTY || b->type == P2M_EMPTY)
		return a->type == b->type;
	return prot_of(a->type) == prot_of(b->type) && b->mfn == a->mfn + 1;
}

static int neighbour_joins(struct xgnt_domain *d, uint64_t gfn)
{
	int n = 0;

	if (gfn > 0)
		n += joins(&d->p2m[gfn - 1], &d->p2m[gfn]);
	if (gfn + 1 < d->nr_slots)
		n += joins(&d->p2m[gfn], &d->p2m[gfn + 1]);
	return n;
}

static void slot_write(struct xgnt_domain *d, uint64_t gfn, struct p2m_entry e)
{
	int before = neighbour_joins(d, gfn), delta;
	bool was_grant = p2m_is_grant(d->p2m[gfn].type);

	d->p2m[gfn] = e;
	delta = before - neighbour_joins(d, gfn);
	d->vmas += delta;
	atomic_fetch_add_explicit(&d->m->vma_est, delta, memory_order_relaxed);
	if (was_grant != p2m_is_grant(e.type))
		atomic_fetch_add_explicit(&d->m->grant_slots, was_grant ? -1 : 1,
					  memory_order_relaxed);
}

bool p2m_room(struct xgnt_domain *d, unsigned int changes, bool new_grant)
{
	struct xgnt_machine *m = d->m;
	int64_t need = atomic_load_explicit(&m->vma_est, memory_order_relaxed) +
		       2 * (int64_t)changes +
		       2 * (atomic_load_explicit(&m->grant_slots, memory_order_relaxed) + new_grant);

	assert(plat_mutex_held(&d->p2m_lock));
	if (need <= m->vma_limit)
		return true;
	guest_log("d%u: out of kernel mappings (%lld needed, limit %lld)", d->id,
		  (long long)need, (long long)m->vma_limit);
	return false;
}

void p2m_window_created(struct xgnt_domain *d)
{
	d->vmas = 1;
	atomic_fetch_add(&d->m->vma_est, 1);
}

void p2m_window_gone(struct xgnt_domain *d)
{
	atomic_fetch_sub(&d->m->vma_est, d->vmas);
	d->vmas = 0;
}

static void m2p_set(struct xgnt_domain *d, uint64_t mfn, uint32_t gpfn)
{
	atomic_store_explicit(&mfn_to_page(d->m, mfn)->gpfn, gpfn, memory_order_relaxed);
}

static void m2p_clear_if(struct xgnt_domain *d, uint64_t mfn, uint64_t gfn)
{
	uint32_t expect = (uint32_t)gfn;

	atomic_compare_exchange_strong(&mfn_to_page(d->m, mfn)->gpfn, &expect, INVALID_GPFN);
}

int p2m_set_locked(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, enum p2m_type t,
		   struct p2m_entry *old)
{
	struct p2m_entry prev;
	void *p;

	assert(plat_mutex_held(&d->p2m_lock));
	assert(t != P2M_EMPTY);
	if (gfn >= d->nr_slots)
		return -EINVAL;
	prev = d->p2m[gfn];
	p = mmap(slot_va(d, gfn), PAGE_SIZE, prot_of(t), MAP_SHARED | MAP_FIXED,
		 d->m->memfd, (off_t)(mfn << PAGE_SHIFT));
	if (p == MAP_FAILED) {
		/* A failed MAP_FIXED may have removed the old mapping: restore
		 * what the slot showed (or nothing). */
		if (prev.type != P2M_EMPTY &&
		    mmap(slot_va(d, gfn), PAGE_SIZE, prot_of(prev.type), MAP_SHARED | MAP_FIXED,
			 d->m->memfd, (off_t)((uint64_t)prev.mfn << PAGE_SHIFT)) != MAP_FAILED)
			return -ENOMEM;
		make_inaccessible(d, gfn, 1);
		slot_write(d, gfn, (struct p2m_entry){ 0 });
		if (old)
			*old = prev;
		else if (prev.type != P2M_EMPTY)
			put_page(d->m, prev.mfn);
		return -ENOMEM;
	}
	if (prev.type != P2M_EMPTY && own_type(prev.type))
		m2p_clear_if(d, prev.mfn, gfn);
	slot_write(d, gfn, (struct p2m_entry){ .mfn = (uint32_t)mfn, .type = (uint8_t)t });
	if (own_type(t))
		m2p_set(d, mfn, (uint32_t)gfn);
	if (old)
		*old = prev;
	else if (prev.type != P2M_EMPTY)
		put_page(d->m, prev.mfn);
	return 0;
}

int p2m_set(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, enum p2m_type t,
	    struct p2m_entry *old)
{
	int rc;

	plat_mutex_lock(&d->p2m_lock);
	rc = p2m_set_locked(d, gfn, mfn, t, old);
	plat_mutex_unlock(&d->p2m_lock);
	return rc;
}

void p2m_clear_locked(struct xgnt_domain *d, uint64_t gfn)
{
	struct p2m_entry prev;

	assert(plat_mutex_held(&d->p2m_lock));
	prev = d->p2m[gfn];
	if (prev.type == P2M_EMPTY)
		return;
	make_inaccessible(d, gfn, 1);
	slot_write(d, gfn, (struct p2m_entry){ 0 });
	if (own_type(prev.type))
		m2p_clear_if(d, prev.mfn, gfn);
}

int p2m_clear_if(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, int t)
{
	struct p2m_entry e;
	int rc = -ENOENT;

	if (gfn >= d->nr_slots)
		return -ENOENT;
	plat_mutex_lock(&d->p2m_lock);
	e = d->p2m[gfn];
	if (e.type != P2M_EMPTY && e.mfn == mfn && !e.revoking &&
	    (t < 0 ? !p2m_is_grant(e.type) : e.type == t)) {
		p2m_clear_locked(d, gfn);
		rc = 0;
	}
	plat_mutex_unlock(&d->p2m_lock);
	return rc;
}

int p2m_mark_revoking(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, int t)
{
	struct p2m_entry *e;
	int rc = -ENOENT;

	if (gfn >= d->nr_slots)
		return -ENOENT;
	plat_mutex_lock(&d->p2m_lock);
	e = &d->p2m[gfn];
	if (e->type == t && e->mfn == mfn && !e->revoking) {
		e->revoking = 1;
		rc = 0;
	}
	plat_mutex_unlock(&d->p2m_lock);
	return rc;
}

static void sort_gfns(uint64_t *g, unsigned int n)
{
	unsigned int i, j;

	for (i = 1; i < n; i++) {
		uint64_t x = g[i];

		for (j = i; j > 0 && g[j - 1] > x; j--)
			g[j] = g[j - 1];
		g[j] = x;
	}
}

void p2m_flush_revoking(struct xgnt_domain *d, uint64_t *gfns, unsigned int n)
{
	unsigned int i = 0, j, k;

	if (!n)
		return;
	sort_gfns(gfns, n);
	plat_mutex_lock(&d->p2m_lock);
	while (i < n) {
		/* A run of consecutive marked slots: one replacement. */
		for (j = i + 1; j < n && gfns[j] == gfns[j - 1] + 1; j++)
			;
		make_inaccessible(d, gfns[i], gfns[j - 1] - gfns[i] + 1);
		for (k = i; k < j; k++) {
			assert(d->p2m[gfns[k]].revoking && p2m_is_grant(d->p2m[gfns[k]].type));
			slot_write(d, gfns[k], (struct p2m_entry){ 0 });
		}
		i = j;
	}
	plat_mutex_unlock(&d->p2m_lock);
}

struct p2m_entry p2m_get(struct xgnt_domain *d, uint64_t gfn)
{
	struct p2m_entry e = { 0 };

	if (gfn >= d->nr_slots)
		return e;
	plat_mutex_lock(&d->p2m_lock);
	e = d->p2m[gfn];
	plat_mutex_unlock(&d->p2m_lock);
	return e;
}

int p2m_populate_run(struct xgnt_domain *d, uint64_t gfn, uint64_t mfn, uint32_t n)
{
	uint32_t i;
	void *p;

	if (gfn + n > d->nr_slots)
		return -EINVAL;
	plat_mutex_lock(&d->p2m_lock);
	for (i = 0; i < n; i++) {
		if (d->p2m[gfn + i].type != P2M_EMPTY) {
			plat_mutex_unlock(&d->p2m_lock);
			return -EBUSY;
		}
	}
	p = mmap(slot_va(d, gfn), (size_t)n << PAGE_SHIFT, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, d->m->memfd, (off_t)(mfn << PAGE_SHIFT));
	if (p == MAP_FAILED) {
		make_inaccessible(d, gfn, n);
		plat_mutex_unlock(&d->p2m_lock);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		get_page_ref(d->m, mfn + i);
		slot_write(d, gfn + i, (struct p2m_entry){ .mfn = (uint32_t)(mfn + i), .type = P2M_RAM });
		m2p_set(d, mfn + i, (uint32_t)(gfn + i));
	}
	plat_mutex_unlock(&d->p2m_lock);
	return 0;
}

void p2m_teardown(struct xgnt_domain *d)
{
	uint64_t gfn;

	plat_mutex_lock(&d->p2m_lock);
	for (gfn = 0; gfn < d->nr_slots; gfn++) {
		struct p2m_entry e = d->p2m[gfn];

		if (e.type == P2M_EMPTY)
			continue;
		/* Grant mappings were released before (gnttab_release_mappings). */
		assert(!p2m_is_grant(e.type));
		d->p2m[gfn] = (struct p2m_entry){ 0 };   /* counted below */
		if (own_type(e.type))
			m2p_clear_if(d, e.mfn, gfn);
		put_page(d->m, e.mfn);
	}
	/* One call takes the whole window away: one mapping left. */
	make_inaccessible(d, 0, d->nr_slots);
	atomic_fetch_sub(&d->m->vma_est, d->vmas - 1);
	d->vmas = 1;
	plat_mutex_unlock(&d->p2m_lock);
}
