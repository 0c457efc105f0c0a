/* SPDX-License-Identifier: MIT */
/*
 * The real-Xen backend: runs in a PV dom0 as a static program. Raw
 * hypercalls go through privcmd; pages granted to dom0 come from gntalloc,
 * kernel-owned mappings from gntdev, kernel-owned event channels from
 * /dev/xen/evtchn. Dom0's shared grant entries are read through a read-only
 * privcmd mapping of the table's frames (GNTTABOP_setup_table for the
 * current size gives their MFNs and changes nothing).
 * Built with gcc -static against libc and Xen's public headers only.
 */
#define __XEN_TOOLS__ 1   /* domctl.h */
#include "backend.h"

#include <xen/domctl.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/sys/privcmd.h>
#include <xen/sys/gntalloc.h>
#include <xen/sys/gntdev.h>
#include <xen/sys/evtchn.h>

static int privcmd = -1, gntalloc = -1, gntdev = -1, evtchn = -1;
static void *hpages;

/* Grant-table frames mapped read-only, and how many. */
static void *gt_va;
static unsigned int gt_nr;

/* gntalloc's mmap index of each page we granted. */
static struct { grant_ref_t ref; uint64_t index; void *page; } grants[64];

struct devmap {
	uint64_t index;
	void *addr;
};

static long hypercall(unsigned int op, uint64_t a0, uint64_t a1, uint64_t a2)
{
	privcmd_hypercall_t h = { .op = op, .arg = { a0, a1, a2 } };
	long rc = ioctl(privcmd, IOCTL_PRIVCMD_HYPERCALL, &h);

	return rc == -1 ? -errno : rc;
}

static long xen_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
	return hypercall(__HYPERVISOR_grant_table_op, cmd, (uintptr_t)uop, count);
}

static long xen_memory_op(unsigned int cmd, void *arg)
{
	return hypercall(__HYPERVISOR_memory_op, cmd, (uintptr_t)arg, 0);
}

static long xen_event_channel_op(int cmd, void *arg)
{
	return hypercall(__HYPERVISOR_event_channel_op, (unsigned int)cmd, (uintptr_t)arg, 0);
}

static long xen_vcpu_op(int cmd, unsigned int vcpuid, void *arg)
{
	return hypercall(__HYPERVISOR_vcpu_op, (unsigned int)cmd, vcpuid, (uintptr_t)arg);
}

static void *xen_hbuf(unsigned int i)
{
	return (char *)hpages + (size_t)i * 4096;
}

/* Map the table's current frames (again, if it grew) read-only. */
static int map_table(void)
{
	struct gnttab_query_size *q = xen_hbuf(6);
	struct gnttab_setup_table *st = xen_hbuf(6);
	xen_pfn_t *frames = xen_hbuf(7);
	privcmd_mmapbatch_v2_t mb;
	int err[64];
	unsigned int n;
	void *va;
	long rc;

	q->dom = DOMID_SELF;
	rc = xen_grant_table_op(GNTTABOP_query_size, q, 1);
	if (rc || q->status)
		return rc ? (int)rc : -EIO;
	n = q->nr_frames;
	if (n > 64)
		return -E2BIG;
	memset(st, 0, sizeof(*st));
	st->dom = DOMID_SELF;
	st->nr_frames = n;
	set_xen_guest_handle(st->frame_list, frames);
	rc = xen_grant_table_op(GNTTABOP_setup_table, st, 1);
	if (rc || st->status)
		return rc ? (int)rc : -EIO;
	va = mmap(NULL, (size_t)n * 4096, PROT_READ, MAP_SHARED, privcmd, 0);
	if (va == MAP_FAILED)
		return -errno;
	mb = (privcmd_mmapbatch_v2_t){ .num = n, .dom = DOMID_SELF, .addr = (uintptr_t)va,
				       .arr = frames, .err = err };
	if (ioctl(privcmd, IOCTL_PRIVCMD_MMAPBATCH_V2, &mb)) {
		rc = -errno;
		munmap(va, (size_t)n * 4096);
		return (int)rc;
	}
	if (gt_va)
		munmap(gt_va, (size_t)gt_nr * 4096);
	gt_va = va;
	gt_nr = n;
	return 0;
}

static int xen_entry(grant_ref_t ref, uint16_t *flags, domid_t *domid, uint64_t *frame)
{
	const volatile grant_entry_v1_t *e;

	if (ref / 512 >= gt_nr) {
		int rc = map_table();

		if (rc)
			return rc;
		if (ref / 512 >= gt_nr)
			return -ERANGE;
	}
	e = (const volatile grant_entry_v1_t *)gt_va + ref;
	*flags = e->flags;
	*domid = e->domid;
	*frame = e->frame;
	return 0;
}

