/* SPDX-License-Identifier: MIT */
/*
 * Drop-in libxenevtchn.so.1 over xgntd, as Linux's evtchn driver behaves:
 * xenevtchn_fd is readable exactly while ports are pending (a pipe the
 * daemon writes each delivered port to), xenevtchn_pending reads one port
 * (EAGAIN once the fd is O_NONBLOCK), the port stays masked until
 * xenevtchn_unmask. Notify and unmask need no reply from the daemon.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenevtchn.h>

#include "client.h"

#define API __attribute__((visibility("default")))

struct xenevtchn_handle {
	struct xgntc c;
	int pipe_r;
	pthread_mutex_t lock;        /* bound */
	uint8_t *bound;              /* bitmap of the ports this handle bound */
	uint32_t nr_bound_bits;
	bool adopted;                /* fdopen: the daemon knows the ports */
};

static bool is_bound(struct xenevtchn_handle *h, evtchn_port_t port)
{
	bool b;

	pthread_mutex_lock(&h->lock);
	b = port < h->nr_bound_bits && (h->bound[port / 8] & (1u << (port % 8)));
	pthread_mutex_unlock(&h->lock);
	return b;
}

static int set_bound(struct xenevtchn_handle *h, evtchn_port_t port, bool on)
{
	pthread_mutex_lock(&h->lock);
	if (port >= h->nr_bound_bits) {
		uint32_t n = h->nr_bound_bits ? h->nr_bound_bits : 1024;
		uint8_t *b;

		while (n <= port)
			n *= 2;
		b = realloc(h->bound, n / 8);
		if (!b) {
			pthread_mutex_unlock(&h->lock);
			return -ENOMEM;
		}
		memset(b + h->nr_bound_bits / 8, 0, (n - h->nr_bound_bits) / 8);
		h->bound = b;
		h->nr_bound_bits = n;
	}
	if (on)
		h->bound[port / 8] |= (uint8_t)(1u << (port % 8));
	else
		h->bound[port / 8] &= (uint8_t)~(1u << (port % 8));
	pthread_mutex_unlock(&h->lock);
	return 0;
}

API xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	struct xenevtchn_handle *h;
	int rc;

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
	rc = xgntc_open(&h->c, NULL, XGNTD_KIND_EVTCHN, XGNTD_DOMID_ALL, 0, -1, NULL, &h->pipe_r, 1);
	if (!rc && h->pipe_r < 0) {
		xgntc_close(&h->c);
		rc = -EPROTO;
	}
	if (rc) {
		free(h);
		errno = -rc;
		return NULL;
	}
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
	if (!xce)
		return 0;
	close(xce->pipe_r);
	xgntc_close(&xce->c);
	pthread_mutex_destroy(&xce->lock);
	free(xce->bound);
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

API int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct xgntd_evtchn req = { .port = port };
	int rc;

	if (xce->adopted) {
		long r = xgntc_call(&xce->c, XGNTD_EVTCHN_NOTIFY, &req, sizeof(req), NULL, 0, NULL);

		return r < 0 ? fail(r) : 0;
	}
	if (!is_bound(xce, port))
		return fail(-ENOTCONN);
	rc = xgntc_post(&xce->c, XGNTD_EVTCHN_NOTIFY, &req, sizeof(req));
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
	int rc = xgntc_post(&xce->c, XGNTD_EVTCHN_UNMASK, &req, sizeof(req));

	return rc ? fail(rc) : 0;
}

API int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	struct xgntd_evtchn req = { .domid = domid };
	long rc = xgntc_call(&xce->c, XGNTD_EVTCHN_RESTRICT, &req, sizeof(req), NULL, 0, NULL);

	return rc < 0 ? fail(rc) : 0;
}
