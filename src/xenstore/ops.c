// SPDX-License-Identifier: MIT
/*
 * The request handlers: one per message type, with C xenstored's payload
 * checks, permission rules and error names. Every handler works on a
 * "view": the store itself, or the tree of the transaction named by the
 * request's tx_id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

struct req {
	struct xsv_server *s;
	struct xsv_conn *c;           /* NULL: the server acting for itself */
	const struct xsd_sockmsg *h;
	char *data;                   /* NUL sentinel at data[len] */
	uint32_t len;
	struct xsv_tx *tx;
	uint32_t domid;
	bool priv;
};

static const char valid_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/_@";

static struct xsv_node *root_of(const struct req *r)
{
	return r->tx ? r->tx->root : r->s->root;
}

static unsigned int perm_for(const struct req *r, const struct xsv_node *n)
{
	return xsv_perm_for(&n->perms, r->domid, r->priv);
}

static void reply(struct req *r, const void *data, size_t len)
{
	if (r->c)
		xsv_conn_send(r->c, r->h->type, r->h->req_id, r->h->tx_id,
			      data, len, true);
}

static void reply_ok(struct req *r)
{
	reply(r, "OK", 3);
}

/* NUL-terminated strings in the payload (a trailing unterminated part
 * does not count). */
static unsigned int count_strings(const struct req *r)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < r->len; i++)
		n += r->data[i] == '\0';
	return n;
}

/* The payload is exactly one string, NUL at its end. */
static const char *onearg(const struct req *r)
{
	if (r->len == 0 || memchr(r->data, '\0', r->len) != r->data + r->len - 1)
		return NULL;
	return r->data;
}

/*
 * A client path to a canonical one: relative paths are below
 * /local/domain/<caller>; only [A-Za-z0-9-/_@]; no "//", no trailing '/';
 * '@' names only where special nodes are allowed. Errors are EINVAL.
 */
static int canonicalize(const struct req *r, const char *in, bool allow_special,
			char **out)
{
	size_t len, off = 0;
	char *name;
	int n;

	if (!in || strspn(in, valid_chars) != strlen(in))
		return -EINVAL;
	if (in[0] == '@' && !allow_special)
		return -EINVAL;
	if (in[0] != '/' && in[0] != '@') {
		if (asprintf(&name, "/local/domain/%u/%s", r->domid, in) < 0)
			return -ENOMEM;
	} else {
		name = strdup(in);
		if (!name)
			return -ENOMEM;
	}
	len = strlen(name);
	/* quota: the part below /local/domain/<id>/ */
	if (strncmp(name, "/local/domain/", 14) == 0) {
		const char *d = name + 14;

		n = (int)strspn(d, "0123456789");
		if (n > 0 && n <= 5 && d[n] == '/')
			off = 14 + (size_t)n + 1;
	}
	if ((len > 1 && name[len - 1] == '/' && name[0] != '@') ||
	    strstr(name, "//") || len > XENSTORE_ABS_PATH_MAX ||
	    (name[0] == '@' && len > XENSTORE_REL_PATH_MAX) ||
	    (!r->priv && len - off > r->s->quota.path_len)) {
		free(name);
		return -EINVAL;
	}
	*out = name;
	return 0;
}

static struct xsv_node *special(struct xsv_server *s, const char *path)
{
	if (strcmp(path, "@introduceDomain") == 0)
		return s->special[0];
	if (strcmp(path, "@releaseDomain") == 0)
		return s->special[1];
	return NULL;
}

/* Nearest existing ancestor of path in the view (the root at worst). */
static struct xsv_node *nearest(const struct req *r, const char *path,
				const char **rest)
{
	struct xsv_node *n = root_of(r);
	const char *p = path[0] == '/' ? path + 1 : "";

	while (*p) {
		size_t l = strcspn(p, "/");
		struct xsv_node *c = NULL;

		for (unsigned int i = 0; i < n->nr_child; i++)
			if (!strncmp(n->child[i]->name, p, l) &&
			    n->child[i]->name[l] == '\0')
				c = n->child[i];
		if (!c)
			break;
		n = c;
		p += l;
		if (*p == '/')
			p++;
	}
	if (rest)
		*rest = p;
	return n;
}

