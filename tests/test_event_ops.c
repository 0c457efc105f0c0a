/* SPDX-License-Identifier: MIT */
/*
 * Event channels: every EVTCHNOP's success path and its errors in Xen's
 * check order (xen-hypervisor.md b.12/b.13, real-xen-ground-truth.md),
 * port-space exhaustion (XSA-317, XSA-496), reset, and the dispatcher.
 * Delivery into shared_info and vcpu_info is in test_event_2l.c.
 */
#include "harness.h"

#include <errno.h>
#include <string.h>

#define SHINFO_PAGE 2000   /* shared_info at ext_base + this many pages */

/* ---- helpers ---------------------------------------------------------- */

static struct xgnt_domain *mkdom(struct xgnt_machine *m, domid_t id,
				 enum xgnt_domain_type type, bool priv,
				 unsigned int nr_vcpus, uint32_t max_port)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = nr_vcpus, .privileged = priv, .max_evtchn_port = max_port,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

static long evop(struct xgnt_domain *d, int cmd, void *arg)
{
	return xgnt_event_channel_op(t_v0(d), cmd, arg);
}

static long alloc_unbound(struct xgnt_domain *d, domid_t dom, domid_t remote,
			  evtchn_port_t *port)
{
	struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote, .port = 0xdead };
	long rc = evop(d, EVTCHNOP_alloc_unbound, &a);

	if (port)
		*port = a.port;
	return rc;
}

static long bind_interdomain(struct xgnt_domain *d, domid_t rdom, evtchn_port_t rport,
			     evtchn_port_t *lport)
{
	struct evtchn_bind_interdomain b = {
		.remote_dom = rdom, .remote_port = rport, .local_port = 0xdead,
	};
	long rc = evop(d, EVTCHNOP_bind_interdomain, &b);

	if (lport)
		*lport = b.local_port;
	return rc;
}

static long bind_virq(struct xgnt_domain *d, uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu, .port = 0xdead };
	long rc = evop(d, EVTCHNOP_bind_virq, &b);

	if (port)
		*port = b.port;
	return rc;
}

static long bind_ipi(struct xgnt_domain *d, uint32_t vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_ipi b = { .vcpu = vcpu, .port = 0xdead };
	long rc = evop(d, EVTCHNOP_bind_ipi, &b);

	if (port)
		*port = b.port;
	return rc;
}

static long bind_pirq(struct xgnt_domain *d, uint32_t pirq, evtchn_port_t *port)
{
	struct evtchn_bind_pirq b = { .pirq = pirq, .port = 0xdead };
	long rc = evop(d, EVTCHNOP_bind_pirq, &b);

	if (port)
		*port = b.port;
	return rc;
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

static long ev_reset(struct xgnt_domain *d, domid_t dom)
{
	struct evtchn_reset r = { .dom = dom };

	return evop(d, EVTCHNOP_reset, &r);
}

static long ev_status(struct xgnt_domain *d, domid_t dom, evtchn_port_t port,
		      struct evtchn_status *st)
{
	memset(st, 0xa5, sizeof(*st));
	st->dom = dom;
	st->port = port;
	return evop(d, EVTCHNOP_status, st);
}

/* Status that must succeed. */
static struct evtchn_status status_of(struct xgnt_domain *d, domid_t dom, evtchn_port_t port)
{
	struct evtchn_status st;

	assert_int_equal(ev_status(d, dom, port, &st), 0);
	return st;
}

static void assert_closed(struct xgnt_domain *d, evtchn_port_t port)
{
	assert_int_equal(status_of(d, DOMID_SELF, port).status, EVTCHNSTAT_closed);
}

static void assert_unbound(struct xgnt_domain *d, evtchn_port_t port, domid_t remote)
{
	struct evtchn_status st = status_of(d, DOMID_SELF, port);

	assert_int_equal(st.status, EVTCHNSTAT_unbound);
	assert_int_equal(st.u.unbound.dom, remote);
}

static void assert_interdomain(struct xgnt_domain *d, evtchn_port_t port, domid_t rdom,
			       evtchn_port_t rport)
{
	struct evtchn_status st = status_of(d, DOMID_SELF, port);

	assert_int_equal(st.status, EVTCHNSTAT_interdomain);
	assert_int_equal(st.u.interdomain.dom, rdom);
	assert_int_equal(st.u.interdomain.port, rport);
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

static bool pending(shared_info_t *s, evtchn_port_t p)
{
	return __atomic_load_n(&s->evtchn_pending[p / 64], __ATOMIC_SEQ_CST) >> (p % 64) & 1;
}

/* Allocate unbound ports of d (remote self) until it fails; returns the
 * error, the number allocated in *n, and checks they come lowest first. */
static long exhaust(struct xgnt_domain *d, evtchn_port_t first, unsigned int *n)
{
	evtchn_port_t p;
	long rc;

	*n = 0;
	while ((rc = alloc_unbound(d, DOMID_SELF, DOMID_SELF, &p)) == 0) {
		assert_int_equal(p, first + *n);
		(*n)++;
		if (*n > 200000)
			fail_msg("port allocation never ends");
	}
	return rc;
}

/* ---- alloc_unbound ---------------------------------------------------- */

static void test_alloc_unbound(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	evtchn_port_t port;

	(void)state;
	/* No such domain. */
	assert_int_equal(alloc_unbound(a, 999, 0, &port), -ESRCH);
	assert_int_equal(alloc_unbound(a, 0x7fef, 0, NULL), -ESRCH);
	/* An unprivileged caller may not allocate in another domain. */
	assert_int_equal(alloc_unbound(a, 2, 1, NULL), -EPERM);
	assert_int_equal(alloc_unbound(a, 0, 1, NULL), -EPERM);

	/* remote_dom DOMID_SELF is recorded as the caller's id. */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, DOMID_SELF, &port), 0);
	assert_int_equal(port, 1);
	assert_unbound(a, 1, 1);
	assert_int_equal(status_of(a, DOMID_SELF, 1).vcpu, 0);
	/* The remote domain is not checked for existence. */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 777, &port), 0);
	assert_int_equal(port, 2);
	assert_unbound(a, 2, 777);
	/* The caller's own id names itself. */
	assert_int_equal(alloc_unbound(a, 1, 2, &port), 0);
	assert_int_equal(port, 3);
	assert_unbound(a, 3, 2);

	/* The failed -EPERM attempt consumed nothing in b. */
	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &port), 0);
	assert_int_equal(port, 1);

	/* A privileged caller allocates in another domain; DOMID_SELF as the
	 * remote is the caller, not the domain the port lives in. */
	assert_int_equal(alloc_unbound(p, 2, 1, &port), 0);
	assert_int_equal(port, 2);
	assert_unbound(b, 2, 1);
	assert_int_equal(alloc_unbound(p, 2, DOMID_SELF, &port), 0);
	assert_int_equal(port, 3);
	assert_unbound(b, 3, 0);
	/* The privileged caller's status of b agrees. */
	assert_int_equal(status_of(p, 2, 3).status, EVTCHNSTAT_unbound);
	assert_int_equal(status_of(p, 2, 3).u.unbound.dom, 0);
	/* ... and its own space is untouched: its first port is 1. */
	assert_int_equal(alloc_unbound(p, DOMID_SELF, 1, &port), 0);
	assert_int_equal(port, 1);

	xgnt_machine_destroy(m);
}

