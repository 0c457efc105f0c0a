/* SPDX-License-Identifier: MIT */
/*
 * Zephyr's grant-table API (<xgnt/zephyr/gnttab.h>): every function, the
 * two places Zephyr's own code is wrong (end access of a mapped grant, a
 * full table), and a frontend/backend pair written only against it.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xgnt/guest.h>
#include <xgnt/zephyr/gnttab.h>

#define ID_0    0	/* the domain gnttab_alloc_and_grant grants to */
#define ID_A    1	/* granter / frontend */
#define ID_B    2	/* mapper / backend */
#define PAGE    4096
#define ENTRIES_PER_FRAME 512	/* v1 */

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

static void env_up(struct env *e)
{
	env_up_cfg(e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 0);
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
		b[i] = (uint8_t)(seed + i * 13);
}

static bool is_fill(const void *p, size_t n, uint8_t seed)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)(seed + i * 13))
			return false;
	return true;
}

/* A Zephyr driver's map op: host_addr is the page pointer cast to an integer. */
static struct gnttab_map_grant_ref map_op(void *page, domid_t dom, grant_ref_t ref,
					  uint32_t flags)
{
	struct gnttab_map_grant_ref op = {
		.host_addr = (uintptr_t)page, .flags = flags, .ref = ref, .dom = dom,
	};
	return op;
}

static struct gnttab_unmap_grant_ref unmap_op(const struct gnttab_map_grant_ref *m)
{
	struct gnttab_unmap_grant_ref op = { .host_addr = m->host_addr, .handle = m->handle };

	return op;
}

/* ---- no guest bound ---- */

static void test_unbound_thread_fails_by_each_convention(void **state)
{
	struct gnttab_map_grant_ref m = { 0 };
	struct gnttab_unmap_grant_ref u = { 0 };
	void *page = NULL;
	int x;

	(void)state;
	xgnt_guest_bind(NULL, 0);
	assert_true(gnttab_grant_access(ID_B, 5, false) == GNTTAB_INVAL_GREF);
	assert_int_equal(gnttab_end_access(8), -EINVAL);
	assert_int_equal(gnttab_alloc_and_grant(&page, false), -EINVAL);
	assert_null(page);
	assert_null(gnttab_get_pages(1));
	assert_int_equal(gnttab_put_pages(&x, 1), -EINVAL);
	assert_int_equal(gnttab_map_refs(&m, 1), -EINVAL);
	assert_int_equal(gnttab_unmap_refs(&u, 1), -EINVAL);
	assert_true(xen_virt_to_gfn(&x) == (unsigned long)INVALID_GFN);
	gnttab_free_page(&x);   /* nothing to free it from: ignored */
}

/* ---- xen_virt_to_gfn ---- */

static void test_virt_to_gfn_translated_and_pv(void **state)
{
	struct env e;
	uint8_t *p;
	int local;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV, 0);
	as(e.a);
	p = xgnt_page_alloc(e.a, 2);
	assert_non_null(p);
	assert_int_equal(xen_virt_to_gfn(p), xgnt_guest_addr(e.a, p) >> 12);
	assert_int_equal(xen_virt_to_gfn(p + PAGE + 100), (xgnt_guest_addr(e.a, p) >> 12) + 1);
	/* Zephyr drivers also pass the address as an integer. */
	assert_int_equal(xen_virt_to_gfn((uintptr_t)p), xgnt_guest_addr(e.a, p) >> 12);
	/* Not the guest's memory. */
	assert_true(xen_virt_to_gfn(&local) == (unsigned long)INVALID_GFN);
	xgnt_page_free(e.a, p, 2);

	/* A PV guest grants machine frames. */
	as(e.b);
	p = xgnt_page_alloc(e.b, 1);
	assert_non_null(p);
	assert_int_equal(xen_virt_to_gfn(p),
			 xgnt_domain_pfn_to_mfn(e.db, xgnt_guest_addr(e.b, p) >> 12));
	xgnt_page_free(e.b, p, 1);
	env_down(&e);
}

/* ---- grant, map through a pointer, unmap, end ---- */

