/* SPDX-License-Identifier: MIT */
/*
 * Domain lifetime: xgnt_domain_create's errors, and Xen's destruction rules
 * when grants are mapped across domains (frames others map outlive their
 * owner; the domid stays taken until they are unmapped; a dying mapper
 * gives its mappings back). Machine memory must come back in full.
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#define ID_A  1	/* granter */
#define ID_B  2	/* mapper */
#define ID_C  3
#define REF   10
#define REF2  11
#define PAGE  4096

static void fill(void *p, size_t n, uint8_t seed)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static bool is_fill(const void *p, size_t n, uint8_t seed)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

static struct xgnt_domain *create(struct xgnt_machine *m, domid_t id,
				  enum xgnt_domain_type type, uint32_t ram_frames)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = ram_frames, .ext_frames = 64,
		.nr_vcpus = 1,
	};

	errno = 0;
	return xgnt_domain_create(m, &c);
}

static int count_cb(const struct xgnt_active_info *a, void *arg)
{
	(void)a;
	++*(unsigned int *)arg;
	return 0;
}

static unsigned int nr_active(struct xgnt_domain *d)
{
	unsigned int n = 0;

	assert_int_equal(xgnt_domain_walk_active(d, count_cb, &n), 0);
	return n;
}

/* ---- a granter destroyed while another domain maps its frame ---- */

static void granter_destroyed_while_mapped(enum xgnt_domain_type gtype,
					   enum xgnt_domain_type mtype)
{
	struct xgnt_machine *m = t_machine();
	uint32_t f0 = xgnt_machine_free_frames(m), fb;
	struct xgnt_domain *a, *b;
	grant_handle_t h;
	uint64_t addr;
	uint8_t *p;

	b = t_domain(m, ID_B, mtype, false);
	fb = xgnt_machine_free_frames(m);
	a = t_domain(m, ID_A, gtype, false);
	t_gt_setup(a, 1);
	fill(t_ram_va(a, 3), PAGE, 5);
	t_grant(a, REF, ID_B, t_ram_frame(a, 3), false);
	addr = t_ext_addr(b, 0);
	assert_int_equal(t_map(b, ID_A, REF, GNTMAP_host_map, addr, &h), GNTST_okay);
	p = xgnt_domain_va(b, addr);
	assert_true(is_fill(p, PAGE, 5));

	assert_int_equal(xgnt_domain_destroy(a), 0);
	assert_null(xgnt_domain_lookup(m, ID_A));
	/* The mapper still has the frame, data intact, and may write it. */
	assert_true(is_fill(p, PAGE, 5));
	fill(p, PAGE, 99);
	assert_true(is_fill(p, PAGE, 99));
	/* The mapped frame (at least) is not back with the allocator. */
	assert_true(xgnt_machine_free_frames(m) < fb);

	assert_int_equal(t_unmap(b, h, addr, 0), GNTST_okay);
	assert_true(t_read_faults(p));
	assert_int_equal(xgnt_machine_free_frames(m), fb);
	assert_int_equal(xgnt_domain_destroy(b), 0);
	assert_int_equal(xgnt_machine_free_frames(m), f0);
	xgnt_machine_destroy(m);
}

