/* SPDX-License-Identifier: MIT */
/*
 * Cost per operation as live objects grow. Live grants: a frontend holds
 * 1 .. 1M grants (v1 table of 2048 frames) while grant + end and
 * map + unmap are measured. Live mappings: a backend holds 1 .. as many
 * mappings as the machine's mapping budget (max_vmas, from
 * vm.max_map_count) allows, found by mapping until the hypervisor
 * refuses; each mapping shows a frame not adjacent to its neighbour's, so
 * each is a kernel mapping of its own (the worst case). The floors hold
 * the same number of memfd pages mapped the same way, alongside.
 */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>

#define BATCH        256
#define MAX_LEVELS   12
#define GROW_FRAMES  2048u   /* 2048 v1 frames: 1,048,576 entries */

static double per(int64_t ns, uint64_t n)
{
	return n ? (double)ns / (double)n : 0;
}

static uint64_t cas_pair(uint16_t *w, unsigned int iters)
{
	uint64_t ok = 0;

	for (unsigned int i = 0; i < iters; i++) {
		uint16_t expect = 0;

		ok += __atomic_compare_exchange_n(w, &expect, GTF_permit_access, false,
						  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		expect = GTF_permit_access;
		ok += __atomic_compare_exchange_n(w, &expect, 0, false, __ATOMIC_ACQ_REL,
						  __ATOMIC_ACQUIRE);
	}
	return ok;
}

/* Map refs[i] at slot i for i in [first, first + n): how many mapped. With
 * budget_ok, a refusal (GNTST_general_error: no room) ends the run early;
 * anything else fails the benchmark. */
static unsigned int map_run(struct pair *p, const grant_ref_t *refs, grant_handle_t *handles,
			    unsigned int first, unsigned int n, bool budget_ok)
{
	static struct gnttab_map_grant_ref ops[BATCH];
	unsigned int done = 0;

	while (done < n) {
		unsigned int b = n - done < BATCH ? n - done : BATCH, ok = 0;
		long rc;

		for (unsigned int i = 0; i < b; i++)
			ops[i] = (struct gnttab_map_grant_ref){
				.host_addr = p->map_base + ((uint64_t)(first + done + i) << 12),
				.flags = GNTMAP_host_map,
				.ref = refs[first + done + i],
				.dom = p->gid,
			};
		rc = xgnt_grant_table_op(p->mv, GNTTABOP_map_grant_ref, ops, b);
		BENCH_CHECK(rc == 0, "map_grant_ref: %ld", rc);
		for (unsigned int i = 0; i < b; i++) {
			if (ops[i].status == GNTST_okay) {
				BENCH_CHECK(ok == i, "map %u succeeded after a refusal",
					    first + done + i);
				handles[first + done + i] = ops[i].handle;
				ok++;
			} else {
				BENCH_CHECK(budget_ok && ops[i].status == GNTST_general_error,
					    "map %u: %s", first + done + i,
					    xgnt_gnttabop_error(ops[i].status));
			}
		}
		done += ok;
		if (ok < b)
			break;
	}
	return done;
}

static void unmap_run(struct pair *p, const grant_handle_t *handles, unsigned int first,
		      unsigned int n)
{
	static struct gnttab_unmap_grant_ref ops[BATCH];

	for (unsigned int done = 0; done < n;) {
		unsigned int b = n - done < BATCH ? n - done : BATCH;
		long rc;

		for (unsigned int i = 0; i < b; i++)
			ops[i] = (struct gnttab_unmap_grant_ref){
				.host_addr = p->map_base + ((uint64_t)(first + done + i) << 12),
				.handle = handles[first + done + i],
			};
		rc = xgnt_grant_table_op(p->mv, GNTTABOP_unmap_grant_ref, ops, b);
		BENCH_CHECK(rc == 0, "unmap_grant_ref: %ld", rc);
		for (unsigned int i = 0; i < b; i++)
			BENCH_CHECK(ops[i].status == GNTST_okay, "unmap %u: %s", first + done + i,
				    xgnt_gnttabop_error(ops[i].status));
		done += b;
	}
}

/* One map + unmap of refs[slot] at slot, iters times. */
static void map_pair(struct pair *p, const grant_ref_t *refs, grant_handle_t *handles,
		     unsigned int slot, unsigned int iters)
{
	for (unsigned int i = 0; i < iters; i++) {
		BENCH_CHECK(map_run(p, refs, handles, slot, 1, false) == 1, "map refused");
		unmap_run(p, handles, slot, 1);
	}
}

static void floor_pair(struct mmap_floor *f, size_t slot, size_t page, unsigned int iters)
{
	for (unsigned int i = 0; i < iters; i++) {
		mfloor_map(f, slot, page);
		mfloor_clear(f, slot, 1);
	}
}

/* ---- live grants ------------------------------------------------------------------- */

static void live_grants(void)
{
	static const unsigned int full[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	static const unsigned int quick[] = { 1, 10, 100, 1000, 10000 };
	const unsigned int *levels = bench_cfg.quick ? quick : full;
	unsigned int nr = bench_cfg.quick ? 5 : 7, max = levels[nr - 1], live = 0;
	unsigned int iters = bench_iters(200000, 5000), map_iters = bench_iters(4000, 100);
	struct xgnt_machine *m = world_machine(65536, bench_cfg.quick ? 0 : GROW_FRAMES);
	static _Alignas(64) uint16_t cas_line[32];
	grant_ref_t *refs = calloc(max + 1, sizeof(*refs));
	grant_handle_t handle[1];
	struct mmap_floor f;
	xen_pfn_t frame0;
	struct pair p;
	int64_t t0;

	BENCH_CHECK(refs, "out of memory");
	pair_create(&p, m, 1, 0, 1024);
	p.pages = xgnt_page_alloc(p.g, 1024);
	BENCH_CHECK(p.pages, "xgnt_page_alloc");
	frame0 = xgnt_guest_frame(p.g, p.pages);
	mfloor_create(&f, 1, 16);

	for (unsigned int l = 0; l < nr; l++) {
		struct bench_result g, mp;
		double fill;

		/* Fill: grants of the frontend's 1024 pages, round robin. */
		t0 = bench_now();
		for (; live < levels[l]; live++) {
			int rc = xgnt_grant_access(p.g, p.mid, frame0 + live % 1024, false,
						   &refs[live]);

			BENCH_CHECK(rc == 0, "grant %u of %u: %d", live + 1, levels[l], rc);
		}
		fill = per(bench_now() - t0, levels[l] - (l ? levels[l - 1] : 0));

		result_init(&g, "growth", "2 CAS, same line", "grant + end access, %u live grants",
			    live);
		result_init(&mp, "growth", "mmap + replace", "map + unmap b1, %u live grants", live);
		g.n = mp.n = live;
		for (unsigned int rep = 0; rep < bench_cfg.reps; rep++) {
			uint64_t ok = 0;

			t0 = bench_now();
			BENCH_CHECK(cas_pair(&cas_line[0], iters) == 2ull * iters, "CAS floor");
			samples_add(&g.fs, per(bench_now() - t0, iters));
			t0 = bench_now();
			for (unsigned int i = 0; i < iters; i++) {
				grant_ref_t ref;

				ok += xgnt_grant_access(p.g, p.mid, frame0, false, &ref) == 0;
				ok += xgnt_end_access(p.g, ref) == 0;
			}
			samples_add(&g.xs, per(bench_now() - t0, iters));
			BENCH_CHECK(ok == 2ull * iters, "grant + end: %llu of %u calls okay",
				    (unsigned long long)ok, 2 * iters);
			g.ops += iters;

			t0 = bench_now();
			floor_pair(&f, 8, 0, map_iters);
			samples_add(&mp.fs, per(bench_now() - t0, map_iters));
			t0 = bench_now();
			/* The newest live grant, mapped at slot 0. */
			map_pair(&p, &refs[live - 1], handle, 0, map_iters);
			samples_add(&mp.xs, per(bench_now() - t0, map_iters));
			mp.ops += 2ull * map_iters;
		}
		result_phase(&g, "grant (filling up to here)", fill, 0);
		snprintf(g.note, sizeof(g.note), "table: %u frames", xgnt_gnttab_nr_frames(p.g));
		bench_report(&g);
		bench_report(&mp);
	}

	/* Teardown: every live grant ended. */
	{
		struct bench_result e;

		result_init(&e, "growth", "", "end access, each of %u live grants", live);
		e.n = live;
		t0 = bench_now();
		for (unsigned int i = 0; i < live; i++) {
			int rc = xgnt_end_access(p.g, refs[i]);

			BENCH_CHECK(rc == 0, "end access %u: %d", refs[i], rc);
		}
		samples_add(&e.xs, per(bench_now() - t0, live));
		e.ops = live;
		bench_report(&e);
	}
	mfloor_destroy(&f);
	free(refs);
	pair_destroy(&p);
	xgnt_machine_destroy(m);
}

/* ---- live mappings ------------------------------------------------------------------ */

struct map_level {
	unsigned int live;
	struct samples xs, fs;
	double fill, floor_fill;
	long vmas, floor_vmas;
};

static long max_map_count(void)
{
	FILE *fp = fopen("/proc/sys/vm/max_map_count", "r");
	long max = 65530;

	if (fp) {
		if (fscanf(fp, "%ld", &max) != 1)
			max = 65530;
		fclose(fp);
	}
	return max;
}

static void live_mappings(void)
{
	static const unsigned int decades[] = { 1, 10, 100, 1000, 10000, 100000 };
	/* Each grant mapping reserves two kernel mappings of the budget, so
	 * fewer than half of vm.max_map_count can ever be live. */
	unsigned int g_pages = bench_cfg.quick ? 1100 : (unsigned int)(max_map_count() / 2 + 64);
	unsigned int iters = bench_iters(2000, 100), nr = 0, cap, live = 0;
	struct xgnt_machine *m = world_machine(g_pages + 8192, 4096);
	grant_ref_t *refs = calloc(g_pages, sizeof(*refs));
	grant_handle_t *handles = calloc(g_pages, sizeof(*handles));
	struct map_level lv[MAX_LEVELS];
	double teardown, floor_teardown;
	struct mmap_floor f;
	struct pair p;
	int64_t t0;

	BENCH_CHECK(refs && handles, "out of memory");
	pair_create(&p, m, 1, 0, g_pages + 64);
	p.pages = xgnt_page_alloc(p.g, g_pages);
	BENCH_CHECK(p.pages, "xgnt_page_alloc(%u)", g_pages);
	/* refs[i] grants page g_pages - 1 - i: neighbours in the backend's
	 * window show frames in descending order, which no kernel mapping
	 * can merge. */
	for (unsigned int i = 0; i < g_pages; i++) {
		uint8_t *page = p.pages + (size_t)(g_pages - 1 - i) * PAGE;
		int rc = xgnt_grant_access(p.g, p.mid, xgnt_guest_frame(p.g, page), false, &refs[i]);

		BENCH_CHECK(rc == 0, "grant %u: %d", i, rc);
	}

	if (bench_cfg.quick) {
		cap = 1001;
	} else {
		/* Probe: map until the mapping budget refuses. */
		cap = map_run(&p, refs, handles, 0, g_pages, true);
		BENCH_CHECK(cap > 1 && cap < g_pages, "probe mapped %u of %u", cap, g_pages);
		unmap_run(&p, handles, 0, cap);
	}
	for (unsigned int i = 0; i < sizeof(decades) / sizeof(decades[0]); i++)
		if (decades[i] < cap - 1 && nr < MAX_LEVELS - 1)
			lv[nr++] = (struct map_level){ .live = decades[i] };
	lv[nr++] = (struct map_level){ .live = cap - 1 };

	/* The floor's pages are laid out the same way, in descending order. */
	mfloor_create(&f, cap, (size_t)cap + 16);
	for (unsigned int l = 0; l < nr; l++) {
		unsigned int n = lv[l].live - live;

		long before = bench_count_vmas(), between;

		t0 = bench_now();
		BENCH_CHECK(map_run(&p, refs, handles, live, n, false) == n, "fill refused");
		lv[l].fill = per(bench_now() - t0, n);
		between = bench_count_vmas();
		t0 = bench_now();
		for (unsigned int i = live; i < lv[l].live; i++)
			mfloor_map(&f, 8 + i, cap - 1 - i);
		lv[l].floor_fill = per(bench_now() - t0, n);
		live = lv[l].live;
		/* Kernel mappings each side's live objects added. */
		lv[l].vmas = (l ? lv[l - 1].vmas : 0) + between - before;
		lv[l].floor_vmas = (l ? lv[l - 1].floor_vmas : 0) + bench_count_vmas() - between;
		/*
		 * Both sets of mappings live in this process at once (about
		 * 2 x cap kernel mappings, well below vm.max_map_count), more
		 * than the machine's budget assumes the rest of the process
		 * uses: make sure the kernel still has room for revocations.
		 */
		BENCH_CHECK(bench_count_vmas() < max_map_count() - 4096,
			    "%ld kernel mappings: too close to vm.max_map_count", bench_count_vmas());
		for (unsigned int rep = 0; rep < bench_cfg.reps; rep++) {
			t0 = bench_now();
			floor_pair(&f, 8 + live, cap - 1 - live, iters);
			samples_add(&lv[l].fs, per(bench_now() - t0, iters));
			t0 = bench_now();
			map_pair(&p, refs, handles, live, iters);
			samples_add(&lv[l].xs, per(bench_now() - t0, iters));
		}
	}
	t0 = bench_now();
	unmap_run(&p, handles, 0, live);
	teardown = per(bench_now() - t0, live);
	t0 = bench_now();
	for (unsigned int i = 0; i < live; i++)
		mfloor_clear(&f, 8 + i, 1);
	floor_teardown = per(bench_now() - t0, live);
	mfloor_destroy(&f);
	for (unsigned int i = 0; i < g_pages; i++) {
		int rc = xgnt_end_access(p.g, refs[i]);

		BENCH_CHECK(rc == 0, "end access %u: %d", refs[i], rc);
	}
	pair_destroy(&p);
	xgnt_machine_destroy(m);
	free(refs);
	free(handles);

	for (unsigned int l = 0; l < nr; l++) {
		struct bench_result r;

		result_init(&r, "growth", "mmap + replace", "map + unmap b1, %u live mappings",
			    lv[l].live);
		r.n = lv[l].live;
		r.xs = lv[l].xs;
		r.fs = lv[l].fs;
		r.ops = 2ull * iters * bench_cfg.reps;
		r.vmas = lv[l].vmas;
		r.floor_vmas = lv[l].floor_vmas;
		result_phase(&r, "map (filling up to here, batch 256)", lv[l].fill, lv[l].floor_fill);
		if (l == nr - 1) {
			result_phase(&r, "unmap (all, batch 256)", teardown, floor_teardown);
			snprintf(r.note, sizeof(r.note), "%s",
				 bench_cfg.quick ? "quick: not probed" :
				 "the budget's limit (one more is refused)");
		}
		bench_report(&r);
	}
}

void bench_growth(void)
{
	live_grants();
	live_mappings();
}
