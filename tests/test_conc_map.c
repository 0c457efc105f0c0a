/* SPDX-License-Identifier: MIT */
/*
 * Concurrency of map / unmap / copy against a granter that ends access the
 * way a guest does (xen-hypervisor.md c.1, c.2; XSA-218, 228, 230, 236).
 * Run under ThreadSanitizer (the name starts with test_conc_).
 *
 * Rules the tests follow: a vCPU is used by one thread at a time, so every
 * thread has its own vCPU; each thread maps at its own host addresses.
 * Worker threads never call cmocka asserts (they longjmp): they record
 * failures, and the main thread asserts after joining them.
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

#define G_ID   1          /* granter */
#define M_ID   2          /* mapper (several vCPUs) */
#define NT     4          /* mapper threads */
#define ITERS  2000       /* per thread */
#define GTF_RW (GTF_reading | GTF_writing)


/* ---- the guest's view of its grant entries, with no hypercall ---------- */

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

/* GTF_reading / GTF_writing as the granter sees them. */
static uint16_t gtf_bits(struct xgnt_domain *g, unsigned int ver, grant_ref_t ref)
{
	if (ver == 1)
		return __atomic_load_n(&e1(g, ref)->flags, __ATOMIC_ACQUIRE) & GTF_RW;
	return __atomic_load_n(st2(g, ref), __ATOMIC_ACQUIRE) & GTF_RW;
}

/* Grant ref (flags last), as a guest does. */
static void grant_raw(struct xgnt_domain *g, unsigned int ver, grant_ref_t ref, domid_t to,
		      uint64_t frame, bool ro)
{
	uint16_t f = GTF_permit_access | (ro ? GTF_readonly : 0);

	if (ver == 1) {
		grant_entry_v1_t *e = e1(g, ref);

		__atomic_store_n(&e->frame, (uint32_t)frame, __ATOMIC_RELAXED);
		__atomic_store_n(&e->domid, to, __ATOMIC_RELAXED);
		__atomic_store_n(&e->flags, f, __ATOMIC_RELEASE);
	} else {
		grant_entry_v2_t *e = e2(g, ref);

		__atomic_store_n(&e->full_page.frame, frame, __ATOMIC_RELAXED);
		__atomic_store_n(&e->hdr.domid, to, __ATOMIC_RELAXED);
		__atomic_store_n(&e->hdr.flags, f, __ATOMIC_RELEASE);
	}
}

/* ---- hypercalls from a given vCPU (rc must be 0 for these ops) --------- */

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

