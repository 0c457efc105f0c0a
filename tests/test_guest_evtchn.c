/* SPDX-License-Identifier: MIT */
/*
 * The guest side of event channels (<xgnt/evtchn.h>), run for each guest
 * type (HVM, PV, Arm) and each ABI (FIFO when offered, 2-level forced):
 * every bind kind with its handler and data, notify both ways, loopback,
 * IPIs, VIRQs, unbind closing the channel, unmask re-raising, events
 * remembered before a handler is bound, rebinding to another vCPU, the
 * dispatch loop, FIFO priorities, vCPUs past the legacy slots, teardown.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <xgnt/evtchn.h>
#include <xgnt/guest.h>

#include "plat/plat.h"   /* plat_fail_after */

struct param {
	enum xgnt_domain_type type;
	bool force_2l;
};

static const struct param P[] = {
	{ XGNT_DOMAIN_HVM, false }, { XGNT_DOMAIN_HVM, true },
	{ XGNT_DOMAIN_PV, false },  { XGNT_DOMAIN_PV, true },
	{ XGNT_DOMAIN_ARM, false }, { XGNT_DOMAIN_ARM, true },
};

/* Two guests (domains 1 and 2) of one machine, event channels set up. */
struct env {
	struct xgnt_machine *m;
	struct xgnt_domain *d[2];
	struct xgnt_guest *g[2];
	const struct param *p;
};

static struct xgnt_guest *guest_up(struct xgnt_domain *d, const struct param *p,
				   unsigned int extra)
{
	struct xgnt_guest *g = xgnt_guest_create_inproc(d);

	assert_non_null(g);
	assert_int_equal(xgnt_evtchn_init(g, (p->force_2l ? XGNT_EVTCHN_FORCE_2L : 0) | extra), 0);
	assert_int_equal(xgnt_evtchn_abi(g),
			 p->force_2l ? XGNT_EVTCHN_ABI_2L : XGNT_EVTCHN_ABI_FIFO);
	return g;
}

static void env_up(struct env *e, void **state, bool privileged)
{
	unsigned int i;

	e->p = *state;
	e->m = t_machine();
	for (i = 0; i < 2; i++) {
		e->d[i] = t_domain(e->m, (domid_t)(i + 1), e->p->type, privileged && !i);
		e->g[i] = guest_up(e->d[i], e->p, 0);
	}
}

static void env_down(struct env *e)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		xgnt_guest_destroy(e->g[i]);
	xgnt_machine_destroy(e->m);
}

/* What a handler saw. */
struct rec {
	atomic_int calls;
	evtchn_port_t port;
	struct xgnt_guest *g;
	int order[8];
	atomic_int n_order;
};

static void on_event(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct rec *r = data;

	r->port = port;
	r->g = g;
	atomic_fetch_add(&r->calls, 1);
}

static int calls(struct rec *r)
{
	return atomic_load(&r->calls);
}

static void reset(struct rec *r)
{
	atomic_store(&r->calls, 0);
}

/* Dispatch on vCPU v until nothing is left; the events taken. */
static int pump(struct xgnt_guest *g, unsigned int v)
{
	int n, total = 0;

	while ((n = xgnt_evtchn_poll(g, v)) > 0)
		total += n;
	assert_true(n == 0);
	return total;
}

static struct evtchn_status status_of(struct xgnt_guest *g, evtchn_port_t port)
{
	struct evtchn_status st = { .dom = DOMID_SELF, .port = port };

	assert_int_equal(xgnt_hyp_event_channel_op(g, EVTCHNOP_status, &st), 0);
	return st;
}

/* g0 allocates for domain 2, g1 binds to it; the bind's own event (Xen
 * sets the new port pending) is taken. */
static void connect(struct env *e, struct rec *r0, struct rec *r1, evtchn_port_t *p0,
		    evtchn_port_t *p1)
{
	assert_int_equal(xgnt_evtchn_alloc_unbound(e->g[0], 2, on_event, r0, p0), 0);
	assert_int_equal(xgnt_evtchn_bind_interdomain(e->g[1], 1, *p0, on_event, r1, p1), 0);
	pump(e->g[1], 0);
	assert_int_equal(calls(r1), 1);
	reset(r1);
	assert_int_equal(calls(r0), 0);
}

/* ---- setup ----------------------------------------------------------------- */

static void test_init(void **state)
{
	const struct param *p = *state;
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, p->type, false);
	struct xgnt_guest *g = xgnt_guest_create_inproc(d);
	evtchn_port_t port;
	struct rec r = { 0 };

	assert_non_null(g);
	/* Nothing works before setup. */
	assert_int_equal(xgnt_evtchn_abi(g), XGNT_EVTCHN_ABI_NONE);
	assert_int_equal(xgnt_evtchn_max_ports(g), 0);
	assert_int_equal(xgnt_evtchn_bind_ipi(g, 0, on_event, &r, &port), -ENODEV);
	assert_int_equal(xgnt_evtchn_poll(g, 0), -ENODEV);
	assert_int_equal(xgnt_evtchn_init(g, 0x100), -EINVAL);

	assert_int_equal(xgnt_evtchn_init(g, p->force_2l ? XGNT_EVTCHN_FORCE_2L : 0), 0);
	assert_int_equal(xgnt_evtchn_init(g, 0), -EEXIST);
	if (p->force_2l) {
		assert_int_equal(xgnt_evtchn_abi(g), XGNT_EVTCHN_ABI_2L);
		assert_int_equal(xgnt_evtchn_max_ports(g), 4096);
	} else {
		assert_int_equal(xgnt_evtchn_abi(g), XGNT_EVTCHN_ABI_FIFO);
		assert_int_equal(xgnt_evtchn_max_ports(g), EVTCHN_FIFO_NR_CHANNELS);
		/* The hypervisor agrees: set_priority exists only under FIFO. */
	}
	assert_int_equal(xgnt_evtchn_poll(g, 0), 0);
	assert_int_equal(xgnt_evtchn_poll(g, 2), -EINVAL);
	assert_int_equal(xgnt_evtchn_wait(g, 0, 0), 0);

	/* Teardown gives everything back (the machine's frame check), and
	 * a new context over the same domain sets up again. */
	assert_int_equal(xgnt_evtchn_bind_ipi(g, 1, on_event, &r, &port), 0);
	xgnt_guest_destroy(g);
	g = guest_up(d, p, 0);
	assert_int_equal(xgnt_evtchn_bind_ipi(g, 0, on_event, &r, &port), 0);
	assert_int_equal(xgnt_evtchn_notify(g, port), 0);
	pump(g, 0);
	assert_int_equal(calls(&r), 1);
	xgnt_guest_destroy(g);
	xgnt_machine_destroy(m);
}

