/* SPDX-License-Identifier: MIT */
/*
 * The guest library's grant references under threads (run under
 * ThreadSanitizer: the name starts with test_conc_): many threads granting
 * and ending at once while the table grows and fills, bound each to its
 * own vCPU or unbound; deferred ends racing a peer that maps and unmaps;
 * free callbacks requested and cancelled while others free references.
 *
 * Worker threads never call cmocka asserts (they longjmp): they record
 * failures, and the main thread asserts after joining them.
 */
#include "harness.h"

#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgnt/guest.h>

#define ID_A   1
#define ID_B   2
#define NT     4
#define ITERS  1500
#define MAXF   4                      /* grant frames: the table fills up */
#define NREFS  (MAXF * 512)

/* ---- failures recorded by any thread, asserted by the main thread ------- */

static atomic_int n_fail;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_first[512];

static void record_fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record_fail(int line, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&n_fail, 1) != 0)
		return;
	pthread_mutex_lock(&fail_lock);
	va_start(ap, fmt);
	snprintf(fail_first, sizeof(fail_first), "line %d: ", line);
	vsnprintf(fail_first + strlen(fail_first), sizeof(fail_first) - strlen(fail_first), fmt,
		  ap);
	va_end(ap);
	pthread_mutex_unlock(&fail_lock);
}

#define FAIL(...) record_fail(__LINE__, __VA_ARGS__)

static void assert_no_failures(void)
{
	pthread_mutex_lock(&fail_lock);
	if (atomic_load(&n_fail))
		fail_msg("%d failures; first: %s", atomic_load(&n_fail), fail_first);
	pthread_mutex_unlock(&fail_lock);
}

static void reset_failures(void)
{
	atomic_store(&n_fail, 0);
	fail_first[0] = 0;
}

struct env {
	struct xgnt_machine *m;
	struct xgnt_domain *da, *db;
	struct xgnt_guest *a, *b;
};

static void env_up(struct env *e, unsigned int version, uint32_t max_frames)
{
	struct xgnt_domain_config c = {
		.type = XGNT_DOMAIN_HVM, .ram_frames = 1024, .ext_frames = 4096, .nr_vcpus = NT,
	};

	reset_failures();
	e->m = t_machine_cfg(16384, max_frames, 0, 0);
	c.domid = ID_A;
	e->da = xgnt_domain_create(e->m, &c);
	c.domid = ID_B;
	e->db = xgnt_domain_create(e->m, &c);
	assert_non_null(e->da);
	assert_non_null(e->db);
	e->a = xgnt_guest_create_inproc(e->da);
	e->b = xgnt_guest_create_inproc(e->db);
	assert_non_null(e->a);
	assert_non_null(e->b);
	assert_int_equal(xgnt_gnttab_init(e->a, version), 0);
	assert_int_equal(xgnt_gnttab_init(e->b, 1), 0);
}

static void env_down(struct env *e)
{
	xgnt_guest_destroy(e->a);
	xgnt_guest_destroy(e->b);
	xgnt_machine_destroy(e->m);
}

static unsigned int rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

/* ---- many threads granting and ending ---------------------------------------- */

struct grant_ctx {
	struct env *e;
	bool bind;
	_Atomic int owner[NREFS];     /* 0, or the thread (1-based) holding the ref */
	atomic_uint enospc;
};

struct worker {
	struct grant_ctx *c;
	unsigned int id;
	pthread_t th;
};

static void claim_owner(struct grant_ctx *c, grant_ref_t ref, int me)
{
	int none = 0;

	if (ref < 8 || ref >= NREFS) {
		FAIL("ref %u out of range", ref);
		return;
	}
	if (!atomic_compare_exchange_strong(&c->owner[ref], &none, me))
		FAIL("ref %u handed to thread %d while thread %d holds it", ref, me, none);
}

static void drop_owner(struct grant_ctx *c, grant_ref_t ref, int me)
{
	int expect = me;

	if (ref < NREFS && !atomic_compare_exchange_strong(&c->owner[ref], &expect, 0))
		FAIL("ref %u owned by %d, not %d", ref, expect, me);
}

