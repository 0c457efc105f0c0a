/* SPDX-License-Identifier: MIT */
/*
 * The FIFO event-channel ABI as a Linux guest drives it (xen-hypervisor.md
 * b.12 init_control / expand_array / set_priority, c.3 link protocol; XSA-107,
 * 188, 317, 505 and "busy" ports): control blocks and event-array pages in
 * the guest's own RAM, queues consumed the way Linux's events_fifo.c does.
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NV_MAX       4
#define SHINFO_PAGE  900        /* shared_info at ext_base + this page */
#define CB_RAM(v)    (10u + (v))   /* RAM page of vCPU v's control block */
#define ARRAY_RAM(i) (20u + (i))   /* RAM page of event-array page i */
#define SPARE_RAM    200u          /* a spare page for re-initialisation */

#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)
#define W_BUSY    (1u << EVTCHN_FIFO_BUSY)
#define WORDS_PER_PAGE 1024u
#define MAX_ARRAY_PAGES 128u

/* ---- the guest's side ------------------------------------------------------ */

struct guest {
	struct xgnt_domain *d;
	unsigned int nv;
	shared_info_t *s;
	evtchn_fifo_control_block_t *cb[NV_MAX];
	event_word_t *array[MAX_ARRAY_PAGES];
	unsigned int npages;
	uint32_t lhead[NV_MAX][EVTCHN_FIFO_MAX_QUEUES];   /* consumer's local heads */
	unsigned int bad;                                   /* garbage seen in queues */
};

static uint64_t ext_gfn(struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;

	xgnt_domain_layout(d, &l);
	return l.ext_base >> 12;
}

static bool is_translated(struct xgnt_domain *d)
{
	return xgnt_domain_pfn_to_mfn(d, 0) == INVALID_MFN;
}

static struct xgnt_domain *mkdom(struct xgnt_machine *m, domid_t id, enum xgnt_domain_type type,
				 unsigned int nv, uint32_t max_port, bool priv)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = nv, .max_evtchn_port = max_port, .privileged = priv,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

/* Map shared_info as the guest does: XENMAPSPACE_shared_info for translated
 * guests, update_va_mapping of start_info->shared_info for PV. */
