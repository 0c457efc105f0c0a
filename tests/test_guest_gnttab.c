/* SPDX-License-Identifier: MIT */
/*
 * The guest library's grant table (<xgnt/guest.h>): set-up for every
 * domain type and version, grants mapped by another guest, end of access
 * while mapped (busy, the reference kept: the Zephyr bug), a full table and
 * growth up to the maximum, v1/v2 mixes, deferred ends, suspend/resume and
 * teardown. Transfer, batches, callbacks and map retries are in
 * test_guest_gnttab_ops.c; threads in test_conc_guest_gnttab.c.
 */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xgnt/guest.h>

#define ID_A 1
#define ID_B 2
#define PAGE_SIZE 4096

struct env {
	struct xgnt_machine *m;
	struct xgnt_guest *a, *b;
};

static void env_up_max(struct env *e, enum xgnt_domain_type ta, unsigned int va,
		       enum xgnt_domain_type tb, unsigned int vb, uint32_t max_frames)
{
	e->m = t_machine_cfg(16384, max_frames, 0, 0);
	e->a = xgnt_guest_create_inproc(t_domain(e->m, ID_A, ta, false));
	e->b = xgnt_guest_create_inproc(t_domain(e->m, ID_B, tb, false));
	assert_non_null(e->a);
	assert_non_null(e->b);
	assert_int_equal(xgnt_gnttab_init(e->a, va), 0);
	assert_int_equal(xgnt_gnttab_init(e->b, vb), 0);
}

static void env_up(struct env *e, enum xgnt_domain_type ta, unsigned int va,
		   enum xgnt_domain_type tb, unsigned int vb)
{
	env_up_max(e, ta, va, tb, vb, 0);
}

static void env_down(struct env *e)
{
	xgnt_guest_destroy(e->a);
	xgnt_guest_destroy(e->b);
	xgnt_machine_destroy(e->m);
}

/* A page of g's RAM granted to peer; its contents say seed. */
static void *granted_page(struct xgnt_guest *g, domid_t peer, bool ro, uint8_t seed,
			  grant_ref_t *ref)
{
	void *p = xgnt_page_alloc(g, 1);

	assert_non_null(p);
	memset(p, seed, PAGE_SIZE);
	assert_int_equal(xgnt_grant_access(g, peer, xgnt_guest_frame(g, p), ro, ref), 0);
	assert_true(*ref >= GNTTAB_NR_RESERVED_ENTRIES);
	return p;
}

struct mapping {
	void *page;
	grant_handle_t handle;
};

static int16_t try_map(struct xgnt_guest *g, domid_t granter, grant_ref_t ref, bool ro,
		       struct mapping *mp)
{
	struct gnttab_map_grant_ref op = {
		.flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0),
		.ref = ref,
		.dom = granter,
	};

	mp->page = xgnt_unpopulated_alloc(g, 1);
	assert_non_null(mp->page);
	op.host_addr = xgnt_guest_addr(g, mp->page);
	assert_int_equal(xgnt_map_refs(g, &op, 1), 0);
	if (op.status != GNTST_okay)
		assert_int_equal(xgnt_unpopulated_free(g, mp->page, 1), 0);
	mp->handle = op.handle;
	return op.status;
}

static void map(struct xgnt_guest *g, domid_t granter, grant_ref_t ref, bool ro,
		struct mapping *mp)
{
	assert_int_equal(try_map(g, granter, ref, ro, mp), GNTST_okay);
}

