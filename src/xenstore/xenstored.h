/* SPDX-License-Identifier: MIT */
/*
 * xgnt-xenstored: the contract between the server's files. The store (a
 * tree of nodes), transactions, watches, connections and domains live in
 * one struct xsv_server; nothing here touches a socket, so the whole
 * protocol can be driven from a buffer (xsv_conn_feed) by tests and fuzzers.
 *
 * Single-threaded: every function runs on the server's one thread.
 */
#ifndef XGNT_XENSTORED_H
#define XGNT_XENSTORED_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <xen/io/xs_wire.h>   /* the ABI: types, struct xsd_sockmsg, xsd_errors */
#include <xenstore_lib.h>     /* XS_PERM_* */

#define XSV_DOMID_MAX       0x7FEFu    /* DOMID_FIRST_RESERVED - 1 */
#define XSV_OUT_LIMIT       (1u << 20) /* queued output before a conn is closed */

/* C xenstored's default per-domain quotas (tools/xenstored/domain.c). */
struct xsv_quota {
	unsigned int nodes;         /* 1000: nodes a domain owns (ENOSPC) */
	unsigned int watches;       /* 128: watches of a domain (E2BIG) */
	unsigned int transactions;  /* 10: open per connection (ENOSPC) */
	unsigned int node_size;     /* 2048: one node as xenstored stores it (ENOSPC) */
	unsigned int trans_nodes;   /* 1024: nodes one transaction touches (ENOSPC) */
	unsigned int outstanding;   /* 20: queued replies before reading pauses */
	unsigned int perms;         /* 5: entries in one SET_PERMS (ENOSPC) */
	unsigned int path_len;      /* 2048: path below /local/domain/<id>/ (EINVAL) */
};

struct xsv_perm {
	uint32_t id;
	uint32_t perms;             /* XS_PERM_READ | XS_PERM_WRITE */
};

/* perms[0] is the owner, and its letter is every other domain's default. */
struct xsv_perms {
	unsigned int num;           /* >= 1 */
	struct xsv_perm *p;
};

struct xsv_node {
	char *name;                 /* last component; "" for the root */
	struct xsv_node *parent;
	struct xsv_node **child;    /* in creation order, as xenstored lists them */
	unsigned int nr_child, cap_child;
	uint8_t *value;
	uint32_t len;
	struct xsv_perms perms;
	uint64_t gen;               /* server generation of the last change; > 0 */
};

struct xsv_watch {
	struct xsv_watch *next;
	char *path;                 /* canonical (absolute or @special) */
	char *token;
	bool relative;              /* events strip the implicit path */
};

struct xsv_access {             /* a node a transaction has seen */
	char *path;
	uint64_t gen;               /* generation when first seen; 0: absent */
	bool modified;
};

struct xsv_event {              /* a watch event held until commit */
	char *path;
	bool exact;
	struct xsv_perms perms;     /* of the node when it changed (num 0: none) */
};

struct xsv_tx {
	struct xsv_tx *next;
	uint32_t id;
	struct xsv_node *root;      /* snapshot at start plus own changes */
	struct xsv_access *acc;
	unsigned int nr_acc, cap_acc;
	struct xsv_event *ev;
	unsigned int nr_ev, cap_ev;
	unsigned int max_acc;       /* trans_nodes quota; 0: none (privileged) */
	bool failed;                /* an operation failed halfway: no commit */
};

struct xsv_msg {
	struct xsv_msg *next;
	size_t len;
	bool reply;                 /* counts against the outstanding quota */
	uint8_t data[];             /* struct xsd_sockmsg then payload */
};

struct xsv_server;

struct xsv_conn {
	struct xsv_server *srv;
	struct xsv_conn *prev, *next;
	int fd;                     /* -1 when driven from buffers */
	uint32_t domid;             /* the domain this connection acts for */
	bool dead;                  /* to be closed by the owner (framing, overflow) */
	/* input: one message being assembled */
	struct xsd_sockmsg hdr;
	uint32_t hdr_used, used;
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	/* output */
	struct xsv_msg *out_head, *out_tail;
	size_t out_bytes, out_off;  /* out_off: bytes of out_head already sent */
	unsigned int out_replies;
	struct xsv_watch *watches;
	struct xsv_tx *txs;
	unsigned int nr_tx;
	uint32_t ep_mask;           /* owned by the socket layer */
};

struct xsv_domain {
	uint32_t domid;
	bool privileged;
	bool listed;                /* in the daemon's list after a relink */
};

struct xsv_server {
	struct xsv_node *root;
	struct xsv_node *special[2];   /* @introduceDomain, @releaseDomain */
	uint64_t gen;
	uint32_t next_txid;
	struct xsv_quota quota;
	size_t out_limit;
	int verbose;
	struct xsv_conn *conns;
	struct xsv_domain *doms;
	unsigned int nr_doms, cap_doms;
};

