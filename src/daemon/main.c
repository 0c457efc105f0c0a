/* SPDX-License-Identifier: MIT */
/*
 * xgntd: the machine as a service. One epoll loop serves the listening
 * socket, every connection, every domain's upcall and the signals.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "../client/client.h"

static const char usage[] =
	"usage: xgntd [--socket PATH] [--memory-mib N] [--domain SPEC]... [--gntalloc-limit N] [-v]\n"
	"\n"
	"Runs an xgnt machine as a service: processes attach to it as Xen domains\n"
	"(the drop-in libxengnttab with xengntshr, libxenevtchn and libxenctrl, or the\n"
	"xgnt tools) over a Unix socket. Domain 0 (privileged, HVM) exists from the\n"
	"start. Runs in the foreground; SIGTERM or SIGINT shuts it down cleanly.\n"
	"\n"
	"  --socket PATH        the socket (default: $XGNT_SOCKET, else\n"
	"                       $XDG_RUNTIME_DIR/xgnt/xgntd.sock, else\n"
	"                       /run/xgnt/xgntd.sock for root, else\n"
	"                       /tmp/xgnt-UID/xgntd.sock)\n"
	"  --memory-mib N       machine memory (default 1024)\n"
	"  --domain SPEC        create a domain at start: DOMID[:hvm|pv|arm][:RAM_MIB]\n"
	"                       [:VCPUS][:priv], e.g. 1:hvm:64:1 (repeatable)\n"
	"  --gntalloc-limit N   pages a domain may share through gntalloc handles\n"
	"                       (Linux's gntalloc limit; default 1024)\n"
	"  -v, --verbose        log connections and errors to stderr\n"
	"  -h, --help           this text\n";

void dmn_log(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "xgntd[%ld.%03ld]: ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int parse_u32(const char *s, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* DOMID[:type][:ram_mib][:vcpus][:priv] */
static int parse_domain(const char *spec, struct xgntd_domain_create *c)
{
	char buf[128], *save = NULL, *tok;
	int field = 0;

	memset(c, 0, sizeof(*c));
	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save), field++) {
		uint32_t v;

		if (field == 0) {
			if (parse_u32(tok, 0x7fef, &c->domid))
				return -1;
		} else if (!strcmp(tok, "hvm")) {
			c->type = XGNT_DOMAIN_HVM;
		} else if (!strcmp(tok, "pv")) {
			c->type = XGNT_DOMAIN_PV;
		} else if (!strcmp(tok, "arm")) {
			c->type = XGNT_DOMAIN_ARM;
		} else if (!strcmp(tok, "priv")) {
			c->privileged = 1;
		} else if (!parse_u32(tok, 65536, &v) && v) {
			if (!c->ram_frames)
				c->ram_frames = v * 256;
			else if (!c->vcpus)
				c->vcpus = v;
			else
				return -1;
		} else {
			return -1;
		}
	}
	return field ? 0 : -1;
}

