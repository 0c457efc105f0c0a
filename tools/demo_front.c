/* SPDX-License-Identifier: MIT */
/*
 * xgnt demo: the block frontend (domain 1), as Linux's blkfront does it:
 * a shared blkif ring granted to the backend, an event channel, data
 * pages granted per request (or once, as persistent grants), indirect
 * descriptor pages for requests of more than BLKIF_MAX_SEGMENTS_PER_REQUEST
 * pages. Writes a deterministic data set and reads it back, verifying
 * every byte and a checksum per block.
 */
#include <errno.h>
#include <stdlib.h>

#include "demo.h"

/* ---- the data set -------------------------------------------------------- */

static inline uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t demo_seed(enum demo_mode mode, uint32_t bs)
{
	return splitmix(((uint64_t)mode << 32) ^ bs ^ 0x78676e74ull);
}

#define CSUM_MUL 0x100000001b3ull

uint64_t demo_fill(void *buf, uint32_t len, uint64_t seed, uint64_t block)
{
	uint64_t *w = buf, s = splitmix(seed ^ block) | 1, sum = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < len / 8; i++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;     /* xorshift64 */
		w[i] = s;
		sum = (sum ^ s) * CSUM_MUL;
	}
	return sum;
}

uint64_t demo_check(const void *buf, uint32_t len, uint64_t seed, uint64_t block,
		    uint64_t *bad_bytes)
{
	const uint64_t *w = buf;
	uint64_t s = splitmix(seed ^ block) | 1, sum = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < len / 8; i++) {
		uint64_t got = w[i];

		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		sum = (sum ^ got) * CSUM_MUL;
		if (got != s)
			for (unsigned int b = 0; b < 8; b++)
				*bad_bytes += ((got ^ s) >> (8 * b) & 0xff) != 0;
	}
	return sum;
}

/* ---- the frontend ---------------------------------------------------------- */

struct slot {
	uint8_t *data;                   /* max_pages contiguous pages */
	grant_ref_t *grefs;              /* per data page (persistent: fixed) */
	uint8_t *ipages;                 /* indirect descriptor pages */
	grant_ref_t igrefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint64_t block;
	unsigned int npages, nind;
};

struct front {
	struct demo_ctx *c;
	struct xgnt_guest *g;
	blkif_front_ring_t ring;
	blkif_sring_t *sring;
	grant_ref_t ring_ref;
	evtchn_port_t port;
	struct slot *slots;
	unsigned int *free_slots, nr_free;
	unsigned int max_pages, max_ind;
	bool persistent;
	uint64_t *csum;                  /* per block, from the write pass */
};

static void on_event(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
	/* The loop re-checks the ring after every wake-up. */
}

static int grant(struct front *f, void *page, bool ro, grant_ref_t *ref)
{
	int rc = xgnt_grant_access(f->g, DEMO_BACK_DOMID, xgnt_guest_frame(f->g, page), ro, ref);

	if (rc)
		return rc;
	atomic_fetch_add_explicit(&f->c->fc.grants, 1, memory_order_relaxed);
	int64_t live = atomic_fetch_add_explicit(&f->c->fc.grants_live, 1,
						 memory_order_relaxed) + 1;
	int64_t peak = atomic_load_explicit(&f->c->fc.grants_peak, memory_order_relaxed);
	while (live > peak && !atomic_compare_exchange_weak_explicit(&f->c->fc.grants_peak, &peak,
			live, memory_order_relaxed, memory_order_relaxed))
		;
	return 0;
}

static int end(struct front *f, grant_ref_t ref)
{
	int rc = xgnt_end_access(f->g, ref);

	if (rc)
		return rc;
	atomic_fetch_add_explicit(&f->c->fc.ends, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&f->c->fc.grants_live, 1, memory_order_relaxed);
	return 0;
}

