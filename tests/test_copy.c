/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_copy conformance: Xen's per-op statuses in Xen's check order,
 * exact data movement, GTF_reading/GTF_writing bookkeeping (XSA-230),
 * sub-page and transitive grants (XSA-226), and pinned frames (XSA-500).
 */
#include "harness.h"

#include <string.h>

#define ID_A    1	/* granter */
#define ID_B    2	/* copier */
#define ID_C    3	/* third domain (transitive target) */
#define ID_D    4
#define REF     10
#define REF2    11
#define CREF    20
#define DREF    30
#define PAGE    4096
#define ST_UNSET ((int16_t)0x5a5a)
#define RW_BITS (GTF_reading | GTF_writing)

struct env {
	struct xgnt_machine *m;
	struct xgnt_domain *a, *b;
};

static void env_up(struct env *e, enum xgnt_domain_type atype, unsigned int aver,
		   enum xgnt_domain_type btype)
{
	e->m = t_machine();
	e->a = t_domain(e->m, ID_A, atype, false);
	e->b = t_domain(e->m, ID_B, btype, false);
	if (aver == 2)
		assert_int_equal(t_set_version(e->a, 2), 0);
	t_gt_setup(e->a, 1);
}

static void env_down(struct env *e)
{
	xgnt_machine_destroy(e->m);
}

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

static bool is_byte(const void *p, size_t n, uint8_t v)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

static struct gnttab_copy_ptr by_ref(domid_t dom, grant_ref_t ref, uint16_t off)
{
	struct gnttab_copy_ptr p = { .domid = dom, .offset = off };

	p.u.ref = ref;
	return p;
}

static struct gnttab_copy_ptr by_gmfn(domid_t dom, xen_pfn_t gmfn, uint16_t off)
{
	struct gnttab_copy_ptr p = { .domid = dom, .offset = off };

	p.u.gmfn = gmfn;
	return p;
}

/* The caller's own RAM page as a gmfn end (gfn, or mfn for PV). */
static struct gnttab_copy_ptr mine(struct xgnt_domain *d, unsigned int page, uint16_t off)
{
	return by_gmfn(DOMID_SELF, t_ram_frame(d, page), off);
}

/* One copy issued by d; the hypercall itself must succeed. */
static int16_t copy1(struct xgnt_domain *d, struct gnttab_copy_ptr src,
		     struct gnttab_copy_ptr dst, uint16_t len, uint16_t flags)
{
	struct gnttab_copy op = {
		.source = src, .dest = dst, .len = len, .flags = flags, .status = ST_UNSET,
	};

	assert_int_equal(xgnt_grant_table_op(t_v0(d), GNTTABOP_copy, &op, 1), 0);
	return op.status;
}

/* Entries in d's table, as GNTTABOP_query_size tells the guest. */
static grant_ref_t nr_entries(struct xgnt_domain *d)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };

	assert_int_equal(xgnt_grant_table_op(t_v0(d), GNTTABOP_query_size, &q, 1), 0);
	assert_int_equal(q.status, GNTST_okay);
	return q.nr_frames * (t_gt_version(d) == 1 ? 512 : 256);
}

/* The granter rewrites only the frame field of a live entry (flags kept). */
static void set_entry_frame(struct xgnt_domain *d, grant_ref_t ref, uint64_t frame)
{
	if (t_gt_version(d) == 1) {
		grant_entry_v1_t *e = (grant_entry_v1_t *)t_gt_frame_va(d, ref / 512) + ref % 512;

		__atomic_store_n(&e->frame, (uint32_t)frame, __ATOMIC_RELEASE);
	} else {
		grant_entry_v2_t *e = (grant_entry_v2_t *)t_gt_frame_va(d, ref / 256) + ref % 256;

		__atomic_store_n(&e->full_page.frame, frame, __ATOMIC_RELEASE);
	}
}

/* ---- statuses, in Xen's order (research b.6, real-xen-ground-truth) ---- */

