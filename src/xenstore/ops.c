// SPDX-License-Identifier: MIT
/*
 * The request handlers: one per message type, with C xenstored's payload
 * checks and error names, and the dispatcher that picks them. The store
 * side of each request (paths, perms, changes) is in view.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

static void reply(struct xsv_req *r, const void *data, size_t len)
{
	if (r->c)
		xsv_conn_send(r->c, r->h->type, r->h->req_id, r->h->tx_id,
			      data, len, true);
}

static void reply_ok(struct xsv_req *r)
{
	reply(r, "OK", 3);
}

/* NUL-terminated strings in the payload (a trailing unterminated part
 * does not count). */
static unsigned int count_strings(const struct xsv_req *r)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < r->len; i++)
		n += r->data[i] == '\0';
	return n;
}

/* The payload is exactly one string, NUL at its end. */
static const char *onearg(const struct xsv_req *r)
{
	if (r->len == 0 || memchr(r->data, '\0', r->len) != r->data + r->len - 1)
		return NULL;
	return r->data;
}

static int parse_domid(const char *s, uint32_t *out)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 0xFFFF)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* --- handlers: 0 (replied) or -errno --- */

static int do_read(struct xsv_req *r)
{
	struct xsv_node *n;
	char *path;
	int ret = xsv_canonicalize(r, onearg(r), false, &path);

	if (ret)
		return ret;
	ret = xsv_get_node(r, path, XS_PERM_READ, &n);
	if (!ret)
		reply(r, n->value, n->len);
	free(path);
	return ret;
}

static int do_write(struct xsv_req *r)
{
	const char *nul = memchr(r->data, '\0', r->len);
	char *path;
	int ret;

	if (!nul)
		return -EINVAL;
	ret = xsv_canonicalize(r, r->data, false, &path);
	if (ret)
		return ret;
	ret = xsv_write_node(r, path, nul + 1, r->len - (uint32_t)(nul + 1 - r->data),
			 false);
	if (!ret)
		reply_ok(r);
	free(path);
	return ret;
}

static int do_mkdir(struct xsv_req *r)
{
	char *path;
	int ret = xsv_canonicalize(r, onearg(r), false, &path);

	if (ret)
		return ret;
	ret = xsv_write_node(r, path, NULL, 0, true);
	if (!ret)
		reply_ok(r);
	free(path);
	return ret;
}

static int do_rm(struct xsv_req *r)
{
	char *path;
	int ret = xsv_canonicalize(r, onearg(r), false, &path);

	if (ret)
		return ret;
	ret = xsv_rm_node(r, path);
	if (!ret)
		reply_ok(r);
	free(path);
	return ret;
}

static char *children(const struct xsv_node *n, size_t *len)
{
	size_t l = 0;
	char *buf, *p;

	for (unsigned int i = 0; i < n->nr_child; i++)
		l += strlen(n->child[i]->name) + 1;
	buf = malloc(l + 1);
	if (!buf)
		return NULL;
	p = buf;
	for (unsigned int i = 0; i < n->nr_child; i++) {
		size_t cl = strlen(n->child[i]->name) + 1;

		memcpy(p, n->child[i]->name, cl);
		p += cl;
	}
	*len = l;
	return buf;
}

static int do_directory(struct xsv_req *r)
{
	struct xsv_node *n;
	char *path, *list;
	size_t len;
	int ret = xsv_canonicalize(r, onearg(r), false, &path);

	if (ret)
		return ret;
	ret = xsv_get_node(r, path, XS_PERM_READ, &n);
	free(path);
	if (ret)
		return ret;
	list = children(n, &len);
	if (!list)
		return -ENOMEM;
	if (len > XENSTORE_PAYLOAD_MAX)
		ret = -E2BIG;   /* the client falls back to DIRECTORY_PART */
	else
		reply(r, list, len);
	free(list);
	return ret;
}

/* <path>|<offset>| -> <generation>|<child>|...  plus an empty string when
 * the list ends in this part. */