/* Grant up to k refs one by one, then end them all. */
static void round_single(struct grant_ctx *c, struct xgnt_guest *g, xen_pfn_t frame,
			 unsigned int k, int me)
{
	grant_ref_t refs[16];
	unsigned int n, i;
	int rc;

	for (n = 0; n < k; n++) {
		rc = xgnt_grant_access(g, ID_B, frame, n & 1, &refs[n]);
		if (rc == -ENOSPC) {
			atomic_fetch_add(&c->enospc, 1);
			break;
		}
		if (rc) {
			FAIL("grant_access: %d", rc);
			break;
		}
		claim_owner(c, refs[n], me);
		if (xgnt_grant_in_use(g, refs[n]))
			FAIL("fresh ref %u in use", refs[n]);
	}
	for (i = 0; i < n; i++) {
		drop_owner(c, refs[i], me);
		rc = xgnt_end_access(g, refs[i]);
		if (rc)
			FAIL("end_access(%u): %d", refs[i], rc);
	}
}

/* The same through a private batch. */
static void round_batch(struct grant_ctx *c, struct xgnt_guest *g, xen_pfn_t frame,
			unsigned int k, int me)
{
	grant_ref_t head, refs[16];
	unsigned int i;
	int rc;

	rc = xgnt_gref_alloc_batch(g, k, &head);
	if (rc == -ENOSPC) {
		atomic_fetch_add(&c->enospc, 1);
		return;
	}
	if (rc) {
		FAIL("alloc_batch: %d", rc);
		return;
	}
	for (i = 0; i < k; i++) {
		rc = xgnt_gref_claim(g, &head);
		if (rc < 0) {
			FAIL("claim %u of %u: %d", i, k, rc);
			return;
		}
		refs[i] = (grant_ref_t)rc;
		claim_owner(c, refs[i], me);
		xgnt_grant_access_ref(g, refs[i], ID_B, frame, false);
	}
	if (xgnt_gref_claim(g, &head) != -ENOSPC)
		FAIL("batch of %u gave more", k);
	for (i = 0; i < k; i++) {
		drop_owner(c, refs[i], me);
		rc = xgnt_end_access_ref(g, refs[i]);
		if (rc)
			FAIL("end_access_ref(%u): %d", refs[i], rc);
		xgnt_gref_release(g, &head, refs[i]);
	}
	xgnt_gref_free_batch(g, head);
}

static void *grant_worker(void *arg)
{
	struct worker *w = arg;
	struct grant_ctx *c = w->c;
	struct xgnt_guest *g = c->e->a;
	unsigned int seed = w->id * 7919 + 1, it;
	int me = (int)w->id + 1;
	xen_pfn_t frame;
	void *page;

	if (c->bind && xgnt_guest_bind(g, w->id))
		FAIL("bind");
	page = xgnt_page_alloc(g, 1);
	if (!page) {
		FAIL("no page");
		return NULL;
	}
	frame = xgnt_guest_frame(g, page);
	for (it = 0; it < ITERS; it++) {
		unsigned int k = 1 + rnd(&seed) % 16;

		/* Now and then a thread holds many: the table fills. */
		if (rnd(&seed) % 64 == 0)
			k = 16;
		if (it % 4 == 3)
			round_batch(c, g, frame, k, me);
		else
			round_single(c, g, frame, k, me);
	}
	xgnt_page_free(g, page, 1);
	xgnt_guest_bind(NULL, 0);
	return NULL;
}

static void many_threads(unsigned int version, bool bind)
{
	static struct grant_ctx c;
	struct worker w[NT];
	struct env e;
	unsigned int i, per = version == 2 ? 256 : 512;

	env_up(&e, version, MAXF);
	memset(&c, 0, sizeof(c));
	c.e = &e;
	c.bind = bind;
	for (i = 0; i < NT; i++) {
		w[i].c = &c;
		w[i].id = i;
		assert_int_equal(pthread_create(&w[i].th, NULL, grant_worker, &w[i]), 0);
	}
	for (i = 0; i < NT; i++)
		pthread_join(w[i].th, NULL);
	assert_no_failures();
	assert_true(xgnt_gnttab_nr_frames(e.a) <= MAXF);
	assert_int_equal(xgnt_gref_nr_free(e.a), xgnt_gnttab_nr_frames(e.a) * per - 8);
	for (i = 0; i < NREFS; i++)
		assert_int_equal(atomic_load(&c.owner[i]), 0);
	env_down(&e);
}

static void test_conc_grant_and_end_bound_v1(void **state)
{
	(void)state;
	many_threads(1, true);
}

static void test_conc_grant_and_end_bound_v2(void **state)
{
	(void)state;
	many_threads(2, true);
}

static void test_conc_grant_and_end_unbound_v1(void **state)
{
	(void)state;
	many_threads(1, false);
}

