/* SPDX-License-Identifier: MIT */
/*
 * Scaling: N threads (1, 2, 4), each the backend vCPU of its own domain
 * pair on one machine, mapping and unmapping (batch 1) or grant-copying
 * 64 KiB. The floor does the same in N threads of this process: mmap +
 * replace on one shared memfd (the machine's memory is one memfd too),
 * and memcpy. Figures are aggregate: wall time over all threads' ops.
 * The floor's own scaling is the yardstick (performance-floors.md: page
 * mapping by threads of one process serialises in the kernel).
 */
#include "world.h"

#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>

#define MAX_THREADS 4
#define PAGES       16    /* per pair: granted, and copied as 64 KiB */
#define SLOTS       32    /* per thread in the floor's region */

enum job { J_MAP, J_MMAP, J_COPY, J_MEMCPY };

struct worker {
	pthread_t t;
	pthread_barrier_t *start;
	enum job job;
	unsigned int k, iters;
	struct pair *p;
	struct mmap_floor *f;
	uint8_t *src, *dst;            /* memcpy floor: this thread's buffers */
	int64_t t0, t1;
	uint64_t ok;
};

static void do_map(struct worker *w)
{
	struct gnttab_map_grant_ref map;
	struct gnttab_unmap_grant_ref unmap;

	for (unsigned int i = 0; i < w->iters; i++) {
		pair_map(w->p, &map, i % PAGES, 0, 1);
		pair_unmap(w->p, &map, &unmap, 1);
		w->ok += 2;   /* pair_map/pair_unmap checked every status */
	}
}

static void do_mmap(struct worker *w)
{
	size_t slot = (size_t)w->k * SLOTS + 8, page = (size_t)w->k * PAGES;

	for (unsigned int i = 0; i < w->iters; i++) {
		mfloor_map(w->f, slot, page + i % PAGES);
		mfloor_clear(w->f, slot, 1);
		w->ok += 2;
	}
}

static void do_copy(struct worker *w)
{
	struct gnttab_copy ops[PAGES];

	for (unsigned int i = 0; i < PAGES; i++)
		ops[i] = (struct gnttab_copy){
			.source = { .u.ref = w->p->refs[i], .domid = w->p->gid },
			.dest = { .u.gmfn = i, .domid = DOMID_SELF },
			.len = PAGE,
			.flags = GNTCOPY_source_gref,
		};
	for (unsigned int it = 0; it < w->iters; it++) {
		long rc = xgnt_grant_table_op(w->p->mv, GNTTABOP_copy, ops, PAGES);

		BENCH_CHECK(rc == 0, "GNTTABOP_copy: %ld", rc);
		for (unsigned int i = 0; i < PAGES; i++)
			w->ok += ops[i].status == GNTST_okay;
	}
}

static void do_memcpy(struct worker *w)
{
	for (unsigned int it = 0; it < w->iters; it++) {
		floor_memcpy(w->dst, w->src, PAGES * PAGE);
		w->ok += PAGES;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->start);
	w->t0 = bench_now();
	switch (w->job) {
	case J_MAP:    do_map(w); break;
	case J_MMAP:   do_mmap(w); break;
	case J_COPY:   do_copy(w); break;
	case J_MEMCPY: do_memcpy(w); break;
	}
	w->t1 = bench_now();
	return NULL;
}

