/* SPDX-License-Identifier: MIT */
/*
 * A hostile granter: a thread rewrites the granter's own shared grant
 * entries (type bits, GTF_readonly, GTF_sub_page, domid, frame, the v2
 * sub-page and transitive fields, and in "garbage" mode GTF_reading /
 * GTF_writing too) as fast as it can, from a fixed-seed PRNG, while mapper
 * threads map, unmap and copy those refs (DESIGN.md "Threat model": grant
 * entries are guest-writable shared memory). The hypervisor must not
 * crash or hang, every status must be one Xen gives, and once the entries
 * are restored and every mapping is gone, the invariants hold.
 *
 * Worker threads record failures; the main thread asserts after joining.
 * Hypervisor copies touch guest frames through the hypervisor's own view
 * of machine memory; so that ThreadSanitizer sees no guest-data race, only
 * one thread ever copies into frames others copy from (the frames refs may
 * name are split into a "source" and a "destination" set).
 */
#include "harness.h"
#include "conc.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define G_ID   1          /* the hostile granter */
#define M_ID   2          /* mapper / copier */
#define X_ID   3          /* an honest PV domain granting to G (transitive) */
#define NT     3          /* mapper threads */
#define ITERS  2000
#define GTF_RW (GTF_reading | GTF_writing)


/* ---- guest views, no hypercall ----------------------------------------- */

static grant_entry_v1_t *e1(struct xgnt_domain *g, grant_ref_t ref)
{
	return (grant_entry_v1_t *)t_gt_frame_va(g, ref / 512) + ref % 512;
}

static grant_entry_v2_t *e2(struct xgnt_domain *g, grant_ref_t ref)
{
	return (grant_entry_v2_t *)t_gt_frame_va(g, ref / 256) + ref % 256;
}

static grant_status_t *st2(struct xgnt_domain *g, grant_ref_t ref)
{
	return (grant_status_t *)t_gt_status_va(g, ref / 2048) + ref % 2048;
}

static uint16_t gtf_bits(struct xgnt_domain *g, unsigned int ver, grant_ref_t ref)
{
	if (ver == 1)
		return __atomic_load_n(&e1(g, ref)->flags, __ATOMIC_ACQUIRE) & GTF_RW;
	return __atomic_load_n(st2(g, ref), __ATOMIC_ACQUIRE) & GTF_RW;
}

static void grant_raw(struct xgnt_domain *g, unsigned int ver, grant_ref_t ref, domid_t to,
		      uint64_t frame, uint16_t flags)
{
	if (ver == 1) {
		grant_entry_v1_t *e = e1(g, ref);

		__atomic_store_n(&e->frame, (uint32_t)frame, __ATOMIC_RELAXED);
		__atomic_store_n(&e->domid, to, __ATOMIC_RELAXED);
		__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
	} else {
		grant_entry_v2_t *e = e2(g, ref);

		__atomic_store_n(&e->full_page.frame, frame, __ATOMIC_RELAXED);
		__atomic_store_n(&e->hdr.domid, to, __ATOMIC_RELAXED);
		__atomic_store_n(&e->hdr.flags, flags, __ATOMIC_RELEASE);
	}
}

/* Zero an entry (and, v2, its status word if the guest can write it). */
static void clear_raw(struct xgnt_domain *g, unsigned int ver, grant_ref_t ref, bool status)
{
	if (ver == 1) {
		grant_entry_v1_t *e = e1(g, ref);

		__atomic_store_n(&e->flags, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&e->domid, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&e->frame, 0, __ATOMIC_RELAXED);
	} else {
		grant_entry_v2_t *e = e2(g, ref);

		__atomic_store_n(&e->hdr.flags, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&e->hdr.domid, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&e->full_page.pad0, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&e->full_page.frame, 0, __ATOMIC_RELAXED);
		if (status)
			__atomic_store_n(st2(g, ref), 0, __ATOMIC_RELEASE);
	}
}

/* ---- hypercalls from a vCPU -------------------------------------------- */

static int16_t vmap(struct xgnt_vcpu *v, domid_t dom, grant_ref_t ref, uint32_t flags,
		    uint64_t addr, grant_handle_t *h, uint64_t *bus)
{
	struct gnttab_map_grant_ref op = {
		.host_addr = addr, .flags = flags, .ref = ref, .dom = dom,
		.handle = (grant_handle_t)0xdeadbeef, .status = 0x7777,
	};
	long rc = xgnt_grant_table_op(v, GNTTABOP_map_grant_ref, &op, 1);

	TCHECK(rc == 0, "map hypercall rc %ld", rc);
	if (h)
		*h = op.handle;
	if (bus)
		*bus = op.dev_bus_addr;
	return op.status;
}

static int16_t vunmap(struct xgnt_vcpu *v, grant_handle_t h, uint64_t addr)
{
	struct gnttab_unmap_grant_ref op = { .host_addr = addr, .handle = h, .status = 0x7777 };
	long rc = xgnt_grant_table_op(v, GNTTABOP_unmap_grant_ref, &op, 1);

	TCHECK(rc == 0, "unmap hypercall rc %ld", rc);
	return op.status;
}

static int16_t vcopy(struct xgnt_vcpu *v, struct gnttab_copy *op)
{
	long rc;

	op->status = 0x7777;
	rc = xgnt_grant_table_op(v, GNTTABOP_copy, op, 1);
	TCHECK(rc == 0, "copy hypercall rc %ld", rc);
	return op->status;
}

static bool valid_gntst(int16_t st)
{
	return st <= GNTST_okay && st >= GNTST_no_space;
}