static void test_copy_len_zero_is_okay_and_validates_nothing(void **state)
{
	struct env e;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	/* Every field is bad: unknown domain, huge ref, foreign gmfn end. */
	assert_int_equal(copy1(e.b, by_ref(777, 0xffffffffu, 4095),
			       by_gmfn(ID_A, ~(xen_pfn_t)0, 4095), 0, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_int_equal(copy1(e.b, by_gmfn(88, 12345, 0), by_ref(88, 1u << 30, 0), 0,
			       GNTCOPY_dest_gref),
			 GNTST_okay);
	env_down(&e);
}

static void test_copy_gmfn_end_with_domid_not_self_is_permission_denied(void **state)
{
	struct env e;
	uint8_t *own;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	fill(t_ram_va(e.a, 3), PAGE, 1);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), false);
	own = t_ram_va(e.b, 9);
	memset(own, 0xee, PAGE);

	/* The caller's own domid instead of DOMID_SELF on a gmfn end. */
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), by_gmfn(ID_B, t_ram_frame(e.b, 9), 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_permission_denied);
	assert_true(is_byte(own, PAGE, 0xee));
	/* Another domain's gmfn as a source. */
	assert_int_equal(copy1(e.b, by_gmfn(ID_A, t_ram_frame(e.a, 3), 0), by_ref(ID_A, REF, 0),
			       PAGE, GNTCOPY_dest_gref),
			 GNTST_permission_denied);
	/* Both ends gmfn, the source naming the granter. */
	assert_int_equal(copy1(e.b, by_gmfn(ID_A, t_ram_frame(e.a, 3), 0),
			       mine(e.b, 9, 0), PAGE, 0),
			 GNTST_permission_denied);
	assert_true(is_byte(own, PAGE, 0xee));
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, 0);
	env_down(&e);
}

static void test_copy_unknown_domain_is_bad_domain(void **state)
{
	struct env e;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	assert_int_equal(copy1(e.b, by_ref(88, REF, 0), mine(e.b, 9, 0), 64, GNTCOPY_source_gref),
			 GNTST_bad_domain);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(88, REF, 0), 64, GNTCOPY_dest_gref),
			 GNTST_bad_domain);
	env_down(&e);
}

/*
 * Real Xen 4.17 (tests/xen, scenario copy_gmfn_domain_checks_order):
 * both ends' domains are looked up first, and a gmfn end naming a domid
 * other than DOMID_SELF is refused only when that end is claimed, the
 * source before the destination.
 */
static void test_copy_domain_lookups_before_gmfn_domid_check(void **state)
{
	struct env e;
	uint8_t *own;

	(void)state;
	env_up(&e, XGNT_DOMAIN_PV, 1, XGNT_DOMAIN_PV);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), false);
	own = t_ram_va(e.b, 9);
	memset(own, 0xee, PAGE);
	/* gmfn end with an unknown domain: bad_domain, not permission_denied */
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), by_gmfn(88, t_ram_frame(e.b, 9), 0),
			       8, GNTCOPY_source_gref),
			 GNTST_bad_domain);
	assert_int_equal(copy1(e.b, by_gmfn(88, t_ram_frame(e.b, 9), 0), by_ref(ID_A, REF, 0),
			       8, GNTCOPY_dest_gref),
			 GNTST_bad_domain);
	/* the destination's lookup comes before the source's domid check */
	assert_int_equal(copy1(e.b, by_gmfn(ID_B, t_ram_frame(e.b, 9), 0),
			       by_ref(88, REF, 0), 8, GNTCOPY_dest_gref),
			 GNTST_bad_domain);
	assert_int_equal(copy1(e.b, by_gmfn(ID_B, t_ram_frame(e.b, 9), 0),
			       by_gmfn(88, t_ram_frame(e.b, 9), 0), 8, 0),
			 GNTST_bad_domain);
	/* the source is claimed before the destination's domid check */
	assert_int_equal(copy1(e.b, by_ref(ID_A, nr_entries(e.a), 0),
			       by_gmfn(ID_B, t_ram_frame(e.b, 9), 0), 8, GNTCOPY_source_gref),
			 GNTST_bad_gntref);
	/* the domid check before the frame's */
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), by_gmfn(ID_B, ~(xen_pfn_t)0 >> 28, 0),
			       8, GNTCOPY_source_gref),
			 GNTST_permission_denied);
	assert_true(is_byte(own, PAGE, 0xee));
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, 0);
	env_down(&e);
}

static void test_copy_ref_out_of_range_is_bad_gntref(void **state)
{
	struct env e;
	grant_ref_t n;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	n = nr_entries(e.a);
	assert_true(n > 0);
	assert_int_equal(copy1(e.b, by_ref(ID_A, n + 3, 0), mine(e.b, 9, 0),
			       64, GNTCOPY_source_gref),
			 GNTST_bad_gntref);
	assert_int_equal(copy1(e.b, by_ref(ID_A, n, 0), mine(e.b, 9, 0), 64, GNTCOPY_source_gref),
			 GNTST_bad_gntref);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0),
			       by_ref(ID_A, 0xffffffffu, 0), 64, GNTCOPY_dest_gref),
			 GNTST_bad_gntref);
	env_down(&e);
}

