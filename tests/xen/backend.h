/* SPDX-License-Identifier: MIT */
/*
 * The differential runner's backend interface: what a scenario step needs
 * from "dom0 on some hypervisor". Two implementations: backend_xen.c (a
 * static program in real Xen's dom0: privcmd, gntalloc, gntdev, evtchn) and
 * backend_xgnt.c (the embedding API, a PV privileged domain 0).
 */
#ifndef XGNT_XEN_BACKEND_H
#define XGNT_XEN_BACKEND_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/vcpu.h>

struct backend {
	const char *name;
	/* 0 or -errno */
	int (*init)(void);
	/* 0, or -errno if the backend found something wrong at the end */
	int (*fini)(void);

	/* Raw hypercalls from dom0's vCPU 0: Xen's arguments and results.
	 * Argument memory comes from hbuf (reachable by the hypervisor). */
	long (*grant_table_op)(unsigned int cmd, void *uop, unsigned int count);
	long (*memory_op)(unsigned int cmd, void *arg);
	long (*event_channel_op)(int cmd, void *arg);
	long (*vcpu_op)(int cmd, unsigned int vcpuid, void *arg);

	/* What the kernel owns on Linux: a fresh zeroed page granted to domid
	 * to (gntalloc). 0 and *ref, *page (the page, writable), or -errno. */
	int (*grant_alloc)(domid_t to, bool readonly, grant_ref_t *ref, void **page);
	int (*grant_free)(grant_ref_t ref, void *page);
	/* Dom0's shared entry ref as the hypervisor sees it. flags 0 for an
	 * unused entry. 0 or -errno. */
	int (*entry)(grant_ref_t ref, uint16_t *flags, domid_t *domid, uint64_t *frame);

	/* A foreign mapping the kernel makes and owns (gntdev): ref of domid
	 * dom, readonly or not. 0 and *cookie, or -errno. */
	int (*dev_map)(domid_t dom, grant_ref_t ref, bool readonly, void **cookie, void **addr);
	int (*dev_unmap)(void *cookie);

	/* Kernel-owned event channels (/dev/xen/evtchn): bound, unmasked,
	 * their events counted. */
	int (*ev_bind_unbound)(domid_t remote, evtchn_port_t *port);
	int (*ev_bind_interdomain)(domid_t remote, evtchn_port_t rport, evtchn_port_t *port);
	int (*ev_notify)(evtchn_port_t port);
	int (*ev_unbind)(evtchn_port_t port);
	/* Ports that fired since the last call (each once), sorted; count. */
	int (*ev_poll)(evtchn_port_t *ports, int max);

	/*
	 * A second domain, made the way a toolstack starts one (real Xen:
	 * XEN_DOMCTL_createdomain of a PV domain with one vCPU, 4 grant
	 * frames, max_mem and populate_physmap of pages frames; it never
	 * runs). Dom0 writes its grant entries as a toolstack seeds them
	 * (through a foreign mapping of its grant frame). 0 or -errno.
	 */
	int (*dom_create)(domid_t id, unsigned int pages);
	int (*dom_destroy)(domid_t id);
	/* Entry ref of domain id grants its page to domid to, with flags
	 * (GTF_permit_access [| GTF_readonly] by default: flags 0); *frame
	 * is the frame written (the page's, unless *frame is not ~0 on
	 * entry: then that one), *va the page as dom0 sees it. */
	int (*dom_grant)(domid_t id, grant_ref_t ref, unsigned int page, domid_t to, bool ro,
			 uint16_t flags, uint64_t *frame, void **va);
	int (*dom_entry)(domid_t id, grant_ref_t ref, uint16_t *flags, domid_t *domid,
			 uint64_t *frame);
	int (*dom_ungrant)(domid_t id, grant_ref_t ref);

	/* Page i (< HBUF_PAGES) of hypercall argument memory, locked. */
	void *(*hbuf)(unsigned int i);
};
#define HBUF_PAGES 8

extern const struct backend backend_impl;

#endif
