/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness: a machine of 2-4 domains (HVM, PV, Arm; privileged or not)
 * decoded from the input, then hypercalls with decoded arguments issued by
 * a chosen domain and vCPU: every GNTTABOP, the memory ops the model has,
 * every EVTCHNOP, vcpu_info registration, PV update_va_mapping, and the
 * guest's own writes to its grant entries. Every invariant is checked after
 * each step; at the end every domain is destroyed and no frame may leak.
 */
#include "fuzz.h"

#include <string.h>

#include "hv/event.h"

#define MAX_STEPS   96
#define MAX_BATCH   3
/* Xen-internal (not in the public headers): a memory op continues from
 * extent cmd >> 6. */
#define MEMOP_EXTENT_SHIFT 6
#define MAX_HANDLES 32

struct handle_rec {
	unsigned int dom;           /* the mapper, an index into fm.dom */
	grant_handle_t handle;
	uint64_t host_addr, dev_bus_addr;
};

struct state {
	struct fz_machine fm;
	struct fz_in in;
	struct handle_rec h[MAX_HANDLES];
	unsigned int nr_h;
	xen_pfn_t pv_frames[FZ_MAX_DOMS][8];   /* setup_table's answer, for PV */
	uint64_t pv_status[FZ_MAX_DOMS][8];    /* get_status_frames' answer */
};

/* A live domain (one always is): the b-th, or the next live one. */
static struct fz_dom *pick(struct state *s, uint8_t b)
{
	unsigned int i = b % s->fm.nr;

	while (!s->fm.dom[i].alive)
		i = (i + 1) % s->fm.nr;
	return &s->fm.dom[i];
}

/* ---- hypercalls, traced (XGNT_FUZZ_TRACE) ---------------------------------------- */

static long gt_op(struct xgnt_vcpu *v, unsigned int cmd, void *uop, unsigned int count)
{
	long rc = xgnt_grant_table_op(v, cmd, uop, count);

	fz_trace("  d%u grant_table_op %u x%u -> %ld", v->d->id, cmd, count, rc);
	return rc;
}

static long mem_op(struct xgnt_vcpu *v, unsigned int cmd, void *arg)
{
	long rc = xgnt_memory_op(v, cmd, arg);

	fz_trace("  d%u memory_op %#x -> %ld", v->d->id, cmd, rc);
	return rc;
}

static long ev_op(struct xgnt_vcpu *v, int cmd, void *arg)
{
	long rc = xgnt_event_channel_op(v, cmd, arg);

	fz_trace("  d%u event_channel_op %d -> %ld", v->d->id, cmd, rc);
	return rc;
}

/* ---- argument decoders: mostly plausible values, sometimes anything ---------- */

static domid_t dom_arg(struct state *s)
{
	uint8_t b = fz_u8(&s->in);

	if (b < 0xf0)
		return (domid_t)(b % s->fm.nr);
	switch (b & 7) {
	case 0: return DOMID_SELF;
	case 1: return DOMID_INVALID;
	case 2: return (domid_t)s->fm.nr;           /* never created */
	case 3: return DOMID_IO;
	case 4: return DOMID_XEN;
	case 5: return DOMID_FIRST_RESERVED - 1;
	default: return fz_u16(&s->in);
	}
}

static grant_ref_t ref_arg(struct state *s)
{
	static const grant_ref_t edge[] = { 511, 512, 255, 256, 1023, 2047, 0xffffffffu };
	uint8_t b = fz_u8(&s->in);

	if (b < 0xf0)
		return b % 24;   /* the reserved 8 and the first free ones */
	if ((b & 7) < 7)
		return edge[b & 7];
	return fz_u32(&s->in);
}

/* A frame as domain fd would name one: its own RAM, another's, its
 * grant-table placement, its shared_info, or anything. */
static uint64_t frame_arg(struct state *s, struct fz_dom *fd)
{
	uint8_t b = fz_u8(&s->in);

	if (b < 0xc0)
		return fz_ram_frame(fd, b % FZ_RAM_FRAMES);
	if (b < 0xe0)
		return fz_ram_frame(pick(s, b), (b >> 2) % FZ_RAM_FRAMES);
	switch (b & 7) {
	case 0: return fz_ext_addr(fd, FZ_EXT_GT + (b >> 3) % 4) >> 12;
	case 1: return xgnt_domain_shared_info_mfn(fd->d);
	case 2: return s->pv_frames[fd - s->fm.dom][(b >> 3) % 4];
	case 3: return INVALID_MFN;
	case 4: return 1024 + (b >> 3) % 8;     /* I/O memory, and past it */
	case 5: return fz_ext_addr(fd, FZ_EXT_MAP + (b >> 3) % 4) >> 12;
	default: return fz_u64(&s->in);
	}
}