static void test_destroyed_granter_frame_stays_mapped_until_unmap_hvm(void **state)
{
	(void)state;
	granter_destroyed_while_mapped(XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
}

static void test_destroyed_granter_frame_stays_mapped_until_unmap_pv(void **state)
{
	(void)state;
	granter_destroyed_while_mapped(XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
}

static void test_destroyed_granter_frame_stays_mapped_until_unmap_arm(void **state)
{
	(void)state;
	granter_destroyed_while_mapped(XGNT_DOMAIN_ARM, XGNT_DOMAIN_ARM);
}

static void test_destroyed_domid_stays_in_use_until_mapper_unmaps(void **state)
{
	struct xgnt_machine *m;
	struct xgnt_domain *a, *b, *again;
	grant_handle_t h;
	uint64_t addr;
	int16_t st;

	(void)state;
	m = t_machine();
	a = t_domain(m, ID_A, XGNT_DOMAIN_HVM, false);
	b = t_domain(m, ID_B, XGNT_DOMAIN_HVM, false);
	t_gt_setup(a, 1);
	t_grant(a, REF, ID_B, t_ram_frame(a, 3), true);
	addr = t_ext_addr(b, 0);
	assert_int_equal(t_map(b, ID_A, REF, GNTMAP_host_map | GNTMAP_readonly, addr, &h),
			 GNTST_okay);
	assert_int_equal(xgnt_domain_destroy(a), 0);

	assert_null(create(m, ID_A, XGNT_DOMAIN_HVM, 16));
	assert_int_equal(errno, EEXIST);
	assert_null(create(m, ID_A, XGNT_DOMAIN_PV, 16));
	assert_int_equal(errno, EEXIST);
	assert_null(xgnt_domain_lookup(m, ID_A));

	assert_int_equal(t_unmap(b, h, addr, 0), GNTST_okay);
	again = create(m, ID_A, XGNT_DOMAIN_PV, 16);
	assert_non_null(again);
	assert_ptr_equal(xgnt_domain_lookup(m, ID_A), again);
	assert_int_equal(xgnt_domain_id(again), ID_A);
	/* A new domain: nothing of the old table is visible to B (an empty
	 * entry, or no table frame yet). */
	st = t_map(b, ID_A, REF, GNTMAP_host_map | GNTMAP_readonly, addr, &h);
	assert_true(st == GNTST_general_error || st == GNTST_bad_gntref);
	xgnt_machine_destroy(m);
}

static void test_lookup_of_destroyed_domain_is_null(void **state)
{
	struct xgnt_machine *m;
	struct xgnt_domain *a, *b;

	(void)state;
	m = t_machine();
	a = t_domain(m, ID_A, XGNT_DOMAIN_HVM, false);
	b = t_domain(m, ID_B, XGNT_DOMAIN_PV, false);
	assert_ptr_equal(xgnt_domain_lookup(m, ID_A), a);
	assert_ptr_equal(xgnt_domain_lookup(m, ID_B), b);
	assert_int_equal(xgnt_domain_destroy(a), 0);
	assert_null(xgnt_domain_lookup(m, ID_A));
	assert_ptr_equal(xgnt_domain_lookup(m, ID_B), b);
	assert_int_equal(xgnt_domain_destroy(b), 0);
	assert_null(xgnt_domain_lookup(m, ID_B));
	assert_null(xgnt_domain_lookup(m, ID_C));
	xgnt_machine_destroy(m);
}

/* ---- a mapper destroyed while it holds mappings ---- */

static void mapper_destroyed(enum xgnt_domain_type mtype)
{
	struct xgnt_machine *m = t_machine();
	uint32_t f0 = xgnt_machine_free_frames(m), before;
	struct xgnt_domain *a, *b;
	grant_handle_t h;
	xen_pfn_t gfn = 4;
	struct xen_memory_reservation r = {
		.nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF,
	};

	a = t_domain(m, ID_A, XGNT_DOMAIN_HVM, false);
	b = t_domain(m, ID_B, mtype, false);
	t_gt_setup(a, 1);
	t_grant(a, REF, ID_B, t_ram_frame(a, 3), true);
	t_grant(a, REF2, ID_B, t_ram_frame(a, 4), false);
	assert_int_equal(t_map(b, ID_A, REF, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(b, 0), &h), GNTST_okay);
	assert_int_equal(t_map(b, ID_A, REF2, GNTMAP_host_map, t_ext_addr(b, 1), &h),
			 GNTST_okay);
	assert_int_equal(t_map(b, ID_A, REF2, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(b, 2), &h), GNTST_okay);
	assert_int_equal(t_entry_flags(a, REF) & (GTF_reading | GTF_writing), GTF_reading);
	assert_int_equal(t_entry_flags(a, REF2) & (GTF_reading | GTF_writing),
			 GTF_reading | GTF_writing);
	assert_int_equal(nr_active(a), 2);

	assert_int_equal(xgnt_domain_destroy(b), 0);
	assert_null(xgnt_domain_lookup(m, ID_B));
	assert_int_equal(t_entry_flags(a, REF), GTF_permit_access | GTF_readonly);
	assert_int_equal(t_entry_flags(a, REF2), GTF_permit_access);
	assert_int_equal(nr_active(a), 0);

	/* No reference of the mapper is left on A's frame: giving it back
	 * frees it at once. */
	t_ungrant(a, REF2);
	before = xgnt_machine_free_frames(m);
	set_xen_guest_handle(r.extent_start, &gfn);
	assert_int_equal(xgnt_memory_op(t_v0(a), XENMEM_decrease_reservation, &r), 1);
	assert_int_equal(xgnt_machine_free_frames(m), before + 1);

	/* B's domid is free at once (nothing of B is mapped elsewhere). */
	b = create(m, ID_B, mtype, 16);
	assert_non_null(b);
	assert_int_equal(xgnt_domain_destroy(b), 0);
	assert_int_equal(xgnt_domain_destroy(a), 0);
	assert_int_equal(xgnt_machine_free_frames(m), f0);
	xgnt_machine_destroy(m);
}

static void test_destroyed_mapper_releases_its_mappings_hvm(void **state)
{
	(void)state;
	mapper_destroyed(XGNT_DOMAIN_HVM);
}

static void test_destroyed_mapper_releases_its_mappings_pv(void **state)
{
	(void)state;
	mapper_destroyed(XGNT_DOMAIN_PV);
}

static void test_destroyed_mapper_releases_its_mappings_arm(void **state)
{
	(void)state;
	mapper_destroyed(XGNT_DOMAIN_ARM);
}

/* ---- whole machines ---- */

static void map_ok(struct xgnt_domain *mapper, struct xgnt_domain *granter, grant_ref_t ref,
		   unsigned int page, unsigned int slot, bool ro)
{
	grant_handle_t h;

	t_grant(granter, ref, xgnt_domain_id(mapper), t_ram_frame(granter, page), ro);
	assert_int_equal(t_map(mapper, xgnt_domain_id(granter), ref,
			       GNTMAP_host_map | (ro ? GNTMAP_readonly : 0),
			       t_ext_addr(mapper, slot), &h),
			 GNTST_okay);
}

/*
 * The tests link with -Wl,--wrap=xgnt_machine_destroy (harness.c): the
 * wrapper checks invariants and destroys every domain itself before the
 * real call. To exercise xgnt_machine_destroy's own teardown of live
 * domains, these tests also call the real function directly.
 */
void __real_xgnt_machine_destroy(struct xgnt_machine *m);

/* A maps B's and C's frames, B and C map A's; C has a v2 table. */
static struct xgnt_machine *machine_mapped_both_ways(void)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a, *b, *c;

	a = t_domain(m, ID_A, XGNT_DOMAIN_HVM, false);
	b = t_domain(m, ID_B, XGNT_DOMAIN_PV, false);
	c = t_domain(m, ID_C, XGNT_DOMAIN_HVM, false);
	assert_int_equal(t_set_version(c, 2), 0);
	t_gt_setup(a, 1);
	t_gt_setup(b, 1);
	t_gt_setup(c, 1);
	map_ok(b, a, REF, 1, 0, false);
	map_ok(a, b, REF, 1, 0, false);
	map_ok(a, b, REF2, 2, 1, true);
	map_ok(c, a, REF2, 2, 0, true);
	map_ok(a, c, REF, 3, 2, false);
	return m;
}

/* As above, plus a zombie: granter A destroyed while B still maps it. */
static struct xgnt_machine *machine_with_zombie(void)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a, *b;

	a = t_domain(m, ID_A, XGNT_DOMAIN_PV, false);
	b = t_domain(m, ID_B, XGNT_DOMAIN_HVM, false);
	t_gt_setup(a, 1);
	t_gt_setup(b, 1);
	map_ok(b, a, REF, 1, 0, false);
	map_ok(a, b, REF, 1, 0, false);
	assert_int_equal(xgnt_domain_destroy(a), 0);
	return m;
}

