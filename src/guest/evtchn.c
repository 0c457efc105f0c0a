/* SPDX-License-Identifier: MIT */
/*
 * Guest event channels: setup (shared_info, vcpu_info, the ABI), the port
 * table (handler, data, vCPU, events taken before a handler was bound),
 * binding and unbinding, and the per-vCPU dispatch loop. The ABIs
 * themselves are in evtchn_2l.c and evtchn_fifo.c.
 *
 * A handler call and an unbind meet at the slot's runner word: a
 * dispatcher claims it before it reads the handler (under the table lock),
 * and unbind, having removed the handler under the same lock (W), waits
 * for it to be free again. So no call starts after unbind returns, and at
 * most one thread runs a port's handler at a time.
 */
#include "evtchn_int.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#define INIT_FLAGS (XGNT_EVTCHN_FORCE_2L | XGNT_EVTCHN_VCPU_INFO_ALL)

static struct evtchn_state *state_of(struct xgnt_guest *g)
{
	return g ? g->ev : NULL;
}

/* ---- the port table ---------------------------------------------------------- */

/* The slot of port; with create, its bucket is allocated if need be.
 * NULL: port out of range, or (create) no memory. */
static struct gev_slot *slot_of(struct evtchn_state *es, evtchn_port_t port, bool create)
{
	unsigned int b = port / GEV_SLOTS_PER_BUCKET;
	struct gev_slot *bucket, *expected = NULL;

	if (port >= es->abi->max_ports)
		return NULL;
	bucket = atomic_load_explicit(&es->buckets[b], memory_order_acquire);
	if (!bucket && create) {
		bucket = plat_calloc(GEV_SLOTS_PER_BUCKET, sizeof(*bucket));
		if (!bucket)
			return NULL;
		if (!atomic_compare_exchange_strong_explicit(&es->buckets[b], &expected, bucket,
							     memory_order_acq_rel,
							     memory_order_acquire)) {
			plat_free(bucket);
			bucket = expected;
		}
	}
	return bucket ? &bucket[port % GEV_SLOTS_PER_BUCKET] : NULL;
}

/* Until no thread but (perhaps) this one is calling the slot's handler:
 * yield a while, then sleep briefly (a handler may take its time). */
static void wait_idle(struct gev_slot *s)
{
	struct timespec nap = { 0, 100000 };
	uintptr_t self = plat_self(), r;
	unsigned int spins = 0;

	while ((r = atomic_load_explicit(&s->runner, memory_order_seq_cst)) && r != self) {
		if (++spins < 100)
			sched_yield();
		else
			nanosleep(&nap, NULL);
	}
}

/* Call the handler while events are counted and it is bound. Whoever
 * finds another thread running it leaves its count to that thread, which
 * looks at the count again after giving the runner word back. */
static void run(struct xgnt_guest *g, struct evtchn_state *es, struct gev_slot *s,
		evtchn_port_t port)
{
	uintptr_t self = plat_self();
	xgnt_evtchn_handler_t h;
	uint32_t n;
	bool again;
	void *data;

	do {
		uintptr_t none = 0;

		if (!atomic_compare_exchange_strong_explicit(&s->runner, &none, self,
							     memory_order_seq_cst,
							     memory_order_seq_cst))
			return;
		for (;;) {
			plat_read_lock(&es->lock);
			h = s->state == SLOT_BOUND ? s->handler : NULL;
			data = s->data;
			n = h ? atomic_exchange_explicit(&s->count, 0, memory_order_seq_cst) : 0;
			plat_read_unlock(&es->lock);
			if (!n)
				break;
			h(g, port, data);
		}
		atomic_store_explicit(&s->runner, 0, memory_order_seq_cst);
		plat_read_lock(&es->lock);
		again = s->state == SLOT_BOUND &&
			atomic_load_explicit(&s->count, memory_order_seq_cst);
		plat_read_unlock(&es->lock);
	} while (again);
}

void gev_deliver(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port)
{
	struct gev_slot *s = slot_of(es, port, true);
	bool bound;

	if (!s) {
		/* No memory to count it: leave it to the ABI, pending and
		 * masked; binding unmasks it, which raises it again. */
		es->abi->test_and_mask(es, port);
		es->abi->set_pending(es, port);
		return;
	}
	/* Counted under the lock, so a binder either sees the count or we
	 * see its handler. */
	plat_read_lock(&es->lock);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_seq_cst);
	bound = s->state == SLOT_BOUND;
	plat_read_unlock(&es->lock);
	if (bound)
		run(g, es, s, port);
}