/* max_evtchn_port 63: ports 1..63 and then -ENOSPC, for every op that
 * allocates a local port, before any of its later checks. */
static void test_port_space_exhausted(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = mkdom(m, 1, XGNT_DOMAIN_HVM, false, 2, 63);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	evtchn_port_t port, bport;
	unsigned int n;

	(void)state;
	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &bport), 0);
	assert_int_equal(exhaust(a, 1, &n), -ENOSPC);
	assert_int_equal(n, 63);
	assert_unbound(a, 63, 1);
	/* Port 64 is beyond the domain's port space. */
	{
		struct evtchn_status st;

		assert_int_equal(ev_status(a, DOMID_SELF, 64, &st), -EINVAL);
	}
	assert_int_equal(bind_ipi(a, 0, NULL), -ENOSPC);
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 0, NULL), -ENOSPC);
	assert_int_equal(bind_pirq(a, 3, NULL), -ENOSPC);
	assert_int_equal(bind_interdomain(a, 2, bport, NULL), -ENOSPC);
	/* Local port allocation precedes the remote port checks. */
	assert_int_equal(bind_interdomain(a, 2, 4000, NULL), -ENOSPC);
	/* ... and precedes the XSM check of alloc_unbound. */
	assert_int_equal(alloc_unbound(b, 1, 2, NULL), -ENOSPC);
	/* A closed port is reused, lowest first. */
	assert_int_equal(ev_close(a, 17), 0);
	assert_int_equal(ev_close(a, 40), 0);
	assert_int_equal(bind_interdomain(a, 2, bport, &port), 0);
	assert_int_equal(port, 17);
	assert_interdomain(a, 17, 2, bport);
	assert_interdomain(b, bport, 1, 17);
	assert_int_equal(bind_ipi(a, 1, &port), 0);
	assert_int_equal(port, 40);
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 0, NULL), -ENOSPC);

	xgnt_machine_destroy(m);
}

/* XSA-317: many ports, up to the ABI and per-domain limits. */
static void test_many_ports_xsa317(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = mkdom(m, 2, XGNT_DOMAIN_HVM, false, 1, 5000);
	shared_info_t *s = shinfo(p);
	evtchn_port_t p1, p2;
	unsigned int n;

	(void)state;
	/* A domU's default: 1023 (xl), so ports 1..1023. */
	assert_int_equal(exhaust(a, 1, &n), -ENOSPC);
	assert_int_equal(n, 1023);
	/* More than the ABI allows is capped by the 2-level limit, 4096. */
	assert_int_equal(exhaust(b, 1, &n), -ENOSPC);
	assert_int_equal(n, 4095);
	/* A privileged domain: the ABI limit. */
	assert_int_equal(exhaust(p, 1, &n), -ENOSPC);
	assert_int_equal(n, 4095);
	{
		struct evtchn_status st;

		assert_int_equal(ev_status(p, DOMID_SELF, 4096, &st), -EINVAL);
	}
	/* The last two ports form a loopback channel that works. */
	assert_int_equal(ev_close(p, 4094), 0);
	assert_int_equal(ev_close(p, 4095), 0);
	assert_int_equal(alloc_unbound(p, DOMID_SELF, DOMID_SELF, &p1), 0);
	assert_int_equal(p1, 4094);
	assert_int_equal(bind_interdomain(p, DOMID_SELF, p1, &p2), 0);
	assert_int_equal(p2, 4095);
	assert_true(pending(s, 4095));
	s->evtchn_pending[63] = 0;
	assert_int_equal(ev_send(p, p2), 0);
	assert_true(pending(s, 4094));
	assert_false(pending(s, 4095));

	xgnt_machine_destroy(m);
}

