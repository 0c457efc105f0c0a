/* SPDX-License-Identifier: MIT */
/*
 * Drop-in libxengnttab.so.1: xengnttab_* (Linux's gntdev) and xengntshr_*
 * (Linux's gntalloc) over xgntd. A handle is one connection; a mapping is
 * the machine memfd's frames mapped into this process, so munmap() is a
 * valid release of the memory, as libxenvchan assumes. Errors: -1 or NULL
 * and errno, as Debian's library on Linux gives them.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xengnttab.h>

#include "client.h"

#define PAGE 4096u
#define API __attribute__((visibility("default")))

struct xmap {                       /* a mapping or share of the handle */
	struct xmap *next;
	uint8_t *addr;
	uint32_t count, id;
	uint64_t first_mfn;         /* to recognise it in /proc/self/maps */
	bool gone;                  /* the program unmapped it: another is there now */
};

struct xengntdev_handle {
	struct xengntdev_handle *next;   /* in handles */
	struct xgntc c;
	int memfd;
	bool shr;
	uint8_t *bounce;            /* gntdev: the copy bounce pages */
	pthread_mutex_t lock;       /* maps */
	struct xmap *maps;
	pthread_mutex_t copy_lock;  /* the bounce pages: one grant copy at a time */
};

/*
 * Every handle of the process, for placing mappings. A mapping the
 * program munmap()ed stays tracked until its handle closes, and the
 * kernel may place a later one at the same address, even showing the same
 * frame (the same grant mapped again, or one's own share): by address,
 * name and offset in /proc/self/maps the two look alike, and the close of
 * the first handle must not take the second's pages. So a mapping placed
 * over tracked ones marks them gone, and placing and a close's check are
 * one at a time. Lock order: place_lock, then a handle's lock.
 */
static pthread_mutex_t place_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xengntdev_handle *handles;

/* Under place_lock: [addr, addr + count pages) is a new mapping. */
static void placed(const uint8_t *addr, uint32_t count)
{
	const uint8_t *end = addr + (size_t)count * PAGE;
	struct xengntdev_handle *h;
	struct xmap *m;

	for (h = handles; h; h = h->next) {
		pthread_mutex_lock(&h->lock);
		for (m = h->maps; m; m = m->next)
			if (m->addr < end && addr < m->addr + (size_t)m->count * PAGE)
				m->gone = true;
		pthread_mutex_unlock(&h->lock);
	}
}

/* xgntc_map_frames, and the mappings it covers marked gone. */
static void *place(int memfd, const uint64_t *mfns, uint32_t count, int prot)
{
	void *addr;

	pthread_mutex_lock(&place_lock);
	addr = xgntc_map_frames(memfd, mfns, count, prot);
	if (addr != MAP_FAILED)
		placed(addr, count);
	pthread_mutex_unlock(&place_lock);
	return addr;
}

static struct xengntdev_handle *open_handle(uint32_t kind)
{
	struct xengntdev_handle *h = calloc(1, sizeof(*h));
	struct xgntd_hello_reply r;
	int rc;

	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	rc = xgntc_open(&h->c, NULL, kind, XGNTD_DOMID_ALL, 0, -1, &r, &h->memfd, 1);
	if (rc || h->memfd < 0) {
		if (!rc)
			xgntc_close(&h->c);
		free(h);
		errno = rc ? -rc : EPROTO;
		return NULL;
	}
	h->shr = kind == XGNTD_KIND_GNTALLOC;
	if (!h->shr) {
		h->bounce = place(h->memfd, r.bounce_mfn, XGNTD_COPY_BATCH, PROT_READ | PROT_WRITE);
		if (h->bounce == MAP_FAILED) {
			rc = errno;
			close(h->memfd);
			xgntc_close(&h->c);
			free(h);
			errno = rc;
			return NULL;
		}
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->copy_lock, NULL);
	pthread_mutex_lock(&place_lock);
	h->next = handles;
	handles = h;
	pthread_mutex_unlock(&place_lock);
	return h;
}

/* Is [addr, addr + count pages) still our mapping of the memfd, as this
 * handle made it? (The program may have unmapped it, and the range may
 * hold something else since.) */
