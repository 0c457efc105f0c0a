/* SPDX-License-Identifier: MIT */
/* Steps on grant tables, memory and a second domain (see README.md). */
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- grant-table steps ------------------------------------------------------ */

static void st_grant(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_REF);
	grant_ref_t ref;
	void *page;
	uint16_t f;
	domid_t d;
	int rc = be->grant_alloc((domid_t)getnum(a, "to", 0), has_word(a, "ro"), &ref, &page);

	if (rc) {
		out(" %s err%s", s->name, errname(rc));
		return;
	}
	s->val = ref;
	s->page = page;
	s->live = true;
	rc = be->entry(ref, &f, &d, &s->frame);
	out(" %s ok", s->name);
	if (rc)
		out(" entry=err%s", errname(rc));
	else {
		out(" flags=");
		out_flags(f);
		out(" domid=%u", d);
	}
}

static void st_ungrant(const struct args *a)
{
	struct sym *s = getsym(a, "ref", K_REF);
	int rc;

	if (!s)
		die("ungrant ref=$r");
	rc = be->grant_free((grant_ref_t)s->val, s->page);
	s->live = false;
	out(" rc=%s", errname(rc));
	touch(s);
}

static void st_entry(const struct args *a)
{
	struct sym *s = getsym(a, "ref", K_REF);
	uint16_t f;
	domid_t d;
	uint64_t fr;
	int rc;

	if (!s)
		die("entry ref=$r");
	rc = s->kind == K_XREF ? be->dom_entry(s->dom, (grant_ref_t)s->val, &f, &d, &fr) :
				 be->entry((grant_ref_t)s->val, &f, &d, &fr);
	if (rc) {
		out(" err%s", errname(rc));
		return;
	}
	out(" flags=");
	out_flags(f);
	out(" domid=%u frame=%s", d, fr == s->frame ? "same" : "changed");
}

static void st_fill(const struct args *a)
{
	struct sym *s = getsym(a, "ref", K_REF);
	unsigned int seed = (unsigned int)getnum(a, "seed", 1);

	if (!s || !s->page)
		die("fill ref=$r");
	for (unsigned int i = 0; i < 4096; i++)
		((uint8_t *)s->page)[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
	out(" ok");
}

static void st_peek(const struct args *a)
{
	struct sym *s = getsym(a, "ref", K_REF);
	unsigned int off = (unsigned int)getnum(a, "off", 0);
	unsigned int len = (unsigned int)getnum(a, "len", 4096);
	uint32_t h = 2166136261u;

	if (!s || !s->page || off + len > 4096)
		die("peek ref=$r off= len=");
	for (unsigned int i = off; i < off + len; i++)
		h = (h ^ ((uint8_t *)s->page)[i]) * 16777619u;
	out(" fnv=%08x", h);
}

/* ---- a second domain ------------------------------------------------------- */

static void st_dom_create(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_DOM);
	int rc;

	s->val = getnum(a, "id", 0);
	rc = be->dom_create((domid_t)s->val, (unsigned int)getnum(a, "pages", 4));
	out(" rc=%s", errname(rc));
	s->live = rc == 0;
}

static void st_dom_destroy(const struct args *a)
{
	struct sym *s = getsym(a, "dom", K_DOM);

	if (!s || !s->live)
		die("dom_destroy dom=$d (live)");
	out(" rc=%s", errname(be->dom_destroy((domid_t)s->val)));
	s->live = false;
}

/* "dom_grant $x dom=$d ref=N page=P [to=0] [ro] [flags=GTF] [frame=$r|N]" */
static void st_dom_grant(const struct args *a)
{
	struct sym *d = getsym(a, "dom", K_DOM);
	struct sym *s = sym_new(defname(a), K_XREF);
	int rc;

	if (!d)
		die("dom_grant dom=$d");
	s->dom = (domid_t)d->val;
	s->val = getnum(a, "ref", 8);
	/* frame=$r: the frame another grant names (not this domain's) */
	s->frame = ~(uint64_t)0;
	if (get(a, "frame")) {
		struct sym *f = getsym(a, "frame", K_REF);

		s->frame = f ? f->frame : getnum(a, "frame", 0);
	}
	rc = be->dom_grant(s->dom, (grant_ref_t)s->val, (unsigned int)getnum(a, "page", 0),
			   (domid_t)getnum(a, "to", 0), has_word(a, "ro"),
			   (uint16_t)getnum(a, "flags", 0), &s->frame, &s->page);
	out(" rc=%s", errname(rc));
	touch(s);
}

