// SPDX-License-Identifier: MIT
/*
 * Watches: a (path, token) pair per registration; an event fires for a
 * change of the path or anything below it, on every connection whose
 * domain may read the node (or its parent, or the node before a
 * permission change), as C xenstored decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

static bool is_special(const char *path)
{
	return path[0] == '@';
}

static const struct xsv_perms *special_perms(struct xsv_server *s,
					     const char *path)
{
	if (strcmp(path, "@introduceDomain") == 0)
		return &s->special[0]->perms;
	if (strcmp(path, "@releaseDomain") == 0)
		return &s->special[1]->perms;
	return NULL;
}

static bool readable(struct xsv_conn *c, const struct xsv_perms *p)
{
	return p && p->num &&
	       (xsv_perm_for(p, c->domid, xsv_domid_priv(c->srv, c->domid)) &
		XS_PERM_READ);
}

static bool permitted(struct xsv_conn *c, const char *path,
		      const struct xsv_perms *perms)
{
	struct xsv_server *s = c->srv;
	struct xsv_node *n;
	char *parent;
	bool ok;

	if (xsv_domid_priv(s, c->domid))
		return true;
	if (is_special(path))
		return readable(c, special_perms(s, path));
	if (readable(c, perms))
		return true;
	n = xsv_node_lookup(s->root, path);
	if (n && readable(c, &n->perms))
		return true;
	parent = xsv_path_parent(path);
	if (!parent)
		return false;
	n = xsv_node_lookup(s->root, parent);
	ok = n && readable(c, &n->perms);
	free(parent);
	return ok;
}

/* The event path: relative watches see paths relative to their domain. */
void xsv_watch_event(struct xsv_conn *c, const struct xsv_watch *w,
		     const char *path)
{
	char prefix[32], buf[XENSTORE_PAYLOAD_MAX];
	size_t plen, tlen;

	if (w->relative) {
		size_t l = (size_t)snprintf(prefix, sizeof(prefix),
					    "/local/domain/%u", c->domid);

		if (strncmp(path, prefix, l) == 0) {
			path += l;
			if (*path == '/')
				path++;
		}
	}
	plen = strlen(path) + 1;
	tlen = strlen(w->token) + 1;
	if (plen + tlen > sizeof(buf)) {
		xsv_log(c->srv, 1, "dom%u: watch event for %s too long, dropped",
			c->domid, path);
		return;
	}
	memcpy(buf, path, plen);
	memcpy(buf + plen, w->token, tlen);
	xsv_conn_send(c, XS_WATCH_EVENT, 0, 0, buf, plen + tlen, false);
}

void xsv_fire(struct xsv_server *s, const char *path, bool exact,
	      const struct xsv_perms *perms)
{
	for (struct xsv_conn *c = s->conns; c; c = c->next) {
		bool checked = false, ok = false;

		for (struct xsv_watch *w = c->watches; w; w = w->next) {
			bool match = exact ? strcmp(path, w->path) == 0
					   : xsv_is_child(path, w->path);

			if (!match)
				continue;
			if (!checked) {
				ok = permitted(c, path, perms);
				checked = true;
			}
			if (ok)
				xsv_watch_event(c, w, path);
		}
	}
}

int xsv_watch_add(struct xsv_conn *c, const char *path, const char *token,
		  bool relative)
{
	struct xsv_watch *w, **tail;

	for (tail = &c->watches; *tail; tail = &(*tail)->next)
		if (!strcmp((*tail)->path, path) && !strcmp((*tail)->token, token))
			return -EEXIST;
	if (!xsv_domid_priv(c->srv, c->domid) &&
	    xsv_watch_count_domain(c->srv, c->domid) >= c->srv->quota.watches)
		return -E2BIG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->path = strdup(path);
	w->token = strdup(token);
	if (!w->path || !w->token) {
		free(w->path);
		free(w->token);
		free(w);
		return -ENOMEM;
	}
	w->relative = relative;
	*tail = w;
	return 0;
}

int xsv_watch_del(struct xsv_conn *c, const char *path, const char *token)
{
	for (struct xsv_watch **pp = &c->watches; *pp; pp = &(*pp)->next) {
		struct xsv_watch *w = *pp;

		if (!strcmp(w->path, path) && !strcmp(w->token, token)) {
			*pp = w->next;
			free(w->path);
			free(w->token);
			free(w);
			return 0;
		}
	}
	return -ENOENT;
}

void xsv_watch_clear(struct xsv_conn *c)
{
	struct xsv_watch *w;

	while ((w = c->watches)) {
		c->watches = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
}

/* Watches count against the domain, across all its connections. */
unsigned int xsv_watch_count_domain(const struct xsv_server *s, uint32_t domid)
{
	unsigned int n = 0;

	for (const struct xsv_conn *c = s->conns; c; c = c->next)
		if (c->domid == domid)
			for (const struct xsv_watch *w = c->watches; w; w = w->next)
				n++;
	return n;
}
