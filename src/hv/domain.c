/* SPDX-License-Identifier: MIT */
/*
 * Domains: creation, lookup, and destruction in Xen's phases. A destroyed
 * domain whose frames others still map stays as a zombie (dying, findable
 * by the hypervisor, invisible to xgnt_domain_lookup) until they unmap.
 */
#include "domain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "event.h"
#include "gnttab.h"

#define DEFAULT_RAM_FRAMES  16384u
#define DEFAULT_EXT_FRAMES  262144u
#define MAX_SLOTS           (1u << 28)   /* 1 TiB of guest address space */
#define MAX_VCPUS           128u

void get_domain(struct xgnt_domain *d)
{
	int old = atomic_fetch_add_explicit(&d->refcnt, 1, memory_order_relaxed);

	assert(old > 0);
	(void)old;
}

/* Get a reference unless the domain is already being freed. */
static bool get_domain_unless_zero(struct xgnt_domain *d)
{
	int x = atomic_load_explicit(&d->refcnt, memory_order_relaxed);

	do {
		if (x == 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&d->refcnt, &x, x + 1,
							memory_order_acquire,
							memory_order_relaxed));
	return true;
}

static void domain_free(struct xgnt_domain *d)
{
	unsigned int i;

	if (d->gt)
		gt_destroy(d->gt);
	evtchn_domain_free(d);
	for (i = 0; i < d->nr_vcpus && d->vcpus; i++)
		vcpu_ev_free(&d->vcpus[i]);
	if (d->shared_info_mfn != INVALID_MFN)
		put_page(d->m, d->shared_info_mfn);
	if (d->window) {
		munmap(d->window, (size_t)d->nr_slots << PAGE_SHIFT);
		p2m_window_gone(d);
	}
	for (i = 0; i < d->nr_vcpus && d->vcpus; i++) {
		plat_mutex_destroy(&d->vcpus[i].maptrack_freelist_lock);
		if (d->vcpus[i].upcall_fd >= 0)
			close(d->vcpus[i].upcall_fd);
	}
	plat_mutex_destroy(&d->p2m_lock);
	plat_free(d->vcpus);
	plat_free(d->pfn_to_mfn);
	free(d->p2m);
	plat_free(d);
}

void put_domain(struct xgnt_domain *d)
{
	struct xgnt_machine *m = d->m;

	if (atomic_fetch_sub_explicit(&d->refcnt, 1, memory_order_acq_rel) != 1)
		return;
	/* Final: nothing refers to d any more (no frame, no lookup). */
	assert(atomic_load(&d->tot_pages) == 0);
	plat_write_lock(&m->domains_lock);
	if (m->domains[d->id] == d)
		m->domains[d->id] = NULL;
	plat_write_unlock(&m->domains_lock);
	domain_free(d);
}

void dom_frame_freed(struct xgnt_domain *d)
{
	put_domain(d);   /* the reference held while d owned frames */
}

struct xgnt_domain *dom_lookup(struct xgnt_machine *m, domid_t id)
{
	struct xgnt_domain *d;

	if (id >= DOMID_FIRST_RESERVED)
		return NULL;
	plat_read_lock(&m->domains_lock);
	d = m->domains[id];
	if (d && !get_domain_unless_zero(d))
		d = NULL;
	plat_read_unlock(&m->domains_lock);
	return d;
}

struct xgnt_domain *dom_lookup_next(struct xgnt_machine *m, unsigned int *id)
{
	struct xgnt_domain *d = NULL;
	unsigned int i;

	plat_read_lock(&m->domains_lock);
	for (i = *id; i < DOMID_FIRST_RESERVED && !d; i++) {
		d = m->domains[i];
		if (d && !get_domain_unless_zero(d))
			d = NULL;
	}
	plat_read_unlock(&m->domains_lock);
	*id = i;
	return d;
}

struct xgnt_domain *dom_lookup_any(struct xgnt_domain *self, domid_t id)
{
	if (id == DOMID_SELF) {
		get_domain(self);
		return self;
	}
	return dom_lookup(self->m, id);
}

static int populate_ram(struct xgnt_domain *d)
{
	uint32_t pfn = 0;

	while (pfn < d->ram_frames) {
		uint64_t first = mach_alloc_frames(d->m, d, 0, PGK_RAM), last = first;
		uint32_t n = 1;
		int rc;

		if (first == INVALID_MFN)
			return -ENOMEM;
		/* Grow a physically contiguous run: one mmap for all of it. */
		while (pfn + n < d->ram_frames && n < 4096) {
			uint64_t next = mach_alloc_frames(d->m, d, 0, PGK_RAM);

			if (next == INVALID_MFN)
				break;
			if (next != last + 1) {
				page_release_allocated(d->m, next);
				break;
			}
			last = next;
			n++;
		}
		rc = p2m_populate_run(d, pfn, first, n);
		/* The slots took their own references. */
		if (rc) {
			for (uint64_t f = first; f <= last; f++)
				page_release_allocated(d->m, f);
			return rc;
		}
		if (is_pv(d))
			for (uint32_t i = 0; i < n; i++)
				d->pfn_to_mfn[pfn + i] = first + i;
		pfn += n;
	}
	return 0;
}

