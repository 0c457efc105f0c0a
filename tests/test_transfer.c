/* SPDX-License-Identifier: MIT */
/*
 * GNTTABOP_transfer conformance: a PV domain hands one of its frames to a
 * domain that offered an accept-transfer entry (seed 001). Who may call it,
 * the entry protocol (GTF_transfer_committed/completed), Xen's statuses,
 * and the header's rule that the page is gone on any error but bad_page.
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#define ID_A    1	/* PV sender */
#define ID_B    2	/* receiver */
#define ID_C    3	/* bystander */
#define REF     12
#define REF2    13
#define PFN     5	/* the sender's page */
#define GFN     200	/* the receiver's freed page */
#define PAGE    4096
#define ST_UNSET ((int16_t)0x5a5a)

struct env {
	struct xgnt_machine *m;
	struct xgnt_domain *a, *b;
};

static void env_up(struct env *e, enum xgnt_domain_type btype)
{
	e->m = t_machine();
	e->a = t_domain(e->m, ID_A, XGNT_DOMAIN_PV, false);
	e->b = t_domain(e->m, ID_B, btype, false);
	t_gt_setup(e->b, 1);
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

/* The receiver balloons out RAM page pfn (XENMEM_decrease_reservation),
 * leaving room under max_pages for the frame it will accept. */
static void give_back_page(struct xgnt_domain *d, unsigned int pfn)
{
	xen_pfn_t extent = t_ram_frame(d, pfn);   /* gfn, or mfn for PV */
	struct xen_memory_reservation r = {
		.nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF,
	};

	set_xen_guest_handle(r.extent_start, &extent);
	assert_int_equal(xgnt_memory_op(t_v0(d), XENMEM_decrease_reservation, &r), 1);
}

static long transfer_rc(struct xgnt_domain *d, struct gnttab_transfer *op, unsigned int n)
{
	return xgnt_grant_table_op(t_v0(d), GNTTABOP_transfer, op, n);
}

static int16_t transfer1(struct xgnt_domain *d, xen_pfn_t mfn, domid_t to, grant_ref_t ref)
{
	struct gnttab_transfer op = { .mfn = mfn, .domid = to, .ref = ref, .status = ST_UNSET };

	assert_int_equal(transfer_rc(d, &op, 1), 0);
	return op.status;
}

static grant_ref_t nr_entries(struct xgnt_domain *d)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };

	assert_int_equal(xgnt_grant_table_op(t_v0(d), GNTTABOP_query_size, &q, 1), 0);
	assert_int_equal(q.status, GNTST_okay);
	return q.nr_frames * (t_gt_version(d) == 1 ? 512 : 256);
}

/* The sender no longer has pfn: no mfn in its list, its address faults. */
static void assert_sender_lost(struct xgnt_domain *a, unsigned int pfn)
{
	assert_true(xgnt_domain_pfn_to_mfn(a, pfn) == INVALID_MFN);
	assert_true(t_read_faults(t_ram_va(a, pfn)));
}

/* The sender still has pfn at mfn, with its data. */
static void assert_sender_kept(struct xgnt_domain *a, unsigned int pfn, xen_pfn_t mfn,
			       uint8_t seed)
{
	assert_true(xgnt_domain_pfn_to_mfn(a, pfn) == mfn);
	assert_true(is_fill(t_ram_va(a, pfn), PAGE, seed));
}

/*
 * A failed transfer whose status is not bad_page: the page is gone from
 * the sender and freed (free frames grow by one), the receiver got nothing.
 */
static void expect_lost(struct env *e, unsigned int pfn, domid_t to, grant_ref_t ref,
			int16_t want)
{
	xen_pfn_t mfn = xgnt_domain_pfn_to_mfn(e->a, pfn);
	uint32_t before = xgnt_machine_free_frames(e->m);

	assert_true(mfn != INVALID_MFN);
	fill(t_ram_va(e->a, pfn), PAGE, 40);
	assert_int_equal(transfer1(e->a, mfn, to, ref), want);
	assert_sender_lost(e->a, pfn);
	assert_int_equal(xgnt_machine_free_frames(e->m), before + 1);
}

/* ---- success ---- */