/* Fail the n-th allocation, for every n: setup either fails cleanly
 * (-ENOMEM, nothing left behind) or works (FIFO may fall back to 2-level
 * when the hypervisor's own allocation failed). */
static void test_init_alloc_failures(void **state)
{
	const struct param *p = *state;
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, p->type, false);
	struct xgnt_guest *g = xgnt_guest_create_inproc(d);
	unsigned int flags = p->force_2l ? XGNT_EVTCHN_FORCE_2L : 0;
	unsigned long n;

	assert_non_null(g);
	for (n = 1; n < 1000; n++) {
		long before = t_live_allocs();
		struct rec r = { 0 };
		evtchn_port_t port;
		int rc;

		plat_fail_after(n);
		rc = xgnt_evtchn_init(g, flags);
		plat_fail_after(0);
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			assert_int_equal(xgnt_evtchn_abi(g), XGNT_EVTCHN_ABI_NONE);
			assert_int_equal(t_live_allocs(), before);
			continue;
		}
		assert_int_equal(xgnt_evtchn_bind_ipi(g, 0, on_event, &r, &port), 0);
		assert_int_equal(xgnt_evtchn_notify(g, port), 0);
		pump(g, 0);
		assert_int_equal(calls(&r), 1);
		if (xgnt_evtchn_abi(g) == (p->force_2l ? XGNT_EVTCHN_ABI_2L : XGNT_EVTCHN_ABI_FIFO))
			break;
		xgnt_guest_destroy(g);
		g = xgnt_guest_create_inproc(d);
		assert_non_null(g);
	}
	assert_true(n > 1 && n < 1000);
	xgnt_guest_destroy(g);
	xgnt_machine_destroy(m);
}

/* An event whose slot cannot be allocated stays with the ABI (masked and
 * pending) and is delivered once bound. */
static void test_deliver_alloc_failure(void **state)
{
	struct evtchn_bind_ipi ipi = { .vcpu = 0 };
	struct rec r = { 0 };
	struct env e;
	int i;

	env_up(&e, state, false);
	/* Ports until one opens a bucket of the table nobody used yet. */
	for (i = 0; i < 200; i++) {
		assert_int_equal(xgnt_hyp_event_channel_op(e.g[0], EVTCHNOP_bind_ipi, &ipi), 0);
		if (ipi.port == 128)
			break;
	}
	assert_int_equal(ipi.port, 128);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], ipi.port), 0);
	plat_fail_after(1);
	i = xgnt_evtchn_poll(e.g[0], 0);
	plat_fail_after(0);
	assert_int_equal(i, 1);
	assert_int_equal(xgnt_evtchn_missed(e.g[0], ipi.port), 0);
	assert_true(xgnt_evtchn_is_masked(e.g[0], ipi.port));
	assert_true(xgnt_evtchn_is_pending(e.g[0], ipi.port));
	assert_int_equal(xgnt_evtchn_bind(e.g[0], ipi.port, on_event, &r), 0);
	assert_true(xgnt_evtchn_wait(e.g[0], 0, 5000) > 0);
	assert_int_equal(calls(&r), 1);
	env_down(&e);
}

/* ---- bind kinds ------------------------------------------------------------- */

static void test_interdomain_both_ways(void **state)
{
	struct rec r0 = { 0 }, r1 = { 0 };
	evtchn_port_t p0, p1;
	struct env e;
	int i;

	env_up(&e, state, false);
	connect(&e, &r0, &r1, &p0, &p1);
	assert_int_equal(status_of(e.g[0], p0).status, EVTCHNSTAT_interdomain);
	assert_int_equal(status_of(e.g[1], p1).u.interdomain.port, p0);

	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(pump(e.g[0], 0), 0);
	assert_int_equal(pump(e.g[1], 0), 1);
	assert_int_equal(calls(&r1), 1);
	assert_int_equal(r1.port, p1);
	assert_ptr_equal(r1.g, e.g[1]);

	assert_int_equal(xgnt_evtchn_notify(e.g[1], p1), 0);
	assert_int_equal(pump(e.g[0], 0), 1);
	assert_int_equal(calls(&r0), 1);
	assert_int_equal(r0.port, p0);
	assert_ptr_equal(r0.g, e.g[0]);

	/* Several notifications before a dispatch coalesce; none is lost. */
	for (i = 0; i < 5; i++)
		assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	pump(e.g[1], 0);
	assert_int_equal(calls(&r1), 2);
	/* Nothing on the other vCPU. */
	assert_int_equal(pump(e.g[1], 1), 0);
	env_down(&e);
}