/* A guest address: a page for foreign maps, RAM, a table page, anything. */
static uint64_t addr_arg(struct state *s, struct fz_dom *fd)
{
	uint8_t b = fz_u8(&s->in);

	if (b < 0xc0)
		return fz_ext_addr(fd, FZ_EXT_MAP + b % FZ_NR_MAP);
	if (b < 0xe0)
		return (uint64_t)(b % FZ_RAM_FRAMES) << 12;
	switch (b & 7) {
	case 0: return fz_ext_addr(fd, FZ_EXT_GT + (b >> 3) % 4);
	case 1: return fz_ext_addr(fd, FZ_EXT_MAP + 1) + 8;   /* unaligned */
	case 2: return fz_ext_addr(fd, FZ_EXT_FRAMES);         /* just past the end */
	case 3: return 0;
	default: return fz_u64(&s->in);
	}
}

static uint32_t port_arg(struct state *s)
{
	uint8_t b = fz_u8(&s->in);

	if (b < 0xf8)
		return b % 20;
	return b == 0xf8 ? 1023 : b == 0xf9 ? 4095 : b == 0xfa ? 4096 : fz_u32(&s->in);
}

static struct fz_dom *caller(struct state *s, struct xgnt_vcpu **v)
{
	uint8_t b = fz_u8(&s->in);
	struct fz_dom *fd = pick(s, b);

	*v = xgnt_domain_vcpu(fd->d, (b >> 4) % fd->nr_vcpus);
	return fd;
}

static void record_handle(struct state *s, unsigned int dom, const struct gnttab_map_grant_ref *op)
{
	struct handle_rec *r;

	if (op->status != GNTST_okay)
		return;
	r = &s->h[s->nr_h < MAX_HANDLES ? s->nr_h++ : fz_u8(&s->in) % MAX_HANDLES];
	r->dom = dom;
	r->handle = op->handle;
	r->host_addr = op->host_addr;
	r->dev_bus_addr = op->dev_bus_addr;
}

/* ---- grant-table operations --------------------------------------------------- */

static void op_map(struct state *s)
{
	struct gnttab_map_grant_ref op[MAX_BATCH];
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	unsigned int n = 1 + fz_below(&s->in, MAX_BATCH), i;

	memset(op, 0, sizeof(op));
	for (i = 0; i < n; i++) {
		uint8_t f = fz_u8(&s->in);

		/* Mostly host/device/readonly; sometimes every other bit. */
		op[i].flags = f < 0xe0 ? (f & 7) | ((f >> 3) & 1 ? GNTMAP_host_map : 0)
				       : f == 0xff ? fz_u32(&s->in) : (uint32_t)f;
		op[i].dom = dom_arg(s);
		op[i].ref = ref_arg(s);
		op[i].host_addr = addr_arg(s, fd);
	}
	if (gt_op(v, GNTTABOP_map_grant_ref, op, n) == 0)
		for (i = 0; i < n; i++) {
			fz_trace("    map d%u ref %u flags %#x at %#llx: %d handle %u", op[i].dom,
				 op[i].ref, op[i].flags, (unsigned long long)op[i].host_addr,
				 op[i].status, op[i].handle);
			record_handle(s, (unsigned int)(fd - s->fm.dom), &op[i]);
		}
}

static void fill_unmap(struct state *s, struct fz_dom *fd, uint64_t *host, uint64_t *dev,
		       grant_handle_t *h)
{
	uint8_t b = fz_u8(&s->in);

	if (s->nr_h && b < 0xe0) {
		struct handle_rec *r = &s->h[b % s->nr_h];

		*h = r->handle;
		*host = r->host_addr;
		*dev = r->dev_bus_addr;
		if (b & 0x80)
			*host = addr_arg(s, fd);   /* right handle, other address */
		if (b & 0x40)
			*dev = 0;
	} else {
		*h = b == 0xff ? fz_u32(&s->in) : b % 40;
		*host = addr_arg(s, fd);
		*dev = fz_u8(&s->in) & 1 ? (uint64_t)frame_arg(s, fd) << 12 : 0;
	}
}