static void grant_map_roundtrip(enum xgnt_domain_type ta)
{
	struct gnttab_map_grant_ref m;
	struct gnttab_unmap_grant_ref u;
	struct env e;
	uint8_t *src, *dst;
	grant_ref_t ref;

	env_up_cfg(&e, ta, XGNT_DOMAIN_HVM, 0);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	assert_non_null(src);
	fill(src, PAGE, 3);
	ref = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
	assert_true(ref != GNTTAB_INVAL_GREF);
	assert_true(ref >= GNTTAB_NR_RESERVED_ENTRIES);

	as(e.b);
	dst = gnttab_get_pages(1);
	assert_non_null(dst);
	m = map_op(dst, ID_A, ref, GNTMAP_host_map);
	assert_int_equal(gnttab_map_refs(&m, 1), 0);
	assert_int_equal(m.status, GNTST_okay);
	/* The caller's host_addr is given back as it was written. */
	assert_true(m.host_addr == (uintptr_t)dst);
	assert_true(is_fill(dst, PAGE, 3));
	dst[7] = 0xee;                       /* writable grant: A sees it */
	assert_int_equal(src[7], 0xee);

	u = unmap_op(&m);
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);
	assert_int_equal(u.status, GNTST_okay);
	assert_true(u.host_addr == (uintptr_t)dst);
	assert_int_equal(gnttab_put_pages(dst, 1), 0);

	as(e.a);
	assert_int_equal(gnttab_end_access(ref), 0);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

static void test_grant_map_unmap_end_hvm_granter(void **state)
{
	(void)state;
	grant_map_roundtrip(XGNT_DOMAIN_HVM);
}

static void test_grant_map_unmap_end_pv_granter(void **state)
{
	(void)state;
	grant_map_roundtrip(XGNT_DOMAIN_PV);
}

static void test_map_refs_takes_guest_addresses_unchanged(void **state)
{
	struct gnttab_map_grant_ref m;
	struct gnttab_unmap_grant_ref u;
	struct env e;
	uint8_t *src, *dst;
	uint64_t gaddr;
	grant_ref_t ref;

	(void)state;
	env_up(&e);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	fill(src, PAGE, 9);
	ref = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), true);
	assert_true(ref != GNTTAB_INVAL_GREF);

	as(e.b);
	dst = gnttab_get_pages(1);
	gaddr = xgnt_guest_addr(e.b, dst);
	m = (struct gnttab_map_grant_ref){
		.host_addr = gaddr, .flags = GNTMAP_host_map | GNTMAP_readonly,
		.ref = ref, .dom = ID_A,
	};
	assert_int_equal(gnttab_map_refs(&m, 1), 0);
	assert_int_equal(m.status, GNTST_okay);
	assert_true(m.host_addr == gaddr);
	assert_true(is_fill(dst, PAGE, 9));
	assert_true(t_write_faults(dst));    /* read-only mapping */
	u = (struct gnttab_unmap_grant_ref){ .host_addr = gaddr, .handle = m.handle };
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);
	assert_int_equal(u.status, GNTST_okay);
	assert_true(u.host_addr == gaddr);
	assert_int_equal(gnttab_put_pages(dst, 1), 0);

	as(e.a);
	assert_int_equal(gnttab_end_access(ref), 0);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

static void test_readonly_grant_refuses_writable_map(void **state)
{
	struct gnttab_map_grant_ref m;
	struct env e;
	uint8_t *src, *dst;
	grant_ref_t ref;

	(void)state;
	env_up(&e);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	ref = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), true);
	as(e.b);
	dst = gnttab_get_pages(1);
	m = map_op(dst, ID_A, ref, GNTMAP_host_map);
	assert_int_equal(gnttab_map_refs(&m, 1), 0);
	/* Xen's status for write-pinning a read-only entry. */
	assert_int_equal(m.status, GNTST_general_error);
	assert_string_equal(gnttabop_error(m.status), "undefined error");
	assert_int_equal(gnttab_put_pages(dst, 1), 0);
	as(e.a);
	assert_int_equal(gnttab_end_access(ref), 0);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

