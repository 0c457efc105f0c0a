/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness: a hostile granter. Domain 0 grants its pages to domain 1
 * and binds an event channel with it, then, between domain 1's maps,
 * copies, unmaps and sends, rewrites its shared grant entries (v1 or v2,
 * any byte, any width) and its event words (2-level pending/mask/selector,
 * FIFO event words and control blocks), switches versions, swaps and ends
 * entries. The mapper scribbles its own event words too. After every step
 * every invariant holds (checked without XGNT_CHECK_GTF: the guest writes
 * its status bits), each read-only mapping is still shown read-only, a
 * send leaves the receiver pending, and at the end each mapping the mapper
 * still holds unmaps cleanly whatever the granter wrote.
 */
#include "fuzz.h"

#include <string.h>

#include "hv/event.h"
#include "hv/gnttab.h"

#define MAX_STEPS   128
#define MAX_HANDLES 24
#define FIRST_REF   8u     /* the granter's refs: 8 .. 8 + NR_REFS - 1 */
#define NR_REFS     16u

struct handle_rec {
	grant_handle_t handle;
	uint64_t host_addr, dev_bus_addr;
	uint32_t flags;
};

struct state {
	struct fz_machine fm;
	struct fz_in in;
	struct fz_dom *g, *mp;        /* granter, mapper */
	uint32_t gport, mport;        /* the interdomain channel's two ends */
	struct handle_rec h[MAX_HANDLES];
	unsigned int nr_h;
};

static grant_ref_t ref_arg(struct state *s)
{
	uint8_t b = fz_u8(&s->in);

	return b < 0xf0 ? FIRST_REF + b % NR_REFS : b % 16u == 15 ? fz_u32(&s->in) : b % 16u;
}

static struct xgnt_vcpu *v0(struct fz_dom *fd)
{
	return xgnt_domain_vcpu(fd->d, 0);
}

/* ---- setup: what a cooperative pair of guests does first -------------------- */

static void grant_all(struct state *s)
{
	unsigned int i;

	for (i = 0; i < NR_REFS; i++) {
		uint16_t flags = GTF_permit_access | (i % 3 == 1 ? GTF_readonly : 0);

		if (fz_gt_version(s->g) == 2 && i % 5 == 4)
			flags |= GTF_sub_page;
		fz_guest_grant(s->g, FIRST_REF + i, s->mp->id, fz_ram_frame(s->g, i), flags,
			       (uint16_t)(i * 64), 512);
	}
}

/* FIFO: control block in RAM page 30 of each vCPU's... one vCPU here,
 * event array in page 31. */
static void init_fifo(struct fz_dom *fd)
{
	struct evtchn_init_control ic = { .control_gfn = fz_ram_frame(fd, 30), .offset = 0 };
	struct evtchn_expand_array ea = { .array_gfn = fz_ram_frame(fd, 31) };

	if (xgnt_event_channel_op(v0(fd), EVTCHNOP_init_control, &ic) ||
	    xgnt_event_channel_op(v0(fd), EVTCHNOP_expand_array, &ea))
		fz_die("FIFO setup of d%u failed", fd->id);
}

static void bind_channel(struct state *s)
{
	struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = s->mp->id };
	struct evtchn_bind_interdomain bi = { .remote_dom = s->g->id };

	s->gport = s->mport = 0;
	if (!s->g->alive || xgnt_event_channel_op(v0(s->g), EVTCHNOP_alloc_unbound, &au))
		return;
	bi.remote_port = au.port;
	if (xgnt_event_channel_op(v0(s->mp), EVTCHNOP_bind_interdomain, &bi))
		return;
	s->gport = au.port;
	s->mport = bi.local_port;
}

/* ---- the mapper ---------------------------------------------------------------- */

static void op_unmap_one(struct state *s, unsigned int i);

static void op_map(struct state *s)
{
	struct gnttab_map_grant_ref op = { 0 };
	uint8_t b = fz_u8(&s->in);

	op.dom = s->g->id;
	op.ref = ref_arg(s);
	op.flags = GNTMAP_host_map | (b & 1 ? GNTMAP_readonly : 0);
	if (s->mp->type == XGNT_DOMAIN_PV && (b & 2))
		op.flags = (op.flags & ~GNTMAP_host_map) | GNTMAP_device_map;
	else if (s->mp->type == XGNT_DOMAIN_PV && (b & 4))
		op.flags |= GNTMAP_device_map;
	op.host_addr = fz_ext_addr(s->mp, FZ_EXT_MAP + (b >> 3) % FZ_NR_MAP);
	if (xgnt_grant_table_op(v0(s->mp), GNTTABOP_map_grant_ref, &op, 1))
		fz_die("map hypercall failed");
	fz_trace("  map ref %u flags %#x: %d", op.ref, op.flags, op.status);
	if (op.status != GNTST_okay)
		return;
	s->h[s->nr_h++] = (struct handle_rec){ op.handle, op.host_addr, op.dev_bus_addr,
					       op.flags };
	if (s->nr_h == MAX_HANDLES)   /* no room to remember more: unmap one */
		op_unmap_one(s, fz_u8(&s->in) % s->nr_h);
}