static void test_machine_destroy_with_mappings_both_ways_does_not_leak(void **state)
{
	long a0 = t_live_allocs();
	struct xgnt_machine *m;

	(void)state;
	m = machine_mapped_both_ways();
	assert_true(t_live_allocs() > a0);
	__real_xgnt_machine_destroy(m);
	assert_int_equal(t_live_allocs(), a0);

	m = machine_with_zombie();
	__real_xgnt_machine_destroy(m);
	assert_int_equal(t_live_allocs(), a0);

	/* Through the harness: invariants hold, every frame comes back. */
	m = machine_mapped_both_ways();
	xgnt_machine_destroy(m);
	assert_int_equal(t_live_allocs(), a0);
	m = machine_with_zombie();
	xgnt_machine_destroy(m);
	assert_int_equal(t_live_allocs(), a0);
}

static void test_free_frames_return_to_initial_after_all_domains_destroyed(void **state)
{
	struct xgnt_machine *m;
	struct xgnt_domain *a, *b, *c;
	uint32_t f0;
	long a0;
	struct gnttab_copy cp = {
		.len = 64, .flags = GNTCOPY_source_gref,
	};
	unsigned int round;

	(void)state;
	m = t_machine();
	f0 = xgnt_machine_free_frames(m);
	a0 = t_live_allocs();
	for (round = 0; round < 2; round++) {
		a = t_domain(m, ID_A, XGNT_DOMAIN_HVM, false);
		b = t_domain(m, ID_B, XGNT_DOMAIN_PV, false);
		c = t_domain(m, ID_C, XGNT_DOMAIN_ARM, false);
		assert_int_equal(t_set_version(a, 2), 0);   /* status frames too */
		t_gt_setup(a, 2);
		t_gt_setup(b, 3);
		t_gt_setup(c, 1);
		assert_true(xgnt_machine_free_frames(m) < f0);
		map_ok(b, a, REF, 1, 0, false);
		map_ok(c, a, REF2, 2, 0, true);
		map_ok(a, b, REF, 1, 0, false);
		map_ok(a, c, REF, 1, 1, true);
		/* A copy in the mix: B reads A's ref into its own page. */
		cp.source.u.ref = REF;
		cp.source.domid = ID_A;
		cp.dest.u.gmfn = t_ram_frame(b, 9);
		cp.dest.domid = DOMID_SELF;
		assert_int_equal(xgnt_grant_table_op(t_v0(b), GNTTABOP_copy, &cp, 1), 0);
		assert_int_equal(cp.status, GNTST_okay);

		/* Granter first (zombie until its mappers go), then the rest. */
		assert_int_equal(xgnt_domain_destroy(a), 0);
		assert_int_equal(xgnt_domain_destroy(b), 0);
		assert_int_equal(xgnt_domain_destroy(c), 0);
		assert_int_equal(xgnt_machine_free_frames(m), f0);
		assert_int_equal(t_live_allocs(), a0);
		assert_null(xgnt_domain_lookup(m, ID_A));
		assert_null(xgnt_domain_lookup(m, ID_B));
		assert_null(xgnt_domain_lookup(m, ID_C));
	}
	xgnt_machine_destroy(m);
}

