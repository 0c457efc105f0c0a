/* SPDX-License-Identifier: MIT */
/*
 * fuzz_xgntd: the xgntd client protocol. One daemon (domains 0 and 1) lives
 * across inputs; an input is a sequence of steps on up to four client
 * connections (socketpairs whose other end is a daemon connection): raw
 * datagrams (framing, garbage), well-framed requests of any type with
 * fuzzed payloads, proper HELLOs of every kind, closes, and event
 * delivery. Every 16 steps the machine's invariants hold; after the
 * input, with every connection closed, the daemon holds nothing for any
 * domain (grants, mappings, ports, shared pages) and both domains are
 * there again. Any violation aborts.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/scm.h"

#define NR_SLOTS 4
#define MAX_DGRAM 600

void dmn_log(const char *fmt, ...)
{
	(void)fmt;
}

static struct daemon dmn;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_xgntd: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_machine(void)
{
	char buf[512];

	if (xgnt_machine_check(dmn.m, 0, buf, sizeof(buf)))
		die("invariant", buf);
}

static void setup_once(void)
{
	static const struct xgntd_domain_create d0 = { .domid = 0, .privileged = 1, .ram_frames = 2048 };
	static const struct xgntd_domain_create d1 = { .domid = 1, .ram_frames = 2048 };
	struct xgnt_machine_config mc = { .nr_frames = 16384 };

	signal(SIGPIPE, SIG_IGN);   /* as xgntd: a client's pipe may be gone */
	dmn.gntalloc_limit = 64;
	dmn.lfd = dmn.sigfd = -1;
	dmn.m = xgnt_machine_create(&mc);
	if (!dmn.m)
		die("machine", strerror(errno));
	dmn.memfd = xgnt_machine_memfd(dmn.m, &dmn.nr_frames);
	dmn.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (dmn.epfd < 0 || dd_create(&dmn, &d0) || dd_create(&dmn, &d1))
		die("setup", NULL);
}

static bool alive(const struct conn *c)
{
	const struct conn *o;

	for (o = dmn.conns; o; o = o->next)
		if (o == c)
			return true;
	return false;
}

/* Read and drop whatever the daemon sent (closing passed descriptors). */
static void drain(int fd)
{
	static unsigned char buf[sizeof(struct xgntd_hdr) + XGNTD_MAX_MSG];

	for (;;) {
		union {
			struct cmsghdr c;
			char b[CMSG_SPACE(sizeof(int) * 8)];
		} u;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.b, .msg_controllen = sizeof(u.b) };

		if (recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
			return;
		scm_take_fds(&mh, NULL, 0);   /* closes them all */
	}
}

static void events(void)
{
	struct dd *dd;

	for (dd = dmn.doms; dd; dd = dd->next)
		dd_events(dd);
	dd_poll_deferred(&dmn);
}

struct slot {
	int cli;                 /* our end, -1 if none */
	struct conn *c;          /* the daemon's end */
	uint16_t seq;
};

static void slot_close(struct slot *s)
{
	if (s->cli < 0)
		return;
	close(s->cli);
	s->cli = -1;
	if (s->c && alive(s->c))
		conn_input(s->c);   /* sees the end of the stream */
	if (s->c && alive(s->c))
		die("connection survived its peer's close", NULL);
	s->c = NULL;
}

static void slot_open(struct slot *s)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		die("socketpair", strerror(errno));
	s->cli = sv[0];
	s->c = conn_new(&dmn, sv[1]);
	s->seq = 0;
	if (!s->c)
		die("conn_new", NULL);
}

static const uint32_t types[] = {
	XGNTD_HELLO, XGNTD_GNTDEV_MAP, XGNTD_GNTDEV_UNMAP, XGNTD_GNTDEV_COPY,
	XGNTD_GNTDEV_SET_MAX, XGNTD_GNTALLOC_SHARE, XGNTD_GNTALLOC_UNSHARE,
	XGNTD_EVTCHN_BIND_UNBOUND, XGNTD_EVTCHN_BIND_INTERDOMAIN, XGNTD_EVTCHN_BIND_VIRQ,
	XGNTD_EVTCHN_UNBIND, XGNTD_EVTCHN_NOTIFY, XGNTD_EVTCHN_UNMASK, XGNTD_EVTCHN_RESTRICT,
	XGNTD_EVTCHN_ROUTE,
	XGNTD_CTL_DOMAIN_CREATE, XGNTD_CTL_DOMAIN_DESTROY, XGNTD_CTL_DOMAIN_LIST,
	XGNTD_CTL_DUMP, XGNTD_CTL_WATCH_DOMAINS, XGNTD_CTL_SHUTDOWN, 0, 99,
};