static int16_t vunmap(struct xgnt_vcpu *v, grant_handle_t h, uint64_t addr, uint64_t bus)
{
	struct gnttab_unmap_grant_ref op = {
		.host_addr = addr, .dev_bus_addr = bus, .handle = h, .status = 0x7777,
	};
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

static struct xgnt_domain *mapper_domain(struct xgnt_machine *m, domid_t id,
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

static void assert_quiescent(struct xgnt_machine *m, struct xgnt_domain *g,
			     struct xgnt_domain *mp, unsigned int flags)
{
	struct xgnt_table_info ti;
	char why[256];
	int rc;

	assert_int_equal(xgnt_domain_table_info(mp, &ti), 0);
	assert_int_equal(ti.nr_mappings, 0);
	assert_int_equal(xgnt_domain_table_info(g, &ti), 0);
	assert_int_equal(ti.nr_active, 0);
	rc = xgnt_machine_check(m, flags, why, sizeof(why));
	if (rc)
		fail_msg("machine check: %s", why);
}

/* =========================================================================
 * 1. Many mappers, one granter ending access and re-granting.
 * ========================================================================= */

#define NSHARED   4             /* refs 8..11 mapped by every thread */
#define SHARED0   8
#define PRIV0     16            /* refs 16+2t, 17+2t: thread t only */
#define NREFS     (NSHARED + 2 * NT)
#define SLOTS     4             /* mappings a thread holds at once */
#define PAGE0     32            /* ref index i's pages: PAGE0+2i, PAGE0+2i+1 */
#define MAGIC     0xa5c30000u

static grant_ref_t ref_of(unsigned int idx)
{
	return idx < NSHARED ? SHARED0 + idx : PRIV0 + (idx - NSHARED);
}

static unsigned int page_of(unsigned int idx, unsigned int which)
{
	return PAGE0 + 2 * idx + which;
}

struct revoke_env {
	struct xgnt_machine *m;
	struct xgnt_domain *g, *mp;
	unsigned int ver;
	atomic_int live[NREFS];         /* mappings the mappers hold, per ref */
	atomic_int mappers_done;
	atomic_long maps_ok, maps_err, revokes, regrants_ro;
	atomic_uchar held[65536];       /* handle -> held now */
};

struct mapper_arg {
	struct revoke_env *e;
	unsigned int t;
};

struct slot {
	bool live, ro;
	grant_handle_t h;
	unsigned int idx;
	uint64_t addr;
};

static void unmap_slot(struct revoke_env *e, struct xgnt_vcpu *v, struct slot *s, bool twice)
{
	int16_t st;

	/* Before the unmap: the counter never claims less than is mapped. */
	atomic_fetch_sub(&e->live[s->idx], 1);
	TCHECK(atomic_exchange(&e->held[s->h], 0) == 1, "handle %u was not held", s->h);
	st = vunmap(v, s->h, s->addr, 0);
	TCHECK(st == GNTST_okay, "unmap of live handle %u: status %d", s->h, st);
	if (twice) {
		/* Handles go back to this vCPU's list only, and nothing mapped
		 * since: a second unmap finds a free handle. */
		st = vunmap(v, s->h, s->addr, 0);
		TCHECK(st == GNTST_bad_handle, "second unmap of handle %u: status %d", s->h, st);
	}
	s->live = false;
}

static void *revoke_mapper(void *p)
{
	struct mapper_arg *a = p;
	struct revoke_env *e = a->e;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, a->t);
	struct slot slots[SLOTS] = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ull * (a->t + 1);
	unsigned int it, i;

	for (it = 0; it < ITERS; it++) {
		struct slot *s = &slots[it % SLOTS];
		uint64_t r = rnd(&seed), bus = 0;
		unsigned int idx = (r & 1) ? (unsigned int)(r >> 8) % NSHARED
					   : NSHARED + 2 * a->t + (unsigned int)((r >> 8) & 1);
		bool ro = (r >> 16) % 3 == 0;
		grant_handle_t h;
		int16_t st;

		if (s->live)
			unmap_slot(e, v, s, (r >> 20) % 8 == 0);
		s->addr = t_ext_addr(e->mp, a->t * 16 + it % SLOTS);
		st = vmap(v, G_ID, ref_of(idx), GNTMAP_host_map | (ro ? GNTMAP_readonly : 0),
			  s->addr, &h, &bus);
		if (st != GNTST_okay) {
			/* Revoked, or a writable map of a read-only grant. */
			TCHECK(st == GNTST_general_error, "map ref %u: status %d", ref_of(idx), st);
			atomic_fetch_add(&e->maps_err, 1);
			sched_yield();   /* let the granter grant again */
			continue;
		}
		atomic_fetch_add(&e->maps_ok, 1);
		atomic_fetch_add(&e->live[idx], 1);
		if (h >= 65536) {
			TFAIL("handle %u out of range", h);
			continue;
		}
		TCHECK(atomic_exchange(&e->held[h], 1) == 0, "handle %u handed out twice", h);
		s->live = true;
		s->ro = ro;
		s->h = h;
		s->idx = idx;

		/* While we hold the pin, the granter must see it. */
		uint16_t gtf = gtf_bits(e->g, e->ver, ref_of(idx));

		TCHECK(gtf & GTF_reading, "ref %u mapped but GTF_reading clear (%#x)",
		       ref_of(idx), gtf);
		TCHECK(ro || (gtf & GTF_writing), "ref %u mapped writable but GTF_writing clear",
		       ref_of(idx));

		/* The mapping shows one of this ref's two pages, and what we
		 * write through it is what the granter reads. */
		volatile uint32_t *mp = xgnt_domain_va(e->mp, s->addr);
		uint32_t magic = mp[0];
		unsigned int which = magic & 1;

		if ((magic & ~0xffffu) != MAGIC || ((magic >> 1) & 0x7fff) != idx) {
			TFAIL("ref %u mapping shows magic %#x", ref_of(idx), magic);
			continue;
		}
		volatile uint32_t *gp = t_ram_va(e->g, page_of(idx, which));
		unsigned int off = 16 + a->t * SLOTS + it % SLOTS;

		if (!ro) {
			uint32_t token = (it << 8) | a->t;

			mp[off] = token;
			TCHECK(gp[off] == token, "granter sees %#x, mapper wrote %#x", gp[off], token);
		} else {
			TCHECK(mp[1] == gp[1] && mp[1] == ~magic, "read-only view differs");
		}
	}
	for (i = 0; i < SLOTS; i++)
		if (slots[i].live)
			unmap_slot(e, v, &slots[i], false);
	atomic_fetch_add(&e->mappers_done, 1);
	return NULL;
}

/* End access as Linux does, then grant again (the other page, sometimes
 * read-only). v1: compare-and-swap the flags to 0 only if neither
 * GTF_reading nor GTF_writing is set. v2: clear the header, then the
 * status word tells whether the hypervisor still uses it. */
struct granter_state {
	bool revoking;            /* v2: header cleared, status not yet clear */
	bool ungranted;           /* revoked, granted again on a later pass */
	unsigned int which;
	unsigned int n;
};

static void regrant(struct revoke_env *e, unsigned int idx, struct granter_state *gs)
{
	gs->ungranted = false;
	grant_raw(e->g, e->ver, ref_of(idx), M_ID, t_ram_frame(e->g, page_of(idx, gs->which)),
		  gs->n % 4 == 3);
}

/* Revoked: no mapper holds a mapping. Grant again now or, half the time,
 * on a later pass, so that mappers also meet the entry ungranted. */
static void revoked(struct revoke_env *e, unsigned int idx, struct granter_state *gs,
		    uint64_t *seed)
{
	int live = atomic_load(&e->live[idx]);

	TCHECK(live == 0, "granter revoked ref %u while %d mapping(s) live", ref_of(idx), live);
	atomic_fetch_add(&e->revokes, 1);
	gs->which ^= 1;
	gs->n++;
	if (gs->n % 4 == 3)
		atomic_fetch_add(&e->regrants_ro, 1);
	if (rnd(seed) & 1)
		regrant(e, idx, gs);
	else
		gs->ungranted = true;
}

static void *revoke_granter(void *p)
{
	struct revoke_env *e = p;
	struct granter_state gs[NREFS] = { 0 };
	unsigned int idx, pass = 0;
	uint64_t seed = 0xabcdef;
	bool last = false;

	for (;;) {
		bool pending = false;

		if (atomic_load(&e->mappers_done) == NT) {
			if (last)
				break;
			last = true;   /* one more pass with no mapper left */
		}
		for (idx = 0; idx < NREFS; idx++) {
			grant_ref_t ref = ref_of(idx);

			if (gs[idx].ungranted) {
				regrant(e, idx, &gs[idx]);
				continue;
			}
			if (e->ver == 1) {
				uint16_t *fp = &e1(e->g, ref)->flags;
				uint16_t f = __atomic_load_n(fp, __ATOMIC_ACQUIRE);

				if (f & GTF_RW) {
					if (last)
						TFAIL("ref %u still in use (%#x) after every "
						      "mapper unmapped", ref, f);
					continue;
				}
				if (__atomic_compare_exchange_n(fp, &f, 0, false, __ATOMIC_ACQ_REL,
								__ATOMIC_ACQUIRE))
					revoked(e, idx, &gs[idx], &seed);
				continue;
			}
			if (!gs[idx].revoking) {
				/* A seq_cst store then a seq_cst load: the full
				 * barrier Linux puts between them. */
				__atomic_store_n(&e2(e->g, ref)->hdr.flags, 0, __ATOMIC_SEQ_CST);
				gs[idx].revoking = true;
			}
			if (__atomic_load_n(st2(e->g, ref), __ATOMIC_SEQ_CST) & GTF_RW) {
				pending = true;
				continue;
			}
			gs[idx].revoking = false;
			revoked(e, idx, &gs[idx], &seed);
		}
		if (last && pending)
			TFAIL("v2 entry still in use after every mapper unmapped");
		if (++pass % 2 == 0)
			sched_yield();
	}
	return NULL;
}

static void run_revoke(unsigned int ver)
{
	/* Static: a failing test longjmps out, and must not leak it. */
	static struct revoke_env storage;
	struct revoke_env *e = &storage;
	struct mapper_arg args[NT];
	pthread_t mt[NT], gt;
	unsigned int i, k;

	memset(e, 0, sizeof(*e));
	fails_reset();
	e->ver = ver;
	e->m = t_machine();
	e->g = t_domain(e->m, G_ID, XGNT_DOMAIN_HVM, false);
	e->mp = mapper_domain(e->m, M_ID, XGNT_DOMAIN_HVM, NT);
	if (ver == 2)
		assert_int_equal(t_set_version(e->g, 2), 0);
	t_gt_setup(e->g, 1);
	for (i = 0; i < NREFS; i++) {
		for (k = 0; k < 2; k++) {
			uint32_t *pg = t_ram_va(e->g, page_of(i, k));

			memset(pg, 0, 4096);
			pg[0] = MAGIC | (i << 1) | k;
			pg[1] = ~pg[0];
		}
		grant_raw(e->g, ver, ref_of(i), M_ID, t_ram_frame(e->g, page_of(i, 0)), false);
	}

	start(&gt, revoke_granter, e);
	for (i = 0; i < NT; i++) {
		args[i] = (struct mapper_arg){ .e = e, .t = i };
		start(&mt[i], revoke_mapper, &args[i]);
	}
	for (i = 0; i < NT; i++)
		join(mt[i], "mapper");
	join(gt, "granter");
	fails_assert();

	print_message("v%u: %ld maps ok, %ld refused, %ld revocations (%ld read-only)\n", ver,
		      atomic_load(&e->maps_ok), atomic_load(&e->maps_err),
		      atomic_load(&e->revokes), atomic_load(&e->regrants_ro));
	assert_true(atomic_load(&e->maps_ok) > 0);
	assert_true(atomic_load(&e->revokes) > 0);
	for (i = 0; i < NREFS; i++)
		assert_int_equal(atomic_load(&e->live[i]), 0);
	assert_quiescent(e->m, e->g, e->mp, XGNT_CHECK_GTF);
	xgnt_machine_destroy(e->m);
}

static void test_conc_map_unmap_while_granter_revokes_v1(void **state)
{
	(void)state;
	run_revoke(1);
}

static void test_conc_map_unmap_while_granter_revokes_v2(void **state)
{
	(void)state;
	run_revoke(2);
}

/* =========================================================================
 * 2. Maptrack stealing (XSA-228): one maptrack frame, four vCPUs, handles
 *    migrating between the vCPUs' free lists.
 * ========================================================================= */

#define MT_NV      4
#define MT_REFS    32           /* refs 8..39, read-only grants */
#define MT_CAP     256          /* one maptrack frame */
#define MT_ITERS   2000

struct mt_rec {
	grant_handle_t h;
	uint64_t addr;
	unsigned int owner;       /* thread whose address range holds it */
};

/* A thread's mailbox: mappings another thread made and asks it to unmap. */
struct mailbox {
	pthread_mutex_t lock;
	struct mt_rec recs[MT_CAP];
	unsigned int n;
};

struct mt_env {
	struct xgnt_machine *m;
	struct xgnt_domain *g, *mp;
	atomic_uchar held[MT_CAP];
	atomic_uchar addr_used[MT_NV * MT_CAP];
	atomic_int upper;                 /* >= handles held at any time */
	atomic_int created[MT_NV];        /* mapped by thread t, not yet unmapped */
	struct mailbox box[MT_NV];
	pthread_barrier_t bar;
	atomic_long no_space_churn, ok;
	/* phase B */
	struct mt_rec fill[MT_NV][MT_CAP];
	unsigned int nfill[MT_NV];
	bool got_no_space[MT_NV];
	uint8_t last_owner[MT_CAP];       /* thread that held h last round */
	uint8_t cur_owner[MT_CAP];
	unsigned int migrated, walked;
	long churn_maps;
};

/* The hypervisor's view: each live handle belongs to the vCPU that got it. */
static int mt_walk_cb(const struct xgnt_mapping_info *mi, void *arg)
{
	struct mt_env *e = arg;

	e->walked++;
	if (mi->handle >= MT_CAP || e->cur_owner[mi->handle] == 0xff)
		TFAIL("walk: unknown handle %u", mi->handle);
	else if (mi->vcpu != e->cur_owner[mi->handle])
		TFAIL("handle %u obtained by vCPU %u but owned by vCPU %u", mi->handle,
		      e->cur_owner[mi->handle], mi->vcpu);
	return 0;
}

struct mt_arg {
	struct mt_env *e;
	unsigned int t;
};

static uint64_t mt_take_addr(struct mt_env *e, unsigned int t, unsigned int *cursor)
{
	unsigned int i;

	for (i = 0; i < MT_CAP; i++) {
		unsigned int k = t * MT_CAP + (*cursor + i) % MT_CAP;

		if (!atomic_exchange(&e->addr_used[k], 1)) {
			*cursor = (*cursor + i + 1) % MT_CAP;
			return t_ext_addr(e->mp, k);
		}
	}
	TFAIL("thread %u: no free host address", t);
	return 0;
}

static void mt_free_addr(struct mt_env *e, uint64_t addr)
{
	unsigned int k = (unsigned int)((addr - t_ext_addr(e->mp, 0)) >> 12);

	TCHECK(atomic_exchange(&e->addr_used[k], 0) == 1, "host address %u not in use", k);
}

/* Map once; on success record the handle (never held twice at once). */
static int16_t mt_map(struct mt_env *e, struct xgnt_vcpu *v, unsigned int t, unsigned int *cursor,
		      unsigned int n, struct mt_rec *out)
{
	grant_handle_t h;
	uint64_t addr = mt_take_addr(e, t, cursor);
	int16_t st;

	atomic_fetch_add(&e->upper, 1);
	st = vmap(v, G_ID, 8 + n % MT_REFS, GNTMAP_host_map | GNTMAP_readonly, addr, &h, NULL);
	if (st != GNTST_okay) {
		atomic_fetch_sub(&e->upper, 1);
		mt_free_addr(e, addr);
		TCHECK(st == GNTST_no_space, "map: status %d", st);
		return st;
	}
	if (h >= MT_CAP) {
		TFAIL("handle %u beyond one maptrack frame", h);
		return GNTST_general_error;
	}
	TCHECK(atomic_exchange(&e->held[h], 1) == 0, "handle %u held twice at once", h);
	atomic_fetch_add(&e->created[t], 1);
	atomic_fetch_add(&e->ok, 1);
	*out = (struct mt_rec){ .h = h, .addr = addr, .owner = t };
	return st;
}

static void mt_unmap(struct mt_env *e, struct xgnt_vcpu *v, const struct mt_rec *r)
{
	int16_t st;

	TCHECK(atomic_exchange(&e->held[r->h], 0) == 1, "handle %u not held at unmap", r->h);
	st = vunmap(v, r->h, r->addr, 0);
	TCHECK(st == GNTST_okay, "unmap handle %u: status %d", r->h, st);
	mt_free_addr(e, r->addr);
	atomic_fetch_sub(&e->created[r->owner], 1);
	atomic_fetch_sub(&e->upper, 1);
}

static void *mt_worker(void *p)
{
	static const int caps[MT_NV] = { 140, 40, 30, 30 };   /* uneven: 240 of 252 */
	struct mt_arg *a = p;
	struct mt_env *e = a->e;
	unsigned int t = a->t, cursor = 0, n = t * 7, it, round, i;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, t);
	struct mt_rec *mine = calloc(MT_CAP, sizeof(*mine));
	unsigned int nmine = 0;
	uint64_t seed = 0x51ed27ull * (t + 3);

	if (!mine) {
		TFAIL("out of memory");
		return NULL;
	}
	/* Phase A: churn. Map up to the thread's cap, unmap own mappings
	 * or hand them to the next thread (a put to another vCPU's list
	 * while that vCPU steals), and serve our own mailbox. */
	for (it = 0; it < MT_ITERS; it++) {
		uint64_t r = rnd(&seed);
		/* 8/16 map, 4/16 unmap own, 1/16 hand over, 3/16 serve mailbox */
		unsigned int what = (unsigned int)(r % 16);
		struct mailbox *in = &e->box[t], *out = &e->box[(t + 1) % MT_NV];

		if (what < 8 && atomic_load(&e->created[t]) < caps[t]) {
			struct mt_rec rec;
			int before = atomic_load(&e->upper);
			int16_t st = mt_map(e, v, t, &cursor, n++, &rec);

			if (st == GNTST_okay) {
				mine[nmine++] = rec;
			} else if (st == GNTST_no_space) {
				/* Below the caps at most 240 of the 252 usable
				 * handles are held: there is always one to steal. */
				atomic_fetch_add(&e->no_space_churn, 1);
				TFAIL("thread %u: no_space with at most %d/%d handles held "
				      "(%d after)", t, before, MT_CAP, atomic_load(&e->upper));
			}
		} else if (what < 12 && nmine) {
			unsigned int k = (unsigned int)(r >> 8) % nmine;

			mt_unmap(e, v, &mine[k]);
			mine[k] = mine[--nmine];
		} else if (what == 12 && nmine) {
			unsigned int k = (unsigned int)(r >> 8) % nmine;

			pthread_mutex_lock(&out->lock);
			out->recs[out->n++] = mine[k];
			pthread_mutex_unlock(&out->lock);
			mine[k] = mine[--nmine];
		} else {
			struct mt_rec rec;
			bool got = false;

			pthread_mutex_lock(&in->lock);
			if (in->n) {
				rec = in->recs[--in->n];
				got = true;
			}
			pthread_mutex_unlock(&in->lock);
			if (got)
				mt_unmap(e, v, &rec);
		}
	}
	for (i = 0; i < nmine; i++)
		mt_unmap(e, v, &mine[i]);
	nmine = 0;
	pthread_barrier_wait(&e->bar);
	if (t == 0)
		e->churn_maps = atomic_load(&e->ok);
	/* Mailboxes last: every thread has stopped posting. */
	while (e->box[t].n)
		mt_unmap(e, v, &e->box[t].recs[--e->box[t].n]);
	pthread_barrier_wait(&e->bar);

	/* Phase B: rounds. In a fill round nobody unmaps, so the free lists
	 * only shrink: no_space is exact. The big thread maps until
	 * no_space; the others map at most 30 each. Then everything is
	 * unmapped by the next thread (puts to other vCPUs' lists). */
	for (round = 0; round < 2 * MT_NV; round++) {
		unsigned int big = round % MT_NV, lim = t == big ? MT_CAP + 8 : 30;
		unsigned int victim = (t + 1 + round % (MT_NV - 1)) % MT_NV;

		e->nfill[t] = 0;
		e->got_no_space[t] = false;
		for (i = 0; i < lim; i++) {
			int16_t st = mt_map(e, v, t, &cursor, n++, &e->fill[t][e->nfill[t]]);

			if (st != GNTST_okay) {
				e->got_no_space[t] = true;
				/* Full stays full while nobody unmaps. */
				st = mt_map(e, v, t, &cursor, n++, &e->fill[t][e->nfill[t]]);
				TCHECK(st == GNTST_no_space, "map after no_space: %d", st);
				if (st == GNTST_okay)
					e->nfill[t]++;
				break;
			}
			e->nfill[t]++;
		}
		pthread_barrier_wait(&e->bar);
		if (t == 0) {
			unsigned int held = 0, k;

			memset(e->cur_owner, 0xff, sizeof(e->cur_owner));
			for (k = 0; k < MT_NV; k++) {
				held += e->nfill[k];
				for (i = 0; i < e->nfill[k]; i++) {
					grant_handle_t hh = e->fill[k][i].h;

					if (e->last_owner[hh] != 0xff && e->last_owner[hh] != k)
						e->migrated++;
					e->last_owner[hh] = (uint8_t)k;
					e->cur_owner[hh] = (uint8_t)k;
				}
			}
			e->walked = 0;
			xgnt_domain_walk_mappings(e->mp, mt_walk_cb, e);
			TCHECK(e->walked == held, "walk saw %u mappings, %u held", e->walked, held);
			TCHECK(e->got_no_space[big], "round %u: big thread never saw no_space", round);
			/* One frame: 256 entries, each initialised vCPU list
			 * keeps one as its tail sentinel. */
			TCHECK(held >= MT_CAP - MT_NV && held < MT_CAP,
			       "round %u: no_space with %u handles held", round, held);
		}
		pthread_barrier_wait(&e->bar);
		for (i = 0; i < e->nfill[victim]; i++)
			mt_unmap(e, v, &e->fill[victim][i]);
		pthread_barrier_wait(&e->bar);
	}
	free(mine);
	return NULL;
}

