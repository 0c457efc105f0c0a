/* SPDX-License-Identifier: MIT */
/* Memory ops a guest needs around grant tables: add/remove_from_physmap, decrease/populate. */
#include "harness.h"

#include <errno.h>
#include <string.h>

#define INVALID_GFN_V	(~(xen_pfn_t)0)
#define PG		4096u

static uint64_t ext_gfn(struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;

	xgnt_domain_layout(d, &l);
	return l.ext_base >> 12;
}

static volatile uint8_t *gfn_va(struct xgnt_domain *d, uint64_t gfn)
{
	volatile uint8_t *p = xgnt_domain_va(d, gfn << 12);

	assert_non_null((void *)p);
	return p;
}

static bool gfn_faults(struct xgnt_domain *d, uint64_t gfn)
{
	return t_read_faults(gfn_va(d, gfn));
}

static bool page_is_zero(const volatile uint8_t *p)
{
	size_t i;

	for (i = 0; i < PG; i++)
		if (p[i])
			return false;
	return true;
}

static long add_to_physmap(struct xgnt_domain *caller, domid_t dom, unsigned int space,
			   xen_ulong_t idx, xen_pfn_t gpfn)
{
	struct xen_add_to_physmap a = {
		.domid = dom, .space = space, .idx = idx, .gpfn = gpfn,
	};

	return xgnt_memory_op(t_v0(caller), XENMEM_add_to_physmap, &a);
}

static long remove_from_physmap(struct xgnt_domain *caller, domid_t dom, xen_pfn_t gpfn)
{
	struct xen_remove_from_physmap r = { .domid = dom, .gpfn = gpfn };

	return xgnt_memory_op(t_v0(caller), XENMEM_remove_from_physmap, &r);
}

static long reservation(struct xgnt_domain *caller, unsigned int cmd, domid_t dom,
			xen_pfn_t *list, unsigned long nr)
{
	struct xen_memory_reservation r = {
		.nr_extents = nr, .extent_order = 0, .domid = dom,
	};

	set_xen_guest_handle(r.extent_start, list);
	return xgnt_memory_op(t_v0(caller), cmd, &r);
}

static long gt_op(struct xgnt_domain *d, unsigned int cmd, void *op, unsigned int count)
{
	return xgnt_grant_table_op(t_v0(d), cmd, op, count);
}

static uint32_t nr_frames_of(struct xgnt_domain *d)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };

	assert_int_equal(gt_op(d, GNTTABOP_query_size, &q, 1), 0);
	assert_int_equal(q.status, GNTST_okay);
	return q.nr_frames;
}

/* Where setup_table says frame i of a translated domain's table is placed. */
static xen_pfn_t grant_frame_gfn(struct xgnt_domain *d, unsigned int i)
{
	xen_pfn_t f[64];
	struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = i + 1 };

	assert_true(i < 64);
	set_xen_guest_handle(st.frame_list, f);
	assert_int_equal(gt_op(d, GNTTABOP_setup_table, &st, 1), 0);
	assert_int_equal(st.status, GNTST_okay);
	return f[i];
}

