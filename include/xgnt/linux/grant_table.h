/* SPDX-License-Identifier: MIT */
/*
 * Linux's grant-reference API (<xen/grant_table.h>): granting, ending, the
 * private reserve of references with free callbacks, and transfer (which
 * Linux dropped in 5.18). The signatures are today's (one-argument
 * gnttab_end_foreign_access_ref, a page pointer to gnttab_end_foreign_access);
 * the older ones also compile (see the end of this header). Source-compatible, for the guest
 * bound to the calling thread (xgnt_guest_bind); its grant table is set up
 * on first use, where Linux's gnttab_init would have at boot.
 *
 * Deviations from Linux:
 *  - Plain C types: uint16_t for u16. The page given to
 *    gnttab_end_foreign_access is a pointer to a page of the guest's RAM
 *    (xgnt_page_alloc), not a struct page.
 *  - No guest bound to the calling thread: -EINVAL from the int functions
 *    that return references or errors, 0 from gnttab_end_foreign_access_ref,
 *    gnttab_try_end_foreign_access, gnttab_query_foreign_access and the
 *    transfer ends; the void functions do nothing.
 *  - gnttab_query_foreign_access returns 1 (not the GTF_reading|GTF_writing
 *    bits) while the grant is in use.
 *  - gnttab_end_foreign_access_ref returns 0 only while the peer uses the
 *    grant (or no guest is bound); any other failure (a reference that is
 *    not granted) is 1, "nothing left to end", as Linux's cmpxchg of an
 *    empty entry would report.
 *  - struct gnttab_free_callback keeps Linux's fields (fn, arg, count; next
 *    is unused) and adds the library's record and the guest it was
 *    requested for: cancel acts on that guest, from any thread. It must
 *    start zeroed (Linux drivers kzalloc it) so that cancelling one never
 *    requested is harmless. The callback runs from the thread that freed
 *    the references with no lock held (Linux: under gnttab_list_lock), so
 *    it may allocate references. Callbacks still pending when the guest is
 *    destroyed are dropped, never run: cancel them first.
 *  - A full table is -ENOSPC at once (the table grows on demand up to the
 *    hypervisor's maximum first).
 *  - A transfer the hypervisor committed to but did not complete within a
 *    second ends with 0 instead of spinning forever; the reference then
 *    stays taken (gnttab_end_foreign_transfer does not free it), since the
 *    hypervisor may still write its entry.
 */
#ifndef XGNT_LINUX_GRANT_TABLE_H
#define XGNT_LINUX_GRANT_TABLE_H

#include <stdint.h>

#include <xgnt/guest.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gnttab_free_callback {
	struct gnttab_free_callback *next;   /* Linux's; unused */
	void (*fn)(void *);
	void *arg;
	uint16_t count;
	/* private */
	struct xgnt_gref_callback xgnt;
	struct xgnt_guest *guest;
};

/* ---- granting access ---- */

/* A new reference granting domid access to frame: the ref, or -ENOSPC. */
XGNT_GUEST_API int gnttab_grant_foreign_access(domid_t domid, unsigned long frame, int readonly);
/* Grant on a reference the caller holds (claimed from a reserve). */
XGNT_GUEST_API void gnttab_grant_foreign_access_ref(grant_ref_t ref, domid_t domid,
						    unsigned long frame, int readonly);
/* Non-zero (1) while the peer has the grant mapped or in use. */
XGNT_GUEST_API int gnttab_query_foreign_access(grant_ref_t ref);
/* End access, keeping ref: 1 ended, 0 still in use (nothing changed). */
XGNT_GUEST_API int gnttab_end_foreign_access_ref(grant_ref_t ref);
/* End access and free ref: 1 done, 0 still in use (ref kept). */
XGNT_GUEST_API int gnttab_try_end_foreign_access(grant_ref_t ref);
/*
 * End access now or, while the peer still uses it, later; ref is freed and
 * page (a page of the guest's RAM, or NULL) given back to the guest only
 * once the peer is done.
 */
XGNT_GUEST_API void gnttab_end_foreign_access(grant_ref_t ref, void *page);

/* ---- transfer ---- */

/* A new accept-transfer grant into pfn from domid: the ref, or -ENOSPC. */
XGNT_GUEST_API int gnttab_grant_foreign_transfer(domid_t domid, unsigned long pfn);
XGNT_GUEST_API void gnttab_grant_foreign_transfer_ref(grant_ref_t ref, domid_t domid,
						      unsigned long pfn);
/*
 * End an accept-transfer grant: the frame received (an MFN for a PV guest,
 * the GFN it landed at for a translated one), or 0 if no transfer had
 * started. The _ref variant keeps ref; the other frees it.
 */
XGNT_GUEST_API unsigned long gnttab_end_foreign_transfer_ref(grant_ref_t ref);
XGNT_GUEST_API unsigned long gnttab_end_foreign_transfer(grant_ref_t ref);

/* ---- the private reserve ---- */

/* count references into a private list at *pprivate_head: 0 or -ENOSPC
 * (all or nothing). */
