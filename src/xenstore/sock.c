// SPDX-License-Identifier: MIT
/*
 * The socket side: one epoll loop over the listening Unix socket, the
 * clients, the daemon link and a signalfd. Nonblocking everywhere; a client
 * is read only as far as its next message needs, and written as far as its
 * socket takes, so a slow or silent client never stalls the others.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../daemon/listen.h"
#include "domlink.h"
#include "sock.h"
#include "xenstored.h"

static char tag_listen, tag_signal, tag_daemon;   /* epoll cookies */

#define READS_PER_WAKE 64

/*
 * The domain a client acts for: XGNT_DOMID in the environment its process
 * started with (SO_PEERCRED gives the pid). Absent or unreadable: 0.
 * Not a security boundary: any process may claim any domain.
 */
static int peer_domid(struct xsv_server *s, int fd, uint32_t *domid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[64], *env = NULL;
	size_t cap = 0, used = 0;
	int efd;

	*domid = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)cred.pid);
	efd = open(path, O_RDONLY | O_CLOEXEC);
	if (efd < 0)
		return 0;
	for (;;) {
		ssize_t n;

		if (used + 4096 + 1 > cap) {
			char *e;

			if (cap >= (1u << 22))
				break;
			cap = cap ? cap * 2 : 16384;
			e = realloc(env, cap);
			if (!e)
				break;
			env = e;
		}
		n = read(efd, env + used, cap - used - 1);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(efd);
	if (!env)
		return 0;
	env[used] = '\0';
	for (size_t off = 0; off < used; off += strlen(env + off) + 1) {
		const char *v = env + off;
		char *end;
		unsigned long id;

		if (strncmp(v, "XGNT_DOMID=", 11))
			continue;
		v += 11;
		if (!*v)
			break;   /* empty: as if absent, like the client library */
		id = strtoul(v, &end, 10);
		if (*v < '0' || *v > '9' || *end || id > XSV_DOMID_MAX) {
			xsv_log(s, 0, "pid %d: bad XGNT_DOMID \"%s\", refused",
				(int)cred.pid, v);
			free(env);
			return -EINVAL;
		}
		*domid = (uint32_t)id;
		break;
	}
	free(env);
	return 0;
}

static void set_mask(struct xsv_loop *l, struct xsv_conn *c)
{
	uint32_t mask = (xsv_conn_paused(c) ? 0 : EPOLLIN) |
			(c->out_head ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = mask, .data.ptr = c };

	if (mask != c->ep_mask && epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ep_mask = mask;
}

static void do_accept(struct xsv_loop *l)
{
	for (;;) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct xsv_conn *c;
		uint32_t domid;

		if (fd < 0) {
			/* Out of descriptors: the pending client would wake us
			 * forever; stop listening until a connection closes. */
			if ((errno == EMFILE || errno == ENFILE) &&
			    epoll_ctl(l->ep, EPOLL_CTL_DEL, l->lfd, NULL) == 0) {
				l->accept_off = true;
				xsv_log(&l->srv, 0, "out of file descriptors: "
					"not accepting until a client leaves");
			}
			return;   /* EAGAIN, or a client gone already */
		}
		if (peer_domid(&l->srv, fd, &domid) ||
		    !(c = xsv_conn_new(&l->srv, fd, domid))) {
			close(fd);
			continue;
		}
		ev.data.ptr = c;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			xsv_conn_free(c);
			close(fd);
			continue;
		}
		c->ep_mask = EPOLLIN;
		xsv_log(&l->srv, 1, "connection fd %d acts for domain %u", fd, domid);
	}
}