/*
 * Put handler (or none) on an open port dispatched on vcpu, then unmask
 * it. Events counted before are raised again (pending set, then the
 * unmask's EVTCHNOP_unmask), so a dispatcher delivers them.
 */
static int install(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port,
		   uint32_t vcpu, xgnt_evtchn_handler_t handler, void *data)
{
	struct gev_slot *s;
	uint32_t missed;
	int rc;

	if (vcpu >= es->nr_vcpus)
		vcpu = 0;
	rc = es->abi->setup_port(g, es, port);
	if (rc)
		return rc;
	s = slot_of(es, port, true);
	if (!s)
		return -ENOMEM;
	plat_write_lock(&es->lock);
	if (s->state == SLOT_BOUND) {
		plat_write_unlock(&es->lock);
		return -EBUSY;
	}
	if (handler) {
		s->handler = handler;
		s->data = data;
		s->state = SLOT_BOUND;
	}
	s->opened = true;
	if (es->abi->move)
		es->abi->move(es, port, s->vcpu, vcpu);
	s->vcpu = vcpu;
	missed = atomic_load_explicit(&s->count, memory_order_seq_cst);
	plat_write_unlock(&es->lock);
	if (missed && handler)
		es->abi->set_pending(es, port);
	es->abi->unmask(g, es, port);
	return 0;
}

/* A port we just opened: bind it, or close it again. */
static int opened(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port,
		  uint32_t vcpu, xgnt_evtchn_handler_t handler, void *data)
{
	int rc = install(g, es, port, vcpu, handler, data);

	if (rc) {
		struct evtchn_close c = { .port = port };

		xgnt_hyp_event_channel_op(g, EVTCHNOP_close, &c);
	}
	return rc;
}

/* ---- binding ------------------------------------------------------------------- */

int xgnt_evtchn_alloc_unbound(struct xgnt_guest *g, domid_t remote_dom,
			      xgnt_evtchn_handler_t handler, void *data, evtchn_port_t *port)
{
	struct evtchn_state *es = state_of(g);
	struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote_dom };
	long rc;

	if (!es)
		return -ENODEV;
	if (!port)
		return -EINVAL;
	rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_alloc_unbound, &op);
	if (rc)
		return (int)rc;
	rc = opened(g, es, op.port, 0, handler, data);
	if (!rc)
		*port = op.port;
	return (int)rc;
}

int xgnt_evtchn_bind_interdomain(struct xgnt_guest *g, domid_t remote_dom,
				 evtchn_port_t remote_port, xgnt_evtchn_handler_t handler,
				 void *data, evtchn_port_t *local_port)
{
	struct evtchn_state *es = state_of(g);
	struct evtchn_bind_interdomain op = {
		.remote_dom = remote_dom, .remote_port = remote_port,
	};
	long rc;

	if (!es)
		return -ENODEV;
	if (!local_port)
		return -EINVAL;
	rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_bind_interdomain, &op);
	if (rc)
		return (int)rc;
	/* The hypervisor set the new port pending (a notification sent to
	 * the unbound peer port is lost otherwise): delivered on unmask. */
	rc = opened(g, es, op.local_port, 0, handler, data);
	if (!rc)
		*local_port = op.local_port;
	return (int)rc;
}

int xgnt_evtchn_bind_virq(struct xgnt_guest *g, uint32_t virq, unsigned int vcpu,
			  xgnt_evtchn_handler_t handler, void *data, evtchn_port_t *port)
{
	struct evtchn_state *es = state_of(g);
	struct evtchn_bind_virq op = { .virq = virq, .vcpu = vcpu };
	long rc;

	if (!es)
		return -ENODEV;
	if (!port)
		return -EINVAL;
	rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_bind_virq, &op);
	if (rc)
		return (int)rc;
	rc = opened(g, es, op.port, vcpu, handler, data);
	if (!rc)
		*port = op.port;
	return (int)rc;
}

