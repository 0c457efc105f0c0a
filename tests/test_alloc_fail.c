/* SPDX-License-Identifier: MIT */
/*
 * Allocation failure at every allocation point of every operation that
 * allocates (XSA-26: growth and creation error paths). For n = 1, 2, ...:
 * plat_fail_after(n), run the operation, plat_fail_after(0), then check
 * that it either succeeded or failed the way Xen reports it, that nothing
 * is half-built (sizes, versions and entries as before), that the
 * invariants hold, and that every plat allocation and every frame comes
 * back once everything is destroyed. The loop ends when the operation
 * succeeds without reaching the injected failure (plat_alloc_count() < n).
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plat/plat.h"

#define MAX_N   4000        /* far more allocation points than any op has */
#define G_ID    1
#define M_ID    2

/* ---- helpers -------------------------------------------------------------- */

static void check_clean(struct xgnt_machine *m, const char *what, unsigned long n)
{
	char why[256];

	if (xgnt_machine_check(m, XGNT_CHECK_GTF, why, sizeof(why)))
		fail_msg("%s, failure at allocation %lu: %s", what, n, why);
}

static struct xgnt_domain *dom(struct xgnt_machine *m, domid_t id, enum xgnt_domain_type t,
			       unsigned int nr_vcpus)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = t, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = nr_vcpus,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

static void table_info(struct xgnt_domain *d, struct xgnt_table_info *ti)
{
	assert_int_equal(xgnt_domain_table_info(d, ti), 0);
}

static void query_size(struct xgnt_domain *d, uint32_t *nr, uint32_t *max)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };

	assert_int_equal(xgnt_grant_table_op(t_v0(d), GNTTABOP_query_size, &q, 1), 0);
	assert_int_equal(q.status, GNTST_okay);
	*nr = q.nr_frames;
	*max = q.max_nr_frames;
}

static uint64_t ext_addr(struct xgnt_domain *d, unsigned int page)
{
	struct xgnt_domain_layout l;

	xgnt_domain_layout(d, &l);
	return l.ext_base + (uint64_t)page * 4096;
}

/* The loop's bookkeeping. */
struct inj {
	unsigned long n, count;
	unsigned int failed, succeeded_after_failure;
};

static void inj_start(struct inj *j)
{
	plat_fail_after(j->n);
}

static void inj_stop(struct inj *j)
{
	j->count = plat_alloc_count();
	plat_fail_after(0);
}

/* True when the loop is over: the op succeeded without meeting the
 * injected failure. */
static bool inj_done(struct inj *j, bool ok, const char *what)
{
	bool reached = j->count >= j->n;

	if (!ok) {
		if (!reached)
			fail_msg("%s failed at n=%lu without reaching the injected failure", what,
				 j->n);
		j->failed++;
	} else if (reached) {
		j->succeeded_after_failure++;
	}
	if (ok && !reached) {
		print_message("%s: %lu allocation points, %u clean failures, %u successes "
			      "despite a failure\n", what, j->n - 1, j->failed,
			      j->succeeded_after_failure);
		return true;
	}
	if (j->n >= MAX_N)
		fail_msg("%s: still allocating after %d points", what, MAX_N);
	return false;
}

/* ---- machine creation ------------------------------------------------------ */

static void test_alloc_fail_machine_create(void **state)
{
	struct xgnt_machine_config c = { .nr_frames = 16384 };
	long live0 = plat_live_allocs();
	struct inj j = { 0 };

	(void)state;
	for (j.n = 1;; j.n++) {
		struct xgnt_machine *m;

		inj_start(&j);
		errno = 0;
		m = xgnt_machine_create(&c);
		inj_stop(&j);
		if (!m) {
			assert_int_equal(errno, ENOMEM);
		} else {
			check_clean(m, "machine create", j.n);
			assert_int_equal(xgnt_machine_free_frames(m), 16384);
			xgnt_machine_destroy(m);
		}
		assert_int_equal(plat_live_allocs(), live0);
		if (inj_done(&j, m != NULL, "machine create"))
			break;
	}
}

/* ---- domain creation ------------------------------------------------------- */