static struct xgnt_domain *domain_n(struct xgnt_machine *m, domid_t id,
				    enum xgnt_domain_type type, unsigned int nr_vcpus)
{
	struct xgnt_domain_config c = {
		.domid = id, .type = type, .ram_frames = 256, .ext_frames = 4096,
		.nr_vcpus = nr_vcpus,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

static void check_machine(struct xgnt_machine *m, unsigned int flags)
{
	char why[256];

	if (xgnt_machine_check(m, flags, why, sizeof(why)))
		fail_msg("machine check (flags %u): %s", flags, why);
}

static int print_active(const struct xgnt_active_info *a, void *arg)
{
	(void)arg;
	print_message("  still active: ref %u pinned %#x for d%u (src d%u ref %u, sub-page %d)\n",
		      a->ref, a->pin, a->domid, a->trans_domid, a->trans_gref, a->is_sub_page);
	return 0;
}

static void assert_no_use(struct xgnt_domain *d)
{
	struct xgnt_table_info ti;

	assert_int_equal(xgnt_domain_table_info(d, &ti), 0);
	if (ti.nr_mappings || ti.nr_active) {
		xgnt_domain_walk_active(d, print_active, NULL);
		fail_msg("d%u: %u mappings and %u active entries left after every user stopped",
			 xgnt_domain_id(d), ti.nr_mappings, ti.nr_active);
	}
}

static void fill_page(struct xgnt_domain *d, unsigned int page, uint8_t b)
{
	memset(t_ram_va(d, page), b, 4096);
}

/* =========================================================================
 * 1. Everything at once: the hostile thread rewrites any field of refs
 *    8..19; mappers map/unmap/copy them.
 * ========================================================================= */

#define SRC0   8          /* refs 8..15: mapped, copied from */
#define NSRC   8
#define DST0   16         /* refs 16..19: mapped, copied into (thread 0 only) */
#define NDST   4
#define NREF   (NSRC + NDST)
#define SRCPG  40         /* G pages 40..47, byte 0x40+k */
#define DSTPG  60         /* G pages 60..63, byte 0x60+k */
#define XPG    20         /* X pages 20..23, byte 0x20+k, X refs 8..11 */
#define OWNPG  100        /* M's own pages 100+t */
#define HOLD   6

struct hcfg {
	enum xgnt_domain_type gtype;
	unsigned int ver;
	bool garbage;         /* also write GTF_reading/GTF_writing (and v2 status) */
};

struct henv {
	struct hcfg cfg;
	struct xgnt_machine *m;
	struct xgnt_domain *g, *mp, *x;
	uint64_t src_frames[16], dst_frames[16];
	unsigned int nsrc_frames, ndst_frames;
	atomic_bool stop;
	atomic_long mutations, st_count[3][16];   /* [map, copy-from, copy-into][-status] */
	atomic_long copy_ok_transitive;
};

struct harg {
	struct henv *e;
	unsigned int t;
};

static uint16_t rand_flags(const struct henv *e, uint64_t r)
{
	static const uint16_t cache_bits[] = { GTF_PWT, GTF_PCD, GTF_PAT };
	unsigned int x = (unsigned int)(r % 10);
	uint16_t f;

	if (x < 6)
		f = GTF_permit_access;
	else if (x == 6)
		f = GTF_invalid;
	else if (x == 7)
		f = GTF_accept_transfer;
	else
		f = e->cfg.ver == 2 ? GTF_transitive : GTF_permit_access;
	if ((r >> 4) % 4 == 0)
		f |= GTF_readonly;
	if ((r >> 6) % (e->cfg.ver == 2 ? 5 : 16) == 0)
		f |= GTF_sub_page;
	if ((r >> 9) % 20 == 0)
		f |= cache_bits[(r >> 11) % 3];
	if ((r >> 14) % 20 == 0)
		f |= (uint16_t)((r >> 20) & 0xfe00);    /* bits 9..15 */
	return f;
}

static domid_t rand_domid(uint64_t r)
{
	static const domid_t others[] = { X_ID, G_ID, DOMID_SELF, 99, 0 };
	unsigned int x = (unsigned int)(r % 10);

	return x < 7 ? M_ID : others[(r >> 8) % 5];
}

static uint64_t rand_frame(const struct henv *e, bool dst, uint64_t r)
{
	return dst ? e->dst_frames[r % e->ndst_frames] : e->src_frames[r % e->nsrc_frames];
}

static void write_flags(struct henv *e, grant_ref_t ref, uint16_t f, uint64_t r)
{
	if (e->cfg.ver == 1) {
		uint16_t *fp = &e1(e->g, ref)->flags;

		if (e->cfg.garbage) {
			__atomic_store_n(fp, (uint16_t)(f | ((r >> 40) & GTF_RW)), __ATOMIC_RELEASE);
		} else {
			/* Leave GTF_reading/GTF_writing as the hypervisor has them. */
			uint16_t old = __atomic_load_n(fp, __ATOMIC_ACQUIRE);

			while (!__atomic_compare_exchange_n(fp, &old,
							    (uint16_t)((old & GTF_RW) | (f & ~GTF_RW)),
							    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				;
		}
		return;
	}
	__atomic_store_n(&e2(e->g, ref)->hdr.flags, f, __ATOMIC_RELEASE);
	if (e->cfg.garbage && e->cfg.gtype != XGNT_DOMAIN_PV && (r >> 40) % 4 == 0)
		__atomic_store_n(st2(e->g, ref), (uint16_t)((r >> 44) & GTF_RW), __ATOMIC_RELEASE);
}

static void hostile_step(struct henv *e, uint64_t *seed)
{
	uint64_t r = rnd(seed), r2 = rnd(seed);
	grant_ref_t ref = SRC0 + (grant_ref_t)(r % NREF);
	bool dst = ref >= DST0;
	unsigned int kind = (unsigned int)((r >> 8) % 8);

	switch (kind) {
	case 0: case 1: case 2:
		write_flags(e, ref, rand_flags(e, r2), r2);
		break;
	case 3:
		if (e->cfg.ver == 1)
			__atomic_store_n(&e1(e->g, ref)->domid, rand_domid(r2), __ATOMIC_RELAXED);
		else
			__atomic_store_n(&e2(e->g, ref)->hdr.domid, rand_domid(r2), __ATOMIC_RELAXED);
		break;
	case 4: case 5:
		if (e->cfg.ver == 1)
			__atomic_store_n(&e1(e->g, ref)->frame, (uint32_t)rand_frame(e, dst, r2),
					 __ATOMIC_RELAXED);
		else
			__atomic_store_n(&e2(e->g, ref)->full_page.frame, rand_frame(e, dst, r2),
					 __ATOMIC_RELAXED);
		break;
	case 6:
		if (e->cfg.ver == 1) {
			/* Flip GTF_readonly alone. */
			write_flags(e, ref, (uint16_t)(__atomic_load_n(&e1(e->g, ref)->flags,
								      __ATOMIC_ACQUIRE) ^ GTF_readonly),
				    r2 & ~(0xffull << 40));
		} else if (r2 & 1) {
			grant_entry_v2_t *en = e2(e->g, ref);

			__atomic_store_n(&en->sub_page.page_off,
					 (uint16_t)((r2 >> 8) % 8 ? (r2 >> 16) % 4096 : (r2 >> 16)),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&en->sub_page.length,
					 (uint16_t)((r2 >> 4) % 8 ? (r2 >> 32) % 4097 : (r2 >> 32)),
					 __ATOMIC_RELAXED);
		} else {
			/* Transitive fields: X's refs 8,9 back source refs and
			 * 10,11 destination refs, so copies never read a frame
			 * another thread copies into; or nonsense. */
			grant_entry_v2_t *en = e2(e->g, ref);
			static const domid_t tds[] = { X_ID, X_ID, X_ID, G_ID, M_ID, 99 };
			/* The nonsense grefs stay beyond every page with known
			 * content: the transitive gref overlays the low half of
			 * a full_page frame, which a later type flip exposes
			 * (a copy would then legitimately read that page). */
			uint32_t gref = (r2 >> 12) % 4 ? (dst ? 10 : 8) + (uint32_t)((r2 >> 20) & 1)
						       : (uint32_t)(r2 >> 24) % 600 + 600;

			__atomic_store_n(&en->transitive.trans_domid, tds[(r2 >> 8) % 6],
					 __ATOMIC_RELAXED);
			__atomic_store_n(&en->transitive.gref, gref, __ATOMIC_RELAXED);
		}
		break;
	default:
		/* A whole new entry. */
		if (e->cfg.ver == 1) {
			__atomic_store_n(&e1(e->g, ref)->frame, (uint32_t)rand_frame(e, dst, r2),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&e1(e->g, ref)->domid, rand_domid(r2 >> 8), __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&e2(e->g, ref)->full_page.frame, rand_frame(e, dst, r2),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&e2(e->g, ref)->hdr.domid, rand_domid(r2 >> 8),
					 __ATOMIC_RELAXED);
		}
		write_flags(e, ref, rand_flags(e, r2 >> 16), r2);
		break;
	}
}

static void *hostile_thread(void *p)
{
	struct henv *e = p;
	uint64_t seed = 0xC0FFEE1234ull + e->cfg.ver * 31 + e->cfg.gtype * 7 + e->cfg.garbage;
	long n = 0;

	while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
		hostile_step(e, &seed);
		if (++n % 256 == 0)
			sched_yield();
	}
	atomic_store(&e->mutations, n);
	return NULL;
}

static void tally(struct henv *e, unsigned int what, int16_t st)
{
	if (valid_gntst(st))
		atomic_fetch_add(&e->st_count[what][-st], 1);
}

/* Bytes a legitimate source frame can hold: a source candidate page, an
 * X page (transitive), or a zero page (G's page 0, shared_info). */
static bool legit_src_byte(uint8_t b)
{
	return b == 0 || (b >= 0x40 && b < 0x40 + NSRC) || (b >= 0x20 && b < 0x24);
}

struct hold {
	grant_handle_t h;
	uint64_t addr;
};

static void *hmapper(void *p)
{
	struct harg *a = p;
	struct henv *e = a->e;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, a->t);
	struct hold holds[HOLD];
	bool used[HOLD] = { false };
	unsigned int nh = 0, it, i;
	uint64_t seed = 0xfeed0000ull + a->t * 977 + e->cfg.ver;
	uint8_t *own = t_ram_va(e->mp, OWNPG + a->t);

	if (a->t == 0)
		memset(own, 0x99, 4096);
	for (it = 0; it < ITERS; it++) {
		uint64_t r = rnd(&seed);
		unsigned int op = (unsigned int)(r % 10);

		if (op == 9 && a->t != 0)
			op = 0;
		if (op < 4 && nh < HOLD) {
			grant_ref_t ref = SRC0 + (grant_ref_t)((r >> 8) % NREF);
			bool ro = (r >> 16) & 1;
			unsigned int s;
			grant_handle_t h;

			for (s = 0; used[s]; s++)
				;
			uint64_t addr = t_ext_addr(e->mp, a->t * HOLD + s);
			int16_t st = vmap(v, G_ID, ref, GNTMAP_host_map | (ro ? GNTMAP_readonly : 0),
					  addr, &h, NULL);

			tally(e, 0, st);
			if (st == GNTST_okay) {
				/* The mapping is there: reading it must not fault. */
				volatile uint8_t *b = xgnt_domain_va(e->mp, addr);

				(void)b[0];
				(void)b[4095];
				used[s] = true;
				holds[s] = (struct hold){ .h = h, .addr = addr };
				nh++;
			} else {
				TCHECK(st == GNTST_general_error || st == GNTST_bad_page,
				       "map ref %u: status %d", ref, st);
			}
		} else if (op < 7 && nh) {
			unsigned int s = (unsigned int)(r >> 8) % HOLD;

			while (!used[s])
				s = (s + 1) % HOLD;
			int16_t st = vunmap(v, holds[s].h, holds[s].addr);

			TCHECK(st == GNTST_okay, "unmap handle %u: status %d", holds[s].h, st);
			used[s] = false;
			nh--;
		} else if (op < 9) {
			/* Copy from a source ref into our own page. */
			grant_ref_t ref = SRC0 + (grant_ref_t)((r >> 8) % NSRC);
			uint16_t len = (uint16_t)(1 + (r >> 16) % 512);
			uint16_t off = (uint16_t)((r >> 32) % (4096 - len + 1));
			uint16_t doff = (uint16_t)((r >> 48) % (4096 - len + 1));
			struct gnttab_copy c = { .len = len, .flags = GNTCOPY_source_gref };
			uint8_t *dp = t_ram_va(e->mp, OWNPG + NT + a->t);

			c.source.domid = G_ID;
			c.source.u.ref = ref;
			c.source.offset = off;
			c.dest.domid = DOMID_SELF;
			c.dest.u.gmfn = t_ram_frame(e->mp, OWNPG + NT + a->t);
			c.dest.offset = doff;
			memset(dp + doff, 0xee, len);
			int16_t st = vcopy(v, &c);

			tally(e, 1, st);
			if (st == GNTST_okay) {
				uint8_t b0 = dp[doff];

				TCHECK(legit_src_byte(b0), "copy from ref %u brought %#x", ref, b0);
				for (i = 1; i < len; i++)
					if (dp[doff + i] != b0) {
						TFAIL("copy from ref %u: mixed frame data", ref);
						break;
					}
				if (b0 >= 0x20 && b0 < 0x24)
					atomic_fetch_add(&e->copy_ok_transitive, 1);
			} else {
				/* v2 transitive: the trans_gref may be out of range in
				 * the third domain's table (Xen passes its status on). */
				TCHECK(st == GNTST_general_error || st == GNTST_bad_page ||
				       (e->cfg.ver == 2 && st == GNTST_bad_gntref),
				       "copy from ref %u: status %d", ref, st);
			}
		} else if (op == 9) {
			/* Thread 0 only: copy into a destination ref. */
			grant_ref_t ref = DST0 + (grant_ref_t)((r >> 8) % NDST);
			uint16_t len = (uint16_t)(1 + (r >> 16) % 512);
			uint16_t off = (uint16_t)((r >> 32) % (4096 - len + 1));
			struct gnttab_copy c = { .len = len, .flags = GNTCOPY_dest_gref };

			c.source.domid = DOMID_SELF;
			c.source.u.gmfn = t_ram_frame(e->mp, OWNPG);
			c.source.offset = off;
			c.dest.domid = G_ID;
			c.dest.u.ref = ref;
			c.dest.offset = off;
			int16_t st = vcopy(v, &c);

			tally(e, 2, st);
			TCHECK(st == GNTST_okay || st == GNTST_general_error || st == GNTST_bad_page ||
			       (e->cfg.ver == 2 && st == GNTST_bad_gntref),
			       "copy into ref %u: status %d", ref, st);
		}
	}
	for (i = 0; i < HOLD; i++) {
		if (!used[i])
			continue;
		int16_t st = vunmap(v, holds[i].h, holds[i].addr);

		TCHECK(st == GNTST_okay, "final unmap: status %d", st);
	}
	return NULL;
}

static void henv_frames(struct henv *e)
{
	struct xgnt_domain_layout gl;
	unsigned int i;
	bool pv = e->cfg.gtype == XGNT_DOMAIN_PV;
	uint64_t big = e->cfg.ver == 2 ? (1ull << 40) + 5 : 0xffffffffull;

	xgnt_domain_layout(e->g, &gl);
	for (i = 0; i < NSRC; i++)
		e->src_frames[e->nsrc_frames++] = t_ram_frame(e->g, SRCPG + i);
	for (i = 0; i < NDST; i++)
		e->dst_frames[e->ndst_frames++] = t_ram_frame(e->g, DSTPG + i);
	/* Frames nobody may be given through G's grants. */
	if (pv) {
		uint64_t bad[] = {
			t_ram_frame(e->x, 30),         /* X's frame, not granted */
			t_ram_frame(e->x, XPG),        /* X's frame, granted to G */
			16384 + 5,                     /* beyond machine memory */
			big,
		};
		for (i = 0; i < 4; i++) {
			e->src_frames[e->nsrc_frames++] = bad[i];
			e->dst_frames[e->ndst_frames++] = bad[i];
		}
		e->src_frames[e->nsrc_frames++] = xgnt_domain_shared_info_mfn(e->g);
		e->src_frames[e->nsrc_frames++] = t_ram_frame(e->g, 0);
	} else {
		uint64_t ext = gl.ext_base >> 12;
		uint64_t bad[] = {
			ext + 3000,                    /* unpopulated */
			ext + (gl.ext_size >> 12) + 9, /* beyond the guest */
			big,
		};
		for (i = 0; i < 3; i++) {
			e->src_frames[e->nsrc_frames++] = bad[i];
			e->dst_frames[e->ndst_frames++] = bad[i];
		}
		e->src_frames[e->nsrc_frames++] = t_ram_frame(e->g, 0);
	}
}

static void run_hostile(struct hcfg cfg)
{
	/* Static: a failing test longjmps out, and must not leak it. */
	static struct henv storage;
	struct henv *e = &storage;
	struct harg args[NT];
	pthread_t th[NT], ht;
	unsigned int i;
	char line[512];
	int n;

	memset(e, 0, sizeof(*e));
	fails_reset();
	e->cfg = cfg;
	e->m = t_machine();
	e->g = t_domain(e->m, G_ID, cfg.gtype, false);
	e->mp = domain_n(e->m, M_ID, XGNT_DOMAIN_HVM, NT);
	e->x = t_domain(e->m, X_ID, XGNT_DOMAIN_PV, false);
	if (cfg.ver == 2)
		assert_int_equal(t_set_version(e->g, 2), 0);
	t_gt_setup(e->g, 1);
	t_gt_setup(e->x, 1);
	for (i = 0; i < NSRC; i++)
		fill_page(e->g, SRCPG + i, (uint8_t)(0x40 + i));
	for (i = 0; i < NDST; i++)
		fill_page(e->g, DSTPG + i, (uint8_t)(0x60 + i));
	for (i = 0; i < 4; i++) {
		fill_page(e->x, XPG + i, (uint8_t)(0x20 + i));
		t_grant(e->x, 8 + i, G_ID, t_ram_frame(e->x, XPG + i), false);
	}
	henv_frames(e);
	for (i = 0; i < NREF; i++)
		grant_raw(e->g, cfg.ver, SRC0 + i, M_ID,
			  i < NSRC ? e->src_frames[i] : e->dst_frames[i - NSRC], GTF_permit_access);

	start(&ht, hostile_thread, e);
	for (i = 0; i < NT; i++) {
		args[i] = (struct harg){ .e = e, .t = i };
		start(&th[i], hmapper, &args[i]);
	}
	for (i = 0; i < NT; i++)
		join(th[i], "mapper");
	atomic_store(&e->stop, true);
	join(ht, "hostile granter");
	fails_assert();

	n = snprintf(line, sizeof(line), "%s v%u%s: %ld mutations;", cfg.gtype == XGNT_DOMAIN_PV ?
		     "PV" : "HVM", cfg.ver, cfg.garbage ? " garbage" : "", atomic_load(&e->mutations));
	for (unsigned int w = 0; w < 3; w++) {
		static const char *const names[] = { "map", "copy-from", "copy-into" };

		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", names[w]);
		for (unsigned int s = 0; s < 14; s++)
			if (atomic_load(&e->st_count[w][s]))
				n += snprintf(line + n, sizeof(line) - (size_t)n, " [%d]=%ld",
					      -(int)s, atomic_load(&e->st_count[w][s]));
	}
	print_message("%s; transitive copies ok %ld\n", line, atomic_load(&e->copy_ok_transitive));
	assert_true(atomic_load(&e->st_count[0][0]) > 0);     /* some maps succeeded */
	assert_true(atomic_load(&e->st_count[1][0]) > 0);     /* some copies succeeded */

	/* Nothing is held any more, whatever the guest wrote. */
	assert_no_use(e->mp);
	assert_no_use(e->g);
	assert_no_use(e->x);
	check_machine(e->m, 0);

	/* The guest restores its entries: then even GTF_reading/GTF_writing
	 * agree with the (zero) pins. */
	for (i = 0; i < NREF; i++)
		clear_raw(e->g, cfg.ver, SRC0 + i, cfg.gtype != XGNT_DOMAIN_PV);
	check_machine(e->m, XGNT_CHECK_GTF);

	/* No sub-page or transitive copy is still counted (XSA-501): the
	 * table can go back to v1. A PV guest first drops its status frame
	 * mapping (Xen refuses while it is mapped). */
	if (cfg.ver == 2) {
		struct xgnt_domain_layout gl;

		xgnt_domain_layout(e->g, &gl);
		if (cfg.gtype == XGNT_DOMAIN_PV)
			assert_int_equal(xgnt_update_va_mapping(t_v0(e->g), gl.ext_base +
							       T_GT_STATUS_OFF * 4096ull,
							       INVALID_MFN, 0), 0);
		assert_int_equal(t_set_version(e->g, 1), 0);
		check_machine(e->m, XGNT_CHECK_GTF);
	}
	xgnt_machine_destroy(e->m);
}

static void test_conc_hostile_hvm_v1_garbage(void **state)
{
	(void)state;
	run_hostile((struct hcfg){ .gtype = XGNT_DOMAIN_HVM, .ver = 1, .garbage = true });
}

static void test_conc_hostile_hvm_v1_keeps_gtf_bits(void **state)
{
	(void)state;
	run_hostile((struct hcfg){ .gtype = XGNT_DOMAIN_HVM, .ver = 1, .garbage = false });
}

static void test_conc_hostile_hvm_v2_garbage(void **state)
{
	(void)state;
	run_hostile((struct hcfg){ .gtype = XGNT_DOMAIN_HVM, .ver = 2, .garbage = true });
}

static void test_conc_hostile_pv_v1_garbage(void **state)
{
	(void)state;
	run_hostile((struct hcfg){ .gtype = XGNT_DOMAIN_PV, .ver = 1, .garbage = true });
}

static void test_conc_hostile_pv_v2(void **state)
{
	(void)state;
	run_hostile((struct hcfg){ .gtype = XGNT_DOMAIN_PV, .ver = 2, .garbage = false });
}

/* =========================================================================
 * 2. The frame is read once, at the first pin: a mapping made while the
 *    granter flips `frame` shows the frame that was pinned, for as long as
 *    it lives, and every mapping made while the pin is held shows the same.
 * ========================================================================= */

#define FP_REFS   4        /* refs 8..11 */
#define FP_PAGES  8        /* G pages 40..47, each filled with 0x40+k */
#define FP_HOLD   3

struct fpenv {
	struct xgnt_machine *m;
	struct xgnt_domain *g, *mp;
	unsigned int ver;
	uint64_t frames[FP_PAGES + 1];   /* + one unpopulated gfn */
	atomic_bool stop;
	_Atomic uint64_t bus_of[256];
	atomic_uint seen_bytes;
	atomic_long ok, bad_page;
};

struct fparg {
	struct fpenv *e;
	unsigned int t;
};

static void *fp_flipper(void *p)
{
	struct fpenv *e = p;
	uint64_t seed = 4242 + e->ver;
	long n = 0;

	while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
		uint64_t r = rnd(&seed);
		grant_ref_t ref = 8 + (grant_ref_t)(r % FP_REFS);
		uint64_t f = e->frames[(r >> 8) % (FP_PAGES + 1)];

		if (e->ver == 1)
			__atomic_store_n(&e1(e->g, ref)->frame, (uint32_t)f, __ATOMIC_RELAXED);
		else
			__atomic_store_n(&e2(e->g, ref)->full_page.frame, f, __ATOMIC_RELAXED);
		if (++n % 256 == 0)
			sched_yield();
	}
	return NULL;
}

struct fphold {
	bool used;
	grant_handle_t h;
	uint64_t addr;
	unsigned int ref;
	uint8_t byte;
};

static uint8_t fp_byte(struct fpenv *e, uint64_t addr, bool *uniform)
{
	const volatile uint8_t *b = xgnt_domain_va(e->mp, addr);
	uint8_t x = b[0];

	*uniform = b[1000] == x && b[2047] == x && b[4095] == x;
	return x;
}

static void *fp_mapper(void *p)
{
	struct fparg *a = p;
	struct fpenv *e = a->e;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, a->t);
	struct fphold hs[FP_HOLD] = { 0 };
	uint64_t seed = 99 + a->t;
	unsigned int it, i;

