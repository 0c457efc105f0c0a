/* SPDX-License-Identifier: MIT */
/*
 * The FIFO event ABI: per-vCPU control blocks and a domain-wide event array
 * in guest pages, 16 priority queues per vCPU linked through the event
 * words. The guest may only set or clear MASKED, clear PENDING, and clear
 * LINKED; the hypervisor changes LINK only while LINKED is set, with the
 * tail word marked BUSY so the guest cannot unmask it meanwhile, which
 * bounds the compare-and-swap retries.
 */
#include "event.h"

#include <errno.h>
#include <string.h>

#define FIFO_BIT(b) ((event_word_t)1 << (b))
#define LASTQ(vcpu, prio) ((uint32_t)(vcpu) << 8 | (prio))

int map_guest_page(struct xgnt_domain *d, uint64_t gfn, uint64_t *mfn, void **virt)
{
	uint64_t f = gfn;

	if (d->translated) {
		struct p2m_entry e = p2m_get(d, gfn);

		if (gfn >= d->nr_slots || e.type != P2M_RAM)
			return -EINVAL;
		f = e.mfn;
	} else if (!mfn_valid(d->m, f) || mfn_is_iomem(d->m, f) ||
		   atomic_load(&mfn_to_page(d->m, f)->kind) != PGK_RAM) {
		return -EINVAL;
	}
	if (!get_page(d->m, f, d))
		return -EINVAL;
	*mfn = f;
	*virt = mfn_to_virt(d->m, f);
	return 0;
}

static event_word_t *word_from_port(struct xgnt_domain *d, uint32_t port)
{
	struct evtchn_fifo_domain *f = d->ev->fifo;

	/* The page before the count that covers it: pairs with expand. */
	if (!f || port >= atomic_load_explicit(&f->num_evtchns, memory_order_seq_cst))
		return NULL;
	return f->event_array[port / EVTCHN_FIFO_WORDS_PER_PAGE] +
	       port % EVTCHN_FIFO_WORDS_PER_PAGE;
}

static bool wtest(event_word_t *w, unsigned int bit)
{
	return __atomic_load_n(w, __ATOMIC_SEQ_CST) & FIFO_BIT(bit);
}

static bool wtest_and_set(event_word_t *w, unsigned int bit)
{
	return __atomic_fetch_or(w, FIFO_BIT(bit), __ATOMIC_SEQ_CST) & FIFO_BIT(bit);
}

static void wclear(event_word_t *w, unsigned int bit)
{
	__atomic_fetch_and(w, ~FIFO_BIT(bit), __ATOMIC_SEQ_CST);
}