static void test_conc_grant_and_end_unbound_v2(void **state)
{
	(void)state;
	many_threads(2, false);
}

/* ---- deferred ends against a peer that maps ----------------------------------------- */

#define NSLOT     8
#define DITERS    800
#define MARK      0xdeaddeaddeaddeadull

struct defer_ctx {
	struct env *e;
	_Atomic uint64_t slot[NSLOT];   /* ref + 1, or 0 */
	atomic_uint granted, released, mapped, granters_left;
};

struct dworker {
	struct defer_ctx *c;
	unsigned int id;
	pthread_t th;
};

static void on_release(void *page, void *arg)
{
	struct defer_ctx *c = arg;

	/* Only now may the page change under the peer: it has unmapped. */
	__atomic_store_n((uint64_t *)page, MARK, __ATOMIC_RELAXED);
	xgnt_page_free(c->e->a, page, 1);
	atomic_fetch_add(&c->released, 1);
}

static void *deferring_granter(void *arg)
{
	struct dworker *w = arg;
	struct defer_ctx *c = w->c;
	struct xgnt_guest *g = c->e->a;
	unsigned int seed = w->id + 17, it, spin;
	_Atomic uint64_t *slot;

	xgnt_guest_bind(g, w->id);
	for (it = 0; it < DITERS; it++) {
		uint64_t *page = xgnt_page_alloc(g, 1);
		grant_ref_t ref;
		int rc;

		if (!page) {
			xgnt_gnttab_poll_deferred(g);
			sched_yield();
			continue;
		}
		__atomic_store_n(page, ((uint64_t)w->id << 32) | it, __ATOMIC_RELAXED);
		rc = xgnt_grant_access(g, ID_B, xgnt_guest_frame(g, page), true, &ref);
		if (rc) {
			if (rc != -ENOSPC)
				FAIL("grant_access: %d", rc);
			xgnt_page_free(g, page, 1);
			xgnt_gnttab_poll_deferred(g);
			continue;
		}
		atomic_fetch_add(&c->granted, 1);
		slot = &c->slot[w->id * (NSLOT / 2) + rnd(&seed) % (NSLOT / 2)];
		atomic_store(slot, (uint64_t)ref + 1);
		/* Mostly wait until the peer took it, so it is often mapped when
		 * we end: the end is deferred. The very first grant waits (up to
		 * 10 s) until the peer has mapped it, so that however the
		 * threads are scheduled at least one end really is deferred. */
		for (spin = 0; rnd(&seed) % 4 && atomic_load(slot) && spin < 2000; spin++)
			sched_yield();
		if (w->id == 0 && it == 0) {
			struct timespec ts = { .tv_nsec = 1000000 };

			for (spin = 0; !atomic_load(&c->mapped) && spin < 10000; spin++)
				nanosleep(&ts, NULL);
		}
		xgnt_end_access_deferred(g, ref, on_release, page, c);
		if (it % 16 == 0)
			xgnt_gnttab_poll_deferred(g);
	}
	xgnt_guest_bind(NULL, 0);
	atomic_fetch_sub(&c->granters_left, 1);
	return NULL;
}

static void *mapper(void *arg)
{
	struct defer_ctx *c = arg;
	struct xgnt_guest *g = c->e->b;
	uint64_t *host = xgnt_unpopulated_alloc(g, 1);
	unsigned int i;

	xgnt_guest_bind(g, 0);
	if (!host) {
		FAIL("no host page");
		return NULL;
	}
	while (atomic_load(&c->granters_left)) {
		for (i = 0; i < NSLOT; i++) {
			uint64_t v = atomic_exchange(&c->slot[i], 0);
			struct gnttab_map_grant_ref op = {
				.host_addr = xgnt_guest_addr(g, host),
				.flags = GNTMAP_host_map | GNTMAP_readonly,
				.dom = ID_A,
			};
			struct gnttab_unmap_grant_ref uop = { .host_addr = op.host_addr };

			if (!v)
				continue;
			op.ref = (grant_ref_t)(v - 1);
			if (xgnt_map_refs(g, &op, 1)) {
				FAIL("map_refs");
				continue;
			}
			if (op.status != GNTST_okay)
				continue;   /* ended before we came */
			atomic_fetch_add(&c->mapped, 1);
			if (__atomic_load_n(host, __ATOMIC_RELAXED) == MARK)
				FAIL("page of ref %u released while mapped", op.ref);
			for (unsigned int y = 0; y < 3; y++)
				sched_yield();
			if (__atomic_load_n(host, __ATOMIC_RELAXED) == MARK)
				FAIL("page of ref %u released while mapped", op.ref);
			uop.handle = op.handle;
			if (xgnt_unmap_refs(g, &uop, 1) || uop.status != GNTST_okay)
				FAIL("unmap: %d", uop.status);
		}
	}
	xgnt_unpopulated_free(g, host, 1);
	xgnt_guest_bind(NULL, 0);
	return NULL;
}