/* ---- xgnt_domain_create errors ---- */

static void test_create_reserved_domid_is_einval(void **state)
{
	static const domid_t reserved[] = {
		DOMID_FIRST_RESERVED, DOMID_SELF, DOMID_IO, DOMID_XEN, DOMID_COW,
		DOMID_INVALID, DOMID_IDLE, 0xffff,
	};
	struct xgnt_machine *m;
	uint32_t f0;
	long a0;
	size_t i;

	(void)state;
	m = t_machine();
	f0 = xgnt_machine_free_frames(m);
	a0 = t_live_allocs();
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		assert_null(create(m, reserved[i], XGNT_DOMAIN_HVM, 16));
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(xgnt_machine_free_frames(m), f0);
	assert_int_equal(t_live_allocs(), a0);
	/* The highest ordinary domid is fine. */
	assert_non_null(create(m, DOMID_FIRST_RESERVED - 1, XGNT_DOMAIN_HVM, 16));
	xgnt_machine_destroy(m);
}

static void test_create_duplicate_domid_is_eexist(void **state)
{
	struct xgnt_machine *m;
	struct xgnt_domain *d;
	uint32_t f;
	long a0;

	(void)state;
	m = t_machine();
	d = create(m, 5, XGNT_DOMAIN_HVM, 16);
	assert_non_null(d);
	f = xgnt_machine_free_frames(m);
	a0 = t_live_allocs();
	assert_null(create(m, 5, XGNT_DOMAIN_HVM, 16));
	assert_int_equal(errno, EEXIST);
	assert_null(create(m, 5, XGNT_DOMAIN_PV, 32));
	assert_int_equal(errno, EEXIST);
	assert_ptr_equal(xgnt_domain_lookup(m, 5), d);
	assert_int_equal(xgnt_machine_free_frames(m), f);
	assert_int_equal(t_live_allocs(), a0);
	xgnt_machine_destroy(m);
}

