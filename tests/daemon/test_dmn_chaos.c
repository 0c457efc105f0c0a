/* SPDX-License-Identifier: MIT */
/*
 * A chaos soak: six processes at a time, each acting for a random domain
 * of four, open and close gnttab, gntshr and evtchn handles, share pages
 * and bind ports, publish them on a shared board, map what others
 * published and bind to their ports, notify, drain, unmap, unbind; the
 * parent SIGKILLs one of them every so often and starts another. A
 * failed operation is fine when a peer died or an entry went stale (the
 * errno must be one that says so); a worker that crashes is not. At the
 * end the daemon's counts and descriptors are back where they started,
 * and a fresh pair of processes still shares, maps and signals.
 *
 * Every choice comes from XGNT_CHAOS_SEED (printed; random when unset):
 * the parent's kills and each worker's operations. What a worker finds on
 * the board depends on timing, so a seed repeats the choices, not the
 * interleaving.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>

#include "dfix.h"

#define PAGE 4096u
#define NR_DOMS 4u           /* 0 and --domain 1, 2, 3 */
#define NR_WORKERS 6u
#define NR_GRANT_SLOTS 96u
#define NR_PORT_SLOTS 64u
#define MAX_GENS 8192u       /* workers started in one run, at most */
/* The parent's schedule: a round ends when the workers have done
 * ROUND_OPS more operations (not after a time, so a slow build is only
 * slower), then maybe a kill and the refill. About 4 s in a release
 * build on two cores, 8 s under ASan; some 500 workers. */
#define ROUNDS 520u
#define ROUND_OPS 600u
/* A worker whose counter stands still this long is hung. */
#define HANG_MS 15000

/* Per worker: handles of each kind, mappings, shares, ports per handle. */
#define NH 2
#define MAX_MAPS 12
#define MAX_SHARES 8
#define MAX_PORTS 16
#define MAX_REFS 3
#define NR_PORT_BITS (1u << 17)   /* FIFO's ports: the bell's */

/*
 * Page layout of every shared page: the sharer's tag at 0 (written once,
 * atomically, before the refs are published), the share's unmap-notify
 * byte at 8, mappers' unmap-notify bytes at 16 + worker slot, and each
 * worker slot's scratch word at 64 + 8 * slot, which only the process in
 * that slot writes (one process per slot at a time: the parent reaps
 * before it refills).
 */
#define OFF_SHARE_NOTIFY 8u
#define OFF_MAP_NOTIFY(k) (16u + (k))
#define OFF_SCRATCH(k) (64u + 8u * (k))

enum op {
	OP_OPEN,
	OP_CLOSE,
	OP_SHARE,
	OP_UNSHARE,
	OP_MAP,
	OP_UNMAP,
	OP_TOUCH,
	OP_UNBOUND,
	OP_BIND,
	OP_NOTIFY,
	OP_PENDING,
	OP_UNBIND,
	NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"open", "close", "share", "unshare", "map", "unmap", "touch",
	"unbound", "bind", "notify", "pending", "unbind",
};

/* Relative frequency of each operation. */
static const unsigned int op_weight[NR_OPS] = {
	[OP_OPEN] = 4,     [OP_CLOSE] = 2,    [OP_SHARE] = 10,  [OP_UNSHARE] = 6,
	[OP_MAP] = 14,     [OP_UNMAP] = 7,    [OP_TOUCH] = 8,   [OP_UNBOUND] = 8,
	[OP_BIND] = 8,     [OP_NOTIFY] = 14,  [OP_PENDING] = 12, [OP_UNBIND] = 5,
};

/*
 * The board, MAP_SHARED before the first fork. A grant entry is one
 * 64-bit word, stored and loaded atomically so that a reader never sees
 * half of one: ref | granter << 32 | grantee << 36 | read-only << 40 |
 * generation << 41. A port entry: port | owner << 32 | remote << 36 |
 * generation << 40. The generation is the publishing worker's number
 * (never 0, so 0 is an empty slot); the parent marks a generation dead
 * when it reaped it, and its entries are stale from then on (though its
 * grants may still map while someone else maps them: Linux defers their
 * end). Entries are overwritten at random: a reader trusts none.
 */
struct board {
	uint64_t grant[NR_GRANT_SLOTS];
	uint64_t port[NR_PORT_SLOTS];
	uint64_t ops[NR_OPS], errs[NR_OPS];
	uint64_t total;               /* operations done, all workers */
	uint64_t stale_maps;          /* mapped a reused ref (tag not the entry's) */
	uint64_t dead_maps;           /* mapped a dead worker's grant */
	uint64_t dead_touches;        /* touched a mapping of a dead worker's page */
	uint64_t events;              /* ports read from pending */
	struct {
		uint64_t ops;
		uint32_t op;          /* the one under way */
	} slot[NR_WORKERS];
	uint8_t dead[MAX_GENS];
};

static struct board *board;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define INC(p) __atomic_fetch_add((p), 1, __ATOMIC_RELAXED)

static uint64_t grant_word(uint32_t ref, uint32_t dom, uint32_t to, bool ro, uint32_t gen)
{
	return ref | (uint64_t)dom << 32 | (uint64_t)to << 36 | (uint64_t)ro << 40 |
	       (uint64_t)gen << 41;
}

#define W_REF(w) ((uint32_t)(w))
#define W_DOM(w) ((uint32_t)((w) >> 32) & 0xf)
#define W_TO(w) ((uint32_t)((w) >> 36) & 0xf)
#define W_RO(w) ((bool)(((w) >> 40) & 1))
#define W_GGEN(w) ((uint32_t)((w) >> 41))
#define W_PGEN(w) ((uint32_t)((w) >> 40))

