/* SPDX-License-Identifier: MIT */
/*
 * Event channels: port allocation and every EVTCHNOP, with Xen's checks in
 * Xen's order (xen-hypervisor.md b.12) and Xen's locking (event.h).
 */
#include "event.h"

#include <errno.h>
#include <string.h>

/* ---- ports ----------------------------------------------------------------- */

static uint32_t max_evtchns(struct evtchn_domain *ed)
{
	const struct evtchn_port_ops *ops = atomic_load(&ed->ops);

	return MIN(ops->max_ports, ed->max_evtchn_port + 1);
}

static bool port_is_busy(struct xgnt_domain *d, uint32_t port)
{
	const struct evtchn_port_ops *ops = atomic_load(&d->ev->ops);

	return ops->is_busy && ops->is_busy(d, port);
}

/* Allocate (and publish) the bucket holding port; event_lock held (W). */
static int allocate_bucket(struct evtchn_domain *ed, uint32_t port)
{
	uint32_t b = port / EVTCHNS_PER_BUCKET, i;
	struct evtchn *bucket;

	assert(plat_write_held(&ed->event_lock));
	bucket = plat_calloc(EVTCHNS_PER_BUCKET, sizeof(*bucket));
	if (!bucket)
		return -ENOMEM;
	for (i = 0; i < EVTCHNS_PER_BUCKET; i++) {
		bucket[i].port = b * EVTCHNS_PER_BUCKET + i;
		bucket[i].priority = EVTCHN_DEFAULT_PRIORITY;
		plat_rwlock_init(&bucket[i].lock);
	}
	ed->buckets[b] = bucket;
	/* The bucket before the count that makes it reachable (XSA-340). */
	atomic_store_explicit(&ed->valid_evtchns, (b + 1) * EVTCHNS_PER_BUCKET,
			      memory_order_release);
	return 0;
}

/* Xen's get_free_port: the lowest usable port; event_lock held (W). */
static int get_free_port(struct xgnt_domain *d)
{
	struct evtchn_domain *ed = d->ev;
	uint32_t port, max = max_evtchns(ed);
	int rc;

	if (atomic_load(&d->is_dying))
		return -EINVAL;
	for (port = 0; port < max; port++) {
		if (!port_is_valid(ed, port)) {
			rc = allocate_bucket(ed, port);
			return rc ? rc : (int)port;
		}
		if (evtchn_from_port(ed, port)->state == ECS_FREE && !port_is_busy(d, port))
			return (int)port;
	}
	return -ENOSPC;
}

void evtchn_port_set_pending(struct xgnt_domain *d, uint32_t vcpu, struct evtchn *chn)
{
	const struct evtchn_port_ops *ops = atomic_load(&d->ev->ops);

	if (vcpu >= d->nr_vcpus)
		return;
	ops->set_pending(&d->vcpus[vcpu], chn);
	/* The guest may have switched to FIFO while we delivered through
	 * 2-level, after its pending bits were carried over: deliver again
	 * (a duplicate is harmless, a loss is not). */
	if (ops == &evtchn_port_ops_2l && atomic_load(&d->ev->ops) == &evtchn_port_ops_fifo)
		evtchn_port_ops_fifo.set_pending(&d->vcpus[vcpu], chn);
}

static void port_init(struct xgnt_domain *d, struct evtchn *chn)
{
	const struct evtchn_port_ops *ops = atomic_load(&d->ev->ops);

	if (ops->init)
		ops->init(d, chn);
}

/* Mark chn used (state already set by the caller); event_lock held. */
static void account_open(struct evtchn_domain *ed)
{
	ed->active_evtchns++;
}

/* Back to FREE; both event_lock (W) and chn->lock (W) held. */
static void evtchn_free(struct xgnt_domain *d, struct evtchn *chn)
{
	const struct evtchn_port_ops *ops = atomic_load(&d->ev->ops);

	/* A stale pending bit would fire on the next binding. */
	ops->clear_pending(d, chn);
	chn->state = ECS_FREE;
	set_notify_vcpu(chn, 0);
	d->ev->active_evtchns--;
}

