/* SPDX-License-Identifier: MIT */
/*
 * The differential runner: reads scenario files (tests/xen/scenarios/NAME.scn,
 * format in tests/xen/README.md), runs each step through a backend and
 * prints one record line per step. Refs, ports, handles and frames are
 * named symbolically so the records of real Xen and xgnt compare with diff.
 */
#include "runner.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct backend *be = &backend_impl;
static struct sym syms[MAX_SYMS];
static unsigned int nsyms;
static const char *prefix = "";
static char line_out[4096];
static size_t out_len;
static int nsteps;
static const char *cur_file;
static int cur_line;

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", cur_file ? cur_file : "?", cur_line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void out(const char *fmt, ...)
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

const char *errname(long rc)
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

const char *stname(int16_t st)
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

void out_flags(uint16_t f)
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

struct sym *sym_find(const char *name)
{
	for (unsigned int i = 0; i < nsyms; i++)
		if (!strcmp(syms[i].name, name))
			return &syms[i];
	return NULL;
}

struct sym *sym_new(const char *name, enum kind k)
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
const char *sym_name(enum kind k, enum kind k2, uint64_t v)
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

const char *get(const struct args *a, const char *key)
{
	for (int i = 0; i < a->n; i++)
		if (a->val[i] && !strcmp(a->key[i], key))
			return a->val[i];
	return NULL;
}

bool has_word(const struct args *a, const char *w)
{
	for (int i = 1; i < a->n; i++)
		if (!a->val[i] && !strcmp(a->key[i], w))
			return true;
	return false;
}

/* The first bare word after the op: the name a step defines. */
const char *defname(const struct args *a)
{
	for (int i = 1; i < a->n; i++)
		if (!a->val[i] && a->key[i][0] == '$')
			return a->key[i];
	die("%s: needs a $name", a->key[0]);
	return NULL;
}

/* A number: decimal/hex literal, SELF, or $sym (its value). */
uint64_t num(const char *v)
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

uint64_t getnum(const struct args *a, const char *key, uint64_t dflt)
{
	const char *v = get(a, key);

	return v ? num(v) : dflt;
}

struct sym *getsym(const struct args *a, const char *key, enum kind k)
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

uint32_t mapflags(const char *v)
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

void touch(struct sym *s)
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
grant_ref_t refarg(const struct args *a, const char *key)
{
	const char *v = get(a, key);

	if (v && v[0] == '$')
		touch(getsym(a, key, K_REF));
	return (grant_ref_t)num(v);
}

void *hb(unsigned int i)
{
	void *p = be->hbuf(i);

	memset(p, 0x5a, 4096);
	return p;
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

static const struct step *const tables[] = { gnttab_steps, evtchn_steps, NULL };

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
		if (ops[i].n >= MAX_ARGS)
			die("too many arguments");
		memmove(&ops[i].key[1], &ops[i].key[0], sizeof(char *) * (size_t)ops[i].n);
		memmove(&ops[i].val[1], &ops[i].val[0], sizeof(char *) * (size_t)ops[i].n);
		ops[i].key[0] = (char *)op;
		ops[i].val[0] = NULL;
		ops[i].n++;
	}
	out("%d %s", ++nsteps, op);
	for (const struct step *const *t = tables; *t; t++)
		for (const struct step *s = *t; s->name; s++)
			if (!strcmp(s->name, op)) {
				s->run(ops, n);
				out_touched();
				flush_line();
				return;
			}
	die("unknown step %s", op);
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