/* A v1 entry as a guest writes it, in a table frame placed at gfn. */
static void grant_at(struct xgnt_domain *d, uint64_t gfn, grant_ref_t ref, domid_t to,
		     uint32_t frame)
{
	grant_entry_v1_t *e = (grant_entry_v1_t *)gfn_va(d, gfn) + ref;

	e->frame = frame;
	e->domid = to;
	__atomic_store_n(&e->flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
}

/* ---- XENMEM_add_to_physmap ----------------------------------------------- */

static void test_add_to_physmap_pv_target_eacces(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *pv = t_domain(m, 1, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *u = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	uint64_t g = ext_gfn(pv);

	assert_int_equal(add_to_physmap(pv, DOMID_SELF, XENMAPSPACE_grant_table, 0, g), -EACCES);
	assert_int_equal(add_to_physmap(pv, DOMID_SELF, XENMAPSPACE_shared_info, 0, g), -EACCES);
	assert_int_equal(add_to_physmap(pv, 1, XENMAPSPACE_grant_table, 0, g), -EACCES);
	/* What matters is the target: a privileged HVM caller gets the same. */
	assert_int_equal(add_to_physmap(d0, 1, XENMAPSPACE_grant_table, 0, g), -EACCES);
	/* xatp_permission_check: "not translated" comes before XSM. */
	assert_int_equal(add_to_physmap(u, 1, XENMAPSPACE_grant_table, 0, g), -EACCES);
	assert_true(gfn_faults(pv, g));
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_bad_domid_esrch(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, true);

	assert_int_equal(add_to_physmap(d, 777, XENMAPSPACE_grant_table, 0, ext_gfn(d)),
			 -ESRCH);
	assert_int_equal(add_to_physmap(d, 777, XENMAPSPACE_shared_info, 0, ext_gfn(d)),
			 -ESRCH);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_unprivileged_other_domain_eperm(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	uint64_t g = ext_gfn(b);

	assert_int_equal(add_to_physmap(a, 2, XENMAPSPACE_grant_table, 0, g), -EPERM);
	assert_int_equal(add_to_physmap(a, 2, XENMAPSPACE_shared_info, 0, g + 1), -EPERM);
	assert_true(gfn_faults(b, g));
	assert_true(gfn_faults(b, g + 1));
	/* Naming oneself by domid is fine. */
	assert_int_equal(add_to_physmap(a, 1, XENMAPSPACE_grant_table, 0, ext_gfn(a)), 0);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_privileged_places_other_domains_frames(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	uint64_t g = ext_gfn(b);

	assert_int_equal(add_to_physmap(d0, 2, XENMAPSPACE_grant_table, 1, g + 1), 0);
	assert_int_equal(add_to_physmap(d0, 2, XENMAPSPACE_shared_info, 0, g + 2), 0);
	assert_false(gfn_faults(b, g + 1));
	assert_false(gfn_faults(b, g + 2));
	assert_int_equal(nr_frames_of(b), 2);
	assert_int_equal(grant_frame_gfn(b, 1), g + 1);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_gmfn_foreign_enosys(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, true);

	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_gmfn_foreign, 0, ext_gfn(d)),
			 -ENOSYS);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_grant_frame_is_the_live_table(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		domid_t ga = (domid_t)(2 * i + 1), mb = (domid_t)(2 * i + 2);
		struct xgnt_domain *a = t_domain(m, ga, types[i], false);
		struct xgnt_domain *b = t_domain(m, mb, types[i], false);
		uint64_t g = ext_gfn(a) + 10;
		grant_handle_t h;

		assert_true(gfn_faults(a, g));
		assert_int_equal(add_to_physmap(a, DOMID_SELF, XENMAPSPACE_grant_table, 0, g), 0);
		assert_false(gfn_faults(a, g));
		assert_true(page_is_zero(gfn_va(a, g)));
		memcpy(t_ram_va(a, 5), "granted", 8);
		grant_at(a, g, 10, mb, 5);
		assert_int_equal(t_map(b, ga, 10, GNTMAP_host_map, t_ext_addr(b, 0), &h),
				 GNTST_okay);
		assert_memory_equal(xgnt_domain_va(b, t_ext_addr(b, 0)), "granted", 8);
		/* Xen's status bits show up in the frame at g. */
		assert_true(((grant_entry_v1_t *)gfn_va(a, g))[10].flags & GTF_reading);
		assert_int_equal(t_unmap(b, h, t_ext_addr(b, 0), 0), GNTST_okay);
		assert_int_equal(grant_frame_gfn(a, 0), g);
	}
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_grant_idx_grows_table_never_shrinks(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint64_t g = ext_gfn(d);

	assert_int_equal(nr_frames_of(d), 1);
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 5, g + 5), 0);
	assert_int_equal(nr_frames_of(d), 6);
	assert_false(gfn_faults(d, g + 5));
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 2, g + 2), 0);
	assert_int_equal(nr_frames_of(d), 6);
	/* Frames between were allocated but are not placed. */
	assert_int_equal(grant_frame_gfn(d, 3), INVALID_GFN_V);
	assert_int_equal(grant_frame_gfn(d, 5), g + 5);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_grant_idx_at_or_beyond_max_einval(void **state)
{
	struct xgnt_machine *m = t_machine_cfg(16384, 8, 0, 0);
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint64_t g = ext_gfn(d);

	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 8, g), -EINVAL);
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 0x7fffffff, g),
			 -EINVAL);
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, ~0ul, g),
			 -EINVAL);
	assert_int_equal(nr_frames_of(d), 1);
	assert_true(gfn_faults(d, g));
	/* XSA-235: the table is usable after the error path. */
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 7, g + 7), 0);
	assert_int_equal(nr_frames_of(d), 8);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_grant_idx_64_on_default_max_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_ARM, false);
	uint64_t g = ext_gfn(d);

	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 64, g), -EINVAL);
	assert_int_equal(nr_frames_of(d), 1);
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 63, g + 63), 0);
	assert_int_equal(nr_frames_of(d), 64);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_moving_grant_frame_unmaps_old_gfn(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint64_t g1 = ext_gfn(d) + 3, g2 = ext_gfn(d) + 9;

	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 0, g1), 0);
	grant_at(d, g1, 100, 7, 0xbeef);
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 0, g2), 0);
	assert_true(gfn_faults(d, g1));
	assert_false(gfn_faults(d, g2));
	assert_int_equal(((grant_entry_v1_t *)gfn_va(d, g2))[100].frame, 0xbeef);
	assert_int_equal(grant_frame_gfn(d, 0), g2);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_over_ram_gfn_frees_the_ram_page(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint32_t free0;
	xen_pfn_t gfn[2];

	memset(t_ram_va(d, 20), 0xcc, PG);
	memset(t_ram_va(d, 21), 0xdd, PG);
	free0 = xgnt_machine_free_frames(m);

	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 0, 20), 0);
	assert_int_equal(xgnt_machine_free_frames(m), free0 + 1);
	assert_true(page_is_zero(gfn_va(d, 20)));   /* the fresh v1 table */
	assert_int_equal(grant_frame_gfn(d, 0), 20);

	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_shared_info, 0, 21), 0);
	assert_int_equal(xgnt_machine_free_frames(m), free0 + 2);
	assert_int_not_equal(gfn_va(d, 21)[PG - 1], 0xdd);

	/* The freed pages left the domain's allocation: it may populate two. */
	gfn[0] = ext_gfn(d) + 40;
	gfn[1] = ext_gfn(d) + 41;
	assert_int_equal(reservation(d, XENMEM_populate_physmap, DOMID_SELF, gfn, 2), 2);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_shared_info_idx0_ok_idx1_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		uint64_t g = ext_gfn(d) + 20;

		assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_shared_info, 1, g),
				 -EINVAL);
		assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_shared_info, ~0ul, g),
				 -EINVAL);
		assert_true(gfn_faults(d, g));
		assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_shared_info, 0, g), 0);
		assert_false(gfn_faults(d, g));
	}
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_moving_shared_info_unmaps_old_gfn(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint64_t g1 = ext_gfn(d) + 20, g2 = ext_gfn(d) + 30;
	struct shared_info *si;

	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_shared_info, 0, g1), 0);
	si = (struct shared_info *)gfn_va(d, g1);
	si->arch.max_pfn = 0x12345;   /* a field the guest owns */
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_shared_info, 0, g2), 0);
	assert_true(gfn_faults(d, g1));
	si = (struct shared_info *)gfn_va(d, g2);
	assert_int_equal(si->arch.max_pfn, 0x12345);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_status_frame_under_v1_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		uint64_t g = ext_gfn(d) + T_GT_STATUS_OFF;

		assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table,
						0 | XENMAPIDX_grant_table_status, g), -EINVAL);
		assert_true(gfn_faults(d, g));
		assert_int_equal(nr_frames_of(d), 1);
	}
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_status_frame_under_v2_is_the_live_status(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	uint64_t g = ext_gfn(a), gs = ext_gfn(a) + T_GT_STATUS_OFF;
	grant_status_t *st;
	grant_handle_t h;

	assert_int_equal(t_set_version(a, 2), 0);
	assert_int_equal(add_to_physmap(a, DOMID_SELF, XENMAPSPACE_grant_table, 0, g), 0);
	assert_int_equal(add_to_physmap(a, DOMID_SELF, XENMAPSPACE_grant_table,
					0 | XENMAPIDX_grant_table_status, gs), 0);
	assert_false(gfn_faults(a, gs));
	st = (grant_status_t *)gfn_va(a, gs);
	t_grant(a, 10, 2, t_ram_frame(a, 5), false);
	assert_int_equal(t_map(b, 1, 10, GNTMAP_host_map, t_ext_addr(b, 0), &h), GNTST_okay);
	assert_true(st[10] & GTF_reading);
	assert_true(st[10] & GTF_writing);
	assert_int_equal(t_unmap(b, h, t_ext_addr(b, 0), 0), GNTST_okay);
	assert_int_equal(st[10], 0);
	xgnt_machine_destroy(m);
}