/* Per-op statuses of a batch: a good op, a bad reference, a wrong domain. */
static void test_map_batch_reports_each_status(void **state)
{
	struct gnttab_map_grant_ref m[3];
	struct gnttab_unmap_grant_ref u;
	struct env e;
	uint8_t *src, *dst;
	grant_ref_t ref;

	(void)state;
	env_up(&e);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	fill(src, PAGE, 1);
	ref = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
	as(e.b);
	dst = gnttab_get_pages(3);
	assert_non_null(dst);
	m[0] = map_op(dst, ID_A, ref, GNTMAP_host_map);
	m[1] = map_op(dst + PAGE, ID_A, 4000, GNTMAP_host_map);
	m[2] = map_op(dst + 2 * PAGE, 77, ref, GNTMAP_host_map);
	assert_int_equal(gnttab_map_refs(m, 3), 0);
	assert_int_equal(m[0].status, GNTST_okay);
	assert_int_equal(m[1].status, GNTST_bad_gntref);
	assert_int_equal(m[2].status, GNTST_bad_domain);
	for (int i = 0; i < 3; i++)
		assert_true(m[i].host_addr == (uintptr_t)(dst + i * PAGE));
	assert_true(is_fill(dst, PAGE, 1));
	u = unmap_op(&m[0]);
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);
	assert_int_equal(u.status, GNTST_okay);
	/* Unmapping it again: a bad handle, reported per op. */
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);
	assert_int_equal(u.status, GNTST_bad_handle);
	assert_int_equal(gnttab_put_pages(dst, 3), 0);
	as(e.a);
	assert_int_equal(gnttab_end_access(ref), 0);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

/* More ops than one translation chunk, pointers and guest addresses mixed. */
static void test_map_refs_large_mixed_batch(void **state)
{
	enum { N = 150 };
	struct gnttab_map_grant_ref *m = calloc(N, sizeof(*m));
	struct gnttab_unmap_grant_ref *u = calloc(N, sizeof(*u));
	grant_ref_t refs[N];
	uint64_t want[N];
	struct env e;
	uint8_t *src, *dst;

	(void)state;
	assert_non_null(m);
	assert_non_null(u);
	env_up(&e);
	as(e.a);
	src = xgnt_page_alloc(e.a, N);
	assert_non_null(src);
	for (int i = 0; i < N; i++) {
		fill(src + i * PAGE, 64, (uint8_t)i);
		refs[i] = gnttab_grant_access(ID_B, xen_virt_to_gfn(src + i * PAGE), false);
		assert_true(refs[i] != GNTTAB_INVAL_GREF);
	}
	as(e.b);
	dst = gnttab_get_pages(N);
	assert_non_null(dst);
	for (int i = 0; i < N; i++) {
		m[i] = map_op(dst + i * PAGE, ID_A, refs[i], GNTMAP_host_map);
		if (i % 3 == 0)
			m[i].host_addr = xgnt_guest_addr(e.b, dst + i * PAGE);
		want[i] = m[i].host_addr;
	}
	assert_int_equal(gnttab_map_refs(m, N), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(m[i].status, GNTST_okay);
		assert_true(m[i].host_addr == want[i]);
		assert_true(is_fill(dst + i * PAGE, 64, (uint8_t)i));
		u[i] = unmap_op(&m[i]);
	}
	assert_int_equal(gnttab_unmap_refs(u, N), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(u[i].status, GNTST_okay);
		assert_true(u[i].host_addr == want[i]);
	}
	assert_int_equal(gnttab_put_pages(dst, N), 0);
	as(e.a);
	for (int i = 0; i < N; i++)
		assert_int_equal(gnttab_end_access(refs[i]), 0);
	xgnt_page_free(e.a, src, N);
	env_down(&e);
	free(u);
	free(m);
}

/* ---- end access: Zephyr's inversion ---- */

/*
 * Zephyr frees a reference whose grant is still mapped (and never frees one
 * it ended). Here: -EBUSY, the grant stays usable by the peer, and the
 * reference is not handed out again until it is ended.
 */
static void test_end_access_while_mapped_is_busy_and_ref_kept(void **state)
{
	struct gnttab_map_grant_ref m, m2;
	struct gnttab_unmap_grant_ref u;
	struct env e;
	uint8_t *src, *dst;
	grant_ref_t ref, r;
	unsigned int n = 0;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, 1);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	fill(src, PAGE, 5);
	ref = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
	assert_true(ref != GNTTAB_INVAL_GREF);

	as(e.b);
	dst = gnttab_get_pages(2);
	m = map_op(dst, ID_A, ref, GNTMAP_host_map);
	assert_int_equal(gnttab_map_refs(&m, 1), 0);
	assert_int_equal(m.status, GNTST_okay);

	as(e.a);
	assert_int_equal(gnttab_end_access(ref), -EBUSY);
	assert_int_equal(gnttab_end_access(ref), -EBUSY);

	/* The grant is intact: the peer can still map it a second time. */
	as(e.b);
	m2 = map_op(dst + PAGE, ID_A, ref, GNTMAP_host_map);
	assert_int_equal(gnttab_map_refs(&m2, 1), 0);
	assert_int_equal(m2.status, GNTST_okay);
	assert_true(is_fill(dst + PAGE, PAGE, 5));
	u = unmap_op(&m2);
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);

	/* Every other reference of the (one-frame) table, never ref. */
	as(e.a);
	for (;;) {
		r = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), true);
		if (r == GNTTAB_INVAL_GREF)
			break;
		assert_true(r != ref);
		n++;
	}
	assert_int_equal(n, ENTRIES_PER_FRAME - GNTTAB_NR_RESERVED_ENTRIES - 1);

	/* Once the peer unmapped, it ends, and becomes the only free one. */
	as(e.b);
	u = unmap_op(&m);
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);
	assert_int_equal(u.status, GNTST_okay);
	assert_int_equal(gnttab_put_pages(dst, 2), 0);
	as(e.a);
	assert_int_equal(gnttab_end_access(ref), 0);
	r = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), true);
	assert_int_equal(r, ref);
	assert_int_equal(gnttab_end_access(r), 0);
	env_down(&e);
}

