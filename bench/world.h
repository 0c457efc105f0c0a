/* SPDX-License-Identifier: MIT */
/*
 * The machines the benchmarks measure: a frontend domain (the granter,
 * through the guest library) and a backend domain (the mapper, through
 * raw hypercalls on its vCPU 0, translated, mapping into its extended
 * region), as a split driver pairs them. And the floors: the same work
 * done by the kernel and the CPU with no hypervisor logic at all.
 */
#ifndef XGNT_BENCH_WORLD_H
#define XGNT_BENCH_WORLD_H

#include <stddef.h>
#include <string.h>

#include <xgnt/hv.h>
#include <xgnt/guest.h>

#include "bench.h"

#define PAGE 4096u

/* Immutable between pair_create and pair_destroy. */
struct pair {
	struct xgnt_domain *gd, *md;   /* granter (frontend), mapper (backend) */
	struct xgnt_guest *g;          /* the granter's guest library */
	struct xgnt_vcpu *mv;          /* the mapper's vCPU 0 */
	domid_t gid, mid;
	uint64_t raw_gt_base;          /* mapper: where its own grant frames may go */
	uint64_t map_base;             /* mapper: where foreign pages are mapped */
	uint8_t *pages;                /* granter: npages contiguous pages of RAM */
	grant_ref_t *refs;             /* refs[i] grants pages[i] to the mapper, writable */
	unsigned int npages;
	uint8_t *dst;                  /* mapper: its RAM from gfn 0 (copy destinations) */
	unsigned int dst_pages;
};

/* A machine with nr_frames of memory and per-domain grant frame limit
 * max_grant_frames (0: the default). Fails the run on error. */
struct xgnt_machine *world_machine(uint32_t nr_frames, uint32_t max_grant_frames);

/*
 * Domains gid (granter) and gid + 1 (mapper): the granter has granter_ram
 * frames of RAM and a v1 grant table set up by the guest library, and
 * grants npages pages of it (page i tagged with i in its first word); the
 * mapper has 64 frames of RAM. Fails the run on error.
 */
void pair_create(struct pair *p, struct xgnt_machine *m, domid_t gid, unsigned int npages,
		 uint32_t granter_ram);
/* Ends the grants, destroys the guest context and both domains. */
void pair_destroy(struct pair *p);

/* Map refs[first .. first + n) at map_base + slot pages; unmap those. One
 * hypercall each, every status checked. */
void pair_map(struct pair *p, struct gnttab_map_grant_ref *ops, unsigned int first,
	      unsigned int slot, unsigned int n);
void pair_unmap(struct pair *p, const struct gnttab_map_grant_ref *maps,
		struct gnttab_unmap_grant_ref *ops, unsigned int n);

/* ---- floors -------------------------------------------------------------- */

/*
 * The mmap floor: a memfd of npages pages and a reserved, inaccessible
 * region of nslots pages, made and changed with exactly the calls the
 * hypervisor uses for a domain's window (see src/hv/p2m.c).
 */
struct mmap_floor {
	int fd;
	uint8_t *base;
	size_t npages, nslots;
};
void mfloor_create(struct mmap_floor *f, size_t npages, size_t nslots);
void mfloor_destroy(struct mmap_floor *f);
/* Show memfd page `page` at slot `slot` (read-write, shared). */
void mfloor_map(struct mmap_floor *f, size_t slot, size_t page);
/* Make slots [slot, slot + n) inaccessible again with one call. */
void mfloor_clear(struct mmap_floor *f, size_t slot, size_t n);

/* The memcpy floor: a copy the compiler cannot drop. */
static inline void floor_memcpy(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
	bench_clobber(dst);
}

#endif /* XGNT_BENCH_WORLD_H */
