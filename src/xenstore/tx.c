// SPDX-License-Identifier: MIT
/*
 * Transactions. Each works on its own copy of the tree taken at start and
 * records every node it sees with that node's generation. Commit succeeds
 * only if none of those nodes changed in the store meanwhile (EAGAIN
 * otherwise, as C xenstored's generation check); then the nodes it
 * modified are copied into the store, and the watch events it queued fire.
 */
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

static uint32_t next_id(struct xsv_server *s)
{
	for (;;) {
		uint32_t id = s->next_txid++;
		bool used = false;

		if (id == 0)
			continue;
		for (struct xsv_conn *c = s->conns; c && !used; c = c->next)
			used = xsv_tx_find(c, id) != NULL;
		if (!used)
			return id;
	}
}

struct xsv_tx *xsv_tx_start(struct xsv_conn *c)
{
	struct xsv_tx *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	tx->root = xsv_tree_clone(c->srv->root);
	if (!tx->root) {
		free(tx);
		return NULL;
	}
	tx->id = next_id(c->srv);
	if (!xsv_domid_priv(c->srv, c->domid))
		tx->max_acc = c->srv->quota.trans_nodes;
	tx->next = c->txs;
	c->txs = tx;
	c->nr_tx++;
	return tx;
}

struct xsv_tx *xsv_tx_find(struct xsv_conn *c, uint32_t id)
{
	for (struct xsv_tx *tx = c->txs; tx; tx = tx->next)
		if (tx->id == id)
			return tx;
	return NULL;
}

static void tx_free(struct xsv_tx *tx)
{
	for (unsigned int i = 0; i < tx->nr_acc; i++)
		free(tx->acc[i].path);
	for (unsigned int i = 0; i < tx->nr_ev; i++) {
		free(tx->ev[i].path);
		xsv_perms_free(&tx->ev[i].perms);
	}
	free(tx->acc);
	free(tx->ev);
	xsv_node_free(tx->root);
	free(tx);
}

static void tx_unlink(struct xsv_conn *c, struct xsv_tx *tx)
{
	for (struct xsv_tx **pp = &c->txs; *pp; pp = &(*pp)->next) {
		if (*pp == tx) {
			*pp = tx->next;
			c->nr_tx--;
			return;
		}
	}
}

void xsv_tx_clear(struct xsv_conn *c)
{
	struct xsv_tx *tx;

	while ((tx = c->txs)) {
		c->txs = tx->next;
		tx_free(tx);
	}
	c->nr_tx = 0;
}

/* Call before changing n (NULL: path absent in the transaction's tree). */
int xsv_tx_access(struct xsv_tx *tx, const char *path, const struct xsv_node *n,
		  bool modify)
{
	struct xsv_access *a;

	for (unsigned int i = 0; i < tx->nr_acc; i++) {
		if (strcmp(tx->acc[i].path, path) == 0) {
			tx->acc[i].modified |= modify;
			return 0;
		}
	}
	if (tx->max_acc && tx->nr_acc >= tx->max_acc)
		return -ENOSPC;
	if (tx->nr_acc == tx->cap_acc) {
		unsigned int cap = tx->cap_acc ? tx->cap_acc * 2 : 16;

		a = realloc(tx->acc, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		tx->acc = a;
		tx->cap_acc = cap;
	}
	a = &tx->acc[tx->nr_acc];
	a->path = strdup(path);
	if (!a->path)
		return -ENOMEM;
	a->gen = n ? n->gen : 0;
	a->modified = modify;
	tx->nr_acc++;
	return 0;
}

int xsv_tx_queue_event(struct xsv_tx *tx, const char *path, bool exact,
		       const struct xsv_perms *perms)
{
	struct xsv_event *e;

	if (tx->nr_ev == tx->cap_ev) {
		unsigned int cap = tx->cap_ev ? tx->cap_ev * 2 : 8;

		e = realloc(tx->ev, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		tx->ev = e;
		tx->cap_ev = cap;
	}
	e = &tx->ev[tx->nr_ev];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (!e->path || (perms && xsv_perms_copy(&e->perms, perms))) {
		free(e->path);
		return -ENOMEM;
	}
	e->exact = exact;
	tx->nr_ev++;
	return 0;
}

static unsigned int depth(const char *path)
{
	unsigned int d = 0;

	for (; *path; path++)
		d += *path == '/';
	return d;
}

/* Parents before children, so a created node always finds its parent. */
static int cmp_access(const void *a, const void *b)
{
	const struct xsv_access *x = a, *y = b;
	unsigned int dx = depth(x->path), dy = depth(y->path);

	if (strcmp(x->path, "/") == 0)
		dx = 0;
	if (strcmp(y->path, "/") == 0)
		dy = 0;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->path, y->path);
}

static bool conflicts(struct xsv_server *s, const struct xsv_tx *tx)
{
	for (unsigned int i = 0; i < tx->nr_acc; i++) {
		const struct xsv_node *n = xsv_node_lookup(s->root, tx->acc[i].path);

		if ((n ? n->gen : 0) != tx->acc[i].gen)
			return true;
	}
	return false;
}

static int apply_one(struct xsv_server *s, const struct xsv_tx *tx,
		     const char *path)
{
	struct xsv_node *tn = xsv_node_lookup(tx->root, path);
	struct xsv_node *mn = xsv_node_lookup(s->root, path);
	struct xsv_node *parent;
	int ret;

	if (!tn) {
		if (mn && mn->parent) {
			parent = mn->parent;
			xsv_node_unlink(mn);
			xsv_node_free(mn);
			parent->gen = ++s->gen;
		}
		return 0;
	}
	if (!mn) {
		char *pp = xsv_path_parent(path);
		const char *base = strrchr(path, '/') + 1;

		parent = pp ? xsv_node_lookup(s->root, pp) : NULL;
		free(pp);
		if (!parent)
			return -EIO;   /* cannot happen: parents sort first */
		mn = xsv_node_new(base, strlen(base));
		if (!mn)
			return -ENOMEM;
		ret = xsv_node_add_child(parent, mn);
		if (ret) {
			xsv_node_free(mn);
			return ret;
		}
		parent->gen = ++s->gen;
	}
	ret = xsv_node_set_value(mn, tn->value, tn->len);
	if (!ret)
		ret = xsv_perms_copy(&mn->perms, &tn->perms);
	mn->gen = ++s->gen;
	return ret;
}

int xsv_tx_end(struct xsv_conn *c, struct xsv_tx *tx, bool commit)
{
	struct xsv_server *s = c->srv;
	int ret = 0;

	tx_unlink(c, tx);
	if (!commit)
		goto out;
	if (tx->failed || conflicts(s, tx)) {
		ret = -EAGAIN;
		goto out;
	}
	if (tx->nr_acc)
		qsort(tx->acc, tx->nr_acc, sizeof(*tx->acc), cmp_access);
	for (unsigned int i = 0; i < tx->nr_acc; i++) {
		int r;

		if (!tx->acc[i].modified)
			continue;
		r = apply_one(s, tx, tx->acc[i].path);
		if (r)
			xsv_log(s, 0, "transaction %u: applying %s failed (%d)",
				tx->id, tx->acc[i].path, r);
	}
	for (unsigned int i = 0; i < tx->nr_ev; i++)
		xsv_fire(s, tx->ev[i].path, tx->ev[i].exact,
			 tx->ev[i].perms.num ? &tx->ev[i].perms : NULL);
out:
	tx_free(tx);
	return ret;
}