static uint64_t port_word(uint32_t port, uint32_t dom, uint32_t remote, uint32_t gen)
{
	return port | (uint64_t)dom << 32 | (uint64_t)remote << 36 | (uint64_t)gen << 40;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return (uint32_t)(splitmix(s) % n);
}

/* ---- a worker ------------------------------------------------------------------- */

struct wmap {
	int h;                        /* its gnttab handle */
	uint8_t *addr;
	uint32_t count;
	bool writable;
	uint32_t dom[MAX_REFS], ref[MAX_REFS];
	uint64_t tag[MAX_REFS];       /* as first seen */
};

struct wshare {
	int h;
	uint8_t *addr;
	uint32_t count;
	uint32_t slot[MAX_REFS];      /* board slots it published */
	uint64_t word[MAX_REFS];
};

struct wport {
	uint32_t port;
	uint32_t slot;                /* board slot, or ~0u */
	uint64_t word;
};

struct wevt {
	xenevtchn_handle *h;
	struct wport ports[MAX_PORTS];
	unsigned int nr;
	uint8_t *ever;                /* bitmap: ports this handle ever bound */
	int last_unbound;             /* -1: none */
};

struct worker {
	uint64_t rng;
	uint32_t dom, gen, k;         /* k: the worker slot */
	unsigned int budget;
	xengnttab_handle *gt[NH];
	xengntshr_handle *gs[NH];
	struct wevt ev[NH];
	struct wmap maps[MAX_MAPS];
	unsigned int nr_maps;
	struct wshare shares[MAX_SHARES];
	unsigned int nr_shares;
	uint64_t stamp;               /* scratch values */
};

/* Counts an operation that failed, with an errno it may fail with. */
static void failed(enum op op, int err, int ok1, int ok2)
{
	if (err != ok1 && err != ok2) {
		fprintf(stderr, "child %d: %s failed with errno %d (%s)\n", (int)getpid(),
			op_name[op], err, strerror(err));
		_exit(1);
	}
	INC(&board->errs[op]);
}

