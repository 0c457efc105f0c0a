/* SPDX-License-Identifier: MIT */
/*
 * In-memory clients of the xenstore core for the protocol tests: requests
 * go in through xsv_conn_feed (the same entry point as a socket or a
 * fuzzer), replies and watch events come out of the connection's queue.
 */
#ifndef XGNT_TESTS_XS_CLIENT_H
#define XGNT_TESTS_XS_CLIENT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xenstored.h"

#define REQ_ID 77u
#define MAX_EV 256

struct cl {
	struct xsv_conn *c;
	unsigned int nev;
	char ev[MAX_EV][200];   /* "path token" */
};

static inline struct cl *cl_new(struct xsv_server *s, uint32_t domid)
{
	struct cl *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	k->c = xsv_conn_new(s, -1, domid);
	assert_non_null(k->c);
	return k;
}

static inline void cl_free(struct cl *k)
{
	if (!k)
		return;
	xsv_conn_free(k->c);
	free(k);
}

/* Next queued message, or false; buf gets payload + NUL. */
static inline bool cl_pop(struct cl *k, struct xsd_sockmsg *h, char *buf)
{
	struct xsv_msg *m = k->c->out_head;

	if (!m)
		return false;
	memcpy(h, m->data, sizeof(*h));
	assert_int_equal(m->len, sizeof(*h) + h->len);
	assert_true(h->len <= XENSTORE_PAYLOAD_MAX);
	memcpy(buf, m->data + sizeof(*h), h->len);
	buf[h->len] = '\0';
	xsv_conn_consumed(k->c, m->len);
	return true;
}

static inline void cl_record_event(struct cl *k, const char *buf, uint32_t len)
{
	const char *path = buf, *token;

	/* payload: path NUL token NUL, exactly */
	assert_true(len >= 2 && buf[len - 1] == '\0');
	token = path + strlen(path) + 1;
	assert_true(token < buf + len);
	assert_int_equal(token + strlen(token) + 1, buf + len);
	assert_true(k->nev < MAX_EV);
	snprintf(k->ev[k->nev++], sizeof(k->ev[0]), "%s %s", path, token);
}

/* Moves every queued message (all must be watch events) to k->ev. */
static inline void cl_drain(struct cl *k)
{
	struct xsd_sockmsg h;
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	while (cl_pop(k, &h, buf)) {
		assert_int_equal(h.type, XS_WATCH_EVENT);
		assert_int_equal(h.req_id, 0);
		assert_int_equal(h.tx_id, 0);
		cl_record_event(k, buf, h.len);
	}
}

static inline bool cl_has_event(const struct cl *k, const char *ev)
{
	for (unsigned int i = 0; i < k->nev; i++)
		if (strcmp(k->ev[i], ev) == 0)
			return true;
	return false;
}

static inline void cl_send(struct cl *k, uint32_t type, uint32_t tx,
			   const void *pl, size_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = REQ_ID, .tx_id = tx,
				 .len = (uint32_t)len };
	char *buf = malloc(sizeof(h) + len + 1);

	assert_non_null(buf);
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), pl, len);
	xsv_conn_feed(k->c, buf, sizeof(h) + len);
	free(buf);
}

static inline int errno_of(const char *name)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(xsd_errors[i].errstring, name) == 0)
			return xsd_errors[i].errnum;
	fail_msg("unknown error name \"%s\"", name);
	return -1;
}

/* One request and its reply (watch events before it are recorded).
 * 0 or the errno of an ERROR reply; out (if any) gets the payload. */
static inline int cl_call(struct cl *k, uint32_t type, uint32_t tx,
			  const void *pl, size_t len, char *out, uint32_t *olen)
{
	struct xsd_sockmsg h;
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	cl_send(k, type, tx, pl, len);
	for (;;) {
		assert_true(cl_pop(k, &h, buf));
		if (h.type != XS_WATCH_EVENT)
			break;
		cl_record_event(k, buf, h.len);
	}
	assert_int_equal(h.req_id, REQ_ID);
	assert_int_equal(h.tx_id, tx);
	if (h.type == XS_ERROR) {
		assert_int_equal(buf[h.len - 1], '\0');
		return errno_of(buf);
	}
	assert_int_equal(h.type, type);
	if (out)
		memcpy(out, buf, h.len + 1);
	if (olen)
		*olen = h.len;
	return 0;
}

