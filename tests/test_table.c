/* SPDX-License-Identifier: MIT */
/* Table-level grant ops (setup, query, version, status, swap, cache flush) and the dispatcher. */
#include "harness.h"

#include <errno.h>
#include <string.h>

#define SENTINEL32	0xa5a5a5a5u
#define SENTINEL16	((int16_t)0x5a5a)
#define SENTINEL_PFN	((xen_pfn_t)0x5a5a5a5a5a5a5a5aull)
#define SENTINEL_U64	0x5a5a5a5a5a5a5a5aull
#define INVALID_GFN_V	(~(xen_pfn_t)0)
#define CMD_ARG_BIT	(1u << 12)	/* GNTTABOP_CONTINUATION_ARG_SHIFT */
#define PG		4096u

static const enum xgnt_domain_type all_types[] = {
	XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, XGNT_DOMAIN_ARM,
};
#define NR_TYPES (sizeof(all_types) / sizeof(all_types[0]))

static long gt_op(struct xgnt_domain *d, unsigned int cmd, void *op, unsigned int count)
{
	return xgnt_grant_table_op(t_v0(d), cmd, op, count);
}

static uint64_t ext_gfn(struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;

	xgnt_domain_layout(d, &l);
	return l.ext_base >> 12;
}

static struct xgnt_domain *dom_max_frames(struct xgnt_machine *m, domid_t id,
					  enum xgnt_domain_type type, uint32_t max_grant_frames)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = 2, .max_grant_frames = max_grant_frames,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

static int16_t query_size(struct xgnt_domain *d, domid_t dom, uint32_t *nr, uint32_t *max)
{
	struct gnttab_query_size q = {
		.dom = dom, .nr_frames = SENTINEL32, .max_nr_frames = SENTINEL32,
		.status = SENTINEL16,
	};

	assert_int_equal(gt_op(d, GNTTABOP_query_size, &q, 1), 0);
	if (nr)
		*nr = q.nr_frames;
	if (max)
		*max = q.max_nr_frames;
	return q.status;
}

static uint32_t nr_frames_of(struct xgnt_domain *d)
{
	uint32_t nr;

	assert_int_equal(query_size(d, DOMID_SELF, &nr, NULL), GNTST_okay);
	return nr;
}

static int16_t setup_table(struct xgnt_domain *d, domid_t dom, uint32_t n, xen_pfn_t *frames)
{
	struct gnttab_setup_table st = { .dom = dom, .nr_frames = n, .status = SENTINEL16 };

	set_xen_guest_handle(st.frame_list, frames);
	assert_int_equal(gt_op(d, GNTTABOP_setup_table, &st, 1), 0);
	return st.status;
}

static long set_version(struct xgnt_domain *d, uint32_t version, uint32_t *back)
{
	struct gnttab_set_version sv = { .version = version };
	long rc = gt_op(d, GNTTABOP_set_version, &sv, 1);

	if (back)
		*back = sv.version;
	return rc;
}

static int16_t status_frames(struct xgnt_domain *d, domid_t dom, uint32_t n, uint64_t *frames)
{
	struct gnttab_get_status_frames gs = { .dom = dom, .nr_frames = n, .status = SENTINEL16 };

	set_xen_guest_handle(gs.frame_list, frames);
	assert_int_equal(gt_op(d, GNTTABOP_get_status_frames, &gs, 1), 0);
	return gs.status;
}

static int16_t swap_refs(struct xgnt_domain *d, grant_ref_t a, grant_ref_t b)
{
	struct gnttab_swap_grant_ref sw = { .ref_a = a, .ref_b = b, .status = SENTINEL16 };

	assert_int_equal(gt_op(d, GNTTABOP_swap_grant_ref, &sw, 1), 0);
	return sw.status;
}

static long cache_flush(struct xgnt_domain *d, uint64_t addr, uint16_t off, uint16_t len,
			uint32_t op)
{
	struct gnttab_cache_flush cf = {
		.a.dev_bus_addr = addr, .offset = off, .length = len, .op = op,
	};

	return gt_op(d, GNTTABOP_cache_flush, &cf, 1);
}

static long add_to_physmap(struct xgnt_domain *d, unsigned int space, xen_ulong_t idx,
			   xen_pfn_t gpfn)
{
	struct xen_add_to_physmap a = {
		.domid = DOMID_SELF, .space = space, .idx = idx, .gpfn = gpfn,
	};

	return xgnt_memory_op(t_v0(d), XENMEM_add_to_physmap, &a);
}

static grant_entry_v1_t *v1e(struct xgnt_domain *d, grant_ref_t ref)
{
	return (grant_entry_v1_t *)t_gt_frame_va(d, ref / 512) + ref % 512;
}

static grant_entry_v2_t *v2e(struct xgnt_domain *d, grant_ref_t ref)
{
	return (grant_entry_v2_t *)t_gt_frame_va(d, ref / 256) + ref % 256;
}

static grant_status_t *v2s(struct xgnt_domain *d, grant_ref_t ref)
{
	return (grant_status_t *)t_gt_status_va(d, ref / 2048) + ref % 2048;
}

static bool zero_from(const void *page, size_t off)
{
	const volatile uint8_t *b = page;
	size_t i;

	for (i = off; i < PG; i++)
		if (b[i])
			return false;
	return true;
}

/* granter grants its RAM page 5 as ref to mapper, which maps it at its ext slot. */
static grant_handle_t pin_ref(struct xgnt_domain *granter, struct xgnt_domain *mapper,
			      grant_ref_t ref, unsigned int slot)
{
	grant_handle_t h;

	t_grant(granter, ref, xgnt_domain_id(mapper), t_ram_frame(granter, 5), false);
	assert_int_equal(t_map(mapper, xgnt_domain_id(granter), ref, GNTMAP_host_map,
			       t_ext_addr(mapper, slot), &h), GNTST_okay);
	return h;
}

static void unpin_ref(struct xgnt_domain *mapper, grant_handle_t h, unsigned int slot)
{
	assert_int_equal(t_unmap(mapper, h, t_ext_addr(mapper, slot), 0), GNTST_okay);
}

static struct gnttab_map_grant_ref map_full(struct xgnt_domain *mapper, domid_t granter,
					    grant_ref_t ref, uint64_t host_addr)
{
	struct gnttab_map_grant_ref op = {
		.host_addr = host_addr, .flags = GNTMAP_host_map, .ref = ref, .dom = granter,
	};

	assert_int_equal(gt_op(mapper, GNTTABOP_map_grant_ref, &op, 1), 0);
	return op;
}

/* ---- query_size ---------------------------------------------------------- */

static void test_query_size_fresh_domain_has_one_frame_max_64(void **state)
{
	struct xgnt_machine *m = t_machine();
	size_t i;

	for (i = 0; i < NR_TYPES; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), all_types[i], false);
		uint32_t nr, max;

		assert_int_equal(query_size(d, DOMID_SELF, &nr, &max), GNTST_okay);
		assert_int_equal(nr, 1);
		assert_int_equal(max, 64);
	}
	xgnt_machine_destroy(m);
}

static void test_query_size_max_follows_machine_config(void **state)
{
	struct xgnt_machine *m = t_machine_cfg(16384, 16, 0, 0);
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint32_t nr, max;

	assert_int_equal(query_size(d, DOMID_SELF, &nr, &max), GNTST_okay);
	assert_int_equal(nr, 1);
	assert_int_equal(max, 16);
	xgnt_machine_destroy(m);
}

static void test_query_size_max_follows_domain_config(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = dom_max_frames(m, 1, XGNT_DOMAIN_PV, 8);
	uint32_t nr, max;

	assert_int_equal(query_size(d, DOMID_SELF, &nr, &max), GNTST_okay);
	assert_int_equal(nr, 1);
	assert_int_equal(max, 8);
	xgnt_machine_destroy(m);
}