static void board_clear(uint64_t *slot, uint64_t word)
{
	__atomic_compare_exchange_n(slot, &word, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static bool ever_bound(struct wevt *e, uint32_t port)
{
	return port < NR_PORT_BITS && (e->ever[port / 8] & (1u << (port % 8)));
}

static void open_one(struct worker *w, unsigned int kind, int i)
{
	INC(&board->ops[OP_OPEN]);
	if (kind == 0) {
		w->gt[i] = xengnttab_open(NULL, 0);
		CHK(w->gt[i]);
	} else if (kind == 1) {
		w->gs[i] = xengntshr_open(NULL, 0);
		CHK(w->gs[i]);
	} else {
		struct wevt *e = &w->ev[i];
		int fd;

		e->h = xenevtchn_open(NULL, 0);
		CHK(e->h);
		fd = xenevtchn_fd(e->h);
		CHK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
		e->nr = 0;
		e->last_unbound = -1;
		memset(e->ever, 0, NR_PORT_BITS / 8);
	}
}

/* An open handle of the kind (opened if none is). */
static int any_gt(struct worker *w)
{
	int i = (int)rnd(&w->rng, NH);

	if (!w->gt[i] && !w->gt[!i])
		open_one(w, 0, i);
	return w->gt[i] ? i : !i;
}

static int any_gs(struct worker *w)
{
	int i = (int)rnd(&w->rng, NH);

	if (!w->gs[i] && !w->gs[!i])
		open_one(w, 1, i);
	return w->gs[i] ? i : !i;
}

static int any_ev(struct worker *w)
{
	int i = (int)rnd(&w->rng, NH);

	if (!w->ev[i].h && !w->ev[!i].h)
		open_one(w, 2, i);
	return w->ev[i].h ? i : !i;
}

/* One of this worker's bound ports, for a notify on unmap; -1 if none. */
static uint32_t some_port(struct worker *w)
{
	int i = (int)rnd(&w->rng, NH);
	struct wevt *e = &w->ev[i];

	if (!e->h || !e->nr)
		return (uint32_t)-1;
	return e->ports[rnd(&w->rng, e->nr)].port;
}

static void unmap_at(struct worker *w, unsigned int i, bool plain_munmap)
{
	struct wmap *m = &w->maps[i];

	INC(&board->ops[OP_UNMAP]);
	/* munmap alone is a release of the memory the library accepts;
	 * the daemon's map then goes with the handle. */
	if (plain_munmap)
		CHK(munmap(m->addr, (size_t)m->count * PAGE) == 0);
	else
		CHK(xengnttab_unmap(w->gt[m->h], m->addr, m->count) == 0);
	w->maps[i] = w->maps[--w->nr_maps];
}

static void unshare_at(struct worker *w, unsigned int i, bool plain_munmap)
{
	struct wshare *s = &w->shares[i];
	uint32_t j;

	INC(&board->ops[OP_UNSHARE]);
	if (plain_munmap) {
		/* the grants stay (the handle holds them): so do the entries */
		CHK(munmap(s->addr, (size_t)s->count * PAGE) == 0);
	} else {
		for (j = 0; j < s->count; j++)
			board_clear(&board->grant[s->slot[j]], s->word[j]);
		CHK(xengntshr_unshare(w->gs[s->h], s->addr, s->count) == 0);
	}
	w->shares[i] = w->shares[--w->nr_shares];
}

static void unbind_at(struct worker *w, struct wevt *e, unsigned int i)
{
	struct wport *p = &e->ports[i];

	INC(&board->ops[OP_UNBIND]);
	if (p->slot != ~0u)
		board_clear(&board->port[p->slot], p->word);
	CHK(xenevtchn_unbind(e->h, p->port) == 0);
	e->last_unbound = (int)p->port;
	e->ports[i] = e->ports[--e->nr];
}

/* Closes handle i of kind; sometimes releases what it holds first,
 * sometimes leaves that to the close. */
static void close_one(struct worker *w, unsigned int kind, int i, bool tidy)
{
	unsigned int j;

	INC(&board->ops[OP_CLOSE]);
	if (kind == 0) {
		/* The library makes a closed handle's mappings inaccessible:
		 * forget them (touching one now would fault, rightly). */
		for (j = w->nr_maps; j-- > 0;) {
			if (w->maps[j].h != i)
				continue;
			if (tidy)
				unmap_at(w, j, false);
			else
				w->maps[j] = w->maps[--w->nr_maps];
		}
		CHK(xengnttab_close(w->gt[i]) == 0);
		w->gt[i] = NULL;
	} else if (kind == 1) {
		for (j = w->nr_shares; j-- > 0;) {
			if (w->shares[j].h != i)
				continue;
			if (tidy)
				unshare_at(w, j, false);
			else
				w->shares[j] = w->shares[--w->nr_shares];
		}
		CHK(xengntshr_close(w->gs[i]) == 0);
		w->gs[i] = NULL;
	} else {
		struct wevt *e = &w->ev[i];

		while (tidy && e->nr)
			unbind_at(w, e, e->nr - 1);
		CHK(xenevtchn_close(e->h) == 0);
		e->h = NULL;
		e->nr = 0;
	}
}

static void do_open(struct worker *w)
{
	unsigned int kind = rnd(&w->rng, 3);
	int i = (int)rnd(&w->rng, NH);
	bool open = kind == 0 ? !!w->gt[i] : kind == 1 ? !!w->gs[i] : !!w->ev[i].h;

	if (!open)
		open_one(w, kind, i);
}

static void do_close(struct worker *w)
{
	unsigned int kind = rnd(&w->rng, 3);
	int i = (int)rnd(&w->rng, NH);
	bool tidy = rnd(&w->rng, 2);
	bool open = kind == 0 ? !!w->gt[i] : kind == 1 ? !!w->gs[i] : !!w->ev[i].h;

	if (open)
		close_one(w, kind, i, tidy);
}

static void do_share(struct worker *w)
{
	struct wshare *s;
	uint32_t to = rnd(&w->rng, NR_DOMS), count = 1 + rnd(&w->rng, MAX_REFS), refs[MAX_REFS];
	bool ro = rnd(&w->rng, 6) == 0, notify = rnd(&w->rng, 4) == 0;
	uint32_t port = some_port(w), j;
	uint8_t *p;
	int h;

	if (w->nr_shares == MAX_SHARES)
		unshare_at(w, rnd(&w->rng, w->nr_shares), rnd(&w->rng, 3) == 0);
	h = any_gs(w);
	INC(&board->ops[OP_SHARE]);
	if (notify) {
		/* one page, its byte cleared and maybe an event on our
		 * port when the share ends */
		count = 1;
		p = xengntshr_share_page_notify(w->gs[h], to, refs, !ro, OFF_SHARE_NOTIFY, port);
	} else {
		p = xengntshr_share_pages(w->gs[h], to, (int)count, refs, !ro);
	}
	if (!p) {
		/* Linux's gntalloc limit; nothing else is plausible */
		failed(OP_SHARE, errno, ENOSPC, ENOSPC);
		return;
	}
	s = &w->shares[w->nr_shares++];
	s->h = h;
	s->addr = p;
	s->count = count;
	for (j = 0; j < count; j++) {
		uint8_t *pg = p + (size_t)j * PAGE;

		s->word[j] = grant_word(refs[j], w->dom, to, ro, w->gen);
		s->slot[j] = rnd(&w->rng, NR_GRANT_SLOTS);
		CHK(LOAD((uint64_t *)pg) == 0);   /* a fresh page is zeroed */
		pg[OFF_SHARE_NOTIFY] = 0xee;
		/* the tag before the entry: a mapper that found the entry
		 * finds the tag */
		STORE((uint64_t *)pg, s->word[j]);
		STORE(&board->grant[s->slot[j]], s->word[j]);
	}
}

static void do_unshare(struct worker *w)
{
	if (w->nr_shares)
		unshare_at(w, rnd(&w->rng, w->nr_shares), rnd(&w->rng, 3) == 0);
}

/* A grant entry (nonzero) for this worker's domain, or now and then any
 * entry at all (then Xen refuses it, unless the ref was reused for us). */
static uint64_t pick_grant(struct worker *w)
{
	uint32_t start = rnd(&w->rng, NR_GRANT_SLOTS), i;
	bool any = rnd(&w->rng, 8) == 0;

	for (i = 0; i < NR_GRANT_SLOTS; i++) {
		uint64_t v = LOAD(&board->grant[(start + i) % NR_GRANT_SLOTS]);

		if (v && (any || W_TO(v) == w->dom))
			return v;
	}
	return 0;
}

/*
 * What a mapping of (dom, ref) may show: the tag of whoever granted that
 * ref of that domain to us, or 0 when its sharer has not written its tag
 * yet (a stale entry's ref reused). Anything else is someone else's
 * frame. A read-only grant never maps writable.
 */
static void check_page(struct worker *w, const struct wmap *m, uint32_t j, bool first)
{
	uint8_t *pg = m->addr + (size_t)j * PAGE;
	uint64_t tag = LOAD((uint64_t *)pg);

	if (tag) {
		CHK(W_REF(tag) == m->ref[j] && W_DOM(tag) == m->dom[j] && W_TO(tag) == w->dom);
		CHK(!(m->writable && W_RO(tag)));
	}
	if (!first && m->tag[j])
		CHK(tag == m->tag[j]);
	if (m->writable) {
		volatile uint64_t *scratch = (volatile uint64_t *)(pg + OFF_SCRATCH(w->k));
		uint64_t v = ++w->stamp;

		*scratch = v;
		CHK(*scratch == v);
	}
}

static void do_map(struct worker *w)
{
	uint32_t count = 1, doms[MAX_REFS], refs[MAX_REFS], mode = rnd(&w->rng, 10), j;
	uint64_t words[MAX_REFS];
	bool writable = rnd(&w->rng, 5) != 0;
	struct wmap *m;
	uint8_t *p;
	int h, prot;

	if (mode >= 8)
		count = 2 + rnd(&w->rng, MAX_REFS - 1);
	for (j = 0; j < count; j++) {
		words[j] = pick_grant(w);
		if (!words[j])
			return;
		doms[j] = W_DOM(words[j]);
		refs[j] = W_REF(words[j]);
		if (W_RO(words[j]))
			writable = false;
	}
	if (w->nr_maps == MAX_MAPS)
		unmap_at(w, rnd(&w->rng, w->nr_maps), rnd(&w->rng, 3) == 0);
	h = any_gt(w);
	prot = PROT_READ | (writable ? PROT_WRITE : 0);
	INC(&board->ops[OP_MAP]);
	if (count > 1) {
		p = xengnttab_map_grant_refs(w->gt[h], count, doms, refs, prot);
	} else if (mode >= 6) {
		/* cleared byte (a writable map only) and/or an event */
		uint32_t port = some_port(w);

		p = xengnttab_map_grant_ref_notify(w->gt[h], doms[0], refs[0], prot,
						   writable ? OFF_MAP_NOTIFY(w->k) : (uint32_t)-1,
						   port);
	} else {
		p = xengnttab_map_grant_ref(w->gt[h], doms[0], refs[0], prot);
	}
	if (!p) {
		/* gntdev: EINVAL for any grant that does not map */
		failed(OP_MAP, errno, EINVAL, EINVAL);
		return;
	}
	m = &w->maps[w->nr_maps++];
	m->h = h;
	m->addr = p;
	m->count = count;
	m->writable = writable;
	for (j = 0; j < count; j++) {
		m->dom[j] = doms[j];
		m->ref[j] = refs[j];
		check_page(w, m, j, true);
		m->tag[j] = LOAD((uint64_t *)(p + (size_t)j * PAGE));
		if (m->tag[j] != words[j])
			INC(&board->stale_maps);
		if (W_GGEN(words[j]) < MAX_GENS && LOAD(&board->dead[W_GGEN(words[j])]))
			INC(&board->dead_maps);
	}
}

static void do_unmap(struct worker *w)
{
	if (w->nr_maps)
		unmap_at(w, rnd(&w->rng, w->nr_maps), rnd(&w->rng, 3) == 0);
}

/* A mapping made long ago, its granter maybe dead by now: the memory
 * stays until we unmap it. */
static void do_touch(struct worker *w)
{
	struct wmap *m;
	uint32_t j;

	if (!w->nr_maps)
		return;
	/* the oldest ones more often: they are at the front until moved */
	m = &w->maps[rnd(&w->rng, 2) ? 0 : rnd(&w->rng, w->nr_maps)];
	INC(&board->ops[OP_TOUCH]);
	for (j = 0; j < m->count; j++) {
		check_page(w, m, j, false);
		if (m->tag[j] && W_GGEN(m->tag[j]) < MAX_GENS &&
		    LOAD(&board->dead[W_GGEN(m->tag[j])]))
			INC(&board->dead_touches);
	}
}

static void add_port(struct wevt *e, uint32_t port, uint32_t slot, uint64_t word)
{
	struct wport *p = &e->ports[e->nr++];

	CHK(port < NR_PORT_BITS);
	e->ever[port / 8] |= (uint8_t)(1u << (port % 8));
	p->port = port;
	p->slot = slot;
	p->word = word;
}

static void do_unbound(struct worker *w)
{
	uint32_t remote = rnd(&w->rng, NR_DOMS), slot = rnd(&w->rng, NR_PORT_SLOTS);
	struct wevt *e = &w->ev[any_ev(w)];
	uint64_t word;
	int port;

	if (e->nr == MAX_PORTS)
		unbind_at(w, e, rnd(&w->rng, e->nr));
	INC(&board->ops[OP_UNBOUND]);
	port = xenevtchn_bind_unbound_port(e->h, remote);
	if (port < 0) {
		failed(OP_UNBOUND, errno, ENOSPC, ENOSPC);
		return;
	}
	word = port_word((uint32_t)port, w->dom, remote, w->gen);
	add_port(e, (uint32_t)port, slot, word);
	STORE(&board->port[slot], word);
}

static void do_bind(struct worker *w)
{
	uint32_t start = rnd(&w->rng, NR_PORT_SLOTS), i;
	bool any = rnd(&w->rng, 8) == 0;
	struct wevt *e = &w->ev[any_ev(w)];
	uint64_t v = 0;
	int port;

	for (i = 0; i < NR_PORT_SLOTS && !v; i++) {
		v = LOAD(&board->port[(start + i) % NR_PORT_SLOTS]);
		if (v && !any && W_TO(v) != w->dom)
			v = 0;
	}
	if (!v)
		return;
	if (e->nr == MAX_PORTS)
		unbind_at(w, e, rnd(&w->rng, e->nr));
	INC(&board->ops[OP_BIND]);
	port = xenevtchn_bind_interdomain(e->h, W_DOM(v), W_REF(v));
	if (port < 0) {
		/* Xen: the remote port is not unbound for us (bound by
		 * someone first, closed, or reused) */
		failed(OP_BIND, errno, EINVAL, ENOSPC);
		return;
	}
	add_port(e, (uint32_t)port, ~0u, 0);
}

static void do_notify(struct worker *w)
{
	struct wevt *e = &w->ev[any_ev(w)];
	uint32_t port;

	if (e->last_unbound >= 0 && rnd(&w->rng, 8) == 0) {
		unsigned int i;

		/* a port we unbound (unless it is ours again) */
		for (i = 0; i < e->nr && e->ports[i].port != (uint32_t)e->last_unbound; i++)
			;
		if (i == e->nr) {
			INC(&board->ops[OP_NOTIFY]);
			CHK(xenevtchn_notify(e->h, (evtchn_port_t)e->last_unbound) == -1);
			failed(OP_NOTIFY, errno, ENOTCONN, ENOTCONN);
			return;
		}
	}
	if (!e->nr)
		return;
	port = e->ports[rnd(&w->rng, e->nr)].port;
	INC(&board->ops[OP_NOTIFY]);
	/* our own port: whatever became of its peer, the notify is fine */
	CHK(xenevtchn_notify(e->h, port) == 0);
}

static void do_pending(struct worker *w)
{
	struct wevt *e = &w->ev[any_ev(w)];
	int k, port;

	INC(&board->ops[OP_PENDING]);
	for (k = 0; k < 64; k++) {
		port = xenevtchn_pending(e->h);
		if (port < 0) {
			CHK(errno == EAGAIN);
			return;
		}
		/* only ever a port this handle bound (perhaps unbound since) */
		CHK(ever_bound(e, (uint32_t)port));
		INC(&board->events);
		CHK(xenevtchn_unmask(e->h, (evtchn_port_t)port) == 0);
	}
}

static void do_unbind(struct worker *w)
{
	struct wevt *e = &w->ev[rnd(&w->rng, NH)];

	if (e->h && e->nr)
		unbind_at(w, e, rnd(&w->rng, e->nr));
}

static void (*const op_fn[NR_OPS])(struct worker *) = {
	[OP_OPEN] = do_open,       [OP_CLOSE] = do_close,     [OP_SHARE] = do_share,
	[OP_UNSHARE] = do_unshare, [OP_MAP] = do_map,         [OP_UNMAP] = do_unmap,
	[OP_TOUCH] = do_touch,     [OP_UNBOUND] = do_unbound, [OP_BIND] = do_bind,
	[OP_NOTIFY] = do_notify,   [OP_PENDING] = do_pending, [OP_UNBIND] = do_unbind,
};

struct spawn {
	uint64_t seed;
	uint32_t dom, gen, k;
	unsigned int budget;
};

static const int crash_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };

/* XGNT_CHAOS_DEBUG set: a worker's SIGSEGV shows the address and the
 * mappings around it (then exit 3, still a failure). Not signal-safe: the
 * process is lost anyway. */
static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	char buf[256];
	FILE *f = fopen("/proc/self/maps", "r");

	fprintf(stderr, "child %d: signal %d at %p\n", (int)getpid(), sig, si->si_addr);
	while (f && fgets(buf, sizeof(buf), f)) {
		unsigned long lo, hi;

		if (sscanf(buf, "%lx-%lx", &lo, &hi) == 2 && (unsigned long)si->si_addr >= lo - 65536 &&
		    (unsigned long)si->si_addr < hi + 65536)
			fprintf(stderr, "  %s", buf);
	}
	_exit(3);
}

