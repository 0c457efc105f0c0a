/* SPDX-License-Identifier: MIT */
/*
 * The guest context: its port, what it knows about itself, thread binding,
 * address translation, and the two page allocators a guest kernel has (its
 * RAM, and room for foreign mappings: the extended region or ballooned
 * RAM). Also the in-process port over <xgnt/hv.h>.
 */
#include "guest_int.h"

#include <errno.h>
#include <string.h>

#include <xgnt/hv.h>

static _Thread_local struct {
	struct xgnt_guest *g;
	unsigned int vcpu;
} current;

/* ---- the in-process port ---------------------------------------------------- */

struct inproc_port {
	struct xgnt_port port;
	struct xgnt_domain *d;
};

static struct xgnt_vcpu *vcpu_of(struct xgnt_port *p, unsigned int vcpu)
{
	return xgnt_domain_vcpu(((struct inproc_port *)p)->d, vcpu);
}

static long ip_grant_table_op(struct xgnt_port *p, unsigned int vcpu, unsigned int cmd,
			      void *uop, unsigned int count)
{
	return xgnt_grant_table_op(vcpu_of(p, vcpu), cmd, uop, count);
}

static long ip_memory_op(struct xgnt_port *p, unsigned int vcpu, unsigned int cmd, void *arg)
{
	return xgnt_memory_op(vcpu_of(p, vcpu), cmd, arg);
}

static long ip_event_channel_op(struct xgnt_port *p, unsigned int vcpu, int cmd, void *arg)
{
	return xgnt_event_channel_op(vcpu_of(p, vcpu), cmd, arg);
}

static long ip_vcpu_op(struct xgnt_port *p, unsigned int vcpu, int cmd, unsigned int vcpuid,
		       void *arg)
{
	return xgnt_vcpu_op(vcpu_of(p, vcpu), cmd, vcpuid, arg);
}

static long ip_update_va_mapping(struct xgnt_port *p, unsigned int vcpu, uint64_t va,
				 xen_pfn_t mfn, unsigned int prot)
{
	return xgnt_update_va_mapping(vcpu_of(p, vcpu), va, mfn, prot);
}

static void *ip_va(struct xgnt_port *p, uint64_t addr)
{
	return xgnt_domain_va(((struct inproc_port *)p)->d, addr);
}

static int ip_upcall_fd(struct xgnt_port *p, unsigned int vcpu)
{
	return xgnt_vcpu_upcall_fd(vcpu_of(p, vcpu));
}

static void ip_destroy(struct xgnt_port *p)
{
	plat_free(p);
}

static const struct xgnt_port_ops inproc_ops = {
	.grant_table_op = ip_grant_table_op,
	.memory_op = ip_memory_op,
	.event_channel_op = ip_event_channel_op,
	.vcpu_op = ip_vcpu_op,
	.update_va_mapping = ip_update_va_mapping,
	.va = ip_va,
	.upcall_fd = ip_upcall_fd,
	.destroy = ip_destroy,
};

struct xgnt_guest *xgnt_guest_create_inproc(struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;
	struct xgnt_guest_info info = { 0 };
	struct inproc_port *p;
	struct xgnt_guest *g;
	xen_pfn_t *mfns = NULL;
	unsigned int n = 0;

	if (!d) {
		errno = EINVAL;
		return NULL;
	}
	xgnt_domain_layout(d, &l);
	info.domid = xgnt_domain_id(d);
	info.translated = xgnt_domain_pfn_to_mfn(d, 0) == INVALID_MFN;
	while (xgnt_domain_vcpu(d, n))
		n++;
	info.nr_vcpus = n;
	info.ram_size = l.ram_size;
	info.ext_base = l.ext_base;
	info.ext_size = l.ext_size;
	info.shared_info_mfn = xgnt_domain_shared_info_mfn(d);
	if (!info.translated) {
		uint64_t i, pages = l.ram_size >> PAGE_SHIFT;

		mfns = plat_calloc(pages, sizeof(*mfns));
		if (!mfns)
			return NULL;
		for (i = 0; i < pages; i++)
			mfns[i] = xgnt_domain_pfn_to_mfn(d, i);
		info.mfn_list = mfns;
	}
	/* Arm guests cannot use v2: the hypervisor answers set_version(2)
	 * with -ENOSYS, which is how the guest learns it. */
	p = plat_calloc(1, sizeof(*p));
	if (!p) {
		plat_free(mfns);
		return NULL;
	}
	p->port.ops = &inproc_ops;
	p->d = d;
	g = xgnt_guest_create(&p->port, &info);
	plat_free(mfns);
	return g;
}

