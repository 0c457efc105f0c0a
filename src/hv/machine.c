/* SPDX-License-Identifier: MIT */
/* Machine memory (a memfd of frames), the frame allocator and page refs. */
#include "machine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "domain.h"

#define DEFAULT_NR_FRAMES           262144u
#define DEFAULT_MAX_GRANT_FRAMES    64u
#define DEFAULT_MAX_MAPTRACK_FRAMES 1024u
/* Bounds that keep frame numbers in 32 bits with room for iomem. */
#define MAX_NR_FRAMES               (1u << 26)   /* 256 GiB */

/* vm.max_map_count less what the rest of the process may need. */
static int64_t default_vma_limit(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long long n = 65530;

	if (f) {
		if (fscanf(f, "%lld", &n) != 1)
			n = 65530;
		fclose(f);
	}
	return n - MAX(4096, n / 8);
}

struct xgnt_machine *xgnt_machine_create(const struct xgnt_machine_config *cfg)
{
	struct xgnt_machine_config c = { 0 };
	struct xgnt_machine *m;
	uint64_t total, bytes, i;
	int err = ENOMEM;

	if (cfg)
		c = *cfg;
	if (!c.nr_frames)
		c.nr_frames = DEFAULT_NR_FRAMES;
	if (!c.max_grant_frames)
		c.max_grant_frames = DEFAULT_MAX_GRANT_FRAMES;
	if (!c.max_maptrack_frames)
		c.max_maptrack_frames = DEFAULT_MAX_MAPTRACK_FRAMES;
	if (!c.max_grant_version)
		c.max_grant_version = 2;
	if (c.nr_frames > MAX_NR_FRAMES || c.nr_iomem_frames > MAX_NR_FRAMES ||
	    c.max_grant_version > 2 || c.max_grant_frames > 4096 ||
	    c.max_maptrack_frames > 65536) {
		errno = EINVAL;
		return NULL;
	}

	m = calloc(1, sizeof(*m));
	if (!m)
		goto fail;
	m->memfd = -1;
	m->base = MAP_FAILED;
	m->nr_frames = c.nr_frames;
	m->nr_iomem_frames = c.nr_iomem_frames;
	m->max_grant_frames = c.max_grant_frames;
	m->max_maptrack_frames = c.max_maptrack_frames;
	m->max_grant_version = c.max_grant_version;
	total = (uint64_t)c.nr_frames + c.nr_iomem_frames;
	bytes = total << PAGE_SHIFT;

	m->memfd = memfd_create("xgnt-machine", MFD_CLOEXEC);
	if (m->memfd < 0 || ftruncate(m->memfd, (off_t)bytes) < 0) {
		err = errno;
		goto fail;
	}
	m->base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       m->memfd, 0);
	if (m->base == MAP_FAILED) {
		err = errno;
		goto fail;
	}
	m->pages = calloc(total, sizeof(*m->pages));
	m->bitmap = calloc(DIV_ROUND_UP(c.nr_frames, 64), sizeof(uint64_t));
	if (!m->pages || !m->bitmap)
		goto fail;
	for (i = 0; i < total; i++)
		atomic_init(&m->pages[i].gpfn, INVALID_GPFN);
	for (i = c.nr_frames; i < total; i++) {
		/* iomem is never allocated or freed: one permanent reference. */
		atomic_init(&m->pages[i].kind, PGK_IOMEM);
		atomic_init(&m->pages[i].count_info, 1);
	}
	m->nr_free = c.nr_frames;
	m->vma_limit = c.max_vmas ? (int64_t)c.max_vmas : default_vma_limit();
	plat_mutex_init(&m->alloc_lock);
	plat_rwlock_init(&m->domains_lock);
	return m;

fail:
	if (m) {
		free(m->bitmap);
		free(m->pages);
		if (m->base != MAP_FAILED)
			munmap(m->base, bytes);
		if (m->memfd >= 0)
			close(m->memfd);
		free(m);
	}
	errno = err;
	return NULL;
}