static void guest_init(struct guest *g, struct xgnt_domain *d, unsigned int nv)
{
	uint64_t gfn = ext_gfn(d) + SHINFO_PAGE;

	memset(g, 0, sizeof(*g));
	g->d = d;
	g->nv = nv;
	if (is_translated(d)) {
		struct xen_add_to_physmap a = {
			.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = gfn,
		};

		assert_int_equal(xgnt_memory_op(t_v0(d), XENMEM_add_to_physmap, &a), 0);
	} else {
		assert_int_equal(xgnt_update_va_mapping(t_v0(d), gfn << 12,
							xgnt_domain_shared_info_mfn(d),
							XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	}
	g->s = xgnt_domain_va(d, gfn << 12);
	assert_non_null(g->s);
}

static long ev_op(struct xgnt_domain *d, int cmd, void *arg)
{
	return xgnt_event_channel_op(t_v0(d), cmd, arg);
}

static long init_control_at(struct guest *g, unsigned int v, uint64_t gfn, uint32_t off,
			    uint32_t *link_bits)
{
	struct evtchn_init_control ic = { .control_gfn = gfn, .offset = off, .vcpu = v };
	long rc = ev_op(g->d, EVTCHNOP_init_control, &ic);

	if (link_bits)
		*link_bits = ic.link_bits;
	return rc;
}

/* init_control for vCPU v on its own zeroed RAM page at offset off. */
static long fifo_init_vcpu(struct guest *g, unsigned int v, uint32_t off)
{
	uint32_t lb = 0;
	long rc;

	memset(t_ram_va(g->d, CB_RAM(v)), 0, 4096);
	rc = init_control_at(g, v, t_ram_frame(g->d, CB_RAM(v)), off, &lb);
	if (rc == 0) {
		assert_int_equal(lb, EVTCHN_FIFO_LINK_BITS);
		g->cb[v] = (evtchn_fifo_control_block_t *)((uint8_t *)t_ram_va(g->d, CB_RAM(v)) + off);
		memset(g->lhead[v], 0, sizeof(g->lhead[v]));
	}
	return rc;
}

static long expand_gfn(struct xgnt_domain *d, uint64_t gfn)
{
	struct evtchn_expand_array ea = { .array_gfn = gfn };

	return ev_op(d, EVTCHNOP_expand_array, &ea);
}

/* Add the next event-array page: words all 0 (unmasked) or all MASKED, as
 * Linux initialises them. */
static long fifo_expand(struct guest *g, bool masked)
{
	unsigned int i = g->npages;
	event_word_t *w = t_ram_va(g->d, ARRAY_RAM(i));
	long rc;

	for (unsigned int k = 0; k < WORDS_PER_PAGE; k++)
		w[k] = masked ? W_MASKED : 0;
	rc = expand_gfn(g->d, t_ram_frame(g->d, ARRAY_RAM(i)));
	if (rc == 0)
		g->array[g->npages++] = w;
	return rc;
}

static void fifo_setup(struct guest *g, unsigned int nv_init, unsigned int pages)
{
	for (unsigned int v = 0; v < nv_init; v++)
		assert_int_equal(fifo_init_vcpu(g, v, 0), 0);
	for (unsigned int i = 0; i < pages; i++)
		assert_int_equal(fifo_expand(g, false), 0);
}

static event_word_t *word(struct guest *g, uint32_t port)
{
	if (port >= g->npages * WORDS_PER_PAGE)
		return NULL;
	return &g->array[port / WORDS_PER_PAGE][port % WORDS_PER_PAGE];
}

static event_word_t wload(struct guest *g, uint32_t port)
{
	event_word_t *w = word(g, port);

	assert_non_null(w);
	return __atomic_load_n(w, __ATOMIC_SEQ_CST);
}

static uint32_t cb_ready(struct guest *g, unsigned int v)
{
	return __atomic_load_n(&g->cb[v]->ready, __ATOMIC_SEQ_CST);
}

static uint32_t cb_head(struct guest *g, unsigned int v, unsigned int q)
{
	return __atomic_load_n(&g->cb[v]->head[q], __ATOMIC_SEQ_CST);
}

static uint8_t upcall_pending(struct guest *g, unsigned int v)
{
	return __atomic_load_n(&g->s->vcpu_info[v].evtchn_upcall_pending, __ATOMIC_SEQ_CST);
}

/* Drain vCPU v's upcall eventfd: how many wake-ups were counted. */
static uint64_t upcall_fd_count(struct xgnt_domain *d, unsigned int v)
{
	struct pollfd p = { .fd = xgnt_vcpu_upcall_fd(xgnt_domain_vcpu(d, v)), .events = POLLIN };
	uint64_t n = 0;

	assert_true(p.fd >= 0);
	if (poll(&p, 1, 0) == 1 && read(p.fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		n = 0;
	return n;
}

/* Linux's clear_linked(): clear LINKED and LINK, return the old LINK. */
static uint32_t clear_linked(event_word_t *w)
{
	event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST), new;

	do {
		new = old & ~(W_LINKED | (event_word_t)EVTCHN_FIFO_LINK_MASK);
	} while (!__atomic_compare_exchange_n(w, &old, new, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	return old & EVTCHN_FIFO_LINK_MASK;
}

struct got {
	uint32_t port[64];
	unsigned int n;
};

/* Linux's consume_one_event(): one event off queue q of vCPU v. */
static void consume_one(struct guest *g, unsigned int v, unsigned int q, uint32_t *ready,
			struct got *got)
{
	uint32_t head = g->lhead[v][q], port;
	event_word_t *w;

	if (head == 0)
		head = __atomic_load_n(&g->cb[v]->head[q], __ATOMIC_ACQUIRE);
	port = head;
	w = word(g, port);
	if (!port || !w) {
		g->bad++;
		*ready &= ~(1u << q);
		g->lhead[v][q] = 0;
		return;
	}
	head = clear_linked(w);
	if (head == 0)
		*ready &= ~(1u << q);
	/* Handle it if pending and not masked; the ack clears PENDING. */
	if (!(__atomic_load_n(w, __ATOMIC_SEQ_CST) & W_MASKED) &&
	    (__atomic_fetch_and(w, ~W_PENDING, __ATOMIC_SEQ_CST) & W_PENDING) &&
	    got->n < 64)
		got->port[got->n++] = port;
	g->lhead[v][q] = head;
}

/* Linux's __evtchn_fifo_handle_events() for vCPU v (the upcall handler). */
static void fifo_consume(struct guest *g, unsigned int v, struct got *got)
{
	evtchn_fifo_control_block_t *cb = g->cb[v];
	uint32_t ready;
	unsigned int guard = 0;

	memset(got, 0, sizeof(*got));
	__atomic_store_n(&g->s->vcpu_info[v].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	if (!cb)
		return;
	ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
	while (ready && guard++ < 100000) {
		consume_one(g, v, (unsigned int)__builtin_ctz(ready), &ready, got);
		ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
	}
	assert_true(guard < 100000);   /* a cycle in a queue */
}

/* Linux's evtchn_fifo_unmask(): clear MASKED unless PENDING (or BUSY);
 * if it is pending, leave MASKED set and ask Xen (EVTCHNOP_unmask). */
static long fifo_unmask_linux(struct guest *g, uint32_t port)
{
	event_word_t *w = word(g, port);
	event_word_t old, new;
	struct evtchn_unmask um = { .port = port };

	old = __atomic_load_n(w, __ATOMIC_SEQ_CST);
	for (;;) {
		if (!(old & W_MASKED))
			return 0;
		if (old & W_PENDING)
			return ev_op(g->d, EVTCHNOP_unmask, &um);
		old &= ~W_BUSY;
		new = old & ~W_MASKED;
		if (__atomic_compare_exchange_n(w, &old, new, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return 0;
	}
}

/* ---- event-channel helpers (vCPU 0 issues them) ---------------------------- */

static uint32_t alloc_unbound(struct xgnt_domain *d, domid_t remote)
{
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote };

	assert_int_equal(ev_op(d, EVTCHNOP_alloc_unbound, &a), 0);
	return a.port;
}

static long try_alloc_unbound(struct xgnt_domain *d, uint32_t *port)
{
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	long rc = ev_op(d, EVTCHNOP_alloc_unbound, &a);

	*port = a.port;
	return rc;
}

static uint32_t bind_ipi(struct xgnt_domain *d, unsigned int v)
{
	struct evtchn_bind_ipi b = { .vcpu = v };

	assert_int_equal(ev_op(d, EVTCHNOP_bind_ipi, &b), 0);
	return b.port;
}

/* An interdomain channel: *lport in d (receiving side), *rport in r. */
static void connect(struct xgnt_domain *d, struct xgnt_domain *r, uint32_t *lport,
		    uint32_t *rport)
{
	struct evtchn_bind_interdomain bi = { .remote_dom = xgnt_domain_id(d) };

	*lport = alloc_unbound(d, xgnt_domain_id(r));
	bi.remote_port = *lport;
	assert_int_equal(ev_op(r, EVTCHNOP_bind_interdomain, &bi), 0);
	*rport = bi.local_port;
}

static long ev_send(struct xgnt_domain *d, uint32_t port)
{
	struct evtchn_send s = { .port = port };

	return ev_op(d, EVTCHNOP_send, &s);
}

static long ev_close(struct xgnt_domain *d, uint32_t port)
{
	struct evtchn_close c = { .port = port };

	return ev_op(d, EVTCHNOP_close, &c);
}

static long ev_unmask(struct xgnt_domain *d, uint32_t port)
{
	struct evtchn_unmask u = { .port = port };

	return ev_op(d, EVTCHNOP_unmask, &u);
}

static long set_prio(struct xgnt_domain *d, uint32_t port, uint32_t prio)
{
	struct evtchn_set_priority sp = { .port = port, .priority = prio };

	return ev_op(d, EVTCHNOP_set_priority, &sp);
}

static long bind_vcpu(struct xgnt_domain *d, uint32_t port, unsigned int v)
{
	struct evtchn_bind_vcpu b = { .port = port, .vcpu = v };

	return ev_op(d, EVTCHNOP_bind_vcpu, &b);
}

static long ev_reset(struct xgnt_domain *d)
{
	struct evtchn_reset r = { .dom = DOMID_SELF };

	return ev_op(d, EVTCHNOP_reset, &r);
}

static uint32_t ev_status(struct xgnt_domain *d, uint32_t port)
{
	struct evtchn_status st = { .dom = DOMID_SELF, .port = port };

	assert_int_equal(ev_op(d, EVTCHNOP_status, &st), 0);
	return st.status;
}

static bool l2_pending(struct guest *g, uint32_t port)
{
	return __atomic_load_n(&g->s->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) >> (port % 64) & 1;
}

static enum xgnt_domain_type dtype(void **state)
{
	return *state ? *(enum xgnt_domain_type *)*state : XGNT_DOMAIN_HVM;
}

/* ---- init_control ------------------------------------------------------------ */

/* b.12 init_control: -ENOENT vcpu; offset range; alignment; second init;
 * bad gfn; link_bits 17. A failed first init leaves nothing (XSA-188). */
static void test_init_control_errors(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 0, false);
	uint64_t cbf = t_ram_frame(d, CB_RAM(0));
	uint32_t lb = 0;
	uint32_t free0 = xgnt_machine_free_frames(m);
	long allocs0;
	struct guest g;

	guest_init(&g, d, 2);
	/* vCPU first, even with a bad offset and gfn. */
	assert_int_equal(init_control_at(&g, 2, ~0ull, 4097, NULL), -ENOENT);
	assert_int_equal(init_control_at(&g, 99, cbf, 0, NULL), -ENOENT);
	/* offset > PAGE_SIZE - sizeof(cb) (72: 4024 is the last valid). */
	assert_int_equal(sizeof(evtchn_fifo_control_block_t), 72);
	assert_int_equal(init_control_at(&g, 0, cbf, 4032, NULL), -EINVAL);
	assert_int_equal(init_control_at(&g, 0, cbf, 4096, NULL), -EINVAL);
	assert_int_equal(init_control_at(&g, 0, cbf, 0xfffffff8u, NULL), -EINVAL);
	/* Not 8-byte aligned. */
	assert_int_equal(init_control_at(&g, 0, cbf, 4, NULL), -EINVAL);
	assert_int_equal(init_control_at(&g, 0, cbf, 1, NULL), -EINVAL);
	/* Still 2-level after each of those. */
	assert_int_equal(expand_gfn(d, t_ram_frame(d, ARRAY_RAM(0))), -EOPNOTSUPP);
	assert_int_equal(set_prio(d, 0, 0), -ENOSYS);

	/* Bad gfn on the first-ever init: -EINVAL and nothing half-built
	 * survives: expand_array is -EOPNOTSUPP afterwards (XSA-188). */
	allocs0 = t_live_allocs();
	if (is_translated(d)) {
		assert_int_equal(init_control_at(&g, 0, ext_gfn(d) + 77, 0, NULL), -EINVAL);  /* empty */
		assert_int_equal(init_control_at(&g, 0, 1ull << 40, 0, NULL), -EINVAL);
	} else {
		struct xgnt_domain *o = mkdom(m, 2, XGNT_DOMAIN_PV, 1, 0, false);

		/* another domain's frame, no frame at all */
		assert_int_equal(init_control_at(&g, 0, xgnt_domain_pfn_to_mfn(o, 3), 0, NULL),
				 -EINVAL);
		assert_int_equal(init_control_at(&g, 0, INVALID_MFN, 0, NULL), -EINVAL);
		assert_int_equal(init_control_at(&g, 0, 1ull << 40, 0, NULL), -EINVAL);
		assert_int_equal(xgnt_domain_destroy(o), 0);
	}
	assert_int_equal(t_live_allocs(), allocs0);
	assert_int_equal(expand_gfn(d, t_ram_frame(d, ARRAY_RAM(0))), -EOPNOTSUPP);
	assert_int_equal(set_prio(d, 0, 0), -ENOSYS);

	/* The last valid offset works; link_bits is 17. */
	memset(t_ram_va(d, CB_RAM(0)), 0, 4096);
	assert_int_equal(init_control_at(&g, 0, cbf, 4024, &lb), 0);
	assert_int_equal(lb, EVTCHN_FIFO_LINK_BITS);
	assert_int_equal(lb, 17);
	g.cb[0] = (evtchn_fifo_control_block_t *)((uint8_t *)t_ram_va(d, CB_RAM(0)) + 4024);
	/* Second init on the same vCPU: -EINVAL (good page or bad). */
	assert_int_equal(init_control_at(&g, 0, cbf, 0, NULL), -EINVAL);
	assert_int_equal(init_control_at(&g, 0, t_ram_frame(d, CB_RAM(1)), 8, NULL), -EINVAL);
	assert_int_equal(init_control_at(&g, 0, 1ull << 40, 0, NULL), -EINVAL);
	/* A bad gfn on a later vCPU fails alone: FIFO stays. */
	assert_int_equal(init_control_at(&g, 1, 1ull << 40, 0, NULL), -EINVAL);
	assert_int_equal(fifo_expand(&g, false), 0);
	assert_int_equal(fifo_init_vcpu(&g, 1, 8), 0);

	/* The control block really is at offset 4024 of that page. */
	{
		uint32_t p = bind_ipi(d, 0);

		assert_int_equal(ev_send(d, p), 0);
		assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), p);
		assert_int_equal(cb_ready(&g, 0), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
		assert_int_equal(upcall_pending(&g, 0), 1);
	}
	assert_int_equal(xgnt_machine_free_frames(m), free0);
	xgnt_machine_destroy(m);   /* FIFO live: the checker counts its pages */
}

/* XSA-188 as the XTF test does it, plus a good init afterwards. */
static void test_xsa188_bad_gfn_then_expand(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 0, false);
	struct guest g;
	struct got got;
	uint32_t p;

	guest_init(&g, d, 2);
	p = bind_ipi(d, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(init_control_at(&g, 0, 1ull << 40, 0, NULL), -EINVAL);
		assert_int_equal(expand_gfn(d, t_ram_frame(d, ARRAY_RAM(0))), -EOPNOTSUPP);
		assert_int_equal(set_prio(d, p, 1), -ENOSYS);
		/* Still 2-level: sends land in shared_info. */
		assert_int_equal(ev_send(d, p), 0);
		assert_true(l2_pending(&g, p));
		__atomic_fetch_and(&g.s->evtchn_pending[p / 64], ~(1ul << (p % 64)), __ATOMIC_SEQ_CST);
	}
	fifo_setup(&g, 2, 1);
	assert_int_equal(ev_send(d, p), 0);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], p);
	xgnt_machine_destroy(m);
}

/* ---- expand_array ------------------------------------------------------------ */

static void test_expand_array(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 1, 0, false);
	uint32_t free0 = xgnt_machine_free_frames(m);
	struct guest g;

	guest_init(&g, d, 1);
	assert_int_equal(expand_gfn(d, t_ram_frame(d, ARRAY_RAM(0))), -EOPNOTSUPP);
	assert_int_equal(fifo_init_vcpu(&g, 0, 0), 0);
	assert_int_equal(expand_gfn(d, 1ull << 40), -EINVAL);
	if (is_translated(d))
		assert_int_equal(expand_gfn(d, ext_gfn(d) + 5), -EINVAL);
	else
		assert_int_equal(expand_gfn(d, INVALID_MFN), -EINVAL);
	for (unsigned int i = 0; i < MAX_ARRAY_PAGES; i++)
		assert_int_equal(fifo_expand(&g, true), 0);
	/* Full: -ENOSPC, checked before the gfn. */
	assert_int_equal(expand_gfn(d, t_ram_frame(d, SPARE_RAM)), -ENOSPC);
	assert_int_equal(expand_gfn(d, 1ull << 40), -ENOSPC);
	assert_int_equal(xgnt_machine_free_frames(m), free0);
	xgnt_machine_destroy(m);
}

/* Events on ports beyond the mapped array stay pending and are raised when
 * expand_array adds their page. */
static void test_events_beyond_array(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 3000, false);
	struct xgnt_domain *r = mkdom(m, 2, dtype(state), 1, 0, false);
	uint32_t p, q, quiet, lp, rp, port;
	struct guest g;
	struct got got;

	guest_init(&g, d, 2);
	fifo_setup(&g, 2, 1);
	/* Fill ports up to 1100 so the next ones are beyond page 0. */
	do {
		assert_int_equal(try_alloc_unbound(d, &port), 0);
	} while (port < 1100);
	p = bind_ipi(d, 0);
	q = bind_ipi(d, 1);
	quiet = bind_ipi(d, 0);
	connect(d, r, &lp, &rp);
	assert_true(p >= WORDS_PER_PAGE && lp >= WORDS_PER_PAGE);
	assert_int_equal(ev_send(d, p), 0);
	assert_int_equal(ev_send(d, q), 0);
	assert_int_equal(ev_send(r, rp), 0);
	assert_int_equal(ev_unmask(d, p), 0);   /* a no-op without its word */
	assert_int_equal(set_prio(d, q, 2), 0);
	/* Nothing visible yet. */
	for (unsigned int v = 0; v < 2; v++) {
		assert_int_equal(cb_ready(&g, v), 0);
		assert_int_equal(upcall_pending(&g, v), 0);
	}
	(void)upcall_fd_count(d, 0);
	(void)upcall_fd_count(d, 1);

	assert_int_equal(fifo_expand(&g, false), 0);
	assert_int_equal(wload(&g, p) & (W_PENDING | W_LINKED), W_PENDING | W_LINKED);
	assert_int_equal(wload(&g, lp) & (W_PENDING | W_LINKED), W_PENDING | W_LINKED);
	assert_int_equal(wload(&g, q) & (W_PENDING | W_LINKED), W_PENDING | W_LINKED);
	assert_int_equal(wload(&g, quiet), 0);
	assert_int_equal(cb_ready(&g, 0), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
	assert_int_equal(cb_ready(&g, 1), 1u << 2);
	assert_int_equal(cb_head(&g, 1, 2), q);
	assert_int_equal(upcall_pending(&g, 0), 1);
	assert_int_equal(upcall_pending(&g, 1), 1);
	assert_true(upcall_fd_count(d, 0) >= 1);
	assert_true(upcall_fd_count(d, 1) >= 1);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.port[0], p < lp ? p : lp);
	assert_int_equal(got.port[1], p < lp ? lp : p);
	fifo_consume(&g, 1, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], q);
	assert_int_equal(g.bad, 0);
	xgnt_machine_destroy(m);
}

