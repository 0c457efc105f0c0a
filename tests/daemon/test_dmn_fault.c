/* SPDX-License-Identifier: MIT */
/*
 * Processes that die (SIGKILL) with mappings, shares and event channels:
 * the daemon releases what they held as Linux's gntdev/gntalloc/evtchn
 * release a dead process's files (unmap-notify bytes cleared, events
 * sent), and nothing of other processes is lost. Afterwards the daemon's
 * counts (XGNTD_CTL_DOMAIN_LIST) are back where they started. Also a
 * domain destroyed while its handles have requests queued.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>

#include "client/client.h"
#include "dfix.h"

#define PAGE 4096u

struct counts {
	struct xgntd_domain_info d0, d1;
};

static void counts_get(struct counts *c)
{
	c->d0 = dfix_domain(0);
	c->d1 = dfix_domain(1);
}

static bool counts_equal(const struct counts *a, const struct counts *b)
{
	return a->d0.nr_grants == b->d0.nr_grants && a->d0.nr_mappings == b->d0.nr_mappings &&
	       a->d0.nr_ports == b->d0.nr_ports && a->d0.nr_active == b->d0.nr_active &&
	       a->d0.nr_handles == b->d0.nr_handles && a->d1.nr_grants == b->d1.nr_grants &&
	       a->d1.nr_mappings == b->d1.nr_mappings && a->d1.nr_ports == b->d1.nr_ports &&
	       a->d1.nr_active == b->d1.nr_active && a->d1.nr_handles == b->d1.nr_handles;
}

static void counts_expect_back(const struct counts *start)
{
	struct counts now;
	int i;

	for (i = 0; i < 2000; i++) {
		counts_get(&now);
		if (counts_equal(start, &now))
			return;
		usleep(1000);
	}
	fail_msg("leak: d0 grants %u->%u mappings %u->%u ports %u->%u active %u->%u handles %u->%u; "
		 "d1 grants %u->%u mappings %u->%u ports %u->%u active %u->%u handles %u->%u",
		 start->d0.nr_grants, now.d0.nr_grants, start->d0.nr_mappings, now.d0.nr_mappings,
		 start->d0.nr_ports, now.d0.nr_ports, start->d0.nr_active, now.d0.nr_active,
		 start->d0.nr_handles, now.d0.nr_handles, start->d1.nr_grants, now.d1.nr_grants,
		 start->d1.nr_mappings, now.d1.nr_mappings, start->d1.nr_ports, now.d1.nr_ports,
		 start->d1.nr_active, now.d1.nr_active, start->d1.nr_handles, now.d1.nr_handles);
}

/* The next pending port within ms (unmasked again), or -1. */
static int pending_within(xenevtchn_handle *h, int ms)
{
	int port;

	if (!dfix_readable(xenevtchn_fd(h), ms))
		return -1;
	port = xenevtchn_pending(h);
	if (port >= 0)
		xenevtchn_unmask(h, (evtchn_port_t)port);
	return port;
}

/* Binds to the parent's port and drains Xen's bind-time pending bit. */
static int bind_to_parent(xenevtchn_handle *h, uint32_t remote)
{
	int local = xenevtchn_bind_interdomain(h, 0, remote);

	CHK(local > 0);
	CHK(dfix_readable(xenevtchn_fd(h), 5000));
	CHK(xenevtchn_pending(h) == local);
	CHK(xenevtchn_unmask(h, (evtchn_port_t)local) == 0);
	return local;
}

/* Domain 1: maps the parent's page with a notify, then writes a counter
 * at offset 256 until killed. */
static int child_mapper(int fd, void *arg)
{
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd), ref = ch_get_chk(fd), i;
	volatile uint32_t *ctr;
	uint8_t *m;
	int local;

	(void)arg;
	CHK(e && gt);
	local = bind_to_parent(e, remote);
	m = xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ | PROT_WRITE, 0x20,
					   (evtchn_port_t)local);
	CHK(m);
	CHK(m[0x20] == 0xaa);
	CHK(ch_put(fd, 1) == 0);
	ctr = (volatile uint32_t *)(m + 256);
	for (i = 1;; i++)
		*ctr = i;
}