/* Ending a reference twice does not free it twice. */
static void test_end_access_twice_frees_once(void **state)
{
	struct env e;
	uint8_t *src;
	grant_ref_t ref, r1, r2;
	int rc;

	(void)state;
	env_up(&e);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	ref = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
	assert_int_equal(gnttab_end_access(ref), 0);
	/* "Nothing left to end" or refused, but never a second free: had it
	 * freed ref again, the two grants below would share it. */
	rc = gnttab_end_access(ref);
	assert_true(rc == 0 || rc == -EINVAL);
	r1 = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
	r2 = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
	assert_true(r1 != GNTTAB_INVAL_GREF && r2 != GNTTAB_INVAL_GREF);
	assert_true(r1 != r2);
	assert_int_equal(gnttab_end_access(r1), 0);
	assert_int_equal(gnttab_end_access(r2), 0);
	assert_true(gnttab_end_access(GNTTAB_INVAL_GREF) < 0);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

/* ---- two vCPUs of one guest at once ---- */

struct vcpu_worker {
	struct xgnt_guest *g;
	unsigned int vcpu;
	void *page;
	pthread_barrier_t *start;
	int failures;
};

/* Both start on a guest whose table nobody has set up yet: the first
 * grants race the set-up. Then grant and end, checking each reference. */
static void *vcpu_grant_loop(void *arg)
{
	struct vcpu_worker *w = arg;
	grant_ref_t refs[32];

	if (xgnt_guest_bind(w->g, w->vcpu))
		return NULL;
	pthread_barrier_wait(w->start);
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 32; i++) {
			refs[i] = gnttab_grant_access(ID_B, xen_virt_to_gfn(w->page), i & 1);
			if (refs[i] == GNTTAB_INVAL_GREF)
				w->failures++;
		}
		for (int i = 0; i < 32; i++)
			if (refs[i] != GNTTAB_INVAL_GREF && gnttab_end_access(refs[i]))
				w->failures++;
	}
	xgnt_guest_bind(NULL, 0);
	return NULL;
}

static void test_two_vcpus_grant_and_end_at_once(void **state)
{
	struct vcpu_worker w[2];
	pthread_barrier_t start;
	pthread_t t[2];
	struct env e;
	void *page;

	(void)state;
	env_up(&e);
	page = xgnt_page_alloc(e.a, 1);
	assert_non_null(page);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 0);
	pthread_barrier_init(&start, NULL, 2);
	for (unsigned int i = 0; i < 2; i++) {
		w[i] = (struct vcpu_worker){ .g = e.a, .vcpu = i, .page = page, .start = &start };
		assert_int_equal(pthread_create(&t[i], NULL, vcpu_grant_loop, &w[i]), 0);
	}
	for (unsigned int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	pthread_barrier_destroy(&start);
	/* Everything ended: the table is free again, still one frame. */
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 1);
	assert_int_equal(xgnt_gref_nr_free(e.a), 512 - GNTTAB_NR_RESERVED_ENTRIES);
	xgnt_page_free(e.a, page, 1);
	env_down(&e);
}

/* ---- a full table ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Grants fill the table, growing it to the hypervisor's maximum (2 frames),
 * then fail at once: no waiting for a reference. */
