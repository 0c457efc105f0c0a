/* SPDX-License-Identifier: MIT */
/*
 * Drop-in libxenevtchn.so.1 over xgntd, as Linux's evtchn driver behaves:
 * xenevtchn_fd is readable exactly while ports are pending (a pipe of
 * delivered ports), xenevtchn_pending reads one port (EAGAIN once the fd
 * is O_NONBLOCK), the port stays held until xenevtchn_unmask.
 *
 * What is delivered and held is in the handle's bell, shared with the
 * daemon (src/daemon/proto.h): unmask happens here, asking the daemon only
 * to deliver an event held meanwhile. A notify on an interdomain port
 * whose peer is another handle goes straight to that handle's bell and
 * pipe once the daemon has named them (a route, asked for on the first
 * notify and again whenever the peer's slot shows another binding); other
 * notifies go through the daemon. Both return once the event is delivered
 * or held, as Linux's ioctl and write do.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "../daemon/bell.h"
#include "client.h"

#define API __attribute__((visibility("default")))

/* Another handle's pipe and bell, shared by the routes to its ports. */
struct peer {
	struct peer *next;
	uint32_t id;                 /* the daemon's name for that handle */
	int pipe_w;
	void *bell;
	unsigned int refs;           /* routes, and notifies under way */
};

struct route {
	struct peer *peer;           /* NULL: none known */
	uint32_t port, token;        /* the peer's port and binding */
};

struct xenevtchn_handle {
	struct xgntc c;
	int pipe_r;
	void *bell;                  /* this handle's; NULL when adopted */
	pthread_mutex_t lock;        /* bound, routes, peers */
	uint8_t *bound;              /* bitmap of the ports this handle bound */
	uint32_t nr_bound_bits;
	struct route *routes;        /* [nr_bound_bits] */
	struct peer *peers;
	bool adopted;                /* fdopen: the daemon does it all */
};

static bool is_bound(struct xenevtchn_handle *h, evtchn_port_t port)
{
	bool b;

	pthread_mutex_lock(&h->lock);
	b = port < h->nr_bound_bits && (h->bound[port / 8] & (1u << (port % 8)));
	pthread_mutex_unlock(&h->lock);
	return b;
}

/* Under h->lock. */
static void peer_put(struct xenevtchn_handle *h, struct peer *p)
{
	struct peer **pp;

	if (--p->refs)
		return;
	for (pp = &h->peers; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	munmap(p->bell, XGNTD_BELL_SIZE);
	close(p->pipe_w);
	free(p);
}

/* Under h->lock. */
static void route_drop(struct xenevtchn_handle *h, evtchn_port_t port)
{
	struct route *r = port < h->nr_bound_bits ? &h->routes[port] : NULL;

	if (r && r->peer) {
		peer_put(h, r->peer);
		r->peer = NULL;
	}
}

static int set_bound(struct xenevtchn_handle *h, evtchn_port_t port, bool on)
{
	pthread_mutex_lock(&h->lock);
	if (port >= h->nr_bound_bits) {
		uint32_t n = h->nr_bound_bits ? h->nr_bound_bits : 1024;
		struct route *r;
		uint8_t *b;

		while (n <= port)
			n *= 2;
		b = realloc(h->bound, n / 8);
		if (b)
			h->bound = b;
		r = b ? realloc(h->routes, n * sizeof(*r)) : NULL;
		if (!r) {
			pthread_mutex_unlock(&h->lock);
			return -ENOMEM;
		}
		memset(b + h->nr_bound_bits / 8, 0, (n - h->nr_bound_bits) / 8);
		memset(r + h->nr_bound_bits, 0, (n - h->nr_bound_bits) * sizeof(*r));
		h->routes = r;
		h->nr_bound_bits = n;
	}
	if (on) {
		h->bound[port / 8] |= (uint8_t)(1u << (port % 8));
	} else {
		h->bound[port / 8] &= (uint8_t)~(1u << (port % 8));
		route_drop(h, port);
	}
	pthread_mutex_unlock(&h->lock);
	return 0;
}

API xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	struct xenevtchn_handle *h;
	int rc, fds[2];

	(void)logger;
	if (open_flags & ~XENEVTCHN_NO_CLOEXEC) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	rc = xgntc_open(&h->c, NULL, XGNTD_KIND_EVTCHN, XGNTD_DOMID_ALL, 0, -1, NULL, fds, 2);
	if (!rc && (fds[0] < 0 || fds[1] < 0))
		rc = -EPROTO;
	if (!rc) {
		h->bell = mmap(NULL, XGNTD_BELL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
		if (h->bell == MAP_FAILED)
			rc = -errno;
	}
	if (fds[1] >= 0)
		close(fds[1]);
	if (rc) {
		if (fds[0] >= 0) {
			xgntc_close(&h->c);
			close(fds[0]);
		}
		free(h);
		errno = -rc;
		return NULL;
	}
	h->pipe_r = fds[0];
	if (open_flags & XENEVTCHN_NO_CLOEXEC) {
		fcntl(h->pipe_r, F_SETFD, 0);
		fcntl(h->c.fd, F_SETFD, 0);
	}
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

/* A handle inherited across exec: fd is its xenevtchn_fd; the daemon
 * finds the handle by that pipe and hands it to this process. */
API xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
				       unsigned int open_flags)
{
	struct xenevtchn_handle *h;
	int rc;

	(void)logger;
	if (open_flags) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	rc = xgntc_open(&h->c, NULL, XGNTD_KIND_EVTCHN, XGNTD_DOMID_ALL, XGNTD_HELLO_ADOPT, fd,
			NULL, NULL, 0);
	if (rc) {
		free(h);
		errno = -rc;
		return NULL;
	}
	h->pipe_r = fd;
	h->adopted = true;
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

API int xenevtchn_close(xenevtchn_handle *xce)
{
	uint32_t k;

	if (!xce)
		return 0;
	close(xce->pipe_r);
	xgntc_close(&xce->c);
	for (k = 0; k < xce->nr_bound_bits; k++)
		route_drop(xce, k);
	if (xce->bell)
		munmap(xce->bell, XGNTD_BELL_SIZE);
	pthread_mutex_destroy(&xce->lock);
	free(xce->bound);
	free(xce->routes);
	free(xce);
	return 0;
}

API int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->pipe_r;
}

static int fail(long rc)
{
	errno = (int)-rc;
	return -1;
}

/* A write to a pipe whose reader has gone must not kill the caller. */
static void write_port(int fd, evtchn_port_t port)
{
	sigset_t pipe, old, pending;
	bool was_pending;
	ssize_t r;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	do
		r = write(fd, &port, sizeof(port));
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EPIPE && !was_pending) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* A full pipe drops the event, as the daemon does (docs/fidelity.md). */
}