static void put(struct slot *s, const void *msg, size_t len)
{
	if (send(s->cli, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
	    errno != EPIPE && errno != ECONNRESET)
		die("send", strerror(errno));
	if (alive(s->c))
		conn_input(s->c);
	drain(s->cli);
}

/* After the input: every connection gone, the daemon holds nothing. */
static void settle(struct slot *slots)
{
	static const struct xgntd_domain_create d1 = { .domid = 1, .ram_frames = 2048 };
	struct dd *dd, *next;
	unsigned int i;

	for (i = 0; i < NR_SLOTS; i++)
		slot_close(&slots[i]);
	events();
	if (dmn.conns)
		die("connections left", NULL);
	dmn_reap(&dmn);
	for (dd = dmn.doms; dd; dd = next) {
		struct xgntd_domain_info info;

		next = dd->next;
		dd_info(dd, &info);
		if (dd->domid > 1) {
			dd_destroy(&dmn, dd);
			continue;
		}
		if (info.nr_mappings || info.nr_active || info.nr_ports || dd->nr_shared ||
		    info.nr_handles || dd->ports) {
			char msg[160];

			snprintf(msg, sizeof(msg), "d%u: %u mappings, %u active, %u ports, %u shared, "
				 "%u handles", dd->domid, info.nr_mappings, info.nr_active,
				 info.nr_ports, dd->nr_shared, info.nr_handles);
			die("left behind", msg);
		}
	}
	dmn_reap(&dmn);
	if (!dd_find(&dmn, 1) && dd_create(&dmn, &d1))
		die("re-creating d1", NULL);
	dmn.stop = false;
	check_machine();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slot slots[NR_SLOTS];
	size_t pos = 0;
	unsigned int i, steps = 0;

	if (!dmn.m)
		setup_once();
	for (i = 0; i < NR_SLOTS; i++)
		slots[i] = (struct slot){ .cli = -1 };
	while (pos < size && steps++ < 64) {
		uint8_t op = data[pos++];
		struct slot *s = &slots[op & 3];
		unsigned char msg[MAX_DGRAM];
		size_t len;

		if (s->cli < 0 && (op >> 2) % 5 != 3)
			slot_open(s);
		switch ((op >> 2) % 5) {
		case 0:   /* a raw datagram */
			len = pos < size ? data[pos++] % MAX_DGRAM : 0;
			len = len < size - pos ? len : size - pos;
			put(s, data + pos, len);
			pos += len;
			break;
		case 1: { /* a well-framed request: type, payload */
			struct xgntd_hdr h = { 0 };
			size_t plen;

			if (pos + 2 > size)
				break;
			h.type = types[data[pos++] % (sizeof(types) / sizeof(types[0]))];
			plen = data[pos++] % (MAX_DGRAM - sizeof(h));
			plen = plen < size - pos ? plen : size - pos;
			h.len = (uint32_t)plen;
			h.seq = ++s->seq;
			if (plen && (data[pos] & 0x80))
				h.flags = XGNTD_F_NOREPLY;
			memcpy(msg, &h, sizeof(h));
			memcpy(msg + sizeof(h), data + pos, plen);
			pos += plen;
			put(s, msg, sizeof(h) + plen);
			break;
		}
		case 2: { /* a proper HELLO */
			struct xgntd_hdr h = { .type = XGNTD_HELLO, .len = sizeof(struct xgntd_hello) };
			struct xgntd_hello m = { .magic = XGNTD_MAGIC, .version = XGNTD_VERSION };

			if (pos + 2 > size)
				break;
			m.kind = 1 + data[pos++] % 4;
			m.domid = data[pos++] % 3;
			memcpy(msg, &h, sizeof(h));
			memcpy(msg + sizeof(h), &m, sizeof(m));
			put(s, msg, sizeof(h) + sizeof(m));
			break;
		}
		case 3:   /* the client goes */
			slot_close(s);
			break;
		default:  /* events reach their handles */
			events();
			drain(s->cli);
			break;
		}
		for (i = 0; i < NR_SLOTS; i++) {   /* the daemon closed it */
			if (slots[i].c && !alive(slots[i].c)) {
				close(slots[i].cli);
				slots[i].cli = -1;
				slots[i].c = NULL;
			}
		}
		dmn_reap(&dmn);
		/* The checker scans each domain's whole address space (a 1 GiB
		 * window here): every 16 steps, and after the input. */
		if (!(steps % 16))
			check_machine();
	}
	settle(slots);
	return 0;
}
