/* SPDX-License-Identifier: MIT */
/*
 * The xgnt backend: the scenarios against an in-process machine whose
 * domain 0 is a privileged PV domain with one vCPU, standing in for real
 * Xen's dom0. What the Linux kernel does there is done here by the guest
 * library, as a kernel would: its grant table set up (v1, one frame, grown
 * on demand), the FIFO event-channel ABI, gntalloc's grants (a fresh page
 * granted to domid 0), gntdev's mappings (on PV Linux: a user mapping and a
 * kernel mapping of the grant, two host pins), evtchn's ports.
 */
#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgnt/hv.h>
#include <xgnt/guest.h>
#include <xgnt/evtchn.h>

static struct xgnt_machine *m;
static struct xgnt_domain *d0;
static struct xgnt_vcpu *v0;
static struct xgnt_guest *g;
static _Alignas(4096) uint8_t hpages[HBUF_PAGES][4096];

/* Ports bound through the "device", and which fired since the last poll. */
#define MAX_FIRED 256
static evtchn_port_t fired[MAX_FIRED];
static int nfired;

struct devmap {
	void *va;                    /* two pages of room: user and kernel mapping */
	grant_handle_t h[2];
};

static long x_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
	return xgnt_grant_table_op(v0, cmd, uop, count);
}

static long x_memory_op(unsigned int cmd, void *arg)
{
	return xgnt_memory_op(v0, cmd, arg);
}

static long x_event_channel_op(int cmd, void *arg)
{
	return xgnt_event_channel_op(v0, cmd, arg);
}

static long x_vcpu_op(int cmd, unsigned int vcpuid, void *arg)
{
	return xgnt_vcpu_op(v0, cmd, vcpuid, arg);
}

static void *x_hbuf(unsigned int i)
{
	return hpages[i];
}

static int x_init(void)
{
	struct xgnt_machine_config mc = { .nr_frames = 65536 };
	/* Real Xen's dom0 here: PV, privileged, 1 vCPU, Xen's defaults of 64
	 * grant frames and 1024 maptrack frames. */
	struct xgnt_domain_config dc = {
		.domid = 0, .type = XGNT_DOMAIN_PV, .ram_frames = 4096, .ext_frames = 16384,
		.nr_vcpus = 1, .privileged = true,
	};
	int rc;

	m = xgnt_machine_create(&mc);
	if (!m)
		return -errno;
	d0 = xgnt_domain_create(m, &dc);
	if (!d0)
		return -errno;
	v0 = xgnt_domain_vcpu(d0, 0);
	g = xgnt_guest_create_inproc(d0);
	if (!g)
		return -ENOMEM;
	rc = xgnt_gnttab_init(g, 1);
	if (rc)
		return rc;
	rc = xgnt_evtchn_init(g, 0);
	if (rc)
		return rc;
	/* Linux's FIFO event array starts with every port masked (its
	 * init_array_page); the guest library's starts unmasked. Ports the
	 * runner makes with raw hypercalls must behave as under Linux: an
	 * event on them stays pending, unlinked, and the port can be reused
	 * once closed. Page 0 of the array covers every port used here. */
	for (evtchn_port_t p = 1; p < 1024; p++)
		xgnt_evtchn_mask(g, p);
	return 0;
}

/* xgnt's invariants after every scenario ran (pins, maptrack, frame
 * references, GTF_reading/GTF_writing), then everything torn down. */
static int x_fini(void)
{
	char why[256];
	int rc = xgnt_machine_check(m, XGNT_CHECK_GTF, why, sizeof(why));

	if (rc)
		fprintf(stderr, "xgnt backend: invariant broken: %s\n", why);
	xgnt_guest_destroy(g);
	xgnt_machine_destroy(m);
	return rc;
}

static int x_grant_alloc(domid_t to, bool readonly, grant_ref_t *ref, void **page)
{
	void *p = xgnt_page_alloc(g, 1);
	int rc;

	if (!p)
		return -ENOMEM;
	memset(p, 0, 4096);
	rc = xgnt_grant_access(g, to, xgnt_guest_frame(g, p), readonly, ref);
	if (rc) {
		xgnt_page_free(g, p, 1);
		return rc;
	}
	*page = p;
	return 0;
}

static void release_page(void *page, void *arg)
{
	(void)arg;
	xgnt_page_free(g, page, 1);
}

static int x_grant_free(grant_ref_t ref, void *page)
{
	/* gntalloc: end access now, or later once the mapper is done */
	xgnt_end_access_deferred(g, ref, release_page, page, NULL);
	return 0;
}

struct find {
	grant_ref_t ref;
	const struct xgnt_grant_info *out;
	struct xgnt_grant_info info;
};

static int find_cb(const struct xgnt_grant_info *gi, void *arg)
{
	struct find *f = arg;

	if (gi->ref != f->ref)
		return 0;
	f->info = *gi;
	return 1;
}