int xgnt_evtchn_bind_ipi(struct xgnt_guest *g, unsigned int vcpu, xgnt_evtchn_handler_t handler,
			 void *data, evtchn_port_t *port)
{
	struct evtchn_state *es = state_of(g);
	struct evtchn_bind_ipi op = { .vcpu = vcpu };
	long rc;

	if (!es)
		return -ENODEV;
	if (!port)
		return -EINVAL;
	rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_bind_ipi, &op);
	if (rc)
		return (int)rc;
	rc = opened(g, es, op.port, vcpu, handler, data);
	if (!rc)
		*port = op.port;
	return (int)rc;
}

int xgnt_evtchn_bind(struct xgnt_guest *g, evtchn_port_t port, xgnt_evtchn_handler_t handler,
		     void *data)
{
	struct evtchn_state *es = state_of(g);
	struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
	long rc;

	if (!es)
		return -ENODEV;
	if (!handler || !port || port >= es->abi->max_ports)
		return -EINVAL;
	/* Open, and on which vCPU the hypervisor delivers it. */
	rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_status, &st);
	if (rc)
		return (int)rc;
	if (st.status == EVTCHNSTAT_closed)
		return -EINVAL;
	return install(g, es, port, st.vcpu, handler, data);
}

int xgnt_evtchn_unbind(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_state *es = state_of(g);
	struct evtchn_close op = { .port = port };
	struct gev_slot *s;
	long rc;

	if (!es)
		return -ENODEV;
	if (!port || port >= es->abi->max_ports)
		return -EINVAL;
	s = slot_of(es, port, false);
	/* Masked first: from here on the port's events stay pending, and
	 * the close clears them. It stays masked for the next binding to
	 * unmask. */
	es->abi->test_and_mask(es, port);
	if (s) {
		plat_write_lock(&es->lock);
		s->state = SLOT_CLOSING;
		s->handler = NULL;
		s->data = NULL;
		s->opened = false;
		atomic_store_explicit(&s->count, 0, memory_order_seq_cst);
		if (es->abi->move)
			es->abi->move(es, port, s->vcpu, 0);
		s->vcpu = 0;   /* where the hypervisor delivers a free port */
		plat_write_unlock(&es->lock);
		wait_idle(s);
	}
	es->abi->clear_pending(es, port);
	rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_close, &op);
	/* A new binding of the same port number may have been installed
	 * since the close: leave it alone. Counts taken meanwhile stay (at
	 * worst a spurious event for the new binding, never a lost one). */
	if (s) {
		plat_write_lock(&es->lock);
		if (s->state == SLOT_CLOSING)
			s->state = SLOT_FREE;
		plat_write_unlock(&es->lock);
	}
	return (int)rc;
}

/* ---- per-port operations --------------------------------------------------------- */

int xgnt_evtchn_notify(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_send op = { .port = port };

	if (!state_of(g))
		return -ENODEV;
	return (int)xgnt_hyp_event_channel_op(g, EVTCHNOP_send, &op);
}

/* A port the ABI can name, its storage set up. */
static int usable_port(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port)
{
	if (!es)
		return -ENODEV;
	if (port >= es->abi->max_ports)
		return -EINVAL;
	return es->abi->setup_port(g, es, port);
}

int xgnt_evtchn_mask(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_state *es = state_of(g);
	int rc = usable_port(g, es, port);

	if (!rc)
		es->abi->test_and_mask(es, port);
	return rc;
}

int xgnt_evtchn_unmask(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_state *es = state_of(g);
	int rc = usable_port(g, es, port);

	if (!rc)
		es->abi->unmask(g, es, port);
	return rc;
}

bool xgnt_evtchn_is_masked(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_state *es = state_of(g);

	return !es || port >= es->abi->max_ports || es->abi->is_masked(es, port);
}

bool xgnt_evtchn_is_pending(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_state *es = state_of(g);

	return es && port < es->abi->max_ports && es->abi->is_pending(es, port);
}

/* Masked across the move (Linux's rebind_irq_to_cpu): what arrives
 * meanwhile stays pending, and the unmask raises it on the new vCPU. */
