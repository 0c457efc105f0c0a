// SPDX-License-Identifier: MIT
/*
 * The daemon link against a fake xgntd played by the test itself (one
 * thread: connect lands in the backlog, then the test accepts, checks what
 * the server said and answers with proto.h messages).
 */
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../../src/daemon/proto.h"
#include "domlink.h"
#include "xs_client.h"

static struct xsv_server S;
static char dir[64], path[128];
static int lfd = -1;

static int setup(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_int_equal(xsv_server_init(&S), 0);
	strcpy(dir, "/tmp/xgnt-xs-dl-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xgntd.sock", dir);
	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	return 0;
}

static int teardown(void **state)
{
	close(lfd);
	unlink(path);
	rmdir(dir);
	xsv_server_fini(&S);
	return 0;
}

static void daemon_send(int fd, uint32_t type, uint16_t seq, int32_t ret,
			const void *pl, uint32_t len)
{
	char buf[sizeof(struct xgntd_hdr) + 256];
	struct xgntd_hdr h = { .type = type, .len = len, .ret = ret, .seq = seq };

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), pl, len);
	assert_int_equal(send(fd, buf, sizeof(h) + len, 0), (ssize_t)(sizeof(h) + len));
}

static void send_domain(int fd, uint32_t domid, uint32_t alive, uint32_t priv)
{
	struct xgntd_domain_info di = {
		.domid = domid, .alive = alive, .privileged = priv, .vcpus = 1,
	};
	daemon_send(fd, XGNTD_CTL_EVENT_DOMAIN, 0, 0, &di, sizeof(di));
}

/* Accepts the server's link and checks HELLO and WATCH_DOMAINS. */
static int accept_link(void)
{
	char buf[512];
	struct xgntd_hdr h;
	struct xgntd_hello hello;
	int fd = accept(lfd, NULL, NULL);
	ssize_t n;

	assert_true(fd >= 0);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_int_equal(n, sizeof(h) + sizeof(hello));
	memcpy(&h, buf, sizeof(h));
	memcpy(&hello, buf + sizeof(h), sizeof(hello));
	assert_int_equal(h.type, XGNTD_HELLO);
	assert_int_equal(h.len, sizeof(hello));
	assert_int_equal(hello.magic, XGNTD_MAGIC);
	assert_int_equal(hello.version, XGNTD_VERSION);
	assert_int_equal(hello.kind, XGNTD_KIND_CTL);
	assert_int_equal(hello.domid, 0);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_int_equal(n, sizeof(h));
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.type, XGNTD_CTL_WATCH_DOMAINS);
	assert_int_equal(h.len, 0);
	assert_int_not_equal(h.seq, 0);
	return fd;
}