static void test_query_size_count_not_one_einval_struct_untouched(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, true);
	struct gnttab_query_size q[2];
	unsigned int count;

	for (count = 0; count <= 2; count += 2) {
		memset(q, 0, sizeof(q));
		q[0].dom = DOMID_SELF;
		q[0].nr_frames = SENTINEL32;
		q[0].max_nr_frames = SENTINEL32;
		q[0].status = SENTINEL16;
		q[1] = q[0];
		assert_int_equal(gt_op(d, GNTTABOP_query_size, q, count), -EINVAL);
		assert_int_equal(q[0].nr_frames, SENTINEL32);
		assert_int_equal(q[0].max_nr_frames, SENTINEL32);
		assert_int_equal(q[0].status, SENTINEL16);
	}
	xgnt_machine_destroy(m);
}

static void test_query_size_bad_domain_status_fields_untouched(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, true);
	uint32_t nr, max;

	assert_int_equal(query_size(d, 777, &nr, &max), GNTST_bad_domain);
	assert_int_equal(nr, SENTINEL32);
	assert_int_equal(max, SENTINEL32);
	xgnt_machine_destroy(m);
}

static void test_query_size_unprivileged_other_domain_permission_denied(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint32_t nr;

	t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	assert_int_equal(query_size(a, 2, &nr, NULL), GNTST_permission_denied);
	assert_int_equal(nr, SENTINEL32);
	xgnt_machine_destroy(m);
}

static void test_query_size_privileged_may_ask_about_other_domain(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	xen_pfn_t f[3];
	uint32_t nr, max;

	assert_int_equal(setup_table(b, DOMID_SELF, 3, f), GNTST_okay);
	assert_int_equal(query_size(d0, 2, &nr, &max), GNTST_okay);
	assert_int_equal(nr, 3);
	assert_int_equal(max, 64);
	xgnt_machine_destroy(m);
}

static void test_query_size_own_domid_allowed_unprivileged(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 5, XGNT_DOMAIN_ARM, false);
	uint32_t nr;

	assert_int_equal(query_size(a, 5, &nr, NULL), GNTST_okay);
	assert_int_equal(nr, 1);
	xgnt_machine_destroy(m);
}

/* ---- setup_table --------------------------------------------------------- */

static void test_setup_table_count_not_one_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct gnttab_setup_table st[2];
	xen_pfn_t f[2] = { SENTINEL_PFN, SENTINEL_PFN };

	memset(st, 0, sizeof(st));
	st[0].dom = DOMID_SELF;
	st[0].nr_frames = 2;
	st[0].status = SENTINEL16;
	set_xen_guest_handle(st[0].frame_list, f);
	st[1] = st[0];
	assert_int_equal(gt_op(d, GNTTABOP_setup_table, st, 2), -EINVAL);
	assert_int_equal(gt_op(d, GNTTABOP_setup_table, st, 0), -EINVAL);
	assert_int_equal(st[0].status, SENTINEL16);
	assert_int_equal(f[0], SENTINEL_PFN);
	assert_int_equal(nr_frames_of(d), 1);
	xgnt_machine_destroy(m);
}

static void test_setup_table_pv_grows_table_and_returns_own_mfns(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	xen_pfn_t f[4];
	unsigned int i, j;

	for (i = 0; i < 4; i++)
		f[i] = SENTINEL_PFN;
	assert_int_equal(setup_table(d, DOMID_SELF, 4, f), GNTST_okay);
	assert_int_equal(nr_frames_of(d), 4);
	for (i = 0; i < 4; i++) {
		assert_int_not_equal(f[i], SENTINEL_PFN);
		assert_int_not_equal(f[i], INVALID_GFN_V);
		for (j = 0; j < i; j++)
			assert_int_not_equal(f[i], f[j]);
		/* A PV guest may map its own grant frames. */
		assert_int_equal(xgnt_update_va_mapping(t_v0(d), (ext_gfn(d) + i) << 12, f[i],
							XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	}
	xgnt_machine_destroy(m);
}

static void test_setup_table_never_shrinks_and_frames_are_stable(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	xen_pfn_t f4[4], f2[2], f1[1];

	assert_int_equal(setup_table(d, DOMID_SELF, 4, f4), GNTST_okay);
	assert_int_equal(setup_table(d, DOMID_SELF, 2, f2), GNTST_okay);
	assert_int_equal(nr_frames_of(d), 4);
	assert_int_equal(f2[0], f4[0]);
	assert_int_equal(f2[1], f4[1]);
	assert_int_equal(setup_table(d, DOMID_SELF, 1, f1), GNTST_okay);
	assert_int_equal(f1[0], f4[0]);
	assert_int_equal(nr_frames_of(d), 4);
	xgnt_machine_destroy(m);
}

static void test_setup_table_beyond_max_general_error_list_untouched(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, true);
	xen_pfn_t f[65];
	unsigned int i;

	for (i = 0; i < 65; i++)
		f[i] = SENTINEL_PFN;
	assert_int_equal(setup_table(d, DOMID_SELF, 65, f), GNTST_general_error);
	for (i = 0; i < 65; i++)
		assert_int_equal(f[i], SENTINEL_PFN);
	assert_int_equal(nr_frames_of(d), 1);
	xgnt_machine_destroy(m);
}

static void test_setup_table_up_to_configured_max(void **state)
{
	struct xgnt_machine *m = t_machine_cfg(16384, 8, 0, 0);
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	xen_pfn_t f[9];
	unsigned int i;

	for (i = 0; i < 9; i++)
		f[i] = SENTINEL_PFN;
	assert_int_equal(setup_table(d, DOMID_SELF, 9, f), GNTST_general_error);
	assert_int_equal(f[0], SENTINEL_PFN);
	assert_int_equal(nr_frames_of(d), 1);
	assert_int_equal(setup_table(d, DOMID_SELF, 8, f), GNTST_okay);
	assert_int_equal(nr_frames_of(d), 8);
	assert_int_equal(f[8], SENTINEL_PFN);
	assert_int_equal(setup_table(d, DOMID_SELF, 9, f), GNTST_general_error);
	assert_int_equal(nr_frames_of(d), 8);
	xgnt_machine_destroy(m);
}

static void test_setup_table_zero_frames_okay(void **state)
{
	struct xgnt_machine *m = t_machine();
	size_t i;

	for (i = 0; i < NR_TYPES; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), all_types[i], false);
		xen_pfn_t f[1] = { SENTINEL_PFN };

		assert_int_equal(setup_table(d, DOMID_SELF, 0, f), GNTST_okay);
		assert_int_equal(f[0], SENTINEL_PFN);
		assert_int_equal(nr_frames_of(d), 1);
	}
	xgnt_machine_destroy(m);
}

static void test_setup_table_bad_domain(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, true);
	xen_pfn_t f[1] = { SENTINEL_PFN };

	assert_int_equal(setup_table(d, 777, 1, f), GNTST_bad_domain);
	assert_int_equal(f[0], SENTINEL_PFN);
	xgnt_machine_destroy(m);
}

static void test_setup_table_unprivileged_other_domain_permission_denied(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	xen_pfn_t f[3] = { SENTINEL_PFN, SENTINEL_PFN, SENTINEL_PFN };

	assert_int_equal(setup_table(a, 2, 3, f), GNTST_permission_denied);
	assert_int_equal(f[0], SENTINEL_PFN);
	assert_int_equal(nr_frames_of(b), 1);
	xgnt_machine_destroy(m);
}

static void test_setup_table_privileged_grows_other_domain(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	xen_pfn_t f[3], fb[3];

	assert_int_equal(setup_table(d0, 2, 3, f), GNTST_okay);
	assert_int_equal(nr_frames_of(b), 3);
	assert_int_equal(setup_table(b, DOMID_SELF, 3, fb), GNTST_okay);
	assert_memory_equal(f, fb, sizeof(f));
	xgnt_machine_destroy(m);
}

