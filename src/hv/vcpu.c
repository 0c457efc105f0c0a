/* SPDX-License-Identifier: MIT */
/*
 * vCPUs and the upcall: where each vCPU's vcpu_info lives (in shared_info
 * for the first 32, or a page the guest registers), and the eventfd that
 * becomes readable exactly when Xen would raise the event-channel upcall.
 */
#include "event.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

shared_info_t *domain_shared_info(struct xgnt_domain *d)
{
	return mfn_to_virt(d->m, d->shared_info_mfn);
}

vcpu_info_t *vcpu_info(struct xgnt_vcpu *v)
{
	return atomic_load_explicit(&v->ev->vcpu_info, memory_order_acquire);
}

void vcpu_mark_events_pending(struct xgnt_vcpu *v)
{
	vcpu_info_t *vi = vcpu_info(v);
	uint64_t one = 1;

	if (__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
		return;
	/* Xen kicks the vCPU; the upcall is taken while it is unmasked. A
	 * guest that unmasks later checks evtchn_upcall_pending itself. */
	if (!__atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_SEQ_CST) && v->upcall_fd >= 0) {
		ssize_t n = write(v->upcall_fd, &one, sizeof(one));

		(void)n;   /* a full counter is still readable */
	}
}

int vcpu_ev_init(struct xgnt_vcpu *v)
{
	struct xgnt_domain *d = v->d;
	struct evtchn_vcpu *ev = plat_calloc(1, sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	plat_rwlock_init(&ev->virq_lock);
	ev->vcpu_info_mfn = INVALID_MFN;
	/* Before registering, vCPUs past the legacy slots write to a dummy
	 * that starts masked. */
	ev->dummy.evtchn_upcall_mask = 1;
	atomic_init(&ev->vcpu_info, v->id < XEN_LEGACY_MAX_VCPUS
			  ? &domain_shared_info(d)->vcpu_info[v->id] : &ev->dummy);
	v->ev = ev;
	v->upcall_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return v->upcall_fd < 0 ? -errno : 0;
}

void vcpu_unmap_info(struct xgnt_vcpu *v)
{
	struct evtchn_vcpu *ev = v->ev;

	if (!ev || ev->vcpu_info_mfn == INVALID_MFN)
		return;
	atomic_store(&ev->vcpu_info, v->id < XEN_LEGACY_MAX_VCPUS
			 ? &domain_shared_info(v->d)->vcpu_info[v->id] : &ev->dummy);
	put_page(v->d->m, ev->vcpu_info_mfn);
	ev->vcpu_info_mfn = INVALID_MFN;
}

void vcpu_ev_free(struct xgnt_vcpu *v)
{
	if (!v->ev)
		return;
	vcpu_unmap_info(v);
	plat_rwlock_destroy(&v->ev->virq_lock);
	plat_free(v->ev);
	v->ev = NULL;
}

/* Xen's map_vcpu_info. */
static long register_vcpu_info(struct xgnt_vcpu *v, const struct vcpu_register_vcpu_info *r)
{
	struct xgnt_domain *d = v->d;
	vcpu_info_t *new, *old;
	uint64_t mfn;
	void *virt;
	int rc;

	if (r->offset > PAGE_SIZE - sizeof(vcpu_info_t) || (r->offset & (_Alignof(vcpu_info_t) - 1)))
		return -ENXIO;
	plat_write_lock(&d->ev->event_lock);   /* against concurrent delivery setup */
	rc = -EINVAL;
	if (v->ev->vcpu_info_mfn != INVALID_MFN)
		goto out;
	rc = map_guest_page(d, r->mfn, &mfn, &virt);
	if (rc)
		goto out;
	new = (vcpu_info_t *)((uint8_t *)virt + r->offset);
	old = vcpu_info(v);
	if (old == &v->ev->dummy) {
		memset(new, 0, sizeof(*new));
		new->evtchn_upcall_mask = 1;
	} else {
		/* Senders update the live flags meanwhile: those atomically, the
		 * rest (time, arch) is only the guest's. */
		memcpy(&new->arch, &old->arch, sizeof(new->arch));
		memcpy(&new->time, &old->time, sizeof(new->time));
		new->evtchn_upcall_mask = __atomic_load_n(&old->evtchn_upcall_mask, __ATOMIC_SEQ_CST);
		new->evtchn_pending_sel = __atomic_load_n(&old->evtchn_pending_sel, __ATOMIC_SEQ_CST);
		new->evtchn_upcall_pending = __atomic_load_n(&old->evtchn_upcall_pending,
							     __ATOMIC_SEQ_CST);
	}
	v->ev->vcpu_info_mfn = mfn;
	atomic_store_explicit(&v->ev->vcpu_info, new, memory_order_release);
	/* Everything pending, so nothing is lost in the move: a spurious
	 * upcall the guest copes with (none if one is already pending). */
	__atomic_fetch_or(&new->evtchn_pending_sel, ~(xen_ulong_t)0, __ATOMIC_SEQ_CST);
	vcpu_mark_events_pending(v);
out:
	plat_write_unlock(&d->ev->event_lock);
	return rc;
}

long xgnt_vcpu_op(struct xgnt_vcpu *v, int cmd, unsigned int vcpuid, void *arg)
{
	struct xgnt_domain *d;

	if (!v)
		return -EINVAL;
	d = v->d;
	if (vcpuid >= d->nr_vcpus)
		return -ENOENT;
	switch (cmd) {
	case VCPUOP_register_vcpu_info:
		if (!arg)
			return -EFAULT;
		return register_vcpu_info(&d->vcpus[vcpuid], arg);
	case VCPUOP_is_up:
		return 1;   /* every vCPU of the model runs */
	default:
		return -ENOSYS;
	}
}
