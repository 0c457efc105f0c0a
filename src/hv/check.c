/* SPDX-License-Identifier: MIT */
/*
 * The invariant checker: what must hold at any quiescent point (no
 * hypercall in flight), whatever the guests wrote into shared memory.
 *
 *  1. Each active entry's four pin counters equal the live maptrack
 *     entries (host/device, read-only/writable) that name it.
 *  2. (XGNT_CHECK_GTF) An entry shows GTF_reading exactly while pinned and
 *     GTF_writing exactly while pinned writable. Guests can write these
 *     words, so this holds only for guests that leave them alone.
 *  3. Every grant slot in a window is backed by a host mapping of exactly
 *     that frame, and every host mapping by exactly one slot.
 *  4. Every other slot shows a frame its domain owns (no reachable frame is
 *     neither the domain's own nor pinned for it).
 *  5. Every frame's reference count equals what refers to it: PGC_allocated,
 *     slots, device mappings, and the owning structure of Xen-heap frames;
 *     free frames are unowned and not referenced.
 */
#include "event.h"
#include "gnttab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct ctx {
	struct xgnt_machine *m;
	struct xgnt_domain *doms[DOMID_FIRST_RESERVED];
	unsigned int nr;
	uint32_t *refs;    /* expected references per frame */
	char *buf;
	size_t len;
	unsigned int flags;
	int bad;
};

static void fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad++ || !c->buf || !c->len)
		return;
	va_start(ap, fmt);
	vsnprintf(c->buf, c->len, fmt, ap);
	va_end(ap);
}

static struct xgnt_domain *find(struct ctx *c, domid_t id)
{
	unsigned int i;

	for (i = 0; i < c->nr; i++)
		if (c->doms[i]->id == id)
			return c->doms[i];
	return NULL;
}

static void check_pins(struct ctx *c, struct xgnt_domain *rd)
{
	struct grant_table *rgt = rd->gt;
	unsigned int n = nr_grant_entries(rgt), ref, i;
	uint32_t *want = calloc(n ? n : 1, sizeof(*want));

	if (!want) {
		fail(c, "out of memory");
		return;
	}
	/* Pins every mapper's maptrack accounts for. */
	for (i = 0; i < c->nr; i++) {
		struct grant_table *lgt = c->doms[i]->gt;
		uint32_t limit = atomic_load(&lgt->maptrack_limit), h;

		for (h = 0; h < limit; h++) {
			struct grant_mapping *mt = maptrack_entry(lgt, h);
			uint32_t f = atomic_load(&mt->flags);
			bool ro = f & GNTMAP_readonly;

			if (!f || MT_GET(mt, domid) != rd->id)
				continue;
			if (MT_GET(mt, ref) >= n) {
				fail(c, "d%u handle %u names ref %u beyond d%u's table", c->doms[i]->id,
				     h, MT_GET(mt, ref), rd->id);
				continue;
			}
			if (f & GNTMAP_host_map)
				want[MT_GET(mt, ref)] += ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
			if (f & GNTMAP_device_map)
				want[MT_GET(mt, ref)] += ro ? GNTPIN_devr_inc : GNTPIN_devw_inc;
		}
	}
	for (ref = 0; ref < n; ref++) {
		struct active_grant_entry *act = active_entry(rgt, ref);
		uint16_t st = __atomic_load_n(status_word(rgt, ref), __ATOMIC_ACQUIRE);
		bool w = act->pin & (GNTPIN_hstw_mask | GNTPIN_devw_mask);

		/* In a v1 accept-transfer entry the same bits mean committed and
		 * completed. */
		if (rgt->version == 1 && !act->pin &&
		    (__atomic_load_n(shared_flags(rgt, ref), __ATOMIC_ACQUIRE) & GTF_type_mask) ==
			    GTF_accept_transfer)
			st = 0;

		/* Xen's set_version carries a reserved entry (ref < 8) across
		 * the switch only if it is a permit_access entry: one the guest
		 * had already ended (v2 clears the flags before it looks at the
		 * status) but that is still mapped comes out all zero, its pin
		 * without GTF_reading/writing. Xen does the same; it is the
		 * guest's own entry. */
		if (act->pin && ref < GNTTAB_NR_RESERVED && rgt->version == 1 &&
		    !(st & (GTF_reading | GTF_writing)) &&
		    (__atomic_load_n(shared_flags(rgt, ref), __ATOMIC_ACQUIRE) & GTF_type_mask) ==
			    GTF_invalid)
			st = (uint16_t)(GTF_reading | (w ? GTF_writing : 0));

		if (act->pin != want[ref])
			fail(c, "d%u ref %u: pin %#x but maptrack accounts for %#x", rd->id, ref,
			     act->pin, want[ref]);
		if ((c->flags & XGNT_CHECK_GTF) &&
		    (!!(st & GTF_reading) != !!act->pin || !!(st & GTF_writing) != w))
			fail(c, "d%u ref %u: GTF_reading/writing %#x with pin %#x", rd->id, ref,
			     st & (GTF_reading | GTF_writing), act->pin);
		if (act->pin && !mfn_valid(c->m, act->mfn))
			fail(c, "d%u ref %u: pinned with invalid mfn", rd->id, ref);
	}
	free(want);
}