static bool still_mapped(const struct xmap *m)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;

		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3)
			continue;
		if (lo == (unsigned long)m->addr && strstr(line, "xgnt-machine") &&
		    off == m->first_mfn * PAGE) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static int close_handle(struct xengntdev_handle *h)
{
	struct xengntdev_handle **pp;

	if (!h)
		return 0;
	/* Linux keeps a mapping alive after close until munmap; here the
	 * daemon releases it now, so what the program still maps of it is
	 * made inaccessible rather than left to show frames reused later. */
	pthread_mutex_lock(&place_lock);
	for (pp = &handles; *pp != h; pp = &(*pp)->next)
		;
	*pp = h->next;
	while (h->maps) {
		struct xmap *m = h->maps;

		h->maps = m->next;
		if (!m->gone && still_mapped(m))
			mmap(m->addr, (size_t)m->count * PAGE, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
		free(m);
	}
	pthread_mutex_unlock(&place_lock);
	if (h->bounce)
		munmap(h->bounce, XGNTD_COPY_BATCH * PAGE);
	close(h->memfd);
	xgntc_close(&h->c);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->copy_lock);
	free(h);
	return 0;
}

static void track(struct xengntdev_handle *h, struct xmap *m)
{
	pthread_mutex_lock(&h->lock);
	m->next = h->maps;
	h->maps = m;
	pthread_mutex_unlock(&h->lock);
}

/* The tracked mapping holding addr, unlinked; NULL if none. */
static struct xmap *untrack(struct xengntdev_handle *h, const void *addr, bool exact)
{
	struct xmap **pp, *m;

	pthread_mutex_lock(&h->lock);
	for (pp = &h->maps; (m = *pp); pp = &m->next) {
		if (!m->gone && (const uint8_t *)addr >= m->addr &&
		    (const uint8_t *)addr < m->addr + (size_t)m->count * PAGE &&
		    (!exact || m->addr == addr)) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return m;
}

/* ---- libxengnttab ------------------------------------------------------------------- */

API xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	(void)logger;
	(void)open_flags;
	return open_handle(XGNTD_KIND_GNTDEV);
}

API int xengnttab_close(xengnttab_handle *xgt)
{
	return close_handle(xgt);
}

API int xengnttab_fd(xengnttab_handle *xgt)
{
	return xgt->c.fd;
}

static void *map_refs(xengnttab_handle *xgt, uint32_t count, const uint32_t *domids,
		      uint32_t domids_stride, const uint32_t *refs, int prot,
		      uint32_t notify_offset, uint32_t notify_port)
{
	size_t len = sizeof(struct xgntd_map) + (size_t)count * sizeof(struct xgntd_map_ref);
	struct xgntd_map *req;
	uint64_t *mfns;
	struct xmap *m;
	size_t got = 0;
	void *addr;
	uint32_t i;
	long rc;

	if (!count || count > XGNTD_MAX_REFS) {
		errno = EINVAL;
		return NULL;
	}
	req = calloc(1, len);
	mfns = malloc(count * sizeof(*mfns));
	m = calloc(1, sizeof(*m));
	if (!req || !mfns || !m) {
		rc = -ENOMEM;
		goto out;
	}
	req->count = count;
	req->readonly = !(prot & PROT_WRITE);
	if (notify_offset < PAGE * count) {
		req->notify |= XGNTD_NOTIFY_CLEAR_BYTE;
		req->notify_offset = notify_offset;
	}
	if (notify_port != (uint32_t)-1) {
		req->notify |= XGNTD_NOTIFY_SEND_EVENT;
		req->notify_port = notify_port;
	}
	for (i = 0; i < count; i++) {
		req->refs[i].domid = domids[i * domids_stride];
		req->refs[i].ref = refs[i];
	}
	rc = xgntc_call(&xgt->c, XGNTD_GNTDEV_MAP, req, len, mfns, count * sizeof(*mfns), &got);
	if (rc < 0)
		goto out;
	if (got != count * sizeof(*mfns)) {
		rc = -EPROTO;
		goto out;
	}
	m->id = (uint32_t)rc;
	m->count = count;
	m->first_mfn = mfns[0];
	addr = place(xgt->memfd, mfns, count, prot & (PROT_READ | PROT_WRITE));
	if (addr == MAP_FAILED) {
		struct xgntd_unmap um = { .id = m->id, .count = count };

		rc = -errno;
		xgntc_call(&xgt->c, XGNTD_GNTDEV_UNMAP, &um, sizeof(um), NULL, 0, NULL);
		goto out;
	}
	m->addr = addr;
	track(xgt, m);
	m = NULL;
	rc = 0;
out:
	free(req);
	free(mfns);
	free(m);
	if (rc) {
		errno = (int)-rc;
		return NULL;
	}
	return addr;
}

API void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot)
{
	return map_refs(xgt, 1, &domid, 0, &ref, prot, (uint32_t)-1, (uint32_t)-1);
}

API void *xengnttab_map_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t *domids,
				   uint32_t *refs, int prot)
{
	return map_refs(xgt, count, domids, 1, refs, prot, (uint32_t)-1, (uint32_t)-1);
}

API void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t domid,
					  uint32_t *refs, int prot)
{
	return map_refs(xgt, count, &domid, 0, refs, prot, (uint32_t)-1, (uint32_t)-1);
}