/* Two channels' write locks, in address order (Xen's double_evtchn_lock). */
static void double_evtchn_lock(struct evtchn *a, struct evtchn *b)
{
	if (a == b) {
		plat_write_lock(&a->lock);
	} else if (a < b) {
		plat_write_lock(&a->lock);
		plat_write_lock(&b->lock);
	} else {
		plat_write_lock(&b->lock);
		plat_write_lock(&a->lock);
	}
}

static void double_evtchn_unlock(struct evtchn *a, struct evtchn *b)
{
	plat_write_unlock(&a->lock);
	if (a != b)
		plat_write_unlock(&b->lock);
}

static void double_event_lock(struct xgnt_domain *a, struct xgnt_domain *b)
{
	if (a == b) {
		plat_write_lock(&a->ev->event_lock);
	} else if (a < b) {
		plat_write_lock(&a->ev->event_lock);
		plat_write_lock(&b->ev->event_lock);
	} else {
		plat_write_lock(&b->ev->event_lock);
		plat_write_lock(&a->ev->event_lock);
	}
}

static void double_event_unlock(struct xgnt_domain *a, struct xgnt_domain *b)
{
	plat_write_unlock(&a->ev->event_lock);
	if (a != b)
		plat_write_unlock(&b->ev->event_lock);
}

/* ---- operations ------------------------------------------------------------ */

static long evtchn_alloc_unbound(struct xgnt_vcpu *v, struct evtchn_alloc_unbound *op)
{
	struct xgnt_domain *d = dom_lookup_any(v->d, op->dom);
	struct evtchn *chn;
	long rc;

	if (!d)
		return -ESRCH;
	plat_write_lock(&d->ev->event_lock);
	rc = get_free_port(d);
	if (rc < 0)
		goto out;
	chn = evtchn_from_port(d->ev, (uint32_t)rc);
	if (!xsm_target(v->d, d)) {
		rc = -EPERM;
		goto out;
	}
	plat_write_lock(&chn->lock);
	chn->state = ECS_UNBOUND;
	chn->u.unbound.remote_domid = op->remote_dom == DOMID_SELF ? v->d->id : op->remote_dom;
	port_init(d, chn);
	plat_write_unlock(&chn->lock);
	account_open(d->ev);
	op->port = (evtchn_port_t)rc;
	rc = 0;
out:
	plat_write_unlock(&d->ev->event_lock);
	put_domain(d);
	return rc;
}

static long evtchn_bind_interdomain(struct xgnt_vcpu *v, struct evtchn_bind_interdomain *op)
{
	struct xgnt_domain *ld = v->d, *rd = dom_lookup_any(ld, op->remote_dom);
	struct evtchn *lchn, *rchn;
	long rc;
	int lport;

	if (!rd)
		return -ESRCH;
	double_event_lock(ld, rd);
	lport = get_free_port(ld);
	if (lport < 0) {
		rc = lport;
		goto out;
	}
	lchn = evtchn_from_port(ld->ev, (uint32_t)lport);
	rc = -EINVAL;
	if (!port_is_valid(rd->ev, op->remote_port))
		goto out;
	rchn = evtchn_from_port(rd->ev, op->remote_port);
	if (rchn->state != ECS_UNBOUND || rchn->u.unbound.remote_domid != ld->id)
		goto out;
	double_evtchn_lock(lchn, rchn);
	lchn->u.interdomain.remote_dom = rd;
	lchn->u.interdomain.remote_port = op->remote_port;
	lchn->state = ECS_INTERDOMAIN;
	port_init(ld, lchn);
	rchn->u.interdomain.remote_dom = ld;
	rchn->u.interdomain.remote_port = (uint32_t)lport;
	rchn->state = ECS_INTERDOMAIN;
	account_open(ld->ev);
	/* A notification the peer sent to its unbound port is lost: make up
	 * for it by always setting the new local port pending. */
	evtchn_port_set_pending(ld, notify_vcpu(lchn), lchn);
	double_evtchn_unlock(lchn, rchn);
	op->local_port = (evtchn_port_t)lport;
	rc = 0;
out:
	double_event_unlock(ld, rd);
	put_domain(rd);
	return rc;
}

/* Xen's get_virq_type: per-vCPU, per-domain (Argo), or global (handled by
 * one domain for the machine; x86's arch VIRQs, such as VIRQ_MCA, are
 * global). */
