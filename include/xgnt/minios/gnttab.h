/* SPDX-License-Identifier: MIT */
/*
 * The Mini-OS / FreeRTOS-Xen grant-table entry points (their gnttab.h),
 * source-compatible, for the guest bound to the calling thread
 * (xgnt_guest_bind).
 *
 * Signatures are those of the FreeRTOS-Xen port (a Mini-OS copy with
 * gnttab_map_ref added). gnttab_grant_access, gnttab_end_access,
 * gnttab_alloc_and_grant and gnttabop_error share their names with
 * Zephyr's and exist once in the library: they are declared by
 * <xgnt/zephyr/gnttab.h>, included here, with Zephyr's conventions.
 *
 * Deviations from Mini-OS, on purpose:
 *  - Nothing blocks: a full table makes gnttab_grant_transfer return
 *    GNTTAB_INVAL_GREF at once (Mini-OS waits on a semaphore forever).
 *  - gnttab_end_access (Zephyr's) returns 0 when ended and -EBUSY while
 *    mapped; Mini-OS returns 1 and 0. Code testing "if (gnttab_end_access
 *    (ref))" for success must test "== 0".
 *  - gnttab_alloc_and_grant takes Zephyr's (void **map, bool readonly);
 *    Mini-OS's has no readonly argument and grants writable.
 *  - init_gnttab sets the bound guest's table up (version 1, first frame;
 *    it grows on demand up to the hypervisor's maximum rather than Mini-OS's
 *    fixed NR_GRANT_FRAMES). Calling it again is harmless, and the other
 *    entry points set the table up on first use anyway. fini_gnttab
 *    issues what Mini-OS issues (setup_table with nr_frames 0); the guest's
 *    grants and table go with xgnt_guest_destroy.
 *  - gnttab_end_transfer of a transfer committed but not completed within
 *    a second returns 0 and keeps the reference, instead of spinning.
 *  - No guest bound: GNTTAB_INVAL_GREF, 0 or -EINVAL per function; init
 *    and fini do nothing.
 */
#ifndef XGNT_MINIOS_GNTTAB_H
#define XGNT_MINIOS_GNTTAB_H

#include <xgnt/zephyr/gnttab.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef NR_RESERVED_ENTRIES
#define NR_RESERVED_ENTRIES GNTTAB_NR_RESERVED_ENTRIES
#endif

XGNT_GUEST_API void init_gnttab(void);
XGNT_GUEST_API void fini_gnttab(void);

/*
 * Accept a page from domid into pseudo-physical frame pfn (which the guest
 * has given back to the hypervisor). The reference, or GNTTAB_INVAL_GREF.
 */
XGNT_GUEST_API grant_ref_t gnttab_grant_transfer(domid_t domid, unsigned long pfn);

/*
 * End an accept-transfer grant and free the reference. The frame received
 * (an MFN for a PV guest, the GFN it landed at for a translated one), or 0
 * if no transfer had started (as Mini-OS).
 */
XGNT_GUEST_API unsigned long gnttab_end_transfer(grant_ref_t gref);

/*
 * Map grant ref of domid at guest frame mfn (host_addr = mfn << PAGE_SHIFT:
 * a guest-physical frame for translated guests, the linear page for PV;
 * for instance xen_virt_to_gfn() of a page from gnttab_get_pages() on a
 * translated guest). The hypercall's -errno, else the op's GNTST_* status
 * (0: mapped). As in FreeRTOS-Xen the handle is not returned, so the
 * mapping lasts until the domain goes; gnttab_map_ref_handle() is the same
 * call that also gives the handle, for gnttab_unmap_refs().
 */
XGNT_GUEST_API int gnttab_map_ref(domid_t domid, grant_ref_t ref, unsigned long mfn);
XGNT_GUEST_API int gnttab_map_ref_handle(domid_t domid, grant_ref_t ref, unsigned long mfn,
					 grant_handle_t *handle);

#ifdef __cplusplus
}
#endif
#endif /* XGNT_MINIOS_GNTTAB_H */