API void *xengnttab_map_grant_ref_notify(xengnttab_handle *xgt, uint32_t domid, uint32_t ref,
					 int prot, uint32_t notify_offset,
					 evtchn_port_t notify_port)
{
	return map_refs(xgt, 1, &domid, 0, &ref, prot, notify_offset, notify_port);
}

API int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	struct xgntd_unmap um;
	struct xmap *m;
	long rc;

	if (!start_address) {
		errno = EINVAL;
		return -1;
	}
	/* Linux: IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR, count must match. */
	m = untrack(xgt, start_address, false);
	if (!m) {
		errno = EINVAL;
		return -1;
	}
	if (m->count != count) {
		track(xgt, m);
		errno = EINVAL;
		return -1;
	}
	if (munmap(start_address, (size_t)count * PAGE)) {
		int e = errno;

		track(xgt, m);
		errno = e;
		return -1;
	}
	um.id = m->id;
	um.count = count;
	free(m);
	rc = xgntc_call(&xgt->c, XGNTD_GNTDEV_UNMAP, &um, sizeof(um), NULL, 0, NULL);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return 0;
}

API int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	/* Today's Linux dropped IOCTL_GNTDEV_SET_MAX_GRANTS; the library
	 * ignores the ENOTTY. */
	(void)xgt;
	(void)nr_grants;
	return 0;
}

API int xengnttab_grant_copy(xengnttab_handle *xgt, uint32_t count,
			     xengnttab_grant_copy_segment_t *segs)
{
	struct {
		struct xgntd_copy c;
		struct xgntd_copy_seg s[XGNTD_COPY_BATCH];
	} req;
	int16_t status[XGNTD_COPY_BATCH];
	uint32_t done = 0, i, n;
	int ret = 0;

	/* Linux's ioctl is safe from several threads; the handle's bounce
	 * pages are not shared between calls. */
	pthread_mutex_lock(&xgt->copy_lock);
	while (done < count) {
		size_t got = 0;
		long rc;

		n = count - done < XGNTD_COPY_BATCH ? count - done : XGNTD_COPY_BATCH;
		memset(&req, 0, sizeof(req));
		req.c.count = n;
		for (i = 0; i < n; i++) {
			xengnttab_grant_copy_segment_t *sg = &segs[done + i];
			struct xgntd_copy_seg *s = &req.s[i];
			uint8_t *bounce = xgt->bounce + (size_t)i * PAGE;

			s->len = sg->len;
			s->flags = sg->flags & (XGNTD_COPY_SRC_GREF | XGNTD_COPY_DST_GREF);
			if (sg->flags & GNTCOPY_source_gref) {
				s->src_ref = sg->source.foreign.ref;
				s->src_offset = sg->source.foreign.offset;
				s->src_domid = sg->source.foreign.domid;
			} else if (sg->len <= PAGE && (sg->flags & GNTCOPY_dest_gref)) {
				memcpy(bounce, sg->source.virt, sg->len);
			}
			if (sg->flags & GNTCOPY_dest_gref) {
				s->dst_ref = sg->dest.foreign.ref;
				s->dst_offset = sg->dest.foreign.offset;
				s->dst_domid = sg->dest.foreign.domid;
			}
		}
		rc = xgntc_call(&xgt->c, XGNTD_GNTDEV_COPY, &req,
				sizeof(req.c) + n * sizeof(req.s[0]), status, sizeof(status), &got);
		if (rc < 0 && got != n * sizeof(int16_t)) {
			errno = (int)-rc;
			ret = -1;
			break;
		}
		for (i = 0; i < n; i++) {
			xengnttab_grant_copy_segment_t *sg = &segs[done + i];

			sg->status = status[i];
			if (status[i] == GNTST_okay && !(sg->flags & GNTCOPY_dest_gref))
				memcpy(sg->dest.virt, xgt->bounce + (size_t)i * PAGE, sg->len);
		}
		if (rc < 0) {
			errno = (int)-rc;
			ret = -1;
			break;
		}
		done += n;
	}
	pthread_mutex_unlock(&xgt->copy_lock);
	return ret;
}

/* dma-buf needs a kernel's DMA API: as Linux without CONFIG_XEN_GNTDEV_DMABUF. */
API int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *xgt, uint32_t domid, uint32_t flags,
				       uint32_t count, const uint32_t *refs, uint32_t *fd)
{
	(void)xgt, (void)domid, (void)flags, (void)count, (void)refs, (void)fd;
	errno = ENOTTY;
	return -1;
}

API int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *xgt, uint32_t fd,
					   uint32_t wait_to_ms)
{
	(void)xgt, (void)fd, (void)wait_to_ms;
	errno = ENOTTY;
	return -1;
}