/* ---- the context --------------------------------------------------------------- */

struct xgnt_guest *xgnt_guest_create(struct xgnt_port *port, const struct xgnt_guest_info *info)
{
	struct xgnt_guest *g;

	if (!port || !port->ops || !info || !info->nr_vcpus ||
	    (!info->translated && !info->mfn_list)) {
		errno = EINVAL;
		return NULL;
	}
	g = plat_calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->port = port;
	g->info = *info;
	g->ram_pages = (uint32_t)(info->ram_size >> PAGE_SHIFT);
	g->ext_pages = (uint32_t)(info->ext_size >> PAGE_SHIFT);
	plat_mutex_init(&g->mem_lock);
	g->ram_used = plat_calloc(DIV_ROUND_UP(g->ram_pages, 64) + 1, sizeof(uint64_t));
	g->ballooned = plat_calloc(DIV_ROUND_UP(g->ram_pages, 64) + 1, sizeof(uint64_t));
	g->ext_used = plat_calloc(DIV_ROUND_UP(g->ext_pages, 64) + 1, sizeof(uint64_t));
	if (!info->translated) {
		g->mfn_list = plat_calloc(g->ram_pages ? g->ram_pages : 1, sizeof(xen_pfn_t));
		if (g->mfn_list)
			memcpy(g->mfn_list, info->mfn_list, g->ram_pages * sizeof(xen_pfn_t));
	}
	g->info.mfn_list = g->mfn_list;
	if (!g->ram_used || !g->ballooned || !g->ext_used || (!info->translated && !g->mfn_list)) {
		plat_free(g->mfn_list);
		plat_free(g->ext_used);
		plat_free(g->ballooned);
		plat_free(g->ram_used);
		plat_mutex_destroy(&g->mem_lock);
		plat_free(g);
		errno = ENOMEM;
		return NULL;
	}
	return g;
}

void xgnt_guest_destroy(struct xgnt_guest *g)
{
	if (!g)
		return;
	evtchn_guest_fini(g);
	gnttab_guest_fini(g);
	if (current.g == g)
		current.g = NULL;
	if (g->port->ops->destroy)
		g->port->ops->destroy(g->port);
	plat_free(g->mfn_list);
	plat_free(g->ext_used);
	plat_free(g->ballooned);
	plat_free(g->ram_used);
	plat_mutex_destroy(&g->mem_lock);
	plat_free(g);
}

const struct xgnt_guest_info *xgnt_guest_info(const struct xgnt_guest *g)
{
	return &g->info;
}

struct xgnt_port *xgnt_guest_port(struct xgnt_guest *g)
{
	return g->port;
}

int xgnt_guest_bind(struct xgnt_guest *g, unsigned int vcpu)
{
	if (g && vcpu >= g->info.nr_vcpus)
		return -EINVAL;
	current.g = g;
	current.vcpu = g ? vcpu : 0;
	return 0;
}

struct xgnt_guest *xgnt_guest_current(void)
{
	return current.g;
}

unsigned int xgnt_guest_current_vcpu(void)
{
	return current.vcpu;
}

unsigned int guest_vcpu(struct xgnt_guest *g)
{
	return current.g == g ? current.vcpu : 0;
}

void *xgnt_guest_va(struct xgnt_guest *g, uint64_t addr)
{
	return g->port->ops->va(g->port, addr);
}