static void test_add_to_physmap_status_idx_grows_grant_table(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint64_t gs = ext_gfn(d) + T_GT_STATUS_OFF;

	assert_int_equal(t_set_version(d, 2), 0);
	/* Status frame 1 exists once there are 9..16 grant frames: grown to 16. */
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table,
					1 | XENMAPIDX_grant_table_status, gs + 1), 0);
	assert_int_equal(nr_frames_of(d), 16);
	assert_false(gfn_faults(d, gs + 1));
	/* 8 status frames cover the 64-frame maximum; a 9th does not exist. */
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table,
					8 | XENMAPIDX_grant_table_status, gs + 8), -EINVAL);
	assert_int_equal(nr_frames_of(d), 16);
	assert_true(gfn_faults(d, gs + 8));
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table,
					7 | XENMAPIDX_grant_table_status, gs + 7), 0);
	assert_int_equal(nr_frames_of(d), 64);
	xgnt_machine_destroy(m);
}

/* ---- XENMEM_remove_from_physmap ------------------------------------------ */

static void test_remove_from_physmap_empty_gfn_enoent(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);

	assert_int_equal(remove_from_physmap(d, DOMID_SELF, ext_gfn(d) + 50), -ENOENT);
	xgnt_machine_destroy(m);
}

static void test_remove_from_physmap_grant_frame_unmaps_gfn(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		uint64_t g = ext_gfn(d) + 4, g2 = ext_gfn(d) + 6;

		assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 0, g), 0);
		grant_at(d, g, 33, 9, 0xfeed);
		assert_int_equal(remove_from_physmap(d, DOMID_SELF, g), 0);
		assert_true(gfn_faults(d, g));
		assert_int_equal(grant_frame_gfn(d, 0), INVALID_GFN_V);
		assert_int_equal(remove_from_physmap(d, DOMID_SELF, g), -ENOENT);
		/* The frame itself lives on with the table. */
		assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_grant_table, 0, g2), 0);
		assert_int_equal(((grant_entry_v1_t *)gfn_va(d, g2))[33].frame, 0xfeed);
		assert_int_equal(nr_frames_of(d), 1);
	}
	xgnt_machine_destroy(m);
}