static void test_copy_entry_not_granted_to_caller_is_general_error(void **state)
{
	struct env e;
	struct xgnt_domain *c;
	uint8_t *own;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	c = t_domain(e.m, ID_C, XGNT_DOMAIN_HVM, false);
	assert_non_null(c);
	fill(t_ram_va(e.a, 3), PAGE, 1);
	own = t_ram_va(e.b, 9);
	memset(own, 0xee, PAGE);

	/* Granted to domain C, not to the copier B. */
	t_grant(e.a, REF, ID_C, t_ram_frame(e.a, 3), false);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_general_error);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(ID_A, REF, 0), PAGE, GNTCOPY_dest_gref),
			 GNTST_general_error);
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);
	/* An unused entry, and an accept-transfer entry, are not access grants. */
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF2, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_general_error);
	t_grant_accept_transfer(e.a, REF2, ID_B, 3);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF2, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_general_error);
	assert_true(is_byte(own, PAGE, 0xee));
	assert_true(is_fill(t_ram_va(e.a, 3), PAGE, 1));
	env_down(&e);
}

static void test_copy_into_readonly_grant_is_general_error_and_writes_nothing(void **state)
{
	struct env e;
	uint8_t *own;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	fill(t_ram_va(e.a, 3), PAGE, 1);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), true);
	own = t_ram_va(e.b, 9);
	fill(own, PAGE, 50);

	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(ID_A, REF, 0), PAGE, GNTCOPY_dest_gref),
			 GNTST_general_error);
	assert_true(is_fill(t_ram_va(e.a, 3), PAGE, 1));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access | GTF_readonly);
	/* Reading through the same read-only grant is fine. */
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_true(is_fill(own, PAGE, 1));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access | GTF_readonly);
	env_down(&e);
}

static void test_copy_offset_plus_len_beyond_page_is_bad_copy_arg(void **state)
{
	struct env e;
	uint8_t *own;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	fill(t_ram_va(e.a, 3), PAGE, 1);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), false);
	own = t_ram_va(e.b, 9);
	memset(own, 0xee, PAGE);

	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 4000), mine(e.b, 9, 0),
			       200, GNTCOPY_source_gref),
			 GNTST_bad_copy_arg);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 4000),
			       200, GNTCOPY_source_gref),
			 GNTST_bad_copy_arg);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(ID_A, REF, 4000),
			       200, GNTCOPY_dest_gref),
			 GNTST_bad_copy_arg);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 4096), mine(e.b, 9, 0),
			       1, GNTCOPY_source_gref),
			 GNTST_bad_copy_arg);
	assert_true(is_byte(own, PAGE, 0xee));
	assert_true(is_fill(t_ram_va(e.a, 3), PAGE, 1));
	/* The transient GTF_reading/GTF_writing of the failed ops is gone. */
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);

	/* Ending exactly at the page end is fine. */
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 3896), mine(e.b, 9, 3896),
			       200, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_memory_equal(own + 3896, (uint8_t *)t_ram_va(e.a, 3) + 3896, 200);
	assert_true(is_byte(own, 3896, 0xee));
	env_down(&e);
}

static void invalid_own_gmfn(enum xgnt_domain_type btype)
{
	struct env e;
	struct xgnt_domain *c;
	struct xgnt_domain_layout l;
	xen_pfn_t bad[3];
	unsigned int i, n = 0;

	env_up(&e, XGNT_DOMAIN_HVM, 1, btype);
	c = t_domain(e.m, ID_C, XGNT_DOMAIN_PV, false);
	fill(t_ram_va(e.a, 3), PAGE, 1);
	fill(t_ram_va(c, 4), PAGE, 2);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), false);
	xgnt_domain_layout(e.b, &l);
	if (btype == XGNT_DOMAIN_PV) {
		bad[n++] = 1u << 30;                              /* beyond the machine */
		bad[n++] = xgnt_domain_pfn_to_mfn(c, 4);          /* another domain's frame */
	} else {
		bad[n++] = t_ext_addr(e.b, 7) >> 12;              /* unpopulated gfn */
		bad[n++] = (l.ext_base + l.ext_size) >> 12;       /* beyond the domain */
		bad[n++] = (xen_pfn_t)1 << 40;
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), by_gmfn(DOMID_SELF, bad[i], 0),
				       PAGE, GNTCOPY_source_gref),
				 GNTST_bad_page);
		assert_int_equal(copy1(e.b, by_gmfn(DOMID_SELF, bad[i], 0), by_ref(ID_A, REF, 0),
				       PAGE, GNTCOPY_dest_gref),
				 GNTST_bad_page);
	}
	assert_true(is_fill(t_ram_va(e.a, 3), PAGE, 1));
	assert_true(is_fill(t_ram_va(c, 4), PAGE, 2));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);
	env_down(&e);
}

static void test_copy_invalid_gmfn_of_self_is_bad_page_hvm(void **state)
{
	(void)state;
	invalid_own_gmfn(XGNT_DOMAIN_HVM);
}