	for (it = 0; it < ITERS; it++) {
		uint64_t r = rnd(&seed);

		/* Every mapping still shows what it showed when made. */
		for (i = 0; i < FP_HOLD; i++) {
			bool uni;

			if (hs[i].used)
				TCHECK(fp_byte(e, hs[i].addr, &uni) == hs[i].byte && uni,
				       "mapping of ref %u changed under the guest's flips", hs[i].ref);
		}
		if (r % 8 == 0) {
			/* Let go of everything: the next map pins afresh. */
			for (i = 0; i < FP_HOLD; i++) {
				if (!hs[i].used)
					continue;
				TCHECK(vunmap(v, hs[i].h, hs[i].addr) == GNTST_okay, "unmap");
				hs[i].used = false;
			}
			continue;
		}
		for (i = 0; i < FP_HOLD && hs[i].used; i++)
			;
		if (i == FP_HOLD) {
			unsigned int k = (unsigned int)(r >> 8) % FP_HOLD;

			TCHECK(vunmap(v, hs[k].h, hs[k].addr) == GNTST_okay, "unmap");
			hs[k].used = false;
			i = k;
		}
		struct fphold *n = &hs[i];
		grant_ref_t ref = 8 + (grant_ref_t)((r >> 16) % FP_REFS);
		uint64_t bus;
		bool uni;

		n->addr = t_ext_addr(e->mp, a->t * FP_HOLD + i);
		int16_t st = vmap(v, G_ID, ref, GNTMAP_host_map | GNTMAP_readonly, n->addr, &n->h,
				  &bus);

		if (st == GNTST_bad_page) {
			atomic_fetch_add(&e->bad_page, 1);
			continue;
		}
		if (st != GNTST_okay) {
			TFAIL("map ref %u: status %d", ref, st);
			continue;
		}
		atomic_fetch_add(&e->ok, 1);
		n->used = true;
		n->ref = ref;
		n->byte = fp_byte(e, n->addr, &uni);
		TCHECK(uni && n->byte >= 0x40 && n->byte < 0x40 + FP_PAGES,
		       "ref %u mapping shows %#x, not a granted page", ref, n->byte);
		atomic_fetch_or(&e->seen_bytes, 1u << (n->byte & 31));
		/* One frame per byte: dev_bus_addr agrees with the content. */
		uint64_t want = 0;

		if (!atomic_compare_exchange_strong(&e->bus_of[n->byte], &want, bus))
			TCHECK(want == bus, "page %#x seen at two machine addresses", n->byte);
		/* While we hold the pin, new mappings of the ref show the same. */
		for (unsigned int j = 0; j < FP_HOLD; j++)
			if (j != i && hs[j].used && hs[j].ref == ref)
				TCHECK(hs[j].byte == n->byte,
				       "ref %u: two live mappings show %#x and %#x", ref, hs[j].byte,
				       n->byte);
	}
	for (i = 0; i < FP_HOLD; i++)
		if (hs[i].used)
			TCHECK(vunmap(v, hs[i].h, hs[i].addr) == GNTST_okay, "unmap");
	return NULL;
}

