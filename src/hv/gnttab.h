/* SPDX-License-Identifier: MIT */
/*
 * Grant tables: the shared entries (v1/v2), the active entries with their
 * pin counts, maptrack, and the table-level operations. The lock order is
 * in docs/locking.md:
 *
 *   gt->lock (R or W)  ->  act->lock  ->  d->p2m_lock  ->  m->alloc_lock
 *   gt->maptrack_lock  ->  v->maptrack_freelist_lock
 *   m->domains_lock (R, lookups) may be taken under any of these; nothing
 *   is taken while holding it.
 *
 * Map changes the mapper's window with no grant lock held; unmap changes it
 * under the granter's table and active entry (Xen edits page tables there);
 * add_to_physmap and set_version hold the table lock across the physmap
 * change (XSA-486).
 */
#ifndef XGNT_HV_GNTTAB_H
#define XGNT_HV_GNTTAB_H

#include "domain.h"

#define GNTTAB_NR_RESERVED  8     /* GNTTAB_NR_RESERVED_ENTRIES */
#define SHGNT_PER_PAGE_V1   (PAGE_SIZE / sizeof(grant_entry_v1_t))   /* 512 */
#define SHGNT_PER_PAGE_V2   (PAGE_SIZE / sizeof(grant_entry_v2_t))   /* 256 */
#define STGNT_PER_PAGE      (PAGE_SIZE / sizeof(grant_status_t))     /* 2048 */
#define ACGNT_PER_CHUNK     SHGNT_PER_PAGE_V1  /* active entries per grant frame */
#define MAPTRACK_PER_PAGE   (PAGE_SIZE / sizeof(struct grant_mapping)) /* 256 */
#define MAPTRACK_TAIL       (~0u)

/*
 * Pin counts: four 8-bit counters packed in act->pin (Xen's layout).
 * A counter whose top bit is set refuses further pins (overflow guard),
 * so each class holds at most 128 pins.
 */
#define GNTPIN_hstw_shift    0
#define GNTPIN_hstr_shift    8
#define GNTPIN_devw_shift    16
#define GNTPIN_devr_shift    24
#define GNTPIN_hstw_inc      (1u << GNTPIN_hstw_shift)
#define GNTPIN_hstr_inc      (1u << GNTPIN_hstr_shift)
#define GNTPIN_devw_inc      (1u << GNTPIN_devw_shift)
#define GNTPIN_devr_inc      (1u << GNTPIN_devr_shift)
#define GNTPIN_hstw_mask     (0xFFu << GNTPIN_hstw_shift)
#define GNTPIN_hstr_mask     (0xFFu << GNTPIN_hstr_shift)
#define GNTPIN_devw_mask     (0xFFu << GNTPIN_devw_shift)
#define GNTPIN_devr_mask     (0xFFu << GNTPIN_devr_shift)
#define GNTPIN_incr2oflow_mask(inc) ((inc) << 7)   /* top bit of each counter touched */

struct active_grant_entry {
	plat_spin_t lock;        /* protects every field below, and the
				    maptrack entries that point at this entry */
	uint32_t pin;            /* packed counters, see above */
	domid_t domid;           /* pinned for this mapper */
	domid_t src_domid;       /* domain the frame comes from (transitive) */
	uint32_t trans_gref;     /* ref in src_domid (transitive), else this ref */
	uint64_t mfn;            /* machine frame pinned */
	uint16_t start;          /* sub-page window (copy only) */
	uint16_t length;
	bool is_sub_page;
};

/* Maptrack: what a mapper holds. 16 bytes, 256 per page, as in Xen. */
#define MAPKIND_host     GNTMAP_host_map
#define MAPKIND_device   GNTMAP_device_map
#define MAPKIND_readonly GNTMAP_readonly
struct grant_mapping {
	_Atomic uint32_t flags;  /* GNTMAP_host_map|device_map|readonly; 0: free.
				    Written last on publication; see map.c */
	domid_t domid;           /* granter */
	uint16_t pad;
	uint32_t ref;            /* granter's ref, or the free-list link */
	uint32_t vcpu;           /* vCPU whose free list owns the handle */
};