/* server.c: setup, logging, domains */
int xsv_server_init(struct xsv_server *s);
void xsv_server_fini(struct xsv_server *s);
void xsv_quota_defaults(struct xsv_quota *q);
void xsv_log(const struct xsv_server *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool xsv_domid_priv(const struct xsv_server *s, uint32_t domid);
struct xsv_domain *xsv_domain_find(struct xsv_server *s, uint32_t domid);
int xsv_domain_add(struct xsv_server *s, uint32_t domid, bool privileged);
int xsv_domain_remove(struct xsv_server *s, uint32_t domid);
/* Relinking to a (restarted) xgntd: forget which domains were listed, let
 * the new list mark them (xsv_domain_add), then release those it did not
 * name (dom0 stays). */
void xsv_domains_unlist(struct xsv_server *s);
void xsv_domains_release_unlisted(struct xsv_server *s);

/* store.c: the tree, paths and permissions */
struct xsv_node *xsv_node_lookup(struct xsv_node *root, const char *path);
struct xsv_node *xsv_node_new(const char *name, size_t namelen);
int xsv_node_add_child(struct xsv_node *parent, struct xsv_node *child);
void xsv_node_unlink(struct xsv_node *n);
void xsv_node_free(struct xsv_node *n);
struct xsv_node *xsv_tree_clone(const struct xsv_node *n);
int xsv_node_set_value(struct xsv_node *n, const void *data, uint32_t len);
char *xsv_node_path(const struct xsv_node *n);
char *xsv_path_join(const char *dir, const char *name);
char *xsv_path_parent(const char *path);
unsigned long xsv_count_owned(const struct xsv_node *n, uint32_t domid);
size_t xsv_node_size(const struct xsv_node *n, uint32_t vlen, unsigned int nperms);
int xsv_perms_copy(struct xsv_perms *dst, const struct xsv_perms *src);
void xsv_perms_free(struct xsv_perms *p);
int xsv_perms_set1(struct xsv_perms *p, uint32_t owner, uint32_t dflt);
unsigned int xsv_perm_for(const struct xsv_perms *p, uint32_t domid, bool priv);
int xsv_perms_parse(struct xsv_perms *out, const char *s, size_t len, unsigned int num);
size_t xsv_perms_format(const struct xsv_perms *p, char *buf, size_t cap);
bool xsv_is_child(const char *child, const char *parent);

/* conn.c: framing and output; the buffer-driven entry point */
struct xsv_conn *xsv_conn_new(struct xsv_server *s, int fd, uint32_t domid);
void xsv_conn_free(struct xsv_conn *c);
int xsv_conn_feed(struct xsv_conn *c, const void *bytes, size_t len);
size_t xsv_conn_want(const struct xsv_conn *c);
bool xsv_conn_paused(const struct xsv_conn *c);
void xsv_conn_send(struct xsv_conn *c, uint32_t type, uint32_t req_id,
		   uint32_t tx_id, const void *data, size_t len, bool reply);
void xsv_conn_error(struct xsv_conn *c, const struct xsd_sockmsg *req, int err);
void xsv_conn_consumed(struct xsv_conn *c, size_t n);
const char *xsv_errname(int err);

/* One request in flight. */
struct xsv_req {
	struct xsv_server *s;
	struct xsv_conn *c;           /* NULL: the server acting for itself */
	const struct xsd_sockmsg *h;
	char *data;                   /* NUL sentinel at data[len] */
	uint32_t len;
	struct xsv_tx *tx;            /* the view: NULL for the store itself */
	uint32_t domid;
	bool priv;
};

/* ops.c: one request; payload has a NUL sentinel at payload[hdr->len] */
void xsv_dispatch(struct xsv_conn *c, const struct xsd_sockmsg *hdr, char *payload);

/* view.c: the store side of requests; 0 or -errno (xenstored's names) */
bool xsv_valid_chars(const char *s);
int xsv_canonicalize(const struct xsv_req *r, const char *in, bool allow_special,
		     char **out);
int xsv_get_node(struct xsv_req *r, const char *path, unsigned int perm,
		 struct xsv_node **out);
int xsv_write_node(struct xsv_req *r, const char *path, const void *val,
		   uint32_t vlen, bool mkdir);
int xsv_rm_node(struct xsv_req *r, const char *path);
int xsv_set_node_perms(struct xsv_req *r, const char *path, struct xsv_perms *perms);
int xsv_write_as(struct xsv_server *s, uint32_t domid, const char *path,
		 const char *value, const struct xsv_perms *perms);
int xsv_rm_as(struct xsv_server *s, uint32_t domid, const char *path);

/* watch.c */
void xsv_fire(struct xsv_server *s, const char *path, bool exact,
	      const struct xsv_perms *perms);
int xsv_watch_add(struct xsv_conn *c, const char *path, const char *token,
		  bool relative);
int xsv_watch_del(struct xsv_conn *c, const char *path, const char *token);
void xsv_watch_clear(struct xsv_conn *c);
unsigned int xsv_watch_count_domain(const struct xsv_server *s, uint32_t domid);
void xsv_watch_event(struct xsv_conn *c, const struct xsv_watch *w, const char *path);

/* tx.c */
struct xsv_tx *xsv_tx_start(struct xsv_conn *c);
struct xsv_tx *xsv_tx_find(struct xsv_conn *c, uint32_t id);
int xsv_tx_end(struct xsv_conn *c, struct xsv_tx *tx, bool commit);
void xsv_tx_clear(struct xsv_conn *c);
int xsv_tx_access(struct xsv_tx *tx, const char *path, const struct xsv_node *n,
		  bool modify);
int xsv_tx_queue_event(struct xsv_tx *tx, const char *path, bool exact,
		       const struct xsv_perms *perms);

#endif /* XGNT_XENSTORED_H */
