/* SPDX-License-Identifier: MIT */
/*
 * Linux's grant-reference API (<xgnt/linux/grant_table.h>): the private
 * reserve (alloc, claim until -ENOSPC, release, free), query and end of
 * foreign access (1 ended / 0 busy), deferred end, transfer end to end from
 * a PV domain to a translated one, and free callbacks.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <xgnt/guest.h>
#include <xgnt/linux/grant_table.h>

#define ID_A    1	/* granter / receiver */
#define ID_B    2	/* mapper / PV sender */
#define PAGE    4096
#define USABLE_1 (512 - GNTTAB_NR_RESERVED_ENTRIES)   /* one v1 frame */

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
		b[i] = (uint8_t)(seed + i * 11);
}

static bool is_fill(const void *p, size_t n, uint8_t seed)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)(seed + i * 11))
			return false;
	return true;
}

/* The mapper's side, written against the guest library directly. */
static int16_t map1(struct xgnt_guest *g, void *at, domid_t dom, grant_ref_t ref,
		    grant_handle_t *h)
{
	struct gnttab_map_grant_ref op = {
		.host_addr = xgnt_guest_addr(g, at), .flags = GNTMAP_host_map,
		.ref = ref, .dom = dom,
	};

	assert_int_equal(xgnt_map_refs(g, &op, 1), 0);
	*h = op.handle;
	return op.status;
}

static void unmap1(struct xgnt_guest *g, void *at, grant_handle_t h)
{
	struct gnttab_unmap_grant_ref op = { .host_addr = xgnt_guest_addr(g, at), .handle = h };

	assert_int_equal(xgnt_unmap_refs(g, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
}

/* ---- no guest bound ---- */

static void test_unbound_thread(void **state)
{
	struct gnttab_free_callback cb = { 0 };
	grant_ref_t head = 0;

	(void)state;
	xgnt_guest_bind(NULL, 0);
	assert_int_equal(gnttab_grant_foreign_access(ID_B, 1, 0), -EINVAL);
	assert_int_equal(gnttab_grant_foreign_transfer(ID_B, 1), -EINVAL);
	assert_int_equal(gnttab_alloc_grant_references(4, &head), -EINVAL);
	assert_int_equal(gnttab_claim_grant_reference(&head), -EINVAL);
	assert_int_equal(gnttab_query_foreign_access(8), 0);
	assert_int_equal(gnttab_end_foreign_access_ref(8), 0);
	assert_int_equal(gnttab_try_end_foreign_access(8), 0);
	assert_int_equal(gnttab_end_foreign_transfer_ref(8), 0);
	assert_int_equal(gnttab_end_foreign_transfer(8), 0);
	assert_int_equal(gnttab_max_grant_frames(), 0);
	gnttab_grant_foreign_access_ref(8, ID_B, 1, 0);
	gnttab_grant_foreign_transfer_ref(8, ID_B, 1);
	gnttab_release_grant_reference(&head, 8);
	gnttab_free_grant_reference(8);
	gnttab_free_grant_references(8);
	gnttab_end_foreign_access(8, NULL);
	gnttab_request_free_callback(&cb, NULL, NULL, 1);
	gnttab_cancel_free_callback(&cb);
}

/* ---- the private reserve ---- */

static void test_reserve_alloc_claim_release_free(void **state)
{
	enum { N = 10 };
	grant_ref_t head, refs[N];
	struct env e;
	int r;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 1);
	as(e.a);
	assert_int_equal(gnttab_alloc_grant_references(N, &head), 0);
	assert_int_equal(gnttab_empty_grant_references(&head), 0);
	for (int i = 0; i < N; i++) {
		r = gnttab_claim_grant_reference(&head);
		assert_true(r >= GNTTAB_NR_RESERVED_ENTRIES);
		refs[i] = (grant_ref_t)r;
		for (int j = 0; j < i; j++)
			assert_true(refs[j] != refs[i]);
	}
	assert_int_equal(gnttab_claim_grant_reference(&head), -ENOSPC);
	assert_int_equal(gnttab_claim_grant_reference(&head), -ENOSPC);
	assert_int_equal(gnttab_empty_grant_references(&head), 1);

	/* Released references come back, last released first (Linux's list). */
	gnttab_release_grant_reference(&head, refs[3]);
	gnttab_release_grant_reference(&head, refs[7]);
	assert_int_equal(gnttab_empty_grant_references(&head), 0);
	assert_int_equal(gnttab_claim_grant_reference(&head), refs[7]);
	assert_int_equal(gnttab_claim_grant_reference(&head), refs[3]);
	assert_int_equal(gnttab_claim_grant_reference(&head), -ENOSPC);

	/* Half back onto the list, half straight to the table. */
	for (int i = 0; i < N; i++) {
		if (i % 2)
			gnttab_release_grant_reference(&head, refs[i]);
		else
			gnttab_free_grant_reference(refs[i]);
	}
	gnttab_free_grant_references(head);

	/* All of them are the table's again: the whole table can be reserved. */
	assert_int_equal(gnttab_alloc_grant_references(USABLE_1, &head), 0);
	gnttab_free_grant_references(head);
	env_down(&e);
}

/* All or nothing: a reserve larger than the table takes nothing. */
static void test_reserve_too_large_is_enospc_and_takes_nothing(void **state)
{
	grant_ref_t head, small;
	struct env e;
	int r;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 1);
	as(e.a);
	assert_int_equal(gnttab_max_grant_frames(), 1);
	assert_int_equal(gnttab_alloc_grant_references(10, &small), 0);
	assert_int_equal(gnttab_alloc_grant_references(USABLE_1 - 9, &head), -ENOSPC);
	assert_int_equal(gnttab_alloc_grant_references(USABLE_1 - 10, &head), 0);
	/* Nothing left for anyone, at once. */
	assert_int_equal(gnttab_grant_foreign_access(ID_B, 1, 0), -ENOSPC);
	assert_int_equal(gnttab_grant_foreign_transfer(ID_B, 1), -ENOSPC);
	assert_int_equal(gnttab_alloc_grant_references(1, &small), -ENOSPC);
	gnttab_free_grant_references(head);
	r = gnttab_grant_foreign_access(ID_B, 1, 0);
	assert_true(r >= GNTTAB_NR_RESERVED_ENTRIES);
	assert_int_equal(gnttab_try_end_foreign_access((grant_ref_t)r), 1);
	gnttab_free_grant_references(small);
	env_down(&e);
}