static int do_directory_part(struct xsv_req *r)
{
	char gen[24], *path, *list, *out;
	size_t len, genlen, off, part = 0, max;
	struct xsv_node *n;
	int ret;

	if (count_strings(r) != 2)
		return -EINVAL;
	ret = xsv_canonicalize(r, r->data, false, &path);
	if (ret)
		return ret;
	ret = xsv_get_node(r, path, XS_PERM_READ, &n);
	free(path);
	if (ret)
		return ret;
	off = strtoul(r->data + strlen(r->data) + 1, NULL, 10);
	genlen = (size_t)snprintf(gen, sizeof(gen), "%llu",
				  (unsigned long long)n->gen) + 1;
	list = children(n, &len);
	if (!list)
		return -ENOMEM;
	out = malloc(XENSTORE_PAYLOAD_MAX + 1);
	if (!out) {
		free(list);
		return -ENOMEM;
	}
	memcpy(out, gen, genlen);
	max = XENSTORE_PAYLOAD_MAX - genlen - 1;
	if (off < len) {
		while (off + part < len) {
			size_t cl = strlen(list + off + part) + 1;

			if (part + cl > max)
				break;
			part += cl;
		}
		memcpy(out + genlen, list + off, part);
	}
	if (off >= len || off + part == len)
		out[genlen + part++] = '\0';
	reply(r, out, genlen + part);
	free(out);
	free(list);
	return 0;
}

static int do_get_perms(struct xsv_req *r)
{
	char buf[XENSTORE_PAYLOAD_MAX], *path;
	struct xsv_node *n;
	int ret = xsv_canonicalize(r, onearg(r), true, &path);

	if (ret)
		return ret;
	ret = xsv_get_node(r, path, XS_PERM_READ, &n);
	free(path);
	if (ret)
		return ret;
	reply(r, buf, xsv_perms_format(&n->perms, buf, sizeof(buf)));
	return 0;
}

static int do_set_perms(struct xsv_req *r)
{
	unsigned int num = count_strings(r);
	struct xsv_perms perms = { 0 };
	size_t plen;
	char *path = NULL;
	int ret;

	if (num < 2 || r->data[r->len - 1] != '\0')
		return -EINVAL;
	num--;
	if (!r->priv && num > r->s->quota.perms)
		return -ENOSPC;
	plen = strlen(r->data) + 1;
	ret = xsv_perms_parse(&perms, r->data + plen, r->len - plen, num);
	if (ret)
		return ret;
	ret = xsv_canonicalize(r, r->data, true, &path);
	if (!ret)
		ret = xsv_set_node_perms(r, path, &perms);
	if (!ret)
		reply_ok(r);
	xsv_perms_free(&perms);
	free(path);
	return ret;
}

