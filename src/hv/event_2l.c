/* SPDX-License-Identifier: MIT */
/*
 * The 2-level event ABI: pending and mask bitmaps in shared_info, a
 * selector word per vCPU, evtchn_upcall_pending. Every bit lives in guest
 * memory and is changed with one atomic read-modify-write.
 */
#include "event.h"

#define BITS_PER_WORD 64u

static bool test_and_set(xen_ulong_t *w, unsigned int bit)
{
	xen_ulong_t m = (xen_ulong_t)1 << (bit % BITS_PER_WORD);

	return __atomic_fetch_or(&w[bit / BITS_PER_WORD], m, __ATOMIC_SEQ_CST) & m;
}

static bool test_and_clear(xen_ulong_t *w, unsigned int bit)
{
	xen_ulong_t m = (xen_ulong_t)1 << (bit % BITS_PER_WORD);

	return __atomic_fetch_and(&w[bit / BITS_PER_WORD], ~m, __ATOMIC_SEQ_CST) & m;
}

static bool test(const xen_ulong_t *w, unsigned int bit)
{
	return __atomic_load_n(&w[bit / BITS_PER_WORD], __ATOMIC_SEQ_CST) >> (bit % BITS_PER_WORD) & 1;
}

static void set_pending_2l(struct xgnt_vcpu *v, struct evtchn *chn)
{
	shared_info_t *s = domain_shared_info(v->d);
	unsigned int port = chn->port;

	if (port >= EVTCHN_2L_PORTS || !evtchn_usable(chn))
		return;
	if (test_and_set(s->evtchn_pending, port))
		return;
	if (!test(s->evtchn_mask, port) &&
	    !test_and_set(&vcpu_info(v)->evtchn_pending_sel, port / BITS_PER_WORD))
		vcpu_mark_events_pending(v);
}

static void clear_pending_2l(struct xgnt_domain *d, struct evtchn *chn)
{
	if (chn->port < EVTCHN_2L_PORTS)
		test_and_clear(domain_shared_info(d)->evtchn_pending, chn->port);
}

static void unmask_2l(struct xgnt_domain *d, struct evtchn *chn)
{
	shared_info_t *s = domain_shared_info(d);
	struct xgnt_vcpu *v = &d->vcpus[notify_vcpu(chn)];
	unsigned int port = chn->port;

	if (port >= EVTCHN_2L_PORTS)
		return;
	/* An event that arrived while masked is raised now. */
	if (test_and_clear(s->evtchn_mask, port) && test(s->evtchn_pending, port) &&
	    !test_and_set(&vcpu_info(v)->evtchn_pending_sel, port / BITS_PER_WORD))
		vcpu_mark_events_pending(v);
}

static bool is_pending_2l(struct xgnt_domain *d, const struct evtchn *chn)
{
	return chn->port < EVTCHN_2L_PORTS && test(domain_shared_info(d)->evtchn_pending, chn->port);
}

static bool is_masked_2l(struct xgnt_domain *d, const struct evtchn *chn)
{
	return chn->port >= EVTCHN_2L_PORTS || test(domain_shared_info(d)->evtchn_mask, chn->port);
}

const struct evtchn_port_ops evtchn_port_ops_2l = {
	.set_pending = set_pending_2l,
	.clear_pending = clear_pending_2l,
	.unmask = unmask_2l,
	.is_pending = is_pending_2l,
	.is_masked = is_masked_2l,
	.max_ports = EVTCHN_2L_PORTS,
};
