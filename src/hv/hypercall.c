/* SPDX-License-Identifier: MIT */
/*
 * Hypercall entry: argument checks common to every grant-table operation
 * (Xen's do_grant_table_op and the per-type filters), cache_flush, and the
 * PV update_va_mapping the model needs.
 */
#include "gnttab.h"

#include <errno.h>

/* Xen-internal, not in the public headers: cache_flush keeps its
 * continuation in the high bits of cmd. */
#define GNTTABOP_CONTINUATION_ARG_SHIFT 12
#define GNTTABOP_CMD_MASK ((1u << GNTTABOP_CONTINUATION_ARG_SHIFT) - 1)

/* What Xen lets each kind of guest call (hvm_grant_table_op; Arm has no
 * filter; transfer needs a PV caller). */
static bool hvm_allowed(unsigned int cmd)
{
	switch (cmd) {
	case GNTTABOP_query_size:
	case GNTTABOP_setup_table:
	case GNTTABOP_set_version:
	case GNTTABOP_get_version:
	case GNTTABOP_copy:
	case GNTTABOP_map_grant_ref:
	case GNTTABOP_unmap_grant_ref:
	case GNTTABOP_swap_grant_ref:
		return true;
	default:
		return false;
	}
}

/* Is mfn pinned for d in owner's table? (Xen's grant_map_exists.) */
static bool grant_map_exists(struct xgnt_domain *d, struct grant_table *ogt, uint64_t mfn)
{
	unsigned int ref, n = nr_grant_entries(ogt);
	bool found = false;

	for (ref = 0; ref < n && !found; ref++) {
		struct active_grant_entry *act = active_entry_acquire(ogt, ref);

		found = act->pin && act->domid == d->id && act->mfn == mfn;
		active_entry_release(act);
	}
	return found;
}

static bool d_is_x86(const struct xgnt_domain *d)
{
	return d->type != XGNT_DOMAIN_ARM;
}

static long cache_flush_one(struct xgnt_vcpu *v, const struct gnttab_cache_flush *c)
{
	struct xgnt_machine *m = v->d->m;
	struct xgnt_domain *owner;
	uint64_t mfn;
	long rc = 0;

	if (c->offset >= PAGE_SIZE || c->length > PAGE_SIZE ||
	    c->offset + c->length > PAGE_SIZE ||
	    (c->op & ~(GNTTAB_CACHE_INVAL | GNTTAB_CACHE_CLEAN)))
		return -EINVAL;
	if (c->length == 0 || c->op == 0)
		return 0;
	mfn = c->a.dev_bus_addr >> PAGE_SHIFT;
	if (!mfn_valid(m, mfn))
		return -EINVAL;
	if (mfn_is_iomem(m, mfn))
		return -EPERM;   /* owned by DOMID_IO: no grant table (XSA-232) */
	owner = atomic_load_explicit(&mfn_to_page(m, mfn)->owner, memory_order_acquire);
	if (!owner || !get_page(m, mfn, owner))
		return -EPERM;
	if (owner != v->d) {
		plat_read_lock(&owner->gt->lock);
		if (!grant_map_exists(v->d, owner->gt, mfn))
			rc = -EINVAL;
		plat_read_unlock(&owner->gt->lock);
	}
	/* Caches are coherent here: cleaning or invalidating is a no-op.
	 * But x86 Xen has no invalidate without clean: INVAL alone is
	 * -EOPNOTSUPP there once every check passed (real Xen 4.17, see
	 * tests/xen); Arm's invalidates. */
	if (!rc && d_is_x86(v->d) && c->op == GNTTAB_CACHE_INVAL)
		rc = -EOPNOTSUPP;
	put_page(m, mfn);
	return rc;
}