/* Reserves grow the table up to the hypervisor's maximum, not beyond. */
static void test_reserve_grows_table(void **state)
{
	grant_ref_t head, more;
	struct env e;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 3);
	as(e.a);
	assert_int_equal(gnttab_alloc_grant_references(3 * 512 - GNTTAB_NR_RESERVED_ENTRIES,
						       &head), 0);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 3);
	assert_int_equal(gnttab_alloc_grant_references(1, &more), -ENOSPC);
	gnttab_free_grant_references(head);
	env_down(&e);
}

/* ---- query / end foreign access ---- */

/* The reserve as Xen's docs/misc/grant-tables.txt shows it (Linux 2.6):
 * a terminal from alloc, claim against it, free with a count; and the
 * readonly argument of the older end functions. */
static void test_reserve_older_forms(void **state)
{
	grant_ref_t gref_head, gref_terminal, ref, ref2;
	grant_handle_t h;
	struct env e;
	uint8_t *src, *dst;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 0);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	fill(src, PAGE, 9);
	assert_int_equal(gnttab_alloc_grant_references(2, &gref_head, &gref_terminal), 0);
	assert_int_equal(gref_terminal, XGNT_GREF_LIST_END);
	ref = (grant_ref_t)gnttab_claim_grant_reference(&gref_head, gref_terminal);
	ref2 = (grant_ref_t)gnttab_claim_grant_reference(&gref_head, gref_terminal);
	assert_true(ref >= GNTTAB_NR_RESERVED_ENTRIES && ref2 >= GNTTAB_NR_RESERVED_ENTRIES);
	assert_true(ref != ref2);
	assert_int_equal(gnttab_claim_grant_reference(&gref_head, gref_terminal), -ENOSPC);
	gnttab_release_grant_reference(&gref_head, ref2);

	gnttab_grant_foreign_access_ref(ref, ID_B, xgnt_guest_frame(e.a, src), 0);
	as(e.b);
	dst = xgnt_unpopulated_alloc(e.b, 1);
	assert_int_equal(map1(e.b, dst, ID_A, ref, &h), GNTST_okay);
	assert_true(is_fill(dst, PAGE, 9));
	as(e.a);
	assert_int_equal(gnttab_end_foreign_access_ref(ref, 0), 0);   /* busy */
	as(e.b);
	unmap1(e.b, dst, h);
	as(e.a);
	assert_int_equal(gnttab_end_foreign_access_ref(ref, 0), 1);
	/* grants-tables.txt's ending: query, then end with readonly */
	gnttab_grant_foreign_access_ref(ref, ID_B, xgnt_guest_frame(e.a, src), 1);
	assert_int_equal(gnttab_query_foreign_access(ref), 0);
	gnttab_end_foreign_access(ref, 1);   /* ends it and frees the ref */
	as(e.b);
	assert_true(map1(e.b, dst, ID_A, ref, &h) != GNTST_okay);
	assert_int_equal(xgnt_unpopulated_free(e.b, dst, 1), 0);
	as(e.a);
	gnttab_free_grant_references(1, gref_head);   /* the count is Linux 2.6's */
	/* every reference is the table's again */
	assert_int_equal(gnttab_alloc_grant_references(USABLE_1, &gref_head), 0);
	gnttab_free_grant_references(gref_head);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

