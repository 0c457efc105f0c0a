/* SPDX-License-Identifier: MIT */
/*
 * Grant copy, as QEMU's qdisk backend does it: the backend asks the
 * hypervisor to copy from the frontend's grants into its own RAM, 4 KiB
 * (one op) or 64 KiB (16 ops of 4 KiB in one batch). Floor: memcpy of the
 * same size between two cache-resident buffers. Every repetition starts
 * from a poisoned destination and ends with a byte-for-byte check.
 */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>

#define OPS    16
#define TARGET 1.25

/* Fill the frontend's pages with a pattern the destination must show. */
static void pattern(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + seed + (i >> 12));
}

static void copy_ops(struct pair *p, struct gnttab_copy *ops, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		ops[i] = (struct gnttab_copy){
			.source = { .u.ref = p->refs[i], .domid = p->gid },
			.dest = { .u.gmfn = i, .domid = DOMID_SELF },
			.len = PAGE,
			.flags = GNTCOPY_source_gref,
		};
}

static uint64_t run_xgnt(struct pair *p, struct gnttab_copy *ops, unsigned int n,
			 unsigned int iters)
{
	uint64_t ok = 0;

	for (unsigned int it = 0; it < iters; it++) {
		long rc = xgnt_grant_table_op(p->mv, GNTTABOP_copy, ops, n);

		BENCH_CHECK(rc == 0, "GNTTABOP_copy: %ld", rc);
		for (unsigned int i = 0; i < n; i++)
			ok += ops[i].status == GNTST_okay;
	}
	return ok;
}

static void one_size(struct pair *p, uint8_t *fsrc, uint8_t *fdst, unsigned int n)
{
	unsigned int iters = n == 1 ? bench_iters(200000, 4000) : bench_iters(20000, 400);
	size_t bytes = (size_t)n * PAGE;
	struct gnttab_copy ops[OPS];
	struct bench_result r;

	result_init(&r, "copy", "memcpy", "grant copy %zu KiB (%u op%s of 4 KiB)", bytes / 1024, n,
		    n > 1 ? "s" : "");
	r.n = (unsigned int)bytes;
	r.target = n == OPS ? TARGET : 0;
	copy_ops(p, ops, n);
	run_xgnt(p, ops, n, iters / 10 + 1);   /* warm */
	for (unsigned int rep = 0; rep < bench_cfg.reps; rep++) {
		int64_t t0, t1;
		uint64_t ok;

		memset(fdst, 0xa5, bytes);
		t0 = bench_now();
		for (unsigned int it = 0; it < iters; it++)
			floor_memcpy(fdst, fsrc, bytes);
		t1 = bench_now();
		BENCH_CHECK(!memcmp(fdst, fsrc, bytes), "memcpy floor: destination differs");
		samples_add(&r.fs, (double)(t1 - t0) / iters);

		memset(p->dst, 0xa5, bytes);
		t0 = bench_now();
		ok = run_xgnt(p, ops, n, iters);
		t1 = bench_now();
		BENCH_CHECK(ok == (uint64_t)iters * n, "grant copy: %llu of %llu ops okay",
			    (unsigned long long)ok, (unsigned long long)iters * n);
		BENCH_CHECK(!memcmp(p->dst, p->pages, bytes), "grant copy: destination differs");
		samples_add(&r.xs, (double)(t1 - t0) / iters);
		r.ops += ok;
	}
	snprintf(r.note, sizeof(r.note), "%.1f GB/s vs %.1f GB/s", bytes / samples_median(&r.xs),
		 bytes / samples_median(&r.fs));
	bench_report(&r);
}

void bench_copy(void)
{
	struct xgnt_machine *m = world_machine(65536, 0);
	uint8_t *fsrc = aligned_alloc(PAGE, OPS * PAGE), *fdst = aligned_alloc(PAGE, OPS * PAGE);
	struct pair p;

	BENCH_CHECK(fsrc && fdst, "out of memory");
	pair_create(&p, m, 1, OPS, 256);
	pattern(p.pages, OPS * PAGE, 7);
	pattern(fsrc, OPS * PAGE, 7);
	memset(fdst, 0, OPS * PAGE);
	one_size(&p, fsrc, fdst, 1);
	one_size(&p, fsrc, fdst, OPS);
	free(fsrc);
	free(fdst);
	pair_destroy(&p);
	xgnt_machine_destroy(m);
}
