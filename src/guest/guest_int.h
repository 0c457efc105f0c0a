/* SPDX-License-Identifier: MIT */
/*
 * The guest library's private state. The grant-table (gnttab.c) and
 * event-channel (evtchn.c) parts hang their own state off the context.
 * Nothing here includes the hypervisor's internals: the guest reaches it
 * only through its port.
 */
#ifndef XGNT_GUEST_INT_H
#define XGNT_GUEST_INT_H

#include <xgnt/guest.h>

#include "../plat/plat.h"

struct gnttab_state;   /* gnttab.c */
struct evtchn_state;   /* evtchn.c */

struct xgnt_guest {
	/* Immutable after creation. */
	struct xgnt_port *port;
	struct xgnt_guest_info info;
	uint32_t ram_pages, ext_pages;

	/*
	 * mem_lock protects the page allocators: which RAM pages the guest
	 * kernel uses (ram_used), which are ballooned out (ballooned), which
	 * extended-region pages are taken (ext_used), and mfn_list (PV).
	 */
	plat_mutex_t mem_lock;
	uint64_t *ram_used;
	uint64_t *ballooned;
	uint64_t *ext_used;
	xen_pfn_t *mfn_list;

	struct gnttab_state *gt;
	struct evtchn_state *ev;
};

/* vCPU the calling thread acts on for g (0 when not bound to g). */
unsigned int guest_vcpu(struct xgnt_guest *g);

/* gnttab.c / evtchn.c teardown, called by xgnt_guest_destroy. */
void gnttab_guest_fini(struct xgnt_guest *g);
void evtchn_guest_fini(struct xgnt_guest *g);

#endif