static void op_unmap(struct state *s)
{
	struct gnttab_unmap_grant_ref op[MAX_BATCH];
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	unsigned int n = 1 + fz_below(&s->in, MAX_BATCH), i;

	memset(op, 0, sizeof(op));
	for (i = 0; i < n; i++)
		fill_unmap(s, fd, &op[i].host_addr, &op[i].dev_bus_addr, &op[i].handle);
	if (gt_op(v, GNTTABOP_unmap_grant_ref, op, n) == 0)
		for (i = 0; i < n; i++)
			fz_trace("    unmap handle %u at %#llx: %d", op[i].handle,
				 (unsigned long long)op[i].host_addr, op[i].status);
}

static void op_unmap_and_replace(struct state *s)
{
	struct gnttab_unmap_and_replace op[MAX_BATCH];
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	unsigned int n = 1 + fz_below(&s->in, MAX_BATCH), i;
	uint64_t dev;

	memset(op, 0, sizeof(op));
	for (i = 0; i < n; i++) {
		fill_unmap(s, fd, &op[i].host_addr, &dev, &op[i].handle);
		op[i].new_addr = fz_u8(&s->in) & 1 ? addr_arg(s, fd) : 0;
	}
	gt_op(v, GNTTABOP_unmap_and_replace, op, n);
}

static void copy_end(struct state *s, struct fz_dom *fd, struct gnttab_copy_ptr *p, bool gref)
{
	p->domid = dom_arg(s);
	p->offset = fz_u8(&s->in) < 0xc0 ? (uint16_t)(fz_u8(&s->in) * 16) : fz_u16(&s->in);
	if (gref)
		p->u.ref = ref_arg(s);
	else
		p->u.gmfn = (xen_pfn_t)frame_arg(s, fd);
}

static void op_copy(struct state *s)
{
	struct gnttab_copy op[MAX_BATCH];
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	unsigned int n = 1 + fz_below(&s->in, MAX_BATCH), i;

	memset(op, 0, sizeof(op));
	for (i = 0; i < n; i++) {
		uint8_t f = fz_u8(&s->in);

		op[i].flags = f < 0xf0 ? (f & (GNTCOPY_source_gref | GNTCOPY_dest_gref))
				       : fz_u16(&s->in);
		copy_end(s, fd, &op[i].source, op[i].flags & GNTCOPY_source_gref);
		copy_end(s, fd, &op[i].dest, op[i].flags & GNTCOPY_dest_gref);
		op[i].len = fz_u8(&s->in) < 0xc0 ? (uint16_t)(fz_u8(&s->in) * 17) : fz_u16(&s->in);
	}
	if (gt_op(v, GNTTABOP_copy, op, n) == 0)
		for (i = 0; i < n; i++)
			fz_trace("    copy flags %#x d%u+%u -> d%u+%u len %u: %d", op[i].flags,
				 op[i].source.domid, op[i].source.offset, op[i].dest.domid,
				 op[i].dest.offset, op[i].len, op[i].status);
}

static void op_transfer(struct state *s)
{
	struct gnttab_transfer op[MAX_BATCH];
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	unsigned int n = 1 + fz_below(&s->in, MAX_BATCH), i;

	memset(op, 0, sizeof(op));
	for (i = 0; i < n; i++) {
		op[i].mfn = (xen_pfn_t)frame_arg(s, fd);
		op[i].domid = dom_arg(s);
		op[i].ref = ref_arg(s);
	}
	if (gt_op(v, GNTTABOP_transfer, op, n) == 0)
		for (i = 0; i < n; i++)
			fz_trace("    transfer to d%u ref %u: %d", op[i].domid, op[i].ref,
				 op[i].status);
}

static void op_setup_table(struct state *s)
{
	xen_pfn_t frames[64];
	struct gnttab_setup_table op = { 0 };
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	uint8_t b = fz_u8(&s->in);

	op.dom = dom_arg(s);
	op.nr_frames = b < 0xf0 ? b % 6 : 64;   /* the buffer holds 64 */
	set_xen_guest_handle(op.frame_list, fz_u8(&s->in) == 0xff ? NULL : frames);
	memset(frames, 0xa5, sizeof(frames));
	if (gt_op(v, GNTTABOP_setup_table, &op, 1) == 0 &&
	    op.status == GNTST_okay && (op.dom == DOMID_SELF || op.dom == fd->id) &&
	    op.frame_list.p)
		memcpy(s->pv_frames[fd - s->fm.dom], frames,
		       sizeof(xen_pfn_t) * (op.nr_frames < 8 ? op.nr_frames : 8));
}

