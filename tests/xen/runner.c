/* SPDX-License-Identifier: MIT */
/*
 * The differential runner: reads scenario files (tests/xen/scenarios/NAME.scn,
 * format in tests/xen/README.md), runs each step through a backend and
 * prints one record line per step. Refs, ports, handles and frames are
 * named symbolically so the records of real Xen and xgnt compare with diff.
 */
#include "backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SYMS 64
#define MAX_ARGS 16
#define MAX_BATCH 8
#define SENT16 0x5a5au
#define SENT32 0x5a5a5a5au
#define SENT64 0x5a5a5a5a5a5a5a5aull

enum kind { K_NONE, K_REF, K_PORT, K_EVDEV, K_HANDLE, K_DEVMAP, K_XREF, K_DOM, K_XPORT };

struct sym {
	char name[24];
	enum kind kind;
	bool live;          /* needs cleanup at scenario end */
	domid_t dom;        /* K_XREF: the granting domain */
	uint64_t val;       /* ref, port, handle */
	uint64_t frame;     /* K_REF: the granted frame; K_HANDLE: dev_bus_addr */
	void *page;         /* K_REF: the page; K_DEVMAP: cookie */
	void *addr;         /* K_DEVMAP: mapped address */
};

static const struct backend *be = &backend_impl;
static struct sym syms[MAX_SYMS];
static unsigned int nsyms;
static const char *prefix = "";
static char line_out[4096];
static size_t out_len;
static int nsteps;
static const char *cur_file;
static int cur_line;

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", cur_file ? cur_file : "?", cur_line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_len += (size_t)vsnprintf(line_out + out_len, sizeof(line_out) - out_len, fmt, ap);
	va_end(ap);
	if (out_len >= sizeof(line_out))
		out_len = sizeof(line_out) - 1;
}

static void flush_line(void)
{
	char buf[4200];
	int n = snprintf(buf, sizeof(buf), "%s%s\n", prefix, line_out);

	/* one write per record: the console interleaves nothing inside it */
	if (write(1, buf, (size_t)n) < 0)
		exit(3);
	out_len = 0;
	line_out[0] = 0;
}

/* ---- names of numbers ---------------------------------------------------- */