/* One repetition: n threads doing job; aggregate ns per op. */
static double run(struct worker *ws, unsigned int n, enum job job, unsigned int iters,
		  uint64_t want_per_thread)
{
	pthread_barrier_t start;
	int64_t t0 = INT64_MAX, t1 = 0;
	uint64_t ops = 0;

	BENCH_CHECK(pthread_barrier_init(&start, NULL, n) == 0, "pthread_barrier_init");
	for (unsigned int k = 0; k < n; k++) {
		ws[k].start = &start;
		ws[k].job = job;
		ws[k].iters = iters;
		ws[k].ok = 0;
		if (job == J_COPY)   /* poisoned: the copy must put the pages there */
			memset(ws[k].p->dst, 0xa5, PAGES * PAGE);
		BENCH_CHECK(pthread_create(&ws[k].t, NULL, worker_main, &ws[k]) == 0,
			    "pthread_create");
	}
	for (unsigned int k = 0; k < n; k++) {
		pthread_join(ws[k].t, NULL);
		BENCH_CHECK(ws[k].ok == want_per_thread, "thread %u: %llu of %llu ops", k,
			    (unsigned long long)ws[k].ok, (unsigned long long)want_per_thread);
		BENCH_CHECK(job != J_COPY || !memcmp(ws[k].p->dst, ws[k].p->pages, PAGES * PAGE),
			    "thread %u: grant copy destination differs", k);
		t0 = ws[k].t0 < t0 ? ws[k].t0 : t0;
		t1 = ws[k].t1 > t1 ? ws[k].t1 : t1;
		ops += ws[k].ok;
	}
	pthread_barrier_destroy(&start);
	/* Per map+unmap pair, or per 64 KiB copy, as the single-thread rows. */
	return (double)(t1 - t0) / ((double)ops / (job == J_MAP || job == J_MMAP ? 2 : PAGES));
}

void bench_scale(void)
{
	static const unsigned int threads_full[] = { 1, 2, 4 }, threads_quick[] = { 1, 2 };
	const unsigned int *threads = bench_cfg.quick ? threads_quick : threads_full;
	unsigned int nr = bench_cfg.quick ? 2 : 3;
	struct xgnt_machine *m = world_machine(65536, 0);
	struct worker ws[MAX_THREADS] = { 0 };
	struct pair pairs[MAX_THREADS];
	struct mmap_floor f;

	mfloor_create(&f, (size_t)MAX_THREADS * PAGES, (size_t)MAX_THREADS * SLOTS);
	for (unsigned int k = 0; k < MAX_THREADS; k++) {
		pair_create(&pairs[k], m, (domid_t)(1 + 2 * k), PAGES, 256);
		ws[k].k = k;
		ws[k].p = &pairs[k];
		ws[k].f = &f;
		ws[k].src = aligned_alloc(PAGE, PAGES * PAGE);
		ws[k].dst = aligned_alloc(PAGE, PAGES * PAGE);
		BENCH_CHECK(ws[k].src && ws[k].dst, "out of memory");
		memset(ws[k].src, (int)k + 1, PAGES * PAGE);
		memset(ws[k].dst, 0, PAGES * PAGE);
	}

	for (int kind = 0; kind < 2; kind++) {
		enum job xj = kind ? J_COPY : J_MAP, fj = kind ? J_MEMCPY : J_MMAP;
		unsigned int iters = kind ? bench_iters(10000, 300) : bench_iters(10000, 300);
		uint64_t per = kind ? (uint64_t)iters * PAGES : 2ull * iters;
		double x1 = 0, f1 = 0;

		for (unsigned int t = 0; t < nr; t++) {
			unsigned int n = threads[t];
			struct bench_result r;
			double xs, fs;

			result_init(&r, "scale", kind ? "memcpy 64 KiB, N threads" :
				    "mmap + replace, N threads",
				    kind ? "grant copy 64 KiB, %u thread%s" :
				    "map + unmap b1, %u thread%s", n, n > 1 ? "s" : "");
			r.n = n;
			run(ws, n, xj, iters / 10 + 1, kind ? (uint64_t)(iters / 10 + 1) * PAGES :
			    2ull * (iters / 10 + 1));   /* warm */
			for (unsigned int rep = 0; rep < bench_cfg.reps; rep++) {
				samples_add(&r.fs, run(ws, n, fj, iters, per));
				samples_add(&r.xs, run(ws, n, xj, iters, per));
				r.ops += per * n;
			}
			xs = samples_median(&r.xs);
			fs = samples_median(&r.fs);
			if (n == 1) {
				x1 = xs;
				f1 = fs;
			}
			snprintf(r.note, sizeof(r.note), "aggregate; speedup x%.2f (floor x%.2f)",
				 x1 / xs, f1 / fs);
			bench_report(&r);
		}
	}
	for (unsigned int k = 0; k < MAX_THREADS; k++) {
		free(ws[k].src);
		free(ws[k].dst);
		pair_destroy(&pairs[k]);
	}
	mfloor_destroy(&f);
	xgnt_machine_destroy(m);
}
