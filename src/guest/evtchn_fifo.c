/* SPDX-License-Identifier: MIT */
/*
 * The FIFO ABI, guest side: a control block per vCPU (ready bits and the
 * 16 queue heads), an event array of words grown a page at a time. The
 * dispatcher walks each ready queue from its head through LINK, clearing
 * LINKED and PENDING with atomic operations, highest priority first (as
 * Linux's evtchn_fifo does). The guest only sets or clears MASKED, clears
 * LINKED and PENDING, and sets PENDING to raise an event again; it never
 * clears MASKED while the hypervisor holds the word BUSY.
 */
#include "evtchn_int.h"

#include <errno.h>
#include <string.h>

#define BIT(b) ((event_word_t)1 << (b))

static event_word_t *word_of(struct evtchn_state *es, evtchn_port_t port)
{
	/* The page was stored before the count that covers it. */
	if (port >= atomic_load_explicit(&es->nr_words, memory_order_acquire))
		return NULL;
	return es->array[port / GEV_FIFO_WORDS_PER_PAGE] + port % GEV_FIFO_WORDS_PER_PAGE;
}

/* One more page of the array; array_lock held. */
static int expand(struct xgnt_guest *g, struct evtchn_state *es)
{
	uint32_t n = atomic_load_explicit(&es->nr_words, memory_order_relaxed);
	uint32_t slot = n / GEV_FIFO_WORDS_PER_PAGE;
	struct evtchn_expand_array op;
	event_word_t *page;
	long rc;

	assert(plat_mutex_held(&es->array_lock));
	if (slot >= GEV_FIFO_MAX_PAGES)
		return -ENOSPC;
	page = xgnt_page_alloc(g, 1);
	if (!page)
		return -ENOMEM;
	/* Words start clear (unmasked): an event for a port nobody bound yet
	 * is taken and counted, as under 2-level. */
	memset(page, 0, PAGE_SIZE);
	op.array_gfn = xgnt_guest_frame(g, page);
	rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_expand_array, &op);
	if (rc) {
		xgnt_page_free(g, page, 1);
		return (int)rc;
	}
	es->array[slot] = page;
	atomic_store_explicit(&es->nr_words, n + GEV_FIFO_WORDS_PER_PAGE, memory_order_release);
	return 0;
}

static int setup_port_fifo(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port)
{
	int rc = 0;

	if (port >= GEV_FIFO_PORTS)
		return -EINVAL;
	if (word_of(es, port))
		return 0;
	plat_mutex_lock(&es->array_lock);
	while (!rc && port >= atomic_load_explicit(&es->nr_words, memory_order_relaxed))
		rc = expand(g, es);
	plat_mutex_unlock(&es->array_lock);
	return rc;
}