/* ---- priorities -------------------------------------------------------------- */

static void test_priorities(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 1, 0, false);
	static const uint32_t prio[5] = { 3, 10, EVTCHN_FIFO_PRIORITY_DEFAULT, 0, 15 };
	uint32_t port[5], closed;
	struct guest g;
	struct got got;
	uint32_t want_ready = 0;

	guest_init(&g, d, 1);
	port[0] = bind_ipi(d, 0);
	/* 2-level: invalid port first, then -ENOSYS. */
	assert_int_equal(set_prio(d, 100000, 3), -EINVAL);
	assert_int_equal(set_prio(d, port[0], 3), -ENOSYS);
	fifo_setup(&g, 1, 1);
	for (unsigned int i = 1; i < 5; i++)
		port[i] = bind_ipi(d, 0);
	for (unsigned int i = 0; i < 5; i++) {
		if (prio[i] != EVTCHN_FIFO_PRIORITY_DEFAULT)
			assert_int_equal(set_prio(d, port[i], prio[i]), 0);
		want_ready |= 1u << prio[i];
	}
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(ev_send(d, port[i]), 0);
	assert_int_equal(cb_ready(&g, 0), want_ready);
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(cb_head(&g, 0, prio[i]), port[i]);
		assert_int_equal(wload(&g, port[i]) & (W_PENDING | W_LINKED | EVTCHN_FIFO_LINK_MASK),
				 W_PENDING | W_LINKED);
	}
	for (unsigned int q = 0; q < EVTCHN_FIFO_MAX_QUEUES; q++)
		if (!(want_ready & (1u << q)))
			assert_int_equal(cb_head(&g, 0, q), 0);
	/* Highest priority (0) first. */
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 5);
	assert_int_equal(got.port[0], port[3]);
	assert_int_equal(got.port[1], port[0]);
	assert_int_equal(got.port[2], port[2]);
	assert_int_equal(got.port[3], port[1]);
	assert_int_equal(got.port[4], port[4]);

	/* Errors, in Xen's order: port, ABI, usable, priority. */
	assert_int_equal(set_prio(d, port[0], 16), -EINVAL);
	assert_int_equal(set_prio(d, port[0], 0xffffffffu), -EINVAL);
	assert_int_equal(set_prio(d, port[0], 15), 0);
	closed = bind_ipi(d, 0);
	assert_int_equal(ev_close(d, closed), 0);
	assert_int_equal(set_prio(d, closed, 3), -EACCES);
	assert_int_equal(set_prio(d, closed, 16), -EACCES);
	assert_int_equal(set_prio(d, 0, 3), -EACCES);           /* reserved port 0 */
	assert_int_equal(set_prio(d, 100000, 3), -EINVAL);      /* never valid */
	assert_int_equal(set_prio(d, EVTCHN_FIFO_NR_CHANNELS, 3), -EINVAL);

	/* A re-bound port starts at the default priority again. */
	{
		uint32_t again = bind_ipi(d, 0);

		assert_int_equal(again, closed);
		assert_int_equal(ev_send(d, again), 0);
		assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), again);
	}
	xgnt_machine_destroy(m);
}