static void test_full_table_is_inval_gref_at_once(void **state)
{
	enum { FRAMES = 2, USABLE = FRAMES * ENTRIES_PER_FRAME - GNTTAB_NR_RESERVED_ENTRIES };
	static grant_ref_t refs[USABLE];
	struct env e;
	uint8_t *src;
	void *page = NULL;
	double t0;
	unsigned int n;

	(void)state;
	env_up_cfg(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM, FRAMES);
	as(e.a);
	src = xgnt_page_alloc(e.a, 1);
	for (n = 0; n < USABLE; n++) {
		refs[n] = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
		assert_true(refs[n] != GNTTAB_INVAL_GREF);
	}
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), FRAMES);
	t0 = now_s();
	assert_true(gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false) ==
		    GNTTAB_INVAL_GREF);
	assert_true(gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false) ==
		    GNTTAB_INVAL_GREF);
	assert_int_equal(gnttab_alloc_and_grant(&page, false), -ENOSPC);
	assert_null(page);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), FRAMES);

	/* One ended: one grant fits again. */
	assert_int_equal(gnttab_end_access(refs[100]), 0);
	refs[100] = gnttab_grant_access(ID_B, xen_virt_to_gfn(src), false);
	assert_true(refs[100] != GNTTAB_INVAL_GREF);
	assert_true(gnttab_grant_access(ID_B, 0, false) == GNTTAB_INVAL_GREF);
	for (n = 0; n < USABLE; n++)
		assert_int_equal(gnttab_end_access(refs[n]), 0);
	xgnt_page_free(e.a, src, 1);
	env_down(&e);
}

/* ---- gnttab_alloc_and_grant: to domain 0 ---- */

static void test_alloc_and_grant_grants_dom0(void **state)
{
	struct gnttab_map_grant_ref m;
	struct gnttab_unmap_grant_ref u;
	struct xgnt_domain *d0;
	struct xgnt_guest *g0;
	struct env e;
	void *page = NULL, *ro = NULL;
	uint8_t *dst;
	int32_t ref, ref_ro;

	(void)state;
	env_up(&e);
	d0 = t_domain(e.m, ID_0, XGNT_DOMAIN_HVM, true);
	g0 = xgnt_guest_create_inproc(d0);
	assert_non_null(g0);

	as(e.a);
	ref = gnttab_alloc_and_grant(&page, false);
	assert_true(ref >= GNTTAB_NR_RESERVED_ENTRIES);
	assert_non_null(page);
	assert_true(((uintptr_t)page & (PAGE - 1)) == 0);
	fill(page, PAGE, 77);
	ref_ro = gnttab_alloc_and_grant(&ro, true);
	assert_true(ref_ro >= GNTTAB_NR_RESERVED_ENTRIES);
	assert_true(ref_ro != ref);
	assert_true(ro != page);

	/* B is not domain 0: refused (Xen: "bad flags or dom"). */
	as(e.b);
	dst = gnttab_get_pages(1);
	m = map_op(dst, ID_A, (grant_ref_t)ref, GNTMAP_host_map);
	assert_int_equal(gnttab_map_refs(&m, 1), 0);
	assert_int_equal(m.status, GNTST_general_error);
	assert_int_equal(gnttab_put_pages(dst, 1), 0);

	as(g0);
	dst = gnttab_get_pages(2);
	m = map_op(dst, ID_A, (grant_ref_t)ref, GNTMAP_host_map);
	assert_int_equal(gnttab_map_refs(&m, 1), 0);
	assert_int_equal(m.status, GNTST_okay);
	assert_true(is_fill(dst, PAGE, 77));
	u = unmap_op(&m);
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);
	/* The read-only one maps read-only only. */
	m = map_op(dst + PAGE, ID_A, (grant_ref_t)ref_ro, GNTMAP_host_map);
	assert_int_equal(gnttab_map_refs(&m, 1), 0);
	assert_int_equal(m.status, GNTST_general_error);
	m = map_op(dst + PAGE, ID_A, (grant_ref_t)ref_ro, GNTMAP_host_map | GNTMAP_readonly);
	assert_int_equal(gnttab_map_refs(&m, 1), 0);
	assert_int_equal(m.status, GNTST_okay);
	u = unmap_op(&m);
	assert_int_equal(gnttab_unmap_refs(&u, 1), 0);
	assert_int_equal(gnttab_put_pages(dst, 2), 0);

	as(e.a);
	assert_int_equal(gnttab_end_access((grant_ref_t)ref), 0);
	assert_int_equal(gnttab_end_access((grant_ref_t)ref_ro), 0);
	gnttab_free_page(page);
	gnttab_free_page(ro);
	xgnt_guest_bind(NULL, 0);
	xgnt_guest_destroy(g0);
	env_down(&e);
}

