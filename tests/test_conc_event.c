/* SPDX-License-Identifier: MIT */
/*
 * Event channels under concurrency (xen-hypervisor.md c.3; XSA-340, 343,
 * 358/359, 505): a send/consume storm over 2-level and FIFO with masking,
 * vCPU re-binding and channel re-binding; reset racing port allocation and
 * expand_array; bucket publication; FIFO init_control, expand_array and
 * vcpu_info registration racing sends; a hostile guest rewriting its event
 * words. Run under ThreadSanitizer (test_conc_ prefix).
 *
 * Rules: a vCPU is used by one thread at a time (every thread owns one);
 * worker threads never call cmocka asserts, they record failures and the
 * main thread asserts after joining them. Guest memory (shared_info,
 * control blocks, event words) is only touched with atomic operations.
 */
#include "harness.h"
#include "conc.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NV           2
#define SHINFO_PAGE  900
#define CB_RAM(v)    (10u + (v))
#define ARRAY_RAM(i) (20u + (i))
#define SPARE_RAM    200u
#define WORDS_PER_PAGE 1024u
#define MAX_PORT     1024u

#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)
#define W_BUSY    (1u << EVTCHN_FIFO_BUSY)


static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void atomic_max(_Atomic uint64_t *a, uint64_t v)
{
	uint64_t o = atomic_load(a);

	while (o < v && !atomic_compare_exchange_weak(a, &o, v))
		;
}

/* ---- the guest ------------------------------------------------------------------ */

struct guest {
	struct xgnt_domain *d;
	shared_info_t *s;
	bool fifo;
	vcpu_info_t *vi[NV];                          /* row v: vCPU v's thread only */
	evtchn_fifo_control_block_t *cb[NV];          /* fixed before threads start */
	event_word_t *array;                          /* one page: ports < 1024 */
	uint32_t lhead[NV][EVTCHN_FIFO_MAX_QUEUES];   /* row v: vCPU v's thread only */
	_Atomic int portmap[MAX_PORT];                /* receiving port -> channel + 1 */
};

static uint64_t ext_gfn(struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;

	xgnt_domain_layout(d, &l);
	return l.ext_base >> 12;
}

static struct xgnt_domain *mkdom_max(struct xgnt_machine *m, domid_t id,
				     enum xgnt_domain_type type, unsigned int nv, uint32_t max_port)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = 256, .ext_frames = 4096, .nr_vcpus = nv,
		.max_evtchn_port = max_port,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

static struct xgnt_domain *mkdom(struct xgnt_machine *m, domid_t id, enum xgnt_domain_type type,
				 unsigned int nv)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = 256, .ext_frames = 4096, .nr_vcpus = nv,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

static struct xgnt_vcpu *vc(struct xgnt_domain *d, unsigned int v)
{
	return xgnt_domain_vcpu(d, v);
}

static long ev(struct xgnt_domain *d, unsigned int v, int cmd, void *arg)
{
	return xgnt_event_channel_op(vc(d, v), cmd, arg);
}