/* ---- masking ----------------------------------------------------------------- */

static void test_masked_pending_not_linked(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 1, 0, false);
	struct guest g;
	struct got got;
	uint32_t p;

	guest_init(&g, d, 1);
	fifo_setup(&g, 1, 1);
	p = bind_ipi(d, 0);
	__atomic_fetch_or(word(&g, p), W_MASKED, __ATOMIC_SEQ_CST);
	(void)upcall_fd_count(d, 0);
	assert_int_equal(ev_send(d, p), 0);
	assert_int_equal(wload(&g, p), W_PENDING | W_MASKED);
	assert_int_equal(cb_ready(&g, 0), 0);
	assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), 0);
	assert_int_equal(upcall_pending(&g, 0), 0);
	assert_int_equal(upcall_fd_count(d, 0), 0);
	/* The guest clears MASKED, then asks Xen to link what is pending
	 * (Linux's way, leaving MASKED to Xen: test_unmask_linux_style). */
	__atomic_fetch_and(word(&g, p), ~W_MASKED, __ATOMIC_SEQ_CST);
	assert_int_equal(ev_unmask(d, p), 0);
	assert_int_equal(wload(&g, p), W_PENDING | W_LINKED);
	assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), p);
	assert_int_equal(cb_ready(&g, 0), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
	assert_int_equal(upcall_pending(&g, 0), 1);
	assert_true(upcall_fd_count(d, 0) >= 1);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], p);
	assert_int_equal(wload(&g, p), 0);
	/* Unmask of a port that is not pending links nothing. */
	assert_int_equal(ev_unmask(d, p), 0);
	assert_int_equal(wload(&g, p), 0);
	assert_int_equal(cb_ready(&g, 0), 0);
	/* Unmask: invalid port -EINVAL, closed port 0. */
	assert_int_equal(ev_unmask(d, 100000), -EINVAL);
	assert_int_equal(ev_close(d, p), 0);
	assert_int_equal(ev_unmask(d, p), 0);
	xgnt_machine_destroy(m);
}

