/* SPDX-License-Identifier: MIT */
/*
 * Map + unmap per page, in batches of 1, 32 and 256 (one hypercall each
 * way per batch), through the hypervisor API: a translated backend maps a
 * frontend's grants into its extended region. The floor does what the
 * hypervisor must do to the mapper's address space for the same pages:
 * mmap(MAP_SHARED|MAP_FIXED) of each memfd page, then an inaccessible page
 * put back, page by page, and (the tighter floor for a batch) with one
 * ranged call.
 */
#include "world.h"

#include <stdio.h>

#define MAX_BATCH 256
#define TARGET    1.3
/* Floor slots start inside the reservation, as the backend's do inside
 * its window: a mapping splits the region on both sides. */
#define SLOT0     8

/* Mapped pages show the frontend's data and take the backend's writes. */
static void verify(struct pair *p, struct gnttab_map_grant_ref *maps,
		   struct gnttab_unmap_grant_ref *unmaps)
{
	pair_map(p, maps, 0, 0, MAX_BATCH);
	for (unsigned int i = 0; i < MAX_BATCH; i++) {
		uint64_t *v = xgnt_domain_va(p->md, maps[i].host_addr), tag;

		BENCH_CHECK(v && *v == i, "mapped page %u shows %llu", i,
			    v ? (unsigned long long)*v : 0ull);
		v[1] = 0x5eed0000u + i;
		memcpy(&tag, p->pages + (size_t)i * PAGE + 8, sizeof(tag));
		BENCH_CHECK(tag == 0x5eed0000u + i, "write through mapping %u not seen", i);
		BENCH_CHECK(xgnt_grant_in_use(p->g, p->refs[i]), "ref %u not marked in use", i);
	}
	pair_unmap(p, maps, unmaps, MAX_BATCH);
	for (unsigned int i = 0; i < MAX_BATCH; i++)
		BENCH_CHECK(!xgnt_grant_in_use(p->g, p->refs[i]), "ref %u in use after unmap", i);
}

/* xgnt: rounds of map b, unmap b. Adds each phase's time. */
static void run_xgnt(struct pair *p, unsigned int b, unsigned int rounds,
		     struct gnttab_map_grant_ref *maps, struct gnttab_unmap_grant_ref *unmaps,
		     int64_t *map_ns, int64_t *unmap_ns)
{
	for (unsigned int r = 0; r < rounds; r++) {
		/* Rotate through the granted pages, as a backend's requests do. */
		unsigned int first = (r * b) % MAX_BATCH;
		int64_t t0 = bench_now(), t1, t2;

		first = first + b > MAX_BATCH ? 0 : first;
		pair_map(p, maps, first, 0, b);
		t1 = bench_now();
		pair_unmap(p, maps, unmaps, b);
		t2 = bench_now();
		*map_ns += t1 - t0;
		*unmap_ns += t2 - t1;
	}
}

/* The floor: the same pages shown and taken away; ranged: one call out. */
static void run_floor(struct mmap_floor *f, unsigned int b, unsigned int rounds, bool ranged,
		      int64_t *map_ns, int64_t *unmap_ns)
{
	for (unsigned int r = 0; r < rounds; r++) {
		unsigned int first = (r * b) % MAX_BATCH;
		int64_t t0 = bench_now(), t1, t2;

		first = first + b > MAX_BATCH ? 0 : first;
		for (unsigned int i = 0; i < b; i++)
			mfloor_map(f, SLOT0 + i, first + i);
		t1 = bench_now();
		if (ranged)
			mfloor_clear(f, SLOT0, b);
		else
			for (unsigned int i = 0; i < b; i++)
				mfloor_clear(f, SLOT0 + i, 1);
		t2 = bench_now();
		*map_ns += t1 - t0;
		*unmap_ns += t2 - t1;
	}
}

static void one_batch(struct pair *p, struct mmap_floor *f, unsigned int b,
		      struct gnttab_map_grant_ref *maps, struct gnttab_unmap_grant_ref *unmaps)
{
	unsigned int pages = bench_iters(32768, 1024), rounds = pages / b;
	struct samples fm = { 0 }, fu = { 0 }, rm = { 0 }, ru = { 0 }, xm = { 0 }, xu = { 0 };
	struct bench_result r, rr;
	double n = (double)rounds * b;

	result_init(&r, "map", "mmap + replace, page by page", "map + unmap, batch %u", b);
	result_init(&rr, "map", "mmap + one ranged replace", "map + unmap, batch %u", b);
	snprintf(rr.note, sizeof(rr.note), "floor: the batch replaced with one ranged call");
	r.n = rr.n = b;
	r.target = rr.target = TARGET;
	run_xgnt(p, b, rounds / 8 + 1, maps, unmaps, &(int64_t){ 0 }, &(int64_t){ 0 });   /* warm */
	for (unsigned int rep = 0; rep < bench_cfg.reps; rep++) {
		int64_t a = 0, u = 0;

		run_floor(f, b, rounds, false, &a, &u);
		samples_add(&fm, a / n);
		samples_add(&fu, u / n);
		samples_add(&r.fs, (a + u) / n);
		if (b > 1) {
			a = u = 0;
			run_floor(f, b, rounds, true, &a, &u);
			samples_add(&rm, a / n);
			samples_add(&ru, u / n);
			samples_add(&rr.fs, (a + u) / n);
		}
		a = u = 0;
		run_xgnt(p, b, rounds, maps, unmaps, &a, &u);
		samples_add(&xm, a / n);
		samples_add(&xu, u / n);
		samples_add(&r.xs, (a + u) / n);
		samples_add(&rr.xs, (a + u) / n);
		r.ops += 2ull * rounds * b;
	}
	rr.ops = r.ops;
	result_phase(&r, "map", samples_median(&xm), samples_median(&fm));
	result_phase(&r, "unmap", samples_median(&xu), samples_median(&fu));
	bench_report(&r);
	if (b > 1) {
		result_phase(&rr, "unmap (ranged floor)", samples_median(&xu), samples_median(&ru));
		bench_report(&rr);
	}
}

void bench_map(void)
{
	static struct gnttab_map_grant_ref maps[MAX_BATCH];
	static struct gnttab_unmap_grant_ref unmaps[MAX_BATCH];
	static const unsigned int batches[] = { 1, 32, 256 };
	struct xgnt_machine *m = world_machine(65536, 0);
	struct mmap_floor f;
	struct pair p;

	pair_create(&p, m, 1, MAX_BATCH, 1024);
	mfloor_create(&f, MAX_BATCH, MAX_BATCH + 2 * SLOT0);
	verify(&p, maps, unmaps);
	for (unsigned int i = 0; i < sizeof(batches) / sizeof(batches[0]); i++)
		one_batch(&p, &f, batches[i], maps, unmaps);
	verify(&p, maps, unmaps);
	mfloor_destroy(&f);
	pair_destroy(&p);
	xgnt_machine_destroy(m);
}