/* max_evtchn_port is the highest port, whatever its value: 1 allows port
 * 1 only; a value past the ABI (up to ~0u, which Xen's domain_create
 * clamps to INT_MAX) leaves the 2-level limit in charge. */
static void test_max_evtchn_port_limits(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *one = mkdom(m, 1, XGNT_DOMAIN_HVM, false, 1, 1);
	struct xgnt_domain *big = mkdom(m, 2, XGNT_DOMAIN_HVM, false, 1, 0x7fffffff);
	struct xgnt_domain *all = mkdom(m, 3, XGNT_DOMAIN_PV, false, 1, UINT32_MAX);
	unsigned int n;

	(void)state;
	assert_int_equal(exhaust(one, 1, &n), -ENOSPC);
	assert_int_equal(n, 1);
	assert_int_equal(exhaust(big, 1, &n), -ENOSPC);
	assert_int_equal(n, 4095);
	assert_int_equal(exhaust(all, 1, &n), -ENOSPC);
	assert_int_equal(n, 4095);

	xgnt_machine_destroy(m);
}

/* ---- bind_interdomain ------------------------------------------------- */

static void test_bind_interdomain(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	shared_info_t *sa = shinfo(a), *sb = shinfo(b);
	evtchn_port_t pb, pc, pa;

	(void)state;
	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &pb), 0);    /* for a */
	assert_int_equal(alloc_unbound(b, DOMID_SELF, 3, &pc), 0);    /* for d3 */

	assert_int_equal(bind_interdomain(a, 999, pb, NULL), -ESRCH);
	assert_int_equal(bind_interdomain(a, 2, 4000, NULL), -EINVAL);   /* invalid */
	assert_int_equal(bind_interdomain(a, 2, 0, NULL), -EINVAL);      /* reserved */
	assert_int_equal(bind_interdomain(a, 2, 30, NULL), -EINVAL);     /* free */
	assert_int_equal(bind_interdomain(a, 2, pc, NULL), -EINVAL);     /* not for a */
	/* Privilege does not bypass the remote_domid check. */
	assert_int_equal(bind_interdomain(p, 2, pb, NULL), -EINVAL);

	assert_int_equal(bind_interdomain(a, 2, pb, &pa), 0);
	assert_int_equal(pa, 1);          /* the failures consumed no port */
	assert_interdomain(a, pa, 2, pb);
	assert_interdomain(b, pb, 1, pa);
	/* The new local port is pending at once, the remote one is not. */
	assert_true(pending(sa, pa));
	assert_false(pending(sb, pb));
	/* Bound now: not unbound any more. */
	assert_int_equal(bind_interdomain(a, 2, pb, NULL), -EINVAL);
	/* Each end reaches the other. */
	assert_int_equal(ev_send(a, pa), 0);
	assert_true(pending(sb, pb));
	sa->evtchn_pending[0] = 0;
	assert_int_equal(ev_send(b, pb), 0);
	assert_true(pending(sa, pa));

	xgnt_machine_destroy(m);
}

static void test_bind_interdomain_loopback(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	shared_info_t *s = shinfo(a);
	evtchn_port_t p1, p2, p3, p4;

	(void)state;
	assert_int_equal(alloc_unbound(a, DOMID_SELF, DOMID_SELF, &p1), 0);
	assert_int_equal(bind_interdomain(a, DOMID_SELF, p1, &p2), 0);
	assert_int_not_equal(p1, p2);
	assert_interdomain(a, p1, 1, p2);
	assert_interdomain(a, p2, 1, p1);
	assert_true(pending(s, p2));
	assert_false(pending(s, p1));
	s->evtchn_pending[0] = 0;
	assert_int_equal(ev_send(a, p1), 0);
	assert_true(pending(s, p2));
	assert_false(pending(s, p1));
	s->evtchn_pending[0] = 0;
	assert_int_equal(ev_send(a, p2), 0);
	assert_true(pending(s, p1));
	assert_false(pending(s, p2));

	/* Loopback by the domain's own id works the same way. */
	assert_int_equal(alloc_unbound(a, 1, 1, &p3), 0);
	assert_int_equal(bind_interdomain(a, 1, p3, &p4), 0);
	assert_interdomain(a, p4, 1, p3);
	/* Closing one end of a loopback channel leaves the other unbound. */
	assert_int_equal(ev_close(a, p1), 0);
	assert_closed(a, p1);
	assert_unbound(a, p2, 1);

	xgnt_machine_destroy(m);
}

/* ---- bind_virq -------------------------------------------------------- */

