/* SPDX-License-Identifier: MIT */
/* The client side of the xgntd protocol: connect, HELLO, request/reply. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "../daemon/scm.h"

#define PAGE 4096u

int xgntc_socket_path(char *buf, size_t len)
{
	const char *s = getenv("XGNT_SOCKET");
	const char *rt = getenv("XDG_RUNTIME_DIR");
	int n;

	if (s && *s)
		n = snprintf(buf, len, "%s", s);
	else if (rt && *rt)
		n = snprintf(buf, len, "%s/xgnt/xgntd.sock", rt);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/xgnt/xgntd.sock");
	else
		n = snprintf(buf, len, "/tmp/xgnt-%u/xgntd.sock", (unsigned int)geteuid());
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int xgntc_domid(uint32_t *domid)
{
	const char *s = getenv("XGNT_DOMID");
	char *end;
	unsigned long v;

	if (!s || !*s) {
		*domid = 0;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || *s < '0' || *s > '9' || v >= 0x7ff0 /* DOMID_FIRST_RESERVED */)
		return -EINVAL;
	*domid = (uint32_t)v;
	return 0;
}

static int send_msg(int fd, const struct xgntd_hdr *h, const void *p, size_t len, int pass_fd)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)h, .iov_len = sizeof(*h) },
		{ .iov_base = (void *)p, .iov_len = len },
	};
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t r;

	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	do
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == ECONNRESET || errno == ENOTCONN ? -EPIPE : -errno;
	return 0;
}

/* One reply: header, payload into out (truncated to out_max), fds. */
static long recv_reply(struct xgntc *c, uint32_t type, uint16_t seq, void *out, size_t out_max,
		       size_t *out_len, int *fds, unsigned int max_fds)
{
	static __thread unsigned char buf[sizeof(struct xgntd_hdr) + XGNTD_MAX_MSG];
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	struct xgntd_hdr h;
	unsigned int nfd;
	ssize_t r;

	do
		r = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -EPIPE;
	if (r < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	nfd = scm_take_fds(&mh, fds, max_fds);
	if (nfd > max_fds)
		nfd = max_fds;
	if ((size_t)r < sizeof(h) || (mh.msg_flags & MSG_TRUNC))
		goto proto;
	memcpy(&h, buf, sizeof(h));
	if (h.type != type || h.seq != seq || h.len != (size_t)r - sizeof(h))
		goto proto;
	if (out_len)
		*out_len = h.len < out_max ? h.len : out_max;
	if (out)
		memcpy(out, buf + sizeof(h), h.len < out_max ? h.len : out_max);
	return h.ret;
proto:
	while (nfd)
		close(fds[--nfd]);
	return -EPROTO;
}

int xgntc_open(struct xgntc *c, const char *path, uint32_t kind, uint32_t domid,
	       uint32_t hello_flags, int pass_fd, struct xgntd_hello_reply *reply,
	       int *fds, unsigned int max_fds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xgntd_hello hello = { .magic = XGNTD_MAGIC, .version = XGNTD_VERSION,
				     .kind = kind, .flags = hello_flags };
	struct xgntd_hello_reply rep;
	struct xgntd_hdr h = { .type = XGNTD_HELLO, .len = sizeof(hello) };
	char p[sizeof(sa.sun_path)];
	unsigned int k;
	long rc;

	for (k = 0; k < max_fds; k++)
		fds[k] = -1;
	c->fd = -1;
	c->seq = 0;
	if (!path) {
		rc = xgntc_socket_path(p, sizeof(p));
		if (rc)
			return (int)rc;
		path = p;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (domid == XGNTD_DOMID_ALL) {
		rc = xgntc_domid(&domid);
		if (rc)
			return (int)rc;
	}
	hello.domid = domid;
	c->pid = getpid();
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto fail;
	}
	pthread_mutex_init(&c->lock, NULL);
	rc = send_msg(c->fd, &h, &hello, sizeof(hello), pass_fd);
	if (!rc)
		rc = recv_reply(c, XGNTD_HELLO, 0, &rep, sizeof(rep), NULL, fds, max_fds);
	if (rc < 0) {
		pthread_mutex_destroy(&c->lock);
		goto fail;
	}
	if (reply)
		*reply = rep;
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return (int)rc;
}

void xgntc_close(struct xgntc *c)
{
	struct pollfd p;
	char b[64];
	int i;

	if (c->fd < 0)
		return;
	/* Closing a device file is synchronous on Linux: its maps, shares
	 * and ports are gone (notify bytes cleared, events sent) when
	 * close() returns. Wait for the daemon to have closed its end;
	 * not in a forked child, whose close leaves its parent's handle
	 * open, as closing an inherited descriptor does. */
	p.fd = c->fd;
	p.events = POLLIN;
	if (c->pid == getpid() && shutdown(c->fd, SHUT_WR) == 0) {
		for (i = 0; i < 1000; i++) {   /* skip unsolicited messages */
			if (poll(&p, 1, 10000) <= 0 ||
			    recv(c->fd, b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC) <= 0)
				break;
		}
	}
	close(c->fd);
	c->fd = -1;
	pthread_mutex_destroy(&c->lock);
}

long xgntc_call_fds(struct xgntc *c, uint32_t type, const void *req, size_t len, void *out,
		    size_t out_max, size_t *out_len, int *fds, unsigned int max_fds)
{
	struct xgntd_hdr h = { .type = type, .len = (uint32_t)len };
	unsigned int k;
	long rc;

	for (k = 0; k < max_fds; k++)
		fds[k] = -1;
	if (len > XGNTD_MAX_MSG)
		return -E2BIG;
	pthread_mutex_lock(&c->lock);
	h.seq = ++c->seq;
	rc = send_msg(c->fd, &h, req, len, -1);
	if (!rc)
		rc = recv_reply(c, type, h.seq, out, out_max, out_len, fds, max_fds);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

long xgntc_call(struct xgntc *c, uint32_t type, const void *req, size_t len, void *out,
		size_t out_max, size_t *out_len)
{
	return xgntc_call_fds(c, type, req, len, out, out_max, out_len, NULL, 0);
}

int xgntc_post(struct xgntc *c, uint32_t type, const void *req, size_t len)
{
	struct xgntd_hdr h = { .type = type, .len = (uint32_t)len, .flags = XGNTD_F_NOREPLY };
	int rc;

	pthread_mutex_lock(&c->lock);
	h.seq = ++c->seq;
	rc = send_msg(c->fd, &h, req, len, -1);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void *xgntc_map_frames(int memfd, const uint64_t *mfns, unsigned int n, int prot)
{
	uint8_t *base;
	unsigned int i, j;

	if (!n) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	/* Reserve the range, then place each run of consecutive frames. */
	base = mmap(NULL, (size_t)n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && mfns[j] == mfns[j - 1] + 1; j++)
			;
		if (mfns[i] > (uint64_t)LLONG_MAX / PAGE ||
		    mmap(base + (size_t)i * PAGE, (size_t)(j - i) * PAGE, prot,
			 MAP_SHARED | MAP_FIXED, memfd, (off_t)(mfns[i] * PAGE)) == MAP_FAILED) {
			int e = errno;

			munmap(base, (size_t)n * PAGE);
			errno = e ? e : EINVAL;
			return MAP_FAILED;
		}
	}
	return base;
}