static void run_frame_pinned(unsigned int ver)
{
	/* Static: a failing test longjmps out, and must not leak it. */
	static struct fpenv storage;
	struct fpenv *e = &storage;
	struct fparg args[NT];
	pthread_t th[NT], ft;
	struct xgnt_domain_layout gl;
	unsigned int i;

	memset(e, 0, sizeof(*e));
	fails_reset();
	e->ver = ver;
	e->m = t_machine();
	e->g = t_domain(e->m, G_ID, XGNT_DOMAIN_HVM, false);
	e->mp = domain_n(e->m, M_ID, XGNT_DOMAIN_HVM, NT);
	if (ver == 2)
		assert_int_equal(t_set_version(e->g, 2), 0);
	t_gt_setup(e->g, 1);
	xgnt_domain_layout(e->g, &gl);
	for (i = 0; i < FP_PAGES; i++) {
		fill_page(e->g, 40 + i, (uint8_t)(0x40 + i));
		e->frames[i] = t_ram_frame(e->g, 40 + i);
	}
	e->frames[FP_PAGES] = (gl.ext_base >> 12) + 3000;
	for (i = 0; i < FP_REFS; i++)
		t_grant(e->g, 8 + i, M_ID, e->frames[i], false);

	start(&ft, fp_flipper, e);
	for (i = 0; i < NT; i++) {
		args[i] = (struct fparg){ .e = e, .t = i };
		start(&th[i], fp_mapper, &args[i]);
	}
	for (i = 0; i < NT; i++)
		join(th[i], "mapper");
	atomic_store(&e->stop, true);
	join(ft, "flipper");
	fails_assert();
	print_message("v%u: %ld maps, %ld bad_page, pages seen %#x\n", ver, atomic_load(&e->ok),
		      atomic_load(&e->bad_page), atomic_load(&e->seen_bytes));
	/* The flips were seen by first pins (more than one page). */
	assert_true(__builtin_popcount(atomic_load(&e->seen_bytes)) >= 2);
	assert_no_use(e->mp);
	assert_no_use(e->g);
	/* Only `frame` was written: the GTF bits are the hypervisor's. */
	check_machine(e->m, XGNT_CHECK_GTF);
	xgnt_machine_destroy(e->m);
}

