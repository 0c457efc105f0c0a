/* SPDX-License-Identifier: MIT */
/*
 * The guest's grant table: set up the way real guests do it (set_version,
 * query_size, then frames placed with XENMEM_add_to_physmap or with
 * setup_table and update_va_mapping), grown on demand up to the
 * hypervisor's maximum, suspended, resumed and torn down; and the free list
 * of grant references that every other part allocates from.
 */
#include "gnttab_int.h"

#include <errno.h>


/* Larger tables than this many references are not set up in full (the
 * free list costs 4 bytes a reference). */
#define GTAB_MAX_REFS (1u << 21)

/* Serialises set-up of any guest's table: two set-ups of one guest would
 * move each other's frames (a grant frame shows at one place only). */
static plat_mutex_t init_lock = { PTHREAD_MUTEX_INITIALIZER, 0 };

/* ---- placing frames: grow_lock held, and no other lock ---------------------- */

static uint64_t page_addr(struct gnttab_state *gt, void *area, unsigned int i)
{
	return xgnt_guest_addr(gt->g, area) + ((uint64_t)i << PAGE_SHIFT);
}

static long update_va(struct xgnt_guest *g, uint64_t va, xen_pfn_t mfn, unsigned int prot)
{
	if (!g->port->ops->update_va_mapping)
		return -ENOSYS;
	return g->port->ops->update_va_mapping(g->port, guest_vcpu(g), va, mfn, prot);
}

static int gntst_errno(long rc, int16_t status)
{
	if (rc < 0)
		return (int)rc;
	return status == GNTST_okay ? 0 : -EIO;
}

/* Translated: grant frame i (or status frame i) at its page of the area. */
static int physmap_add(struct gnttab_state *gt, unsigned int i, bool status)
{
	struct xen_add_to_physmap a = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_grant_table,
		.idx = status ? (i | XENMAPIDX_grant_table_status) : i,
		.gpfn = page_addr(gt, status ? gt->status_area : gt->area, i) >> PAGE_SHIFT,
	};

	return (int)xgnt_hyp_memory_op(gt->g, XENMEM_add_to_physmap, &a);
}

/*
 * Place grant frames [from, to) and the status frames they need (v2).
 * Returns how many grant frames are usable from 0 (at least from); the
 * first error, if any, goes to *err.
 */
static unsigned int place_translated(struct gnttab_state *gt, unsigned int from, unsigned int to,
				     int *err)
{
	unsigned int i, j;
	int rc;

	for (i = from; i < to; i++) {
		rc = physmap_add(gt, i, false);
		if (rc) {
			*err = rc;
			break;
		}
	}
	if (gt->version == 2) {
		for (j = gt->nr_status; j < gtab_status_frames(i); j++) {
			rc = physmap_add(gt, j, true);
			if (rc) {
				*err = rc;
				break;
			}
		}
		gt->nr_status = j;
		i = MIN(i, j * (unsigned int)GTAB_V2_PER_STATUS);
	}
	return i;
}

/* v2, PV: status frames up to what `frames` grant frames need, mapped
 * read-only. Returns how many grant frames they cover. */
static unsigned int place_pv_status(struct gnttab_state *gt, unsigned int frames, int *err)
{
	unsigned int want = gtab_status_frames(frames), j = gt->nr_status;
	struct gnttab_get_status_frames gs = { .nr_frames = want, .dom = DOMID_SELF };
	uint64_t *list;
	long rc;

	if (want <= gt->nr_status)
		return frames;
	list = plat_calloc(want, sizeof(*list));
	if (!list) {
		*err = -ENOMEM;
		return MIN(frames, j * (unsigned int)GTAB_V2_PER_STATUS);
	}
	set_xen_guest_handle(gs.frame_list, list);
	rc = xgnt_hyp_grant_table_op(gt->g, GNTTABOP_get_status_frames, &gs, 1);
	if (gntst_errno(rc, gs.status)) {
		*err = gntst_errno(rc, gs.status);
	} else {
		for (; j < want; j++) {
			rc = update_va(gt->g, page_addr(gt, gt->status_area, j), list[j],
				       XGNT_PROT_READ);
			if (rc) {
				*err = (int)rc;
				break;
			}
		}
	}
	plat_free(list);
	gt->nr_status = j;
	return MIN(frames, j * (unsigned int)GTAB_V2_PER_STATUS);
}