enum virq_type { VIRQ_VCPU, VIRQ_DOMAIN, VIRQ_GLOBAL };

static enum virq_type virq_type(uint32_t virq)
{
	switch (virq) {
	case VIRQ_TIMER:
	case VIRQ_DEBUG:
	case VIRQ_XENOPROF:
	case VIRQ_XENPMU:
		return VIRQ_VCPU;
	case VIRQ_ARGO:
		return VIRQ_DOMAIN;
	default:
		return VIRQ_GLOBAL;
	}
}

/* The domain that handles global VIRQs: the lowest-numbered live control
 * domain (Xen's hardware domain). Referenced, or NULL. */
static struct xgnt_domain *global_virq_handler(struct xgnt_machine *m)
{
	struct xgnt_domain *d;
	unsigned int id = 0;

	while ((d = dom_lookup_next(m, &id))) {
		if (d->privileged && !atomic_load(&d->is_dying))
			return d;
		put_domain(d);
	}
	return NULL;
}

static long evtchn_bind_virq(struct xgnt_vcpu *cv, struct evtchn_bind_virq *op)
{
	struct xgnt_domain *d = cv->d, *handler;
	struct evtchn_vcpu *ev;
	struct evtchn *chn;
	long rc;
	int port;

	if (op->virq >= NR_VIRQS)
		return -EINVAL;
	if (virq_type(op->virq) != VIRQ_VCPU && op->vcpu != 0)
		return -EINVAL;
	if (op->vcpu >= d->nr_vcpus)
		return -ENOENT;
	ev = &d->vcpus[op->vcpu].ev[0];
	plat_write_lock(&d->ev->event_lock);
	if (virq_type(op->virq) == VIRQ_GLOBAL) {
		handler = global_virq_handler(d->m);
		if (handler)
			put_domain(handler);
		if (handler != d) {
			rc = -EBUSY;
			goto out;
		}
	}
	if (__atomic_load_n(&ev->virq_to_evtchn[op->virq], __ATOMIC_ACQUIRE)) {
		rc = -EEXIST;
		goto out;
	}
	port = get_free_port(d);
	if (port < 0) {
		rc = port;   /* nothing else to undo (XSA-496) */
		goto out;
	}
	chn = evtchn_from_port(d->ev, (uint32_t)port);
	plat_write_lock(&chn->lock);
	chn->state = ECS_VIRQ;
	set_notify_vcpu(chn, op->vcpu);
	chn->u.virq = op->virq;
	port_init(d, chn);
	plat_write_unlock(&chn->lock);
	account_open(d->ev);
	op->port = (evtchn_port_t)port;
	plat_write_lock(&ev->virq_lock);
	__atomic_store_n(&ev->virq_to_evtchn[op->virq], (uint32_t)port, __ATOMIC_RELEASE);
	plat_write_unlock(&ev->virq_lock);
	rc = 0;
out:
	plat_write_unlock(&d->ev->event_lock);
	return rc;
}

static long evtchn_bind_ipi(struct xgnt_vcpu *cv, struct evtchn_bind_ipi *op)
{
	struct xgnt_domain *d = cv->d;
	struct evtchn *chn;
	int port;

	if (op->vcpu >= d->nr_vcpus)
		return -ENOENT;
	plat_write_lock(&d->ev->event_lock);
	port = get_free_port(d);
	if (port >= 0) {
		chn = evtchn_from_port(d->ev, (uint32_t)port);
		plat_write_lock(&chn->lock);
		chn->state = ECS_IPI;
		set_notify_vcpu(chn, op->vcpu);
		port_init(d, chn);
		plat_write_unlock(&chn->lock);
		account_open(d->ev);
		op->port = (evtchn_port_t)port;
	}
	plat_write_unlock(&d->ev->event_lock);
	return port < 0 ? port : 0;
}

/*
 * Physical IRQs: the model has none. What each kind of caller is answered
 * follows Xen: Arm has no PIRQs (-EOPNOTSUPP); a PV domain needs IRQ
 * access (-EPERM for a domU) and a privileged one finds no such IRQ to bind
 * (-EINVAL); an HVM domain's PIRQs are emulated, so its binding succeeds.
 */