static void test_loopback(void **state)
{
	struct rec ra = { 0 }, rb = { 0 };
	evtchn_port_t a, b;
	struct env e;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_alloc_unbound(e.g[0], 1, on_event, &ra, &a), 0);
	assert_int_equal(xgnt_evtchn_bind_interdomain(e.g[0], 1, a, on_event, &rb, &b), 0);
	pump(e.g[0], 0);
	assert_int_equal(calls(&rb), 1);
	reset(&rb);

	assert_int_equal(xgnt_evtchn_notify(e.g[0], a), 0);
	pump(e.g[0], 0);
	assert_int_equal(calls(&rb), 1);
	assert_int_equal(rb.port, b);
	assert_int_equal(calls(&ra), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], b), 0);
	pump(e.g[0], 0);
	assert_int_equal(calls(&ra), 1);
	assert_int_equal(ra.port, a);

	/* Unbinding one end leaves the other unbound to ourselves. */
	assert_int_equal(xgnt_evtchn_unbind(e.g[0], b), 0);
	assert_int_equal(status_of(e.g[0], a).status, EVTCHNSTAT_unbound);
	assert_int_equal(status_of(e.g[0], a).u.unbound.dom, 1);
	env_down(&e);
}

static void test_ipi(void **state)
{
	struct rec r0 = { 0 }, r1 = { 0 };
	evtchn_port_t p0, p1;
	struct env e;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 0, on_event, &r0, &p0), 0);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 1, on_event, &r1, &p1), 0);
	assert_int_equal(xgnt_evtchn_vcpu(e.g[0], p1), 1);
	assert_int_equal(status_of(e.g[0], p1).status, EVTCHNSTAT_ipi);
	assert_int_equal(status_of(e.g[0], p1).vcpu, 1);

	/* Sent from vCPU 0, dispatched on vCPU 1 only. */
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p1), 0);
	assert_int_equal(pump(e.g[0], 0), 0);
	assert_int_equal(calls(&r1), 0);
	assert_int_equal(pump(e.g[0], 1), 1);
	assert_int_equal(calls(&r1), 1);
	assert_int_equal(r1.port, p1);

	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(pump(e.g[0], 1), 0);
	assert_int_equal(pump(e.g[0], 0), 1);
	assert_int_equal(calls(&r0), 1);

	/* Xen's answer for a vCPU that does not exist. */
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 2, on_event, &r0, &p0), -ENOENT);
	env_down(&e);
}

static void test_virq(void **state)
{
	struct rec r = { 0 }, rd = { 0 };
	evtchn_port_t p, pd;
	struct env e;

	env_up(&e, state, true);
	/* VIRQ_DEBUG is per vCPU; the machine has no way to raise it, so
	 * only its binding is checked. */
	assert_int_equal(xgnt_evtchn_bind_virq(e.g[1], VIRQ_DEBUG, 1, on_event, &rd, &pd), 0);
	assert_int_equal(status_of(e.g[1], pd).status, EVTCHNSTAT_virq);
	assert_int_equal(status_of(e.g[1], pd).u.virq, VIRQ_DEBUG);
	assert_int_equal(status_of(e.g[1], pd).vcpu, 1);
	assert_int_equal(xgnt_evtchn_vcpu(e.g[1], pd), 1);
	assert_int_equal(xgnt_evtchn_bind_virq(e.g[1], VIRQ_DEBUG, 1, on_event, &rd, &pd), -EEXIST);
	/* A global VIRQ belongs to the control domain. */
	assert_int_equal(xgnt_evtchn_bind_virq(e.g[1], VIRQ_DOM_EXC, 0, on_event, &r, &p), -EBUSY);

	/* VIRQ_DOM_EXC on the control domain when a domain is destroyed. */
	assert_int_equal(xgnt_evtchn_bind_virq(e.g[0], VIRQ_DOM_EXC, 0, on_event, &r, &p), 0);
	assert_int_equal(xgnt_evtchn_bind_virq(e.g[0], VIRQ_DOM_EXC, 1, on_event, &r, &p),
			 -EINVAL);
	assert_int_equal(xgnt_domain_destroy(t_domain(e.m, 3, e.p->type, false)), 0);
	pump(e.g[0], 0);
	assert_int_equal(calls(&r), 1);
	assert_int_equal(r.port, p);
	/* A global VIRQ may move to another vCPU (a per-vCPU one may not). */
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[1], pd, 0), -EINVAL);
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[0], p, 1), 0);
	xgnt_guest_destroy(e.g[1]);
	e.g[1] = NULL;
	assert_int_equal(xgnt_domain_destroy(e.d[1]), 0);
	assert_int_equal(pump(e.g[0], 0), 0);
	assert_true(xgnt_evtchn_wait(e.g[0], 1, 5000) > 0);
	assert_int_equal(calls(&r), 2);
	assert_int_equal(calls(&rd), 0);
	env_down(&e);
}