static void test_conc_deferred_end_against_mapper(void **state)
{
	static struct defer_ctx c;
	struct dworker w[2];
	pthread_t mt;
	struct env e;
	unsigned int i;

	(void)state;
	for (unsigned int version = 1; version <= 2; version++) {
		env_up(&e, version, MAXF);
		memset(&c, 0, sizeof(c));
		c.e = &e;
		atomic_store(&c.granters_left, 2);
		for (i = 0; i < 2; i++) {
			w[i].c = &c;
			w[i].id = i;
			assert_int_equal(pthread_create(&w[i].th, NULL, deferring_granter, &w[i]),
					 0);
		}
		assert_int_equal(pthread_create(&mt, NULL, mapper, &c), 0);
		for (i = 0; i < 2; i++)
			pthread_join(w[i].th, NULL);
		pthread_join(mt, NULL);
		assert_no_failures();
		/* The peer is done with everything: every page comes back. */
		xgnt_gnttab_poll_deferred(e.a);
		assert_int_equal(xgnt_gnttab_nr_deferred(e.a), 0);
		assert_int_equal(xgnt_gnttab_nr_leaked(e.a), 0);
		assert_int_equal(atomic_load(&c.released), atomic_load(&c.granted));
		assert_true(atomic_load(&c.mapped) > 0);
		env_down(&e);
	}
}

/* ---- callbacks requested and cancelled while others free ------------------------------ */

struct cb_ctx {
	struct env *e;
	atomic_int running, fired;
	atomic_bool stop;
};

static void slow_cb(void *arg)
{
	struct cb_ctx *c = arg;

	atomic_store(&c->running, 1);
	for (int i = 0; i < 5; i++)
		sched_yield();
	atomic_fetch_add(&c->fired, 1);
	atomic_store(&c->running, 0);
}

static void *churner(void *arg)
{
	struct cb_ctx *c = arg;
	grant_ref_t refs[8];
	unsigned int i, n;

	while (!atomic_load(&c->stop)) {
		for (n = 0; n < 8 && xgnt_gref_alloc(c->e->a, &refs[n]) == 0; n++)
			;
		for (i = 0; i < n; i++)
			xgnt_gref_free(c->e->a, refs[i]);
	}
	return NULL;
}

static void test_conc_free_callbacks(void **state)
{
	static struct cb_ctx c;
	struct xgnt_gref_callback *cb;
	grant_ref_t head;
	pthread_t th[2];
	struct env e;
	unsigned int i;

	(void)state;
	env_up(&e, 1, 1);
	memset(&c, 0, sizeof(c));
	c.e = &e;
	/* Nearly full, so frees and callbacks interleave. */
	assert_int_equal(xgnt_gref_alloc_batch(e.a, 496, &head), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, churner, &c), 0);
	for (i = 0; i < 1000; i++) {
		cb = malloc(sizeof(*cb));
		assert_non_null(cb);
		xgnt_gref_request_free_callback(e.a, cb, slow_cb, &c, 1 + i % 8);
		sched_yield();
		xgnt_gref_cancel_free_callback(e.a, cb);
		/* Cancelled: fn is not running (it is our only callback), and cb
		 * can go. */
		if (atomic_load(&c.running))
			FAIL("callback still running after cancel");
		free(cb);
	}
	atomic_store(&c.stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_no_failures();
	assert_true(atomic_load(&c.fired) > 0);
	xgnt_gref_free_batch(e.a, head);
	assert_int_equal(xgnt_gref_nr_free(e.a), 504);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conc_grant_and_end_bound_v1),
		cmocka_unit_test(test_conc_grant_and_end_bound_v2),
		cmocka_unit_test(test_conc_grant_and_end_unbound_v1),
		cmocka_unit_test(test_conc_grant_and_end_unbound_v2),
		cmocka_unit_test(test_conc_deferred_end_against_mapper),
		cmocka_unit_test(test_conc_free_callbacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