static void test_conc_maptrack_steal_xsa228(void **state)
{
	/* Static: a failing test longjmps out, and must not leak it. */
	static struct mt_env storage;
	struct mt_env *e = &storage;
	struct mt_arg args[MT_NV];
	pthread_t th[MT_NV];
	struct xgnt_table_info ti;
	unsigned int i;

	(void)state;
	memset(e, 0, sizeof(*e));
	fails_reset();
	e->m = t_machine_cfg(16384, 0, 1, 0);
	e->g = t_domain(e->m, G_ID, XGNT_DOMAIN_HVM, false);
	e->mp = mapper_domain(e->m, M_ID, XGNT_DOMAIN_HVM, MT_NV);
	t_gt_setup(e->g, 1);
	for (i = 0; i < MT_REFS; i++)
		t_grant(e->g, 8 + i, M_ID, t_ram_frame(e->g, 64 + i), true);
	for (i = 0; i < MT_NV; i++)
		pthread_mutex_init(&e->box[i].lock, NULL);
	memset(e->last_owner, 0xff, sizeof(e->last_owner));
	pthread_barrier_init(&e->bar, NULL, MT_NV);
	for (i = 0; i < MT_NV; i++) {
		args[i] = (struct mt_arg){ .e = e, .t = i };
		start(&th[i], mt_worker, &args[i]);
	}
	for (i = 0; i < MT_NV; i++)
		join(th[i], "maptrack worker");
	fails_assert();
	print_message("%ld maps (%ld in churn); %ld no_space during churn; %u handles changed "
		      "vCPU between rounds\n", atomic_load(&e->ok), e->churn_maps,
		      atomic_load(&e->no_space_churn), e->migrated);
	assert_true(e->migrated > 0);
	for (i = 0; i < MT_CAP; i++)
		assert_int_equal(atomic_load(&e->held[i]), 0);
	assert_int_equal(atomic_load(&e->upper), 0);
	assert_int_equal(xgnt_domain_table_info(e->mp, &ti), 0);
	assert_int_equal(ti.maptrack_limit, MT_CAP);
	assert_quiescent(e->m, e->g, e->mp, XGNT_CHECK_GTF);

	/* The free lists are intact: the whole frame is usable again, with
	 * no handle given out twice, from a single vCPU too. */
	{
		grant_handle_t hs[MT_CAP];
		bool seen[MT_CAP] = { false };
		unsigned int n = 0;
		struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, 0);
		int16_t st;

		for (;;) {
			st = vmap(v, G_ID, 8 + n % MT_REFS, GNTMAP_host_map | GNTMAP_readonly,
				  t_ext_addr(e->mp, n), &hs[n], NULL);
			if (st != GNTST_okay)
				break;
			assert_true(hs[n] < MT_CAP);
			assert_false(seen[hs[n]]);
			seen[hs[n]] = true;
			n++;
			assert_true(n < MT_CAP);
		}
		assert_int_equal(st, GNTST_no_space);
		assert_true(n >= MT_CAP - MT_NV);
		for (i = 0; i < n; i++)
			assert_int_equal(vunmap(v, hs[i], t_ext_addr(e->mp, i), 0), GNTST_okay);
		fails_assert();
	}
	assert_quiescent(e->m, e->g, e->mp, XGNT_CHECK_GTF);
	pthread_barrier_destroy(&e->bar);
	xgnt_machine_destroy(e->m);
}

