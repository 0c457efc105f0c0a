// SPDX-License-Identifier: MIT
/*
 * The server's state: the initial store, the table of known domains and
 * what happens when a domain appears (its home directory, @introduceDomain)
 * or goes (its nodes, perms, watches and transactions, @releaseDomain).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

void xsv_log(const struct xsv_server *s, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > s->verbose)
		return;
	va_start(ap, fmt);
	fputs("xgnt-xenstored: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void xsv_quota_defaults(struct xsv_quota *q)
{
	*q = (struct xsv_quota){
		.nodes = 1000, .watches = 128, .transactions = 10,
		.node_size = 2048, .outstanding = 20, .perms = 5, .path_len = 2048,
		.trans_nodes = 1024,
	};
}

static struct xsv_node *mknode(struct xsv_server *s, struct xsv_node *parent,
			       const char *name)
{
	struct xsv_node *n = xsv_node_new(name, strlen(name));

	if (!n)
		return NULL;
	if (xsv_perms_set1(&n->perms, 0, XS_PERM_NONE) ||
	    (parent && xsv_node_add_child(parent, n))) {
		xsv_node_free(n);
		return NULL;
	}
	n->gen = ++s->gen;
	return n;
}

/* The store C xenstored starts with, plus dom0's home as xl would write it. */
int xsv_server_init(struct xsv_server *s)
{
	struct xsv_node *local, *tool;

	memset(s, 0, sizeof(*s));
	xsv_quota_defaults(&s->quota);
	s->out_limit = XSV_OUT_LIMIT;
	s->next_txid = 1;
	s->root = mknode(s, NULL, "");
	s->special[0] = mknode(s, NULL, "@introduceDomain");
	s->special[1] = mknode(s, NULL, "@releaseDomain");
	if (!s->root || !s->special[0] || !s->special[1])
		goto nomem;
	tool = mknode(s, s->root, "tool");
	if (!tool || !mknode(s, tool, "xenstored"))
		goto nomem;
	local = mknode(s, s->root, "local");
	if (!local || !mknode(s, local, "domain"))
		goto nomem;
	if (xsv_domain_add(s, 0, true) ||
	    xsv_write_as(s, 0, "/local/domain/0/name", "Domain-0", NULL))
		goto nomem;
	return 0;
nomem:
	xsv_server_fini(s);
	return -ENOMEM;
}

void xsv_server_fini(struct xsv_server *s)
{
	while (s->conns)
		xsv_conn_free(s->conns);
	xsv_node_free(s->root);
	xsv_node_free(s->special[0]);
	xsv_node_free(s->special[1]);
	free(s->doms);
	memset(s, 0, sizeof(*s));
}

struct xsv_domain *xsv_domain_find(struct xsv_server *s, uint32_t domid)
{
	for (unsigned int i = 0; i < s->nr_doms; i++)
		if (s->doms[i].domid == domid)
			return &s->doms[i];
	return NULL;
}

bool xsv_domid_priv(const struct xsv_server *s, uint32_t domid)
{
	if (domid == 0)
		return true;
	for (unsigned int i = 0; i < s->nr_doms; i++)
		if (s->doms[i].domid == domid)
			return s->doms[i].privileged;
	return false;
}

/* A new domain gets /local/domain/<id> and .../domid, owned by itself
 * (dom0, being privileged, reads them anyway), then @introduceDomain. */
int xsv_domain_add(struct xsv_server *s, uint32_t domid, bool privileged)
{
	struct xsv_domain *d = xsv_domain_find(s, domid);
	struct xsv_perms perms = { 0 };
	char path[48], val[16];
	int ret;

	if (d) {
		d->privileged = privileged || domid == 0;
		d->listed = true;
		return 0;
	}
	if (s->nr_doms == s->cap_doms) {
		unsigned int cap = s->cap_doms ? s->cap_doms * 2 : 8;

		d = realloc(s->doms, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		s->doms = d;
		s->cap_doms = cap;
	}
	s->doms[s->nr_doms++] = (struct xsv_domain){
		.domid = domid, .privileged = privileged || domid == 0, .listed = true,
	};
	ret = xsv_perms_set1(&perms, domid, XS_PERM_NONE);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	if (!ret)
		ret = xsv_write_as(s, 0, path, "", &perms);
	snprintf(path, sizeof(path), "/local/domain/%u/domid", domid);
	snprintf(val, sizeof(val), "%u", domid);
	if (!ret)
		ret = xsv_write_as(s, 0, path, val, &perms);
	xsv_perms_free(&perms);
	xsv_log(s, 1, "domain %u introduced%s", domid, privileged ? " (privileged)" : "");
	xsv_fire(s, "@introduceDomain", false, NULL);
	return ret;
}

static struct xsv_node *find_owned(struct xsv_node *n, uint32_t domid)
{
	if (n->parent && n->perms.p[0].id == domid)
		return n;
	for (unsigned int i = 0; i < n->nr_child; i++) {
		struct xsv_node *f = find_owned(n->child[i], domid);
		if (f)
			return f;
	}
	return NULL;
}

/* Entries naming a dead domain must not pass to a later domain that
 * reuses its id (XSA-322); owned nodes are removed instead, but for the
 * root, which cannot be: dom0 takes it over. */
static void strip_perms(struct xsv_node *n, uint32_t domid)
{
	unsigned int j = 1;

	if (n->perms.p[0].id == domid)
		n->perms.p[0].id = 0;

	for (unsigned int i = 1; i < n->perms.num; i++)
		if (n->perms.p[i].id != domid)
			n->perms.p[j++] = n->perms.p[i];
	n->perms.num = j;
	for (unsigned int i = 0; i < n->nr_child; i++)
		strip_perms(n->child[i], domid);
}

int xsv_domain_remove(struct xsv_server *s, uint32_t domid)
{
	struct xsv_domain *d = xsv_domain_find(s, domid);
	struct xsv_node *n;
	char path[48];

	if (!d || domid == 0)
		return d ? -EINVAL : -ENOENT;
	*d = s->doms[--s->nr_doms];
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xsv_rm_as(s, 0, path);
	while ((n = find_owned(s->root, domid))) {
		char *p = xsv_node_path(n);

		if (!p || xsv_rm_as(s, 0, p)) {
			free(p);
			break;
		}
		free(p);
	}
	strip_perms(s->root, domid);
	for (struct xsv_conn *c = s->conns; c; c = c->next) {
		if (c->domid == domid) {
			xsv_watch_clear(c);
			xsv_tx_clear(c);
		}
	}
	xsv_log(s, 1, "domain %u released", domid);
	xsv_fire(s, "@releaseDomain", false, NULL);
	return 0;
}

void xsv_domains_unlist(struct xsv_server *s)
{
	for (unsigned int i = 0; i < s->nr_doms; i++)
		s->doms[i].listed = false;
}

void xsv_domains_release_unlisted(struct xsv_server *s)
{
	unsigned int i = 0;

	/* xsv_domain_remove moves the last entry into the hole: look again */
	while (i < s->nr_doms) {
		if (s->doms[i].listed || s->doms[i].domid == 0 ||
		    xsv_domain_remove(s, s->doms[i].domid))
			i++;
	}
}