/* ---- pages for mappings ---- */

static void test_get_put_pages(void **state)
{
	const struct xgnt_guest_info *info;
	struct env e;
	uint8_t *p, *q;
	uint64_t ga;
	int local;

	(void)state;
	env_up(&e);
	as(e.b);
	info = xgnt_guest_info(e.b);
	assert_null(gnttab_get_pages(0));
	p = gnttab_get_pages(4);
	q = gnttab_get_pages(1);
	assert_non_null(p);
	assert_non_null(q);
	assert_true(((uintptr_t)p & (PAGE - 1)) == 0);
	assert_true(q >= p + 4 * PAGE || q + PAGE <= p);
	/* Room for foreign mappings: not populated RAM of the guest. */
	ga = xgnt_guest_addr(e.b, p);
	assert_true(ga >= info->ext_base && ga + 4 * PAGE <= info->ext_base + info->ext_size);
	assert_true(t_read_faults(p));
	assert_int_equal(gnttab_put_pages(p, 4), 0);
	assert_int_equal(gnttab_put_pages(q, 1), 0);
	assert_int_equal(gnttab_put_pages(&local, 1), -EINVAL);
	assert_int_equal(gnttab_put_pages(NULL, 1), -EINVAL);
	env_down(&e);
}

static void test_gnttabop_error_strings(void **state)
{
	(void)state;
	assert_string_equal(gnttabop_error(GNTST_okay), "okay");
	assert_string_equal(gnttabop_error(GNTST_general_error), "undefined error");
	assert_string_equal(gnttabop_error(GNTST_bad_gntref), "invalid grant reference");
	assert_string_equal(gnttabop_error(GNTST_eagain), "operation not done; try again");
	assert_string_equal(gnttabop_error(1), "bad status");
	assert_string_equal(gnttabop_error(-100), "bad status");
	assert_string_equal(gnttabop_error(INT16_MIN), "bad status");
}

/* ---- a frontend and a backend, written only against the Zephyr API ---- */

/* The barriers Xen's ring.h asks its includer for. ThreadSanitizer has no
 * fences: there, a read-modify-write of one shared word orders instead. */
#ifdef __SANITIZE_THREAD__
static int ring_fence_word;
#define xen_mb()  ((void)__atomic_fetch_add(&ring_fence_word, 0, __ATOMIC_SEQ_CST))
#define xen_rmb() xen_mb()
#define xen_wmb() xen_mb()
#else
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#include <xen/io/ring.h>

#define NR_DATA  4
#define NR_MSGS  64
#define MSG_LEN  200

/* A request names a data page and the bytes the frontend put there; the
 * backend answers in the same page, bytes reversed and complemented. */
struct xt_request {
	uint32_t id;
	uint32_t page;
	uint32_t len;
};

struct xt_response {
	uint32_t id;
	int32_t status;
	uint32_t len;
};

DEFINE_RING_TYPES(xt, struct xt_request, struct xt_response);

static uint8_t flip(uint8_t b)
{
	return (uint8_t)(0xff - b);
}

/* What xenstore would carry between the two. */
struct xt_store {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool published, backend_done;
	domid_t front_id;
	grant_ref_t ring_ref;
	grant_ref_t data_ref[NR_DATA];
	struct xgnt_guest *front, *back;
	domid_t back_id;
	int back_rc;      /* 0: everything the backend checked held */
};

