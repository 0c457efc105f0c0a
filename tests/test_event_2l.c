/* SPDX-License-Identifier: MIT */
/*
 * 2-level event delivery as the guest sees it (xen-hypervisor.md c.3):
 * the pending bit in shared_info, the selector bit and
 * evtchn_upcall_pending in vcpu_info, and the upcall eventfd, readable
 * exactly when evtchn_upcall_pending goes 0 -> 1 while evtchn_upcall_mask
 * is 0. Masking, unmask, bind_vcpu, VCPUOP_register_vcpu_info (and vCPUs
 * past the 32 legacy slots), VIRQ_DOM_EXC and domain destruction.
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define SHINFO_PAGE 2000   /* shared_info at ext_base + this many pages */

/* ---- helpers ---------------------------------------------------------- */

static struct xgnt_domain *mkdom(struct xgnt_machine *m, domid_t id,
				 enum xgnt_domain_type type, bool priv,
				 unsigned int nr_vcpus)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = nr_vcpus, .privileged = priv,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

static long evop(struct xgnt_domain *d, int cmd, void *arg)
{
	return xgnt_event_channel_op(t_v0(d), cmd, arg);
}

static evtchn_port_t alloc_unbound(struct xgnt_domain *d, domid_t remote)
{
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote };

	assert_int_equal(evop(d, EVTCHNOP_alloc_unbound, &a), 0);
	return a.port;
}

static evtchn_port_t bind_interdomain(struct xgnt_domain *d, domid_t rdom, evtchn_port_t rport)
{
	struct evtchn_bind_interdomain b = { .remote_dom = rdom, .remote_port = rport };

	assert_int_equal(evop(d, EVTCHNOP_bind_interdomain, &b), 0);
	return b.local_port;
}

static evtchn_port_t bind_virq(struct xgnt_domain *d, uint32_t virq, uint32_t vcpu)
{
	struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };

	assert_int_equal(evop(d, EVTCHNOP_bind_virq, &b), 0);
	return b.port;
}

static evtchn_port_t bind_ipi(struct xgnt_domain *d, uint32_t vcpu)
{
	struct evtchn_bind_ipi b = { .vcpu = vcpu };

	assert_int_equal(evop(d, EVTCHNOP_bind_ipi, &b), 0);
	return b.port;
}

static long ev_close(struct xgnt_domain *d, evtchn_port_t port)
{
	struct evtchn_close c = { .port = port };

	return evop(d, EVTCHNOP_close, &c);
}

static long ev_send(struct xgnt_domain *d, evtchn_port_t port)
{
	struct evtchn_send s = { .port = port };

	return evop(d, EVTCHNOP_send, &s);
}

static long ev_unmask(struct xgnt_domain *d, evtchn_port_t port)
{
	struct evtchn_unmask u = { .port = port };

	return evop(d, EVTCHNOP_unmask, &u);
}

static long ev_bind_vcpu(struct xgnt_domain *d, evtchn_port_t port, uint32_t vcpu)
{
	struct evtchn_bind_vcpu b = { .port = port, .vcpu = vcpu };

	return evop(d, EVTCHNOP_bind_vcpu, &b);
}

static struct evtchn_status status_of(struct xgnt_domain *d, evtchn_port_t port)
{
	struct evtchn_status st = { .dom = DOMID_SELF, .port = port };

	assert_int_equal(evop(d, EVTCHNOP_status, &st), 0);
	return st;
}