/* =========================================================================
 * 3. Copy from / into a ref while other vCPUs map and unmap it and the
 *    granter ends access (XSA-230); optionally the granter also frees the
 *    granted page while it is in use and populates it again (XSA-236).
 * ========================================================================= */

#define CP_R1    8        /* copied from; mapped by vCPU 0 */
#define CP_R2    9        /* copied into; mapped by vCPU 3 */
#define CP_P1    40       /* granter's pages */
#define CP_P2    41
#define CP_OWN1  10       /* copier's own pages */
#define CP_OWN2  11
#define CP_ITERS 2000

struct cp_env {
	struct xgnt_machine *m;
	struct xgnt_domain *g, *mp;
	bool free_pages;
	atomic_int live[2];
	atomic_int done;
	atomic_long copies_ok, copies_err, maps_ok, revokes, frees;
	atomic_long map_st[16], copy_st[16];   /* by -status */
};

struct cp_arg {
	struct cp_env *e;
	unsigned int t;
};

static uint8_t pat1(unsigned int i)
{
	return (uint8_t)(i * 13 + 1);
}

static uint8_t pat2(unsigned int i)
{
	return (uint8_t)(i * 7 + 3);
}

/* Each byte is the pattern or (a page freshly populated, being filled) 0. */
static bool pattern_or_zero(const volatile uint8_t *p, unsigned int off, unsigned int len,
			    bool allow_zero)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (p[i] != pat1(off + i) && !(allow_zero && p[i] == 0))
			return false;
	return true;
}