static void st_dom_ungrant(const struct args *a)
{
	struct sym *s = getsym(a, "ref", K_REF);

	if (!s || s->kind != K_XREF)
		die("dom_ungrant ref=$x");
	out(" rc=%s", errname(be->dom_ungrant(s->dom, (grant_ref_t)s->val)));
	touch(s);
}

static void st_query_size(const struct args *a)
{
	struct gnttab_query_size *q = hb(0);
	long rc;

	q->dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	rc = be->grant_table_op(GNTTABOP_query_size, q, (unsigned int)getnum(a, "count", 1));
	out(" ret=%s", errname(rc));
	if (q->status == (int16_t)SENT16)
		out(" st=untouched");
	else
		out(" st=%s", stname(q->status));
	if (q->nr_frames == SENT32)
		out(" nr_frames=untouched");
	else
		out(" nr_frames=%u", q->nr_frames);
	if (q->max_nr_frames == SENT32)
		out(" max=untouched");
	else
		out(" max=%u", q->max_nr_frames);
}

static void out_frames(const uint64_t *f, unsigned int n, size_t size)
{
	unsigned int w = 0;

	for (unsigned int i = 0; i < n && i < 64; i++) {
		uint64_t v = size == 8 ? f[i] : ((const uint32_t *)f)[i];

		if (v != (size == 8 ? SENT64 : SENT32))
			w++;
	}
	out(" frames_written=%u", w);
}

static void st_setup_table(const struct args *a)
{
	struct gnttab_setup_table *st = hb(0);
	xen_pfn_t *frames = hb(1);
	long rc;

	st->dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	st->nr_frames = (uint32_t)getnum(a, "nr", 1);
	set_xen_guest_handle(st->frame_list, frames);
	rc = be->grant_table_op(GNTTABOP_setup_table, st, (unsigned int)getnum(a, "count", 1));
	out(" ret=%s st=%s", errname(rc),
	    st->status == (int16_t)SENT16 ? "untouched" : stname(st->status));
	out_frames(frames, st->nr_frames, sizeof(xen_pfn_t));
}

static void st_get_status_frames(const struct args *a)
{
	struct gnttab_get_status_frames *gs = hb(0);
	uint64_t *frames = hb(1);
	long rc;

	gs->dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	gs->nr_frames = (uint32_t)getnum(a, "nr", 1);
	set_xen_guest_handle(gs->frame_list, frames);
	rc = be->grant_table_op(GNTTABOP_get_status_frames, gs, 1);
	out(" ret=%s st=%s", errname(rc),
	    gs->status == (int16_t)SENT16 ? "untouched" : stname(gs->status));
	out_frames(frames, gs->nr_frames, 8);
}

static void st_get_version(const struct args *a)
{
	struct gnttab_get_version *gv = hb(0);
	long rc;

	gv->dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	rc = be->grant_table_op(GNTTABOP_get_version, gv, (unsigned int)getnum(a, "count", 1));
	out(" ret=%s", errname(rc));
	if (gv->version == SENT32)
		out(" version=untouched");
	else
		out(" version=%u", gv->version);
}

static void st_set_version(const struct args *a)
{
	struct gnttab_set_version *sv = hb(0);
	long rc;

	sv->version = (uint32_t)getnum(a, "v", 1);
	rc = be->grant_table_op(GNTTABOP_set_version, sv, (unsigned int)getnum(a, "count", 1));
	out(" ret=%s version=%u", errname(rc), sv->version);
}