static void test_remove_from_physmap_shared_info_unmaps_gfn(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint64_t g = ext_gfn(d) + 20;

	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_shared_info, 0, g), 0);
	assert_int_equal(remove_from_physmap(d, DOMID_SELF, g), 0);
	assert_true(gfn_faults(d, g));
	assert_int_equal(add_to_physmap(d, DOMID_SELF, XENMAPSPACE_shared_info, 0, g + 1), 0);
	assert_false(gfn_faults(d, g + 1));
	xgnt_machine_destroy(m);
}

static void test_remove_from_physmap_ram_gfn_unmaps_it(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);

	assert_false(gfn_faults(d, 30));
	assert_int_equal(remove_from_physmap(d, DOMID_SELF, 30), 0);
	assert_true(gfn_faults(d, 30));
	assert_int_equal(remove_from_physmap(d, DOMID_SELF, 30), -ENOENT);
	assert_false(gfn_faults(d, 31));
	xgnt_machine_destroy(m);
}

static void test_remove_from_physmap_bad_domid_and_permission(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);

	assert_int_equal(remove_from_physmap(a, 777, 30), -ESRCH);
	assert_int_equal(remove_from_physmap(a, 2, 30), -EPERM);
	assert_false(gfn_faults(b, 30));
	assert_int_equal(remove_from_physmap(d0, 2, 30), 0);
	assert_true(gfn_faults(b, 30));
	xgnt_machine_destroy(m);
}