static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Listens on path; a live daemon there is an error, a stale file is not.
 * The socket is bound and listening under a temporary name first and then
 * renamed into place (as xgnt-xenstored's), so a client that sees the file
 * can connect, and a second daemon probing it never takes a socket that
 * is not listening yet for a stale one.
 */
/* The listening socket at path (listen.h), its directory made first. */
static int listen_on(const char *path, int *lock_fd)
{
	int rc = make_parent(path);

	return rc ? rc : unix_listen(path, SOCK_SEQPACKET, 64, lock_fd);
}

static int ep_add(int epfd, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* epoll tags for the fixed descriptors; connections and domains are
 * told apart by their first member being a tag too. */
static char tag_listen, tag_signal;

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "memory-mib", required_argument, NULL, 'm' },
		{ "domain", required_argument, NULL, 'd' },
		{ "gntalloc-limit", required_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xgntd_domain_create doms[64], dom0 = { .domid = 0, .privileged = 1 };
	struct xgnt_machine_config mc = { 0 };
	struct daemon dmn = { .gntalloc_limit = 1024, .epfd = -1, .lfd = -1, .sigfd = -1 };
	char pathbuf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *path = NULL;
	unsigned int nr_doms = 0, i;
	uint32_t v;
	sigset_t mask;
	int opt, rc, status = 1, lock_fd = -1;

	while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'm':
			if (parse_u32(optarg, 65536, &v) || v < 16) {
				fprintf(stderr, "xgntd: --memory-mib wants 16..65536, not '%s'\n", optarg);
				return 2;
			}
			mc.nr_frames = v * 256;
			break;
		case 'd':
			if (nr_doms == 64 || parse_domain(optarg, &doms[nr_doms])) {
				fprintf(stderr, "xgntd: bad --domain '%s' (DOMID[:hvm|pv|arm][:RAM_MIB][:VCPUS][:priv])\n",
					optarg);
				return 2;
			}
			nr_doms++;
			break;
		case 'g':
			if (parse_u32(optarg, 1u << 20, &v) || !v) {
				fprintf(stderr, "xgntd: --gntalloc-limit wants 1..1048576, not '%s'\n", optarg);
				return 2;
			}
			dmn.gntalloc_limit = v;
			break;
		case 'v':
			dmn.verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xgntd: unexpected argument '%s'\n%s", argv[optind], usage);
		return 2;
	}
	if (!path) {
		if (xgntc_socket_path(pathbuf, sizeof(pathbuf))) {
			fprintf(stderr, "xgntd: the socket path is too long\n");
			return 2;
		}
		path = pathbuf;
	}
	dmn.path = path;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	dmn.m = xgnt_machine_create(&mc);
	if (!dmn.m) {
		fprintf(stderr, "xgntd: cannot create the machine: %s\n", strerror(errno));
		return 1;
	}
	dmn.memfd = xgnt_machine_memfd(dmn.m, &dmn.nr_frames);
	dmn.epfd = epoll_create1(EPOLL_CLOEXEC);
	dmn.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (dmn.epfd < 0 || dmn.sigfd < 0 || ep_add(dmn.epfd, dmn.sigfd, &tag_signal)) {
		fprintf(stderr, "xgntd: %s\n", strerror(errno));
		goto out;
	}
	rc = dd_create(&dmn, &dom0);
	if (rc)
		fprintf(stderr, "xgntd: cannot create domain 0: %s\n", strerror(-rc));
	for (i = 0; !rc && i < nr_doms; i++) {
		rc = dd_create(&dmn, &doms[i]);
		if (rc)
			fprintf(stderr, "xgntd: cannot create domain %u: %s\n", doms[i].domid,
				strerror(-rc));
	}
	if (rc)
		goto out;
	dmn.lfd = listen_on(path, &lock_fd);
	if (dmn.lfd < 0) {
		fprintf(stderr, "xgntd: cannot listen on %s: %s\n", path,
			dmn.lfd == -EADDRINUSE ? "another xgntd is running there"
					       : strerror(-dmn.lfd));
		goto out;
	}
	if (ep_add(dmn.epfd, dmn.lfd, &tag_listen))
		goto out;
	{
		struct stat st;

		if (stat(path, &st) == 0)
			dmn.sock_ino = st.st_ino;
	}
	dlog(&dmn, "listening on %s", path);

	while (!dmn.stop) {
		struct epoll_event evs[32];
		int n = epoll_wait(dmn.epfd, evs, 32, -1), k;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "xgntd: epoll: %s\n", strerror(errno));
			goto out;
		}
		for (k = 0; k < n; k++) {
			void *p = evs[k].data.ptr;

			if (p == &tag_listen) {
				conn_accept(&dmn);
			} else if (p == &tag_signal) {
				struct signalfd_siginfo si;

				while (read(dmn.sigfd, &si, sizeof(si)) == sizeof(si)) {
					dlog(&dmn, "signal %u: shutting down", si.ssi_signo);
					dmn.stop = true;
				}
			} else if (*(char *)p == 'c') {
				conn_input((struct conn *)((char *)p - offsetof(struct conn, tag)));
			} else if (*(char *)p == 'd') {
				dd_events((struct dd *)((char *)p - offsetof(struct dd, tag)));
			}   /* 'x': closed or destroyed earlier in this batch */
		}
		dmn_reap(&dmn);
		dd_poll_deferred(&dmn);
	}
	status = 0;
out:
	while (dmn.conns)
		conn_close(dmn.conns);
	while (dmn.doms) {
		struct dd *dd = dmn.doms;

		/* Domain 0 last, as a machine's destruction does it. */
		while (dd->next && dd->domid == 0)
			dd = dd->next;
		dd_destroy(&dmn, dd);
	}
	dmn_reap(&dmn);
	if (dmn.lfd >= 0) {
		struct stat st;

		close(dmn.lfd);
		/* Only our own socket: another daemon may have taken the path. */
		if (stat(path, &st) == 0 && st.st_ino == dmn.sock_ino)
			unlink(path);
	}
	if (lock_fd >= 0)
		close(lock_fd);   /* after the socket is gone: the next may start */
	if (dmn.m)
		xgnt_machine_destroy(dmn.m);
	if (dmn.epfd >= 0)
		close(dmn.epfd);
	if (dmn.sigfd >= 0)
		close(dmn.sigfd);
	return status;
}