/*
 * Linux's evtchn_fifo_unmask() clears MASKED itself only when the event is
 * not pending; for a pending one it leaves MASKED set and issues
 * EVTCHNOP_unmask, relying on Xen's evtchn_fifo_unmask() to clear MASKED
 * and link the event. Ports are bound masked (Linux initialises every word
 * MASKED), then unmasked the same way.
 */
static void test_unmask_linux_style(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 1, 0, false);
	struct guest g;
	struct got got;
	uint32_t p;

	guest_init(&g, d, 1);
	assert_int_equal(fifo_init_vcpu(&g, 0, 0), 0);
	assert_int_equal(fifo_expand(&g, true), 0);   /* every word MASKED, as Linux */
	p = bind_ipi(d, 0);
	/* Not pending: the guest clears MASKED itself. */
	assert_int_equal(fifo_unmask_linux(&g, p), 0);
	assert_int_equal(wload(&g, p), 0);
	/* Masked while an event arrives, then unmasked the Linux way. */
	__atomic_fetch_or(word(&g, p), W_MASKED, __ATOMIC_SEQ_CST);
	assert_int_equal(ev_send(d, p), 0);
	assert_int_equal(wload(&g, p), W_PENDING | W_MASKED);
	assert_int_equal(fifo_unmask_linux(&g, p), 0);
	assert_int_equal(wload(&g, p) & (W_MASKED | W_LINKED | W_PENDING), W_LINKED | W_PENDING);
	assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), p);
	assert_int_equal(cb_ready(&g, 0), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 1);
	xgnt_machine_destroy(m);
}

/* ---- busy ports, LINK chains ---------------------------------------------------- */

/* A port still LINKED after close is not reused until the guest unlinks it
 * (evtchn_fifo_is_busy, 78e24c269b). */
static void test_linked_port_not_reused(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 1, 0, false);
	struct guest g;
	struct got got;
	uint32_t p, q, r;

	guest_init(&g, d, 1);
	fifo_setup(&g, 1, 1);
	p = bind_ipi(d, 0);
	assert_int_equal(p, 1);
	assert_int_equal(ev_send(d, p), 0);
	assert_int_equal(ev_close(d, p), 0);
	assert_int_equal(ev_status(d, p), EVTCHNSTAT_closed);
	/* Close cleared PENDING, the guest has not unlinked it yet. */
	assert_int_equal(wload(&g, p) & (W_PENDING | W_LINKED), W_LINKED);
	q = alloc_unbound(d, DOMID_SELF);
	assert_int_not_equal(q, p);
	r = bind_ipi(d, 0);
	assert_int_not_equal(r, p);
	/* The guest walks the queue: p is no longer pending, nothing handled. */
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 0);
	assert_int_equal(wload(&g, p), 0);
	assert_int_equal(alloc_unbound(d, DOMID_SELF), p);
	assert_int_equal(g.bad, 0);
	xgnt_machine_destroy(m);
}