static long evtchn_bind_pirq(struct xgnt_vcpu *cv, struct evtchn_bind_pirq *op)
{
	struct xgnt_domain *d = cv->d;
	struct evtchn *chn;
	long rc;
	int port;

	if (d->type == XGNT_DOMAIN_ARM)
		return -EOPNOTSUPP;
	if (op->pirq >= NR_PIRQS)
		return -EINVAL;
	if (is_pv(d) && !d->privileged)
		return -EPERM;
	plat_write_lock(&d->ev->event_lock);
	if (d->ev->pirq_to_evtchn[op->pirq]) {
		rc = -EEXIST;
		goto out;
	}
	port = get_free_port(d);
	if (port < 0) {
		rc = port;
		goto out;
	}
	if (is_pv(d)) {
		rc = -EINVAL;     /* pirq_guest_bind: no such IRQ on this machine */
		goto out;
	}
	chn = evtchn_from_port(d->ev, (uint32_t)port);
	plat_write_lock(&chn->lock);
	chn->state = ECS_PIRQ;
	chn->u.pirq = op->pirq;
	port_init(d, chn);
	plat_write_unlock(&chn->lock);
	account_open(d->ev);
	d->ev->pirq_to_evtchn[op->pirq] = (uint32_t)port;
	op->port = (evtchn_port_t)port;
	rc = 0;
out:
	plat_write_unlock(&d->ev->event_lock);
	return rc;
}

static long evtchn_close(struct xgnt_domain *d1, uint32_t port1)
{
	struct xgnt_domain *d2 = NULL;
	struct evtchn *chn1, *chn2;
	unsigned int i;
	long rc = 0;

again:
	plat_write_lock(&d1->ev->event_lock);
	if (!port_is_valid(d1->ev, port1)) {
		rc = -EINVAL;
		goto out;
	}
	chn1 = evtchn_from_port(d1->ev, port1);
	switch (chn1->state) {
	case ECS_FREE:
	case ECS_RESERVED:
		rc = -EINVAL;
		goto out;
	case ECS_UNBOUND:
	case ECS_IPI:
		break;
	case ECS_PIRQ:
		d1->ev->pirq_to_evtchn[chn1->u.pirq] = 0;
		break;
	case ECS_VIRQ:
		for (i = 0; i < d1->nr_vcpus; i++) {
			struct evtchn_vcpu *ev = d1->vcpus[i].ev;

			plat_write_lock(&ev->virq_lock);
			if (ev->virq_to_evtchn[chn1->u.virq] == port1)
				__atomic_store_n(&ev->virq_to_evtchn[chn1->u.virq], 0,
						 __ATOMIC_RELEASE);
			plat_write_unlock(&ev->virq_lock);
		}
		break;
	case ECS_INTERDOMAIN:
		if (!d2) {
			d2 = chn1->u.interdomain.remote_dom;
			get_domain(d2);   /* d2 must outlive our unlocking */
			if (d1 < d2) {
				plat_write_lock(&d2->ev->event_lock);
			} else if (d1 != d2) {
				plat_write_unlock(&d1->ev->event_lock);
				plat_write_lock(&d2->ev->event_lock);
				goto again;
			}
		} else if (d2 != chn1->u.interdomain.remote_dom) {
			/* Closed and re-bound while we juggled locks: it passed
			 * through FREE, so say what FREE would. */
			rc = -EINVAL;
			goto out;
		}
		chn2 = evtchn_from_port(d2->ev, chn1->u.interdomain.remote_port);
		if (NEVER(chn2->state != ECS_INTERDOMAIN ||
			  chn2->u.interdomain.remote_dom != d1)) {
			rc = -EINVAL;
			goto out;
		}
		double_evtchn_lock(chn1, chn2);
		evtchn_free(d1, chn1);
		chn2->state = ECS_UNBOUND;
		chn2->u.unbound.remote_domid = d1->id;
		double_evtchn_unlock(chn1, chn2);
		goto out;
	default:
		assert(0);
		rc = -EINVAL;
		goto out;
	}
	plat_write_lock(&chn1->lock);
	evtchn_free(d1, chn1);
	plat_write_unlock(&chn1->lock);
out:
	if (d2) {
		if (d1 != d2)
			plat_write_unlock(&d2->ev->event_lock);
		put_domain(d2);
	}
	plat_write_unlock(&d1->ev->event_lock);
	return rc;
}

