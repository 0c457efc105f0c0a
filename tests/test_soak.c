/* SPDX-License-Identifier: MIT */
/*
 * Soak: 8 domains (HVM, PV, Arm; v1 and v2 tables; 2-level and FIFO
 * events) and 4 threads doing random operations among them: grant and end
 * access, map and unmap, copy, event channels allocated, bound, sent on and
 * closed. Every result is checked as it happens (a live grant maps, a map
 * shows the granter's data, a copy copies it, a bound port sends). Then
 * half the domains are destroyed with whatever they hold, the survivors
 * clean up as guests would, and nothing may be left: no active entry, no
 * maptrack entry, no open port, no frame (the harness checks at machine
 * destroy), no file descriptor.
 *
 * XGNT_SOAK_OPS sets the number of operations (default 1,000,000; half
 * that under sanitizers), XGNT_SOAK_SEED the seed.
 */
#include "harness.h"
#include "conc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xgnt/guest.h>

#define ND     8        /* domains, domid 1..ND */
#define NT     4        /* threads; thread t acts on vCPU t of every domain */
#define PAGES  32       /* RAM pages per (thread, domain), granted by it */
#define SLOTS  32       /* foreign-mapping pages per (thread, domain) */
#define MAXG   48       /* live grants per thread */
#define MAXM   64       /* live mappings per thread */
#define MAXP   16       /* live channels per thread */

#ifndef XGNT_SOAK_SANITIZED
#define XGNT_SOAK_SANITIZED 0
#endif

/* EVTCHN_FIFO_MASKED, in a word as the guest writes it. */
#define FIFO_MASKED_WORD (1u << EVTCHN_FIFO_MASKED)

struct dom {
	struct xgnt_domain *d;
	struct xgnt_guest *g;
	domid_t id;
	bool fifo;
	uint8_t *pages[NT];      /* the thread's RAM pages in this domain */
	uint8_t *slots[NT];      /* the thread's foreign-mapping pages */
};

static struct dom doms[ND];

struct grec { unsigned int gr, ge; grant_ref_t ref; unsigned int page; bool ro; };
struct mrec { unsigned int mp, gr; grant_ref_t ref; grant_handle_t h; unsigned int slot;
	      uint64_t tag; };
struct prec { unsigned int a, b; evtchn_port_t pa, pb; };

struct worker {
	unsigned int t;
	uint64_t seed;
	unsigned long ops;
	pthread_t th;
	struct grec g[MAXG];
	unsigned int ng;
	struct mrec mp[MAXM];
	unsigned int nm;
	struct prec p[MAXP];
	unsigned int np;
	bool slot_used[ND][SLOTS];
	uint64_t tag[ND][PAGES];   /* what the thread's page holds now */
	unsigned long n_grant, n_end, n_busy, n_map, n_unmap, n_copy, n_bind, n_send, n_close;
};

static struct worker workers[NT];

/* ---- one operation of each kind ---------------------------------------------- */

static long gt_op(unsigned int dom, unsigned int t, unsigned int cmd, void *op)
{
	return xgnt_grant_table_op(xgnt_domain_vcpu(doms[dom].d, t), cmd, op, 1);
}

static long ev_op(unsigned int dom, unsigned int t, int cmd, void *op)
{
	return xgnt_event_channel_op(xgnt_domain_vcpu(doms[dom].d, t), cmd, op);
}

static bool page_granted(struct worker *w, unsigned int gr, unsigned int page)
{
	for (unsigned int i = 0; i < w->ng; i++)
		if (w->g[i].gr == gr && w->g[i].page == page)
			return true;
	return false;
}

static void do_grant(struct worker *w)
{
	struct grec *r = &w->g[w->ng];
	unsigned int gr = rnd(&w->seed) % ND, ge = (gr + 1 + rnd(&w->seed) % (ND - 1)) % ND;
	struct dom *d = &doms[gr];
	uint8_t *page;
	int rc;

	r->gr = gr;
	r->ge = ge;
	r->page = rnd(&w->seed) % PAGES;
	r->ro = rnd(&w->seed) & 1;
	page = d->pages[w->t] + (size_t)r->page * 4096;
	/* Only this thread writes its pages: a new tag while no grant of the
	 * page is live, which every mapping and copy of it must show. */
	if (!page_granted(w, gr, r->page)) {
		w->tag[gr][r->page] = rnd(&w->seed) | 1;
		memcpy(page, &w->tag[gr][r->page], sizeof(uint64_t));
	}
	xgnt_guest_bind(d->g, w->t);
	rc = xgnt_grant_access(d->g, doms[ge].id, xgnt_guest_frame(d->g, page), r->ro, &r->ref);
	if (rc) {
		TFAIL("d%u grant to d%u: %d", d->id, doms[ge].id, rc);
		return;
	}
	w->ng++;
	w->n_grant++;
}