/* Several events on one queue: head -> a -> b -> c, in order. */
static void test_link_chain(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 1, 0, false);
	struct guest g;
	struct got got;
	uint32_t a, b, c, x;

	guest_init(&g, d, 1);
	fifo_setup(&g, 1, 1);
	x = bind_ipi(d, 0);      /* lower ports than the chain, never sent */
	c = bind_ipi(d, 0);
	a = bind_ipi(d, 0);
	b = bind_ipi(d, 0);
	(void)upcall_fd_count(d, 0);
	assert_int_equal(ev_send(d, a), 0);
	assert_int_equal(upcall_pending(&g, 0), 1);
	assert_int_equal(upcall_fd_count(d, 0), 1);
	assert_int_equal(ev_send(d, b), 0);
	assert_int_equal(ev_send(d, c), 0);
	assert_int_equal(ev_send(d, a), 0);   /* already linked: no change */
	assert_int_equal(upcall_fd_count(d, 0), 0);   /* one upcall for the queue */
	assert_int_equal(cb_ready(&g, 0), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
	assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), a);
	assert_int_equal(wload(&g, a), W_PENDING | W_LINKED | b);
	assert_int_equal(wload(&g, b), W_PENDING | W_LINKED | c);
	assert_int_equal(wload(&g, c), W_PENDING | W_LINKED);
	assert_int_equal(wload(&g, x), 0);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.port[0], a);
	assert_int_equal(got.port[1], b);
	assert_int_equal(got.port[2], c);
	/* The queue went empty: the next event is a new head. */
	assert_int_equal(ev_send(d, b), 0);
	assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), b);
	assert_int_equal(wload(&g, c), 0);
	assert_int_equal(ev_send(d, a), 0);
	assert_int_equal(wload(&g, b), W_PENDING | W_LINKED | a);
	/* Consume b only (as if interrupted), then c joins after a. */
	{
		uint32_t ready = __atomic_exchange_n(&g.cb[0]->ready, 0, __ATOMIC_SEQ_CST);

		memset(&got, 0, sizeof(got));
		consume_one(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT, &ready, &got);
		assert_int_equal(got.n, 1);
		assert_int_equal(got.port[0], b);
		assert_int_equal(ev_send(d, c), 0);
		assert_int_equal(wload(&g, a), W_PENDING | W_LINKED | c);
		assert_int_equal(cb_ready(&g, 0), 0);   /* linked on: no new READY */
		consume_one(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT, &ready, &got);
		consume_one(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT, &ready, &got);
		assert_int_equal(got.n, 3);
		assert_int_equal(got.port[1], a);
		assert_int_equal(got.port[2], c);
		assert_int_equal(ready, 0);
	}
	assert_int_equal(g.bad, 0);
	xgnt_machine_destroy(m);
}

/* ---- reset --------------------------------------------------------------------- */

static void test_reset_back_to_2l(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 0, false);
	struct xgnt_domain *r = mkdom(m, 2, dtype(state), 1, 0, false);
	uint32_t free0 = xgnt_machine_free_frames(m);
	uint32_t p, lp, rp, old_word;
	struct guest g;
	struct got got;

	guest_init(&g, d, 2);
	fifo_setup(&g, 2, 2);
	p = bind_ipi(d, 1);
	connect(d, r, &lp, &rp);
	assert_int_equal(set_prio(d, p, 2), 0);
	assert_int_equal(ev_send(d, p), 0);
	assert_int_equal(ev_reset(d), 0);
	/* Every port closed, the peer's end unbound. */
	assert_int_equal(ev_status(d, p), EVTCHNSTAT_closed);
	assert_int_equal(ev_status(d, lp), EVTCHNSTAT_closed);
	assert_int_equal(ev_status(r, rp), EVTCHNSTAT_unbound);
	/* 2-level again. */
	assert_int_equal(set_prio(d, 0, 3), -ENOSYS);
	assert_int_equal(expand_gfn(d, t_ram_frame(d, SPARE_RAM)), -EOPNOTSUPP);
	p = bind_ipi(d, 0);
	old_word = wload(&g, p);
	assert_int_equal(set_prio(d, p, 3), -ENOSYS);
	assert_int_equal(ev_send(d, p), 0);
	assert_true(l2_pending(&g, p));
	assert_int_equal(wload(&g, p), old_word);   /* old pages untouched */
	/* FIFO again, on a new control block. */
	memset(&g.cb, 0, sizeof(g.cb));
	g.npages = 0;
	assert_int_equal(fifo_init_vcpu(&g, 0, 64), 0);
	assert_int_equal(fifo_init_vcpu(&g, 1, 0), 0);
	assert_int_equal(fifo_expand(&g, false), 0);
	/* p was pending under 2-level: raised on the new array. */
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], p);
	assert_int_equal(set_prio(d, p, 3), 0);
	assert_int_equal(ev_send(d, p), 0);
	assert_int_equal(cb_head(&g, 0, 3), p);
	/* A reset of a reset domain with nothing open is fine too. */
	assert_int_equal(ev_reset(d), 0);
	assert_int_equal(ev_reset(d), 0);
	assert_int_equal(expand_gfn(d, t_ram_frame(d, SPARE_RAM)), -EOPNOTSUPP);
	assert_int_equal(xgnt_machine_free_frames(m), free0);
	xgnt_machine_destroy(m);
}

/* ---- XSA-107 ------------------------------------------------------------------- */

/* Sends to a port bound to a vCPU without a control block: no crash, kept
 * pending, delivered once that vCPU registers and the guest unmasks. Both
 * ways round: FIFO on vCPU 0 only, and on vCPU 1 only. */
static void test_xsa107_no_control_block(void **state)
{
	for (unsigned int with = 0; with < 2; with++) {
		unsigned int without = 1 - with;
		struct xgnt_machine *m = t_machine();
		struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 0, false);
		struct xgnt_domain *r = mkdom(m, 2, dtype(state), 1, 0, false);
		uint32_t p, lp, rp;
		struct guest g;
		struct got got;

		guest_init(&g, d, 2);
		assert_int_equal(fifo_init_vcpu(&g, with, 0), 0);
		assert_int_equal(fifo_expand(&g, false), 0);
		p = bind_ipi(d, without);
		connect(d, r, &lp, &rp);
		assert_int_equal(bind_vcpu(d, lp, without), 0);
		assert_int_equal(ev_send(d, p), 0);
		assert_int_equal(ev_send(r, rp), 0);
		assert_int_equal(ev_send(d, p), 0);
		assert_int_equal(wload(&g, p) & (W_PENDING | W_LINKED), W_PENDING);
		assert_int_equal(wload(&g, lp) & (W_PENDING | W_LINKED), W_PENDING);
		assert_int_equal(cb_ready(&g, with), 0);
		assert_int_equal(upcall_pending(&g, without), 0);
		/* Unmask before registering: still nothing, still no crash. */
		assert_int_equal(ev_unmask(d, p), 0);
		assert_int_equal(wload(&g, p) & (W_PENDING | W_LINKED), W_PENDING);
		/* Register, then unmask: both delivered on that vCPU. */
		assert_int_equal(fifo_init_vcpu(&g, without, 0), 0);
		assert_int_equal(ev_unmask(d, p), 0);
		assert_int_equal(ev_unmask(d, lp), 0);
		assert_int_equal(cb_ready(&g, without), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
		assert_int_equal(cb_head(&g, without, EVTCHN_FIFO_PRIORITY_DEFAULT), p);
		assert_int_equal(upcall_pending(&g, without), 1);
		assert_int_equal(cb_ready(&g, with), 0);
		fifo_consume(&g, without, &got);
		assert_int_equal(got.n, 2);
		assert_int_equal(got.port[0], p);
		assert_int_equal(got.port[1], lp);
		assert_int_equal(g.bad, 0);
		xgnt_machine_destroy(m);
	}
}