static const char *errname(long rc)
{
	static char buf[32];
	static const struct { int e; const char *n; } t[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
		{ EINTR, "EINTR" }, { EIO, "EIO" }, { E2BIG, "E2BIG" }, { EBADF, "EBADF" },
		{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
		{ EFAULT, "EFAULT" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
		{ ENODEV, "ENODEV" }, { EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" },
		{ EDOM, "EDOM" }, { ERANGE, "ERANGE" }, { ENOSYS, "ENOSYS" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { EILSEQ, "EILSEQ" }, { EXDEV, "EXDEV" },
		{ ENXIO, "ENXIO" }, { EMLINK, "EMLINK" },
	};

	if (rc >= 0) {
		snprintf(buf, sizeof(buf), "%ld", rc);
		return buf;
	}
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == -rc) {
			snprintf(buf, sizeof(buf), "-%s", t[i].n);
			return buf;
		}
	snprintf(buf, sizeof(buf), "%ld", rc);
	return buf;
}

static const char *stname(int16_t st)
{
	static const char *n[] = {
		"okay", "general_error", "bad_domain", "bad_gntref", "bad_handle",
		"bad_virt_addr", "bad_dev_addr", "no_device_space", "permission_denied",
		"bad_page", "bad_copy_arg", "address_too_big", "eagain", "no_space",
	};
	static char buf[16];

	if (st <= 0 && st > -(int)(sizeof(n) / sizeof(n[0])))
		return n[-st];
	snprintf(buf, sizeof(buf), "%d", st);
	return buf;
}

static void out_flags(uint16_t f)
{
	static const char *n[16] = {
		NULL, NULL, "ro", "rd", "wr", "pwt", "pcd", "pat", "subpage",
		"b9", "b10", "b11", "b12", "b13", "b14", "b15",
	};
	static const char *type[4] = { "invalid", "access", "transfer", "transitive" };
	bool sep = false;

	out("%s", type[f & 3]);
	sep = true;
	for (int b = 2; b < 16; b++)
		if (f & (1u << b)) {
			out("%s%s", sep ? "," : "", n[b]);
			sep = true;
		}
}

/* ---- symbols --------------------------------------------------------------- */

static struct sym *sym_find(const char *name)
{
	for (unsigned int i = 0; i < nsyms; i++)
		if (!strcmp(syms[i].name, name))
			return &syms[i];
	return NULL;
}

static struct sym *sym_new(const char *name, enum kind k)
{
	struct sym *s = sym_find(name);

	if (s && s->live)
		die("symbol %s still in use", name);
	if (!s) {
		if (nsyms == MAX_SYMS)
			die("too many symbols");
		s = &syms[nsyms++];
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->kind = k;
	return s;
}

/* The name of value v of kind k (or of kind k2), "?" if none; a live
 * symbol first (a closed port's number may be reused by a later one). */
static const char *sym_name(enum kind k, enum kind k2, uint64_t v)
{
	const char *dead = "?";

	for (unsigned int i = 0; i < nsyms; i++)
		if ((syms[i].kind == k || syms[i].kind == k2) && syms[i].val == v) {
			if (syms[i].live)
				return syms[i].name;
			if (dead[0] == '?')
				dead = syms[i].name;
		}
	return dead;
}

/* ---- arguments ----------------------------------------------------------- */

struct args {
	int n;
	char *key[MAX_ARGS];
	char *val[MAX_ARGS];   /* NULL for a bare word */
};

static void split(char *s, struct args *a)
{
	a->n = 0;
	for (char *tok = strtok(s, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (a->n == MAX_ARGS)
			die("too many arguments");
		char *eq = strchr(tok, '=');

		a->key[a->n] = tok;
		a->val[a->n] = NULL;
		if (eq) {
			*eq = 0;
			a->val[a->n] = eq + 1;
		}
		a->n++;
	}
}

static const char *get(const struct args *a, const char *key)
{
	for (int i = 0; i < a->n; i++)
		if (a->val[i] && !strcmp(a->key[i], key))
			return a->val[i];
	return NULL;
}

static bool has_word(const struct args *a, const char *w)
{
	for (int i = 1; i < a->n; i++)
		if (!a->val[i] && !strcmp(a->key[i], w))
			return true;
	return false;
}

/* The first bare word after the op: the name a step defines. */
static const char *defname(const struct args *a)
{
	for (int i = 1; i < a->n; i++)
		if (!a->val[i] && a->key[i][0] == '$')
			return a->key[i];
	die("%s: needs a $name", a->key[0]);
	return NULL;
}

/* A number: decimal/hex literal, SELF, or $sym (its value). */
static uint64_t num(const char *v)
{
	char *end;
	uint64_t x;

	if (!v)
		die("missing argument");
	if (!strcmp(v, "SELF"))
		return DOMID_SELF;
	if (v[0] == '$') {
		struct sym *s = sym_find(v);

		if (!s)
			die("unknown symbol %s", v);
		return s->val;
	}
	x = strtoull(v, &end, 0);
	if (*end)
		die("bad number %s", v);
	return x;
}

static uint64_t getnum(const struct args *a, const char *key, uint64_t dflt)
{
	const char *v = get(a, key);

	return v ? num(v) : dflt;
}

static struct sym *getsym(const struct args *a, const char *key, enum kind k)
{
	const char *v = get(a, key);
	struct sym *s;

	if (!v || v[0] != '$')
		return NULL;
	s = sym_find(v);
	if (!s || (s->kind != k && !(k == K_REF && s->kind == K_XREF)))
		die("%s is not a symbol of the right kind", v);
	return s;
}

static uint32_t mapflags(const char *v)
{
	uint32_t f = 0;
	char buf[128], *tok, *save;

	if (!v)
		return GNTMAP_host_map;
	if (v[0] >= '0' && v[0] <= '9')
		return (uint32_t)num(v);
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "dev"))
			f |= GNTMAP_device_map;
		else if (!strcmp(tok, "host"))
			f |= GNTMAP_host_map;
		else if (!strcmp(tok, "ro"))
			f |= GNTMAP_readonly;
		else if (!strcmp(tok, "app"))
			f |= GNTMAP_application_map;
		else if (!strcmp(tok, "pte"))
			f |= GNTMAP_contains_pte;
		else if (!strcmp(tok, "none"))
			;
		else
			die("bad map flag %s", tok);
	}
	return f;
}

/* ---- records of the refs a step touched ------------------------------------ */

static struct sym *touched[MAX_BATCH * 2];
static int ntouched;

static void touch(struct sym *s)
{
	if (!s || (s->kind != K_REF && s->kind != K_XREF))
		return;
	for (int i = 0; i < ntouched; i++)
		if (touched[i] == s)
			return;
	if (ntouched < (int)(sizeof(touched) / sizeof(touched[0])))
		touched[ntouched++] = s;
}

static void out_touched(void)
{
	for (int i = 0; i < ntouched; i++) {
		uint16_t f = 0;
		domid_t d = 0;
		uint64_t fr = 0;
		int rc = touched[i]->kind == K_XREF ?
			 be->dom_entry(touched[i]->dom, (grant_ref_t)touched[i]->val, &f, &d, &fr) :
			 be->entry((grant_ref_t)touched[i]->val, &f, &d, &fr);

		out(" %s=", touched[i]->name);
		if (rc)
			out("err%s", errname(rc));
		else
			out_flags(f);
	}
	ntouched = 0;
}

/* A ref argument: $sym (touched) or a literal. */
static grant_ref_t refarg(const struct args *a, const char *key)
{
	const char *v = get(a, key);

	if (v && v[0] == '$')
		touch(getsym(a, key, K_REF));
	return (grant_ref_t)num(v);
}

static void *hb(unsigned int i)
{
	void *p = be->hbuf(i);

	memset(p, 0x5a, 4096);
	return p;
}

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

/* "dom_grant $x dom=$d ref=N page=P [to=0] [ro]" */
static void st_dom_grant(const struct args *a)
{
	struct sym *d = getsym(a, "dom", K_DOM);
	struct sym *s = sym_new(defname(a), K_XREF);
	int rc;

	if (!d)
		die("dom_grant dom=$d");
	s->dom = (domid_t)d->val;
	s->val = getnum(a, "ref", 8);
	rc = be->dom_grant(s->dom, (grant_ref_t)s->val, (unsigned int)getnum(a, "page", 0),
			   (domid_t)getnum(a, "to", 0), has_word(a, "ro"), &s->frame, &s->page);
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

static unsigned int unmap_many(void)
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
	struct sym *h = getsym(a, "handle", K_HANDLE);
	long rc;

	u->handle = (grant_handle_t)num(get(a, "handle"));
	u->host_addr = getnum(a, "host", 0);
	u->new_addr = getnum(a, "new", 0);
	if (get(a, "ref"))
		refarg(a, "ref");
	rc = be->grant_table_op(GNTTABOP_unmap_and_replace, u, 1);
	out(" ret=%s [st=%s]", errname(rc),
	    u->status == (int16_t)SENT16 ? "untouched" : stname(u->status));
	(void)h;   /* a handle stays live: nothing said it is gone */
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

/* ---- event-channel steps ---------------------------------------------------- */

static void out_port(evtchn_port_t p)
{
	out("%s", sym_name(K_PORT, K_EVDEV, p));
}

static void st_alloc_unbound(const struct args *a)
{
	domid_t dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	/* a port of another domain (made for it by privileged dom0) */
	struct sym *s = sym_new(defname(a), dom == DOMID_SELF || dom == 0 ? K_PORT : K_XPORT);
	struct evtchn_alloc_unbound *au = hb(0);
	long rc;

	au->dom = dom;
	au->remote_dom = (domid_t)getnum(a, "remote", 0);
	rc = be->event_channel_op(EVTCHNOP_alloc_unbound, au);
	out(" ret=%s", errname(rc));
	if (rc == 0) {
		s->val = au->port;
		s->live = true;
		out(" port=%s", s->name);
	} else {
		out(" port=%s", au->port == SENT32 ? "untouched" : "written");
	}
}

static void st_bind_interdomain(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_PORT);
	struct evtchn_bind_interdomain *bi = hb(0);
	long rc;

	bi->remote_dom = (domid_t)getnum(a, "rdom", 0);
	bi->remote_port = (evtchn_port_t)getnum(a, "rport", 0);
	rc = be->event_channel_op(EVTCHNOP_bind_interdomain, bi);
	out(" ret=%s", errname(rc));
	if (rc == 0) {
		s->val = bi->local_port;
		s->live = true;
		out(" port=%s", s->name);
	} else {
		out(" port=%s", bi->local_port == SENT32 ? "untouched" : "written");
	}
}

static void st_bind_ipi(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_PORT);
	struct evtchn_bind_ipi *bi = hb(0);
	long rc;

	bi->vcpu = (uint32_t)getnum(a, "vcpu", 0);
	rc = be->event_channel_op(EVTCHNOP_bind_ipi, bi);
	out(" ret=%s", errname(rc));
	if (rc == 0) {
		s->val = bi->port;
		s->live = true;
		out(" port=%s", s->name);
	} else {
		out(" port=%s", bi->port == SENT32 ? "untouched" : "written");
	}
}

static void st_bind_virq(const struct args *a)
{
	struct evtchn_bind_virq *bv = hb(0);
	long rc;

	bv->virq = (uint32_t)getnum(a, "virq", 0);
	bv->vcpu = (uint32_t)getnum(a, "vcpu", 0);
	rc = be->event_channel_op(EVTCHNOP_bind_virq, bv);
	out(" ret=%s", errname(rc));
	if (rc == 0) {
		/* never expected: dom0's kernel owns its virqs; give it back */
		struct evtchn_close *c = hb(1);

		c->port = bv->port;
		be->event_channel_op(EVTCHNOP_close, c);
		out(" port=new(closed)");
	} else {
		out(" port=%s", bv->port == SENT32 ? "untouched" : "written");
	}
}

/* A port argument: $sym or literal; a closed $sym is not cleaned up. */
static evtchn_port_t portarg(const struct args *a, struct sym **sp)
{
	const char *v = get(a, "port");
	struct sym *s = NULL;

	if (v && v[0] == '$') {
		s = sym_find(v);
		if (!s || (s->kind != K_PORT && s->kind != K_EVDEV && s->kind != K_XPORT))
			die("%s is not a port", v);
	}
	if (sp)
		*sp = s;
	return (evtchn_port_t)num(v);
}

static void st_port_op(const struct args *a, int cmd)
{
	struct sym *s;
	evtchn_port_t *p = hb(0);   /* close, send, unmask: just a port */
	long rc;

	*p = portarg(a, &s);
	if (s && s->kind == K_EVDEV && cmd == EVTCHNOP_close)
		die("raw close of a kernel-owned port");
	rc = be->event_channel_op(cmd, p);
	out(" ret=%s", errname(rc));
	if (cmd == EVTCHNOP_close && rc == 0 && s)
		s->live = false;
}

static void st_status(const struct args *a)
{
	static const char *states[] = { "closed", "unbound", "interdomain", "pirq", "virq",
					"ipi" };
	struct evtchn_status *es = hb(0);
	long rc;

	es->dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	es->port = portarg(a, NULL);
	rc = be->event_channel_op(EVTCHNOP_status, es);
	out(" ret=%s", errname(rc));
	if (rc)
		return;
	if (es->status < 6)
		out(" %s", states[es->status]);
	else
		out(" status=%u", es->status);
	out(" vcpu=%u", es->vcpu);
	switch (es->status) {
	case EVTCHNSTAT_unbound:
		out(" rdom=%u", es->u.unbound.dom);
		break;
	case EVTCHNSTAT_interdomain:
		out(" rdom=%u rport=", es->u.interdomain.dom);
		if (es->u.interdomain.dom == 0)
			out_port(es->u.interdomain.port);
		else
			out("%s", sym_name(K_XPORT, K_XPORT, es->u.interdomain.port));
		break;
	case EVTCHNSTAT_virq:
		out(" virq=%u", es->u.virq);
		break;
	default:
		break;
	}
}

static void st_bind_vcpu(const struct args *a)
{
	struct evtchn_bind_vcpu *bv = hb(0);

	bv->port = portarg(a, NULL);
	bv->vcpu = (uint32_t)getnum(a, "vcpu", 0);
	out(" ret=%s", errname(be->event_channel_op(EVTCHNOP_bind_vcpu, bv)));
}

static void st_set_priority(const struct args *a)
{
	struct evtchn_set_priority *sp = hb(0);

	sp->port = portarg(a, NULL);
	sp->priority = (uint32_t)getnum(a, "prio", 7);
	out(" ret=%s", errname(be->event_channel_op(EVTCHNOP_set_priority, sp)));
}

static void st_ev_dom(const struct args *a, int cmd)
{
	struct evtchn_reset *r = hb(0);   /* reset and reset_cont: a domid */

	r->dom = (domid_t)getnum(a, "dom", DOMID_SELF);
	out(" ret=%s", errname(be->event_channel_op(cmd, r)));
}

static void st_init_control(const struct args *a)
{
	struct evtchn_init_control *ic = hb(0);

	ic->control_gfn = getnum(a, "gfn", 0);
	ic->offset = (uint32_t)getnum(a, "off", 0);
	ic->vcpu = (uint32_t)getnum(a, "vcpu", 0);
	out(" ret=%s", errname(be->event_channel_op(EVTCHNOP_init_control, ic)));
}

static void st_ev_raw(const struct args *a)
{
	void *p = hb(0);

	memset(p, 0, 4096);
	out(" ret=%s", errname(be->event_channel_op((int)getnum(a, "cmd", 0), p)));
}

static void st_evdev_unbound(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_EVDEV);
	evtchn_port_t p;
	int rc = be->ev_bind_unbound((domid_t)getnum(a, "remote", 0), &p);

	out(" rc=%s", errname(rc));
	if (!rc) {
		s->val = p;
		s->live = true;
	}
}