static void *cp_mapper(void *p)
{
	struct cp_arg *a = p;
	struct cp_env *e = a->e;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, a->t);
	unsigned int k = a->t == 0 ? 0 : 1, it;
	grant_ref_t ref = k == 0 ? CP_R1 : CP_R2;
	uint64_t seed = 77 + a->t;

	for (it = 0; it < CP_ITERS; it++) {
		bool ro = rnd(&seed) & 1;
		uint64_t addr = t_ext_addr(e->mp, a->t * 4 + it % 2);
		grant_handle_t h;
		int16_t st = vmap(v, G_ID, ref, GNTMAP_host_map | (ro ? GNTMAP_readonly : 0), addr,
				  &h, NULL);

		if (st <= 0 && st > -16)
			atomic_fetch_add(&e->map_st[-st], 1);
		if (st != GNTST_okay) {
			TCHECK(st == GNTST_general_error || (e->free_pages && st == GNTST_bad_page),
			       "map ref %u: status %d", ref, st);
			sched_yield();   /* let the granter grant again */
			continue;
		}
		atomic_fetch_add(&e->maps_ok, 1);
		atomic_fetch_add(&e->live[k], 1);
		/* XSA-230: copies releasing their pins never clear what our
		 * pin holds. */
		for (unsigned int j = 0; j < 4; j++) {
			uint16_t f = gtf_bits(e->g, 1, ref);

			TCHECK(f & GTF_reading, "ref %u mapped but GTF_reading clear", ref);
			TCHECK(ro || (f & GTF_writing), "ref %u mapped rw but GTF_writing clear",
			       ref);
			sched_yield();
		}
		if (k == 0) {
			const volatile uint8_t *b = xgnt_domain_va(e->mp, addr);

			TCHECK(pattern_or_zero(b + 100, 100, 64, e->free_pages),
			       "mapping of ref %u shows wrong data", ref);
		}
		atomic_fetch_sub(&e->live[k], 1);
		st = vunmap(v, h, addr, 0);
		TCHECK(st == GNTST_okay, "unmap: %d", st);
	}
	atomic_fetch_add(&e->done, 1);
	return NULL;
}