/* ---- XENMEM_decrease_reservation ----------------------------------------- */

static void test_decrease_reservation_returns_extents_done(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	xen_pfn_t gfn[3] = { 10, 11, 12 };
	uint32_t free0 = xgnt_machine_free_frames(m);

	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, gfn, 3), 3);
	assert_int_equal(xgnt_machine_free_frames(m), free0 + 3);
	assert_true(gfn_faults(d, 10));
	assert_true(gfn_faults(d, 11));
	assert_true(gfn_faults(d, 12));
	assert_false(gfn_faults(d, 13));
	assert_false(gfn_faults(d, 9));
	/* The list is input only. */
	assert_int_equal(gfn[0], 10);
	assert_int_equal(gfn[2], 12);
	xgnt_machine_destroy(m);
}

static void test_decrease_reservation_bad_domid_returns_zero(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, true);
	xen_pfn_t gfn[1] = { 10 };
	uint32_t free0 = xgnt_machine_free_frames(m);

	assert_int_equal(reservation(d, XENMEM_decrease_reservation, 777, gfn, 1), 0);
	assert_int_equal(xgnt_machine_free_frames(m), free0);
	assert_false(gfn_faults(d, 10));
	xgnt_machine_destroy(m);
}

static void test_decrease_reservation_other_domain_needs_privilege(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	xen_pfn_t gfn[1] = { 10 };

	assert_int_equal(reservation(a, XENMEM_decrease_reservation, 2, gfn, 1), 0);
	assert_false(gfn_faults(b, 10));
	assert_int_equal(reservation(d0, XENMEM_decrease_reservation, 2, gfn, 1), 1);
	assert_true(gfn_faults(b, 10));
	assert_int_equal(reservation(d0, XENMEM_populate_physmap, 2, gfn, 1), 1);
	assert_false(gfn_faults(b, 10));
	xgnt_machine_destroy(m);
}

static void test_decrease_reservation_stops_at_empty_gfn(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	xen_pfn_t gfn[4] = { 20, 21, 21, 22 };
	xen_pfn_t empty[2];
	uint32_t free0 = xgnt_machine_free_frames(m);

	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, gfn, 4), 2);
	assert_int_equal(xgnt_machine_free_frames(m), free0 + 2);
	assert_true(gfn_faults(d, 20));
	assert_true(gfn_faults(d, 21));
	assert_false(gfn_faults(d, 22));   /* after the stop: untouched */

	empty[0] = ext_gfn(d) + 50;
	empty[1] = 23;
	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, empty, 2), 0);
	assert_false(gfn_faults(d, 23));
	assert_int_equal(xgnt_machine_free_frames(m), free0 + 2);
	xgnt_machine_destroy(m);
}

static void test_decrease_reservation_no_extents_returns_zero(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	xen_pfn_t gfn[1] = { 10 };

	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, gfn, 0), 0);
	assert_false(gfn_faults(d, 10));
	xgnt_machine_destroy(m);
}

static void test_decrease_reservation_pv_frees_machine_frames(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	xen_pfn_t mfn[1] = { xgnt_domain_pfn_to_mfn(d, 9) };
	uint32_t free0 = xgnt_machine_free_frames(m);

	assert_int_not_equal(mfn[0], INVALID_MFN);
	/* A PV guest unmaps the page, then gives its machine frame back. */
	assert_int_equal(xgnt_update_va_mapping(t_v0(d), 9ull << 12, INVALID_MFN,
						XGNT_PROT_READ), 0);
	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, mfn, 1), 1);
	assert_int_equal(xgnt_machine_free_frames(m), free0 + 1);
	/* No longer the domain's: it cannot map it again. */
	assert_int_not_equal(xgnt_update_va_mapping(t_v0(d), 9ull << 12, mfn[0],
						    XGNT_PROT_READ), 0);
	xgnt_machine_destroy(m);
}