/* Domain 1, a bystander: maps a page and ping-pongs on its own channel
 * whenever the parent asks (channel value 1), until asked to stop (2). */
static int child_bystander(int fd, void *arg)
{
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd), ref = ch_get_chk(fd), cmd;
	volatile uint8_t *m;
	int local;

	(void)arg;
	CHK(e && gt);
	local = bind_to_parent(e, remote);
	m = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ | PROT_WRITE);
	CHK(m);
	CHK(ch_put(fd, 1) == 0);
	while ((cmd = ch_get_chk(fd)) == 1) {
		CHK(dfix_readable(xenevtchn_fd(e), 5000));
		CHK(xenevtchn_pending(e) == local);
		CHK(xenevtchn_unmask(e, (evtchn_port_t)local) == 0);
		m[1] = (uint8_t)(m[0] + 1);
		CHK(xenevtchn_notify(e, (evtchn_port_t)local) == 0);
	}
	CHK(cmd == 2);
	CHK(xengnttab_unmap(gt, (void *)m, 1) == 0);
	xengnttab_close(gt);
	xenevtchn_close(e);
	return 0;
}

struct bystander {
	pid_t pid;
	int fd, port;
	xenevtchn_handle *e;
	uint32_t ref;
	uint8_t *page;
};

static void bystander_start(struct bystander *b, xengntshr_handle *gs)
{
	uint32_t v;

	b->e = xenevtchn_open(NULL, 0);
	assert_non_null(b->e);
	b->port = xenevtchn_bind_unbound_port(b->e, 1);
	assert_true(b->port > 0);
	b->page = xengntshr_share_pages(gs, 1, 1, &b->ref, 1);
	assert_non_null(b->page);
	b->pid = dfix_child(1, child_bystander, NULL, &b->fd);
	assert_true(b->pid > 0);
	assert_int_equal(ch_put(b->fd, (uint32_t)b->port), 0);
	assert_int_equal(ch_put(b->fd, b->ref), 0);
	assert_int_equal(ch_get(b->fd, &v), 0);
}

/* One round trip with the bystander: its mapping and channel work. */
static void bystander_ping(struct bystander *b, uint8_t val)
{
	b->page[0] = val;
	assert_int_equal(ch_put(b->fd, 1), 0);
	assert_int_equal(xenevtchn_notify(b->e, (evtchn_port_t)b->port), 0);
	assert_int_equal(pending_within(b->e, 5000), b->port);
	assert_int_equal(b->page[1], (uint8_t)(val + 1));
}

static void bystander_stop(struct bystander *b, xengntshr_handle *gs)
{
	assert_int_equal(ch_put(b->fd, 2), 0);
	assert_int_equal(dfix_wait(b->pid), 0);
	close(b->fd);
	assert_int_equal(xengntshr_unshare(gs, b->page, 1), 0);
	xenevtchn_close(b->e);
}

static void wait_progress(volatile uint32_t *ctr)
{
	uint32_t first = *ctr;

	assert_true(WAIT_FOR(*ctr != first && *ctr != 0, 5000));
}

