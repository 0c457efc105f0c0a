/* SPDX-License-Identifier: MIT */
/*
 * Untrusted input to xgntd over raw SEQPACKET connections (proto.h):
 * every malformed message gets an error reply or a closed connection,
 * and afterwards the daemon is alive and serves a well-behaved client,
 * with nothing leaked. Ends with a seeded random-message loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xengnttab.h>

#include "dfix.h"

#define HDR sizeof(struct xgntd_hdr)

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, dfix.sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static ssize_t raw_send(int fd, const void *buf, size_t len)
{
	ssize_t r;

	do
		r = send(fd, buf, len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

static void send_msg(int fd, uint32_t type, uint16_t seq, uint16_t flags, const void *p,
		     uint32_t len)
{
	static unsigned char buf[HDR + 70000];
	struct xgntd_hdr h = { .type = type, .len = len, .seq = seq, .flags = flags };

	memcpy(buf, &h, HDR);
	if (len)
		memcpy(buf + HDR, p, len);
	assert_int_equal(raw_send(fd, buf, HDR + len), (ssize_t)(HDR + len));
}

/* The next message within 5 s: its size, 0 when the daemon closed the
 * connection; passed descriptors are closed. */
static ssize_t recv_msg(int fd, void *buf, size_t max)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = max };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm;
	ssize_t r;

	assert_true(dfix_readable(fd, 5000));
	r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (r < 0 && errno == ECONNRESET)
		return 0;
	assert_true(r >= 0);
	for (cm = CMSG_FIRSTHDR(&mh); r > 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k, n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (k = 0; k < n; k++) {
			int pfd;

			memcpy(&pfd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
			close(pfd);
		}
	}
	return r;
}

static void expect_closed(int fd)
{
	unsigned char buf[HDR + 256];
	ssize_t r;

	/* Replies sent before the close may come first. */
	while ((r = recv_msg(fd, buf, sizeof(buf))) > 0)
		;
	assert_int_equal(r, 0);
	close(fd);
}

/* The reply to (type, seq): its ret; asserts its shape. */
static int32_t expect_reply(int fd, uint32_t type, uint16_t seq)
{
	unsigned char buf[HDR + 70000];
	struct xgntd_hdr h;
	ssize_t r = recv_msg(fd, buf, sizeof(buf));

	assert_true(r >= (ssize_t)HDR);
	memcpy(&h, buf, HDR);
	assert_int_equal(h.type, type);
	assert_int_equal(h.seq, seq);
	assert_int_equal(h.len, (size_t)r - HDR);
	return h.ret;
}

static struct xgntd_hello hello_msg(uint32_t kind, uint32_t domid)
{
	struct xgntd_hello m = { .magic = XGNTD_MAGIC, .version = XGNTD_VERSION, .kind = kind,
				 .domid = domid };

	return m;
}

static int raw_handle(uint32_t kind, uint32_t domid)
{
	struct xgntd_hello m = hello_msg(kind, domid);
	int fd = raw_connect();

	send_msg(fd, XGNTD_HELLO, 0, 0, &m, sizeof(m));
	assert_int_equal(expect_reply(fd, XGNTD_HELLO, 0), 0);
	return fd;
}

/* The daemon is alive and serves a well-behaved client: share, map,
 * compare, and its domain list. */
static void daemon_serves(void)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t ref;
	uint8_t *s, *m;

	assert_true(dfix_alive(&dfix));
	assert_non_null(gs);
	assert_non_null(gt);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	assert_non_null(s);
	s[5] = 0x55;
	m = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ);
	assert_non_null(m);
	assert_int_equal(m[5], 0x55);
	xengnttab_close(gt);
	xengntshr_close(gs);
	assert_int_equal(dfix_domain(1).domid, 1);
}

struct base {
	struct xgntd_domain_info d0, d1;
};

static void base_get(struct base *b)
{
	b->d0 = dfix_domain(0);
	b->d1 = dfix_domain(1);
}