static int setup(struct front *f)
{
	const struct demo_opts *o = f->c->o;
	uint32_t maxbs = 0;
	int rc;

	for (unsigned int i = 0; i < o->nr_bs; i++)
		maxbs = o->bs[i] > maxbs ? o->bs[i] : maxbs;
	f->max_pages = maxbs / DEMO_PAGE;
	f->max_ind = f->max_pages > BLKIF_MAX_SEGMENTS_PER_REQUEST ?
		(f->max_pages + DEMO_SEGS_PER_IPAGE - 1) / DEMO_SEGS_PER_IPAGE : 0;
	f->persistent = f->c->mode == MODE_PERSISTENT;
	f->csum = calloc(o->size / DEMO_PAGE, sizeof(*f->csum));
	f->slots = calloc(o->queue_depth, sizeof(*f->slots));
	f->free_slots = calloc(o->queue_depth, sizeof(*f->free_slots));
	if (!f->csum || !f->slots || !f->free_slots)
		return -ENOMEM;

	f->sring = xgnt_page_alloc(f->g, 1);
	if (!f->sring)
		return -ENOMEM;
	SHARED_RING_INIT(f->sring);
	FRONT_RING_INIT(&f->ring, f->sring, DEMO_PAGE);
	if ((rc = grant(f, f->sring, false, &f->ring_ref)))
		return rc;
	if ((rc = xgnt_evtchn_alloc_unbound(f->g, DEMO_BACK_DOMID, on_event, f, &f->port)))
		return rc;

	for (unsigned int s = 0; s < o->queue_depth; s++) {
		struct slot *sl = &f->slots[s];

		sl->data = xgnt_page_alloc(f->g, f->max_pages);
		sl->grefs = calloc(f->max_pages, sizeof(*sl->grefs));
		if (!sl->data || !sl->grefs)
			return -ENOMEM;
		if (f->max_ind && !(sl->ipages = xgnt_page_alloc(f->g, f->max_ind)))
			return -ENOMEM;
		f->free_slots[f->nr_free++] = s;
		if (!f->persistent)
			continue;
		/* feature-persistent: the pool is granted once, read-write. */
		for (unsigned int i = 0; i < f->max_pages; i++)
			if ((rc = grant(f, sl->data + (size_t)i * DEMO_PAGE, false, &sl->grefs[i])))
				return rc;
		for (unsigned int i = 0; i < f->max_ind; i++)
			if ((rc = grant(f, sl->ipages + (size_t)i * DEMO_PAGE, false, &sl->igrefs[i])))
				return rc;
	}
	return 0;
}

static int end_or_complain(struct front *f, grant_ref_t ref)
{
	int rc = end(f, ref);

	if (rc)
		fprintf(stderr, "xgnt demo: frontend: end access of gref %u: %s\n", ref,
			strerror(-rc));
	return rc;
}

static void teardown(struct front *f)
{
	const struct demo_opts *o = f->c->o;

	if (f->port)
		xgnt_evtchn_unbind(f->g, f->port);
	for (unsigned int s = 0; f->slots && s < o->queue_depth; s++) {
		struct slot *sl = &f->slots[s];

		if (f->persistent && sl->grefs) {
			for (unsigned int i = 0; i < f->max_pages; i++)
				if (sl->grefs[i])
					end_or_complain(f, sl->grefs[i]);
			for (unsigned int i = 0; i < f->max_ind; i++)
				if (sl->igrefs[i])
					end_or_complain(f, sl->igrefs[i]);
		}
		if (sl->data)
			xgnt_page_free(f->g, sl->data, f->max_pages);
		if (sl->ipages)
			xgnt_page_free(f->g, sl->ipages, f->max_ind);
		free(sl->grefs);
	}
	if (f->ring_ref)
		end_or_complain(f, f->ring_ref);
	if (f->sring)
		xgnt_page_free(f->g, f->sring, 1);
	free(f->slots);
	free(f->free_slots);
	free(f->csum);
}