static int xen_init(void)
{
	int rc;

	privcmd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
	gntalloc = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
	gntdev = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
	evtchn = open("/dev/xen/evtchn", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (privcmd < 0 || gntalloc < 0 || gntdev < 0 || evtchn < 0) {
		fprintf(stderr, "xen backend: cannot open /dev/xen/*: %s\n", strerror(errno));
		return -ENODEV;
	}
	/* Hypercall arguments must not fault in Xen: lock everything. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		return -errno;
	hpages = mmap(NULL, HBUF_PAGES * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (hpages == MAP_FAILED)
		return -errno;
	rc = map_table();
	if (rc)
		fprintf(stderr, "xen backend: cannot map the grant table: %s\n", strerror(-rc));
	return rc;
}

static int xen_fini(void)
{
	return 0;
}

static int xen_grant_alloc(domid_t to, bool readonly, grant_ref_t *ref, void **page)
{
	struct ioctl_gntalloc_alloc_gref a = {
		.domid = to, .flags = readonly ? 0 : GNTALLOC_FLAG_WRITABLE, .count = 1,
	};
	unsigned int slot;
	void *p;

	for (slot = 0; slot < 64 && grants[slot].page; slot++)
		;
	if (slot == 64)
		return -ENOSPC;
	if (ioctl(gntalloc, IOCTL_GNTALLOC_ALLOC_GREF, &a))
		return -errno;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, gntalloc, (off_t)a.index);
	if (p == MAP_FAILED) {
		int e = -errno;
		struct ioctl_gntalloc_dealloc_gref d = { .index = a.index, .count = 1 };

		ioctl(gntalloc, IOCTL_GNTALLOC_DEALLOC_GREF, &d);
		return e;
	}
	grants[slot].ref = a.gref_ids[0];
	grants[slot].index = a.index;
	grants[slot].page = p;
	*ref = a.gref_ids[0];
	*page = p;
	return 0;
}

static int xen_grant_free(grant_ref_t ref, void *page)
{
	for (unsigned int i = 0; i < 64; i++) {
		if (grants[i].page && grants[i].ref == ref) {
			struct ioctl_gntalloc_dealloc_gref d = { .index = grants[i].index, .count = 1 };
			int rc = 0;

			munmap(grants[i].page, 4096);
			if (ioctl(gntalloc, IOCTL_GNTALLOC_DEALLOC_GREF, &d))
				rc = -errno;
			grants[i].page = NULL;
			return rc;
		}
	}
	(void)page;
	return -ENOENT;
}

static int xen_dev_map(domid_t dom, grant_ref_t ref, bool readonly, void **cookie, void **addr)
{
	struct ioctl_gntdev_map_grant_ref m = { .count = 1, .refs = { { .domid = dom, .ref = ref } } };
	struct ioctl_gntdev_unmap_grant_ref u;
	struct devmap *dm;
	void *p;
	int rc;

	if (ioctl(gntdev, IOCTL_GNTDEV_MAP_GRANT_REF, &m))
		return -errno;
	p = mmap(NULL, 4096, PROT_READ | (readonly ? 0 : PROT_WRITE), MAP_SHARED, gntdev,
		 (off_t)m.index);
	if (p == MAP_FAILED) {
		rc = -errno;
		u = (struct ioctl_gntdev_unmap_grant_ref){ .index = m.index, .count = 1 };
		ioctl(gntdev, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u);
		return rc;
	}
	dm = malloc(sizeof(*dm));
	if (!dm)
		abort();
	dm->index = m.index;
	dm->addr = p;
	*cookie = dm;
	*addr = p;
	return 0;
}

static int xen_dev_unmap(void *cookie)
{
	struct devmap *dm = cookie;
	struct ioctl_gntdev_unmap_grant_ref u = { .index = dm->index, .count = 1 };
	int rc = 0;

	munmap(dm->addr, 4096);
	if (ioctl(gntdev, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u))
		rc = -errno;
	free(dm);
	return rc;
}

static int xen_ev_bind_unbound(domid_t remote, evtchn_port_t *port)
{
	struct ioctl_evtchn_bind_unbound_port b = { .remote_domain = remote };
	int rc = ioctl(evtchn, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &b);

	if (rc < 0)
		return -errno;
	*port = (evtchn_port_t)rc;
	return 0;
}

static int xen_ev_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port)
{
	struct ioctl_evtchn_bind_interdomain b = { .remote_domain = remote, .remote_port = rport };
	int rc = ioctl(evtchn, IOCTL_EVTCHN_BIND_INTERDOMAIN, &b);

	if (rc < 0)
		return -errno;
	*port = (evtchn_port_t)rc;
	return 0;
}

static int xen_ev_notify(evtchn_port_t port)
{
	struct ioctl_evtchn_notify n = { .port = port };

	return ioctl(evtchn, IOCTL_EVTCHN_NOTIFY, &n) < 0 ? -errno : 0;
}

static int xen_ev_unbind(evtchn_port_t port)
{
	struct ioctl_evtchn_unbind u = { .port = port };

	return ioctl(evtchn, IOCTL_EVTCHN_UNBIND, &u) < 0 ? -errno : 0;
}

static int cmp_port(const void *a, const void *b)
{
	evtchn_port_t x = *(const evtchn_port_t *)a, y = *(const evtchn_port_t *)b;

	return x < y ? -1 : x > y;
}

static int xen_ev_poll(evtchn_port_t *ports, int max)
{
	struct pollfd pfd = { .fd = evtchn, .events = POLLIN };
	evtchn_port_t buf[64];
	int n = 0;

	/* Delivery is synchronous with the hypercall on one vCPU; the wait
	 * only covers a slow upcall. */
	poll(&pfd, 1, 20);
	for (;;) {
		ssize_t r = read(evtchn, buf, sizeof(buf));

		if (r <= 0)
			break;
		for (int i = 0; i < (int)(r / (ssize_t)sizeof(buf[0])); i++) {
			bool dup = false;

			for (int j = 0; j < n; j++)
				dup |= ports[j] == buf[i];
			if (!dup && n < max)
				ports[n++] = buf[i];
		}
		/* unmask again, as libxenevtchn's users do */
		if (write(evtchn, buf, (size_t)r) < 0)
			break;
	}
	qsort(ports, (size_t)n, sizeof(ports[0]), cmp_port);
	return n;
}

/* ---- a second domain (the toolstack's part, reduced) ---------------------- */

#define MAX_DOMS 4
#define MAX_DOM_PAGES 16
static struct xdom {
	domid_t id;
	bool used;
	unsigned int pages;
	xen_pfn_t mfn[MAX_DOM_PAGES];
	void *ram;                   /* its pages, mapped foreign */
	void *gt;                    /* its grant frame 0, mapped foreign */
} doms[MAX_DOMS];

static struct xdom *find_dom(domid_t id)
{
	for (int i = 0; i < MAX_DOMS; i++)
		if (doms[i].used && doms[i].id == id)
			return &doms[i];
	return NULL;
}

static long domctl(struct xen_domctl *d)
{
	d->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	return hypercall(__HYPERVISOR_domctl, (uintptr_t)d, 0, 0);
}

/* Map n frames of domain dom read-write at a new address (privcmd). */
static void *map_foreign(domid_t dom, const xen_pfn_t *frames, unsigned int n)
{
	xen_pfn_t *arr = xen_hbuf(4);
	int err[MAX_DOM_PAGES];
	privcmd_mmapbatch_v2_t mb;
	void *va = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, privcmd, 0);

	if (va == MAP_FAILED)
		return NULL;
	memcpy(arr, frames, n * sizeof(*arr));
	mb = (privcmd_mmapbatch_v2_t){ .num = n, .dom = dom, .addr = (uintptr_t)va,
				       .arr = arr, .err = err };
	if (ioctl(privcmd, IOCTL_PRIVCMD_MMAPBATCH_V2, &mb)) {
		munmap(va, (size_t)n * 4096);
		return NULL;
	}
	return va;
}

