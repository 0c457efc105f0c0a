/* SPDX-License-Identifier: MIT */
/*
 * The drop-in libxenevtchn against xgntd, with Linux's evtchn driver's
 * semantics and errnos: loopback and cross-domain channels, the pollable
 * fd, masking until unmask, O_NONBLOCK, the error cases, restrict,
 * VIRQ_DOM_EXC in the control domain, and events sent before the peer
 * process looks (never lost).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "dfix.h"

static xenevtchn_handle *ev_open(void)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);

	assert_non_null(h);
	return h;
}

static void test_loopback(void **state)
{
	xenevtchn_handle *ha = ev_open(), *hb = ev_open();
	struct xgntd_domain_info before = dfix_domain(0);
	int a, b, fd = xenevtchn_fd(ha);

	(void)state;
	a = xenevtchn_bind_unbound_port(ha, 0);
	assert_true(a > 0);
	b = xenevtchn_bind_interdomain(hb, 0, (evtchn_port_t)a);
	assert_true(b > 0);
	assert_int_not_equal(a, b);
	assert_int_equal(dfix_domain(0).nr_ports, before.nr_ports + 2);
	assert_false(dfix_readable(fd, 50));
	/* Xen: the freshly bound end is set pending, the unbound end not. */
	assert_true(dfix_readable(xenevtchn_fd(hb), 2000));
	assert_int_equal(xenevtchn_pending(hb), b);
	assert_int_equal(xenevtchn_unmask(hb, (evtchn_port_t)b), 0);
	assert_false(dfix_readable(xenevtchn_fd(hb), 50));
	/* b -> a */
	assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
	assert_true(dfix_readable(fd, 2000));
	assert_int_equal(xenevtchn_pending(ha), a);
	assert_false(dfix_readable(fd, 50));  /* readable exactly while pending */
	/* Masked until unmasked: a second notify is not delivered yet... */
	assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
	assert_false(dfix_readable(fd, 100));
	/* ...and is once the port is unmasked (it stayed pending). */
	assert_int_equal(xenevtchn_unmask(ha, (evtchn_port_t)a), 0);
	assert_true(dfix_readable(fd, 2000));
	assert_int_equal(xenevtchn_pending(ha), a);
	assert_false(dfix_readable(fd, 50));
	assert_int_equal(xenevtchn_unmask(ha, (evtchn_port_t)a), 0);
	/* Three notifies in a row: the first delivery masks the port, the
	 * others coalesce into its pending bit: one or two deliveries. A
	 * notify returns once its event is delivered or held, as the ioctl
	 * does, so all three are in before ha's first unmask, and an unmask
	 * returns once the event it owes is delivered. The quiet window that
	 * ends the drain still allows for a loaded machine. */
	assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
	assert_true(dfix_readable(fd, 0));
	assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
	assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
	{
		int n = 0;

		while (dfix_readable(fd, n ? 1000 : 2000)) {
			assert_int_equal(xenevtchn_pending(ha), a);
			assert_int_equal(xenevtchn_unmask(ha, (evtchn_port_t)a), 0);
			n++;
		}
		assert_true(n >= 1 && n <= 2);
	}
	/* a -> b */
	assert_int_equal(xenevtchn_notify(ha, (evtchn_port_t)a), 0);
	assert_true(dfix_readable(xenevtchn_fd(hb), 2000));
	assert_int_equal(xenevtchn_pending(hb), b);
	assert_int_equal(xenevtchn_unmask(hb, (evtchn_port_t)b), 0);
	/* Unbind: the peer's notify still succeeds (the remote end is
	 * merely closed), nothing arrives, and the port is gone. */
	assert_int_equal(xenevtchn_unbind(ha, (evtchn_port_t)a), 0);
	assert_int_equal(dfix_domain(0).nr_ports, before.nr_ports + 1);
	assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b), 0);
	assert_false(dfix_readable(fd, 100));
	errno = 0;
	assert_int_equal(xenevtchn_notify(ha, (evtchn_port_t)a), -1);
	assert_int_equal(errno, ENOTCONN);
	assert_int_equal(xenevtchn_close(ha), 0);
	assert_int_equal(xenevtchn_close(hb), 0);
	assert_int_equal(dfix_domain(0).nr_ports, before.nr_ports);
	assert_int_equal(xenevtchn_close(NULL), 0);
}