static int x_entry(grant_ref_t ref, uint16_t *flags, domid_t *domid, uint64_t *frame)
{
	struct find f = { .ref = ref };

	if (xgnt_domain_walk_grants(d0, find_cb, &f) == 1) {
		*flags = f.info.flags;
		*domid = f.info.domid;
		*frame = f.info.frame;
	} else {
		*flags = 0;
		*domid = 0;
		*frame = 0;
	}
	return 0;
}

static int x_dev_map(domid_t dom, grant_ref_t ref, bool readonly, void **cookie, void **addr)
{
	struct devmap *dm = calloc(1, sizeof(*dm));
	struct gnttab_map_grant_ref op[2];
	int rc;

	if (!dm)
		return -ENOMEM;
	dm->va = xgnt_unpopulated_alloc(g, 2);
	if (!dm->va) {
		free(dm);
		return -ENOMEM;
	}
	for (int i = 0; i < 2; i++)
		op[i] = (struct gnttab_map_grant_ref){
			.host_addr = xgnt_guest_addr(g, (char *)dm->va + i * 4096),
			.flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0),
			.ref = ref, .dom = dom,
		};
	rc = (int)xgnt_grant_table_op(v0, GNTTABOP_map_grant_ref, op, 2);
	if (!rc && (op[0].status || op[1].status)) {
		/* gntdev: -EINVAL when any op failed, the others undone */
		for (int i = 0; i < 2; i++)
			if (op[i].status == GNTST_okay) {
				struct gnttab_unmap_grant_ref u = {
					.host_addr = op[i].host_addr, .handle = op[i].handle,
				};

				xgnt_grant_table_op(v0, GNTTABOP_unmap_grant_ref, &u, 1);
			}
		rc = -EINVAL;
	}
	if (rc) {
		xgnt_unpopulated_free(g, dm->va, 2);
		free(dm);
		return rc;
	}
	dm->h[0] = op[0].handle;
	dm->h[1] = op[1].handle;
	*cookie = dm;
	*addr = dm->va;
	return 0;
}

static int x_dev_unmap(void *cookie)
{
	struct devmap *dm = cookie;
	struct gnttab_unmap_grant_ref u[2];
	int rc;

	for (int i = 0; i < 2; i++)
		u[i] = (struct gnttab_unmap_grant_ref){
			.host_addr = xgnt_guest_addr(g, (char *)dm->va + i * 4096),
			.handle = dm->h[i],
		};
	rc = (int)xgnt_grant_table_op(v0, GNTTABOP_unmap_grant_ref, u, 2);
	if (!rc && (u[0].status || u[1].status))
		rc = -EINVAL;
	xgnt_unpopulated_free(g, dm->va, 2);
	free(dm);
	return rc;
}

static void on_event(struct xgnt_guest *gg, evtchn_port_t port, void *data)
{
	(void)gg;
	(void)data;
	for (int i = 0; i < nfired; i++)
		if (fired[i] == port)
			return;
	if (nfired < MAX_FIRED)
		fired[nfired++] = port;
}

static int x_ev_bind_unbound(domid_t remote, evtchn_port_t *port)
{
	return xgnt_evtchn_alloc_unbound(g, remote, on_event, NULL, port);
}

static int x_ev_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port)
{
	return xgnt_evtchn_bind_interdomain(g, remote, rport, on_event, NULL, port);
}

static int x_ev_notify(evtchn_port_t port)
{
	return xgnt_evtchn_notify(g, port);
}

static int x_ev_unbind(evtchn_port_t port)
{
	int rc = xgnt_evtchn_unbind(g, port);

	/* what fired on it before is gone with it, as with the kernel's */
	for (int i = 0; i < nfired; i++)
		if (fired[i] == port)
			fired[i--] = fired[--nfired];
	return rc;
}

static int cmp_port(const void *a, const void *b)
{
	evtchn_port_t x = *(const evtchn_port_t *)a, y = *(const evtchn_port_t *)b;

	return x < y ? -1 : x > y;
}

static int x_ev_poll(evtchn_port_t *ports, int max)
{
	int n;

	while (xgnt_evtchn_poll(g, 0) > 0)
		;
	n = nfired < max ? nfired : max;
	memcpy(ports, fired, sizeof(ports[0]) * (size_t)n);
	nfired = 0;
	qsort(ports, (size_t)n, sizeof(ports[0]), cmp_port);
	return n;
}

/* ---- a second domain ---------------------------------------------------------
 * Created as the toolstack creates one on real Xen: PV, one vCPU, 4 grant
 * frames, 128 maptrack frames, never running. Its grant frame 0 is placed
 * in its own address space (setup_table and update_va_mapping on its vCPU)
 * so that dom0's writes, which real Xen's dom0 makes through a foreign
 * mapping, can be made here through the domain's window. */