static void store_wait(struct xt_store *s, bool *flag)
{
	pthread_mutex_lock(&s->lock);
	while (!*flag)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

static void store_set(struct xt_store *s, bool *flag)
{
	pthread_mutex_lock(&s->lock);
	*flag = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Spin with a deadline; false on timeout. */
static bool wait_until(bool (*cond)(void *), void *arg)
{
	double t0 = now_s();

	while (!cond(arg)) {
		if (now_s() - t0 > 20.0)
			return false;
		sched_yield();
	}
	return true;
}

static bool back_has_requests(void *arg)
{
	return RING_HAS_UNCONSUMED_REQUESTS((struct xt_back_ring *)arg);
}

static bool front_has_responses(void *arg)
{
	return RING_HAS_UNCONSUMED_RESPONSES((struct xt_front_ring *)arg);
}

static void *backend(void *arg)
{
	struct xt_store *s = arg;
	struct gnttab_map_grant_ref m[1 + NR_DATA];
	struct gnttab_unmap_grant_ref u[1 + NR_DATA];
	struct xt_back_ring br;
	uint8_t *pages, *data;
	unsigned int done = 0, i;
	int rc = 0;

	if (xgnt_guest_bind(s->back, 0))
		return (void *)1;
	store_wait(s, &s->published);

	pages = gnttab_get_pages(1 + NR_DATA);
	if (!pages) {
		rc = 2;
		goto out;
	}
	m[0] = map_op(pages, s->front_id, s->ring_ref, GNTMAP_host_map);
	for (i = 0; i < NR_DATA; i++)
		m[1 + i] = map_op(pages + (1 + i) * PAGE, s->front_id, s->data_ref[i],
				  GNTMAP_host_map);
	if (gnttab_map_refs(m, 1 + NR_DATA)) {
		rc = 3;
		goto put;
	}
	for (i = 0; i < 1 + NR_DATA; i++)
		if (m[i].status != GNTST_okay)
			rc = 4;
	if (rc)
		goto put;   /* a driver would unmap the ones that did map */
	data = pages + PAGE;
	BACK_RING_INIT(&br, (struct xt_sring *)pages, PAGE);

	while (done < NR_MSGS) {
		RING_IDX rp, rc_idx;
		int more;

		if (!wait_until(back_has_requests, &br)) {
			rc = 5;
			break;
		}
		rp = br.sring->req_prod;
		xen_rmb();
		for (rc_idx = br.req_cons; rc_idx != rp; rc_idx++) {
			struct xt_request req = *RING_GET_REQUEST(&br, rc_idx);
			struct xt_response *rsp;
			uint8_t tmp[MSG_LEN];
			uint8_t *buf;

			br.req_cons = rc_idx + 1;
			rsp = RING_GET_RESPONSE(&br, br.rsp_prod_pvt);
			rsp->id = req.id;
			rsp->status = 0;
			rsp->len = req.len;
			if (req.page >= NR_DATA || req.len > MSG_LEN) {
				rsp->status = -EINVAL;
			} else {
				buf = data + req.page * PAGE;
				memcpy(tmp, buf, req.len);
				for (i = 0; i < req.len; i++)
					buf[i] = flip(tmp[req.len - 1 - i]);
			}
			br.rsp_prod_pvt++;
			done++;
		}
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&br, more);
		(void)more;   /* no event channel: the frontend polls */
	}

	for (i = 0; i < 1 + NR_DATA; i++)
		u[i] = unmap_op(&m[i]);
	if (gnttab_unmap_refs(u, 1 + NR_DATA))
		rc = 6;
	for (i = 0; i < 1 + NR_DATA; i++)
		if (u[i].status != GNTST_okay)
			rc = 7;
put:
	if (gnttab_put_pages(pages, 1 + NR_DATA))
		rc = 8;
out:
	s->back_rc = rc;
	store_set(s, &s->backend_done);
	xgnt_guest_bind(NULL, 0);
	return NULL;
}

static void *frontend(void *arg)
{
	struct xt_store *s = arg;
	struct xt_front_ring fr;
	struct xt_sring *sring;
	uint8_t *data[NR_DATA];
	unsigned int sent = 0, got = 0, i;
	uintptr_t rc = 0;
	RING_IDX rp;
	int notify;

	if (xgnt_guest_bind(s->front, 0))
		return (void *)1;
	/* The ring page and data pages, granted to the backend. */
	sring = xgnt_page_alloc(s->front, 1);
	if (!sring)
		return (void *)2;
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&fr, sring, PAGE);
	s->ring_ref = gnttab_grant_access(s->back_id, xen_virt_to_gfn(sring), false);
	if (s->ring_ref == GNTTAB_INVAL_GREF)
		return (void *)3;
	for (i = 0; i < NR_DATA; i++) {
		int32_t r = gnttab_alloc_and_grant((void **)&data[i], false);

		/* alloc_and_grant grants to dom0; re-grant to the backend. */
		if (r < 0 || gnttab_end_access((grant_ref_t)r))
			return (void *)4;
		s->data_ref[i] = gnttab_grant_access(s->back_id, xen_virt_to_gfn(data[i]),
						     false);
		if (s->data_ref[i] == GNTTAB_INVAL_GREF)
			return (void *)5;
	}
	store_set(s, &s->published);

	/* One request per data page in flight; reuse a page once answered. */
	while (got < NR_MSGS) {
		while (sent < NR_MSGS && sent - got < NR_DATA) {
			struct xt_request *req = RING_GET_REQUEST(&fr, fr.req_prod_pvt);
			uint32_t pg = sent % NR_DATA;

			fill(data[pg], MSG_LEN, (uint8_t)sent);
			req->id = sent;
			req->page = pg;
			req->len = MSG_LEN;
			fr.req_prod_pvt++;
			sent++;
		}
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, notify);
		(void)notify;
		if (!wait_until(front_has_responses, &fr))
			return (void *)6;
		rp = fr.sring->rsp_prod;
		xen_rmb();   /* the responses after the index that published them */
		while (fr.rsp_cons != rp) {
			struct xt_response rsp = *RING_GET_RESPONSE(&fr, fr.rsp_cons);
			uint8_t want[MSG_LEN];
			uint8_t *buf;

			fr.rsp_cons++;
			if (rsp.id != got || rsp.status || rsp.len != MSG_LEN)
				return (void *)7;
			fill(want, MSG_LEN, (uint8_t)got);
			buf = data[rsp.id % NR_DATA];
			for (i = 0; i < MSG_LEN; i++)
				if (buf[i] != flip(want[MSG_LEN - 1 - i]))
					return (void *)8;
			got++;
		}
	}

	/* Teardown: the backend unmaps, then every grant ends and pages go. */
	store_wait(s, &s->backend_done);
	if (gnttab_end_access(s->ring_ref))
		rc = 9;
	for (i = 0; i < NR_DATA; i++) {
		if (gnttab_end_access(s->data_ref[i]))
			rc = 10;
		gnttab_free_page(data[i]);
	}
	xgnt_page_free(s->front, sring, 1);
	xgnt_guest_bind(NULL, 0);
	return (void *)rc;
}