/* ---- XENMEM_populate_physmap --------------------------------------------- */

static void test_populate_physmap_refuses_beyond_max_pages(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	xen_pfn_t gfn[1] = { ext_gfn(d) + 60 };
	uint32_t free0 = xgnt_machine_free_frames(m);

	assert_int_equal(reservation(d, XENMEM_populate_physmap, DOMID_SELF, gfn, 1), 0);
	assert_true(gfn_faults(d, gfn[0]));
	assert_int_equal(xgnt_machine_free_frames(m), free0);
	xgnt_machine_destroy(m);
}

static void test_populate_physmap_gives_back_zeroed_page(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	xen_pfn_t gfn[1] = { 40 };
	uint32_t free0 = xgnt_machine_free_frames(m);
	volatile uint8_t *p;

	memset(t_ram_va(d, 40), 0xab, PG);
	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, gfn, 1), 1);
	assert_true(gfn_faults(d, 40));
	assert_int_equal(reservation(d, XENMEM_populate_physmap, DOMID_SELF, gfn, 1), 1);
	assert_int_equal(gfn[0], 40);   /* translated: the list is not rewritten */
	assert_int_equal(xgnt_machine_free_frames(m), free0);
	assert_false(gfn_faults(d, 40));
	p = gfn_va(d, 40);
	assert_true(page_is_zero(p));
	p[0] = 1;
	p[PG - 1] = 2;
	assert_int_equal(p[0], 1);
	assert_int_equal(p[PG - 1], 2);
	/* Full again. */
	gfn[0] = ext_gfn(d) + 1;
	assert_int_equal(reservation(d, XENMEM_populate_physmap, DOMID_SELF, gfn, 1), 0);
	xgnt_machine_destroy(m);
}

static void test_populate_physmap_only_as_many_as_were_freed(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_ARM, false);
	xen_pfn_t freed[2] = { 41, 42 };
	xen_pfn_t gfn[3] = { ext_gfn(d) + 1, ext_gfn(d) + 2, ext_gfn(d) + 3 };

	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, freed, 2), 2);
	assert_int_equal(reservation(d, XENMEM_populate_physmap, DOMID_SELF, gfn, 3), 2);
	assert_false(gfn_faults(d, gfn[0]));
	assert_false(gfn_faults(d, gfn[1]));
	assert_true(gfn_faults(d, gfn[2]));
	assert_true(page_is_zero(gfn_va(d, gfn[1])));
	xgnt_machine_destroy(m);
}

static void test_populate_physmap_bad_domid_or_no_extents_returns_zero(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, true);
	xen_pfn_t freed[1] = { 50 };
	xen_pfn_t gfn[1] = { 50 };

	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, freed, 1), 1);
	assert_int_equal(reservation(d, XENMEM_populate_physmap, 777, gfn, 1), 0);
	assert_int_equal(reservation(d, XENMEM_populate_physmap, DOMID_SELF, gfn, 0), 0);
	assert_true(gfn_faults(d, 50));
	assert_int_equal(reservation(d, XENMEM_populate_physmap, DOMID_SELF, gfn, 1), 1);
	xgnt_machine_destroy(m);
}

static void test_populate_physmap_unprivileged_other_domain_returns_zero(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	xen_pfn_t gfn[1] = { 50 };

	assert_int_equal(reservation(b, XENMEM_decrease_reservation, DOMID_SELF, gfn, 1), 1);
	assert_int_equal(reservation(a, XENMEM_populate_physmap, 2, gfn, 1), 0);
	assert_true(gfn_faults(b, 50));
	xgnt_machine_destroy(m);
}

