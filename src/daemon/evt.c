/* SPDX-License-Identifier: MIT */
/*
 * xgntd: evtchn handles, as Linux's evtchn driver keeps them. A port is
 * delivered once (written to the handle's pipe, and masked) until the
 * process unmasks it; a handle may be restricted to one peer domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Linux's evtchn_interrupt: disable the port, queue it for the process. */
static void on_event(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct evport *ep = data;
	struct conn *c = ep->owner;

	xgnt_evtchn_mask(g, port);
	if (!c || !ep->enabled)
		return;
	ep->enabled = false;
	if (write(c->pipe_w, &port, sizeof(port)) != sizeof(port))
		/* Only a process that unmasks ports it never read fills it. */
		dlog(c->dmn, "d%u: pipe of pid %d full: port %u dropped", ep->dd->domid,
		     (int)c->pid, port);
	else
		ep->dd->events_delivered++;
}

int evt_hello(struct conn *c, int *pipe_r)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* The daemon never blocks on it; the client's end stays blocking. */
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(p[1], F_SETPIPE_SZ, (int)(HANDLE_MAX_PORTS * sizeof(evtchn_port_t))) < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return -e;
	}
	c->pipe_w = p[1];
	*pipe_r = p[0];
	return 0;
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
		c->nr_ports = o->nr_ports;
		c->restrict_domid = o->restrict_domid;
		o->pipe_w = -1;
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
	ep->enabled = true;
	ep->refs = 1;
	ep->next = dd->ports;
	dd->ports = ep;
	c->nr_ports++;
	rc = xgnt_evtchn_bind(dd->g, port, on_event, ep);
	if (rc) {
		c->nr_ports--;
		ep->owner = NULL;
		evt_port_put(ep);
		return rc;
	}
	return port;
}

long evt_request(struct conn *c, const struct xgntd_hdr *h, const void *p)
{
	const struct xgntd_evtchn *req = p;
	struct dd *dd = c->dd;
	struct evport *ep;
	long rc;

	/* An ioctl the driver does not know: ENOTTY, whatever its size. */
	if (h->type < XGNTD_EVTCHN_BIND_UNBOUND || h->type > XGNTD_EVTCHN_RESTRICT)
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
		ep->owner = NULL;
		c->nr_ports--;
		evt_port_put(ep);
		return 0;
	case XGNTD_EVTCHN_NOTIFY:
		ep = handle_port(c, req->port);
		if (!ep)
			return -ENOTCONN;
		evt_port_send(ep);
		return 0;
	case XGNTD_EVTCHN_UNMASK:
		/* Linux's evtchn_write: unknown ports are ignored. */
		ep = handle_port(c, req->port);
		if (ep && !ep->enabled) {
			ep->enabled = true;
			xgnt_evtchn_unmask(dd->g, ep->port);
		}
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
	struct evport *ep, *next;

	for (ep = dd->ports; ep; ep = next) {
		next = ep->next;
		if (ep->owner == c) {
			ep->owner = NULL;
			evt_port_put(ep);
		}
	}
	c->nr_ports = 0;
	if (c->pipe_w >= 0)
		close(c->pipe_w);
	c->pipe_w = -1;
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

void evt_port_send(struct evport *ep)
{
	if (xgnt_evtchn_notify(ep->dd->g, ep->port) == 0)
		ep->dd->events_sent++;
}