static void test_transfer_pv_to_hvm_moves_frame_and_data(void **state)
{
	struct env e;
	xen_pfn_t mfn;
	uint32_t before;
	uint8_t *at_b;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	give_back_page(e.b, GFN);
	at_b = xgnt_domain_va(e.b, (uint64_t)GFN << 12);
	assert_true(t_read_faults(at_b));
	t_grant_accept_transfer(e.b, REF, ID_A, GFN);

	mfn = xgnt_domain_pfn_to_mfn(e.a, PFN);
	assert_true(mfn != INVALID_MFN);
	fill(t_ram_va(e.a, PFN), PAGE, 17);
	before = xgnt_machine_free_frames(e.m);
	assert_int_equal(transfer1(e.a, mfn, ID_B, REF), GNTST_okay);

	assert_int_equal(t_entry_flags(e.b, REF),
			 GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed);
	/* A translated receiver's frame field is its gfn, not rewritten. */
	assert_int_equal(t_entry_frame(e.b, REF), GFN);
	assert_true(is_fill(at_b, PAGE, 17));
	at_b[0] = 0x99;                                 /* B owns it: writable */
	assert_int_equal(at_b[0], 0x99);
	assert_sender_lost(e.a, PFN);
	assert_int_equal(xgnt_machine_free_frames(e.m), before);  /* moved, not freed */
	/* The sender's other pages are untouched. */
	assert_true(xgnt_domain_pfn_to_mfn(e.a, PFN + 1) != INVALID_MFN);
	env_down(&e);
}

static void test_transfer_pv_to_pv_writes_mfn_into_frame_field(void **state)
{
	struct env e;
	xen_pfn_t mfn;
	uint8_t *at_b;

	(void)state;
	env_up(&e, XGNT_DOMAIN_PV);
	give_back_page(e.b, GFN);
	t_grant_accept_transfer(e.b, REF, ID_A, GFN);

	mfn = xgnt_domain_pfn_to_mfn(e.a, PFN);
	fill(t_ram_va(e.a, PFN), PAGE, 23);
	assert_int_equal(transfer1(e.a, mfn, ID_B, REF), GNTST_okay);

	assert_int_equal(t_entry_flags(e.b, REF),
			 GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed);
	assert_int_equal(t_entry_frame(e.b, REF), mfn);
	/* The frame is B's now: B may map it into its own address space. */
	assert_int_equal(xgnt_update_va_mapping(t_v0(e.b), (uint64_t)GFN << 12, mfn,
						XGNT_PROT_READ | XGNT_PROT_WRITE),
			 0);
	at_b = xgnt_domain_va(e.b, (uint64_t)GFN << 12);
	assert_true(is_fill(at_b, PAGE, 23));
	assert_sender_lost(e.a, PFN);
	/* ... and A may no longer. */
	assert_int_equal(xgnt_update_va_mapping(t_v0(e.a), (uint64_t)PFN << 12, mfn,
						XGNT_PROT_READ),
			 -EPERM);
	env_down(&e);
}

static void test_transfer_batch_of_two_completes_both(void **state)
{
	struct env e;
	struct gnttab_transfer ops[2];

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	give_back_page(e.b, GFN);
	give_back_page(e.b, GFN + 1);
	t_grant_accept_transfer(e.b, REF, ID_A, GFN);
	t_grant_accept_transfer(e.b, REF2, ID_A, GFN + 1);
	fill(t_ram_va(e.a, PFN), PAGE, 1);
	fill(t_ram_va(e.a, PFN + 1), PAGE, 2);
	ops[0] = (struct gnttab_transfer){
		.mfn = xgnt_domain_pfn_to_mfn(e.a, PFN), .domid = ID_B, .ref = REF,
		.status = ST_UNSET,
	};
	ops[1] = (struct gnttab_transfer){
		.mfn = xgnt_domain_pfn_to_mfn(e.a, PFN + 1), .domid = ID_B, .ref = REF2,
		.status = ST_UNSET,
	};
	assert_int_equal(transfer_rc(e.a, ops, 2), 0);
	assert_int_equal(ops[0].status, GNTST_okay);
	assert_int_equal(ops[1].status, GNTST_okay);
	assert_true(is_fill(xgnt_domain_va(e.b, (uint64_t)GFN << 12), PAGE, 1));
	assert_true(is_fill(xgnt_domain_va(e.b, (uint64_t)(GFN + 1) << 12), PAGE, 2));
	assert_sender_lost(e.a, PFN);
	assert_sender_lost(e.a, PFN + 1);
	env_down(&e);
}

/* ---- who may call it ---- */