static void test_bind_virq(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *q = t_domain(m, 5, XGNT_DOMAIN_PV, true);
	struct evtchn_status st;
	evtchn_port_t port, p2, p3;

	(void)state;
	assert_int_equal(bind_virq(a, NR_VIRQS, 0, NULL), -EINVAL);
	assert_int_equal(bind_virq(a, 1000, 9, NULL), -EINVAL);
	/* A global VIRQ on vCPU != 0: -EINVAL, before the vCPU is looked up. */
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 1, NULL), -EINVAL);
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 7, NULL), -EINVAL);
	assert_int_equal(bind_virq(p, 14 /* unassigned: global */, 1, NULL), -EINVAL);
	/* Per-vCPU VIRQ on a vCPU that does not exist. */
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 7, NULL), -ENOENT);
	assert_int_equal(bind_virq(a, VIRQ_TIMER, 2, NULL), -ENOENT);
	/* Global VIRQs belong to the control domain. */
	assert_int_equal(bind_virq(a, VIRQ_DOM_EXC, 0, NULL), -EBUSY);
	assert_int_equal(bind_virq(a, VIRQ_CONSOLE, 0, NULL), -EBUSY);
	assert_int_equal(bind_virq(q, VIRQ_DOM_EXC, 0, NULL), -EBUSY);  /* d0 handles it */

	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, &port), 0);
	assert_int_equal(port, 1);
	st = status_of(p, DOMID_SELF, port);
	assert_int_equal(st.status, EVTCHNSTAT_virq);
	assert_int_equal(st.u.virq, VIRQ_DOM_EXC);
	assert_int_equal(st.vcpu, 0);
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, NULL), -EEXIST);

	/* Per-vCPU VIRQs: one binding per vCPU. */
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 1, &p2), 0);
	st = status_of(a, DOMID_SELF, p2);
	assert_int_equal(st.status, EVTCHNSTAT_virq);
	assert_int_equal(st.u.virq, VIRQ_DEBUG);
	assert_int_equal(st.vcpu, 1);
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 1, NULL), -EEXIST);
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 0, &p3), 0);
	assert_int_not_equal(p2, p3);
	assert_int_equal(status_of(a, DOMID_SELF, p3).vcpu, 0);
	assert_int_equal(bind_virq(a, VIRQ_TIMER, 0, NULL), 0);
	assert_int_equal(bind_virq(a, VIRQ_TIMER, 1, NULL), 0);

	/* Nothing sends on a VIRQ port but Xen. */
	assert_int_equal(ev_send(a, p2), -EINVAL);
	assert_int_equal(ev_send(p, port), -EINVAL);

	/* Closing unbinds the VIRQ: it can be bound again. */
	assert_int_equal(ev_close(a, p2), 0);
	assert_int_equal(ev_status(a, DOMID_SELF, p2, &st), 0);
	assert_int_equal(st.status, EVTCHNSTAT_closed);
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 1, &p2), 0);
	assert_int_equal(ev_close(p, port), 0);
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, &port), 0);

	xgnt_machine_destroy(m);
}

/*
 * x86's arch VIRQs are global (xen/arch/x86/include/asm/event.h: "Only
 * global arch specific virq definitions"; xen/arch-x86/xen-mca.h marks
 * VIRQ_MCA == VIRQ_ARCH_0 "G. (DOM0)"): vCPU != 0 is -EINVAL and a domU
 * binding one is -EBUSY, as for any other global VIRQ.
 */
static void test_bind_virq_arch_is_global(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	evtchn_port_t port;

	(void)state;
	assert_int_equal(bind_virq(p, VIRQ_ARCH_0 /* VIRQ_MCA */, 1, NULL), -EINVAL);
	assert_int_equal(bind_virq(p, VIRQ_ARCH_7, 1, NULL), -EINVAL);
	assert_int_equal(bind_virq(a, VIRQ_ARCH_0, 0, NULL), -EBUSY);
	assert_int_equal(bind_virq(a, VIRQ_ARCH_0, 1, NULL), -EINVAL);
	assert_int_equal(bind_virq(p, VIRQ_ARCH_0, 0, &port), 0);
	/* A global VIRQ may be moved to another vCPU. */
	assert_int_equal(ev_bind_vcpu(p, port, 1), 0);

	xgnt_machine_destroy(m);
}

/*
 * VIRQ_ARGO is a per-domain VIRQ in the Xen the research read (the fix
 * to 980822c5edd1 "allow setting of global virq handler only for unbound
 * virqs": get_virq_type() returns VIRQ_DOMAIN for it): any domain binds
 * it on vCPU 0 (no -EBUSY), and vCPU != 0 is -EINVAL.
 */
static void test_bind_virq_argo_per_domain(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);

	(void)state;
	(void)p;
	assert_int_equal(bind_virq(a, VIRQ_ARGO, 1, NULL), -EINVAL);
	assert_int_equal(bind_virq(a, VIRQ_ARGO, 0, NULL), 0);

	xgnt_machine_destroy(m);
}

/* XSA-496: a bind_virq that fails for lack of a port changes nothing
 * (the VIRQ_DOM_EXC binding and its delivery are untouched). */