static void run_domain_create(enum xgnt_domain_type type, unsigned int nr_vcpus)
{
	long live0 = plat_live_allocs(), live_m;
	struct xgnt_machine *m = t_machine();
	uint32_t free0 = xgnt_machine_free_frames(m);
	struct xgnt_domain_config c = {
		.domid = 7, .type = type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = nr_vcpus,
	};
	struct inj j = { 0 };

	live_m = plat_live_allocs();
	for (j.n = 1;; j.n++) {
		struct xgnt_domain *d;

		inj_start(&j);
		errno = 0;
		d = xgnt_domain_create(m, &c);
		inj_stop(&j);
		if (!d) {
			assert_int_equal(errno, ENOMEM);
			/* Not half-created: the domid is free, nothing is kept. */
			assert_null(xgnt_domain_lookup(m, 7));
			assert_int_equal(xgnt_machine_free_frames(m), free0);
			assert_int_equal(plat_live_allocs(), live_m);
			check_clean(m, "domain create", j.n);
		} else {
			struct xgnt_table_info ti;

			assert_ptr_equal(xgnt_domain_lookup(m, 7), d);
			table_info(d, &ti);
			assert_int_equal(ti.version, 1);
			assert_int_equal(ti.nr_grant_frames, 1);
			check_clean(m, "domain create", j.n);
			assert_int_equal(xgnt_domain_destroy(d), 0);
			assert_int_equal(xgnt_machine_free_frames(m), free0);
			assert_int_equal(plat_live_allocs(), live_m);
		}
		if (inj_done(&j, d != NULL, "domain create"))
			break;
	}
	xgnt_machine_destroy(m);
	assert_int_equal(plat_live_allocs(), live0);
}

static void test_alloc_fail_domain_create_hvm(void **state)
{
	(void)state;
	run_domain_create(XGNT_DOMAIN_HVM, 1);
}

static void test_alloc_fail_domain_create_pv(void **state)
{
	(void)state;
	run_domain_create(XGNT_DOMAIN_PV, 2);
}

static void test_alloc_fail_domain_create_arm_4vcpus(void **state)
{
	(void)state;
	run_domain_create(XGNT_DOMAIN_ARM, 4);
}

/* ---- GNTTABOP_setup_table growing the table to N frames ------------------- */

#define GROW_N 9   /* v2: 9 grant frames need 2 status frames */

static void run_setup_table(enum xgnt_domain_type type, unsigned int ver)
{
	long live0 = plat_live_allocs(), live_m;
	struct xgnt_machine *m = t_machine();
	uint32_t free_m = xgnt_machine_free_frames(m);
	struct inj j = { 0 };
	char what[64];

	snprintf(what, sizeof(what), "setup_table to %u frames (%s v%u)", GROW_N,
		 type == XGNT_DOMAIN_PV ? "PV" : "HVM", ver);
	live_m = plat_live_allocs();
	for (j.n = 1;; j.n++) {
		struct xgnt_domain *d = dom(m, G_ID, type, 1);
		xen_pfn_t frames[GROW_N];
		struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = GROW_N };
		struct xgnt_table_info before, after;
		uint32_t nr, max, free_before;
		long live_before, rc;

		if (ver == 2)
			assert_int_equal(t_set_version(d, 2), 0);
		set_xen_guest_handle(st.frame_list, frames);
		table_info(d, &before);
		free_before = xgnt_machine_free_frames(m);
		live_before = plat_live_allocs();

		inj_start(&j);
		rc = xgnt_grant_table_op(t_v0(d), GNTTABOP_setup_table, &st, 1);
		inj_stop(&j);

		assert_int_equal(rc, 0);
		query_size(d, &nr, &max);
		table_info(d, &after);
		if (st.status != GNTST_okay) {
			/* Xen: gnttab_grow_table failed -> general_error, and the
			 * table is exactly as it was (XSA-26). */
			assert_int_equal(st.status, GNTST_general_error);
			assert_int_equal(nr, before.nr_grant_frames);
			assert_int_equal(after.nr_grant_frames, before.nr_grant_frames);
			assert_int_equal(after.nr_status_frames, before.nr_status_frames);
			assert_int_equal(xgnt_machine_free_frames(m), free_before);
			assert_int_equal(plat_live_allocs(), live_before);
		} else {
			assert_int_equal(nr, GROW_N);
			assert_int_equal(after.nr_status_frames, ver == 2 ? 2 : 0);
		}
		check_clean(m, what, j.n);
		assert_int_equal(xgnt_domain_destroy(d), 0);
		assert_int_equal(xgnt_machine_free_frames(m), free_m);
		assert_int_equal(plat_live_allocs(), live_m);
		if (inj_done(&j, st.status == GNTST_okay, what))
			break;
	}
	xgnt_machine_destroy(m);
	assert_int_equal(plat_live_allocs(), live0);
}