static int16_t unmap_rec(struct state *s, const struct handle_rec *r)
{
	struct gnttab_unmap_grant_ref op = {
		.host_addr = (r->flags & GNTMAP_host_map) ? r->host_addr : 0,
		.dev_bus_addr = (r->flags & GNTMAP_device_map) ? r->dev_bus_addr : 0,
		.handle = r->handle,
	};

	if (xgnt_grant_table_op(v0(s->mp), GNTTABOP_unmap_grant_ref, &op, 1))
		fz_die("unmap hypercall failed");
	return op.status;
}

static void op_unmap_one(struct state *s, unsigned int i)
{
	int16_t st = unmap_rec(s, &s->h[i]);

	if (st != GNTST_okay)
		fz_die("unmap of live handle %u failed: %d", s->h[i].handle, st);
	s->h[i] = s->h[--s->nr_h];
}

static void op_unmap(struct state *s)
{
	if (s->nr_h)
		op_unmap_one(s, fz_u8(&s->in) % s->nr_h);
}

static void op_copy(struct state *s)
{
	struct gnttab_copy op = { 0 };
	uint8_t b = fz_u8(&s->in);
	struct gnttab_copy_ptr *mine = b & 1 ? &op.source : &op.dest;
	struct gnttab_copy_ptr *theirs = b & 1 ? &op.dest : &op.source;

	op.flags = b & 1 ? GNTCOPY_dest_gref : GNTCOPY_source_gref;
	theirs->domid = s->g->id;
	theirs->u.ref = ref_arg(s);
	theirs->offset = (uint16_t)(fz_u8(&s->in) * 16);
	mine->domid = DOMID_SELF;
	mine->u.gmfn = fz_ram_frame(s->mp, fz_u8(&s->in) % 16);
	mine->offset = (uint16_t)(fz_u8(&s->in) * 16);
	op.len = (uint16_t)(fz_u8(&s->in) * 17);
	if (xgnt_grant_table_op(v0(s->mp), GNTTABOP_copy, &op, 1))
		fz_die("copy hypercall failed");
	fz_trace("  copy %s ref %u: %d", b & 1 ? "into" : "from", theirs->u.ref, op.status);
}

/* ---- events -------------------------------------------------------------------- */

static void op_send(struct state *s)
{
	bool from_g = fz_u8(&s->in) & 1;
	struct fz_dom *fd = from_g ? s->g : s->mp, *rd = from_g ? s->mp : s->g;
	struct evtchn_send se = { .port = from_g ? s->gport : s->mport };
	uint32_t rport = from_g ? s->mport : s->gport;
	struct evtchn *rchn;

	if (!se.port || !fd->alive)
		return;
	if (xgnt_event_channel_op(v0(fd), EVTCHNOP_send, &se))
		fz_die("send on a bound port failed");
	/* Still connected (the peer may have been destroyed: then unbound). */
	if (!rport || !rd->alive ||
	    evtchn_from_port(fd->d->ev, se.port)->state != ECS_INTERDOMAIN)
		return;
	rchn = evtchn_from_port(rd->d->ev, rport);
	if (!atomic_load(&rd->d->ev->ops)->is_pending(rd->d, rchn))
		fz_die("d%u sent on port %u, d%u port %u not pending", fd->id, se.port, rd->id,
		       rport);
}

static void op_unmask(struct state *s)
{
	bool g = fz_u8(&s->in) & 1;
	struct fz_dom *fd = g ? s->g : s->mp;
	struct evtchn_unmask um = { .port = g ? s->gport : s->mport };

	if (um.port && fd->alive)
		xgnt_event_channel_op(v0(fd), EVTCHNOP_unmask, &um);
}

static void op_rebind(struct state *s)
{
	struct evtchn_close cl = { .port = fz_u8(&s->in) & 1 ? s->gport : s->mport };

	/* Either end closes; the other end turns unbound and is closed too. */
	if (s->gport && s->g->alive) {
		cl.port = s->gport;
		xgnt_event_channel_op(v0(s->g), EVTCHNOP_close, &cl);
	}
	if (s->mport) {
		cl.port = s->mport;
		xgnt_event_channel_op(v0(s->mp), EVTCHNOP_close, &cl);
	}
	bind_channel(s);
}

static void op_scribble_events(struct state *s)
{
	uint8_t b = fz_u8(&s->in);
	struct fz_dom *fd = b & 0x80 ? s->mp : s->g;

	uint16_t idx = fz_u16(&s->in);
	uint32_t val = fz_u32(&s->in);

	if (fd->alive)
		fz_guest_scribble_event(fd, b, idx, val);
}

/* ---- the granter ---------------------------------------------------------------- */

static void op_scribble_entry(struct state *s)
{
	grant_ref_t ref = ref_arg(s);
	uint8_t b = fz_u8(&s->in);

	if (s->g->alive)
		fz_guest_scribble_entry(&s->fm, s->g, ref, b & 15, 1u << ((b >> 4) & 3),
					fz_u64(&s->in));
}