static void test_conc_hostile_frame_flips_do_not_move_mappings_v1(void **state)
{
	(void)state;
	run_frame_pinned(1);
}

static void test_conc_hostile_frame_flips_do_not_move_mappings_v2(void **state)
{
	(void)state;
	run_frame_pinned(2);
}

/* =========================================================================
 * 3. A read-only map never becomes writable, whatever GTF_readonly does
 *    meanwhile (and a writable map of the same ref does not upgrade it).
 * ========================================================================= */

#define RO_ITERS 60
#define RO_REF   8

struct roenv {
	struct xgnt_domain *g;
	unsigned int ver;
	atomic_bool stop;
	atomic_long flips;
};

static void *ro_flipper(void *p)
{
	struct roenv *e = p;
	uint64_t seed = 31337;
	long n = 0;

	while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
		if (e->ver == 1)
			__atomic_fetch_xor(&e1(e->g, RO_REF)->flags, (uint16_t)GTF_readonly,
					   __ATOMIC_ACQ_REL);
		else
			__atomic_fetch_xor(&e2(e->g, RO_REF)->hdr.flags, (uint16_t)GTF_readonly,
					   __ATOMIC_ACQ_REL);
		n++;
		/* Yield after a random number of flips: on a loaded machine
		 * the mapper may only run while we are off the CPU, and it
		 * must find the flag in either state. */
		if (rnd(&seed) % 64 == 0)
			sched_yield();
	}
	atomic_store(&e->flips, n);
	return NULL;
}