int xgnt_evtchn_bind_vcpu(struct xgnt_guest *g, evtchn_port_t port, unsigned int vcpu)
{
	struct evtchn_state *es = state_of(g);
	struct evtchn_bind_vcpu op = { .port = port, .vcpu = vcpu };
	struct gev_slot *s;
	bool was_masked;
	long rc;

	rc = usable_port(g, es, port);
	if (rc)
		return (int)rc;
	if (vcpu >= es->nr_vcpus)
		return -ENOENT;
	s = slot_of(es, port, true);
	if (!s)
		return -ENOMEM;
	was_masked = es->abi->test_and_mask(es, port);
	rc = xgnt_hyp_event_channel_op(g, EVTCHNOP_bind_vcpu, &op);
	if (!rc) {
		plat_write_lock(&es->lock);
		if (es->abi->move)
			es->abi->move(es, port, s->vcpu, vcpu);
		s->vcpu = vcpu;
		plat_write_unlock(&es->lock);
	}
	if (!was_masked)
		es->abi->unmask(g, es, port);
	return (int)rc;
}

unsigned int xgnt_evtchn_vcpu(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_state *es = state_of(g);
	struct gev_slot *s = es ? slot_of(es, port, false) : NULL;
	unsigned int v = 0;

	if (s) {
		plat_read_lock(&es->lock);
		v = s->vcpu;
		plat_read_unlock(&es->lock);
	}
	return v;
}

int xgnt_evtchn_set_priority(struct xgnt_guest *g, evtchn_port_t port, unsigned int priority)
{
	struct evtchn_set_priority op = { .port = port, .priority = priority };

	if (!state_of(g))
		return -ENODEV;
	return (int)xgnt_hyp_event_channel_op(g, EVTCHNOP_set_priority, &op);
}

unsigned int xgnt_evtchn_missed(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_state *es = state_of(g);
	struct gev_slot *s = es ? slot_of(es, port, false) : NULL;

	return s ? atomic_load_explicit(&s->count, memory_order_seq_cst) : 0;
}

/* ---- dispatch ---------------------------------------------------------------------- */

int xgnt_evtchn_poll(struct xgnt_guest *g, unsigned int vcpu)
{
	struct evtchn_state *es = state_of(g);
	struct gev_vcpu *vc;
	unsigned int n;

	if (!es)
		return -ENODEV;
	if (vcpu >= es->nr_vcpus)
		return -EINVAL;
	vc = &es->vcpus[vcpu];
	if (plat_mutex_held(&vc->dispatch_lock))
		return -EDEADLK;   /* from one of this vCPU's handlers */
	plat_mutex_lock(&vc->dispatch_lock);
	n = es->abi->poll(g, es, vc, GEV_POLL_BUDGET);
	plat_mutex_unlock(&vc->dispatch_lock);
	return (int)n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Acknowledge the wake-ups so far (the fd may be a blocking one). */
static void drain(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
		ssize_t r = read(fd, &v, sizeof(v));

		(void)r;
	}
}

