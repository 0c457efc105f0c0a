/* SPDX-License-Identifier: MIT */
/*
 * Event channels: ports and their states, the per-domain port table, and
 * the two delivery ABIs (2-level in shared_info/vcpu_info, FIFO in
 * guest-supplied control blocks and event arrays) behind one port_ops
 * table. Lock order (docs/locking.md):
 *
 *   d->event_lock (W for alloc/bind/close/reset/FIFO setup, R for status)
 *     -> chn->lock (W only around transitions from/to FREE or UNBOUND;
 *                   R for send, unmask, set_priority)
 *        -> FIFO queue locks (address order) -> d->p2m_lock
 *   Two domains' event_locks: by address; two channels' locks: by address.
 */
#ifndef XGNT_HV_EVENT_H
#define XGNT_HV_EVENT_H

#include "domain.h"

enum ecs {
	ECS_FREE = 0,
	ECS_RESERVED,      /* port 0 */
	ECS_UNBOUND,
	ECS_INTERDOMAIN,
	ECS_PIRQ,
	ECS_VIRQ,
	ECS_IPI,
};

#define EVTCHNS_PER_BUCKET   64
#define EVTCHN_2L_PORTS      (64u * 64u)   /* 64-bit guests: 4096 */
#define EVTCHN_FIFO_PORTS    EVTCHN_FIFO_NR_CHANNELS
#define EVTCHN_MAX_BUCKETS   (EVTCHN_FIFO_PORTS / EVTCHNS_PER_BUCKET)
#define EVTCHN_DEFAULT_PRIORITY EVTCHN_FIFO_PRIORITY_DEFAULT
#define NR_PIRQS             256

struct evtchn {
	plat_rwlock_t lock;      /* see the header comment */
	uint32_t port;           /* immutable */
	uint8_t state;           /* enum ecs */
	uint8_t priority;        /* FIFO; under lock */
	bool pending;            /* FIFO: pending while its array page is missing */
	uint32_t notify_vcpu_id;
	/* FIFO: the queue this port was last linked on (vcpu << 8 | prio). */
	_Atomic uint32_t fifo_lastq;
	union {
		struct {             /* ECS_UNBOUND */
			domid_t remote_domid;
		} unbound;
		struct {             /* ECS_INTERDOMAIN */
			struct xgnt_domain *remote_dom;
			uint32_t remote_port;
		} interdomain;
		uint32_t pirq;       /* ECS_PIRQ */
		uint32_t virq;       /* ECS_VIRQ */
	} u;
};

struct evtchn_fifo_queue {
	plat_mutex_t lock;       /* protects tail, and head writes */
	uint32_t *head;          /* in the guest's control block */
	uint32_t tail;
	uint8_t priority;
};

struct evtchn_fifo_vcpu {
	evtchn_fifo_control_block_t *control_block;   /* guest memory */
	uint64_t control_mfn;                          /* referenced */
	struct evtchn_fifo_queue queue[EVTCHN_FIFO_MAX_QUEUES];
};

#define EVTCHN_FIFO_WORDS_PER_PAGE (PAGE_SIZE / sizeof(event_word_t))
#define EVTCHN_FIFO_MAX_PAGES      (EVTCHN_FIFO_PORTS / EVTCHN_FIFO_WORDS_PER_PAGE)

struct evtchn_fifo_domain {
	event_word_t *event_array[EVTCHN_FIFO_MAX_PAGES];   /* guest pages */
	uint64_t array_mfn[EVTCHN_FIFO_MAX_PAGES];          /* referenced */
	_Atomic uint32_t num_evtchns;                      /* words mapped */
};

struct evtchn_port_ops {
	void (*init)(struct xgnt_domain *d, struct evtchn *chn);
	void (*set_pending)(struct xgnt_vcpu *v, struct evtchn *chn);
	void (*clear_pending)(struct xgnt_domain *d, struct evtchn *chn);
	void (*unmask)(struct xgnt_domain *d, struct evtchn *chn);
	bool (*is_pending)(struct xgnt_domain *d, const struct evtchn *chn);
	bool (*is_masked)(struct xgnt_domain *d, const struct evtchn *chn);
	bool (*is_busy)(struct xgnt_domain *d, uint32_t port);   /* may be NULL */
	int (*set_priority)(struct xgnt_domain *d, struct evtchn *chn, uint32_t prio);
	unsigned int max_ports;
};

