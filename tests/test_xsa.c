/* SPDX-License-Identifier: MIT */
/*
 * The advisory regression suite, single-threaded part: one test per Xen
 * security advisory (XSA) of xen-hypervisor.md part (d) that can apply to
 * this model and is not already the subject of another test, named
 * xsa_<number>_..., each replaying the advisory's scenario through the
 * public API and asserting the invariant the advisory broke. The racy
 * scenarios are in test_conc_xsa.c; the full table (including advisories
 * covered elsewhere and those that cannot apply) is in docs/security.md.
 *
 * Every machine is checked when destroyed (tests/harness.c): pins equal
 * maptrack entries, GTF bits follow pins, no slot shows a frame that is
 * neither its domain's own nor granted to it, reference counts balance,
 * and every frame is free again once every domain is gone.
 */
#include "harness.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define ST_UNSET ((int16_t)0x5a5a)

static long gt_op(struct xgnt_domain *d, unsigned int cmd, void *op, unsigned int n)
{
	return xgnt_grant_table_op(t_v0(d), cmd, op, n);
}

static long ev_op(struct xgnt_domain *d, int cmd, void *arg)
{
	return xgnt_event_channel_op(t_v0(d), cmd, arg);
}

static uint64_t ext_gfn(struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;

	xgnt_domain_layout(d, &l);
	return l.ext_base >> 12;
}

static struct xgnt_domain *mkdom(struct xgnt_machine *m, domid_t id, enum xgnt_domain_type type,
				 bool priv, unsigned int nr_vcpus, uint32_t max_port,
				 uint32_t max_maptrack_frames)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = nr_vcpus, .privileged = priv, .max_evtchn_port = max_port,
		.max_maptrack_frames = max_maptrack_frames,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

/* Pin counters of granter g's active entry ref (all zero if not active). */
struct pins { grant_ref_t ref; bool found; uint8_t hstw, hstr, devw, devr; };

static int pins_cb(const struct xgnt_active_info *a, void *arg)
{
	struct pins *p = arg;

	if (a->ref != p->ref)
		return 0;
	p->found = true;
	p->hstw = a->hstw;
	p->hstr = a->hstr;
	p->devw = a->devw;
	p->devr = a->devr;
	return 1;
}

static struct pins pins_of(struct xgnt_domain *g, grant_ref_t ref)
{
	struct pins p = { .ref = ref };

	xgnt_domain_walk_active(g, pins_cb, &p);
	return p;
}

static int count_cb(const struct xgnt_mapping_info *mi, void *arg)
{
	(void)mi;
	(*(unsigned int *)arg)++;
	return 0;
}

static unsigned int nr_mappings(struct xgnt_domain *d)
{
	unsigned int n = 0;

	xgnt_domain_walk_mappings(d, count_cb, &n);
	return n;
}

static void assert_check(struct xgnt_machine *m, unsigned int flags)
{
	char why[256];

	if (xgnt_machine_check(m, flags, why, sizeof(why)))
		fail_msg("invariant broken: %s", why);
}

static long add_to_physmap(struct xgnt_domain *d, unsigned int space, xen_ulong_t idx,
			   xen_pfn_t gpfn)
{
	struct xen_add_to_physmap a = {
		.domid = DOMID_SELF, .space = space, .idx = idx, .gpfn = gpfn,
	};

	return xgnt_memory_op(t_v0(d), XENMEM_add_to_physmap, &a);
}