static long evtchn_send(struct xgnt_domain *ld, uint32_t lport)
{
	struct evtchn *lchn, *rchn;
	struct xgnt_domain *rd;
	long rc = 0;

	if (!port_is_valid(ld->ev, lport))
		return -EINVAL;
	lchn = evtchn_from_port(ld->ev, lport);
	/* Our read lock pins the binding: both ends change only under both
	 * channels' write locks. */
	plat_read_lock(&lchn->lock);
	switch (lchn->state) {
	case ECS_INTERDOMAIN:
		rd = lchn->u.interdomain.remote_dom;
		rchn = evtchn_from_port(rd->ev, lchn->u.interdomain.remote_port);
		evtchn_port_set_pending(rd, notify_vcpu(rchn), rchn);
		break;
	case ECS_IPI:
		evtchn_port_set_pending(ld, notify_vcpu(lchn), lchn);
		break;
	case ECS_UNBOUND:
		break;   /* silently dropped */
	default:
		rc = -EINVAL;
	}
	plat_read_unlock(&lchn->lock);
	return rc;
}

static long evtchn_status(struct xgnt_vcpu *v, struct evtchn_status *st)
{
	struct xgnt_domain *d = dom_lookup_any(v->d, st->dom);
	struct evtchn *chn;
	long rc = 0;

	if (!d)
		return -ESRCH;
	plat_read_lock(&d->ev->event_lock);
	if (!port_is_valid(d->ev, st->port)) {
		rc = -EINVAL;
		goto out;
	}
	if (!xsm_target(v->d, d)) {
		rc = -EPERM;
		goto out;
	}
	chn = evtchn_from_port(d->ev, st->port);
	switch (chn->state) {
	case ECS_FREE:
	case ECS_RESERVED:
		st->status = EVTCHNSTAT_closed;
		break;
	case ECS_UNBOUND:
		st->status = EVTCHNSTAT_unbound;
		st->u.unbound.dom = chn->u.unbound.remote_domid;
		break;
	case ECS_INTERDOMAIN:
		st->status = EVTCHNSTAT_interdomain;
		st->u.interdomain.dom = chn->u.interdomain.remote_dom->id;
		st->u.interdomain.port = chn->u.interdomain.remote_port;
		break;
	case ECS_PIRQ:
		st->status = EVTCHNSTAT_pirq;
		st->u.pirq = chn->u.pirq;
		break;
	case ECS_VIRQ:
		st->status = EVTCHNSTAT_virq;
		st->u.virq = chn->u.virq;
		break;
	case ECS_IPI:
		st->status = EVTCHNSTAT_ipi;
		break;
	}
	st->vcpu = notify_vcpu(chn);
out:
	plat_read_unlock(&d->ev->event_lock);
	put_domain(d);
	return rc;
}

static long evtchn_bind_vcpu(struct xgnt_domain *d, uint32_t port, uint32_t vcpu)
{
	struct evtchn *chn;
	long rc = 0;

	if (vcpu >= d->nr_vcpus)
		return -ENOENT;
	plat_write_lock(&d->ev->event_lock);
	if (!port_is_valid(d->ev, port)) {
		rc = -EINVAL;
		goto out;
	}
	chn = evtchn_from_port(d->ev, port);
	switch (chn->state) {
	case ECS_VIRQ:
		if (virq_type(chn->u.virq) != VIRQ_VCPU)
			set_notify_vcpu(chn, vcpu);
		else
			rc = -EINVAL;
		break;
	case ECS_UNBOUND:
	case ECS_INTERDOMAIN:
	case ECS_PIRQ:
		set_notify_vcpu(chn, vcpu);
		break;
	default:
		rc = -EINVAL;
	}
out:
	plat_write_unlock(&d->ev->event_lock);
	return rc;
}