/* Every RAM frame d still owns is given up (Xen's relinquish_memory). */
static void relinquish_memory(struct xgnt_domain *d)
{
	struct xgnt_machine *m = d->m;
	uint64_t mfn;

	for (mfn = 0; mfn < m->nr_frames; mfn++) {
		struct page_info *pg = mfn_to_page(m, mfn);

		if (atomic_load_explicit(&pg->owner, memory_order_acquire) == d &&
		    atomic_load_explicit(&pg->kind, memory_order_relaxed) == PGK_RAM)
			page_release_allocated(m, mfn);
	}
}

struct xgnt_domain *xgnt_domain_create(struct xgnt_machine *m,
				       const struct xgnt_domain_config *cfg)
{
	struct xgnt_domain_config c;
	struct xgnt_domain *d;
	unsigned int version, i;
	int err = ENOMEM;

	if (!m || !cfg) {
		errno = EINVAL;
		return NULL;
	}
	c = *cfg;
	if (!c.ram_frames)
		c.ram_frames = DEFAULT_RAM_FRAMES;
	if (!c.ext_frames)
		c.ext_frames = DEFAULT_EXT_FRAMES;
	if (!c.nr_vcpus)
		c.nr_vcpus = 1;
	if (!c.max_grant_frames)
		c.max_grant_frames = m->max_grant_frames;
	if (!c.max_maptrack_frames)
		c.max_maptrack_frames = m->max_maptrack_frames;
	if (c.domid >= DOMID_FIRST_RESERVED || (unsigned int)c.type > XGNT_DOMAIN_ARM ||
	    c.nr_vcpus > MAX_VCPUS || (uint64_t)c.ram_frames + c.ext_frames > MAX_SLOTS ||
	    c.max_grant_frames > 4096 || c.max_maptrack_frames > 65536) {
		errno = EINVAL;
		return NULL;
	}
	if (c.ram_frames > m->nr_frames) {
		errno = ENOMEM;
		return NULL;
	}

	d = plat_calloc(1, sizeof(*d));
	if (!d)
		goto fail_errno;
	d->m = m;
	d->id = c.domid;
	d->type = c.type;
	d->translated = c.type != XGNT_DOMAIN_PV;
	d->privileged = c.privileged;
	d->ram_frames = c.ram_frames;
	d->ext_frames = c.ext_frames;
	d->nr_slots = c.ram_frames + c.ext_frames;
	d->max_pages = c.ram_frames;
	d->shared_info_mfn = INVALID_MFN;
	d->nr_vcpus = c.nr_vcpus;
	atomic_init(&d->refcnt, 1);   /* the domain table's */
	plat_mutex_init(&d->p2m_lock);

	d->vcpus = plat_calloc(c.nr_vcpus, sizeof(*d->vcpus));
	d->p2m = calloc(d->nr_slots, sizeof(*d->p2m));  /* large: not fault-injected */
	if (!d->vcpus || !d->p2m)
		goto fail_free;
	for (i = 0; i < c.nr_vcpus; i++) {
		d->vcpus[i].d = d;
		d->vcpus[i].id = i;
		d->vcpus[i].upcall_fd = -1;
		d->vcpus[i].maptrack_head = MAPTRACK_TAIL;
		d->vcpus[i].maptrack_tail = MAPTRACK_TAIL;
		plat_mutex_init(&d->vcpus[i].maptrack_freelist_lock);
	}
	if (is_pv(d)) {
		d->pfn_to_mfn = plat_calloc(c.ram_frames, sizeof(*d->pfn_to_mfn));
		if (!d->pfn_to_mfn)
			goto fail_free;
		for (i = 0; i < c.ram_frames; i++)
			d->pfn_to_mfn[i] = INVALID_MFN;
	}
	d->window = mmap(NULL, (size_t)d->nr_slots << PAGE_SHIFT, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (d->window == MAP_FAILED) {
		d->window = NULL;
		goto fail_errno_free;
	}
	p2m_window_created(d);

	version = 1;
	d->gt = gt_create(d, c.max_grant_frames, c.max_maptrack_frames, version);
	if (!d->gt)
		goto fail_free;
	d->shared_info_mfn = mach_alloc_frames(m, d, 0, PGK_XENHEAP);
	if (d->shared_info_mfn == INVALID_MFN)
		goto fail_free;
	if (!c.max_evtchn_port)
		c.max_evtchn_port = c.privileged ? EVTCHN_FIFO_PORTS - 1 : 1023;
	if (evtchn_domain_init(d, c.max_evtchn_port))
		goto fail_free;
	for (i = 0; i < c.nr_vcpus; i++) {
		int rc = vcpu_ev_init(&d->vcpus[i]);

		if (rc) {
			err = -rc;
			goto fail_free;
		}
	}

	/* Reserve the domid; the domain is not visible until it is complete. */
	plat_write_lock(&m->domains_lock);
	if (m->domains[c.domid]) {
		plat_write_unlock(&m->domains_lock);
		err = EEXIST;
		goto fail_free;
	}
	m->domains[c.domid] = d;
	atomic_store(&d->is_dying, true);   /* not live until populated */
	plat_write_unlock(&m->domains_lock);

	if (populate_ram(d) != 0) {
		/* Undo as a destruction would: slots, then memory. */
		p2m_teardown(d);
		relinquish_memory(d);
		put_domain(d);       /* removes it from the table, frees it */
		errno = ENOMEM;
		return NULL;
	}
	atomic_store(&d->is_dying, false);
	return d;

fail_errno_free:
	err = errno;
fail_free:
	domain_free(d);
	errno = err;
	return NULL;
fail_errno:
	errno = ENOMEM;
	return NULL;
}

int xgnt_domain_destroy(struct xgnt_domain *d)
{
	struct xgnt_machine *m;
	bool was = false;

	if (!d)
		return -EINVAL;
	if (!atomic_compare_exchange_strong(&d->is_dying, &was, true))
		return -EINVAL;
	m = d->m;
	/* Phase 1: what d holds of others: its event channels (peers turn
	 * unbound), then its mappings of others' grants. */
	evtchn_domain_destroy(d);
	gnttab_release_mappings(d);
	/* Phase 2: d's own address space and memory. Frames others map
	 * stay alive (their mappings hold references) until unmapped. */
	p2m_teardown(d);
	relinquish_memory(d);
	/* Phase 3: the domain table's reference. The frame owners' reference
	 * goes when the last frame does; then d is freed. */
	put_domain(d);
	/* The control domain hears of it (VIRQ_DOM_EXC), as under Xen. */
	evtchn_send_global_virq(m, VIRQ_DOM_EXC);
	return 0;
}

struct xgnt_domain *xgnt_domain_lookup(struct xgnt_machine *m, domid_t domid)
{
	struct xgnt_domain *d;

	if (!m)
		return NULL;
	d = dom_lookup(m, domid);
	if (!d)
		return NULL;
	if (atomic_load(&d->is_dying)) {
		put_domain(d);
		return NULL;
	}
	/* The caller gets a borrowed pointer, valid until it destroys d. */
	put_domain(d);
	return d;
}

domid_t xgnt_domain_id(const struct xgnt_domain *d)
{
	return d->id;
}

void *xgnt_domain_va(struct xgnt_domain *d, uint64_t addr)
{
	if (!d || addr >= ((uint64_t)d->nr_slots << PAGE_SHIFT))
		return NULL;
	return d->window + addr;
}

void xgnt_domain_layout(const struct xgnt_domain *d, struct xgnt_domain_layout *out)
{
	out->ram_base = 0;
	out->ram_size = (uint64_t)d->ram_frames << PAGE_SHIFT;
	out->ext_base = out->ram_size;
	out->ext_size = (uint64_t)d->ext_frames << PAGE_SHIFT;
}

xen_pfn_t xgnt_domain_pfn_to_mfn(const struct xgnt_domain *d, xen_pfn_t pfn)
{
	struct xgnt_domain *md = (struct xgnt_domain *)d;
	xen_pfn_t mfn;

	if (!is_pv(d) || pfn >= d->ram_frames)
		return INVALID_MFN;
	plat_mutex_lock(&md->p2m_lock);
	mfn = d->pfn_to_mfn[pfn];
	plat_mutex_unlock(&md->p2m_lock);
	return mfn;
}

xen_pfn_t xgnt_domain_gfn_to_mfn(struct xgnt_domain *d, xen_pfn_t gfn)
{
	struct p2m_entry e;

	if (!d)
		return INVALID_MFN;
	e = p2m_get(d, gfn);
	if (e.type == P2M_EMPTY || e.revoking)
		return INVALID_MFN;
	return e.mfn;
}

xen_pfn_t xgnt_domain_shared_info_mfn(const struct xgnt_domain *d)
{
	return d->shared_info_mfn;
}

struct xgnt_vcpu *xgnt_domain_vcpu(struct xgnt_domain *d, unsigned int id)
{
	if (!d || id >= d->nr_vcpus)
		return NULL;
	return &d->vcpus[id];
}

int xgnt_vcpu_upcall_fd(struct xgnt_vcpu *v)
{
	return v ? v->upcall_fd : -1;
}

int xgnt_machine_walk_domains(struct xgnt_machine *m,
			      int (*cb)(struct xgnt_domain *, void *), void *arg)
{
	unsigned int id = 0;
	struct xgnt_domain *d;
	int rc = 0;

	while (!rc && (d = dom_lookup_next(m, &id))) {
		if (!atomic_load(&d->is_dying))
			rc = cb(d, arg);
		put_domain(d);
	}
	return rc;
}