/* ---- 2-level -> FIFO ------------------------------------------------------------- */

/* Ports pending under 2-level keep their pending state across the switch
 * and are delivered once their array page is added. */
static void test_2l_pending_carried_to_fifo(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 0, false);
	struct xgnt_domain *r = mkdom(m, 2, dtype(state), 1, 0, false);
	uint32_t p1, p2, p3, p4, lp, rp;
	struct guest g;
	struct got got;

	guest_init(&g, d, 2);
	p1 = bind_ipi(d, 0);
	p4 = bind_ipi(d, 0);
	p3 = bind_ipi(d, 1);
	connect(r, d, &rp, &lp);     /* d binds: bind_interdomain leaves lp pending */
	p2 = bind_ipi(d, 0);
	assert_int_equal(ev_send(d, p1), 0);
	assert_int_equal(ev_send(d, p2), 0);
	assert_int_equal(ev_send(d, p3), 0);
	assert_true(l2_pending(&g, p1) && l2_pending(&g, p2) && l2_pending(&g, p3));
	assert_true(l2_pending(&g, lp));
	assert_false(l2_pending(&g, p4));
	assert_int_equal(fifo_init_vcpu(&g, 0, 0), 0);
	assert_int_equal(fifo_init_vcpu(&g, 1, 0), 0);
	assert_int_equal(cb_ready(&g, 0), 0);
	assert_int_equal(fifo_expand(&g, false), 0);
	assert_int_equal(wload(&g, p4), 0);
	assert_int_equal(cb_ready(&g, 0), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
	assert_int_equal(cb_ready(&g, 1), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.port[0], p1);   /* raised in port order */
	assert_int_equal(got.port[1], lp);
	assert_int_equal(got.port[2], p2);
	fifo_consume(&g, 1, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], p3);
	assert_int_equal(g.bad, 0);
	xgnt_machine_destroy(m);
}

/* ---- limits ------------------------------------------------------------------ */

static uint32_t alloc_all(struct xgnt_domain *d)
{
	uint32_t port, last = 0;
	long rc;

	while ((rc = try_alloc_unbound(d, &port)) == 0)
		last = port;
	assert_int_equal(rc, -ENOSPC);
	return last;
}

/* Under FIFO the port limit is max_evtchn_port (not 2-level's 4096), and
 * more than 4096 ports work (XSA-317). */
static void test_max_ports_fifo(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *du = mkdom(m, 1, dtype(state), 1, 0, false);
	struct xgnt_domain *dx = mkdom(m, 2, dtype(state), 1, 5000, false);
	struct xgnt_domain *dp = mkdom(m, 3, dtype(state), 1, 0, true);
	struct guest gu, gx, gp;

	guest_init(&gu, du, 1);
	guest_init(&gx, dx, 1);
	guest_init(&gp, dp, 1);
	fifo_setup(&gu, 1, 1);
	assert_int_equal(alloc_all(du), 1023);    /* xl's default */

	assert_int_equal(alloc_all(dx), 4095);    /* 2-level: 64 x 64 */
	fifo_setup(&gx, 1, 1);
	assert_int_equal(alloc_all(dx), 5000);    /* FIFO: max_evtchn_port */
	{
		uint32_t port = 4500;

		/* A port beyond the array still works once its page is added. */
		for (unsigned int i = 1; i < 5; i++)
			assert_int_equal(fifo_expand(&gx, false), 0);
		assert_int_equal(ev_close(dx, port), 0);
		assert_int_equal(bind_ipi(dx, 0), port);
		assert_int_equal(ev_send(dx, port), 0);
		assert_int_equal(cb_head(&gx, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), port);
	}

	fifo_setup(&gp, 1, 0);
	for (unsigned int i = 0; i < 5000; i++) {
		uint32_t port;

		assert_int_equal(try_alloc_unbound(dp, &port), 0);
		assert_int_equal(port, i + 1);
	}
	assert_int_equal(ev_reset(dp), 0);       /* and back under 2-level's limit */
	assert_int_equal(alloc_all(dp), 4095);
	xgnt_machine_destroy(m);
}

/* ---- PV specifics --------------------------------------------------------------- */

/* A PV guest names its pages by MFN; the upcall reaches shared_info mapped
 * with update_va_mapping and the upcall eventfd. Only its own frames. */
static void test_pv_frames(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, XGNT_DOMAIN_PV, 1, 0, false);
	struct xgnt_domain *o = mkdom(m, 2, XGNT_DOMAIN_PV, 1, 0, false);
	struct guest g;
	struct got got;
	uint32_t p;

	(void)state;
	guest_init(&g, d, 1);
	/* pfn numbers are not frames of a PV guest. */
	assert_int_equal(init_control_at(&g, 0, xgnt_domain_pfn_to_mfn(o, CB_RAM(0)), 0, NULL),
			 -EINVAL);
	fifo_setup(&g, 1, 0);
	assert_int_equal(expand_gfn(d, xgnt_domain_pfn_to_mfn(o, ARRAY_RAM(0))), -EINVAL);
	assert_int_equal(fifo_expand(&g, false), 0);
	p = bind_ipi(d, 0);
	(void)upcall_fd_count(d, 0);
	assert_int_equal(ev_send(d, p), 0);
	assert_int_equal(upcall_pending(&g, 0), 1);
	assert_int_equal(upcall_fd_count(d, 0), 1);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], p);
	/* Upcall masked: evtchn_upcall_pending set, no eventfd wake-up. */
	__atomic_store_n(&g.s->vcpu_info[0].evtchn_upcall_mask, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(ev_send(d, p), 0);
	assert_int_equal(upcall_pending(&g, 0), 1);
	assert_int_equal(upcall_fd_count(d, 0), 0);
	xgnt_machine_destroy(m);
}

