/* SPDX-License-Identifier: MIT */
/*
 * Several processes acting for the same domain: two processes of domain 1
 * share, map and signal each other (as two programs of one guest do);
 * handles inherited across fork; a process of each domain at once.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>

#include "dfix.h"

#define PAGE 4096u
#define ROUNDS 40

/* Domain 1, process A: shares 4 pages and an unbound port to domain 1;
 * then for each round writes round into page r%4 and notifies, and waits
 * for B's answer (round + 1000 in the last word of that page). */
static int child_a(int fd, void *arg)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	uint32_t refs[4], r, k;
	volatile uint32_t *s;
	int port;

	(void)arg;
	CHK(gs && e);
	s = xengntshr_share_pages(gs, 1, 4, refs, 1);
	CHK(s);
	port = xenevtchn_bind_unbound_port(e, 1);
	CHK(port > 0);
	for (k = 0; k < 4; k++)
		CHK(ch_put(fd, refs[k]) == 0);
	CHK(ch_put(fd, (uint32_t)port) == 0);
	/* B binds; Xen's bind-time pending is on B's side. */
	for (r = 1; r <= ROUNDS; r++) {
		volatile uint32_t *pg = s + (r % 4) * (PAGE / 4);

		pg[0] = r;
		CHK(xenevtchn_notify(e, (evtchn_port_t)port) == 0);
		CHK(dfix_readable(xenevtchn_fd(e), 5000));
		CHK(xenevtchn_pending(e) == port);
		CHK(xenevtchn_unmask(e, (evtchn_port_t)port) == 0);
		CHK(pg[PAGE / 4 - 1] == r + 1000);
	}
	CHK(ch_get_chk(fd) == 99);           /* B has unmapped */
	CHK(xengntshr_unshare(gs, (void *)s, 4) == 0);
	xengntshr_close(gs);
	xenevtchn_close(e);
	return 0;
}

/* Domain 1, process B: maps A's pages (granted by domain 1) and answers. */
static int child_b(int fd, void *arg)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	uint32_t refs[4], remote, r, k;
	volatile uint32_t *m;
	int local;

	(void)arg;
	CHK(gt && e);
	for (k = 0; k < 4; k++)
		refs[k] = ch_get_chk(fd);
	remote = ch_get_chk(fd);
	m = xengnttab_map_domain_grant_refs(gt, 4, 1, refs, PROT_READ | PROT_WRITE);
	CHK(m);
	local = xenevtchn_bind_interdomain(e, 1, remote);
	CHK(local > 0);
	CHK(ch_put(fd, 1) == 0);
	for (r = 1; r <= ROUNDS; r++) {
		volatile uint32_t *pg = m + (r % 4) * (PAGE / 4);

		/* Xen's bind-time pending comes first: skip until the round
		 * shows. */
		do {
			CHK(dfix_readable(xenevtchn_fd(e), 5000));
			CHK(xenevtchn_pending(e) == local);
			CHK(xenevtchn_unmask(e, (evtchn_port_t)local) == 0);
		} while (pg[0] != r);
		pg[PAGE / 4 - 1] = r + 1000;
		CHK(xenevtchn_notify(e, (evtchn_port_t)local) == 0);
	}
	CHK(xengnttab_unmap(gt, (void *)m, 4) == 0);
	xengnttab_close(gt);
	xenevtchn_close(e);
	return 0;
}

static void test_same_domain_processes(void **state)
{
	struct xgntd_domain_info before = dfix_domain(1), during;
	uint32_t v[5], ok;
	int fa, fb, k;
	pid_t a, b;

	(void)state;
	a = dfix_child(1, child_a, NULL, &fa);
	b = dfix_child(1, child_b, NULL, &fb);
	assert_true(a > 0 && b > 0);
	for (k = 0; k < 5; k++)
		assert_int_equal(ch_get(fa, &v[k]), 0);
	for (k = 0; k < 5; k++)
		assert_int_equal(ch_put(fb, v[k]), 0);
	assert_int_equal(ch_get(fb, &ok), 0);
	during = dfix_domain(1);
	assert_int_equal(during.nr_handles, before.nr_handles + 4);
	assert_int_equal(during.nr_grants, before.nr_grants + 4);
	assert_int_equal(during.nr_mappings, before.nr_mappings + 4);
	assert_int_equal(during.nr_ports, before.nr_ports + 2);
	assert_int_equal(dfix_wait(b), 0);
	assert_int_equal(ch_put(fa, 99), 0);
	assert_int_equal(dfix_wait(a), 0);
	close(fa);
	close(fb);
	during = dfix_domain(1);
	assert_int_equal(during.nr_handles, before.nr_handles);
	assert_int_equal(during.nr_grants, before.nr_grants);
	assert_int_equal(during.nr_mappings, before.nr_mappings);
	assert_int_equal(during.nr_ports, before.nr_ports);
}