static void test_copy_invalid_gmfn_of_self_is_bad_page_pv(void **state)
{
	(void)state;
	invalid_own_gmfn(XGNT_DOMAIN_PV);
}

static void test_copy_invalid_gmfn_of_self_is_bad_page_arm(void **state)
{
	(void)state;
	invalid_own_gmfn(XGNT_DOMAIN_ARM);
}

/* ---- data movement ---- */

static void test_copy_gref_to_gref_moves_exactly_100_bytes_at_10_to_20(void **state)
{
	struct env e;
	uint8_t *src, *dst;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	src = t_ram_va(e.a, 3);
	dst = t_ram_va(e.a, 4);
	fill(src, PAGE, 1);
	memset(dst, 0xee, PAGE);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), true);
	t_grant(e.a, REF2, ID_B, t_ram_frame(e.a, 4), false);

	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 10), by_ref(ID_A, REF2, 20), 100,
			       GNTCOPY_source_gref | GNTCOPY_dest_gref),
			 GNTST_okay);
	assert_true(is_byte(dst, 20, 0xee));
	assert_memory_equal(dst + 20, src + 10, 100);
	assert_true(is_byte(dst + 120, PAGE - 120, 0xee));
	assert_true(is_fill(src, PAGE, 1));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access | GTF_readonly);
	assert_int_equal(t_entry_flags(e.a, REF2), GTF_permit_access);
	env_down(&e);
}

static void test_copy_batch_good_then_bad_ref_reports_each_status(void **state)
{
	struct env e;
	struct gnttab_copy ops[3];
	uint8_t *own;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	fill(t_ram_va(e.a, 3), PAGE, 1);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), false);
	own = t_ram_va(e.b, 9);
	memset(own, 0xee, PAGE);

	memset(ops, 0, sizeof(ops));
	ops[0] = (struct gnttab_copy){
		.source = by_ref(ID_A, REF, 0),
		.dest = mine(e.b, 9, 0),
		.len = 100, .flags = GNTCOPY_source_gref, .status = ST_UNSET,
	};
	ops[1] = ops[0];
	ops[1].source.u.ref = nr_entries(e.a) + 1;
	ops[1].dest.offset = 100;
	ops[2] = ops[0];
	ops[2].source.offset = 200;
	ops[2].dest.offset = 200;
	assert_int_equal(xgnt_grant_table_op(t_v0(e.b), GNTTABOP_copy, ops, 2), 0);
	assert_int_equal(ops[0].status, GNTST_okay);
	assert_int_equal(ops[1].status, GNTST_bad_gntref);
	assert_int_equal(ops[2].status, ST_UNSET);      /* beyond count: untouched */
	assert_memory_equal(own, t_ram_va(e.a, 3), 100);
	assert_true(is_byte(own + 100, PAGE - 100, 0xee));

	/* A failed op does not stop the batch. */
	ops[0].status = ops[1].status = ops[2].status = ST_UNSET;
	assert_int_equal(xgnt_grant_table_op(t_v0(e.b), GNTTABOP_copy, ops, 3), 0);
	assert_int_equal(ops[0].status, GNTST_okay);
	assert_int_equal(ops[1].status, GNTST_bad_gntref);
	assert_int_equal(ops[2].status, GNTST_okay);
	assert_memory_equal(own + 200, (uint8_t *)t_ram_va(e.a, 3) + 200, 100);
	assert_true(is_byte(own + 100, 100, 0xee));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);
	env_down(&e);
}

/* gref -> own gmfn and own gmfn -> gref, for every kind of caller. */
static void roundtrip(enum xgnt_domain_type atype, unsigned int aver, enum xgnt_domain_type btype)
{
	struct env e;
	uint8_t *theirs, *own;

	env_up(&e, atype, aver, btype);
	theirs = t_ram_va(e.a, 6);
	own = t_ram_va(e.b, 9);
	fill(theirs, PAGE, 3);
	memset(own, 0, PAGE);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 6), false);

	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_true(is_fill(own, PAGE, 3));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);

	fill(own, PAGE, 77);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 100), by_ref(ID_A, REF, 200),
			       300, GNTCOPY_dest_gref),
			 GNTST_okay);
	assert_memory_equal(theirs + 200, own + 100, 300);
	assert_true(is_fill(theirs, 200, 3));
	assert_true(is_fill(theirs + 500, PAGE - 500, (uint8_t)(3 + 500 * 7)));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);

	/* Both ends the caller's own frames. */
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), mine(e.b, 10, 0), PAGE, 0),
			 GNTST_okay);
	assert_true(is_fill(t_ram_va(e.b, 10), PAGE, 77));
	env_down(&e);
}

