/* SPDX-License-Identifier: MIT */
/*
 * The drop-in libxenctrl (xc_interface_open/close, xc_domain_getinfo)
 * against xgntd, and every drop-in's open without a daemon, or with a
 * domain that does not exist.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "client/client.h"
#include "dfix.h"

static int setup_two(void **state)
{
	/* domain 1: HVM, 32 MiB, 2 vCPUs; domain 3: PV, 16 MiB, 1 vCPU */
	static const char *const args[] = { "--domain", "1:hvm:32:2", "--domain", "3:pv:16",
					    NULL };

	(void)state;
	return dfix_start(&dfix, args);
}

static void test_getinfo(void **state)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xc_dominfo_t info[8];
	int n;

	(void)state;
	assert_non_null(xch);
	memset(info, 0xa5, sizeof(info));
	n = xc_domain_getinfo(xch, 0, 8, info);
	assert_int_equal(n, 3);
	assert_int_equal(info[0].domid, 0);
	assert_int_equal(info[0].nr_online_vcpus, 1);
	assert_int_equal(info[0].hvm, 1);
	assert_int_equal(info[1].domid, 1);
	assert_int_equal(info[1].nr_online_vcpus, 2);
	assert_int_equal(info[1].max_vcpu_id, 1);
	assert_int_equal(info[1].nr_pages, 32 * 256);
	assert_int_equal(info[1].hvm, 1);
	assert_int_equal(info[1].dying, 0);
	assert_int_equal(info[1].shutdown, 0);
	assert_int_equal(info[2].domid, 3);
	assert_int_equal(info[2].nr_online_vcpus, 1);
	assert_int_equal(info[2].nr_pages, 16 * 256);
	assert_int_equal(info[2].hvm, 0);
	/* from a first domid on, at most max_doms */
	n = xc_domain_getinfo(xch, 1, 8, info);
	assert_int_equal(n, 2);
	assert_int_equal(info[0].domid, 1);
	assert_int_equal(info[1].domid, 3);
	n = xc_domain_getinfo(xch, 2, 1, info);
	assert_int_equal(n, 1);
	assert_int_equal(info[0].domid, 3);
	n = xc_domain_getinfo(xch, 0, 1, info);
	assert_int_equal(n, 1);
	assert_int_equal(info[0].domid, 0);
	n = xc_domain_getinfo(xch, 4, 8, info);
	assert_int_equal(n, 0);
	assert_int_equal(xc_interface_close(xch), 0);
	assert_int_equal(xc_interface_close(NULL), 0);
}

static int child_unpriv(int fd, void *arg)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xc_dominfo_t info[4];

	(void)fd, (void)arg;
	CHK(xch);
	errno = 0;
	CHK(xc_domain_getinfo(xch, 0, 4, info) == -1);
	CHK(errno == EPERM);
	xc_interface_close(xch);
	return 0;
}

static void test_unprivileged(void **state)
{
	int fd;
	pid_t pid = dfix_child(1, child_unpriv, NULL, &fd);

	(void)state;
	assert_true(pid > 0);
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
}

static void test_no_domain(void **state)
{
	(void)state;
	setenv("XGNT_DOMID", "2", 1);        /* no domain 2 */
	errno = 0;
	assert_null(xengnttab_open(NULL, 0));
	assert_int_equal(errno, ESRCH);
	errno = 0;
	assert_null(xengntshr_open(NULL, 0));
	assert_int_equal(errno, ESRCH);
	errno = 0;
	assert_null(xenevtchn_open(NULL, 0));
	assert_int_equal(errno, ESRCH);
	errno = 0;
	assert_null(xc_interface_open(NULL, NULL, 0));
	assert_int_equal(errno, ESRCH);
	setenv("XGNT_DOMID", "zero", 1);
	errno = 0;
	assert_null(xengnttab_open(NULL, 0));
	assert_int_equal(errno, EINVAL);
	setenv("XGNT_DOMID", "32752", 1);    /* DOMID_FIRST_RESERVED */
	errno = 0;
	assert_null(xenevtchn_open(NULL, 0));
	assert_int_equal(errno, EINVAL);
	setenv("XGNT_DOMID", "3", 1);
	{
		xengnttab_handle *h = xengnttab_open(NULL, 0);

		assert_non_null(h);
		xengnttab_close(h);
	}
	setenv("XGNT_DOMID", "0", 1);
}

/* Every drop-in's open fails with errno e, never crashes. */
static void opens_fail(int e)
{
	errno = 0;
	assert_null(xengnttab_open(NULL, 0));
	assert_int_equal(errno, e);
	errno = 0;
	assert_null(xengntshr_open(NULL, 0));
	assert_int_equal(errno, e);
	errno = 0;
	assert_null(xenevtchn_open(NULL, 0));
	assert_int_equal(errno, e);
	errno = 0;
	assert_null(xc_interface_open(NULL, NULL, 0));
	assert_int_equal(errno, e);
}