static void op_status_frames(struct state *s)
{
	uint64_t frames[64];
	struct gnttab_get_status_frames op = { 0 };
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	uint8_t b = fz_u8(&s->in);

	op.dom = dom_arg(s);
	op.nr_frames = b < 0xf0 ? b % 4 : 64;
	set_xen_guest_handle(op.frame_list, frames);
	if (gt_op(v, GNTTABOP_get_status_frames, &op, 1) == 0 &&
	    op.status == GNTST_okay && (op.dom == DOMID_SELF || op.dom == fd->id))
		memcpy(s->pv_status[fd - s->fm.dom], frames,
		       sizeof(uint64_t) * (op.nr_frames < 8 ? op.nr_frames : 8));
}

static void op_version(struct state *s)
{
	struct xgnt_vcpu *v;
	uint8_t b;

	caller(s, &v);
	b = fz_u8(&s->in);
	if (b & 1) {
		struct gnttab_set_version sv = { .version = b < 0xf0 ? (b >> 1) % 4 : fz_u32(&s->in) };
		uint32_t want = sv.version;

		gt_op(v, GNTTABOP_set_version, &sv, 1);
		fz_trace("    set_version %u: now %u", want, sv.version);
	} else if (b & 2) {
		struct gnttab_get_version gv = { .dom = dom_arg(s) };

		gt_op(v, GNTTABOP_get_version, &gv, 1);
	} else {
		struct gnttab_query_size qs = { .dom = dom_arg(s) };

		gt_op(v, GNTTABOP_query_size, &qs, 1);
	}
}

static void op_swap(struct state *s)
{
	struct gnttab_swap_grant_ref op[MAX_BATCH];
	struct xgnt_vcpu *v;
	unsigned int n = 1 + fz_below(&s->in, MAX_BATCH), i;

	caller(s, &v);
	for (i = 0; i < n; i++) {
		op[i].ref_a = ref_arg(s);
		op[i].ref_b = ref_arg(s);
		op[i].status = 0;
	}
	gt_op(v, GNTTABOP_swap_grant_ref, op, n);
}

static void op_cache_flush(struct state *s)
{
	struct gnttab_cache_flush op = { 0 };
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);

	op.a.dev_bus_addr = (uint64_t)frame_arg(s, fd) << 12;
	op.offset = fz_u16(&s->in) % 4100;
	op.length = fz_u16(&s->in) % 4100;
	op.op = fz_u8(&s->in) % 5;
	gt_op(v, GNTTABOP_cache_flush, &op, 1);
}

static void op_bad_gnttab(struct state *s)
{
	struct xgnt_vcpu *v;
	uint64_t junk[8] = { 0 };
	unsigned int cmd;
	void *uop;

	caller(s, &v);
	/* Unknown commands, continuation bits, huge or negative counts. */
	cmd = fz_u32(&s->in);
	uop = fz_u8(&s->in) & 1 ? junk : NULL;
	gt_op(v, cmd, uop, fz_u8(&s->in) & 1 ? 0x80000000u : 0);
}

/* ---- memory operations ---------------------------------------------------------- */

static void op_add_to_physmap(struct state *s)
{
	static const unsigned int spaces[] = {
		XENMAPSPACE_shared_info, XENMAPSPACE_grant_table, XENMAPSPACE_gmfn,
		XENMAPSPACE_gmfn_range, XENMAPSPACE_gmfn_foreign, XENMAPSPACE_dev_mmio,
	};
	struct xen_add_to_physmap a = { 0 };
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	uint8_t b = fz_u8(&s->in);

	a.domid = dom_arg(s);
	a.space = b < 0xf0 ? spaces[b % 6] : fz_u32(&s->in);
	switch (a.space) {
	case XENMAPSPACE_grant_table:
		a.idx = fz_u8(&s->in) & 1 ? XENMAPIDX_grant_table_status : 0;
		a.idx |= fz_u8(&s->in) % 6;
		a.gpfn = fz_ext_addr(fd, (a.idx & XENMAPIDX_grant_table_status ? FZ_EXT_STATUS
									: FZ_EXT_GT) +
					     a.idx % 8) >> 12;
		break;
	case XENMAPSPACE_gmfn_range:
		a.size = fz_u8(&s->in) % 4;
		/* fall through */
	default:
		a.idx = fz_u8(&s->in) % (FZ_RAM_FRAMES + 4);
		a.gpfn = addr_arg(s, fd) >> 12;
		break;
	}
	if (fz_u8(&s->in) == 0xff)
		a.gpfn = fz_u64(&s->in);
	fz_trace("    space %u idx %#lx gpfn %#llx", a.space, (unsigned long)a.idx,
		 (unsigned long long)a.gpfn);
	mem_op(v, XENMEM_add_to_physmap, &a);
}

