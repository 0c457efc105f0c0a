/* SPDX-License-Identifier: MIT */
/*
 * xgnt demo: a split block driver (blkfront in domain 1, blkback in
 * domain 0) over Xen's PV block protocol, on an in-process machine.
 * This header is the contract between the demo's files.
 */
#ifndef XGNT_TOOLS_DEMO_H
#define XGNT_TOOLS_DEMO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xgnt/hv.h>
#include <xgnt/guest.h>
#include <xgnt/evtchn.h>

/* ring.h leaves the barriers to the includer (interface >= 0x00030208). */
#define xen_mb()  atomic_thread_fence(memory_order_seq_cst)
#define xen_rmb() atomic_thread_fence(memory_order_acquire)
#define xen_wmb() atomic_thread_fence(memory_order_release)
#include <xen/io/blkif.h>

#define DEMO_PAGE           4096u
#define DEMO_SECTOR         512u
#define DEMO_BACK_DOMID     0
#define DEMO_FRONT_DOMID    1
#define DEMO_MAX_BS         (1u << 20)
#define DEMO_MAX_BSIZES     9                /* 4k .. 1M */
#define DEMO_SEGS_PER_IPAGE (DEMO_PAGE / sizeof(struct blkif_request_segment))

enum demo_mode { MODE_MAP = 0, MODE_PERSISTENT, MODE_COPY, MODE_NR };

struct demo_opts {
	uint64_t size;                   /* disk image bytes */
	unsigned int queue_depth;
	unsigned int nr_bs;
	uint32_t bs[DEMO_MAX_BSIZES];    /* block sizes, bytes */
	bool modes[MODE_NR];
	bool json, dump, indirect;
	const char *graph;               /* DOT/SVG output, or NULL */
};

/* Counters one driver side bumps; read by the sampler (relaxed). */
struct demo_counters {
	_Atomic uint64_t grants, ends, maps, unmaps, copies;
	_Atomic uint64_t bytes_done;     /* for the progress bar */
	_Atomic int64_t grants_live, grants_peak;
};

struct demo_pass {                       /* one direction of one run */
	double secs;
	uint64_t ios, bytes;
};

struct demo_result {
	enum demo_mode mode;
	uint32_t bs;
	struct demo_pass write, read;
	uint64_t grant_ops;              /* grant+end+map+unmap+copy */
	uint64_t grants, ends, maps, unmaps, copies;
	uint64_t mismatches;             /* bytes that did not verify */
	uint64_t bad_responses;
	/* peaks, sampled with xgnt_domain_table_info (+ the front's own count) */
	int64_t front_grants, front_active, back_mappings, back_active;
};

/*
 * The xenstore stand-in: the frontend publishes ring-ref, event-channel
 * and its request for a backend mode; states follow XenbusState.
 */
enum demo_state { ST_INIT = 0, ST_INITIALISED, ST_CONNECTED, ST_CLOSING, ST_CLOSED };

struct demo_store {
	pthread_mutex_t lock;            /* protects every field below */
	pthread_cond_t cond;
	enum demo_state front, back;
	grant_ref_t ring_ref;
	evtchn_port_t port;
	enum demo_mode mode;
	unsigned int max_pages;          /* pages per request the front uses */
	bool quiescent, resume;          /* front paused for --dump/--graph */
	int error;                       /* first fatal error (-errno), sticky */
};

/* What both driver threads share for one connection (one mode). */
struct demo_ctx {
	const struct demo_opts *o;
	struct xgnt_machine *m;
	struct xgnt_guest *front, *back;
	struct xgnt_domain *fdom, *bdom;
	int fd;                          /* the disk image */
	enum demo_mode mode;
	bool pause_at_end;               /* stop quiescent before closing */
	struct demo_store store;
	struct demo_counters fc, bc;
	struct demo_result res[DEMO_MAX_BSIZES];
	_Atomic unsigned int cur_bs, cur_dir; /* progress: index, 0 write 1 read */
	_Atomic bool front_done;
};

void store_set(struct demo_ctx *c, enum demo_state *who, enum demo_state st);
int store_wait(struct demo_ctx *c, enum demo_state *who, enum demo_state st);
void store_fail(struct demo_ctx *c, int err);

void *demo_front_main(void *arg);
void *demo_back_main(void *arg);

/* Data set: deterministic pseudo-random blocks (demo_front.c). */
uint64_t demo_fill(void *buf, uint32_t len, uint64_t seed, uint64_t block);
uint64_t demo_check(const void *buf, uint32_t len, uint64_t seed, uint64_t block,
		    uint64_t *bad_bytes);
uint64_t demo_seed(enum demo_mode mode, uint32_t bs);

/* Reports (demo_report.c). */
struct demo_floor {
	uint32_t bs;
	struct demo_pass write, read;
	uint64_t mismatches;
};
const char *demo_mode_name(enum demo_mode m);
void demo_report_table(const struct demo_opts *o, const struct demo_result *r, unsigned int nr,
		       const struct demo_floor *f, unsigned int nf);
void demo_report_json(const struct demo_opts *o, const struct demo_result *r, unsigned int nr,
		      const struct demo_floor *f, unsigned int nf);

/* Dump and graph (dump.c). */
int demo_dump(struct xgnt_machine *m, FILE *out);
int demo_graph(struct xgnt_machine *m, const char *path);

double demo_now(void);

#endif