static void *cp_copier(void *p)
{
	struct cp_arg *a = p;
	struct cp_env *e = a->e;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, a->t);
	bool into = a->t == 2;
	uint8_t *own = t_ram_va(e->mp, into ? CP_OWN2 : CP_OWN1);
	uint64_t seed = 1234 + a->t;
	unsigned int it, i;

	if (into)
		for (i = 0; i < 4096; i++)
			own[i] = pat2(i);
	for (it = 0; it < CP_ITERS; it++) {
		uint16_t off = (uint16_t)(rnd(&seed) % 3840), len = 256;
		struct gnttab_copy op = { .len = len };
		int16_t st;

		if (into) {
			op.flags = GNTCOPY_dest_gref;
			op.source.domid = DOMID_SELF;
			op.source.u.gmfn = t_ram_frame(e->mp, CP_OWN2);
			op.source.offset = off;
			op.dest.domid = G_ID;
			op.dest.u.ref = CP_R2;
			op.dest.offset = off;
		} else {
			memset(own + off, 0xee, len);
			op.flags = GNTCOPY_source_gref;
			op.source.domid = G_ID;
			op.source.u.ref = CP_R1;
			op.source.offset = off;
			op.dest.domid = DOMID_SELF;
			op.dest.u.gmfn = t_ram_frame(e->mp, CP_OWN1);
			op.dest.offset = off;
		}
		st = vcopy(v, &op);
		if (st <= 0 && st > -16)
			atomic_fetch_add(&e->copy_st[-st], 1);
		if (st != GNTST_okay) {
			/* A page the granter freed: bad_page on a first pin; on the
			 * fast path, a frame no longer the granter's is bad_domain
			 * (Xen's page_get_owner_and_reference answer). */
			TCHECK(st == GNTST_general_error ||
			       (e->free_pages && (st == GNTST_bad_page || st == GNTST_bad_domain)),
			       "copy %s ref: status %d", into ? "into" : "from", st);
			atomic_fetch_add(&e->copies_err, 1);
			sched_yield();   /* let the granter grant again */
			continue;
		}
		atomic_fetch_add(&e->copies_ok, 1);
		if (!into)
			TCHECK(pattern_or_zero(own + off, off, len, e->free_pages),
			       "copy from ref brought wrong data at %u", off);
	}
	atomic_fetch_add(&e->done, 1);
	return NULL;
}

static void cp_fill_p1(struct cp_env *e)
{
	volatile uint8_t *b = t_ram_va(e->g, CP_P1);

	for (unsigned int i = 0; i < 4096; i++)
		b[i] = pat1(i);
}

/* The granter: v1 end-access via compare-and-swap, check, grant again.
 * With free_pages, while ref 1 is granted it sometimes gives the page
 * back (decrease_reservation) and populates the gfn again: whatever still
 * holds the old frame keeps it alive until released. */