static void test_mapper_killed(void **state)
{
	xengntshr_handle *gs;
	xenevtchn_handle *e;
	struct counts start;
	struct bystander by;
	uint32_t ref, v;
	uint8_t *s;
	int port, fd;
	pid_t pid;

	(void)state;
	counts_get(&start);
	gs = xengntshr_open(NULL, 0);
	e = xenevtchn_open(NULL, 0);
	assert_non_null(gs);
	assert_non_null(e);
	bystander_start(&by, gs);
	bystander_ping(&by, 10);
	port = xenevtchn_bind_unbound_port(e, 1);
	assert_true(port > 0);
	s = xengntshr_share_page_notify(gs, 1, &ref, 1, 0x10, (evtchn_port_t)port);
	assert_non_null(s);
	memset(s, 0xaa, PAGE);
	memset(s + 256, 0, 4);
	pid = dfix_child(1, child_mapper, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(ch_put(fd, ref), 0);
	assert_int_equal(ch_get(fd, &v), 0);
	wait_progress((volatile uint32_t *)(s + 256));
	assert_int_equal(s[0x20], 0xaa);
	assert_int_equal(dfix_domain(0).nr_active, start.d0.nr_active + 2);
	kill(pid, SIGKILL);
	assert_int_equal(dfix_wait(pid), 128 + SIGKILL);
	close(fd);
	/* The daemon released the dead process's map: its byte cleared in
	 * our page, its event delivered to our port. */
	assert_true(WAIT_FOR(s[0x20] == 0, 5000));
	assert_int_equal(s[0x1f], 0xaa);
	assert_int_equal(s[0x21], 0xaa);
	assert_int_equal(pending_within(e, 5000), port);
	assert_true(WAIT_FOR(dfix_domain(0).nr_active == start.d0.nr_active + 1, 2000));
	assert_int_equal(dfix_domain(1).nr_mappings, start.d1.nr_mappings + 1);
	/* The bystander lost nothing. */
	bystander_ping(&by, 20);
	bystander_ping(&by, 30);
	/* We can end the share (our own notify clears our byte). */
	assert_int_equal(s[0x10], 0xaa);
	assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
	bystander_ping(&by, 40);
	bystander_stop(&by, gs);
	xenevtchn_close(e);
	xengntshr_close(gs);
	counts_expect_back(&start);
}

/* Domain 1: shares a page with a notify to domain 0, writes a counter at
 * offset 256 until killed; the rest of the page holds 0x5c. */
static int child_sharer(int fd, void *arg)
{
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd), ref, i;
	volatile uint32_t *ctr;
	uint8_t *s;
	int local;

	(void)arg;
	CHK(e && gs);
	local = bind_to_parent(e, remote);
	s = xengntshr_share_page_notify(gs, 0, &ref, 1, 0x30, (evtchn_port_t)local);
	CHK(s);
	memset(s, 0x5c, PAGE);
	memset(s + 256, 0, 4);
	CHK(ch_put(fd, ref) == 0);
	ctr = (volatile uint32_t *)(s + 256);
	for (i = 1;; i++)
		*ctr = i;
}

/* Domain 1: shares n pages filled with 0xbb and waits. */
static int child_fill(int fd, void *arg)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	uint32_t refs[64];
	uint8_t *s;

	(void)arg;
	CHK(gs);
	s = xengntshr_share_pages(gs, 0, 64, refs, 1);
	CHK(s);
	memset(s, 0xbb, 64 * PAGE);
	CHK(ch_put(fd, 1) == 0);
	CHK(ch_get_chk(fd) == 2);
	return 0;
}

static void test_sharer_killed(void **state)
{
	xengntshr_handle *gs;
	xengnttab_handle *gt;
	xenevtchn_handle *e;
	struct counts start;
	struct bystander by;
	uint32_t ref, v, last, i;
	uint8_t *m;
	int port, fd, fd2;
	pid_t pid, pid2;

	(void)state;
	counts_get(&start);
	gs = xengntshr_open(NULL, 0);
	gt = xengnttab_open(NULL, 0);
	e = xenevtchn_open(NULL, 0);
	assert_non_null(gs);
	assert_non_null(gt);
	assert_non_null(e);
	bystander_start(&by, gs);
	port = xenevtchn_bind_unbound_port(e, 1);
	assert_true(port > 0);
	pid = dfix_child(1, child_sharer, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(ch_get(fd, &ref), 0);
	m = xengnttab_map_grant_ref(gt, 1, ref, PROT_READ | PROT_WRITE);
	assert_non_null(m);
	wait_progress((volatile uint32_t *)(m + 256));
	kill(pid, SIGKILL);
	assert_int_equal(dfix_wait(pid), 128 + SIGKILL);
	close(fd);
	/* Byte cleared in our mapping, event to our port. */
	assert_true(WAIT_FOR(m[0x30] == 0, 5000));
	assert_int_equal(pending_within(e, 5000), port);
	/* Our mapping stays, readable and writable, until we unmap; the
	 * grant is not ended under it, its page not reused. */
	memcpy(&last, m + 256, 4);
	assert_int_not_equal(last, 0);
	assert_int_equal(dfix_domain(1).nr_grants, start.d1.nr_grants + 1);
	pid2 = dfix_child(1, child_fill, NULL, &fd2);   /* domain 1 allocates pages */
	assert_true(pid2 > 0);
	assert_int_equal(ch_get(fd2, &v), 0);
	for (i = 0; i < PAGE; i++) {
		if (i == 0x30 || (i >= 256 && i < 260))
			continue;
		assert_int_equal(m[i], 0x5c);
	}
	assert_memory_equal(m + 256, &last, 4);    /* nobody writes it now */
	m[0x40] = 0x01;
	assert_int_equal(m[0x40], 0x01);
	assert_int_equal(ch_put(fd2, 2), 0);
	assert_int_equal(dfix_wait(pid2), 0);
	close(fd2);
	bystander_ping(&by, 50);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	/* Now the grant ends: the ref maps no more. */
	assert_true(WAIT_FOR(dfix_domain(1).nr_grants == start.d1.nr_grants, 2000));
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 1, ref, PROT_READ));
	assert_int_equal(errno, EINVAL);
	bystander_ping(&by, 60);
	bystander_stop(&by, gs);
	xenevtchn_close(e);
	xengnttab_close(gt);
	xengntshr_close(gs);
	counts_expect_back(&start);
}