/* 1: linked; 0: not LINKED (the queue went empty); -EAGAIN: raced. */
static int try_set_link(event_word_t *word, event_word_t *w, uint32_t link)
{
	event_word_t new;

	if (!(*w & FIFO_BIT(EVTCHN_FIFO_LINKED)))
		return 0;
	new = (*w & ~(FIFO_BIT(EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | link;
	if (__atomic_compare_exchange_n(word, w, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return 1;
	return -EAGAIN;
}

/* Set the LINK field of the tail word iff it is still LINKED. */
static bool set_link(struct xgnt_domain *d, event_word_t *word, uint32_t link)
{
	event_word_t w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	unsigned int try;
	int ret;

	ret = try_set_link(word, &w, link);
	if (ret >= 0)
		return ret;
	/* Stop the guest unmasking the tail: it may then only clear bits,
	 * so at most four more attempts can fail. */
	wtest_and_set(word, EVTCHN_FIFO_BUSY);
	w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	for (try = 0; try < 4; try++) {
		ret = try_set_link(word, &w, link);
		if (ret >= 0) {
			if (ret == 0)
				wclear(word, EVTCHN_FIFO_BUSY);
			return ret;
		}
	}
	guest_log("d%u port %u not linked", d->id, link);
	wclear(word, EVTCHN_FIFO_BUSY);
	return true;
}

static void lock_two(struct evtchn_fifo_queue *a, struct evtchn_fifo_queue *b)
{
	if (a == b) {
		plat_mutex_lock(&a->lock);
	} else if (a < b) {
		plat_mutex_lock(&a->lock);
		plat_mutex_lock(&b->lock);
	} else {
		plat_mutex_lock(&b->lock);
		plat_mutex_lock(&a->lock);
	}
}

static void unlock_two(struct evtchn_fifo_queue *a, struct evtchn_fifo_queue *b)
{
	plat_mutex_unlock(&a->lock);
	if (a != b)
		plat_mutex_unlock(&b->lock);
}

static void set_pending_fifo(struct xgnt_vcpu *v, struct evtchn *chn)
{
	struct xgnt_domain *d = v->d;
	struct evtchn_fifo_vcpu **fv = d->ev->fifo_vcpu;
	struct evtchn_fifo_queue *q = NULL, *old_q = NULL;
	uint32_t port = chn->port, lastq = 0;
	event_word_t *word = word_from_port(d, port);
	evtchn_fifo_control_block_t *cb = NULL;
	bool linked = true;
	unsigned int try;

	if (!word) {
		/* No array page yet: remembered, raised when it is added. The
		 * page may have appeared meanwhile: look again, and if it is
		 * there and the mark is still ours to take back, deliver now
		 * (both sides sequentially consistent: expand_array publishes
		 * the page, then takes the mark). */
		__atomic_store_n(&chn->pending, true, __ATOMIC_SEQ_CST);
		word = word_from_port(d, port);
		if (!word || !__atomic_exchange_n(&chn->pending, false, __ATOMIC_SEQ_CST))
			return;
	}
	/* Lock the queue the port was last on and the one it goes on now;
	 * both may change under us, so re-check (3 tries, as Xen). */
	for (try = 0; try < 3; try++) {
		lastq = atomic_load(&chn->fifo_lastq);
		q = &fv[v->id]->queue[__atomic_load_n(&chn->priority, __ATOMIC_RELAXED)];
		old_q = &fv[lastq >> 8]->queue[lastq & 0xff];
		lock_two(q, old_q);
		if (lastq == atomic_load(&chn->fifo_lastq) &&
		    q == &fv[v->id]->queue[__atomic_load_n(&chn->priority, __ATOMIC_RELAXED)])
			break;
		unlock_two(q, old_q);
	}
	if (try == 3) {
		guest_log("d%u port %u lost event (too many queue changes)", d->id, port);
		return;
	}
	wtest_and_set(word, EVTCHN_FIFO_PENDING);
	/* No control block on this vCPU: the guest cannot have unmasked the
	 * port (XSA-107); the event stays pending and is linked on unmask.
	 * Loaded once, with acquire: its queue heads were set before it. */
	cb = __atomic_load_n(&fv[v->id]->control_block, __ATOMIC_ACQUIRE);
	if (!cb)
		goto unlock;
	if (!wtest(word, EVTCHN_FIFO_MASKED) && !wtest_and_set(word, EVTCHN_FIFO_LINKED)) {
		/* The old queue's tail must not link anything after this port. */
		if (old_q->tail == port)
			old_q->tail = 0;
		if (old_q != q)
			atomic_store(&chn->fifo_lastq, LASTQ(v->id, q->priority));
		linked = false;
		if (q->tail) {
			event_word_t *tail_word = word_from_port(d, q->tail);

			linked = tail_word && set_link(d, tail_word, port);
		}
		if (!linked)
			__atomic_store_n(q->head, port, __ATOMIC_RELEASE);
		q->tail = port;
	}
unlock:
	if (!linked && !(__atomic_fetch_or(&cb->ready,
					   1u << q->priority, __ATOMIC_SEQ_CST) &
			 (1u << q->priority))) {
		unlock_two(q, old_q);
		vcpu_mark_events_pending(v);
		return;
	}
	unlock_two(q, old_q);
}

static void clear_pending_fifo(struct xgnt_domain *d, struct evtchn *chn)
{
	event_word_t *word = word_from_port(d, chn->port);

	__atomic_store_n(&chn->pending, false, __ATOMIC_RELEASE);
	if (word)
		wclear(word, EVTCHN_FIFO_PENDING);
}

static void unmask_fifo(struct xgnt_domain *d, struct evtchn *chn)
{
	event_word_t *word = word_from_port(d, chn->port);

	if (!word)
		return;
	/* Linux leaves MASKED set on a pending event and lets Xen clear it. */
	wclear(word, EVTCHN_FIFO_MASKED);
	if (wtest(word, EVTCHN_FIFO_PENDING))
		set_pending_fifo(&d->vcpus[notify_vcpu(chn)], chn);
}

static bool is_pending_fifo(struct xgnt_domain *d, const struct evtchn *chn)
{
	event_word_t *word = word_from_port(d, chn->port);

	return word ? wtest(word, EVTCHN_FIFO_PENDING)
		    : __atomic_load_n(&chn->pending, __ATOMIC_ACQUIRE);
}

static bool is_masked_fifo(struct xgnt_domain *d, const struct evtchn *chn)
{
	event_word_t *word = word_from_port(d, chn->port);

	return !word || wtest(word, EVTCHN_FIFO_MASKED);
}

/* A port still LINKED in some queue is not reused (commit 78e24c269b). */
static bool is_busy_fifo(struct xgnt_domain *d, uint32_t port)
{
	event_word_t *word = word_from_port(d, port);

	return word && wtest(word, EVTCHN_FIFO_LINKED);
}

static int set_priority_fifo(struct xgnt_domain *d, struct evtchn *chn, uint32_t prio)
{
	(void)d;
	if (prio > EVTCHN_FIFO_PRIORITY_MIN)
		return -EINVAL;
	/* Racing a send is fine: the event may be signalled once on the
	 * old priority. */
	__atomic_store_n(&chn->priority, (uint8_t)prio, __ATOMIC_RELAXED);
	return 0;
}

static void init_fifo(struct xgnt_domain *d, struct evtchn *chn)
{
	event_word_t *word = word_from_port(d, chn->port);

	__atomic_store_n(&chn->priority, EVTCHN_FIFO_PRIORITY_DEFAULT, __ATOMIC_RELAXED);
	if (word && wtest(word, EVTCHN_FIFO_LINKED))
		guest_log("d%u port %u (re)bound while still linked", d->id, chn->port);
}

const struct evtchn_port_ops evtchn_port_ops_fifo = {
	.init = init_fifo,
	.set_pending = set_pending_fifo,
	.clear_pending = clear_pending_fifo,
	.unmask = unmask_fifo,
	.is_pending = is_pending_fifo,
	.is_masked = is_masked_fifo,
	.is_busy = is_busy_fifo,
	.set_priority = set_priority_fifo,
	.max_ports = EVTCHN_FIFO_PORTS,
};

/* ---- setup and teardown (event_lock held for writing) ---------------------- */

void evtchn_fifo_destroy(struct xgnt_domain *d)
{
	struct evtchn_domain *ed = d->ev;
	unsigned int i, p;

	assert(plat_write_held(&ed->event_lock));
	atomic_store(&ed->ops, &evtchn_port_ops_2l);
	for (i = 0; ed->fifo_vcpu && i < d->nr_vcpus; i++) {
		struct evtchn_fifo_vcpu *fv = ed->fifo_vcpu[i];

		if (!fv)
			continue;
		if (fv->control_block)
			put_page(d->m, fv->control_mfn);
		for (p = 0; p < EVTCHN_FIFO_MAX_QUEUES; p++)
			plat_mutex_destroy(&fv->queue[p].lock);
		plat_free(fv);
	}
	plat_free(ed->fifo_vcpu);
	ed->fifo_vcpu = NULL;
	if (ed->fifo) {
		uint32_t n = atomic_load(&ed->fifo->num_evtchns) / EVTCHN_FIFO_WORDS_PER_PAGE;

		for (p = 0; p < n; p++)
			put_page(d->m, ed->fifo->array_mfn[p]);
		plat_free(ed->fifo);
		ed->fifo = NULL;
	}
}

static int map_control_block(struct xgnt_domain *d, uint32_t vcpu, uint64_t gfn, uint32_t offset)
{
	struct evtchn_fifo_vcpu *fv = d->ev->fifo_vcpu[vcpu];
	evtchn_fifo_control_block_t *cb;
	uint64_t mfn;
	void *virt;
	unsigned int i;
	int rc;

	if (fv->control_block)
		return -EINVAL;
	rc = map_guest_page(d, gfn, &mfn, &virt);
	if (rc)
		return rc;
	cb = (evtchn_fifo_control_block_t *)((uint8_t *)virt + offset);
	for (i = 0; i < EVTCHN_FIFO_MAX_QUEUES; i++)
		fv->queue[i].head = &cb->head[i];
	fv->control_mfn = mfn;
	/* Every queue head before the control block (XSA-358). */
	__atomic_store_n(&fv->control_block, cb, __ATOMIC_RELEASE);
	return 0;
}

long evtchn_fifo_init_control(struct xgnt_domain *d, struct evtchn_init_control *ic)
{
	struct evtchn_domain *ed = d->ev;
	unsigned int i, p;
	long rc;

	if (ic->vcpu >= d->nr_vcpus)
		return -ENOENT;
	if (ic->offset > PAGE_SIZE - sizeof(evtchn_fifo_control_block_t) || (ic->offset & 7))
		return -EINVAL;
	plat_write_lock(&ed->event_lock);
	if (ed->fifo) {
		rc = map_control_block(d, ic->vcpu, ic->control_gfn, ic->offset);
		goto out;
	}
	rc = -ENOMEM;
	ed->fifo_vcpu = plat_calloc(d->nr_vcpus, sizeof(*ed->fifo_vcpu));
	if (!ed->fifo_vcpu)
		goto error;
	for (i = 0; i < d->nr_vcpus; i++) {
		struct evtchn_fifo_vcpu *fv = plat_calloc(1, sizeof(*fv));

		if (!fv)
			goto error;
		for (p = 0; p < EVTCHN_FIFO_MAX_QUEUES; p++) {
			plat_mutex_init(&fv->queue[p].lock);
			fv->queue[p].priority = (uint8_t)p;
		}
		ed->fifo_vcpu[i] = fv;
	}
	ed->fifo = plat_calloc(1, sizeof(*ed->fifo));
	if (!ed->fifo)
		goto error;
	rc = map_control_block(d, ic->vcpu, ic->control_gfn, ic->offset);
	if (rc)
		goto error;
	/* Switch first, then carry the 2-level pending bits over: a sender
	 * that still delivered through 2-level after the copy looks at the
	 * ops again and delivers through FIFO too (evtchn_port_set_pending). */
	atomic_store(&ed->ops, &evtchn_port_ops_fifo);
	for (i = 1; port_is_valid(ed, i); i++) {
		struct evtchn *chn = evtchn_from_port(ed, i);

		__atomic_store_n(&chn->priority, EVTCHN_FIFO_PRIORITY_DEFAULT, __ATOMIC_RELAXED);
		atomic_store(&chn->fifo_lastq, LASTQ(0, EVTCHN_FIFO_PRIORITY_DEFAULT));
		if (i < EVTCHN_2L_PORTS &&
		    (__atomic_load_n(&domain_shared_info(d)->evtchn_pending[i / 64], __ATOMIC_SEQ_CST) >>
		     (i % 64) & 1))
			__atomic_store_n(&chn->pending, true, __ATOMIC_SEQ_CST);
	}
	goto out;
error:
	/* Nothing half-built survives a failed first init (XSA-188). */
	evtchn_fifo_destroy(d);
out:
	plat_write_unlock(&ed->event_lock);
	if (!rc)
		ic->link_bits = EVTCHN_FIFO_LINK_BITS;
	return rc;
}

long evtchn_fifo_expand_array(struct xgnt_domain *d, const struct evtchn_expand_array *ea)
{
	struct evtchn_domain *ed = d->ev;
	struct evtchn_fifo_domain *f;
	uint32_t slot, port, end;
	uint64_t mfn;
	void *virt;
	long rc;

	plat_write_lock(&ed->event_lock);   /* checked under the lock (XSA-505) */
	f = ed->fifo;
	if (!f) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	slot = atomic_load(&f->num_evtchns) / EVTCHN_FIFO_WORDS_PER_PAGE;
	if (slot == EVTCHN_FIFO_MAX_PAGES) {
		rc = -ENOSPC;
		goto out;
	}
	rc = map_guest_page(d, ea->array_gfn, &mfn, &virt);
	if (rc)
		goto out;
	f->event_array[slot] = virt;
	f->array_mfn[slot] = mfn;
	atomic_store_explicit(&f->num_evtchns, (slot + 1) * EVTCHN_FIFO_WORDS_PER_PAGE,
			      memory_order_seq_cst);
	/* Raise what became pending while this page was missing. */
	end = (slot + 1) * EVTCHN_FIFO_WORDS_PER_PAGE;
	for (port = slot * EVTCHN_FIFO_WORDS_PER_PAGE; port < end && port_is_valid(ed, port); port++) {
		struct evtchn *chn = evtchn_from_port(ed, port);

		plat_read_lock(&chn->lock);
		if (__atomic_exchange_n(&chn->pending, false, __ATOMIC_SEQ_CST) &&
		    evtchn_usable(chn))
			set_pending_fifo(&d->vcpus[notify_vcpu(chn)], chn);
		plat_read_unlock(&chn->lock);
	}
out:
	plat_write_unlock(&ed->event_lock);
	return rc;
}