void xgnt_machine_destroy(struct xgnt_machine *m)
{
	struct xgnt_domain *d;
	unsigned int id = 0;

	if (!m)
		return;
	while ((d = dom_lookup_next(m, &id))) {
		put_domain(d);
		xgnt_domain_destroy(d);
	}
	/* Zombies (frames still mapped by a domain destroyed later in the
	 * loop) have been released by then: every table slot is empty. */
	for (id = 0; id < DOMID_FIRST_RESERVED; id++)
		assert(m->domains[id] == NULL);
	munmap(m->base, ((uint64_t)m->nr_frames + m->nr_iomem_frames) << PAGE_SHIFT);
	close(m->memfd);
	plat_rwlock_destroy(&m->domains_lock);
	plat_mutex_destroy(&m->alloc_lock);
	free(m->bitmap);
	free(m->pages);
	free(m);
}

int xgnt_machine_memfd(struct xgnt_machine *m, uint64_t *nr_frames)
{
	if (nr_frames)
		*nr_frames = (uint64_t)m->nr_frames + m->nr_iomem_frames;
	return m->memfd;
}

uint32_t xgnt_machine_free_frames(struct xgnt_machine *m)
{
	uint32_t n;

	plat_mutex_lock(&m->alloc_lock);
	n = m->nr_free;
	plat_mutex_unlock(&m->alloc_lock);
	return n;
}

static bool bit_test(const uint64_t *bm, uint64_t i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

static void bits_set(uint64_t *bm, uint64_t i, uint64_t n, bool on)
{
	for (; n; n--, i++) {
		if (on)
			bm[i / 64] |= 1ull << (i % 64);
		else
			bm[i / 64] &= ~(1ull << (i % 64));
	}
}

/* First free aligned run of n frames at or after start; locked. */
static uint64_t find_run(struct xgnt_machine *m, uint64_t start, uint64_t n)
{
	uint64_t i = start & ~(n - 1), j;

	while (i + n <= m->nr_frames) {
		if (n == 1 && m->bitmap[i / 64] == ~0ull) {
			i = (i | 63) + 1;   /* skip a full word */
			continue;
		}
		for (j = 0; j < n && !bit_test(m->bitmap, i + j); j++)
			;
		if (j == n)
			return i;
		i += n;
	}
	return INVALID_MFN;
}

uint64_t mach_alloc_frames(struct xgnt_machine *m, struct xgnt_domain *d,
			   unsigned int order, enum page_kind kind)
{
	uint64_t n = 1ull << order, mfn, i;

	if (order > 20 || plat_alloc_should_fail())
		return INVALID_MFN;
	plat_mutex_lock(&m->alloc_lock);
	if (m->nr_free < n) {
		plat_mutex_unlock(&m->alloc_lock);
		return INVALID_MFN;
	}
	mfn = find_run(m, m->hint, n);
	if (mfn == INVALID_MFN)
		mfn = find_run(m, 0, n);
	if (mfn == INVALID_MFN) {
		plat_mutex_unlock(&m->alloc_lock);
		return INVALID_MFN;
	}
	bits_set(m->bitmap, mfn, n, true);
	m->nr_free -= (uint32_t)n;
	m->hint = (uint32_t)(mfn + n);
	plat_mutex_unlock(&m->alloc_lock);

	/* RAM frames keep their owner alive (Xen's tot_pages reference);
	 * Xen-heap frames belong to structures the domain frees itself. */
	if (kind == PGK_RAM && atomic_fetch_add(&d->tot_pages, (uint32_t)n) == 0)
		get_domain(d);
	for (i = mfn; i < mfn + n; i++) {
		struct page_info *pg = mfn_to_page(m, i);

		atomic_store_explicit(&pg->owner, d, memory_order_relaxed);
		atomic_store_explicit(&pg->kind, (uint8_t)kind, memory_order_relaxed);
		atomic_store_explicit(&pg->gpfn, INVALID_GPFN, memory_order_relaxed);
		atomic_store_explicit(&pg->count_info,
				      kind == PGK_RAM ? (PGC_allocated | 1) : 1,
				      memory_order_release);
	}
	return mfn;
}

bool get_page(struct xgnt_machine *m, uint64_t mfn, struct xgnt_domain *d)
{
	struct page_info *pg;
	uint32_t x;

	if (!mfn_valid(m, mfn))
		return false;
	pg = mfn_to_page(m, mfn);
	x = atomic_load_explicit(&pg->count_info, memory_order_acquire);
	do {
		if ((x & PGC_count_mask) == 0 || (x & PGC_count_mask) == PGC_count_mask)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&pg->count_info, &x, x + 1,
							memory_order_acquire,
							memory_order_acquire));
	/* Owner changes only while a frame is free or being stolen with no
	 * other reference; with ours held, a mismatch is final. */
	if (atomic_load_explicit(&pg->owner, memory_order_acquire) != d) {
		put_page(m, mfn);
		return false;
	}
	return true;
}

