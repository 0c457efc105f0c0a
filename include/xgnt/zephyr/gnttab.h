/* SPDX-License-Identifier: MIT */
/*
 * Zephyr's grant-table API (<zephyr/xen/gnttab.h>), source-compatible, for
 * the guest bound to the calling thread (xgnt_guest_bind). Names, types and
 * documented results are Zephyr's; where Zephyr's code is wrong, this is not.
 *
 * Deviations from Zephyr, on purpose:
 *  - gnttab_end_access() returns -EBUSY and keeps the reference while the
 *    peer still has the grant mapped. Zephyr's inverted check frees a
 *    still-mapped reference (which is then reused while foreign-mapped) and
 *    leaks every reference it ended successfully.
 *  - A full table (no free reference and no room to grow up to the
 *    hypervisor's maximum) is GNTTAB_INVAL_GREF at once, never a wait:
 *    older Zephyr blocks forever on a semaphore.
 *  - No guest bound to the calling thread: GNTTAB_INVAL_GREF, -EINVAL or
 *    NULL, per function. The guest's grant table is set up on first use
 *    (version 1, as Zephyr), where Zephyr's SYS_INIT would have at boot.
 *  - gnttab_alloc_and_grant() grants to domain 0, as Zephyr does. The page
 *    comes from the guest's RAM (xgnt_page_alloc), not from k_malloc: free
 *    it with gnttab_free_page() (an addition) after ending the grant,
 *    where Zephyr code calls k_free().
 *  - host_addr of a map/unmap op may be a guest address (what Xen takes)
 *    or, as Zephyr drivers write it, a pointer from gnttab_get_pages() cast
 *    to an integer. Pointers into the guest's address space are translated
 *    for the hypercall and the caller's value is restored afterwards.
 *  - GNTST_eagain is retried inside the library (Zephyr: 10..200 ms).
 */
#ifndef XGNT_ZEPHYR_GNTTAB_H
#define XGNT_ZEPHYR_GNTTAB_H

#include <stdbool.h>
#include <stdint.h>

#include <xgnt/guest.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The reference a failed grant returns. Zephyr's own headers do not carry
 * Xen's name for it; this is all-ones (Linux's INVALID_GRANT_REF), which an
 * int-returning caller sees as negative.
 */
#ifndef GNTTAB_INVAL_GREF
#define GNTTAB_INVAL_GREF ((grant_ref_t)UINT32_MAX)
#endif

#ifndef XEN_PAGE_SIZE
#define XEN_PAGE_SIZE  4096
#define XEN_PAGE_SHIFT 12
#endif

/*
 * Zephyr's generic.h shim: the frame a guest grants for an address in its
 * RAM (a GFN; an MFN for a PV guest), for the bound guest. Zephyr drivers
 * pass pointers and pointer-sized integers alike, so the macro casts.
 * (unsigned long)INVALID_GFN for an address outside the guest or with no
 * guest bound.
 */
XGNT_GUEST_API unsigned long xen_virt_to_gfn(const void *virt);
#define xen_virt_to_gfn(v) (xen_virt_to_gfn)((const void *)(uintptr_t)(v))

/*
 * Grant domid access to frame gfn of the bound guest: frame and domid,
 * barrier, flags last. The new reference, or GNTTAB_INVAL_GREF when the
 * table is full (or no guest is bound).
 */
XGNT_GUEST_API grant_ref_t gnttab_grant_access(domid_t domid, unsigned long gfn,
					       bool readonly);

/*
 * End a grant from gnttab_grant_access(): 0 and the reference is free
 * again; -EBUSY while the peer still maps it (the grant stays and the
 * reference is kept: try again once the peer unmapped); -EINVAL for a
 * reference outside those the guest hands out, or no guest bound. Ending
 * a reference that is already free is 0 and frees nothing. Does not free
 * the memory of gnttab_alloc_and_grant().
 */
XGNT_GUEST_API int gnttab_end_access(grant_ref_t gref);

/*
 * Allocate a page of the guest's RAM and grant domain 0 access to it. The
 * reference, or -ENOMEM (no page), -ENOSPC (table full), -EINVAL (no
 * guest). Release: gnttab_end_access(), then gnttab_free_page(*map).
 */
XGNT_GUEST_API int32_t gnttab_alloc_and_grant(void **map, bool readonly);

/* Frees a page from gnttab_alloc_and_grant() (Zephyr: k_free). */
XGNT_GUEST_API void gnttab_free_page(void *page);

/*
 * npages contiguous pages that can host grant mappings (the extended
 * region, else ballooned RAM); NULL on failure. The pointer, cast to an
 * integer, may be used as host_addr. Release with gnttab_put_pages().
 */
XGNT_GUEST_API void *gnttab_get_pages(unsigned int npages);
/* 0, or -EINVAL (not from gnttab_get_pages / no guest), -ENOMEM (RAM
 * could not be populated again; the pages stay reserved). */
XGNT_GUEST_API int gnttab_put_pages(void *start_addr, unsigned int npages);

/*
 * Map count foreign grants. 0 when the hypercall completed (each op's
 * status says how it went: GNTST_*), or the hypercall's -errno. host_addr:
 * a guest address or a pointer into the guest (see above).
 */
XGNT_GUEST_API int gnttab_map_refs(struct gnttab_map_grant_ref *map_ops, unsigned int count);
/* Unmap count mappings; as gnttab_map_refs. Then gnttab_put_pages(). */
XGNT_GUEST_API int gnttab_unmap_refs(struct gnttab_unmap_grant_ref *unmap_ops,
				     unsigned int count);

/* Xen's text for a GNTST_* status; "bad status" for anything else. */
XGNT_GUEST_API const char *gnttabop_error(int16_t status);

#ifdef __cplusplus
}
#endif
#endif /* XGNT_ZEPHYR_GNTTAB_H */