/* "map ref=$r dom=0 flags=dev,ro handle=$h ; ref=..." batches. */
static void st_map(struct args *ops, int n)
{
	struct gnttab_map_grant_ref *m = hb(0);
	struct sym *hs[MAX_BATCH] = { 0 };
	long rc;

	for (int i = 0; i < n; i++) {
		const char *h = get(&ops[i], "handle");

		m[i].host_addr = getnum(&ops[i], "host", 0);
		m[i].flags = mapflags(get(&ops[i], "flags"));
		m[i].ref = refarg(&ops[i], "ref");
		m[i].dom = (domid_t)getnum(&ops[i], "dom", 0);
		if (h)
			hs[i] = sym_new(h, K_HANDLE);
	}
	rc = be->grant_table_op(GNTTABOP_map_grant_ref, m, (unsigned int)n);
	out(" ret=%s", errname(rc));
	for (int i = 0; i < n; i++) {
		struct sym *r = sym_find(get(&ops[i], "ref") ? get(&ops[i], "ref") : "");

		out(" [st=%s", m[i].status == (int16_t)SENT16 ? "untouched" : stname(m[i].status));
		if (m[i].handle == SENT32)
			out(" handle=untouched");
		else if (m[i].status == GNTST_okay)
			out(" handle=%s", hs[i] ? hs[i]->name : "new");
		else
			out(" handle=written");
		if (m[i].dev_bus_addr == SENT64)
			out(" dev=untouched");
		else if (m[i].dev_bus_addr == 0)
			out(" dev=0");
		else if (r && (r->kind == K_REF || r->kind == K_XREF) &&
			 m[i].dev_bus_addr == r->frame << 12)
			out(" dev=frame(%s)", r->name);
		else
			out(" dev=other");
		out("]");
		if (hs[i] && m[i].status == GNTST_okay) {
			hs[i]->val = m[i].handle;
			hs[i]->frame = m[i].dev_bus_addr;
			hs[i]->live = true;
		}
	}
}

/* "map_many ref= dom= flags= n=": n single maps of one entry; records how
 * many succeeded and the first failure. The handles are the runner's own
 * (unmap_many, or the scenario's end, unmaps them). */
#define MANY 1024
static struct { grant_handle_t h; uint64_t dev; } many[MANY];
static unsigned int nmany;

static void st_map_many(const struct args *a)
{
	struct gnttab_map_grant_ref *m = hb(0);
	unsigned int n = (unsigned int)getnum(a, "n", 1), ok = 0, i;
	int16_t first_fail = GNTST_okay;
	long rc = 0;

	for (i = 0; i < n && nmany < MANY; i++) {
		memset(m, 0x5a, sizeof(*m));
		m->host_addr = 0;
		m->flags = mapflags(get(a, "flags"));
		m->ref = refarg(a, "ref");
		m->dom = (domid_t)getnum(a, "dom", 0);
		rc = be->grant_table_op(GNTTABOP_map_grant_ref, m, 1);
		if (rc)
			break;
		if (m->status != GNTST_okay) {
			first_fail = m->status;
			break;
		}
		many[nmany].h = m->handle;
		many[nmany].dev = m->dev_bus_addr;
		nmany++;
		ok++;
	}
	out(" ret=%s okay=%u", errname(rc), ok);
	if (first_fail != GNTST_okay)
		out(" then=%s", stname(first_fail));
}

unsigned int unmap_many(void)
{
	struct gnttab_unmap_grant_ref *u = hb(1);
	unsigned int ok = 0;

	while (nmany) {
		nmany--;
		u->handle = many[nmany].h;
		u->host_addr = 0;
		u->dev_bus_addr = many[nmany].dev;
		if (be->grant_table_op(GNTTABOP_unmap_grant_ref, u, 1) == 0 &&
		    u->status == GNTST_okay)
			ok++;
	}
	return ok;
}

static void st_unmap_many(const struct args *a)
{
	if (get(a, "ref"))
		refarg(a, "ref");
	out(" okay=%u", unmap_many());
}

static void st_unmap(struct args *ops, int n)
{
	struct gnttab_unmap_grant_ref *u = hb(0);
	struct sym *hs[MAX_BATCH] = { 0 };
	long rc;

	for (int i = 0; i < n; i++) {
		const char *dev = get(&ops[i], "dev");

		hs[i] = getsym(&ops[i], "handle", K_HANDLE);
		u[i].handle = (grant_handle_t)num(get(&ops[i], "handle"));
		u[i].host_addr = getnum(&ops[i], "host", 0);
		if (dev && !strcmp(dev, "same"))
			u[i].dev_bus_addr = hs[i] ? hs[i]->frame : 0;
		else
			u[i].dev_bus_addr = getnum(&ops[i], "dev", 0);
		if (get(&ops[i], "ref"))
			refarg(&ops[i], "ref");
	}
	rc = be->grant_table_op(GNTTABOP_unmap_grant_ref, u, (unsigned int)n);
	out(" ret=%s", errname(rc));
	for (int i = 0; i < n; i++) {
		out(" [st=%s]", u[i].status == (int16_t)SENT16 ? "untouched" : stname(u[i].status));
		if (hs[i] && u[i].status == GNTST_okay)
			hs[i]->live = false;
	}
}

