/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for what the fuzzers (fuzz/) found, each replaying the
 * minimised input as ordinary hypercalls. Every machine is checked by the
 * harness when destroyed (invariants, then no frame leaked).
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

/*
 * fuzz_hypercalls: a PV granter grants a Xen-heap frame it owns (its
 * shared_info, or a grant-table frame), the peer maps it, the granter is
 * destroyed. The granter must stay (a zombie holding its domid) until the
 * peer unmaps, as it does for RAM: Xen-heap frames do not keep their owner
 * alive by themselves, so the mapping must. It was freed at once, and the
 * mapper's unmap or destruction then found no granter (NEVER in
 * gnttab_release_mappings; a frame leaked in release builds).
 */
static void xenheap_grant_outlives_granter(uint64_t (*frame)(struct xgnt_domain *),
					   uint32_t flags, bool destroy_mapper)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *mp = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	uint64_t mfn = frame(g), addr = t_ext_addr(mp, 0);
	grant_handle_t h;

	t_gt_setup(g, 1);
	t_grant(g, 12, 2, mfn, true);
	assert_int_equal(t_map(mp, 1, 12, flags | GNTMAP_readonly, addr, &h), GNTST_okay);
	assert_int_equal(xgnt_domain_destroy(g), 0);
	/* Gone for the world, its domid still held. */
	assert_null(xgnt_domain_lookup(m, 1));
	{
		struct xgnt_domain_config c = { .domid = 1, .type = XGNT_DOMAIN_HVM,
						.ram_frames = 16, .ext_frames = 16 };

		errno = 0;
		assert_null(xgnt_domain_create(m, &c));
		assert_int_equal(errno, EEXIST);
	}
	if (flags & GNTMAP_host_map)   /* and the frame is still shown */
		assert_false(t_read_faults(xgnt_domain_va(mp, addr)));
	if (destroy_mapper) {
		assert_int_equal(xgnt_domain_destroy(mp), 0);
	} else {
		assert_int_equal(t_unmap(mp, h, flags & GNTMAP_host_map ? addr : 0,
					 flags & GNTMAP_device_map ? mfn << 12 : 0),
				 GNTST_okay);
	}
	xgnt_machine_destroy(m);   /* checked: nothing leaked */
}

static uint64_t shared_info_frame(struct xgnt_domain *d)
{
	return xgnt_domain_shared_info_mfn(d);
}

static uint64_t grant_table_frame(struct xgnt_domain *d)
{
	xen_pfn_t f[1];
	struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };

	set_xen_guest_handle(st.frame_list, f);
	assert_int_equal(xgnt_grant_table_op(t_v0(d), GNTTABOP_setup_table, &st, 1), 0);
	assert_int_equal(st.status, GNTST_okay);
	return f[0];
}

static void test_fuzz_shared_info_device_map_then_granter_and_mapper_destroyed(void **s)
{
	(void)s;
	xenheap_grant_outlives_granter(shared_info_frame, GNTMAP_device_map, true);
}

static void test_fuzz_shared_info_device_map_unmapped_after_granter_destroyed(void **s)
{
	(void)s;
	xenheap_grant_outlives_granter(shared_info_frame, GNTMAP_device_map, false);
}

static void test_fuzz_shared_info_host_map_unmapped_after_granter_destroyed(void **s)
{
	(void)s;
	xenheap_grant_outlives_granter(shared_info_frame, GNTMAP_host_map, false);
}

static void test_fuzz_grant_frame_host_map_then_granter_and_mapper_destroyed(void **s)
{
	(void)s;
	xenheap_grant_outlives_granter(grant_table_frame, GNTMAP_host_map, true);
}

static void test_fuzz_grant_frame_host_and_device_unmapped_after_granter_destroyed(void **s)
{
	(void)s;
	xenheap_grant_outlives_granter(grant_table_frame, GNTMAP_host_map | GNTMAP_device_map,
				       false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_shared_info_device_map_then_granter_and_mapper_destroyed),
		cmocka_unit_test(test_fuzz_shared_info_device_map_unmapped_after_granter_destroyed),
		cmocka_unit_test(test_fuzz_shared_info_host_map_unmapped_after_granter_destroyed),
		cmocka_unit_test(test_fuzz_grant_frame_host_map_then_granter_and_mapper_destroyed),
		cmocka_unit_test(test_fuzz_grant_frame_host_and_device_unmapped_after_granter_destroyed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