static void unmap(struct xgnt_guest *g, struct mapping *mp)
{
	struct gnttab_unmap_grant_ref op = {
		.host_addr = xgnt_guest_addr(g, mp->page),
		.handle = mp->handle,
	};

	assert_int_equal(xgnt_unmap_refs(g, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
	assert_int_equal(xgnt_unpopulated_free(g, mp->page, 1), 0);
}

static bool all_bytes(const void *p, uint8_t v, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

/* ---- set-up ------------------------------------------------------------------- */

static void test_init_every_type_and_version(void **state)
{
	static const enum xgnt_domain_type types[] = {
		XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, XGNT_DOMAIN_ARM,
	};

	(void)state;
	for (unsigned int t = 0; t < 3; t++) {
		for (unsigned int v = 0; v <= 2; v++) {
			struct xgnt_machine *m = t_machine();
			struct xgnt_domain *d = t_domain(m, ID_A, types[t], false);
			struct xgnt_guest *g = xgnt_guest_create_inproc(d);
			struct gnttab_query_size qs = { .dom = DOMID_SELF };
			struct xgnt_table_info ti;
			int rc;

			assert_non_null(g);
			assert_int_equal(xgnt_gnttab_nr_frames(g), 0);
			rc = xgnt_gnttab_init(g, v);
			if (types[t] == XGNT_DOMAIN_ARM && v == 2) {
				/* Xen has no v2 on Arm: the guest is told, and nothing is set up. */
				assert_int_equal(rc, -ENOSYS);
				assert_int_equal(xgnt_gnttab_version(g), 0);
				assert_int_equal(xgnt_gnttab_nr_frames(g), 0);
				xgnt_guest_destroy(g);
				xgnt_machine_destroy(m);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(xgnt_gnttab_version(g), v ? v : 1);
			assert_int_equal(t_gt_version(d), v ? v : 1);
			assert_int_equal(xgnt_gnttab_nr_frames(g), 1);
			assert_int_equal(xgnt_gnttab_max_frames(g), 64);
			assert_int_equal(xgnt_hyp_grant_table_op(g, GNTTABOP_query_size, &qs, 1), 0);
			assert_int_equal(qs.status, GNTST_okay);
			assert_int_equal(qs.nr_frames, 1);
			assert_int_equal(qs.max_nr_frames, 64);
			assert_int_equal(xgnt_domain_table_info(d, &ti), 0);
			assert_int_equal(ti.nr_status_frames, v == 2 ? 1 : 0);
			assert_int_equal(xgnt_gref_nr_free(g), (v == 2 ? 256 : 512) - 8);
			/* Once only. */
			assert_int_equal(xgnt_gnttab_init(g, v), -EBUSY);
			xgnt_guest_destroy(g);
			xgnt_machine_destroy(m);
		}
	}
}

static void test_version_0_keeps_the_tables_version(void **state)
{
	struct xgnt_machine *m;
	struct xgnt_domain *d;
	struct xgnt_guest *g;

	(void)state;
	m = t_machine();
	d = t_domain(m, ID_A, XGNT_DOMAIN_HVM, false);
	assert_int_equal(t_set_version(d, 2), 0);   /* as a toolstack could */
	g = xgnt_guest_create_inproc(d);
	assert_int_equal(xgnt_gnttab_init(g, 0), 0);
	assert_int_equal(xgnt_gnttab_version(g), 2);
	assert_int_equal(xgnt_gref_nr_free(g), 256 - 8);
	xgnt_guest_destroy(g);
	xgnt_machine_destroy(m);
}

static void test_calls_before_init_and_bad_refs(void **state)
{
	struct env e;
	grant_ref_t ref;

	(void)state;
	e.m = t_machine();
	e.a = xgnt_guest_create_inproc(t_domain(e.m, ID_A, XGNT_DOMAIN_HVM, false));
	e.b = xgnt_guest_create_inproc(t_domain(e.m, ID_B, XGNT_DOMAIN_HVM, false));
	assert_int_equal(xgnt_grant_access(e.a, ID_B, 5, false, &ref), -ENODEV);
	assert_int_equal(xgnt_gref_alloc(e.a, &ref), -ENODEV);
	assert_int_equal(xgnt_end_access(e.a, 9), -ENODEV);
	assert_int_equal(xgnt_gnttab_resume(e.a), -ENODEV);
	assert_int_equal(xgnt_gnttab_init(e.a, 3), -EINVAL);
	assert_int_equal(xgnt_gnttab_init(e.a, 1), 0);

	/* Reserved and unmapped references are not the guest's to end. */
	assert_int_equal(xgnt_end_access(e.a, GNTTAB_RESERVED_XENSTORE), -EINVAL);
	assert_int_equal(xgnt_end_access(e.a, 512), -EINVAL);
	/* A v1 entry cannot name a frame above 32 bits. */
	assert_int_equal(xgnt_grant_access(e.a, ID_B, 1ull << 32, false, &ref), -EINVAL);

	/* A double free changes nothing. */
	unsigned int nfree = xgnt_gref_nr_free(e.a);

	assert_int_equal(xgnt_gref_alloc(e.a, &ref), 0);
	assert_int_equal(xgnt_gref_nr_free(e.a), nfree - 1);
	xgnt_gref_free(e.a, ref);
	xgnt_gref_free(e.a, ref);
	xgnt_gref_free(e.a, GNTTAB_RESERVED_CONSOLE);
	assert_int_equal(xgnt_gref_nr_free(e.a), nfree);

	assert_string_equal(xgnt_gnttabop_error(GNTST_okay), "okay");
	assert_string_equal(xgnt_gnttabop_error(GNTST_bad_gntref), "invalid grant reference");
	assert_string_equal(xgnt_gnttabop_error(GNTST_eagain), "operation not done; try again");
	assert_string_equal(xgnt_gnttabop_error(GNTST_no_space), "out of space");
	assert_string_equal(xgnt_gnttabop_error(-14), "bad status");
	assert_string_equal(xgnt_gnttabop_error(1), "bad status");
	env_down(&e);
}

/* ---- grant, map, end ---------------------------------------------------------------- */

static void share_both_ways(enum xgnt_domain_type ta, unsigned int va,
			    enum xgnt_domain_type tb, unsigned int vb)
{
	struct mapping mp;
	grant_ref_t ref;
	struct env e;
	uint8_t *p;

	env_up(&e, ta, va, tb, vb);
	p = granted_page(e.a, ID_B, false, 0x5a, &ref);
	assert_false(xgnt_grant_in_use(e.a, ref));
	map(e.b, ID_A, ref, false, &mp);
	assert_true(xgnt_grant_in_use(e.a, ref));
	/* One frame, two views. */
	assert_true(all_bytes(mp.page, 0x5a, PAGE_SIZE));
	memset(mp.page, 0xc3, 64);
	assert_true(all_bytes(p, 0xc3, 64));
	p[PAGE_SIZE - 1] = 0x11;
	assert_int_equal(((uint8_t *)mp.page)[PAGE_SIZE - 1], 0x11);

	assert_int_equal(xgnt_end_access(e.a, ref), -EBUSY);
	unmap(e.b, &mp);
	assert_false(xgnt_grant_in_use(e.a, ref));
	assert_int_equal(xgnt_end_access(e.a, ref), 0);
	/* Ended: the peer cannot map it again. */
	assert_int_equal(try_map(e.b, ID_A, ref, false, &mp), GNTST_general_error);
	xgnt_page_free(e.a, p, 1);
	env_down(&e);
}

static void test_grant_and_map_share_data_both_ways(void **state)
{
	static const enum xgnt_domain_type types[] = {
		XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, XGNT_DOMAIN_ARM,
	};

	(void)state;
	for (unsigned int a = 0; a < 3; a++)
		for (unsigned int b = 0; b < 3; b++)
			share_both_ways(types[a], 1, types[b], 1);
	share_both_ways(XGNT_DOMAIN_HVM, 2, XGNT_DOMAIN_HVM, 2);
	share_both_ways(XGNT_DOMAIN_PV, 2, XGNT_DOMAIN_PV, 2);
}

static void test_v2_granter_v1_mapper_and_reverse(void **state)
{
	(void)state;
	share_both_ways(XGNT_DOMAIN_HVM, 2, XGNT_DOMAIN_ARM, 1);
	share_both_ways(XGNT_DOMAIN_PV, 2, XGNT_DOMAIN_HVM, 1);
	share_both_ways(XGNT_DOMAIN_ARM, 1, XGNT_DOMAIN_HVM, 2);
	share_both_ways(XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_PV, 2);
}

static void test_readonly_grant_maps_readonly_only(void **state)
{
	struct mapping mp;
	grant_ref_t ref;
	struct env e;
	void *p;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM, 1);
	p = granted_page(e.a, ID_B, true, 0x21, &ref);
	assert_int_equal(try_map(e.b, ID_A, ref, false, &mp), GNTST_general_error);
	map(e.b, ID_A, ref, true, &mp);
	assert_true(all_bytes(mp.page, 0x21, PAGE_SIZE));
	assert_true(t_write_faults(mp.page));
	unmap(e.b, &mp);
	assert_int_equal(xgnt_end_access(e.a, ref), 0);
	xgnt_page_free(e.a, p, 1);
	env_down(&e);
}

/*
 * Zephyr frees a reference whose end failed and keeps one whose end
 * succeeded. Here a busy end keeps both the entry and the reference: no
 * allocation may return it until the peer is done.
 */
static void busy_ref_is_not_reused(enum xgnt_domain_type ta, unsigned int va)
{
	unsigned int per = va == 2 ? 256 : 512, n = 0, i;
	grant_ref_t ref, *all = calloc(2 * per, sizeof(*all));
	struct mapping mp, mp2;
	struct env e;
	bool seen;
	void *p;

	assert_non_null(all);
	env_up_max(&e, ta, va, XGNT_DOMAIN_HVM, 1, 2);
	p = granted_page(e.a, ID_B, false, 0x77, &ref);
	map(e.b, ID_A, ref, false, &mp);
	assert_int_equal(xgnt_end_access(e.a, ref), -EBUSY);
	assert_int_equal(xgnt_end_access(e.a, ref), -EBUSY);
	assert_true(xgnt_grant_in_use(e.a, ref));

	/* Every other reference, up to a full table: never ref. */
	while (xgnt_gref_alloc(e.a, &all[n]) == 0) {
		assert_int_not_equal(all[n], ref);
		n++;
	}
	assert_int_equal(n, 2 * per - 8 - 1);
	/* The entry still grants: the peer reads, and can map it again. */
	assert_true(all_bytes(mp.page, 0x77, PAGE_SIZE));
	map(e.b, ID_A, ref, false, &mp2);
	assert_true(all_bytes(mp2.page, 0x77, PAGE_SIZE));
	for (i = 0; i < n; i++)
		xgnt_gref_free(e.a, all[i]);

	unmap(e.b, &mp);
	assert_int_equal(xgnt_end_access(e.a, ref), -EBUSY);   /* one mapping left */
	unmap(e.b, &mp2);
	assert_int_equal(xgnt_end_access(e.a, ref), 0);
	/* Now it comes back. */
	for (n = 0, seen = false; xgnt_gref_alloc(e.a, &all[n]) == 0; n++)
		seen |= all[n] == ref;
	assert_true(seen);
	assert_int_equal(n, 2 * per - 8);
	for (i = 0; i < n; i++)
		xgnt_gref_free(e.a, all[i]);
	xgnt_page_free(e.a, p, 1);
	env_down(&e);
	free(all);
}

static void test_end_access_while_mapped_is_busy_and_ref_not_reused(void **state)
{
	(void)state;
	busy_ref_is_not_reused(XGNT_DOMAIN_HVM, 1);
	busy_ref_is_not_reused(XGNT_DOMAIN_HVM, 2);
	busy_ref_is_not_reused(XGNT_DOMAIN_PV, 1);
	busy_ref_is_not_reused(XGNT_DOMAIN_PV, 2);
	busy_ref_is_not_reused(XGNT_DOMAIN_ARM, 1);
}

/* ---- a full table, and growth ---------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void full_table(enum xgnt_domain_type ta, unsigned int va)
{
	unsigned int per = va == 2 ? 256 : 512, n = 0, i;
	struct gnttab_query_size qs = { .dom = DOMID_SELF };
	grant_ref_t *all = calloc(3 * per, sizeof(*all)), ref;
	struct env e;
	int64_t t0;

	assert_non_null(all);
	env_up_max(&e, ta, va, XGNT_DOMAIN_HVM, 1, 3);
	assert_int_equal(xgnt_gnttab_max_frames(e.a), 3);
	for (;;) {
		int rc = xgnt_grant_access(e.a, ID_B, 7, false, &all[n]);

		if (rc) {
			assert_int_equal(rc, -ENOSPC);
			break;
		}
		/* One frame at a time, on demand. */
		assert_int_equal(xgnt_gnttab_nr_frames(e.a), (n + 8) / per + 1);
		n++;
	}
	assert_int_equal(n, 3 * per - 8);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 3);
	assert_int_equal(xgnt_hyp_grant_table_op(e.a, GNTTABOP_query_size, &qs, 1), 0);
	assert_int_equal(qs.nr_frames, 3);
	assert_int_equal(qs.max_nr_frames, 3);

	/* Full stays full, and says so at once. */
	t0 = now_ns();
	for (i = 0; i < 1000; i++)
		assert_int_equal(xgnt_grant_access(e.a, ID_B, 7, false, &ref), -ENOSPC);
	assert_true(now_ns() - t0 < 1000000000ll);
	assert_int_equal(xgnt_gref_alloc_batch(e.a, 1, &ref), -ENOSPC);
	assert_int_equal(xgnt_hyp_grant_table_op(e.a, GNTTABOP_query_size, &qs, 1), 0);
	assert_int_equal(qs.nr_frames, 3);

	/* One back, one out. */
	assert_int_equal(xgnt_end_access(e.a, all[100]), 0);
	assert_int_equal(xgnt_grant_access(e.a, ID_B, 7, false, &all[100]), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(xgnt_end_access(e.a, all[i]), 0);
	assert_int_equal(xgnt_gref_nr_free(e.a), 3 * per - 8);
	env_down(&e);
	free(all);
}

static void test_full_table_is_enospc_at_once_and_growth_stops_at_max(void **state)
{
	(void)state;
	full_table(XGNT_DOMAIN_HVM, 1);
	full_table(XGNT_DOMAIN_HVM, 2);
	full_table(XGNT_DOMAIN_PV, 1);
	full_table(XGNT_DOMAIN_PV, 2);
	full_table(XGNT_DOMAIN_ARM, 1);
}

static void growth_to_default_max(enum xgnt_domain_type t, unsigned int version)
{
	unsigned int per = version == 2 ? 256 : 512, n = 0;
	struct xgnt_table_info ti;
	grant_ref_t ref;
	struct env e;

	env_up(&e, t, version, XGNT_DOMAIN_HVM, 1);
	while (xgnt_gref_alloc(e.a, &ref) == 0)
		n++;
	assert_int_equal(n, 64 * per - 8);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 64);
	assert_int_equal(xgnt_domain_table_info(xgnt_domain_lookup(e.m, ID_A), &ti), 0);
	assert_int_equal(ti.nr_grant_frames, 64);
	assert_int_equal(ti.nr_status_frames, version == 2 ? 8 : 0);
	/* The last reference works like the first. */
	{
		struct mapping mp;
		uint8_t *p = xgnt_page_alloc(e.a, 1);

		memset(p, 0xe1, PAGE_SIZE);
		xgnt_grant_access_ref(e.a, ref = 64 * per - 1, ID_B, xgnt_guest_frame(e.a, p), false);
		map(e.b, ID_A, ref, false, &mp);
		assert_true(all_bytes(mp.page, 0xe1, PAGE_SIZE));
		assert_int_equal(xgnt_end_access_ref(e.a, ref), -EBUSY);
		unmap(e.b, &mp);
		assert_int_equal(xgnt_end_access_ref(e.a, ref), 0);
	}
	env_down(&e);   /* teardown with every reference allocated */
}