/* PV: setup_table for `to` frames, then map [from, to) into the area. */
static unsigned int place_pv(struct gnttab_state *gt, unsigned int from, unsigned int to, int *err)
{
	struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = to };
	unsigned int i = from;
	xen_pfn_t *list;
	long rc;

	list = plat_calloc(to, sizeof(*list));
	if (!list) {
		*err = -ENOMEM;
		return from;
	}
	set_xen_guest_handle(st.frame_list, list);
	rc = xgnt_hyp_grant_table_op(gt->g, GNTTABOP_setup_table, &st, 1);
	if (gntst_errno(rc, st.status)) {
		*err = gntst_errno(rc, st.status);
		goto out;
	}
	for (; i < to; i++) {
		rc = update_va(gt->g, page_addr(gt, gt->area, i), list[i],
			       XGNT_PROT_READ | XGNT_PROT_WRITE);
		if (rc) {
			*err = (int)rc;
			break;
		}
	}
	if (gt->version == 2)
		i = place_pv_status(gt, i, err);
out:
	plat_free(list);
	return i;
}

static unsigned int place(struct gnttab_state *gt, unsigned int from, unsigned int to, int *err)
{
	assert(plat_mutex_held(&gt->grow_lock));
	if (gt->g->info.translated)
		return place_translated(gt, from, to, err);
	return place_pv(gt, from, to, err);
}

/* Take nr grant frames and nr_status status frames out of the guest's
 * address space (the hypervisor keeps them). */
static void unplace(struct gnttab_state *gt, unsigned int nr, unsigned int nr_status)
{
	unsigned int i;

	for (i = 0; i < nr + nr_status; i++) {
		uint64_t addr = i < nr ? page_addr(gt, gt->area, i)
				       : page_addr(gt, gt->status_area, i - nr);

		if (gt->g->info.translated) {
			struct xen_remove_from_physmap r = {
				.domid = DOMID_SELF,
				.gpfn = addr >> PAGE_SHIFT,
			};

			xgnt_hyp_memory_op(gt->g, XENMEM_remove_from_physmap, &r);
		} else {
			update_va(gt->g, addr, INVALID_MFN, 0);
		}
	}
}

/* ---- the free list -------------------------------------------------------------------- */

/* free_lock held: append the chain first..last (n refs). Returns whether
 * callbacks wait. */
static bool put_locked(struct gnttab_state *gt, grant_ref_t first, grant_ref_t last,
		       unsigned int n)
{
	assert(plat_mutex_held(&gt->free_lock));
	gt->link[last] = GREF_END;
	if (gt->free_tail == GREF_END)
		gt->free_head = first;
	else
		gt->link[gt->free_tail] = first;
	gt->free_tail = last;
	gt->nr_free += n;
	return gt->callbacks != NULL;
}

void gtab_put_chain(struct gnttab_state *gt, grant_ref_t first, grant_ref_t last, unsigned int n)
{
	bool fire;

	if (!n)
		return;
	plat_mutex_lock(&gt->free_lock);
	fire = put_locked(gt, first, last, n);
	plat_mutex_unlock(&gt->free_lock);
	if (fire)
		gtab_fire_callbacks(gt);
}

/* Is ref, in a frame about to be published, still used by a peer? Ends
 * it if it can (an earlier context of this guest may have left it). */
static bool stale_in_use(struct gnttab_state *gt, grant_ref_t ref)
{
	if (gt->version == 2 &&
	    __atomic_load_n(&gt->status[ref], __ATOMIC_ACQUIRE) & (GTF_reading | GTF_writing))
		return true;
	return __atomic_load_n(gtab_flags(gt, ref), __ATOMIC_ACQUIRE) && gtab_end_entry(gt, ref);
}

/*
 * Frames [from, to) are placed: their references join the free list, and
 * nr_frames says so. An entry left granted by an earlier owner of the table
 * is ended first, and kept out of the list if its peer still uses it.
 */
static void publish(struct gnttab_state *gt, unsigned int from, unsigned int to)
{
	grant_ref_t ref = MAX(from * gt->per_frame, (unsigned int)GTAB_RESERVED);
	grant_ref_t end = to * gt->per_frame;

	assert(plat_mutex_held(&gt->grow_lock));
	plat_mutex_lock(&gt->free_lock);
	for (; ref < end; ref++) {
		if (stale_in_use(gt, ref)) {
			guest_log("d%u: ref %u still in use from before, not reused",
				  gt->g->info.domid, ref);
			gt->link[ref] = GREF_USED;
			continue;
		}
		put_locked(gt, ref, ref, 1);
	}
	atomic_store_explicit(&gt->nr_frames, to, memory_order_release);
	plat_mutex_unlock(&gt->free_lock);
}

