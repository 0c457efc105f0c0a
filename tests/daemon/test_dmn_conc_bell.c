/* SPDX-License-Identifier: MIT */
/*
 * The direct event path (src/daemon/bell.h): once a handle has notified a
 * port whose peer is another handle, its notifies go to that handle's bell
 * and pipe without the daemon. Checked here: the same once-until-unmask
 * semantics on the direct path, a route that goes stale when the peer's
 * port is closed and its number reused (no event reaches the new binding),
 * a receiver killed while the daemon cannot notice (the sender survives
 * the pipe's EPIPE without SIGPIPE), the counts `xgnt top` shows, and
 * threads notifying through one route while it is dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "client/client.h"
#include "daemon/bell.h"
#include "dfix.h"

static xenevtchn_handle *ev_open(void)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);

	assert_non_null(h);
	return h;
}

/* a in ha, bound to b in hb; b's first (bind-time) event consumed. */
static void pair(xenevtchn_handle *ha, int *a, xenevtchn_handle *hb, int *b)
{
	*a = xenevtchn_bind_unbound_port(ha, 0);
	assert_true(*a > 0);
	*b = xenevtchn_bind_interdomain(hb, 0, (evtchn_port_t)*a);
	assert_true(*b > 0);
	assert_true(dfix_readable(xenevtchn_fd(hb), 2000));
	assert_int_equal(xenevtchn_pending(hb), *b);
	assert_int_equal(xenevtchn_unmask(hb, (evtchn_port_t)*b), 0);
}

/* Delivered once, held until unmask, then the held event once more:
 * through the daemon (the first notify asks for the route) and then
 * directly, with the counts following both. */
static void test_direct_semantics(void **state)
{
	xenevtchn_handle *ha = ev_open(), *hb = ev_open();
	struct xgntd_domain_info before, after;
	int a, b, fd = xenevtchn_fd(ha), round;

	(void)state;
	pair(ha, &a, hb, &b);
	before = dfix_domain(0);
	for (round = 0; round < 3; round++) {
		assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
		/* a notify returns once the event is delivered: no waiting,
		 * through the daemon (round 0) or not */
		assert_true(dfix_readable(fd, 0));
		assert_int_equal(xenevtchn_pending(ha), a);
		assert_false(dfix_readable(fd, 0));
		/* held: these two are one pending event */
		assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
		assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
		assert_false(dfix_readable(fd, 100));
		/* the held event is in the pipe when unmask returns */
		assert_int_equal(xenevtchn_unmask(ha, (evtchn_port_t)a), 0);
		assert_true(dfix_readable(fd, 0));
		assert_int_equal(xenevtchn_pending(ha), a);
		assert_int_equal(xenevtchn_unmask(ha, (evtchn_port_t)a), 0);
		assert_false(dfix_readable(fd, 100));
		/* unmask of a port with nothing held delivers nothing */
		assert_int_equal(xenevtchn_unmask(ha, (evtchn_port_t)a), 0);
		assert_false(dfix_readable(fd, 50));
	}
	after = dfix_domain(0);
	assert_int_equal(after.events_sent - before.events_sent, 9);
	assert_int_equal(after.events_delivered - before.events_delivered, 6);
	assert_int_equal(xenevtchn_close(ha), 0);
	assert_int_equal(xenevtchn_close(hb), 0);
}

/* b's route to a goes stale when a is closed; a's number, reused for a
 * binding to c, must not hear from b. */