static int xen_dom_destroy(domid_t id)
{
	struct xdom *x = find_dom(id);
	struct xen_domctl *d = xen_hbuf(5);
	long rc;

	if (!x)
		return -ENOENT;
	if (x->ram)
		munmap(x->ram, (size_t)x->pages * 4096);
	if (x->gt)
		munmap(x->gt, 4096);
	memset(d, 0, sizeof(*d));
	d->cmd = XEN_DOMCTL_destroydomain;
	d->domain = id;
	do
		rc = domctl(d);
	while (rc == -EAGAIN || rc == -ERESTART);
	memset(x, 0, sizeof(*x));
	return (int)rc;
}

static int xen_dom_create(domid_t id, unsigned int pages)
{
	struct xen_domctl *d = xen_hbuf(5);
	struct xen_memory_reservation *r = xen_hbuf(3);
	struct gnttab_setup_table *st = xen_hbuf(3);
	xen_pfn_t *list = xen_hbuf(2);
	struct xdom *x = NULL;
	xen_pfn_t gtf;
	long rc;

	for (int i = 0; i < MAX_DOMS; i++)
		if (!doms[i].used) {
			x = &doms[i];
			break;
		}
	if (!x || pages > MAX_DOM_PAGES)
		return -ENOSPC;
	memset(d, 0, sizeof(*d));
	d->cmd = XEN_DOMCTL_createdomain;
	d->domain = id;
	d->u.createdomain.max_vcpus = 1;
	d->u.createdomain.max_evtchn_port = 1023;
	d->u.createdomain.max_grant_frames = 4;
	d->u.createdomain.max_maptrack_frames = 128;
	d->u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
	rc = domctl(d);
	if (rc)
		return (int)rc;
	x->used = true;
	x->id = id;
	memset(d, 0, sizeof(*d));
	d->cmd = XEN_DOMCTL_max_vcpus;
	d->domain = id;
	d->u.max_vcpus.max = 1;
	if ((rc = domctl(d)))
		goto fail;
	memset(d, 0, sizeof(*d));
	d->cmd = XEN_DOMCTL_max_mem;
	d->domain = id;
	d->u.max_mem.max_memkb = (uint64_t)(pages + 4) * 4;
	if ((rc = domctl(d)))
		goto fail;
	for (unsigned int i = 0; i < pages; i++)
		list[i] = i;
	memset(r, 0, sizeof(*r));
	set_xen_guest_handle(r->extent_start, list);
	r->nr_extents = pages;
	r->domid = id;
	rc = xen_memory_op(XENMEM_populate_physmap, r);
	if (rc != (long)pages) {
		rc = rc < 0 ? rc : -ENOMEM;
		goto fail;
	}
	x->pages = pages;
	memcpy(x->mfn, list, pages * sizeof(list[0]));   /* PV: the MFNs */
	memset(st, 0, sizeof(*st));
	st->dom = id;
	st->nr_frames = 1;
	set_xen_guest_handle(st->frame_list, list);
	rc = xen_grant_table_op(GNTTABOP_setup_table, st, 1);
	if (rc || st->status) {
		rc = rc ? rc : -EIO;
		goto fail;
	}
	gtf = list[0];
	x->ram = map_foreign(id, x->mfn, pages);
	x->gt = map_foreign(id, &gtf, 1);
	if (!x->ram || !x->gt) {
		rc = -EFAULT;
		goto fail;
	}
	memset(x->ram, 0, (size_t)pages * 4096);
	return 0;
fail:
	xen_dom_destroy(id);
	return (int)rc;
}