static void debug_segv(void)
{
	struct sigaction sa = { .sa_sigaction = segv_handler, .sa_flags = SA_SIGINFO };

	sigaction(SIGSEGV, &sa, NULL);
}

static int worker_main(int fd, void *arg)
{
	const struct spawn *sp = arg;
	struct worker w;
	unsigned int i, total = 0, n, t;
	int j;

	close(fd);
	/* cmocka's handlers would unwind a crash into this copy of the
	 * runner: a crash here is to end the process, for the parent. */
	for (j = 0; j < (int)(sizeof(crash_sigs) / sizeof(crash_sigs[0])); j++)
		signal(crash_sigs[j], SIG_DFL);
	if (getenv("XGNT_CHAOS_DEBUG"))
		debug_segv();
	memset(&w, 0, sizeof(w));
	w.rng = sp->seed;
	w.dom = sp->dom;
	w.gen = sp->gen;
	w.k = sp->k;
	w.budget = sp->budget;
	w.stamp = (uint64_t)sp->gen << 32;
	for (j = 0; j < NH; j++) {
		w.ev[j].ever = calloc(1, NR_PORT_BITS / 8);
		CHK(w.ev[j].ever);
		w.ev[j].last_unbound = -1;
	}
	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	for (n = 0; n < w.budget; n++) {
		t = rnd(&w.rng, total);
		for (i = 0; t >= op_weight[i]; i++)
			t -= op_weight[i];
		STORE(&board->slot[w.k].op, i);
		op_fn[i](&w);
		INC(&board->total);
		INC(&board->slot[w.k].ops);
	}
	/* Half end tidily, half leave it all to the exit. */
	if (rnd(&w.rng, 2)) {
		for (j = 0; j < NH; j++) {
			if (w.gt[j])
				close_one(&w, 0, j, true);
			if (w.gs[j])
				close_one(&w, 1, j, true);
			if (w.ev[j].h)
				close_one(&w, 2, j, true);
		}
	}
	return 0;
}

