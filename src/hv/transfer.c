/* SPDX-License-Identifier: MIT */
/* GNTTABOP_transfer (being written). */
#include "gnttab.h"
#include <errno.h>
long gnttab_transfer(struct xgnt_vcpu *v, struct gnttab_transfer *op, unsigned int count)
{
	(void)v; (void)op; (void)count;
	return -ENOSYS;
}