static void test_setup_table_translated_unplaced_frames_are_invalid_gfn(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		xen_pfn_t f[2] = { SENTINEL_PFN, SENTINEL_PFN };

		assert_int_equal(setup_table(d, DOMID_SELF, 2, f), GNTST_okay);
		assert_int_equal(f[0], INVALID_GFN_V);
		assert_int_equal(f[1], INVALID_GFN_V);
		assert_int_equal(nr_frames_of(d), 2);
	}
	xgnt_machine_destroy(m);
}

static void test_setup_table_translated_reports_placed_gfn(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		uint64_t g = ext_gfn(d);
		xen_pfn_t f[3] = { SENTINEL_PFN, SENTINEL_PFN, SENTINEL_PFN };

		assert_int_equal(add_to_physmap(d, XENMAPSPACE_grant_table, 0, g + 3), 0);
		assert_int_equal(add_to_physmap(d, XENMAPSPACE_grant_table, 1, g + 7), 0);
		assert_int_equal(setup_table(d, DOMID_SELF, 3, f), GNTST_okay);
		assert_int_equal(f[0], g + 3);
		assert_int_equal(f[1], g + 7);
		assert_int_equal(f[2], INVALID_GFN_V);
	}
	xgnt_machine_destroy(m);
}

static void test_setup_table_pv_frames_hold_the_live_table(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;

	t_gt_setup(a, 1);   /* setup_table + update_va_mapping */
	memcpy(t_ram_va(a, 5), "pv-granted", 11);
	h = pin_ref(a, b, 10, 0);
	assert_memory_equal(xgnt_domain_va(b, t_ext_addr(b, 0)), "pv-granted", 11);
	assert_true(t_entry_flags(a, 10) & GTF_reading);
	unpin_ref(b, h, 0);
	assert_false(t_entry_flags(a, 10) & (GTF_reading | GTF_writing));
	xgnt_machine_destroy(m);
}

/* ---- get_version --------------------------------------------------------- */

static void test_get_version_fresh_domain_is_1(void **state)
{
	struct xgnt_machine *m = t_machine();
	size_t i;

	for (i = 0; i < NR_TYPES; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), all_types[i], false);

		assert_int_equal(t_gt_version(d), 1);
	}
	xgnt_machine_destroy(m);
}

static void test_get_version_bad_domain_esrch(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, true);
	struct gnttab_get_version gv = { .dom = 999, .version = SENTINEL32 };

	assert_int_equal(gt_op(d, GNTTABOP_get_version, &gv, 1), -ESRCH);
	assert_int_equal(gv.version, SENTINEL32);
	xgnt_machine_destroy(m);
}

static void test_get_version_count_not_checked(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct gnttab_get_version gv[2];

	memset(gv, 0, sizeof(gv));
	gv[0].dom = DOMID_SELF;
	assert_int_equal(gt_op(d, GNTTABOP_get_version, gv, 2), 0);
	assert_int_equal(gv[0].version, 1);
	gv[0].version = 0;
	assert_int_equal(gt_op(d, GNTTABOP_get_version, gv, 0), 0);
	assert_int_equal(gv[0].version, 1);
	xgnt_machine_destroy(m);
}

static void test_get_version_other_domain_needs_privilege(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	struct gnttab_get_version gv = { .dom = 2 };

	assert_int_equal(t_set_version(b, 2), 0);
	assert_int_equal(gt_op(a, GNTTABOP_get_version, &gv, 1), -EPERM);
	assert_int_equal(gt_op(d0, GNTTABOP_get_version, &gv, 1), 0);
	assert_int_equal(gv.version, 2);
	xgnt_machine_destroy(m);
}

/* ---- set_version --------------------------------------------------------- */

static void test_set_version_invalid_einval_writes_back_current(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *arm = t_domain(m, 2, XGNT_DOMAIN_ARM, false);
	uint32_t back;

	assert_int_equal(set_version(d, 3, &back), -EINVAL);
	assert_int_equal(back, 1);
	assert_int_equal(set_version(d, 0, &back), -EINVAL);
	assert_int_equal(back, 1);
	assert_int_equal(set_version(d, 2, &back), 0);
	assert_int_equal(back, 2);
	assert_int_equal(set_version(d, 3, &back), -EINVAL);
	assert_int_equal(back, 2);
	assert_int_equal(set_version(d, 0xffffffffu, &back), -EINVAL);
	assert_int_equal(back, 2);
	assert_int_equal(t_gt_version(d), 2);
	/* The version check comes before Arm's v1-only refusal. */
	assert_int_equal(set_version(arm, 3, &back), -EINVAL);
	assert_int_equal(back, 1);
	xgnt_machine_destroy(m);
}

static void test_set_version_same_version_is_noop(void **state)
{
	struct xgnt_machine *m = t_machine();
	size_t i;

	for (i = 0; i < NR_TYPES; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), all_types[i], false);
		uint32_t back = 0;

		assert_int_equal(set_version(d, 1, &back), 0);
		assert_int_equal(back, 1);
		assert_int_equal(t_gt_version(d), 1);
	}
	xgnt_machine_destroy(m);
}

static void test_set_version_v2_and_back_on_x86(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		uint32_t back;

		assert_int_equal(set_version(d, 2, &back), 0);
		assert_int_equal(back, 2);
		assert_int_equal(t_gt_version(d), 2);
		assert_int_equal(set_version(d, 2, &back), 0);
		assert_int_equal(back, 2);
		assert_int_equal(nr_frames_of(d), 1);
		assert_int_equal(set_version(d, 1, &back), 0);
		assert_int_equal(back, 1);
		assert_int_equal(t_gt_version(d), 1);
	}
	xgnt_machine_destroy(m);
}

static void test_set_version_v2_on_arm_enosys(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_ARM, false);
	uint32_t back;

	assert_int_equal(set_version(d, 2, &back), -ENOSYS);
	assert_int_equal(back, 1);
	assert_int_equal(t_gt_version(d), 1);
	xgnt_machine_destroy(m);
}

static void test_set_version_v2_with_machine_max_version_1_enosys(void **state)
{
	struct xgnt_machine *m = t_machine_cfg(16384, 0, 0, 1);
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		uint32_t back;

		assert_int_equal(set_version(d, 2, &back), -ENOSYS);
		assert_int_equal(back, 1);
		assert_int_equal(set_version(d, 1, &back), 0);
		assert_int_equal(t_gt_version(d), 1);
	}
	xgnt_machine_destroy(m);
}

static void test_set_version_with_pinned_entry_ebusy(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;
	uint32_t back;

	t_gt_setup(a, 1);
	h = pin_ref(a, b, 10, 0);
	assert_int_equal(set_version(a, 2, &back), -EBUSY);
	assert_int_equal(back, 1);
	assert_int_equal(t_gt_version(a), 1);
	/* The entry is intact and still in use. */
	assert_true(t_entry_flags(a, 10) & GTF_reading);
	unpin_ref(b, h, 0);
	assert_int_equal(set_version(a, 2, &back), 0);
	assert_int_equal(back, 2);

	/* And v2 -> v1 with a pin (the frame stays placed across the switch). */
	h = pin_ref(a, b, 20, 1);
	assert_int_equal(set_version(a, 1, &back), -EBUSY);
	assert_int_equal(back, 2);
	unpin_ref(b, h, 1);
	assert_int_equal(set_version(a, 1, &back), 0);
	xgnt_machine_destroy(m);
}

static void test_set_version_pinned_reserved_entry_does_not_block(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;
	uint32_t back;

	t_gt_setup(a, 1);
	h = pin_ref(a, b, 3, 0);   /* like xenstore's reserved entry */
	assert_int_equal(set_version(a, 2, &back), 0);
	assert_int_equal(back, 2);
	unpin_ref(b, h, 0);
	xgnt_machine_destroy(m);
}