static void test_alloc_fail_setup_table_pv_v1(void **state)
{
	(void)state;
	run_setup_table(XGNT_DOMAIN_PV, 1);
}

static void test_alloc_fail_setup_table_pv_v2(void **state)
{
	(void)state;
	run_setup_table(XGNT_DOMAIN_PV, 2);
}

static void test_alloc_fail_setup_table_hvm_v1(void **state)
{
	(void)state;
	run_setup_table(XGNT_DOMAIN_HVM, 1);
}

static void test_alloc_fail_setup_table_hvm_v2(void **state)
{
	(void)state;
	run_setup_table(XGNT_DOMAIN_HVM, 2);
}

/* ---- XENMEM_add_to_physmap(XENMAPSPACE_grant_table) growing the table ------ */

static void run_add_to_physmap(enum xgnt_domain_type type, unsigned int ver, bool status)
{
	long live0 = plat_live_allocs(), live_m;
	struct xgnt_machine *m = t_machine();
	uint32_t free_m = xgnt_machine_free_frames(m);
	struct inj j = { 0 };
	char what[96];
	/* Grant frame GROW_N-1, or status frame 1 (which needs 16 grant frames). */
	uint64_t idx = status ? (1 | XENMAPIDX_grant_table_status) : GROW_N - 1;
	unsigned int want_frames = status ? 16 : GROW_N;

	snprintf(what, sizeof(what), "add_to_physmap %s frame %u (%s v%u)",
		 status ? "status" : "grant", status ? 1 : GROW_N - 1,
		 type == XGNT_DOMAIN_ARM ? "Arm" : "HVM", ver);
	live_m = plat_live_allocs();
	for (j.n = 1;; j.n++) {
		struct xgnt_domain *d = dom(m, G_ID, type, 1);
		struct xgnt_table_info before, after;
		struct xen_add_to_physmap a = {
			.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = idx,
		};
		uint32_t nr, max, free_before;
		long live_before, rc;

		if (ver == 2)
			assert_int_equal(t_set_version(d, 2), 0);
		a.gpfn = ext_addr(d, 200) >> 12;
		table_info(d, &before);
		free_before = xgnt_machine_free_frames(m);
		live_before = plat_live_allocs();

		inj_start(&j);
		rc = xgnt_memory_op(t_v0(d), XENMEM_add_to_physmap, &a);
		inj_stop(&j);

		query_size(d, &nr, &max);
		table_info(d, &after);
		if (rc) {
			/* Xen: a failed grow is -ENOMEM for a grant frame
			 * (gnttab_get_shared_frame_mfn) but -EINVAL for a status
			 * frame (gnttab_get_status_frame_mfn re-checks the size). */
			assert_int_equal(rc, status ? -EINVAL : -ENOMEM);
			assert_int_equal(nr, before.nr_grant_frames);
			assert_int_equal(after.nr_grant_frames, before.nr_grant_frames);
			assert_int_equal(after.nr_status_frames, before.nr_status_frames);
			assert_int_equal(xgnt_machine_free_frames(m), free_before);
			assert_int_equal(plat_live_allocs(), live_before);
			/* Nothing appeared at the gfn. */
			assert_true(t_read_faults(xgnt_domain_va(d, ext_addr(d, 200))));
		} else {
			assert_int_equal(nr, want_frames);
			assert_false(t_read_faults(xgnt_domain_va(d, ext_addr(d, 200))));
		}
		check_clean(m, what, j.n);
		assert_int_equal(xgnt_domain_destroy(d), 0);
		assert_int_equal(xgnt_machine_free_frames(m), free_m);
		assert_int_equal(plat_live_allocs(), live_m);
		if (inj_done(&j, rc == 0, what))
			break;
	}
	xgnt_machine_destroy(m);
	assert_int_equal(plat_live_allocs(), live0);
}

