/* SPDX-License-Identifier: MIT */
/*
 * The 2-level ABI, guest side: pending and mask bitmaps in shared_info, a
 * selector word and evtchn_upcall_pending per vCPU. The dispatcher takes
 * each event with an atomic test-and-clear of its pending bit (as Linux's
 * evtchn_2l_handle_events), and only the ports dispatched on its vCPU.
 */
#include "evtchn_int.h"

#include <errno.h>

static int setup_port_2l(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port)
{
	(void)g;
	(void)es;
	return port < GEV_2L_PORTS ? 0 : -EINVAL;
}

static bool test_and_mask_2l(struct evtchn_state *es, evtchn_port_t port)
{
	return gev_test_and_set(es->shinfo->evtchn_mask, port);
}

/*
 * Clear the mask, then look at pending (in that order, or an event set
 * between the two would be missed). The hypervisor raises a pending event
 * only when EVTCHNOP_unmask finds the port masked: mask it again first.
 * The hypercall, not a local selector write, so the vCPU the port is
 * bound to gets the upcall, whichever vCPU unmasks.
 */
static void unmask_2l(struct xgnt_guest *g, struct evtchn_state *es, evtchn_port_t port)
{
	shared_info_t *s = es->shinfo;
	struct evtchn_unmask op = { .port = port };

	gev_test_and_clear(s->evtchn_mask, port);
	if (!gev_test(s->evtchn_pending, port))
		return;
	gev_test_and_set(s->evtchn_mask, port);
	xgnt_hyp_event_channel_op(g, EVTCHNOP_unmask, &op);
}

static void set_pending_2l(struct evtchn_state *es, evtchn_port_t port)
{
	gev_test_and_set(es->shinfo->evtchn_pending, port);
}

static void clear_pending_2l(struct evtchn_state *es, evtchn_port_t port)
{
	gev_test_and_clear(es->shinfo->evtchn_pending, port);
}

static bool is_pending_2l(struct evtchn_state *es, evtchn_port_t port)
{
	return gev_test(es->shinfo->evtchn_pending, port);
}

static bool is_masked_2l(struct evtchn_state *es, evtchn_port_t port)
{
	return gev_test(es->shinfo->evtchn_mask, port);
}

/* In the new vCPU's set before out of the old one's: never in neither, so
 * a pending bit is always someone's to take. */
static void move_2l(struct evtchn_state *es, evtchn_port_t port, uint32_t from, uint32_t to)
{
	assert(plat_write_held(&es->lock));
	if (from == to)
		return;
	gev_test_and_set(es->vcpus[to].mine, port);
	gev_test_and_clear(es->vcpus[from].mine, port);
}

static unsigned int poll_2l(struct xgnt_guest *g, struct evtchn_state *es, struct gev_vcpu *vc,
			    unsigned int budget)
{
	shared_info_t *s = es->shinfo;
	vcpu_info_t *vi = vc->vi;
	unsigned int n = 0, round;
	xen_ulong_t sel = 0;

	assert(plat_mutex_held(&vc->dispatch_lock));
	for (round = 0; round < GEV_POLL_ROUNDS; round++) {
		/* Cleared before looking, so an event set from here on raises
		 * it again (xen.h, vcpu_info). */
		__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		while (sel) {
			unsigned int w = (unsigned int)__builtin_ctzl(sel);
			xen_ulong_t bits;

			bits = __atomic_load_n(&s->evtchn_pending[w], __ATOMIC_SEQ_CST) &
			       ~__atomic_load_n(&s->evtchn_mask[w], __ATOMIC_SEQ_CST) &
			       __atomic_load_n(&vc->mine[w], __ATOMIC_RELAXED);
			while (bits) {
				unsigned int b = (unsigned int)__builtin_ctzl(bits);
				evtchn_port_t port = w * GEV_BITS_PER_WORD + b;

				if (n == budget)
					goto out_of_budget;
				bits &= bits - 1;
				if (gev_test_and_clear(s->evtchn_pending, port)) {
					gev_deliver(g, es, port);
					n++;
				}
			}
			sel &= sel - 1;
		}
		if (!__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
			break;
	}
	return n;

out_of_budget:
	/* Leave the rest for the next call: the words not looked at yet go
	 * back into the selector, and the upcall stays raised. */
	__atomic_fetch_or(&vi->evtchn_pending_sel, sel, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	return n;
}

static int init_2l(struct xgnt_guest *g, struct evtchn_state *es)
{
	unsigned int v, w;

	(void)g;
	for (v = 0; v < es->nr_vcpus; v++) {
		es->vcpus[v].mine = plat_calloc(GEV_2L_WORDS, sizeof(xen_ulong_t));
		if (!es->vcpus[v].mine)
			goto nomem;
	}
	/* Every port starts on vCPU 0, as the hypervisor's notify vCPU. */
	for (w = 0; w < GEV_2L_WORDS; w++)
		es->vcpus[0].mine[w] = ~(xen_ulong_t)0;
	return 0;
nomem:
	while (v--) {
		plat_free(es->vcpus[v].mine);
		es->vcpus[v].mine = NULL;
	}
	return -ENOMEM;
}

static void fini_2l(struct xgnt_guest *g, struct evtchn_state *es)
{
	unsigned int v;

	(void)g;
	for (v = 0; v < es->nr_vcpus; v++) {
		plat_free(es->vcpus[v].mine);
		es->vcpus[v].mine = NULL;
	}
}

const struct gev_abi gev_abi_2l = {
	.id = XGNT_EVTCHN_ABI_2L,
	.max_ports = GEV_2L_PORTS,
	.init = init_2l,
	.fini = fini_2l,
	.setup_port = setup_port_2l,
	.test_and_mask = test_and_mask_2l,
	.unmask = unmask_2l,
	.set_pending = set_pending_2l,
	.clear_pending = clear_pending_2l,
	.is_pending = is_pending_2l,
	.is_masked = is_masked_2l,
	.move = move_2l,
	.poll = poll_2l,
};