/* Domain 1: many handles, maps, shares and ports, then killed. */
static int child_hoarder(int fd, void *arg)
{
	xengnttab_handle *gt[3];
	xengntshr_handle *gs[3];
	xenevtchn_handle *e[3];
	uint32_t remote = ch_get_chk(fd), ref = ch_get_chk(fd), refs[8];
	int k, j;

	(void)arg;
	for (k = 0; k < 3; k++) {
		gt[k] = xengnttab_open(NULL, 0);
		gs[k] = xengntshr_open(NULL, 0);
		e[k] = xenevtchn_open(NULL, 0);
		CHK(gt[k] && gs[k] && e[k]);
		for (j = 0; j < 4; j++) {
			int l = xenevtchn_bind_unbound_port(e[k], 0);

			CHK(l > 0);
			CHK(xengnttab_map_grant_ref_notify(gt[k], 0, ref, PROT_READ | PROT_WRITE,
							   (uint32_t)(k * 4 + j), (evtchn_port_t)l));
			CHK(xengntshr_share_page_notify(gs[k], 0, &refs[0], 1, 0, (evtchn_port_t)l));
			CHK(xengntshr_share_pages(gs[k], 0, 8, refs, 1));
		}
	}
	CHK(xenevtchn_bind_interdomain(e[1], 0, remote) > 0);
	CHK(ch_put(fd, 1) == 0);
	pause();
	return 0;
}

static void test_hoarder_killed(void **state)
{
	xengntshr_handle *gs;
	xenevtchn_handle *e;
	struct counts start, mid;
	uint32_t ref, v;
	uint8_t *s;
	int port, fd, round;
	pid_t pid;

	(void)state;
	counts_get(&start);
	gs = xengntshr_open(NULL, 0);
	e = xenevtchn_open(NULL, 0);
	assert_non_null(gs);
	assert_non_null(e);
	s = xengntshr_share_pages(gs, 1, 1, &ref, 1);
	assert_non_null(s);
	for (round = 0; round < 3; round++) {
		memset(s, 0xcc, PAGE);
		port = xenevtchn_bind_unbound_port(e, 1);
		assert_true(port > 0);
		pid = dfix_child(1, child_hoarder, NULL, &fd);
		assert_true(pid > 0);
		assert_int_equal(ch_put(fd, (uint32_t)port), 0);
		assert_int_equal(ch_put(fd, ref), 0);
		assert_int_equal(ch_get(fd, &v), 0);
		mid.d1 = dfix_domain(1);
		assert_int_equal(mid.d1.nr_grants, start.d1.nr_grants + 3 * 4 * 9);
		assert_int_equal(mid.d1.nr_mappings, start.d1.nr_mappings + 12);
		assert_int_equal(mid.d1.nr_ports, start.d1.nr_ports + 13);
		assert_int_equal(mid.d1.nr_handles, start.d1.nr_handles + 9);
		kill(pid, SIGKILL);
		assert_int_equal(dfix_wait(pid), 128 + SIGKILL);
		close(fd);
		/* every map's byte cleared */
		assert_true(WAIT_FOR(memchr(s, 0xcc, 12) == NULL, 5000));
		assert_int_equal(s[12], 0xcc);
		assert_int_equal(xenevtchn_unbind(e, (evtchn_port_t)port), 0);
		assert_true(WAIT_FOR(dfix_domain(1).nr_grants == start.d1.nr_grants, 5000));
	}
	assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
	xenevtchn_close(e);
	xengntshr_close(gs);
	counts_expect_back(&start);
}