/* Domain destruction with FIFO pages registered gives every frame back
 * (the destroy wrapper checks), also for a destroyed peer. */
static void test_destroy_with_fifo(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 0, false);
	struct xgnt_domain *r = mkdom(m, 2, dtype(state), 1, 0, false);
	uint32_t lp, rp;
	struct guest g, gr;

	guest_init(&g, d, 2);
	guest_init(&gr, r, 1);
	fifo_setup(&g, 2, 3);
	fifo_setup(&gr, 1, 1);
	connect(d, r, &lp, &rp);
	assert_int_equal(ev_send(r, rp), 0);
	assert_int_equal(xgnt_domain_destroy(d), 0);
	assert_int_equal(ev_status(r, rp), EVTCHNSTAT_unbound);
	assert_int_equal(ev_send(r, rp), 0);
	xgnt_machine_destroy(m);
}

/* bind_vcpu: a port still linked on its old vCPU's queue stays there;
 * once unlinked, its next event goes to the new vCPU, and the old queue no
 * longer treats it as its tail (else the next event there would be linked
 * behind it, into the other vCPU's queue). */
static void test_bind_vcpu_moves_queue(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 0, false);
	struct xgnt_domain *r = mkdom(m, 2, dtype(state), 1, 0, false);
	uint32_t lp, rp, x;
	struct guest g;
	struct got got;

	guest_init(&g, d, 2);
	fifo_setup(&g, 2, 1);
	connect(d, r, &lp, &rp);
	x = bind_ipi(d, 0);
	assert_int_equal(ev_send(r, rp), 0);
	assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), lp);
	assert_int_equal(bind_vcpu(d, lp, 1), 0);
	assert_int_equal(bind_vcpu(d, x, 1), -EINVAL);     /* IPIs stay put */
	assert_int_equal(ev_send(r, rp), 0);               /* still linked on vCPU 0 */
	assert_int_equal(cb_ready(&g, 1), 0);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], lp);
	/* Now on vCPU 1. */
	assert_int_equal(ev_send(r, rp), 0);
	assert_int_equal(cb_ready(&g, 1), 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
	assert_int_equal(cb_head(&g, 1, EVTCHN_FIFO_PRIORITY_DEFAULT), lp);
	/* vCPU 0's queue starts afresh: x is its head, lp links nothing. */
	assert_int_equal(ev_send(d, x), 0);
	assert_int_equal(cb_head(&g, 0, EVTCHN_FIFO_PRIORITY_DEFAULT), x);
	assert_int_equal(wload(&g, lp) & EVTCHN_FIFO_LINK_MASK, 0);
	fifo_consume(&g, 1, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], lp);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], x);
	assert_int_equal(g.bad, 0);
	xgnt_machine_destroy(m);
}

/* VIRQs raised by the machine reach a FIFO guest: VIRQ_DOM_EXC to the
 * control domain when another domain is destroyed. */
static void test_virq_fifo(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d0 = mkdom(m, 0, dtype(state), 1, 0, true);
	struct xgnt_domain *du = mkdom(m, 5, dtype(state), 1, 0, false);
	struct evtchn_bind_virq bv = { .virq = VIRQ_DOM_EXC, .vcpu = 0 };
	struct guest g;
	struct got got;

	guest_init(&g, d0, 1);
	fifo_setup(&g, 1, 1);
	assert_int_equal(ev_op(d0, EVTCHNOP_bind_virq, &bv), 0);
	assert_int_equal(set_prio(d0, bv.port, 1), 0);
	assert_int_equal(ev_send(d0, bv.port), -EINVAL);   /* VIRQs are not sent */
	assert_int_equal(xgnt_domain_destroy(du), 0);
	assert_int_equal(cb_ready(&g, 0), 1u << 1);
	assert_int_equal(cb_head(&g, 0, 1), bv.port);
	fifo_consume(&g, 0, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.port[0], bv.port);
	xgnt_machine_destroy(m);
}

/* The invariant checker counts the FIFO ABI's page references (check.c
 * invariant 5: "every frame's reference count equals what refers to it"):
 * a machine with FIFO in use is consistent, before and after a reset. */
static void test_check_counts_fifo_pages(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, dtype(state), 2, 0, false);
	struct guest g;
	char why[256] = "";

	guest_init(&g, d, 2);
	assert_int_equal(xgnt_machine_check(m, 0, why, sizeof(why)), 0);
	fifo_setup(&g, 2, 2);
	if (xgnt_machine_check(m, 0, why, sizeof(why)) != 0)
		fail_msg("checker with FIFO pages registered: %s", why);
	assert_int_equal(ev_reset(d), 0);
	if (xgnt_machine_check(m, 0, why, sizeof(why)) != 0)
		fail_msg("checker after a reset dropped the FIFO pages: %s", why);
	xgnt_machine_destroy(m);
}

static enum xgnt_domain_type hvm = XGNT_DOMAIN_HVM, pv = XGNT_DOMAIN_PV;

#define BOTH(fn) \
	cmocka_unit_test_prestate(fn, &hvm), cmocka_unit_test_prestate(fn, &pv)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_init_control_errors),
		BOTH(test_xsa188_bad_gfn_then_expand),
		BOTH(test_expand_array),
		BOTH(test_events_beyond_array),
		BOTH(test_priorities),
		BOTH(test_masked_pending_not_linked),
		BOTH(test_unmask_linux_style),
		BOTH(test_linked_port_not_reused),
		BOTH(test_link_chain),
		BOTH(test_reset_back_to_2l),
		BOTH(test_xsa107_no_control_block),
		BOTH(test_2l_pending_carried_to_fifo),
		BOTH(test_max_ports_fifo),
		cmocka_unit_test(test_pv_frames),
		BOTH(test_destroy_with_fifo),
		BOTH(test_bind_vcpu_moves_queue),
		BOTH(test_virq_fifo),
		BOTH(test_check_counts_fifo_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