static bool base_same(const struct base *a)
{
	struct base b;

	base_get(&b);
	return a->d0.nr_grants == b.d0.nr_grants && a->d0.nr_mappings == b.d0.nr_mappings &&
	       a->d0.nr_ports == b.d0.nr_ports && a->d0.nr_handles == b.d0.nr_handles &&
	       a->d1.nr_grants == b.d1.nr_grants && a->d1.nr_mappings == b.d1.nr_mappings &&
	       a->d1.nr_ports == b.d1.nr_ports && a->d1.nr_handles == b.d1.nr_handles;
}

static void test_framing(void **state)
{
	static unsigned char big[HDR + XGNTD_MAX_MSG + 100];
	struct xgntd_hello m = hello_msg(XGNTD_KIND_GNTDEV, 0);
	struct xgntd_hdr h;
	struct base b;
	int fd;

	(void)state;
	base_get(&b);
	/* garbage before HELLO */
	fd = raw_connect();
	assert_int_equal(raw_send(fd, "hello world", 11), 11);
	expect_closed(fd);
	fd = raw_connect();
	memset(big, 0xa7, 200);
	assert_int_equal(raw_send(fd, big, 200), 200);
	expect_closed(fd);
	/* an empty datagram */
	fd = raw_connect();
	assert_int_equal(raw_send(fd, big, 0), 0);
	expect_closed(fd);
	/* shorter than the header, after HELLO */
	fd = raw_handle(XGNTD_KIND_GNTDEV, 0);
	assert_int_equal(raw_send(fd, "\x10\0\0\0\0\0\0\0", 8), 8);
	expect_closed(fd);
	/* hdr.len says more, and less, than the datagram */
	fd = raw_handle(XGNTD_KIND_EVTCHN, 0);
	h = (struct xgntd_hdr){ .type = XGNTD_EVTCHN_BIND_UNBOUND, .len = 100 };
	memcpy(big, &h, HDR);
	assert_int_equal(raw_send(fd, big, HDR + 12), (ssize_t)(HDR + 12));
	expect_closed(fd);
	fd = raw_handle(XGNTD_KIND_EVTCHN, 0);
	h.len = 4;
	memcpy(big, &h, HDR);
	assert_int_equal(raw_send(fd, big, HDR + 12), (ssize_t)(HDR + 12));
	expect_closed(fd);
	fd = raw_handle(XGNTD_KIND_EVTCHN, 0);   /* len with no payload at all */
	h.len = 0xffffffffu;
	memcpy(big, &h, HDR);
	assert_int_equal(raw_send(fd, big, HDR), (ssize_t)HDR);
	expect_closed(fd);
	/* a datagram larger than any message */
	fd = raw_handle(XGNTD_KIND_GNTDEV, 0);
	h = (struct xgntd_hdr){ .type = XGNTD_GNTDEV_MAP, .len = XGNTD_MAX_MSG + 100 };
	memcpy(big, &h, HDR);
	{
		int sz = 1 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	assert_int_equal(raw_send(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	expect_closed(fd);
	/* the largest message is fine (a map whose count does not match) */
	fd = raw_handle(XGNTD_KIND_GNTDEV, 0);
	memset(big, 0, sizeof(big));
	send_msg(fd, XGNTD_GNTDEV_MAP, 3, 0, big + HDR, XGNTD_MAX_MSG);
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, 3), -EINVAL);
	/* a request with ret set, or unknown header flags: closed */
	h = (struct xgntd_hdr){ .type = XGNTD_GNTDEV_SET_MAX, .len = 4, .ret = -1 };
	memcpy(big, &h, HDR);
	assert_int_equal(raw_send(fd, big, HDR + 4), (ssize_t)(HDR + 4));
	expect_closed(fd);
	fd = raw_handle(XGNTD_KIND_GNTDEV, 0);
	h = (struct xgntd_hdr){ .type = XGNTD_GNTDEV_SET_MAX, .len = 4, .flags = 0x8000 };
	memcpy(big, &h, HDR);
	assert_int_equal(raw_send(fd, big, HDR + 4), (ssize_t)(HDR + 4));
	expect_closed(fd);
	(void)m;
	daemon_serves();
	assert_true(WAIT_FOR(base_same(&b), 2000));
}

static void test_hello(void **state)
{
	struct xgntd_hello m;
	struct xgntd_evtchn ev = { 0 };
	int fd;

	(void)state;
	/* wrong magic: closed without a reply */
	fd = raw_connect();
	m = hello_msg(XGNTD_KIND_GNTDEV, 0);
	m.magic = 0x12345678;
	send_msg(fd, XGNTD_HELLO, 0, 0, &m, sizeof(m));
	expect_closed(fd);
	/* HELLO of the wrong size */
	fd = raw_connect();
	m = hello_msg(XGNTD_KIND_GNTDEV, 0);
	send_msg(fd, XGNTD_HELLO, 0, 0, &m, sizeof(m) - 4);
	expect_closed(fd);
	/* wrong version, kind, flags, domain: an error reply, and the
	 * connection may try again */
	fd = raw_connect();
	m = hello_msg(XGNTD_KIND_GNTDEV, 0);
	m.version = 99;
	send_msg(fd, XGNTD_HELLO, 1, 0, &m, sizeof(m));
	assert_int_equal(expect_reply(fd, XGNTD_HELLO, 1), -EPROTONOSUPPORT);
	m = hello_msg(0, 0);
	send_msg(fd, XGNTD_HELLO, 2, 0, &m, sizeof(m));
	assert_int_equal(expect_reply(fd, XGNTD_HELLO, 2), -EINVAL);
	m = hello_msg(XGNTD_KIND_CTL + 1, 0);
	send_msg(fd, XGNTD_HELLO, 3, 0, &m, sizeof(m));
	assert_int_equal(expect_reply(fd, XGNTD_HELLO, 3), -EINVAL);
	m = hello_msg(XGNTD_KIND_EVTCHN, 0);
	m.flags = 1;
	send_msg(fd, XGNTD_HELLO, 4, 0, &m, sizeof(m));
	assert_int_equal(expect_reply(fd, XGNTD_HELLO, 4), -EINVAL);
	m = hello_msg(XGNTD_KIND_EVTCHN, 5);
	send_msg(fd, XGNTD_HELLO, 5, 0, &m, sizeof(m));
	assert_int_equal(expect_reply(fd, XGNTD_HELLO, 5), -ESRCH);
	m = hello_msg(XGNTD_KIND_EVTCHN, 0xffffffffu);
	send_msg(fd, XGNTD_HELLO, 6, 0, &m, sizeof(m));
	assert_int_equal(expect_reply(fd, XGNTD_HELLO, 6), -ESRCH);
	m = hello_msg(XGNTD_KIND_EVTCHN, 1);
	send_msg(fd, XGNTD_HELLO, 7, 0, &m, sizeof(m));
	assert_int_equal(expect_reply(fd, XGNTD_HELLO, 7), 0);
	send_msg(fd, XGNTD_EVTCHN_BIND_UNBOUND, 8, 0, &ev, sizeof(ev));
	assert_true(expect_reply(fd, XGNTD_EVTCHN_BIND_UNBOUND, 8) > 0);
	/* a second HELLO: closed */
	send_msg(fd, XGNTD_HELLO, 9, 0, &m, sizeof(m));
	expect_closed(fd);
	/* a request before HELLO: closed */
	fd = raw_connect();
	send_msg(fd, XGNTD_EVTCHN_BIND_UNBOUND, 1, 0, &ev, sizeof(ev));
	expect_closed(fd);
	fd = raw_connect();
	send_msg(fd, XGNTD_CTL_SHUTDOWN, 1, 0, NULL, 0);
	expect_closed(fd);
	daemon_serves();
}

static void test_requests(void **state)
{
	struct {
		struct xgntd_map m;
		struct xgntd_map_ref r[2];
	} map;
	struct {
		struct xgntd_copy c;
		struct xgntd_copy_seg s[XGNTD_COPY_BATCH + 1];
	} copy;
	struct xgntd_share sh;
	struct xgntd_unmap um = { .id = 12345, .count = 1 };
	struct xgntd_evtchn ev = { 0 };
	struct xgntd_domid did = { .domid = 0 };
	struct base b;
	uint16_t seq = 1;
	int fd;

	(void)state;
	base_get(&b);
	/* gntdev */
	fd = raw_handle(XGNTD_KIND_GNTDEV, 0);
	memset(&map, 0, sizeof(map));
	map.r[0].ref = map.r[1].ref = 8;
	map.m.count = 0;
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map.m));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	map.m.count = XGNTD_MAX_REFS + 1;
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	map.m.count = 3;                     /* len for 2 refs */
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	map.m.count = 1;                     /* len for 2 refs */
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	map.m.count = 0x80000001u;           /* count * size wraps 32 bits */
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, 8);   /* shorter than struct */
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	map.m.count = 2;
	map.m.readonly = 2;
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	map.m.readonly = 0;
	map.m.notify = 4;
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	map.m.notify = XGNTD_NOTIFY_CLEAR_BYTE;
	map.m.notify_offset = 2 * 4096;      /* Linux: -ENOENT */
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -ENOENT);
	map.m.notify = XGNTD_NOTIFY_SEND_EVENT;
	map.m.notify_port = 0xffffffffu;
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	map.m.notify = 0;
	map.r[0].domid = 0x10000;            /* not a domid */
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -EINVAL);
	send_msg(fd, XGNTD_GNTDEV_UNMAP, seq, 0, &um, sizeof(um));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_UNMAP, seq++), -ENOENT);
	send_msg(fd, XGNTD_GNTDEV_UNMAP, seq, 0, &um, 4);
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_UNMAP, seq++), -EINVAL);
	memset(&copy, 0, sizeof(copy));
	send_msg(fd, XGNTD_GNTDEV_COPY, seq, 0, &copy, sizeof(copy.c));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_COPY, seq++), -EINVAL);
	copy.c.count = XGNTD_COPY_BATCH + 1;
	send_msg(fd, XGNTD_GNTDEV_COPY, seq, 0, &copy, sizeof(copy));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_COPY, seq++), -EINVAL);
	copy.c.count = 2;                    /* len for 17 */
	send_msg(fd, XGNTD_GNTDEV_COPY, seq, 0, &copy, sizeof(copy));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_COPY, seq++), -EINVAL);
	copy.c.count = 1;                    /* a bad segment: EINVAL with a status */
	copy.s[0].flags = XGNTD_COPY_SRC_GREF;
	copy.s[0].len = 4097;
	send_msg(fd, XGNTD_GNTDEV_COPY, seq, 0, &copy, sizeof(copy.c) + sizeof(copy.s[0]));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_COPY, seq++), -EINVAL);
	copy.s[0].len = 8;                   /* a bad ref: status only */
	copy.s[0].src_ref = 77777;
	send_msg(fd, XGNTD_GNTDEV_COPY, seq, 0, &copy, sizeof(copy.c) + sizeof(copy.s[0]));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_COPY, seq++), 0);
	/* types of other kinds, and unknown ones: ENOTTY, still open */
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, NULL, 0);
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++), -ENOTTY);
	send_msg(fd, XGNTD_EVTCHN_NOTIFY, seq, 0, &ev, sizeof(ev));
	assert_int_equal(expect_reply(fd, XGNTD_EVTCHN_NOTIFY, seq++), -ENOTTY);
	send_msg(fd, 0, seq, 0, NULL, 0);
	assert_int_equal(expect_reply(fd, 0, seq++), -ENOTTY);
	send_msg(fd, 0xdeadbeef, seq, 0, NULL, 0);
	assert_int_equal(expect_reply(fd, 0xdeadbeef, seq++), -ENOTTY);
	close(fd);

	/* gntalloc */
	fd = raw_handle(XGNTD_KIND_GNTALLOC, 0);
	memset(&sh, 0, sizeof(sh));
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, &sh, sizeof(sh));
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++), -EINVAL);
	sh.count = XGNTD_MAX_REFS + 1;
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, &sh, sizeof(sh));
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++), -EINVAL);
	sh.count = 2000;                     /* over the gntalloc limit (1024) */
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, &sh, sizeof(sh));
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++), -ENOSPC);
	sh.count = 1;
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, &sh, sizeof(sh) - 4);
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++), -EINVAL);
	sh.writable = 7;
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, &sh, sizeof(sh));
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++), -EINVAL);
	sh.writable = 1;
	sh.notify = XGNTD_NOTIFY_CLEAR_BYTE;
	sh.notify_offset = 4096;
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, &sh, sizeof(sh));
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++), -ENOENT);
	sh.notify = XGNTD_NOTIFY_SEND_EVENT;
	sh.notify_port = 12;
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, &sh, sizeof(sh));
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++), -EINVAL);
	sh.notify = 0;
	sh.domid = 0x7ff5;                   /* a reserved domid */
	send_msg(fd, XGNTD_GNTALLOC_SHARE, seq, 0, &sh, sizeof(sh));
	(void)expect_reply(fd, XGNTD_GNTALLOC_SHARE, seq++);
	send_msg(fd, XGNTD_GNTALLOC_UNSHARE, seq, 0, &um, sizeof(um.id));
	assert_int_equal(expect_reply(fd, XGNTD_GNTALLOC_UNSHARE, seq++), -ENOENT);
	send_msg(fd, XGNTD_GNTDEV_MAP, seq, 0, &map, sizeof(map));
	assert_int_equal(expect_reply(fd, XGNTD_GNTDEV_MAP, seq++), -ENOTTY);
	close(fd);

	/* evtchn */
	fd = raw_handle(XGNTD_KIND_EVTCHN, 0);
	send_msg(fd, XGNTD_EVTCHN_BIND_UNBOUND, seq, 0, &ev, sizeof(ev) - 1);
	assert_int_equal(expect_reply(fd, XGNTD_EVTCHN_BIND_UNBOUND, seq++), -EINVAL);
	ev.domid = 0x10000;                  /* Xen does not check the remote */
	send_msg(fd, XGNTD_EVTCHN_BIND_UNBOUND, seq, 0, &ev, sizeof(ev));
	(void)expect_reply(fd, XGNTD_EVTCHN_BIND_UNBOUND, seq++);
	ev.domid = 0;
	ev.port = 0xffffffffu;
	send_msg(fd, XGNTD_EVTCHN_BIND_INTERDOMAIN, seq, 0, &ev, sizeof(ev));
	assert_int_equal(expect_reply(fd, XGNTD_EVTCHN_BIND_INTERDOMAIN, seq++), -EINVAL);
	send_msg(fd, XGNTD_EVTCHN_UNBIND, seq, 0, &ev, sizeof(ev));
	assert_int_equal(expect_reply(fd, XGNTD_EVTCHN_UNBIND, seq++), -EINVAL);
	ev.virq = 0xffffffffu;
	send_msg(fd, XGNTD_EVTCHN_BIND_VIRQ, seq, 0, &ev, sizeof(ev));
	assert_int_equal(expect_reply(fd, XGNTD_EVTCHN_BIND_VIRQ, seq++), -EINVAL);
	/* NOREPLY requests get no reply, even failing ones */
	send_msg(fd, XGNTD_EVTCHN_NOTIFY, seq++, XGNTD_F_NOREPLY, &ev, sizeof(ev));
	send_msg(fd, XGNTD_EVTCHN_UNMASK, seq++, XGNTD_F_NOREPLY, &ev, sizeof(ev));
	send_msg(fd, XGNTD_EVTCHN_NOTIFY, seq, 0, &ev, sizeof(ev));
	assert_int_equal(expect_reply(fd, XGNTD_EVTCHN_NOTIFY, seq++), -ENOTCONN);
	send_msg(fd, XGNTD_CTL_DOMAIN_LIST, seq, 0, NULL, 0);
	assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_LIST, seq++), -ENOTTY);
	close(fd);

	/* control, unprivileged (domain 1) and privileged with bad sizes */
	fd = raw_handle(XGNTD_KIND_CTL, 1);
	send_msg(fd, XGNTD_CTL_DOMAIN_LIST, seq, 0, NULL, 0);
	assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_LIST, seq++), -EPERM);
	send_msg(fd, XGNTD_CTL_DOMAIN_DESTROY, seq, 0, &did, sizeof(did));
	assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_DESTROY, seq++), -EPERM);
	send_msg(fd, XGNTD_CTL_SHUTDOWN, seq, 0, NULL, 0);
	assert_int_equal(expect_reply(fd, XGNTD_CTL_SHUTDOWN, seq++), -EPERM);
	send_msg(fd, XGNTD_CTL_DUMP, seq, 0, &did, sizeof(did));
	assert_int_equal(expect_reply(fd, XGNTD_CTL_DUMP, seq++), -EPERM);
	close(fd);
	fd = raw_handle(XGNTD_KIND_CTL, 0);
	send_msg(fd, XGNTD_CTL_DOMAIN_DESTROY, seq, 0, &did, sizeof(did));
	assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_DESTROY, seq++), -EPERM);
	did.domid = 0xffffffffu;
	send_msg(fd, XGNTD_CTL_DOMAIN_DESTROY, seq, 0, &did, sizeof(did));
	assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_DESTROY, seq++), -ESRCH);
	send_msg(fd, XGNTD_CTL_DOMAIN_DESTROY, seq, 0, &did, 2);
	assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_DESTROY, seq++), -EINVAL);
	send_msg(fd, XGNTD_CTL_SHUTDOWN, seq, 0, &did, 4);
	assert_int_equal(expect_reply(fd, XGNTD_CTL_SHUTDOWN, seq++), -EINVAL);
	send_msg(fd, XGNTD_CTL_DOMAIN_LIST, seq, 0, &did, 4);
	assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_LIST, seq++), -EINVAL);
	{
		struct xgntd_domain_create dc = { .domid = 0x7ff0 };

		send_msg(fd, XGNTD_CTL_DOMAIN_CREATE, seq, 0, &dc, sizeof(dc));
		assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_CREATE, seq++), -EINVAL);
		dc.domid = 1;
		send_msg(fd, XGNTD_CTL_DOMAIN_CREATE, seq, 0, &dc, sizeof(dc));
		assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_CREATE, seq++), -EEXIST);
		dc.domid = 2;
		dc.type = 9;
		send_msg(fd, XGNTD_CTL_DOMAIN_CREATE, seq, 0, &dc, sizeof(dc));
		assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_CREATE, seq++), -EINVAL);
		dc.type = 0;
		dc.ram_frames = 0xffffffffu;
		send_msg(fd, XGNTD_CTL_DOMAIN_CREATE, seq, 0, &dc, sizeof(dc));
		assert_int_equal(expect_reply(fd, XGNTD_CTL_DOMAIN_CREATE, seq++), -EINVAL);
		dc.ram_frames = 1u << 22;    /* 16 GiB on a 256 MiB machine */
		send_msg(fd, XGNTD_CTL_DOMAIN_CREATE, seq, 0, &dc, sizeof(dc));
		assert_true(expect_reply(fd, XGNTD_CTL_DOMAIN_CREATE, seq++) < 0);
	}
	close(fd);
	daemon_serves();
	assert_true(WAIT_FOR(base_same(&b), 2000));
}