static void test_set_version_preserves_reserved_entries_v1_v2_v1(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		grant_entry_v1_t *e1;
		grant_entry_v2_t *e2;

		t_gt_setup(d, 1);
		t_grant_flags(d, 1, 5, 0x1234, GTF_permit_access | GTF_readonly);
		t_grant_flags(d, 7, 6, 0xabcd, GTF_accept_transfer);
		t_grant_flags(d, 8, 5, 0x5555, GTF_permit_access);
		t_grant_flags(d, 511, 5, 0x6666, GTF_permit_access);

		assert_int_equal(t_set_version(d, 2), 0);
		e2 = v2e(d, 0);
		assert_int_equal(e2[1].hdr.flags, GTF_permit_access | GTF_readonly);
		assert_int_equal(e2[1].hdr.domid, 5);
		assert_int_equal(e2[1].full_page.frame, 0x1234);
		assert_int_equal(e2[7].hdr.flags, GTF_accept_transfer);
		assert_int_equal(e2[7].hdr.domid, 6);
		assert_int_equal(e2[7].full_page.frame, 0xabcd);
		/* Entries 8.. of the new format are clear. */
		assert_true(zero_from(e2, 8 * sizeof(*e2)));

		t_grant_flags(d, 2, 3, 0x9999, GTF_permit_access);
		t_grant_flags(d, 100, 3, 0x7777, GTF_permit_access);
		assert_int_equal(t_set_version(d, 1), 0);
		e1 = v1e(d, 0);
		assert_int_equal(e1[1].flags, GTF_permit_access | GTF_readonly);
		assert_int_equal(e1[1].domid, 5);
		assert_int_equal(e1[1].frame, 0x1234);
		assert_int_equal(e1[2].flags, GTF_permit_access);
		assert_int_equal(e1[2].domid, 3);
		assert_int_equal(e1[2].frame, 0x9999);
		/* v2 -> v1 keeps only permit_access reserved entries (Xen:
		 * "bad flags ... when switching version"); v1 -> v2 kept all. */
		assert_int_equal(e1[7].flags, 0);
		assert_int_equal(e1[7].domid, 0);
		assert_int_equal(e1[7].frame, 0);
		assert_true(zero_from(e1, 8 * sizeof(*e1)));
	}
	xgnt_machine_destroy(m);
}

static void test_set_version_clears_all_other_shared_entries(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);

	t_gt_setup(d, 2);
	t_grant(d, 8, 5, 0x11, false);
	t_grant(d, 300, 5, 0x22, false);
	t_grant(d, 600, 5, 0x33, true);   /* frame 1 */
	assert_int_equal(t_set_version(d, 2), 0);
	assert_true(zero_from(t_gt_frame_va(d, 0), 8 * sizeof(grant_entry_v2_t)));
	assert_true(zero_from(t_gt_frame_va(d, 1), 0));

	t_grant(d, 9, 5, 0x44, false);
	t_grant(d, 200, 5, 0x55, false);
	t_grant(d, 300, 5, 0x66, false);  /* v2: frame 1 */
	assert_int_equal(t_set_version(d, 1), 0);
	assert_true(zero_from(t_gt_frame_va(d, 0), 8 * sizeof(grant_entry_v1_t)));
	assert_true(zero_from(t_gt_frame_va(d, 1), 0));
	assert_int_equal(nr_frames_of(d), 2);
	xgnt_machine_destroy(m);
}

static void test_set_version_v2_to_v1_unrepresentable_reserved_entry_erange(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint32_t back;

	assert_int_equal(t_set_version(d, 2), 0);
	/* Grant frame only: no status frame placed, so nothing else can refuse. */
	assert_int_equal(add_to_physmap(d, XENMAPSPACE_grant_table, 0, ext_gfn(d)), 0);
	t_grant_flags(d, 2, 5, 1ull << 32, GTF_permit_access);
	assert_int_equal(set_version(d, 1, &back), -ERANGE);
	assert_int_equal(back, 2);
	assert_int_equal(t_gt_version(d), 2);
	t_grant_flags(d, 2, 5, 0x10, GTF_permit_access);

	t_grant_transitive(d, 4, 5, 6, 10);
	assert_int_equal(set_version(d, 1, &back), -ERANGE);
	assert_int_equal(back, 2);
	t_ungrant(d, 4);

	/* A large frame beyond the reserved entries does not matter. */
	t_grant_flags(d, 20, 5, 1ull << 40, GTF_permit_access);
	assert_int_equal(set_version(d, 1, &back), 0);
	assert_int_equal(back, 1);
	assert_int_equal(v1e(d, 2)->frame, 0x10);
	xgnt_machine_destroy(m);
}

/* ---- get_status_frames --------------------------------------------------- */

static void test_get_status_frames_v1_nonzero_general_error_list_untouched(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	uint64_t f[2] = { SENTINEL_U64, SENTINEL_U64 };

	assert_int_equal(status_frames(d, DOMID_SELF, 1, f), GNTST_general_error);
	assert_int_equal(f[0], SENTINEL_U64);
	assert_int_equal(status_frames(d, DOMID_SELF, 2, f), GNTST_general_error);
	assert_int_equal(f[1], SENTINEL_U64);
	xgnt_machine_destroy(m);
}

static void test_get_status_frames_v1_zero_frames_okay(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	uint64_t f[1] = { SENTINEL_U64 };

	assert_int_equal(status_frames(d, DOMID_SELF, 0, f), GNTST_okay);
	assert_int_equal(f[0], SENTINEL_U64);
	xgnt_machine_destroy(m);
}

static void test_get_status_frames_v2_one_grant_frame_gives_one(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	uint64_t f[2] = { SENTINEL_U64, SENTINEL_U64 };

	assert_int_equal(t_set_version(d, 2), 0);
	assert_int_equal(status_frames(d, DOMID_SELF, 1, f), GNTST_okay);
	assert_int_not_equal(f[0], SENTINEL_U64);
	assert_int_equal(f[1], SENTINEL_U64);
	assert_int_equal(xgnt_update_va_mapping(t_v0(d), (ext_gfn(d) + T_GT_STATUS_OFF) << 12,
						f[0], XGNT_PROT_READ), 0);
	f[0] = SENTINEL_U64;
	assert_int_equal(status_frames(d, DOMID_SELF, 2, f), GNTST_general_error);
	assert_int_equal(f[0], SENTINEL_U64);
	assert_int_equal(f[1], SENTINEL_U64);
	xgnt_machine_destroy(m);
}

static void test_get_status_frames_v2_count_is_ceil_grant_frames_over_8(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	xen_pfn_t gf[9];
	uint64_t f[9];

	assert_int_equal(t_set_version(d, 2), 0);
	assert_int_equal(setup_table(d, DOMID_SELF, 8, gf), GNTST_okay);
	assert_int_equal(status_frames(d, DOMID_SELF, 1, f), GNTST_okay);
	assert_int_equal(status_frames(d, DOMID_SELF, 2, f), GNTST_general_error);
	/* XSA-382: bounded by status frames, not by grant frames. */
	assert_int_equal(status_frames(d, DOMID_SELF, 8, f), GNTST_general_error);

	assert_int_equal(setup_table(d, DOMID_SELF, 9, gf), GNTST_okay);
	assert_int_equal(status_frames(d, DOMID_SELF, 2, f), GNTST_okay);
	assert_int_not_equal(f[0], f[1]);
	assert_int_equal(status_frames(d, DOMID_SELF, 3, f), GNTST_general_error);
	assert_int_equal(status_frames(d, DOMID_SELF, 9, f), GNTST_general_error);
	xgnt_machine_destroy(m);
}

static void test_get_status_frames_status_grows_with_table_after_switch(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	xen_pfn_t gf[17];
	uint64_t f[3];

	/* A table grown under v1 gets its status frames on the switch. */
	assert_int_equal(setup_table(d, DOMID_SELF, 17, gf), GNTST_okay);
	assert_int_equal(t_set_version(d, 2), 0);
	assert_int_equal(status_frames(d, DOMID_SELF, 3, f), GNTST_okay);
	assert_int_equal(status_frames(d, DOMID_SELF, 0, f), GNTST_okay);
	xgnt_machine_destroy(m);
}