static void test_no_daemon(void **state)
{
	char dir[] = "/tmp/xgntd-none.XXXXXX", path[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xgntd.sock", dir);
	setenv("XGNT_SOCKET", path, 1);
	opens_fail(ENOENT);
	/* A socket file nobody listens on (a daemon that died). */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	opens_fail(ECONNREFUSED);
	unlink(path);
	rmdir(dir);
	/* A path too long for a Unix socket. */
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	setenv("XGNT_SOCKET", path, 1);
	opens_fail(ENAMETOOLONG);
	setenv("XGNT_SOCKET", dfix.sock, 1);
}

/* The daemon goes away under open handles: calls fail, nothing crashes. */
static void test_daemon_gone(void **state)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xc_dominfo_t info;
	uint32_t ref;
	uint8_t *s;
	int port;

	(void)state;
	assert_non_null(gt);
	assert_non_null(gs);
	assert_non_null(ev);
	assert_non_null(xch);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	assert_non_null(s);
	port = xenevtchn_bind_unbound_port(ev, 0);
	assert_true(port > 0);
	kill(dfix.pid, SIGTERM);
	assert_int_equal(dfix_stop(&dfix), 0);
	assert_null(xengnttab_map_grant_ref(gt, 0, ref, PROT_READ));
	assert_int_equal(errno, EPIPE);
	assert_int_equal(xc_domain_getinfo(xch, 0, 1, &info), -1);
	assert_int_equal(errno, EPIPE);
	errno = 0;
	assert_int_equal(xenevtchn_pending(ev), -1);   /* EOF on the pipe */
	assert_int_equal(errno, EPIPE);
	assert_int_equal(xenevtchn_bind_unbound_port(ev, 0), -1);
	assert_int_equal(errno, EPIPE);
	xengnttab_close(gt);
	xengntshr_close(gs);
	xenevtchn_close(ev);
	xc_interface_close(xch);
}

/* A watching control connection hears of every domain, then of each
 * creation and destruction; it may not send anything more. */
static void test_watch(void **state)
{
	struct xgntd_domain_create dc = { .domid = 5, .vcpus = 3 };
	struct xgntd_domid did = { .domid = 5 };
	struct {
		struct xgntd_hdr h;
		struct xgntd_domain_info i;
	} ev;
	struct xgntc w;
	int k;

	(void)state;
	assert_int_equal(xgntc_open(&w, dfix.sock, XGNTD_KIND_CTL, 0, 0, -1, NULL, NULL, 0), 0);
	assert_int_equal(xgntc_call(&w, XGNTD_CTL_WATCH_DOMAINS, NULL, 0, NULL, 0, NULL), 0);
	for (k = 0; k < 3; k++) {            /* domains 0, 1, 3 */
		assert_true(dfix_readable(w.fd, 2000));
		assert_int_equal(recv(w.fd, &ev, sizeof(ev), 0), (ssize_t)sizeof(ev));
		assert_int_equal(ev.h.type, XGNTD_CTL_EVENT_DOMAIN);
		assert_int_equal(ev.i.domid, k == 0 ? 0 : k == 1 ? 1 : 3);
		assert_int_equal(ev.i.alive, 1);
	}
	assert_false(dfix_readable(w.fd, 50));
	assert_int_equal(dfix_ctl(XGNTD_CTL_DOMAIN_CREATE, &dc, sizeof(dc)), 0);
	assert_true(dfix_readable(w.fd, 2000));
	assert_int_equal(recv(w.fd, &ev, sizeof(ev), 0), (ssize_t)sizeof(ev));
	assert_int_equal(ev.i.domid, 5);
	assert_int_equal(ev.i.alive, 1);
	assert_int_equal(ev.i.vcpus, 3);
	assert_int_equal(dfix_ctl(XGNTD_CTL_DOMAIN_DESTROY, &did, sizeof(did)), 0);
	assert_true(dfix_readable(w.fd, 2000));
	assert_int_equal(recv(w.fd, &ev, sizeof(ev), 0), (ssize_t)sizeof(ev));
	assert_int_equal(ev.i.domid, 5);
	assert_int_equal(ev.i.alive, 0);
	/* it only listens: a request closes it */
	assert_int_equal(xgntc_post(&w, XGNTD_CTL_DOMAIN_LIST, NULL, 0), 0);
	assert_true(dfix_readable(w.fd, 2000));
	assert_true(recv(w.fd, &ev, sizeof(ev), 0) <= 0);
	xgntc_close(&w);
	assert_true(dfix_alive(&dfix));
}

static int teardown_gone(void **state)
{
	(void)state;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_getinfo, setup_two, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_unprivileged, setup_two, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_no_domain, setup_two, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_no_daemon, setup_two, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup_two, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_daemon_gone, dfix_setup, teardown_gone),
	};

	return cmocka_run_group_tests_name("xgntd: libxenctrl and opens", tests, NULL, NULL);
}