static void run_readonly(unsigned int ver)
{
	struct roenv e = { .ver = ver };
	struct xgnt_machine *m;
	struct xgnt_domain *mp;
	struct xgnt_vcpu *v;
	pthread_t ft;
	unsigned int it, ro_ok = 0, rw_ok = 0, rw_refused = 0;

	fails_reset();
	m = t_machine();
	e.g = t_domain(m, G_ID, XGNT_DOMAIN_HVM, false);
	mp = domain_n(m, M_ID, XGNT_DOMAIN_HVM, 1);
	v = xgnt_domain_vcpu(mp, 0);
	if (ver == 2)
		assert_int_equal(t_set_version(e.g, 2), 0);
	t_gt_setup(e.g, 1);
	fill_page(e.g, 30, 0x5a);
	t_grant(e.g, RO_REF, M_ID, t_ram_frame(e.g, 30), false);

	start(&ft, ro_flipper, &e);
	for (it = 0; it < RO_ITERS && !atomic_load(&n_fail); it++) {
		uint64_t ra = t_ext_addr(mp, 0), wa = t_ext_addr(mp, 1);
		volatile uint8_t *rp = xgnt_domain_va(mp, ra), *wp = xgnt_domain_va(mp, wa);
		grant_handle_t rh, wh;
		bool rw_first = it & 1;
		int16_t rst, wst = GNTST_general_error;

		if (rw_first)
			wst = vmap(v, G_ID, RO_REF, GNTMAP_host_map, wa, &wh, NULL);
		rst = vmap(v, G_ID, RO_REF, GNTMAP_host_map | GNTMAP_readonly, ra, &rh, NULL);
		if (!rw_first)
			wst = vmap(v, G_ID, RO_REF, GNTMAP_host_map, wa, &wh, NULL);

		/* A read-only map does not care about GTF_readonly; v1 may
		 * still lose the flags word to the guest 5 times in a row
		 * ("unstable"), as in Xen. */
		TCHECK(rst == GNTST_okay || (ver == 1 && rst == GNTST_general_error),
		       "read-only map: status %d", rst);
		TCHECK(wst == GNTST_okay || wst == GNTST_general_error, "rw map: status %d", wst);
		if (rst == GNTST_okay) {
			ro_ok++;
			TCHECK(rp[17] == 0x5a, "read-only mapping reads %#x", rp[17]);
			TCHECK(t_write_faults(rp), "iteration %u: read-only mapping is writable", it);
		}
		if (wst == GNTST_okay) {
			rw_ok++;
			TCHECK(gtf_bits(e.g, ver, RO_REF) & GTF_writing, "writable pin, no GTF_writing");
			TCHECK(!t_write_faults(wp), "writable mapping is not writable");
			/* ... and the read-only one stays read-only. */
			if (rst == GNTST_okay)
				TCHECK(t_write_faults(rp), "read-only mapping became writable");
			TCHECK(vunmap(v, wh, wa) == GNTST_okay, "unmap rw");
		} else {
			rw_refused++;
		}
		if (rst == GNTST_okay) {
			TCHECK(!(gtf_bits(e.g, ver, RO_REF) & GTF_writing),
			       "only a read-only pin left, GTF_writing still set");
			TCHECK(t_write_faults(rp), "read-only mapping writable after rw unmap");
			TCHECK(vunmap(v, rh, ra) == GNTST_okay, "unmap ro");
		}
	}
	atomic_store(&e.stop, true);
	join(ft, "flipper");
	fails_assert();
	print_message("v%u: %u read-only maps, %u writable maps, %u refused, %ld flips\n", ver,
		      ro_ok, rw_ok, rw_refused, atomic_load(&e.flips));
	assert_true(ro_ok > RO_ITERS / 2);
	assert_true(rw_ok > 0 && rw_refused > 0);   /* both states of the flag met */
	assert_no_use(mp);
	assert_no_use(e.g);
	/* The guest left GTF_reading/GTF_writing alone. */
	check_machine(m, XGNT_CHECK_GTF);
	xgnt_machine_destroy(m);
}

static void test_conc_hostile_readonly_flips_never_make_ro_map_writable_v1(void **state)
{
	(void)state;
	run_readonly(1);
}

static void test_conc_hostile_readonly_flips_never_make_ro_map_writable_v2(void **state)
{
	(void)state;
	run_readonly(2);
}

/* =========================================================================
 * 4. The granter switches versions (1 <-> 2) while one of its vCPUs keeps
 *    placing status frame 0 in its physmap (XSA-486, 384, 379) and a mapper
 *    maps, unmaps and copies a reserved ref (pinned across switches) and a
 *    normal one (XSA-501). Afterwards no slot shows a freed frame.
 * ========================================================================= */

#define VF_SWITCHES 300
#define VF_RES_REF  2      /* reserved entry: may stay pinned across a switch */
#define VF_REF      20
#define VF_PAGE     50

struct vfenv {
	struct xgnt_machine *m;
	struct xgnt_domain *g, *mp;
	atomic_bool stop;
	atomic_long switches, busy, placed, place_einval, maps_ok, copies_ok, ops;
	atomic_bool quiet;        /* mappers: drop your pin and wait */
	atomic_int quiet_ack;
};

static void vf_grant(struct vfenv *e, unsigned int ver, grant_ref_t ref)
{
	grant_raw(e->g, ver, ref, M_ID, t_ram_frame(e->g, VF_PAGE), GTF_permit_access);
}

/* vCPU 0 of the granter: switch versions; after each switch (the shared
 * frames were cleared, reserved entries converted) grant VF_REF again. */