static void op_remove_from_physmap(struct state *s)
{
	struct xen_remove_from_physmap r = { 0 };
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);

	r.domid = dom_arg(s);
	r.gpfn = fz_u8(&s->in) & 1 ? addr_arg(s, fd) >> 12 : frame_arg(s, fd);
	mem_op(v, XENMEM_remove_from_physmap, &r);
}

static void op_reservation(struct state *s)
{
	xen_pfn_t list[4];
	struct xen_memory_reservation r = { 0 };
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	uint8_t b = fz_u8(&s->in);
	unsigned int i;

	r.domid = dom_arg(s);
	r.nr_extents = fz_u8(&s->in) % 5;
	r.extent_order = b & 0x80 ? fz_u8(&s->in) % 12 : 0;
	for (i = 0; i < 4; i++)
		list[i] = fz_u8(&s->in) & 1 ? addr_arg(s, fd) >> 12 : frame_arg(s, fd);
	set_xen_guest_handle(r.extent_start, list);
	mem_op(v, ((b & 1) ? XENMEM_populate_physmap : XENMEM_decrease_reservation) |
				  ((b & 0x40) ? 1u << MEMOP_EXTENT_SHIFT : 0), &r);
}

/* PV page tables reduced to one mapping per page. */
static void op_update_va(struct state *s)
{
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	unsigned int i = (unsigned int)(fd - s->fm.dom);
	uint8_t b = fz_u8(&s->in);
	uint64_t va;
	xen_pfn_t mfn;
	long rc;

	if (b & 1) {   /* a table frame at its place, as a PV guest maps it */
		va = fz_ext_addr(fd, FZ_EXT_GT + (b >> 1) % 4);
		mfn = s->pv_frames[i][(b >> 1) % 4];
	} else if (b & 2) {
		va = fz_ext_addr(fd, FZ_EXT_STATUS + (b >> 2) % 2);
		mfn = (xen_pfn_t)s->pv_status[i][(b >> 2) % 2];
	} else {
		va = addr_arg(s, fd);
		mfn = fz_u8(&s->in) & 1 ? INVALID_MFN : (xen_pfn_t)frame_arg(s, fd);
	}
	rc = xgnt_update_va_mapping(v, va, mfn, fz_u8(&s->in) % 5);
	fz_trace("  d%u update_va_mapping %#llx mfn %#llx -> %ld", fd->id,
		 (unsigned long long)va, (unsigned long long)mfn, rc);
}

/* ---- event channels ----------------------------------------------------------------- */

static void check_sent(struct state *s, struct fz_dom *fd, uint32_t port);