static void test_domains_come_and_go(void **state)
{
	struct xgntd_hello_reply hr = { .version = XGNTD_VERSION };
	struct cl *d0 = cl_new(&S, 0);
	char out[4096];
	int link = xsv_domlink_open(path), dfd;

	assert_true(link >= 0);
	dfd = accept_link();
	assert_int_equal(xs_watch(d0, "@introduceDomain", "in"), 0);
	assert_int_equal(xs_watch(d0, "@releaseDomain", "out"), 0);
	cl_drain(d0);
	d0->nev = 0;
	daemon_send(dfd, XGNTD_HELLO, 1, 0, &hr, sizeof(hr));
	daemon_send(dfd, XGNTD_CTL_WATCH_DOMAINS, 2, 0, NULL, 0);
	send_domain(dfd, 0, 1, 1);   /* dom0 is reported too: harmless */
	send_domain(dfd, 3, 1, 0);
	send_domain(dfd, 4, 1, 1);
	assert_int_equal(xsv_domlink_input(&S, link), 0);
	assert_int_equal(xs_r(d0, 0, "/local/domain/3/domid", out), 0);
	assert_string_equal(out, "3");
	assert_int_equal(xs_getperms(d0, 0, "/local/domain/3", out), 0);
	assert_string_equal(out, "n3");
	assert_false(xsv_domid_priv(&S, 3));
	assert_true(xsv_domid_priv(&S, 4));
	cl_drain(d0);
	assert_true(cl_has_event(d0, "@introduceDomain in"));
	/* a process acting as dom3 works in its home */
	struct cl *d3 = cl_new(&S, 3);
	assert_int_equal(xs_w(d3, 0, "data/x", "1"), 0);
	assert_int_equal(xs_watch(d3, "data", "w"), 0);
	/* destroyed: home gone, @releaseDomain, its watches dropped */
	d0->nev = 0;
	send_domain(dfd, 3, 0, 0);
	assert_int_equal(xsv_domlink_input(&S, link), 0);
	assert_int_equal(xs_r(d0, 0, "/local/domain/3", out), ENOENT);
	cl_drain(d0);
	assert_true(cl_has_event(d0, "@releaseDomain out"));
	assert_null(d3->c->watches);
	assert_null(xsv_domain_find(&S, 3));
	/* a message of the wrong shape ends the link */
	daemon_send(dfd, XGNTD_CTL_EVENT_DOMAIN, 0, 0, "abc", 3);
	assert_int_equal(xsv_domlink_input(&S, link), -EPROTO);
	close(link);
	close(dfd);
	cl_free(d3);
	cl_free(d0);
}

/* Before serving, the server waits for the list of existing domains. */
static void test_start_waits_for_the_list(void **state)
{
	struct xgntd_hello_reply hr = { .version = XGNTD_VERSION };
	int link = xsv_domlink_open(path), dfd;

	assert_true(link >= 0);
	dfd = accept_link();
	daemon_send(dfd, XGNTD_HELLO, 1, 0, &hr, sizeof(hr));
	daemon_send(dfd, XGNTD_CTL_WATCH_DOMAINS, 2, 0, NULL, 0);
	send_domain(dfd, 3, 1, 0);
	send_domain(dfd, 4, 1, 0);
	assert_int_equal(xsv_domlink_start(&S, link, 1000), 0);
	assert_non_null(xsv_domain_find(&S, 3));
	assert_non_null(xsv_domain_find(&S, 4));
	close(link);
	close(dfd);

	/* a daemon that never answers: a timeout, not a hang */
	link = xsv_domlink_open(path);
	assert_true(link >= 0);
	dfd = accept_link();
	daemon_send(dfd, XGNTD_HELLO, 1, 0, &hr, sizeof(hr));
	assert_int_equal(xsv_domlink_start(&S, link, 100), -ETIMEDOUT);
	close(link);
	close(dfd);

	/* one that refuses */
	link = xsv_domlink_open(path);
	assert_true(link >= 0);
	dfd = accept_link();
	daemon_send(dfd, XGNTD_HELLO, 1, 0, &hr, sizeof(hr));
	daemon_send(dfd, XGNTD_CTL_WATCH_DOMAINS, 2, -EPERM, NULL, 0);
	assert_int_equal(xsv_domlink_start(&S, link, 1000), -EPERM);
	close(link);
	close(dfd);
}

static void test_refused_and_closed(void **state)
{
	int link = xsv_domlink_open(path), dfd;

	assert_true(link >= 0);
	dfd = accept_link();
	daemon_send(dfd, XGNTD_HELLO, 1, -EPERM, NULL, 0);
	assert_int_equal(xsv_domlink_input(&S, link), -EPERM);
	close(link);
	close(dfd);

	link = xsv_domlink_open(path);
	assert_true(link >= 0);
	dfd = accept_link();
	close(dfd);
	assert_int_equal(xsv_domlink_input(&S, link), -ECONNRESET);
	close(link);

	assert_true(xsv_domlink_open("/tmp/xgnt-no-such-daemon.sock") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domains_come_and_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_waits_for_the_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_and_closed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