/* Domain 1: binds to the parent's port, then ping-pongs n times. */
static int child_pingpong(int fd, void *arg)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd);
	int local, i, n = *(int *)arg;

	CHK(h);
	local = xenevtchn_bind_interdomain(h, 0, remote);
	CHK(local > 0);
	/* Xen sets a freshly bound interdomain port pending (notifications
	 * sent to the unbound port are not lost): delivered once. */
	CHK(dfix_readable(xenevtchn_fd(h), 5000));
	CHK(xenevtchn_pending(h) == local);
	CHK(xenevtchn_unmask(h, (evtchn_port_t)local) == 0);
	CHK(!dfix_readable(xenevtchn_fd(h), 50));
	CHK(ch_put(fd, (uint32_t)local) == 0);
	for (i = 0; i < n; i++) {
		CHK(xenevtchn_notify(h, (evtchn_port_t)local) == 0);
		CHK(dfix_readable(xenevtchn_fd(h), 5000));
		CHK(xenevtchn_pending(h) == local);
		CHK(xenevtchn_unmask(h, (evtchn_port_t)local) == 0);
	}
	CHK(xenevtchn_close(h) == 0);
	return 0;
}

static void test_cross_domain(void **state)
{
	xenevtchn_handle *h = ev_open();
	int port, n = 50, i, fd;
	uint32_t child_port;
	pid_t pid;

	(void)state;
	/* A port for domain 1 cannot be bound by domain 0 itself. */
	port = xenevtchn_bind_unbound_port(h, 1);
	assert_true(port > 0);
	{
		xenevtchn_handle *h2 = ev_open();

		errno = 0;
		assert_int_equal(xenevtchn_bind_interdomain(h2, 0, (evtchn_port_t)port), -1);
		assert_true(errno == EINVAL || errno == EPERM);
		xenevtchn_close(h2);
	}
	pid = dfix_child(1, child_pingpong, &n, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(ch_get(fd, &child_port), 0);
	assert_true(child_port > 0);
	for (i = 0; i < n; i++) {
		assert_true(dfix_readable(xenevtchn_fd(h), 5000));
		assert_int_equal(xenevtchn_pending(h), port);
		assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)port), 0);
		assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)port), 0);
	}
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
	assert_int_equal(dfix_domain(1).nr_ports, 0);
	xenevtchn_close(h);
}

static void test_nonblock(void **state)
{
	xenevtchn_handle *h = ev_open();
	int fd = xenevtchn_fd(h), a, b;

	(void)state;
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(xenevtchn_pending(h), -1);
	assert_int_equal(errno, EAGAIN);
	a = xenevtchn_bind_unbound_port(h, 0);
	b = xenevtchn_bind_interdomain(h, 0, (evtchn_port_t)a);   /* same handle */
	assert_true(a > 0 && b > 0);
	/* Xen's pending bit on the freshly bound end, first */
	assert_true(dfix_readable(fd, 2000));
	assert_int_equal(xenevtchn_pending(h), b);
	assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)b), 0);
	errno = 0;
	assert_int_equal(xenevtchn_pending(h), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)a), 0);
	assert_true(dfix_readable(fd, 2000));
	assert_int_equal(xenevtchn_pending(h), b);
	errno = 0;
	assert_int_equal(xenevtchn_pending(h), -1);
	assert_int_equal(errno, EAGAIN);
	xenevtchn_close(h);
}

/* xenevtchn_fdopen: a handle's fd (inherited across exec, here passed in
 * one process) brings its ports along; the old handle's connection keeps
 * nothing. */