/* ---- the parent ------------------------------------------------------------------- */

struct running {
	pid_t pid;                    /* 0: free */
	struct spawn sp;
	bool killed;                  /* by us */
	uint64_t last_ops;
	struct timespec last_change;
};

struct chaos {
	uint64_t rng, master;
	uint32_t next_gen;
	struct running w[NR_WORKERS];
	unsigned int killed, finished, stopped;  /* by us during, by themselves, at the end */
	bool stopping;
	char why[512];                /* the first failure */
};

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void start_worker(struct chaos *c, uint32_t k)
{
	struct running *r = &c->w[k];
	int fd;

	assert_true(c->next_gen < MAX_GENS);
	r->sp.gen = c->next_gen++;
	r->sp.seed = c->master ^ ((uint64_t)r->sp.gen * 0x2545f4914f6cdd1dull);
	splitmix(&r->sp.seed);
	r->sp.dom = rnd(&c->rng, NR_DOMS);
	r->sp.k = k;
	r->sp.budget = 100 + rnd(&c->rng, 1400);
	r->killed = false;
	r->last_ops = LOAD(&board->slot[k].ops);
	clock_gettime(CLOCK_MONOTONIC, &r->last_change);
	r->pid = dfix_child(r->sp.dom, worker_main, &r->sp, &fd);
	assert_true(r->pid > 0);
	close(fd);
}