static long evtchn_unmask(struct xgnt_domain *d, uint32_t port)
{
	struct evtchn *chn;

	if (!port_is_valid(d->ev, port))
		return -EINVAL;
	chn = evtchn_from_port(d->ev, port);
	plat_read_lock(&chn->lock);
	if (evtchn_usable(chn))
		atomic_load(&d->ev->ops)->unmask(d, chn);
	plat_read_unlock(&chn->lock);
	return 0;
}

static long evtchn_set_priority(struct xgnt_domain *d, const struct evtchn_set_priority *op)
{
	const struct evtchn_port_ops *ops;
	struct evtchn *chn;
	long rc;

	if (!port_is_valid(d->ev, op->port))
		return -EINVAL;
	chn = evtchn_from_port(d->ev, op->port);
	plat_read_lock(&chn->lock);
	ops = atomic_load(&d->ev->ops);
	if (!ops->set_priority)
		rc = -ENOSYS;
	else if (!evtchn_usable(chn))
		rc = -EACCES;
	else
		rc = ops->set_priority(d, chn, op->priority);
	plat_read_unlock(&chn->lock);
	return rc;
}

static long evtchn_reset(struct xgnt_vcpu *v, domid_t dom)
{
	struct xgnt_domain *d = dom_lookup_any(v->d, dom);
	uint32_t i;
	long rc = 0;

	if (!d)
		return -ESRCH;
	if (!xsm_target(v->d, d)) {
		rc = -EPERM;
		goto out;
	}
	/* Another domain may be reset only while it is paused by its
	 * controller, which never happens here. */
	if (d != v->d) {
		rc = -EINVAL;
		goto out;
	}
	plat_write_lock(&d->ev->event_lock);
	if (d->ev->next_evtchn) {
		plat_write_unlock(&d->ev->event_lock);
		rc = -EBUSY;
		goto out;
	}
	d->ev->next_evtchn = 1;
	plat_write_unlock(&d->ev->event_lock);
	for (i = 1; port_is_valid(d->ev, i); i++)
		evtchn_close(d, i);
	plat_write_lock(&d->ev->event_lock);
	d->ev->next_evtchn = 0;
	if (d->ev->active_evtchns) {
		rc = -EAGAIN;   /* something was bound meanwhile (XSA-343) */
	} else if (d->ev->fifo) {
		evtchn_fifo_destroy(d);   /* back to 2-level */
	}
	plat_write_unlock(&d->ev->event_lock);
out:
	put_domain(d);
	return rc;
}

long xgnt_event_channel_op(struct xgnt_vcpu *v, int cmd, void *arg)
{
	struct xgnt_domain *d;

	if (!v)
		return -EINVAL;
	d = v->d;
	switch (cmd) {
	case EVTCHNOP_alloc_unbound:
	case EVTCHNOP_bind_interdomain:
	case EVTCHNOP_bind_virq:
	case EVTCHNOP_bind_pirq:
	case EVTCHNOP_close:
	case EVTCHNOP_send:
	case EVTCHNOP_status:
	case EVTCHNOP_bind_ipi:
	case EVTCHNOP_bind_vcpu:
	case EVTCHNOP_unmask:
	case EVTCHNOP_reset:
	case EVTCHNOP_init_control:
	case EVTCHNOP_expand_array:
	case EVTCHNOP_set_priority:
		if (!arg)
			return -EFAULT;
		break;
	default:
		return -ENOSYS;
	}
	switch (cmd) {
	case EVTCHNOP_alloc_unbound:
		return evtchn_alloc_unbound(v, arg);
	case EVTCHNOP_bind_interdomain:
		return evtchn_bind_interdomain(v, arg);
	case EVTCHNOP_bind_virq:
		return evtchn_bind_virq(v, arg);
	case EVTCHNOP_bind_pirq:
		return evtchn_bind_pirq(v, arg);
	case EVTCHNOP_close:
		return evtchn_close(d, ((struct evtchn_close *)arg)->port);
	case EVTCHNOP_send:
		return evtchn_send(d, ((struct evtchn_send *)arg)->port);
	case EVTCHNOP_status:
		return evtchn_status(v, arg);
	case EVTCHNOP_bind_ipi:
		return evtchn_bind_ipi(v, arg);
	case EVTCHNOP_bind_vcpu:
		return evtchn_bind_vcpu(d, ((struct evtchn_bind_vcpu *)arg)->port,
					((struct evtchn_bind_vcpu *)arg)->vcpu);
	case EVTCHNOP_unmask:
		return evtchn_unmask(d, ((struct evtchn_unmask *)arg)->port);
	case EVTCHNOP_reset:
		return evtchn_reset(v, ((struct evtchn_reset *)arg)->dom);
	case EVTCHNOP_init_control:
		return evtchn_fifo_init_control(d, arg);
	case EVTCHNOP_expand_array:
		return evtchn_fifo_expand_array(d, arg);
	default: /* EVTCHNOP_set_priority */
		return evtchn_set_priority(d, arg);
	}
}

