/* SPDX-License-Identifier: MIT */
/*
 * xgntd: evtchn handles, as Linux's evtchn driver keeps them. A port is
 * delivered once (written to the handle's pipe, and held) until the
 * process unmasks it; a handle may be restricted to one peer domain.
 *
 * What is delivered and held lives in the handle's bell (proto.h), which
 * the process maps too: it unmasks there, and, once it has asked for a
 * route, notifies a peer handle through that handle's bell and pipe
 * without the daemon. The daemon delivers what the core raises (notifies
 * without a route, unmap notifications, VIRQs) through the same bell.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bell.h"
#include "daemon.h"

/* Ports one handle may bind: the pipe holds every one of them at once. */
#define HANDLE_MAX_PORTS 4096u

static struct evport *port_lookup(struct dd *dd, evtchn_port_t port)
{
	return port < dd->nr_port_tab ? dd->port_tab[port] : NULL;
}

static int port_table_set(struct dd *dd, evtchn_port_t port, struct evport *ep)
{
	if (port >= dd->nr_port_tab) {
		unsigned int n = dd->nr_port_tab ? dd->nr_port_tab : 64;
		struct evport **t;

		while (n <= port)
			n *= 2;
		t = realloc(dd->port_tab, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + dd->nr_port_tab, 0, (n - dd->nr_port_tab) * sizeof(*t));
		dd->port_tab = t;
		dd->nr_port_tab = n;
	}
	dd->port_tab[port] = ep;
	return 0;
}

/* The handle's own port, or NULL. */
static struct evport *handle_port(struct conn *c, evtchn_port_t port)
{
	struct evport *ep = port_lookup(c->dd, port);

	return ep && ep->owner == c ? ep : NULL;
}

static void deliver(struct conn *c, evtchn_port_t port)
{
	if (write(c->pipe_w, &port, sizeof(port)) != sizeof(port))
		/* Only a process that unmasks ports it never read fills it. */
		dlog(c->dmn, "d%u: pipe of pid %d full: port %u dropped", c->dd->domid,
		     (int)c->pid, port);
	else
		c->dd->events_delivered++;
}

/* Linux's evtchn_interrupt: queue the port for the process, once. */
static void on_event(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct evport *ep = data;
	struct conn *c = ep->owner;

	(void)g;
	if (c && c->bell && bell_raise(bell_slot(c->bell, port), ep->token) == BELL_DELIVER) {
		deliver(c, port);
		bell_written(bell_slot(c->bell, port), ep->token);
	}
}

int evt_hello(struct conn *c, int fds[2])
{
	int p[2], b;
	void *bell;

	b = memfd_create("xgnt-evtchn-bell", MFD_CLOEXEC);
	if (b < 0)
		return -errno;
	if (ftruncate(b, (off_t)XGNTD_BELL_SIZE) < 0) {
		int e = errno;

		close(b);
		return -e;
	}
	bell = mmap(NULL, XGNTD_BELL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
	if (bell == MAP_FAILED) {
		int e = errno;

		close(b);
		return -e;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;

		munmap(bell, XGNTD_BELL_SIZE);
		close(b);
		return -e;
	}
	/* No writer ever blocks on it; the client's end stays blocking. */
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(p[1], F_SETPIPE_SZ, (int)(HANDLE_MAX_PORTS * sizeof(evtchn_port_t))) < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		munmap(bell, XGNTD_BELL_SIZE);
		close(b);
		return -e;
	}
	c->pipe_w = p[1];
	c->bell_fd = b;
	c->bell = bell;
	c->bell_id = ++c->dmn->next_bell_id;
	fds[0] = p[0];
	fds[1] = b;
	return 0;
}

/* The port leaves its handle: a sender's route to it goes stale. */
static void disown(struct evport *ep)
{
	struct conn *c = ep->owner;

	if (c && c->bell)
		bell_set(bell_slot(c->bell, ep->port), 0);
	ep->owner = NULL;
}

/* xenevtchn_fdopen: take over the handle whose pipe pipe_r reads. */
int evt_adopt(struct conn *c, int pipe_r)
{
	struct stat want, st;
	struct conn *o;
	struct evport *ep;

	if (fstat(pipe_r, &want) < 0 || !S_ISFIFO(want.st_mode))
		return -EINVAL;
	for (o = c->dmn->conns; o; o = o->next) {
		if (o == c || o->kind != XGNTD_KIND_EVTCHN || o->dd != c->dd || o->pipe_w < 0 ||
		    fstat(o->pipe_w, &st) < 0 || st.st_ino != want.st_ino ||
		    st.st_dev != want.st_dev)
			continue;
		for (ep = c->dd->ports; ep; ep = ep->next)
			if (ep->owner == o)
				ep->owner = c;
		c->pipe_w = o->pipe_w;
		c->bell_fd = o->bell_fd;
		c->bell = o->bell;
		c->bell_id = o->bell_id;
		c->nr_ports = o->nr_ports;
		c->restrict_domid = o->restrict_domid;
		o->pipe_w = -1;
		o->bell_fd = -1;
		o->bell = NULL;
		o->nr_ports = 0;
		return 0;
	}
	return -ENOENT;
}