static int xen_dom_grant(domid_t id, grant_ref_t ref, unsigned int page, domid_t to, bool ro,
			 uint16_t flags, uint64_t *frame, void **va)
{
	struct xdom *x = find_dom(id);
	grant_entry_v1_t *e;

	if (!x || page >= x->pages || ref >= 512)
		return -EINVAL;
	e = (grant_entry_v1_t *)x->gt + ref;
	if (*frame == ~(uint64_t)0)
		*frame = x->mfn[page];
	e->frame = (uint32_t)*frame;
	e->domid = to;
	if (!flags)
		flags = (uint16_t)(GTF_permit_access | (ro ? GTF_readonly : 0));
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
	*va = (char *)x->ram + (size_t)page * 4096;
	return 0;
}

static int xen_dom_entry(domid_t id, grant_ref_t ref, uint16_t *flags, domid_t *domid,
			 uint64_t *frame)
{
	struct xdom *x = find_dom(id);
	const volatile grant_entry_v1_t *e;

	if (!x || ref >= 512)
		return -EINVAL;
	e = (const volatile grant_entry_v1_t *)x->gt + ref;
	*flags = e->flags;
	*domid = e->domid;
	*frame = e->frame;
	return 0;
}

static int xen_dom_ungrant(domid_t id, grant_ref_t ref)
{
	struct xdom *x = find_dom(id);
	uint16_t *f;

	if (!x || ref >= 512)
		return -EINVAL;
	f = &((grant_entry_v1_t *)x->gt + ref)->flags;
	/* as a guest ends access: only while not in use */
	for (uint16_t old = __atomic_load_n(f, __ATOMIC_ACQUIRE);;) {
		if (old & (GTF_reading | GTF_writing))
			return -EBUSY;
		if (__atomic_compare_exchange_n(f, &old, 0, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return 0;
	}
}

const struct backend backend_impl = {
	.name = "xen",
	.init = xen_init,
	.fini = xen_fini,
	.grant_table_op = xen_grant_table_op,
	.memory_op = xen_memory_op,
	.event_channel_op = xen_event_channel_op,
	.vcpu_op = xen_vcpu_op,
	.grant_alloc = xen_grant_alloc,
	.grant_free = xen_grant_free,
	.entry = xen_entry,
	.dev_map = xen_dev_map,
	.dev_unmap = xen_dev_unmap,
	.ev_bind_unbound = xen_ev_bind_unbound,
	.ev_bind_interdomain = xen_ev_bind_interdomain,
	.ev_notify = xen_ev_notify,
	.ev_unbind = xen_ev_unbind,
	.ev_poll = xen_ev_poll,
	.dom_create = xen_dom_create,
	.dom_destroy = xen_dom_destroy,
	.dom_grant = xen_dom_grant,
	.dom_entry = xen_dom_entry,
	.dom_ungrant = xen_dom_ungrant,
	.hbuf = xen_hbuf,
};