static void test_stale_route(void **state)
{
	xenevtchn_handle *ha = ev_open(), *hb = ev_open(), *hc = ev_open();
	int a, a2, b, c, fd = xenevtchn_fd(ha), i;

	(void)state;
	pair(ha, &a, hb, &b);
	for (i = 0; i < 2; i++) {   /* the route, then the direct path */
		assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
		assert_true(dfix_readable(fd, 2000));
		assert_int_equal(xenevtchn_pending(ha), a);
		assert_int_equal(xenevtchn_unmask(ha, (evtchn_port_t)a), 0);
	}
	assert_int_equal(xenevtchn_unbind(ha, (evtchn_port_t)a), 0);
	/* Xen hands out the lowest free port: a again */
	a2 = xenevtchn_bind_unbound_port(ha, 0);
	assert_int_equal(a2, a);
	c = xenevtchn_bind_interdomain(hc, 0, (evtchn_port_t)a2);
	assert_true(c > 0);
	assert_true(dfix_readable(xenevtchn_fd(hc), 2000));
	assert_int_equal(xenevtchn_pending(hc), c);
	assert_int_equal(xenevtchn_unmask(hc, (evtchn_port_t)c), 0);
	/* b's end is unbound now: its notify succeeds and goes nowhere */
	for (i = 0; i < 3; i++)
		assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
	assert_false(dfix_readable(fd, 150));
	/* the new binding works both ways */
	assert_int_equal(xenevtchn_notify(hc, (evtchn_port_t)c), 0);
	assert_true(dfix_readable(fd, 2000));
	assert_int_equal(xenevtchn_pending(ha), a2);
	assert_int_equal(xenevtchn_unmask(ha, (evtchn_port_t)a2), 0);
	assert_int_equal(xenevtchn_notify(ha, (evtchn_port_t)a2), 0);
	assert_true(dfix_readable(xenevtchn_fd(hc), 2000));
	assert_int_equal(xenevtchn_pending(hc), c);
	assert_false(dfix_readable(fd, 50));
	xenevtchn_close(ha);
	xenevtchn_close(hb);
	xenevtchn_close(hc);
}

/* Domain 1: binds to the parent's port, takes the parent's first notify,
 * says so, and waits to be killed. */
static int child_receiver(int fd, void *arg)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);
	int local;

	(void)arg;
	CHK(h);
	local = xenevtchn_bind_interdomain(h, 0, ch_get_chk(fd));
	CHK(local > 0);
	CHK(dfix_readable(xenevtchn_fd(h), 5000));
	CHK(xenevtchn_pending(h) == local);    /* the bind-time event */
	CHK(xenevtchn_unmask(h, (evtchn_port_t)local) == 0);
	CHK(ch_put(fd, (uint32_t)local) == 0);
	CHK(dfix_readable(xenevtchn_fd(h), 5000));
	CHK(xenevtchn_pending(h) == local);    /* the parent's notify */
	CHK(xenevtchn_unmask(h, (evtchn_port_t)local) == 0);
	CHK(ch_put(fd, 1) == 0);
	for (;;)
		pause();
}

/* The receiver dies while the daemon is stopped, so its slot still shows
 * the binding: the sender's direct write meets a pipe without a reader.
 * It must return 0 (the event is lost with its receiver) and leave no
 * SIGPIPE behind, whatever the process does with that signal. */
static void test_receiver_killed(void **state)
{
	xenevtchn_handle *h = ev_open();
	sigset_t pending;
	uint32_t v;
	int port, fd, i, status;
	pid_t pid;

	(void)state;
	port = xenevtchn_bind_unbound_port(h, 1);
	assert_true(port > 0);
	pid = dfix_child(1, child_receiver, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(ch_get(fd, &v), 0);
	assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)port), 0);   /* routed */
	assert_int_equal(ch_get(fd, &v), 0);
	assert_int_equal(kill(dfix.pid, SIGSTOP), 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(fd);
	signal(SIGPIPE, SIG_DFL);   /* would end this process */
	for (i = 0; i < 3; i++)
		assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)port), 0);
	sigemptyset(&pending);
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	assert_int_equal(kill(dfix.pid, SIGCONT), 0);
	/* The daemon closes the dead handle's ports; the route goes stale. */
	assert_true(WAIT_FOR(dfix_domain(1).nr_ports == 0, 5000));
	assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)port), 0);
	assert_false(dfix_readable(xenevtchn_fd(h), 50));
	xenevtchn_close(h);
}

/* Several threads notify through one route while another thread unbinds
 * and rebinds the receiving port: no crash, no stray descriptor, and the
 * last binding works. */
static xenevtchn_handle *tx;
static int tx_port;
static volatile int stop;

static void *notifier(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		(void)xenevtchn_notify(tx, (evtchn_port_t)__atomic_load_n(&tx_port,
									 __ATOMIC_RELAXED));
	return NULL;
}