static void test_create_ram_larger_than_machine_is_enomem(void **state)
{
	struct xgnt_machine *m;
	uint32_t f0, f;
	long a0;

	(void)state;
	m = t_machine();                   /* 16384 frames */
	f0 = xgnt_machine_free_frames(m);
	a0 = t_live_allocs();
	assert_null(create(m, ID_A, XGNT_DOMAIN_HVM, 16385));
	assert_int_equal(errno, ENOMEM);
	assert_null(create(m, ID_A, XGNT_DOMAIN_PV, 1u << 20));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(xgnt_machine_free_frames(m), f0);
	assert_int_equal(t_live_allocs(), a0);

	/* Fits the machine but not what is left of it: ENOMEM, nothing kept,
	 * and the domid is not left taken. */
	assert_non_null(create(m, ID_B, XGNT_DOMAIN_HVM, 10000));
	f = xgnt_machine_free_frames(m);
	assert_null(create(m, ID_A, XGNT_DOMAIN_HVM, 10000));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(xgnt_machine_free_frames(m), f);
	assert_non_null(create(m, ID_A, XGNT_DOMAIN_HVM, 16));
	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_destroyed_granter_frame_stays_mapped_until_unmap_hvm),
		cmocka_unit_test(test_destroyed_granter_frame_stays_mapped_until_unmap_pv),
		cmocka_unit_test(test_destroyed_granter_frame_stays_mapped_until_unmap_arm),
		cmocka_unit_test(test_destroyed_domid_stays_in_use_until_mapper_unmaps),
		cmocka_unit_test(test_lookup_of_destroyed_domain_is_null),
		cmocka_unit_test(test_destroyed_mapper_releases_its_mappings_hvm),
		cmocka_unit_test(test_destroyed_mapper_releases_its_mappings_pv),
		cmocka_unit_test(test_destroyed_mapper_releases_its_mappings_arm),
		cmocka_unit_test(test_machine_destroy_with_mappings_both_ways_does_not_leak),
		cmocka_unit_test(test_free_frames_return_to_initial_after_all_domains_destroyed),
		cmocka_unit_test(test_create_reserved_domid_is_einval),
		cmocka_unit_test(test_create_duplicate_domid_is_eexist),
		cmocka_unit_test(test_create_ram_larger_than_machine_is_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