static unsigned int nr_grant_frames(struct xgnt_domain *d)
{
	struct xgnt_table_info ti;

	assert_int_equal(xgnt_domain_table_info(d, &ti), 0);
	return ti.nr_grant_frames;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* =========================================================================
 * XSA-26: v2 -> v1 freed status pages without unsharing them; growth error
 * paths freed pages already shared. Flip versions thousands of times while
 * the table grows: every status frame a switch to v1 frees comes back to
 * the allocator (no leak, no double free), the table's frames stay its
 * own, and the invariants hold throughout. (Allocation failure during
 * growth, the other half of the advisory: tests/test_alloc_fail.c.)
 * ========================================================================= */

static void xsa_26_run(enum xgnt_domain_type type)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, type, false);
	bool pv = type == XGNT_DOMAIN_PV;
	uint32_t free_v1 = 0;
	unsigned int i, frames = 1;

	for (i = 0; i < 2000; i++) {
		/* Grow by one frame every 100 flips, up to 16 (2 status frames). */
		if (i % 100 == 0 && frames < 16) {
			frames++;
			if (pv) {
				xen_pfn_t f[16];
				struct gnttab_setup_table st = {
					.dom = DOMID_SELF, .nr_frames = frames,
				};

				set_xen_guest_handle(st.frame_list, f);
				assert_int_equal(gt_op(d, GNTTABOP_setup_table, &st, 1), 0);
				assert_int_equal(st.status, GNTST_okay);
			} else {
				assert_int_equal(add_to_physmap(d, XENMAPSPACE_grant_table,
								frames - 1,
								ext_gfn(d) + frames - 1), 0);
			}
			assert_int_equal(nr_grant_frames(d), frames);
			free_v1 = xgnt_machine_free_frames(m);
		}
		if (i == 0)
			free_v1 = xgnt_machine_free_frames(m);
		assert_int_equal(t_set_version(d, 2), 0);
		/* v2 takes ceil(frames * 256 / 2048) status frames. */
		assert_int_equal(xgnt_machine_free_frames(m),
				 free_v1 - (frames * 256 + 2047) / 2048);
		if (pv) {
			uint64_t sf[2];
			struct gnttab_get_status_frames gs = {
				.dom = DOMID_SELF, .nr_frames = (frames * 256 + 2047) / 2048,
			};

			set_xen_guest_handle(gs.frame_list, sf);
			assert_int_equal(gt_op(d, GNTTABOP_get_status_frames, &gs, 1), 0);
			assert_int_equal(gs.status, GNTST_okay);
		}
		assert_int_equal(t_set_version(d, 1), 0);
		assert_int_equal(xgnt_machine_free_frames(m), free_v1);
		if (i % 250 == 0)
			assert_check(m, XGNT_CHECK_GTF);
	}
	assert_int_equal(nr_grant_frames(d), 16);
	xgnt_machine_destroy(m);
}

static void xsa_26_version_flips_while_growing_free_every_status_frame(void **state)
{
	(void)state;
	xsa_26_run(XGNT_DOMAIN_HVM);
	xsa_26_run(XGNT_DOMAIN_PV);
}

/* =========================================================================
 * XSA-224: host+device writable mapping unmapped in two separate calls;
 * dev_bus_addr compared only above bit 12. GTF_writing must stay set while
 * the device half is mapped, a dev_bus_addr with low bits set must not
 * match the frame, and the handle is freed once, when both halves are gone.
 * (tests/test_unmap.c has the pin counts of both unmap orders.)
 * ========================================================================= */