static void test_route_churn(void **state)
{
	xenevtchn_handle *rx = ev_open();
	pthread_t th[3];
	int a, b, i, t, p;

	(void)state;
	tx = ev_open();
	pair(rx, &a, tx, &b);
	tx_port = b;
	stop = 0;
	for (t = 0; t < 3; t++)
		assert_int_equal(pthread_create(&th[t], NULL, notifier, NULL), 0);
	for (i = 0; i < 50; i++) {
		/* drain what arrived, then move the channel */
		while (dfix_readable(xenevtchn_fd(rx), 0)) {
			p = xenevtchn_pending(rx);
			assert_true(p > 0);
			assert_int_equal(xenevtchn_unmask(rx, (evtchn_port_t)p), 0);
		}
		assert_int_equal(xenevtchn_unbind(rx, (evtchn_port_t)a), 0);
		a = xenevtchn_bind_unbound_port(rx, 0);
		assert_true(a > 0);
		p = xenevtchn_bind_interdomain(tx, 0, (evtchn_port_t)a);
		assert_true(p > 0);
		__atomic_store_n(&tx_port, p, __ATOMIC_RELAXED);
		assert_int_equal(xenevtchn_unbind(tx, (evtchn_port_t)b), 0);
		b = p;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (t = 0; t < 3; t++)
		pthread_join(th[t], NULL);
	while (dfix_readable(xenevtchn_fd(rx), 50)) {
		p = xenevtchn_pending(rx);
		assert_int_equal(xenevtchn_unmask(rx, (evtchn_port_t)p), 0);
	}
	assert_int_equal(xenevtchn_notify(tx, (evtchn_port_t)b), 0);
	assert_true(dfix_readable(xenevtchn_fd(rx), 2000));
	assert_int_equal(xenevtchn_pending(rx), a);
	xenevtchn_close(tx);
	xenevtchn_close(rx);
	assert_int_equal(dfix_domain(0).nr_ports, 0);
}

/* A sender that dies between its compare-and-swap on the peer's bell and
 * its pipe write (kill -9 can land there) leaves the peer's port held
 * with nothing to read. A raw handle plays that sender: it takes a route,
 * clears ENABLED in the peer's slot and goes without writing. The daemon
 * must deliver the port again when that handle goes, or the peer would
 * never hear of the port again (the unmap notification of a dead vchan
 * end among them). */
static void test_sender_dies_mid_delivery(void **state)
{
	xenevtchn_handle *rx = ev_open();
	struct xgntd_evtchn req = { 0 };
	struct xgntd_evtchn_route rt;
	struct xgntc c;
	int pipe_bell[2], fds[2], a, b;
	size_t len = 0;
	void *bell;
	long rc;

	(void)state;
	assert_int_equal(xgntc_open(&c, NULL, XGNTD_KIND_EVTCHN, 0, 0, -1, NULL, pipe_bell, 2), 0);
	a = xenevtchn_bind_unbound_port(rx, 0);
	assert_true(a > 0);
	req.domid = 0;
	req.port = (uint32_t)a;
	b = (int)xgntc_call(&c, XGNTD_EVTCHN_BIND_INTERDOMAIN, &req, sizeof(req), NULL, 0, NULL);
	assert_true(b > 0);
	assert_false(dfix_readable(xenevtchn_fd(rx), 50));   /* a was unbound: nothing */
	req.port = (uint32_t)b;
	rc = xgntc_call_fds(&c, XGNTD_EVTCHN_ROUTE, &req, sizeof(req), &rt, sizeof(rt), &len,
			    fds, 2);
	assert_int_equal(rc, 1);
	assert_int_equal(rt.port, a);
	/* that notify went through the daemon: take it, re-enable */
	assert_true(dfix_readable(xenevtchn_fd(rx), 2000));
	assert_int_equal(xenevtchn_pending(rx), a);
	assert_int_equal(xenevtchn_unmask(rx, (evtchn_port_t)a), 0);
	/* the compare-and-swap of a direct notify, and no write */
	bell = mmap(NULL, XGNTD_BELL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
	assert_true(bell != MAP_FAILED);
	assert_int_equal(bell_raise(bell_slot(bell, rt.port), rt.token), BELL_DELIVER);
	munmap(bell, XGNTD_BELL_SIZE);
	close(fds[0]);
	close(fds[1]);
	assert_false(dfix_readable(xenevtchn_fd(rx), 50));
	/* the sender goes */
	xgntc_close(&c);
	close(pipe_bell[0]);
	close(pipe_bell[1]);
	assert_true(dfix_readable(xenevtchn_fd(rx), 2000));
	assert_int_equal(xenevtchn_pending(rx), a);
	assert_int_equal(xenevtchn_unmask(rx, (evtchn_port_t)a), 0);
	xenevtchn_close(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_direct_semantics, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_stale_route, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_receiver_killed, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_route_churn, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_sender_dies_mid_delivery, dfix_setup,
						dfix_teardown),
	};

	return cmocka_run_group_tests_name("xgntd: direct events", tests, NULL, NULL);
}
