// SPDX-License-Identifier: MIT
/*
 * Debian's libxenstore (xenstore.h, -lxenstore, unmodified) against
 * xgnt-xenstored: what libxenvchan and vchan-socket-proxy call, in the
 * order they call it, plus transaction conflicts, watches and big
 * directories. Domain processes are this program re-executed with
 * XGNT_DOMID in its environment (the server reads it at accept).
 *
 * Usage: test_xs_libxenstore path/to/xgnt-xenstored
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <xenstore.h>

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "FAIL %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, \
		#c, errno, strerror(errno)); exit(1); } } while (0)

static pid_t srv = -1;
static char dir[] = "/tmp/xgnt-xs-lib.XXXXXX", sock[256];

/* A failing CHECK must not leave the server holding ctest's pipes, nor
 * its socket behind. */
static void kill_server(void)
{
	if (srv > 0) {
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
	unlink(sock);
	rmdir(dir);
}

static char *rd(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	unsigned int len;
	char *v = xs_read(h, t, path, &len);

	if (v)
		CHECK(strlen(v) == len);
	return v;
}

static void expect(struct xs_handle *h, const char *path, const char *want)
{
	char *v = rd(h, XBT_NULL, path);

	if (!v || strcmp(v, want)) {
		fprintf(stderr, "FAIL: %s = \"%s\", want \"%s\" (errno %d)\n", path,
			v ? v : "(null)", want, errno);
		exit(1);
	}
	free(v);
}

/* The next watch event within 5 s: path and token. */
static void next_event(struct xs_handle *h, const char *path, const char *token)
{
	struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned int num;
	char **vec;

	CHECK(pfd.fd >= 0);
	CHECK(poll(&pfd, 1, 5000) == 1);
	vec = xs_read_watch(h, &num);
	CHECK(vec && num >= 2);
	if (strcmp(vec[XS_WATCH_PATH], path) || strcmp(vec[XS_WATCH_TOKEN], token)) {
		fprintf(stderr, "FAIL: event \"%s\" \"%s\", want \"%s\" \"%s\"\n",
			vec[XS_WATCH_PATH], vec[XS_WATCH_TOKEN], path, token);
		exit(1);
	}
	free(vec);
}

static void no_event(struct xs_handle *h)
{
	char **vec = xs_check_watch(h);

	CHECK(vec == NULL && errno == EAGAIN);
}

/* libxenvchan_server_init's xenstore part, as domain "own" for "peer". */
static int vchan_server(const char *xs_path, unsigned int peer)
{
	struct xs_handle *xs = xs_open(0);
	struct xs_permissions perms[2];
	char buf[64], ref[256], port[256];
	char *domid;
	int tries = 0;

	CHECK(xs);
	domid = xs_read(xs, XBT_NULL, "domid", NULL);   /* relative */
	CHECK(domid);
	perms[0].id = (unsigned int)atoi(domid);
	perms[0].perms = XS_PERM_NONE;
	perms[1].id = peer;
	perms[1].perms = XS_PERM_READ;
	snprintf(ref, sizeof(ref), "%s/ring-ref", xs_path);
	snprintf(port, sizeof(port), "%s/event-channel", xs_path);
	for (;;) {
		xs_transaction_t t = xs_transaction_start(xs);

		CHECK(t != XBT_NULL);
		snprintf(buf, sizeof(buf), "%d", 8);
		CHECK(xs_write(xs, t, ref, buf, strlen(buf)));
		CHECK(xs_set_permissions(xs, t, ref, perms, 2));
		snprintf(buf, sizeof(buf), "%d", 5);
		CHECK(xs_write(xs, t, port, buf, strlen(buf)));
		CHECK(xs_set_permissions(xs, t, port, perms, 2));
		if (xs_transaction_end(xs, t, false))
			break;
		CHECK(errno == EAGAIN && ++tries < 10);
	}
	printf("%s\n", domid);
	free(domid);
	xs_close(xs);
	return 0;
}

/* libxenvchan_client_init's xenstore part: read both keys. */
static int vchan_client(const char *xs_path)
{
	struct xs_handle *xs = xs_open(0);
	char p[256], *v;

	CHECK(xs);
	snprintf(p, sizeof(p), "%s/ring-ref", xs_path);
	v = xs_read(xs, XBT_NULL, p, NULL);
	if (!v) {
		printf("denied %d\n", errno);
		return 0;
	}
	printf("ring-ref %s\n", v);
	free(v);
	xs_close(xs);
	return 0;
}

/* Runs this program as domain domid; its first output line in out. */
static int as_domain(const char *self, const char *sockpath, unsigned int domid,
		     const char *mode, const char *arg, char *out, size_t cap)
{
	char env_path[512], env_dom[32];
	char *envp[] = { env_path, env_dom, NULL };
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	snprintf(env_path, sizeof(env_path), "XENSTORED_PATH=%s", sockpath);
	snprintf(env_dom, sizeof(env_dom), "XGNT_DOMID=%u", domid);
	CHECK(pipe(pfd) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execle(self, self, mode, arg, (char *)NULL, envp);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(int argc, char **argv)
{
	char out[256], name[64];
	struct xs_permissions perms[2], *got;
	struct xs_handle *h1, *h2;
	unsigned int num;
	xs_transaction_t t;
	char **list;
	int status;

	if (argc == 3 && !strcmp(argv[1], "--vchan-server"))
		return vchan_server(argv[2], 0);
	if (argc == 3 && !strcmp(argv[1], "--vchan-client"))
		return vchan_client(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: %s path/to/xgnt-xenstored\n", argv[0]);
		return 2;
	}
	alarm(30);
	CHECK(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	srv = fork();
	CHECK(srv >= 0);
	if (srv == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(argv[1], argv[1], "--socket", sock, "--domains", "3,4", (char *)NULL);
		_exit(127);
	}
	atexit(kill_server);
	setenv("XENSTORED_PATH", sock, 1);
	for (int i = 0; !(h1 = xs_open(0)); i++) {
		CHECK(i < 200);
		usleep(50000);
	}
	h2 = xs_open(0);
	CHECK(h2);
	{	/* vchan-socket-proxy opens read-only: same socket */
		struct xs_handle *ro = xs_open(XS_OPEN_READONLY);

		CHECK(ro);
		expect(ro, "/local/domain/0/name", "Domain-0");
		xs_close(ro);
	}

	/* relative paths: this process is dom0 */
	expect(h1, "domid", "0");
	expect(h1, "/local/domain/3/domid", "3");
	CHECK(xs_write(h1, XBT_NULL, "/lib/a", "va", 2));
	expect(h2, "/lib/a", "va");
	list = xs_directory(h1, XBT_NULL, "/lib", &num);
	CHECK(list && num == 1 && !strcmp(list[0], "a"));
	free(list);
	char *p = xs_get_domain_path(h1, 3);
	CHECK(p && !strcmp(p, "/local/domain/3"));
	free(p);

	/* transactions: invisible until commit; a racing write -> EAGAIN */
	CHECK(xs_write(h1, XBT_NULL, "/lib/ctr", "1", 1));
	t = xs_transaction_start(h1);
	CHECK(t != XBT_NULL);
	free(rd(h1, t, "/lib/ctr"));
	CHECK(xs_write(h1, t, "/lib/ctr", "2", 1));
	expect(h2, "/lib/ctr", "1");
	CHECK(xs_write(h2, XBT_NULL, "/lib/ctr", "9", 1));
	errno = 0;
	CHECK(!xs_transaction_end(h1, t, false));
	CHECK(errno == EAGAIN);
	expect(h2, "/lib/ctr", "9");
	t = xs_transaction_start(h1);
	CHECK(xs_write(h1, t, "/lib/ctr", "10", 2));
	CHECK(xs_transaction_end(h1, t, false));
	expect(h2, "/lib/ctr", "10");
	t = xs_transaction_start(h1);
	CHECK(xs_rm(h1, t, "/lib/ctr"));
	CHECK(xs_transaction_end(h1, t, true));   /* abort */
	expect(h2, "/lib/ctr", "10");

	/* permissions */
	perms[0] = (struct xs_permissions){ .id = 3, .perms = XS_PERM_NONE };
	perms[1] = (struct xs_permissions){ .id = 4, .perms = XS_PERM_READ };
	CHECK(xs_set_permissions(h1, XBT_NULL, "/lib/a", perms, 2));
	got = xs_get_permissions(h2, XBT_NULL, "/lib/a", &num);
	CHECK(got && num == 2 && got[0].id == 3 && got[0].perms == XS_PERM_NONE &&
	      got[1].id == 4 && got[1].perms == XS_PERM_READ);
	free(got);

	/* watches: fire once up front, then on changes below the path */
	CHECK(xs_write(h1, XBT_NULL, "/lib/w", "", 0));
	CHECK(xs_watch(h1, "/lib/w", "tok"));
	next_event(h1, "/lib/w", "tok");
	no_event(h1);
	CHECK(xs_write(h2, XBT_NULL, "/lib/w/x", "1", 1));
	next_event(h1, "/lib/w/x", "tok");
	t = xs_transaction_start(h2);
	CHECK(xs_write(h2, t, "/lib/w/y", "1", 1));
	usleep(100000);
	no_event(h1);   /* queued until commit */
	CHECK(xs_transaction_end(h2, t, false));
	next_event(h1, "/lib/w/y", "tok");
	CHECK(xs_unwatch(h1, "/lib/w", "tok"));
	CHECK(xs_watch(h1, "@introduceDomain", "intro"));
	next_event(h1, "@introduceDomain", "intro");
	CHECK(xs_introduce_domain(h2, 9, 0, 0));
	next_event(h1, "@introduceDomain", "intro");
	expect(h1, "/local/domain/9/domid", "9");
	CHECK(xs_watch(h1, "@releaseDomain", "rel"));
	next_event(h1, "@releaseDomain", "rel");
	CHECK(xs_release_domain(h2, 9));
	next_event(h1, "@releaseDomain", "rel");

	/* a directory too big for one reply: libxenstore falls back to
	 * DIRECTORY_PART */
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "/big/entry-%03d-with-a-long-name-xxxxxxxx", i);
		CHECK(xs_write(h1, XBT_NULL, name, "", 0));
	}
	list = xs_directory(h1, XBT_NULL, "/big", &num);
	CHECK(list && num == 200);
	CHECK(!strcmp(list[199], "entry-199-with-a-long-name-xxxxxxxx"));
	free(list);

	/* libxenvchan's server in dom3 for dom0, relative path; client reads */
	CHECK(as_domain(argv[0], sock, 3, "--vchan-server", "data/vchan/0/1", out,
			sizeof(out)) == 0);
	CHECK(!strcmp(out, "3\n"));
	expect(h1, "/local/domain/3/data/vchan/0/1/ring-ref", "8");
	expect(h1, "/local/domain/3/data/vchan/0/1/event-channel", "5");
	got = xs_get_permissions(h1, XBT_NULL,
				 "/local/domain/3/data/vchan/0/1/ring-ref", &num);
	CHECK(got && num == 2 && got[0].id == 3 && got[0].perms == XS_PERM_NONE &&
	      got[1].id == 0 && got[1].perms == XS_PERM_READ);
	free(got);
	/* dom4 is not the peer: the server's perms keep it out */
	CHECK(as_domain(argv[0], sock, 4, "--vchan-client",
			"/local/domain/3/data/vchan/0/1", out, sizeof(out)) == 0);
	snprintf(name, sizeof(name), "denied %d\n", EACCES);
	CHECK(!strcmp(out, name));
	/* libxenvchan_close: the server removes the directory */
	CHECK(xs_rm(h1, XBT_NULL, "/local/domain/3/data/vchan/0/1"));
	CHECK(!rd(h1, XBT_NULL, "/local/domain/3/data/vchan/0/1/ring-ref") &&
	      errno == ENOENT);

	xs_close(h2);
	xs_close(h1);
	CHECK(kill(srv, SIGTERM) == 0);
	CHECK(waitpid(srv, &status, 0) == srv);
	srv = -1;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(access(sock, F_OK) != 0);
	printf("PASS: libxenstore against xgnt-xenstored\n");
	return 0;
}
