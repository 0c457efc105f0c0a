/* SPDX-License-Identifier: MIT */
/* What the fuzz harnesses share; see fuzz.h. */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/event.h"
#include "hv/gnttab.h"
#include "plat/plat.h"

/* ---- the input ------------------------------------------------------------ */

uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

uint16_t fz_u16(struct fz_in *in)
{
	/* One read per statement: the order must not depend on the compiler,
	 * or a corpus would mean other things to gcc and clang builds. */
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | fz_u8(in) << 8);
}

uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);

	return lo | (uint32_t)fz_u16(in) << 16;
}

uint64_t fz_u64(struct fz_in *in)
{
	uint64_t lo = fz_u32(in);

	return lo | (uint64_t)fz_u32(in) << 32;
}

unsigned int fz_below(struct fz_in *in, unsigned int n)
{
	return n <= 256 ? fz_u8(in) % n : fz_u16(in) % n;
}

/* ---- failures and tracing -------------------------------------------------------------- */

void fz_trace(const char *fmt, ...)
{
	static int on = -1;
	va_list ap;

	if (on < 0)
		on = getenv("XGNT_FUZZ_TRACE") != NULL;
	if (!on)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void fz_die(const char *fmt, ...)
{
	va_list ap;

	fputs("xgnt fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---- the machine -------------------------------------------------------------- */

void fz_machine_create(struct fz_machine *fm, uint32_t max_maptrack_frames)
{
	struct xgnt_machine_config c = {
		.nr_frames = 1024,
		.max_grant_frames = 4,
		.max_maptrack_frames = max_maptrack_frames,
		.nr_iomem_frames = 4,
	};

	memset(fm, 0, sizeof(*fm));
	fm->allocs_at_start = plat_live_allocs();
	fm->m = xgnt_machine_create(&c);
	if (!fm->m)
		fz_die("cannot create a machine");
	fm->free_at_start = xgnt_machine_free_frames(fm->m);
}

struct fz_dom *fz_domain_add(struct fz_machine *fm, enum xgnt_domain_type type, bool privileged,
			     unsigned int max_grant_frames, unsigned int nr_vcpus,
			     uint32_t max_evtchn_port)
{
	struct fz_dom *fd = &fm->dom[fm->nr];
	struct xgnt_domain_config c = {
		.domid = (domid_t)fm->nr,
		.type = type,
		.ram_frames = FZ_RAM_FRAMES,
		.ext_frames = FZ_EXT_FRAMES,
		.nr_vcpus = nr_vcpus,
		.max_grant_frames = max_grant_frames,
		.privileged = privileged,
		.max_evtchn_port = max_evtchn_port,
	};

	if (fm->nr >= FZ_MAX_DOMS)
		fz_die("too many domains");
	fd->d = xgnt_domain_create(fm->m, &c);
	if (!fd->d)
		fz_die("cannot create domain %u", fm->nr);
	fd->id = c.domid;
	fd->type = type;
	fd->privileged = privileged;
	fd->nr_vcpus = nr_vcpus ? nr_vcpus : 1;
	fd->alive = true;
	fm->nr++;
	return fd;
}

static int destroy_one(struct xgnt_domain *d, void *arg)
{
	int rc = xgnt_domain_destroy(d);

	(void)arg;
	if (rc)
		fz_die("destroying d%u: %d", xgnt_domain_id(d), rc);
	return 0;
}

static int count_one(struct xgnt_domain *d, void *arg)
{
	(void)d;
	(*(unsigned int *)arg)++;
	return 0;
}

void fz_machine_finish(struct fz_machine *fm)
{
	unsigned int left = 0;
	uint32_t free_frames;

	fz_check(fm, "the last step");
	xgnt_machine_walk_domains(fm->m, destroy_one, NULL);
	fm->hostile = true;   /* nothing is pinned now; status bits are moot */
	fz_check(fm, "destroying every domain");
	xgnt_machine_walk_domains(fm->m, count_one, &left);
	if (left)
		fz_die("%u domain(s) left after destroying every domain", left);
	free_frames = xgnt_machine_free_frames(fm->m);
	if (free_frames != fm->free_at_start)
		fz_die("leaked frames: %u free at start, %u after destroying every domain",
		       fm->free_at_start, free_frames);
	xgnt_machine_destroy(fm->m);
	if (plat_live_allocs() != fm->allocs_at_start)
		fz_die("leaked allocations: %ld live at start, %ld after destroy",
		       fm->allocs_at_start, plat_live_allocs());
}

/* ---- event-channel bindings ------------------------------------------------ */

struct ev_ctx {
	char why[256];
	bool bad;
};

static void ev_fail(struct ev_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ev_fail(struct ev_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad)
		return;
	c->bad = true;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/*
 * At a quiescent point: every interdomain port's peer names it back, each
 * bound VIRQ's table entry names its port and vice versa, notify vCPUs
 * exist, and the open-port count matches the ports in use.
 */
static int check_events_one(struct xgnt_domain *d, void *arg)
{
	struct ev_ctx *c = arg;
	struct evtchn_domain *ed = d->ev;
	uint32_t port, open = 0, valid, i, virq;

	if (!ed)
		return 0;
	valid = atomic_load(&ed->valid_evtchns);
	for (port = 0; port < valid; port++) {
		struct evtchn *chn = evtchn_from_port(ed, port);

		if (chn->port != port)
			ev_fail(c, "d%u port %u: struct says port %u", d->id, port, chn->port);
		if (port == 0 && chn->state != ECS_RESERVED)
			ev_fail(c, "d%u port 0 in state %u", d->id, chn->state);
		if (chn->state <= ECS_RESERVED)
			continue;
		open++;
		if (notify_vcpu(chn) >= d->nr_vcpus)
			ev_fail(c, "d%u port %u notifies vCPU %u of %u", d->id, port,
				notify_vcpu(chn), d->nr_vcpus);
		if (chn->state == ECS_INTERDOMAIN) {
			struct xgnt_domain *rd = chn->u.interdomain.remote_dom;
			uint32_t rp = chn->u.interdomain.remote_port;
			struct evtchn *rchn;

			if (!rd || !rd->ev || !port_is_valid(rd->ev, rp)) {
				ev_fail(c, "d%u port %u bound to a missing peer", d->id, port);
				continue;
			}
			rchn = evtchn_from_port(rd->ev, rp);
			if (rchn->state != ECS_INTERDOMAIN || rchn->u.interdomain.remote_dom != d ||
			    rchn->u.interdomain.remote_port != port)
				ev_fail(c, "d%u port %u -> d%u port %u, which does not point back",
					d->id, port, rd->id, rp);
		} else if (chn->state == ECS_VIRQ) {
			virq = chn->u.virq;
			if (virq >= NR_VIRQS ||
			    d->vcpus[notify_vcpu(chn)].ev->virq_to_evtchn[virq] != port)
				ev_fail(c, "d%u port %u: VIRQ %u not bound to it", d->id, port, virq);
		}
	}
	if (open != ed->active_evtchns)
		ev_fail(c, "d%u: %u ports open, active count %u", d->id, open, ed->active_evtchns);
	for (i = 0; i < d->nr_vcpus; i++) {
		for (virq = 0; virq < NR_VIRQS; virq++) {
			port = d->vcpus[i].ev->virq_to_evtchn[virq];
			if (!port)
				continue;
			if (!port_is_valid(ed, port) ||
			    evtchn_from_port(ed, port)->state != ECS_VIRQ ||
			    evtchn_from_port(ed, port)->u.virq != virq)
				ev_fail(c, "d%u vCPU %u VIRQ %u -> port %u, not that VIRQ", d->id, i,
					virq, port);
		}
	}
	return 0;
}

void fz_check(struct fz_machine *fm, const char *after)
{
	char why[512];
	struct ev_ctx ec = { .bad = false };

	fm->steps++;
	if (xgnt_machine_check(fm->m, fm->hostile ? 0 : XGNT_CHECK_GTF, why, sizeof(why)))
		fz_die("invariant broken after %s (step %lu): %s", after, fm->steps, why);
	xgnt_machine_walk_domains(fm->m, check_events_one, &ec);
	if (ec.bad)
		fz_die("event channels broken after %s (step %lu): %s", after, fm->steps, ec.why);
}

/* ---- a domain's addresses and frames -------------------------------------------- */

uint64_t fz_ext_addr(struct fz_dom *fd, unsigned int page)
{
	struct xgnt_domain_layout l;

	xgnt_domain_layout(fd->d, &l);
	return l.ext_base + ((uint64_t)page << 12);
}

uint64_t fz_ram_frame(struct fz_dom *fd, unsigned int i)
{
	xen_pfn_t mfn = xgnt_domain_pfn_to_mfn(fd->d, i);

	return mfn == INVALID_MFN ? i : mfn;
}

/* ---- guest writes -------------------------------------------------------------- */

unsigned int fz_gt_version(struct fz_dom *fd)
{
	return fd->d->gt->version;
}

unsigned int fz_gt_nr_entries(struct fz_dom *fd)
{
	return nr_grant_entries(fd->d->gt);
}

bool fz_guest_grant(struct fz_dom *fd, grant_ref_t ref, domid_t to, uint64_t frame,
		    uint16_t flags, uint16_t sub_off, uint16_t sub_len)
{
	struct grant_table *gt = fd->d->gt;
	bool done = false;

	plat_read_lock(&gt->lock);
	if (ref >= nr_grant_entries(gt))
		goto out;
	if (gt->version == 1) {
		grant_entry_v1_t *e = shared_entry_v1(gt, ref);

		if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE))
			goto out;
		e->frame = (uint32_t)frame;
		e->domid = to;
		__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
	} else {
		grant_entry_v2_t *e = shared_entry_v2(gt, ref);

		/* A free v2 entry: no type, and the status word clear. */
		if (__atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(status_word(gt, ref), __ATOMIC_ACQUIRE))
			goto out;
		if (flags & GTF_sub_page) {
			e->sub_page.frame = frame;
			e->sub_page.page_off = sub_off;
			e->sub_page.length = sub_len;
		} else if ((flags & GTF_type_mask) == GTF_transitive) {
			e->transitive.trans_domid = (domid_t)frame;
			e->transitive.gref = (grant_ref_t)(frame >> 16);
		} else {
			e->full_page.frame = frame;
		}
		e->hdr.domid = to;
		__atomic_store_n(&e->hdr.flags, flags, __ATOMIC_RELEASE);
	}
	done = true;
out:
	plat_read_unlock(&gt->lock);
	return done;
}

bool fz_guest_end(struct fz_dom *fd, grant_ref_t ref)
{
	struct grant_table *gt = fd->d->gt;
	bool done = false;

	plat_read_lock(&gt->lock);
	if (ref >= nr_grant_entries(gt))
		goto out;
	if (gt->version == 1) {
		uint16_t *f = &shared_entry_v1(gt, ref)->flags;
		uint16_t old = __atomic_load_n(f, __ATOMIC_ACQUIRE);

		/* An accept-transfer entry shares the bits with committed /
		 * completed: a guest ends it only when nothing is under way. */
		if (!(old & (GTF_reading | GTF_writing)))
			done = __atomic_compare_exchange_n(f, &old, 0, false, __ATOMIC_SEQ_CST,
							   __ATOMIC_SEQ_CST);
	} else {
		/* v2 (Linux's gnttab_end_foreign_access_ref_v2): clear the
		 * flags, a full barrier, then look at the status word (both
		 * sequentially consistent: the store is ordered before the load,
		 * with no fence, which ThreadSanitizer builds refuse). */
		uint16_t *f = &shared_entry_v2(gt, ref)->hdr.flags;

		__atomic_store_n(f, 0, __ATOMIC_SEQ_CST);
		done = !(__atomic_load_n(status_word(gt, ref), __ATOMIC_ACQUIRE) &
			 (GTF_reading | GTF_writing));
	}
out:
	plat_read_unlock(&gt->lock);
	return done;
}

void fz_guest_scribble_entry(struct fz_machine *fm, struct fz_dom *fd, grant_ref_t ref,
			     unsigned int off, unsigned int width, uint64_t val)
{
	struct grant_table *gt = fd->d->gt;
	unsigned int size;
	uint8_t *e;

	plat_read_lock(&gt->lock);
	if (ref >= nr_grant_entries(gt))
		goto out;
	if (gt->version == 1) {
		e = (uint8_t *)shared_entry_v1(gt, ref);
		size = sizeof(grant_entry_v1_t);
	} else {
		e = (uint8_t *)shared_entry_v2(gt, ref);
		size = sizeof(grant_entry_v2_t);
	}
	width = width >= 8 ? 8 : width >= 4 ? 4 : width >= 2 ? 2 : 1;
	off = (off % size) & ~(width - 1);
	switch (width) {
	case 1:
		__atomic_store_n(e + off, (uint8_t)val, __ATOMIC_RELAXED);
		break;
	case 2:
		__atomic_store_n((uint16_t *)(void *)(e + off), (uint16_t)val, __ATOMIC_RELAXED);
		break;
	case 4:
		__atomic_store_n((uint32_t *)(void *)(e + off), (uint32_t)val, __ATOMIC_RELAXED);
		break;
	default:
		__atomic_store_n((uint64_t *)(void *)(e + off), val, __ATOMIC_RELAXED);
		break;
	}
	fm->hostile = true;
out:
	plat_read_unlock(&gt->lock);
}

void fz_guest_scribble_event(struct fz_dom *fd, unsigned int what, unsigned int idx,
			     uint32_t val)
{
	struct xgnt_domain *d = fd->d;
	shared_info_t *s = domain_shared_info(d);
	struct evtchn_domain *ed = d->ev;
	unsigned int nw = (unsigned int)(sizeof(s->evtchn_pending) / (sizeof(uint32_t)));

	switch (what % 6) {
	case 0:   /* a 32-bit half of a pending word */
		__atomic_store_n((uint32_t *)(void *)s->evtchn_pending + idx % nw, val,
				 __ATOMIC_SEQ_CST);
		break;
	case 1:
		__atomic_store_n((uint32_t *)(void *)s->evtchn_mask + idx % nw, val,
				 __ATOMIC_SEQ_CST);
		break;
	case 2: { /* the vCPU's vcpu_info, wherever it lives now */
		vcpu_info_t *vi = vcpu_info(&d->vcpus[idx % d->nr_vcpus]);

		if (val & 0x100)
			__atomic_store_n(&vi->evtchn_upcall_pending, (uint8_t)val,
					 __ATOMIC_SEQ_CST);
		else if (val & 0x200)
			__atomic_store_n(&vi->evtchn_upcall_mask, (uint8_t)val, __ATOMIC_SEQ_CST);
		else
			__atomic_store_n(&vi->evtchn_pending_sel, (xen_ulong_t)val,
					 __ATOMIC_SEQ_CST);
		break;
	}
	case 3:   /* a FIFO event word */
	case 4: { /* a FIFO control block: a queue head or ready */
		plat_read_lock(&ed->event_lock);
		if (ed->fifo && what % 6 == 3) {
			uint32_t n = atomic_load(&ed->fifo->num_evtchns);

			if (n)
				__atomic_store_n(ed->fifo->event_array[(idx % n) /
								     EVTCHN_FIFO_WORDS_PER_PAGE] +
							 (idx % n) % EVTCHN_FIFO_WORDS_PER_PAGE,
						 val, __ATOMIC_SEQ_CST);
		} else if (ed->fifo && ed->fifo_vcpu) {
			struct evtchn_fifo_vcpu *fv = ed->fifo_vcpu[idx % d->nr_vcpus];
			evtchn_fifo_control_block_t *cb = fv ? fv->control_block : NULL;

			if (cb && (idx >> 8) % 2)
				__atomic_store_n(&cb->ready, val, __ATOMIC_SEQ_CST);
			else if (cb)
				__atomic_store_n(&cb->head[(idx >> 4) % EVTCHN_FIFO_MAX_QUEUES], val,
						 __ATOMIC_SEQ_CST);
		}
		plat_read_unlock(&ed->event_lock);
		break;
	}
	default:  /* flip one pending bit's neighbour words at once: clear all */
		memset(s->evtchn_pending, (int)(val & 0xff), sizeof(s->evtchn_pending));
		break;
	}
}