static void test_fds(void **state)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} u;
	struct xgntd_hello m = hello_msg(XGNTD_KIND_GNTDEV, 0);
	struct xgntd_hdr h = { .type = XGNTD_HELLO, .len = sizeof(m) };
	unsigned char buf[HDR + sizeof(m)];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm;
	int p[2], fds[2], fd, round;
	char c;

	(void)state;
	memcpy(buf, &h, HDR);
	memcpy(buf + HDR, &m, sizeof(m));
	for (round = 0; round < 2; round++) {
		assert_int_equal(pipe(p), 0);
		fds[0] = fds[1] = p[1];
		fd = round ? raw_handle(XGNTD_KIND_GNTDEV, 0) : raw_connect();
		memset(&u, 0, sizeof(u));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * 2);
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
		if (round) {   /* a request, not a HELLO */
			struct xgntd_hdr r = { .type = XGNTD_GNTDEV_SET_MAX, .len = sizeof(m) };

			memcpy(buf, &r, HDR);
		}
		assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)sizeof(buf));
		expect_closed(fd);
		/* The daemon closed the descriptors it was passed: the pipe's
		 * write end is gone once ours is. */
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		assert_int_equal(read(p[0], &c, 1), 0);   /* EOF, not EAGAIN */
		close(p[0]);
	}
	daemon_serves();
}