static void test_alloc_fail_add_to_physmap_grant_frame_hvm_v1(void **state)
{
	(void)state;
	run_add_to_physmap(XGNT_DOMAIN_HVM, 1, false);
}

static void test_alloc_fail_add_to_physmap_grant_frame_hvm_v2(void **state)
{
	(void)state;
	run_add_to_physmap(XGNT_DOMAIN_HVM, 2, false);
}

static void test_alloc_fail_add_to_physmap_grant_frame_arm(void **state)
{
	(void)state;
	run_add_to_physmap(XGNT_DOMAIN_ARM, 1, false);
}

static void test_alloc_fail_add_to_physmap_status_frame_hvm_v2(void **state)
{
	(void)state;
	run_add_to_physmap(XGNT_DOMAIN_HVM, 2, true);
}

/* ---- GNTTABOP_set_version 1 -> 2 (status frames) ---------------------------- */

struct find_grant {
	grant_ref_t ref;
	bool found;
	struct xgnt_grant_info gi;
};

static int find_grant_cb(const struct xgnt_grant_info *gi, void *arg)
{
	struct find_grant *f = arg;

	if (gi->ref == f->ref) {
		f->found = true;
		f->gi = *gi;
	}
	return 0;
}

/* An entry as the hypervisor sees it (any version, no guest mapping). */
static void assert_entry(struct xgnt_domain *d, grant_ref_t ref, uint16_t flags, uint64_t frame)
{
	struct find_grant f = { .ref = ref };

	assert_int_equal(xgnt_domain_walk_grants(d, find_grant_cb, &f), 0);
	assert_true(f.found);
	assert_int_equal(f.gi.flags, flags);
	assert_int_equal(f.gi.status, 0);
	assert_int_equal(f.gi.domid, M_ID);
	assert_int_equal(f.gi.frame, frame);
}

static void run_set_version(enum xgnt_domain_type type)
{
	long live0 = plat_live_allocs(), live_m;
	struct xgnt_machine *m = t_machine();
	uint32_t free_m = xgnt_machine_free_frames(m);
	struct inj j = { 0 };
	const char *what = type == XGNT_DOMAIN_PV ? "set_version 1->2 (PV)" : "set_version 1->2 (HVM)";

	live_m = plat_live_allocs();
	for (j.n = 1;; j.n++) {
		struct xgnt_domain *d = dom(m, G_ID, type, 1);
		struct gnttab_set_version sv = { .version = 2 };
		struct xgnt_table_info ti;
		uint32_t free_before;
		long live_before, rc;

		/* 9 frames: v2 needs 2 status frames. A reserved entry and a
		 * normal one in use (not pinned). */
		t_gt_setup(d, GROW_N);
		t_grant(d, 1, M_ID, t_ram_frame(d, 33), false);
		t_grant(d, 20, M_ID, t_ram_frame(d, 34), true);
		free_before = xgnt_machine_free_frames(m);
		live_before = plat_live_allocs();

		inj_start(&j);
		rc = xgnt_grant_table_op(t_v0(d), GNTTABOP_set_version, &sv, 1);
		inj_stop(&j);

		table_info(d, &ti);
		if (rc) {
			/* Xen: status frame allocation failed -> -ENOMEM, still v1
			 * (written back), and the v1 entries untouched. */
			assert_int_equal(rc, -ENOMEM);
			assert_int_equal(sv.version, 1);
			assert_int_equal(t_gt_version(d), 1);
			assert_int_equal(ti.nr_status_frames, 0);
			assert_int_equal(ti.nr_grant_frames, GROW_N);
			assert_entry(d, 1, GTF_permit_access, t_ram_frame(d, 33));
			assert_entry(d, 20, GTF_permit_access | GTF_readonly, t_ram_frame(d, 34));
			assert_int_equal(xgnt_machine_free_frames(m), free_before);
			assert_int_equal(plat_live_allocs(), live_before);
		} else {
			assert_int_equal(sv.version, 2);
			assert_int_equal(ti.nr_status_frames, 2);
			/* The reserved entry came across. */
			assert_entry(d, 1, GTF_permit_access, t_ram_frame(d, 33));
		}
		check_clean(m, what, j.n);
		assert_int_equal(xgnt_domain_destroy(d), 0);
		assert_int_equal(xgnt_machine_free_frames(m), free_m);
		assert_int_equal(plat_live_allocs(), live_m);
		if (inj_done(&j, rc == 0, what))
			break;
	}
	xgnt_machine_destroy(m);
	assert_int_equal(plat_live_allocs(), live0);
}

