// SPDX-License-Identifier: MIT
/*
 * Requests as the store sees them: a caller (domain, privilege) and a view
 * (the store, or a transaction's tree). Path canonicalisation, permission
 * checks with xenstored's "don't reveal what you can't see" errors, node
 * creation with inherited perms and quotas, recursive removal, and the
 * watch events each change causes (held by the transaction until commit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

static const char valid_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/_@";

static struct xsv_node *root_of(const struct xsv_req *r)
{
	return r->tx ? r->tx->root : r->s->root;
}

static unsigned int perm_for(const struct xsv_req *r, const struct xsv_node *n)
{
	return xsv_perm_for(&n->perms, r->domid, r->priv);
}

bool xsv_valid_chars(const char *s)
{
	return strspn(s, valid_chars) == strlen(s);
}

/*
 * A client path to a canonical one: relative paths are below
 * /local/domain/<caller>; only [A-Za-z0-9-/_@]; no "//", no trailing '/';
 * '@' names only where special nodes are allowed. Errors are EINVAL.
 */
int xsv_canonicalize(const struct xsv_req *r, const char *in, bool allow_special,
			char **out)
{
	size_t len, off = 0;
	char *name;
	int n;

	if (!in || !xsv_valid_chars(in))
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
static struct xsv_node *nearest(const struct xsv_req *r, const char *path,
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
static int errno_from_parents(const struct xsv_req *r, const char *path, int err,
			      unsigned int perm)
{
	return (perm_for(r, nearest(r, path, NULL)) & perm) ? err : -EACCES;
}

int xsv_get_node(struct xsv_req *r, const char *path, unsigned int perm,
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

static void changed(struct xsv_req *r, const char *path, bool exact,
		    const struct xsv_perms *perms)
{
	if (r->tx)
		xsv_tx_queue_event(r->tx, path, exact, perms);
	else
		xsv_fire(r->s, path, exact, perms);
}

static int touch(struct xsv_req *r, const char *path, struct xsv_node *n)
{
	int ret = r->tx ? xsv_tx_access(r->tx, path, n, true) : 0;

	n->gen = ++r->s->gen;
	return ret;
}

/* Creates path and its missing parents (empty, with the parent's perms,
 * owned by an unprivileged creator). Needs write access to the closest
 * existing ancestor; counts against the creator's node quota. */
static int create_path(struct xsv_req *r, const char *path, struct xsv_node **out)
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
	if (ret && r->tx)
		r->tx->failed = true;   /* some parents may exist already */
	return ret;
}

int xsv_write_node(struct xsv_req *r, const char *path, const void *val,
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
	if (!r->priv && xsv_node_size(n, vlen, n ? n->perms.num
			: nearest(r, path, NULL)->perms.num) >= r->s->quota.node_size)
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
static int rm_walk(struct xsv_req *r, struct xsv_node *n, const char *path, bool top)
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

int xsv_rm_node(struct xsv_req *r, const char *path)
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
	if (ret) {
		if (r->tx)
			r->tx->failed = true;   /* events queued for a part */
		return ret;
	}
	xsv_node_unlink(n);
	xsv_node_free(n);
	return 0;
}

/* The owner (or the privileged) replaces the list; only the privileged
 * may name a new owner (EPERM). Takes perms over on success. */
int xsv_set_node_perms(struct xsv_req *r, const char *path, struct xsv_perms *perms)
{
	struct xsv_perms old = { 0 };
	struct xsv_node *n;
	int ret = xsv_get_node(r, path, XS_PERM_WRITE | XS_PERM_OWNER, &n);

	if (ret)
		return ret;
	if (!r->priv && perms->p[0].id != n->perms.p[0].id)
		return -EPERM;
	if (!r->priv && xsv_node_size(n, n->len, perms->num) >= r->s->quota.node_size)
		return -ENOSPC;
	if ((ret = xsv_perms_copy(&old, &n->perms)))
		return ret;
	if (path[0] != '@')
		ret = touch(r, path, n);
	if (!ret) {
		xsv_perms_free(&n->perms);
		n->perms = *perms;
		*perms = (struct xsv_perms){ 0 };
		changed(r, path, false, &old);
	}
	xsv_perms_free(&old);
	return ret;
}

/* The server's own writes (domain nodes): privileged, outside any
 * transaction, watches fire. perms: the node's list (NULL: inherited). */
int xsv_write_as(struct xsv_server *s, uint32_t domid, const char *path,
		 const char *value, const struct xsv_perms *perms)
{
	struct xsd_sockmsg h = { .type = XS_WRITE };
	struct xsv_req r = { .s = s, .h = &h, .domid = domid, .priv = true };
	struct xsv_node *n;
	int ret = xsv_write_node(&r, path, value, (uint32_t)strlen(value), false);

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
	struct xsv_req r = { .s = s, .h = &h, .domid = domid, .priv = true };

	return xsv_rm_node(&r, path);
}
