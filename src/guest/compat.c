/* SPDX-License-Identifier: MIT */
/*
 * The thread's guest for the source-compatible interfaces, with its grant
 * table set up on first use: Zephyr and Linux drivers never call an init
 * function, their kernel did at boot.
 */
#include "compat.h"

#include "../plat/plat.h"

/* Serialises first-use set-up of any guest's table (taken once per guest). */
static plat_mutex_t setup_lock = { PTHREAD_MUTEX_INITIALIZER, 0 };

struct xgnt_guest *compat_granter(void)
{
	struct xgnt_guest *g = xgnt_guest_current();
	int rc = 0;

	if (!g)
		return NULL;
	if (likely(xgnt_gnttab_nr_frames(g)))
		return g;
	plat_mutex_lock(&setup_lock);
	if (!xgnt_gnttab_nr_frames(g))
		rc = xgnt_gnttab_init(g, 1);
	plat_mutex_unlock(&setup_lock);
	return rc ? NULL : g;
}