/* Fill ring slot req for block b from slot s. */
static int submit(struct front *f, unsigned int s, uint8_t op, uint64_t b, uint32_t bs)
{
	struct slot *sl = &f->slots[s];
	blkif_request_t *req = RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt);
	unsigned int n = bs / DEMO_PAGE;
	bool ro = op == BLKIF_OP_WRITE;
	int rc;

	sl->block = b;
	sl->npages = n;
	sl->nind = 0;
	if (!f->persistent)
		for (unsigned int i = 0; i < n; i++)
			if ((rc = grant(f, sl->data + (size_t)i * DEMO_PAGE, ro, &sl->grefs[i])))
				return rc;
	if (n <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		req->operation = op;
		req->nr_segments = (uint8_t)n;
		req->handle = 0;
		req->id = s;
		req->sector_number = b * bs / DEMO_SECTOR;
		for (unsigned int i = 0; i < n; i++)
			req->seg[i] = (struct blkif_request_segment){ .gref = sl->grefs[i],
				.first_sect = 0, .last_sect = DEMO_PAGE / DEMO_SECTOR - 1 };
	} else {
		blkif_request_indirect_t *ind = (blkif_request_indirect_t *)req;
		struct blkif_request_segment *segs = (void *)sl->ipages;

		sl->nind = (n + DEMO_SEGS_PER_IPAGE - 1) / DEMO_SEGS_PER_IPAGE;
		for (unsigned int i = 0; i < n; i++)
			segs[i] = (struct blkif_request_segment){ .gref = sl->grefs[i],
				.first_sect = 0, .last_sect = DEMO_PAGE / DEMO_SECTOR - 1 };
		if (!f->persistent)
			for (unsigned int i = 0; i < sl->nind; i++)
				if ((rc = grant(f, sl->ipages + (size_t)i * DEMO_PAGE, true,
						&sl->igrefs[i])))
					return rc;
		ind->operation = BLKIF_OP_INDIRECT;
		ind->indirect_op = op;
		ind->nr_segments = (uint16_t)n;
		ind->id = s;
		ind->sector_number = b * bs / DEMO_SECTOR;
		ind->handle = 0;
		for (unsigned int i = 0; i < sl->nind; i++)
			ind->indirect_grefs[i] = sl->igrefs[i];
	}
	f->ring.req_prod_pvt++;
	return 0;
}

static int complete(struct front *f, const blkif_response_t *rsp, uint8_t op, uint32_t bs,
		    uint64_t seed, struct demo_result *r)
{
	unsigned int s;
	struct slot *sl;

	if (rsp->id >= f->c->o->queue_depth || f->slots[rsp->id].npages == 0) {
		fprintf(stderr, "xgnt demo: frontend: response with bad id %llu\n",
			(unsigned long long)rsp->id);
		return -EPROTO;
	}
	s = (unsigned int)rsp->id;
	sl = &f->slots[s];
	if (rsp->status != BLKIF_RSP_OKAY)
		r->bad_responses++;
	if (!f->persistent) {
		for (unsigned int i = 0; i < sl->npages; i++)
			if (end_or_complain(f, sl->grefs[i]))
				return -EBUSY;
		for (unsigned int i = 0; i < sl->nind; i++)
			if (end_or_complain(f, sl->igrefs[i]))
				return -EBUSY;
	}
	if (op == BLKIF_OP_READ) {
		uint64_t bad = 0, sum = demo_check(sl->data, bs, seed, sl->block, &bad);

		if (sum != f->csum[sl->block] && !bad)
			bad = bs;        /* cannot happen unless the checksum is wrong */
		r->mismatches += bad;
	}
	sl->npages = 0;
	f->free_slots[f->nr_free++] = s;
	atomic_fetch_add_explicit(&f->c->fc.bytes_done, bs, memory_order_relaxed);
	return 0;
}

static int pass(struct front *f, uint8_t op, uint32_t bs, uint64_t seed, struct demo_result *r,
		struct demo_pass *p)
{
	uint64_t nblocks = f->c->o->size / bs, next = 0, done = 0;
	double t0 = demo_now();
	int rc, notify, more;

	while (done < nblocks) {
		while (f->nr_free && next < nblocks && !RING_FULL(&f->ring)) {
			unsigned int s = f->free_slots[--f->nr_free];

			if (op == BLKIF_OP_WRITE)
				f->csum[next] = demo_fill(f->slots[s].data, bs, seed, next);
			if ((rc = submit(f, s, op, next, bs)))
				return rc;
			next++;
		}
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ring, notify);
		if (notify)
			xgnt_evtchn_notify(f->g, f->port);