static void test_copy_between_gref_and_own_gmfn_hvm_caller(void **state)
{
	(void)state;
	roundtrip(XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
}

static void test_copy_between_gref_and_own_gmfn_pv_caller(void **state)
{
	(void)state;
	roundtrip(XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_PV);
}

static void test_copy_between_gref_and_own_gmfn_arm_caller(void **state)
{
	(void)state;
	roundtrip(XGNT_DOMAIN_ARM, 1, XGNT_DOMAIN_ARM);
}

static void test_copy_between_gref_and_own_gmfn_pv_granter(void **state)
{
	(void)state;
	roundtrip(XGNT_DOMAIN_PV, 1, XGNT_DOMAIN_HVM);
}

static void test_copy_between_gref_and_own_gmfn_v2_granter(void **state)
{
	(void)state;
	roundtrip(XGNT_DOMAIN_HVM, 2, XGNT_DOMAIN_PV);
}

/* ---- GTF_reading / GTF_writing ---- */

static void test_copy_leaves_no_reading_or_writing_flags(void **state)
{
	struct env e;
	unsigned int ver;

	(void)state;
	for (ver = 1; ver <= 2; ver++) {
		env_up(&e, XGNT_DOMAIN_HVM, ver, XGNT_DOMAIN_HVM);
		t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), false);
		assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0), PAGE,
				       GNTCOPY_source_gref),
				 GNTST_okay);
		assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);
		assert_int_equal(copy1(e.b, mine(e.b, 9, 0),
				       by_ref(ID_A, REF, 0), PAGE, GNTCOPY_dest_gref),
				 GNTST_okay);
		assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);
		assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), by_ref(ID_A, REF, 8), 16,
				       GNTCOPY_source_gref | GNTCOPY_dest_gref),
				 GNTST_okay);
		assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);
		env_down(&e);
	}
}

/* XSA-230 analogue: a copy's release must not clear what a mapping holds. */
static void test_copy_of_mapped_ref_keeps_reading_flag_xsa230(void **state)
{
	struct env e;
	grant_handle_t h;
	uint64_t addr;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM);
	addr = t_ext_addr(e.b, 0);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 3), false);

	/* A writable host mapping. */
	assert_int_equal(t_map(e.b, ID_A, REF, GNTMAP_host_map, addr, &h), GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, RW_BITS);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, RW_BITS);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(ID_A, REF, 0), PAGE, GNTCOPY_dest_gref),
			 GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, RW_BITS);
	assert_int_equal(t_unmap(e.b, h, addr, 0), GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);

	/* A read-only host mapping: a copy into the ref writes, then only
	 * GTF_writing goes; the mapping's GTF_reading stays. */
	assert_int_equal(t_map(e.b, ID_A, REF, GNTMAP_host_map | GNTMAP_readonly, addr, &h),
			 GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, GTF_reading);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, GTF_reading);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(ID_A, REF, 0), PAGE, GNTCOPY_dest_gref),
			 GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, GTF_reading);
	assert_int_equal(t_unmap(e.b, h, addr, 0), GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);
	env_down(&e);
}

/* ---- v2 sub-page grants ---- */

#define SP_OFF 256
#define SP_LEN 512

static void test_copy_sub_page_inside_window_works(void **state)
{
	struct env e;
	uint8_t *theirs, *own;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 2, XGNT_DOMAIN_HVM);
	theirs = t_ram_va(e.a, 7);
	own = t_ram_va(e.b, 9);
	fill(theirs, PAGE, 4);
	memset(own, 0, PAGE);
	t_grant_sub_page(e.a, REF, ID_B, t_ram_frame(e.a, 7), SP_OFF, SP_LEN, false);

	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, SP_OFF), mine(e.b, 9, 0),
			       SP_LEN, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_memory_equal(own, theirs + SP_OFF, SP_LEN);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 300), mine(e.b, 9, 1000),
			       100, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_memory_equal(own + 1000, theirs + 300, 100);

	memset(own, 0xab, PAGE);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(ID_A, REF, SP_OFF),
			       SP_LEN, GNTCOPY_dest_gref),
			 GNTST_okay);
	assert_true(is_byte(theirs + SP_OFF, SP_LEN, 0xab));
	assert_true(is_fill(theirs, SP_OFF, 4));
	assert_true(is_fill(theirs + SP_OFF + SP_LEN, PAGE - SP_OFF - SP_LEN,
			    (uint8_t)(4 + (SP_OFF + SP_LEN) * 7)));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access | GTF_sub_page);
	env_down(&e);
}