/* Host mappings of d, checked against its window; frame references. */
static void check_window(struct ctx *c, struct xgnt_domain *d)
{
	struct grant_table *lgt = d->gt;
	uint32_t limit = atomic_load(&lgt->maptrack_limit), h;
	uint64_t gfn, hosts = 0, slots = 0;

	for (h = 0; h < limit; h++) {
		struct grant_mapping *mt = maptrack_entry(lgt, h);
		uint32_t f = atomic_load(&mt->flags);
		struct xgnt_domain *rd;
		uint64_t mfn;

		if (!f)
			continue;
		rd = find(c, MT_GET(mt, domid));
		if (!rd || MT_GET(mt, ref) >= nr_grant_entries(rd->gt)) {
			fail(c, "d%u handle %u: granter d%u or ref %u gone", d->id, h, MT_GET(mt, domid),
			     MT_GET(mt, ref));
			continue;
		}
		mfn = active_entry(rd->gt, MT_GET(mt, ref))->mfn;
		hosts += !!(f & GNTMAP_host_map);
		if ((f & GNTMAP_device_map) && !mfn_is_iomem(c->m, mfn))
			c->refs[mfn]++;
	}
	for (gfn = 0; gfn < d->nr_slots; gfn++) {
		struct p2m_entry e = d->p2m[gfn];
		struct page_info *pg;

		if (e.type == P2M_EMPTY)
			continue;
		if (!mfn_valid(c->m, e.mfn)) {
			fail(c, "d%u gfn %#llx shows invalid mfn %#x", d->id, (unsigned long long)gfn,
			     e.mfn);
			continue;
		}
		pg = mfn_to_page(c->m, e.mfn);
		if (p2m_is_grant(e.type)) {
			slots++;
		} else if (mfn_is_iomem(c->m, e.mfn)) {
			if (!d->privileged)
				fail(c, "d%u gfn %#llx shows I/O memory", d->id,
				     (unsigned long long)gfn);
		} else if (atomic_load(&pg->owner) != d) {
			fail(c, "d%u gfn %#llx shows mfn %#x it does not own", d->id,
			     (unsigned long long)gfn, e.mfn);
		}
		if (!mfn_is_iomem(c->m, e.mfn))
			c->refs[e.mfn]++;
	}
	if (hosts != slots)
		fail(c, "d%u: %llu host mappings but %llu grant slots", d->id,
		     (unsigned long long)hosts, (unsigned long long)slots);
}

/* Guest pages the hypervisor keeps for event delivery hold references:
 * registered vcpu_info pages, FIFO control blocks and event arrays. */