static void *vf_switcher(void *p)
{
	struct vfenv *e = p;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->g, 0);
	unsigned int i, ver = 1;

	/* At least VF_SWITCHES attempts, and until the mappers did some
	 * work alongside (bounded). */
	for (i = 0; (i < VF_SWITCHES || atomic_load(&e->ops) < 4000) && i < 200000; i++) {
		struct gnttab_set_version sv = { .version = ver == 1 ? 2 : 1 };
		long rc = xgnt_grant_table_op(v, GNTTABOP_set_version, &sv, 1);

		if (rc == 0) {
			ver = sv.version;
			atomic_fetch_add(&e->switches, 1);
			vf_grant(e, ver, VF_REF);
		} else {
			TCHECK(rc == -EBUSY || rc == -EAGAIN, "set_version(%u): %ld", ver == 1 ? 2 : 1,
			       rc);
			TCHECK(sv.version == ver, "set_version wrote back %u, version is %u", sv.version,
			       ver);
			atomic_fetch_add(&e->busy, 1);
		}
		sched_yield();
	}
	/* Under load the mappers may have kept a pin through every attempt,
	 * or the placer never ran in a v2 period: then have the mappers
	 * stand still, switch to v2 with nothing pinned, and let the placer
	 * place the status frame once. */
	if (!atomic_load(&e->switches) || !atomic_load(&e->placed)) {
		atomic_store(&e->quiet, true);
		for (i = 0; atomic_load(&e->quiet_ack) < 2 && i < 1000000; i++)
			sched_yield();
		if (ver == 1) {
			struct gnttab_set_version sv = { .version = 2 };

			TCHECK(xgnt_grant_table_op(v, GNTTABOP_set_version, &sv, 1) == 0,
			       "set_version(2) with the mappers still");
			ver = 2;
			atomic_fetch_add(&e->switches, 1);
			vf_grant(e, ver, VF_REF);
		}
		for (i = 0; !atomic_load(&e->placed) && i < 1000000; i++)
			sched_yield();
		atomic_store(&e->quiet, false);
	}
	atomic_store(&e->stop, true);
	return NULL;
}

/* vCPU 1 of the granter: place status frame 0 at its usual gfn. */
static void *vf_placer(void *p)
{
	struct vfenv *e = p;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->g, 1);
	struct xgnt_domain_layout gl;

	xgnt_domain_layout(e->g, &gl);
	while (!atomic_load(&e->stop)) {
		struct xen_add_to_physmap a = {
			.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
			.idx = 0 | XENMAPIDX_grant_table_status,
			.gpfn = (gl.ext_base >> 12) + T_GT_STATUS_OFF,
		};
		long rc = xgnt_memory_op(v, XENMEM_add_to_physmap, &a);

		if (rc == 0)
			atomic_fetch_add(&e->placed, 1);
		else if (rc == -EINVAL)
			atomic_fetch_add(&e->place_einval, 1);   /* v1: no status frames */
		else
			TFAIL("add_to_physmap(status 0): %ld", rc);
		sched_yield();
	}
	return NULL;
}

struct vfarg {
	struct vfenv *e;
	unsigned int t;
};

static void *vf_mapper(void *p)
{
	struct vfarg *a = p;
	struct vfenv *e = a->e;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, a->t);
	uint64_t seed = 555 + a->t;
	grant_handle_t held_h = 0;
	uint64_t held_addr = 0;
	bool holding = false;

	while (!atomic_load(&e->stop)) {
		uint64_t r = rnd(&seed);
		grant_ref_t ref = (r & 1) ? VF_RES_REF : VF_REF;

		if (atomic_load(&e->quiet)) {
			if (holding)
				TCHECK(vunmap(v, held_h, held_addr) == GNTST_okay, "quiet unmap");
			holding = false;
			atomic_fetch_add(&e->quiet_ack, 1);
			while (atomic_load(&e->quiet) && !atomic_load(&e->stop))
				sched_yield();
			continue;
		}

		atomic_fetch_add(&e->ops, 1);
		if (holding && (r >> 8) % 2) {
			int16_t st = vunmap(v, held_h, held_addr);

			TCHECK(st == GNTST_okay, "unmap: %d", st);
			holding = false;
		} else if (!holding && (r >> 8) % 4 == 0) {
			held_addr = t_ext_addr(e->mp, a->t);
			int16_t st = vmap(v, G_ID, ref, GNTMAP_host_map | GNTMAP_readonly, held_addr,
					  &held_h, NULL);

			if (st == GNTST_okay) {
				const volatile uint8_t *b = xgnt_domain_va(e->mp, held_addr);

				TCHECK(b[5] == 0x77, "mapping of ref %u shows %#x", ref, b[5]);
				holding = true;
				atomic_fetch_add(&e->maps_ok, 1);
			} else {
				TCHECK(st == GNTST_general_error, "map ref %u: %d", ref, st);
			}
		} else {
			struct gnttab_copy c = { .len = 64, .flags = GNTCOPY_source_gref };
			uint8_t *own = t_ram_va(e->mp, 10 + a->t);

			c.source.domid = G_ID;
			c.source.u.ref = ref;
			c.source.offset = 128;
			c.dest.domid = DOMID_SELF;
			c.dest.u.gmfn = t_ram_frame(e->mp, 10 + a->t);
			c.dest.offset = 0;
			own[0] = 0;
			int16_t st = vcopy(v, &c);

			if (st == GNTST_okay) {
				TCHECK(own[0] == 0x77, "copy from ref %u brought %#x", ref, own[0]);
				atomic_fetch_add(&e->copies_ok, 1);
			} else {
				TCHECK(st == GNTST_general_error, "copy from ref %u: %d", ref, st);
			}
		}
	}
	if (holding)
		TCHECK(vunmap(v, held_h, held_addr) == GNTST_okay, "final unmap");
	return NULL;
}

static void test_conc_hostile_version_switches_vs_status_frame_and_maps(void **state)
{
	/* Static: a failing test longjmps out, and must not leak it. */
	static struct vfenv storage;
	struct vfenv *e = &storage;
	struct vfarg args[2];
	pthread_t sw, pl, mt[2];
	unsigned int i;

	(void)state;
	memset(e, 0, sizeof(*e));
	fails_reset();
	e->m = t_machine();
	e->g = t_domain(e->m, G_ID, XGNT_DOMAIN_HVM, false);
	e->mp = domain_n(e->m, M_ID, XGNT_DOMAIN_HVM, 2);
	t_gt_setup(e->g, 1);
	fill_page(e->g, VF_PAGE, 0x77);
	vf_grant(e, 1, VF_RES_REF);
	vf_grant(e, 1, VF_REF);

	start(&sw, vf_switcher, e);
	start(&pl, vf_placer, e);
	for (i = 0; i < 2; i++) {
		args[i] = (struct vfarg){ .e = e, .t = i };
		start(&mt[i], vf_mapper, &args[i]);
	}
	join(sw, "switcher");
	join(pl, "placer");
	for (i = 0; i < 2; i++)
		join(mt[i], "mapper");
	fails_assert();
	print_message("%ld switches, %ld refused (busy), status frame placed %ld times "
		      "(%ld refused in v1), %ld maps, %ld copies\n",
		      atomic_load(&e->switches), atomic_load(&e->busy), atomic_load(&e->placed),
		      atomic_load(&e->place_einval), atomic_load(&e->maps_ok),
		      atomic_load(&e->copies_ok));
	assert_true(atomic_load(&e->switches) > 0);
	assert_true(atomic_load(&e->placed) > 0);
	assert_true(atomic_load(&e->maps_ok) > 0);
	assert_no_use(e->mp);
	assert_no_use(e->g);
	/* No slot shows a freed status frame, refcounts balance, and the
	 * reserved entry's GTF bits came through the conversions right. */
	check_machine(e->m, XGNT_CHECK_GTF);
	xgnt_machine_destroy(e->m);
}

/* =========================================================================
 * 5. XSA-226: a transitive grant already pinned by one copy must still be
 *    acquired through its target for the next one. X grants a page to G;
 *    G grants it on, transitively, to M. A copy whose source and
 *    destination are that one gref pins it twice; Xen goes through X's
 *    entry both times, so a write is refused when X granted read-only, and
 *    every pin on X is released exactly once.
 * ========================================================================= */