static void *cp_granter(void *p)
{
	struct cp_env *e = p;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->g, 0);
	unsigned int k, n = 0;
	bool present = true, last = false, ungranted[2] = { false, false };
	uint64_t seed = 0x5eed;

	for (;;) {
		if (atomic_load(&e->done) == 4) {
			if (last && present && !ungranted[0] && !ungranted[1])
				break;
			last = true;
		}
		for (k = 0; k < 2; k++) {
			grant_ref_t ref = k ? CP_R2 : CP_R1;
			uint16_t *fp = &e1(e->g, ref)->flags;
			uint16_t f = __atomic_load_n(fp, __ATOMIC_ACQUIRE);

			if (ungranted[k]) {
				grant_raw(e->g, 1, ref, M_ID, t_ram_frame(e->g, k ? CP_P2 : CP_P1),
					  false);
				ungranted[k] = false;
				continue;
			}
			if (f & GTF_RW)
				continue;
			if (!__atomic_compare_exchange_n(fp, &f, 0, false, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE))
				continue;
			TCHECK(atomic_load(&e->live[k]) == 0,
			       "ref %u revoked with a live mapping", ref);
			atomic_fetch_add(&e->revokes, 1);
			if (rnd(&seed) & 1)
				grant_raw(e->g, 1, ref, M_ID, t_ram_frame(e->g, k ? CP_P2 : CP_P1),
					  false);
			else
				ungranted[k] = true;   /* granted again next pass */
		}
		if (e->free_pages && (++n % 16 == 0 || !present)) {
			xen_pfn_t gfn = CP_P1;
			struct xen_memory_reservation r = {
				.nr_extents = 1, .extent_order = 0, .domid = DOMID_SELF,
			};
			long rc;

			set_xen_guest_handle(r.extent_start, &gfn);
			if (present) {
				rc = xgnt_memory_op(v, XENMEM_decrease_reservation, &r);
				TCHECK(rc == 1, "decrease_reservation: %ld", rc);
				present = false;
				atomic_fetch_add(&e->frees, 1);
				if (rnd(&seed) & 1) {
					sched_yield();   /* let users meet the hole */
					continue;
				}
			}
			/* The old frame counts against the granter (tot_pages)
			 * until its last user lets go, as in Xen: populating
			 * may have to wait. */
			rc = xgnt_memory_op(v, XENMEM_populate_physmap, &r);
			TCHECK(rc == 0 || rc == 1, "populate_physmap: %ld", rc);
			if (rc == 1) {
				present = true;
				cp_fill_p1(e);
			}
		}
		sched_yield();
	}
	return NULL;
}

static void run_copy(bool free_pages)
{
	/* Static: a failing test longjmps out, and must not leak it. */
	static struct cp_env storage;
	struct cp_env *e = &storage;
	struct cp_arg args[4];
	pthread_t th[4], gt;
	unsigned int i;

	memset(e, 0, sizeof(*e));
	fails_reset();
	e->free_pages = free_pages;
	e->m = t_machine();
	e->g = t_domain(e->m, G_ID, XGNT_DOMAIN_HVM, false);
	e->mp = mapper_domain(e->m, M_ID, XGNT_DOMAIN_HVM, 4);
	t_gt_setup(e->g, 1);
	cp_fill_p1(e);
	t_grant(e->g, CP_R1, M_ID, t_ram_frame(e->g, CP_P1), false);
	t_grant(e->g, CP_R2, M_ID, t_ram_frame(e->g, CP_P2), false);

	start(&gt, cp_granter, e);
	for (i = 0; i < 4; i++) {
		args[i] = (struct cp_arg){ .e = e, .t = i };
		start(&th[i], (i == 0 || i == 3) ? cp_mapper : cp_copier, &args[i]);
	}
	for (i = 0; i < 4; i++)
		join(th[i], "copy worker");
	join(gt, "granter");
	fails_assert();
	print_message("%ld copies ok, %ld refused, %ld maps, %ld revocations, %ld pages freed\n",
		      atomic_load(&e->copies_ok), atomic_load(&e->copies_err),
		      atomic_load(&e->maps_ok), atomic_load(&e->revokes), atomic_load(&e->frees));
	print_message("map statuses:");
	for (i = 0; i < 16; i++)
		if (atomic_load(&e->map_st[i]))
			print_message(" [%d]=%ld", -(int)i, atomic_load(&e->map_st[i]));
	print_message("; copy statuses:");
	for (i = 0; i < 16; i++)
		if (atomic_load(&e->copy_st[i]))
			print_message(" [%d]=%ld", -(int)i, atomic_load(&e->copy_st[i]));
	print_message("\n");
	assert_true(atomic_load(&e->copies_ok) > 0);
	assert_true(atomic_load(&e->maps_ok) > 0);
	/* Everything the copy into ref 2 wrote is in the granter's page. */
	{
		const uint8_t *b = t_ram_va(e->g, CP_P2);

		for (i = 0; i < 4096; i++)
			if (b[i] != 0 && b[i] != pat2(i))
				fail_msg("granter page 2 byte %u is %#x", i, b[i]);
	}
	assert_quiescent(e->m, e->g, e->mp, XGNT_CHECK_GTF);
	xgnt_machine_destroy(e->m);
}

static void test_conc_copy_while_same_ref_mapped_and_revoked(void **state)
{
	(void)state;
	run_copy(false);
}

static void test_conc_copy_while_granter_frees_the_page_xsa236(void **state)
{
	(void)state;
	run_copy(true);
}

/* =========================================================================
 * 4. XSA-218: two vCPUs unmap the same handle at once. Exactly one unmap
 *    of a part succeeds, the handle is freed once, and GTF_reading is
 *    cleared only when both parts are gone.
 * ========================================================================= */

#define DU_ITERS 2000
#define DU_REF   8

enum du_mode {
	DU_SAME_HOST,       /* HVM: both unmap the host mapping */
	DU_HOST_VS_DEVICE,  /* PV: one the host part, the other the device part */
	DU_BOTH_PARTS,      /* PV: both unmap host and device at once */
};

struct du_env {
	struct xgnt_domain *g, *mp;
	enum du_mode mode;
	pthread_barrier_t bar;
	grant_handle_t h;
	uint64_t addr, bus;
	int16_t st[2];
	atomic_bool stop;
};

struct du_arg {
	struct du_env *e;
	unsigned int t;
};