struct grant_table {
	/*
	 * lock protects: version, nr_grant_frames, nr_status_frames, the frame
	 * arrays and the active chunks (allocation, not contents). Readers:
	 * map, unmap, copy, query. Writers: grow, setup_table, set_version,
	 * swap_grant_ref, map_frame.
	 */
	plat_rwlock_t lock;
	unsigned int version;                 /* 1 or 2 */
	unsigned int nr_grant_frames;
	unsigned int nr_status_frames;
	unsigned int max_grant_frames;        /* immutable */
	uint64_t *shared_mfn;                 /* [max_grant_frames] */
	uint64_t *status_mfn;                 /* [grant_to_status_frames(max)] */
	struct active_grant_entry **active;   /* [max_grant_frames] chunks */

	/* Sub-page and transitive copies in flight (set_version -EAGAIN). */
	_Atomic unsigned int nr_v2_ops;

	/* This domain as a mapper. maptrack_lock protects growth of the
	 * maptrack pages; maptrack_limit is published after the page. */
	plat_mutex_t maptrack_lock;
	_Atomic uint32_t maptrack_limit;
	unsigned int max_maptrack_frames;     /* immutable */
	struct grant_mapping **maptrack;      /* [max_maptrack_frames] */

	struct xgnt_domain *d;                /* immutable */
};

static inline unsigned int grant_to_status_frames(unsigned int gf)
{
	return DIV_ROUND_UP(gf * SHGNT_PER_PAGE_V2, STGNT_PER_PAGE);
}

static inline unsigned int status_to_grant_frames(unsigned int sf)
{
	return DIV_ROUND_UP(sf * STGNT_PER_PAGE, SHGNT_PER_PAGE_V2);
}

static inline unsigned int nr_grant_entries(const struct grant_table *gt)
{
	return gt->nr_grant_frames *
	       (gt->version == 1 ? SHGNT_PER_PAGE_V1 : SHGNT_PER_PAGE_V2);
}

static inline struct active_grant_entry *active_entry(struct grant_table *gt, uint32_t ref)
{
	return &gt->active[ref / ACGNT_PER_CHUNK][ref % ACGNT_PER_CHUNK];
}

/* Xen's active_entry_acquire: the table lock (R or W) must be held. */
static inline struct active_grant_entry *active_entry_acquire(struct grant_table *gt,
							      uint32_t ref)
{
	struct active_grant_entry *act = active_entry(gt, ref);

	plat_spin_lock(&act->lock);
	return act;
}

static inline void active_entry_release(struct active_grant_entry *act)
{
	plat_spin_unlock(&act->lock);
}

/* Maptrack fields other than flags are read by racing unmaps (which then
 * fail the re-check under the active entry): relaxed atomics. */
#define MT_GET(mt, field)    __atomic_load_n(&(mt)->field, __ATOMIC_RELAXED)
#define MT_SET(mt, field, v) __atomic_store_n(&(mt)->field, (v), __ATOMIC_RELAXED)

static inline struct grant_mapping *maptrack_entry(struct grant_table *gt, uint32_t h)
{
	return &gt->maptrack[h / MAPTRACK_PER_PAGE][h % MAPTRACK_PER_PAGE];
}

/* ---- shared entries (entry.c); the table lock must be held ---- */

/* The 16-bit flags word of ref (v1 flags, v2 hdr.flags). */
uint16_t *shared_flags(struct grant_table *gt, uint32_t ref);
/* The word GTF_reading/GTF_writing live in (v1: flags; v2: status). */
uint16_t *status_word(struct grant_table *gt, uint32_t ref);
grant_entry_v1_t *shared_entry_v1(struct grant_table *gt, uint32_t ref);
grant_entry_v2_t *shared_entry_v2(struct grant_table *gt, uint32_t ref);