/* A worker's end: ours (SIGKILL) or its own (exit 0); anything else is
 * the first failure. */
static void ended(struct chaos *c, uint32_t k, int status)
{
	struct running *r = &c->w[k];
	bool ok = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		  (r->killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		c->finished++;
	else if (ok && c->stopping)
		c->stopped++;
	else if (ok)
		c->killed++;
	if (!ok && !c->why[0])
		snprintf(c->why, sizeof(c->why),
			 "worker %u (pid %d, domain %u, seed %#llx, during %s) ended with %s %d",
			 r->sp.gen, (int)r->pid, r->sp.dom, (unsigned long long)r->sp.seed,
			 op_name[LOAD(&board->slot[k].op) % NR_OPS],
			 WIFEXITED(status) ? "exit" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	STORE(&board->dead[r->sp.gen], 1);
	r->pid = 0;
}

static void reap_finished(struct chaos *c)
{
	uint32_t k;
	int status;

	for (k = 0; k < NR_WORKERS; k++)
		if (c->w[k].pid && waitpid(c->w[k].pid, &status, WNOHANG) == c->w[k].pid)
			ended(c, k, status);
}

static void kill_worker(struct chaos *c, uint32_t k)
{
	int status;

	c->w[k].killed = true;
	kill(c->w[k].pid, SIGKILL);
	assert_int_equal(waitpid(c->w[k].pid, &status, 0), c->w[k].pid);
	ended(c, k, status);
}

static void stop_all(struct chaos *c)
{
	uint32_t k;

	c->stopping = true;
	for (k = 0; k < NR_WORKERS; k++)
		if (c->w[k].pid)
			kill_worker(c, k);
}

/* Waits for the workers' next ROUND_OPS operations; false (and why) when
 * one of them has been stuck in one operation for HANG_MS. */
static bool round_wait(struct chaos *c, uint64_t target)
{
	uint32_t k;

	while (LOAD(&board->total) < target) {
		reap_finished(c);
		for (k = 0; k < NR_WORKERS; k++) {
			struct running *r = &c->w[k];
			uint64_t ops = LOAD(&board->slot[k].ops);

			if (!r->pid)
				continue;
			if (ops != r->last_ops) {
				r->last_ops = ops;
				clock_gettime(CLOCK_MONOTONIC, &r->last_change);
			} else if (ms_since(&r->last_change) > HANG_MS) {
				snprintf(c->why, sizeof(c->why),
					 "worker %u (pid %d, domain %u, seed %#llx) hangs in %s",
					 r->sp.gen, (int)r->pid, r->sp.dom,
					 (unsigned long long)r->sp.seed,
					 op_name[LOAD(&board->slot[k].op) % NR_OPS]);
				return false;
			}
		}
		if (c->why[0])
			return false;
		/* every worker may have finished: refill */
		for (k = 0; k < NR_WORKERS; k++)
			if (!c->w[k].pid)
				start_worker(c, k);
		usleep(1000);
	}
	return true;
}

static unsigned int daemon_fds(void)
{
	char path[64];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)dfix.pid);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct counts {
	struct xgntd_domain_info d[NR_DOMS];
};

static void counts_get(struct counts *c)
{
	uint32_t i;

	for (i = 0; i < NR_DOMS; i++)
		c->d[i] = dfix_domain(i);
}

static bool counts_equal(const struct counts *a, const struct counts *b)
{
	uint32_t i;

	for (i = 0; i < NR_DOMS; i++)
		if (a->d[i].nr_grants != b->d[i].nr_grants ||
		    a->d[i].nr_mappings != b->d[i].nr_mappings ||
		    a->d[i].nr_ports != b->d[i].nr_ports ||
		    a->d[i].nr_handles != b->d[i].nr_handles ||
		    a->d[i].nr_active != b->d[i].nr_active)
			return false;
	return true;
}

static void counts_expect_back(const struct counts *start, uint64_t seed)
{
	struct counts now;
	uint32_t i;
	int n;

	for (n = 0; n < 5000; n++) {
		counts_get(&now);
		if (counts_equal(start, &now))
			return;
		usleep(1000);
	}
	for (i = 0; i < NR_DOMS; i++)
		fprintf(stderr, "d%u: grants %u->%u mappings %u->%u ports %u->%u handles %u->%u "
			"active %u->%u\n", i, start->d[i].nr_grants, now.d[i].nr_grants,
			start->d[i].nr_mappings, now.d[i].nr_mappings, start->d[i].nr_ports,
			now.d[i].nr_ports, start->d[i].nr_handles, now.d[i].nr_handles,
			start->d[i].nr_active, now.d[i].nr_active);
	fail_msg("seed %#llx: the daemon's counts did not come back", (unsigned long long)seed);
}

/* The daemon's descriptors, once two looks 20 ms apart agree. */
static unsigned int daemon_fds_settled(void)
{
	unsigned int a = daemon_fds(), b;

	for (;;) {
		usleep(20000);
		b = daemon_fds();
		if (a == b)
			return b;
		a = b;
	}
}

/* ---- afterwards: a fresh pair --------------------------------------------------- */

/* Domain 3: maps the parent's page and binds to its port, answers in
 * the page with an event, and waits for the parent's event back. */
static int child_fresh(int fd, void *arg)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	uint32_t remote = ch_get_chk(fd), ref = ch_get_chk(fd);
	volatile uint8_t *m;
	int local, port;

	(void)arg;
	CHK(gt && e);
	local = xenevtchn_bind_interdomain(e, 0, remote);
	CHK(local > 0);
	m = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ | PROT_WRITE);
	CHK(m);
	CHK(m[0] == 0x5a && m[PAGE - 1] == 0x5a);
	m[1] = 0xa5;
	CHK(xenevtchn_notify(e, (evtchn_port_t)local) == 0);
	/* Xen's bind-time event may come first: until the parent's mark */
	do {
		CHK(dfix_readable(xenevtchn_fd(e), 5000));
		port = xenevtchn_pending(e);
		CHK(port == local);
		CHK(xenevtchn_unmask(e, (evtchn_port_t)port) == 0);
	} while (m[2] != 0x3c);
	CHK(xengnttab_unmap(gt, (void *)m, 1) == 0);
	xengnttab_close(gt);
	xenevtchn_close(e);
	CHK(ch_put(fd, 1) == 0);
	return 0;
}