#define MAX_DOMS 4
static struct xdom {
	struct xgnt_domain *d;
	grant_entry_v1_t *gt;
	unsigned int pages;
} doms[MAX_DOMS];

static struct xdom *find_dom(domid_t id)
{
	for (int i = 0; i < MAX_DOMS; i++)
		if (doms[i].d && xgnt_domain_id(doms[i].d) == id)
			return &doms[i];
	return NULL;
}

static int x_dom_create(domid_t id, unsigned int pages)
{
	struct xgnt_domain_config dc = {
		.domid = id, .type = XGNT_DOMAIN_PV, .ram_frames = pages, .ext_frames = 64,
		.nr_vcpus = 1, .max_grant_frames = 4, .max_maptrack_frames = 128,
		.max_evtchn_port = 1023,
	};
	struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };
	struct xgnt_domain_layout l;
	struct xdom *x = NULL;
	xen_pfn_t frame;
	long rc;

	for (int i = 0; i < MAX_DOMS; i++)
		if (!doms[i].d) {
			x = &doms[i];
			break;
		}
	if (!x)
		return -ENOSPC;
	x->d = xgnt_domain_create(m, &dc);
	if (!x->d)
		return -errno;
	x->pages = pages;
	set_xen_guest_handle(st.frame_list, &frame);
	rc = xgnt_grant_table_op(xgnt_domain_vcpu(x->d, 0), GNTTABOP_setup_table, &st, 1);
	if (!rc && st.status)
		rc = -EIO;
	xgnt_domain_layout(x->d, &l);
	if (!rc)
		rc = xgnt_update_va_mapping(xgnt_domain_vcpu(x->d, 0), l.ext_base, frame,
					    XGNT_PROT_READ | XGNT_PROT_WRITE);
	if (rc) {
		xgnt_domain_destroy(x->d);
		x->d = NULL;
		return (int)rc;
	}
	x->gt = xgnt_domain_va(x->d, l.ext_base);
	return 0;
}

static int x_dom_destroy(domid_t id)
{
	struct xdom *x = find_dom(id);
	int rc;

	if (!x)
		return -ENOENT;
	rc = xgnt_domain_destroy(x->d);
	x->d = NULL;
	return rc;
}

static int x_dom_grant(domid_t id, grant_ref_t ref, unsigned int page, domid_t to, bool ro,
		       uint16_t flags, uint64_t *frame, void **va)
{
	struct xdom *x = find_dom(id);
	grant_entry_v1_t *e;

	if (!x || page >= x->pages || ref >= 512)
		return -EINVAL;
	e = x->gt + ref;
	if (*frame == ~(uint64_t)0)
		*frame = xgnt_domain_pfn_to_mfn(x->d, page);
	e->frame = (uint32_t)*frame;
	e->domid = to;
	if (!flags)
		flags = (uint16_t)(GTF_permit_access | (ro ? GTF_readonly : 0));
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
	*va = xgnt_domain_va(x->d, (uint64_t)page << 12);
	return 0;
}

static int x_dom_entry(domid_t id, grant_ref_t ref, uint16_t *flags, domid_t *domid,
		       uint64_t *frame)
{
	struct xdom *x = find_dom(id);
	const volatile grant_entry_v1_t *e;

	if (!x || ref >= 512)
		return -EINVAL;
	e = x->gt + ref;
	*flags = e->flags;
	*domid = e->domid;
	*frame = e->frame;
	return 0;
}

static int x_dom_ungrant(domid_t id, grant_ref_t ref)
{
	struct xdom *x = find_dom(id);
	uint16_t *f;

	if (!x || ref >= 512)
		return -EINVAL;
	f = &(x->gt + ref)->flags;
	for (uint16_t old = __atomic_load_n(f, __ATOMIC_ACQUIRE);;) {
		if (old & (GTF_reading | GTF_writing))
			return -EBUSY;
		if (__atomic_compare_exchange_n(f, &old, 0, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return 0;
	}
}

const struct backend backend_impl = {
	.name = "xgnt",
	.init = x_init,
	.fini = x_fini,
	.grant_table_op = x_grant_table_op,
	.memory_op = x_memory_op,
	.event_channel_op = x_event_channel_op,
	.vcpu_op = x_vcpu_op,
	.grant_alloc = x_grant_alloc,
	.grant_free = x_grant_free,
	.entry = x_entry,
	.dev_map = x_dev_map,
	.dev_unmap = x_dev_unmap,
	.ev_bind_unbound = x_ev_bind_unbound,
	.ev_bind_interdomain = x_ev_bind_interdomain,
	.ev_notify = x_ev_notify,
	.ev_unbind = x_ev_unbind,
	.ev_poll = x_ev_poll,
	.dom_create = x_dom_create,
	.dom_destroy = x_dom_destroy,
	.dom_grant = x_dom_grant,
	.dom_entry = x_dom_entry,
	.dom_ungrant = x_dom_ungrant,
	.hbuf = x_hbuf,
};