int gtab_grow(struct gnttab_state *gt, unsigned int seen_frames, unsigned int missing)
{
	unsigned int cur, want, got;
	int err = 0;

	plat_mutex_lock(&gt->grow_lock);
	cur = atomic_load_explicit(&gt->nr_frames, memory_order_relaxed);
	if (cur != seen_frames)
		goto out;   /* it grew meanwhile: look at the free list again */
	want = cur + DIV_ROUND_UP(missing, gt->per_frame);
	if (gt->suspended) {
		guest_log("d%u: grant table used while suspended", gt->g->info.domid);
		err = -EAGAIN;
	} else if (want > gt->max_frames) {
		err = -ENOSPC;   /* never beyond the maximum, and never a wait */
	} else {
		got = place(gt, cur, want, &err);
		if (got > cur) {
			publish(gt, cur, got);
			err = 0;   /* partial growth: the caller looks again */
		} else if (!err) {
			err = -EIO;
		}
	}
out:
	plat_mutex_unlock(&gt->grow_lock);
	if (!err)
		gtab_fire_callbacks(gt);
	return err;
}

int gtab_take(struct gnttab_state *gt, unsigned int n, grant_ref_t *first)
{
	unsigned int i, seen, missing;
	grant_ref_t head, last;
	int rc;

	/* Ends deferred earlier get another chance with every allocation. */
	if (atomic_load_explicit(&gt->nr_deferred, memory_order_relaxed) &&
	    !atomic_flag_test_and_set_explicit(&gt->polling, memory_order_acquire)) {
		gtab_poll_deferred(gt, 4);
		atomic_flag_clear_explicit(&gt->polling, memory_order_release);
	}
	for (;;) {
		plat_mutex_lock(&gt->free_lock);
		if (gt->nr_free >= n)
			break;
		missing = n - gt->nr_free;
		seen = atomic_load_explicit(&gt->nr_frames, memory_order_relaxed);
		plat_mutex_unlock(&gt->free_lock);
		rc = gtab_grow(gt, seen, missing);
		if (rc)
			return rc;
	}
	head = last = gt->free_head;
	for (i = 1; i < n; i++)
		last = gt->link[last];
	gt->free_head = gt->link[last];
	if (gt->free_head == GREF_END)
		gt->free_tail = GREF_END;
	gt->link[last] = GREF_END;
	gt->nr_free -= n;
	plat_mutex_unlock(&gt->free_lock);
	*first = head;
	return 0;
}

int xgnt_gref_alloc(struct xgnt_guest *g, grant_ref_t *ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	grant_ref_t r;
	int rc;

	if (!gt)
		return -ENODEV;
	if (!ref)
		return -EINVAL;
	rc = gtab_take(gt, 1, &r);
	if (rc)
		return rc;
	gt->link[r] = GREF_USED;   /* ours now: no lock needed */
	*ref = r;
	return 0;
}

void xgnt_gref_free(struct xgnt_guest *g, grant_ref_t ref)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	bool fire;

	if (!gt || !gtab_ref_ok(gt, ref)) {
		guest_log("gref_free: ref %u is not one the guest hands out", ref);
		return;
	}
	plat_mutex_lock(&gt->free_lock);
	if (gt->link[ref] != GREF_USED) {
		plat_mutex_unlock(&gt->free_lock);
		guest_log("gref_free: ref %u is not allocated (double free?)", ref);
		return;
	}
	fire = put_locked(gt, ref, ref, 1);
	plat_mutex_unlock(&gt->free_lock);
	if (fire)
		gtab_fire_callbacks(gt);
}

unsigned int xgnt_gref_nr_free(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	unsigned int n;

	if (!gt)
		return 0;
	plat_mutex_lock(&gt->free_lock);
	n = gt->nr_free;
	plat_mutex_unlock(&gt->free_lock);
	return n;
}

/* ---- set-up, suspend, resume, teardown -------------------------------------------------- */