static void test_query_and_end_foreign_access(void **state)
{
	grant_ref_t head, ref;
	grant_handle_t h, h2;
	struct env e;
	uint8_t *src, *dst;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 0);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	fill(src, PAGE, 4);
	assert_int_equal(gnttab_alloc_grant_references(2, &head), 0);
	ref = (grant_ref_t)gnttab_claim_grant_reference(&head);
	gnttab_grant_foreign_access_ref(ref, ID_B, xgnt_guest_frame(e.a, src), 0);
	assert_int_equal(gnttab_query_foreign_access(ref), 0);

	as(e.b);
	dst = xgnt_unpopulated_alloc(e.b, 2);
	assert_int_equal(map1(e.b, dst, ID_A, ref, &h), GNTST_okay);
	assert_true(is_fill(dst, PAGE, 4));

	as(e.a);
	assert_int_equal(gnttab_query_foreign_access(ref), 1);
	assert_int_equal(gnttab_end_foreign_access_ref(ref), 0);   /* busy */
	assert_int_equal(gnttab_try_end_foreign_access(ref), 0);   /* busy, ref kept */
	assert_int_equal(gnttab_query_foreign_access(ref), 1);
	/* Nothing changed: the peer can map it again. */
	as(e.b);
	assert_int_equal(map1(e.b, dst + PAGE, ID_A, ref, &h2), GNTST_okay);
	unmap1(e.b, dst + PAGE, h2);
	unmap1(e.b, dst, h);

	as(e.a);
	assert_int_equal(gnttab_query_foreign_access(ref), 0);
	assert_int_equal(gnttab_end_foreign_access_ref(ref), 1);
	/* Ended: no new mapping. */
	as(e.b);
	assert_true(map1(e.b, dst, ID_A, ref, &h) != GNTST_okay);
	/* The reference is still the caller's: grant it again, read-only. */
	as(e.a);
	gnttab_grant_foreign_access_ref(ref, ID_B, xgnt_guest_frame(e.a, src), 1);
	as(e.b);
	assert_int_equal(map1(e.b, dst, ID_A, ref, &h), GNTST_general_error);
	as(e.a);
	assert_int_equal(gnttab_end_foreign_access_ref(ref), 1);
	gnttab_release_grant_reference(&head, ref);
	gnttab_free_grant_references(head);
	as(e.b);
	assert_int_equal(xgnt_unpopulated_free(e.b, dst, 2), 0);
	as(e.a);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

/* gnttab_end_foreign_access: the page is given back only once the peer
 * has unmapped it; the reference too. */
static void test_end_foreign_access_defers_until_unmapped(void **state)
{
	grant_handle_t h;
	struct env e;
	uint8_t *src, *dst, *again;
	int ref, r;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 1);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	fill(src, PAGE, 8);
	ref = gnttab_grant_foreign_access(ID_B, xgnt_guest_frame(e.a, src), 0);
	assert_true(ref >= GNTTAB_NR_RESERVED_ENTRIES);
	as(e.b);
	dst = xgnt_unpopulated_alloc(e.b, 1);
	assert_int_equal(map1(e.b, dst, ID_A, (grant_ref_t)ref, &h), GNTST_okay);

	as(e.a);
	gnttab_end_foreign_access((grant_ref_t)ref, src);
	/* Neither the reference nor the page came back yet. */
	for (;;) {
		r = gnttab_grant_foreign_access(ID_B, 0, 1);
		if (r < 0)
			break;
		assert_true(r != ref);
	}
	assert_int_equal(r, -ENOSPC);
	again = xgnt_page_alloc(e.a, 1);
	assert_true(again != src);
	/* The peer still reads the data the granter left. */
	assert_true(is_fill(dst, PAGE, 8));

	as(e.b);
	unmap1(e.b, dst, h);
	as(e.a);
	xgnt_gnttab_poll_deferred(e.a);
	assert_int_equal(xgnt_gnttab_nr_deferred(e.a), 0);
	/* Now the reference is the only free one, and the page is free. */
	r = gnttab_grant_foreign_access(ID_B, 0, 1);
	assert_int_equal(r, ref);
	assert_int_equal(gnttab_try_end_foreign_access((grant_ref_t)r), 1);
	xgnt_page_free(e.a, again, 1);
	env_down(&e);
}