static long bound(struct conn *c, evtchn_port_t port)
{
	struct dd *dd = c->dd;
	struct evport *ep = calloc(1, sizeof(*ep));
	int rc;

	if (!ep || port_table_set(dd, port, ep)) {
		struct evtchn_close cl = { .port = port };

		free(ep);
		xgnt_hyp_event_channel_op(dd->g, EVTCHNOP_close, &cl);
		return -ENOMEM;
	}
	ep->dd = dd;
	ep->owner = c;
	ep->port = port;
	if (!++c->dmn->next_token)   /* 0 is no binding */
		++c->dmn->next_token;
	ep->token = c->dmn->next_token;
	ep->refs = 1;
	ep->next = dd->ports;
	dd->ports = ep;
	c->nr_ports++;
	if (port >= XGNTD_BELL_PORTS) {
		rc = -ENOSPC;   /* no port of Xen's ABIs is */
	} else {
		bell_set(bell_slot(c->bell, port), ep->token);
		rc = xgnt_evtchn_bind(dd->g, port, on_event, ep);
	}
	if (rc) {
		c->nr_ports--;
		disown(ep);
		evt_port_put(ep);
		return rc;
	}
	return port;
}

/* The handle owning the peer of ep's port, when it is interdomain. */
/* The handle's port that is the peer of ep's (interdomain), or NULL. */
static struct evport *peer_of(struct evport *ep)
{
	struct evtchn_status st = { .dom = DOMID_SELF, .port = ep->port };
	struct dd *pd;

	if (xgnt_hyp_event_channel_op(ep->dd->g, EVTCHNOP_status, &st) ||
	    st.status != EVTCHNSTAT_interdomain)
		return NULL;
	pd = dd_find(ep->dd->dmn, st.u.interdomain.dom);
	return pd ? port_lookup(pd, st.u.interdomain.port) : NULL;
}

/* The route to peer, ep's peer port (evt_port_send's answer), if a
 * handle owns it. */
static long route(struct evport *peer, void *out, size_t *out_len, int *fds,
		  unsigned int *nfds)
{
	struct xgntd_evtchn_route *r = out;

	if (!peer || !peer->owner || !peer->owner->bell || peer->owner->pipe_w < 0)
		return 0;
	memset(r, 0, sizeof(*r));
	r->handle = peer->owner->bell_id;
	r->port = peer->port;
	r->token = peer->token;
	*out_len = sizeof(*r);
	fds[0] = peer->owner->pipe_w;
	fds[1] = peer->owner->bell_fd;
	*nfds = 2;
	return 1;
}

