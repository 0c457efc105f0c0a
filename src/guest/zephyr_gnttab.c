/* SPDX-License-Identifier: MIT */
/*
 * Zephyr's grant-table API (<xgnt/zephyr/gnttab.h>) over the guest library,
 * for the guest bound to the calling thread. The header lists where it
 * departs from Zephyr's code, and why.
 */
#include <xgnt/zephyr/gnttab.h>

#include <errno.h>

#include "compat.h"
#include "../plat/plat.h"

/* ---- addresses: pointers in this process vs the guest's own ---------------- */

/*
 * The guest's address space is one window of this process, [base, base +
 * span). A value in it is a pointer a driver cast to an integer; any other
 * value is taken as a guest address. When the window lies below span the
 * two cannot be told apart, and every value is a guest address.
 */
struct window {
	uintptr_t base;
	uint64_t span;
};

static void window_of(struct xgnt_guest *g, struct window *w)
{
	const struct xgnt_guest_info *info = xgnt_guest_info(g);

	w->base = (uintptr_t)xgnt_guest_va(g, 0);
	w->span = MAX(info->ram_size, info->ext_base + info->ext_size);
}

static bool is_pointer(const struct window *w, uint64_t v)
{
	return w->base >= w->span && v >= w->base && v - w->base < w->span;
}

unsigned long (xen_virt_to_gfn)(const void *virt)
{
	struct xgnt_guest *g = compat_guest();
	struct window w;

	if (!g)
		return (unsigned long)INVALID_GFN;
	window_of(g, &w);
	if (!is_pointer(&w, (uintptr_t)virt))
		return (unsigned long)INVALID_GFN;
	return (unsigned long)xgnt_guest_frame(g, virt);
}

/* ---- granting --------------------------------------------------------------- */

grant_ref_t gnttab_grant_access(domid_t domid, unsigned long gfn, bool readonly)
{
	struct xgnt_guest *g = compat_granter();
	grant_ref_t ref;

	if (!g || xgnt_grant_access(g, domid, gfn, readonly, &ref) < 0)
		return GNTTAB_INVAL_GREF;
	return ref;
}

int gnttab_end_access(grant_ref_t gref)
{
	struct xgnt_guest *g = compat_granter();

	if (!g)
		return -EINVAL;
	return xgnt_end_access(g, gref);
}

int32_t gnttab_alloc_and_grant(void **map, bool readonly)
{
	struct xgnt_guest *g = compat_granter();
	grant_ref_t ref;
	void *page;

	if (!g || !map)
		return -EINVAL;
	page = xgnt_page_alloc(g, 1);
	if (!page)
		return -ENOMEM;
	/* Zephyr grants these pages to domain 0, always. */
	if (xgnt_grant_access(g, 0, xgnt_guest_frame(g, page), readonly, &ref) < 0) {
		xgnt_page_free(g, page, 1);
		return -ENOSPC;
	}
	if (NEVER(ref > INT32_MAX)) {
		xgnt_end_access(g, ref);
		xgnt_page_free(g, page, 1);
		return -ENOSPC;
	}
	*map = page;
	return (int32_t)ref;
}

void gnttab_free_page(void *page)
{
	struct xgnt_guest *g = compat_guest();

	if (g && page)
		xgnt_page_free(g, page, 1);
}

/* ---- pages to map into ----------------------------------------------------------- */

void *gnttab_get_pages(unsigned int npages)
{
	struct xgnt_guest *g = compat_guest();

	if (!g || !npages)
		return NULL;
	return xgnt_unpopulated_alloc(g, npages);
}

int gnttab_put_pages(void *start_addr, unsigned int npages)
{
	struct xgnt_guest *g = compat_guest();
	struct window w;

	if (!g || !start_addr || !npages)
		return -EINVAL;
	window_of(g, &w);
	if (!is_pointer(&w, (uintptr_t)start_addr))
		return -EINVAL;
	return xgnt_unpopulated_free(g, start_addr, npages);
}

/* ---- mapping ------------------------------------------------------------------------ */

/*
 * Ops go to the hypervisor in chunks of CHUNK, so which host_addr fields
 * were translated fits in one word and each is restored exactly.
 */
#define CHUNK 64

static uint64_t to_guest(const struct window *w, uint64_t *addr)
{
	if (!is_pointer(w, *addr))
		return 0;
	*addr -= w->base;
	return 1;
}

static void from_guest(const struct window *w, uint64_t *addr, uint64_t translated)
{
	if (translated)
		*addr += w->base;
}

int gnttab_map_refs(struct gnttab_map_grant_ref *map_ops, unsigned int count)
{
	struct xgnt_guest *g = compat_guest();
	unsigned int done, i, n;
	struct window w;
	uint64_t mask;
	int rc = 0;

	if (!g || (count && !map_ops))
		return -EINVAL;
	window_of(g, &w);
	for (done = 0; done < count && !rc; done += n) {
		n = MIN(count - done, (unsigned int)CHUNK);
		mask = 0;
		for (i = 0; i < n; i++)
			mask |= to_guest(&w, &map_ops[done + i].host_addr) << i;
		rc = xgnt_map_refs(g, map_ops + done, n);
		for (i = 0; i < n; i++)
			from_guest(&w, &map_ops[done + i].host_addr, mask >> i & 1);
	}
	return rc;
}

int gnttab_unmap_refs(struct gnttab_unmap_grant_ref *unmap_ops, unsigned int count)
{
	struct xgnt_guest *g = compat_guest();
	unsigned int done, i, n;
	struct window w;
	uint64_t mask;
	int rc = 0;

	if (!g || (count && !unmap_ops))
		return -EINVAL;
	window_of(g, &w);
	for (done = 0; done < count && !rc; done += n) {
		n = MIN(count - done, (unsigned int)CHUNK);
		mask = 0;
		for (i = 0; i < n; i++)
			mask |= to_guest(&w, &unmap_ops[done + i].host_addr) << i;
		rc = xgnt_unmap_refs(g, unmap_ops + done, n);
		for (i = 0; i < n; i++)
			from_guest(&w, &unmap_ops[done + i].host_addr, mask >> i & 1);
	}
	return rc;
}

/* Xen's GNTTABOP_error_msgs, indexed by -status. */
static const char *const error_msgs[] = GNTTABOP_error_msgs;

const char *gnttabop_error(int16_t status)
{
	int idx = -(int)status;

	if (idx < 0 || (unsigned int)idx >= ARRAY_SIZE(error_msgs))
		return "bad status";
	return error_msgs[idx];
}