uint64_t xgnt_guest_addr(struct xgnt_guest *g, const void *p)
{
	uint8_t *base = xgnt_guest_va(g, 0);

	return (uint64_t)((const uint8_t *)p - base);
}

xen_pfn_t xgnt_guest_frame(struct xgnt_guest *g, const void *p)
{
	uint64_t pfn = xgnt_guest_addr(g, p) >> PAGE_SHIFT;
	xen_pfn_t f;

	if (g->info.translated)
		return pfn;
	if (pfn >= g->ram_pages)
		return INVALID_MFN;
	plat_mutex_lock(&g->mem_lock);
	f = g->mfn_list[pfn];
	plat_mutex_unlock(&g->mem_lock);
	return f;
}

long xgnt_hyp_grant_table_op(struct xgnt_guest *g, unsigned int cmd, void *uop, unsigned int count)
{
	return g->port->ops->grant_table_op(g->port, guest_vcpu(g), cmd, uop, count);
}

long xgnt_hyp_memory_op(struct xgnt_guest *g, unsigned int cmd, void *arg)
{
	return g->port->ops->memory_op(g->port, guest_vcpu(g), cmd, arg);
}

long xgnt_hyp_event_channel_op(struct xgnt_guest *g, int cmd, void *arg)
{
	return g->port->ops->event_channel_op(g->port, guest_vcpu(g), cmd, arg);
}

long xgnt_hyp_vcpu_op(struct xgnt_guest *g, int cmd, unsigned int vcpuid, void *arg)
{
	return g->port->ops->vcpu_op(g->port, guest_vcpu(g), cmd, vcpuid, arg);
}

/* ---- page allocators --------------------------------------------------------- */