static void op_event(struct state *s)
{
	union {
		struct evtchn_alloc_unbound au;
		struct evtchn_bind_interdomain bi;
		struct evtchn_bind_virq bv;
		struct evtchn_bind_pirq bp;
		struct evtchn_close cl;
		struct evtchn_send se;
		struct evtchn_status st;
		struct evtchn_bind_ipi ip;
		struct evtchn_bind_vcpu bc;
		struct evtchn_unmask um;
		struct evtchn_reset rs;
		struct evtchn_init_control ic;
		struct evtchn_expand_array ea;
		struct evtchn_set_priority sp;
	} a;
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	uint8_t b = fz_u8(&s->in);
	int cmd = b < 0xf8 ? b % 16 : (int)fz_u32(&s->in);
	long rc;

	memset(&a, 0, sizeof(a));
	switch (cmd) {
	case EVTCHNOP_alloc_unbound:
		a.au.dom = dom_arg(s);
		a.au.remote_dom = dom_arg(s);
		break;
	case EVTCHNOP_bind_interdomain:
		a.bi.remote_dom = dom_arg(s);
		a.bi.remote_port = port_arg(s);
		break;
	case EVTCHNOP_bind_virq:
		a.bv.virq = fz_u8(&s->in) % 26;
		a.bv.vcpu = fz_u8(&s->in) % 4;
		break;
	case EVTCHNOP_bind_pirq:
		a.bp.pirq = fz_u16(&s->in) % 300;
		a.bp.flags = fz_u8(&s->in);
		break;
	case EVTCHNOP_close:
	case EVTCHNOP_send:
	case EVTCHNOP_unmask:
		a.se.port = port_arg(s);   /* one port field in each */
		break;
	case EVTCHNOP_status:
		a.st.dom = dom_arg(s);
		a.st.port = port_arg(s);
		break;
	case EVTCHNOP_bind_ipi:
		a.ip.vcpu = fz_u8(&s->in) % 4;
		break;
	case EVTCHNOP_bind_vcpu:
		a.bc.port = port_arg(s);
		a.bc.vcpu = fz_u8(&s->in) % 4;
		break;
	case EVTCHNOP_reset:
		a.rs.dom = dom_arg(s);
		break;
	case EVTCHNOP_init_control:
		a.ic.control_gfn = frame_arg(s, fd);
		a.ic.offset = fz_u8(&s->in) < 0xe0 ? (fz_u8(&s->in) % 64) * 64 : fz_u32(&s->in);
		a.ic.vcpu = fz_u8(&s->in) % 4;
		break;
	case EVTCHNOP_expand_array:
		a.ea.array_gfn = frame_arg(s, fd);
		break;
	case EVTCHNOP_set_priority:
		a.sp.port = port_arg(s);
		a.sp.priority = fz_u8(&s->in) % 18;
		break;
	default:
		break;
	}
	rc = ev_op(v, cmd, fz_u8(&s->in) == 0xff ? NULL : &a);
	if (cmd == EVTCHNOP_send && rc == 0)
		check_sent(s, fd, a.se.port);
}

static void op_vcpu_info(struct state *s)
{
	struct vcpu_register_vcpu_info r = { 0 };
	struct xgnt_vcpu *v;
	struct fz_dom *fd = caller(s, &v);
	unsigned int target = fz_u8(&s->in) % 4;

	r.mfn = frame_arg(s, fd);
	r.offset = fz_u8(&s->in) < 0xe0 ? (fz_u8(&s->in) % 64) * 64 : fz_u16(&s->in);
	xgnt_vcpu_op(v, fz_u8(&s->in) & 1 ? VCPUOP_register_vcpu_info : (int)fz_u8(&s->in),
		     target, &r);
}

/* ---- the guest's own grant entries ------------------------------------------------- */

static void op_guest_grant(struct state *s)
{
	static const uint16_t kinds[] = {
		GTF_permit_access, GTF_permit_access | GTF_readonly, GTF_accept_transfer,
		GTF_permit_access | GTF_sub_page, GTF_permit_access | GTF_sub_page | GTF_readonly,
		GTF_transitive, GTF_permit_access | GTF_PWT | GTF_PCD, GTF_invalid,
	};
	struct fz_dom *fd = pick(s, fz_u8(&s->in));
	grant_ref_t ref = ref_arg(s);
	domid_t to = dom_arg(s);
	uint8_t k = fz_u8(&s->in);
	uint16_t flags = kinds[k % 8], off, len;
	uint64_t frame;
	bool ok;

	if ((flags & GTF_type_mask) == GTF_transitive) {
		frame = dom_arg(s);
		frame |= (uint64_t)ref_arg(s) << 16;
	} else {
		frame = frame_arg(s, fd);
	}
	off = fz_u16(&s->in) % 4200;
	len = fz_u16(&s->in) % 4200;
	ok = fz_guest_grant(fd, ref, to, frame, flags, off, len);
	fz_trace("  d%u guest grant ref %u to d%u flags %#x frame %#llx: %d", fd->id, ref, to,
		 flags, (unsigned long long)frame, ok);
}

static void op_guest_end(struct state *s)
{
	struct fz_dom *fd = pick(s, fz_u8(&s->in));

	grant_ref_t ref = ref_arg(s);

	bool ok = fz_guest_end(fd, ref);

	fz_trace("  d%u guest end ref %u: %d", fd->id, ref, ok);
}

static void op_guest_scribble(struct state *s)
{
	struct fz_dom *fd = pick(s, fz_u8(&s->in));
	grant_ref_t ref = ref_arg(s);
	uint8_t b = fz_u8(&s->in);

	fz_guest_scribble_entry(&s->fm, fd, ref, b & 15, 1u << ((b >> 4) & 3), fz_u64(&s->in));
}