XGNT_GUEST_API int gnttab_alloc_grant_references(uint16_t count, grant_ref_t *pprivate_head);
/* Give one reference (claimed, ended) back to the table. */
XGNT_GUEST_API void gnttab_free_grant_reference(grant_ref_t ref);
/* Give every reference still on a private list back to the table. */
XGNT_GUEST_API void gnttab_free_grant_references(grant_ref_t head);
/* 1 if the private list holds no reference, else 0. */
XGNT_GUEST_API int gnttab_empty_grant_references(const grant_ref_t *pprivate_head);
/* A reference from the private list, or -ENOSPC when it is empty. */
XGNT_GUEST_API int gnttab_claim_grant_reference(grant_ref_t *pprivate_head);
/* Put a claimed reference back on the private list. */
XGNT_GUEST_API void gnttab_release_grant_reference(grant_ref_t *private_head,
						   grant_ref_t release);

/*
 * fn(arg) once, when at least count references are free (at once if they
 * are). Requesting a callback that is already pending does nothing.
 */
XGNT_GUEST_API void gnttab_request_free_callback(struct gnttab_free_callback *callback,
						 void (*fn)(void *), void *arg, uint16_t count);
XGNT_GUEST_API void gnttab_cancel_free_callback(struct gnttab_free_callback *callback);

/* Frames the table may grow to (the hypervisor's maximum); 0 with no guest. */
XGNT_GUEST_API unsigned int gnttab_max_grant_frames(void);

/*
 * The older forms, as Xen's docs/misc/grant-tables.txt shows them (Linux
 * 2.6 and up to 5.17), are accepted too, told apart by their number of
 * arguments (and, for gnttab_end_foreign_access, by whether the second is
 * an integer, readonly, or the page):
 *
 *   gnttab_alloc_grant_references(count, &head, &terminal)
 *   gnttab_free_grant_references(count, head)
 *   gnttab_claim_grant_reference(&head, terminal)
 *   gnttab_end_foreign_access_ref(ref, readonly)
 *   gnttab_end_foreign_access(ref, readonly)
 *   gnttab_end_foreign_access(ref, readonly, page)
 *
 * The terminal is the reserve's end marker (XGNT_GREF_LIST_END); count and
 * readonly change nothing (the reserve knows its length, the hypervisor
 * the grant's mode). Define XGNT_LINUX_MODERN_ONLY to get plain functions.
 */
#if !defined(XGNT_LINUX_MODERN_ONLY) && !defined(__cplusplus)
static inline int xgnt_linux_alloc_refs_terminal(uint16_t count, grant_ref_t *head,
						 grant_ref_t *terminal)
{
	int r = gnttab_alloc_grant_references(count, head);

	if (terminal)
		*terminal = XGNT_GREF_LIST_END;
	return r;
}
static inline void xgnt_linux_free_refs_count(uint16_t count, grant_ref_t head)
{
	(void)count;
	gnttab_free_grant_references(head);
}
static inline int xgnt_linux_claim_ref_terminal(grant_ref_t *head, grant_ref_t terminal)
{
	(void)terminal;
	return gnttab_claim_grant_reference(head);
}
static inline int xgnt_linux_end_access_ref_ro(grant_ref_t ref, int readonly)
{
	(void)readonly;
	return gnttab_end_foreign_access_ref(ref);
}
static inline void xgnt_linux_end_access_ro_page(grant_ref_t ref, int readonly,
						 unsigned long page)
{
	(void)readonly;
	gnttab_end_foreign_access(ref, (void *)(uintptr_t)page);
}

#define XGNT_LINUX_SEL2(_1, _2, name, ...) name
#define XGNT_LINUX_SEL3(_1, _2, _3, name, ...) name
#define XGNT_LINUX_IS_INT(x)                                                        \
	_Generic((x), _Bool: 1, char: 1, signed char: 1, unsigned char: 1, short: 1,  \
		 unsigned short: 1, int: 1, unsigned int: 1, long: 1, unsigned long: 1, \
		 long long: 1, unsigned long long: 1, default: 0)
#define XGNT_LINUX_END_ACCESS2(ref, x)                                              \
	gnttab_end_foreign_access((ref), XGNT_LINUX_IS_INT(x) ? (void *)0             \
							       : (void *)(uintptr_t)(x))

#define gnttab_alloc_grant_references(...)                                          \
	XGNT_LINUX_SEL3(__VA_ARGS__, xgnt_linux_alloc_refs_terminal,                  \
			gnttab_alloc_grant_references, gnttab_alloc_grant_references, 0)(__VA_ARGS__)
#define gnttab_free_grant_references(...)                                           \
	XGNT_LINUX_SEL2(__VA_ARGS__, xgnt_linux_free_refs_count,                      \
			gnttab_free_grant_references, 0)(__VA_ARGS__)
#define gnttab_claim_grant_reference(...)                                           \
	XGNT_LINUX_SEL2(__VA_ARGS__, xgnt_linux_claim_ref_terminal,                   \
			gnttab_claim_grant_reference, 0)(__VA_ARGS__)
#define gnttab_end_foreign_access_ref(...)                                          \
	XGNT_LINUX_SEL2(__VA_ARGS__, xgnt_linux_end_access_ref_ro,                    \
			gnttab_end_foreign_access_ref, 0)(__VA_ARGS__)
#define gnttab_end_foreign_access(...)                                              \
	XGNT_LINUX_SEL3(__VA_ARGS__, xgnt_linux_end_access_ro_page,                   \
			XGNT_LINUX_END_ACCESS2, gnttab_end_foreign_access, 0)(__VA_ARGS__)
#endif

#ifdef __cplusplus
}
#endif
#endif /* XGNT_LINUX_GRANT_TABLE_H */
