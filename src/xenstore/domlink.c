// SPDX-License-Identifier: MIT
/*
 * The link to xgntd: a ctl connection that asked for XGNTD_CTL_WATCH_DOMAINS
 * and then hears of every domain, existing ones first, as EVENT_DOMAIN
 * messages (src/daemon/proto.h). The daemon's bytes are checked like any
 * other input: a message of the wrong shape ends the link, never the server.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../daemon/proto.h"
#include "../daemon/scm.h"
#include "domlink.h"
#include "xenstored.h"

static int send_msg(int fd, uint32_t type, uint16_t seq, const void *payload,
		    uint32_t len)
{
	uint8_t buf[sizeof(struct xgntd_hdr) + 64];
	struct xgntd_hdr h = { .type = type, .len = len, .seq = seq };

	if (len > sizeof(buf) - sizeof(h))
		return -EINVAL;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	if (send(fd, buf, sizeof(h) + len, MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + len))
		return -errno ? -errno : -EIO;
	return 0;
}

int xsv_domlink_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xgntd_hello hello = {
		.magic = XGNTD_MAGIC, .version = XGNTD_VERSION,
		.kind = XGNTD_KIND_CTL, .domid = 0,
	};
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = send_msg(fd, XGNTD_HELLO, 1, &hello, sizeof(hello));
	if (!ret)
		ret = send_msg(fd, XGNTD_CTL_WATCH_DOMAINS, 2, NULL, 0);
	if (ret)
		goto fail;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		ret = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

static int handle(struct xsv_server *s, const uint8_t *buf, size_t len)
{
	struct xgntd_hdr h;
	struct xgntd_domain_info di;

	if (len < sizeof(h))
		return -EPROTO;
	memcpy(&h, buf, sizeof(h));
	if (h.len != len - sizeof(h))
		return -EPROTO;
	switch (h.type) {
	case XGNTD_HELLO:
	case XGNTD_CTL_WATCH_DOMAINS:
		if (h.ret < 0) {
			xsv_log(s, 0, "daemon refused %s: %s", h.type == XGNTD_HELLO ?
				"HELLO" : "WATCH_DOMAINS", strerror(-h.ret));
			return h.ret;
		}
		return h.type == XGNTD_CTL_WATCH_DOMAINS;   /* 1: the list follows */
	case XGNTD_CTL_EVENT_DOMAIN:
		if (h.len < sizeof(di))
			return -EPROTO;
		memcpy(&di, buf + sizeof(h), sizeof(di));
		if (di.domid > XSV_DOMID_MAX)
			return -EPROTO;
		if (di.alive)
			return xsv_domain_add(s, di.domid, di.privileged != 0);
		if (di.domid != 0)
			xsv_domain_remove(s, di.domid);   /* unknown: nothing to do */
		return 0;
	default:
		return -EPROTO;
	}
}

/* One datagram without waiting: 1 handled, 0 none there, or -errno. */
static int input_one(struct xsv_server *s, int fd, bool *listed)
{
	static uint8_t buf[XGNTD_MAX_MSG];
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	int ret;

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
		       ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	/* ctl connections get no descriptors; close any that came */
	scm_take_fds(&mh, NULL, 0);
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -EPROTO;
	ret = handle(s, buf, (size_t)n);
	if (ret < 0) {
		xsv_log(s, 0, "daemon link: bad message (%s), closing link",
			strerror(-ret));
		return ret;
	}
	if (ret == 1 && listed)
		*listed = true;
	return 1;
}

/* Reads what the daemon sent. 0, or -errno when the link is over. */
int xsv_domlink_input(struct xsv_server *s, int fd)
{
	int ret;

	while ((ret = input_one(s, fd, NULL)) == 1)
		;
	return ret;
}

/*
 * Before serving: waits (up to timeout_ms) for the WATCH_DOMAINS reply and
 * takes in the domain list the daemon sends right behind it, so that the
 * homes of existing domains are there when the socket appears.
 */
int xsv_domlink_start(struct xsv_server *s, int fd, int timeout_ms)
{
	bool listed = false;
	int ret;

	while (!listed) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret == 0)
			return -ETIMEDOUT;
		while (!listed && (ret = input_one(s, fd, &listed)) == 1)
			;
		if (ret < 0)
			return ret;
	}
	/* the list follows the reply: take what is there, and a little more */
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		ret = xsv_domlink_input(s, fd);
		if (ret < 0)
			return ret;
		if (poll(&pfd, 1, 20) <= 0)
			return 0;
	}
}