static void count(void *bell, bool sent)
{
	struct xgntd_bell_hdr *bh = bell;

	__atomic_fetch_add(sent ? &bh->sent : &bh->delivered, 1, __ATOMIC_RELAXED);
}

/* The notify through a known route: false when there is none or it is
 * stale (then the daemon is asked). */
static bool notify_direct(struct xenevtchn_handle *h, evtchn_port_t port)
{
	struct peer *p = NULL;
	uint32_t rport = 0, token = 0;
	enum bell_result res;

	pthread_mutex_lock(&h->lock);
	if (port < h->nr_bound_bits && h->routes[port].peer) {
		p = h->routes[port].peer;
		rport = h->routes[port].port;
		token = h->routes[port].token;
		p->refs++;
	}
	pthread_mutex_unlock(&h->lock);
	if (!p)
		return false;
	res = bell_raise(bell_slot(p->bell, rport), token);
	if (res != BELL_STALE)
		count(h->bell, true);
	if (res == BELL_DELIVER) {
		write_port(p->pipe_w, rport);
		bell_written(bell_slot(p->bell, rport), token);
		count(p->bell, false);
	}
	pthread_mutex_lock(&h->lock);
	if (res == BELL_STALE && port < h->nr_bound_bits && h->routes[port].peer == p &&
	    h->routes[port].token == token)
		route_drop(h, port);
	peer_put(h, p);
	pthread_mutex_unlock(&h->lock);
	return res != BELL_STALE;
}