/* 0 when ended, -EBUSY while mapped (the grant stays). */
static int end_grant(struct worker *w, unsigned int i)
{
	struct grec *r = &w->g[i];
	struct dom *d = &doms[r->gr];
	int rc;

	xgnt_guest_bind(d->g, w->t);
	rc = xgnt_end_access(d->g, r->ref);
	if (rc == 0)
		w->g[i] = w->g[--w->ng];
	else if (rc != -EBUSY)
		TFAIL("d%u end ref %u: %d", d->id, r->ref, rc);
	return rc;
}

static void do_end(struct worker *w)
{
	if (end_grant(w, rnd(&w->seed) % w->ng) == -EBUSY)
		w->n_busy++;
	else
		w->n_end++;
}

static uint64_t slot_addr(struct worker *w, unsigned int mp, unsigned int slot)
{
	return xgnt_guest_addr(doms[mp].g, doms[mp].slots[w->t] + (size_t)slot * 4096);
}

static void do_map(struct worker *w)
{
	struct grec *r = &w->g[rnd(&w->seed) % w->ng];
	struct mrec *m = &w->mp[w->nm];
	struct gnttab_map_grant_ref op = { 0 };
	unsigned int slot, tries;
	uint64_t seen;

	for (slot = rnd(&w->seed) % SLOTS, tries = 0; w->slot_used[r->ge][slot] && tries < SLOTS;
	     slot = (slot + 1) % SLOTS, tries++)
		;
	if (tries == SLOTS)
		return;   /* every slot of this mapper busy: nothing to do */
	op.host_addr = slot_addr(w, r->ge, slot);
	op.flags = GNTMAP_host_map | (r->ro || (rnd(&w->seed) & 1) ? GNTMAP_readonly : 0);
	op.ref = r->ref;
	op.dom = doms[r->gr].id;
	if (gt_op(r->ge, w->t, GNTTABOP_map_grant_ref, &op) || op.status != GNTST_okay) {
		TFAIL("d%u map d%u ref %u flags %#x: %d", doms[r->ge].id, op.dom, op.ref, op.flags,
		      op.status);
		return;
	}
	memcpy(&seen, doms[r->ge].slots[w->t] + (size_t)slot * 4096, sizeof(seen));
	TCHECK(seen == w->tag[r->gr][r->page], "d%u maps d%u ref %u: %#llx, granted %#llx",
	       doms[r->ge].id, op.dom, op.ref, (unsigned long long)seen,
	       (unsigned long long)w->tag[r->gr][r->page]);
	*m = (struct mrec){ .mp = r->ge, .gr = r->gr, .ref = r->ref, .h = op.handle,
			    .slot = slot, .tag = w->tag[r->gr][r->page] };
	w->slot_used[r->ge][slot] = true;
	w->nm++;
	w->n_map++;
}

static void unmap_one(struct worker *w, unsigned int i)
{
	struct mrec *m = &w->mp[i];
	struct gnttab_unmap_grant_ref op = { .host_addr = slot_addr(w, m->mp, m->slot),
					     .handle = m->h };
	uint64_t seen;

	/* Still the granted page, up to the unmap (even if the granter died). */
	memcpy(&seen, doms[m->mp].slots[w->t] + (size_t)m->slot * 4096, sizeof(seen));
	TCHECK(seen == m->tag, "d%u handle %u shows %#llx before unmap, mapped %#llx",
	       doms[m->mp].id, m->h, (unsigned long long)seen, (unsigned long long)m->tag);
	if (gt_op(m->mp, w->t, GNTTABOP_unmap_grant_ref, &op) || op.status != GNTST_okay)
		TFAIL("d%u unmap handle %u: %d", doms[m->mp].id, m->h, op.status);
	w->slot_used[m->mp][m->slot] = false;
	w->mp[i] = w->mp[--w->nm];
	w->n_unmap++;
}