static void test_get_status_frames_count_not_one_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct gnttab_get_status_frames gs[2];
	uint64_t f[1] = { SENTINEL_U64 };

	assert_int_equal(t_set_version(d, 2), 0);
	memset(gs, 0, sizeof(gs));
	gs[0].dom = DOMID_SELF;
	gs[0].nr_frames = 1;
	gs[0].status = SENTINEL16;
	set_xen_guest_handle(gs[0].frame_list, f);
	gs[1] = gs[0];
	assert_int_equal(gt_op(d, GNTTABOP_get_status_frames, gs, 2), -EINVAL);
	assert_int_equal(gt_op(d, GNTTABOP_get_status_frames, gs, 0), -EINVAL);
	assert_int_equal(gs[0].status, SENTINEL16);
	assert_int_equal(f[0], SENTINEL_U64);
	xgnt_machine_destroy(m);
}

static void test_get_status_frames_bad_domain_and_permission(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	uint64_t f[1] = { SENTINEL_U64 };

	assert_int_equal(t_set_version(b, 2), 0);
	assert_int_equal(status_frames(a, 777, 1, f), GNTST_bad_domain);
	assert_int_equal(status_frames(a, 2, 1, f), GNTST_permission_denied);
	assert_int_equal(f[0], SENTINEL_U64);
	assert_int_equal(status_frames(d0, 2, 1, f), GNTST_okay);
	assert_int_not_equal(f[0], SENTINEL_U64);
	xgnt_machine_destroy(m);
}

static void test_get_status_frames_frames_hold_the_live_status(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;

	assert_int_equal(t_set_version(a, 2), 0);
	t_gt_setup(a, 1);   /* maps grant and status frames */
	h = pin_ref(a, b, 10, 0);
	assert_true(*v2s(a, 10) & GTF_reading);
	assert_false(v2e(a, 10)->hdr.flags & GTF_reading);
	unpin_ref(b, h, 0);
	assert_int_equal(*v2s(a, 10), 0);
	xgnt_machine_destroy(m);
}

static void test_get_status_frames_arm_is_answered_as_v1(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_ARM, false);
	uint64_t f[1] = { SENTINEL_U64 };

	/* Arm has no HVM filter; its table is always v1. */
	assert_int_equal(status_frames(d, DOMID_SELF, 1, f), GNTST_general_error);
	assert_int_equal(status_frames(d, DOMID_SELF, 0, f), GNTST_okay);
	assert_int_equal(f[0], SENTINEL_U64);
	xgnt_machine_destroy(m);
}

/* ---- swap_grant_ref ------------------------------------------------------ */

static void test_swap_out_of_range_bad_gntref(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);

	t_gt_setup(d, 1);
	t_grant(d, 10, 5, 0x10, false);
	assert_int_equal(swap_refs(d, 512, 10), GNTST_bad_gntref);
	assert_int_equal(swap_refs(d, 10, 512), GNTST_bad_gntref);
	assert_int_equal(swap_refs(d, 0xffffffffu, 0), GNTST_bad_gntref);   /* XSA-18 */
	assert_int_equal(swap_refs(d, 513, 513), GNTST_bad_gntref);
	assert_int_equal(t_entry_frame(d, 10), 0x10);
	assert_int_equal(swap_refs(d, 511, 10), GNTST_okay);
	assert_int_equal(t_entry_frame(d, 511), 0x10);

	/* Under v2 one frame holds 256 entries. */
	assert_int_equal(t_set_version(d, 2), 0);
	assert_int_equal(swap_refs(d, 256, 9), GNTST_bad_gntref);
	assert_int_equal(swap_refs(d, 9, 300), GNTST_bad_gntref);
	assert_int_equal(swap_refs(d, 255, 9), GNTST_okay);
	xgnt_machine_destroy(m);
}

static void test_swap_same_ref_is_okay_noop(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);

	t_gt_setup(d, 1);
	t_grant(d, 10, 5, 0x10, true);
	assert_int_equal(swap_refs(d, 10, 10), GNTST_okay);
	assert_int_equal(v1e(d, 10)->frame, 0x10);
	assert_int_equal(v1e(d, 10)->domid, 5);
	assert_int_equal(v1e(d, 10)->flags, GTF_permit_access | GTF_readonly);
	xgnt_machine_destroy(m);
}

static void test_swap_pinned_entry_eagain_nothing_changes(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;
	uint64_t frame10;

	t_gt_setup(a, 1);
	h = pin_ref(a, b, 10, 0);
	frame10 = t_entry_frame(a, 10);
	t_grant(a, 11, 3, 0x222, true);
	assert_int_equal(swap_refs(a, 10, 11), GNTST_eagain);
	assert_int_equal(swap_refs(a, 11, 10), GNTST_eagain);
	assert_int_equal(t_entry_frame(a, 10), frame10);
	assert_int_equal(t_entry_frame(a, 11), 0x222);
	assert_int_equal(v1e(a, 11)->domid, 3);
	/* Pinned and out of range: the range check comes first. */
	assert_int_equal(swap_refs(a, 10, 600), GNTST_bad_gntref);
	unpin_ref(b, h, 0);
	assert_int_equal(swap_refs(a, 10, 11), GNTST_okay);
	assert_int_equal(t_entry_frame(a, 11), frame10);
	xgnt_machine_destroy(m);
}

static void test_swap_v1_swaps_whole_entries(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);

	t_gt_setup(d, 2);
	t_grant(d, 10, 2, 0x111, false);
	t_grant(d, 700, 3, 0x222, true);
	assert_int_equal(swap_refs(d, 10, 700), GNTST_okay);
	assert_int_equal(v1e(d, 10)->flags, GTF_permit_access | GTF_readonly);
	assert_int_equal(v1e(d, 10)->domid, 3);
	assert_int_equal(v1e(d, 10)->frame, 0x222);
	assert_int_equal(v1e(d, 700)->flags, GTF_permit_access);
	assert_int_equal(v1e(d, 700)->domid, 2);
	assert_int_equal(v1e(d, 700)->frame, 0x111);
	/* With an empty entry: the other becomes empty. */
	assert_int_equal(swap_refs(d, 10, 20), GNTST_okay);
	assert_int_equal(v1e(d, 10)->flags, 0);
	assert_int_equal(v1e(d, 20)->frame, 0x222);
	xgnt_machine_destroy(m);
}

static void test_swap_v2_swaps_entries_and_status(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);

	assert_int_equal(t_set_version(d, 2), 0);
	t_gt_setup(d, 1);
	t_grant(d, 10, 2, 0x111, false);
	t_grant_sub_page(d, 11, 3, 0x222, 100, 200, true);
	/* The HVM guest's status frame is ordinary writable memory to it. */
	*v2s(d, 10) = GTF_writing;
	*v2s(d, 11) = GTF_reading;
	assert_int_equal(swap_refs(d, 10, 11), GNTST_okay);
	assert_int_equal(v2e(d, 10)->hdr.flags, GTF_permit_access | GTF_sub_page | GTF_readonly);
	assert_int_equal(v2e(d, 10)->hdr.domid, 3);
	assert_int_equal(v2e(d, 10)->sub_page.frame, 0x222);
	assert_int_equal(v2e(d, 10)->sub_page.page_off, 100);
	assert_int_equal(v2e(d, 10)->sub_page.length, 200);
	assert_int_equal(v2e(d, 11)->hdr.flags, GTF_permit_access);
	assert_int_equal(v2e(d, 11)->hdr.domid, 2);
	assert_int_equal(v2e(d, 11)->full_page.frame, 0x111);
	assert_int_equal(*v2s(d, 10), GTF_reading);
	assert_int_equal(*v2s(d, 11), GTF_writing);
	/* This guest wrote its own status bits: skip the GTF invariant. */
	t_check_flags = 0;
	xgnt_machine_destroy(m);
	t_check_flags = XGNT_CHECK_GTF;
}

