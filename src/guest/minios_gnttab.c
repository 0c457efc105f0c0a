/* SPDX-License-Identifier: MIT */
/*
 * The Mini-OS / FreeRTOS-Xen grant-table entry points
 * (<xgnt/minios/gnttab.h>) over the guest library, for the guest bound to
 * the calling thread.
 */
#include <xgnt/minios/gnttab.h>

#include <errno.h>

#include "compat.h"
#include "../plat/plat.h"

void init_gnttab(void)
{
	/* Sets the table up unless it already is. */
	compat_granter();
}

void fini_gnttab(void)
{
	struct xgnt_guest *g = compat_guest();
	struct gnttab_setup_table setup = { .dom = DOMID_SELF, .nr_frames = 0 };

	if (!g)
		return;
	/* Mini-OS's shutdown call: asks for no frames, which changes nothing. */
	xgnt_hyp_grant_table_op(g, GNTTABOP_setup_table, &setup, 1);
}

grant_ref_t gnttab_grant_transfer(domid_t domid, unsigned long pfn)
{
	struct xgnt_guest *g = compat_granter();
	grant_ref_t ref;

	if (!g || xgnt_grant_transfer(g, domid, pfn, &ref) < 0)
		return GNTTAB_INVAL_GREF;
	return ref;
}

unsigned long gnttab_end_transfer(grant_ref_t gref)
{
	struct xgnt_guest *g = compat_granter();
	xen_pfn_t frame;

	if (!g)
		return 0;
	frame = xgnt_end_transfer(g, gref);
	return frame == INVALID_MFN ? 0 : (unsigned long)frame;
}

int gnttab_map_ref_handle(domid_t domid, grant_ref_t ref, unsigned long mfn,
			  grant_handle_t *handle)
{
	struct xgnt_guest *g = compat_guest();
	struct gnttab_map_grant_ref op = {
		.host_addr = (uint64_t)mfn << PAGE_SHIFT,
		.flags = GNTMAP_host_map,
		.ref = ref,
		.dom = domid,
	};
	int rc;

	if (!g)
		return -EINVAL;
	rc = xgnt_map_refs(g, &op, 1);
	if (rc)
		return rc;
	if (op.status == GNTST_okay && handle)
		*handle = op.handle;
	return op.status;
}

int gnttab_map_ref(domid_t domid, grant_ref_t ref, unsigned long mfn)
{
	return gnttab_map_ref_handle(domid, ref, mfn, NULL);
}
