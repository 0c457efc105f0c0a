/* SPDX-License-Identifier: MIT */
/*
 * xgntd internals. The daemon is one thread around one epoll loop: every
 * hypercall runs on it, so nothing here is locked. The machine and its
 * domains come from the core (<xgnt/hv.h>); for each domain the daemon is
 * also its guest kernel (<xgnt/guest.h>), and each connection is one open
 * "device file" of that kernel: a gntdev, gntalloc or evtchn handle, as
 * Linux's drivers keep them, or a control connection.
 *
 * Lifetimes. A struct dd (domain) lives from creation to destruction; a
 * struct conn from accept to close; maps and shares belong to their conn
 * and go with it (unmap notify first); an evport belongs to an evtchn conn
 * but is reference counted, because an unmap notification may still name
 * it after its handle went (Linux's evtchn_get/put).
 */
#ifndef XGNT_DAEMON_H
#define XGNT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <xgnt/hv.h>
#include <xgnt/guest.h>
#include <xgnt/evtchn.h>

#include "proto.h"

struct conn;
struct daemon;

/* An event-channel port a handle bound (Linux: struct user_evtchn). */
struct evport {
	struct evport *next;         /* in its dd's list */
	struct dd *dd;
	struct conn *owner;          /* NULL once its handle unbound it */
	evtchn_port_t port;
	uint32_t token;              /* its slot's token in the owner's bell */
	unsigned int refs;           /* the owner's, and each unmap notify's */
};

/* A domain of the machine and the daemon's guest kernel for it. */
struct dd {
	char tag;                    /* 'd': epoll tells it from a conn */
	struct dd *next;
	struct daemon *dmn;
	struct xgnt_domain *d;
	struct xgnt_guest *g;
	domid_t domid;
	uint32_t type, vcpus, privileged;
	uint64_t ram_frames;
	int upcall_fd;               /* vCPU 0's, in the epoll set */
	unsigned int nr_handles;     /* connections acting for it */
	unsigned int nr_shared;      /* gntalloc pages (Linux's limit) */
	struct evport *ports;         /* every port a handle bound, live or held */
	struct evport **port_tab;     /* [nr_port_tab]: port -> evport */
	unsigned int nr_port_tab;
	uint64_t events_sent, events_delivered, hypercalls;
};

struct gmap {                        /* a gntdev mapping */
	struct gmap *next;
	uint32_t id, count;
	bool readonly;
	uint32_t notify, notify_offset;
	struct evport *notify_port;
	void *va;                    /* in the daemon: the guest's unpopulated pages */
	grant_handle_t *handles;
	uint64_t *mfns;
};

struct gshare {                      /* a gntalloc share */
	struct gshare *next;
	uint32_t id, count;
	uint32_t notify, notify_offset;
	struct evport *notify_port;
	void *va;                    /* the guest's RAM pages */
	grant_ref_t *refs;
};

struct conn {
	char tag;                    /* 'c' */
	struct conn *next;
	struct daemon *dmn;
	int fd;
	pid_t pid;
	uint32_t kind;               /* 0 until HELLO */
	struct dd *dd;               /* the domain it acts for */
	uint32_t next_id;
	/* gntdev */
	struct gmap *maps;
	void *bounce;                /* XGNTD_COPY_BATCH pages of the guest's RAM */
	/* gntalloc */
	struct gshare *shares;
	/* evtchn */
	int pipe_w;                  /* pending ports to the client */
	int bell_fd;                 /* the handle's bell (proto.h), and */
	void *bell;                  /* its mapping (XGNTD_BELL_SIZE) */
	uint32_t bell_id;            /* names pipe and bell to other clients */
	uint32_t restrict_domid;     /* DOMID_INVALID: unrestricted */
	unsigned int nr_ports;
	/* ctl */
	bool watching;
};

struct daemon {
	struct xgnt_machine *m;
	int memfd;
	uint64_t nr_frames;
	int epfd, lfd, sigfd;
	const char *path;
	ino_t sock_ino;              /* of the socket file we made */
	struct dd *doms;
	struct conn *conns;
	/* Closed connections and destroyed domains, freed after the epoll
	 * batch that may still name them (tag 'x'): dmn_reap. */
	struct conn *dead_conns;
	struct dd *dead_doms;
	unsigned int gntalloc_limit; /* per domain, Linux's gntalloc limit */
	uint32_t next_token;         /* evtchn: bindings' bell tokens */
	uint32_t next_bell_id;
	int verbose;
	bool stop;
};

#define dlog(dmn, ...)                                                         \
	do {                                                                   \
		if ((dmn)->verbose)                                            \
			dmn_log(__VA_ARGS__);                                  \
	} while (0)
void dmn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* dom.c */
struct dd *dd_find(struct daemon *dmn, uint32_t domid);
int dd_create(struct daemon *dmn, const struct xgntd_domain_create *c);
int dd_destroy(struct daemon *dmn, struct dd *dd);
void dd_events(struct dd *dd);               /* its upcall fd is readable */
void dd_poll_deferred(struct daemon *dmn);
void dd_info(struct dd *dd, struct xgntd_domain_info *out);
void dd_notify_watchers(struct daemon *dmn, struct dd *dd, bool alive);
void dmn_reap(struct daemon *dmn);

/* conn.c */
void conn_accept(struct daemon *dmn);
/* A connection on fd (accepted, or a socketpair's end for the fuzzer). */
struct conn *conn_new(struct daemon *dmn, int fd);
void conn_input(struct conn *c);
void conn_close(struct conn *c);
int conn_send(struct conn *c, uint32_t type, uint16_t seq, int32_t ret, const void *payload,
	      size_t len, const int *fds, unsigned int nfds);

/* gnt.c: gntdev and gntalloc handles */
int gnt_hello(struct conn *c, struct xgntd_hello_reply *r);
long gnt_request(struct conn *c, const struct xgntd_hdr *h, const void *p, void *out,
		 size_t *out_len);
void gnt_release(struct conn *c);

/* evt.c: evtchn handles */
/* fds: the pipe's read end (the caller closes it once sent) and the
 * bell (the handle's). */
int evt_hello(struct conn *c, int fds[2]);
int evt_adopt(struct conn *c, int pipe_r);
/* A ROUTE reply fills out and fds (the conn's, not to be closed). */
long evt_request(struct conn *c, const struct xgntd_hdr *h, const void *p, void *out,
		 size_t *out_len, int *fds, unsigned int *nfds);
void evt_release(struct conn *c);
struct evport *evt_port_get(struct dd *dd, evtchn_port_t port);
void evt_port_put(struct evport *ep);
/* Sends on ep's port and delivers at once; ep's peer port if it is a
 * handle's (still valid until the loop turns), else NULL. */
struct evport *evt_port_send(struct evport *ep);

/* ctl.c */
long ctl_request(struct conn *c, const struct xgntd_hdr *h, const void *p, void **out,
		 size_t *out_len);

#endif /* XGNT_DAEMON_H */