void get_page_ref(struct xgnt_machine *m, uint64_t mfn)
{
	uint32_t old = atomic_fetch_add_explicit(&mfn_to_page(m, mfn)->count_info, 1,
						 memory_order_relaxed);

	assert((old & PGC_count_mask) != 0);
	(void)old;
}

static void free_frame(struct xgnt_machine *m, uint64_t mfn)
{
	struct page_info *pg = mfn_to_page(m, mfn);
	struct xgnt_domain *owner = atomic_load_explicit(&pg->owner, memory_order_acquire);
	bool ram = atomic_load_explicit(&pg->kind, memory_order_relaxed) == PGK_RAM;

	/* Scrub before the frame can reach anyone else. */
	memset(mfn_to_virt(m, mfn), 0, PAGE_SIZE);
	atomic_store_explicit(&pg->owner, NULL, memory_order_relaxed);
	atomic_store_explicit(&pg->kind, PGK_FREE, memory_order_relaxed);
	atomic_store_explicit(&pg->gpfn, INVALID_GPFN, memory_order_relaxed);
	plat_mutex_lock(&m->alloc_lock);
	assert(bit_test(m->bitmap, mfn));
	bits_set(m->bitmap, mfn, 1, false);
	m->nr_free++;
	if (mfn < m->hint)
		m->hint = (uint32_t)mfn;
	plat_mutex_unlock(&m->alloc_lock);
	if (owner && ram && atomic_fetch_sub(&owner->tot_pages, 1) == 1)
		dom_frame_freed(owner);
}

void put_page(struct xgnt_machine *m, uint64_t mfn)
{
	struct page_info *pg = mfn_to_page(m, mfn);
	uint32_t x = atomic_load_explicit(&pg->count_info, memory_order_relaxed);
	uint32_t nx;

	if (mfn_is_iomem(m, mfn))
		return;
	do {
		assert((x & PGC_count_mask) != 0);
		nx = x - 1;
		/* The last reference cannot stay "allocated". */
		if ((nx & PGC_count_mask) == 0)
			nx = 0;
	} while (!atomic_compare_exchange_weak_explicit(&pg->count_info, &x, nx,
							memory_order_acq_rel,
							memory_order_relaxed));
	if (nx == 0)
		free_frame(m, mfn);
}

bool page_release_allocated(struct xgnt_machine *m, uint64_t mfn)
{
	struct page_info *pg = mfn_to_page(m, mfn);
	uint32_t x = atomic_fetch_and_explicit(&pg->count_info, ~PGC_allocated,
					       memory_order_acq_rel);

	if (!(x & PGC_allocated))
		return false;
	put_page(m, mfn);    /* the reference PGC_allocated held */
	return true;
}