static void test_fdopen(void **state)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, XENEVTCHN_NO_CLOEXEC), *h2;
	struct xgntd_domain_info before = dfix_domain(0);
	int fd, a, b;

	(void)state;
	assert_non_null(h);
	errno = 0;
	assert_null(xenevtchn_fdopen(NULL, xenevtchn_fd(h), XENEVTCHN_NO_CLOEXEC));
	assert_int_equal(errno, EINVAL);
	a = xenevtchn_bind_unbound_port(h, 0);
	b = xenevtchn_bind_interdomain(h, 0, (evtchn_port_t)a);
	assert_true(a > 0 && b > 0);
	fd = xenevtchn_fd(h);
	assert_true(dfix_readable(fd, 2000));   /* Xen's pending bit on b */
	h2 = xenevtchn_fdopen(NULL, fd, 0);
	assert_non_null(h2);
	assert_int_equal(xenevtchn_fd(h2), fd);
	/* The pending port is still there, and h2 may unmask and notify. */
	assert_int_equal(xenevtchn_pending(h2), b);
	assert_int_equal(xenevtchn_unmask(h2, (evtchn_port_t)b), 0);
	assert_int_equal(xenevtchn_notify(h2, (evtchn_port_t)a), 0);
	assert_true(dfix_readable(fd, 2000));
	assert_int_equal(xenevtchn_pending(h2), b);
	errno = 0;
	assert_int_equal(xenevtchn_notify(h2, 999), -1);
	assert_int_equal(errno, ENOTCONN);
	/* The old connection owns nothing now: it can bind no more. */
	errno = 0;
	assert_int_equal(xenevtchn_bind_unbound_port(h, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(dfix_domain(0).nr_ports, before.nr_ports + 2);
	assert_int_equal(xenevtchn_unbind(h2, (evtchn_port_t)a), 0);
	assert_int_equal(xenevtchn_unbind(h2, (evtchn_port_t)b), 0);
	assert_int_equal(dfix_domain(0).nr_ports, before.nr_ports);
	/* A pipe no handle owns, and something not a pipe. */
	{
		int p[2];

		assert_int_equal(pipe(p), 0);
		errno = 0;
		assert_null(xenevtchn_fdopen(NULL, p[0], 0));
		assert_int_equal(errno, ENOENT);
		close(p[0]);
		close(p[1]);
		p[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		errno = 0;
		assert_null(xenevtchn_fdopen(NULL, p[0], 0));
		assert_int_equal(errno, EINVAL);
		close(p[0]);
	}
	/* Both handles hold the same pipe fd (as after an exec, where the
	 * old one is gone): the second close finds it closed already. */
	xenevtchn_close(h2);
	xenevtchn_close(h);
}

static void test_errors(void **state)
{
	xenevtchn_handle *h = ev_open(), *other = ev_open();
	int a, mine;

	(void)state;
	errno = 0;
	assert_null(xenevtchn_open(NULL, 0x100));
	assert_int_equal(errno, EINVAL);
	/* close-on-exec unless XENEVTCHN_NO_CLOEXEC (Linux: O_CLOEXEC) */
	assert_true(fcntl(xenevtchn_fd(h), F_GETFD) & FD_CLOEXEC);
	{
		xenevtchn_handle *nc = xenevtchn_open(NULL, XENEVTCHN_NO_CLOEXEC);

		assert_non_null(nc);
		assert_false(fcntl(xenevtchn_fd(nc), F_GETFD) & FD_CLOEXEC);
		xenevtchn_close(nc);
	}
	a = xenevtchn_bind_unbound_port(other, 0);
	assert_true(a > 0);
	mine = xenevtchn_bind_unbound_port(h, 0);
	assert_true(mine > 0);
	/* notify/unbind of a port this handle did not bind */
	errno = 0;
	assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)a), -1);
	assert_int_equal(errno, ENOTCONN);
	errno = 0;
	assert_int_equal(xenevtchn_notify(h, 1000), -1);
	assert_int_equal(errno, ENOTCONN);
	errno = 0;
	assert_int_equal(xenevtchn_unbind(h, (evtchn_port_t)a), -1);
	assert_int_equal(errno, ENOTCONN);
	errno = 0;
	assert_int_equal(xenevtchn_unbind(h, 1000), -1);
	assert_int_equal(errno, ENOTCONN);
	errno = 0;                           /* >= xen_evtchn_nr_channels() */
	assert_int_equal(xenevtchn_unbind(h, 0x7fffffff), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(xenevtchn_unbind(h, 1u << 20), -1);
	assert_int_equal(errno, EINVAL);
	/* the other handle's port still works */
	assert_int_equal(xenevtchn_notify(other, (evtchn_port_t)a), 0);
	/* unmask of a foreign port is ignored (Linux's evtchn_write) */
	assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)a), 0);
	/* binding to a remote that is not an unbound port of that domain */
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(h, 0, 3999), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(xenevtchn_bind_interdomain(h, 9, (evtchn_port_t)a), -1);
	assert_true(errno == ESRCH || errno == EINVAL);
	/* Xen does not check an unbound port's remote domain exists: it
	 * may be created later. */
	mine = xenevtchn_bind_unbound_port(h, 9);
	assert_true(mine > 0);
	assert_int_equal(xenevtchn_unbind(h, (evtchn_port_t)mine), 0);
	mine = xenevtchn_bind_unbound_port(h, 0);
	assert_true(mine > 0);
	/* unbind twice */
	assert_int_equal(xenevtchn_unbind(h, (evtchn_port_t)mine), 0);
	errno = 0;
	assert_int_equal(xenevtchn_unbind(h, (evtchn_port_t)mine), -1);
	assert_int_equal(errno, ENOTCONN);
	/* restrict */
	errno = 0;
	assert_int_equal(xenevtchn_restrict(h, 0), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(xenevtchn_restrict(h, DOMID_FIRST_RESERVED), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xenevtchn_restrict(h, 1), 0);
	errno = 0;
	assert_int_equal(xenevtchn_restrict(h, 1), -1);
	assert_int_equal(errno, EACCES);
	errno = 0;
	assert_int_equal(xenevtchn_bind_unbound_port(h, 1), -1);
	assert_int_equal(errno, EACCES);
	errno = 0;
	assert_int_equal(xenevtchn_bind_virq(h, VIRQ_DOM_EXC), -1);
	assert_int_equal(errno, EACCES);
	errno = 0;                           /* another domain than the restricted one */
	assert_int_equal(xenevtchn_bind_interdomain(h, 0, (evtchn_port_t)a), -1);
	assert_int_equal(errno, EACCES);
	xenevtchn_close(h);
	xenevtchn_close(other);
}