#define TR_XREF  8
#define TR_GREF  10
#define TR_XPAGE 20

struct trenv {
	struct xgnt_machine *m;
	struct xgnt_domain *g, *mp, *x;
};

static void tr_setup(struct trenv *e, bool x_readonly)
{
	e->m = t_machine();
	e->g = t_domain(e->m, G_ID, XGNT_DOMAIN_HVM, false);
	e->mp = domain_n(e->m, M_ID, XGNT_DOMAIN_HVM, 2);
	e->x = t_domain(e->m, X_ID, XGNT_DOMAIN_HVM, false);
	assert_int_equal(t_set_version(e->g, 2), 0);
	t_gt_setup(e->g, 1);
	t_gt_setup(e->x, 1);
	/* Two halves, so a copy within the page shows. */
	fill_page(e->x, TR_XPAGE, 0x3c);
	memset((uint8_t *)t_ram_va(e->x, TR_XPAGE) + 2048, 0x5a, 2048);
	t_grant(e->x, TR_XREF, G_ID, t_ram_frame(e->x, TR_XPAGE), x_readonly);
	t_grant_transitive(e->g, TR_GREF, M_ID, X_ID, TR_XREF);
	fill_page(e->mp, 10, 0xd7);
}

static bool x_page_intact(struct trenv *e)
{
	const uint8_t *p = t_ram_va(e->x, TR_XPAGE);

	for (unsigned int i = 0; i < 4096; i++)
		if (p[i] != (i < 2048 ? 0x3c : 0x5a))
			return false;
	return true;
}

static void test_transitive_same_gref_source_and_dest_xsa226(void **state)
{
	struct trenv e;
	struct gnttab_copy c = { .len = 16, .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref };

	(void)state;
	tr_setup(&e, true);
	c.source.domid = G_ID;
	c.source.u.ref = TR_GREF;
	c.source.offset = 0;
	c.dest.domid = G_ID;
	c.dest.u.ref = TR_GREF;
	c.dest.offset = 2048;
	c.status = 0x7777;
	assert_int_equal(xgnt_grant_table_op(xgnt_domain_vcpu(e.mp, 0), GNTTABOP_copy, &c, 1), 0);
	{
		struct xgnt_table_info xi;
		bool intact = x_page_intact(&e);
		uint16_t xgtf = t_entry_flags(e.x, TR_XREF) & GTF_RW;

		assert_int_equal(xgnt_domain_table_info(e.x, &xi), 0);
		print_message("status %d, X's read-only page %s, X's entry GTF %#x, X active %u\n",
			      c.status, intact ? "intact" : "WRITTEN", xgtf, xi.nr_active);
		xgnt_domain_walk_active(e.x, print_active, NULL);
		/* Xen: the destination claim goes through X's read-only
		 * entry and fails; nothing is written, nothing stays pinned. */
		assert_true(intact);
		assert_int_equal(c.status, GNTST_general_error);
		assert_int_equal(xgtf, 0);
		assert_int_equal(t_entry_flags(e.g, TR_GREF) & GTF_RW, 0);
		assert_no_use(e.g);
		assert_no_use(e.x);
	}
	xgnt_machine_destroy(e.m);
}

struct trarg {
	struct trenv *e;
	unsigned int t;
	bool x_readonly;
	atomic_long ok, refused;
};

static void *tr_copier(void *p)
{
	struct trarg *a = p;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(a->e->mp, a->t);
	unsigned int it;

	for (it = 0; it < ITERS; it++) {
		struct gnttab_copy c = { .len = 64 };
		int16_t st;

		if (a->t == 0) {          /* from the gref */
			c.flags = GNTCOPY_source_gref;
			c.source.domid = G_ID;
			c.source.u.ref = TR_GREF;
			c.dest.domid = DOMID_SELF;
			c.dest.u.gmfn = t_ram_frame(a->e->mp, 11);
		} else {                  /* into the gref */
			c.flags = GNTCOPY_dest_gref;
			c.source.domid = DOMID_SELF;
			c.source.u.gmfn = t_ram_frame(a->e->mp, 10);
			c.dest.domid = G_ID;
			c.dest.u.ref = TR_GREF;
			c.dest.offset = 1024;
		}
		st = vcopy(v, &c);
		if (st == GNTST_okay) {
			atomic_fetch_add(&a->ok, 1);
			TCHECK(!(a->t == 1 && a->x_readonly),
			       "copy into a transitive grant of a read-only grant succeeded");
		} else {
			atomic_fetch_add(&a->refused, 1);
			TCHECK(st == GNTST_general_error, "copy: status %d", st);
			TCHECK(a->t == 1 && a->x_readonly, "copy %s refused: %d",
			       a->t ? "into" : "from", st);
		}
	}
	return NULL;
}

static void run_transitive_conc(bool x_readonly)
{
	struct trenv e;
	struct trarg args[2];
	pthread_t th[2];
	unsigned int i;

	fails_reset();
	tr_setup(&e, x_readonly);
	for (i = 0; i < 2; i++) {
		args[i] = (struct trarg){ .e = &e, .t = i, .x_readonly = x_readonly };
		start(&th[i], tr_copier, &args[i]);
	}
	for (i = 0; i < 2; i++)
		join(th[i], "copier");
	print_message("X %s: from %ld ok / %ld refused, into %ld ok / %ld refused\n",
		      x_readonly ? "read-only" : "writable", atomic_load(&args[0].ok),
		      atomic_load(&args[0].refused), atomic_load(&args[1].ok),
		      atomic_load(&args[1].refused));
	/* Pins first: a leak or an underflow shows here. */
	assert_no_use(e.g);
	assert_no_use(e.x);
	fails_assert();
	if (x_readonly)
		assert_true(x_page_intact(&e));
	check_machine(e.m, XGNT_CHECK_GTF);
	xgnt_machine_destroy(e.m);
}

static void test_conc_transitive_copy_from_and_into_xsa226_ro(void **state)
{
	(void)state;
	run_transitive_conc(true);
}

static void test_conc_transitive_copy_from_and_into_xsa226_rw(void **state)
{
	(void)state;
	run_transitive_conc(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conc_hostile_hvm_v1_garbage),
		cmocka_unit_test(test_conc_hostile_hvm_v1_keeps_gtf_bits),
		cmocka_unit_test(test_conc_hostile_hvm_v2_garbage),
		cmocka_unit_test(test_conc_hostile_pv_v1_garbage),
		cmocka_unit_test(test_conc_hostile_pv_v2),
		cmocka_unit_test(test_conc_hostile_frame_flips_do_not_move_mappings_v1),
		cmocka_unit_test(test_conc_hostile_frame_flips_do_not_move_mappings_v2),
		cmocka_unit_test(test_conc_hostile_readonly_flips_never_make_ro_map_writable_v1),
		cmocka_unit_test(test_conc_hostile_readonly_flips_never_make_ro_map_writable_v2),
		cmocka_unit_test(test_conc_hostile_version_switches_vs_status_frame_and_maps),
		cmocka_unit_test(test_transitive_same_gref_source_and_dest_xsa226),
		cmocka_unit_test(test_conc_transitive_copy_from_and_into_xsa226_ro),
		cmocka_unit_test(test_conc_transitive_copy_from_and_into_xsa226_rw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