static void op_end_regrant(struct state *s)
{
	grant_ref_t ref = ref_arg(s);
	uint8_t b = fz_u8(&s->in);

	if (!s->g->alive)
		return;
	if (b & 1)
		fz_guest_end(s->g, ref);
	else {
		domid_t to = b & 2 ? s->mp->id : fz_u16(&s->in);
		uint16_t flags = fz_u16(&s->in), off = fz_u16(&s->in);

		fz_guest_grant(s->g, ref, to, fz_ram_frame(s->g, (b >> 2) % FZ_RAM_FRAMES), flags,
			       off, fz_u16(&s->in));
	}
}

static void op_version(struct state *s)
{
	struct gnttab_set_version sv = { .version = 1 + (fz_u8(&s->in) & 1) };

	if (s->g->alive && xgnt_grant_table_op(v0(s->g), GNTTABOP_set_version, &sv, 1) == 0)
		grant_all(s);
}

static void op_swap(struct state *s)
{
	struct gnttab_swap_grant_ref sw = { .ref_a = ref_arg(s) };

	sw.ref_b = ref_arg(s);

	if (s->g->alive)
		xgnt_grant_table_op(v0(s->g), GNTTABOP_swap_grant_ref, &sw, 1);
}

static void op_destroy_granter(struct state *s)
{
	if (!s->g->alive || fz_u8(&s->in) < 0xe0)
		return;
	if (xgnt_domain_destroy(s->g->d))
		fz_die("destroying the granter failed");
	s->g->alive = false;
	s->gport = 0;
}

/* Each mapping the mapper remembers is shown as it was asked for. */
static void check_mappings(struct state *s)
{
	struct xgnt_domain *d = s->mp->d;
	unsigned int i;

	for (i = 0; i < s->nr_h; i++) {
		const struct handle_rec *r = &s->h[i];
		uint8_t t;

		if (!(r->flags & GNTMAP_host_map))
			continue;
		t = d->p2m[r->host_addr >> 12].type;
		if (t != ((r->flags & GNTMAP_readonly) ? P2M_GRANT_RO : P2M_GRANT_RW))
			fz_die("handle %u at %#llx (flags %#x) shown as slot type %u", r->handle,
			       (unsigned long long)r->host_addr, r->flags, t);
	}
}

typedef void (*op_fn)(struct state *);

static const struct { op_fn fn; const char *name; } ops[] = {
	{ op_map, "map" },
	{ op_scribble_entry, "granter rewrites an entry" },
	{ op_unmap, "unmap" },
	{ op_copy, "copy" },
	{ op_scribble_entry, "granter rewrites an entry" },
	{ op_send, "send" },
	{ op_scribble_events, "guest rewrites event words" },
	{ op_unmask, "unmask" },
	{ op_end_regrant, "granter ends or grants" },
	{ op_version, "granter switches version" },
	{ op_rebind, "close and rebind" },
	{ op_swap, "granter swaps entries" },
	{ op_destroy_granter, "granter destroyed" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state s;
	unsigned int steps, i;
	uint8_t cfg;

	memset(&s, 0, sizeof(s));
	s.in = (struct fz_in){ data, size };
	cfg = fz_u8(&s.in);
	fz_machine_create(&s.fm, 1);
	s.fm.hostile = true;   /* this guest writes its status bits */
	s.g = fz_domain_add(&s.fm, (enum xgnt_domain_type)(cfg % 3), false, 2, 1, 0);
	s.mp = fz_domain_add(&s.fm, (cfg >> 2) & 1 ? XGNT_DOMAIN_PV : XGNT_DOMAIN_HVM, false, 1,
			     1, 0);
	if (s.g->type != XGNT_DOMAIN_ARM && ((cfg >> 3) & 1)) {
		struct gnttab_set_version sv = { .version = 2 };

		if (xgnt_grant_table_op(v0(s.g), GNTTABOP_set_version, &sv, 1))
			fz_die("set_version 2 failed");
	}
	if ((cfg >> 4) & 1)
		init_fifo(s.g);
	if ((cfg >> 5) & 1)
		init_fifo(s.mp);
	grant_all(&s);
	bind_channel(&s);
	if (!s.gport)
		fz_die("binding the channel failed");
	fz_check(&s.fm, "setup");
	for (steps = 0; steps < MAX_STEPS && fz_more(&s.in); steps++) {
		unsigned int k = fz_u8(&s.in) % (sizeof(ops) / sizeof(ops[0]));

		fz_trace("%s", ops[k].name);
		ops[k].fn(&s);
		fz_check(&s.fm, ops[k].name);
		check_mappings(&s);
	}
	/* Whatever the granter wrote, the mapper's mappings unmap cleanly. */
	for (i = 0; i < s.nr_h; i++) {
		int16_t st = unmap_rec(&s, &s.h[i]);

		if (st != GNTST_okay)
			fz_die("final unmap of handle %u failed: %d", s.h[i].handle, st);
	}
	s.nr_h = 0;
	fz_check(&s.fm, "the final unmaps");
	fz_machine_finish(&s.fm);
	return 0;
}