static int child_restricted(int fd, void *arg)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd);
	int local;

	(void)arg;
	CHK(h);
	/* Restricted to domain 0: binding to domain 0's port works. */
	CHK(xenevtchn_restrict(h, 0) == -1 && errno == EINVAL);
	CHK(xenevtchn_restrict(h, 2) == 0);
	CHK(xenevtchn_bind_interdomain(h, 0, remote) == -1 && errno == EACCES);
	xenevtchn_close(h);
	h = xenevtchn_open(NULL, 0);
	CHK(h);
	local = xenevtchn_bind_interdomain(h, 0, remote);
	CHK(local > 0);
	CHK(xenevtchn_notify(h, (evtchn_port_t)local) == 0);
	xenevtchn_close(h);
	return 0;
}

static void test_restrict_peer(void **state)
{
	xenevtchn_handle *h = ev_open();
	int port, fd;
	pid_t pid;

	(void)state;
	assert_int_equal(xenevtchn_restrict(h, 1), 0);
	/* restricted to domain 1, yet bind_unbound is refused: Linux */
	assert_int_equal(xenevtchn_bind_unbound_port(h, 1), -1);
	xenevtchn_close(h);
	h = ev_open();
	port = xenevtchn_bind_unbound_port(h, 1);
	assert_true(port > 0);
	pid = dfix_child(1, child_restricted, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(dfix_wait(pid), 0);
	assert_true(dfix_readable(xenevtchn_fd(h), 2000));
	assert_int_equal(xenevtchn_pending(h), port);
	close(fd);
	xenevtchn_close(h);
}

static void test_virq(void **state)
{
	xenevtchn_handle *h = ev_open();
	int p;

	(void)state;
	p = xenevtchn_bind_virq(h, VIRQ_DOM_EXC);
	assert_true(p > 0);
	/* Xen: one port per (vCPU, VIRQ) */
	errno = 0;
	assert_int_equal(xenevtchn_bind_virq(h, VIRQ_DOM_EXC), -1);
	assert_int_equal(errno, EEXIST);
	errno = 0;
	assert_int_equal(xenevtchn_bind_virq(h, 1000), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xenevtchn_unbind(h, (evtchn_port_t)p), 0);
	/* bound again once unbound */
	p = xenevtchn_bind_virq(h, VIRQ_DOM_EXC);
	assert_true(p > 0);
	assert_false(dfix_readable(xenevtchn_fd(h), 50));
	/* A domain's destruction raises it, as Xen does for xenstored. */
	{
		struct xgntd_domid did = { .domid = 1 };
		struct xgntd_domain_create dc = { .domid = 1 };

		assert_int_equal(dfix_ctl(XGNTD_CTL_DOMAIN_DESTROY, &did, sizeof(did)), 0);
		assert_true(dfix_readable(xenevtchn_fd(h), 2000));
		assert_int_equal(xenevtchn_pending(h), p);
		assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)p), 0);
		assert_int_equal(dfix_ctl(XGNTD_CTL_DOMAIN_CREATE, &dc, sizeof(dc)), 0);
	}
	xenevtchn_close(h);
}