static bool test_and_mask_fifo(struct evtchn_state *es, evtchn_port_t port)
{
	event_word_t *word = word_of(es, port);

	return !word || (__atomic_fetch_or(word, BIT(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST) &
			 BIT(EVTCHN_FIFO_MASKED));
}

/*
 * Clear MASKED, but not while the hypervisor has the word BUSY (it is
 * linking after it); then a pending event is raised again through
 * EVTCHNOP_unmask, which links it on the port's vCPU.
 */
static void unmask_fifo(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port)
{
	event_word_t *word = word_of(es, port);
	struct evtchn_unmask op = { .port = port };
	event_word_t w;

	if (!word)
		return;
	w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	for (;;) {
		event_word_t old = w & ~BIT(EVTCHN_FIFO_BUSY);

		if (!(w & BIT(EVTCHN_FIFO_MASKED)))
			break;
		w = old;
		if (__atomic_compare_exchange_n(word, &w, old & ~BIT(EVTCHN_FIFO_MASKED), false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			break;
	}
	if (__atomic_load_n(word, __ATOMIC_SEQ_CST) & BIT(EVTCHN_FIFO_PENDING))
		xgnt_hyp_event_channel_op(g, EVTCHNOP_unmask, &op);
}

static void set_pending_fifo(struct evtchn_state *es, evtchn_port_t port)
{
	event_word_t *word = word_of(es, port);

	if (word)
		__atomic_fetch_or(word, BIT(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST);
}

static void clear_pending_fifo(struct evtchn_state *es, evtchn_port_t port)
{
	event_word_t *word = word_of(es, port);

	if (word)
		__atomic_fetch_and(word, ~BIT(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST);
}

static bool is_pending_fifo(struct evtchn_state *es, evtchn_port_t port)
{
	event_word_t *word = word_of(es, port);

	return word && (__atomic_load_n(word, __ATOMIC_SEQ_CST) & BIT(EVTCHN_FIFO_PENDING));
}

static bool is_masked_fifo(struct evtchn_state *es, evtchn_port_t port)
{
	event_word_t *word = word_of(es, port);

	return !word || (__atomic_load_n(word, __ATOMIC_SEQ_CST) & BIT(EVTCHN_FIFO_MASKED));
}

/* Unlink the head: clear LINKED and LINK together; the old LINK is the
 * next port of the queue (0: it was the tail). */
static uint32_t clear_linked(event_word_t *word)
{
	event_word_t w = __atomic_load_n(word, __ATOMIC_SEQ_CST);

	while (!__atomic_compare_exchange_n(word, &w,
					    w & ~(BIT(EVTCHN_FIFO_LINKED) | EVTCHN_FIFO_LINK_MASK),
					    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	return w & EVTCHN_FIFO_LINK_MASK;
}

/* Take the head event of queue q; 1 if it was delivered. */
static unsigned int consume_one(struct xgnt_guest *g, struct evtchn_state *es,
				struct gev_vcpu *vc, unsigned int q, uint32_t *ready)
{
	uint32_t port = vc->head[q], next;
	event_word_t *word;

	/* Reached the tail last time: the hypervisor has set a new head. */
	if (!port)
		port = __atomic_load_n(&vc->cb->head[q], __ATOMIC_ACQUIRE);
	word = word_of(es, port);
	if (NEVER(!port || !word)) {
		*ready &= ~(1u << q);
		vc->head[q] = 0;
		return 0;
	}
	next = clear_linked(word);
	if (!next)
		*ready &= ~(1u << q);
	vc->head[q] = next;
	/* A masked event stays pending: unmask links it again. */
	if (!(__atomic_load_n(word, __ATOMIC_SEQ_CST) & BIT(EVTCHN_FIFO_MASKED)) &&
	    (__atomic_fetch_and(word, ~BIT(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST) &
	     BIT(EVTCHN_FIFO_PENDING))) {
		gev_deliver(g, es, port);
		return 1;
	}
	return 0;
}

static unsigned int poll_fifo(struct xgnt_guest *g, struct evtchn_state *es,
			      struct gev_vcpu *vc, unsigned int budget)
{
	evtchn_fifo_control_block_t *cb = vc->cb;
	vcpu_info_t *vi = vc->vi;
	unsigned int n = 0, steps = 0, round;
	uint32_t ready;

	assert(plat_mutex_held(&vc->dispatch_lock));
	for (round = 0; round < GEV_POLL_ROUNDS; round++) {
		__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
		while (ready) {
			if (steps++ == budget) {
				/* The rest for the next call. */
				__atomic_fetch_or(&cb->ready, ready, __ATOMIC_SEQ_CST);
				__atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
				return n;
			}
			/* Lowest bit first: priority 0 is the highest. */
			n += consume_one(g, es, vc, (unsigned int)__builtin_ctz(ready), &ready);
			ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
		}
		if (!__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
			break;
	}
	return n;
}

/* Control blocks on every vCPU; array page 0. On failure nothing is left
 * for the caller but EVTCHNOP_reset (fini_fifo), if any vCPU got one. */
static int init_fifo(struct xgnt_guest *g, struct evtchn_state *es)
{
	unsigned int v;
	int rc;

	for (v = 0; v < es->nr_vcpus; v++) {
		struct gev_vcpu *vc = &es->vcpus[v];
		struct evtchn_init_control op = { .offset = 0, .vcpu = v };

		vc->cb_page = xgnt_page_alloc(g, 1);
		if (!vc->cb_page)
			return -ENOMEM;
		memset(vc->cb_page, 0, PAGE_SIZE);
		op.control_gfn = xgnt_guest_frame(g, vc->cb_page);
		rc = (int)xgnt_hyp_event_channel_op(g, EVTCHNOP_init_control, &op);
		if (rc) {
			xgnt_page_free(g, vc->cb_page, 1);
			vc->cb_page = NULL;
			return rc;
		}
		vc->cb = vc->cb_page;
	}
	return setup_port_fifo(g, es, 0);
}

/* Back to 2-level: the only way is EVTCHNOP_reset, which closes every
 * port of the domain and lets the hypervisor drop its references to our
 * pages; only then are they ours to free. */
static void fini_fifo(struct xgnt_guest *g, struct evtchn_state *es)
{
	struct evtchn_reset op = { .dom = DOMID_SELF };
	unsigned int v, p, n, tries;
	bool any = false;
	long rc = 0;

	for (v = 0; v < es->nr_vcpus; v++)
		any |= es->vcpus[v].cb != NULL;
	if (any) {
		for (tries = 0; tries < 8; tries++) {
			rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_reset, &op);
			if (rc != -EAGAIN && rc != -EBUSY)
				break;
		}
		if (rc) {
			plat_log(PLAT_LOG_WARN, "evtchn: reset failed (%ld): FIFO pages kept", rc);
			return;
		}
	}
	for (v = 0; v < es->nr_vcpus; v++) {
		if (es->vcpus[v].cb_page)
			xgnt_page_free(g, es->vcpus[v].cb_page, 1);
		es->vcpus[v].cb_page = NULL;
		es->vcpus[v].cb = NULL;
	}
	n = atomic_load_explicit(&es->nr_words, memory_order_relaxed) / GEV_FIFO_WORDS_PER_PAGE;
	for (p = 0; p < n; p++) {
		xgnt_page_free(g, es->array[p], 1);
		es->array[p] = NULL;
	}
	atomic_store_explicit(&es->nr_words, 0, memory_order_relaxed);
}

const struct gev_abi gev_abi_fifo = {
	.id = XGNT_EVTCHN_ABI_FIFO,
	.max_ports = GEV_FIFO_PORTS,
	.init = init_fifo,
	.fini = fini_fifo,
	.setup_port = setup_port_fifo,
	.test_and_mask = test_and_mask_fifo,
	.unmask = unmask_fifo,
	.set_pending = set_pending_fifo,
	.clear_pending = clear_pending_fifo,
	.is_pending = is_pending_fifo,
	.is_masked = is_masked_fifo,
	.move = NULL,
	.poll = poll_fifo,
};