static void guest_init(struct guest *g, struct xgnt_domain *d)
{
	uint64_t gfn = ext_gfn(d) + SHINFO_PAGE;

	memset(g, 0, sizeof(*g));
	g->d = d;
	if (xgnt_domain_pfn_to_mfn(d, 0) == INVALID_MFN) {
		struct xen_add_to_physmap a = {
			.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = gfn,
		};

		assert_int_equal(xgnt_memory_op(vc(d, 0), XENMEM_add_to_physmap, &a), 0);
	} else {
		assert_int_equal(xgnt_update_va_mapping(vc(d, 0), gfn << 12,
							xgnt_domain_shared_info_mfn(d),
							XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	}
	g->s = xgnt_domain_va(d, gfn << 12);
	assert_non_null(g->s);
	for (unsigned int v = 0; v < NV; v++) {
		g->vi[v] = &g->s->vcpu_info[v];
		memset(t_ram_va(d, CB_RAM(v)), 0, 4096);
		g->cb[v] = t_ram_va(d, CB_RAM(v));
	}
	memset(t_ram_va(d, ARRAY_RAM(0)), 0, 4096);
	g->array = t_ram_va(d, ARRAY_RAM(0));
}

static long init_control(struct guest *g, unsigned int issuer, unsigned int v)
{
	struct evtchn_init_control ic = {
		.control_gfn = t_ram_frame(g->d, CB_RAM(v)), .offset = 0, .vcpu = v,
	};

	return ev(g->d, issuer, EVTCHNOP_init_control, &ic);
}

static long expand(struct guest *g, unsigned int issuer, unsigned int ram_page)
{
	struct evtchn_expand_array ea = { .array_gfn = t_ram_frame(g->d, ram_page) };

	return ev(g->d, issuer, EVTCHNOP_expand_array, &ea);
}

/* FIFO on every vCPU with one (zeroed, unmasked) array page. */
static void fifo_setup(struct guest *g)
{
	for (unsigned int v = 0; v < NV; v++)
		assert_int_equal(init_control(g, 0, v), 0);
	assert_int_equal(expand(g, 0, ARRAY_RAM(0)), 0);
	g->fifo = true;
}

static event_word_t *word(struct guest *g, uint32_t port)
{
	return port < WORDS_PER_PAGE ? &g->array[port] : NULL;
}

typedef void (*port_fn)(struct guest *g, uint32_t port, void *arg);

static uint32_t clear_linked(event_word_t *w)
{
	event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST), new;

	do {
		new = old & ~(W_LINKED | (event_word_t)EVTCHN_FIFO_LINK_MASK);
	} while (!__atomic_compare_exchange_n(w, &old, new, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	return old & EVTCHN_FIFO_LINK_MASK;
}

/* Linux's consume_one_event(). */
static unsigned int consume_one(struct guest *g, unsigned int v, unsigned int q, uint32_t *ready,
				port_fn fn, void *arg)
{
	uint32_t head = g->lhead[v][q], port;
	event_word_t *w;
	unsigned int n = 0;

	if (head == 0)
		head = __atomic_load_n(&g->cb[v]->head[q], __ATOMIC_ACQUIRE);
	port = head;
	w = word(g, port);
	if (!port || !w) {
		TFAIL("d%u vCPU %u queue %u: head/link %u is no event", xgnt_domain_id(g->d), v, q,
		      port);
		*ready &= ~(1u << q);
		g->lhead[v][q] = 0;
		return 0;
	}
	head = clear_linked(w);
	if (head == 0)
		*ready &= ~(1u << q);
	if (!(__atomic_load_n(w, __ATOMIC_SEQ_CST) & W_MASKED) &&
	    (__atomic_fetch_and(w, ~W_PENDING, __ATOMIC_SEQ_CST) & W_PENDING)) {
		fn(g, port, arg);
		n = 1;
	}
	g->lhead[v][q] = head;
	return n;
}

static unsigned int fifo_consume(struct guest *g, unsigned int v, port_fn fn, void *arg)
{
	evtchn_fifo_control_block_t *cb = g->cb[v];
	uint32_t ready;
	unsigned int n = 0, guard = 0;

	__atomic_store_n(&g->vi[v]->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
	while (ready) {
		if (guard++ > 1000000) {
			TFAIL("d%u vCPU %u: endless queue", xgnt_domain_id(g->d), v);
			break;
		}
		n += consume_one(g, v, (unsigned int)__builtin_ctz(ready), &ready, fn, arg);
		ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
	}
	return n;
}

/* Linux's 2-level upcall: selector word, then pending & ~mask, each bit
 * taken with an atomic test-and-clear. */
static unsigned int l2_consume(struct guest *g, unsigned int v, port_fn fn, void *arg)
{
	vcpu_info_t *vi = g->vi[v];
	xen_ulong_t sel;
	unsigned int n = 0;

	__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (sel) {
		unsigned int w = (unsigned int)__builtin_ctzl(sel);
		xen_ulong_t bits;

		sel &= sel - 1;
		bits = __atomic_load_n(&g->s->evtchn_pending[w], __ATOMIC_SEQ_CST) &
		       ~__atomic_load_n(&g->s->evtchn_mask[w], __ATOMIC_SEQ_CST);
		while (bits) {
			unsigned int b = (unsigned int)__builtin_ctzl(bits);
			xen_ulong_t mb = (xen_ulong_t)1 << b;

			bits &= bits - 1;
			if (__atomic_fetch_and(&g->s->evtchn_pending[w], ~mb, __ATOMIC_SEQ_CST) & mb) {
				fn(g, w * 64 + b, arg);
				n++;
			}
		}
	}
	return n;
}

static unsigned int consume(struct guest *g, unsigned int v, port_fn fn, void *arg)
{
	uint64_t cnt;
	int fd = xgnt_vcpu_upcall_fd(vc(g->d, v));

	/* Acknowledge the wake-up, then look (the guest's upcall handler). */
	if (read(fd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;
	return g->fifo ? fifo_consume(g, v, fn, arg) : l2_consume(g, v, fn, arg);
}

static void guest_mask(struct guest *g, uint32_t port)
{
	if (g->fifo)
		__atomic_fetch_or(word(g, port), W_MASKED, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or(&g->s->evtchn_mask[port / 64], (xen_ulong_t)1 << (port % 64),
				  __ATOMIC_SEQ_CST);
}

/*
 * Unmask. 2-level: EVTCHNOP_unmask (Xen clears the bit and re-raises).
 * FIFO: the guest clears MASKED itself (never while BUSY, as Linux's
 * clear_masked_cond), then asks Xen to link the event if it is pending.
 * (Linux leaves MASKED set for a pending event and relies on Xen clearing
 * it; test_event_fifo.c checks that separately.)
 */
static long guest_unmask(struct guest *g, unsigned int issuer, uint32_t port)
{
	struct evtchn_unmask um = { .port = port };

	if (g->fifo) {
		event_word_t *w = word(g, port);
		event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);

		for (;;) {
			old &= ~W_BUSY;
			if (__atomic_compare_exchange_n(w, &old, old & ~W_MASKED, false,
							__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				break;
			sched_yield();
		}
		if (!(__atomic_load_n(w, __ATOMIC_SEQ_CST) & W_PENDING))
			return 0;
	}
	return ev(g->d, issuer, EVTCHNOP_unmask, &um);
}

/* ---- the storm ------------------------------------------------------------------ */

#define NDOM     2
#define NCH_IDOM 8
#define NCH      (NCH_IDOM + NDOM * NV)    /* + one IPI per vCPU */
#define NTHR     (NDOM * NV)

enum { CH_BOUND, CH_CLOSING };

struct chan {
	unsigned int sdom, svcpu;   /* the sender: domain index, vCPU */
	unsigned int rdom, mvcpu;   /* the receiver's domain, its manager vCPU */
	bool ipi;
	pthread_mutex_t lock;       /* sends vs close/re-bind */
	int state;                  /* under lock */
	uint32_t sport;             /* under lock: sender's port */
	uint32_t rport;             /* written by the manager (under lock), read
				       by the sender under lock */
	_Atomic uint64_t counter;   /* sends made while bound */
	_Atomic uint64_t observed;  /* highest counter a receiver read */
	bool masked;                /* manager only */
	uint64_t rebinds, masks;    /* manager only */
};

struct storm {
	struct xgnt_machine *m;
	struct xgnt_domain *d[NDOM];
	struct guest g[NDOM];
	struct chan ch[NCH];
	atomic_bool stop;
	pthread_barrier_t bar;
	_Atomic uint64_t delivered, ops;
};

struct thr {
	struct storm *s;
	unsigned int dom, vcpu;
	uint64_t seed;
};

/* The receiver saw port: read the channel's latest counter. */
static void storm_handle(struct guest *g, uint32_t port, void *arg)
{
	struct storm *s = arg;
	int c = port < MAX_PORT ? atomic_load(&g->portmap[port]) - 1 : -1;

	if (c >= 0) {
		atomic_max(&s->ch[c].observed, atomic_load(&s->ch[c].counter));
		atomic_fetch_add_explicit(&s->delivered, 1, memory_order_relaxed);
	}
}

static domid_t did(struct storm *s, unsigned int i)
{
	return xgnt_domain_id(s->d[i]);
}

/* Sender: finish a re-bind the receiver started, then send once. */
static void sender_step(struct thr *t, struct chan *ch, bool send)
{
	struct storm *s = t->s;
	struct xgnt_domain *d = s->d[t->dom];
	long rc;

	pthread_mutex_lock(&ch->lock);
	if (ch->state == CH_CLOSING) {
		struct evtchn_close cl = { .port = ch->sport };
		struct evtchn_bind_interdomain bi = {
			.remote_dom = did(s, ch->rdom), .remote_port = ch->rport,
		};

		rc = ev(d, t->vcpu, EVTCHNOP_close, &cl);
		TCHECK(rc == 0, "close of the unbound sender port %u: %ld", ch->sport, rc);
		rc = ev(d, t->vcpu, EVTCHNOP_bind_interdomain, &bi);
		TCHECK(rc == 0, "re-bind to d%u port %u: %ld", did(s, ch->rdom), ch->rport, rc);
		if (rc == 0)
			ch->sport = bi.local_port;
		/* What was sent before the close may be gone with it. */
		atomic_max(&ch->observed, atomic_load(&ch->counter));
		ch->state = CH_BOUND;
	}
	if (send) {
		struct evtchn_send sd = { .port = ch->sport };

		atomic_fetch_add(&ch->counter, 1);
		rc = ev(d, t->vcpu, EVTCHNOP_send, &sd);
		TCHECK(rc == 0, "send on d%u port %u: %ld", did(s, t->dom), ch->sport, rc);
	}
	pthread_mutex_unlock(&ch->lock);
}

/* Receiver's manager: close its end and allocate a new unbound port for
 * the sender to bind to. */
static void manager_rebind(struct thr *t, struct chan *ch)
{
	struct storm *s = t->s;
	struct guest *g = &s->g[t->dom];
	struct xgnt_domain *d = s->d[t->dom];
	struct evtchn_close cl;
	struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = did(s, ch->sdom) };
	long rc;

	pthread_mutex_lock(&ch->lock);
	if (ch->state != CH_BOUND)
		goto out;
	atomic_store(&g->portmap[ch->rport], 0);
	cl.port = ch->rport;
	rc = ev(d, t->vcpu, EVTCHNOP_close, &cl);
	TCHECK(rc == 0, "close d%u port %u: %ld", did(s, t->dom), ch->rport, rc);
	rc = ev(d, t->vcpu, EVTCHNOP_alloc_unbound, &au);
	if (rc != 0 || au.port >= MAX_PORT) {
		TFAIL("alloc_unbound d%u: %ld port %u", did(s, t->dom), rc, au.port);
		goto out;
	}
	/* A new binding starts unmasked (as Linux unmasks on bind). */
	ch->rport = au.port;
	if (g->fifo) {
		event_word_t *w = word(g, au.port);
		event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);

		TCHECK(!(old & W_LINKED), "new port %u is still LINKED", au.port);
		while (!__atomic_compare_exchange_n(w, &old, (old & ~(W_MASKED | W_BUSY)),
						    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			old &= ~W_BUSY;
	} else {
		__atomic_fetch_and(&g->s->evtchn_mask[au.port / 64],
				   ~((xen_ulong_t)1 << (au.port % 64)), __ATOMIC_SEQ_CST);
	}
	ch->masked = false;
	atomic_store(&g->portmap[au.port], (int)(ch - s->ch) + 1);
	ch->state = CH_CLOSING;
	ch->rebinds++;
out:
	pthread_mutex_unlock(&ch->lock);
}

static void manager_step(struct thr *t, struct chan *ch, uint64_t r)
{
	struct storm *s = t->s;
	struct guest *g = &s->g[t->dom];
	struct xgnt_domain *d = s->d[t->dom];
	long rc;

	switch (r % 8) {
	case 0:
		if (!ch->ipi)
			manager_rebind(t, ch);
		break;
	case 1: case 2: case 3:
		if (!ch->masked) {
			guest_mask(g, ch->rport);
			ch->masked = true;
			ch->masks++;
		} else {
			rc = guest_unmask(g, t->vcpu, ch->rport);
			TCHECK(rc == 0, "unmask d%u port %u: %ld", did(s, t->dom), ch->rport, rc);
			ch->masked = false;
		}
		break;
	case 4: case 5: {
		/* Not under ch->lock: sends run concurrently (only this thread
		 * changes rport). */
		struct evtchn_bind_vcpu bv = { .port = ch->rport, .vcpu = (uint32_t)(r >> 8) % NV };

		rc = ev(d, t->vcpu, EVTCHNOP_bind_vcpu, &bv);
		TCHECK(rc == (ch->ipi ? -EINVAL : 0), "bind_vcpu d%u port %u: %ld",
		       did(s, t->dom), bv.port, rc);
		break;
	}
	case 6:
		if (g->fifo) {
			struct evtchn_set_priority sp = {
				.port = ch->rport, .priority = (uint32_t)(r >> 8) % 16,
			};

			rc = ev(d, t->vcpu, EVTCHNOP_set_priority, &sp);
			TCHECK(rc == 0, "set_priority d%u port %u: %ld", did(s, t->dom), sp.port, rc);
		}
		break;
	default:
		break;
	}
}

static void *storm_thread(void *arg)
{
	struct thr *t = arg;
	struct storm *s = t->s;
	struct guest *g = &s->g[t->dom];
	unsigned int c, i;

	while (!atomic_load(&s->stop)) {
		for (c = 0; c < NCH; c++)
			if (s->ch[c].sdom == t->dom && s->ch[c].svcpu == t->vcpu)
				sender_step(t, &s->ch[c], true);
		consume(g, t->vcpu, storm_handle, s);
		if (rnd(&t->seed) % 4 == 0) {
			uint64_t r = rnd(&t->seed);

			c = (unsigned int)(r >> 32) % NCH;
			if (s->ch[c].rdom == t->dom && s->ch[c].mvcpu == t->vcpu)
				manager_step(t, &s->ch[c], r);
		}
		atomic_fetch_add_explicit(&s->ops, 1, memory_order_relaxed);
	}
	/* Quiesce: no new re-binds; senders finish theirs; managers unmask;
	 * then every vCPU drains its events. */
	pthread_barrier_wait(&s->bar);
	for (c = 0; c < NCH; c++)
		if (s->ch[c].sdom == t->dom && s->ch[c].svcpu == t->vcpu)
			sender_step(t, &s->ch[c], false);
	pthread_barrier_wait(&s->bar);
	for (c = 0; c < NCH; c++) {
		struct chan *ch = &s->ch[c];

		if (ch->rdom == t->dom && ch->mvcpu == t->vcpu && ch->masked) {
			long rc = guest_unmask(g, t->vcpu, ch->rport);

			TCHECK(rc == 0, "final unmask of port %u: %ld", ch->rport, rc);
			ch->masked = false;
		}
	}
	pthread_barrier_wait(&s->bar);
	for (i = 0; i < 3; i++)
		consume(g, t->vcpu, storm_handle, s);
	pthread_barrier_wait(&s->bar);
	return NULL;
}

static struct storm storm_state;   /* static: a failed check leaks nothing */

static void storm(bool fifo, double seconds)
{
	struct storm *s = &storm_state;
	struct thr th[NTHR];
	pthread_t tid[NTHR];
	uint64_t rebinds = 0, masks = 0;
	unsigned int c, i;

	memset(s, 0, sizeof(*s));
	fails_reset();
	s->m = t_machine();
	s->d[0] = mkdom(s->m, 1, XGNT_DOMAIN_HVM, NV);
	s->d[1] = mkdom(s->m, 2, XGNT_DOMAIN_PV, NV);
	for (i = 0; i < NDOM; i++) {
		guest_init(&s->g[i], s->d[i]);
		if (fifo)
			fifo_setup(&s->g[i]);
	}
	/* Interdomain channels, both directions; then one IPI per vCPU, sent
	 * by the sibling vCPU. */
	for (c = 0; c < NCH; c++) {
		struct chan *ch = &s->ch[c];

		pthread_mutex_init(&ch->lock, NULL);
		if (c < NCH_IDOM) {
			struct evtchn_alloc_unbound au = { .dom = DOMID_SELF };
			struct evtchn_bind_interdomain bi;
			struct evtchn_bind_vcpu bv;

			ch->sdom = c & 1;
			ch->rdom = 1 - ch->sdom;
			ch->svcpu = (c >> 1) & 1;
			ch->mvcpu = ((c >> 1) + (c >> 2)) & 1;
			au.remote_dom = did(s, ch->sdom);
			assert_int_equal(ev(s->d[ch->rdom], 0, EVTCHNOP_alloc_unbound, &au), 0);
			ch->rport = au.port;
			bi.remote_dom = did(s, ch->rdom);
			bi.remote_port = au.port;
			assert_int_equal(ev(s->d[ch->sdom], 0, EVTCHNOP_bind_interdomain, &bi), 0);
			ch->sport = bi.local_port;
			bv.port = ch->rport;
			bv.vcpu = (c >> 2) & 1;
			assert_int_equal(ev(s->d[ch->rdom], 0, EVTCHNOP_bind_vcpu, &bv), 0);
		} else {
			struct evtchn_bind_ipi bi;
			unsigned int k = c - NCH_IDOM;

			ch->ipi = true;
			ch->sdom = ch->rdom = k / NV;
			ch->mvcpu = k % NV;             /* bound to, and managed by, vCPU k%NV */
			ch->svcpu = 1 - ch->mvcpu;
			bi.vcpu = ch->mvcpu;
			assert_int_equal(ev(s->d[ch->rdom], 0, EVTCHNOP_bind_ipi, &bi), 0);
			ch->rport = ch->sport = bi.port;
		}
		assert_true(ch->rport < MAX_PORT);
		atomic_store(&s->g[ch->rdom].portmap[ch->rport], (int)c + 1);
	}
	assert_int_equal(pthread_barrier_init(&s->bar, NULL, NTHR), 0);
	for (i = 0; i < NTHR; i++) {
		th[i] = (struct thr){ .s = s, .dom = i / NV, .vcpu = i % NV,
				      .seed = 0x9e3779b97f4a7c15ull * (i + 1) + fifo };
		start(&tid[i], storm_thread, &th[i]);
	}
	{
		double t0 = now();

		while (now() - t0 < seconds)
			usleep(10000);
	}
	atomic_store(&s->stop, true);
	for (i = 0; i < NTHR; i++)
		join(tid[i], "storm");
	fails_assert();

	/* Coalescing allowed, loss not: every channel's receiver saw the
	 * sender's last value. */
	for (c = 0; c < NCH; c++) {
		struct chan *ch = &s->ch[c];
		uint64_t sent = atomic_load(&ch->counter), seen = atomic_load(&ch->observed);

		if (seen != sent)
			fail_msg("%s channel %u (%s d%u -> d%u port %u, vCPU %u): sent %llu, "
				 "receiver saw up to %llu", fifo ? "FIFO" : "2-level", c,
				 ch->ipi ? "IPI" : "interdomain", did(s, ch->sdom), did(s, ch->rdom),
				 ch->rport, ch->mvcpu, (unsigned long long)sent,
				 (unsigned long long)seen);
		assert_true(sent > 0);
		rebinds += ch->rebinds;
		masks += ch->masks;
	}
	assert_true(rebinds > 0);
	assert_true(masks > 0);
	{
		uint64_t sent = 0;

		for (c = 0; c < NCH; c++)
			sent += atomic_load(&s->ch[c].counter);
		fprintf(stderr, "  storm (%s): %llu sends, %llu deliveries, %llu re-binds, "
			"%llu masks, %llu loops\n", fifo ? "FIFO" : "2-level",
			(unsigned long long)sent, (unsigned long long)atomic_load(&s->delivered),
			(unsigned long long)rebinds, (unsigned long long)masks,
			(unsigned long long)atomic_load(&s->ops));
	}
	/* The machine's invariants and leak check, FIFO state live. */
	xgnt_machine_destroy(s->m);
	pthread_barrier_destroy(&s->bar);
	for (c = 0; c < NCH; c++)
		pthread_mutex_destroy(&s->ch[c].lock);
}

static void test_storm_2l(void **state)
{
	(void)state;
	storm(false, 1.5);
}

static void test_storm_fifo(void **state)
{
	(void)state;
	storm(true, 1.5);
}

/* ---- XSA-343 / XSA-505: reset racing the domain's other vCPU ---------------------- */

struct reset_race {
	struct guest g;
	bool fifo;
	atomic_bool stop;
	_Atomic unsigned int resets_ok, resets_again, expands_ok;
};

static void zero_page(void *p)
{
	uint32_t *w = p;

	for (unsigned int i = 0; i < 1024; i++)
		__atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
}

static bool ok_rc(long rc, long a, long b, long c)
{
	return rc == a || rc == b || rc == c;
}

/* vCPU 0: reset in a loop; on FIFO, set FIFO up again after each success. */
static void *resetter(void *arg)
{
	struct reset_race *r = arg;
	struct xgnt_domain *d = r->g.d;
	double t0 = now();

	while (now() - t0 < 1.0) {
		struct evtchn_reset rs = { .dom = DOMID_SELF };
		long rc = ev(d, 0, EVTCHNOP_reset, &rs);

		TCHECK(ok_rc(rc, 0, -EAGAIN, -EBUSY), "reset: %ld", rc);
		if (rc == 0)
			atomic_fetch_add(&r->resets_ok, 1);
		else
			atomic_fetch_add(&r->resets_again, 1);
		if (r->fifo && rc == 0) {
			/* Back on 2-level: the guest sets FIFO up again on fresh
			 * pages (nothing of Xen's writes to them meanwhile). */
			for (unsigned int v = 0; v < NV; v++)
				zero_page(t_ram_va(d, CB_RAM(v)));
			zero_page(t_ram_va(d, ARRAY_RAM(0)));
			for (unsigned int v = 0; v < NV; v++) {
				rc = init_control(&r->g, 0, v);
				TCHECK(rc == 0, "init_control vCPU %u after reset: %ld", v, rc);
			}
			/* -ENOSPC: the other vCPU's expand_array calls filled it. */
			rc = expand(&r->g, 0, ARRAY_RAM(0));
			TCHECK(ok_rc(rc, 0, -ENOSPC, 0), "expand_array after reset: %ld", rc);
		}
	}
	atomic_store(&r->stop, true);
	return NULL;
}

/* vCPU 1: open, use and close ports; expand the array (XSA-505). */
static void *opener(void *arg)
{
	struct reset_race *r = arg;
	struct xgnt_domain *d = r->g.d;
	uint64_t seed = 12345;

	while (!atomic_load(&r->stop)) {
		struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
		struct evtchn_bind_ipi bi = { .vcpu = (uint32_t)(rnd(&seed) % NV) };
		struct evtchn_send sd;
		struct evtchn_unmask um;
		struct evtchn_set_priority sp;
		struct evtchn_status st = { .dom = DOMID_SELF };
		struct evtchn_close cl;
		long rc;

		/* -ENOSPC: ports the guest never unlinked stay busy under FIFO. */
		rc = ev(d, 1, EVTCHNOP_alloc_unbound, &au);
		TCHECK(ok_rc(rc, 0, -ENOSPC, 0), "alloc_unbound: %ld", rc);
		if (rc)
			continue;
		rc = ev(d, 1, EVTCHNOP_bind_ipi, &bi);
		TCHECK(ok_rc(rc, 0, -ENOSPC, 0), "bind_ipi: %ld", rc);
		if (rc) {
			cl.port = au.port;
			rc = ev(d, 1, EVTCHNOP_close, &cl);
			TCHECK(ok_rc(rc, 0, -EINVAL, 0), "close: %ld", rc);
			continue;
		}
		sd.port = bi.port;
		rc = ev(d, 1, EVTCHNOP_send, &sd);
		TCHECK(ok_rc(rc, 0, -EINVAL, 0), "send IPI: %ld", rc);   /* closed by a reset */
		sd.port = au.port;
		rc = ev(d, 1, EVTCHNOP_send, &sd);
		TCHECK(ok_rc(rc, 0, -EINVAL, 0), "send unbound: %ld", rc);
		um.port = bi.port;
		rc = ev(d, 1, EVTCHNOP_unmask, &um);
		TCHECK(rc == 0, "unmask: %ld", rc);
		sp.port = bi.port;
		sp.priority = 3;
		rc = ev(d, 1, EVTCHNOP_set_priority, &sp);
		TCHECK(ok_rc(rc, 0, -ENOSYS, -EACCES), "set_priority: %ld", rc);
		st.port = bi.port;
		rc = ev(d, 1, EVTCHNOP_status, &st);
		TCHECK(rc == 0 && (st.status == EVTCHNSTAT_ipi || st.status == EVTCHNSTAT_closed),
		       "status: %ld %u", rc, st.status);
		if (r->fifo && rnd(&seed) % 8 == 0) {
			rc = expand(&r->g, 1, SPARE_RAM);
			TCHECK(ok_rc(rc, 0, -EOPNOTSUPP, -ENOSPC), "expand_array (XSA-505): %ld", rc);
			if (rc == 0)
				atomic_fetch_add(&r->expands_ok, 1);
		}
		cl.port = au.port;
		rc = ev(d, 1, EVTCHNOP_close, &cl);
		TCHECK(ok_rc(rc, 0, -EINVAL, 0), "close: %ld", rc);
		cl.port = bi.port;
		rc = ev(d, 1, EVTCHNOP_close, &cl);
		TCHECK(ok_rc(rc, 0, -EINVAL, 0), "close IPI: %ld", rc);
	}
	return NULL;
}

static struct reset_race reset_state;

static void reset_race(bool fifo)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, XGNT_DOMAIN_HVM, NV);
	struct reset_race *r = &reset_state;
	pthread_t a, b;
	uint32_t port;

	memset(r, 0, sizeof(*r));
	fails_reset();
	guest_init(&r->g, d);
	r->fifo = fifo;
	if (fifo)
		fifo_setup(&r->g);
	start(&a, resetter, r);
	start(&b, opener, r);
	join(a, "resetter");
	join(b, "opener");
	fails_assert();
	assert_true(atomic_load(&r->resets_ok) > 0);

	/* Every port's status is valid; validity is a prefix. */
	for (port = 0; port < 2048; port++) {
		struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
		long rc = ev(d, 0, EVTCHNOP_status, &st);

		if (rc == -EINVAL)
			break;
		assert_int_equal(rc, 0);
		assert_true(st.status <= EVTCHNSTAT_ipi);
		assert_true(st.vcpu < NV);
	}
	for (uint32_t p = port; p < 2048; p++) {
		struct evtchn_status st = { .dom = DOMID_SELF, .port = p };

		assert_int_equal(ev(d, 0, EVTCHNOP_status, &st), -EINVAL);
	}
	/* Quiet now: a reset succeeds and closes everything; 2-level again. */
	{
		struct evtchn_reset rs = { .dom = DOMID_SELF };
		struct evtchn_set_priority sp = { .port = 0, .priority = 1 };
		struct evtchn_bind_ipi bi = { .vcpu = 0 };
		struct evtchn_send sd;

		assert_int_equal(ev(d, 0, EVTCHNOP_reset, &rs), 0);
		for (uint32_t p = 0; p < port; p++) {
			struct evtchn_status st = { .dom = DOMID_SELF, .port = p };

			assert_int_equal(ev(d, 0, EVTCHNOP_status, &st), 0);
			assert_int_equal(st.status, EVTCHNSTAT_closed);
		}
		assert_int_equal(ev(d, 0, EVTCHNOP_set_priority, &sp), -ENOSYS);
		assert_int_equal(expand(&r->g, 0, ARRAY_RAM(0)), -EOPNOTSUPP);
		assert_int_equal(ev(d, 0, EVTCHNOP_bind_ipi, &bi), 0);
		assert_int_equal(bi.port, 1);
		sd.port = bi.port;
		assert_int_equal(ev(d, 0, EVTCHNOP_send, &sd), 0);
		assert_true(__atomic_load_n(&r->g.s->evtchn_pending[0], __ATOMIC_SEQ_CST) & 2);
		assert_int_equal(ev(d, 0, EVTCHNOP_reset, &rs), 0);
	}
	fprintf(stderr, "  reset race (%s): %u resets done, %u raced; %u expands\n",
		fifo ? "FIFO" : "2-level", atomic_load(&r->resets_ok),
		atomic_load(&r->resets_again), atomic_load(&r->expands_ok));
	xgnt_machine_destroy(m);
}

static void test_xsa343_reset_race_2l(void **state)
{
	(void)state;
	reset_race(false);
}

static void test_xsa343_505_reset_race_fifo(void **state)
{
	(void)state;
	reset_race(true);
}

/* ---- XSA-340: a new bucket published before the port count -------------------- */

#define X340_PORTS 3000

struct x340 {
	struct guest g;
	_Atomic uint32_t latest;     /* newest bound IPI port */
	atomic_bool done;
	_Atomic uint64_t sends;
};

static struct x340 x340_state;

/* vCPU 0: bind IPIs, crossing a bucket every 64 ports. */
static void *x340_binder(void *arg)
{
	struct x340 *x = arg;

	for (unsigned int i = 0; i < X340_PORTS; i++) {
		struct evtchn_bind_ipi bi = { .vcpu = 0 };
		long rc = ev(x->g.d, 0, EVTCHNOP_bind_ipi, &bi);

		if (rc) {
			TFAIL("bind_ipi #%u: %ld", i, rc);
			break;
		}
		atomic_store_explicit(&x->latest, bi.port, memory_order_relaxed);
	}
	atomic_store(&x->done, true);
	return NULL;
}

/* vCPU 1: send on the newest port, probe just past it. */
static void *x340_sender(void *arg)
{
	struct x340 *x = arg;

	while (!atomic_load(&x->done)) {
		uint32_t p = atomic_load_explicit(&x->latest, memory_order_relaxed);
		struct evtchn_send sd = { .port = p };
		struct evtchn_status st = { .dom = DOMID_SELF, .port = p + 1 };
		struct evtchn_unmask um = { .port = p + 2 };
		long rc;

		if (p) {
			rc = ev(x->g.d, 1, EVTCHNOP_send, &sd);
			TCHECK(rc == 0, "send on bound port %u: %ld", p, rc);
		}
		rc = ev(x->g.d, 1, EVTCHNOP_status, &st);
		TCHECK(rc == -EINVAL || (rc == 0 && (st.status == EVTCHNSTAT_closed ||
						     st.status == EVTCHNSTAT_ipi)),
		       "status of port %u: %ld %u", p + 1, rc, st.status);
		rc = ev(x->g.d, 1, EVTCHNOP_unmask, &um);
		TCHECK(rc == 0 || rc == -EINVAL, "unmask of port %u: %ld", p + 2, rc);
		sd.port = p + 64;
		rc = ev(x->g.d, 1, EVTCHNOP_send, &sd);
		TCHECK(rc == 0 || rc == -EINVAL, "send on port %u: %ld", p + 64, rc);
		atomic_fetch_add_explicit(&x->sends, 1, memory_order_relaxed);
	}
	return NULL;
}

static void xsa340(bool fifo)
{
	struct xgnt_machine *m = t_machine();
	struct x340 *x = &x340_state;
	pthread_t a, b;

	memset(x, 0, sizeof(*x));
	fails_reset();
	guest_init(&x->g, mkdom_max(m, 1, XGNT_DOMAIN_HVM, NV, 4095));
	if (fifo)
		fifo_setup(&x->g);
	start(&b, x340_sender, x);
	start(&a, x340_binder, x);
	join(a, "binder");
	join(b, "sender");
	fails_assert();
	assert_int_equal(atomic_load(&x->latest), X340_PORTS);
	assert_true(atomic_load(&x->sends) > 0);
	xgnt_machine_destroy(m);
}

static void test_xsa340_alloc_vs_send_2l(void **state)
{
	(void)state;
	xsa340(false);
}

static void test_xsa340_alloc_vs_send_fifo(void **state)
{
	(void)state;
	xsa340(true);
}

/* ---- XSA-358 / 359: init_control racing sends to that vCPU ------------------------ */

#define X358_CH    6
#define X358_ITERS 30

struct x358 {
	struct xgnt_domain *a, *b;
	struct guest gb;
	uint32_t sport[X358_CH], rport[X358_CH];
	_Atomic uint64_t counter[X358_CH], observed[X358_CH];
	_Atomic uint64_t sends;
	atomic_bool cb1_live, init_done, stop;
};

static void x358_handle(struct guest *g, uint32_t port, void *arg)
{
	struct x358 *x = arg;
	int c = port < MAX_PORT ? atomic_load(&g->portmap[port]) - 1 : -1;

	if (c >= 0)
		atomic_max(&x->observed[c], atomic_load(&x->counter[c]));
}

static void *x358_sender(void *arg)
{
	struct x358 *x = arg;
	unsigned int after = 0;

	while (after < 300) {
		for (unsigned int c = 0; c < X358_CH; c++) {
			struct evtchn_send sd = { .port = x->sport[c] };
			long rc;

			atomic_fetch_add(&x->counter[c], 1);
			rc = ev(x->a, 0, EVTCHNOP_send, &sd);
			TCHECK(rc == 0, "send: %ld", rc);
		}
		atomic_fetch_add(&x->sends, 1);
		if (atomic_load(&x->init_done))
			after++;
	}
	atomic_store(&x->stop, true);
	return NULL;
}

static void *x358_init(void *arg)
{
	struct x358 *x = arg;
	long rc;

	while (atomic_load(&x->sends) < 20)
		sched_yield();
	rc = init_control(&x->gb, 0, 1);
	TCHECK(rc == 0, "init_control vCPU 1: %ld", rc);
	atomic_store(&x->cb1_live, true);
	atomic_store(&x->init_done, true);
	return NULL;
}

/* vCPU 1 itself: once its control block is live, unmask its ports (what was
 * sent before is pending but unlinked, XSA-107) and consume. */
static void *x358_consumer(void *arg)
{
	struct x358 *x = arg;

	while (!atomic_load(&x->cb1_live))
		sched_yield();
	for (unsigned int c = 0; c < X358_CH; c++) {
		long rc = guest_unmask(&x->gb, 1, x->rport[c]);

		TCHECK(rc == 0, "unmask: %ld", rc);
	}
	while (!atomic_load(&x->stop))
		consume(&x->gb, 1, x358_handle, x);
	return NULL;
}

static struct x358 x358_state;

static void test_xsa358_init_control_vs_send(void **state)
{
	(void)state;
	for (unsigned int it = 0; it < X358_ITERS; it++) {
		struct xgnt_machine *m = t_machine();
		struct x358 *x = &x358_state;
		pthread_t ts, ti, tc;

		memset(x, 0, sizeof(*x));
		fails_reset();
		x->a = mkdom(m, 1, it & 1 ? XGNT_DOMAIN_PV : XGNT_DOMAIN_HVM, 1);
		x->b = mkdom(m, 2, it & 1 ? XGNT_DOMAIN_HVM : XGNT_DOMAIN_PV, NV);
		guest_init(&x->gb, x->b);
		assert_int_equal(init_control(&x->gb, 0, 0), 0);
		assert_int_equal(expand(&x->gb, 0, ARRAY_RAM(0)), 0);
		x->gb.fifo = true;
		for (unsigned int c = 0; c < X358_CH; c++) {
			struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 1 };
			struct evtchn_bind_interdomain bi = { .remote_dom = 2 };
			struct evtchn_bind_vcpu bv = { .vcpu = 1 };

			assert_int_equal(ev(x->b, 0, EVTCHNOP_alloc_unbound, &au), 0);
			bi.remote_port = au.port;
			assert_int_equal(ev(x->a, 0, EVTCHNOP_bind_interdomain, &bi), 0);
			bv.port = au.port;
			assert_int_equal(ev(x->b, 0, EVTCHNOP_bind_vcpu, &bv), 0);
			if (c == X358_CH - 1) {   /* one at a lower priority */
				struct evtchn_set_priority sp = { .port = au.port, .priority = 12 };

				assert_int_equal(ev(x->b, 0, EVTCHNOP_set_priority, &sp), 0);
			}
			x->sport[c] = bi.local_port;
			x->rport[c] = au.port;
			atomic_store(&x->gb.portmap[au.port], (int)c + 1);
		}
		start(&tc, x358_consumer, x);
		start(&ts, x358_sender, x);
		start(&ti, x358_init, x);
		join(ts, "sender");
		join(ti, "init");
		join(tc, "consumer");
		fails_assert();
		/* Quiet: unmask again (a no-op unless pending) and drain vCPU 1. */
		for (unsigned int c = 0; c < X358_CH; c++)
			assert_int_equal(guest_unmask(&x->gb, 1, x->rport[c]), 0);
		consume(&x->gb, 1, x358_handle, x);
		fails_assert();
		for (unsigned int c = 0; c < X358_CH; c++)
			if (atomic_load(&x->observed[c]) != atomic_load(&x->counter[c]))
				fail_msg("iteration %u channel %u: sent %llu, vCPU 1 saw up to %llu", it, c,
					 (unsigned long long)atomic_load(&x->counter[c]),
					 (unsigned long long)atomic_load(&x->observed[c]));
		xgnt_machine_destroy(m);
	}
}

/* ---- VCPUOP_register_vcpu_info racing deliveries ---------------------------------- */

/*
 * vCPU 1 moves its vcpu_info into a page of its own while another domain
 * keeps sending to ports bound to it. Nothing may be lost in the move (Xen
 * marks everything pending on the new vcpu_info).
 */
#define RV_CH   4
#define RV_PAGE 50u

struct rv {
	struct xgnt_domain *a, *b;
	struct guest gb;
	uint32_t sport[RV_CH];
	_Atomic uint64_t counter[RV_CH], observed[RV_CH];
	atomic_bool stop;
	_Atomic uint64_t sends;
	long reg_rc;
};

static struct rv rv_state;

static void rv_handle(struct guest *g, uint32_t port, void *arg)
{
	struct rv *x = arg;
	int c = port < MAX_PORT ? atomic_load(&g->portmap[port]) - 1 : -1;

	if (c >= 0)
		atomic_max(&x->observed[c], atomic_load(&x->counter[c]));
}

static void *rv_sender(void *arg)
{
	struct rv *x = arg;

	while (!atomic_load(&x->stop)) {
		for (unsigned int c = 0; c < RV_CH; c++) {
			struct evtchn_send sd = { .port = x->sport[c] };
			long rc;

			atomic_fetch_add(&x->counter[c], 1);
			rc = ev(x->a, 0, EVTCHNOP_send, &sd);
			TCHECK(rc == 0, "send: %ld", rc);
		}
		atomic_fetch_add(&x->sends, 1);
	}
	return NULL;
}

/* vCPU 1: consume, register its vcpu_info mid-stream, consume on. */
static void *rv_vcpu1(void *arg)
{
	struct rv *x = arg;
	struct vcpu_register_vcpu_info r = {
		.mfn = t_ram_frame(x->b, RV_PAGE), .offset = 128,
	};
	double t0 = now();

	while (atomic_load(&x->sends) < 50)
		consume(&x->gb, 1, rv_handle, x);
	x->reg_rc = xgnt_vcpu_op(vc(x->b, 1), VCPUOP_register_vcpu_info, 1, &r);
	if (x->reg_rc == 0)
		x->gb.vi[1] = (vcpu_info_t *)((uint8_t *)t_ram_va(x->b, RV_PAGE) + 128);
	while (now() - t0 < 0.3)
		consume(&x->gb, 1, rv_handle, x);
	atomic_store(&x->stop, true);
	return NULL;
}

static void register_vs_send(bool fifo)
{
	for (unsigned int it = 0; it < 5; it++) {
		struct xgnt_machine *m = t_machine();
		struct rv *x = &rv_state;
		pthread_t ts, tv;

		memset(x, 0, sizeof(*x));
		fails_reset();
		x->a = mkdom(m, 1, XGNT_DOMAIN_HVM, 1);
		x->b = mkdom(m, 2, it & 1 ? XGNT_DOMAIN_PV : XGNT_DOMAIN_HVM, NV);
		guest_init(&x->gb, x->b);
		memset(t_ram_va(x->b, RV_PAGE), 0, 4096);
		if (fifo)
			fifo_setup(&x->gb);
		for (unsigned int c = 0; c < RV_CH; c++) {
			struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 1 };
			struct evtchn_bind_interdomain bi = { .remote_dom = 2 };
			struct evtchn_bind_vcpu bv = { .vcpu = 1 };

			assert_int_equal(ev(x->b, 0, EVTCHNOP_alloc_unbound, &au), 0);
			bi.remote_port = au.port;
			assert_int_equal(ev(x->a, 0, EVTCHNOP_bind_interdomain, &bi), 0);
			bv.port = au.port;
			assert_int_equal(ev(x->b, 0, EVTCHNOP_bind_vcpu, &bv), 0);
			x->sport[c] = bi.local_port;
			atomic_store(&x->gb.portmap[au.port], (int)c + 1);
		}
		start(&ts, rv_sender, x);
		start(&tv, rv_vcpu1, x);
		join(ts, "sender");
		join(tv, "vcpu1");
		fails_assert();
		assert_int_equal(x->reg_rc, 0);
		consume(&x->gb, 1, rv_handle, x);
		for (unsigned int c = 0; c < RV_CH; c++)
			if (atomic_load(&x->observed[c]) != atomic_load(&x->counter[c]))
				fail_msg("%s round %u channel %u: sent %llu, vCPU 1 saw up to %llu",
					 fifo ? "FIFO" : "2-level", it, c,
					 (unsigned long long)atomic_load(&x->counter[c]),
					 (unsigned long long)atomic_load(&x->observed[c]));
		xgnt_machine_destroy(m);
	}
}

static void test_register_vcpu_info_vs_send_2l(void **state)
{
	(void)state;
	register_vs_send(false);
}

static void test_register_vcpu_info_vs_send_fifo(void **state)
{
	(void)state;
	register_vs_send(true);
}

/* ---- a hostile guest rewriting its event words during sends ---------------------- */

/*
 * The guest owns the event words and the control block: whatever it writes
 * there concurrently (flipping MASKED, BUSY, LINKED, PENDING, garbage LINK
 * fields and queue heads), every send returns promptly (the link CAS is
 * bounded, c.3) and the hypervisor stays consistent.
 */
#define HOSTILE_PORTS 12

struct hostile {
	struct guest g;
	uint32_t port[HOSTILE_PORTS];
	atomic_bool stop;
	_Atomic uint64_t sends, flips;
};

static struct hostile hostile_state;

static void *hostile_writer(void *arg)
{
	struct hostile *h = arg;
	uint64_t seed = 4242;

	while (!atomic_load(&h->stop)) {
		uint64_t r = rnd(&seed);
		event_word_t *w = word(&h->g, h->port[r % HOSTILE_PORTS]);

		switch ((r >> 8) % 8) {
		case 0: __atomic_fetch_xor(w, W_MASKED, __ATOMIC_SEQ_CST); break;
		case 1: __atomic_fetch_and(w, ~W_BUSY, __ATOMIC_SEQ_CST); break;
		case 2: __atomic_fetch_and(w, ~W_LINKED, __ATOMIC_SEQ_CST); break;
		case 3: __atomic_fetch_xor(w, (event_word_t)(r >> 16) & EVTCHN_FIFO_LINK_MASK,
					   __ATOMIC_SEQ_CST); break;
		case 4: __atomic_fetch_or(w, W_PENDING | W_LINKED, __ATOMIC_SEQ_CST); break;
		case 5: __atomic_store_n(&h->g.cb[(r >> 20) % NV]->head[(r >> 24) % 16],
					 (uint32_t)(r >> 32), __ATOMIC_SEQ_CST); break;
		case 6: __atomic_store_n(&h->g.cb[(r >> 20) % NV]->ready, (uint32_t)(r >> 32),
					 __ATOMIC_SEQ_CST); break;
		default: __atomic_store_n(w, (event_word_t)(r >> 32), __ATOMIC_SEQ_CST); break;
		}
		atomic_fetch_add_explicit(&h->flips, 1, memory_order_relaxed);
	}
	return NULL;
}

static void *hostile_sender(void *arg)
{
	struct hostile *h = arg;
	double t0 = now();

	while (now() - t0 < 1.0) {
		for (unsigned int i = 0; i < HOSTILE_PORTS; i++) {
			struct evtchn_send sd = { .port = h->port[i] };
			struct evtchn_unmask um = { .port = h->port[i] };
			long rc = ev(h->g.d, 1, EVTCHNOP_send, &sd);

			TCHECK(rc == 0, "send: %ld", rc);
			rc = ev(h->g.d, 1, EVTCHNOP_unmask, &um);
			TCHECK(rc == 0, "unmask: %ld", rc);
		}
		atomic_fetch_add_explicit(&h->sends, 1, memory_order_relaxed);
	}
	atomic_store(&h->stop, true);
	return NULL;
}

static void test_hostile_event_words(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct hostile *h = &hostile_state;
	pthread_t a, b;

	(void)state;
	memset(h, 0, sizeof(*h));
	fails_reset();
	guest_init(&h->g, mkdom(m, 1, XGNT_DOMAIN_PV, NV));
	fifo_setup(&h->g);
	for (unsigned int i = 0; i < HOSTILE_PORTS; i++) {
		struct evtchn_bind_ipi bi = { .vcpu = i % NV };

		assert_int_equal(ev(h->g.d, 0, EVTCHNOP_bind_ipi, &bi), 0);
		h->port[i] = bi.port;
		if (i % 3 == 0) {
			struct evtchn_set_priority sp = { .port = bi.port, .priority = i % 16 };

			assert_int_equal(ev(h->g.d, 0, EVTCHNOP_set_priority, &sp), 0);
		}
	}
	start(&a, hostile_writer, h);
	start(&b, hostile_sender, h);
	join(b, "sender");
	join(a, "writer");
	fails_assert();
	assert_true(atomic_load(&h->sends) > 0 && atomic_load(&h->flips) > 0);
	/* Still a working domain: status, close, reset. */
	for (unsigned int i = 0; i < HOSTILE_PORTS; i++) {
		struct evtchn_status st = { .dom = DOMID_SELF, .port = h->port[i] };

		assert_int_equal(ev(h->g.d, 0, EVTCHNOP_status, &st), 0);
		assert_int_equal(st.status, EVTCHNSTAT_ipi);
	}
	{
		struct evtchn_reset r = { .dom = DOMID_SELF };

		assert_int_equal(ev(h->g.d, 0, EVTCHNOP_reset, &r), 0);
	}
	xgnt_machine_destroy(m);
}

/* ---- 2-level -> FIFO switch racing a send ------------------------------------- */

/*
 * One event sent while the guest switches to FIFO must not be lost: sent
 * under 2-level it is carried over (init_control keeps 2-level pending
 * state), sent under FIFO it waits for its array page. A send that picked
 * the 2-level ops but sets its bit after init_control looked at that port
 * lands in a bitmap nobody reads any more.
 */
#define SW_ITERS 1000
#define SW_CH    8      /* channels per round, each sent once */

struct sw {
	struct xgnt_domain *a, *b;
	struct guest gb;
	uint32_t sport[SW_CH], rport[SW_CH];
	bool seen[SW_CH];
	atomic_int phase;      /* round number both threads wait for */
	atomic_int ready;
	unsigned int delay, step;
};

static void spin(unsigned int n)
{
	for (volatile unsigned int i = 0; i < n; i++)
		;
}

/* a's vCPU 0: in each round, send once on every channel, staggered. */
static void *sw_sender(void *arg)
{
	struct sw *x = arg;

	for (int it = 1; it <= SW_ITERS; it++) {
		while (atomic_load(&x->phase) != it)
			sched_yield();
		atomic_fetch_add(&x->ready, 1);
		while (atomic_load(&x->ready) < 2)
			;
		spin(x->delay);
		for (unsigned int c = 0; c < SW_CH; c++) {
			struct evtchn_send sd = { .port = x->sport[c] };
			long rc = ev(x->a, 0, EVTCHNOP_send, &sd);

			TCHECK(rc == 0, "send: %ld", rc);
			spin(x->step);
		}
		atomic_fetch_add(&x->ready, 1);
	}
	return NULL;
}

static void count_port(struct guest *g, uint32_t port, void *arg)
{
	struct sw *x = arg;

	(void)g;
	for (unsigned int c = 0; c < SW_CH; c++)
		if (port == x->rport[c])
			x->seen[c] = true;
}

static struct sw sw_state;

/*
 * Rounds of: a clean guest with SW_CH channels from a; the sender sends
 * once on each, after random delays, while the guest runs its setup step;
 * then every event must be found on vCPU 0. early_init: FIFO is set up
 * (control blocks, no array page) before the race, which is then send vs
 * expand_array only.
 */
static void switch_rounds(bool early_init)
{
	struct xgnt_machine *m = t_machine();
	struct sw *x = &sw_state;
	pthread_t t;
	unsigned int lost_l2 = 0, lost_other = 0, first_lost = 0, fword = 0;
	uint64_t seed = 777;

	memset(x, 0, sizeof(*x));
	fails_reset();
	x->a = mkdom(m, 1, XGNT_DOMAIN_HVM, 1);
	x->b = mkdom(m, 2, XGNT_DOMAIN_HVM, NV);
	guest_init(&x->gb, x->b);
	start(&t, sw_sender, x);
	for (int it = 1; it <= SW_ITERS; it++) {
		struct evtchn_reset rs = { .dom = DOMID_SELF };

		/* A clean 2-level guest with SW_CH channels from a. */
		for (unsigned int w = 0; w < 64; w++) {
			__atomic_store_n(&x->gb.s->evtchn_pending[w], 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&x->gb.s->evtchn_mask[w], 0, __ATOMIC_SEQ_CST);
		}
		for (unsigned int v = 0; v < NV; v++) {
			__atomic_store_n(&x->gb.s->vcpu_info[v].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
			zero_page(t_ram_va(x->b, CB_RAM(v)));
			memset(x->gb.lhead[v], 0, sizeof(x->gb.lhead[v]));
		}
		zero_page(t_ram_va(x->b, ARRAY_RAM(0)));
		if (early_init) {
			assert_int_equal(init_control(&x->gb, 0, 0), 0);
			assert_int_equal(init_control(&x->gb, 0, 1), 0);
		}
		for (unsigned int c = 0; c < SW_CH; c++) {
			struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 1 };
			struct evtchn_bind_interdomain bi = { .remote_dom = 2 };

			assert_int_equal(ev(x->b, 0, EVTCHNOP_alloc_unbound, &au), 0);
			bi.remote_port = au.port;
			assert_int_equal(ev(x->a, 0, EVTCHNOP_bind_interdomain, &bi), 0);
			x->sport[c] = bi.local_port;
			x->rport[c] = au.port;
			x->seen[c] = false;
		}
		/* Log-uniform delays: the window moves with the build. */
		x->delay = (unsigned int)(rnd(&seed) % (2u << (rnd(&seed) % 15)));
		x->step = (unsigned int)(rnd(&seed) % (2u << (rnd(&seed) % 12)));
		atomic_store(&x->ready, 0);
		atomic_store(&x->phase, it);
		while (atomic_load(&x->ready) < 1)
			sched_yield();
		atomic_fetch_add(&x->ready, 1);
		/* The switch, as a guest does it. */
		if (!early_init) {
			assert_int_equal(init_control(&x->gb, 0, 0), 0);
			assert_int_equal(init_control(&x->gb, 0, 1), 0);
		}
		assert_int_equal(expand(&x->gb, 0, ARRAY_RAM(0)), 0);
		x->gb.fifo = true;
		while (atomic_load(&x->ready) < 3)
			sched_yield();
		/* The sends are done: every event must show up on vCPU 0. */
		for (unsigned int c = 0; c < SW_CH; c++)
			assert_int_equal(guest_unmask(&x->gb, 0, x->rport[c]), 0);
		consume(&x->gb, 0, count_port, x);
		for (unsigned int c = 0; c < SW_CH; c++) {
			uint32_t p = x->rport[c];

			if (x->seen[c])
				continue;
			if (!lost_l2 && !lost_other) {
				first_lost = (unsigned int)it;
				fword = __atomic_load_n(word(&x->gb, p), __ATOMIC_SEQ_CST);
			}
			if (__atomic_load_n(&x->gb.s->evtchn_pending[p / 64], __ATOMIC_SEQ_CST) >>
			    (p % 64) & 1)
				lost_l2++;
			else
				lost_other++;
		}
		/* Back to 2-level for the next round. */
		x->gb.fifo = false;
		assert_int_equal(ev(x->b, 0, EVTCHNOP_reset, &rs), 0);
		for (unsigned int c = 0; c < SW_CH; c++) {
			struct evtchn_close cl = { .port = x->sport[c] };

			assert_int_equal(ev(x->a, 0, EVTCHNOP_close, &cl), 0);
		}
	}
	join(t, "sender");
	fails_assert();
	xgnt_machine_destroy(m);
	if (lost_l2 || lost_other)
		fail_msg("%s: %u of %u events lost: %u left in the 2-level bitmap, %u neither "
			 "there nor in the event word (first: round %u, word %#x)",
			 early_init ? "send vs expand_array" : "send vs 2-level -> FIFO switch",
			 lost_l2 + lost_other, SW_ITERS * SW_CH, lost_l2, lost_other, first_lost,
			 fword);
}

/* Sent while the guest switches to FIFO (init_control on each vCPU, then
 * expand_array). */
static void test_fifo_switch_vs_send(void **state)
{
	(void)state;
	switch_rounds(false);
}

/*
 * FIFO is on but the port has no array page yet: set_pending remembers the
 * event in chn->pending and expand_array raises it. A send that found no
 * page, then sets chn->pending after expand_array's raise loop looked at
 * it, is never raised.
 */
static void test_fifo_expand_vs_send(void **state)
{
	(void)state;
	switch_rounds(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm_2l),
		cmocka_unit_test(test_storm_fifo),
		cmocka_unit_test(test_xsa343_reset_race_2l),
		cmocka_unit_test(test_xsa343_505_reset_race_fifo),
		cmocka_unit_test(test_xsa340_alloc_vs_send_2l),
		cmocka_unit_test(test_xsa340_alloc_vs_send_fifo),
		cmocka_unit_test(test_xsa358_init_control_vs_send),
		cmocka_unit_test(test_register_vcpu_info_vs_send_2l),
		cmocka_unit_test(test_register_vcpu_info_vs_send_fifo),
		cmocka_unit_test(test_hostile_event_words),
		cmocka_unit_test(test_fifo_switch_vs_send),
		cmocka_unit_test(test_fifo_expand_vs_send),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