static void not_pv_caller(enum xgnt_domain_type type, long want)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, ID_A, type, false);
	struct xgnt_domain *b = t_domain(m, ID_B, XGNT_DOMAIN_PV, false);
	struct gnttab_transfer op = {
		.mfn = t_ram_frame(a, PFN), .domid = ID_B, .ref = REF, .status = ST_UNSET,
	};
	uint32_t before;

	t_gt_setup(b, 1);
	give_back_page(b, GFN);
	t_grant_accept_transfer(b, REF, ID_A, GFN);
	fill(t_ram_va(a, PFN), PAGE, 5);
	before = xgnt_machine_free_frames(m);
	assert_int_equal(transfer_rc(a, &op, 1), want);
	assert_int_equal(op.status, ST_UNSET);
	assert_true(is_fill(t_ram_va(a, PFN), PAGE, 5));
	assert_int_equal(t_entry_flags(b, REF), GTF_accept_transfer);
	assert_int_equal(xgnt_machine_free_frames(m), before);
	xgnt_machine_destroy(m);
}

static void test_transfer_from_hvm_caller_is_enosys(void **state)
{
	(void)state;
	not_pv_caller(XGNT_DOMAIN_HVM, -ENOSYS);
}

static void test_transfer_from_arm_caller_is_eopnotsupp(void **state)
{
	(void)state;
	not_pv_caller(XGNT_DOMAIN_ARM, -EOPNOTSUPP);
}

/* ---- bad_page: the caller keeps its page ---- */

static void test_transfer_mfn_not_owned_is_bad_page_and_caller_loses_nothing(void **state)
{
	struct env e;
	struct xgnt_domain *c;
	xen_pfn_t bad[3];
	uint32_t before;
	unsigned int i, pfn;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	c = t_domain(e.m, ID_C, XGNT_DOMAIN_PV, false);
	give_back_page(e.b, GFN);
	t_grant_accept_transfer(e.b, REF, ID_A, GFN);
	fill(t_ram_va(c, 4), PAGE, 8);
	bad[0] = xgnt_domain_pfn_to_mfn(c, 4);          /* another domain's frame */
	bad[1] = 1u << 30;                              /* no such frame */
	bad[2] = xgnt_domain_shared_info_mfn(e.a);      /* A's, but Xen's heap */
	before = xgnt_machine_free_frames(e.m);

	for (i = 0; i < 3; i++)
		assert_int_equal(transfer1(e.a, bad[i], ID_B, REF), GNTST_bad_page);
	assert_int_equal(xgnt_machine_free_frames(e.m), before);
	assert_true(is_fill(t_ram_va(c, 4), PAGE, 8));
	assert_true(xgnt_domain_pfn_to_mfn(c, 4) == bad[0]);
	for (pfn = 0; pfn < 256; pfn++)
		assert_true(xgnt_domain_pfn_to_mfn(e.a, pfn) != INVALID_MFN);
	assert_int_equal(t_entry_flags(e.b, REF), GTF_accept_transfer);
	assert_true(t_read_faults(xgnt_domain_va(e.b, (uint64_t)GFN << 12)));

	/* The entry is still usable. */
	assert_int_equal(transfer1(e.a, xgnt_domain_pfn_to_mfn(e.a, PFN), ID_B, REF), GNTST_okay);
	env_down(&e);
}

static void test_transfer_frame_mapped_by_another_domain_is_bad_page_and_kept(void **state)
{
	struct env e;
	struct xgnt_domain *c;
	grant_handle_t h;
	xen_pfn_t mfn;
	uint64_t addr;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	c = t_domain(e.m, ID_C, XGNT_DOMAIN_HVM, false);
	t_gt_setup(e.a, 1);
	give_back_page(e.b, GFN);
	t_grant_accept_transfer(e.b, REF, ID_A, GFN);
	mfn = xgnt_domain_pfn_to_mfn(e.a, PFN);
	fill(t_ram_va(e.a, PFN), PAGE, 11);
	t_grant(e.a, 9, ID_C, mfn, true);
	addr = t_ext_addr(c, 0);
	assert_int_equal(t_map(c, ID_A, 9, GNTMAP_host_map | GNTMAP_readonly, addr, &h),
			 GNTST_okay);

	assert_int_equal(transfer1(e.a, mfn, ID_B, REF), GNTST_bad_page);
	assert_sender_kept(e.a, PFN, mfn, 11);
	assert_true(is_fill(xgnt_domain_va(c, addr), PAGE, 11));
	assert_int_equal(t_entry_flags(e.b, REF), GTF_accept_transfer);

	/* Once the mapping is gone the same frame transfers. */
	assert_int_equal(t_unmap(c, h, addr, 0), GNTST_okay);
	t_ungrant(e.a, 9);
	assert_int_equal(transfer1(e.a, mfn, ID_B, REF), GNTST_okay);
	assert_true(is_fill(xgnt_domain_va(e.b, (uint64_t)GFN << 12), PAGE, 11));
	assert_sender_lost(e.a, PFN);
	env_down(&e);
}