/* ---- transfer: PV sender to a translated receiver ---- */

/* The receiver gives a RAM page back to the hypervisor to make room for
 * the frame it will accept; returns the pfn. */
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

/* The PV sender hands over the frame behind page (GNTTABOP_transfer). */
static int16_t send_page(struct xgnt_guest *pv, void *page, domid_t to, grant_ref_t ref)
{
	struct gnttab_transfer op = {
		.mfn = xgnt_guest_frame(pv, page), .domid = to, .ref = ref, .status = 1,
	};

	assert_true(op.mfn != INVALID_MFN);
	assert_int_equal(xgnt_hyp_grant_table_op(pv, GNTTABOP_transfer, &op, 1), 0);
	return op.status;
}

struct sender {
	struct xgnt_guest *g;
	grant_ref_t ref;
	int16_t status;
};

static void *sender_thread(void *arg)
{
	struct sender *s = arg;
	void *page;

	xgnt_guest_bind(s->g, 1);
	page = xgnt_page_alloc(s->g, 1);
	fill(page, PAGE, 99);
	s->status = send_page(s->g, page, ID_A, s->ref);
	/* The page is gone from the sender; its allocator keeps the slot. */
	xgnt_guest_bind(NULL, 0);
	return NULL;
}

static void test_transfer_ref_pv_to_hvm(void **state)
{
	struct sender s;
	pthread_t t;
	grant_ref_t head, ref;
	struct env e;
	xen_pfn_t pfn;
	void *page;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, 0);
	as(e.a);
	assert_int_equal(gnttab_alloc_grant_references(1, &head), 0);
	ref = (grant_ref_t)gnttab_claim_grant_reference(&head);
	pfn = balloon_out_one(e.a, &page);
	assert_true(t_read_faults(page));
	gnttab_grant_foreign_transfer_ref(ref, ID_B, pfn);

	s = (struct sender){ .g = e.b, .ref = ref, .status = 1 };
	assert_int_equal(pthread_create(&t, NULL, sender_thread, &s), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(s.status, GNTST_okay);

	/* A translated receiver gets its own gfn back; the data is there. */
	assert_int_equal(gnttab_end_foreign_transfer_ref(ref), pfn);
	assert_true(is_fill(page, PAGE, 99));
	/* The reference is still the caller's: back on its list. */
	gnttab_release_grant_reference(&head, ref);
	assert_int_equal(gnttab_claim_grant_reference(&head), ref);
	gnttab_free_grant_reference(ref);
	xgnt_page_free(e.a, page, 1);
	env_down(&e);
}

