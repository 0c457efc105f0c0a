/* SPDX-License-Identifier: MIT */
/*
 * xgnt demo: the block backend (domain 0) serving a disk image file with
 * pread/pwrite, in one of three ways of reaching the frontend's data:
 * map and unmap per request (Linux's blkback), persistent grants mapped
 * once and cached by reference (feature-persistent), or GNTTABOP_copy to
 * and from a bounce buffer (QEMU's qdisk). The ring is shared memory the
 * frontend writes: each request is copied once and checked before use.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "demo.h"

#define PCACHE_CHUNK 256u                /* unpopulated pages per chunk */
#define MAX_SEGS     (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * DEMO_SEGS_PER_IPAGE)

struct pgnt {                            /* a persistent grant, by gref */
	uint8_t *va;
	grant_handle_t handle;
	bool mapped;
};

struct back {
	struct demo_ctx *c;
	struct xgnt_guest *g;
	blkif_back_ring_t ring;
	void *ring_va;
	grant_handle_t ring_handle;
	evtchn_port_t port;
	enum demo_mode mode;
	unsigned int max_pages;
	uint64_t disk_size;
	/* map mode: one window, the backend serves one request at a time */
	uint8_t *win, *iwin;
	/* copy mode: bounce buffers in our RAM */
	uint8_t *bounce, *ibounce;
	/* persistent mode */
	struct pgnt *pc;
	size_t pc_len;
	uint8_t **chunks;
	unsigned int nr_chunks, chunk_used;
	/* per-request scratch */
	struct blkif_request_segment segs[MAX_SEGS];
	uint8_t *va[MAX_SEGS];
	struct gnttab_map_grant_ref mops[MAX_SEGS];
	struct gnttab_unmap_grant_ref uops[MAX_SEGS];
	struct gnttab_copy cops[MAX_SEGS];
	struct iovec iov[MAX_SEGS];
};

static void on_event(struct xgnt_guest *g, evtchn_port_t port, void *data)
{
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Map n grants of the frontend at va[i] (mapping is all or nothing). */
static int map_batch(struct back *b, const grant_ref_t *refs, uint8_t *const *va,
		     unsigned int n, bool ro, grant_handle_t *handles)
{
	int rc, bad = 0;

	for (unsigned int i = 0; i < n; i++)
		b->mops[i] = (struct gnttab_map_grant_ref){
			.host_addr = xgnt_guest_addr(b->g, va[i]),
			.flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0),
			.ref = refs[i], .dom = DEMO_FRONT_DOMID };
	if ((rc = xgnt_map_refs(b->g, b->mops, n)))
		return rc;
	count(&b->c->bc.maps, n);
	for (unsigned int i = 0; i < n; i++) {
		handles[i] = b->mops[i].handle;
		if (b->mops[i].status != GNTST_okay)
			bad = -EACCES;
	}
	if (!bad)
		return 0;
	/* Undo the ones that worked. */
	unsigned int k = 0;
	for (unsigned int i = 0; i < n; i++)
		if (b->mops[i].status == GNTST_okay)
			b->uops[k++] = (struct gnttab_unmap_grant_ref){
				.host_addr = b->mops[i].host_addr, .handle = b->mops[i].handle };
	if (k && xgnt_unmap_refs(b->g, b->uops, k) == 0)
		count(&b->c->bc.unmaps, k);
	return bad;
}

static int unmap_batch(struct back *b, uint8_t *const *va, const grant_handle_t *h, unsigned int n)
{
	int rc;

	for (unsigned int i = 0; i < n; i++)
		b->uops[i] = (struct gnttab_unmap_grant_ref){
			.host_addr = xgnt_guest_addr(b->g, va[i]), .handle = h[i] };
	if ((rc = xgnt_unmap_refs(b->g, b->uops, n)))
		return rc;
	count(&b->c->bc.unmaps, n);
	for (unsigned int i = 0; i < n; i++)
		if (b->uops[i].status != GNTST_okay)
			return -EIO;
	return 0;
}

/* Persistent grants: the mapping of ref, made on first use. */
static uint8_t *pgnt_get(struct back *b, grant_ref_t ref)
{
	if (ref >= b->pc_len) {
		size_t len = b->pc_len ? b->pc_len : 1024;
		while (len <= ref)
			len *= 2;
		struct pgnt *n = realloc(b->pc, len * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + b->pc_len, 0, (len - b->pc_len) * sizeof(*n));
		b->pc = n;
		b->pc_len = len;
	}
	struct pgnt *p = &b->pc[ref];
	if (p->mapped)
		return p->va;
	if (!b->nr_chunks || b->chunk_used == PCACHE_CHUNK) {
		uint8_t **nc = realloc(b->chunks, (b->nr_chunks + 1) * sizeof(*nc));
		if (!nc)
			return NULL;
		b->chunks = nc;
		if (!(nc[b->nr_chunks] = xgnt_unpopulated_alloc(b->g, PCACHE_CHUNK)))
			return NULL;
		b->nr_chunks++;
		b->chunk_used = 0;
	}
	uint8_t *va = b->chunks[b->nr_chunks - 1] + (size_t)b->chunk_used * DEMO_PAGE;
	if (map_batch(b, &ref, &va, 1, false, &p->handle))
		return NULL;
	b->chunk_used++;
	p->va = va;
	p->mapped = true;
	return va;
}