static void frontend_backend(enum xgnt_domain_type tf, enum xgnt_domain_type tb)
{
	struct xt_store s = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
		.front_id = ID_A,
		.back_id = ID_B,
	};
	pthread_t tfront, tback;
	void *rf, *rb;
	struct env e;

	env_up_cfg(&e, tf, tb, 0);
	s.front = e.a;
	s.back = e.b;
	s.back_rc = -1;
	assert_int_equal(pthread_create(&tback, NULL, backend, &s), 0);
	assert_int_equal(pthread_create(&tfront, NULL, frontend, &s), 0);
	assert_int_equal(pthread_join(tfront, &rf), 0);
	if (rf) {
		/* Let a waiting backend go before failing. */
		store_set(&s, &s.published);
	}
	assert_int_equal(pthread_join(tback, &rb), 0);
	assert_int_equal((uintptr_t)rf, 0);
	assert_null(rb);
	assert_int_equal(s.back_rc, 0);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	env_down(&e);
}

static void test_frontend_backend_hvm_hvm(void **state)
{
	(void)state;
	frontend_backend(XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
}

static void test_frontend_backend_pv_front_hvm_back(void **state)
{
	(void)state;
	frontend_backend(XGNT_DOMAIN_PV, XGNT_DOMAIN_HVM);
}

static void test_frontend_backend_arm(void **state)
{
	(void)state;
	frontend_backend(XGNT_DOMAIN_ARM, XGNT_DOMAIN_ARM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unbound_thread_fails_by_each_convention),
		cmocka_unit_test(test_virt_to_gfn_translated_and_pv),
		cmocka_unit_test(test_grant_map_unmap_end_hvm_granter),
		cmocka_unit_test(test_grant_map_unmap_end_pv_granter),
		cmocka_unit_test(test_map_refs_takes_guest_addresses_unchanged),
		cmocka_unit_test(test_readonly_grant_refuses_writable_map),
		cmocka_unit_test(test_map_batch_reports_each_status),
		cmocka_unit_test(test_map_refs_large_mixed_batch),
		cmocka_unit_test(test_end_access_while_mapped_is_busy_and_ref_kept),
		cmocka_unit_test(test_end_access_twice_frees_once),
		cmocka_unit_test(test_two_vcpus_grant_and_end_at_once),
		cmocka_unit_test(test_full_table_is_inval_gref_at_once),
		cmocka_unit_test(test_alloc_and_grant_grants_dom0),
		cmocka_unit_test(test_get_put_pages),
		cmocka_unit_test(test_gnttabop_error_strings),
		cmocka_unit_test(test_frontend_backend_hvm_hvm),
		cmocka_unit_test(test_frontend_backend_pv_front_hvm_back),
		cmocka_unit_test(test_frontend_backend_arm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