API int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *xgt, uint32_t domid, uint32_t fd,
				     uint32_t count, uint32_t *refs)
{
	(void)xgt, (void)domid, (void)fd, (void)count, (void)refs;
	errno = ENOTTY;
	return -1;
}

API int xengnttab_dmabuf_imp_release(xengnttab_handle *xgt, uint32_t fd)
{
	(void)xgt, (void)fd;
	errno = ENOTTY;
	return -1;
}

/* ---- libxengntshr -------------------------------------------------------------------- */

API xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	(void)logger;
	(void)open_flags;
	return open_handle(XGNTD_KIND_GNTALLOC);
}

API int xengntshr_close(xengntshr_handle *xgs)
{
	return close_handle(xgs);
}

API int xengntshr_fd(xengntshr_handle *xgs)
{
	return xgs->c.fd;
}

static void *share(xengntshr_handle *xgs, uint32_t domid, int count, uint32_t *refs,
		   int writable, uint32_t notify_offset, uint32_t notify_port)
{
	struct xgntd_share req = { .domid = domid, .writable = !!writable };
	struct xgntd_share_page *pages = NULL;
	uint64_t *mfns = NULL;
	struct xmap *m = NULL;
	size_t got = 0;
	void *addr = NULL;
	int i;
	long rc;

	if (count <= 0 || (uint32_t)count > XGNTD_MAX_REFS) {
		errno = EINVAL;
		return NULL;
	}
	req.count = (uint32_t)count;
	if (notify_offset < PAGE * (uint32_t)count) {
		req.notify |= XGNTD_NOTIFY_CLEAR_BYTE;
		req.notify_offset = notify_offset;
	}
	if (notify_port != (uint32_t)-1) {
		req.notify |= XGNTD_NOTIFY_SEND_EVENT;
		req.notify_port = notify_port;
	}
	pages = malloc((size_t)count * sizeof(*pages));
	mfns = malloc((size_t)count * sizeof(*mfns));
	m = calloc(1, sizeof(*m));
	if (!pages || !mfns || !m) {
		rc = -ENOMEM;
		goto out;
	}
	rc = xgntc_call(&xgs->c, XGNTD_GNTALLOC_SHARE, &req, sizeof(req), pages,
			(size_t)count * sizeof(*pages), &got);
	if (rc < 0)
		goto out;
	if (got != (size_t)count * sizeof(*pages)) {
		rc = -EPROTO;
		goto out;
	}
	m->id = (uint32_t)rc;
	m->count = (uint32_t)count;
	for (i = 0; i < count; i++)
		mfns[i] = pages[i].mfn;
	m->first_mfn = mfns[0];
	addr = place(xgs->memfd, mfns, (uint32_t)count, PROT_READ | PROT_WRITE);
	if (addr == MAP_FAILED) {
		struct xgntd_unshare us = { .id = m->id };

		rc = -errno;
		addr = NULL;
		xgntc_call(&xgs->c, XGNTD_GNTALLOC_UNSHARE, &us, sizeof(us), NULL, 0, NULL);
		goto out;
	}
	for (i = 0; i < count; i++)
		refs[i] = pages[i].ref;
	m->addr = addr;
	track(xgs, m);
	m = NULL;
	rc = 0;
out:
	free(pages);
	free(mfns);
	free(m);
	if (rc) {
		errno = (int)-rc;
		return NULL;
	}
	return addr;
}

API void *xengntshr_share_pages(xengntshr_handle *xgs, uint32_t domid, int count,
				uint32_t *refs, int writable)
{
	return share(xgs, domid, count, refs, writable, (uint32_t)-1, (uint32_t)-1);
}

API void *xengntshr_share_page_notify(xengntshr_handle *xgs, uint32_t domid, uint32_t *ref,
				      int writable, uint32_t notify_offset,
				      evtchn_port_t notify_port)
{
	return share(xgs, domid, 1, ref, writable, notify_offset, notify_port);
}

/* Linux: just munmap(); the pages' grants end once the peer unmapped. */
API int xengntshr_unshare(xengntshr_handle *xgs, void *start_address, uint32_t count)
{
	struct xmap *m = untrack(xgs, start_address, true);
	int rc = munmap(start_address, (size_t)count * PAGE);

	if (m && m->count == count && !rc) {
		struct xgntd_unshare us = { .id = m->id };

		xgntc_call(&xgs->c, XGNTD_GNTALLOC_UNSHARE, &us, sizeof(us), NULL, 0, NULL);
		free(m);
	} else if (m) {
		track(xgs, m);   /* partly unmapped: released with the handle */
	}
	return rc;
}