/* xenstored does not reveal whether a node exists to a domain that may not
 * see its closest existing ancestor. */
static int errno_from_parents(const struct req *r, const char *path, int err,
			      unsigned int perm)
{
	return (perm_for(r, nearest(r, path, NULL)) & perm) ? err : -EACCES;
}

static int get_node(struct req *r, const char *path, unsigned int perm,
		    struct xsv_node **out)
{
	struct xsv_node *n;
	int ret;

	if (path[0] == '@') {
		n = special(r->s, path);
	} else {
		n = xsv_node_lookup(root_of(r), path);
		if (r->tx && (ret = xsv_tx_access(r->tx, path, n, false)))
			return ret;
	}
	if (!n)
		return errno_from_parents(r, path, -ENOENT, perm);
	if ((perm_for(r, n) & perm) != perm)
		return -EACCES;
	*out = n;
	return 0;
}

static void changed(struct req *r, const char *path, bool exact,
		    const struct xsv_perms *perms)
{
	if (r->tx)
		xsv_tx_queue_event(r->tx, path, exact, perms);
	else
		xsv_fire(r->s, path, exact, perms);
}

static int touch(struct req *r, const char *path, struct xsv_node *n)
{
	int ret = r->tx ? xsv_tx_access(r->tx, path, n, true) : 0;

	n->gen = ++r->s->gen;
	return ret;
}

/* Creates path and its missing parents (empty, with the parent's perms,
 * owned by an unprivileged creator). Needs write access to the closest
 * existing ancestor; counts against the creator's node quota. */
static int create_path(struct req *r, const char *path, struct xsv_node **out)
{
	const char *rest, *p;
	struct xsv_node *n = nearest(r, path, &rest);
	unsigned int missing = 0;
	char *sofar;
	int ret;

	if (!(perm_for(r, n) & XS_PERM_WRITE))
		return -EACCES;
	for (p = rest; *p; p += strcspn(p, "/"), p += *p == '/')
		missing++;
	if (!r->priv &&
	    xsv_count_owned(root_of(r), r->domid) + missing > r->s->quota.nodes)
		return -ENOSPC;
	sofar = rest == path + 1 ? strdup("/")
				 : strndup(path, (size_t)(rest - path - 1));
	if (!sofar)
		return -ENOMEM;
	if (!*rest) {   /* exists already: nothing to create */
		free(sofar);
		*out = n;
		return 0;
	}
	ret = touch(r, sofar, n);
	for (p = rest; *p && !ret;) {
		size_t l = strcspn(p, "/");
		struct xsv_node *c = xsv_node_new(p, l);
		char *next;

		if (!c || xsv_perms_copy(&c->perms, &n->perms) ||
		    (next = xsv_path_join(sofar, c->name)) == NULL) {
			xsv_node_free(c);
			ret = -ENOMEM;
			break;
		}
		free(sofar);
		sofar = next;
		if (!r->priv)
			c->perms.p[0].id = r->domid;
		if ((ret = xsv_node_add_child(n, c))) {
			xsv_node_free(c);
			break;
		}
		n->gen = ++r->s->gen;
		if (r->tx)
			ret = xsv_tx_access(r->tx, sofar, NULL, true);
		c->gen = ++r->s->gen;
		n = c;
		p += l;
		p += *p == '/';
	}
	free(sofar);
	*out = n;
	return ret;
}

static int write_node(struct req *r, const char *path, const void *val,
		      uint32_t vlen, bool mkdir)
{
	struct xsv_node *n = xsv_node_lookup(root_of(r), path);
	int ret;

	if (n) {
		if (!(perm_for(r, n) & XS_PERM_WRITE))
			return -EACCES;
		if (mkdir)
			return 0;
	} else if ((ret = errno_from_parents(r, path, -ENOENT, XS_PERM_WRITE)) !=
		   -ENOENT) {
		return ret;
	}
	if (!r->priv && vlen > r->s->quota.node_size)
		return -ENOSPC;
	if (n)
		ret = touch(r, path, n);
	else
		ret = create_path(r, path, &n);
	if (ret)
		return ret;
	if (!mkdir && (ret = xsv_node_set_value(n, val, vlen)))
		return ret;
	changed(r, path, false, &n->perms);
	return 0;
}