static void test_bind_errors(void **state)
{
	struct rec r = { 0 };
	struct evtchn_bind_ipi ipi = { .vcpu = 0 };
	evtchn_port_t p;
	struct env e;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_alloc_unbound(e.g[0], 2, on_event, &r, NULL), -EINVAL);
	assert_int_equal(xgnt_evtchn_bind_interdomain(e.g[1], 1, 77, on_event, &r, &p), -EINVAL);
	assert_int_equal(xgnt_evtchn_alloc_unbound(e.g[0], 9, on_event, &r, &p), 0);
	assert_int_equal(xgnt_evtchn_bind_interdomain(e.g[1], 1, p, on_event, &r, &p), -EINVAL);

	/* Binding a port obtained otherwise: open, not yet bound. */
	assert_int_equal(xgnt_evtchn_bind(e.g[0], 0, on_event, &r), -EINVAL);
	assert_int_equal(xgnt_evtchn_bind(e.g[0], 500, on_event, &r), -EINVAL);
	assert_int_equal(xgnt_hyp_event_channel_op(e.g[0], EVTCHNOP_bind_ipi, &ipi), 0);
	assert_int_equal(xgnt_evtchn_bind(e.g[0], ipi.port, NULL, &r), -EINVAL);
	assert_int_equal(xgnt_evtchn_bind(e.g[0], ipi.port, on_event, &r), 0);
	assert_int_equal(xgnt_evtchn_bind(e.g[0], ipi.port, on_event, &r), -EBUSY);
	assert_int_equal(xgnt_evtchn_bind(e.g[0], p, on_event, &r), -EBUSY);

	assert_int_equal(xgnt_evtchn_unbind(e.g[0], 0), -EINVAL);
	assert_int_equal(xgnt_evtchn_unbind(e.g[0], 600), -EINVAL);
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[0], ipi.port, 5), -ENOENT);
	/* Xen moves no IPI. */
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[0], ipi.port, 1), -EINVAL);
	assert_int_equal(xgnt_evtchn_vcpu(e.g[0], ipi.port), 0);
	env_down(&e);
}

/* ---- unbind ----------------------------------------------------------------- */

static void test_unbind_closes(void **state)
{
	struct rec r0 = { 0 }, r1 = { 0 }, r2 = { 0 };
	evtchn_port_t p0, p1, p2;
	struct env e;

	env_up(&e, state, false);
	connect(&e, &r0, &r1, &p0, &p1);
	/* An event pending at unbind is never handed to the old handler. */
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_true(xgnt_evtchn_is_pending(e.g[1], p1));
	assert_int_equal(xgnt_evtchn_unbind(e.g[1], p1), 0);
	assert_false(xgnt_evtchn_is_pending(e.g[1], p1));
	pump(e.g[1], 0);
	assert_int_equal(calls(&r1), 0);
	assert_int_equal(status_of(e.g[1], p1).status, EVTCHNSTAT_closed);
	assert_int_equal(status_of(e.g[0], p0).status, EVTCHNSTAT_unbound);
	assert_int_equal(status_of(e.g[0], p0).u.unbound.dom, 2);
	/* Sending to an unbound port succeeds and goes nowhere. */
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(pump(e.g[1], 0), 0);
	assert_int_equal(xgnt_evtchn_unbind(e.g[1], p1), -EINVAL);

	/* The peer port can be bound again; the new binding hears what is
	 * sent, and reuses the closed port number with a new handler. */
	assert_int_equal(xgnt_evtchn_bind_interdomain(e.g[1], 1, p0, on_event, &r2, &p2), 0);
	assert_int_equal(p2, p1);
	pump(e.g[1], 0);
	reset(&r2);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	pump(e.g[1], 0);
	assert_int_equal(calls(&r2), 1);
	assert_int_equal(calls(&r1), 0);

	/* Unbinding the allocating side too. */
	assert_int_equal(xgnt_evtchn_unbind(e.g[0], p0), 0);
	assert_int_equal(status_of(e.g[1], p2).status, EVTCHNSTAT_unbound);
	env_down(&e);
}

struct self_unbind {
	struct rec r;
	int rc;
};

static void unbind_self(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct self_unbind *s = data;

	atomic_fetch_add(&s->r.calls, 1);
	s->rc = xgnt_evtchn_unbind(g, port);
}

static void test_unbind_from_handler(void **state)
{
	struct self_unbind s = { .rc = 1 };
	evtchn_port_t p;
	struct env e;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 0, unbind_self, &s, &p), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p), 0);
	pump(e.g[0], 0);
	assert_int_equal(calls(&s.r), 1);
	assert_int_equal(s.rc, 0);
	assert_int_equal(status_of(e.g[0], p).status, EVTCHNSTAT_closed);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p), -EINVAL);
	env_down(&e);
}

/* ---- mask / unmask ------------------------------------------------------------ */

static void test_unmask_reraises(void **state)
{
	struct rec r0 = { 0 }, r1 = { 0 };
	evtchn_port_t p0, p1;
	struct env e;

	env_up(&e, state, false);
	connect(&e, &r0, &r1, &p0, &p1);
	assert_false(xgnt_evtchn_is_masked(e.g[1], p1));
	assert_int_equal(xgnt_evtchn_mask(e.g[1], p1), 0);
	assert_true(xgnt_evtchn_is_masked(e.g[1], p1));
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	/* Masked: nothing raised, nothing taken, the event stays pending. */
	assert_int_equal(xgnt_evtchn_wait(e.g[1], 0, 20), 0);
	assert_int_equal(calls(&r1), 0);
	assert_true(xgnt_evtchn_is_pending(e.g[1], p1));

	/* Unmask raises it: the upcall fd wakes the dispatcher. */
	assert_int_equal(xgnt_evtchn_unmask(e.g[1], p1), 0);
	assert_false(xgnt_evtchn_is_masked(e.g[1], p1));
	assert_true(xgnt_evtchn_wait(e.g[1], 0, 5000) > 0);
	assert_int_equal(calls(&r1), 1);
	assert_false(xgnt_evtchn_is_pending(e.g[1], p1));

	/* Unmask with nothing pending raises nothing. */
	assert_int_equal(xgnt_evtchn_mask(e.g[1], p1), 0);
	assert_int_equal(xgnt_evtchn_unmask(e.g[1], p1), 0);
	assert_int_equal(xgnt_evtchn_wait(e.g[1], 0, 20), 0);
	assert_int_equal(calls(&r1), 1);
	env_down(&e);
}