static void fresh_pair(void)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *e = xenevtchn_open(NULL, 0);
	uint32_t ref, v;
	uint8_t *s;
	int port, fd;
	pid_t pid;

	assert_non_null(gs);
	assert_non_null(e);
	port = xenevtchn_bind_unbound_port(e, 3);
	assert_true(port > 0);
	s = xengntshr_share_pages(gs, 3, 1, &ref, 1);
	assert_non_null(s);
	memset(s, 0x5a, PAGE);
	pid = dfix_child(3, child_fresh, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, (uint32_t)port), 0);
	assert_int_equal(ch_put(fd, ref), 0);
	do {
		assert_true(dfix_readable(xenevtchn_fd(e), 5000));
		assert_int_equal(xenevtchn_pending(e), port);
		assert_int_equal(xenevtchn_unmask(e, (evtchn_port_t)port), 0);
	} while (((volatile uint8_t *)s)[1] != 0xa5);
	s[2] = 0x3c;
	assert_int_equal(xenevtchn_notify(e, (evtchn_port_t)port), 0);
	assert_int_equal(ch_get(fd, &v), 0);
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
	assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
	assert_int_equal(xenevtchn_unbind(e, (evtchn_port_t)port), 0);
	xenevtchn_close(e);
	xengntshr_close(gs);
}

/* ---- what the chaos found ------------------------------------------------------------ */

/*
 * A mapping released with plain munmap() stays tracked by its handle
 * until the handle closes; the kernel may place the next mapping of the
 * same frame at the same address. The first handle's close must leave
 * the second mapping alone (it revoked it once: a SIGSEGV on the next
 * access). Through another gnttab handle, and one's own share mapped
 * through gnttab after the share's munmap.
 */