/* Notify through the daemon, which names the peer's bell if it can. */
static int notify_route(struct xenevtchn_handle *h, evtchn_port_t port)
{
	struct xgntd_evtchn req = { .port = port };
	struct xgntd_evtchn_route rt;
	struct peer *p;
	size_t len = 0;
	int fds[2];
	long rc;
	void *bell = MAP_FAILED;

	rc = xgntc_call_fds(&h->c, XGNTD_EVTCHN_ROUTE, &req, sizeof(req), &rt, sizeof(rt), &len,
			    fds, 2);
	if (rc == 1 && len == sizeof(rt) && fds[0] >= 0 && fds[1] >= 0 &&
	    rt.port < XGNTD_BELL_PORTS && rt.token) {
		pthread_mutex_lock(&h->lock);
		for (p = h->peers; p && p->id != rt.handle; p = p->next)
			;
		if (!p) {
			bell = mmap(NULL, XGNTD_BELL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
				    fds[1], 0);
			p = bell != MAP_FAILED ? calloc(1, sizeof(*p)) : NULL;
			if (p) {
				p->id = rt.handle;
				p->pipe_w = fds[0];
				p->bell = bell;
				p->next = h->peers;
				h->peers = p;
				fds[0] = -1;
			} else if (bell != MAP_FAILED) {
				munmap(bell, XGNTD_BELL_SIZE);
			}
		}
		/* a route is kept only while the port is this handle's */
		if (p && port < h->nr_bound_bits && (h->bound[port / 8] & (1u << (port % 8)))) {
			p->refs++;   /* first: the old route may hold the last ref */
			route_drop(h, port);
			h->routes[port].peer = p;
			h->routes[port].port = rt.port;
			h->routes[port].token = rt.token;
		} else if (p && !p->refs) {
			p->refs = 1;
			peer_put(h, p);
		}
		pthread_mutex_unlock(&h->lock);
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc < 0 ? (int)rc : 0;
}

API int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct xgntd_evtchn req = { .port = port };
	int rc;

	if (xce->adopted) {
		long r = xgntc_call(&xce->c, XGNTD_EVTCHN_NOTIFY, &req, sizeof(req), NULL, 0, NULL);

		return r < 0 ? fail(r) : 0;
	}
	/* a route is dropped when its port is unbound: one means bound */
	if (notify_direct(xce, port))
		return 0;
	if (!is_bound(xce, port))
		return fail(-ENOTCONN);
	rc = notify_route(xce, port);
	return rc ? fail(rc) : 0;
}

static xenevtchn_port_or_error_t bind(xenevtchn_handle *xce, uint32_t type,
				      const struct xgntd_evtchn *req)
{
	long rc = xgntc_call(&xce->c, type, req, sizeof(*req), NULL, 0, NULL);

	if (rc < 0)
		return fail(rc);
	if (set_bound(xce, (evtchn_port_t)rc, true)) {
		struct xgntd_evtchn u = { .port = (uint32_t)rc };

		xgntc_call(&xce->c, XGNTD_EVTCHN_UNBIND, &u, sizeof(u), NULL, 0, NULL);
		return fail(-ENOMEM);
	}
	return (xenevtchn_port_or_error_t)rc;
}

API xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	struct xgntd_evtchn req = { .domid = domid };

	return bind(xce, XGNTD_EVTCHN_BIND_UNBOUND, &req);
}

API xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
							 evtchn_port_t remote_port)
{
	struct xgntd_evtchn req = { .domid = domid, .port = remote_port };

	return bind(xce, XGNTD_EVTCHN_BIND_INTERDOMAIN, &req);
}

API xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	struct xgntd_evtchn req = { .virq = virq };

	return bind(xce, XGNTD_EVTCHN_BIND_VIRQ, &req);
}

API int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct xgntd_evtchn req = { .port = port };
	long rc = xgntc_call(&xce->c, XGNTD_EVTCHN_UNBIND, &req, sizeof(req), NULL, 0, NULL);

	if (rc < 0)
		return fail(rc);
	set_bound(xce, port, false);
	return 0;
}

API xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	evtchn_port_t port;
	ssize_t r;

	do
		r = read(xce->pipe_r, &port, sizeof(port));
	while (r < 0 && errno == EINTR);
	if (r == sizeof(port))
		return (xenevtchn_port_or_error_t)port;
	if (r >= 0)
		errno = r ? EIO : EPIPE;   /* the daemon has gone */
	return -1;
}

API int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct xgntd_evtchn req = { .port = port };
	int rc;

	/* Linux's evtchn_write: a port not the handle's is ignored. Enabling
	 * needs no daemon; delivering what was held does (bell.h), and is
	 * done when unmask returns, as the re-raised event is on Linux. */
	if (!xce->bell) {
		rc = xgntc_post(&xce->c, XGNTD_EVTCHN_UNMASK, &req, sizeof(req));
		return rc ? fail(rc) : 0;
	}
	if (port >= XGNTD_BELL_PORTS || !is_bound(xce, port) ||
	    bell_enable(bell_slot(xce->bell, port)) != BELL_DELIVER)
		return 0;
	rc = (int)xgntc_call(&xce->c, XGNTD_EVTCHN_UNMASK, &req, sizeof(req), NULL, 0, NULL);
	return rc < 0 ? fail(rc) : 0;
}

API int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	struct xgntd_evtchn req = { .domid = domid };
	long rc = xgntc_call(&xce->c, XGNTD_EVTCHN_RESTRICT, &req, sizeof(req), NULL, 0, NULL);

	return rc < 0 ? fail(rc) : 0;
}