/* Raw request without waiting for the reply. */
static void raw_send(int fd, uint32_t type, uint16_t seq, const void *p, uint32_t len)
{
	struct xgntd_hdr h = { .type = type, .len = len, .seq = seq };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)(sizeof(h) + len));
}

/* A domain destroyed while its handles have requests queued in the same
 * wake-up of the daemon: the handles are closed, nothing else is hurt. */
static void test_destroy_with_queued_requests(void **state)
{
	struct xgntd_domain_create dc = { .domid = 1 };
	struct xgntd_domid dd = { .domid = 1 };
	struct xgntd_evtchn ev = { .domid = 0 };
	struct xgntc ctl, h1[3];
	int fds[3], k, round;
	char b[256];

	(void)state;
	for (round = 0; round < 4; round++) {
		assert_int_equal(xgntc_open(&ctl, dfix.sock, XGNTD_KIND_CTL, 0, 0, -1, NULL, NULL, 0), 0);
		assert_int_equal(xgntc_open(&h1[0], dfix.sock, XGNTD_KIND_GNTDEV, 1, 0, -1, NULL,
					    &fds[0], 1), 0);
		assert_int_equal(xgntc_open(&h1[1], dfix.sock, XGNTD_KIND_GNTALLOC, 1, 0, -1, NULL,
					    &fds[1], 1), 0);
		assert_int_equal(xgntc_open(&h1[2], dfix.sock, XGNTD_KIND_EVTCHN, 1, 0, -1, NULL,
					    &fds[2], 1), 0);
		for (k = 0; k < 3; k++)
			close(fds[k]);
		/* One wake-up: the destroy first (even rounds) or last. */
		assert_int_equal(kill(dfix.pid, SIGSTOP), 0);
		if (round % 2 == 0)
			raw_send(ctl.fd, XGNTD_CTL_DOMAIN_DESTROY, 1, &dd, sizeof(dd));
		usleep(20000);
		for (k = 0; k < 3; k++) {
			raw_send(h1[k].fd, XGNTD_GNTDEV_SET_MAX, 1, &ev, 4);
			raw_send(h1[k].fd, XGNTD_EVTCHN_BIND_UNBOUND, 2, &ev, sizeof(ev));
		}
		if (round % 2 == 1) {
			usleep(20000);
			raw_send(ctl.fd, XGNTD_CTL_DOMAIN_DESTROY, 1, &dd, sizeof(dd));
		}
		usleep(20000);
		assert_int_equal(kill(dfix.pid, SIGCONT), 0);
		assert_true(dfix_readable(ctl.fd, 5000));
		assert_true(recv(ctl.fd, b, sizeof(b), 0) >= (ssize_t)sizeof(struct xgntd_hdr));
		assert_int_equal(((struct xgntd_hdr *)b)->ret, 0);
		/* the domain's handles end with it */
		for (k = 0; k < 3; k++) {
			ssize_t r;

			do
				r = recv(h1[k].fd, b, sizeof(b), 0);
			while (r > 0);
			/* closed; ECONNRESET when it closed with requests unread */
			assert_true(r == 0 || errno == ECONNRESET);
			xgntc_close(&h1[k]);
		}
		assert_true(dfix_alive(&dfix));
		assert_int_equal(xgntc_call(&ctl, XGNTD_CTL_DOMAIN_CREATE, &dc, sizeof(dc), NULL, 0,
					    NULL), 0);
		xgntc_close(&ctl);
		assert_int_equal(dfix_domain(1).nr_handles, 0);
	}
}

