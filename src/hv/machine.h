/* SPDX-License-Identifier: MIT */
/*
 * Machine memory: one memfd of 4 KiB frames, the frame allocator, and the
 * per-frame page_info (owner, reference count, m2p). Also the domain table.
 */
#ifndef XGNT_HV_MACHINE_H
#define XGNT_HV_MACHINE_H

#include <xgnt/hv.h>

#include "../plat/plat.h"

/*
 * page_info.count_info layout (Xen's, reduced):
 *   bit 31      PGC_allocated: the owner holds this frame as its memory
 *   bits 0..30  references: one per address-space slot that shows the frame,
 *               one per grant mapping, one per copy in flight, one held by
 *               PGC_allocated, and for Xen-heap frames one held by the
 *               structure that owns them (the grant table, shared_info).
 * A frame returns to the allocator when the reference count drops to 0.
 */
#define PGC_allocated   (1u << 31)
#define PGC_count_mask  (PGC_allocated - 1)

enum page_kind {
	PGK_FREE = 0,
	PGK_RAM,      /* a domain's memory (may be transferred) */
	PGK_XENHEAP,  /* hypervisor page shared with one domain: grant table, shared_info */
	PGK_IOMEM,    /* not RAM; never allocated (xgnt iomem extension) */
};

#define INVALID_GPFN  UINT32_MAX

struct page_info {
	_Atomic uint32_t count_info;
	_Atomic uint8_t kind;                  /* enum page_kind */
	struct xgnt_domain *_Atomic owner;     /* NULL while free */
	_Atomic uint32_t gpfn;                 /* m2p: where the owner shows it, or INVALID_GPFN */
};

struct xgnt_machine {
	/* Immutable after creation. */
	int memfd;
	uint8_t *base;                 /* the hypervisor's view of every frame */
	uint32_t nr_frames;            /* RAM frames */
	uint32_t nr_iomem_frames;      /* iomem frames follow RAM */
	uint32_t max_grant_frames;
	uint32_t max_maptrack_frames;
	uint32_t max_grant_version;
	struct page_info *pages;       /* [nr_frames + nr_iomem_frames] */
	int64_t vma_limit;

	/* Kernel mappings the windows use (exact count of their runs), and
	 * grant slots, each of which may need two more to be revoked. */
	_Atomic int64_t vma_est;
	_Atomic int64_t grant_slots;

	/* alloc_lock protects bitmap, hint and nr_free. Leaf lock. */
	plat_mutex_t alloc_lock;
	uint64_t *bitmap;              /* bit set: frame in use */
	uint32_t hint;
	uint32_t nr_free;

	/* domains_lock protects domains[] (write: create, final removal). */
	plat_rwlock_t domains_lock;
	struct xgnt_domain *domains[DOMID_FIRST_RESERVED];
};

static inline void *mfn_to_virt(struct xgnt_machine *m, uint64_t mfn)
{
	return m->base + (mfn << PAGE_SHIFT);
}

static inline bool mfn_valid(const struct xgnt_machine *m, uint64_t mfn)
{
	return mfn < (uint64_t)m->nr_frames + m->nr_iomem_frames;
}

static inline bool mfn_is_iomem(const struct xgnt_machine *m, uint64_t mfn)
{
	return mfn >= m->nr_frames && mfn_valid(m, mfn);
}

static inline struct page_info *mfn_to_page(struct xgnt_machine *m, uint64_t mfn)
{
	return &m->pages[mfn];
}

/*
 * Allocate 2^order contiguous, aligned frames for d: owner d, the given
 * kind, one reference (held by PGC_allocated for RAM, by the owning
 * structure for Xen-heap frames). Frames are zero (scrubbed when freed).
 * Returns the first mfn, or INVALID_MFN. RAM counts in d->tot_pages.
 */
uint64_t mach_alloc_frames(struct xgnt_machine *m, struct xgnt_domain *d,
			   unsigned int order, enum page_kind kind);

/* Xen's get_page(page, d): a reference if the frame is live and owned by d. */
bool get_page(struct xgnt_machine *m, uint64_t mfn, struct xgnt_domain *d);
/* Another reference to a frame the caller already holds a reference to. */
void get_page_ref(struct xgnt_machine *m, uint64_t mfn);
/* Drop a reference; the last one frees the frame (scrubbed). */
void put_page(struct xgnt_machine *m, uint64_t mfn);
/* Drop PGC_allocated (the owner gives the frame up) if set; true if it was. */
bool page_release_allocated(struct xgnt_machine *m, uint64_t mfn);


#endif /* XGNT_HV_MACHINE_H */