static void test_growth_to_the_default_maximum(void **state)
{
	(void)state;
	growth_to_default_max(XGNT_DOMAIN_HVM, 1);
	growth_to_default_max(XGNT_DOMAIN_HVM, 2);
	growth_to_default_max(XGNT_DOMAIN_PV, 1);
	growth_to_default_max(XGNT_DOMAIN_PV, 2);
}

/* ---- deferred ends -------------------------------------------------------------------- */

struct released {
	int n;
	void *page;
};

static void on_release(void *page, void *arg)
{
	struct released *r = arg;

	r->n++;
	r->page = page;
}

static void deferred(enum xgnt_domain_type ta, unsigned int va)
{
	struct released r = { 0 };
	struct mapping mp;
	grant_ref_t ref, ref2, other;
	struct env e;
	void *p, *p2;

	env_up(&e, ta, va, XGNT_DOMAIN_HVM, 1);
	/* Not mapped: ended and released at once. */
	p = granted_page(e.a, ID_B, false, 1, &ref);
	xgnt_end_access_deferred(e.a, ref, on_release, p, &r);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.page, p);
	assert_int_equal(xgnt_gnttab_nr_deferred(e.a), 0);
	xgnt_page_free(e.a, p, 1);

	/* Mapped: queued, and the page is not released while the peer has it. */
	r.n = 0;
	p = granted_page(e.a, ID_B, false, 2, &ref);
	map(e.b, ID_A, ref, false, &mp);
	xgnt_end_access_deferred(e.a, ref, on_release, p, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(xgnt_gnttab_nr_deferred(e.a), 1);
	assert_int_equal(xgnt_gnttab_poll_deferred(e.a), 0);
	assert_int_equal(xgnt_grant_access(e.a, ID_B, 3, false, &other), 0);   /* retries too */
	assert_int_not_equal(other, ref);
	assert_int_equal(r.n, 0);
	assert_true(all_bytes(mp.page, 2, PAGE_SIZE));
	unmap(e.b, &mp);
	assert_int_equal(xgnt_gnttab_poll_deferred(e.a), 1);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.page, p);
	assert_int_equal(xgnt_gnttab_nr_deferred(e.a), 0);

	/* A later grant call finishes it too. */
	p2 = granted_page(e.a, ID_B, false, 4, &ref2);
	map(e.b, ID_A, ref2, false, &mp);
	xgnt_end_access_deferred(e.a, ref2, on_release, p2, &r);
	assert_int_equal(xgnt_gnttab_nr_deferred(e.a), 1);
	unmap(e.b, &mp);
	assert_int_equal(r.n, 1);
	assert_int_equal(xgnt_end_access(e.a, other), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(xgnt_grant_access(e.a, ID_B, 3, false, &other), 0);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.page, p2);
	assert_int_equal(xgnt_gnttab_nr_deferred(e.a), 0);
	assert_int_equal(xgnt_end_access(e.a, other), 0);
	assert_int_equal(xgnt_gnttab_nr_leaked(e.a), 0);
	xgnt_page_free(e.a, p, 1);
	xgnt_page_free(e.a, p2, 1);
	env_down(&e);
}