extern const struct evtchn_port_ops evtchn_port_ops_2l;
extern const struct evtchn_port_ops evtchn_port_ops_fifo;

/* Per-domain event-channel state, hung off struct xgnt_domain. */
struct evtchn_domain {
	plat_rwlock_t event_lock;
	const struct evtchn_port_ops *_Atomic ops;          /* under event_lock (W) */
	struct evtchn **buckets;                           /* [EVTCHN_MAX_BUCKETS] */
	_Atomic uint32_t valid_evtchns;                    /* published after buckets */
	uint32_t max_evtchn_port;                          /* immutable */
	uint32_t active_evtchns;                           /* under event_lock */
	uint32_t next_evtchn;                              /* reset in progress */
	struct evtchn_fifo_domain *fifo;                   /* under event_lock */
	struct evtchn_fifo_vcpu **fifo_vcpu;               /* [nr_vcpus], with fifo */
	uint32_t pirq_to_evtchn[NR_PIRQS];
};

/* Per-vCPU: where its vcpu_info lives and which VIRQs it has bound. */
struct evtchn_vcpu {
	plat_rwlock_t virq_lock;                /* protects virq_to_evtchn */
	uint32_t virq_to_evtchn[NR_VIRQS];
	vcpu_info_t *_Atomic vcpu_info;         /* shared_info slot, registered
						   page, or dummy */
	uint64_t vcpu_info_mfn;                 /* registered page (referenced) */
	vcpu_info_t dummy;                      /* vCPUs >= 32 before registering */
};

static inline bool port_is_valid(struct evtchn_domain *ed, uint32_t port)
{
	return port < atomic_load_explicit(&ed->valid_evtchns, memory_order_acquire);
}

static inline struct evtchn *evtchn_from_port(struct evtchn_domain *ed, uint32_t port)
{
	return &ed->buckets[port / EVTCHNS_PER_BUCKET][port % EVTCHNS_PER_BUCKET];
}

/* bind_vcpu changes it under the event lock while senders read it under
 * the channel lock only: relaxed atomics. */
static inline uint32_t notify_vcpu(const struct evtchn *chn)
{
	return __atomic_load_n(&chn->notify_vcpu_id, __ATOMIC_RELAXED);
}

static inline void set_notify_vcpu(struct evtchn *chn, uint32_t vcpu)
{
	__atomic_store_n(&chn->notify_vcpu_id, vcpu, __ATOMIC_RELAXED);
}

static inline bool evtchn_usable(const struct evtchn *chn)
{
	return chn->state > ECS_RESERVED;
}

/* event.c */
int evtchn_domain_init(struct xgnt_domain *d, uint32_t max_port);
/* Domain destruction: close every port (peers turn unbound), free. */
void evtchn_domain_destroy(struct xgnt_domain *d);
void evtchn_domain_free(struct xgnt_domain *d);
/* Raise VIRQ on vCPU (per-vCPU VIRQs) or the bound vCPU (global). */
void evtchn_send_virq(struct xgnt_domain *d, unsigned int vcpu, uint32_t virq);
void evtchn_send_global_virq(struct xgnt_machine *m, uint32_t virq);
void evtchn_port_set_pending(struct xgnt_domain *d, uint32_t vcpu, struct evtchn *chn);

/* vcpu.c: the upcall. */
shared_info_t *domain_shared_info(struct xgnt_domain *d);
vcpu_info_t *vcpu_info(struct xgnt_vcpu *v);
void vcpu_mark_events_pending(struct xgnt_vcpu *v);

int vcpu_ev_init(struct xgnt_vcpu *v);
/* Back to the legacy slot (or dummy); the registered page is released. */
void vcpu_unmap_info(struct xgnt_vcpu *v);
void vcpu_ev_free(struct xgnt_vcpu *v);

/* event_fifo.c */
long evtchn_fifo_init_control(struct xgnt_domain *d, struct evtchn_init_control *ic);
long evtchn_fifo_expand_array(struct xgnt_domain *d, const struct evtchn_expand_array *ea);
void evtchn_fifo_destroy(struct xgnt_domain *d);
/* Map a guest frame of d for the hypervisor (control block, event array):
 * a writable page d owns. Returns a reference held on *mfn. */
int map_guest_page(struct xgnt_domain *d, uint64_t gfn, uint64_t *mfn, void **virt);

#endif /* XGNT_HV_EVENT_H */