static void do_read(struct xsv_conn *c)
{
	char buf[XENSTORE_PAYLOAD_MAX + sizeof(struct xsd_sockmsg)];

	for (int i = 0; i < READS_PER_WAKE && !xsv_conn_paused(c); i++) {
		size_t want = xsv_conn_want(c);
		ssize_t n = read(c->fd, buf, want);

		if (n > 0) {
			xsv_conn_feed(c, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		c->dead = true;   /* EOF or error */
		return;
	}
}

static void do_write(struct xsv_conn *c)
{
	while (c->out_head && !c->dead) {
		struct xsv_msg *m = c->out_head;
		ssize_t n = send(c->fd, m->data + c->out_off, m->len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->dead = true;
			return;
		}
		xsv_conn_consumed(c, (size_t)n);
	}
}

static void close_conn(struct xsv_loop *l, struct xsv_conn *c)
{
	xsv_log(&l->srv, 1, "connection fd %d (domain %u) closed", c->fd, c->domid);
	epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	xsv_conn_free(c);
}

static int add_fd(struct xsv_loop *l, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int xsv_loop_setup(struct xsv_loop *l)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	l->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->sfd < 0 || l->ep < 0)
		return -errno;
	if (add_fd(l, l->sfd, &tag_signal) || add_fd(l, l->lfd, &tag_listen))
		return -errno;
	if (l->dfd >= 0 && add_fd(l, l->dfd, &tag_daemon))
		return -errno;
	return 0;
}

#define RELINK_MS 500   /* between tries to reach a lost xgntd */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The link to xgntd is lost (the daemon stopped or restarted): try again
 * every RELINK_MS. A daemon that answers sends its domain list, which
 * becomes the server's: new domains are introduced, domains it does not
 * name are released (a restarted daemon's machine is a new one).
 */
static void relink(struct xsv_loop *l)
{
	int fd = xsv_domlink_open(l->dpath), ret = fd;

	if (fd >= 0) {
		xsv_domains_unlist(&l->srv);
		ret = xsv_domlink_start(&l->srv, fd, 1000);
		if (!ret)
			ret = add_fd(l, fd, &tag_daemon);
		if (!ret) {
			xsv_domains_release_unlisted(&l->srv);
			l->dfd = fd;
			xsv_log(&l->srv, 0, "daemon link back (%s)", l->dpath);
			return;
		}
		close(fd);
	}
	xsv_log(&l->srv, 2, "daemon at %s: %s", l->dpath, strerror(-ret));
	l->relink_at = now_ms() + RELINK_MS;
}

int xsv_loop_run(struct xsv_loop *l)
{
	struct epoll_event evs[64];

	for (;;) {
		int timeout = -1, n;

		if (l->dfd < 0 && l->dpath) {
			long long wait = l->relink_at - now_ms();

			timeout = (int)(wait > 0 ? wait : 0);
		}
		n = epoll_wait(l->ep, evs, 64, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &tag_signal) {
				struct signalfd_siginfo si;

				if (read(l->sfd, &si, sizeof(si)) == sizeof(si)) {
					xsv_log(&l->srv, 1, "signal %u: shutting down",
						si.ssi_signo);
					return 0;
				}
			} else if (p == &tag_listen) {
				do_accept(l);
			} else if (p == &tag_daemon) {
				if (xsv_domlink_input(&l->srv, l->dfd)) {
					xsv_log(&l->srv, 0, "daemon link closed; "
						"keeping the domains known so far%s",
						l->dpath ? ", relinking" : "");
					epoll_ctl(l->ep, EPOLL_CTL_DEL, l->dfd, NULL);
					close(l->dfd);
					l->dfd = -1;
					l->relink_at = now_ms() + RELINK_MS;
				}
			} else {
				struct xsv_conn *c = p;

				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					do_read(c);
				/* gone both ways: even a paused client is over */
				if (evs[i].events & (EPOLLHUP | EPOLLERR))
					c->dead = true;
				if ((evs[i].events & EPOLLOUT) && !c->dead)
					do_write(c);
			}
		}
		if (l->dfd < 0 && l->dpath && now_ms() >= l->relink_at)
			relink(l);
		/* A request (or a relink) may have queued events on any
		 * connection. */
		for (struct xsv_conn *c = l->srv.conns, *next; c; c = next) {
			next = c->next;
			if (!c->dead)
				do_write(c);
			if (!c->dead) {
				set_mask(l, c);
				continue;
			}
			close_conn(l, c);
			if (l->accept_off && add_fd(l, l->lfd, &tag_listen) == 0)
				l->accept_off = false;
		}
	}
}

int xsv_listen(const char *path, int *lock_fd)
{
	return unix_listen(path, SOCK_STREAM, 128, lock_fd);
}

void xsv_loop_fini(struct xsv_loop *l)
{
	while (l->srv.conns) {
		struct xsv_conn *c = l->srv.conns;

		close(c->fd);
		xsv_conn_free(c);
	}
	if (l->dfd >= 0)
		close(l->dfd);
	if (l->lfd >= 0)
		close(l->lfd);
	if (l->sfd >= 0)
		close(l->sfd);
	if (l->ep >= 0)
		close(l->ep);
}