static void test_map_again_after_munmap(void **state)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0), *gs2 = xengntshr_open(NULL, 0);
	xengnttab_handle *g0 = xengnttab_open(NULL, 0), *g1 = xengnttab_open(NULL, 0);
	volatile uint8_t *b, *c;
	uint8_t *s, *a, *s2;
	uint32_t ref, ref2;

	(void)state;
	assert_non_null(gs);
	assert_non_null(gs2);
	assert_non_null(g0);
	assert_non_null(g1);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	assert_non_null(s);
	memset(s, 0x11, PAGE);
	a = xengnttab_map_grant_ref(g0, 0, ref, PROT_READ | PROT_WRITE);
	assert_non_null(a);
	assert_int_equal(munmap(a, PAGE), 0);
	b = xengnttab_map_grant_ref(g1, 0, ref, PROT_READ | PROT_WRITE);
	assert_non_null(b);
	if ((void *)b != a)
		printf("(the kernel placed the second mapping elsewhere: nothing to see)\n");
	assert_int_equal(xengnttab_close(g0), 0);
	assert_int_equal(b[0], 0x11);
	b[1] = 0x22;
	assert_int_equal(s[1], 0x22);
	/* gone from the handle's view too: its address is g1's mapping */
	assert_int_equal(xengnttab_unmap(g1, (void *)b, 1), 0);

	s2 = xengntshr_share_pages(gs2, 0, 1, &ref2, 1);
	assert_non_null(s2);
	s2[0] = 0x33;
	assert_int_equal(munmap(s2, PAGE), 0);
	c = xengnttab_map_grant_ref(g1, 0, ref2, PROT_READ | PROT_WRITE);
	assert_non_null(c);
	assert_int_equal(xengntshr_close(gs2), 0);
	assert_int_equal(c[0], 0x33);
	c[1] = 0x44;
	assert_int_equal(xengnttab_unmap(g1, (void *)c, 1), 0);
	assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
	assert_int_equal(xengnttab_close(g1), 0);
	assert_int_equal(xengntshr_close(gs), 0);
	assert_true(WAIT_FOR(dfix_domain(0).nr_grants == 0, 2000));
	assert_int_equal(dfix_domain(0).nr_mappings, 0);
}

/* ---- the test ----------------------------------------------------------------------- */

static int setup_four(void **state)
{
	static const char *const args[] = { "--domain", "1:hvm:32", "--domain", "2:pv:32",
					    "--domain", "3:arm:32", NULL };

	(void)state;
	return dfix_start(&dfix, args);
}

static uint64_t master_seed(void)
{
	const char *s = getenv("XGNT_CHAOS_SEED");
	struct timespec t;

	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &t);
	return ((uint64_t)t.tv_sec * 1000000007ull) ^ (uint64_t)t.tv_nsec ^
	       ((uint64_t)getpid() << 20);
}

static void test_chaos(void **state)
{
	struct chaos c;
	struct counts start;
	struct timespec t0;
	unsigned int fds0, fds1, round, k, i;
	char line[1024];
	size_t len = 0;
	bool ok = true;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.master = master_seed();
	c.rng = c.master;
	c.next_gen = 1;
	printf("chaos: seed %#llx (XGNT_CHAOS_SEED=%#llx repeats its choices)\n",
	       (unsigned long long)c.master, (unsigned long long)c.master);
	fflush(stdout);
	board = mmap(NULL, sizeof(*board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	assert_true(board != MAP_FAILED);
	counts_get(&start);
	fds0 = daemon_fds_settled();
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (k = 0; k < NR_WORKERS; k++)
		start_worker(&c, k);
	for (round = 0; ok && round < ROUNDS; round++) {
		ok = round_wait(&c, (uint64_t)(round + 1) * ROUND_OPS);
		/* mostly a kill; else the round only refills what ended */
		if (ok && rnd(&c.rng, 10) < 7) {
			k = rnd(&c.rng, NR_WORKERS);
			if (c.w[k].pid)
				kill_worker(&c, k);
		}
		for (k = 0; ok && k < NR_WORKERS; k++)
			if (!c.w[k].pid)
				start_worker(&c, k);
		ok = ok && !c.why[0];
	}
	stop_all(&c);
	if (c.why[0])
		fail_msg("seed %#llx: %s (xgntd %s)", (unsigned long long)c.master, c.why,
			 dfix_alive(&dfix) ? "alive" : "dead");

	len += (size_t)snprintf(line + len, sizeof(line) - len,
				"chaos: %u workers (%u killed, %u finished, %u stopped) in %ld ms; ops",
				c.next_gen - 1, c.killed, c.finished, c.stopped, ms_since(&t0));
	for (i = 0; i < NR_OPS; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s %llu/%llu",
					op_name[i], (unsigned long long)board->ops[i],
					(unsigned long long)board->errs[i]);
	snprintf(line + len, sizeof(line) - len,
		 " (done/failed); events %llu, stale maps %llu, maps of dead %llu, "
		 "touches of dead %llu",
		 (unsigned long long)board->events, (unsigned long long)board->stale_maps,
		 (unsigned long long)board->dead_maps, (unsigned long long)board->dead_touches);
	printf("%s\n", line);
	fflush(stdout);

	/* Everything the workers held went with them. */
	assert_true(dfix_alive(&dfix));
	counts_expect_back(&start, c.master);
	if (!WAIT_FOR((fds1 = daemon_fds()) == fds0, 5000))
		fail_msg("seed %#llx: xgntd has %u descriptors, %u before", (unsigned long long)c.master,
			 fds1, fds0);
	/* And the machine still works for newcomers. */
	fresh_pair();
	counts_expect_back(&start, c.master);
	assert_true(WAIT_FOR(daemon_fds() == fds0, 5000));
	assert_true(dfix_alive(&dfix));
	munmap(board, sizeof(*board));
	board = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_map_again_after_munmap, dfix_setup,
						dfix_teardown),
		cmocka_unit_test_setup_teardown(test_chaos, setup_four, dfix_teardown),
	};

	return cmocka_run_group_tests_name("xgntd: chaos of dying processes", tests, NULL, NULL);
}