/* A child that closes the handles it inherited, and one that uses the
 * inherited mapping; neither disturbs the parent's handles. */
static void test_fork_inherit(void **state)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	uint32_t ref, ref2;
	uint8_t *s, *m, *m2;
	int a, b, status;
	pid_t pid;

	(void)state;
	assert_non_null(gs);
	assert_non_null(gt);
	assert_non_null(e);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	assert_non_null(s);
	m = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ | PROT_WRITE);
	assert_non_null(m);
	a = xenevtchn_bind_unbound_port(e, 0);
	b = xenevtchn_bind_interdomain(e, 0, (evtchn_port_t)a);
	assert_true(a > 0 && b > 0);
	assert_true(dfix_readable(xenevtchn_fd(e), 2000));
	assert_int_equal(xenevtchn_pending(e), b);
	assert_int_equal(xenevtchn_unmask(e, (evtchn_port_t)b), 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* the mapping is shared memory: the child sees and writes it */
		CHK(m[0] == 0);
		m[1] = 0x77;
		xengnttab_close(gt);
		xengntshr_close(gs);
		xenevtchn_close(e);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(s[1], 0x77);
	/* The parent's handles all still work. */
	m[2] = 0x88;
	assert_int_equal(s[2], 0x88);
	assert_non_null(xengntshr_share_pages(gs, 0, 1, &ref2, 1));
	m2 = xengnttab_map_grant_ref(gt, 0, ref2, PROT_READ);
	assert_non_null(m2);
	assert_int_equal(xenevtchn_notify(e, (evtchn_port_t)a), 0);
	assert_true(dfix_readable(xenevtchn_fd(e), 2000));
	assert_int_equal(xenevtchn_pending(e), b);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	assert_int_equal(xengnttab_unmap(gt, m2, 1), 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
	xenevtchn_close(e);
}

/* Domain 1 process: maps domain 0's page and domain 0 maps its page, at
 * the same time as a second domain-0 process does the same. */
static int child_pair(int fd, void *arg)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t ref, peer_dom = *(uint32_t *)arg, peer_ref;
	uint8_t *s, *m;
	int i;

	CHK(gs && gt);
	s = xengntshr_share_pages(gs, peer_dom, 1, &ref, 1);
	CHK(s);
	memset(s, (int)(getpid() & 0xff), PAGE);
	CHK(ch_put(fd, ref) == 0);
	CHK(ch_put(fd, (uint32_t)(getpid() & 0xff)) == 0);
	peer_ref = ch_get_chk(fd);
	i = (int)ch_get_chk(fd);
	m = xengnttab_map_grant_ref(gt, peer_dom, peer_ref, PROT_READ);
	CHK(m);
	CHK(m[0] == (uint8_t)i && m[PAGE - 1] == (uint8_t)i);
	CHK(xengnttab_unmap(gt, m, 1) == 0);
	CHK(ch_put(fd, 1) == 0);
	CHK(ch_get_chk(fd) == 2);
	xengntshr_close(gs);
	xengnttab_close(gt);
	return 0;
}

static void test_pairs(void **state)
{
	uint32_t d0 = 0, d1 = 1, v[4][2];
	int fd[4], k;
	pid_t pid[4];

	(void)state;
	/* processes 0,1 of domain 1 pair with processes 2,3 of domain 0 */
	for (k = 0; k < 4; k++) {
		pid[k] = dfix_child(k < 2 ? 1 : 0, child_pair, k < 2 ? &d0 : &d1, &fd[k]);
		assert_true(pid[k] > 0);
	}
	for (k = 0; k < 4; k++) {
		assert_int_equal(ch_get(fd[k], &v[k][0]), 0);
		assert_int_equal(ch_get(fd[k], &v[k][1]), 0);
	}
	for (k = 0; k < 4; k++) {
		int peer = (k + 2) % 4;

		assert_int_equal(ch_put(fd[k], v[peer][0]), 0);
		assert_int_equal(ch_put(fd[k], v[peer][1]), 0);
	}
	for (k = 0; k < 4; k++)
		assert_int_equal(ch_get(fd[k], &v[k][0]), 0);
	for (k = 0; k < 4; k++)
		assert_int_equal(ch_put(fd[k], 2), 0);
	for (k = 0; k < 4; k++) {
		assert_int_equal(dfix_wait(pid[k]), 0);
		close(fd[k]);
	}
	assert_int_equal(dfix_domain(1).nr_grants, 0);
	assert_int_equal(dfix_domain(1).nr_handles, 0);
}