static void *du_worker(void *p)
{
	struct du_arg *a = p;
	struct du_env *e = a->e;
	struct xgnt_vcpu *v = xgnt_domain_vcpu(e->mp, a->t);

	for (;;) {
		uint64_t addr, bus;

		pthread_barrier_wait(&e->bar);
		if (atomic_load(&e->stop))
			break;
		addr = e->addr;
		bus = e->bus;
		switch (e->mode) {
		case DU_SAME_HOST:
			bus = 0;
			break;
		case DU_HOST_VS_DEVICE:
			if (a->t == 0)
				bus = 0;
			else
				addr = 0;
			break;
		case DU_BOTH_PARTS:
			break;
		}
		e->st[a->t] = vunmap(v, e->h, addr, bus);
		pthread_barrier_wait(&e->bar);
	}
	return NULL;
}

static void run_double_unmap(enum du_mode mode)
{
	/* Static: a failing test longjmps out, and must not leak it. */
	static struct du_env storage;
	struct du_env *e = &storage;
	struct du_arg args[2];
	pthread_t th[2];
	struct xgnt_machine *m;
	struct xgnt_vcpu *v0;
	unsigned int it, i, okays[3] = { 0 };
	bool pv = mode != DU_SAME_HOST;
	uint32_t flags = GNTMAP_host_map | (pv ? GNTMAP_device_map : 0);

	memset(e, 0, sizeof(*e));
	fails_reset();
	e->mode = mode;
	m = t_machine();
	e->g = t_domain(m, G_ID, XGNT_DOMAIN_HVM, false);
	e->mp = mapper_domain(m, M_ID, pv ? XGNT_DOMAIN_PV : XGNT_DOMAIN_HVM, 2);
	v0 = xgnt_domain_vcpu(e->mp, 0);
	t_gt_setup(e->g, 1);
	for (i = 0; i < 4; i++)
		t_grant(e->g, DU_REF + i, M_ID, t_ram_frame(e->g, 20), false);
	pthread_barrier_init(&e->bar, NULL, 3);
	for (i = 0; i < 2; i++) {
		args[i] = (struct du_arg){ .e = e, .t = i };
		start(&th[i], du_worker, &args[i]);
	}
	for (it = 0; it < DU_ITERS && !atomic_load(&n_fail); it++) {
		unsigned int n_ok;

		e->addr = t_ext_addr(e->mp, it % 8);
		/* Main thread uses vCPU 0 only while the workers wait. */
		int16_t st = vmap(v0, G_ID, DU_REF, flags, e->addr, &e->h, &e->bus);

		TCHECK(st == GNTST_okay, "map: %d", st);
		if (st != GNTST_okay)
			break;
		pthread_barrier_wait(&e->bar);   /* go */
		pthread_barrier_wait(&e->bar);   /* both done */
		n_ok = (e->st[0] == GNTST_okay) + (e->st[1] == GNTST_okay);
		okays[n_ok]++;
		for (i = 0; i < 2; i++)
			TCHECK(e->st[i] == GNTST_okay || e->st[i] == GNTST_bad_handle,
			       "iteration %u: unmap status %d", it, e->st[i]);
		if (mode == DU_HOST_VS_DEVICE)
			TCHECK(n_ok == 2, "iteration %u: host/device unmaps %d/%d", it, e->st[0],
			       e->st[1]);
		else
			TCHECK(n_ok == 1, "iteration %u: %u of 2 unmaps succeeded", it, n_ok);
		/* Both parts are gone: no pin, and the granter is told. */
		TCHECK(!(gtf_bits(e->g, 1, DU_REF) & GTF_RW), "iteration %u: GTF bits left",
		       it);
		/* The handle was freed once: a third unmap finds it free. */
		st = vunmap(v0, e->h, e->addr, e->bus);
		TCHECK(st == GNTST_bad_handle, "iteration %u: unmap of freed handle: %d", it, st);
	}
	atomic_store(&e->stop, true);
	pthread_barrier_wait(&e->bar);
	for (i = 0; i < 2; i++)
		join(th[i], "unmapper");
	fails_assert();
	print_message("successful unmaps per race: 0:%u 1:%u 2:%u\n", okays[0], okays[1],
		      okays[2]);

	/* No handle was pushed twice onto a free list: 300 live mappings
	 * hold 300 distinct handles. */
	{
		enum { N = 300 };
		grant_handle_t hs[N];
		uint64_t bus;
		static bool seen[65536];

		memset(seen, 0, sizeof(seen));
		for (i = 0; i < N; i++) {
			int16_t st = vmap(v0, G_ID, DU_REF + i % 4, GNTMAP_host_map | GNTMAP_readonly,
					  t_ext_addr(e->mp, 16 + i), &hs[i], &bus);

			assert_int_equal(st, GNTST_okay);
			assert_true(hs[i] < 65536);
			assert_false(seen[hs[i]]);
			seen[hs[i]] = true;
		}
		for (i = 0; i < N; i++)
			assert_int_equal(vunmap(v0, hs[i], t_ext_addr(e->mp, 16 + i), 0),
					 GNTST_okay);
		fails_assert();
	}
	assert_quiescent(m, e->g, e->mp, XGNT_CHECK_GTF);
	pthread_barrier_destroy(&e->bar);
	xgnt_machine_destroy(m);
}

static void test_conc_double_unmap_same_handle_xsa218(void **state)
{
	(void)state;
	run_double_unmap(DU_SAME_HOST);
}

static void test_conc_unmap_host_and_device_parts_at_once_xsa218(void **state)
{
	(void)state;
	run_double_unmap(DU_HOST_VS_DEVICE);
}

static void test_conc_double_unmap_both_parts_xsa218(void **state)
{
	(void)state;
	run_double_unmap(DU_BOTH_PARTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conc_map_unmap_while_granter_revokes_v1),
		cmocka_unit_test(test_conc_map_unmap_while_granter_revokes_v2),
		cmocka_unit_test(test_conc_maptrack_steal_xsa228),
		cmocka_unit_test(test_conc_copy_while_same_ref_mapped_and_revoked),
		cmocka_unit_test(test_conc_copy_while_granter_frees_the_page_xsa236),
		cmocka_unit_test(test_conc_double_unmap_same_handle_xsa218),
		cmocka_unit_test(test_conc_unmap_host_and_device_parts_at_once_xsa218),
		cmocka_unit_test(test_conc_double_unmap_both_parts_xsa218),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
