/* SPDX-License-Identifier: MIT */
/*
 * Guest event channels, private: the per-port table (evtchn.c) and the two
 * delivery ABIs behind one ops table (evtchn_2l.c, evtchn_fifo.c). Locks
 * and their order: docs/locking.md, "Guest event channels".
 */
#ifndef XGNT_GUEST_EVTCHN_INT_H
#define XGNT_GUEST_EVTCHN_INT_H

#include <xgnt/evtchn.h>

#include "guest_int.h"

#define GEV_BITS_PER_WORD    (sizeof(xen_ulong_t) * 8)
#define GEV_2L_WORDS         GEV_BITS_PER_WORD                      /* 64 */
#define GEV_2L_PORTS         (GEV_2L_WORDS * GEV_BITS_PER_WORD)     /* 4096 */
#define GEV_FIFO_PORTS       EVTCHN_FIFO_NR_CHANNELS                /* 131072 */
#define GEV_FIFO_WORDS_PER_PAGE (PAGE_SIZE / sizeof(event_word_t))  /* 1024 */
#define GEV_FIFO_MAX_PAGES   (GEV_FIFO_PORTS / GEV_FIFO_WORDS_PER_PAGE)
#define GEV_SLOTS_PER_BUCKET 128u
/* Events one poll takes at most, and upcall rounds it makes. */
#define GEV_POLL_BUDGET      1024u
#define GEV_POLL_ROUNDS      16u

enum gev_slot_state {
	SLOT_FREE = 0,     /* no handler; events are counted */
	SLOT_BOUND,        /* handler set */
	SLOT_CLOSING,      /* unbind in progress; events are counted */
};

/* What the guest knows of one port. */
struct gev_slot {
	/* Under evtchn_state.lock (W to change, R to read). */
	xgnt_evtchn_handler_t handler;    /* SLOT_BOUND only */
	void *data;                       /* SLOT_BOUND only */
	uint32_t vcpu;                    /* vCPU it is dispatched on */
	uint8_t state;                    /* enum gev_slot_state */
	bool opened;                      /* opened or bound here: closed at fini */

	/* Events taken from the ABI and not yet given to a handler: before
	 * bind, the "missed" events. Added to under the lock (R), taken by
	 * the runner under the lock (R). */
	_Atomic uint32_t count;
	/* plat_self() of the thread calling the handler, or 0: one caller
	 * at a time, and unbind waits for it to be 0. */
	_Atomic uintptr_t runner;
};

struct gev_vcpu {
	/* Immutable after init. */
	vcpu_info_t *vi;                  /* legacy slot or registered page */
	int upcall_fd;
	evtchn_fifo_control_block_t *cb;  /* FIFO: in cb_page */
	void *cb_page;
	/* 2-level: the ports dispatched on this vCPU (Linux's per-CPU
	 * evtchn mask). Changed under evtchn_state.lock (W) with atomic
	 * RMWs, read by the dispatcher with atomic loads. */
	xen_ulong_t *mine;

	/* One dispatcher per vCPU at a time; protects head[]. */
	plat_mutex_t dispatch_lock;
	uint32_t head[EVTCHN_FIFO_MAX_QUEUES];   /* FIFO: where each walk stopped */
};

struct evtchn_state;

/* One delivery ABI. Port arguments are below max_ports and, for FIFO, past
 * setup_port (which grows the event array to cover them). */
struct gev_abi {
	enum xgnt_evtchn_abi id;
	unsigned int max_ports;
	/* Start using the ABI; -errno: not offered (the caller falls back). */
	int (*init)(struct xgnt_guest *g, struct evtchn_state *es);
	/* After every port is closed: release what init set up. */
	void (*fini)(struct xgnt_guest *g, struct evtchn_state *es);
	int (*setup_port)(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port);
	bool (*test_and_mask)(struct evtchn_state *es, evtchn_port_t port);
	/* Clear the mask and raise again what is pending (EVTCHNOP_unmask). */
	void (*unmask)(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port);
	void (*set_pending)(struct evtchn_state *es, evtchn_port_t port);
	void (*clear_pending)(struct evtchn_state *es, evtchn_port_t port);
	bool (*is_pending)(struct evtchn_state *es, evtchn_port_t port);
	bool (*is_masked)(struct evtchn_state *es, evtchn_port_t port);
	/* Dispatch port on vCPU to from now on (may be NULL); lock (W) held. */
	void (*move)(struct evtchn_state *es, evtchn_port_t port, uint32_t from, uint32_t to);
	/* Take what is pending for vc, at most budget events, calling
	 * gev_deliver for each; vc->dispatch_lock held. */
	unsigned int (*poll)(struct xgnt_guest *g, struct evtchn_state *es, struct gev_vcpu *vc,
			     unsigned int budget);
};

extern const struct gev_abi gev_abi_2l;
extern const struct gev_abi gev_abi_fifo;

struct evtchn_state {
	/* Immutable after init. */
	const struct gev_abi *abi;
	unsigned int flags;
	unsigned int nr_vcpus;
	shared_info_t *shinfo;            /* where this guest placed it */
	void *vcpu_info_pages;            /* registered vcpu_info (the hypervisor's
					     for good: never freed) */
	struct gev_vcpu *vcpus;           /* [nr_vcpus] */

	/* FIFO event array. array_lock serialises its growth (taken before
	 * the guest's mem_lock); a page is stored before nr_words, released,
	 * covers it, so a reader that loads nr_words (acquire) sees it. */
	plat_mutex_t array_lock;
	event_word_t *array[GEV_FIFO_MAX_PAGES];
	_Atomic uint32_t nr_words;

	/* lock protects every slot's handler, data, vcpu, state and opened,
	 * and the 2-level port sets (gev_vcpu.mine). Innermost of ours: no
	 * hypercall, handler or allocation under it. */
	plat_rwlock_t lock;
	/* [abi->max_ports / GEV_SLOTS_PER_BUCKET], each allocated on first
	 * use and published with a compare-and-swap; freed at fini. */
	_Atomic(struct gev_slot *) *buckets;
};

/* evtchn.c: an event the ABI handed over for port; deliver or count it. */
void gev_deliver(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port);

/* Atomic bit helpers on guest-shared words (sequentially consistent, as
 * the hypervisor's side is). */
static inline bool gev_test_and_set(xen_ulong_t *w, unsigned int bit)
{
	xen_ulong_t m = (xen_ulong_t)1 << (bit % GEV_BITS_PER_WORD);

	return __atomic_fetch_or(&w[bit / GEV_BITS_PER_WORD], m, __ATOMIC_SEQ_CST) & m;
}

static inline bool gev_test_and_clear(xen_ulong_t *w, unsigned int bit)
{
	xen_ulong_t m = (xen_ulong_t)1 << (bit % GEV_BITS_PER_WORD);

	return __atomic_fetch_and(&w[bit / GEV_BITS_PER_WORD], ~m, __ATOMIC_SEQ_CST) & m;
}

static inline bool gev_test(xen_ulong_t *w, unsigned int bit)
{
	return __atomic_load_n(&w[bit / GEV_BITS_PER_WORD], __ATOMIC_SEQ_CST) >>
	       (bit % GEV_BITS_PER_WORD) & 1;
}

#endif /* XGNT_GUEST_EVTCHN_INT_H */