static void test_swap_as_first_grant_op_of_fresh_domain(void **state)
{
	struct xgnt_machine *m = t_machine();
	size_t i;

	for (i = 0; i < NR_TYPES; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), all_types[i], false);

		assert_int_equal(swap_refs(d, 10, 11), GNTST_okay);   /* XSA-134 */
		assert_int_equal(swap_refs(d, 512, 11), GNTST_bad_gntref);
	}
	xgnt_machine_destroy(m);
}

static void test_swap_batch_writes_each_status(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct gnttab_swap_grant_ref sw[3] = {
		{ .ref_a = 10, .ref_b = 11, .status = SENTINEL16 },
		{ .ref_a = 600, .ref_b = 0, .status = SENTINEL16 },
		{ .ref_a = 12, .ref_b = 12, .status = SENTINEL16 },
	};

	t_gt_setup(d, 1);
	t_grant(d, 10, 2, 0x111, false);
	assert_int_equal(gt_op(d, GNTTABOP_swap_grant_ref, sw, 3), 0);
	assert_int_equal(sw[0].status, GNTST_okay);
	assert_int_equal(sw[1].status, GNTST_bad_gntref);
	assert_int_equal(sw[2].status, GNTST_okay);
	assert_int_equal(t_entry_frame(d, 11), 0x111);
	xgnt_machine_destroy(m);
}

/* ---- cache_flush --------------------------------------------------------- */

static void test_cache_flush_bad_offset_or_length_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_PV, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		uint64_t own = (uint64_t)xgnt_domain_shared_info_mfn(d) << 12;

		assert_int_equal(cache_flush(d, 0, 4096, 0, 0), -EINVAL);
		assert_int_equal(cache_flush(d, own, 4096, 0, GNTTAB_CACHE_CLEAN), -EINVAL);
		assert_int_equal(cache_flush(d, own, 0xffff, 1, GNTTAB_CACHE_CLEAN), -EINVAL);
		assert_int_equal(cache_flush(d, own, 4000, 200, GNTTAB_CACHE_CLEAN), -EINVAL);
		assert_int_equal(cache_flush(d, own, 1, 4096, GNTTAB_CACHE_INVAL), -EINVAL);
		assert_int_equal(cache_flush(d, own, 0, 4097, GNTTAB_CACHE_INVAL), -EINVAL);
		assert_int_equal(cache_flush(d, own, 0, 0xffff, 0), -EINVAL);
		/* The boundaries themselves are fine. */
		assert_int_equal(cache_flush(d, own, 4095, 1, GNTTAB_CACHE_CLEAN), 0);
		assert_int_equal(cache_flush(d, own, 0, 4096, GNTTAB_CACHE_CLEAN), 0);
	}
	xgnt_machine_destroy(m);
}

static void test_cache_flush_unknown_op_bits_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_PV, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);
		uint64_t own = (uint64_t)xgnt_domain_shared_info_mfn(d) << 12;

		assert_int_equal(cache_flush(d, own, 0, 64, 0x4), -EINVAL);
		assert_int_equal(cache_flush(d, own, 0, 64,
					     GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_SOURCE_GREF),
				 -EINVAL);
		assert_int_equal(cache_flush(d, 10, 0, 64, GNTTAB_CACHE_SOURCE_GREF), -EINVAL);
		/* Unknown bits are refused even when there is nothing to do. */
		assert_int_equal(cache_flush(d, own, 0, 0, 0x4), -EINVAL);
		assert_int_equal(cache_flush(d, own, 0, 64, 0x80000000u | GNTTAB_CACHE_INVAL),
				 -EINVAL);
	}
	xgnt_machine_destroy(m);
}

static void test_cache_flush_zero_length_or_op_is_noop(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_PV, XGNT_DOMAIN_ARM };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), types[i], false);

		assert_int_equal(cache_flush(d, 0, 0, 0, 0), 0);
		/* The address is not looked at. */
		assert_int_equal(cache_flush(d, ~0ull, 0, 0, GNTTAB_CACHE_CLEAN), 0);
		assert_int_equal(cache_flush(d, ~0ull, 0, 4096, 0), 0);
		assert_int_equal(cache_flush(d, ~0ull, 100, 0,
					     GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL), 0);
	}
	xgnt_machine_destroy(m);
}

static void test_cache_flush_own_frames_ok(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *pv = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *arm = t_domain(m, 2, XGNT_DOMAIN_ARM, false);
	uint32_t ops[] = { GNTTAB_CACHE_CLEAN, GNTTAB_CACHE_INVAL,
			   GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL };
	uint64_t ram = (uint64_t)xgnt_domain_pfn_to_mfn(pv, 0) << 12;
	uint64_t si_pv = (uint64_t)xgnt_domain_shared_info_mfn(pv) << 12;
	uint64_t si_arm = (uint64_t)xgnt_domain_shared_info_mfn(arm) << 12;
	xen_pfn_t gf[1];
	size_t i;

	assert_int_equal(setup_table(pv, DOMID_SELF, 1, gf), GNTST_okay);
	for (i = 0; i < 3; i++) {
		/* x86 has no invalidate without clean (real Xen 4.17, tests/xen) */
		long x86 = ops[i] == GNTTAB_CACHE_INVAL ? -EOPNOTSUPP : 0;

		assert_int_equal(cache_flush(pv, ram, 0, 4096, ops[i]), x86);
		assert_int_equal(cache_flush(pv, ram + 0x123, 16, 100, ops[i]), x86);
		assert_int_equal(cache_flush(pv, (uint64_t)gf[0] << 12, 0, 4096, ops[i]), x86);
		assert_int_equal(cache_flush(pv, si_pv, 0, 4096, ops[i]), x86);
		assert_int_equal(cache_flush(arm, si_arm, 0, 4096, ops[i]), 0);
	}
	/* the checks come first: a zero length, or a frame not the caller's */
	assert_int_equal(cache_flush(pv, ram, 0, 0, GNTTAB_CACHE_INVAL), 0);
	assert_int_equal(cache_flush(pv, ~0ull, 0, 64, GNTTAB_CACHE_INVAL), -EINVAL);
	xgnt_machine_destroy(m);
}

static void test_cache_flush_frame_mapped_from_other_domain_ok(void **state)
{
	struct xgnt_machine *m = t_machine();
	enum xgnt_domain_type types[] = { XGNT_DOMAIN_ARM, XGNT_DOMAIN_PV };
	size_t i;

	for (i = 0; i < 2; i++) {
		domid_t ga = (domid_t)(2 * i + 1), mb = (domid_t)(2 * i + 2);
		struct xgnt_domain *a = t_domain(m, ga, types[i], false);
		struct xgnt_domain *b = t_domain(m, mb, types[i], false);
		struct gnttab_map_grant_ref op;
		grant_handle_t h;

		t_gt_setup(a, 1);
		t_grant(a, 10, mb, t_ram_frame(a, 5), false);
		op = map_full(b, ga, 10, t_ext_addr(b, 0));
		assert_int_equal(op.status, GNTST_okay);
		h = op.handle;
		assert_int_equal(cache_flush(b, op.dev_bus_addr, 0, 4096,
					     GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL), 0);
		assert_int_equal(cache_flush(b, op.dev_bus_addr, 100, 50, GNTTAB_CACHE_CLEAN), 0);
		/* Once unmapped it is a foreign frame again. */
		unpin_ref(b, h, 0);
		assert_int_equal(cache_flush(b, op.dev_bus_addr, 0, 4096, GNTTAB_CACHE_CLEAN),
				 -EINVAL);
	}
	xgnt_machine_destroy(m);
}