/* Domains of each type (HVM 1, PV 2, Arm 3): a process of each shares a
 * page to domain 0 and maps domain 0's page, with an event channel. */
static int setup_types(void **state)
{
	static const char *const args[] = { "--domain", "1:hvm:16", "--domain", "2:pv:16",
					    "--domain", "3:arm:16", NULL };

	(void)state;
	return dfix_start(&dfix, args);
}

static int child_typed(int fd, void *arg)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd), pref = ch_get_chk(fd), ref;
	uint8_t *s, *m, tag = (uint8_t)(uintptr_t)arg;
	int local;

	CHK(gs && gt && e);
	local = xenevtchn_bind_interdomain(e, 0, remote);
	CHK(local > 0);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	CHK(s);
	memset(s, tag, PAGE);
	m = xengnttab_map_grant_ref(gt, 0, pref, PROT_READ | PROT_WRITE);
	CHK(m);
	CHK(m[0] == 0xd0 && m[PAGE - 1] == 0xd0);
	m[tag] = tag;
	CHK(ch_put(fd, ref) == 0);
	CHK(xenevtchn_notify(e, (evtchn_port_t)local) == 0);
	CHK(ch_get_chk(fd) == 1);            /* parent mapped and wrote */
	CHK(s[1] == 0xd1);
	CHK(xengnttab_unmap(gt, m, 1) == 0);
	CHK(ch_get_chk(fd) == 2);            /* parent unmapped */
	CHK(xengntshr_unshare(gs, s, 1) == 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
	xenevtchn_close(e);
	return 0;
}

static void test_domain_types(void **state)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	uint32_t dom, ref, pref;
	uint8_t *s, *m;
	int port, fd;
	pid_t pid;

	(void)state;
	assert_non_null(gs);
	assert_non_null(gt);
	assert_non_null(e);
	for (dom = 1; dom <= 3; dom++) {
		port = xenevtchn_bind_unbound_port(e, dom);
		assert_true(port > 0);
		s = xengntshr_share_pages(gs, dom, 1, &pref, 1);
		assert_non_null(s);
		memset(s, 0xd0, PAGE);
		pid = dfix_child(dom, child_typed, (void *)(uintptr_t)(0x40 + dom), &fd);
		assert_true(pid > 0);
		assert_int_equal(ch_put(fd, (uint32_t)port), 0);
		assert_int_equal(ch_put(fd, pref), 0);
		assert_int_equal(ch_get(fd, &ref), 0);
		assert_true(dfix_readable(xenevtchn_fd(e), 2000));
		assert_int_equal(xenevtchn_pending(e), port);
		assert_int_equal(xenevtchn_unmask(e, (evtchn_port_t)port), 0);
		assert_int_equal(s[0x40 + dom], 0x40 + dom);
		m = xengnttab_map_grant_ref(gt, dom, ref, PROT_READ | PROT_WRITE);
		assert_non_null(m);
		assert_int_equal(m[0], 0x40 + dom);
		assert_int_equal(m[PAGE - 1], 0x40 + dom);
		m[1] = 0xd1;
		assert_int_equal(ch_put(fd, 1), 0);
		assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
		assert_int_equal(ch_put(fd, 2), 0);
		assert_int_equal(dfix_wait(pid), 0);
		close(fd);
		assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
		assert_int_equal(xenevtchn_unbind(e, (evtchn_port_t)port), 0);
		assert_int_equal(dfix_domain(dom).nr_grants, 0);
		assert_int_equal(dfix_domain(dom).nr_mappings, 0);
	}
	xengnttab_close(gt);
	xengntshr_close(gs);
	xenevtchn_close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_domain_processes, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_fork_inherit, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_pairs, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_domain_types, setup_types, dfix_teardown),
	};

	return cmocka_run_group_tests_name("xgntd: processes of one domain", tests, NULL, NULL);
}