/* Unmasking from another vCPU raises the event where the port is bound. */
static void test_unmask_from_other_vcpu(void **state)
{
	struct rec r = { 0 };
	evtchn_port_t p;
	struct env e;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 1, on_event, &r, &p), 0);
	assert_int_equal(xgnt_evtchn_mask(e.g[0], p), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p), 0);
	assert_int_equal(pump(e.g[0], 1), 0);
	assert_int_equal(xgnt_guest_bind(e.g[0], 0), 0);
	assert_int_equal(xgnt_evtchn_unmask(e.g[0], p), 0);
	assert_int_equal(xgnt_guest_bind(NULL, 0), 0);
	assert_int_equal(pump(e.g[0], 0), 0);
	assert_true(xgnt_evtchn_wait(e.g[0], 1, 5000) > 0);
	assert_int_equal(calls(&r), 1);
	env_down(&e);
}

/* ---- events before a handler ---------------------------------------------------- */

static void test_early_events(void **state)
{
	struct evtchn_bind_ipi ipi = { .vcpu = 0 };
	struct rec r = { 0 }, r0 = { 0 }, r1 = { 0 };
	evtchn_port_t p0, p1;
	struct env e;

	env_up(&e, state, false);
	/* An IPI opened behind the library's back fires before anyone binds
	 * it: taken, counted, not lost. */
	assert_int_equal(xgnt_hyp_event_channel_op(e.g[0], EVTCHNOP_bind_ipi, &ipi), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], ipi.port), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], ipi.port), 0);
	assert_int_equal(pump(e.g[0], 0), 1);
	assert_int_equal(xgnt_evtchn_missed(e.g[0], ipi.port), 1);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], ipi.port), 0);
	assert_int_equal(pump(e.g[0], 0), 1);
	assert_int_equal(xgnt_evtchn_missed(e.g[0], ipi.port), 2);
	/* Delivered once bound, by the dispatcher. */
	assert_int_equal(xgnt_evtchn_bind(e.g[0], ipi.port, on_event, &r), 0);
	assert_int_equal(calls(&r), 0);
	assert_true(xgnt_evtchn_wait(e.g[0], 0, 5000) > 0);
	assert_int_equal(calls(&r), 1);
	assert_int_equal(xgnt_evtchn_missed(e.g[0], ipi.port), 0);

	/* A port opened without a handler counts what the peer sends. */
	assert_int_equal(xgnt_evtchn_alloc_unbound(e.g[0], 2, NULL, NULL, &p0), 0);
	assert_int_equal(xgnt_evtchn_bind_interdomain(e.g[1], 1, p0, on_event, &r1, &p1), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[1], p1), 0);
	assert_int_equal(pump(e.g[0], 0), 1);
	assert_int_equal(xgnt_evtchn_missed(e.g[0], p0), 1);
	assert_int_equal(xgnt_evtchn_bind(e.g[0], p0, on_event, &r0), 0);
	pump(e.g[0], 0);
	assert_int_equal(calls(&r0), 1);
	assert_int_equal(r0.port, p0);
	env_down(&e);
}

/* An event the peer sent before this side bound (to the then unbound
 * peer port) is made up for by the bind: the handler hears it. */
static void test_event_before_bind_interdomain(void **state)
{
	struct rec r0 = { 0 }, r1 = { 0 };
	evtchn_port_t p0, p1;
	struct env e;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_alloc_unbound(e.g[0], 2, on_event, &r0, &p0), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(xgnt_evtchn_bind_interdomain(e.g[1], 1, p0, on_event, &r1, &p1), 0);
	assert_true(xgnt_evtchn_wait(e.g[1], 0, 5000) > 0);
	assert_int_equal(calls(&r1), 1);
	env_down(&e);
}

/* Events of ports open before setup (the hypervisor still 2-level, no
 * shared_info placed) survive it, the switch to FIFO included. */
static void test_event_before_init(void **state)
{
	const struct param *p = *state;
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, p->type, false);
	struct xgnt_guest *g = xgnt_guest_create_inproc(d);
	struct evtchn_bind_ipi ipi = { .vcpu = 1 };
	struct evtchn_send snd;
	struct rec r = { 0 };

	assert_non_null(g);
	assert_int_equal(xgnt_hyp_event_channel_op(g, EVTCHNOP_bind_ipi, &ipi), 0);
	snd.port = ipi.port;
	assert_int_equal(xgnt_hyp_event_channel_op(g, EVTCHNOP_send, &snd), 0);
	assert_int_equal(xgnt_evtchn_init(g, p->force_2l ? XGNT_EVTCHN_FORCE_2L : 0), 0);
	assert_int_equal(xgnt_evtchn_bind(g, ipi.port, on_event, &r), 0);
	assert_int_equal(xgnt_evtchn_vcpu(g, ipi.port), 1);
	assert_true(xgnt_evtchn_wait(g, 1, 5000) > 0);
	assert_int_equal(calls(&r), 1);
	xgnt_guest_destroy(g);
	xgnt_machine_destroy(m);
}

/* ---- vCPUs ------------------------------------------------------------------------- */