/* Domain 1: binds, notifies at once, and leaves before the parent looks. */
static int child_notify_and_go(int fd, void *arg)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd);
	int local;

	(void)arg;
	CHK(h);
	local = xenevtchn_bind_interdomain(h, 0, remote);
	CHK(local > 0);
	CHK(xenevtchn_notify(h, (evtchn_port_t)local) == 0);
	CHK(ch_put(fd, (uint32_t)local) == 0);
	CHK(ch_get_chk(fd) == 1);
	return 0;                            /* its handle goes with it */
}

static void test_early_event(void **state)
{
	xenevtchn_handle *h = ev_open();
	uint32_t v;
	int port, fd;
	pid_t pid;

	(void)state;
	port = xenevtchn_bind_unbound_port(h, 1);
	assert_true(port > 0);
	pid = dfix_child(1, child_notify_and_go, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(ch_get(fd, &v), 0);
	assert_int_equal(ch_put(fd, 1), 0);
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
	/* The parent looks only now. */
	assert_true(dfix_readable(xenevtchn_fd(h), 2000));
	assert_int_equal(xenevtchn_pending(h), port);
	assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)port), 0);
	assert_false(dfix_readable(xenevtchn_fd(h), 100));
	/* The peer is gone: the local port is still ours to notify (it is
	 * unbound at the far end, Xen drops it)... */
	assert_int_equal(xenevtchn_notify(h, (evtchn_port_t)port), 0);
	assert_false(dfix_readable(xenevtchn_fd(h), 50));
	/* ...and, unbound again, a new process of the peer domain may bind
	 * to it (a persistent server's port). */
	pid = dfix_child(1, child_notify_and_go, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(ch_get(fd, &v), 0);
	assert_true(dfix_readable(xenevtchn_fd(h), 2000));
	assert_int_equal(xenevtchn_pending(h), port);
	assert_int_equal(xenevtchn_unmask(h, (evtchn_port_t)port), 0);
	assert_int_equal(ch_put(fd, 1), 0);
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
	assert_int_equal(xenevtchn_unbind(h, (evtchn_port_t)port), 0);
	xenevtchn_close(h);
}

static void test_many_ports(void **state)
{
	xenevtchn_handle *ha = ev_open(), *hb = ev_open();
	int a[64], b[64], i, got[64] = { 0 }, p;

	(void)state;
	for (i = 0; i < 64; i++) {
		a[i] = xenevtchn_bind_unbound_port(ha, 0);
		assert_true(a[i] > 0);
		b[i] = xenevtchn_bind_interdomain(hb, 0, (evtchn_port_t)a[i]);
		assert_true(b[i] > 0);
	}
	for (i = 0; i < 64; i++)
		assert_int_equal(xenevtchn_notify(hb, (evtchn_port_t)b[i]), 0);
	for (i = 0; i < 64; i++) {
		int k;

		assert_true(dfix_readable(xenevtchn_fd(ha), 2000));
		p = xenevtchn_pending(ha);
		for (k = 0; k < 64 && a[k] != p; k++)
			;
		assert_true(k < 64);
		assert_int_equal(got[k], 0);
		got[k] = 1;
	}
	assert_false(dfix_readable(xenevtchn_fd(ha), 100));
	xenevtchn_close(ha);
	xenevtchn_close(hb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loopback, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_cross_domain, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_fdopen, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_nonblock, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_errors, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_restrict_peer, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_virq, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_early_event, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_many_ports, dfix_setup, dfix_teardown),
	};

	return cmocka_run_group_tests_name("xgntd: libxenevtchn", tests, NULL, NULL);
}