/* Domain 1: shares a page (0x3e) and binds to the parent's port. */
static int child_victim(int fd, void *arg)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd), pref = ch_get_chk(fd), ref;
	uint8_t *s, *m;

	(void)arg;
	CHK(gs && gt && e);
	bind_to_parent(e, remote);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	CHK(s);
	memset(s, 0x3e, PAGE);
	m = xengnttab_map_grant_ref_notify(gt, 0, pref, PROT_READ | PROT_WRITE, 9, -1);
	CHK(m);
	CHK(ch_put(fd, ref) == 0);
	/* its domain is destroyed under it: its handles fail from now */
	CHK(ch_get_chk(fd) == 1);
	errno = 0;
	CHK(xengntshr_share_pages(gs, 0, 1, &ref, 1) == NULL && errno == EPIPE);
	CHK(xenevtchn_bind_unbound_port(e, 0) == -1 && errno == EPIPE);
	xengntshr_close(gs);
	xengnttab_close(gt);
	xenevtchn_close(e);
	return 0;
}

/* The domain of a live process is destroyed: its handles end with it
 * (its map's byte cleared), our mapping of its page stays readable until
 * we unmap, our port to it turns unbound, and the domain can be created
 * again from scratch. */
static void test_domain_destroyed(void **state)
{
	struct xgntd_domid did = { .domid = 1 };
	struct xgntd_domain_create dc = { .domid = 1 };
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	struct xgntd_domain_info d0 = dfix_domain(0), d1;
	uint32_t ref, pref, i;
	uint8_t *m, *ps;
	int port, fd;
	pid_t pid;

	(void)state;
	assert_non_null(gs);
	assert_non_null(gt);
	assert_non_null(e);
	port = xenevtchn_bind_unbound_port(e, 1);
	assert_true(port > 0);
	ps = xengntshr_share_pages(gs, 1, 1, &pref, 1);
	assert_non_null(ps);
	memset(ps, 0xf0, PAGE);
	pid = dfix_child(1, child_victim, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(ch_put(fd, pref), 0);
	assert_int_equal(ch_get(fd, &ref), 0);
	m = xengnttab_map_grant_ref(gt, 1, ref, PROT_READ);
	assert_non_null(m);
	assert_int_equal(dfix_ctl(XGNTD_CTL_DOMAIN_DESTROY, &did, sizeof(did)), 0);
	assert_int_equal(ps[9], 0);          /* its map went with its handle */
	assert_int_equal(ps[8], 0xf0);
	for (i = 0; i < PAGE; i++)
		assert_int_equal(m[i], 0x3e);
	assert_int_equal(xenevtchn_notify(e, (evtchn_port_t)port), 0);
	assert_int_equal(ch_put(fd, 1), 0);
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
	/* Xen: a dead domain whose frames others still map is a zombie
	 * that keeps its domid; the ref maps no more. */
	assert_int_equal(dfix_ctl(XGNTD_CTL_DOMAIN_CREATE, &dc, sizeof(dc)), -EEXIST);
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 1, ref, PROT_READ));
	assert_int_equal(errno, EINVAL);
	for (i = 0; i < PAGE; i++)           /* the old frame is still ours to read */
		assert_int_equal(m[i], 0x3e);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	/* gone now: a new domain 1 gets nothing of the old one */
	assert_int_equal(dfix_ctl(XGNTD_CTL_DOMAIN_CREATE, &dc, sizeof(dc)), 0);
	d1 = dfix_domain(1);
	assert_int_equal(d1.nr_grants, 0);
	assert_int_equal(d1.nr_handles, 0);
	assert_int_equal(d1.nr_ports, 0);
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 1, ref, PROT_READ));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xengntshr_unshare(gs, ps, 1), 0);
	assert_int_equal(xenevtchn_unbind(e, (evtchn_port_t)port), 0);
	xenevtchn_close(e);
	xengnttab_close(gt);
	xengntshr_close(gs);
	assert_true(WAIT_FOR(dfix_domain(0).nr_grants == d0.nr_grants, 2000));
	assert_int_equal(dfix_domain(0).nr_mappings, d0.nr_mappings);
	assert_int_equal(dfix_domain(0).nr_ports, d0.nr_ports);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mapper_killed, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_sharer_killed, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_hoarder_killed, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_with_queued_requests, dfix_setup,
						dfix_teardown),
		cmocka_unit_test_setup_teardown(test_domain_destroyed, dfix_setup, dfix_teardown),
	};

	return cmocka_run_group_tests_name("xgntd: dying processes", tests, NULL, NULL);
}
