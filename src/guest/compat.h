/* SPDX-License-Identifier: MIT */
/*
 * Shared by the source-compatible interfaces (zephyr_gnttab.c,
 * linux_gnttab.c, minios_gnttab.c): which guest the calling thread acts for.
 */
#ifndef XGNT_GUEST_COMPAT_H
#define XGNT_GUEST_COMPAT_H

#include <xgnt/guest.h>

/*
 * The guest bound to the calling thread, its grant table set up (version
 * 1) if nothing has set it up yet, as a guest kernel's boot would have.
 * NULL when no guest is bound or the table cannot be set up.
 */
struct xgnt_guest *compat_granter(void);

/* The guest bound to the calling thread (mapping needs no table). */
static inline struct xgnt_guest *compat_guest(void)
{
	return xgnt_guest_current();
}

#endif
