/* SPDX-License-Identifier: MIT */
/* The benchmarks' machines, domain pairs and floors; see world.h. */
#include "world.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The mapper's extended region: room for its own grant frames (the raw
 * grant benchmark), then foreign mappings. */
#define RAW_GT_PAGES 4096u
#define MAPPER_RAM   64u

struct xgnt_machine *world_machine(uint32_t nr_frames, uint32_t max_grant_frames)
{
	struct xgnt_machine_config c = {
		.nr_frames = nr_frames,
		.max_grant_frames = max_grant_frames,
	};
	struct xgnt_machine *m = xgnt_machine_create(&c);

	BENCH_CHECK(m, "xgnt_machine_create: errno %d", errno);
	return m;
}

static struct xgnt_domain *domain(struct xgnt_machine *m, domid_t id, uint32_t ram)
{
	struct xgnt_domain_config c = {
		.domid = id,
		.type = XGNT_DOMAIN_HVM,
		.ram_frames = ram,
		.ext_frames = 262144,   /* 1 GiB: grant frames and mappings */
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	BENCH_CHECK(d, "xgnt_domain_create(%u): errno %d", id, errno);
	return d;
}

void pair_create(struct pair *p, struct xgnt_machine *m, domid_t gid, unsigned int npages,
		 uint32_t granter_ram)
{
	struct xgnt_domain_layout l;
	int rc;

	memset(p, 0, sizeof(*p));
	p->gid = gid;
	p->mid = (domid_t)(gid + 1);
	p->gd = domain(m, p->gid, granter_ram);
	p->md = domain(m, p->mid, MAPPER_RAM);
	p->mv = xgnt_domain_vcpu(p->md, 0);
	xgnt_domain_layout(p->md, &l);
	p->raw_gt_base = l.ext_base;
	p->map_base = l.ext_base + ((uint64_t)RAW_GT_PAGES << 12);
	p->dst = xgnt_domain_va(p->md, 0);
	p->dst_pages = MAPPER_RAM;

	p->g = xgnt_guest_create_inproc(p->gd);
	BENCH_CHECK(p->g, "xgnt_guest_create_inproc: errno %d", errno);
	rc = xgnt_gnttab_init(p->g, 1);
	BENCH_CHECK(rc == 0, "xgnt_gnttab_init: %d", rc);

	p->npages = npages;
	if (!npages)
		return;
	p->pages = xgnt_page_alloc(p->g, npages);
	BENCH_CHECK(p->pages, "xgnt_page_alloc(%u) failed", npages);
	p->refs = calloc(npages, sizeof(*p->refs));
	BENCH_CHECK(p->refs, "out of memory");
	for (unsigned int i = 0; i < npages; i++) {
		uint8_t *page = p->pages + (size_t)i * PAGE;

		memcpy(page, &(uint64_t){ i }, sizeof(uint64_t));
		rc = xgnt_grant_access(p->g, p->mid, xgnt_guest_frame(p->g, page), false,
				       &p->refs[i]);
		BENCH_CHECK(rc == 0, "xgnt_grant_access: %d", rc);
	}
}

void pair_destroy(struct pair *p)
{
	int rc;

	for (unsigned int i = 0; i < p->npages; i++) {
		rc = xgnt_end_access(p->g, p->refs[i]);
		BENCH_CHECK(rc == 0, "xgnt_end_access(%u): %d (still mapped?)", p->refs[i], rc);
	}
	free(p->refs);
	xgnt_guest_destroy(p->g);
	rc = xgnt_domain_destroy(p->md);
	BENCH_CHECK(rc == 0, "xgnt_domain_destroy: %d", rc);
	rc = xgnt_domain_destroy(p->gd);
	BENCH_CHECK(rc == 0, "xgnt_domain_destroy: %d", rc);
	memset(p, 0, sizeof(*p));
}

void pair_map(struct pair *p, struct gnttab_map_grant_ref *ops, unsigned int first,
	      unsigned int slot, unsigned int n)
{
	long rc;

	for (unsigned int i = 0; i < n; i++)
		ops[i] = (struct gnttab_map_grant_ref){
			.host_addr = p->map_base + ((uint64_t)(slot + i) << 12),
			.flags = GNTMAP_host_map,
			.ref = p->refs[first + i],
			.dom = p->gid,
		};
	rc = xgnt_grant_table_op(p->mv, GNTTABOP_map_grant_ref, ops, n);
	BENCH_CHECK(rc == 0, "map_grant_ref: %ld", rc);
	for (unsigned int i = 0; i < n; i++)
		BENCH_CHECK(ops[i].status == GNTST_okay, "map_grant_ref[%u]: %s", i,
			    xgnt_gnttabop_error(ops[i].status));
}

void pair_unmap(struct pair *p, const struct gnttab_map_grant_ref *maps,
		struct gnttab_unmap_grant_ref *ops, unsigned int n)
{
	long rc;

	for (unsigned int i = 0; i < n; i++)
		ops[i] = (struct gnttab_unmap_grant_ref){
			.host_addr = maps[i].host_addr,
			.handle = maps[i].handle,
		};
	rc = xgnt_grant_table_op(p->mv, GNTTABOP_unmap_grant_ref, ops, n);
	BENCH_CHECK(rc == 0, "unmap_grant_ref: %ld", rc);
	for (unsigned int i = 0; i < n; i++)
		BENCH_CHECK(ops[i].status == GNTST_okay, "unmap_grant_ref[%u]: %s", i,
			    xgnt_gnttabop_error(ops[i].status));
}

/* ---- the mmap floor --------------------------------------------------------- */

void mfloor_create(struct mmap_floor *f, size_t npages, size_t nslots)
{
	f->npages = npages;
	f->nslots = nslots;
	f->fd = memfd_create("xgnt-bench-floor", MFD_CLOEXEC);
	BENCH_CHECK(f->fd >= 0, "memfd_create: errno %d", errno);
	BENCH_CHECK(ftruncate(f->fd, (off_t)(npages * PAGE)) == 0, "ftruncate: errno %d", errno);
	/* As a domain's window: reserved, inaccessible, nothing committed. */
	f->base = mmap(NULL, nslots * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	BENCH_CHECK(f->base != MAP_FAILED, "mmap: errno %d", errno);
}

void mfloor_destroy(struct mmap_floor *f)
{
	munmap(f->base, f->nslots * PAGE);
	close(f->fd);
}

void mfloor_map(struct mmap_floor *f, size_t slot, size_t page)
{
	void *p = mmap(f->base + slot * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		       f->fd, (off_t)(page * PAGE));

	BENCH_CHECK(p != MAP_FAILED, "floor mmap: errno %d", errno);
}

void mfloor_clear(struct mmap_floor *f, size_t slot, size_t n)
{
	void *p = mmap(f->base + slot * PAGE, n * PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);

	BENCH_CHECK(p != MAP_FAILED, "floor mmap (clear): errno %d", errno);
}
