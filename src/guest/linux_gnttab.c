/* SPDX-License-Identifier: MIT */
/*
 * Linux's grant-reference API (<xgnt/linux/grant_table.h>) over the guest
 * library, for the guest bound to the calling thread. The header lists
 * where it departs from Linux.
 */
/* the functions themselves, not the older forms' macros */
#define XGNT_LINUX_MODERN_ONLY
#include <xgnt/linux/grant_table.h>

#include <errno.h>

#include "compat.h"
#include "../plat/plat.h"

/* ---- granting access ---- */

int gnttab_grant_foreign_access(domid_t domid, unsigned long frame, int readonly)
{
	struct xgnt_guest *g = compat_granter();
	grant_ref_t ref;
	int rc;

	if (!g)
		return -EINVAL;
	rc = xgnt_grant_access(g, domid, frame, readonly != 0, &ref);
	if (rc < 0)
		return rc;
	if (NEVER(ref > INT32_MAX)) {
		xgnt_end_access(g, ref);
		return -ENOSPC;
	}
	return (int)ref;
}

void gnttab_grant_foreign_access_ref(grant_ref_t ref, domid_t domid, unsigned long frame,
				     int readonly)
{
	struct xgnt_guest *g = compat_granter();

	if (g)
		xgnt_grant_access_ref(g, ref, domid, frame, readonly != 0);
}

int gnttab_query_foreign_access(grant_ref_t ref)
{
	struct xgnt_guest *g = compat_granter();

	return g && xgnt_grant_in_use(g, ref);
}

int gnttab_end_foreign_access_ref(grant_ref_t ref)
{
	struct xgnt_guest *g = compat_granter();

	if (!g)
		return 0;
	return xgnt_end_access_ref(g, ref) != -EBUSY;
}

int gnttab_try_end_foreign_access(grant_ref_t ref)
{
	struct xgnt_guest *g = compat_granter();

	if (!g)
		return 0;
	return xgnt_end_access(g, ref) != -EBUSY;
}

/* The release a deferred end runs once the peer is done: arg is the guest. */
static void release_page(void *page, void *arg)
{
	if (page)
		xgnt_page_free(arg, page, 1);
}

void gnttab_end_foreign_access(grant_ref_t ref, void *page)
{
	struct xgnt_guest *g = compat_granter();

	if (g)
		xgnt_end_access_deferred(g, ref, release_page, page, g);
}

/* ---- transfer ---- */

int gnttab_grant_foreign_transfer(domid_t domid, unsigned long pfn)
{
	struct xgnt_guest *g = compat_granter();
	grant_ref_t ref;
	int rc;

	if (!g)
		return -EINVAL;
	rc = xgnt_grant_transfer(g, domid, pfn, &ref);
	if (rc < 0)
		return rc;
	if (NEVER(ref > INT32_MAX)) {
		xgnt_end_transfer(g, ref);
		return -ENOSPC;
	}
	return (int)ref;
}

void gnttab_grant_foreign_transfer_ref(grant_ref_t ref, domid_t domid, unsigned long pfn)
{
	struct xgnt_guest *g = compat_granter();

	if (g)
		xgnt_grant_transfer_ref(g, ref, domid, pfn);
}

/* Linux reports "no frame" as 0. */
static unsigned long frame_or_zero(xen_pfn_t frame)
{
	return frame == INVALID_MFN ? 0 : (unsigned long)frame;
}

unsigned long gnttab_end_foreign_transfer_ref(grant_ref_t ref)
{
	struct xgnt_guest *g = compat_granter();

	return g ? frame_or_zero(xgnt_end_transfer_ref(g, ref)) : 0;
}

unsigned long gnttab_end_foreign_transfer(grant_ref_t ref)
{
	struct xgnt_guest *g = compat_granter();

	return g ? frame_or_zero(xgnt_end_transfer(g, ref)) : 0;
}

/* ---- the private reserve ---- */

int gnttab_alloc_grant_references(uint16_t count, grant_ref_t *pprivate_head)
{
	struct xgnt_guest *g = compat_granter();

	if (!g || !pprivate_head)
		return -EINVAL;
	return xgnt_gref_alloc_batch(g, count, pprivate_head);
}

void gnttab_free_grant_reference(grant_ref_t ref)
{
	struct xgnt_guest *g = compat_granter();

	if (g)
		xgnt_gref_free(g, ref);
}

void gnttab_free_grant_references(grant_ref_t head)
{
	struct xgnt_guest *g = compat_granter();

	if (g)
		xgnt_gref_free_batch(g, head);
}

int gnttab_empty_grant_references(const grant_ref_t *pprivate_head)
{
	return xgnt_gref_batch_empty(pprivate_head);
}

int gnttab_claim_grant_reference(grant_ref_t *pprivate_head)
{
	struct xgnt_guest *g = compat_granter();

	if (!g || !pprivate_head)
		return -EINVAL;
	return xgnt_gref_claim(g, pprivate_head);
}

void gnttab_release_grant_reference(grant_ref_t *private_head, grant_ref_t release)
{
	struct xgnt_guest *g = compat_granter();

	if (g && private_head)
		xgnt_gref_release(g, private_head, release);
}

void gnttab_request_free_callback(struct gnttab_free_callback *callback, void (*fn)(void *),
				  void *arg, uint16_t count)
{
	struct xgnt_guest *g = compat_granter();

	if (!g || !callback || !fn)
		return;
	/* Linux's fields, as Linux fills them; the library keeps its own. */
	callback->fn = fn;
	callback->arg = arg;
	callback->count = count;
	callback->guest = g;
	xgnt_gref_request_free_callback(g, &callback->xgnt, fn, arg, count);
}

void gnttab_cancel_free_callback(struct gnttab_free_callback *callback)
{
	if (callback && callback->guest)
		xgnt_gref_cancel_free_callback(callback->guest, &callback->xgnt);
}

unsigned int gnttab_max_grant_frames(void)
{
	struct xgnt_guest *g = compat_granter();

	return g ? xgnt_gnttab_max_frames(g) : 0;
}
