/* SPDX-License-Identifier: MIT */
/*
 * xgntd connections: framing, HELLO, dispatch to the handle's kind, and
 * closing (what the kernel does when a process's device file goes).
 * Every byte a client sends is untrusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "scm.h"

/* Messages one connection may have handled before others get a turn. */
#define CONN_BURST 64

/* A descriptor kept in reserve: out of descriptors, the daemon frees it to
 * accept and refuse a pending connection, rather than leave it queued and
 * the listening socket readable (epoll would wake it up in a loop). */
static int spare_fd = -1;

static bool refuse_one(struct daemon *dmn)
{
	int fd;

	if (spare_fd < 0)
		return false;
	close(spare_fd);
	fd = accept4(dmn->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	dlog(dmn, "out of descriptors: connection refused");
	return fd >= 0;
}

void conn_accept(struct daemon *dmn)
{
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (;;) {
		int fd = accept4(dmn->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) && refuse_one(dmn))
				continue;
			if (errno != EAGAIN && errno != EINTR)
				dlog(dmn, "accept: %s", strerror(errno));
			return;
		}
		if (!conn_new(dmn, fd))
			close(fd);
	}
}

struct conn *conn_new(struct daemon *dmn, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->tag = 'c';
	c->dmn = dmn;
	c->fd = fd;
	c->pipe_w = -1;
	c->bell_fd = -1;
	c->restrict_domid = DOMID_INVALID;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		c->pid = cred.pid;
	ev.data.ptr = &c->tag;
	if (epoll_ctl(dmn->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	c->next = dmn->conns;
	dmn->conns = c;
	return c;
}

int conn_send(struct conn *c, uint32_t type, uint16_t seq, int32_t ret, const void *payload,
	      size_t len, const int *fds, unsigned int nfds)
{
	struct xgntd_hdr h = { .type = type, .len = (uint32_t)len, .ret = ret, .seq = seq };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t r;

	if (nfds) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do
		r = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	/* A client that does not read its replies is not waited for. */
	return r < 0 ? -errno : 0;
}

static long hello(struct conn *c, const struct xgntd_hdr *h, const void *p, int in_fd,
		  int *fds, unsigned int *nfds, struct xgntd_hello_reply *r)
{
	const struct xgntd_hello *m = p;
	struct dd *dd;
	long rc;

	if (h->len != sizeof(*m))
		return -EPROTO;
	if (m->magic != XGNTD_MAGIC)
		return -EPROTO;
	if (m->version != XGNTD_VERSION)
		return -EPROTONOSUPPORT;
	if (m->kind < XGNTD_KIND_GNTDEV || m->kind > XGNTD_KIND_CTL ||
	    (m->flags & ~XGNTD_HELLO_ADOPT) ||
	    ((m->flags & XGNTD_HELLO_ADOPT) != 0) != (in_fd >= 0) ||
	    ((m->flags & XGNTD_HELLO_ADOPT) && m->kind != XGNTD_KIND_EVTCHN))
		return -EINVAL;
	dd = dd_find(c->dmn, m->domid);
	if (!dd)
		return -ESRCH;
	c->kind = m->kind;
	c->dd = dd;
	r->version = XGNTD_VERSION;
	r->domid = dd->domid;
	r->nr_frames = c->dmn->nr_frames;
	switch (m->kind) {
	case XGNTD_KIND_GNTDEV:
	case XGNTD_KIND_GNTALLOC:
		rc = gnt_hello(c, r);
		if (rc)
			break;
		fds[(*nfds)++] = c->dmn->memfd;
		break;
	case XGNTD_KIND_EVTCHN:
		if (in_fd >= 0) {
			rc = evt_adopt(c, in_fd);
			break;
		}
		rc = evt_hello(c, fds);
		if (!rc)
			*nfds = 2;
		break;
	default:
		rc = 0;
		break;
	}
	if (rc) {
		c->kind = 0;
		c->dd = NULL;
		return rc;
	}
	dd->nr_handles++;
	dlog(c->dmn, "pid %d: kind %u handle for d%u", (int)c->pid, m->kind, dd->domid);
	return 0;
}

/* One message; false when the connection must be closed. */
static bool dispatch(struct conn *c, const struct xgntd_hdr *h, const void *p, int in_fd)
{
	static unsigned char out[XGNTD_MAX_MSG];
	struct xgntd_hello_reply hr;
	void *reply = out;
	size_t out_len = 0;
	int fds[2];
	unsigned int nfds = 0;
	long rc;

	if (!c->kind) {
		if (h->type != XGNTD_HELLO)
			return false;
		memset(&hr, 0, sizeof(hr));
		rc = hello(c, h, p, in_fd, fds, &nfds, &hr);
		if (rc == -EPROTO)
			return false;
		rc = conn_send(c, XGNTD_HELLO, h->seq, (int32_t)rc, rc ? NULL : &hr,
			       rc ? 0 : sizeof(hr), fds, nfds);
		if (nfds && fds[0] != c->dmn->memfd)
			close(fds[0]);   /* the pipe's read end is the client's now */
		return rc == 0;
	}
	/* A watching connection only listens; one HELLO per connection. */
	if (h->type == XGNTD_HELLO || c->watching || in_fd >= 0)
		return false;
	if (h->flags & ~XGNTD_F_NOREPLY)
		return false;
	if (c->dd)
		c->dd->hypercalls++;
	switch (c->kind) {
	case XGNTD_KIND_GNTDEV:
	case XGNTD_KIND_GNTALLOC:
		rc = gnt_request(c, h, p, out, &out_len);
		break;
	case XGNTD_KIND_EVTCHN:
		rc = evt_request(c, h, p, out, &out_len, fds, &nfds);
		break;
	default:
		rc = ctl_request(c, h, p, &reply, &out_len);
		break;
	}
	if (rc == -EPROTO)
		return false;
	if (rc == -EALREADY)   /* the request sent its own reply */
		return true;
	if (h->flags & XGNTD_F_NOREPLY) {
		if (reply != out)
			free(reply);
		return true;
	}
	/* Descriptors of a reply (a route) stay the daemon's. */
	rc = conn_send(c, h->type, h->seq, (int32_t)rc, reply, out_len, fds, nfds);
	if (reply != out)
		free(reply);
	return rc == 0;
}

void conn_input(struct conn *c)
{
	static unsigned char buf[sizeof(struct xgntd_hdr) + XGNTD_MAX_MSG];
	int burst;

	for (burst = 0; burst < CONN_BURST; burst++) {
		union {
			struct cmsghdr c;
			char b[CMSG_SPACE(sizeof(int) * 8)];
		} u;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		struct xgntd_hdr h;
		int in_fd = -1, extra = 0;
		bool ok;
		ssize_t r = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* One descriptor may come with a HELLO (adopt); any other is
		 * closed and ends the connection. */
		if (r > 0)
			extra = scm_take_fds(&mh, &in_fd, 1) > 1;
		if (r <= 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || extra ||
		    (size_t)r < sizeof(h)) {
			if (in_fd >= 0)
				close(in_fd);
			goto close;
		}
		memcpy(&h, buf, sizeof(h));
		if (h.len != (size_t)r - sizeof(h) || h.len > XGNTD_MAX_MSG || h.ret) {
			if (in_fd >= 0)
				close(in_fd);
			goto close;
		}
		ok = dispatch(c, &h, buf + sizeof(h), in_fd);
		if (in_fd >= 0)
			close(in_fd);
		if (!ok)
			goto close;
	}
	return;
close:
	dlog(c->dmn, "pid %d: connection closed", (int)c->pid);
	conn_close(c);
}

void conn_close(struct conn *c)
{
	struct daemon *dmn = c->dmn;
	struct conn **pp;

	for (pp = &dmn->conns; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	switch (c->kind) {
	case XGNTD_KIND_GNTDEV:
	case XGNTD_KIND_GNTALLOC:
		gnt_release(c);
		break;
	case XGNTD_KIND_EVTCHN:
		evt_release(c);
		break;
	default:
		break;
	}
	if (c->dd)
		c->dd->nr_handles--;
	if (c->fd >= 0) {
		epoll_ctl(dmn->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->tag = 'x';   /* the current epoll batch may still name it */
	c->next = dmn->dead_conns;
	dmn->dead_conns = c;
}