static void test_bind_vcpu(void **state)
{
	struct rec r0 = { 0 }, r1 = { 0 };
	evtchn_port_t p0, p1;
	struct env e;

	env_up(&e, state, false);
	connect(&e, &r0, &r1, &p0, &p1);
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[1], p1, 1), 0);
	assert_int_equal(xgnt_evtchn_vcpu(e.g[1], p1), 1);
	assert_int_equal(status_of(e.g[1], p1).vcpu, 1);
	assert_false(xgnt_evtchn_is_masked(e.g[1], p1));
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(pump(e.g[1], 0), 0);
	assert_int_equal(pump(e.g[1], 1), 1);
	assert_int_equal(calls(&r1), 1);

	/* Moved while an event waits masked: it follows the port. */
	assert_int_equal(xgnt_evtchn_mask(e.g[1], p1), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[1], p1, 0), 0);
	assert_true(xgnt_evtchn_is_masked(e.g[1], p1));
	assert_int_equal(xgnt_evtchn_unmask(e.g[1], p1), 0);
	assert_int_equal(pump(e.g[1], 1), 0);
	assert_int_equal(pump(e.g[1], 0), 1);
	assert_int_equal(calls(&r1), 2);

	/* Moved while pending and unmasked: not lost either. */
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[1], p1, 1), 0);
	pump(e.g[1], 0);
	pump(e.g[1], 1);
	assert_int_equal(calls(&r1), 3);
	env_down(&e);
}

/* 34 vCPUs: the two past the legacy slots get registered vcpu_info. */
static void test_many_vcpus(void **state)
{
	const struct param *p = *state;
	struct xgnt_domain_config c = {
		.domid = 1, .type = p->type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = 34,
	};
	const unsigned int v[3] = { 0, 31, 33 };
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = xgnt_domain_create(m, &c);
	struct rec r[3] = { 0 };
	evtchn_port_t port[3];
	struct xgnt_guest *g;
	unsigned int i;

	assert_non_null(d);
	g = guest_up(d, p, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(xgnt_evtchn_bind_ipi(g, v[i], on_event, &r[i], &port[i]), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(xgnt_evtchn_notify(g, port[i]), 0);
		assert_int_equal(pump(g, 32), 0);
		assert_true(xgnt_evtchn_wait(g, v[i], 5000) > 0);
		assert_int_equal(calls(&r[i]), 1);
	}
	xgnt_guest_destroy(g);
	/* Registrations outlive the context: a second one cannot register
	 * again (Xen has no way to undo one). */
	g = xgnt_guest_create_inproc(d);
	assert_int_equal(xgnt_evtchn_init(g, 0), -EINVAL);
	xgnt_guest_destroy(g);
	xgnt_machine_destroy(m);
}

/* Another domain for the VCPU_INFO_ALL case (registrations are for good). */
static void test_vcpu_info_all(void **state)
{
	const struct param *p = *state;
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, p->type, false);
	struct xgnt_guest *g = guest_up(d, p, XGNT_EVTCHN_VCPU_INFO_ALL);
	struct rec r = { 0 };
	evtchn_port_t port;

	assert_int_equal(xgnt_evtchn_bind_ipi(g, 1, on_event, &r, &port), 0);
	assert_int_equal(xgnt_evtchn_notify(g, port), 0);
	assert_true(xgnt_evtchn_wait(g, 1, 5000) > 0);
	assert_int_equal(calls(&r), 1);
	xgnt_guest_destroy(g);
	xgnt_machine_destroy(m);
}

/* ---- dispatch loop ------------------------------------------------------------------ */

struct waiter {
	struct xgnt_guest *g;
	unsigned int vcpu;
	atomic_int stop;
	atomic_int loops;
};

static void *wait_loop(void *arg)
{
	struct waiter *w = arg;

	assert_int_equal(xgnt_guest_bind(w->g, w->vcpu), 0);
	while (!atomic_load(&w->stop)) {
		int n = xgnt_evtchn_wait(w->g, w->vcpu, 50);

		assert_true(n >= 0);
		atomic_fetch_add(&w->loops, 1);
	}
	return NULL;
}

static void wait_for(struct rec *r, int n)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 5000 && calls(r) < n; i++)
		nanosleep(&ts, NULL);
	assert_true(calls(r) >= n);
}

static void test_dispatch_threads(void **state)
{
	struct rec r0 = { 0 }, r1 = { 0 };
	struct waiter w = { .vcpu = 1 };
	evtchn_port_t p0, p1;
	pthread_t t;
	struct env e;
	int i;

	env_up(&e, state, false);
	connect(&e, &r0, &r1, &p0, &p1);
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[1], p1, 1), 0);
	w.g = e.g[1];
	assert_int_equal(pthread_create(&t, NULL, wait_loop, &w), 0);
	for (i = 1; i <= 20; i++) {
		assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
		wait_for(&r1, i);
	}
	assert_int_equal(calls(&r1), 20);
	atomic_store(&w.stop, 1);
	pthread_join(t, NULL);
	assert_ptr_equal(r1.g, e.g[1]);
	env_down(&e);
}

/*
 * A handler blocked on vCPU 0's thread while its port moves to vCPU 1 and
 * fires there: vCPU 1's dispatcher takes the event but leaves it to the
 * running thread (never two calls at once); an unbind meanwhile waits for
 * the call in progress, and no call starts after it.
 */
struct blocker {
	struct rec r;
	atomic_int inside, most, release;
};

static void blocking(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct blocker *b = data;
	int in = atomic_fetch_add(&b->inside, 1) + 1;
	struct timespec ts = { 0, 1000000 };

	(void)g;
	(void)port;
	if (in > atomic_load(&b->most))
		atomic_store(&b->most, in);
	atomic_fetch_add(&b->r.calls, 1);
	while (!atomic_load(&b->release))
		nanosleep(&ts, NULL);
	atomic_fetch_sub(&b->inside, 1);
}