static void count_event_pages(struct ctx *c, struct xgnt_domain *d)
{
	struct evtchn_domain *ed = d->ev;
	unsigned int i, n;

	if (!ed)
		return;
	plat_read_lock(&ed->event_lock);
	for (i = 0; i < d->nr_vcpus; i++) {
		struct evtchn_vcpu *ev = d->vcpus[i].ev;

		if (ev && ev->vcpu_info_mfn != INVALID_MFN)
			c->refs[ev->vcpu_info_mfn]++;
		if (ed->fifo_vcpu && ed->fifo_vcpu[i] && ed->fifo_vcpu[i]->control_block)
			c->refs[ed->fifo_vcpu[i]->control_mfn]++;
	}
	if (ed->fifo) {
		n = atomic_load(&ed->fifo->num_evtchns) / EVTCHN_FIFO_WORDS_PER_PAGE;
		for (i = 0; i < n; i++)
			c->refs[ed->fifo->array_mfn[i]]++;
	}
	plat_read_unlock(&ed->event_lock);
}

static void check_frames(struct ctx *c)
{
	struct xgnt_machine *m = c->m;
	uint64_t mfn;

	for (mfn = 0; mfn < m->nr_frames; mfn++) {
		struct page_info *pg = mfn_to_page(m, mfn);
		uint32_t ci = atomic_load(&pg->count_info);
		uint8_t kind = atomic_load(&pg->kind);
		uint32_t want = c->refs[mfn];

		if (kind == PGK_FREE) {
			if (ci || atomic_load(&pg->owner) || want)
				fail(c, "free mfn %#llx: count %#x, %u references",
				     (unsigned long long)mfn, ci, want);
			continue;
		}
		if (kind == PGK_XENHEAP)
			want++;
		if (ci & PGC_allocated)
			want++;
		if ((ci & PGC_count_mask) != want)
			fail(c, "mfn %#llx (kind %u, owner d%d): count %u, expected %u",
			     (unsigned long long)mfn, kind,
			     atomic_load(&pg->owner) ? atomic_load(&pg->owner)->id : -1,
			     ci & PGC_count_mask, want);
	}
}

int xgnt_machine_check(struct xgnt_machine *m, unsigned int flags, char *buf, size_t len)
{
	struct ctx c = { .m = m, .buf = buf, .len = len, .flags = flags };
	struct xgnt_domain *d;
	unsigned int id, i;

	if (!m)
		return -EINVAL;
	if (buf && len)
		buf[0] = '\0';
	c.refs = calloc((size_t)m->nr_frames + m->nr_iomem_frames, sizeof(*c.refs));
	if (!c.refs)
		return -ENOMEM;
	/* Hold every domain (zombies included), then every table: a
	 * snapshot. No domain-table lock is held while tables are locked. */
	id = 0;
	while ((d = dom_lookup_next(m, &id)))
		c.doms[c.nr++] = d;
	/* Event locks come before window locks (init_control maps guest
	 * pages under event_lock): count event pages first, on their own. */
	for (i = 0; i < c.nr; i++)
		count_event_pages(&c, c.doms[i]);
	/* Every table lock before any p2m lock: the documented order. */
	for (i = 0; i < c.nr; i++)
		plat_write_lock(&c.doms[i]->gt->lock);
	for (i = 0; i < c.nr; i++)
		plat_mutex_lock(&c.doms[i]->p2m_lock);
	for (i = 0; i < c.nr; i++)
		check_pins(&c, c.doms[i]);
	for (i = 0; i < c.nr; i++)
		check_window(&c, c.doms[i]);
	check_frames(&c);
	for (i = c.nr; i-- > 0;)
		plat_mutex_unlock(&c.doms[i]->p2m_lock);
	for (i = c.nr; i-- > 0;)
		plat_write_unlock(&c.doms[i]->gt->lock);
	for (i = 0; i < c.nr; i++)
		put_domain(c.doms[i]);
	free(c.refs);
	return c.bad ? -EUCLEAN : 0;
}
