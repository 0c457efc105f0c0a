/* SPDX-License-Identifier: MIT */
/*
 * The Mini-OS / FreeRTOS-Xen entry points (<xgnt/minios/gnttab.h>):
 * init_gnttab / fini_gnttab, gnttab_grant_transfer / gnttab_end_transfer
 * (a PV domain hands a page to a translated one), gnttab_map_ref.
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#include <xgnt/guest.h>
#include <xgnt/minios/gnttab.h>

#define ID_A    1	/* granter / receiver */
#define ID_B    2	/* mapper / PV sender */
#define PAGE    4096

struct env {
	struct xgnt_machine *m;
	struct xgnt_domain *da, *db;
	struct xgnt_guest *a, *b;
};

static void env_up_cfg(struct env *e, enum xgnt_domain_type ta, enum xgnt_domain_type tb,
		       uint32_t max_grant_frames)
{
	memset(e, 0, sizeof(*e));
	e->m = t_machine_cfg(16384, max_grant_frames, 0, 0);
	e->da = t_domain(e->m, ID_A, ta, false);
	e->db = t_domain(e->m, ID_B, tb, false);
	e->a = xgnt_guest_create_inproc(e->da);
	e->b = xgnt_guest_create_inproc(e->db);
	assert_non_null(e->a);
	assert_non_null(e->b);
}

static void env_down(struct env *e)
{
	xgnt_guest_bind(NULL, 0);
	xgnt_guest_destroy(e->b);
	xgnt_guest_destroy(e->a);
	xgnt_machine_destroy(e->m);
}

static void as(struct xgnt_guest *g)
{
	assert_int_equal(xgnt_guest_bind(g, 0), 0);
}

static void fill(void *p, size_t n, uint8_t seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 5);
}

static bool is_fill(const void *p, size_t n, uint8_t seed)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)(seed + i * 5))
			return false;
	return true;
}

/* ---- init / fini ---- */

static void test_init_fini(void **state)
{
	struct env e;
	grant_ref_t ref;
	void *p;

	(void)state;
	/* Unbound: nothing happens, nothing breaks. */
	xgnt_guest_bind(NULL, 0);
	init_gnttab();
	fini_gnttab();
	assert_true(gnttab_grant_transfer(ID_B, 5) == GNTTAB_INVAL_GREF);
	assert_int_equal(gnttab_end_transfer(8), 0);
	assert_int_equal(gnttab_map_ref(ID_A, 8, 5), -EINVAL);

	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 0);
	as(e.a);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 0);
	init_gnttab();
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 1);
	assert_int_equal(xgnt_gnttab_version(e.a), 1);
	init_gnttab();                      /* again: harmless */
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 1);
	p = xgnt_page_alloc(e.a, 1);
	ref = gnttab_grant_access(ID_B, xen_virt_to_gfn(p), false);
	assert_true(ref != GNTTAB_INVAL_GREF);
	/* The grants of a guest outlive fini_gnttab (Mini-OS's shutdown call). */
	fini_gnttab();
	assert_int_equal(gnttab_end_access(ref), 0);
	xgnt_page_free(e.a, p, 1);
	/* The other guest was never set up: fini is harmless there too. */
	as(e.b);
	fini_gnttab();
	env_down(&e);
}

/* ---- transfer ---- */

static xen_pfn_t balloon_out_one(struct xgnt_guest *g, void **page)
{
	struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
	xen_pfn_t extent;

	*page = xgnt_page_alloc(g, 1);
	assert_non_null(*page);
	extent = xgnt_guest_frame(g, *page);
	set_xen_guest_handle(r.extent_start, &extent);
	assert_int_equal(xgnt_hyp_memory_op(g, XENMEM_decrease_reservation, &r), 1);
	return (xen_pfn_t)(xgnt_guest_addr(g, *page) >> 12);
}

static int16_t send_page(struct xgnt_guest *pv, void *page, domid_t to, grant_ref_t ref)
{
	struct gnttab_transfer op = {
		.mfn = xgnt_guest_frame(pv, page), .domid = to, .ref = ref, .status = 1,
	};

	assert_int_equal(xgnt_hyp_grant_table_op(pv, GNTTABOP_transfer, &op, 1), 0);
	return op.status;
}

