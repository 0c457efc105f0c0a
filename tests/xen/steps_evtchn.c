/* SPDX-License-Identifier: MIT */
/* Steps on event channels and vCPUs (see README.md). */
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- event-channel steps ---------------------------------------------------- */

static void out_port(evtchn_port_t p)
{
	out("%s", sym_name(K_PORT, K_EVDEV, p));
}

static void st_alloc_unbound(const struct args *a)
{
	domid_t dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	/* a port of another domain (made for it by privileged dom0) */
	struct sym *s = sym_new(defname(a), dom == DOMID_SELF || dom == 0 ? K_PORT : K_XPORT);
	struct evtchn_alloc_unbound *au = hb(0);
	long rc;

	au->dom = dom;
	au->remote_dom = (domid_t)getnum(a, "remote", 0);
	rc = be->event_channel_op(EVTCHNOP_alloc_unbound, au);
	out(" ret=%s", errname(rc));
	if (rc == 0) {
		s->val = au->port;
		s->live = true;
		out(" port=%s", s->name);
	} else {
		out(" port=%s", au->port == SENT32 ? "untouched" : "written");
	}
}

static void st_bind_interdomain(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_PORT);
	struct evtchn_bind_interdomain *bi = hb(0);
	long rc;

	bi->remote_dom = (domid_t)getnum(a, "rdom", 0);
	bi->remote_port = (evtchn_port_t)getnum(a, "rport", 0);
	rc = be->event_channel_op(EVTCHNOP_bind_interdomain, bi);
	out(" ret=%s", errname(rc));
	if (rc == 0) {
		s->val = bi->local_port;
		s->live = true;
		out(" port=%s", s->name);
	} else {
		out(" port=%s", bi->local_port == SENT32 ? "untouched" : "written");
	}
}

static void st_bind_ipi(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_PORT);
	struct evtchn_bind_ipi *bi = hb(0);
	long rc;

	bi->vcpu = (uint32_t)getnum(a, "vcpu", 0);
	rc = be->event_channel_op(EVTCHNOP_bind_ipi, bi);
	out(" ret=%s", errname(rc));
	if (rc == 0) {
		s->val = bi->port;
		s->live = true;
		out(" port=%s", s->name);
	} else {
		out(" port=%s", bi->port == SENT32 ? "untouched" : "written");
	}
}

static void st_bind_virq(const struct args *a)
{
	struct evtchn_bind_virq *bv = hb(0);
	long rc;

	bv->virq = (uint32_t)getnum(a, "virq", 0);
	bv->vcpu = (uint32_t)getnum(a, "vcpu", 0);
	rc = be->event_channel_op(EVTCHNOP_bind_virq, bv);
	out(" ret=%s", errname(rc));
	if (rc == 0) {
		/* never expected: dom0's kernel owns its virqs; give it back */
		struct evtchn_close *c = hb(1);

		c->port = bv->port;
		be->event_channel_op(EVTCHNOP_close, c);
		out(" port=new(closed)");
	} else {
		out(" port=%s", bv->port == SENT32 ? "untouched" : "written");
	}
}

/* A port argument: $sym or literal; a closed $sym is not cleaned up. */
static evtchn_port_t portarg(const struct args *a, struct sym **sp)
{
	const char *v = get(a, "port");
	struct sym *s = NULL;

	if (v && v[0] == '$') {
		s = sym_find(v);
		if (!s || (s->kind != K_PORT && s->kind != K_EVDEV && s->kind != K_XPORT))
			die("%s is not a port", v);
	}
	if (sp)
		*sp = s;
	return (evtchn_port_t)num(v);
}

static void st_port_op(const struct args *a, int cmd)
{
	struct sym *s;
	evtchn_port_t *p = hb(0);   /* close, send, unmask: just a port */
	long rc;

	*p = portarg(a, &s);
	if (s && s->kind == K_EVDEV && cmd == EVTCHNOP_close)
		die("raw close of a kernel-owned port");
	rc = be->event_channel_op(cmd, p);
	out(" ret=%s", errname(rc));
	if (cmd == EVTCHNOP_close && rc == 0 && s)
		s->live = false;
}

static void st_status(const struct args *a)
{
	static const char *states[] = { "closed", "unbound", "interdomain", "pirq", "virq",
					"ipi" };
	struct evtchn_status *es = hb(0);
	long rc;

	es->dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	es->port = portarg(a, NULL);
	rc = be->event_channel_op(EVTCHNOP_status, es);
	out(" ret=%s", errname(rc));
	if (rc)
		return;
	if (es->status < 6)
		out(" %s", states[es->status]);
	else
		out(" status=%u", es->status);
	out(" vcpu=%u", es->vcpu);
	switch (es->status) {
	case EVTCHNSTAT_unbound:
		out(" rdom=%u", es->u.unbound.dom);
		break;
	case EVTCHNSTAT_interdomain:
		out(" rdom=%u rport=", es->u.interdomain.dom);
		if (es->u.interdomain.dom == 0)
			out_port(es->u.interdomain.port);
		else
			out("%s", sym_name(K_XPORT, K_XPORT, es->u.interdomain.port));
		break;
	case EVTCHNSTAT_virq:
		out(" virq=%u", es->u.virq);
		break;
	default:
		break;
	}
}

static void st_bind_vcpu(const struct args *a)
{
	struct evtchn_bind_vcpu *bv = hb(0);

	bv->port = portarg(a, NULL);
	bv->vcpu = (uint32_t)getnum(a, "vcpu", 0);
	out(" ret=%s", errname(be->event_channel_op(EVTCHNOP_bind_vcpu, bv)));
}