/* ---- other errors: the page is gone from the caller ---- */

static void test_transfer_to_missing_domain_is_bad_domain_and_page_is_freed(void **state)
{
	struct env e;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	expect_lost(&e, PFN, 77, REF, GNTST_bad_domain);
	/* A destroyed receiver is missing too. */
	assert_int_equal(xgnt_domain_destroy(e.b), 0);
	expect_lost(&e, PFN + 1, ID_B, REF, GNTST_bad_domain);
	env_down(&e);
}

static void test_transfer_entry_not_exactly_accept_transfer_is_general_error(void **state)
{
	static const uint16_t bad_flags[] = {
		0,
		GTF_permit_access,
		GTF_accept_transfer | GTF_transfer_committed,
		GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed,
		GTF_accept_transfer | GTF_readonly,
	};
	struct env e;
	unsigned int i;
	uint8_t *at_b;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	give_back_page(e.b, GFN);
	at_b = xgnt_domain_va(e.b, (uint64_t)GFN << 12);
	for (i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		t_grant_flags(e.b, REF, ID_A, GFN, bad_flags[i]);
		expect_lost(&e, PFN + i, ID_B, REF, GNTST_general_error);
		assert_int_equal(t_entry_flags(e.b, REF), bad_flags[i]);
		assert_true(t_read_faults(at_b));
	}
	/* The receiver's reservation was not consumed by the failures. */
	t_grant_accept_transfer(e.b, REF, ID_A, GFN);
	fill(t_ram_va(e.a, 100), PAGE, 3);
	assert_int_equal(transfer1(e.a, xgnt_domain_pfn_to_mfn(e.a, 100), ID_B, REF), GNTST_okay);
	assert_true(is_fill(at_b, PAGE, 3));
	env_down(&e);
}

static void test_transfer_entry_for_other_domid_is_general_error(void **state)
{
	struct env e;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	give_back_page(e.b, GFN);
	t_grant_accept_transfer(e.b, REF, ID_C, GFN);
	expect_lost(&e, PFN, ID_B, REF, GNTST_general_error);
	assert_int_equal(t_entry_flags(e.b, REF), GTF_accept_transfer);
	assert_true(t_read_faults(xgnt_domain_va(e.b, (uint64_t)GFN << 12)));
	env_down(&e);
}

static void test_transfer_ref_out_of_range_is_general_error(void **state)
{
	struct env e;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	give_back_page(e.b, GFN);
	expect_lost(&e, PFN, ID_B, nr_entries(e.b), GNTST_general_error);
	expect_lost(&e, PFN + 1, ID_B, 0xffffffffu, GNTST_general_error);
	env_down(&e);
}

static void test_transfer_to_receiver_at_max_pages_is_general_error(void **state)
{
	struct env e;

	(void)state;
	env_up(&e, XGNT_DOMAIN_HVM);
	/* B did not free a page first: it is at max_pages. */
	fill(t_ram_va(e.b, GFN), PAGE, 61);
	t_grant_accept_transfer(e.b, REF, ID_A, GFN);
	expect_lost(&e, PFN, ID_B, REF, GNTST_general_error);
	/* Checked before the entry is claimed: it is untouched, and B's own
	 * page at that gfn is still B's. */
	assert_int_equal(t_entry_flags(e.b, REF), GTF_accept_transfer);
	assert_true(is_fill(t_ram_va(e.b, GFN), PAGE, 61));
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transfer_pv_to_hvm_moves_frame_and_data),
		cmocka_unit_test(test_transfer_pv_to_pv_writes_mfn_into_frame_field),
		cmocka_unit_test(test_transfer_batch_of_two_completes_both),
		cmocka_unit_test(test_transfer_from_hvm_caller_is_enosys),
		cmocka_unit_test(test_transfer_from_arm_caller_is_eopnotsupp),
		cmocka_unit_test(test_transfer_mfn_not_owned_is_bad_page_and_caller_loses_nothing),
		cmocka_unit_test(test_transfer_frame_mapped_by_another_domain_is_bad_page_and_kept),
		cmocka_unit_test(test_transfer_to_missing_domain_is_bad_domain_and_page_is_freed),
		cmocka_unit_test(test_transfer_entry_not_exactly_accept_transfer_is_general_error),
		cmocka_unit_test(test_transfer_entry_for_other_domid_is_general_error),
		cmocka_unit_test(test_transfer_ref_out_of_range_is_general_error),
		cmocka_unit_test(test_transfer_to_receiver_at_max_pages_is_general_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