struct pumper {
	struct xgnt_guest *g;
	unsigned int vcpu;
	evtchn_port_t port;
	atomic_int done;
	int rc;
};

static void *pump_thread(void *arg)
{
	struct pumper *pu = arg;

	assert_int_equal(xgnt_guest_bind(pu->g, pu->vcpu), 0);
	pu->rc = xgnt_evtchn_poll(pu->g, pu->vcpu);
	atomic_store(&pu->done, 1);
	return NULL;
}

static void *unbind_thread(void *arg)
{
	struct pumper *pu = arg;

	pu->rc = xgnt_evtchn_unbind(pu->g, pu->port);
	atomic_store(&pu->done, 1);
	return NULL;
}

static void test_handler_serialised(void **state)
{
	struct blocker b = { 0 };
	struct rec r0 = { 0 };
	struct pumper t0 = { .vcpu = 0 }, un = { 0 };
	struct timespec ts = { 0, 1000000 };
	evtchn_port_t p0, p1;
	pthread_t th, tu;
	struct env e;
	int i;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_alloc_unbound(e.g[0], 2, on_event, &r0, &p0), 0);
	/* The bind's own event: vCPU 0's thread takes it and blocks in it. */
	assert_int_equal(xgnt_evtchn_bind_interdomain(e.g[1], 1, p0, blocking, &b, &p1), 0);
	t0.g = e.g[1];
	assert_int_equal(pthread_create(&th, NULL, pump_thread, &t0), 0);
	for (i = 0; i < 5000 && !atomic_load(&b.inside); i++)
		nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&b.inside), 1);

	/* This thread is vCPU 1: move the port here, and take its next event. */
	assert_int_equal(xgnt_guest_bind(e.g[1], 1), 0);
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[1], p1, 1), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(pump(e.g[1], 1), 1);
	assert_int_equal(calls(&b.r), 1);

	/* Unbind waits for the call in progress. */
	un.g = e.g[1];
	un.port = p1;
	assert_int_equal(pthread_create(&tu, NULL, unbind_thread, &un), 0);
	for (i = 0; i < 50; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&un.done), 0);
	atomic_store(&b.release, 1);
	pthread_join(tu, NULL);
	pthread_join(th, NULL);
	assert_int_equal(un.rc, 0);
	assert_int_equal(t0.rc, 1);
	/* The event vCPU 1 took was either run by vCPU 0's thread before
	 * the unbind or dropped by it; never two at once, none after. */
	assert_true(calls(&b.r) <= 2);
	assert_int_equal(atomic_load(&b.most), 1);
	assert_int_equal(xgnt_guest_bind(NULL, 0), 0);
	env_down(&e);
}

/* Without an unbind, the event taken elsewhere is run by the thread in
 * the handler once it returns. */
static void test_handler_rerun(void **state)
{
	struct blocker b = { 0 };
	struct rec r0 = { 0 };
	struct pumper t0 = { .vcpu = 0 };
	struct timespec ts = { 0, 1000000 };
	evtchn_port_t p0, p1;
	pthread_t th;
	struct env e;
	int i;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_alloc_unbound(e.g[0], 2, on_event, &r0, &p0), 0);
	assert_int_equal(xgnt_evtchn_bind_interdomain(e.g[1], 1, p0, blocking, &b, &p1), 0);
	t0.g = e.g[1];
	assert_int_equal(pthread_create(&th, NULL, pump_thread, &t0), 0);
	for (i = 0; i < 5000 && !atomic_load(&b.inside); i++)
		nanosleep(&ts, NULL);
	assert_int_equal(xgnt_guest_bind(e.g[1], 1), 0);
	assert_int_equal(xgnt_evtchn_bind_vcpu(e.g[1], p1, 1), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p0), 0);
	assert_int_equal(pump(e.g[1], 1), 1);
	atomic_store(&b.release, 1);
	pthread_join(th, NULL);
	assert_int_equal(calls(&b.r), 2);
	assert_int_equal(atomic_load(&b.most), 1);
	assert_int_equal(xgnt_guest_bind(NULL, 0), 0);
	env_down(&e);
}

/* ---- FIFO ------------------------------------------------------------------------------ */

static void record_order(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	struct rec *r = data;
	int i = atomic_fetch_add(&r->n_order, 1);

	(void)g;
	if (i < 8)
		r->order[i] = (int)port;
}

/* FIFO: a port closed while still LINKED in a queue is not handed out
 * again until the guest has walked past it; 2-level reuses it at once. */
static void test_linked_port_not_reused(void **state)
{
	struct rec r = { 0 }, r2 = { 0 };
	evtchn_port_t p, q;
	struct env e;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 0, on_event, &r, &p), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], p), 0);
	assert_int_equal(xgnt_evtchn_unbind(e.g[0], p), 0);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 0, on_event, &r2, &q), 0);
	if (e.p->force_2l)
		assert_int_equal(q, p);
	else
		assert_int_not_equal(q, p);
	pump(e.g[0], 0);
	assert_int_equal(calls(&r), 0);
	assert_int_equal(calls(&r2), 0);
	assert_int_equal(xgnt_evtchn_unbind(e.g[0], q), 0);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 0, on_event, &r2, &q), 0);
	assert_int_equal(q, p);
	env_down(&e);
}