/* A client that sends and never reads its replies is closed; one that
 * posts NOREPLY requests is not. */
static void test_flood(void **state)
{
	struct xgntd_hdr h = { .type = XGNTD_GNTDEV_SET_MAX, .len = 4 };
	unsigned char buf[HDR + 4] = { 0 };
	struct base b;
	int fd, i, sent = 0, closed = 0;

	(void)state;
	base_get(&b);
	fd = raw_handle(XGNTD_KIND_GNTDEV, 0);
	for (i = 0; i < 20000 && !closed; i++) {
		ssize_t r;

		h.seq = (uint16_t)i;
		memcpy(buf, &h, HDR);
		r = send(fd, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r == (ssize_t)sizeof(buf)) {
			sent++;
		} else if (r < 0 && errno == EAGAIN) {
			usleep(1000);
		} else {
			closed = 1;          /* EPIPE / ECONNRESET */
		}
	}
	assert_true(sent > 100);
	if (!closed)
		expect_closed(fd);
	else
		close(fd);
	daemon_serves();

	/* NOREPLY notifies in bulk: served, connection kept. */
	{
		struct xgntd_evtchn ev = { .domid = 0 };
		int port;

		fd = raw_handle(XGNTD_KIND_EVTCHN, 0);
		send_msg(fd, XGNTD_EVTCHN_BIND_UNBOUND, 1, 0, &ev, sizeof(ev));
		port = expect_reply(fd, XGNTD_EVTCHN_BIND_UNBOUND, 1);
		assert_true(port > 0);
		ev.port = (uint32_t)port;
		for (i = 0; i < 5000; i++)
			send_msg(fd, XGNTD_EVTCHN_NOTIFY, (uint16_t)i, XGNTD_F_NOREPLY, &ev, sizeof(ev));
		send_msg(fd, XGNTD_EVTCHN_UNBIND, 2, 0, &ev, sizeof(ev));
		assert_int_equal(expect_reply(fd, XGNTD_EVTCHN_UNBIND, 2), 0);
		close(fd);
	}
	daemon_serves();
	assert_true(WAIT_FOR(base_same(&b), 2000));
}