static void st_unmap_and_replace(const struct args *a)
{
	struct gnttab_unmap_and_replace *u = hb(0);
	long rc;

	u->handle = (grant_handle_t)num(get(a, "handle"));
	u->host_addr = getnum(a, "host", 0);
	u->new_addr = getnum(a, "new", 0);
	if (get(a, "ref"))
		refarg(a, "ref");
	rc = be->grant_table_op(GNTTABOP_unmap_and_replace, u, 1);
	out(" ret=%s [st=%s]", errname(rc),
	    u->status == (int16_t)SENT16 ? "untouched" : stname(u->status));
}

/* One end of a copy: gref=$r | gmfn=$r (the frame granted by $r) | gmfn=N */
static void copy_end(const struct args *a, const char *p, struct gnttab_copy *c, bool src)
{
	char k[16];
	const char *v;
	uint64_t off, dom;

	snprintf(k, sizeof(k), "%sgref", p);
	v = get(a, k);
	snprintf(k, sizeof(k), "%soff", p);
	off = getnum(a, k, 0);
	snprintf(k, sizeof(k), "%sdom", p);
	dom = getnum(a, k, 0);
	if (v) {
		snprintf(k, sizeof(k), "%sgref", p);
		if (src) {
			c->source.u.ref = refarg(a, k);
			c->flags |= GNTCOPY_source_gref;
		} else {
			c->dest.u.ref = refarg(a, k);
			c->flags |= GNTCOPY_dest_gref;
		}
	} else {
		uint64_t fr;

		snprintf(k, sizeof(k), "%sgmfn", p);
		v = get(a, k);
		if (!v)
			die("copy: %sgref or %sgmfn", p, p);
		if (v[0] == '$') {
			struct sym *s = getsym(a, k, K_REF);

			fr = s->frame;
			touch(s);
		} else {
			fr = num(v);
		}
		if (src)
			c->source.u.gmfn = fr;
		else
			c->dest.u.gmfn = fr;
	}
	if (src) {
		c->source.offset = (uint16_t)off;
		c->source.domid = (domid_t)dom;
	} else {
		c->dest.offset = (uint16_t)off;
		c->dest.domid = (domid_t)dom;
	}
}

static void st_copy(struct args *ops, int n)
{
	struct gnttab_copy *c = hb(0);
	long rc;

	for (int i = 0; i < n; i++) {
		c[i].flags = 0;
		copy_end(&ops[i], "s", &c[i], true);
		copy_end(&ops[i], "d", &c[i], false);
		c[i].len = (uint16_t)getnum(&ops[i], "len", 0);
		if (get(&ops[i], "flags"))
			c[i].flags = (uint16_t)getnum(&ops[i], "flags", 0);
	}
	rc = be->grant_table_op(GNTTABOP_copy, c, (unsigned int)n);
	out(" ret=%s", errname(rc));
	for (int i = 0; i < n; i++)
		out(" [st=%s]", c[i].status == (int16_t)SENT16 ? "untouched" : stname(c[i].status));
}

static void st_swap(struct args *ops, int n)
{
	gnttab_swap_grant_ref_t *s = hb(0);
	long rc;

	for (int i = 0; i < n; i++) {
		s[i].ref_a = refarg(&ops[i], "a");
		s[i].ref_b = refarg(&ops[i], "b");
	}
	rc = be->grant_table_op(GNTTABOP_swap_grant_ref, s, (unsigned int)n);
	out(" ret=%s", errname(rc));
	for (int i = 0; i < n; i++)
		out(" [st=%s]", s[i].status == (int16_t)SENT16 ? "untouched" : stname(s[i].status));
}

/* Only with frames that cannot be given away: Xen steals the page before
 * it looks at the destination. */
static void st_transfer(const struct args *a)
{
	struct gnttab_transfer *t = hb(0);
	long rc;

	t->mfn = getnum(a, "mfn", 0);
	t->domid = (domid_t)getnum(a, "dom", 0);
	t->ref = refarg(a, "ref");
	rc = be->grant_table_op(GNTTABOP_transfer, t, 1);
	out(" ret=%s [st=%s]", errname(rc),
	    t->status == (int16_t)SENT16 ? "untouched" : stname(t->status));
}