/* ---- VIRQs raised by the machine -------------------------------------------- */

void evtchn_send_virq(struct xgnt_domain *d, unsigned int vcpu, uint32_t virq)
{
	struct evtchn_vcpu *ev;
	uint32_t port;

	if (vcpu >= d->nr_vcpus || virq >= NR_VIRQS)
		return;
	ev = d->vcpus[vcpu].ev;
	plat_read_lock(&ev->virq_lock);
	port = __atomic_load_n(&ev->virq_to_evtchn[virq], __ATOMIC_ACQUIRE);
	if (port && port_is_valid(d->ev, port)) {
		struct evtchn *chn = evtchn_from_port(d->ev, port);

		plat_read_lock(&chn->lock);
		if (chn->state == ECS_VIRQ)
			evtchn_port_set_pending(d, notify_vcpu(chn), chn);
		plat_read_unlock(&chn->lock);
	}
	plat_read_unlock(&ev->virq_lock);
}

void evtchn_send_global_virq(struct xgnt_machine *m, uint32_t virq)
{
	struct xgnt_domain *d = global_virq_handler(m);

	if (!d)
		return;
	evtchn_send_virq(d, 0, virq);
	put_domain(d);
}

/* ---- domain lifetime ------------------------------------------------------- */

int evtchn_domain_init(struct xgnt_domain *d, uint32_t max_port)
{
	struct evtchn_domain *ed = plat_calloc(1, sizeof(*ed));
	int rc;

	if (!ed)
		return -ENOMEM;
	ed->buckets = plat_calloc(EVTCHN_MAX_BUCKETS, sizeof(*ed->buckets));
	if (!ed->buckets) {
		plat_free(ed);
		return -ENOMEM;
	}
	plat_rwlock_init(&ed->event_lock);
	atomic_init(&ed->ops, &evtchn_port_ops_2l);
	ed->max_evtchn_port = MIN(max_port, (uint32_t)INT32_MAX);   /* as Xen clamps it */
	d->ev = ed;
	plat_write_lock(&ed->event_lock);
	rc = allocate_bucket(ed, 0);
	if (!rc)
		evtchn_from_port(ed, 0)->state = ECS_RESERVED;
	plat_write_unlock(&ed->event_lock);
	return rc;
}

void evtchn_domain_destroy(struct xgnt_domain *d)
{
	uint32_t i;

	if (!d->ev)
		return;
	for (i = 1; port_is_valid(d->ev, i); i++)
		evtchn_close(d, i);
	plat_write_lock(&d->ev->event_lock);
	if (d->ev->fifo)
		evtchn_fifo_destroy(d);
	/* Registered vcpu_info pages are d's frames: let them go now, or d
	 * would hold itself alive (Xen's unmap_vcpu_info). */
	for (i = 0; i < d->nr_vcpus; i++)
		vcpu_unmap_info(&d->vcpus[i]);
	plat_write_unlock(&d->ev->event_lock);
}

void evtchn_domain_free(struct xgnt_domain *d)
{
	struct evtchn_domain *ed = d->ev;
	uint32_t b, i;

	if (!ed)
		return;
	for (b = 0; b < EVTCHN_MAX_BUCKETS && ed->buckets[b]; b++) {
		for (i = 0; i < EVTCHNS_PER_BUCKET; i++)
			plat_rwlock_destroy(&ed->buckets[b][i].lock);
		plat_free(ed->buckets[b]);
	}
	plat_free(ed->buckets);
	plat_rwlock_destroy(&ed->event_lock);
	plat_free(ed);
	d->ev = NULL;
}