static void test_bind_virq_enospc_xsa496(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = mkdom(m, 0, XGNT_DOMAIN_HVM, true, 2, 63);
	shared_info_t *s = shinfo(p);
	struct evtchn_status st;
	evtchn_port_t exc, port;
	unsigned int n;

	(void)state;
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, &exc), 0);
	assert_int_equal(exc, 1);
	assert_int_equal(exhaust(p, 2, &n), -ENOSPC);
	assert_int_equal(n, 62);
	assert_int_equal(bind_virq(p, VIRQ_DEBUG, 0, NULL), -ENOSPC);
	assert_int_equal(bind_virq(p, VIRQ_DEBUG, 1, NULL), -ENOSPC);
	assert_int_equal(bind_virq(p, VIRQ_TIMER, 0, NULL), -ENOSPC);
	assert_int_equal(bind_virq(p, VIRQ_CONSOLE, 0, NULL), -ENOSPC);
	/* Nothing changed: DOM_EXC still bound and delivered. */
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, NULL), -EEXIST);
	st = status_of(p, DOMID_SELF, exc);
	assert_int_equal(st.status, EVTCHNSTAT_virq);
	assert_int_equal(st.u.virq, VIRQ_DOM_EXC);
	memset(s->evtchn_pending, 0, sizeof(s->evtchn_pending));
	assert_int_equal(xgnt_domain_destroy(t_domain(m, 3, XGNT_DOMAIN_HVM, false)), 0);
	assert_true(pending(s, exc));
	/* ... and the failed VIRQs are not half-bound. */
	assert_int_equal(ev_close(p, 40), 0);
	assert_int_equal(bind_virq(p, VIRQ_DEBUG, 0, &port), 0);
	assert_int_equal(port, 40);
	assert_int_equal(bind_virq(p, VIRQ_DEBUG, 1, NULL), -ENOSPC);

	xgnt_machine_destroy(m);
}

/* ---- bind_ipi, bind_pirq ---------------------------------------------- */

static void test_bind_ipi(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	shared_info_t *s = shinfo(a);
	struct evtchn_status st;
	evtchn_port_t port;

	(void)state;
	assert_int_equal(bind_ipi(a, 2, NULL), -ENOENT);
	assert_int_equal(bind_ipi(a, 9, NULL), -ENOENT);
	assert_int_equal(bind_ipi(a, 1, &port), 0);
	assert_int_equal(port, 1);
	st = status_of(a, DOMID_SELF, port);
	assert_int_equal(st.status, EVTCHNSTAT_ipi);
	assert_int_equal(st.vcpu, 1);
	assert_false(pending(s, port));
	assert_int_equal(ev_send(a, port), 0);
	assert_true(pending(s, port));

	xgnt_machine_destroy(m);
}

static void test_bind_pirq(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *arm = t_domain(m, 1, XGNT_DOMAIN_ARM, false);
	struct xgnt_domain *pv = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *hvm = t_domain(m, 3, XGNT_DOMAIN_HVM, false);
	struct evtchn_status st;
	evtchn_port_t port, port2;

	(void)state;
	assert_int_equal(bind_pirq(arm, 5, NULL), -EOPNOTSUPP);
	assert_int_equal(bind_pirq(arm, 100000, NULL), -EOPNOTSUPP);
	/* Range before permission. */
	assert_int_equal(bind_pirq(pv, 100000, NULL), -EINVAL);
	assert_int_equal(bind_pirq(pv, 5, NULL), -EPERM);
	assert_int_equal(bind_pirq(hvm, 100000, NULL), -EINVAL);

	assert_int_equal(bind_pirq(hvm, 5, &port), 0);
	assert_int_equal(port, 1);
	st = status_of(hvm, DOMID_SELF, port);
	assert_int_equal(st.status, EVTCHNSTAT_pirq);
	assert_int_equal(st.u.pirq, 5);
	assert_int_equal(st.vcpu, 0);
	assert_int_equal(bind_pirq(hvm, 5, NULL), -EEXIST);
	assert_int_equal(ev_send(hvm, port), -EINVAL);
	/* A PIRQ may move to another vCPU. */
	assert_int_equal(ev_bind_vcpu(hvm, port, 1), 0);
	assert_int_equal(status_of(hvm, DOMID_SELF, port).vcpu, 1);
	/* Closing releases the PIRQ. */
	assert_int_equal(ev_close(hvm, port), 0);
	assert_closed(hvm, port);
	assert_int_equal(bind_pirq(hvm, 5, &port2), 0);
	assert_int_equal(port2, port);
	assert_int_equal(status_of(hvm, DOMID_SELF, port2).vcpu, 0);

	xgnt_machine_destroy(m);
}

/* ---- close, send, status ---------------------------------------------- */