long evt_request(struct conn *c, const struct xgntd_hdr *h, const void *p, void *out,
		 size_t *out_len, int *fds, unsigned int *nfds)
{
	const struct xgntd_evtchn *req = p;
	struct dd *dd = c->dd;
	struct evport *ep, *peer;
	long rc;

	/* An ioctl the driver does not know: ENOTTY, whatever its size. */
	if (h->type < XGNTD_EVTCHN_BIND_UNBOUND || h->type > XGNTD_EVTCHN_ROUTE)
		return -ENOTTY;
	if (h->len != sizeof(*req))
		return -EINVAL;
	if (c->pipe_w < 0)
		return -EBADF;   /* its handle was adopted by another connection */
	switch (h->type) {
	case XGNTD_EVTCHN_BIND_UNBOUND: {
		struct evtchn_alloc_unbound op = { .dom = DOMID_SELF };

		if (c->restrict_domid != DOMID_INVALID)
			return -EACCES;
		if (c->nr_ports >= HANDLE_MAX_PORTS)
			return -ENOSPC;
		op.remote_dom = (domid_t)req->domid;
		if (req->domid > 0xffff)
			op.remote_dom = DOMID_INVALID;
		rc = xgnt_hyp_event_channel_op(dd->g, EVTCHNOP_alloc_unbound, &op);
		return rc ? rc : bound(c, op.port);
	}
	case XGNTD_EVTCHN_BIND_INTERDOMAIN: {
		struct evtchn_bind_interdomain op = { .remote_port = req->port };

		if (c->restrict_domid != DOMID_INVALID && c->restrict_domid != req->domid)
			return -EACCES;
		if (c->nr_ports >= HANDLE_MAX_PORTS)
			return -ENOSPC;
		op.remote_dom = (domid_t)req->domid;
		if (req->domid > 0xffff)
			op.remote_dom = DOMID_INVALID;
		rc = xgnt_hyp_event_channel_op(dd->g, EVTCHNOP_bind_interdomain, &op);
		return rc ? rc : bound(c, op.local_port);
	}
	case XGNTD_EVTCHN_BIND_VIRQ: {
		struct evtchn_bind_virq op = { .virq = req->virq, .vcpu = 0 };

		if (c->restrict_domid != DOMID_INVALID)
			return -EACCES;
		if (c->nr_ports >= HANDLE_MAX_PORTS)
			return -ENOSPC;
		rc = xgnt_hyp_event_channel_op(dd->g, EVTCHNOP_bind_virq, &op);
		return rc ? rc : bound(c, op.port);
	}
	case XGNTD_EVTCHN_UNBIND:
		if (req->port >= xgnt_evtchn_max_ports(dd->g))
			return -EINVAL;
		ep = handle_port(c, req->port);
		if (!ep)
			return -ENOTCONN;
		disown(ep);
		c->nr_ports--;
		evt_port_put(ep);
		return 0;
	case XGNTD_EVTCHN_NOTIFY:
	case XGNTD_EVTCHN_ROUTE:
		ep = handle_port(c, req->port);
		if (!ep)
			return -ENOTCONN;
		peer = evt_port_send(ep);
		if (h->type == XGNTD_EVTCHN_ROUTE && !(h->flags & XGNTD_F_NOREPLY))
			return route(peer, out, out_len, fds, nfds);
		return 0;
	case XGNTD_EVTCHN_UNMASK:
		/* Linux's evtchn_write: unknown ports are ignored. */
		ep = handle_port(c, req->port);
		if (ep && bell_unmask(bell_slot(c->bell, ep->port)) == BELL_DELIVER)
			deliver(c, ep->port);
		return 0;
	case XGNTD_EVTCHN_RESTRICT:
		if (c->restrict_domid != DOMID_INVALID)
			return -EACCES;
		if (req->domid == 0 || req->domid >= DOMID_FIRST_RESERVED)
			return -EINVAL;
		c->restrict_domid = req->domid;
		return 0;
	}
	return -ENOTTY;
}

void evt_release(struct conn *c)
{
	struct dd *dd = c->dd;
	struct evport *ep, *next, *peer;

	for (ep = dd->ports; ep; ep = next) {
		next = ep->next;
		if (ep->owner != c)
			continue;
		/* This process could notify the peer directly: if it died
		 * mid-delivery, the peer's port is held with nothing in its
		 * pipe, and would swallow every later event (the unmap
		 * notification saying this end is gone among them). */
		peer = peer_of(ep);
		if (peer && peer->owner && peer->owner != c && peer->owner->bell &&
		    bell_rekick(bell_slot(peer->owner->bell, peer->port), peer->token) ==
			    BELL_DELIVER)
			deliver(peer->owner, peer->port);
		disown(ep);
		evt_port_put(ep);
	}
	c->nr_ports = 0;
	if (c->pipe_w >= 0)
		close(c->pipe_w);
	c->pipe_w = -1;
	if (c->bell) {
		struct xgntd_bell_hdr *bh = c->bell;

		/* What went past the daemon counts for the domain still. */
		dd->events_delivered += __atomic_load_n(&bh->delivered, __ATOMIC_RELAXED);
		dd->events_sent += __atomic_load_n(&bh->sent, __ATOMIC_RELAXED);
		munmap(c->bell, XGNTD_BELL_SIZE);
		close(c->bell_fd);
	}
	c->bell = NULL;
	c->bell_fd = -1;
}

struct evport *evt_port_get(struct dd *dd, evtchn_port_t port)
{
	struct evport *ep = port_lookup(dd, port);

	if (!ep || !ep->owner)
		return NULL;
	ep->refs++;
	return ep;
}

void evt_port_put(struct evport *ep)
{
	struct dd *dd = ep->dd;
	struct evport **pp;

	if (--ep->refs)
		return;
	for (pp = &dd->ports; *pp != ep; pp = &(*pp)->next)
		;
	*pp = ep->next;
	port_table_set(dd, ep->port, NULL);
	xgnt_evtchn_unbind(dd->g, ep->port);
	free(ep);
}

struct evport *evt_port_send(struct evport *ep)
{
	struct evport *peer;

	if (xgnt_evtchn_notify(ep->dd->g, ep->port))
		return NULL;
	ep->dd->events_sent++;
	/* Take the peer's upcall now rather than on a later turn of the
	 * loop: when the notify's reply goes out, the event is in the peer
	 * handle's pipe, as when the hypercall returns on Linux. */
	peer = peer_of(ep);
	if (peer)
		dd_events(peer->dd);
	return peer;
}