static shared_info_t *shinfo(struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;
	uint64_t gfn;

	xgnt_domain_layout(d, &l);
	gfn = (l.ext_base >> 12) + SHINFO_PAGE;
	if (xgnt_domain_pfn_to_mfn(d, 0) == INVALID_MFN) {
		struct xen_add_to_physmap a = {
			.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
			.idx = 0, .gpfn = gfn,
		};

		assert_int_equal(xgnt_memory_op(t_v0(d), XENMEM_add_to_physmap, &a), 0);
	} else {
		assert_int_equal(xgnt_update_va_mapping(t_v0(d), gfn << 12,
							xgnt_domain_shared_info_mfn(d),
							XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	}
	return xgnt_domain_va(d, gfn << 12);
}

static bool bit(const xen_ulong_t *bm, unsigned int n)
{
	return __atomic_load_n(&bm[n / 64], __ATOMIC_SEQ_CST) >> (n % 64) & 1;
}

static void set_bit_(xen_ulong_t *bm, unsigned int n)
{
	__atomic_fetch_or(&bm[n / 64], (xen_ulong_t)1 << (n % 64), __ATOMIC_SEQ_CST);
}

static void clear_bit_(xen_ulong_t *bm, unsigned int n)
{
	__atomic_fetch_and(&bm[n / 64], ~((xen_ulong_t)1 << (n % 64)), __ATOMIC_SEQ_CST);
}

static bool pending(shared_info_t *s, evtchn_port_t p)
{
	return bit(s->evtchn_pending, p);
}

static bool sel(const vcpu_info_t *vi, evtchn_port_t p)
{
	return bit(&vi->evtchn_pending_sel, p / 64);
}

static uint8_t upcall(const vcpu_info_t *vi)
{
	return __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST);
}

static bool readable(struct xgnt_vcpu *v)
{
	struct pollfd pfd = { .fd = xgnt_vcpu_upcall_fd(v), .events = POLLIN };

	assert_true(pfd.fd >= 0);
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Acknowledge the wake-up: the eventfd's count (0 if none). */
static uint64_t drain(struct xgnt_vcpu *v)
{
	uint64_t n = 0;

	if (read(xgnt_vcpu_upcall_fd(v), &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

/* The guest has handled everything: no pending bits, selectors or
 * upcalls, upcalls unmasked, ports unmasked, wake-ups acknowledged. */
static void quiesce(struct xgnt_domain *d, shared_info_t *s, unsigned int nr_vcpus)
{
	unsigned int i;

	memset(s->evtchn_pending, 0, sizeof(s->evtchn_pending));
	memset(s->evtchn_mask, 0, sizeof(s->evtchn_mask));
	for (i = 0; i < nr_vcpus && i < XEN_LEGACY_MAX_VCPUS; i++) {
		s->vcpu_info[i].evtchn_upcall_pending = 0;
		s->vcpu_info[i].evtchn_upcall_mask = 0;
		s->vcpu_info[i].evtchn_pending_sel = 0;
	}
	for (i = 0; i < nr_vcpus; i++)
		drain(xgnt_domain_vcpu(d, i));
}

/* Nothing at all is raised on vCPU i. */
static void assert_quiet(struct xgnt_domain *d, vcpu_info_t *vi, unsigned int i)
{
	assert_int_equal(vi->evtchn_pending_sel, 0);
	assert_int_equal(upcall(vi), 0);
	assert_false(readable(xgnt_domain_vcpu(d, i)));
}

/* Port p of d was raised on vCPU i: pending, selector, upcall, and the fd
 * readable exactly once. */
static void assert_raised(struct xgnt_domain *d, shared_info_t *s, vcpu_info_t *vi,
			  unsigned int i, evtchn_port_t p)
{
	struct xgnt_vcpu *v = xgnt_domain_vcpu(d, i);

	assert_true(pending(s, p));
	assert_true(sel(vi, p));
	assert_int_equal(upcall(vi), 1);
	assert_true(readable(v));
	assert_int_equal(drain(v), 1);
	assert_false(readable(v));
}

/* ---- delivery --------------------------------------------------------- */

static void interdomain_delivery(enum xgnt_domain_type ta, enum xgnt_domain_type tb)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, ta, false);
	struct xgnt_domain *b = t_domain(m, 2, tb, false);
	shared_info_t *sa = shinfo(a), *sb = shinfo(b);
	vcpu_info_t *va = &sa->vcpu_info[0], *vb = &sb->vcpu_info[0];
	evtchn_port_t pa, pb, pb2, pa2;
	unsigned int i;

	quiesce(a, sa, 2);
	quiesce(b, sb, 2);
	/* Move b's port into the second selector word. */
	for (i = 1; i < 70; i++)
		(void)alloc_unbound(b, 9);
	pb = alloc_unbound(b, 1);
	assert_int_equal(pb, 70);
	assert_false(readable(t_v0(b)));
	pa = bind_interdomain(a, 2, pb);
	/* Binding raised the new local port, on vCPU 0, not the remote one. */
	assert_raised(a, sa, va, 0, pa);
	assert_quiet(a, &sa->vcpu_info[1], 1);
	assert_false(pending(sb, pb));
	assert_quiet(b, vb, 0);

	quiesce(a, sa, 2);
	assert_int_equal(ev_send(a, pa), 0);
	assert_raised(b, sb, vb, 0, pb);
	assert_false(sel(vb, 0));              /* word 1 only */
	assert_int_equal(vb->evtchn_pending_sel, (xen_ulong_t)1 << 1);
	assert_false(pending(sa, pa));
	assert_quiet(a, va, 0);
	assert_quiet(b, &sb->vcpu_info[1], 1);

	/* Already pending: nothing more happens. */
	vb->evtchn_pending_sel = 0;
	vb->evtchn_upcall_pending = 0;
	assert_int_equal(ev_send(a, pa), 0);
	assert_int_equal(vb->evtchn_pending_sel, 0);
	assert_int_equal(upcall(vb), 0);
	assert_false(readable(t_v0(b)));

	/* Pending bit handled, but the upcall still pending: the bits are
	 * set, and no new wake-up. */
	clear_bit_(sb->evtchn_pending, pb);
	vb->evtchn_upcall_pending = 1;
	assert_int_equal(ev_send(a, pa), 0);
	assert_true(pending(sb, pb));
	assert_true(sel(vb, pb));
	assert_false(readable(t_v0(b)));

	/* A second channel in the same selector word, the other way. */
	quiesce(b, sb, 2);
	pa2 = alloc_unbound(a, 2);
	pb2 = bind_interdomain(b, 1, pa2);
	assert_raised(b, sb, vb, 0, pb2);
	assert_int_equal(ev_send(b, pb2), 0);
	assert_raised(a, sa, va, 0, pa2);
	assert_int_equal(ev_send(b, pb), 0);   /* selector word already set */
	assert_true(pending(sa, pa));
	assert_int_equal(upcall(va), 1);
	assert_false(readable(t_v0(a)));

	xgnt_machine_destroy(m);
}

static void test_delivery_hvm(void **state)
{
	(void)state;
	interdomain_delivery(XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
}

static void test_delivery_pv(void **state)
{
	(void)state;
	interdomain_delivery(XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
}

static void test_delivery_arm_to_pv(void **state)
{
	(void)state;
	interdomain_delivery(XGNT_DOMAIN_ARM, XGNT_DOMAIN_PV);
}

/* A masked port gets its pending bit but no selector and no upcall;
 * unmask raises what arrived meanwhile, on the bound vCPU. */
static void test_masked_port_and_unmask(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	shared_info_t *sb = shinfo(b);
	vcpu_info_t *vb0 = &sb->vcpu_info[0], *vb1 = &sb->vcpu_info[1];
	evtchn_port_t pa, pb;

	(void)state;
	pb = alloc_unbound(b, 1);
	pa = bind_interdomain(a, 2, pb);
	quiesce(b, sb, 2);

	set_bit_(sb->evtchn_mask, pb);
	assert_int_equal(ev_send(a, pa), 0);
	assert_true(pending(sb, pb));
	assert_quiet(b, vb0, 0);
	/* Unmask raises it. */
	assert_int_equal(ev_unmask(b, pb), 0);
	assert_false(bit(sb->evtchn_mask, pb));
	assert_raised(b, sb, vb0, 0, pb);
	/* Unmasking an unmasked port raises nothing again. */
	vb0->evtchn_pending_sel = 0;
	vb0->evtchn_upcall_pending = 0;
	assert_int_equal(ev_unmask(b, pb), 0);
	assert_quiet(b, vb0, 0);
	/* Masked with nothing pending: unmask only clears the mask. */
	quiesce(b, sb, 2);
	set_bit_(sb->evtchn_mask, pb);
	assert_int_equal(ev_unmask(b, pb), 0);
	assert_false(bit(sb->evtchn_mask, pb));
	assert_quiet(b, vb0, 0);

	/* Bound to vCPU 1: unmask raises it there. */
	assert_int_equal(ev_bind_vcpu(b, pb, 1), 0);
	set_bit_(sb->evtchn_mask, pb);
	assert_int_equal(ev_send(a, pa), 0);
	assert_true(pending(sb, pb));
	assert_quiet(b, vb1, 1);
	assert_int_equal(ev_unmask(b, pb), 0);
	assert_raised(b, sb, vb1, 1, pb);
	assert_quiet(b, vb0, 0);

	/* A closed port cannot be raised by unmask (closing cleared it). */
	quiesce(b, sb, 2);
	set_bit_(sb->evtchn_mask, pb);
	assert_int_equal(ev_send(a, pa), 0);
	assert_int_equal(ev_close(b, pb), 0);
	assert_false(pending(sb, pb));
	assert_int_equal(ev_unmask(b, pb), 0);
	assert_true(bit(sb->evtchn_mask, pb));   /* a no-op on a closed port */
	assert_quiet(b, vb1, 1);

	xgnt_machine_destroy(m);
}

/* evtchn_upcall_mask: the upcall is marked pending but not raised. */
static void test_upcall_masked(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	shared_info_t *s = shinfo(a);
	vcpu_info_t *vi = &s->vcpu_info[0];
	evtchn_port_t p1, p2, i1, i2;

	(void)state;
	p1 = alloc_unbound(a, DOMID_SELF);
	p2 = bind_interdomain(a, DOMID_SELF, p1);
	i1 = bind_ipi(a, 0);
	i2 = bind_ipi(a, 0);
	quiesce(a, s, 2);

	vi->evtchn_upcall_mask = 1;
	assert_int_equal(ev_send(a, p1), 0);
	assert_true(pending(s, p2));
	assert_true(sel(vi, p2));
	assert_int_equal(upcall(vi), 1);
	assert_false(readable(t_v0(a)));
	/* The guest unmasks and finds the upcall pending itself; further
	 * events while it is pending raise nothing. */
	vi->evtchn_upcall_mask = 0;
	assert_false(readable(t_v0(a)));
	assert_int_equal(ev_send(a, i1), 0);
	assert_true(pending(s, i1));
	assert_false(readable(t_v0(a)));
	/* Acknowledged: the next one is raised. */
	vi->evtchn_upcall_pending = 0;
	vi->evtchn_pending_sel = 0;
	assert_int_equal(ev_send(a, i2), 0);
	assert_raised(a, s, vi, 0, i2);

	xgnt_machine_destroy(m);
}

static void test_ipi_delivery(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	shared_info_t *s = shinfo(a);
	evtchn_port_t p, p2;

	(void)state;
	p = bind_ipi(a, 1);
	quiesce(a, s, 2);
	assert_int_equal(ev_send(a, p), 0);
	assert_raised(a, s, &s->vcpu_info[1], 1, p);
	assert_quiet(a, &s->vcpu_info[0], 0);
	/* Closing clears the pending bit: a new binding starts clean. */
	assert_int_equal(ev_close(a, p), 0);
	assert_false(pending(s, p));
	p2 = bind_ipi(a, 0);
	assert_int_equal(p2, p);
	assert_false(pending(s, p2));
	quiesce(a, s, 2);
	assert_int_equal(ev_send(a, p2), 0);
	assert_raised(a, s, &s->vcpu_info[0], 0, p2);
	assert_quiet(a, &s->vcpu_info[1], 1);

	xgnt_machine_destroy(m);
}

/* A send on an unbound port is dropped; binding later raises only the
 * binder's new port (the lost-notification fix-up). */
static void test_unbound_send_dropped(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	shared_info_t *sa = shinfo(a), *sb = shinfo(b);
	evtchn_port_t pa, pb;

	(void)state;
	pb = alloc_unbound(b, 1);
	quiesce(a, sa, 2);
	quiesce(b, sb, 2);
	assert_int_equal(ev_send(b, pb), 0);
	assert_false(pending(sb, pb));
	assert_quiet(b, &sb->vcpu_info[0], 0);
	assert_int_equal(sa->evtchn_pending[0], 0);
	assert_quiet(a, &sa->vcpu_info[0], 0);
	pa = bind_interdomain(a, 2, pb);
	assert_raised(a, sa, &sa->vcpu_info[0], 0, pa);
	assert_false(pending(sb, pb));
	assert_quiet(b, &sb->vcpu_info[0], 0);

	xgnt_machine_destroy(m);
}

/* bind_vcpu moves delivery; a binding made while the port was unbound
 * survives the peer's bind_interdomain. */
static void test_bind_vcpu_moves_delivery(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	shared_info_t *sa = shinfo(a), *sb = shinfo(b);
	evtchn_port_t pa, pb;

	(void)state;
	pb = alloc_unbound(b, 1);
	pa = bind_interdomain(a, 2, pb);
	quiesce(a, sa, 2);
	quiesce(b, sb, 2);

	assert_int_equal(ev_send(b, pb), 0);
	assert_raised(a, sa, &sa->vcpu_info[0], 0, pa);
	assert_quiet(a, &sa->vcpu_info[1], 1);
	quiesce(a, sa, 2);
	assert_int_equal(ev_bind_vcpu(a, pa, 1), 0);
	assert_int_equal(ev_send(b, pb), 0);
	assert_raised(a, sa, &sa->vcpu_info[1], 1, pa);
	assert_quiet(a, &sa->vcpu_info[0], 0);
	quiesce(a, sa, 2);
	assert_int_equal(ev_bind_vcpu(a, pa, 0), 0);
	assert_int_equal(ev_send(b, pb), 0);
	assert_raised(a, sa, &sa->vcpu_info[0], 0, pa);
	assert_quiet(a, &sa->vcpu_info[1], 1);

	/* Unbound port moved to vCPU 1 first, then bound by the peer. */
	pb = alloc_unbound(b, 1);
	assert_int_equal(ev_bind_vcpu(b, pb, 1), 0);
	pa = bind_interdomain(a, 2, pb);
	assert_int_equal(status_of(b, pb).vcpu, 1);
	quiesce(b, sb, 2);
	assert_int_equal(ev_send(a, pa), 0);
	assert_raised(b, sb, &sb->vcpu_info[1], 1, pb);
	assert_quiet(b, &sb->vcpu_info[0], 0);

	xgnt_machine_destroy(m);
}

/* ---- VIRQ_DOM_EXC and destruction ------------------------------------- */

static void test_dom_exc_on_destroy(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	shared_info_t *s = shinfo(p);
	evtchn_port_t exc;

	(void)state;
	exc = bind_virq(p, VIRQ_DOM_EXC, 0);
	quiesce(p, s, 2);
	assert_int_equal(xgnt_domain_destroy(t_domain(m, 3, XGNT_DOMAIN_HVM, false)), 0);
	assert_raised(p, s, &s->vcpu_info[0], 0, exc);
	assert_quiet(p, &s->vcpu_info[1], 1);
	/* Moved to vCPU 1, it is raised there. */
	quiesce(p, s, 2);
	assert_int_equal(ev_bind_vcpu(p, exc, 1), 0);
	assert_int_equal(xgnt_domain_destroy(t_domain(m, 4, XGNT_DOMAIN_PV, false)), 0);
	assert_raised(p, s, &s->vcpu_info[1], 1, exc);
	assert_quiet(p, &s->vcpu_info[0], 0);
	/* Closed, nothing is raised. */
	quiesce(p, s, 2);
	assert_int_equal(ev_close(p, exc), 0);
	assert_int_equal(xgnt_domain_destroy(t_domain(m, 5, XGNT_DOMAIN_ARM, false)), 0);
	assert_int_equal(s->evtchn_pending[0], 0);
	assert_quiet(p, &s->vcpu_info[1], 1);

	xgnt_machine_destroy(m);
}

static void test_destroy_peer_unbound(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	shared_info_t *sa = shinfo(a);
	struct evtchn_status st;
	evtchn_port_t pa, pb, pb2, pa2;

	(void)state;
	pb = alloc_unbound(b, 1);
	pa = bind_interdomain(a, 2, pb);
	pa2 = alloc_unbound(a, 2);
	pb2 = bind_interdomain(b, 1, pa2);
	(void)pb2;
	quiesce(a, sa, 2);
	assert_int_equal(xgnt_domain_destroy(b), 0);
	st = status_of(a, pa);
	assert_int_equal(st.status, EVTCHNSTAT_unbound);
	assert_int_equal(st.u.unbound.dom, 2);
	st = status_of(a, pa2);
	assert_int_equal(st.status, EVTCHNSTAT_unbound);
	assert_int_equal(st.u.unbound.dom, 2);
	assert_int_equal(ev_send(a, pa), 0);     /* dropped */
	assert_int_equal(sa->evtchn_pending[0], 0);
	assert_quiet(a, &sa->vcpu_info[0], 0);
	assert_int_equal(ev_close(a, pa), 0);
	{
		struct evtchn_bind_interdomain bi = { .remote_dom = 2, .remote_port = pb };

		assert_int_equal(evop(a, EVTCHNOP_bind_interdomain, &bi), -ESRCH);
	}

	xgnt_machine_destroy(m);
}

/* ---- VCPUOP_register_vcpu_info ---------------------------------------- */

static long register_vi(struct xgnt_domain *d, unsigned int vcpu, uint64_t frame,
			uint32_t offset)
{
	struct vcpu_register_vcpu_info r = { .mfn = frame, .offset = offset };

	return xgnt_vcpu_op(xgnt_domain_vcpu(d, vcpu), VCPUOP_register_vcpu_info, vcpu, &r);
}

static vcpu_info_t *ram_vi(struct xgnt_domain *d, unsigned int page, uint32_t offset)
{
	return (vcpu_info_t *)((uint8_t *)t_ram_va(d, page) + offset);
}

static void test_register_vcpu_info_errors(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	struct xgnt_domain_layout l;
	struct vcpu_register_vcpu_info r = { .mfn = 10 };

	(void)state;
	xgnt_domain_layout(a, &l);
	assert_int_equal(sizeof(vcpu_info_t), 64);
	/* The vCPU first. */
	assert_int_equal(xgnt_vcpu_op(t_v0(a), VCPUOP_register_vcpu_info, 2, &r), -ENOENT);
	assert_int_equal(xgnt_vcpu_op(t_v0(a), VCPUOP_register_vcpu_info, 100, NULL), -ENOENT);
	assert_int_equal(xgnt_vcpu_op(t_v0(a), VCPUOP_register_vcpu_info, 0, NULL), -EFAULT);
	/* The structure must lie within the page, aligned. */
	assert_int_equal(register_vi(a, 0, 10, 4040), -ENXIO);
	assert_int_equal(register_vi(a, 0, 10, 4033), -ENXIO);
	assert_int_equal(register_vi(a, 0, 10, 4), -ENXIO);
	/* Not a RAM page of the domain. */
	assert_int_equal(register_vi(a, 0, (l.ext_base >> 12) + 5, 0), -EINVAL);
	assert_int_equal(register_vi(a, 0, (l.ext_base + l.ext_size) >> 12, 0), -EINVAL);
	assert_int_equal(register_vi(a, 0, ~0ull, 0), -EINVAL);
	assert_int_equal(register_vi(a, 1, 1ull << 40, 0), -EINVAL);
	/* PV: the frame is an MFN, and must be the domain's own. */
	assert_int_equal(register_vi(b, 0, 10, 0), -EINVAL);   /* a pfn, not b's mfn */
	assert_int_equal(register_vi(b, 0, xgnt_domain_pfn_to_mfn(t_domain(m, 3,
				     XGNT_DOMAIN_PV, false), 10), 0), -EINVAL);
	assert_int_equal(register_vi(b, 0, xgnt_domain_shared_info_mfn(a), 0), -EINVAL);
	assert_int_equal(register_vi(b, 1, ~0ull, 0), -EINVAL);
	/* Unknown VCPUOP. */
	assert_int_equal(xgnt_vcpu_op(t_v0(a), 99, 0, &r), -ENOSYS);

	xgnt_machine_destroy(m);
}

/* After registering, delivery goes to the new place, which starts as a
 * copy of the old one with everything marked pending, raised once. */
static void register_moves_delivery(enum xgnt_domain_type type)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, type, false);
	shared_info_t *s = shinfo(a);
	vcpu_info_t *old = &s->vcpu_info[0], *vi = ram_vi(a, 10, 128);
	evtchn_port_t p1, p2, ipi;

	p1 = alloc_unbound(a, DOMID_SELF);
	ipi = bind_ipi(a, 1);
	quiesce(a, s, 2);
	memset(t_ram_va(a, 10), 0x5a, 4096);

	assert_int_equal(register_vi(a, 0, t_ram_frame(a, 10), 128), 0);
	assert_int_equal(vi->evtchn_upcall_mask, 0);        /* copied */
	assert_int_equal(vi->evtchn_pending_sel, ~(xen_ulong_t)0);
	assert_int_equal(upcall(vi), 1);
	assert_true(readable(t_v0(a)));
	assert_int_equal(drain(t_v0(a)), 1);
	assert_false(readable(t_v0(a)));
	/* The rest of the page is the guest's. */
	assert_int_equal(*((uint8_t *)t_ram_va(a, 10) + 127), 0x5a);
	assert_int_equal(*((uint8_t *)t_ram_va(a, 10) + 192), 0x5a);
	/* Once only. */
	assert_int_equal(register_vi(a, 0, t_ram_frame(a, 10), 128), -EINVAL);
	assert_int_equal(register_vi(a, 0, t_ram_frame(a, 11), 0), -EINVAL);

	/* Events for vCPU 0 land in the new place, not the old. */
	vi->evtchn_pending_sel = 0;
	vi->evtchn_upcall_pending = 0;
	p2 = bind_interdomain(a, DOMID_SELF, p1);
	assert_raised(a, s, vi, 0, p2);
	assert_int_equal(old->evtchn_pending_sel, 0);
	assert_int_equal(old->evtchn_upcall_pending, 0);
	/* Unmask raises into the new place too. */
	vi->evtchn_pending_sel = 0;
	vi->evtchn_upcall_pending = 0;
	memset(s->evtchn_pending, 0, sizeof(s->evtchn_pending));
	set_bit_(s->evtchn_mask, p2);
	assert_int_equal(ev_send(a, p1), 0);
	assert_quiet(a, vi, 0);
	assert_int_equal(ev_unmask(a, p2), 0);
	assert_raised(a, s, vi, 0, p2);
	assert_int_equal(old->evtchn_pending_sel, 0);
	/* vCPU 1 still uses its shared_info slot. */
	assert_int_equal(ev_send(a, ipi), 0);
	assert_raised(a, s, &s->vcpu_info[1], 1, ipi);

	xgnt_machine_destroy(m);
}

static void test_register_vcpu_info_hvm(void **state)
{
	(void)state;
	register_moves_delivery(XGNT_DOMAIN_HVM);
}

static void test_register_vcpu_info_pv(void **state)
{
	(void)state;
	register_moves_delivery(XGNT_DOMAIN_PV);
}

/* The "everything pending" of registration goes through
 * vcpu_mark_events_pending: an upcall already pending is not raised
 * again (the fd is readable only on 0 -> 1), and a masked one not at all. */
static void test_register_vcpu_info_no_spurious_wakeup(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	shared_info_t *s = shinfo(a);
	vcpu_info_t *v0 = ram_vi(a, 20, 0), *v1 = ram_vi(a, 20, 64);

	(void)state;
	quiesce(a, s, 2);
	s->vcpu_info[0].evtchn_upcall_mask = 1;
	assert_int_equal(register_vi(a, 0, 20, 0), 0);
	assert_int_equal(v0->evtchn_upcall_mask, 1);
	assert_int_equal(upcall(v0), 1);
	assert_false(readable(t_v0(a)));

	s->vcpu_info[1].evtchn_upcall_pending = 1;   /* not yet acknowledged */
	assert_int_equal(register_vi(a, 1, 20, 64), 0);
	assert_int_equal(upcall(v1), 1);
	assert_int_equal(v1->evtchn_pending_sel, ~(xen_ulong_t)0);
	assert_false(readable(xgnt_domain_vcpu(a, 1)));

	xgnt_machine_destroy(m);
}

/* vCPUs past the 32 slots of shared_info have nowhere to receive events
 * until they register a vcpu_info. */
static void test_vcpu_beyond_legacy_slots(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, XGNT_DOMAIN_HVM, false, 40);
	struct xgnt_vcpu *v35 = xgnt_domain_vcpu(d, 35);
	shared_info_t *s = shinfo(d);
	vcpu_info_t *vi = ram_vi(d, 30, 0);
	evtchn_port_t ipi, p1, p2;
	unsigned int i;

	(void)state;
	assert_non_null(v35);
	assert_null(xgnt_domain_vcpu(d, 40));
	ipi = bind_ipi(d, 35);
	p1 = alloc_unbound(d, DOMID_SELF);
	p2 = bind_interdomain(d, DOMID_SELF, p1);
	assert_int_equal(ev_bind_vcpu(d, p2, 35), 0);
	quiesce(d, s, 40);
	memset(vi, 0, sizeof(*vi));

	assert_int_equal(ev_send(d, ipi), 0);
	assert_int_equal(ev_send(d, p1), 0);
	assert_true(pending(s, ipi));
	assert_true(pending(s, p2));
	assert_false(readable(v35));
	for (i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
		assert_quiet(d, &s->vcpu_info[i], i);
	assert_int_equal(vi->evtchn_pending_sel, 0);

	/* Registered by the vCPU itself: starts masked, everything pending. */
	assert_int_equal(register_vi(d, 35, 30, 0), 0);
	assert_int_equal(vi->evtchn_upcall_mask, 1);
	assert_int_equal(upcall(vi), 1);
	assert_int_equal(vi->evtchn_pending_sel, ~(xen_ulong_t)0);
	assert_false(readable(v35));
	/* The guest takes over: now it works. */
	memset(s->evtchn_pending, 0, sizeof(s->evtchn_pending));
	vi->evtchn_pending_sel = 0;
	vi->evtchn_upcall_pending = 0;
	vi->evtchn_upcall_mask = 0;
	assert_int_equal(ev_send(d, ipi), 0);
	assert_raised(d, s, vi, 35, ipi);
	vi->evtchn_pending_sel = 0;
	vi->evtchn_upcall_pending = 0;
	assert_int_equal(ev_send(d, p1), 0);
	assert_raised(d, s, vi, 35, p2);
	for (i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
		assert_quiet(d, &s->vcpu_info[i], i);
	/* vCPU 36 has not registered: still nothing. */
	assert_int_equal(ev_bind_vcpu(d, p2, 36), 0);
	memset(s->evtchn_pending, 0, sizeof(s->evtchn_pending));
	vi->evtchn_pending_sel = 0;
	vi->evtchn_upcall_pending = 0;
	assert_int_equal(ev_send(d, p1), 0);
	assert_true(pending(s, p2));
	assert_false(readable(xgnt_domain_vcpu(d, 36)));
	assert_quiet(d, vi, 35);

	xgnt_machine_destroy(m);
}

/* Destroying a domain that registered a vcpu_info gives every frame back
 * (Xen unmaps vcpu_info in domain_relinquish_resources). */
static void test_register_vcpu_info_destroy_frees(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);

	(void)state;
	assert_int_equal(register_vi(a, 0, 10, 0), 0);
	assert_int_equal(register_vi(a, 1, 10, 64), 0);
	assert_int_equal(register_vi(b, 1, xgnt_domain_pfn_to_mfn(b, 12), 0), 0);
	assert_int_equal(xgnt_domain_destroy(a), 0);
	assert_int_equal(xgnt_domain_destroy(b), 0);
	assert_null(xgnt_domain_lookup(m, 1));
	assert_int_equal(xgnt_machine_free_frames(m), t_machine_nr_frames(m));

	xgnt_machine_destroy(m);
}

/* The invariant checker accounts for the reference a registered
 * vcpu_info holds on its page: a live, registered domain is consistent. */
static void test_register_vcpu_info_invariants(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	char why[256] = "";

	(void)state;
	assert_int_equal(register_vi(a, 0, 10, 0), 0);
	if (xgnt_machine_check(m, t_check_flags, why, sizeof(why)))
		fail_msg("check with a registered vcpu_info: %s", why);

	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_hvm),
		cmocka_unit_test(test_delivery_pv),
		cmocka_unit_test(test_delivery_arm_to_pv),
		cmocka_unit_test(test_masked_port_and_unmask),
		cmocka_unit_test(test_upcall_masked),
		cmocka_unit_test(test_ipi_delivery),
		cmocka_unit_test(test_unbound_send_dropped),
		cmocka_unit_test(test_bind_vcpu_moves_delivery),
		cmocka_unit_test(test_dom_exc_on_destroy),
		cmocka_unit_test(test_destroy_peer_unbound),
		cmocka_unit_test(test_register_vcpu_info_errors),
		cmocka_unit_test(test_register_vcpu_info_hvm),
		cmocka_unit_test(test_register_vcpu_info_pv),
		cmocka_unit_test(test_register_vcpu_info_no_spurious_wakeup),
		cmocka_unit_test(test_vcpu_beyond_legacy_slots),
		cmocka_unit_test(test_register_vcpu_info_destroy_frees),
		cmocka_unit_test(test_register_vcpu_info_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