static void test_close(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	evtchn_port_t pa, pb, pa2, port;

	(void)state;
	assert_int_equal(ev_close(a, 4000), -EINVAL);   /* invalid */
	assert_int_equal(ev_close(a, 0), -EINVAL);      /* reserved */
	assert_int_equal(ev_close(a, 7), -EINVAL);      /* free */

	assert_int_equal(alloc_unbound(a, DOMID_SELF, 2, &port), 0);
	assert_int_equal(ev_close(a, port), 0);
	assert_closed(a, port);
	assert_int_equal(ev_close(a, port), -EINVAL);   /* closed */

	/* Interdomain: closing one end makes the other unbound, remote =
	 * the closer, and it can be bound again. */
	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &pb), 0);
	assert_int_equal(bind_interdomain(a, 2, pb, &pa), 0);
	assert_int_equal(ev_close(a, pa), 0);
	assert_closed(a, pa);
	assert_unbound(b, pb, 1);
	assert_int_equal(ev_send(b, pb), 0);            /* unbound: dropped */
	assert_int_equal(bind_interdomain(a, 2, pb, &pa2), 0);
	assert_interdomain(a, pa2, 2, pb);
	assert_interdomain(b, pb, 1, pa2);
	/* ... and from the other side. */
	assert_int_equal(ev_close(b, pb), 0);
	assert_closed(b, pb);
	assert_unbound(a, pa2, 2);
	assert_int_equal(ev_close(a, pa2), 0);
	assert_int_equal(ev_close(a, pa2), -EINVAL);

	/* IPI and VIRQ ports close too. */
	assert_int_equal(bind_ipi(a, 1, &port), 0);
	assert_int_equal(ev_close(a, port), 0);
	assert_closed(a, port);
	assert_int_equal(bind_virq(a, VIRQ_TIMER, 1, &port), 0);
	assert_int_equal(ev_close(a, port), 0);
	assert_closed(a, port);

	xgnt_machine_destroy(m);
}

static void test_send(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	shared_info_t *s = shinfo(a);
	evtchn_port_t port;

	(void)state;
	assert_int_equal(ev_send(a, 4000), -EINVAL);
	assert_int_equal(ev_send(a, 64), -EINVAL);
	assert_int_equal(ev_send(a, 0), -EINVAL);      /* reserved */
	assert_int_equal(ev_send(a, 9), -EINVAL);      /* free */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 2, &port), 0);
	assert_int_equal(ev_send(a, port), 0);         /* unbound: silently 0 */
	assert_false(pending(s, port));
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 0, &port), 0);
	assert_int_equal(ev_send(a, port), -EINVAL);

	xgnt_machine_destroy(m);
}

static void test_status(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	struct evtchn_status st;
	evtchn_port_t pa, pb, ipi, virq, pirq, unb;

	(void)state;
	assert_int_equal(ev_status(a, 999, 1, &st), -ESRCH);
	assert_int_equal(ev_status(a, DOMID_SELF, 0, &st), 0);     /* port 0: closed */
	assert_int_equal(st.status, EVTCHNSTAT_closed);
	assert_int_equal(ev_status(a, DOMID_SELF, 5, &st), 0);     /* free */
	assert_int_equal(st.status, EVTCHNSTAT_closed);
	assert_int_equal(ev_status(a, DOMID_SELF, 4000, &st), -EINVAL);
	assert_int_equal(ev_status(a, DOMID_SELF, 64, &st), -EINVAL);
	/* Another domain: the port is checked before the permission. */
	assert_int_equal(ev_status(a, 2, 4000, &st), -EINVAL);
	assert_int_equal(ev_status(a, 2, 0, &st), -EPERM);
	assert_int_equal(ev_status(a, 0, 0, &st), -EPERM);
	assert_int_equal(ev_status(a, 1, 0, &st), 0);              /* own id */

	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &pb), 0);
	assert_int_equal(bind_interdomain(a, 2, pb, &pa), 0);
	assert_int_equal(bind_ipi(a, 1, &ipi), 0);
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 1, &virq), 0);
	assert_int_equal(bind_pirq(a, 9, &pirq), 0);
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 44, &unb), 0);
	assert_int_equal(ev_bind_vcpu(a, unb, 1), 0);

	st = status_of(a, DOMID_SELF, pa);
	assert_int_equal(st.status, EVTCHNSTAT_interdomain);
	assert_int_equal(st.u.interdomain.dom, 2);
	assert_int_equal(st.u.interdomain.port, pb);
	assert_int_equal(st.vcpu, 0);
	st = status_of(a, DOMID_SELF, ipi);
	assert_int_equal(st.status, EVTCHNSTAT_ipi);
	assert_int_equal(st.vcpu, 1);
	st = status_of(a, DOMID_SELF, virq);
	assert_int_equal(st.status, EVTCHNSTAT_virq);
	assert_int_equal(st.u.virq, VIRQ_DEBUG);
	assert_int_equal(st.vcpu, 1);
	st = status_of(a, DOMID_SELF, pirq);
	assert_int_equal(st.status, EVTCHNSTAT_pirq);
	assert_int_equal(st.u.pirq, 9);
	assert_int_equal(st.vcpu, 0);
	st = status_of(a, DOMID_SELF, unb);
	assert_int_equal(st.status, EVTCHNSTAT_unbound);
	assert_int_equal(st.u.unbound.dom, 44);
	assert_int_equal(st.vcpu, 1);

	/* The control domain sees the same from outside. */
	st = status_of(p, 1, pa);
	assert_int_equal(st.status, EVTCHNSTAT_interdomain);
	assert_int_equal(st.u.interdomain.dom, 2);
	assert_int_equal(st.u.interdomain.port, pb);
	st = status_of(p, 2, pb);
	assert_int_equal(st.status, EVTCHNSTAT_interdomain);
	assert_int_equal(st.u.interdomain.dom, 1);
	assert_int_equal(st.u.interdomain.port, pa);

	xgnt_machine_destroy(m);
}