/* xorshift64*: deterministic for a seed */
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static void test_random(void **state)
{
	static const uint32_t types[] = {
		XGNTD_HELLO, XGNTD_GNTDEV_MAP, XGNTD_GNTDEV_UNMAP, XGNTD_GNTDEV_COPY,
		XGNTD_GNTDEV_SET_MAX, XGNTD_GNTALLOC_SHARE, XGNTD_GNTALLOC_UNSHARE,
		XGNTD_EVTCHN_BIND_UNBOUND, XGNTD_EVTCHN_BIND_INTERDOMAIN, XGNTD_EVTCHN_BIND_VIRQ,
		XGNTD_EVTCHN_UNBIND, XGNTD_EVTCHN_NOTIFY, XGNTD_EVTCHN_UNMASK,
		XGNTD_EVTCHN_RESTRICT, XGNTD_CTL_DOMAIN_LIST, XGNTD_CTL_DUMP,
		XGNTD_CTL_WATCH_DOMAINS, 0, 99,
	};
	static unsigned char buf[HDR + 2048];
	struct base b;
	int conns, msgs = 0, fds[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };

	(void)state;
	base_get(&b);
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (conns = 0; conns < 150; conns++) {
		int k = conns % 8, n, i;

		if (fds[k] >= 0)
			close(fds[k]);
		fds[k] = raw_connect();
		if (rnd() % 8) {   /* usually a valid HELLO first */
			struct xgntd_hello m = hello_msg(1 + rnd() % 4, rnd() % 3 == 2 ? rnd() : rnd() % 2);
			struct xgntd_hdr h = { .type = XGNTD_HELLO, .len = sizeof(m) };

			memcpy(buf, &h, HDR);
			memcpy(buf + HDR, &m, sizeof(m));
			send(fds[k], buf, HDR + sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		n = 5 + (int)(rnd() % 40);
		for (i = 0; i < n; i++, msgs++) {
			struct xgntd_hdr h;
			uint32_t len = rnd() % 4 ? rnd() % 64 : rnd() % 2048, j;
			size_t total;
			char junk[4096];

			memset(&h, 0, sizeof(h));
			h.type = types[rnd() % (sizeof(types) / sizeof(types[0]))];
			h.len = rnd() % 16 ? len : rnd();
			h.seq = (uint16_t)rnd();
			h.flags = rnd() % 8 ? 0 : (uint16_t)(rnd() % 3);
			for (j = 0; j < len; j++)   /* small numbers, often valid */
				buf[HDR + j] = (uint8_t)(rnd() % 4 ? rnd() % 16 : rnd());
			memcpy(buf, &h, HDR);
			total = rnd() % 32 ? HDR + len : rnd() % (HDR + len + 1);
			send(fds[k], buf, total, MSG_NOSIGNAL | MSG_DONTWAIT);
			/* sometimes read what came back */
			if (rnd() % 4 == 0)
				while (recv(fds[k], junk, sizeof(junk), MSG_DONTWAIT) > 0)
					;
		}
	}
	for (conns = 0; conns < 8; conns++)
		close(fds[conns]);
	assert_true(msgs > 3000);
	daemon_serves();
	assert_true(WAIT_FOR(base_same(&b), 5000));
}

/* The daemon's CPU time so far, in clock ticks. */
static unsigned long daemon_ticks(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)dfix.pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	assert_non_null(p);
	/* fields after the name: state is the 3rd; utime, stime the 14th, 15th */
	for (i = 3; i < 14 && p; i++)
		p = strchr(p + 1, ' ');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 1, "%lu %lu", &ut, &st), 2);
	return ut + st;
}

/* More connections than the daemon has descriptors: the excess ones are
 * refused, the daemon does not spin on its listening socket, and once
 * they go it serves again. */
static int setup_fd_limit(void **state)
{
	int rc;

	dfix_nofile = 40;
	rc = dfix_setup(state);
	dfix_nofile = 0;
	return rc;
}

static void test_fd_exhaustion(void **state)
{
	int fds[80], k;
	unsigned long t0, t1;

	(void)state;
	for (k = 0; k < 80; k++)
		fds[k] = raw_connect();
	usleep(200000);
	t0 = daemon_ticks();
	usleep(500000);
	t1 = daemon_ticks();
	assert_true(dfix_alive(&dfix));
	if (t1 - t0 > 5)
		fail_msg("xgntd spins at its descriptor limit: %lu ticks in 0.5 s", t1 - t0);
	for (k = 0; k < 80; k++)
		close(fds[k]);
	usleep(100000);
	daemon_serves();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_framing, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_hello, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_requests, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_fds, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_flood, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_random, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_fd_exhaustion, setup_fd_limit, dfix_teardown),
	};

	return cmocka_run_group_tests_name("xgntd: malformed input", tests, NULL, NULL);
}