static void do_copy(struct worker *w)
{
	struct grec *r = &w->g[rnd(&w->seed) % w->ng];
	struct dom *ge = &doms[r->ge];
	uint8_t *dst = ge->pages[w->t] + (size_t)(rnd(&w->seed) % PAGES) * 4096;
	struct gnttab_copy op = { 0 };
	uint64_t seen;

	/* Into the grantee's own page, past the tag it may be granting. */
	op.source.u.ref = r->ref;
	op.source.domid = doms[r->gr].id;
	op.source.offset = 0;
	op.dest.u.gmfn = xgnt_guest_frame(ge->g, dst);
	op.dest.domid = DOMID_SELF;
	op.dest.offset = 64;
	op.len = 8;
	op.flags = GNTCOPY_source_gref;
	if (gt_op(r->ge, w->t, GNTTABOP_copy, &op) || op.status != GNTST_okay) {
		TFAIL("d%u copy from d%u ref %u: %d", ge->id, op.source.domid, r->ref, op.status);
		return;
	}
	memcpy(&seen, dst + 64, sizeof(seen));
	TCHECK(seen == w->tag[r->gr][r->page], "d%u copied %#llx from d%u ref %u, granted %#llx",
	       ge->id, (unsigned long long)seen, op.source.domid, r->ref,
	       (unsigned long long)w->tag[r->gr][r->page]);
	w->n_copy++;
}

static void do_bind(struct worker *w)
{
	struct prec *p = &w->p[w->np];
	unsigned int a = rnd(&w->seed) % ND, b = (a + 1 + rnd(&w->seed) % (ND - 1)) % ND;
	struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = doms[b].id };
	struct evtchn_bind_interdomain bi = { .remote_dom = doms[a].id };
	long rc;

	rc = ev_op(a, w->t, EVTCHNOP_alloc_unbound, &au);
	if (rc) {
		TFAIL("d%u alloc_unbound for d%u: %ld", doms[a].id, doms[b].id, rc);
		return;
	}
	bi.remote_port = au.port;
	rc = ev_op(b, w->t, EVTCHNOP_bind_interdomain, &bi);
	if (rc) {
		TFAIL("d%u bind to d%u port %u: %ld", doms[b].id, doms[a].id, au.port, rc);
		return;
	}
	*p = (struct prec){ .a = a, .b = b, .pa = au.port, .pb = bi.local_port };
	w->np++;
	w->n_bind++;
}

static void do_send(struct worker *w)
{
	struct prec *p = &w->p[rnd(&w->seed) % w->np];
	bool from_a = rnd(&w->seed) & 1;
	struct evtchn_send s = { .port = from_a ? p->pa : p->pb };
	long rc = ev_op(from_a ? p->a : p->b, w->t, EVTCHNOP_send, &s);

	TCHECK(rc == 0, "d%u send on port %u: %ld", doms[from_a ? p->a : p->b].id, s.port, rc);
	w->n_send++;
}

static void close_pair(struct worker *w, unsigned int i)
{
	struct prec *p = &w->p[i];
	bool a_first = rnd(&w->seed) & 1;
	struct evtchn_close c1 = { .port = a_first ? p->pa : p->pb };
	struct evtchn_close c2 = { .port = a_first ? p->pb : p->pa };
	long rc1 = ev_op(a_first ? p->a : p->b, w->t, EVTCHNOP_close, &c1);
	long rc2 = ev_op(a_first ? p->b : p->a, w->t, EVTCHNOP_close, &c2);

	TCHECK(rc1 == 0 && rc2 == 0, "closing d%u:%u <-> d%u:%u: %ld, %ld", doms[p->a].id, p->pa,
	       doms[p->b].id, p->pb, rc1, rc2);
	w->p[i] = w->p[--w->np];
	w->n_close++;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (unsigned long i = 0; i < w->ops && !atomic_load(&n_fail); i++) {
		unsigned int k = rnd(&w->seed) % 100;

		if (k < 22) {
			if (w->ng < MAXG)
				do_grant(w);
			else
				do_end(w);
		} else if (k < 36) {
			if (w->ng)
				do_end(w);
		} else if (k < 56) {
			if (w->ng && w->nm < MAXM)
				do_map(w);
			else if (w->nm)
				unmap_one(w, rnd(&w->seed) % w->nm);
		} else if (k < 76) {
			if (w->nm)
				unmap_one(w, rnd(&w->seed) % w->nm);
		} else if (k < 86) {
			if (w->ng)
				do_copy(w);
		} else if (k < 90 || !w->np) {
			if (w->np < MAXP)
				do_bind(w);
			else
				close_pair(w, rnd(&w->seed) % w->np);
		} else if (k < 97) {
			do_send(w);
		} else {
			close_pair(w, rnd(&w->seed) % w->np);
		}
	}
	xgnt_guest_bind(NULL, 0);
	return NULL;
}

