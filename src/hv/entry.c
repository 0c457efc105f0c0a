/* SPDX-License-Identifier: MIT */
/*
 * Shared grant entries, v1 and v2: the words a guest writes at any moment
 * and the protocol the hypervisor follows on them (xen-hypervisor.md c.2).
 * Each field is read once into a local; flags are updated with bounded
 * compare-and-swap (v1) or set in the Xen-owned status word then re-checked
 * (v2). Callers hold the table lock (read or write) and the active entry.
 */
#include "gnttab.h"

/* A guest can rewrite its entry faster than we can compare-and-swap it:
 * give up after this many attempts (Xen: "Shared grant entry is unstable"). */
#define SET_STATUS_RETRIES 4

grant_entry_v1_t *shared_entry_v1(struct grant_table *gt, uint32_t ref)
{
	return (grant_entry_v1_t *)mfn_to_virt(gt->d->m, gt->shared_mfn[ref / SHGNT_PER_PAGE_V1]) +
	       ref % SHGNT_PER_PAGE_V1;
}

grant_entry_v2_t *shared_entry_v2(struct grant_table *gt, uint32_t ref)
{
	return (grant_entry_v2_t *)mfn_to_virt(gt->d->m, gt->shared_mfn[ref / SHGNT_PER_PAGE_V2]) +
	       ref % SHGNT_PER_PAGE_V2;
}

uint16_t *shared_flags(struct grant_table *gt, uint32_t ref)
{
	return gt->version == 1 ? &shared_entry_v1(gt, ref)->flags
				: &shared_entry_v2(gt, ref)->hdr.flags;
}

uint16_t *status_word(struct grant_table *gt, uint32_t ref)
{
	if (gt->version == 1)
		return &shared_entry_v1(gt, ref)->flags;
	return (grant_status_t *)mfn_to_virt(gt->d->m, gt->status_mfn[ref / STGNT_PER_PAGE]) +
	       ref % STGNT_PER_PAGE;
}

uint64_t gt_entry_frame(struct grant_table *gt, uint32_t ref)
{
	if (gt->version == 1)
		return __atomic_load_n(&shared_entry_v1(gt, ref)->frame, __ATOMIC_RELAXED);
	return __atomic_load_n(&shared_entry_v2(gt, ref)->full_page.frame, __ATOMIC_RELAXED);
}

/* The (flags, domid) header as one 32-bit word, little-endian layout. */
static inline uint16_t combo_flags(uint32_t c)
{
	return (uint16_t)c;
}

static inline domid_t combo_domid(uint32_t c)
{
	return (domid_t)(c >> 16);
}

static bool header_ok(uint32_t c, domid_t ldomid, bool mapflag)
{
	uint16_t mask = GTF_type_mask | (mapflag ? GTF_sub_page : 0);
	uint16_t f = combo_flags(c) & mask;

	if (combo_domid(c) != ldomid)
		return false;
	return f == GTF_permit_access;
}

static int16_t set_status_v1(struct grant_table *gt, uint32_t ref, domid_t ldomid,
			     bool readonly, bool mapflag, bool pinned)
{
	uint32_t *word = (uint32_t *)(void *)shared_entry_v1(gt, ref);
	uint32_t scombo = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	int retries = 0;

	for (;;) {
		uint32_t new = scombo | GTF_reading;

		if (!pinned && !header_ok(scombo, ldomid, mapflag)) {
			guest_log("d%u ref %u: bad flags %#x or domid %u (want %u)", gt->d->id,
				  ref, combo_flags(scombo), combo_domid(scombo), ldomid);
			return GNTST_general_error;
		}
		if (!readonly) {
			new |= GTF_writing;
			if (combo_flags(scombo) & GTF_readonly) {
				guest_log("attempt to write-pin a r/o grant entry");
				return GNTST_general_error;
			}
		}
		if (__atomic_compare_exchange_n(word, &scombo, new, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return GNTST_okay;
		if (retries++ == SET_STATUS_RETRIES) {
			guest_log("d%u ref %u: shared grant entry is unstable", gt->d->id, ref);
			return GNTST_general_error;
		}
	}
}

static bool header_ok_v2(uint32_t c, domid_t ldomid, bool mapflag)
{
	uint16_t mask = GTF_type_mask | (mapflag ? GTF_sub_page : 0);
	uint16_t f = combo_flags(c) & mask;

	if (combo_domid(c) != ldomid)
		return false;
	return f == GTF_permit_access || (!mapflag && f == GTF_transitive);
}

static int16_t set_status_v2(struct grant_table *gt, uint32_t ref, domid_t ldomid,
			     bool readonly, bool mapflag, bool pinned)
{
	uint32_t *word = (uint32_t *)(void *)&shared_entry_v2(gt, ref)->hdr;
	uint16_t *status = status_word(gt, ref);
	uint32_t scombo = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	if (!pinned && !header_ok_v2(scombo, ldomid, mapflag)) {
		guest_log("d%u ref %u: bad flags %#x or domid %u", gt->d->id, ref,
			  combo_flags(scombo), combo_domid(scombo));
		return GNTST_general_error;
	}
	if (!readonly && (combo_flags(scombo) & GTF_readonly)) {
		guest_log("attempt to write-pin a r/o grant entry");
		return GNTST_general_error;
	}
	/* The guest must see the status before we look at its header again:
	 * both accesses sequentially consistent (a full barrier between). */
	__atomic_fetch_or(status, (uint16_t)(GTF_reading | (readonly ? 0 : GTF_writing)),
			  __ATOMIC_SEQ_CST);
	scombo = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	if (!pinned) {
		if (!header_ok_v2(scombo, ldomid, mapflag) ||
		    (!readonly && (combo_flags(scombo) & GTF_readonly))) {
			__atomic_fetch_and(status, (uint16_t)~(GTF_reading | GTF_writing),
					   __ATOMIC_SEQ_CST);
			guest_log("d%u ref %u: unstable flags or domid", gt->d->id, ref);
			return GNTST_general_error;
		}
	} else if (combo_flags(scombo) & GTF_readonly) {
		__atomic_fetch_and(status, (uint16_t)~GTF_writing, __ATOMIC_SEQ_CST);
		guest_log("d%u ref %u: unstable grant readonly flag", gt->d->id, ref);
		return GNTST_general_error;
	}
	return GNTST_okay;
}

int16_t gt_set_status(struct grant_table *gt, uint32_t ref, domid_t ldomid,
		      bool readonly, bool mapflag, bool already_pinned)
{
	if (gt->version == 1)
		return set_status_v1(gt, ref, ldomid, readonly, mapflag, already_pinned);
	return set_status_v2(gt, ref, ldomid, readonly, mapflag, already_pinned);
}

void gt_reduce_status_for_pin(struct grant_table *gt, struct active_grant_entry *act,
			      uint32_t ref, bool readonly)
{
	uint16_t clear = act->pin ? 0 : GTF_reading;

	assert(plat_spin_held(&act->lock));
	if (!readonly && !(act->pin & (GNTPIN_hstw_mask | GNTPIN_devw_mask)))
		clear |= GTF_writing;
	/* Confined to the 16-bit word: the guest owns the bits around it. */
	if (clear)
		__atomic_fetch_and(status_word(gt, ref), (uint16_t)~clear, __ATOMIC_SEQ_CST);
}