static void test_copy_sub_page_outside_window_is_general_error(void **state)
{
	static const struct { uint16_t off, len; } out[] = {
		{ 200, 100 },                 /* starts before */
		{ 700, 100 },                 /* ends after */
		{ 0, PAGE },                  /* the whole page */
		{ SP_OFF + SP_LEN, 1 },       /* just past the end */
		{ SP_OFF - 1, 1 },            /* just before the start */
	};
	struct env e;
	uint8_t *theirs, *own;
	size_t i;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 2, XGNT_DOMAIN_HVM);
	theirs = t_ram_va(e.a, 7);
	own = t_ram_va(e.b, 9);
	fill(theirs, PAGE, 4);
	t_grant_sub_page(e.a, REF, ID_B, t_ram_frame(e.a, 7), SP_OFF, SP_LEN, false);

	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		memset(own, 0xee, PAGE);
		assert_int_equal(copy1(e.b, by_ref(ID_A, REF, out[i].off), mine(e.b, 9, 0),
				       out[i].len, GNTCOPY_source_gref),
				 GNTST_general_error);
		assert_true(is_byte(own, PAGE, 0xee));
		assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(ID_A, REF, out[i].off),
				       out[i].len, GNTCOPY_dest_gref),
				 GNTST_general_error);
		assert_true(is_fill(theirs, PAGE, 4));
		assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access | GTF_sub_page);
	}
	env_down(&e);
}

static void test_map_of_sub_page_entry_is_general_error(void **state)
{
	struct env e;
	grant_handle_t h = 0x1234;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM, 2, XGNT_DOMAIN_HVM);
	t_grant_sub_page(e.a, REF, ID_B, t_ram_frame(e.a, 7), SP_OFF, SP_LEN, false);
	assert_int_equal(t_map(e.b, ID_A, REF, GNTMAP_host_map, t_ext_addr(e.b, 0), &h),
			 GNTST_general_error);
	assert_int_equal(t_map(e.b, ID_A, REF, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(e.b, 1), &h),
			 GNTST_general_error);
	assert_true(t_read_faults(xgnt_domain_va(e.b, t_ext_addr(e.b, 0))));
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access | GTF_sub_page);
	env_down(&e);
}

/* ---- v2 transitive grants: A grants B a ref that points at C's grant to A ---- */

struct trans_env {
	struct env e;
	struct xgnt_domain *c;
};

static void trans_up(struct trans_env *t, unsigned int cver, bool c_readonly)
{
	env_up(&t->e, XGNT_DOMAIN_HVM, 2, XGNT_DOMAIN_HVM);
	t->c = t_domain(t->e.m, ID_C, XGNT_DOMAIN_HVM, false);
	if (cver == 2)
		assert_int_equal(t_set_version(t->c, 2), 0);
	t_gt_setup(t->c, 1);
	fill(t_ram_va(t->c, 2), PAGE, 9);
	fill(t_ram_va(t->e.a, 2), PAGE, 33);   /* A's own page: never what B sees */
	t_grant(t->c, CREF, ID_A, t_ram_frame(t->c, 2), c_readonly);
	t_grant_transitive(t->e.a, REF, ID_B, ID_C, CREF);
}