static void pgnt_flush(struct back *b)
{
	for (size_t r = 0; r < b->pc_len; r++)
		if (b->pc[r].mapped) {
			if (unmap_batch(b, &b->pc[r].va, &b->pc[r].handle, 1))
				fprintf(stderr, "xgnt demo: backend: unmap of persistent gref %zu failed\n", r);
			b->pc[r].mapped = false;
		}
	for (unsigned int i = 0; i < b->nr_chunks; i++)
		xgnt_unpopulated_free(b->g, b->chunks[i], PCACHE_CHUNK);
	free(b->chunks);
	free(b->pc);
}

/* Fetch the segment list of an indirect request into b->segs. */
static int fetch_indirect(struct back *b, const grant_ref_t *igrefs, unsigned int nind,
			  unsigned int nseg)
{
	size_t bytes = (size_t)nseg * sizeof(struct blkif_request_segment);
	int rc;

	switch (b->mode) {
	case MODE_MAP: {
		grant_handle_t h[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
		uint8_t *va[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
		for (unsigned int i = 0; i < nind; i++)
			va[i] = b->iwin + (size_t)i * DEMO_PAGE;
		if ((rc = map_batch(b, igrefs, va, nind, true, h)))
			return rc;
		memcpy(b->segs, b->iwin, bytes);  /* read once: shared memory */
		return unmap_batch(b, va, h, nind);
	}
	case MODE_PERSISTENT:
		for (unsigned int i = 0; i < nind; i++) {
			uint8_t *p = pgnt_get(b, igrefs[i]);
			size_t n = bytes - (size_t)i * DEMO_PAGE;
			if (!p)
				return -EACCES;
			memcpy((uint8_t *)b->segs + (size_t)i * DEMO_PAGE, p,
			       n < DEMO_PAGE ? n : DEMO_PAGE);
		}
		return 0;
	default:
		for (unsigned int i = 0; i < nind; i++)
			b->cops[i] = (struct gnttab_copy){
				.source = { .u.ref = igrefs[i], .domid = DEMO_FRONT_DOMID },
				.dest = { .u.gmfn = xgnt_guest_frame(b->g, b->ibounce + (size_t)i * DEMO_PAGE),
					  .domid = DOMID_SELF },
				.len = DEMO_PAGE, .flags = GNTCOPY_source_gref };
		if ((rc = xgnt_copy(b->g, b->cops, nind)))
			return rc;
		count(&b->c->bc.copies, nind);
		for (unsigned int i = 0; i < nind; i++)
			if (b->cops[i].status != GNTST_okay)
				return -EACCES;
		memcpy(b->segs, b->ibounce, bytes);
		return 0;
	}
}

static int do_io(struct back *b, bool write, uint64_t off, unsigned int n)
{
	size_t total = 0;

	for (unsigned int i = 0; i < n; i++)
		total += b->iov[i].iov_len;
	if (off > b->disk_size || total > b->disk_size - off)
		return -ERANGE;
	for (unsigned int i = 0; i < n;) {
		unsigned int k = n - i > 1024 ? 1024 : n - i;   /* IOV_MAX */
		size_t want = 0;
		for (unsigned int j = 0; j < k; j++)
			want += b->iov[i + j].iov_len;
		ssize_t got = write ? pwritev(b->c->fd, b->iov + i, (int)k, (off_t)off)
				    : preadv(b->c->fd, b->iov + i, (int)k, (off_t)off);
		if (got != (ssize_t)want)     /* a regular file: short only on error */
			return got < 0 ? -errno : -EIO;
		off += want;
		i += k;
	}
	return 0;
}

/* Serve one request (already copied out of the ring). BLKIF_RSP_*. */
static int serve(struct back *b, const blkif_request_t *req)
{
	uint8_t op = req->operation;
	unsigned int n;
	uint64_t sector;
	int rc;

	if (op == BLKIF_OP_INDIRECT) {
		const blkif_request_indirect_t *ind = (const void *)req;
		unsigned int nind;

		op = ind->indirect_op;
		n = ind->nr_segments;
		sector = ind->sector_number;
		nind = (n + DEMO_SEGS_PER_IPAGE - 1) / DEMO_SEGS_PER_IPAGE;
		if (n == 0 || n > b->max_pages || nind > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST)
			return BLKIF_RSP_ERROR;
		if (fetch_indirect(b, ind->indirect_grefs, nind, n))
			return BLKIF_RSP_ERROR;
	} else {
		n = req->nr_segments;
		sector = req->sector_number;
		if (n == 0 || n > BLKIF_MAX_SEGMENTS_PER_REQUEST)
			return BLKIF_RSP_ERROR;
		memcpy(b->segs, req->seg, n * sizeof(req->seg[0]));
	}
	if (op != BLKIF_OP_READ && op != BLKIF_OP_WRITE)
		return BLKIF_RSP_EOPNOTSUPP;
	bool write = op == BLKIF_OP_WRITE;
	for (unsigned int i = 0; i < n; i++)
		if (b->segs[i].last_sect >= DEMO_PAGE / DEMO_SECTOR ||
		    b->segs[i].first_sect > b->segs[i].last_sect)
			return BLKIF_RSP_ERROR;

	grant_handle_t *h = (grant_handle_t *)b->cops;   /* scratch, map mode only */
	grant_ref_t refs[MAX_SEGS];
	for (unsigned int i = 0; i < n; i++)
		refs[i] = b->segs[i].gref;
	switch (b->mode) {
	case MODE_MAP:
		for (unsigned int i = 0; i < n; i++)
			b->va[i] = b->win + (size_t)i * DEMO_PAGE;
		if (map_batch(b, refs, b->va, n, write, h))
			return BLKIF_RSP_ERROR;
		break;
	case MODE_PERSISTENT:
		for (unsigned int i = 0; i < n; i++)
			if (!(b->va[i] = pgnt_get(b, refs[i])))
				return BLKIF_RSP_ERROR;
		break;
	default:
		for (unsigned int i = 0; i < n; i++)
			b->va[i] = b->bounce + (size_t)i * DEMO_PAGE;
		break;
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned int first = b->segs[i].first_sect, last = b->segs[i].last_sect;
		b->iov[i] = (struct iovec){ b->va[i] + first * DEMO_SECTOR,
					    (last - first + 1) * DEMO_SECTOR };
		if (b->mode == MODE_COPY) {
			struct gnttab_copy *cp = &b->cops[i];
			struct gnttab_copy_ptr fp = { .u.ref = refs[i], .domid = DEMO_FRONT_DOMID,
				.offset = (uint16_t)(first * DEMO_SECTOR) };
			struct gnttab_copy_ptr lp = { .u.gmfn = xgnt_guest_frame(b->g, b->va[i]),
				.domid = DOMID_SELF, .offset = (uint16_t)(first * DEMO_SECTOR) };
			*cp = (struct gnttab_copy){ .source = write ? fp : lp, .dest = write ? lp : fp,
				.len = (uint16_t)b->iov[i].iov_len,
				.flags = write ? GNTCOPY_source_gref : GNTCOPY_dest_gref };
		}
	}
	if (b->mode == MODE_COPY && write) {
		if (xgnt_copy(b->g, b->cops, n))
			return BLKIF_RSP_ERROR;
		count(&b->c->bc.copies, n);
		for (unsigned int i = 0; i < n; i++)
			if (b->cops[i].status != GNTST_okay)
				return BLKIF_RSP_ERROR;
	}
	rc = do_io(b, write, sector * DEMO_SECTOR, n);
	if (b->mode == MODE_MAP && unmap_batch(b, b->va, h, n))
		rc = rc ? rc : -EIO;
	if (!rc && b->mode == MODE_COPY && !write) {
		if (xgnt_copy(b->g, b->cops, n))
			return BLKIF_RSP_ERROR;
		count(&b->c->bc.copies, n);
		for (unsigned int i = 0; i < n; i++)
			if (b->cops[i].status != GNTST_okay)
				return BLKIF_RSP_ERROR;
	}
	return rc ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY;
}

static int connect(struct back *b)
{
	struct demo_ctx *c = b->c;
	grant_ref_t ring_ref;
	evtchn_port_t rport;
	unsigned int nind;
	int rc;

	pthread_mutex_lock(&c->store.lock);
	ring_ref = c->store.ring_ref;
	rport = c->store.port;
	b->mode = c->store.mode;
	b->max_pages = c->store.max_pages;
	pthread_mutex_unlock(&c->store.lock);
	if (b->max_pages == 0 || b->max_pages > MAX_SEGS)
		return -EINVAL;
	nind = (b->max_pages + DEMO_SEGS_PER_IPAGE - 1) / DEMO_SEGS_PER_IPAGE;

	if (!(b->ring_va = xgnt_unpopulated_alloc(b->g, 1)))
		return -ENOMEM;
	uint8_t *rva = b->ring_va;
	if ((rc = map_batch(b, &ring_ref, &rva, 1, false, &b->ring_handle))) {
		xgnt_unpopulated_free(b->g, b->ring_va, 1);
		b->ring_va = NULL;
		return rc;
	}
	BACK_RING_INIT(&b->ring, (blkif_sring_t *)b->ring_va, DEMO_PAGE);
	if ((rc = xgnt_evtchn_bind_interdomain(b->g, DEMO_FRONT_DOMID, rport, on_event, b, &b->port)))
		return rc;
	if (b->mode == MODE_MAP) {
		b->win = xgnt_unpopulated_alloc(b->g, b->max_pages);
		b->iwin = xgnt_unpopulated_alloc(b->g, nind);
		if (!b->win || !b->iwin)
			return -ENOMEM;
	} else if (b->mode == MODE_COPY) {
		b->bounce = xgnt_page_alloc(b->g, b->max_pages);
		b->ibounce = xgnt_page_alloc(b->g, nind);
		if (!b->bounce || !b->ibounce)
			return -ENOMEM;
	}
	return 0;
}

static void disconnect(struct back *b)
{
	unsigned int nind = (b->max_pages + DEMO_SEGS_PER_IPAGE - 1) / DEMO_SEGS_PER_IPAGE;

	if (b->mode == MODE_PERSISTENT)
		pgnt_flush(b);
	if (b->win)
		xgnt_unpopulated_free(b->g, b->win, b->max_pages);
	if (b->iwin)
		xgnt_unpopulated_free(b->g, b->iwin, nind);
	if (b->bounce)
		xgnt_page_free(b->g, b->bounce, b->max_pages);
	if (b->ibounce)
		xgnt_page_free(b->g, b->ibounce, nind);
	if (b->port)
		xgnt_evtchn_unbind(b->g, b->port);
	if (b->ring_va) {
		uint8_t *rva = b->ring_va;
		unmap_batch(b, &rva, &b->ring_handle, 1);
		xgnt_unpopulated_free(b->g, b->ring_va, 1);
	}
}

static bool closing(struct demo_ctx *c)
{
	pthread_mutex_lock(&c->store.lock);
	bool r = c->store.front >= ST_CLOSING || c->store.error;
	pthread_mutex_unlock(&c->store.lock);
	return r;
}

void *demo_back_main(void *arg)
{
	struct demo_ctx *c = arg;
	struct back *b = calloc(1, sizeof(*b));
	int rc, more, notify;

	if (!b) {
		store_fail(c, -ENOMEM);
		store_set(c, &c->store.back, ST_CLOSED);
		return NULL;
	}
	b->c = c;
	b->g = c->back;
	b->disk_size = c->o->size;
	xgnt_guest_bind(b->g, 0);
	if ((rc = store_wait(c, &c->store.front, ST_INITIALISED)))
		goto out;
	if ((rc = connect(b)))
		goto out;
	store_set(c, &c->store.back, ST_CONNECTED);

	for (;;) {
		RING_IDX rc_i = b->ring.req_cons, rp = b->ring.sring->req_prod;
		xen_rmb();
		if (rp - rc_i > RING_SIZE(&b->ring)) {    /* a hostile producer */
			rc = -EPROTO;
			goto out;
		}
		while (rc_i != rp) {
			blkif_request_t req;

			RING_COPY_REQUEST(&b->ring, rc_i, &req);
			b->ring.req_cons = ++rc_i;
			int st = serve(b, &req);
			blkif_response_t *rsp = RING_GET_RESPONSE(&b->ring, b->ring.rsp_prod_pvt);
			rsp->id = req.id;
			rsp->operation = req.operation;
			rsp->status = (int16_t)st;
			b->ring.rsp_prod_pvt++;
			RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b->ring, notify);
			if (notify)
				xgnt_evtchn_notify(b->g, b->port);
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&b->ring, more);
		if (more)
			continue;
		if (closing(c))
			break;
		if ((rc = xgnt_evtchn_wait(b->g, 0, 1000)) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc) {
		fprintf(stderr, "xgnt demo: backend: %s\n", strerror(-rc));
		store_fail(c, rc);
	}
	/* Wait for Closing so nothing the frontend still uses goes away. */
	store_wait(c, &c->store.front, ST_CLOSING);
	disconnect(b);
	free(b);
	xgnt_guest_bind(NULL, 0);
	store_set(c, &c->store.back, ST_CLOSED);
	return NULL;
}
