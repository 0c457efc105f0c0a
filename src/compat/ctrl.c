/* SPDX-License-Identifier: MIT */
/*
 * Drop-in libxenctrl.so.4.17, only the three functions Debian's
 * vchan-socket-proxy needs: open, close, and xc_domain_getinfo answered
 * from xgntd's domain list. Like Xen's getdomaininfo domctl, it needs a
 * privileged domain (EPERM otherwise).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

#include "client.h"

#define API __attribute__((visibility("default")))

struct xc_interface_core {
	struct xgntc c;
};

API xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				    unsigned int open_flags)
{
	struct xc_interface_core *x = calloc(1, sizeof(*x));
	int rc;

	(void)logger, (void)dombuild_logger, (void)open_flags;
	if (!x) {
		errno = ENOMEM;
		return NULL;
	}
	rc = xgntc_open(&x->c, NULL, XGNTD_KIND_CTL, XGNTD_DOMID_ALL, 0, -1, NULL, NULL, 0);
	if (rc) {
		free(x);
		errno = -rc;
		return NULL;
	}
	return x;
}

API int xc_interface_close(xc_interface *xch)
{
	if (!xch)
		return 0;
	xgntc_close(&xch->c);
	free(xch);
	return 0;
}

API int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
			  xc_dominfo_t *info)
{
	/* Per call: several threads may ask at once (their own interfaces). */
	const size_t max = XGNTD_MAX_MSG / sizeof(struct xgntd_domain_info);
	struct xgntd_domain_info *list = malloc(max * sizeof(*list));
	size_t got = 0, i, n;
	unsigned int k = 0;
	long rc;

	if (!list) {
		errno = ENOMEM;
		return -1;
	}
	rc = xgntc_call(&xch->c, XGNTD_CTL_DOMAIN_LIST, NULL, 0, list, max * sizeof(*list), &got);
	if (rc < 0) {
		free(list);
		errno = (int)-rc;
		return -1;
	}
	n = got / sizeof(list[0]);
	for (i = 0; i < n && k < max_doms; i++) {
		const struct xgntd_domain_info *d = &list[i];
		xc_dominfo_t *o;

		if (d->domid < first_domid)
			continue;
		o = &info[k++];
		memset(o, 0, sizeof(*o));
		o->domid = d->domid;
		o->running = 1;
		o->hvm = d->type != 1;   /* XGNT_DOMAIN_PV */
		o->hap = o->hvm;
		o->nr_pages = (unsigned long)d->ram_frames;
		o->max_memkb = (unsigned long)d->ram_frames * 4;
		o->nr_online_vcpus = d->vcpus;
		o->max_vcpu_id = d->vcpus ? d->vcpus - 1 : 0;
		o->xenstore = d->domid == 0;
	}
	free(list);
	return (int)k;
}