static void test_transfer_pv_to_pv_returns_mfn(void **state)
{
	struct sender s;
	pthread_t t;
	struct env e;
	xen_pfn_t pfn, mfn;
	void *page;
	int ref;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV, 0);
	as(e.a);
	pfn = balloon_out_one(e.a, &page);
	ref = gnttab_grant_foreign_transfer(ID_B, pfn);
	assert_true(ref >= GNTTAB_NR_RESERVED_ENTRIES);
	s = (struct sender){ .g = e.b, .ref = (grant_ref_t)ref, .status = 1 };
	assert_int_equal(pthread_create(&t, NULL, sender_thread, &s), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(s.status, GNTST_okay);
	mfn = gnttab_end_foreign_transfer((grant_ref_t)ref);
	assert_true(mfn != 0 && mfn != INVALID_MFN);
	/* A PV receiver learns the machine frame; map it where it wants it. */
	assert_int_equal(xgnt_update_va_mapping(xgnt_domain_vcpu(e.da, 0),
						(uint64_t)pfn << 12, mfn,
						XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	assert_true(is_fill(page, PAGE, 99));
	env_down(&e);
}

/* No transfer came: 0, and the reference is reclaimed (freed or kept). */
static void test_transfer_end_without_transfer(void **state)
{
	grant_ref_t head, ref;
	struct env e;
	xen_pfn_t pfn;
	void *page;
	int r;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, 1);
	as(e.a);
	pfn = balloon_out_one(e.a, &page);
	assert_int_equal(gnttab_alloc_grant_references(1, &head), 0);
	ref = (grant_ref_t)gnttab_claim_grant_reference(&head);
	gnttab_grant_foreign_transfer_ref(ref, ID_B, pfn);
	assert_int_equal(gnttab_end_foreign_transfer_ref(ref), 0);
	/* The entry is free again: a sender now finds nothing to fill. */
	as(e.b);
	{
		void *p = xgnt_page_alloc(e.b, 1);

		assert_true(send_page(e.b, p, ID_A, ref) != GNTST_okay);
	}
	as(e.a);
	gnttab_release_grant_reference(&head, ref);
	gnttab_free_grant_references(head);

	r = gnttab_grant_foreign_transfer(ID_B, pfn);
	assert_true(r >= GNTTAB_NR_RESERVED_ENTRIES);
	assert_int_equal(gnttab_end_foreign_transfer((grant_ref_t)r), 0);
	/* Freed: the whole table can be reserved. */
	assert_int_equal(gnttab_alloc_grant_references(USABLE_1, &head), 0);
	gnttab_free_grant_references(head);
	env_down(&e);
}

/* ---- free callbacks ---- */

struct cb_state {
	int calls;
	grant_ref_t head;      /* the callback reserves what it waited for */
	int alloc_rc;
	uint16_t want;
};

static void on_free(void *arg)
{
	struct cb_state *c = arg;

	c->calls++;
	if (c->want)
		c->alloc_rc = gnttab_alloc_grant_references(c->want, &c->head);
}

static void test_free_callback_fires_once_enough_are_free(void **state)
{
	struct gnttab_free_callback cb = { 0 }, cb2 = { 0 };
	struct cb_state c = { 0 }, c2 = { 0 };
	grant_ref_t head, refs[5];
	struct env e;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 1);
	as(e.a);
	assert_int_equal(gnttab_alloc_grant_references(USABLE_1, &head), 0);
	for (int i = 0; i < 5; i++)
		refs[i] = (grant_ref_t)gnttab_claim_grant_reference(&head);

	c.want = 5;
	gnttab_request_free_callback(&cb, on_free, &c, 5);
	assert_int_equal(c.calls, 0);
	/* Requesting it again while pending changes nothing. */
	gnttab_request_free_callback(&cb, on_free, &c, 5);
	for (int i = 0; i < 4; i++) {
		gnttab_free_grant_reference(refs[i]);
		assert_int_equal(c.calls, 0);
	}
	gnttab_free_grant_reference(refs[4]);
	assert_int_equal(c.calls, 1);
	/* The callback could allocate what it waited for. */
	assert_int_equal(c.alloc_rc, 0);
	assert_int_equal(gnttab_empty_grant_references(&c.head), 0);

	/* Fired once only. */
	gnttab_free_grant_references(c.head);
	assert_int_equal(c.calls, 1);

	/* Enough free already: at once. */
	gnttab_request_free_callback(&cb2, on_free, &c2, 3);
	assert_int_equal(c2.calls, 1);

	/* Cancelled: never. */
	c2.calls = 0;
	gnttab_request_free_callback(&cb2, on_free, &c2, 10);
	assert_int_equal(c2.calls, 0);
	gnttab_cancel_free_callback(&cb2);
	gnttab_free_grant_references(head);
	assert_int_equal(c2.calls, 0);
	/* Cancelling one not pending is harmless. */
	gnttab_cancel_free_callback(&cb2);
	gnttab_cancel_free_callback(&cb);
	env_down(&e);
}

/* A callback waits while the table can still grow only if growth cannot
 * give it enough: with room to grow it fires at once. */
static void test_free_callback_counts_room_to_grow(void **state)
{
	struct gnttab_free_callback cb = { 0 };
	struct cb_state c = { 0 };
	struct env e;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 2);
	as(e.a);
	gnttab_request_free_callback(&cb, on_free, &c, 600);   /* > one frame */
	assert_int_equal(c.calls, 1);
	gnttab_cancel_free_callback(&cb);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unbound_thread),
		cmocka_unit_test(test_reserve_alloc_claim_release_free),
		cmocka_unit_test(test_reserve_older_forms),
		cmocka_unit_test(test_reserve_too_large_is_enospc_and_takes_nothing),
		cmocka_unit_test(test_reserve_grows_table),
		cmocka_unit_test(test_query_and_end_foreign_access),
		cmocka_unit_test(test_end_foreign_access_defers_until_unmapped),
		cmocka_unit_test(test_transfer_ref_pv_to_hvm),
		cmocka_unit_test(test_transfer_pv_to_pv_returns_mfn),
		cmocka_unit_test(test_transfer_end_without_transfer),
		cmocka_unit_test(test_free_callback_fires_once_enough_are_free),
		cmocka_unit_test(test_free_callback_counts_room_to_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