static void test_deferred_end_releases_only_after_unmap(void **state)
{
	(void)state;
	deferred(XGNT_DOMAIN_HVM, 1);
	deferred(XGNT_DOMAIN_HVM, 2);
	deferred(XGNT_DOMAIN_PV, 1);
	deferred(XGNT_DOMAIN_PV, 2);
	deferred(XGNT_DOMAIN_ARM, 1);
}

static void test_deferred_still_mapped_at_teardown_is_not_released(void **state)
{
	struct released r = { 0 };
	struct mapping mp;
	grant_ref_t ref;
	struct env e;
	void *p;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM, 1);
	p = granted_page(e.a, ID_B, false, 9, &ref);
	map(e.b, ID_A, ref, false, &mp);
	xgnt_end_access_deferred(e.a, ref, on_release, p, &r);
	xgnt_guest_destroy(e.a);
	e.a = NULL;
	assert_int_equal(r.n, 0);
	/* The peer keeps its view of the page. */
	assert_true(all_bytes(mp.page, 9, PAGE_SIZE));
	unmap(e.b, &mp);
	env_down(&e);
}

/* ---- suspend / resume, teardown -------------------------------------------------------------- */

static int count_grants(const struct xgnt_grant_info *gi, void *arg)
{
	(void)gi;
	(*(unsigned int *)arg)++;
	return 0;
}