static int do_watch(struct xsv_req *r)
{
	struct xsv_watch w = { 0 };
	char *path;
	int ret;

	if (count_strings(r) < 2)
		return -EINVAL;
	if (r->data[0] == '@') {
		if (!xsv_valid_chars(r->data) ||
		    strlen(r->data) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		path = strdup(r->data);
		if (!path)
			return -ENOMEM;
	} else if ((ret = xsv_canonicalize(r, r->data, false, &path))) {
		return ret;
	}
	w.path = path;
	w.token = r->data + strlen(r->data) + 1;
	w.relative = r->data[0] != '/' && r->data[0] != '@';
	ret = xsv_watch_add(r->c, w.path, w.token, w.relative);
	if (!ret) {
		reply_ok(r);
		xsv_watch_event(r->c, &w, w.path);   /* "fire once up front" */
	}
	free(path);
	return ret;
}

static int do_unwatch(struct xsv_req *r)
{
	char *path;
	int ret;

	if (count_strings(r) < 2)
		return -EINVAL;
	ret = xsv_canonicalize(r, r->data, true, &path);
	if (ret)
		return ret;
	ret = xsv_watch_del(r->c, path, r->data + strlen(r->data) + 1);
	if (!ret)
		reply_ok(r);
	free(path);
	return ret;
}

static int do_transaction_start(struct xsv_req *r)
{
	struct xsv_tx *tx;
	char buf[16];

	if (r->tx)
		return -EBUSY;
	if (!r->priv && r->c->nr_tx >= r->s->quota.transactions)
		return -ENOSPC;
	tx = xsv_tx_start(r->c);
	if (!tx)
		return -ENOMEM;
	reply(r, buf, (size_t)snprintf(buf, sizeof(buf), "%u", tx->id) + 1);
	return 0;
}

static int do_transaction_end(struct xsv_req *r)
{
	const char *arg = onearg(r);
	int ret;

	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return -EINVAL;
	if (!r->tx)
		return -ENOENT;
	ret = xsv_tx_end(r->c, r->tx, arg[0] == 'T');
	r->tx = NULL;
	if (!ret)
		reply_ok(r);
	return ret;
}

static int do_get_domain_path(struct xsv_req *r)
{
	char buf[32];
	uint32_t domid;
	int ret = parse_domid(onearg(r), &domid);

	if (ret)
		return ret;
	reply(r, buf, (size_t)snprintf(buf, sizeof(buf), "/local/domain/%u", domid) + 1);
	return 0;
}

static int do_is_domain_introduced(struct xsv_req *r)
{
	uint32_t domid;
	int ret = parse_domid(onearg(r), &domid);

	if (ret)
		return ret;
	reply(r, xsv_domain_find(r->s, domid) ? "T" : "F", 2);
	return 0;
}

/* No rings here: INTRODUCE declares the domain as the daemon would. */
static int do_introduce(struct xsv_req *r)
{
	uint32_t domid;
	int ret;

	if (count_strings(r) < 3)
		return -EINVAL;
	ret = parse_domid(r->data, &domid);
	if (!ret && domid > XSV_DOMID_MAX)
		ret = -EINVAL;
	if (!ret)
		ret = xsv_domain_add(r->s, domid, false);
	if (!ret)
		reply_ok(r);
	return ret;
}

static int do_release(struct xsv_req *r)
{
	uint32_t domid;
	int ret = parse_domid(onearg(r), &domid);

	if (!ret && domid == 0)
		ret = -EINVAL;
	if (!ret)
		ret = xsv_domain_remove(r->s, domid);
	if (!ret)
		reply_ok(r);
	return ret;
}

static int do_resume(struct xsv_req *r)
{
	uint32_t domid;
	int ret = parse_domid(onearg(r), &domid);

	if (!ret && !xsv_domain_find(r->s, domid))
		ret = -ENOENT;
	if (!ret)
		reply_ok(r);
	return ret;
}

static int do_reset_watches(struct xsv_req *r)
{
	xsv_watch_clear(r->c);
	xsv_tx_clear(r->c);
	r->tx = NULL;
	reply_ok(r);
	return 0;
}

#define F_NOTID 1u   /* ignores tx_id */
#define F_PRIV  2u   /* privileged domains only: EACCES */

static const struct {
	int (*fn)(struct xsv_req *r);
	unsigned int flags;
} handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL]              = { NULL, F_PRIV },
	[XS_DIRECTORY]            = { do_directory, 0 },
	[XS_READ]                 = { do_read, 0 },
	[XS_GET_PERMS]            = { do_get_perms, 0 },
	[XS_WATCH]                = { do_watch, F_NOTID },
	[XS_UNWATCH]              = { do_unwatch, F_NOTID },
	[XS_TRANSACTION_START]    = { do_transaction_start, 0 },
	[XS_TRANSACTION_END]      = { do_transaction_end, 0 },
	[XS_INTRODUCE]            = { do_introduce, F_PRIV },
	[XS_RELEASE]              = { do_release, F_PRIV },
	[XS_GET_DOMAIN_PATH]      = { do_get_domain_path, 0 },
	[XS_WRITE]                = { do_write, 0 },
	[XS_MKDIR]                = { do_mkdir, 0 },
	[XS_RM]                   = { do_rm, 0 },
	[XS_SET_PERMS]            = { do_set_perms, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, F_PRIV },
	[XS_RESUME]               = { do_resume, F_PRIV },
	[XS_SET_TARGET]           = { NULL, F_PRIV },
	[XS_RESET_WATCHES]        = { do_reset_watches, 0 },
	[XS_DIRECTORY_PART]       = { do_directory_part, 0 },
};

void xsv_dispatch(struct xsv_conn *c, const struct xsd_sockmsg *hdr, char *payload)
{
	struct xsv_req r = {
		.s = c->srv, .c = c, .h = hdr, .data = payload, .len = hdr->len,
		.domid = c->domid, .priv = xsv_domid_priv(c->srv, c->domid),
	};
	unsigned int flags = hdr->type < XS_TYPE_COUNT ? handlers[hdr->type].flags : 0;
	int ret;

	xsv_log(c->srv, 2, "dom%u: type %u req %u tx %u len %u", c->domid,
		hdr->type, hdr->req_id, hdr->tx_id, hdr->len);
	if ((flags & F_PRIV) && !r.priv) {
		ret = -EACCES;
	} else if (hdr->type >= XS_TYPE_COUNT || !handlers[hdr->type].fn) {
		ret = -ENOSYS;
	} else if (!(flags & F_NOTID) && hdr->tx_id &&
		   !(r.tx = xsv_tx_find(c, hdr->tx_id))) {
		ret = -ENOENT;
	} else {
		ret = handlers[hdr->type].fn(&r);
	}
	if (ret)
		xsv_conn_error(c, hdr, -ret);
}