long gnttab_cache_flush(struct xgnt_vcpu *v, struct gnttab_cache_flush *op, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		long rc = cache_flush_one(v, &op[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

long xgnt_grant_table_op(struct xgnt_vcpu *v, unsigned int cmd, void *uop, unsigned int count)
{
	struct xgnt_domain *d;

	if (!v)
		return -EINVAL;
	d = v->d;
	if (d->type == XGNT_DOMAIN_HVM && !hvm_allowed(cmd))
		return -ENOSYS;
	if ((int)count < 0)
		return -EINVAL;
	if ((cmd >> GNTTABOP_CONTINUATION_ARG_SHIFT) && (cmd & GNTTABOP_CMD_MASK) != GNTTABOP_cache_flush)
		return -EINVAL;
	cmd &= GNTTABOP_CMD_MASK;
	/* Guest handles are pointers here: NULL is the one we can tell is bad. */
	if (!uop && count && cmd != GNTTABOP_set_version && cmd != GNTTABOP_get_version)
		return -EFAULT;

	switch (cmd) {
	case GNTTABOP_map_grant_ref:
		return gnttab_map_grant_ref(v, uop, count);
	case GNTTABOP_unmap_grant_ref:
		return gnttab_unmap_grant_ref(v, uop, count);
	case GNTTABOP_setup_table:
		return gnttab_setup_table(v, uop, count);
	case GNTTABOP_transfer:
		if (!is_pv(d))
			return -EOPNOTSUPP;   /* Xen without transfer for this caller */
		return gnttab_transfer(v, uop, count);
	case GNTTABOP_copy:
		return gnttab_copy(v, uop, count);
	case GNTTABOP_query_size:
		return gnttab_query_size(v, uop, count);
	case GNTTABOP_unmap_and_replace:
		return gnttab_unmap_and_replace(v, uop, count);
	case GNTTABOP_set_version:
		return gnttab_set_version(v, uop, count);
	case GNTTABOP_get_status_frames:
		return gnttab_get_status_frames(v, uop, count);
	case GNTTABOP_get_version:
		return gnttab_get_version(v, uop, count);
	case GNTTABOP_swap_grant_ref:
		return gnttab_swap_grant_ref(v, uop, count);
	case GNTTABOP_cache_flush:
		return gnttab_cache_flush(v, uop, count);
	default:   /* including GNTTABOP_dump_table, gone since 2006 */
		return -ENOSYS;
	}
}

long xgnt_update_va_mapping(struct xgnt_vcpu *v, uint64_t va, xen_pfn_t mfn, unsigned int prot)
{
	struct xgnt_domain *d;
	struct xgnt_machine *m;
	struct p2m_entry old;
	uint64_t gfn;
	uint8_t kind;
	int rc;

	if (!v)
		return -EINVAL;
	d = v->d;
	m = d->m;
	if (!is_pv(d))
		return -ENOSYS;
	if (!addr_to_slot(d, va, &gfn))
		return -EINVAL;
	if (mfn == INVALID_MFN) {
		plat_mutex_lock(&d->p2m_lock);
		old = d->p2m[gfn];
		if (p2m_is_grant(old.type)) {
			plat_mutex_unlock(&d->p2m_lock);
			return -EBUSY;
		}
		if (!p2m_room(d, 1, false)) {
			plat_mutex_unlock(&d->p2m_lock);
			return -ENOMEM;
		}
		p2m_clear_locked(d, gfn);
		plat_mutex_unlock(&d->p2m_lock);
		if (old.type != P2M_EMPTY)
			put_page(m, old.mfn);
		return 0;
	}
	if (!(prot & XGNT_PROT_READ) || (prot & ~(XGNT_PROT_READ | XGNT_PROT_WRITE)) ||
	    !mfn_valid(m, mfn))
		return -EINVAL;
	/* I/O memory: the control domain's to map (no references kept). */
	if (mfn_is_iomem(m, mfn) ? !d->privileged : !get_page(m, mfn, d))
		return -EPERM;
	kind = atomic_load_explicit(&mfn_to_page(m, mfn)->kind, memory_order_relaxed);
	plat_mutex_lock(&d->p2m_lock);
	if (p2m_is_grant(d->p2m[gfn].type)) {
		rc = -EBUSY;
	} else if (!p2m_room(d, 1, false)) {
		rc = -ENOMEM;
	} else {
		enum p2m_type t = kind == PGK_XENHEAP ? P2M_XENHEAP
				  : (prot & XGNT_PROT_WRITE) ? P2M_RAM : P2M_RAM_RO;

		rc = p2m_set_locked(d, gfn, mfn, t, &old);
	}
	plat_mutex_unlock(&d->p2m_lock);
	if (rc) {
		put_page(m, mfn);
		return rc;
	}
	if (old.type != P2M_EMPTY)
		put_page(m, old.mfn);
	return 0;
}