static void test_alloc_fail_set_version_hvm(void **state)
{
	(void)state;
	run_set_version(XGNT_DOMAIN_HVM);
}

static void test_alloc_fail_set_version_pv(void **state)
{
	(void)state;
	run_set_version(XGNT_DOMAIN_PV);
}

/* ---- first map (a maptrack page), and growth to a second maptrack page ----- */

#define MT_REFS 8   /* refs 8..15, so no pin counter overflows */

static void run_map(enum xgnt_domain_type mtype, unsigned int premapped)
{
	long live0 = plat_live_allocs(), live_m;
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, G_ID, XGNT_DOMAIN_HVM, false);
	uint32_t free_m;
	struct inj j = { 0 };
	char what[96];
	unsigned int i;

	snprintf(what, sizeof(what), "%s map (%s mapper, %u handles held)",
		 premapped ? "maptrack growth on" : "first", mtype == XGNT_DOMAIN_PV ? "PV" : "HVM",
		 premapped);
	t_gt_setup(g, 1);
	for (i = 0; i < MT_REFS; i++)
		t_grant(g, 8 + i, M_ID, t_ram_frame(g, 40 + i), true);
	free_m = xgnt_machine_free_frames(m);
	live_m = plat_live_allocs();
	for (j.n = 1;; j.n++) {
		struct xgnt_domain *mp = dom(m, M_ID, mtype, 1);
		grant_handle_t hs[260], h = (grant_handle_t)0xdeadbeef;
		struct xgnt_table_info before, after, gi;
		uint32_t free_before;
		long live_before;
		int16_t st;
		uint64_t addr = ext_addr(mp, 1024 + premapped);

		for (i = 0; i < premapped; i++)
			assert_int_equal(t_map(mp, G_ID, 8 + i % MT_REFS,
					       GNTMAP_host_map | GNTMAP_readonly,
					       ext_addr(mp, 1024 + i), &hs[i]), GNTST_okay);
		table_info(mp, &before);
		free_before = xgnt_machine_free_frames(m);
		live_before = plat_live_allocs();

		inj_start(&j);
		st = t_map(mp, G_ID, 8 + premapped % MT_REFS, GNTMAP_host_map | GNTMAP_readonly,
			   addr, &h);
		inj_stop(&j);

		table_info(mp, &after);
		table_info(g, &gi);
		if (st != GNTST_okay) {
			/* Xen (since 2021): no handle could be had -> no_space;
			 * no pin, no GTF_reading, nothing at host_addr. */
			assert_int_equal(st, GNTST_no_space);
			assert_int_equal(h, (grant_handle_t)0xdeadbeef);
			assert_int_equal(after.maptrack_limit, before.maptrack_limit);
			assert_int_equal(after.nr_mappings, premapped);
			if (!premapped) {
				assert_int_equal(gi.nr_active, 0);
				assert_int_equal(t_entry_flags(g, 8), GTF_permit_access | GTF_readonly);
			}
			assert_true(t_read_faults(xgnt_domain_va(mp, addr)));
			assert_int_equal(xgnt_machine_free_frames(m), free_before);
			assert_int_equal(plat_live_allocs(), live_before);
		} else {
			assert_int_equal(after.nr_mappings, premapped + 1);
			assert_true(after.maptrack_limit > before.maptrack_limit);
			assert_int_equal(*(volatile uint8_t *)xgnt_domain_va(mp, addr), 0);
			assert_int_equal(t_unmap(mp, h, addr, 0), GNTST_okay);
		}
		check_clean(m, what, j.n);
		for (i = 0; i < premapped; i++)
			assert_int_equal(t_unmap(mp, hs[i], ext_addr(mp, 1024 + i), 0), GNTST_okay);
		assert_int_equal(xgnt_domain_destroy(mp), 0);
		assert_int_equal(xgnt_machine_free_frames(m), free_m);
		assert_int_equal(plat_live_allocs(), live_m);
		if (inj_done(&j, st == GNTST_okay, what))
			break;
	}
	xgnt_machine_destroy(m);
	assert_int_equal(plat_live_allocs(), live0);
}