static void test_priorities(void **state)
{
	struct rec r = { 0 };
	evtchn_port_t lo, mid, hi;
	struct env e;

	env_up(&e, state, false);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 0, record_order, &r, &lo), 0);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 0, record_order, &r, &mid), 0);
	assert_int_equal(xgnt_evtchn_bind_ipi(e.g[0], 0, record_order, &r, &hi), 0);
	if (e.p->force_2l) {
		assert_int_equal(xgnt_evtchn_set_priority(e.g[0], hi, 0), -ENOSYS);
		env_down(&e);
		return;
	}
	assert_int_equal(xgnt_evtchn_set_priority(e.g[0], lo, EVTCHN_FIFO_PRIORITY_MIN), 0);
	assert_int_equal(xgnt_evtchn_set_priority(e.g[0], hi, EVTCHN_FIFO_PRIORITY_MAX), 0);
	assert_int_equal(xgnt_evtchn_set_priority(e.g[0], hi, 16), -EINVAL);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], lo), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], mid), 0);
	assert_int_equal(xgnt_evtchn_notify(e.g[0], hi), 0);
	assert_int_equal(pump(e.g[0], 0), 3);
	assert_int_equal(atomic_load(&r.n_order), 3);
	assert_int_equal(r.order[0], hi);
	assert_int_equal(r.order[1], mid);
	assert_int_equal(r.order[2], lo);
	env_down(&e);
}

/* More ports than one FIFO event-array page covers (1024), the last one
 * delivered; under 2-level, the same many ports. */
static void test_many_ports(void **state)
{
	const struct param *p = *state;
	struct xgnt_domain_config c = {
		.domid = 1, .type = p->type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = 1, .max_evtchn_port = 2047,
	};
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = xgnt_domain_create(m, &c);
	struct xgnt_guest *g;
	static evtchn_port_t ports[1200];
	struct rec r = { 0 };
	unsigned int i;

	assert_non_null(d);
	g = guest_up(d, p, 0);
	for (i = 0; i < 1200; i++)
		assert_int_equal(xgnt_evtchn_bind_ipi(g, 0, on_event, &r, &ports[i]), 0);
	assert_true(ports[1199] >= 1200);
	assert_int_equal(xgnt_evtchn_notify(g, ports[1199]), 0);
	assert_int_equal(xgnt_evtchn_notify(g, ports[3]), 0);
	assert_int_equal(pump(g, 0), 2);
	assert_int_equal(calls(&r), 2);
	for (i = 0; i < 1200; i += 2)
		assert_int_equal(xgnt_evtchn_unbind(g, ports[i]), 0);
	xgnt_guest_destroy(g);
	xgnt_machine_destroy(m);
}

/* A PV guest and an Arm guest talk both ways, each with another ABI. */
static void test_mixed_types(void **state)
{
	const struct param *p = *state;
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_ARM, false);
	struct xgnt_guest *ga = guest_up(a, p, 0);
	struct param other = { XGNT_DOMAIN_ARM, !p->force_2l };
	struct xgnt_guest *gb = guest_up(b, &other, 0);
	struct rec ra = { 0 }, rb = { 0 };
	evtchn_port_t pa, pb;

	assert_int_equal(xgnt_evtchn_alloc_unbound(gb, 1, on_event, &rb, &pb), 0);
	assert_int_equal(xgnt_evtchn_bind_interdomain(ga, 2, pb, on_event, &ra, &pa), 0);
	pump(ga, 0);
	reset(&ra);
	assert_int_equal(xgnt_evtchn_notify(ga, pa), 0);
	pump(gb, 0);
	assert_int_equal(calls(&rb), 1);
	assert_int_equal(xgnt_evtchn_notify(gb, pb), 0);
	pump(ga, 0);
	assert_int_equal(calls(&ra), 1);
	xgnt_guest_destroy(ga);
	assert_int_equal(status_of(gb, pb).status, EVTCHNSTAT_unbound);
	xgnt_guest_destroy(gb);
	xgnt_machine_destroy(m);
}

#define VARIANTS(f)                                                          \
	{ #f " hvm fifo", f, NULL, NULL, (void *)&P[0] },                    \
	{ #f " hvm 2l", f, NULL, NULL, (void *)&P[1] },                      \
	{ #f " pv fifo", f, NULL, NULL, (void *)&P[2] },                     \
	{ #f " pv 2l", f, NULL, NULL, (void *)&P[3] },                       \
	{ #f " arm fifo", f, NULL, NULL, (void *)&P[4] },                    \
	{ #f " arm 2l", f, NULL, NULL, (void *)&P[5] }

int main(void)
{
	const struct CMUnitTest tests[] = {
		VARIANTS(test_init),
		VARIANTS(test_init_alloc_failures),
		VARIANTS(test_deliver_alloc_failure),
		VARIANTS(test_interdomain_both_ways),
		VARIANTS(test_loopback),
		VARIANTS(test_ipi),
		VARIANTS(test_virq),
		VARIANTS(test_bind_errors),
		VARIANTS(test_unbind_closes),
		VARIANTS(test_unbind_from_handler),
		VARIANTS(test_unmask_reraises),
		VARIANTS(test_unmask_from_other_vcpu),
		VARIANTS(test_early_events),
		VARIANTS(test_event_before_bind_interdomain),
		VARIANTS(test_event_before_init),
		VARIANTS(test_bind_vcpu),
		VARIANTS(test_many_vcpus),
		VARIANTS(test_vcpu_info_all),
		VARIANTS(test_dispatch_threads),
		VARIANTS(test_handler_serialised),
		VARIANTS(test_handler_rerun),
		VARIANTS(test_priorities),
		VARIANTS(test_linked_port_not_reused),
		VARIANTS(test_many_ports),
		VARIANTS(test_mixed_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