static void test_grant_transfer_end_transfer_pv_to_hvm(void **state)
{
	struct env e;
	grant_ref_t ref, again;
	xen_pfn_t pfn;
	void *page, *src;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, 1);
	as(e.a);
	init_gnttab();
	pfn = balloon_out_one(e.a, &page);
	ref = gnttab_grant_transfer(ID_B, pfn);
	assert_true(ref != GNTTAB_INVAL_GREF);
	assert_true(ref >= GNTTAB_NR_RESERVED_ENTRIES);

	as(e.b);
	src = xgnt_page_alloc(e.b, 1);
	fill(src, PAGE, 61);
	assert_int_equal(send_page(e.b, src, ID_A, ref), GNTST_okay);

	as(e.a);
	assert_int_equal(gnttab_end_transfer(ref), pfn);
	assert_true(is_fill(page, PAGE, 61));
	/* The reference was freed: with a one-frame table, the whole table
	 * can be granted again, ref among them. */
	again = GNTTAB_INVAL_GREF;
	for (unsigned int i = 0; i < 512 - GNTTAB_NR_RESERVED_ENTRIES; i++) {
		grant_ref_t r = gnttab_grant_access(ID_B, 0, true);

		assert_true(r != GNTTAB_INVAL_GREF);
		if (r == ref)
			again = r;
	}
	assert_int_equal(again, ref);
	/* And now it is full: at once, no waiting for an entry. */
	assert_true(gnttab_grant_transfer(ID_B, pfn) == GNTTAB_INVAL_GREF);
	xgnt_page_free(e.a, page, 1);
	env_down(&e);
}

static void test_end_transfer_without_transfer_is_zero(void **state)
{
	struct env e;
	grant_ref_t ref, ref2;
	xen_pfn_t pfn;
	void *page;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, 0);
	as(e.a);
	init_gnttab();
	pfn = balloon_out_one(e.a, &page);
	ref = gnttab_grant_transfer(ID_B, pfn);
	assert_true(ref != GNTTAB_INVAL_GREF);
	assert_int_equal(gnttab_end_transfer(ref), 0);
	/* Freed and reusable. */
	ref2 = gnttab_grant_transfer(ID_B, pfn);
	assert_true(ref2 != GNTTAB_INVAL_GREF);
	assert_int_equal(gnttab_end_transfer(ref2), 0);
	env_down(&e);
}

static void test_grant_transfer_pv_receiver_gets_mfn(void **state)
{
	struct env e;
	grant_ref_t ref;
	xen_pfn_t pfn;
	unsigned long mfn;
	void *page, *src;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV, 0);
	as(e.a);
	init_gnttab();
	pfn = balloon_out_one(e.a, &page);
	ref = gnttab_grant_transfer(ID_B, pfn);
	as(e.b);
	src = xgnt_page_alloc(e.b, 1);
	fill(src, PAGE, 3);
	assert_int_equal(send_page(e.b, src, ID_A, ref), GNTST_okay);
	as(e.a);
	mfn = gnttab_end_transfer(ref);
	assert_true(mfn != 0 && mfn != (unsigned long)INVALID_MFN);
	assert_int_equal(xgnt_update_va_mapping(xgnt_domain_vcpu(e.da, 0),
						(uint64_t)pfn << 12, mfn,
						XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	assert_true(is_fill(page, PAGE, 3));
	env_down(&e);
}

/* ---- gnttab_map_ref ---- */

static void test_map_ref(void **state)
{
	struct gnttab_unmap_grant_ref u;
	grant_handle_t h = 0xdead;
	struct env e;
	uint8_t *src, *dst;
	grant_ref_t ref, ro;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 0);
	as(e.a);
	init_gnttab();
	src = xgnt_page_alloc(e.a, 1);
	fill(src, PAGE, 42);
	ref = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
	ro = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), true);

	as(e.b);
	dst = gnttab_get_pages(3);
	assert_non_null(dst);
	/* FreeRTOS-Xen's call: the frame to map at; 0 when mapped. */
	assert_int_equal(gnttab_map_ref(ID_A, ref, xen_virt_to_gfn(dst)), 0);
	assert_true(is_fill(dst, PAGE, 42));
	dst[1] = 0x55;
	assert_int_equal(src[1], 0x55);
	/* The same, keeping the handle, so it can be unmapped. */
	assert_int_equal(gnttab_map_ref_handle(ID_A, ref, xen_virt_to_gfn(dst + PAGE), &h), 0);
	assert_true(h != 0xdead);
	u = (struct gnttab_unmap_grant_ref){ .host_addr = (uintptr_t)(dst + PAGE), .handle = h };
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);
	assert_int_equal(u.status, GNTST_okay);
	/* Errors are the op's GNTST_* status. */
	assert_int_equal(gnttab_map_ref(ID_A, 3000, xen_virt_to_gfn(dst + PAGE)),
			 GNTST_bad_gntref);
	assert_int_equal(gnttab_map_ref(99, ref, xen_virt_to_gfn(dst + PAGE)), GNTST_bad_domain);
	/* It maps writable: a read-only grant is refused. */
	assert_int_equal(gnttab_map_ref(ID_A, ro, xen_virt_to_gfn(dst + 2 * PAGE)),
			 GNTST_general_error);

	/* The first mapping has no handle: the granter cannot end it. */
	as(e.a);
	assert_int_equal(gnttab_end_access(ref), -EBUSY);
	assert_int_equal(gnttab_end_access(ro), 0);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_fini),
		cmocka_unit_test(test_grant_transfer_end_transfer_pv_to_hvm),
		cmocka_unit_test(test_end_transfer_without_transfer_is_zero),
		cmocka_unit_test(test_grant_transfer_pv_receiver_gets_mfn),
		cmocka_unit_test(test_map_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