static inline int cl_call_ok(struct cl *k, uint32_t type, uint32_t tx,
			     const void *pl, size_t len)
{
	char out[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t olen;
	int ret = cl_call(k, type, tx, pl, len, out, &olen);

	if (!ret) {
		assert_int_equal(olen, 3);
		assert_string_equal(out, "OK");
	}
	return ret;
}

/* "a", "b" -> "a\0b\0" (trailing NUL kept unless last is NULL-terminated
 * with keep_last_nul false). */
static inline size_t cl_join(char *buf, size_t cap, bool last_nul, int n, ...)
{
	va_list ap;
	size_t off = 0;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *s = va_arg(ap, const char *);
		size_t l = strlen(s) + ((i < n - 1 || last_nul) ? 1 : 0);

		assert_true(off + l <= cap);
		memcpy(buf + off, s, l);
		off += l;
	}
	va_end(ap);
	return off;
}

static inline int xs_w(struct cl *k, uint32_t tx, const char *path, const char *val)
{
	char buf[8192];
	size_t n = cl_join(buf, sizeof(buf), false, 2, path, val);

	return cl_call_ok(k, XS_WRITE, tx, buf, n);
}

static inline int xs_r(struct cl *k, uint32_t tx, const char *path, char *out)
{
	char tmp[XENSTORE_PAYLOAD_MAX + 1];

	return cl_call(k, XS_READ, tx, path, strlen(path) + 1, out ? out : tmp, NULL);
}

#define XS_ONE(k, type, tx, path) \
	cl_call_ok((k), (type), (tx), (path), strlen(path) + 1)

static inline int xs_setperms(struct cl *k, uint32_t tx, const char *path,
			      const char *perms /* "n1 r2" */)
{
	char buf[1024];
	size_t off = strlen(path) + 1;

	memcpy(buf, path, off);
	for (const char *p = perms; *p;) {
		size_t l = strcspn(p, " ");

		memcpy(buf + off, p, l);
		buf[off + l] = '\0';
		off += l + 1;
		p += l;
		p += *p == ' ';
	}
	return cl_call_ok(k, XS_SET_PERMS, tx, buf, off);
}

/* "n1 r2" form of a node's perms */
static inline int xs_getperms(struct cl *k, uint32_t tx, const char *path, char *out)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t len;
	int ret = cl_call(k, XS_GET_PERMS, tx, path, strlen(path) + 1, buf, &len);

	if (ret)
		return ret;
	assert_true(len > 0 && buf[len - 1] == '\0');
	for (uint32_t i = 0; i + 1 < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	strcpy(out, buf);
	return 0;
}

static inline int xs_watch(struct cl *k, const char *path, const char *token)
{
	char buf[4096];
	size_t n = cl_join(buf, sizeof(buf), true, 2, path, token);

	return cl_call_ok(k, XS_WATCH, 0, buf, n);
}

static inline int xs_unwatch(struct cl *k, const char *path, const char *token)
{
	char buf[4096];
	size_t n = cl_join(buf, sizeof(buf), true, 2, path, token);

	return cl_call_ok(k, XS_UNWATCH, 0, buf, n);
}

static inline int xs_tx_start(struct cl *k, uint32_t *id)
{
	char out[XENSTORE_PAYLOAD_MAX + 1];
	int ret = cl_call(k, XS_TRANSACTION_START, 0, "", 1, out, NULL);

	if (!ret)
		*id = (uint32_t)strtoul(out, NULL, 10);
	return ret;
}

static inline int xs_tx_end(struct cl *k, uint32_t id, bool commit)
{
	return cl_call_ok(k, XS_TRANSACTION_END, id, commit ? "T" : "F", 2);
}

/* children as "a b c" */
static inline int xs_dir(struct cl *k, uint32_t tx, const char *path, char *out)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t len;
	int ret = cl_call(k, XS_DIRECTORY, tx, path, strlen(path) + 1, buf, &len);

	if (ret)
		return ret;
	out[0] = '\0';
	for (uint32_t off = 0; off < len; off += (uint32_t)strlen(buf + off) + 1) {
		if (off)
			strcat(out, " ");
		strcat(out, buf + off);
	}
	return 0;
}

#endif
