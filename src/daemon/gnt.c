/* SPDX-License-Identifier: MIT */
/*
 * xgntd: gntdev handles (map others' grants, grant copy) and gntalloc
 * handles (share fresh pages), each as Linux's driver of the same name
 * behaves for a process of the domain: the daemon is that domain's kernel,
 * and the process maps the frames from the machine memfd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define PAGE 4096u

static uint64_t page_mfn(struct dd *dd, const void *va)
{
	return xgnt_domain_gfn_to_mfn(dd->d, xgnt_guest_addr(dd->g, va) >> 12);
}

int gnt_hello(struct conn *c, struct xgntd_hello_reply *r)
{
	unsigned int i;

	if (c->kind != XGNTD_KIND_GNTDEV)
		return 0;
	c->bounce = xgnt_page_alloc(c->dd->g, XGNTD_COPY_BATCH);
	if (!c->bounce)
		return -ENOMEM;
	for (i = 0; i < XGNTD_COPY_BATCH; i++)
		r->bounce_mfn[i] = page_mfn(c->dd, (uint8_t *)c->bounce + i * PAGE);
	return 0;
}

/* ---- gntdev ---------------------------------------------------------------------- */

static void unmap_grants(struct dd *dd, struct gmap *m, unsigned int n)
{
	struct gnttab_unmap_grant_ref *ops;
	uint64_t base = xgnt_guest_addr(dd->g, m->va);
	unsigned int i, k = 0;

	ops = calloc(n ? n : 1, sizeof(*ops));
	if (!ops) {
		/* One at a time rather than leave them mapped. */
		for (i = 0; i < n; i++) {
			struct gnttab_unmap_grant_ref op = {
				.host_addr = base + (uint64_t)i * PAGE, .handle = m->handles[i],
			};

			if (m->handles[i] != (grant_handle_t)~0u)
				xgnt_unmap_refs(dd->g, &op, 1);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		if (m->handles[i] == (grant_handle_t)~0u)
			continue;
		ops[k].host_addr = base + (uint64_t)i * PAGE;
		ops[k].handle = m->handles[i];
		k++;
	}
	if (k)
		xgnt_unmap_refs(dd->g, ops, k);
	free(ops);
}

static void gmap_free(struct gmap *m)
{
	free(m->handles);
	free(m->mfns);
	free(m);
}

/* Linux's order: clear the byte, unmap, then send the event. */
static void gmap_release(struct conn *c, struct gmap *m)
{
	struct dd *dd = c->dd;

	if ((m->notify & XGNTD_NOTIFY_CLEAR_BYTE) && !m->readonly)
		((volatile uint8_t *)m->va)[m->notify_offset] = 0;
	unmap_grants(dd, m, m->count);
	if (m->notify_port) {
		evt_port_send(m->notify_port);
		evt_port_put(m->notify_port);
	}
	xgnt_unpopulated_free(dd->g, m->va, m->count);
	gmap_free(m);
}

static long gntdev_map(struct conn *c, const struct xgntd_hdr *h, const void *p, void *out,
		       size_t *out_len)
{
	const struct xgntd_map *req = p;
	struct dd *dd = c->dd;
	struct gnttab_map_grant_ref *ops = NULL;
	struct gmap *m;
	uint64_t base;
	unsigned int i;
	long rc;

	if (h->len < sizeof(*req))
		return -EINVAL;
	if (!req->count || req->count > XGNTD_MAX_REFS ||
	    h->len != sizeof(*req) + (size_t)req->count * sizeof(req->refs[0]) ||
	    req->readonly > 1 || (req->notify & ~(XGNTD_NOTIFY_CLEAR_BYTE | XGNTD_NOTIFY_SEND_EVENT)))
		return -EINVAL;
	if ((req->notify & XGNTD_NOTIFY_CLEAR_BYTE) &&
	    req->notify_offset >= (uint64_t)req->count * PAGE)
		return -ENOENT;
	/* Linux's IOCTL_GNTDEV_SET_UNMAP_NOTIFY: no byte to clear in a
	 * read-only map. */
	if ((req->notify & XGNTD_NOTIFY_CLEAR_BYTE) && req->readonly)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->count = req->count;
	m->readonly = req->readonly;
	m->notify = req->notify & XGNTD_NOTIFY_CLEAR_BYTE;
	m->notify_offset = req->notify_offset;
	if (req->notify & XGNTD_NOTIFY_SEND_EVENT) {
		m->notify_port = evt_port_get(dd, req->notify_port);
		if (!m->notify_port) {
			rc = -EINVAL;
			goto fail;
		}
	}
	m->handles = malloc(m->count * sizeof(*m->handles));
	m->mfns = malloc(m->count * sizeof(*m->mfns));
	ops = calloc(m->count, sizeof(*ops));
	if (!m->handles || !m->mfns || !ops) {
		rc = -ENOMEM;
		goto fail;
	}
	m->va = xgnt_unpopulated_alloc(dd->g, m->count);
	if (!m->va) {
		rc = -ENOMEM;
		goto fail;
	}
	base = xgnt_guest_addr(dd->g, m->va);
	for (i = 0; i < m->count; i++) {
		ops[i].host_addr = base + (uint64_t)i * PAGE;
		ops[i].flags = GNTMAP_host_map | (m->readonly ? GNTMAP_readonly : 0);
		ops[i].ref = req->refs[i].ref;
		ops[i].dom = (domid_t)req->refs[i].domid;
		if (req->refs[i].domid > 0xffff)
			ops[i].dom = DOMID_INVALID;
	}
	xgnt_map_refs(dd->g, ops, m->count);
	rc = 0;
	for (i = 0; i < m->count; i++) {
		if (ops[i].status == GNTST_okay) {
			m->handles[i] = ops[i].handle;
		} else {
			m->handles[i] = (grant_handle_t)~0u;
			rc = -EINVAL;   /* Linux's gntdev for any failed grant */
		}
	}
	if (rc) {
		unmap_grants(dd, m, m->count);
		xgnt_unpopulated_free(dd->g, m->va, m->count);
		goto fail;
	}
	for (i = 0; i < m->count; i++)
		m->mfns[i] = page_mfn(dd, (uint8_t *)m->va + (size_t)i * PAGE);
	free(ops);
	m->id = c->next_id++ & 0x7fffffff;
	m->next = c->maps;
	c->maps = m;
	memcpy(out, m->mfns, m->count * sizeof(uint64_t));
	*out_len = m->count * sizeof(uint64_t);
	return m->id;
fail:
	if (m->notify_port)
		evt_port_put(m->notify_port);
	free(ops);
	gmap_free(m);
	return rc;
}

static long gntdev_unmap(struct conn *c, const struct xgntd_hdr *h, const void *p)
{
	const struct xgntd_unmap *req = p;
	struct gmap **pp, *m;

	if (h->len != sizeof(*req))
		return -EINVAL;
	for (pp = &c->maps; (m = *pp); pp = &m->next) {
		if (m->id == req->id && m->count == req->count) {
			*pp = m->next;
			gmap_release(c, m);
			return 0;
		}
	}
	return -ENOENT;
}

/* Linux's gntdev_grant_copy_seg checks, then one GNTTABOP_copy batch. */
static long gntdev_copy(struct conn *c, const struct xgntd_hdr *h, const void *p, void *out,
			size_t *out_len)
{
	const struct xgntd_copy *req = p;
	struct gnttab_copy ops[XGNTD_COPY_BATCH];
	int16_t *status = out;
	unsigned int i, n;
	long rc = 0;

	if (h->len < sizeof(*req) || !req->count || req->count > XGNTD_COPY_BATCH ||
	    h->len != sizeof(*req) + (size_t)req->count * sizeof(req->segs[0]))
		return -EINVAL;
	memset(ops, 0, sizeof(ops));
	for (n = 0; n < req->count; n++) {
		const struct xgntd_copy_seg *s = &req->segs[n];
		void *bounce = (uint8_t *)c->bounce + (size_t)n * PAGE;

		if (s->len > PAGE || !(s->flags & (XGNTD_COPY_SRC_GREF | XGNTD_COPY_DST_GREF)) ||
		    ((s->flags & XGNTD_COPY_SRC_GREF) && s->src_offset + s->len > PAGE) ||
		    ((s->flags & XGNTD_COPY_DST_GREF) && s->dst_offset + s->len > PAGE)) {
			rc = -EINVAL;
			break;
		}
		ops[n].len = s->len;
		if (s->flags & XGNTD_COPY_SRC_GREF) {
			ops[n].flags |= GNTCOPY_source_gref;
			ops[n].source.u.ref = s->src_ref;
			ops[n].source.domid = s->src_domid;
			ops[n].source.offset = s->src_offset;
		} else {
			ops[n].source.u.gmfn = xgnt_guest_frame(c->dd->g, bounce);
			ops[n].source.domid = DOMID_SELF;
		}
		if (s->flags & XGNTD_COPY_DST_GREF) {
			ops[n].flags |= GNTCOPY_dest_gref;
			ops[n].dest.u.ref = s->dst_ref;
			ops[n].dest.domid = s->dst_domid;
			ops[n].dest.offset = s->dst_offset;
		} else {
			ops[n].dest.u.gmfn = xgnt_guest_frame(c->dd->g, bounce);
			ops[n].dest.domid = DOMID_SELF;
		}
	}
	if (n)
		xgnt_copy(c->dd->g, ops, n);
	for (i = 0; i < req->count; i++)
		status[i] = i < n ? ops[i].status : GNTST_general_error;
	*out_len = req->count * sizeof(int16_t);
	return rc;
}

/* ---- gntalloc -------------------------------------------------------------------- */

static void share_page_released(void *page, void *arg)
{
	struct dd *dd = arg;

	xgnt_page_free(dd->g, page, 1);
	dd->nr_shared--;
}

/* Linux's __del_gref: clear the byte, send the event, end access now or
 * once the peer unmapped. */
static void share_release(struct dd *dd, struct gshare *s)
{
	unsigned int i;

	if (s->notify & XGNTD_NOTIFY_CLEAR_BYTE)
		((volatile uint8_t *)s->va)[s->notify_offset] = 0;
	if (s->notify_port) {
		evt_port_send(s->notify_port);
		evt_port_put(s->notify_port);
	}
	for (i = 0; i < s->count; i++) {
		void *page = (uint8_t *)s->va + (size_t)i * PAGE;

		if (s->refs[i] == (grant_ref_t)~0u) {
			share_page_released(page, dd);
			continue;
		}
		xgnt_end_access_deferred(dd->g, s->refs[i], share_page_released, page, dd);
	}
	free(s->refs);
	free(s);
}

static long gntalloc_share(struct conn *c, const struct xgntd_hdr *h, const void *p, void *out,
			   size_t *out_len)
{
	const struct xgntd_share *req = p;
	struct xgntd_share_page *pages = out;
	struct dd *dd = c->dd;
	struct gshare *s;
	unsigned int i;
	long rc;

	if (h->len != sizeof(*req))
		return -EINVAL;
	if (!req->count || req->count > XGNTD_MAX_REFS || req->writable > 1 ||
	    (req->notify & ~(XGNTD_NOTIFY_CLEAR_BYTE | XGNTD_NOTIFY_SEND_EVENT)))
		return -EINVAL;
	if ((req->notify & XGNTD_NOTIFY_CLEAR_BYTE) &&
	    req->notify_offset >= (uint64_t)req->count * PAGE)
		return -ENOENT;
	xgnt_gnttab_poll_deferred(dd->g);   /* Linux's do_cleanup() */
	if (dd->nr_shared + req->count > c->dmn->gntalloc_limit)
		return -ENOSPC;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->count = req->count;
	s->notify = req->notify & XGNTD_NOTIFY_CLEAR_BYTE;
	s->notify_offset = req->notify_offset;
	s->refs = malloc(s->count * sizeof(*s->refs));
	if (!s->refs) {
		rc = -ENOMEM;
		goto fail;
	}
	if (req->notify & XGNTD_NOTIFY_SEND_EVENT) {
		s->notify_port = evt_port_get(dd, req->notify_port);
		if (!s->notify_port) {
			rc = -EINVAL;
			goto fail;
		}
	}
	s->va = xgnt_page_alloc(dd->g, s->count);
	if (!s->va) {
		rc = -ENOMEM;
		goto fail;
	}
	dd->nr_shared += s->count;
	memset(s->va, 0, (size_t)s->count * PAGE);
	for (i = 0; i < s->count; i++)
		s->refs[i] = (grant_ref_t)~0u;
	for (i = 0; i < s->count; i++) {
		void *page = (uint8_t *)s->va + (size_t)i * PAGE;

		rc = xgnt_grant_access(dd->g, (domid_t)req->domid,
				       xgnt_guest_frame(dd->g, page), !req->writable, &s->refs[i]);
		if (rc) {
			/* never shared: nothing to notify */
			s->notify = 0;
			if (s->notify_port)
				evt_port_put(s->notify_port);
			s->notify_port = NULL;
			share_release(dd, s);
			return rc;
		}
		pages[i].ref = s->refs[i];
		pages[i].pad = 0;
		pages[i].mfn = page_mfn(dd, page);
	}
	s->id = c->next_id++ & 0x7fffffff;
	s->next = c->shares;
	c->shares = s;
	*out_len = s->count * sizeof(*pages);
	return s->id;
fail:
	if (s->notify_port)
		evt_port_put(s->notify_port);
	free(s->refs);
	free(s);
	return rc;
}

static long gntalloc_unshare(struct conn *c, const struct xgntd_hdr *h, const void *p)
{
	const struct xgntd_unshare *req = p;
	struct gshare **pp, *s;

	if (h->len != sizeof(*req))
		return -EINVAL;
	for (pp = &c->shares; (s = *pp); pp = &s->next) {
		if (s->id == req->id) {
			*pp = s->next;
			share_release(c->dd, s);
			return 0;
		}
	}
	return -ENOENT;
}

long gnt_request(struct conn *c, const struct xgntd_hdr *h, const void *p, void *out,
		 size_t *out_len)
{
	if (c->kind == XGNTD_KIND_GNTDEV) {
		switch (h->type) {
		case XGNTD_GNTDEV_MAP:
			return gntdev_map(c, h, p, out, out_len);
		case XGNTD_GNTDEV_UNMAP:
			return gntdev_unmap(c, h, p);
		case XGNTD_GNTDEV_COPY:
			return gntdev_copy(c, h, p, out, out_len);
		case XGNTD_GNTDEV_SET_MAX:
			return -ENOTTY;   /* as today's Linux, which dropped it */
		}
	} else {
		switch (h->type) {
		case XGNTD_GNTALLOC_SHARE:
			return gntalloc_share(c, h, p, out, out_len);
		case XGNTD_GNTALLOC_UNSHARE:
			return gntalloc_unshare(c, h, p);
		}
	}
	return -ENOTTY;
}

void gnt_release(struct conn *c)
{
	while (c->maps) {
		struct gmap *m = c->maps;

		c->maps = m->next;
		gmap_release(c, m);
	}
	while (c->shares) {
		struct gshare *s = c->shares;

		c->shares = s->next;
		share_release(c->dd, s);
	}
	if (c->bounce)
		xgnt_page_free(c->dd->g, c->bounce, XGNTD_COPY_BATCH);
	c->bounce = NULL;
}
