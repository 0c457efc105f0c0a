/* SPDX-License-Identifier: MIT */
/* xgntd: the machine's domains, and the daemon as each one's guest kernel. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon.h"

struct dd *dd_find(struct daemon *dmn, uint32_t domid)
{
	struct dd *dd;

	for (dd = dmn->doms; dd; dd = dd->next)
		if (dd->domid == domid)
			return dd;
	return NULL;
}

int dd_create(struct daemon *dmn, const struct xgntd_domain_create *c)
{
	struct xgnt_domain_config cfg = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct dd *dd, **pp;
	int rc;

	if (c->domid >= DOMID_FIRST_RESERVED || c->type > XGNT_DOMAIN_ARM || c->vcpus > 128 ||
	    c->ram_frames > (1u << 22) || c->privileged > 1)
		return -EINVAL;
	if (dd_find(dmn, c->domid))
		return -EEXIST;
	dd = calloc(1, sizeof(*dd));
	if (!dd)
		return -ENOMEM;
	dd->tag = 'd';
	dd->dmn = dmn;
	dd->domid = (domid_t)c->domid;
	dd->upcall_fd = -1;
	cfg.domid = dd->domid;
	cfg.type = (enum xgnt_domain_type)c->type;
	cfg.ram_frames = c->ram_frames;
	cfg.nr_vcpus = c->vcpus;
	cfg.privileged = c->privileged;
	dd->d = xgnt_domain_create(dmn->m, &cfg);
	if (!dd->d) {
		rc = -errno;
		goto fail;
	}
	dd->g = xgnt_guest_create_inproc(dd->d);
	if (!dd->g) {
		rc = -errno;
		goto fail_domain;
	}
	rc = xgnt_gnttab_init(dd->g, 1);
	if (!rc)
		rc = xgnt_evtchn_init(dd->g, 0);
	if (rc)
		goto fail_guest;
	dd->type = c->type;
	dd->vcpus = c->vcpus ? c->vcpus : 1;
	dd->privileged = c->privileged;
	{
		struct xgnt_domain_layout l;

		xgnt_domain_layout(dd->d, &l);
		dd->ram_frames = l.ram_size >> 12;
	}
	dd->upcall_fd = xgnt_vcpu_upcall_fd(xgnt_domain_vcpu(dd->d, 0));
	ev.data.ptr = &dd->tag;
	if (epoll_ctl(dmn->epfd, EPOLL_CTL_ADD, dd->upcall_fd, &ev) < 0) {
		rc = -errno;
		goto fail_guest;
	}
	for (pp = &dmn->doms; *pp && (*pp)->domid < dd->domid; pp = &(*pp)->next)
		;
	dd->next = *pp;
	*pp = dd;
	dlog(dmn, "domain %u created", dd->domid);
	dd_notify_watchers(dmn, dd, true);
	return 0;
fail_guest:
	xgnt_guest_destroy(dd->g);
fail_domain:
	xgnt_domain_destroy(dd->d);
fail:
	free(dd);
	return rc;
}

int dd_destroy(struct daemon *dmn, struct dd *dd)
{
	struct dd **pp;
	struct conn *c, *next;

	/* Its handles go first, as their processes' files would; control
	 * connections (one may be asking for this) only forget it. */
	for (c = dmn->conns; c; c = next) {
		next = c->next;
		if (c->dd != dd)
			continue;
		if (c->kind == XGNTD_KIND_CTL) {
			c->dd = NULL;
			dd->nr_handles--;
		} else {
			conn_close(c);
		}
	}
	for (pp = &dmn->doms; *pp != dd; pp = &(*pp)->next)
		;
	*pp = dd->next;
	epoll_ctl(dmn->epfd, EPOLL_CTL_DEL, dd->upcall_fd, NULL);
	/* Ports whose notify references outlived their handles. */
	while (dd->ports) {
		struct evport *ep = dd->ports;

		dd->ports = ep->next;
		free(ep);
	}
	free(dd->port_tab);
	xgnt_guest_destroy(dd->g);
	xgnt_domain_destroy(dd->d);
	dd_notify_watchers(dmn, dd, false);
	dlog(dmn, "domain %u destroyed", dd->domid);
	dd->tag = 'x';   /* the current epoll batch may still name it */
	dd->next = dmn->dead_doms;
	dmn->dead_doms = dd;
	return 0;
}

void dmn_reap(struct daemon *dmn)
{
	while (dmn->dead_conns) {
		struct conn *c = dmn->dead_conns;

		dmn->dead_conns = c->next;
		free(c);
	}
	while (dmn->dead_doms) {
		struct dd *dd = dmn->dead_doms;

		dmn->dead_doms = dd->next;
		free(dd);
	}
}

void dd_events(struct dd *dd)
{
	uint64_t v;
	int n;

	if (read(dd->upcall_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		dlog(dd->dmn, "d%u: upcall fd: %s", dd->domid, strerror(errno));
	/* A poll stops at its budget: go on until nothing is left. */
	do
		n = xgnt_evtchn_poll(dd->g, 0);
	while (n > 0);
}

void dd_poll_deferred(struct daemon *dmn)
{
	struct dd *dd;

	for (dd = dmn->doms; dd; dd = dd->next)
		if (xgnt_gnttab_nr_deferred(dd->g))
			xgnt_gnttab_poll_deferred(dd->g);
}

static int count_grant(const struct xgnt_grant_info *gi, void *arg)
{
	(void)gi;
	(*(uint32_t *)arg)++;
	return 0;
}

void dd_info(struct dd *dd, struct xgntd_domain_info *out)
{
	struct xgnt_table_info ti;
	struct evport *ep;
	struct conn *c;

	memset(out, 0, sizeof(*out));
	out->domid = dd->domid;
	out->type = dd->type;
	out->privileged = dd->privileged;
	out->vcpus = dd->vcpus;
	out->alive = 1;
	out->nr_handles = dd->nr_handles;
	out->ram_frames = dd->ram_frames;
	if (!xgnt_domain_table_info(dd->d, &ti)) {
		out->nr_grant_frames = ti.nr_grant_frames;
		out->max_grant_frames = ti.max_grant_frames;
		out->nr_active = ti.nr_active;
		out->nr_mappings = ti.nr_mappings;
	}
	xgnt_domain_walk_grants(dd->d, count_grant, &out->nr_grants);
	for (ep = dd->ports; ep; ep = ep->next)
		if (ep->owner)
			out->nr_ports++;
	out->events_sent = dd->events_sent;
	out->events_delivered = dd->events_delivered;
	/* and those that went past the daemon, bell to bell */
	for (c = dd->dmn->conns; c; c = c->next) {
		const struct xgntd_bell_hdr *bh = c->bell;

		if (c->dd != dd || !bh)
			continue;
		out->events_sent += __atomic_load_n(&bh->sent, __ATOMIC_RELAXED);
		out->events_delivered += __atomic_load_n(&bh->delivered, __ATOMIC_RELAXED);
	}
	out->hypercalls = dd->hypercalls;
}

void dd_notify_watchers(struct daemon *dmn, struct dd *dd, bool alive)
{
	struct xgntd_domain_info info;
	struct conn *c, *next;

	if (alive) {
		dd_info(dd, &info);
	} else {
		memset(&info, 0, sizeof(info));
		info.domid = dd->domid;
		info.type = dd->type;
		info.privileged = dd->privileged;
	}
	for (c = dmn->conns; c; c = next) {
		next = c->next;
		if (c->watching &&
		    conn_send(c, XGNTD_CTL_EVENT_DOMAIN, 0, 0, &info, sizeof(info), NULL, 0))
			conn_close(c);
	}
}