/* ---- bind_vcpu, unmask, set_priority ---------------------------------- */

static void test_bind_vcpu(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	evtchn_port_t pa, pb, ipi, virq, timer, exc, unb;

	(void)state;
	/* The vCPU is checked first. */
	assert_int_equal(ev_bind_vcpu(a, 4000, 9), -ENOENT);
	assert_int_equal(ev_bind_vcpu(a, 4000, 2), -ENOENT);
	assert_int_equal(ev_bind_vcpu(a, 4000, 1), -EINVAL);
	assert_int_equal(ev_bind_vcpu(a, 0, 1), -EINVAL);     /* reserved */
	assert_int_equal(ev_bind_vcpu(a, 6, 1), -EINVAL);     /* free */

	assert_int_equal(bind_ipi(a, 0, &ipi), 0);
	assert_int_equal(ev_bind_vcpu(a, ipi, 1), -EINVAL);
	assert_int_equal(ev_bind_vcpu(a, ipi, 0), -EINVAL);
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 0, &virq), 0);
	assert_int_equal(ev_bind_vcpu(a, virq, 1), -EINVAL);
	assert_int_equal(bind_virq(a, VIRQ_TIMER, 1, &timer), 0);
	assert_int_equal(ev_bind_vcpu(a, timer, 0), -EINVAL);
	assert_int_equal(status_of(a, DOMID_SELF, timer).vcpu, 1);

	/* Unbound and interdomain ports move. */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 5, &unb), 0);
	assert_int_equal(ev_bind_vcpu(a, unb, 1), 0);
	assert_int_equal(status_of(a, DOMID_SELF, unb).vcpu, 1);
	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &pb), 0);
	assert_int_equal(bind_interdomain(a, 2, pb, &pa), 0);
	assert_int_equal(ev_bind_vcpu(a, pa, 1), 0);
	assert_int_equal(status_of(a, DOMID_SELF, pa).vcpu, 1);
	assert_int_equal(ev_bind_vcpu(a, pa, 0), 0);
	assert_int_equal(status_of(a, DOMID_SELF, pa).vcpu, 0);
	/* A global VIRQ moves. */
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, &exc), 0);
	assert_int_equal(ev_bind_vcpu(p, exc, 1), 0);
	assert_int_equal(status_of(p, DOMID_SELF, exc).vcpu, 1);
	/* Closed after the move, the VIRQ is unbound and binds again. */
	assert_int_equal(ev_close(p, exc), 0);
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, &exc), 0);
	assert_int_equal(status_of(p, DOMID_SELF, exc).vcpu, 0);
	/* A closed port does not, and forgets its vCPU: reused, it
	 * notifies vCPU 0 again. */
	assert_int_equal(ev_close(a, unb), 0);
	assert_int_equal(ev_bind_vcpu(a, unb, 1), -EINVAL);
	assert_int_equal(status_of(a, DOMID_SELF, unb).vcpu, 0);
	{
		evtchn_port_t again;

		assert_int_equal(alloc_unbound(a, DOMID_SELF, 5, &again), 0);
		assert_int_equal(again, unb);
		assert_int_equal(status_of(a, DOMID_SELF, again).vcpu, 0);
	}

	xgnt_machine_destroy(m);
}

static void test_unmask_errors(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	evtchn_port_t port;

	(void)state;
	assert_int_equal(ev_unmask(a, 4000), -EINVAL);
	assert_int_equal(ev_unmask(a, 64), -EINVAL);
	assert_int_equal(ev_unmask(a, 0), 0);          /* unusable: a no-op */
	assert_int_equal(ev_unmask(a, 11), 0);         /* free */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 0, &port), 0);
	assert_int_equal(ev_unmask(a, port), 0);
	assert_int_equal(ev_close(a, port), 0);
	assert_int_equal(ev_unmask(a, port), 0);       /* closed: 0 */

	xgnt_machine_destroy(m);
}

static void test_set_priority_2l(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct evtchn_set_priority sp = { .port = 4000, .priority = 3 };
	evtchn_port_t port;

	(void)state;
	assert_int_equal(evop(a, EVTCHNOP_set_priority, &sp), -EINVAL);
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 0, &port), 0);
	sp.port = port;
	assert_int_equal(evop(a, EVTCHNOP_set_priority, &sp), -ENOSYS);
	sp.port = 0;
	assert_int_equal(evop(a, EVTCHNOP_set_priority, &sp), -ENOSYS);

	xgnt_machine_destroy(m);
}

/* ---- reset ------------------------------------------------------------ */