static void transitive_read(unsigned int cver)
{
	struct trans_env t;
	uint8_t *own;

	trans_up(&t, cver, true);
	own = t_ram_va(t.e.b, 9);
	memset(own, 0, PAGE);
	assert_int_equal(copy1(t.e.b, by_ref(ID_A, REF, 0), mine(t.e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_true(is_fill(own, PAGE, 9));
	assert_int_equal(t_entry_flags(t.c, CREF), GTF_permit_access | GTF_readonly);
	assert_int_equal(t_entry_flags(t.e.a, REF), GTF_transitive);
	/* C's grant is read-only: writing through the transitive ref fails. */
	assert_int_equal(copy1(t.e.b, mine(t.e.b, 9, 0), by_ref(ID_A, REF, 0),
			       16, GNTCOPY_dest_gref),
			 GNTST_general_error);
	assert_true(is_fill(t_ram_va(t.c, 2), PAGE, 9));
	assert_int_equal(t_entry_flags(t.c, CREF), GTF_permit_access | GTF_readonly);
	assert_int_equal(t_entry_flags(t.e.a, REF), GTF_transitive);
	env_down(&t.e);
}

static void test_copy_from_transitive_ref_reads_third_domain_v1_target(void **state)
{
	(void)state;
	transitive_read(1);
}

static void test_copy_from_transitive_ref_reads_third_domain_v2_target(void **state)
{
	(void)state;
	transitive_read(2);
}

static void test_copy_into_transitive_ref_writes_third_domain(void **state)
{
	struct trans_env t;
	uint8_t *own;

	(void)state;
	trans_up(&t, 1, false);
	own = t_ram_va(t.e.b, 9);
	memset(own, 0x5c, PAGE);
	assert_int_equal(copy1(t.e.b, mine(t.e.b, 9, 0), by_ref(ID_A, REF, 64),
			       128, GNTCOPY_dest_gref),
			 GNTST_okay);
	assert_true(is_byte((uint8_t *)t_ram_va(t.c, 2) + 64, 128, 0x5c));
	assert_true(is_fill(t_ram_va(t.c, 2), 64, 9));
	assert_true(is_fill(t_ram_va(t.e.a, 2), PAGE, 33));
	assert_int_equal(t_entry_flags(t.c, CREF), GTF_permit_access);
	assert_int_equal(t_entry_flags(t.e.a, REF), GTF_transitive);
	env_down(&t.e);
}

static void test_map_of_transitive_ref_is_general_error(void **state)
{
	struct trans_env t;
	grant_handle_t h;

	(void)state;
	trans_up(&t, 1, false);
	assert_int_equal(t_map(t.e.b, ID_A, REF, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(t.e.b, 0), &h),
			 GNTST_general_error);
	assert_int_equal(t_entry_flags(t.c, CREF), GTF_permit_access);
	env_down(&t.e);
}

static void expect_transitive_failure(struct trans_env *t)
{
	uint8_t *own = t_ram_va(t->e.b, 9);

	memset(own, 0xee, PAGE);
	assert_int_equal(copy1(t->e.b, by_ref(ID_A, REF, 0), mine(t->e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_general_error);
	assert_true(is_byte(own, PAGE, 0xee));
	assert_int_equal(t_entry_flags(t->e.a, REF) & RW_BITS, 0);
}

static void test_copy_self_referential_transitive_is_general_error(void **state)
{
	struct trans_env t;

	(void)state;
	trans_up(&t, 1, false);
	/* A's ref names A itself: at the same ref, and at a plain grant to A. */
	t_grant_transitive(t.e.a, REF, ID_B, ID_A, REF);
	expect_transitive_failure(&t);
	t_grant(t.e.a, REF2, ID_A, t_ram_frame(t.e.a, 2), false);
	t_grant_transitive(t.e.a, REF, ID_B, ID_A, REF2);
	expect_transitive_failure(&t);
	assert_int_equal(t_entry_flags(t.e.a, REF2), GTF_permit_access);
	env_down(&t.e);
}

static void test_copy_nested_transitive_is_general_error(void **state)
{
	struct trans_env t;
	struct xgnt_domain *d;

	(void)state;
	trans_up(&t, 2, false);
	d = t_domain(t.e.m, ID_D, XGNT_DOMAIN_HVM, false);
	t_gt_setup(d, 1);
	fill(t_ram_va(d, 1), PAGE, 21);
	t_grant(d, DREF, ID_C, t_ram_frame(d, 1), false);
	/* C's ref, which A's ref points at, is itself transitive (C -> D). */
	t_grant_transitive(t.c, CREF, ID_A, ID_D, DREF);
	expect_transitive_failure(&t);
	assert_int_equal(t_entry_flags(t.c, CREF), GTF_transitive);
	assert_int_equal(t_entry_flags(d, DREF), GTF_permit_access);
	env_down(&t.e);
}

static void test_copy_transitive_bad_domain_or_grantee_is_general_error(void **state)
{
	struct trans_env t;

	(void)state;
	trans_up(&t, 1, false);
	t_grant_transitive(t.e.a, REF, ID_B, 77, CREF);
	expect_transitive_failure(&t);
	/* C's entry is granted to B, not to A. */
	t_grant(t.c, CREF, ID_B, t_ram_frame(t.c, 2), false);
	t_grant_transitive(t.e.a, REF, ID_B, ID_C, CREF);
	expect_transitive_failure(&t);
	assert_int_equal(t_entry_flags(t.c, CREF), GTF_permit_access);
	env_down(&t.e);
}

/* ---- XSA-500: a pinned entry's frame is the pinned one ---- */

static void pinned_frame(unsigned int aver)
{
	struct env e;
	grant_handle_t h;
	uint64_t addr;
	uint8_t *p1, *p2, *own, *mapped;

	env_up(&e, XGNT_DOMAIN_HVM, aver, XGNT_DOMAIN_HVM);
	addr = t_ext_addr(e.b, 0);
	p1 = t_ram_va(e.a, 1);
	p2 = t_ram_va(e.a, 2);
	own = t_ram_va(e.b, 9);
	fill(p1, PAGE, 1);
	fill(p2, PAGE, 2);
	t_grant(e.a, REF, ID_B, t_ram_frame(e.a, 1), false);
	assert_int_equal(t_map(e.b, ID_A, REF, GNTMAP_host_map, addr, &h), GNTST_okay);
	mapped = xgnt_domain_va(e.b, addr);

	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_true(is_fill(own, PAGE, 1));

	/* The granter points the pinned entry at another of its frames. */
	set_entry_frame(e.a, REF, t_ram_frame(e.a, 2));
	memset(own, 0, PAGE);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_true(is_fill(own, PAGE, 1));
	memset(own, 0xc3, 64);
	assert_int_equal(copy1(e.b, mine(e.b, 9, 0), by_ref(ID_A, REF, 0), 64, GNTCOPY_dest_gref),
			 GNTST_okay);
	assert_true(is_byte(p1, 64, 0xc3));
	assert_true(is_fill(p2, PAGE, 2));
	assert_true(is_byte(mapped, 64, 0xc3));   /* the mapping shows the same frame */
	assert_int_equal(t_entry_flags(e.a, REF) & RW_BITS, RW_BITS);

	/* Once nothing pins it, the entry is read afresh. */
	assert_int_equal(t_unmap(e.b, h, addr, 0), GNTST_okay);
	assert_int_equal(t_entry_flags(e.a, REF), GTF_permit_access);
	assert_int_equal(copy1(e.b, by_ref(ID_A, REF, 0), mine(e.b, 9, 0),
			       PAGE, GNTCOPY_source_gref),
			 GNTST_okay);
	assert_true(is_fill(own, PAGE, 2));
	env_down(&e);
}

static void test_copy_pinned_ref_keeps_pinned_frame_after_rewrite_xsa500_v1(void **state)
{
	(void)state;
	pinned_frame(1);
}

static void test_copy_pinned_ref_keeps_pinned_frame_after_rewrite_xsa500_v2(void **state)
{
	(void)state;
	pinned_frame(2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_len_zero_is_okay_and_validates_nothing),
		cmocka_unit_test(test_copy_gmfn_end_with_domid_not_self_is_permission_denied),
		cmocka_unit_test(test_copy_unknown_domain_is_bad_domain),
		cmocka_unit_test(test_copy_domain_lookups_before_gmfn_domid_check),
		cmocka_unit_test(test_copy_ref_out_of_range_is_bad_gntref),
		cmocka_unit_test(test_copy_entry_not_granted_to_caller_is_general_error),
		cmocka_unit_test(test_copy_into_readonly_grant_is_general_error_and_writes_nothing),
		cmocka_unit_test(test_copy_offset_plus_len_beyond_page_is_bad_copy_arg),
		cmocka_unit_test(test_copy_invalid_gmfn_of_self_is_bad_page_hvm),
		cmocka_unit_test(test_copy_invalid_gmfn_of_self_is_bad_page_pv),
		cmocka_unit_test(test_copy_invalid_gmfn_of_self_is_bad_page_arm),
		cmocka_unit_test(test_copy_gref_to_gref_moves_exactly_100_bytes_at_10_to_20),
		cmocka_unit_test(test_copy_batch_good_then_bad_ref_reports_each_status),
		cmocka_unit_test(test_copy_between_gref_and_own_gmfn_hvm_caller),
		cmocka_unit_test(test_copy_between_gref_and_own_gmfn_pv_caller),
		cmocka_unit_test(test_copy_between_gref_and_own_gmfn_arm_caller),
		cmocka_unit_test(test_copy_between_gref_and_own_gmfn_pv_granter),
		cmocka_unit_test(test_copy_between_gref_and_own_gmfn_v2_granter),
		cmocka_unit_test(test_copy_leaves_no_reading_or_writing_flags),
		cmocka_unit_test(test_copy_of_mapped_ref_keeps_reading_flag_xsa230),
		cmocka_unit_test(test_copy_sub_page_inside_window_works),
		cmocka_unit_test(test_copy_sub_page_outside_window_is_general_error),
		cmocka_unit_test(test_map_of_sub_page_entry_is_general_error),
		cmocka_unit_test(test_copy_from_transitive_ref_reads_third_domain_v1_target),
		cmocka_unit_test(test_copy_from_transitive_ref_reads_third_domain_v2_target),
		cmocka_unit_test(test_copy_into_transitive_ref_writes_third_domain),
		cmocka_unit_test(test_map_of_transitive_ref_is_general_error),
		cmocka_unit_test(test_copy_self_referential_transitive_is_general_error),
		cmocka_unit_test(test_copy_nested_transitive_is_general_error),
		cmocka_unit_test(test_copy_transitive_bad_domain_or_grantee_is_general_error),
		cmocka_unit_test(test_copy_pinned_ref_keeps_pinned_frame_after_rewrite_xsa500_v1),
		cmocka_unit_test(test_copy_pinned_ref_keeps_pinned_frame_after_rewrite_xsa500_v2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