static unsigned int nr_grants(struct xgnt_machine *m, domid_t id)
{
	unsigned int n = 0;

	assert_int_equal(xgnt_domain_walk_grants(xgnt_domain_lookup(m, id), count_grants, &n), 0);
	return n;
}

static void resume(enum xgnt_domain_type ta, unsigned int va, bool suspend)
{
	unsigned int per = va == 2 ? 256 : 512, i;
	grant_ref_t ref, *more = calloc(per, sizeof(*more));
	struct mapping mp;
	struct env e;
	void *p;

	assert_non_null(more);
	env_up(&e, ta, va, XGNT_DOMAIN_HVM, 1);
	p = granted_page(e.a, ID_B, false, 0x3c, &ref);
	if (suspend) {
		assert_int_equal(xgnt_gnttab_suspend(e.a), 0);
		assert_int_equal(xgnt_gnttab_suspend(e.a), -EALREADY);
		assert_int_equal(nr_grants(e.m, ID_A), 1);   /* Xen keeps the entries */
	}
	assert_int_equal(xgnt_gnttab_resume(e.a), 0);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 1);
	map(e.b, ID_A, ref, false, &mp);
	assert_true(all_bytes(mp.page, 0x3c, PAGE_SIZE));
	assert_int_equal(xgnt_end_access(e.a, ref), -EBUSY);
	unmap(e.b, &mp);
	assert_int_equal(xgnt_end_access(e.a, ref), 0);
	/* Growth still works after it. */
	for (i = 0; i < per; i++)
		assert_int_equal(xgnt_grant_access(e.a, ID_B, 5, true, &more[i]), 0);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 2);
	map(e.b, ID_A, more[per - 1], true, &mp);
	unmap(e.b, &mp);
	for (i = 0; i < per; i++)
		assert_int_equal(xgnt_end_access(e.a, more[i]), 0);
	xgnt_page_free(e.a, p, 1);
	env_down(&e);
	free(more);
}