static void test_populate_physmap_pv_writes_new_mfns_back(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	xen_pfn_t list[1] = { xgnt_domain_pfn_to_mfn(d, 7) };
	uint32_t free0 = xgnt_machine_free_frames(m);
	volatile uint8_t *p;

	memset(t_ram_va(d, 7), 0xab, PG);
	assert_int_equal(xgnt_update_va_mapping(t_v0(d), 7ull << 12, INVALID_MFN,
						XGNT_PROT_READ), 0);
	assert_int_equal(reservation(d, XENMEM_decrease_reservation, DOMID_SELF, list, 1), 1);
	assert_int_equal(xgnt_machine_free_frames(m), free0 + 1);

	list[0] = 7;   /* in: the pfn; out: the machine frame */
	assert_int_equal(reservation(d, XENMEM_populate_physmap, DOMID_SELF, list, 1), 1);
	assert_int_equal(xgnt_machine_free_frames(m), free0);
	assert_int_not_equal(list[0], INVALID_MFN);
	/* The guest maps its new frame where it wants it. */
	assert_int_equal(xgnt_update_va_mapping(t_v0(d), 7ull << 12, list[0],
						XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	p = t_ram_va(d, 7);
	assert_true(page_is_zero(p));
	p[0] = 1;
	assert_int_equal(p[0], 1);
	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_to_physmap_pv_target_eacces),
		cmocka_unit_test(test_add_to_physmap_bad_domid_esrch),
		cmocka_unit_test(test_add_to_physmap_unprivileged_other_domain_eperm),
		cmocka_unit_test(test_add_to_physmap_privileged_places_other_domains_frames),
		cmocka_unit_test(test_add_to_physmap_gmfn_foreign_enosys),
		cmocka_unit_test(test_add_to_physmap_grant_frame_is_the_live_table),
		cmocka_unit_test(test_add_to_physmap_grant_idx_grows_table_never_shrinks),
		cmocka_unit_test(test_add_to_physmap_grant_idx_at_or_beyond_max_einval),
		cmocka_unit_test(test_add_to_physmap_grant_idx_64_on_default_max_einval),
		cmocka_unit_test(test_add_to_physmap_moving_grant_frame_unmaps_old_gfn),
		cmocka_unit_test(test_add_to_physmap_over_ram_gfn_frees_the_ram_page),
		cmocka_unit_test(test_add_to_physmap_shared_info_idx0_ok_idx1_einval),
		cmocka_unit_test(test_add_to_physmap_moving_shared_info_unmaps_old_gfn),
		cmocka_unit_test(test_add_to_physmap_status_frame_under_v1_einval),
		cmocka_unit_test(test_add_to_physmap_status_frame_under_v2_is_the_live_status),
		cmocka_unit_test(test_add_to_physmap_status_idx_grows_grant_table),
		cmocka_unit_test(test_remove_from_physmap_empty_gfn_enoent),
		cmocka_unit_test(test_remove_from_physmap_grant_frame_unmaps_gfn),
		cmocka_unit_test(test_remove_from_physmap_shared_info_unmaps_gfn),
		cmocka_unit_test(test_remove_from_physmap_ram_gfn_unmaps_it),
		cmocka_unit_test(test_remove_from_physmap_bad_domid_and_permission),
		cmocka_unit_test(test_decrease_reservation_returns_extents_done),
		cmocka_unit_test(test_decrease_reservation_bad_domid_returns_zero),
		cmocka_unit_test(test_decrease_reservation_other_domain_needs_privilege),
		cmocka_unit_test(test_decrease_reservation_stops_at_empty_gfn),
		cmocka_unit_test(test_decrease_reservation_no_extents_returns_zero),
		cmocka_unit_test(test_decrease_reservation_pv_frees_machine_frames),
		cmocka_unit_test(test_populate_physmap_refuses_beyond_max_pages),
		cmocka_unit_test(test_populate_physmap_gives_back_zeroed_page),
		cmocka_unit_test(test_populate_physmap_only_as_many_as_were_freed),
		cmocka_unit_test(test_populate_physmap_bad_domid_or_no_extents_returns_zero),
		cmocka_unit_test(test_populate_physmap_unprivileged_other_domain_returns_zero),
		cmocka_unit_test(test_populate_physmap_pv_writes_new_mfns_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