static void test_cache_flush_foreign_frame_not_mapped_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *c = t_domain(m, 3, XGNT_DOMAIN_PV, false);
	uint64_t a_ram = (uint64_t)xgnt_domain_pfn_to_mfn(a, 5) << 12;
	grant_handle_t h;

	assert_int_equal(cache_flush(b, a_ram, 0, 4096, GNTTAB_CACHE_CLEAN), -EINVAL);
	assert_int_equal(cache_flush(b, (uint64_t)xgnt_domain_shared_info_mfn(a) << 12, 0, 64,
				     GNTTAB_CACHE_INVAL), -EINVAL);
	/* Granted to and mapped by c: still not b's. */
	t_gt_setup(a, 1);
	h = pin_ref(a, c, 10, 0);
	assert_int_equal(cache_flush(c, a_ram, 0, 4096, GNTTAB_CACHE_CLEAN), 0);
	assert_int_equal(cache_flush(b, a_ram, 0, 4096, GNTTAB_CACHE_CLEAN), -EINVAL);
	unpin_ref(c, h, 0);
	xgnt_machine_destroy(m);
}

static void test_cache_flush_frame_outside_machine_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_ARM, false);

	assert_int_equal(cache_flush(d, (uint64_t)(16384 + 4096) << 12, 0, 4096,
				     GNTTAB_CACHE_CLEAN), -EINVAL);
	assert_int_equal(cache_flush(d, ~0ull & ~0xfffull, 0, 4096, GNTTAB_CACHE_CLEAN),
			 -EINVAL);
	xgnt_machine_destroy(m);
}

/* ---- the dispatcher ------------------------------------------------------ */

static void test_unknown_cmd_enosys(void **state)
{
	struct xgnt_machine *m = t_machine();
	size_t i;

	for (i = 0; i < NR_TYPES; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), all_types[i], true);
		uint8_t buf[64] = { 0 };

		assert_int_equal(gt_op(d, 99, buf, 1), -ENOSYS);
		assert_int_equal(gt_op(d, 13, buf, 1), -ENOSYS);
		assert_int_equal(gt_op(d, 0xfff, buf, 0), -ENOSYS);
	}
	xgnt_machine_destroy(m);
}

static void test_dump_table_enosys(void **state)
{
	struct xgnt_machine *m = t_machine();
	size_t i;

	for (i = 0; i < NR_TYPES; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), all_types[i], true);
		struct gnttab_dump_table dt = { .dom = DOMID_SELF, .status = SENTINEL16 };

		assert_int_equal(gt_op(d, GNTTABOP_dump_table, &dt, 1), -ENOSYS);
		assert_int_equal(dt.status, SENTINEL16);
	}
	xgnt_machine_destroy(m);
}

static void test_negative_count_einval(void **state)
{
	struct xgnt_machine *m = t_machine();
	size_t i;

	for (i = 0; i < NR_TYPES; i++) {
		struct xgnt_domain *d = t_domain(m, (domid_t)(i + 1), all_types[i], false);
		struct gnttab_map_grant_ref op = { .status = SENTINEL16 };
		struct gnttab_query_size q = { .dom = DOMID_SELF, .status = SENTINEL16 };

		assert_int_equal(gt_op(d, GNTTABOP_map_grant_ref, &op, 0x80000000u), -EINVAL);
		assert_int_equal(gt_op(d, GNTTABOP_query_size, &q, 0xffffffffu), -EINVAL);
		assert_int_equal(gt_op(d, GNTTABOP_swap_grant_ref, &op, 0x80000000u), -EINVAL);
		assert_int_equal(op.status, SENTINEL16);
		assert_int_equal(q.status, SENTINEL16);
	}
	xgnt_machine_destroy(m);
}

static void test_continuation_bits_in_cmd_refused(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *pv = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *arm = t_domain(m, 2, XGNT_DOMAIN_ARM, false);
	struct xgnt_domain *hvm = t_domain(m, 3, XGNT_DOMAIN_HVM, false);
	struct gnttab_query_size q = { .dom = DOMID_SELF, .status = SENTINEL16 };

	assert_int_equal(gt_op(pv, GNTTABOP_query_size | CMD_ARG_BIT, &q, 1), -EINVAL);
	assert_int_equal(gt_op(arm, GNTTABOP_query_size | CMD_ARG_BIT, &q, 1), -EINVAL);
	assert_int_equal(gt_op(pv, GNTTABOP_map_grant_ref | (5u << 12), &q, 0), -EINVAL);
	/* The HVM filter compares the whole cmd: not one of its 8 ops. */
	assert_int_equal(gt_op(hvm, GNTTABOP_query_size | CMD_ARG_BIT, &q, 1), -ENOSYS);
	assert_int_equal(q.status, SENTINEL16);
	xgnt_machine_destroy(m);
}

static void test_array_ops_with_count_zero_do_nothing(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *pv = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *hvm = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	unsigned int pv_cmds[] = {
		GNTTABOP_map_grant_ref, GNTTABOP_unmap_grant_ref, GNTTABOP_transfer,
		GNTTABOP_copy, GNTTABOP_unmap_and_replace, GNTTABOP_swap_grant_ref,
		GNTTABOP_cache_flush,
	};
	unsigned int hvm_cmds[] = {
		GNTTABOP_map_grant_ref, GNTTABOP_unmap_grant_ref, GNTTABOP_copy,
		GNTTABOP_swap_grant_ref,
	};
	uint8_t buf[64];
	size_t i;

	for (i = 0; i < sizeof(pv_cmds) / sizeof(pv_cmds[0]); i++) {
		memset(buf, 0x5a, sizeof(buf));
		assert_int_equal(gt_op(pv, pv_cmds[i], buf, 0), 0);
		assert_true(buf[0] == 0x5a && buf[63] == 0x5a);
	}
	for (i = 0; i < sizeof(hvm_cmds) / sizeof(hvm_cmds[0]); i++) {
		memset(buf, 0x5a, sizeof(buf));
		assert_int_equal(gt_op(hvm, hvm_cmds[i], buf, 0), 0);
		assert_true(buf[0] == 0x5a && buf[63] == 0x5a);
	}
	xgnt_machine_destroy(m);
}

static void test_set_version_count_not_checked(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct gnttab_set_version sv[2] = { { .version = 2 }, { .version = 1 } };

	assert_int_equal(gt_op(d, GNTTABOP_set_version, sv, 2), 0);
	assert_int_equal(t_gt_version(d), 2);
	sv[0].version = 1;
	assert_int_equal(gt_op(d, GNTTABOP_set_version, sv, 0), 0);
	assert_int_equal(t_gt_version(d), 1);
	xgnt_machine_destroy(m);
}

static void test_hvm_caller_pv_only_ops_enosys(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, true);
	unsigned int cmds[] = {
		GNTTABOP_transfer, GNTTABOP_get_status_frames, GNTTABOP_unmap_and_replace,
		GNTTABOP_cache_flush, GNTTABOP_dump_table,
	};
	uint64_t f[1] = { SENTINEL_U64 };
	struct gnttab_get_status_frames gs = { .dom = DOMID_SELF, .nr_frames = 0 };
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		union {
			struct gnttab_transfer t;
			struct gnttab_get_status_frames gs;
			struct gnttab_unmap_and_replace ur;
			struct gnttab_cache_flush cf;
			struct gnttab_dump_table dt;
		} u;

		memset(&u, 0, sizeof(u));
		if (cmds[i] == GNTTABOP_get_status_frames) {
			u.gs.dom = DOMID_SELF;
			u.gs.status = SENTINEL16;
			set_xen_guest_handle(u.gs.frame_list, f);
		}
		assert_int_equal(gt_op(d, cmds[i], &u, 1), -ENOSYS);
		assert_int_equal(gt_op(d, cmds[i], &u, 0), -ENOSYS);
		if (cmds[i] == GNTTABOP_get_status_frames)
			assert_int_equal(u.gs.status, SENTINEL16);
	}
	/* Also once v2 is on: status frames come through add_to_physmap only. */
	assert_int_equal(t_set_version(d, 2), 0);
	set_xen_guest_handle(gs.frame_list, f);
	assert_int_equal(gt_op(d, GNTTABOP_get_status_frames, &gs, 1), -ENOSYS);
	assert_int_equal(f[0], SENTINEL_U64);
	xgnt_machine_destroy(m);
}

