// SPDX-License-Identifier: MIT
/*
 * A connection: framing of struct xsd_sockmsg messages in both directions.
 * Input arrives as bytes (from a socket or a fuzzer) and is dispatched one
 * complete message at a time; output is a bounded queue that the socket
 * layer drains. Nothing here blocks.
 */
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

struct xsv_conn *xsv_conn_new(struct xsv_server *s, int fd, uint32_t domid)
{
	struct xsv_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	c->domid = domid;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	return c;
}

/* Drops the connection's watches, transactions and queue; fd is the
 * caller's to close. */
void xsv_conn_free(struct xsv_conn *c)
{
	struct xsv_msg *m;

	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	xsv_watch_clear(c);
	xsv_tx_clear(c);
	while ((m = c->out_head)) {
		c->out_head = m->next;
		free(m);
	}
	free(c);
}

/* Bytes the connection needs to complete the header or the payload. */
size_t xsv_conn_want(const struct xsv_conn *c)
{
	if (c->hdr_used < sizeof(c->hdr))
		return sizeof(c->hdr) - c->hdr_used;
	return c->hdr.len - c->used;
}

/* Reading pauses while an unprivileged client has too many unread replies
 * (C xenstored's outstanding-requests quota); it resumes as they drain. */
bool xsv_conn_paused(const struct xsv_conn *c)
{
	return c->dead || (c->out_replies >= c->srv->quota.outstanding &&
			   !xsv_domid_priv(c->srv, c->domid));
}

/*
 * Consumes all of bytes, dispatching every message it completes. A header
 * announcing more than XENSTORE_PAYLOAD_MAX breaks the framing: like C
 * xenstored we drop the connection (-EPROTO, c->dead set).
 */
int xsv_conn_feed(struct xsv_conn *c, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;

	while (len && !c->dead) {
		size_t n;

		if (c->hdr_used < sizeof(c->hdr)) {
			n = sizeof(c->hdr) - c->hdr_used;
			if (n > len)
				n = len;
			memcpy((uint8_t *)&c->hdr + c->hdr_used, p, n);
			c->hdr_used += (uint32_t)n;
			p += n;
			len -= n;
			if (c->hdr_used < sizeof(c->hdr))
				break;
			if (c->hdr.len > XENSTORE_PAYLOAD_MAX) {
				xsv_log(c->srv, 1, "conn dom%u: payload length %u, closing",
					c->domid, c->hdr.len);
				c->dead = true;
				return -EPROTO;
			}
			c->used = 0;
		}
		n = c->hdr.len - c->used;
		if (n > len)
			n = len;
		memcpy(c->buf + c->used, p, n);
		c->used += (uint32_t)n;
		p += n;
		len -= n;
		if (c->used == c->hdr.len) {
			struct xsd_sockmsg hdr = c->hdr;

			c->buf[hdr.len] = '\0';   /* sentinel: strings end */
			c->hdr_used = 0;
			c->used = 0;
			xsv_dispatch(c, &hdr, c->buf);
		}
	}
	return c->dead ? -EPIPE : 0;
}

/* Queues one message. A client that lets its queue grow past the limit is
 * dropped rather than allowed to hold the server's memory. */
void xsv_conn_send(struct xsv_conn *c, uint32_t type, uint32_t req_id,
		   uint32_t tx_id, const void *data, size_t len, bool reply)
{
	struct xsd_sockmsg h = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = (uint32_t)len,
	};
	struct xsv_msg *m;

	if (c->dead)
		return;
	if (len > XENSTORE_PAYLOAD_MAX) {   /* never emit what clients refuse */
		if (reply)
			xsv_conn_error(c, &h, E2BIG);
		return;
	}
	if (c->out_bytes + sizeof(h) + len > c->srv->out_limit) {
		xsv_log(c->srv, 1, "conn dom%u: output queue over %zu bytes, closing",
			c->domid, c->srv->out_limit);
		c->dead = true;
		return;
	}
	m = malloc(sizeof(*m) + sizeof(h) + len);
	if (!m) {
		c->dead = true;
		return;
	}
	m->next = NULL;
	m->len = sizeof(h) + len;
	m->reply = reply;
	memcpy(m->data, &h, sizeof(h));
	if (len)
		memcpy(m->data + sizeof(h), data, len);
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	c->out_bytes += m->len;
	c->out_replies += reply;
}

/* The socket layer wrote n bytes from the head of the queue. */
void xsv_conn_consumed(struct xsv_conn *c, size_t n)
{
	while (n && c->out_head) {
		struct xsv_msg *m = c->out_head;
		size_t left = m->len - c->out_off;

		if (n < left) {
			c->out_off += n;
			return;
		}
		n -= left;
		c->out_off = 0;
		c->out_head = m->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_bytes -= m->len;
		c->out_replies -= m->reply;
		free(m);
	}
}

const char *xsv_errname(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EINVAL";   /* what libxenstore makes of an unknown name */
}

void xsv_conn_error(struct xsv_conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = xsv_errname(err);

	xsv_conn_send(c, XS_ERROR, req->req_id, req->tx_id, name,
		      strlen(name) + 1, true);
}