/*
 * Xen's _set_status: check the entry grants (type) to ldomid, with write
 * access unless readonly, and set GTF_reading (and GTF_writing). mapflag:
 * maps refuse sub-page entries. Bounded retries against a guest rewriting
 * the entry. Returns GNTST_okay or GNTST_general_error. v1 uses the
 * (flags,domid) 32-bit compare-and-swap; v2 sets the status word and
 * re-checks the header.
 */
int16_t gt_set_status(struct grant_table *gt, uint32_t ref, domid_t ldomid,
		      bool readonly, bool mapflag, bool already_pinned);
/* Xen's reduce_status_for_pin: clear GTF_writing / GTF_reading as the pins allow. */
void gt_reduce_status_for_pin(struct grant_table *gt, struct active_grant_entry *act,
			      uint32_t ref, bool readonly);
/* Frame number the granter wrote (v1 frame, v2 full_page.frame). */
uint64_t gt_entry_frame(struct grant_table *gt, uint32_t ref);

/* ---- table (table.c) ---- */
struct grant_table *gt_create(struct xgnt_domain *d, unsigned int max_grant_frames,
			      unsigned int max_maptrack_frames, unsigned int version);
void gt_destroy(struct grant_table *gt);
/* Grow to at least req frames; table write lock held. 0 or -errno. */
int gt_grow(struct grant_table *gt, unsigned int req);
/* XENMAPSPACE_grant_table: the frame for idx (may grow the table),
 * with a page ref taken. Called with the write lock held. */
int gt_map_frame(struct grant_table *gt, uint64_t idx, uint64_t *mfn, bool *status);
/* The gfn (translated) or mfn (PV) a guest knows frame i by. */
uint64_t gt_frame_gmfn(struct grant_table *gt, uint64_t mfn);

/* ---- maptrack (maptrack.c) ---- */
/* A free handle for vCPU v of the mapper, or -1 (limit reached). */
int64_t mt_get_handle(struct grant_table *lgt, struct xgnt_vcpu *v);
void mt_put_handle(struct grant_table *lgt, uint32_t handle);
void mt_destroy(struct grant_table *gt);

/* ---- operations: each writes per-op status, returns 0 or -errno ---- */
long gnttab_map_grant_ref(struct xgnt_vcpu *v, struct gnttab_map_grant_ref *op, unsigned int count);
long gnttab_unmap_grant_ref(struct xgnt_vcpu *v, struct gnttab_unmap_grant_ref *op, unsigned int count);
long gnttab_unmap_and_replace(struct xgnt_vcpu *v, struct gnttab_unmap_and_replace *op, unsigned int count);
long gnttab_setup_table(struct xgnt_vcpu *v, struct gnttab_setup_table *op, unsigned int count);
long gnttab_query_size(struct xgnt_vcpu *v, struct gnttab_query_size *op, unsigned int count);
long gnttab_set_version(struct xgnt_vcpu *v, struct gnttab_set_version *op, unsigned int count);
long gnttab_get_version(struct xgnt_vcpu *v, struct gnttab_get_version *op, unsigned int count);
long gnttab_get_status_frames(struct xgnt_vcpu *v, struct gnttab_get_status_frames *op, unsigned int count);
long gnttab_swap_grant_ref(struct xgnt_vcpu *v, struct gnttab_swap_grant_ref *op, unsigned int count);
long gnttab_copy(struct xgnt_vcpu *v, struct gnttab_copy *op, unsigned int count);
long gnttab_transfer(struct xgnt_vcpu *v, struct gnttab_transfer *op, unsigned int count);
long gnttab_cache_flush(struct xgnt_vcpu *v, struct gnttab_cache_flush *op, unsigned int count);

/* Domain destruction: release every mapping d holds of others' grants
 * (Xen's gnttab_release_mappings). */
void gnttab_release_mappings(struct xgnt_domain *d);

#endif /* XGNT_HV_GNTTAB_H */