static void test_alloc_fail_first_map_hvm(void **state)
{
	(void)state;
	run_map(XGNT_DOMAIN_HVM, 0);
}

static void test_alloc_fail_first_map_pv(void **state)
{
	(void)state;
	run_map(XGNT_DOMAIN_PV, 0);
}

static void test_alloc_fail_second_maptrack_page(void **state)
{
	(void)state;
	/* One vCPU: its list keeps a sentinel, so 255 handles fill a page. */
	run_map(XGNT_DOMAIN_HVM, 255);
}

/* ---- XENMEM_populate_physmap ----------------------------------------------- */

static void run_populate(enum xgnt_domain_type type, unsigned int order, unsigned int nr)
{
	long live0 = plat_live_allocs(), live_m;
	struct xgnt_machine *m = t_machine();
	uint32_t free_m = xgnt_machine_free_frames(m);
	struct inj j = { 0 };
	unsigned int pages = nr << order, i;
	char what[96];

	snprintf(what, sizeof(what), "populate_physmap %u x order %u (%s)", nr, order,
		 type == XGNT_DOMAIN_PV ? "PV" : "HVM");
	live_m = plat_live_allocs();
	for (j.n = 1;; j.n++) {
		struct xgnt_domain *d = dom(m, G_ID, type, 1);
		xen_pfn_t list[16];
		struct xen_memory_reservation r = { .domid = DOMID_SELF };
		uint32_t free_before;
		long live_before, rc;

		/* Give pages 16.. back first (PV names them by mfn). */
		for (i = 0; i < pages; i++)
			list[i] = t_ram_frame(d, 16 + i);
		r.nr_extents = pages;
		r.extent_order = 0;
		set_xen_guest_handle(r.extent_start, list);
		assert_int_equal(xgnt_memory_op(t_v0(d), XENMEM_decrease_reservation, &r), pages);
		for (i = 0; i < pages; i++)
			assert_true(t_read_faults(t_ram_va(d, 16 + i)));

		for (i = 0; i < nr; i++)
			list[i] = 16 + (i << order);
		r.nr_extents = nr;
		r.extent_order = order;
		free_before = xgnt_machine_free_frames(m);
		live_before = plat_live_allocs();

		inj_start(&j);
		rc = xgnt_memory_op(t_v0(d), XENMEM_populate_physmap, &r);
		inj_stop(&j);

		/* Xen: the number of extents done; each done extent is there,
		 * the others are not. */
		assert_true(rc >= 0 && rc <= nr);
		for (i = 0; i < pages; i++) {
			bool done = i >> order < (unsigned long)rc;

			assert_int_equal(t_read_faults(t_ram_va(d, 16 + i)), !done);
		}
		assert_int_equal(xgnt_machine_free_frames(m), free_before - ((uint32_t)rc << order));
		assert_int_equal(plat_live_allocs(), live_before);
		check_clean(m, what, j.n);
		assert_int_equal(xgnt_domain_destroy(d), 0);
		assert_int_equal(xgnt_machine_free_frames(m), free_m);
		assert_int_equal(plat_live_allocs(), live_m);
		if (inj_done(&j, rc == nr, what))
			break;
	}
	xgnt_machine_destroy(m);
	assert_int_equal(plat_live_allocs(), live0);
}