/* ---- the oracle for sends ----------------------------------------------------------- */

/* A send that returned 0 on a bound port leaves the receiving port
 * pending (single-threaded: nothing can have consumed it). */
static void check_sent(struct state *s, struct fz_dom *fd, uint32_t port)
{
	struct xgnt_domain *d = fd->d, *rd = d;
	struct evtchn *chn, *rchn;
	uint32_t rp = port;

	(void)s;
	if (!port_is_valid(d->ev, port))
		return;
	chn = evtchn_from_port(d->ev, port);
	if (chn->state == ECS_INTERDOMAIN) {
		rd = chn->u.interdomain.remote_dom;
		rp = chn->u.interdomain.remote_port;
	} else if (chn->state != ECS_IPI) {
		return;
	}
	rchn = evtchn_from_port(rd->ev, rp);
	if (!atomic_load(&rd->ev->ops)->is_pending(rd, rchn))
		fz_die("d%u sent on port %u but d%u port %u is not pending", d->id, port, rd->id,
		       rp);
}

/* ---- the harness ------------------------------------------------------------------------ */

static void op_destroy(struct state *s)
{
	struct fz_dom *fd = pick(s, fz_u8(&s->in));
	unsigned int i, k, alive = 0;

	/* Destroy a domain mid-run; others keep what they map of it, its
	 * ports' peers turn unbound. One domain always stays alive (it
	 * issues the hypercalls), and the destroyed one's handle records go. */
	for (i = 0; i < s->fm.nr; i++)
		alive += s->fm.dom[i].alive;
	if (alive < 2 || fz_u8(&s->in) < 0xc0)
		return;
	if (xgnt_domain_destroy(fd->d))
		fz_die("destroying d%u failed", fd->id);
	fd->alive = false;
	for (i = k = 0; i < s->nr_h; i++)
		if (&s->fm.dom[s->h[i].dom] != fd)
			s->h[k++] = s->h[i];
	s->nr_h = k;
}

typedef void (*op_fn)(struct state *);

static const struct { op_fn fn; const char *name; } ops[] = {
	{ op_map, "map_grant_ref" },
	{ op_unmap, "unmap_grant_ref" },
	{ op_copy, "copy" },
	{ op_guest_grant, "guest grant" },
	{ op_guest_end, "guest end access" },
	{ op_event, "event_channel_op" },
	{ op_setup_table, "setup_table" },
	{ op_version, "set/get_version, query_size" },
	{ op_add_to_physmap, "add_to_physmap" },
	{ op_transfer, "transfer" },
	{ op_swap, "swap_grant_ref" },
	{ op_status_frames, "get_status_frames" },
	{ op_update_va, "update_va_mapping" },
	{ op_remove_from_physmap, "remove_from_physmap" },
	{ op_reservation, "populate_physmap/decrease_reservation" },
	{ op_unmap_and_replace, "unmap_and_replace" },
	{ op_cache_flush, "cache_flush" },
	{ op_vcpu_info, "vcpu_op" },
	{ op_guest_scribble, "guest scribble" },
	{ op_bad_gnttab, "bad grant_table_op" },
	{ op_destroy, "domain destroy" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state s;   /* large: keep it off the stack */
	unsigned int nd, i, steps;

	memset(&s, 0, sizeof(s));
	s.in = (struct fz_in){ data, size };
	fz_machine_create(&s.fm, 1 + fz_u8(&s.in) % 2);
	nd = 2 + fz_u8(&s.in) % 3;
	for (i = 0; i < nd; i++) {
		uint8_t b = fz_u8(&s.in);

		fz_domain_add(&s.fm, (enum xgnt_domain_type)((b & 3) % 3), (b >> 2) & 1,
			      1 + (b >> 3) % 4, 1 + ((b >> 5) & 1), (b >> 6) & 1 ? 63 : 0);
	}
	fz_check(&s.fm, "creating the domains");
	for (steps = 0; steps < MAX_STEPS && fz_more(&s.in); steps++) {
		unsigned int k = fz_u8(&s.in) % (sizeof(ops) / sizeof(ops[0]));

		fz_trace("%s", ops[k].name);
		ops[k].fn(&s);
		fz_check(&s.fm, ops[k].name);
	}
	fz_machine_finish(&s.fm);
	return 0;
}
