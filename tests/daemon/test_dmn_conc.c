/* SPDX-License-Identifier: MIT */
/*
 * The drop-in libraries from several threads of one process, as Linux's
 * device files allow: one gntdev handle's grant copies, maps and unmaps,
 * one gntalloc handle's shares, and one evtchn handle's notifies, all at
 * once. Label: concurrent.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "dfix.h"

#define PAGE 4096u
#define THREADS 4
#define ITERS 150

static xengnttab_handle *gt;
static xengntshr_handle *gs;
static uint8_t *pages;             /* THREADS shared pages */
static uint32_t refs[THREADS];
static int failures;

static void note_failure(const char *what, int t, int i)
{
	fprintf(stderr, "thread %d iteration %d: %s\n", t, i, what);
	__atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
}

/* Thread t copies its own pattern into its page and back, many times,
 * through the one shared handle. */
static void *copy_thread(void *arg)
{
	int t = (int)(intptr_t)arg, i;
	uint8_t src[PAGE], dst[PAGE];

	for (i = 0; i < ITERS; i++) {
		xengnttab_grant_copy_segment_t seg[2];
		uint8_t v = (uint8_t)(t * 50 + i);

		memset(src, v, PAGE);
		memset(seg, 0, sizeof(seg));
		seg[0].source.virt = src;
		seg[0].dest.foreign.ref = refs[t];
		seg[0].dest.foreign.domid = 0;
		seg[0].len = PAGE;
		seg[0].flags = GNTCOPY_dest_gref;
		if (xengnttab_grant_copy(gt, 1, seg) || seg[0].status != GNTST_okay) {
			note_failure("copy to the page", t, i);
			continue;
		}
		memset(dst, 0, PAGE);
		seg[1].source.foreign.ref = refs[t];
		seg[1].source.foreign.domid = 0;
		seg[1].dest.virt = dst;
		seg[1].len = PAGE;
		seg[1].flags = GNTCOPY_source_gref;
		if (xengnttab_grant_copy(gt, 1, &seg[1]) || seg[1].status != GNTST_okay) {
			note_failure("copy from the page", t, i);
			continue;
		}
		if (memcmp(dst, src, PAGE) || pages[t * PAGE] != v || pages[t * PAGE + PAGE - 1] != v)
			note_failure("copied data is another thread's", t, i);
	}
	return NULL;
}

static void test_copy_threads(void **state)
{
	pthread_t th[THREADS];
	int t;

	(void)state;
	gt = xengnttab_open(NULL, 0);
	gs = xengntshr_open(NULL, 0);
	assert_non_null(gt);
	assert_non_null(gs);
	pages = xengntshr_share_pages(gs, 0, THREADS, refs, 1);
	assert_non_null(pages);
	failures = 0;
	for (t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, copy_thread, (void *)(intptr_t)t), 0);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(failures, 0);
	assert_int_equal(xengntshr_unshare(gs, pages, THREADS), 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
}

/* Share, map, check, unmap, unshare; all threads on the same handles. */
static void *map_thread(void *arg)
{
	int t = (int)(intptr_t)arg, i;

	for (i = 0; i < ITERS; i++) {
		uint32_t r[2];
		uint8_t *s = xengntshr_share_pages(gs, 0, 2, r, 1), *m;

		if (!s) {
			note_failure("share", t, i);
			continue;
		}
		s[0] = (uint8_t)t;
		s[PAGE] = (uint8_t)i;
		m = xengnttab_map_domain_grant_refs(gt, 2, 0, r, PROT_READ | PROT_WRITE);
		if (!m) {
			note_failure("map", t, i);
		} else {
			if (m[0] != (uint8_t)t || m[PAGE] != (uint8_t)i)
				note_failure("mapped data", t, i);
			m[1] = 1;
			if (s[1] != 1)
				note_failure("write through the map", t, i);
			if (xengnttab_unmap(gt, m, 2))
				note_failure("unmap", t, i);
		}
		if (xengntshr_unshare(gs, s, 2))
			note_failure("unshare", t, i);
	}
	return NULL;
}

