/* SPDX-License-Identifier: MIT */
/*
 * xgntd control connections: domains (create, destroy, list, watch), the
 * 'g'-key dump, and shutdown. Changing the machine needs a privileged
 * domain, as Xen's domctls do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static bool privileged(struct conn *c)
{
	return c->dd && c->dd->privileged;
}

static long dump(struct conn *c, uint32_t domid, void **out, size_t *out_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct dd *dd;
	int rc;

	if (!f)
		return -ENOMEM;
	if (domid == XGNTD_DOMID_ALL) {
		rc = xgnt_machine_dump(c->dmn->m, f);
	} else {
		dd = dd_find(c->dmn, domid);
		rc = dd ? xgnt_domain_dump(dd->d, f) : -ESRCH;
	}
	if (fclose(f) || !buf) {
		free(buf);
		return -ENOMEM;
	}
	if (rc) {
		free(buf);
		return rc;
	}
	/* One message: a long dump is cut, and says so. */
	if (len > XGNTD_MAX_MSG) {
		static const char cut[] = "\n(xgnt) ... dump truncated\n";

		len = XGNTD_MAX_MSG;
		memcpy(buf + len - sizeof(cut) + 1, cut, sizeof(cut) - 1);
	}
	*out = buf;
	*out_len = len;
	return 0;
}

long ctl_request(struct conn *c, const struct xgntd_hdr *h, const void *p, void **out,
		 size_t *out_len)
{
	struct daemon *dmn = c->dmn;
	const struct xgntd_domid *req = p;
	struct dd *dd;

	switch (h->type) {
	case XGNTD_CTL_DOMAIN_CREATE:
		if (h->len != sizeof(struct xgntd_domain_create))
			return -EINVAL;
		if (!privileged(c))
			return -EPERM;
		return dd_create(dmn, p);
	case XGNTD_CTL_DOMAIN_DESTROY:
		if (h->len != sizeof(*req))
			return -EINVAL;
		if (!privileged(c))
			return -EPERM;
		dd = dd_find(dmn, req->domid);
		if (!dd)
			return -ESRCH;
		if (dd->domid == 0)
			return -EPERM;   /* Xen never destroys its domain 0 */
		return dd_destroy(dmn, dd);
	case XGNTD_CTL_DOMAIN_LIST: {
		struct xgntd_domain_info *info = *out;
		size_t n = 0;

		if (h->len)
			return -EINVAL;
		if (!privileged(c))
			return -EPERM;
		for (dd = dmn->doms; dd && (n + 1) * sizeof(*info) <= XGNTD_MAX_MSG; dd = dd->next)
			dd_info(dd, &info[n++]);
		*out_len = n * sizeof(*info);
		return (long)n;
	}
	case XGNTD_CTL_DUMP:
		if (h->len != sizeof(*req))
			return -EINVAL;
		if (!privileged(c))
			return -EPERM;
		return dump(c, req->domid, out, out_len);
	case XGNTD_CTL_WATCH_DOMAINS: {
		struct xgntd_domain_info info;

		if (h->len)
			return -EINVAL;
		if (!privileged(c))
			return -EPERM;
		/* The reply first, then every domain as an event. */
		if (conn_send(c, h->type, h->seq, 0, NULL, 0, NULL, 0))
			return -EPROTO;
		for (dd = dmn->doms; dd; dd = dd->next) {
			dd_info(dd, &info);
			if (conn_send(c, XGNTD_CTL_EVENT_DOMAIN, 0, 0, &info, sizeof(info), NULL, 0))
				return -EPROTO;
		}
		c->watching = true;
		return -EALREADY;   /* answered */
	}
	case XGNTD_CTL_SHUTDOWN:
		if (h->len)
			return -EINVAL;
		if (!privileged(c))
			return -EPERM;
		dmn->stop = true;
		return 0;
	}
	return -ENOTTY;
}