static void state_free(struct gnttab_state *gt)
{
	plat_mutex_destroy(&gt->deferred_lock);
	plat_mutex_destroy(&gt->free_lock);
	plat_mutex_destroy(&gt->grow_lock);
	plat_free(gt->link);
	plat_free(gt);
}

static unsigned int area_pages(const struct gnttab_state *gt, unsigned int frames)
{
	return frames + (gt->version == 2 ? gtab_status_frames(frames) : 0);
}

/*
 * Room for max grant frames (and their status frames) in the guest's
 * address space, as Linux reserves unpopulated pages for them; fewer
 * frames if there is not room for that many.
 */
static int reserve_area(struct gnttab_state *gt, unsigned int max)
{
	unsigned int n;

	max = MIN(max, GTAB_MAX_REFS / gt->per_frame);
	for (n = max; n; n /= 2) {
		gt->area = xgnt_unpopulated_alloc(gt->g, area_pages(gt, n));
		if (gt->area)
			break;
	}
	if (!n)
		return -ENOMEM;
	if (n < max)
		plat_log(PLAT_LOG_WARN, "d%u: room for %u grant frames of %u",
			 gt->g->info.domid, n, max);
	gt->max_frames = n;
	gt->status_area = (uint8_t *)gt->area + ((size_t)n << PAGE_SHIFT);
	return 0;
}

static struct gnttab_state *state_new(struct xgnt_guest *g, unsigned int version)
{
	struct gnttab_state *gt = plat_calloc(1, sizeof(*gt));

	if (!gt)
		return NULL;
	gt->g = g;
	gt->version = version;
	gt->per_frame = version == 1 ? GTAB_PER_FRAME_V1 : GTAB_PER_FRAME_V2;
	gt->free_head = gt->free_tail = GREF_END;
	gt->dq_tail = &gt->dq_head;
	atomic_flag_clear(&gt->polling);
	plat_mutex_init(&gt->grow_lock);
	plat_mutex_init(&gt->free_lock);
	plat_mutex_init(&gt->deferred_lock);
	return gt;
}

/* Everything but the hypercalls that place frames. */
static int state_setup(struct gnttab_state *gt, unsigned int max)
{
	unsigned int i;
	int rc;

	rc = reserve_area(gt, max);
	if (rc)
		return rc;
	gt->link = plat_calloc((size_t)gt->max_frames * gt->per_frame, sizeof(*gt->link));
	if (!gt->link) {
		xgnt_unpopulated_free(gt->g, gt->area, area_pages(gt, gt->max_frames));
		return -ENOMEM;
	}
	for (i = 0; i < GTAB_RESERVED; i++)
		gt->link[i] = GREF_USED;   /* never handed out */
	gt->shared.v1 = gt->area;
	gt->status = gt->status_area;
	return 0;
}

/* Version 0: the table's version as it is (1 unless someone chose);
 * else ask for it (Arm answers a request for version 2 with -ENOSYS). */
static int choose_version(struct xgnt_guest *g, unsigned int version, uint32_t *out)
{
	struct gnttab_get_version gv = { .dom = DOMID_SELF };
	struct gnttab_set_version sv = { .version = version };
	long rc;

	if (!version) {
		rc = xgnt_hyp_grant_table_op(g, GNTTABOP_get_version, &gv, 1);
		if (!rc && gv.version != 1 && gv.version != 2)
			rc = -EIO;
		*out = gv.version;
		return (int)rc;
	}
	rc = xgnt_hyp_grant_table_op(g, GNTTABOP_set_version, &sv, 1);
	if (!rc && sv.version != version)
		rc = -EIO;
	*out = sv.version;
	return (int)rc;
}