static void test_map_threads(void **state)
{
	struct xgntd_domain_info before = dfix_domain(0);
	pthread_t th[THREADS];
	int t;

	(void)state;
	gt = xengnttab_open(NULL, 0);
	gs = xengntshr_open(NULL, 0);
	assert_non_null(gt);
	assert_non_null(gs);
	failures = 0;
	for (t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, map_thread, (void *)(intptr_t)t), 0);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(failures, 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
	assert_true(WAIT_FOR(dfix_domain(0).nr_grants == before.nr_grants, 2000));
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings);
}

static xenevtchn_handle *eh;
static int ports[THREADS];

static void *notify_thread(void *arg)
{
	int t = (int)(intptr_t)arg, i;

	for (i = 0; i < ITERS; i++)
		if (xenevtchn_notify(eh, (evtchn_port_t)ports[t]))
			note_failure("notify", t, i);
	return NULL;
}

/* Notifies from several threads on one handle while the main thread
 * takes deliveries on another: every port is delivered at least once
 * after its thread's last notify. */
static void test_event_threads(void **state)
{
	xenevtchn_handle *rx = xenevtchn_open(NULL, 0);
	int rports[THREADS], seen[THREADS] = { 0 }, t, p, k;
	pthread_t th[THREADS];

	(void)state;
	eh = xenevtchn_open(NULL, 0);
	assert_non_null(eh);
	assert_non_null(rx);
	for (t = 0; t < THREADS; t++) {
		rports[t] = xenevtchn_bind_unbound_port(rx, 0);
		assert_true(rports[t] > 0);
		ports[t] = xenevtchn_bind_interdomain(eh, 0, (evtchn_port_t)rports[t]);
		assert_true(ports[t] > 0);
	}
	failures = 0;
	for (t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, notify_thread, (void *)(intptr_t)t), 0);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(failures, 0);
	/*
	 * A notify returns once its event is delivered or held (the first
	 * through the daemon, the others straight to rx's bell and pipe), so
	 * every notify is in before the first unmask below: each port is
	 * delivered, then at most once more for what it held.
	 */
	assert_true(dfix_readable(xenevtchn_fd(rx), 0));
	/* drain: each port shows up, masked until unmasked */
	while (dfix_readable(xenevtchn_fd(rx), 500)) {
		p = xenevtchn_pending(rx);
		for (k = 0; k < THREADS && rports[k] != p; k++)
			;
		assert_true(k < THREADS);
		seen[k]++;
		assert_int_equal(xenevtchn_unmask(rx, (evtchn_port_t)p), 0);
	}
	for (t = 0; t < THREADS; t++) {
		if (seen[t] < 1 || seen[t] > 2)
			print_error("port %d delivered %d times\n", rports[t], seen[t]);
		assert_true(seen[t] >= 1 && seen[t] <= 2);
	}
	xenevtchn_close(eh);
	xenevtchn_close(rx);
}

/* xc_domain_getinfo from several threads, each on its own interface:
 * each sees the domains it asked for. */
static void *getinfo_thread(void *arg)
{
	int t = (int)(intptr_t)arg, i;
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xc_dominfo_t info[4];

	if (!xch) {
		note_failure("xc_interface_open", t, 0);
		return NULL;
	}
	for (i = 0; i < ITERS; i++) {
		uint32_t first = (uint32_t)((t + i) % 2);   /* 0: both domains, 1: one */
		int n = xc_domain_getinfo(xch, first, 4, info);

		if (n != 2 - (int)first || info[0].domid != first ||
		    (n == 2 && info[1].domid != 1))
			note_failure("xc_domain_getinfo", t, i);
	}
	xc_interface_close(xch);
	return NULL;
}

static void test_getinfo_threads(void **state)
{
	pthread_t th[THREADS];
	int t;

	(void)state;
	failures = 0;
	for (t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, getinfo_thread, (void *)(intptr_t)t), 0);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_threads, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_map_threads, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_event_threads, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_getinfo_threads, dfix_setup, dfix_teardown),
	};

	return cmocka_run_group_tests_name("xgntd: threads of one process", tests, NULL, NULL);
}