static void st_set_priority(const struct args *a)
{
	struct evtchn_set_priority *sp = hb(0);

	sp->port = portarg(a, NULL);
	sp->priority = (uint32_t)getnum(a, "prio", 7);
	out(" ret=%s", errname(be->event_channel_op(EVTCHNOP_set_priority, sp)));
}

static void st_ev_dom(const struct args *a, int cmd)
{
	struct evtchn_reset *r = hb(0);   /* reset and reset_cont: a domid */

	r->dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	out(" ret=%s", errname(be->event_channel_op(cmd, r)));
}

static void st_init_control(const struct args *a)
{
	struct evtchn_init_control *ic = hb(0);

	ic->control_gfn = getnum(a, "gfn", 0);
	ic->offset = (uint32_t)getnum(a, "off", 0);
	ic->vcpu = (uint32_t)getnum(a, "vcpu", 0);
	out(" ret=%s", errname(be->event_channel_op(EVTCHNOP_init_control, ic)));
}

static void st_ev_raw(const struct args *a)
{
	void *p = hb(0);

	memset(p, 0, 4096);
	out(" ret=%s", errname(be->event_channel_op((int)getnum(a, "cmd", 0), p)));
}

static void st_evdev_unbound(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_EVDEV);
	evtchn_port_t p;
	int rc = be->ev_bind_unbound((domid_t)getnum(a, "remote", 0), &p);

	out(" rc=%s", errname(rc));
	if (!rc) {
		s->val = p;
		s->live = true;
	}
}

static void st_evdev_interdomain(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_EVDEV);
	evtchn_port_t p;
	int rc = be->ev_bind_interdomain((domid_t)getnum(a, "rdom", 0),
					 (evtchn_port_t)getnum(a, "rport", 0), &p);

	out(" rc=%s", errname(rc));
	if (!rc) {
		s->val = p;
		s->live = true;
	}
}

static void st_evdev_notify(const struct args *a)
{
	out(" rc=%s", errname(be->ev_notify(portarg(a, NULL))));
}

static void st_evdev_unbind(const struct args *a)
{
	struct sym *s;
	evtchn_port_t p = portarg(a, &s);
	int rc;

	if (!s || s->kind != K_EVDEV || !s->live)
		die("evdev_unbind of a port not bound through the device");
	rc = be->ev_unbind(p);
	s->live = false;
	out(" rc=%s", errname(rc));
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void st_evdev_poll(void)
{
	evtchn_port_t ports[64];
	const char *names[64];
	int n = be->ev_poll(ports, 64);

	if (n < 0) {
		out(" rc=%s", errname(n));
		return;
	}
	for (int i = 0; i < n; i++)
		names[i] = sym_name(K_EVDEV, K_EVDEV, ports[i]);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
	out(" fired=");
	for (int i = 0; i < n; i++)
		out("%s%s", i ? "," : "", names[i]);
	if (!n)
		out("none");
}

static void st_vcpu_op(const struct args *a)
{
	void *p = hb(0);

	memset(p, 0, 4096);
	out(" ret=%s", errname(be->vcpu_op((int)getnum(a, "cmd", VCPUOP_is_up),
					  (unsigned int)getnum(a, "vcpu", 0), p)));
}

#define ONE(f) static void f##_1(struct args *ops, int n) { (void)n; f(&ops[0]); }
ONE(st_alloc_unbound)
ONE(st_bind_interdomain)
ONE(st_bind_ipi)
ONE(st_bind_virq)
ONE(st_status)
ONE(st_bind_vcpu)
ONE(st_set_priority)
ONE(st_init_control)
ONE(st_ev_raw)
ONE(st_evdev_unbound)
ONE(st_evdev_interdomain)
ONE(st_evdev_notify)
ONE(st_evdev_unbind)
ONE(st_vcpu_op)

static void st_send(struct args *ops, int n)
{
	(void)n;
	st_port_op(&ops[0], EVTCHNOP_send);
}

static void st_close(struct args *ops, int n)
{
	(void)n;
	st_port_op(&ops[0], EVTCHNOP_close);
}

static void st_unmask(struct args *ops, int n)
{
	(void)n;
	st_port_op(&ops[0], EVTCHNOP_unmask);
}

static void st_reset(struct args *ops, int n)
{
	(void)n;
	st_ev_dom(&ops[0], EVTCHNOP_reset);
}

static void st_evdev_poll_1(struct args *ops, int n)
{
	(void)ops;
	(void)n;
	st_evdev_poll();
}

const struct step evtchn_steps[] = {
	{ "alloc_unbound", st_alloc_unbound_1 },
	{ "bind_interdomain", st_bind_interdomain_1 },
	{ "bind_ipi", st_bind_ipi_1 },
	{ "bind_virq", st_bind_virq_1 },
	{ "status", st_status_1 },
	{ "bind_vcpu", st_bind_vcpu_1 },
	{ "set_priority", st_set_priority_1 },
	{ "init_control", st_init_control_1 },
	{ "ev_raw", st_ev_raw_1 },
	{ "evdev_unbound", st_evdev_unbound_1 },
	{ "evdev_interdomain", st_evdev_interdomain_1 },
	{ "evdev_notify", st_evdev_notify_1 },
	{ "evdev_unbind", st_evdev_unbind_1 },
	{ "vcpu_op", st_vcpu_op_1 },
	{ "send", st_send },
	{ "close", st_close },
	{ "unmask", st_unmask },
	{ "reset", st_reset },
	{ "evdev_poll", st_evdev_poll_1 },
	{ NULL, NULL },
};