int xgnt_gnttab_init(struct xgnt_guest *g, unsigned int version)
{
	uint32_t ver;
	struct gnttab_query_size qs = { .dom = DOMID_SELF };
	struct gnttab_state *gt;
	unsigned int got;
	int rc = 0;
	long hrc;

	if (!g || version > 2)
		return -EINVAL;
	plat_mutex_lock(&init_lock);
	if (gtab_get(g)) {
		rc = -EBUSY;
		goto out;
	}
	rc = choose_version(g, version, &ver);
	if (rc)
		goto out;
	hrc = xgnt_hyp_grant_table_op(g, GNTTABOP_query_size, &qs, 1);
	rc = gntst_errno(hrc, qs.status);
	if (!rc && !qs.max_nr_frames)
		rc = -ENODEV;
	if (rc)
		goto out;
	gt = state_new(g, ver);
	if (!gt) {
		rc = -ENOMEM;
		goto out;
	}
	rc = state_setup(gt, qs.max_nr_frames);
	if (rc) {
		state_free(gt);
		goto out;
	}
	/* Start with one frame, as Linux does; the rest comes on demand. */
	plat_mutex_lock(&gt->grow_lock);
	got = place(gt, 0, 1, &rc);
	if (got)
		publish(gt, 0, got);
	else
		unplace(gt, 1, gt->nr_status);
	plat_mutex_unlock(&gt->grow_lock);
	if (!got) {
		xgnt_unpopulated_free(g, gt->area, area_pages(gt, gt->max_frames));
		state_free(gt);
		rc = rc ? rc : -EIO;
		goto out;
	}
	rc = 0;
	__atomic_store_n(&g->gt, gt, __ATOMIC_RELEASE);
out:
	plat_mutex_unlock(&init_lock);
	return rc;
}

int xgnt_gnttab_suspend(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	int rc = 0;

	if (!gt)
		return -ENODEV;
	plat_mutex_lock(&gt->grow_lock);
	if (gt->suspended)
		rc = -EALREADY;
	else
		unplace(gt, atomic_load_explicit(&gt->nr_frames, memory_order_relaxed),
			gt->nr_status);
	gt->suspended = true;
	plat_mutex_unlock(&gt->grow_lock);
	return rc;
}

int xgnt_gnttab_resume(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;
	struct gnttab_set_version sv;
	struct gnttab_query_size qs = { .dom = DOMID_SELF };
	unsigned int nr, got;
	int rc = 0;
	long hrc;

	if (!gt)
		return -ENODEV;
	plat_mutex_lock(&gt->grow_lock);
	nr = atomic_load_explicit(&gt->nr_frames, memory_order_relaxed);
	/* A resumed domain may be a new one: ask for our version again. */
	sv.version = gt->version;
	hrc = xgnt_hyp_grant_table_op(g, GNTTABOP_set_version, &sv, 1);
	if (hrc || sv.version != gt->version) {
		rc = hrc ? (int)hrc : -EIO;
		goto out;
	}
	hrc = xgnt_hyp_grant_table_op(g, GNTTABOP_query_size, &qs, 1);
	rc = gntst_errno(hrc, qs.status);
	if (rc)
		goto out;
	if (qs.max_nr_frames < nr) {
		rc = -ENOSPC;   /* the table we use no longer fits */
		goto out;
	}
	gt->nr_status = 0;
	got = place(gt, 0, nr, &rc);
	if (got < nr) {
		rc = rc ? rc : -EIO;
		goto out;
	}
	rc = 0;
	gt->suspended = false;
out:
	plat_mutex_unlock(&gt->grow_lock);
	return rc;
}

void gnttab_guest_fini(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g->gt;
	unsigned int nr, busy = 0;
	grant_ref_t ref;

	if (!gt)
		return;
	gtab_deferred_fini(gt);
	nr = gtab_nr_entries(gt);
	if (!gt->suspended) {
		for (ref = GTAB_RESERVED; ref < nr; ref++)
			if (__atomic_load_n(gtab_flags(gt, ref), __ATOMIC_ACQUIRE) &&
			    gtab_end_entry(gt, ref))
				busy++;
	}
	if (busy)
		guest_log("d%u: %u grants still in use by peers at teardown", g->info.domid, busy);
	plat_mutex_lock(&gt->grow_lock);
	if (!gt->suspended)
		unplace(gt, atomic_load_explicit(&gt->nr_frames, memory_order_relaxed),
			gt->nr_status);
	plat_mutex_unlock(&gt->grow_lock);
	xgnt_unpopulated_free(g, gt->area, area_pages(gt, gt->max_frames));
	g->gt = NULL;
	state_free(gt);
}

unsigned int xgnt_gnttab_version(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	return gt ? gt->version : 0;
}

unsigned int xgnt_gnttab_nr_frames(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	return gt ? atomic_load_explicit(&gt->nr_frames, memory_order_acquire) : 0;
}

unsigned int xgnt_gnttab_max_frames(struct xgnt_guest *g)
{
	struct gnttab_state *gt = g ? gtab_get(g) : NULL;

	return gt ? gt->max_frames : 0;
}