static void test_reset(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	shared_info_t *s = shinfo(a);
	evtchn_port_t pa, pb, pb2, port, p1, p2;
	unsigned int i;

	(void)state;
	assert_int_equal(ev_reset(a, 999), -ESRCH);
	assert_int_equal(ev_reset(p, 999), -ESRCH);
	assert_int_equal(ev_reset(a, 2), -EPERM);
	assert_int_equal(ev_reset(a, 0), -EPERM);
	/* Another domain is reset only while paused by its controller. */
	assert_int_equal(ev_reset(p, 2), -EINVAL);

	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &pb), 0);
	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &pb2), 0);
	assert_int_equal(bind_interdomain(a, 2, pb, &pa), 0);      /* 1 */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 2, NULL), 0); /* 2 */
	assert_int_equal(bind_ipi(a, 1, NULL), 0);                  /* 3 */
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 1, NULL), 0);     /* 4 */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, DOMID_SELF, &p1), 0);
	assert_int_equal(bind_interdomain(a, DOMID_SELF, p1, &p2), 0);
	assert_int_equal(bind_pirq(a, 7, NULL), 0);                 /* 7 */
	assert_int_equal(ev_send(a, 3), 0);
	assert_true(pending(s, 3));

	assert_int_equal(ev_reset(a, DOMID_SELF), 0);
	for (i = 0; i < 64; i++)
		assert_closed(a, i);
	/* Closing cleared the pending bits. */
	assert_int_equal(s->evtchn_pending[0], 0);
	/* Port 0 stays reserved. */
	assert_int_equal(ev_close(a, 0), -EINVAL);
	assert_int_equal(ev_send(a, 0), -EINVAL);
	/* The peer's end is unbound, its other port untouched. */
	assert_unbound(b, pb, 1);
	assert_unbound(b, pb2, 1);
	/* Everything can be bound again, from port 1 on. */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 0, &port), 0);
	assert_int_equal(port, 1);
	assert_int_equal(bind_virq(a, VIRQ_DEBUG, 1, &port), 0);
	assert_int_equal(port, 2);
	assert_int_equal(bind_pirq(a, 7, &port), 0);
	assert_int_equal(port, 3);
	assert_int_equal(bind_interdomain(a, 2, pb, &port), 0);
	assert_int_equal(port, 4);
	/* Reset by the domain's own id is a self reset too. */
	assert_int_equal(ev_reset(a, 1), 0);
	for (i = 1; i < 64; i++)
		assert_closed(a, i);
	assert_unbound(b, pb, 1);
	/* The control domain resets itself. */
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, NULL), 0);
	assert_int_equal(ev_reset(p, DOMID_SELF), 0);
	assert_int_equal(bind_virq(p, VIRQ_DOM_EXC, 0, &port), 0);
	assert_int_equal(port, 1);

	xgnt_machine_destroy(m);
}

/* ---- the dispatcher ---------------------------------------------------- */

static void test_dispatch(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct evtchn_send sd = { .port = 0 };
	int cmd;

	(void)state;
	for (cmd = EVTCHNOP_bind_interdomain; cmd <= EVTCHNOP_set_priority; cmd++)
		assert_int_equal(evop(a, cmd, NULL), -EFAULT);
	assert_int_equal(evop(a, 99, &sd), -ENOSYS);
	assert_int_equal(evop(a, -1, &sd), -ENOSYS);
	assert_int_equal(evop(a, 99, NULL), -ENOSYS);
	/* Nothing was allocated by any of that. */
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 0, NULL), 0);
	assert_closed(a, 2);

	xgnt_machine_destroy(m);
}

/* A dying domain (kept as a zombie by a foreign mapping of its frame)
 * allocates no port: -EINVAL, and its ports are all closed. */
static void test_dying_domain(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *p = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	struct evtchn_status st;
	grant_handle_t h;
	evtchn_port_t pa;

	(void)state;
	assert_int_equal(alloc_unbound(a, DOMID_SELF, 2, &pa), 0);
	t_gt_setup(a, 1);
	t_grant(a, 1, 2, t_ram_frame(a, 5), false);
	assert_int_equal(t_map(b, 1, 1, GNTMAP_host_map, t_ext_addr(b, 0), &h), GNTST_okay);
	assert_int_equal(xgnt_domain_destroy(a), 0);

	assert_int_equal(alloc_unbound(p, 1, 0, NULL), -EINVAL);
	assert_int_equal(alloc_unbound(b, 1, 2, NULL), -EINVAL);
	assert_int_equal(bind_interdomain(b, 1, pa, NULL), -EINVAL);
	assert_int_equal(ev_status(p, 1, pa, &st), 0);
	assert_int_equal(st.status, EVTCHNSTAT_closed);

	assert_int_equal(t_unmap(b, h, t_ext_addr(b, 0), 0), GNTST_okay);
	assert_int_equal(bind_interdomain(b, 1, pa, NULL), -ESRCH);
	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_unbound),
		cmocka_unit_test(test_port_space_exhausted),
		cmocka_unit_test(test_many_ports_xsa317),
		cmocka_unit_test(test_max_evtchn_port_limits),
		cmocka_unit_test(test_bind_interdomain),
		cmocka_unit_test(test_bind_interdomain_loopback),
		cmocka_unit_test(test_bind_virq),
		cmocka_unit_test(test_bind_virq_arch_is_global),
		cmocka_unit_test(test_bind_virq_argo_per_domain),
		cmocka_unit_test(test_bind_virq_enospc_xsa496),
		cmocka_unit_test(test_bind_ipi),
		cmocka_unit_test(test_bind_pirq),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_bind_vcpu),
		cmocka_unit_test(test_unmask_errors),
		cmocka_unit_test(test_set_priority_2l),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_dying_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