static void st_cache_flush(const struct args *a)
{
	struct gnttab_cache_flush *cf = hb(0);
	const char *r = get(a, "ref");
	long rc;

	memset(cf, 0, sizeof(*cf));
	if (r)
		cf->a.ref = refarg(a, "ref");
	if (get(a, "addr")) {
		/* addr=$r: the machine address of the page $r grants */
		struct sym *s = getsym(a, "addr", K_REF);

		cf->a.dev_bus_addr = s ? s->frame << 12 : getnum(a, "addr", 0);
		touch(s);
	}
	cf->offset = (uint16_t)getnum(a, "off", 0);
	cf->length = (uint16_t)getnum(a, "len", 0);
	cf->op = (uint32_t)getnum(a, "op", 0);
	rc = be->grant_table_op(GNTTABOP_cache_flush, cf, (unsigned int)getnum(a, "count", 1));
	out(" ret=%s", errname(rc));
}

static void st_gnttab_raw(const struct args *a)
{
	void *p = hb(0);
	long rc;

	memset(p, 0, 4096);
	rc = be->grant_table_op((unsigned int)getnum(a, "cmd", 0), p,
				(unsigned int)getnum(a, "count", 1));
	out(" ret=%s", errname(rc));
}

static void st_add_to_physmap(const struct args *a)
{
	struct xen_add_to_physmap *x = hb(0);
	long rc;

	memset(x, 0, sizeof(*x));
	x->domid = (domid_t)getnum(a, "dom", DOMID_SELF);
	x->space = (unsigned int)getnum(a, "space", XENMAPSPACE_grant_table);
	x->idx = getnum(a, "idx", 0);
	x->gpfn = getnum(a, "gpfn", 0);
	rc = be->memory_op(XENMEM_add_to_physmap, x);
	out(" ret=%s", errname(rc));
}

static void st_dev_map(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_DEVMAP);
	grant_ref_t ref = refarg(a, "ref");
	int rc = be->dev_map((domid_t)getnum(a, "dom", 0), ref, has_word(a, "ro"), &s->page,
			     &s->addr);

	out(" rc=%s", errname(rc));
	s->live = rc == 0;
}

static void st_dev_unmap(const struct args *a)
{
	struct sym *s = getsym(a, "map", K_DEVMAP);
	int rc;

	if (!s || !s->live)
		die("dev_unmap map=$m (live)");
	if (get(a, "ref"))
		refarg(a, "ref");
	rc = be->dev_unmap(s->page);
	s->live = false;
	out(" rc=%s", errname(rc));
}

/* Steps of one op take ops[0]; batches take them all. */
#define ONE(f) static void f##_1(struct args *ops, int n) { (void)n; f(&ops[0]); }
ONE(st_grant)
ONE(st_ungrant)
ONE(st_entry)
ONE(st_fill)
ONE(st_peek)
ONE(st_dom_create)
ONE(st_dom_destroy)
ONE(st_dom_grant)
ONE(st_dom_ungrant)
ONE(st_query_size)
ONE(st_setup_table)
ONE(st_get_status_frames)
ONE(st_get_version)
ONE(st_set_version)
ONE(st_map_many)
ONE(st_unmap_many)
ONE(st_unmap_and_replace)
ONE(st_transfer)
ONE(st_cache_flush)
ONE(st_gnttab_raw)
ONE(st_add_to_physmap)
ONE(st_dev_map)
ONE(st_dev_unmap)

const struct step gnttab_steps[] = {
	{ "grant", st_grant_1 },
	{ "ungrant", st_ungrant_1 },
	{ "entry", st_entry_1 },
	{ "fill", st_fill_1 },
	{ "peek", st_peek_1 },
	{ "dom_create", st_dom_create_1 },
	{ "dom_destroy", st_dom_destroy_1 },
	{ "dom_grant", st_dom_grant_1 },
	{ "dom_ungrant", st_dom_ungrant_1 },
	{ "query_size", st_query_size_1 },
	{ "setup_table", st_setup_table_1 },
	{ "get_status_frames", st_get_status_frames_1 },
	{ "get_version", st_get_version_1 },
	{ "set_version", st_set_version_1 },
	{ "map_many", st_map_many_1 },
	{ "unmap_many", st_unmap_many_1 },
	{ "unmap_and_replace", st_unmap_and_replace_1 },
	{ "transfer", st_transfer_1 },
	{ "cache_flush", st_cache_flush_1 },
	{ "gnttab_raw", st_gnttab_raw_1 },
	{ "add_to_physmap", st_add_to_physmap_1 },
	{ "dev_map", st_dev_map_1 },
	{ "dev_unmap", st_dev_unmap_1 },
	{ "map", st_map },
	{ "unmap", st_unmap },
	{ "copy", st_copy },
	{ "swap", st_swap },
	{ NULL, NULL },
};