		RING_IDX rp = f->sring->rsp_prod, got = 0;
		xen_rmb();
		for (RING_IDX i = f->ring.rsp_cons; i != rp; i++, got++) {
			blkif_response_t rsp = *RING_GET_RESPONSE(&f->ring, i);

			f->ring.rsp_cons = i + 1;
			if ((rc = complete(f, &rsp, op, bs, seed, r)))
				return rc;
			done++;
		}
		if (got)
			continue;
		RING_FINAL_CHECK_FOR_RESPONSES(&f->ring, more);
		if (!more) {
			int w = xgnt_evtchn_wait(f->g, 0, 1000);

			if (w < 0)
				return w;
			pthread_mutex_lock(&f->c->store.lock);
			rc = f->c->store.error;
			pthread_mutex_unlock(&f->c->store.lock);
			if (rc)
				return rc;
		}
	}
	p->secs = demo_now() - t0;
	p->ios = nblocks;
	p->bytes = nblocks * bs;
	return 0;
}

static void snapshot(struct demo_ctx *c, struct demo_result *r, bool start)
{
	uint64_t v[5] = {
		atomic_load(&c->fc.grants), atomic_load(&c->fc.ends), atomic_load(&c->bc.maps),
		atomic_load(&c->bc.unmaps), atomic_load(&c->bc.copies),
	};
	if (start) {
		atomic_store(&c->fc.grants_peak, atomic_load(&c->fc.grants_live));
		r->grants = v[0]; r->ends = v[1]; r->maps = v[2]; r->unmaps = v[3]; r->copies = v[4];
		return;
	}
	r->grants = v[0] - r->grants; r->ends = v[1] - r->ends; r->maps = v[2] - r->maps;
	r->unmaps = v[3] - r->unmaps; r->copies = v[4] - r->copies;
	r->grant_ops = r->grants + r->ends + r->maps + r->unmaps + r->copies;
	r->front_grants = atomic_load(&c->fc.grants_peak);
}

void *demo_front_main(void *arg)
{
	struct demo_ctx *c = arg;
	struct front f = { .c = c, .g = c->front };
	int rc;

	xgnt_guest_bind(f.g, 0);
	if ((rc = setup(&f)))
		goto fail;
	pthread_mutex_lock(&c->store.lock);
	c->store.ring_ref = f.ring_ref;
	c->store.port = f.port;
	c->store.mode = c->mode;
	c->store.max_pages = f.max_pages;
	pthread_mutex_unlock(&c->store.lock);
	store_set(c, &c->store.front, ST_INITIALISED);
	if ((rc = store_wait(c, &c->store.back, ST_CONNECTED)))
		goto fail;

	for (unsigned int i = 0; i < c->o->nr_bs; i++) {
		struct demo_result *r = &c->res[i];
		uint64_t seed = demo_seed(c->mode, c->o->bs[i]);

		r->mode = c->mode;
		r->bs = c->o->bs[i];
		atomic_store(&c->cur_bs, i);
		snapshot(c, r, true);
		atomic_store(&c->cur_dir, 0);
		if ((rc = pass(&f, BLKIF_OP_WRITE, r->bs, seed, r, &r->write)))
			goto fail;
		atomic_store(&c->cur_dir, 1);
		if ((rc = pass(&f, BLKIF_OP_READ, r->bs, seed, r, &r->read)))
			goto fail;
		snapshot(c, r, false);
	}
	if (c->pause_at_end) {
		pthread_mutex_lock(&c->store.lock);
		c->store.quiescent = true;
		pthread_cond_broadcast(&c->store.cond);
		while (!c->store.resume)
			pthread_cond_wait(&c->store.cond, &c->store.lock);
		pthread_mutex_unlock(&c->store.lock);
	}
	rc = 0;
fail:
	if (rc) {
		fprintf(stderr, "xgnt demo: frontend (%s): %s\n", demo_mode_name(c->mode),
			strerror(-rc));
		store_fail(c, rc);
	}
	/* Closing: the backend unmaps everything before it says Closed. */
	store_set(c, &c->store.front, ST_CLOSING);
	if (f.port)
		xgnt_evtchn_notify(f.g, f.port);
	store_wait(c, &c->store.back, ST_CLOSED);
	teardown(&f);
	atomic_store(&c->front_done, true);
	xgnt_guest_bind(NULL, 0);
	return NULL;
}