int xgnt_evtchn_wait(struct xgnt_guest *g, unsigned int vcpu, int timeout_ms)
{
	struct evtchn_state *es = state_of(g);
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct gev_vcpu *vc;
	int n;

	if (!es)
		return -ENODEV;
	if (vcpu >= es->nr_vcpus)
		return -EINVAL;
	vc = &es->vcpus[vcpu];
	for (;;) {
		struct pollfd p = { .fd = vc->upcall_fd, .events = POLLIN };
		int64_t left;

		/* Acknowledge, then look: an upcall raised after the look
		 * makes the fd readable again. */
		if (vc->upcall_fd >= 0)
			drain(vc->upcall_fd);
		n = xgnt_evtchn_poll(g, vcpu);
		if (n)
			return n;
		/* Raised but not signalled (a poll stopped at its budget, or
		 * the upcall was raised before it was unmasked). */
		if (__atomic_load_n(&vc->vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
			continue;
		left = timeout_ms < 0 ? -1 : deadline - now_ms();
		if (timeout_ms >= 0 && left <= 0)
			return 0;
		if (vc->upcall_fd < 0) {
			/* A port without an upcall fd: look again shortly. */
			usleep(1000);
			continue;
		}
		if (poll(&p, 1, (int)(left > INT32_MAX ? INT32_MAX : left)) < 0 && errno != EINTR)
			return -errno;
	}
}

/* ---- setup and teardown ------------------------------------------------------------- */

static int map_shared_info(struct xgnt_guest *g, struct evtchn_state *es)
{
	void *page = xgnt_unpopulated_alloc(g, 1);
	uint64_t addr;
	long rc;

	if (!page)
		return -ENOMEM;
	addr = xgnt_guest_addr(g, page);
	if (g->info.translated) {
		struct xen_add_to_physmap xatp = {
			.domid = DOMID_SELF,
			.space = XENMAPSPACE_shared_info,
			.idx = 0,
			.gpfn = addr >> PAGE_SHIFT,
		};

		rc = xgnt_hyp_memory_op(g, XENMEM_add_to_physmap, &xatp);
	} else if (g->port->ops->update_va_mapping) {
		rc = g->port->ops->update_va_mapping(g->port, guest_vcpu(g), addr,
						     g->info.shared_info_mfn,
						     XGNT_PROT_READ | XGNT_PROT_WRITE);
	} else {
		rc = -ENOSYS;
	}
	if (rc) {
		xgnt_unpopulated_free(g, page, 1);
		return (int)rc;
	}
	es->shinfo = page;
	return 0;
}

static void unmap_shared_info(struct xgnt_guest *g, struct evtchn_state *es)
{
	uint64_t addr = xgnt_guest_addr(g, es->shinfo);
	long rc;

	if (g->info.translated) {
		struct xen_remove_from_physmap xrfp = {
			.domid = DOMID_SELF,
			.gpfn = addr >> PAGE_SHIFT,
		};

		rc = xgnt_hyp_memory_op(g, XENMEM_remove_from_physmap, &xrfp);
	} else {
		rc = g->port->ops->update_va_mapping(g->port, guest_vcpu(g), addr, INVALID_MFN, 0);
	}
	/* A page still showing shared_info is not ours to reuse. */
	if (!rc)
		xgnt_unpopulated_free(g, es->shinfo, 1);
	es->shinfo = NULL;
}

/*
 * vcpu_info of vCPUs past the legacy slots (all, with VCPU_INFO_ALL) in
 * pages of RAM, 64 to a page. A registration cannot be undone: those pages
 * are the hypervisor's until the domain dies, and are never freed.
 */
static int place_vcpu_info(struct xgnt_guest *g, struct evtchn_state *es)
{
	const unsigned int per_page = PAGE_SIZE / sizeof(vcpu_info_t);
	unsigned int first = es->flags & XGNT_EVTCHN_VCPU_INFO_ALL ? 0 : XEN_LEGACY_MAX_VCPUS;
	unsigned int v, n;
	vcpu_info_t *vis;

	for (v = 0; v < es->nr_vcpus && v < XEN_LEGACY_MAX_VCPUS; v++)
		es->vcpus[v].vi = &es->shinfo->vcpu_info[v];
	if (es->nr_vcpus <= first)
		return 0;
	n = es->nr_vcpus - first;
	vis = xgnt_page_alloc(g, DIV_ROUND_UP(n, per_page));
	if (!vis)
		return -ENOMEM;
	memset(vis, 0, DIV_ROUND_UP(n, per_page) * PAGE_SIZE);
	for (v = 0; v < n; v++) {
		struct vcpu_register_vcpu_info r = {
			.mfn = xgnt_guest_frame(g, (uint8_t *)vis + (v / per_page) * PAGE_SIZE),
			.offset = (v % per_page) * sizeof(vcpu_info_t),
		};
		long rc = xgnt_hyp_vcpu_op(g, VCPUOP_register_vcpu_info, first + v, &r);

		if (rc) {
			if (!v)
				xgnt_page_free(g, vis, DIV_ROUND_UP(n, per_page));
			else
				es->vcpu_info_pages = vis;
			return (int)rc;
		}
		es->vcpus[first + v].vi = &vis[v];
	}
	es->vcpu_info_pages = vis;
	return 0;
}

/* Pick the ABI: FIFO if the hypervisor takes it, else 2-level. */
static int choose_abi(struct xgnt_guest *g, struct evtchn_state *es)
{
	int rc;

	if (!(es->flags & XGNT_EVTCHN_FORCE_2L)) {
		es->abi = &gev_abi_fifo;
		rc = gev_abi_fifo.init(g, es);
		if (!rc)
			return 0;
		/* Undo what was done (EVTCHNOP_reset if any vCPU switched). */
		gev_abi_fifo.fini(g, es);
		if (atomic_load_explicit(&es->nr_words, memory_order_relaxed) || es->vcpus[0].cb)
			return rc;   /* still FIFO: the reset failed */
		guest_log("d%u: FIFO events not available (%d), using 2-level",
			  g->info.domid, rc);
	}
	es->abi = &gev_abi_2l;
	return gev_abi_2l.init(g, es);
}

static void free_state(struct evtchn_state *es)
{
	unsigned int i;

	if (es->buckets && es->abi) {
		for (i = 0; i < es->abi->max_ports / GEV_SLOTS_PER_BUCKET; i++)
			plat_free(atomic_load_explicit(&es->buckets[i], memory_order_acquire));
	}
	plat_free(es->buckets);
	for (i = 0; es->vcpus && i < es->nr_vcpus; i++)
		plat_mutex_destroy(&es->vcpus[i].dispatch_lock);
	plat_free(es->vcpus);
	plat_rwlock_destroy(&es->lock);
	plat_mutex_destroy(&es->array_lock);
	plat_free(es);
}

int xgnt_evtchn_init(struct xgnt_guest *g, unsigned int flags)
{
	struct evtchn_state *es;
	unsigned int v;
	int rc;

	if (!g || (flags & ~INIT_FLAGS))
		return -EINVAL;
	if (g->ev)
		return -EEXIST;
	es = plat_calloc(1, sizeof(*es));
	if (!es)
		return -ENOMEM;
	es->flags = flags;
	es->nr_vcpus = g->info.nr_vcpus;
	plat_mutex_init(&es->array_lock);
	plat_rwlock_init(&es->lock);
	es->vcpus = plat_calloc(es->nr_vcpus, sizeof(*es->vcpus));
	if (!es->vcpus) {
		free_state(es);
		return -ENOMEM;
	}
	for (v = 0; v < es->nr_vcpus; v++) {
		plat_mutex_init(&es->vcpus[v].dispatch_lock);
		es->vcpus[v].upcall_fd = g->port->ops->upcall_fd
					 ? g->port->ops->upcall_fd(g->port, v) : -1;
	}
	rc = map_shared_info(g, es);
	if (rc)
		goto fail;
	rc = place_vcpu_info(g, es);
	if (rc)
		goto fail_shinfo;
	rc = choose_abi(g, es);
	if (rc)
		goto fail_shinfo;
	es->buckets = plat_calloc(es->abi->max_ports / GEV_SLOTS_PER_BUCKET,
				  sizeof(*es->buckets));
	if (!es->buckets) {
		rc = -ENOMEM;
		goto fail_abi;
	}
	/* Upcalls on: the guest "enables interrupts" on every vCPU. */
	for (v = 0; v < es->nr_vcpus; v++)
		__atomic_store_n(&es->vcpus[v].vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
	g->ev = es;
	return 0;

fail_abi:
	es->abi->fini(g, es);
fail_shinfo:
	unmap_shared_info(g, es);
fail:
	free_state(es);
	return rc;
}

enum xgnt_evtchn_abi xgnt_evtchn_abi(struct xgnt_guest *g)
{
	struct evtchn_state *es = state_of(g);

	return es ? es->abi->id : XGNT_EVTCHN_ABI_NONE;
}

unsigned int xgnt_evtchn_max_ports(struct xgnt_guest *g)
{
	struct evtchn_state *es = state_of(g);

	return es ? es->abi->max_ports : 0;
}

/*
 * Teardown, with no dispatcher running: every port opened or bound here
 * is unbound and closed, the ABI's pages go back (FIFO: after
 * EVTCHNOP_reset), upcalls are masked and shared_info is unmapped.
 */
void evtchn_guest_fini(struct xgnt_guest *g)
{
	struct evtchn_state *es = state_of(g);
	unsigned int b, i, v;

	if (!es)
		return;
	for (b = 0; b < es->abi->max_ports / GEV_SLOTS_PER_BUCKET; b++) {
		struct gev_slot *bucket =
			atomic_load_explicit(&es->buckets[b], memory_order_acquire);

		for (i = 0; bucket && i < GEV_SLOTS_PER_BUCKET; i++) {
			bool mine;

			plat_read_lock(&es->lock);
			mine = bucket[i].opened || bucket[i].state == SLOT_BOUND;
			plat_read_unlock(&es->lock);
			if (mine)
				xgnt_evtchn_unbind(g, b * GEV_SLOTS_PER_BUCKET + i);
		}
	}
	es->abi->fini(g, es);
	for (v = 0; v < es->nr_vcpus; v++)
		__atomic_store_n(&es->vcpus[v].vi->evtchn_upcall_mask, 1, __ATOMIC_SEQ_CST);
	unmap_shared_info(g, es);
	g->ev = NULL;
	free_state(es);
}