static void xsa_224_host_and_device_halves_unmapped_separately(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *mp = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	uint64_t addr = t_ext_addr(mp, 0);
	uint64_t bus = t_ram_frame(g, 7) << 12;
	grant_handle_t h;
	struct pins p;

	(void)state;
	t_gt_setup(g, 1);
	t_grant(g, 10, 2, t_ram_frame(g, 7), false);
	assert_int_equal(t_map(mp, 1, 10, GNTMAP_host_map | GNTMAP_device_map, addr, &h),
			 GNTST_okay);
	assert_int_equal(t_entry_flags(g, 10) & (GTF_reading | GTF_writing),
			 GTF_reading | GTF_writing);

	/* Host half only. */
	assert_int_equal(t_unmap(mp, h, addr, 0), GNTST_okay);
	assert_true(t_read_faults(xgnt_domain_va(mp, addr)));
	p = pins_of(g, 10);
	assert_true(p.found);
	assert_int_equal(p.hstw + p.hstr, 0);
	assert_int_equal(p.devw, 1);
	/* One writable reference remains: the granter must still see it. */
	assert_int_equal(t_entry_flags(g, 10) & (GTF_reading | GTF_writing),
			 GTF_reading | GTF_writing);

	/* The frame's address with its low 12 bits set is not the frame's. */
	assert_int_equal(t_unmap(mp, h, 0, bus | 0xfff), GNTST_bad_dev_addr);
	assert_int_equal(t_unmap(mp, h, 0, bus | 0x1), GNTST_bad_dev_addr);
	assert_int_equal(pins_of(g, 10).devw, 1);
	assert_int_equal(t_entry_flags(g, 10) & GTF_writing, GTF_writing);

	assert_int_equal(t_unmap(mp, h, 0, bus), GNTST_okay);
	assert_false(pins_of(g, 10).found && pins_of(g, 10).devw);
	assert_int_equal(t_entry_flags(g, 10) & (GTF_reading | GTF_writing), 0);
	assert_int_equal(t_unmap(mp, h, 0, bus), GNTST_bad_handle);
	assert_int_equal(nr_mappings(mp), 0);
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-227: GNTMAP_contains_pte with a host_addr that is not 8-byte aligned
 * corrupted adjacent PTEs. The model has no L1 tables (fidelity.md #2):
 * the map must fail, leave the mapper's memory at that address untouched,
 * and leave no pin, flag or maptrack entry behind.
 * ========================================================================= */

static void xsa_227_contains_pte_misaligned_is_error_and_writes_nothing(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *mp = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	uint8_t *own = t_ram_va(mp, 9);
	uint8_t before[4096];
	grant_handle_t h;
	unsigned int off;

	(void)state;
	t_gt_setup(g, 1);
	t_grant(g, 10, 2, t_ram_frame(g, 7), false);
	memset(own, 0xa5, 4096);
	memcpy(before, own, sizeof(before));
	for (off = 0; off < 16; off += 4) {
		uint64_t pte_maddr = (t_ram_frame(mp, 9) << 12) + off;
		uint32_t fl[] = { GNTMAP_host_map | GNTMAP_contains_pte,
				  GNTMAP_host_map | GNTMAP_contains_pte | GNTMAP_readonly };

		for (unsigned int k = 0; k < 2; k++) {
			h = (grant_handle_t)0xdeadbeef;
			assert_int_equal(t_map(mp, 1, 10, fl[k], pte_maddr, &h),
					 GNTST_general_error);
			assert_int_equal(h, (grant_handle_t)0xdeadbeef);
		}
	}
	assert_memory_equal(own, before, sizeof(before));
	assert_false(pins_of(g, 10).found && (pins_of(g, 10).hstw || pins_of(g, 10).hstr));
	assert_int_equal(t_entry_flags(g, 10), GTF_permit_access);
	assert_int_equal(nr_mappings(mp), 0);
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-232: cache_flush followed the owner's grant-table pointer for frames
 * owned by DOMID_IO (NULL). Flush every frame of the first 1 MiB (and the
 * frames around the caller's own): each call returns 0 for the caller's
 * own frames and -EPERM or -EINVAL for everything else, never crashes.
 * (I/O memory of the iomem extension, Xen's DOMID_IO frames here:
 * tests/test_edge.c cache_flush_of_io_memory_is_eperm.)
 * ========================================================================= */

static long cache_flush(struct xgnt_domain *d, uint64_t addr)
{
	struct gnttab_cache_flush cf = {
		.a.dev_bus_addr = addr, .offset = 0, .length = 64, .op = GNTTAB_CACHE_CLEAN,
	};

	return gt_op(d, GNTTABOP_cache_flush, &cf, 1);
}

static void xsa_232_cache_flush_every_low_frame(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *o = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	unsigned int own = 0, other = 0;
	xen_pfn_t mfn;

	xen_pfn_t gtf[2];
	struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 2 };

	(void)state;
	set_xen_guest_handle(st.frame_list, gtf);
	assert_int_equal(gt_op(d, GNTTABOP_setup_table, &st, 1), 0);
	assert_int_equal(st.status, GNTST_okay);
	for (mfn = 0; mfn < 256 + 1024; mfn++) {
		bool mine = false;
		long rc;

		for (unsigned int i = 0; i < 256 && !mine; i++)
			mine = xgnt_domain_pfn_to_mfn(d, i) == mfn;
		/* Its own: RAM, shared_info, grant-table frames. */
		mine = mine || xgnt_domain_shared_info_mfn(d) == mfn ||
		       gtf[0] == mfn || gtf[1] == mfn;
		rc = cache_flush(d, (uint64_t)mfn << 12);
		if (mine) {
			own++;
			assert_int_equal(rc, 0);
		} else {
			if (rc != -EPERM && rc != -EINVAL)
				fail_msg("cache_flush of mfn %#lx: %ld", (unsigned long)mfn, rc);
		}
	}
	/* The other domain's frames, explicitly: never 0. */
	for (unsigned int i = 0; i < 256; i++) {
		long rc = cache_flush(d, (uint64_t)xgnt_domain_pfn_to_mfn(o, i) << 12);

		assert_true(rc == -EINVAL || rc == -EPERM);
		other++;
	}
	/* Beyond the machine. */
	assert_int_equal(cache_flush(d, (uint64_t)t_machine_nr_frames(m) << 12 << 4), -EINVAL);
	print_message("own %u flushed, %u foreign refused\n", own, other);
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-234: a PV unmap checked only the frame of the PTE, not that it was
 * still the (read-only) grant mapping, so a guest that rewrote the PTE
 * made Xen drop the wrong reference. The model's PTE writer is
 * xgnt_update_va_mapping: it must refuse to overwrite or clear a page
 * holding a grant mapping, so the read-only mapping stays read-only, and
 * the unmap releases exactly what the map took.
 * ========================================================================= */

static void xsa_234_readonly_grant_mapping_cannot_be_rewritten_then_unmaps_clean(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *mp = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	uint64_t addr = t_ext_addr(mp, 0);
	xen_pfn_t gmfn = t_ram_frame(g, 7);
	grant_handle_t h;

	(void)state;
	t_gt_setup(g, 1);
	t_grant(g, 10, 2, gmfn, false);
	assert_int_equal(t_map(mp, 1, 10, GNTMAP_host_map | GNTMAP_readonly, addr, &h),
			 GNTST_okay);
	assert_int_equal(t_entry_flags(g, 10) & (GTF_reading | GTF_writing), GTF_reading);
	/* Rewrite the "PTE": writable, with the granted frame or an own frame. */
	assert_int_equal(xgnt_update_va_mapping(t_v0(mp), addr, gmfn,
						XGNT_PROT_READ | XGNT_PROT_WRITE), -EPERM);
	assert_int_equal(xgnt_update_va_mapping(t_v0(mp), addr, t_ram_frame(mp, 3),
						XGNT_PROT_READ | XGNT_PROT_WRITE), -EBUSY);
	assert_int_equal(xgnt_update_va_mapping(t_v0(mp), addr, INVALID_MFN, 0), -EBUSY);
	assert_true(t_write_faults(xgnt_domain_va(mp, addr)));
	assert_false(t_read_faults(xgnt_domain_va(mp, addr)));
	/* The unmap drops the read-only reference it took, nothing else. */
	assert_int_equal(t_unmap(mp, h, addr, 0), GNTST_okay);
	assert_int_equal(t_entry_flags(g, 10) & (GTF_reading | GTF_writing), 0);
	assert_true(t_read_faults(xgnt_domain_va(mp, addr)));
	assert_int_equal(t_unmap(mp, h, addr, 0), GNTST_bad_handle);
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-255: v2 -> v1 freed status frames that were still mapped. A
 * translated guest that placed status frame 0 in its physmap switches to
 * v1: afterwards its gfn must not reach the freed frame (the frame is
 * freed only once nothing shows it, or the switch is refused). A second
 * placement of the same frame at another gfn moves it (XSA-379's single-
 * threaded half). (PV, status frame mapped with update_va_mapping:
 * tests/test_edge.c set_version_v1_with_pv_status_frame_mapped_is_ebusy.)
 * ========================================================================= */

static void xsa_255_placed_status_frame_unreachable_after_v1(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	uint64_t ga = ext_gfn(d) + 200, gb = ext_gfn(d) + 300;
	uint32_t free_v1;
	long rc;

	(void)state;
	assert_int_equal(add_to_physmap(d, XENMAPSPACE_grant_table, 0, ext_gfn(d)), 0);
	free_v1 = xgnt_machine_free_frames(m);
	for (unsigned int round = 0; round < 3; round++) {
		assert_int_equal(t_set_version(d, 2), 0);
		assert_int_equal(add_to_physmap(d, XENMAPSPACE_grant_table,
						0 | XENMAPIDX_grant_table_status, ga), 0);
		assert_false(t_read_faults(xgnt_domain_va(d, ga << 12)));
		if (round > 0) {
			/* XSA-379: the same status frame placed at a second gfn
			 * leaves the first. */
			assert_int_equal(add_to_physmap(d, XENMAPSPACE_grant_table,
							0 | XENMAPIDX_grant_table_status, gb), 0);
			assert_true(t_read_faults(xgnt_domain_va(d, ga << 12)));
			assert_false(t_read_faults(xgnt_domain_va(d, gb << 12)));
		}
		assert_check(m, XGNT_CHECK_GTF);
		rc = t_set_version(d, 1);
		if (rc == 0) {
			assert_int_equal(t_gt_version(d), 1);
			assert_true(t_read_faults(xgnt_domain_va(d, ga << 12)));
			assert_true(t_read_faults(xgnt_domain_va(d, gb << 12)));
			assert_int_equal(xgnt_machine_free_frames(m), free_v1);
		} else {
			/* Xen removes the frame from the physmap and switches. */
			fail_msg("set_version(1) with a placed status frame: %ld", rc);
		}
		assert_check(m, XGNT_CHECK_GTF);
	}
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-316: a _set_status failure returned status 1 (a bracket bug) instead
 * of a negative GNTST. Every way the shared entry can refuse a first pin,
 * under v1 and v2, must give a negative status, write no handle, and leave
 * the entry's flags as the granter wrote them.
 * ========================================================================= */

static void xsa_316_run(unsigned int version)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *mp = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	struct { uint16_t flags; domid_t to; uint32_t map; } cases[] = {
		{ GTF_permit_access, 3, 0 },                          /* wrong domid (XTF) */
		{ GTF_permit_access | GTF_readonly, 2, 0 },           /* rw map of ro grant */
		{ 0, 2, 0 },                                          /* not granted */
		{ GTF_accept_transfer, 2, 0 },                        /* wrong type */
		{ GTF_accept_transfer, 2, GNTMAP_readonly },
		{ GTF_permit_access, 3, GNTMAP_readonly },
	};

	if (version == 2)
		assert_int_equal(t_set_version(g, 2), 0);
	t_gt_setup(g, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		grant_handle_t h = (grant_handle_t)0xdeadbeef;
		int16_t st;

		t_grant_flags(g, 10, cases[i].to, t_ram_frame(g, 7), cases[i].flags);
		st = t_map(mp, 1, 10, GNTMAP_host_map | cases[i].map, t_ext_addr(mp, 0), &h);
		if (st >= 0)
			fail_msg("v%u case %zu: status %d, want < 0", version, i, st);
		assert_int_equal(st, GNTST_general_error);
		assert_int_equal(h, (grant_handle_t)0xdeadbeef);
		assert_int_equal(t_entry_flags(g, 10), cases[i].flags);
		assert_true(t_read_faults(xgnt_domain_va(mp, t_ext_addr(mp, 0))));
	}
	assert_int_equal(nr_mappings(mp), 0);
	xgnt_machine_destroy(m);
}

static void xsa_316_set_status_failures_are_negative(void **state)
{
	(void)state;
	xsa_316_run(1);
	xsa_316_run(2);
}

/* =========================================================================
 * XSA-318: a copy batch preempted at its first op left every status
 * unwritten. No preemption here (fidelity.md #14), but the invariant is
 * the same: every status of a long batch is written, good ops and bad
 * ones alike, and the good ones moved their data.
 * ========================================================================= */

static void xsa_318_every_status_of_a_long_copy_batch_is_written(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *c = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	enum { N = 512 };
	static struct gnttab_copy ops[N];
	unsigned int i;

	(void)state;
	t_gt_setup(g, 1);
	for (i = 0; i < 64; i++) {
		t_grant(g, 8 + i, 2, t_ram_frame(g, 8 + i), true);
		memset(t_ram_va(g, 8 + i), (int)i, 4096);
	}
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < N; i++) {
		struct gnttab_copy *op = &ops[i];

		op->flags = GNTCOPY_source_gref;
		op->source.domid = 1;
		op->source.u.ref = 8 + i % 64;
		op->dest.domid = DOMID_SELF;
		op->dest.u.gmfn = t_ram_frame(c, 100 + i % 64);
		op->len = 16;
		op->source.offset = (uint16_t)(i / 64 * 16);
		op->dest.offset = op->source.offset;
		op->status = ST_UNSET;
		if (i % 7 == 3)
			op->source.u.ref = 100000;    /* bad_gntref */
		else if (i % 7 == 5)
			op->len = 8192;               /* bad_copy_arg */
		else if (i % 11 == 0)
			op->source.domid = 77;        /* bad_domain */
	}
	assert_int_equal(gt_op(c, GNTTABOP_copy, ops, N), 0);
	for (i = 0; i < N; i++) {
		int16_t want = GNTST_okay;

		if (i % 7 == 3)
			want = GNTST_bad_gntref;
		else if (i % 7 == 5)
			want = GNTST_bad_copy_arg;
		else if (i % 11 == 0)
			want = GNTST_bad_domain;
		if (ops[i].status != want)
			fail_msg("op %u: status %d, want %d", i, ops[i].status, want);
		if (want == GNTST_okay) {
			uint8_t *d = (uint8_t *)t_ram_va(c, 100 + i % 64) + ops[i].dest.offset;

			assert_int_equal(d[0], i % 64);
			assert_int_equal(d[15], i % 64);
		}
	}
	for (i = 0; i < 64; i++)
		assert_int_equal(t_entry_flags(g, 8 + i) & (GTF_reading | GTF_writing), 0);
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-380: releasing a dying mapper's maptrack was one unpreemptible loop,
 * and mapkind() walked the whole maptrack on every map. Here destruction
 * runs to completion in one call (fidelity.md #14): a mapper holding
 * 32768 maptrack entries (device mappings, which cost no kernel mapping)
 * must map them in time linear in their number and be destroyed in
 * bounded time, releasing every pin and frame reference.
 * ========================================================================= */

static int map_many_dev(struct xgnt_domain *mp, unsigned int n, unsigned int nrefs)
{
	static struct gnttab_map_grant_ref ops[256];
	unsigned int done = 0;

	while (done < n) {
		unsigned int k = n - done < 256 ? n - done : 256;

		for (unsigned int i = 0; i < k; i++)
			ops[i] = (struct gnttab_map_grant_ref){
				.flags = GNTMAP_device_map | GNTMAP_readonly,
				.ref = 8 + (done + i) % nrefs, .dom = 1,
			};
		assert_int_equal(gt_op(mp, GNTTABOP_map_grant_ref, ops, k), 0);
		for (unsigned int i = 0; i < k; i++)
			if (ops[i].status != GNTST_okay)
				return ops[i].status;
		done += k;
	}
	return 0;
}

static void xsa_380_destroy_mapper_with_32768_maptrack_entries(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *mp = mkdom(m, 2, XGNT_DOMAIN_PV, false, 2, 0, 256);
	enum { NREFS = 512 - 8, N = 32768 };
	double t0, t_first, t_rest, t_destroy;
	unsigned int i;

	(void)state;
	t_gt_setup(g, 2);
	for (i = 0; i < NREFS; i++)
		t_grant(g, 8 + i, 2, t_ram_frame(g, 8 + i % 200), true);
	t0 = now_s();
	assert_int_equal(map_many_dev(mp, 1024, NREFS), 0);
	t_first = now_s() - t0;
	t0 = now_s();
	assert_int_equal(map_many_dev(mp, N - 1024, NREFS), 0);
	t_rest = now_s() - t0;
	assert_int_equal(nr_mappings(mp), N);
	for (i = 0; i < NREFS; i++)
		assert_int_equal(t_entry_flags(g, 8 + i) & GTF_reading, GTF_reading);
	assert_check(m, XGNT_CHECK_GTF);

	t0 = now_s();
	assert_int_equal(xgnt_domain_destroy(mp), 0);
	t_destroy = now_s() - t0;
	print_message("first 1024 maps %.3fs, next %u %.3fs, destroy %.3fs\n", t_first,
		      N - 1024, t_rest, t_destroy);
	for (i = 0; i < NREFS; i++)
		assert_int_equal(t_entry_flags(g, 8 + i) & (GTF_reading | GTF_writing), 0);
	assert_false(pins_of(g, 8).found && pins_of(g, 8).devr);
	/* Linear, not quadratic: 31x the maps may not take 31x^2 the time. */
	assert_true(t_rest < 31.0 * t_first * 8.0 + 0.5);
	assert_true(t_destroy < 10.0);
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-394: the IOMMU count was dropped on a partial (host-only) unmap, so a
 * second host-only unmap underflowed it. No IOMMU here (fidelity.md #9),
 * but the same sequence must not drop the device half's pin: map host+dev
 * read-only, unmap the host half twice; the device pin and GTF_reading
 * stay until the device half is unmapped.
 * ========================================================================= */

static void xsa_394_host_half_unmapped_twice_keeps_device_pin(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *mp = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	uint64_t addr = t_ext_addr(mp, 0);
	uint64_t bus = t_ram_frame(g, 7) << 12;
	grant_handle_t h;
	int16_t st;

	(void)state;
	t_gt_setup(g, 1);
	t_grant(g, 10, 2, t_ram_frame(g, 7), true);
	assert_int_equal(t_map(mp, 1, 10,
			       GNTMAP_host_map | GNTMAP_device_map | GNTMAP_readonly, addr, &h),
			 GNTST_okay);
	assert_int_equal(t_unmap(mp, h, addr, 0), GNTST_okay);
	st = t_unmap(mp, h, addr, 0);
	assert_true(st == GNTST_okay || st == GNTST_general_error);
	assert_int_equal(pins_of(g, 10).devr, 1);
	assert_int_equal(pins_of(g, 10).hstr, 0);
	assert_int_equal(t_entry_flags(g, 10) & (GTF_reading | GTF_writing), GTF_reading);
	assert_int_equal(nr_mappings(mp), 1);
	assert_check(m, XGNT_CHECK_GTF);
	assert_int_equal(t_unmap(mp, h, 0, bus), GNTST_okay);
	assert_int_equal(t_entry_flags(g, 10) & (GTF_reading | GTF_writing), 0);
	assert_int_equal(nr_mappings(mp), 0);
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-47: Xen stored a new port bucket before the XSM check, so a refused
 * EVTCHNOP_alloc_unbound left a dangling pointer. With the dummy policy
 * the refused caller is an unprivileged domain allocating in another
 * domain. Interleaved with the target's own allocations across several
 * bucket boundaries: every refused call is -EPERM and changes nothing (the
 * target's ports stay contiguous and usable; the caller gets no port).
 * ========================================================================= */

static long alloc_unbound(struct xgnt_domain *d, domid_t dom, domid_t remote,
			  evtchn_port_t *port)
{
	struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote, .port = 0xdead };
	long rc = ev_op(d, EVTCHNOP_alloc_unbound, &a);

	if (port)
		*port = a.port;
	return rc;
}

static void xsa_47_refused_alloc_in_other_domain_leaves_nothing(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	evtchn_port_t p, pa;
	unsigned int i;

	(void)state;
	for (i = 1; i <= 600; i++) {
		p = 0xdead;
		assert_int_equal(alloc_unbound(a, 2, 1, &p), -EPERM);
		assert_int_equal(alloc_unbound(a, 2, DOMID_SELF, NULL), -EPERM);
		assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &p), 0);
		assert_int_equal(p, i);
	}
	/* The target's ports work: A binds to the last one and sends. */
	{
		struct evtchn_bind_interdomain bi = { .remote_dom = 2, .remote_port = p };
		struct evtchn_status st = { .dom = DOMID_SELF, .port = p };

		assert_int_equal(ev_op(a, EVTCHNOP_bind_interdomain, &bi), 0);
		pa = bi.local_port;
		assert_int_equal(pa, 1);    /* A got nothing from the refused calls */
		assert_int_equal(ev_op(b, EVTCHNOP_status, &st), 0);
		assert_int_equal(st.status, EVTCHNSTAT_interdomain);
		struct evtchn_send s = { .port = pa };
		assert_int_equal(ev_op(a, EVTCHNOP_send, &s), 0);
	}
	/* Close them all from the target: every port was really allocated. */
	for (i = 1; i <= 600; i++) {
		struct evtchn_close c = { .port = i };

		assert_int_equal(ev_op(b, EVTCHNOP_close, &c), 0);
	}
	assert_int_equal(alloc_unbound(b, DOMID_SELF, 1, &p), 0);
	assert_int_equal(p, 1);
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-221: SCHEDOP_poll dereferenced the bucket of an unallocated port.
 * SCHEDOP_poll is not modelled; every EVTCHNOP that takes a port does the
 * same lookup. On a fresh domain, every port of the ABI and beyond, and
 * garbage ones: never a crash, -EINVAL for what is not open, and nothing
 * gets allocated.
 * ========================================================================= */

static void xsa_221_port_ops_on_every_unallocated_port(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *ds[2] = {
		t_domain(m, 1, XGNT_DOMAIN_HVM, false),
		mkdom(m, 2, XGNT_DOMAIN_PV, true, 2, 0, 0),
	};
	evtchn_port_t extra[] = { 0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu,
				  131071, 131072, 1u << 20 };

	(void)state;
	for (unsigned int k = 0; k < 2; k++) {
		struct xgnt_domain *d = ds[k];

		for (uint64_t i = 0; i < 4200 + sizeof(extra) / sizeof(extra[0]); i++) {
			evtchn_port_t port = i < 4200 ? (evtchn_port_t)i : extra[i - 4200];
			struct evtchn_send s = { .port = port };
			struct evtchn_close c = { .port = port };
			struct evtchn_unmask u = { .port = port };
			struct evtchn_bind_vcpu bv = { .port = port, .vcpu = 1 };
			struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
			struct evtchn_set_priority sp = { .port = port, .priority = 3 };
			long rc;

			assert_int_equal(ev_op(d, EVTCHNOP_send, &s), -EINVAL);
			assert_int_equal(ev_op(d, EVTCHNOP_close, &c), -EINVAL);
			assert_int_equal(ev_op(d, EVTCHNOP_bind_vcpu, &bv), -EINVAL);
			rc = ev_op(d, EVTCHNOP_unmask, &u);
			assert_true(rc == 0 || rc == -EINVAL);
			if (port >= 4096)
				assert_int_equal(rc, -EINVAL);
			rc = ev_op(d, EVTCHNOP_status, &st);
			if (rc == 0)
				assert_int_equal(st.status, EVTCHNSTAT_closed);
			else
				assert_int_equal(rc, -EINVAL);
			if (port >= 4096)
				assert_int_equal(rc, -EINVAL);
			rc = ev_op(d, EVTCHNOP_set_priority, &sp);
			assert_true(rc == -EINVAL || rc == -ENOSYS);
		}
		/* Nothing was allocated by all that: the first port is 1. */
		evtchn_port_t p;

		assert_int_equal(alloc_unbound(d, DOMID_SELF, 0, &p), 0);
		assert_int_equal(p, 1);
	}
	xgnt_machine_destroy(m);
}

/* =========================================================================
 * XSA-344: EVTCHNOP_reset and domain destruction walked every port in one
 * unpreemptible loop. Here both run to completion (fidelity.md #14); with
 * 20000 FIFO ports open, reset must close every one of them in bounded
 * time and leave the domain able to start again, and destruction with as
 * many open must free everything.
 * ========================================================================= */

#define X344_CB_RAM    10u
#define X344_ARRAY_RAM 20u
#define X344_PORTS     20000u

static void x344_fifo_up(struct xgnt_domain *d, unsigned int pages)
{
	struct evtchn_init_control ic = {
		.control_gfn = t_ram_frame(d, X344_CB_RAM), .offset = 0, .vcpu = 0,
	};

	memset(t_ram_va(d, X344_CB_RAM), 0, 4096);
	assert_int_equal(ev_op(d, EVTCHNOP_init_control, &ic), 0);
	for (unsigned int i = 0; i < pages; i++) {
		struct evtchn_expand_array ea = { .array_gfn = t_ram_frame(d, X344_ARRAY_RAM + i) };

		memset(t_ram_va(d, X344_ARRAY_RAM + i), 0, 4096);
		assert_int_equal(ev_op(d, EVTCHNOP_expand_array, &ea), 0);
	}
}

static void x344_open(struct xgnt_domain *d, unsigned int n)
{
	for (unsigned int i = 1; i <= n; i++) {
		evtchn_port_t p;

		assert_int_equal(alloc_unbound(d, DOMID_SELF, 0, &p), 0);
		assert_int_equal(p, i);
	}
}

static void xsa_344_reset_and_destroy_with_20000_fifo_ports(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = mkdom(m, 1, XGNT_DOMAIN_HVM, false, 2, 30000, 0);
	struct xgnt_domain *e = mkdom(m, 2, XGNT_DOMAIN_PV, false, 2, 30000, 0);
	unsigned int pages = (X344_PORTS + 1024) / 1024;
	struct evtchn_reset r = { .dom = DOMID_SELF };
	evtchn_port_t p;
	double t0, t_reset, t_destroy;

	(void)state;
	x344_fifo_up(d, pages);
	x344_open(d, X344_PORTS);
	t0 = now_s();
	assert_int_equal(ev_op(d, EVTCHNOP_reset, &r), 0);
	t_reset = now_s() - t0;
	/* Every port closed; back to 2-level, whose limit applies again. */
	for (unsigned int i = 1; i <= X344_PORTS; i += 997) {
		struct evtchn_status st = { .dom = DOMID_SELF, .port = i };
		long rc = ev_op(d, EVTCHNOP_status, &st);

		if (rc == 0)
			assert_int_equal(st.status, EVTCHNSTAT_closed);
		else
			assert_int_equal(rc, -EINVAL);
	}
	assert_int_equal(alloc_unbound(d, DOMID_SELF, 0, &p), 0);
	assert_int_equal(p, 1);
	/* FIFO can be set up again after the reset. */
	{
		struct evtchn_close c = { .port = 1 };

		assert_int_equal(ev_op(d, EVTCHNOP_close, &c), 0);
	}
	x344_fifo_up(d, 2);

	x344_fifo_up(e, pages);
	x344_open(e, X344_PORTS);
	t0 = now_s();
	assert_int_equal(xgnt_domain_destroy(e), 0);
	t_destroy = now_s() - t0;
	print_message("reset %.3fs, destroy %.3fs with %u ports\n", t_reset, t_destroy,
		      X344_PORTS);
	assert_true(t_reset < 10.0 && t_destroy < 10.0);
	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xsa_26_version_flips_while_growing_free_every_status_frame),
		cmocka_unit_test(xsa_224_host_and_device_halves_unmapped_separately),
		cmocka_unit_test(xsa_227_contains_pte_misaligned_is_error_and_writes_nothing),
		cmocka_unit_test(xsa_232_cache_flush_every_low_frame),
		cmocka_unit_test(xsa_234_readonly_grant_mapping_cannot_be_rewritten_then_unmaps_clean),
		cmocka_unit_test(xsa_255_placed_status_frame_unreachable_after_v1),
		cmocka_unit_test(xsa_316_set_status_failures_are_negative),
		cmocka_unit_test(xsa_318_every_status_of_a_long_copy_batch_is_written),
		cmocka_unit_test(xsa_380_destroy_mapper_with_32768_maptrack_entries),
		cmocka_unit_test(xsa_394_host_half_unmapped_twice_keeps_device_pin),
		cmocka_unit_test(xsa_47_refused_alloc_in_other_domain_leaves_nothing),
		cmocka_unit_test(xsa_221_port_ops_on_every_unallocated_port),
		cmocka_unit_test(xsa_344_reset_and_destroy_with_20000_fifo_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
