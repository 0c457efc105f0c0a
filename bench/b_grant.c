/* SPDX-License-Identifier: MIT */
/*
 * Grant + end access, the guest's cheapest grant operation pair (no
 * hypercall), against its floor: two compare-and-swaps on one cache line.
 * Measured through the guest library (reference from the free list,
 * entry published, then ended by compare-and-swap and the reference
 * freed), through a private reserve batch (no free-list lock), and raw
 * (the same shared entry written and ended by hand).
 */
#include "world.h"

#include <stdio.h>

#define TARGET 2.0

/* The floor's word, alone on its cache line. */
static _Alignas(64) uint16_t cas_line[32];

static uint64_t floor_cas_pair(unsigned int iters)
{
	uint64_t ok = 0;

	for (unsigned int i = 0; i < iters; i++) {
		uint16_t expect = 0;

		ok += __atomic_compare_exchange_n(&cas_line[0], &expect, GTF_permit_access, false,
						  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		expect = GTF_permit_access;
		ok += __atomic_compare_exchange_n(&cas_line[0], &expect, 0, false,
						  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
	return ok;
}

static uint64_t lib_pair(struct pair *p, xen_pfn_t frame, unsigned int iters)
{
	uint64_t ok = 0;

	for (unsigned int i = 0; i < iters; i++) {
		grant_ref_t ref;

		ok += xgnt_grant_access(p->g, p->mid, frame, false, &ref) == 0;
		ok += xgnt_end_access(p->g, ref) == 0;
	}
	return ok;
}

/* The same through a private reserve batch (what Linux's
 * gnttab_alloc_grant_references / claim wrap): no free-list lock. */
static uint64_t batch_pair(struct pair *p, grant_ref_t *head, xen_pfn_t frame, unsigned int iters)
{
	uint64_t ok = 0;

	for (unsigned int i = 0; i < iters; i++) {
		int ref = xgnt_gref_claim(p->g, head);

		if (ref < 0)
			break;
		xgnt_grant_access_ref(p->g, (grant_ref_t)ref, p->mid, frame, false);
		ok += xgnt_end_access_ref(p->g, (grant_ref_t)ref) == 0;
		xgnt_gref_release(p->g, head, (grant_ref_t)ref);
		ok++;
	}
	return ok;
}

/* What the guest library does, without the free list: a fixed entry of a
 * table placed by hand, published flags last, ended by compare-and-swap
 * unless the peer has it (GTF_reading|GTF_writing). */
static uint64_t raw_pair(grant_entry_v1_t *e, domid_t to, uint32_t frame, unsigned int iters)
{
	uint64_t ok = 0;

	for (unsigned int i = 0; i < iters; i++) {
		uint16_t flags;

		__atomic_store_n(&e->frame, frame, __ATOMIC_RELAXED);
		__atomic_store_n(&e->domid, to, __ATOMIC_RELAXED);
		__atomic_store_n(&e->flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
		flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
		ok += !(flags & (GTF_reading | GTF_writing)) &&
		      __atomic_compare_exchange_n(&e->flags, &flags, 0, false, __ATOMIC_ACQ_REL,
						  __ATOMIC_ACQUIRE);
	}
	return ok;
}

/* Place the mapper's grant frame 0 by hand (as examples/embed.c does). */
static grant_entry_v1_t *raw_table(struct pair *p)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = 0,
		.gpfn = p->raw_gt_base >> 12,
	};
	long rc = xgnt_memory_op(p->mv, XENMEM_add_to_physmap, &xatp);

	BENCH_CHECK(rc == 0, "XENMEM_add_to_physmap: %ld", rc);
	return xgnt_domain_va(p->md, p->raw_gt_base);
}

void bench_grant(void)
{
	unsigned int iters = bench_iters(1000000, 20000);
	struct xgnt_machine *m = world_machine(65536, 0);
	struct bench_result lib, bat, raw;
	grant_entry_v1_t *e;
	grant_ref_t head;
	xen_pfn_t frame;
	struct pair p;
	int rc;

	pair_create(&p, m, 1, 1, 256);
	frame = xgnt_guest_frame(p.g, p.pages);
	e = raw_table(&p) + GNTTAB_NR_RESERVED_ENTRIES;
	rc = xgnt_gref_alloc_batch(p.g, 16, &head);
	BENCH_CHECK(rc == 0, "xgnt_gref_alloc_batch: %d", rc);

	result_init(&lib, "grant", "2 CAS, same line", "grant + end access (guest library)");
	result_init(&bat, "grant", "2 CAS, same line", "grant + end access (reserve batch)");
	result_init(&raw, "grant", "2 CAS, same line", "grant + end access (raw entry + CAS)");
	lib.target = bat.target = raw.target = TARGET;
	/* Warm up every path once, untimed. */
	lib_pair(&p, frame, iters / 10 + 1);
	batch_pair(&p, &head, frame, iters / 10 + 1);
	for (unsigned int r = 0; r < bench_cfg.reps; r++) {
		int64_t t0 = bench_now(), t1;
		uint64_t ok = floor_cas_pair(iters);

		t1 = bench_now();
		BENCH_CHECK(ok == 2ull * iters, "CAS floor: %llu of %u", (unsigned long long)ok,
			    2 * iters);
		samples_add(&lib.fs, (double)(t1 - t0) / iters);
		samples_add(&bat.fs, (double)(t1 - t0) / iters);
		samples_add(&raw.fs, (double)(t1 - t0) / iters);

		t0 = bench_now();
		ok = lib_pair(&p, frame, iters);
		t1 = bench_now();
		BENCH_CHECK(ok == 2ull * iters, "guest library: %llu of %u calls succeeded",
			    (unsigned long long)ok, 2 * iters);
		samples_add(&lib.xs, (double)(t1 - t0) / iters);
		lib.ops += iters;

		t0 = bench_now();
		ok = batch_pair(&p, &head, frame, iters);
		t1 = bench_now();
		BENCH_CHECK(ok == 2ull * iters, "reserve batch: %llu of %u steps succeeded",
			    (unsigned long long)ok, 2 * iters);
		samples_add(&bat.xs, (double)(t1 - t0) / iters);
		bat.ops += iters;

		t0 = bench_now();
		ok = raw_pair(e, p.gid, (uint32_t)0, iters);
		t1 = bench_now();
		BENCH_CHECK(ok == iters, "raw entry: %llu of %u ends succeeded",
			    (unsigned long long)ok, iters);
		samples_add(&raw.xs, (double)(t1 - t0) / iters);
		raw.ops += iters;
	}
	snprintf(lib.note, sizeof(lib.note), "free list cycles %u refs", xgnt_gref_nr_free(p.g));
	snprintf(bat.note, sizeof(bat.note), "claim/release from a batch of 16");
	bench_report(&lib);
	bench_report(&bat);
	bench_report(&raw);
	xgnt_gref_free_batch(p.g, head);

	pair_destroy(&p);
	xgnt_machine_destroy(m);
}