/* ---- setup and the final accounting ---------------------------------------------- */

static unsigned int count_fds(void)
{
	DIR *dp = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned int n = 0;

	assert_non_null(dp);
	while ((de = readdir(dp)))
		n += de->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* FIFO as Linux sets it up: a control block per vCPU, and an event array
 * page whose words the guest masks before handing it over. */
static void setup_fifo(struct dom *d)
{
	uint32_t *words = xgnt_page_alloc(d->g, 1);
	uint8_t *cbs = xgnt_page_alloc(d->g, NT);
	struct evtchn_expand_array ea;

	assert_non_null(words);
	assert_non_null(cbs);
	for (unsigned int i = 0; i < 1024; i++)
		words[i] = FIFO_MASKED_WORD;
	for (unsigned int v = 0; v < NT; v++) {
		struct evtchn_init_control ic = {
			.control_gfn = xgnt_guest_frame(d->g, cbs + (size_t)v * 4096), .vcpu = v,
		};

		assert_int_equal(ev_op((unsigned int)(d - doms), 0, EVTCHNOP_init_control, &ic), 0);
	}
	ea.array_gfn = xgnt_guest_frame(d->g, words);
	assert_int_equal(ev_op((unsigned int)(d - doms), 0, EVTCHNOP_expand_array, &ea), 0);
}

static void setup(struct xgnt_machine *m)
{
	for (unsigned int i = 0; i < ND; i++) {
		struct dom *d = &doms[i];
		enum xgnt_domain_type type = (enum xgnt_domain_type)(i % 3);
		struct xgnt_domain_config c = {
			.domid = (domid_t)(i + 1), .type = type, .ram_frames = 512,
			.ext_frames = 2048, .nr_vcpus = NT,
		};

		d->id = c.domid;
		d->d = xgnt_domain_create(m, &c);
		assert_non_null(d->d);
		d->g = xgnt_guest_create_inproc(d->d);
		assert_non_null(d->g);
		/* v2 on half the x86 domains; Arm has v1 only. */
		assert_int_equal(xgnt_gnttab_init(d->g, type != XGNT_DOMAIN_ARM && i % 2 ? 2 : 1),
				 0);
		for (unsigned int t = 0; t < NT; t++) {
			d->pages[t] = xgnt_page_alloc(d->g, PAGES);
			d->slots[t] = xgnt_unpopulated_alloc(d->g, SLOTS);
			assert_non_null(d->pages[t]);
			assert_non_null(d->slots[t]);
		}
		d->fifo = i % 4 == 1;
		if (d->fifo)
			setup_fifo(d);
	}
}

struct count { unsigned int n; };

static int count_cb_active(const struct xgnt_active_info *a, void *arg)
{
	(void)a;
	((struct count *)arg)->n++;
	return 0;
}

static int count_cb_map(const struct xgnt_mapping_info *mi, void *arg)
{
	(void)mi;
	((struct count *)arg)->n++;
	return 0;
}

/* Every port of d closed (ports past the last valid one are -EINVAL). */
static unsigned int open_ports(struct dom *d)
{
	unsigned int n = 0;

	for (evtchn_port_t port = 1; port < 4096; port++) {
		struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
		long rc = ev_op((unsigned int)(d - doms), 0, EVTCHNOP_status, &st);

		if (rc == -EINVAL)
			break;
		assert_int_equal(rc, 0);
		n += st.status != EVTCHNSTAT_closed;
	}
	return n;
}

static unsigned long soak_ops(void)
{
	const char *e = getenv("XGNT_SOAK_OPS");

	if (e && *e)
		return strtoul(e, NULL, 0);
	return XGNT_SOAK_SANITIZED ? 500000 : 1000000;
}

static void test_soak_random_ops_then_nothing_left(void **state)
{
	unsigned int fds = count_fds(), i, t;
	unsigned long ops = soak_ops(), done = 0;
	const char *se = getenv("XGNT_SOAK_SEED");
	uint64_t seed = se && *se ? strtoull(se, NULL, 0) : 0x50a4;
	struct xgnt_machine *m;
	struct timespec t0, t1;
	char why[256];

	(void)state;
	fails_reset();
	m = t_machine_cfg(16384, 0, 0, 0);
	setup(m);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (t = 0; t < NT; t++) {
		workers[t] = (struct worker){ .t = t, .seed = (seed + t) * 0x9e3779b97f4a7c15ull | 1,
					      .ops = ops / NT + (t < ops % NT) };
		start(&workers[t].th, work, &workers[t]);
	}
	for (t = 0; t < NT; t++)
		join(workers[t].th, "soak worker");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fails_assert();
	for (t = 0; t < NT; t++) {
		struct worker *w = &workers[t];

		done += w->ops;
		printf("soak thread %u: %lu grants, %lu ends (%lu busy), %lu maps, %lu unmaps, "
		       "%lu copies, %lu binds, %lu sends, %lu closes\n", t, w->n_grant, w->n_end,
		       w->n_busy, w->n_map, w->n_unmap, w->n_copy, w->n_bind, w->n_send, w->n_close);
	}
	printf("soak: %lu operations in %.2f s (seed %#llx)\n", done,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)seed);
	if (xgnt_machine_check(m, XGNT_CHECK_GTF, why, sizeof(why)))
		fail_msg("invariant broken after the soak: %s", why);

	/* Half the domains go with whatever they hold: grants others map,
	 * mappings of others' grants, bound channels. */
	for (i = 0; i < ND / 2; i++) {
		xgnt_guest_destroy(doms[i].g);
		assert_int_equal(xgnt_domain_destroy(doms[i].d), 0);
	}
	if (xgnt_machine_check(m, XGNT_CHECK_GTF, why, sizeof(why)))
		fail_msg("invariant broken after destroying half: %s", why);

	/* The survivors clean up as guests do; each step must succeed. */
	for (t = 0; t < NT; t++) {
		struct worker *w = &workers[t];

		for (i = w->nm; i-- > 0;)
			if (w->mp[i].mp >= ND / 2)
				unmap_one(w, i);
		for (i = w->ng; i-- > 0;)
			if (w->g[i].gr >= ND / 2)
				assert_int_equal(end_grant(w, i), 0);
		for (i = w->np; i-- > 0;) {
			struct prec *p = &w->p[i];

			/* A destroyed peer left the survivor's end unbound. */
			if (p->a >= ND / 2) {
				struct evtchn_close c = { .port = p->pa };

				assert_int_equal(ev_op(p->a, 0, EVTCHNOP_close, &c), 0);
			}
			if (p->b >= ND / 2) {
				struct evtchn_close c = { .port = p->pb };

				assert_int_equal(ev_op(p->b, 0, EVTCHNOP_close, &c), 0);
			}
		}
		xgnt_guest_bind(NULL, 0);
		fails_assert();
	}
	for (i = ND / 2; i < ND; i++) {
		struct xgnt_table_info ti;
		struct count act = { 0 }, map = { 0 };

		assert_int_equal(xgnt_domain_table_info(doms[i].d, &ti), 0);
		assert_int_equal(xgnt_domain_walk_active(doms[i].d, count_cb_active, &act), 0);
		assert_int_equal(xgnt_domain_walk_mappings(doms[i].d, count_cb_map, &map), 0);
		assert_int_equal(ti.nr_active, 0);
		assert_int_equal(act.n, 0);
		assert_int_equal(ti.nr_mappings, 0);
		assert_int_equal(map.n, 0);
		assert_int_equal(open_ports(&doms[i]), 0);
	}
	for (i = ND / 2; i < ND; i++) {
		xgnt_guest_destroy(doms[i].g);
		assert_int_equal(xgnt_domain_destroy(doms[i].d), 0);
	}
	assert_int_equal(xgnt_machine_free_frames(m), t_machine_nr_frames(m));
	xgnt_machine_destroy(m);   /* checked again by the harness */
	assert_int_equal(count_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak_random_ops_then_nothing_left),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