static void test_alloc_fail_populate_physmap_hvm(void **state)
{
	(void)state;
	run_populate(XGNT_DOMAIN_HVM, 0, 4);
}

static void test_alloc_fail_populate_physmap_hvm_order2(void **state)
{
	(void)state;
	run_populate(XGNT_DOMAIN_HVM, 2, 2);
}

static void test_alloc_fail_populate_physmap_pv(void **state)
{
	(void)state;
	run_populate(XGNT_DOMAIN_PV, 0, 4);
}

/* ---- GNTTABOP_copy ---------------------------------------------------------- */

static void test_alloc_fail_copy(void **state)
{
	long live0 = plat_live_allocs();
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, G_ID, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *mp = t_domain(m, M_ID, XGNT_DOMAIN_HVM, false);
	struct inj j = { 0 };

	(void)state;
	t_gt_setup(g, 1);
	memset(t_ram_va(g, 40), 0x6b, 4096);
	t_grant(g, 8, M_ID, t_ram_frame(g, 40), false);
	for (j.n = 1;; j.n++) {
		struct gnttab_copy c = { .len = 100, .flags = GNTCOPY_source_gref };
		uint8_t *own = t_ram_va(mp, 9);
		uint32_t free_before = xgnt_machine_free_frames(m);
		long rc, live_before = plat_live_allocs();

		c.source.domid = G_ID;
		c.source.u.ref = 8;
		c.dest.domid = DOMID_SELF;
		c.dest.u.gmfn = t_ram_frame(mp, 9);
		memset(own, 0, 100);
		inj_start(&j);
		rc = xgnt_grant_table_op(t_v0(mp), GNTTABOP_copy, &c, 1);
		inj_stop(&j);
		assert_int_equal(rc, 0);
		if (c.status == GNTST_okay)
			for (unsigned int i = 0; i < 100; i++)
				assert_int_equal(own[i], 0x6b);
		else
			assert_int_equal(c.status, GNTST_general_error);
		assert_int_equal(t_entry_flags(g, 8) & (GTF_reading | GTF_writing), 0);
		assert_int_equal(xgnt_machine_free_frames(m), free_before);
		assert_int_equal(plat_live_allocs(), live_before);
		check_clean(m, "copy", j.n);
		if (inj_done(&j, c.status == GNTST_okay, "copy"))
			break;
	}
	xgnt_machine_destroy(m);
	assert_int_equal(plat_live_allocs(), live0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_fail_machine_create),
		cmocka_unit_test(test_alloc_fail_domain_create_hvm),
		cmocka_unit_test(test_alloc_fail_domain_create_pv),
		cmocka_unit_test(test_alloc_fail_domain_create_arm_4vcpus),
		cmocka_unit_test(test_alloc_fail_setup_table_pv_v1),
		cmocka_unit_test(test_alloc_fail_setup_table_pv_v2),
		cmocka_unit_test(test_alloc_fail_setup_table_hvm_v1),
		cmocka_unit_test(test_alloc_fail_setup_table_hvm_v2),
		cmocka_unit_test(test_alloc_fail_add_to_physmap_grant_frame_hvm_v1),
		cmocka_unit_test(test_alloc_fail_add_to_physmap_grant_frame_hvm_v2),
		cmocka_unit_test(test_alloc_fail_add_to_physmap_grant_frame_arm),
		cmocka_unit_test(test_alloc_fail_add_to_physmap_status_frame_hvm_v2),
		cmocka_unit_test(test_alloc_fail_set_version_hvm),
		cmocka_unit_test(test_alloc_fail_set_version_pv),
		cmocka_unit_test(test_alloc_fail_first_map_hvm),
		cmocka_unit_test(test_alloc_fail_first_map_pv),
		cmocka_unit_test(test_alloc_fail_second_maptrack_page),
		cmocka_unit_test(test_alloc_fail_populate_physmap_hvm),
		cmocka_unit_test(test_alloc_fail_populate_physmap_hvm_order2),
		cmocka_unit_test(test_alloc_fail_populate_physmap_pv),
		cmocka_unit_test(test_alloc_fail_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