/* Children first, each event while the node can still be seen. */
static int rm_walk(struct req *r, struct xsv_node *n, const char *path, bool top)
{
	int ret = 0;

	for (unsigned int i = 0; i < n->nr_child && !ret; i++) {
		char *cp = xsv_path_join(path, n->child[i]->name);

		if (!cp)
			return -ENOMEM;
		ret = rm_walk(r, n->child[i], cp, false);
		free(cp);
	}
	if (!ret && r->tx)
		ret = xsv_tx_access(r->tx, path, n, true);
	if (!ret)
		changed(r, path, !top, &n->perms);
	return ret;
}

static int rm_node(struct req *r, const char *path)
{
	struct xsv_node *n = xsv_node_lookup(root_of(r), path), *parent;
	char *pp;
	int ret;

	if (!n) {
		ret = errno_from_parents(r, path, -ENOENT, XS_PERM_WRITE);
		if (ret != -ENOENT)
			return ret;
		pp = xsv_path_parent(path);
		if (!pp)
			return -ENOMEM;
		ret = xsv_node_lookup(root_of(r), pp) ? 0 : -ENOENT;
		free(pp);
		return ret;
	}
	if (!(perm_for(r, n) & XS_PERM_WRITE))
		return -EACCES;
	if (!n->parent)
		return -EINVAL;   /* "/" */
	pp = xsv_path_parent(path);
	if (!pp)
		return -ENOMEM;
	parent = n->parent;
	ret = touch(r, pp, parent);
	free(pp);
	if (!ret)
		ret = rm_walk(r, n, path, true);
	if (ret)
		return ret;
	xsv_node_unlink(n);
	xsv_node_free(n);
	return 0;
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

static int do_read(struct req *r)
{
	struct xsv_node *n;
	char *path;
	int ret = canonicalize(r, onearg(r), false, &path);

	if (ret)
		return ret;
	ret = get_node(r, path, XS_PERM_READ, &n);
	if (!ret)
		reply(r, n->value, n->len);
	free(path);
	return ret;
}

static int do_write(struct req *r)
{
	const char *nul = memchr(r->data, '\0', r->len);
	char *path;
	int ret;

	if (!nul)
		return -EINVAL;
	ret = canonicalize(r, r->data, false, &path);
	if (ret)
		return ret;
	ret = write_node(r, path, nul + 1, r->len - (uint32_t)(nul + 1 - r->data),
			 false);
	if (!ret)
		reply_ok(r);
	free(path);
	return ret;
}

static int do_mkdir(struct req *r)
{
	char *path;
	int ret = canonicalize(r, onearg(r), false, &path);

	if (ret)
		return ret;
	ret = write_node(r, path, NULL, 0, true);
	if (!ret)
		reply_ok(r);
	free(path);
	return ret;
}

static int do_rm(struct req *r)
{
	char *path;
	int ret = canonicalize(r, onearg(r), false, &path);

	if (ret)
		return ret;
	ret = rm_node(r, path);
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

static int do_directory(struct req *r)
{
	struct xsv_node *n;
	char *path, *list;
	size_t len;
	int ret = canonicalize(r, onearg(r), false, &path);

	if (ret)
		return ret;
	ret = get_node(r, path, XS_PERM_READ, &n);
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
static int do_directory_part(struct req *r)
{
	char gen[24], *path, *list, *out;
	size_t len, genlen, off, part = 0, max;
	struct xsv_node *n;
	int ret;

	if (count_strings(r) != 2)
		return -EINVAL;
	ret = canonicalize(r, r->data, false, &path);
	if (ret)
		return ret;
	ret = get_node(r, path, XS_PERM_READ, &n);
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

static int do_get_perms(struct req *r)
{
	char buf[XENSTORE_PAYLOAD_MAX], *path;
	struct xsv_node *n;
	int ret = canonicalize(r, onearg(r), true, &path);

	if (ret)
		return ret;
	ret = get_node(r, path, XS_PERM_READ, &n);
	free(path);
	if (ret)
		return ret;
	reply(r, buf, xsv_perms_format(&n->perms, buf, sizeof(buf)));
	return 0;
}

static int do_set_perms(struct req *r)
{
	unsigned int num = count_strings(r);
	struct xsv_perms perms = { 0 }, old = { 0 };
	struct xsv_node *n;
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
	ret = canonicalize(r, r->data, true, &path);
	if (ret)
		goto out;
	ret = get_node(r, path, XS_PERM_WRITE | XS_PERM_OWNER, &n);
	if (ret)
		goto out;
	if (!r->priv && perms.p[0].id != n->perms.p[0].id) {
		ret = -EPERM;
		goto out;
	}
	if ((ret = xsv_perms_copy(&old, &n->perms)))
		goto out;
	if (path[0] != '@' && (ret = touch(r, path, n)))
		goto out;
	xsv_perms_free(&n->perms);
	n->perms = perms;
	perms.p = NULL;
	changed(r, path, false, &old);
	reply_ok(r);
out:
	xsv_perms_free(&old);
	xsv_perms_free(&perms);
	free(path);
	return ret;
}

static int do_watch(struct req *r)
{
	struct xsv_watch w = { 0 };
	char *path;
	int ret;

	if (count_strings(r) < 2)
		return -EINVAL;
	if (r->data[0] == '@') {
		if (strspn(r->data, valid_chars) != strlen(r->data) ||
		    strlen(r->data) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		path = strdup(r->data);
		if (!path)
			return -ENOMEM;
	} else if ((ret = canonicalize(r, r->data, false, &path))) {
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

static int do_unwatch(struct req *r)
{
	char *path;
	int ret;

	if (count_strings(r) < 2)
		return -EINVAL;
	ret = canonicalize(r, r->data, true, &path);
	if (ret)
		return ret;
	ret = xsv_watch_del(r->c, path, r->data + strlen(r->data) + 1);
	if (!ret)
		reply_ok(r);
	free(path);
	return ret;
}

static int do_transaction_start(struct req *r)
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

static int do_transaction_end(struct req *r)
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

static int do_get_domain_path(struct req *r)
{
	char buf[32];
	uint32_t domid;
	int ret = parse_domid(onearg(r), &domid);

	if (ret)
		return ret;
	reply(r, buf, (size_t)snprintf(buf, sizeof(buf), "/local/domain/%u", domid) + 1);
	return 0;
}

static int do_is_domain_introduced(struct req *r)
{
	uint32_t domid;
	int ret = parse_domid(onearg(r), &domid);

	if (ret)
		return ret;
	reply(r, xsv_domain_find(r->s, domid) ? "T" : "F", 2);
	return 0;
}

/* No rings here: INTRODUCE declares the domain as the daemon would. */
static int do_introduce(struct req *r)
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

static int do_release(struct req *r)
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

static int do_resume(struct req *r)
{
	uint32_t domid;
	int ret = parse_domid(onearg(r), &domid);

	if (!ret && !xsv_domain_find(r->s, domid))
		ret = -ENOENT;
	if (!ret)
		reply_ok(r);
	return ret;
}

static int do_reset_watches(struct req *r)
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
	int (*fn)(struct req *r);
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
	struct req r = {
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

/* The server's own writes (domain nodes): privileged, outside any
 * transaction, watches fire. perms: the node's list (NULL: inherited). */
int xsv_write_as(struct xsv_server *s, uint32_t domid, const char *path,
		 const char *value, const struct xsv_perms *perms)
{
	struct xsd_sockmsg h = { .type = XS_WRITE };
	struct req r = { .s = s, .h = &h, .domid = domid, .priv = true };
	struct xsv_node *n;
	int ret = write_node(&r, path, value, (uint32_t)strlen(value), false);

	if (ret || !perms)
		return ret;
	n = xsv_node_lookup(s->root, path);
	if (!n)
		return -ENOENT;
	ret = xsv_perms_copy(&n->perms, perms);
	n->gen = ++s->gen;
	return ret;
}

int xsv_rm_as(struct xsv_server *s, uint32_t domid, const char *path)
{
	struct xsd_sockmsg h = { .type = XS_RM };
	struct req r = { .s = s, .h = &h, .domid = domid, .priv = true };

	return rm_node(&r, path);
}