static void st_evdev_interdomain(const struct args *a)
{
	struct sym *s = sym_new(defname(a), K_EVDEV);
	evtchn_port_t p;
	int rc = be->ev_bind_interdomain((domid_t)getnum(a, "rdom", 0),
					 (evtchn_port_t)getnum(a, "rport", 0), &p);

	out(" rc=%s", errname(rc));
	if (!rc) {
		s->val = p;
		s->live = true;
	}
}

static void st_evdev_notify(const struct args *a)
{
	out(" rc=%s", errname(be->ev_notify(portarg(a, NULL))));
}

static void st_evdev_unbind(const struct args *a)
{
	struct sym *s;
	evtchn_port_t p = portarg(a, &s);
	int rc;

	if (!s || s->kind != K_EVDEV || !s->live)
		die("evdev_unbind of a port not bound through the device");
	rc = be->ev_unbind(p);
	s->live = false;
	out(" rc=%s", errname(rc));
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void st_evdev_poll(void)
{
	evtchn_port_t ports[64];
	const char *names[64];
	int n = be->ev_poll(ports, 64);

	if (n < 0) {
		out(" rc=%s", errname(n));
		return;
	}
	for (int i = 0; i < n; i++)
		names[i] = sym_name(K_EVDEV, K_EVDEV, ports[i]);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
	out(" fired=");
	for (int i = 0; i < n; i++)
		out("%s%s", i ? "," : "", names[i]);
	if (!n)
		out("none");
}

static void st_vcpu_op(const struct args *a)
{
	void *p = hb(0);

	memset(p, 0, 4096);
	out(" ret=%s", errname(be->vcpu_op((int)getnum(a, "cmd", VCPUOP_is_up),
					  (unsigned int)getnum(a, "vcpu", 0), p)));
}

/* ---- scenarios ---------------------------------------------------------------- */

/* Everything a scenario left behind, in reverse order of dependency. */
static void cleanup(void)
{
	unmap_many();
	for (unsigned int i = 0; i < nsyms; i++) {
		struct sym *s = &syms[i];

		if (s->live && s->kind == K_HANDLE) {
			struct gnttab_unmap_grant_ref *u = hb(0);

			u->handle = (grant_handle_t)s->val;
			u->host_addr = 0;
			u->dev_bus_addr = s->frame;
			be->grant_table_op(GNTTABOP_unmap_grant_ref, u, 1);
			s->live = false;
		}
	}
	for (unsigned int i = 0; i < nsyms; i++)
		if (syms[i].live && syms[i].kind == K_DEVMAP) {
			be->dev_unmap(syms[i].page);
			syms[i].live = false;
		}
	for (unsigned int i = 0; i < nsyms; i++) {
		struct sym *s = &syms[i];

		if (s->live && s->kind == K_PORT) {
			evtchn_port_t *p = hb(0);

			*p = (evtchn_port_t)s->val;
			be->event_channel_op(EVTCHNOP_close, p);
			s->live = false;
		} else if (s->live && s->kind == K_EVDEV) {
			be->ev_unbind((evtchn_port_t)s->val);
			s->live = false;
		}
	}
	/* drain what the closes raised */
	{
		evtchn_port_t ports[64];

		be->ev_poll(ports, 64);
	}
	for (unsigned int i = 0; i < nsyms; i++)
		if (syms[i].live && syms[i].kind == K_REF) {
			be->grant_free((grant_ref_t)syms[i].val, syms[i].page);
			syms[i].live = false;
		}
	for (unsigned int i = 0; i < nsyms; i++)
		if (syms[i].live && syms[i].kind == K_DOM) {
			be->dom_destroy((domid_t)syms[i].val);
			syms[i].live = false;
		}
	nsyms = 0;
}

static void step(char *text)
{
	struct args ops[MAX_BATCH];
	char *parts[MAX_BATCH];
	int n = 0;
	const char *op;

	/* batches: "map a=.. ; b=..": the op name is given once */
	for (char *p = text, *semi; p; p = semi) {
		semi = strstr(p, " ; ");
		if (semi) {
			*semi = 0;
			semi += 3;
		}
		if (n == MAX_BATCH)
			die("batch too long");
		parts[n++] = p;
	}
	split(parts[0], &ops[0]);
	if (!ops[0].n)
		return;
	op = ops[0].key[0];
	for (int i = 1; i < n; i++) {
		/* the op name of the first part, then this part's arguments */
		split(parts[i], &ops[i]);
		memmove(&ops[i].key[1], &ops[i].key[0], sizeof(char *) * (size_t)ops[i].n);
		memmove(&ops[i].val[1], &ops[i].val[0], sizeof(char *) * (size_t)ops[i].n);
		ops[i].key[0] = (char *)op;
		ops[i].val[0] = NULL;
		ops[i].n++;
	}
	out("%d %s", ++nsteps, op);
	if (!strcmp(op, "grant"))
		st_grant(&ops[0]);
	else if (!strcmp(op, "ungrant"))
		st_ungrant(&ops[0]);
	else if (!strcmp(op, "entry"))
		st_entry(&ops[0]);
	else if (!strcmp(op, "fill"))
		st_fill(&ops[0]);
	else if (!strcmp(op, "peek"))
		st_peek(&ops[0]);
	else if (!strcmp(op, "query_size"))
		st_query_size(&ops[0]);
	else if (!strcmp(op, "setup_table"))
		st_setup_table(&ops[0]);
	else if (!strcmp(op, "get_status_frames"))
		st_get_status_frames(&ops[0]);
	else if (!strcmp(op, "get_version"))
		st_get_version(&ops[0]);
	else if (!strcmp(op, "set_version"))
		st_set_version(&ops[0]);
	else if (!strcmp(op, "map"))
		st_map(ops, n);
	else if (!strcmp(op, "unmap"))
		st_unmap(ops, n);
	else if (!strcmp(op, "dom_create"))
		st_dom_create(&ops[0]);
	else if (!strcmp(op, "dom_destroy"))
		st_dom_destroy(&ops[0]);
	else if (!strcmp(op, "dom_grant"))
		st_dom_grant(&ops[0]);
	else if (!strcmp(op, "dom_ungrant"))
		st_dom_ungrant(&ops[0]);
	else if (!strcmp(op, "map_many"))
		st_map_many(&ops[0]);
	else if (!strcmp(op, "unmap_many"))
		st_unmap_many(&ops[0]);
	else if (!strcmp(op, "unmap_and_replace"))
		st_unmap_and_replace(&ops[0]);
	else if (!strcmp(op, "copy"))
		st_copy(ops, n);
	else if (!strcmp(op, "swap"))
		st_swap(ops, n);
	else if (!strcmp(op, "transfer"))
		st_transfer(&ops[0]);
	else if (!strcmp(op, "cache_flush"))
		st_cache_flush(&ops[0]);
	else if (!strcmp(op, "gnttab_raw"))
		st_gnttab_raw(&ops[0]);
	else if (!strcmp(op, "add_to_physmap"))
		st_add_to_physmap(&ops[0]);
	else if (!strcmp(op, "dev_map"))
		st_dev_map(&ops[0]);
	else if (!strcmp(op, "dev_unmap"))
		st_dev_unmap(&ops[0]);
	else if (!strcmp(op, "alloc_unbound"))
		st_alloc_unbound(&ops[0]);
	else if (!strcmp(op, "bind_interdomain"))
		st_bind_interdomain(&ops[0]);
	else if (!strcmp(op, "bind_ipi"))
		st_bind_ipi(&ops[0]);
	else if (!strcmp(op, "bind_virq"))
		st_bind_virq(&ops[0]);
	else if (!strcmp(op, "send"))
		st_port_op(&ops[0], EVTCHNOP_send);
	else if (!strcmp(op, "close"))
		st_port_op(&ops[0], EVTCHNOP_close);
	else if (!strcmp(op, "unmask"))
		st_port_op(&ops[0], EVTCHNOP_unmask);
	else if (!strcmp(op, "status"))
		st_status(&ops[0]);
	else if (!strcmp(op, "bind_vcpu"))
		st_bind_vcpu(&ops[0]);
	else if (!strcmp(op, "set_priority"))
		st_set_priority(&ops[0]);
	else if (!strcmp(op, "reset"))
		st_ev_dom(&ops[0], EVTCHNOP_reset);
	else if (!strcmp(op, "init_control"))
		st_init_control(&ops[0]);
	else if (!strcmp(op, "ev_raw"))
		st_ev_raw(&ops[0]);
	else if (!strcmp(op, "evdev_unbound"))
		st_evdev_unbound(&ops[0]);
	else if (!strcmp(op, "evdev_interdomain"))
		st_evdev_interdomain(&ops[0]);
	else if (!strcmp(op, "evdev_notify"))
		st_evdev_notify(&ops[0]);
	else if (!strcmp(op, "evdev_unbind"))
		st_evdev_unbind(&ops[0]);
	else if (!strcmp(op, "evdev_poll"))
		st_evdev_poll();
	else if (!strcmp(op, "vcpu_op"))
		st_vcpu_op(&ops[0]);
	else
		die("unknown step %s", op);
	out_touched();
	flush_line();
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool in = false;
	int nscen = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	cur_file = path;
	cur_line = 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e;

		cur_line++;
		line[strcspn(line, "\r\n")] = 0;
		if ((e = strchr(p, '#')))
			*e = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = 0;
		if (!*p)
			continue;
		if (!strncmp(p, "scenario ", 9)) {
			if (in)
				cleanup();
			in = true;
			nsteps = 0;
			nscen++;
			out("== %s", p + 9);
			flush_line();
			continue;
		}
		if (!in)
			die("step outside a scenario");
		step(p);
	}
	if (in)
		cleanup();
	fclose(f);
	return nscen;
}

int main(int argc, char **argv)
{
	int i = 1, rc;

	if (argc > 2 && !strcmp(argv[1], "-p")) {
		prefix = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [-p prefix] file.scn...\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	rc = be->init();
	if (rc) {
		fprintf(stderr, "%s backend: init failed: %s\n", be->name, strerror(-rc));
		return 1;
	}
	for (; i < argc; i++) {
		out("=== file %s", strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i]);
		flush_line();
		if (run_file(argv[i]) < 0)
			return 1;
	}
	out("=== end");
	flush_line();
	rc = be->fini();
	if (rc) {
		fprintf(stderr, "%s backend: %s at the end\n", be->name, strerror(-rc));
		return 1;
	}
	return 0;
}