static void test_resume_keeps_grants_working(void **state)
{
	(void)state;
	resume(XGNT_DOMAIN_HVM, 1, true);
	resume(XGNT_DOMAIN_HVM, 2, true);
	resume(XGNT_DOMAIN_PV, 1, true);
	resume(XGNT_DOMAIN_PV, 2, true);
	resume(XGNT_DOMAIN_ARM, 1, true);
	resume(XGNT_DOMAIN_HVM, 1, false);
	resume(XGNT_DOMAIN_PV, 2, false);
}

static void test_destroy_ends_what_it_can(void **state)
{
	grant_ref_t r1, r2, r3, ref;
	struct mapping mp;
	struct env e;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_PV, 1);
	granted_page(e.a, ID_B, false, 1, &r1);
	granted_page(e.a, ID_B, true, 2, &r2);
	granted_page(e.a, ID_B, false, 3, &r3);
	map(e.b, ID_A, r3, false, &mp);
	assert_int_equal(nr_grants(e.m, ID_A), 3);
	xgnt_guest_destroy(e.a);
	e.a = NULL;
	assert_int_equal(nr_grants(e.m, ID_A), 1);   /* the one still mapped */
	assert_true(all_bytes(mp.page, 3, PAGE_SIZE));

	/* A new context on the same domain never hands out the busy one. */
	e.a = xgnt_guest_create_inproc(xgnt_domain_lookup(e.m, ID_A));
	assert_non_null(e.a);
	assert_int_equal(xgnt_gnttab_init(e.a, 1), 0);
	assert_int_equal(xgnt_gref_nr_free(e.a), 512 - 8 - 1);
	while (xgnt_gref_nr_free(e.a)) {
		assert_int_equal(xgnt_gref_alloc(e.a, &ref), 0);
		assert_int_not_equal(ref, r3);
	}
	assert_true(all_bytes(mp.page, 3, PAGE_SIZE));
	unmap(e.b, &mp);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_every_type_and_version),
		cmocka_unit_test(test_version_0_keeps_the_tables_version),
		cmocka_unit_test(test_calls_before_init_and_bad_refs),
		cmocka_unit_test(test_grant_and_map_share_data_both_ways),
		cmocka_unit_test(test_v2_granter_v1_mapper_and_reverse),
		cmocka_unit_test(test_readonly_grant_maps_readonly_only),
		cmocka_unit_test(test_end_access_while_mapped_is_busy_and_ref_not_reused),
		cmocka_unit_test(test_full_table_is_enospc_at_once_and_growth_stops_at_max),
		cmocka_unit_test(test_growth_to_the_default_maximum),
		cmocka_unit_test(test_deferred_end_releases_only_after_unmap),
		cmocka_unit_test(test_deferred_still_mapped_at_teardown_is_not_released),
		cmocka_unit_test(test_resume_keeps_grants_working),
		cmocka_unit_test(test_destroy_ends_what_it_can),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