static bool bit(const uint64_t *bm, uint32_t i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

static void set_bits(uint64_t *bm, uint32_t i, uint32_t n, bool on)
{
	for (; n; n--, i++) {
		if (on)
			bm[i / 64] |= 1ull << (i % 64);
		else
			bm[i / 64] &= ~(1ull << (i % 64));
	}
}

/* First fit of n clear bits in [0, size); locked. */
static int64_t find_free(const uint64_t *bm, uint32_t size, uint32_t n)
{
	uint32_t i = 0, run = 0;

	for (i = 0; i < size; i++) {
		run = bit(bm, i) ? 0 : run + 1;
		if (run == n)
			return (int64_t)(i + 1 - n);
	}
	return -1;
}

void *xgnt_page_alloc(struct xgnt_guest *g, unsigned int n)
{
	int64_t first;

	if (!n)
		return NULL;
	plat_mutex_lock(&g->mem_lock);
	first = find_free(g->ram_used, g->ram_pages, n);
	if (first >= 0)
		set_bits(g->ram_used, (uint32_t)first, n, true);
	plat_mutex_unlock(&g->mem_lock);
	if (first < 0)
		return NULL;
	return xgnt_guest_va(g, (uint64_t)first << PAGE_SHIFT);
}

void xgnt_page_free(struct xgnt_guest *g, void *p, unsigned int n)
{
	uint64_t pfn;

	if (!p || !n)
		return;
	pfn = xgnt_guest_addr(g, p) >> PAGE_SHIFT;
	if (pfn + n > g->ram_pages)
		return;
	plat_mutex_lock(&g->mem_lock);
	set_bits(g->ram_used, (uint32_t)pfn, n, false);
	plat_mutex_unlock(&g->mem_lock);
}

/* Give n RAM pages from pfn back to the hypervisor; mem_lock held. */
static int balloon_out(struct xgnt_guest *g, uint32_t pfn, uint32_t n)
{
	xen_pfn_t frames[64];
	struct xen_memory_reservation r = { .domid = DOMID_SELF };
	uint32_t i, done = 0;
	long rc;

	while (done < n) {
		uint32_t k = MIN(n - done, (uint32_t)ARRAY_SIZE(frames));

		for (i = 0; i < k; i++)
			frames[i] = g->info.translated ? pfn + done + i : g->mfn_list[pfn + done + i];
		r.nr_extents = k;
		set_xen_guest_handle(r.extent_start, frames);
		rc = xgnt_hyp_memory_op(g, XENMEM_decrease_reservation, &r);
		if (rc < 0)
			rc = 0;
		if (!g->info.translated)
			for (i = 0; i < (uint32_t)rc; i++)
				g->mfn_list[pfn + done + i] = INVALID_MFN;
		done += (uint32_t)rc;
		if ((uint32_t)rc < k)
			return (int)done;
	}
	return (int)done;
}

/* Populate n pages from pfn again; mem_lock held. Returns pages done. */
static uint32_t balloon_in(struct xgnt_guest *g, uint32_t pfn, uint32_t n)
{
	xen_pfn_t frames[64];
	struct xen_memory_reservation r = { .domid = DOMID_SELF };
	uint32_t i, done = 0;
	long rc;

	while (done < n) {
		uint32_t k = MIN(n - done, (uint32_t)ARRAY_SIZE(frames));

		for (i = 0; i < k; i++)
			frames[i] = pfn + done + i;
		r.nr_extents = k;
		set_xen_guest_handle(r.extent_start, frames);
		rc = xgnt_hyp_memory_op(g, XENMEM_populate_physmap, &r);
		if (rc < 0)
			rc = 0;
		if (!g->info.translated)
			for (i = 0; i < (uint32_t)rc; i++)   /* a PV guest learns its new MFNs */
				g->mfn_list[pfn + done + i] = frames[i];
		done += (uint32_t)rc;
		if ((uint32_t)rc < k)
			break;
	}
	return done;
}

void *xgnt_unpopulated_alloc(struct xgnt_guest *g, unsigned int n)
{
	uint64_t ext_first = g->info.ext_base >> PAGE_SHIFT;
	int64_t first;
	int done;

	if (!n)
		return NULL;
	plat_mutex_lock(&g->mem_lock);
	first = find_free(g->ext_used, g->ext_pages, n);
	if (first >= 0) {
		set_bits(g->ext_used, (uint32_t)first, n, true);
		plat_mutex_unlock(&g->mem_lock);
		return xgnt_guest_va(g, (ext_first + (uint64_t)first) << PAGE_SHIFT);
	}
	/* No room in the extended region: balloon RAM out, as Linux does. */
	first = find_free(g->ram_used, g->ram_pages, n);
	if (first < 0) {
		plat_mutex_unlock(&g->mem_lock);
		return NULL;
	}
	done = balloon_out(g, (uint32_t)first, n);
	if (done != (int)n) {
		balloon_in(g, (uint32_t)first, (uint32_t)done);
		plat_mutex_unlock(&g->mem_lock);
		return NULL;
	}
	set_bits(g->ram_used, (uint32_t)first, n, true);
	set_bits(g->ballooned, (uint32_t)first, n, true);
	plat_mutex_unlock(&g->mem_lock);
	return xgnt_guest_va(g, (uint64_t)first << PAGE_SHIFT);
}

int xgnt_unpopulated_free(struct xgnt_guest *g, void *p, unsigned int n)
{
	uint64_t pfn, ext_first = g->info.ext_base >> PAGE_SHIFT;
	int rc = 0;

	if (!p || !n)
		return -EINVAL;
	pfn = xgnt_guest_addr(g, p) >> PAGE_SHIFT;
	plat_mutex_lock(&g->mem_lock);
	if (pfn >= ext_first && pfn + n <= ext_first + g->ext_pages) {
		set_bits(g->ext_used, (uint32_t)(pfn - ext_first), n, false);
	} else if (pfn + n <= g->ram_pages && bit(g->ballooned, (uint32_t)pfn)) {
		if (balloon_in(g, (uint32_t)pfn, n) != n) {
			rc = -ENOMEM;   /* the pages stay ballooned out, still ours */
		} else {
			set_bits(g->ballooned, (uint32_t)pfn, n, false);
			set_bits(g->ram_used, (uint32_t)pfn, n, false);
		}
	} else {
		rc = -EINVAL;
	}
	plat_mutex_unlock(&g->mem_lock);
	return rc;
}