static void test_hvm_caller_allowed_ops_pass_the_filter(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	xen_pfn_t f[1];
	uint32_t nr;

	assert_int_equal(query_size(d, DOMID_SELF, &nr, NULL), GNTST_okay);
	assert_int_equal(setup_table(d, DOMID_SELF, 1, f), GNTST_okay);
	assert_int_equal(t_gt_version(d), 1);
	assert_int_equal(t_set_version(d, 1), 0);
	assert_int_equal(swap_refs(d, 10, 11), GNTST_okay);
	xgnt_machine_destroy(m);
}

static void test_cache_flush_answered_for_pv_and_arm(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *pv = t_domain(m, 1, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *arm = t_domain(m, 2, XGNT_DOMAIN_ARM, false);
	struct gnttab_cache_flush cf = { 0 };

	assert_int_equal(gt_op(pv, GNTTABOP_cache_flush, &cf, 1), 0);
	assert_int_equal(gt_op(arm, GNTTABOP_cache_flush, &cf, 1), 0);
	cf.offset = 4096;
	assert_int_equal(gt_op(pv, GNTTABOP_cache_flush, &cf, 1), -EINVAL);
	assert_int_equal(gt_op(arm, GNTTABOP_cache_flush, &cf, 1), -EINVAL);
	xgnt_machine_destroy(m);
}

static void test_transfer_from_arm_eopnotsupp(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_ARM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_ARM, false);
	struct gnttab_transfer tr = { .mfn = 5, .domid = 2, .ref = 10, .status = SENTINEL16 };

	t_gt_setup(b, 1);
	t_grant_accept_transfer(b, 10, 1, 0);
	assert_int_equal(gt_op(a, GNTTABOP_transfer, &tr, 1), -EOPNOTSUPP);
	assert_int_equal(tr.status, SENTINEL16);
	/* The page stays where it was. */
	assert_false(t_read_faults(t_ram_va(a, 5)));
	assert_int_equal(t_entry_flags(b, 10), GTF_accept_transfer);
	xgnt_machine_destroy(m);
}

static void test_unmap_and_replace_from_arm_is_answered(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_ARM, false);
	struct gnttab_unmap_and_replace ur = { .handle = 0, .status = SENTINEL16 };

	/* No filter on Arm and no replace_grant_supported() gate any more. */
	assert_int_equal(gt_op(d, GNTTABOP_unmap_and_replace, &ur, 1), 0);
	assert_int_equal(ur.status, GNTST_bad_handle);
	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_size_fresh_domain_has_one_frame_max_64),
		cmocka_unit_test(test_query_size_max_follows_machine_config),
		cmocka_unit_test(test_query_size_max_follows_domain_config),
		cmocka_unit_test(test_query_size_count_not_one_einval_struct_untouched),
		cmocka_unit_test(test_query_size_bad_domain_status_fields_untouched),
		cmocka_unit_test(test_query_size_unprivileged_other_domain_permission_denied),
		cmocka_unit_test(test_query_size_privileged_may_ask_about_other_domain),
		cmocka_unit_test(test_query_size_own_domid_allowed_unprivileged),
		cmocka_unit_test(test_setup_table_count_not_one_einval),
		cmocka_unit_test(test_setup_table_pv_grows_table_and_returns_own_mfns),
		cmocka_unit_test(test_setup_table_never_shrinks_and_frames_are_stable),
		cmocka_unit_test(test_setup_table_beyond_max_general_error_list_untouched),
		cmocka_unit_test(test_setup_table_up_to_configured_max),
		cmocka_unit_test(test_setup_table_zero_frames_okay),
		cmocka_unit_test(test_setup_table_bad_domain),
		cmocka_unit_test(test_setup_table_unprivileged_other_domain_permission_denied),
		cmocka_unit_test(test_setup_table_privileged_grows_other_domain),
		cmocka_unit_test(test_setup_table_translated_unplaced_frames_are_invalid_gfn),
		cmocka_unit_test(test_setup_table_translated_reports_placed_gfn),
		cmocka_unit_test(test_setup_table_pv_frames_hold_the_live_table),
		cmocka_unit_test(test_get_version_fresh_domain_is_1),
		cmocka_unit_test(test_get_version_bad_domain_esrch),
		cmocka_unit_test(test_get_version_count_not_checked),
		cmocka_unit_test(test_get_version_other_domain_needs_privilege),
		cmocka_unit_test(test_set_version_invalid_einval_writes_back_current),
		cmocka_unit_test(test_set_version_same_version_is_noop),
		cmocka_unit_test(test_set_version_v2_and_back_on_x86),
		cmocka_unit_test(test_set_version_v2_on_arm_enosys),
		cmocka_unit_test(test_set_version_v2_with_machine_max_version_1_enosys),
		cmocka_unit_test(test_set_version_with_pinned_entry_ebusy),
		cmocka_unit_test(test_set_version_pinned_reserved_entry_does_not_block),
		cmocka_unit_test(test_set_version_preserves_reserved_entries_v1_v2_v1),
		cmocka_unit_test(test_set_version_clears_all_other_shared_entries),
		cmocka_unit_test(test_set_version_v2_to_v1_unrepresentable_reserved_entry_erange),
		cmocka_unit_test(test_set_version_count_not_checked),
		cmocka_unit_test(test_get_status_frames_v1_nonzero_general_error_list_untouched),
		cmocka_unit_test(test_get_status_frames_v1_zero_frames_okay),
		cmocka_unit_test(test_get_status_frames_v2_one_grant_frame_gives_one),
		cmocka_unit_test(test_get_status_frames_v2_count_is_ceil_grant_frames_over_8),
		cmocka_unit_test(test_get_status_frames_status_grows_with_table_after_switch),
		cmocka_unit_test(test_get_status_frames_count_not_one_einval),
		cmocka_unit_test(test_get_status_frames_bad_domain_and_permission),
		cmocka_unit_test(test_get_status_frames_frames_hold_the_live_status),
		cmocka_unit_test(test_get_status_frames_arm_is_answered_as_v1),
		cmocka_unit_test(test_swap_out_of_range_bad_gntref),
		cmocka_unit_test(test_swap_same_ref_is_okay_noop),
		cmocka_unit_test(test_swap_pinned_entry_eagain_nothing_changes),
		cmocka_unit_test(test_swap_v1_swaps_whole_entries),
		cmocka_unit_test(test_swap_v2_swaps_entries_and_status),
		cmocka_unit_test(test_swap_as_first_grant_op_of_fresh_domain),
		cmocka_unit_test(test_swap_batch_writes_each_status),
		cmocka_unit_test(test_cache_flush_bad_offset_or_length_einval),
		cmocka_unit_test(test_cache_flush_unknown_op_bits_einval),
		cmocka_unit_test(test_cache_flush_zero_length_or_op_is_noop),
		cmocka_unit_test(test_cache_flush_own_frames_ok),
		cmocka_unit_test(test_cache_flush_frame_mapped_from_other_domain_ok),
		cmocka_unit_test(test_cache_flush_foreign_frame_not_mapped_einval),
		cmocka_unit_test(test_cache_flush_frame_outside_machine_einval),
		cmocka_unit_test(test_unknown_cmd_enosys),
		cmocka_unit_test(test_dump_table_enosys),
		cmocka_unit_test(test_negative_count_einval),
		cmocka_unit_test(test_continuation_bits_in_cmd_refused),
		cmocka_unit_test(test_array_ops_with_count_zero_do_nothing),
		cmocka_unit_test(test_hvm_caller_pv_only_ops_enosys),
		cmocka_unit_test(test_hvm_caller_allowed_ops_pass_the_filter),
		cmocka_unit_test(test_cache_flush_answered_for_pv_and_arm),
		cmocka_unit_test(test_transfer_from_arm_eopnotsupp),
		cmocka_unit_test(test_unmap_and_replace_from_arm_is_answered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
