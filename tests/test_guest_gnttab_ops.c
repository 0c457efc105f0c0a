/* SPDX-License-Identifier: MIT */
/*
 * The guest library's grant table, continued: transfer end to end (seed
 * 001's second mode), reserve batches and free callbacks (Linux's reserve
 * API underneath), grant copy, and the GNTST_eagain retries of map, unmap
 * and copy (through a port that answers eagain, since the model never
 * does: docs/fidelity.md 23).
 */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xgnt/guest.h>

#include "plat/plat.h"

#define ID_A 1
#define ID_B 2

struct env {
	struct xgnt_machine *m;
	struct xgnt_guest *a, *b;
};

static void env_up_max(struct env *e, enum xgnt_domain_type ta, unsigned int va,
		       enum xgnt_domain_type tb, unsigned int vb, uint32_t max_frames)
{
	e->m = t_machine_cfg(16384, max_frames, 0, 0);
	e->a = xgnt_guest_create_inproc(t_domain(e->m, ID_A, ta, false));
	e->b = xgnt_guest_create_inproc(t_domain(e->m, ID_B, tb, false));
	assert_non_null(e->a);
	assert_non_null(e->b);
	assert_int_equal(xgnt_gnttab_init(e->a, va), 0);
	assert_int_equal(xgnt_gnttab_init(e->b, vb), 0);
}

static void env_down(struct env *e)
{
	xgnt_guest_destroy(e->a);
	xgnt_guest_destroy(e->b);
	xgnt_machine_destroy(e->m);
}

static void fill(void *p, uint8_t seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < PAGE_SIZE; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static bool is_fill(const void *p, uint8_t seed)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (b[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

/* ---- transfer ------------------------------------------------------------------------ */

/* Give page p of g back to the hypervisor (it keeps its place in g's
 * allocator): the slot a transfer fills. Returns the frame g names it by. */
static xen_pfn_t balloon_out(struct xgnt_guest *g, void *p)
{
	struct xen_memory_reservation r = { .domid = DOMID_SELF, .nr_extents = 1 };
	xen_pfn_t f = xgnt_guest_frame(g, p);

	set_xen_guest_handle(r.extent_start, &f);
	assert_int_equal(xgnt_hyp_memory_op(g, XENMEM_decrease_reservation, &r), 1);
	return xgnt_guest_addr(g, p) >> 12;
}

/* PV a hands a filled page to b through b's accept-transfer grant. */
static void send_page(struct xgnt_guest *a, domid_t to, grant_ref_t ref, uint8_t seed)
{
	void *sp = xgnt_page_alloc(a, 1);
	struct gnttab_transfer t = { .domid = to, .ref = ref };

	assert_non_null(sp);
	fill(sp, seed);
	t.mfn = xgnt_guest_frame(a, sp);
	assert_int_equal(xgnt_hyp_grant_table_op(a, GNTTABOP_transfer, &t, 1), 0);
	assert_int_equal(t.status, GNTST_okay);
	/* The page is gone from a (it stays taken in a's allocator). */
}

static void transfer_to(enum xgnt_domain_type tb, unsigned int vb)
{
	unsigned int nfree;
	grant_ref_t ref;
	struct env e;
	xen_pfn_t pfn, got;
	void *page;

	env_up_max(&e, XGNT_DOMAIN_PV, 1, tb, vb, 0);
	page = xgnt_page_alloc(e.b, 1);
	assert_non_null(page);
	pfn = balloon_out(e.b, page);
	nfree = xgnt_gref_nr_free(e.b);
	assert_int_equal(xgnt_grant_transfer(e.b, ID_A, pfn, &ref), 0);
	send_page(e.a, ID_B, ref, 0x40);
	got = xgnt_end_transfer(e.b, ref);
	assert_int_equal(xgnt_gref_nr_free(e.b), nfree);   /* the ref came back */
	if (tb != XGNT_DOMAIN_PV) {
		/* Translated: the frame landed at the gfn the entry named. */
		assert_int_equal(got, pfn);
		assert_true(is_fill(page, 0x40));
	} else {
		/* PV: a machine frame, which the guest maps where it wants. */
		struct xgnt_port *port = xgnt_guest_port(e.b);

		assert_int_not_equal(got, INVALID_MFN);
		uint64_t addr = xgnt_guest_addr(e.b, page);

		assert_int_equal(port->ops->update_va_mapping(port, 0, addr, got, XGNT_PROT_READ), 0);
		assert_true(is_fill(page, 0x40));
	}
	env_down(&e);
}

static void test_transfer_pv_to_translated_and_pv(void **state)
{
	(void)state;
	transfer_to(XGNT_DOMAIN_HVM, 1);
	transfer_to(XGNT_DOMAIN_HVM, 2);
	transfer_to(XGNT_DOMAIN_ARM, 1);
	transfer_to(XGNT_DOMAIN_PV, 1);
	transfer_to(XGNT_DOMAIN_PV, 2);
}

static void test_end_transfer_without_transfer(void **state)
{
	grant_ref_t ref, aref;
	unsigned int nfree;
	struct env e;

	(void)state;
	env_up_max(&e, XGNT_DOMAIN_PV, 1, XGNT_DOMAIN_HVM, 1, 0);
	nfree = xgnt_gref_nr_free(e.b);
	/* Nothing came: the entry is invalidated and the reference freed. */
	assert_int_equal(xgnt_grant_transfer(e.b, ID_A, 100, &ref), 0);
	assert_int_equal(xgnt_end_transfer(e.b, ref), INVALID_MFN);
	assert_int_equal(xgnt_gref_nr_free(e.b), nfree);
	/* ... so a transfer into it now fails, and nothing is committed. */
	{
		void *sp = xgnt_page_alloc(e.a, 1);
		struct gnttab_transfer t = { .domid = ID_B, .ref = ref };

		t.mfn = xgnt_guest_frame(e.a, sp);
		assert_int_equal(xgnt_hyp_grant_table_op(e.a, GNTTABOP_transfer, &t, 1), 0);
		assert_int_equal(t.status, GNTST_general_error);
	}
	/* The _ref pair keeps the reference. */
	assert_int_equal(xgnt_gref_alloc(e.b, &ref), 0);
	xgnt_grant_transfer_ref(e.b, ref, ID_A, 100);
	assert_int_equal(xgnt_end_transfer_ref(e.b, ref), INVALID_MFN);
	assert_int_equal(xgnt_gref_nr_free(e.b), nfree - 1);
	/* An access grant is not ended by end_transfer. */
	assert_int_equal(xgnt_grant_access(e.b, ID_A, 3, false, &aref), 0);
	assert_int_equal(xgnt_end_transfer(e.b, aref), INVALID_MFN);
	assert_int_equal(xgnt_end_access(e.b, aref), 0);
	xgnt_gref_free(e.b, ref);
	assert_int_equal(xgnt_gref_nr_free(e.b), nfree);
	env_down(&e);
}

/* ---- reserve batches ---------------------------------------------------------------------- */

static void test_reserve_batch_claim_release_free(void **state)
{
	grant_ref_t head, refs[10];
	unsigned int nfree, i, j;
	struct env e;

	(void)state;
	env_up_max(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM, 1, 0);
	nfree = xgnt_gref_nr_free(e.a);
	assert_int_equal(xgnt_gref_alloc_batch(e.a, 10, &head), 0);
	assert_int_equal(xgnt_gref_nr_free(e.a), nfree - 10);
	assert_false(xgnt_gref_batch_empty(&head));
	for (i = 0; i < 10; i++) {
		int r = xgnt_gref_claim(e.a, &head);

		assert_true(r >= GNTTAB_NR_RESERVED_ENTRIES);
		refs[i] = (grant_ref_t)r;
		for (j = 0; j < i; j++)
			assert_int_not_equal(refs[j], refs[i]);
	}
	assert_true(xgnt_gref_batch_empty(&head));
	assert_int_equal(xgnt_gref_claim(e.a, &head), -ENOSPC);

	/* A claimed reference grants like any other. */
	void *p = xgnt_page_alloc(e.a, 1), *mp = xgnt_unpopulated_alloc(e.b, 1);
	struct gnttab_map_grant_ref op = {
		.host_addr = xgnt_guest_addr(e.b, mp), .flags = GNTMAP_host_map,
		.ref = refs[4], .dom = ID_A,
	};
	struct gnttab_unmap_grant_ref uop = { .host_addr = op.host_addr };

	fill(p, 3);
	xgnt_grant_access_ref(e.a, refs[4], ID_B, xgnt_guest_frame(e.a, p), false);
	assert_int_equal(xgnt_map_refs(e.b, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
	assert_true(is_fill(mp, 3));
	assert_int_equal(xgnt_end_access_ref(e.a, refs[4]), -EBUSY);
	uop.handle = op.handle;
	assert_int_equal(xgnt_unmap_refs(e.b, &uop, 1), 0);
	assert_int_equal(uop.status, GNTST_okay);
	assert_int_equal(xgnt_end_access_ref(e.a, refs[4]), 0);
	assert_int_equal(xgnt_unpopulated_free(e.b, mp, 1), 0);

	/* Released ones come back out of the batch, last in first out. */
	for (i = 0; i < 3; i++)
		xgnt_gref_release(e.a, &head, refs[i]);
	xgnt_gref_release(e.a, &head, refs[0]);   /* not claimed: ignored */
	for (i = 3; i-- > 0;)
		assert_int_equal(xgnt_gref_claim(e.a, &head), refs[i]);
	for (i = 0; i < 5; i++)
		xgnt_gref_release(e.a, &head, refs[i]);
	assert_int_equal(xgnt_gref_nr_free(e.a), nfree - 10);
	xgnt_gref_free_batch(e.a, head);
	assert_int_equal(xgnt_gref_nr_free(e.a), nfree - 5);
	for (i = 5; i < 10; i++)
		xgnt_gref_free(e.a, refs[i]);
	assert_int_equal(xgnt_gref_nr_free(e.a), nfree);

	/* An empty batch. */
	assert_int_equal(xgnt_gref_alloc_batch(e.a, 0, &head), 0);
	assert_true(xgnt_gref_batch_empty(&head));
	xgnt_gref_free_batch(e.a, head);
	xgnt_page_free(e.a, p, 1);
	env_down(&e);
}

static void test_reserve_batch_all_or_nothing_and_growth(void **state)
{
	grant_ref_t head, head2, ref;
	struct env e;

	(void)state;
	env_up_max(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM, 1, 2);
	assert_int_equal(xgnt_gref_nr_free(e.a), 504);
	/* More than the table can ever hold: nothing taken, nothing grown. */
	assert_int_equal(xgnt_gref_alloc_batch(e.a, 1017, &head), -ENOSPC);
	assert_int_equal(xgnt_gref_nr_free(e.a), 504);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 1);
	/* Exactly all of it: grows to the maximum. */
	assert_int_equal(xgnt_gref_alloc_batch(e.a, 1016, &head), 0);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 2);
	assert_int_equal(xgnt_gref_nr_free(e.a), 0);
	assert_int_equal(xgnt_gref_alloc(e.a, &ref), -ENOSPC);
	assert_int_equal(xgnt_gref_alloc_batch(e.a, 1, &head2), -ENOSPC);
	xgnt_gref_free_batch(e.a, head);
	assert_int_equal(xgnt_gref_nr_free(e.a), 1016);
	env_down(&e);
}

/* ---- free callbacks ------------------------------------------------------------------------ */

struct cbstate {
	struct xgnt_guest *g;
	int fired;
	int alloc_rc;
	grant_ref_t got;
	bool alloc_inside;
};

static void on_free(void *arg)
{
	struct cbstate *s = arg;

	s->fired++;
	/* The library holds no lock here: allocating must work. */
	if (s->alloc_inside)
		s->alloc_rc = xgnt_gref_alloc(s->g, &s->got);
}

static void test_free_callbacks(void **state)
{
	struct xgnt_gref_callback cb1, cb2, cb3;
	struct cbstate s1 = { 0 }, s2 = { 0 }, s3 = { 0 };
	grant_ref_t head;
	int refs[504];
	struct env e;
	unsigned int i;

	(void)state;
	env_up_max(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM, 1, 1);
	s1.g = s2.g = s3.g = e.a;
	assert_int_equal(xgnt_gref_alloc_batch(e.a, 504, &head), 0);
	for (i = 0; i < 504; i++)
		refs[i] = xgnt_gref_claim(e.a, &head);

	/* Fires once, when two are free. */
	xgnt_gref_request_free_callback(e.a, &cb1, on_free, &s1, 2);
	xgnt_gref_request_free_callback(e.a, &cb1, on_free, &s1, 2);   /* pending: no-op */
	assert_int_equal(s1.fired, 0);
	xgnt_gref_free(e.a, (grant_ref_t)refs[0]);
	assert_int_equal(s1.fired, 0);
	xgnt_gref_free(e.a, (grant_ref_t)refs[1]);
	assert_int_equal(s1.fired, 1);
	xgnt_gref_free(e.a, (grant_ref_t)refs[2]);
	assert_int_equal(s1.fired, 1);
	/* Enough free already: at once. */
	xgnt_gref_request_free_callback(e.a, &cb1, on_free, &s1, 3);
	assert_int_equal(s1.fired, 2);

	/* Cancelled: never. */
	xgnt_gref_request_free_callback(e.a, &cb2, on_free, &s2, 10);
	xgnt_gref_cancel_free_callback(e.a, &cb2);
	for (i = 3; i < 20; i++)
		xgnt_gref_free(e.a, (grant_ref_t)refs[i]);
	assert_int_equal(s2.fired, 0);
	xgnt_gref_cancel_free_callback(e.a, &cb2);   /* not pending: fine */

	/* A callback may allocate. */
	s3.alloc_inside = true;
	xgnt_gref_request_free_callback(e.a, &cb3, on_free, &s3, 30);
	assert_int_equal(s3.fired, 0);
	for (; i < 40; i++)
		xgnt_gref_free(e.a, (grant_ref_t)refs[i]);
	assert_int_equal(s3.fired, 1);
	assert_int_equal(s3.alloc_rc, 0);
	xgnt_gref_free(e.a, s3.got);
	for (; i < 504; i++)
		xgnt_gref_free(e.a, (grant_ref_t)refs[i]);
	assert_int_equal(xgnt_gref_nr_free(e.a), 504);
	env_down(&e);
}

static void test_free_callback_grows_the_table_first(void **state)
{
	struct xgnt_gref_callback cb;
	struct cbstate s = { 0 };
	struct env e;

	(void)state;
	env_up_max(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM, 1, 0);
	xgnt_gref_request_free_callback(e.a, &cb, on_free, &s, 600);
	assert_int_equal(s.fired, 1);
	assert_int_equal(xgnt_gnttab_nr_frames(e.a), 2);
	env_down(&e);
}

/* ---- copy -------------------------------------------------------------------------------- */

static void test_copy_into_and_out_of_a_grant(void **state)
{
	struct gnttab_copy c[2];
	grant_ref_t ref;
	struct env e;
	uint8_t *pa, *pb;

	(void)state;
	env_up_max(&e, XGNT_DOMAIN_HVM, 2, XGNT_DOMAIN_PV, 1, 0);
	pa = xgnt_page_alloc(e.a, 1);
	pb = xgnt_page_alloc(e.b, 1);
	memset(pa, 0, PAGE_SIZE);
	fill(pb, 9);
	assert_int_equal(xgnt_grant_access(e.a, ID_B, xgnt_guest_frame(e.a, pa), false, &ref), 0);
	memset(c, 0, sizeof(c));
	c[0].source.u.gmfn = xgnt_guest_frame(e.b, pb);
	c[0].source.domid = DOMID_SELF;
	c[0].dest.u.ref = ref;
	c[0].dest.domid = ID_A;
	c[0].dest.offset = 100;
	c[0].len = 200;
	c[0].flags = GNTCOPY_dest_gref;
	c[1] = c[0];
	c[1].dest.u.ref = 5000;   /* not granted */
	assert_int_equal(xgnt_copy(e.b, c, 2), 0);
	assert_int_equal(c[0].status, GNTST_okay);
	assert_int_equal(c[1].status, GNTST_bad_gntref);
	assert_memory_equal(pa + 100, pb, 200);
	assert_int_equal(pa[99], 0);
	assert_int_equal(xgnt_end_access(e.a, ref), 0);
	env_down(&e);
}

/* ---- GNTST_eagain: a port that answers it -------------------------------------------------- */

/* Ops on refs at or above FLAKY get GNTST_eagain the first `flaky` times. */
#define FLAKY 1000

struct flaky_port {
	struct xgnt_port port;
	struct xgnt_domain *d;
	unsigned int flaky;
	unsigned int seen[16];
	unsigned int calls;
};

static struct flaky_port *fp_of(struct xgnt_port *p)
{
	return (struct flaky_port *)p;
}

static bool inject(struct flaky_port *f, grant_ref_t ref)
{
	if (ref < FLAKY || ref >= FLAKY + 16 || f->seen[ref - FLAKY] >= f->flaky)
		return false;
	f->seen[ref - FLAKY]++;
	return true;
}

static long fp_gnttab(struct xgnt_port *p, unsigned int vcpu, unsigned int cmd, void *uop,
		      unsigned int count)
{
	struct flaky_port *f = fp_of(p);
	struct xgnt_vcpu *v = xgnt_domain_vcpu(f->d, vcpu);
	unsigned int i;
	long rc;

	f->calls++;
	if (cmd != GNTTABOP_map_grant_ref && cmd != GNTTABOP_copy)
		return xgnt_grant_table_op(v, cmd, uop, count);
	for (i = 0; i < count; i++) {
		if (cmd == GNTTABOP_map_grant_ref) {
			struct gnttab_map_grant_ref *op = (struct gnttab_map_grant_ref *)uop + i;
			grant_ref_t real = op->ref % FLAKY;

			if (inject(f, op->ref)) {
				op->status = GNTST_eagain;
				continue;
			}
			op->ref = real;
			rc = xgnt_grant_table_op(v, cmd, op, 1);
		} else {
			struct gnttab_copy *op = (struct gnttab_copy *)uop + i;

			if (inject(f, op->dest.u.ref)) {
				op->status = GNTST_eagain;
				continue;
			}
			op->dest.u.ref %= FLAKY;
			rc = xgnt_grant_table_op(v, cmd, op, 1);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static long fp_memory(struct xgnt_port *p, unsigned int vcpu, unsigned int cmd, void *arg)
{
	return xgnt_memory_op(xgnt_domain_vcpu(fp_of(p)->d, vcpu), cmd, arg);
}

static long fp_event(struct xgnt_port *p, unsigned int vcpu, int cmd, void *arg)
{
	return xgnt_event_channel_op(xgnt_domain_vcpu(fp_of(p)->d, vcpu), cmd, arg);
}

static long fp_vcpu(struct xgnt_port *p, unsigned int vcpu, int cmd, unsigned int id, void *arg)
{
	return xgnt_vcpu_op(xgnt_domain_vcpu(fp_of(p)->d, vcpu), cmd, id, arg);
}

static void *fp_va(struct xgnt_port *p, uint64_t addr)
{
	return xgnt_domain_va(fp_of(p)->d, addr);
}

static void fp_destroy(struct xgnt_port *p)
{
	(void)p;   /* the test owns it */
}

static const struct xgnt_port_ops flaky_ops = {
	.grant_table_op = fp_gnttab,
	.memory_op = fp_memory,
	.event_channel_op = fp_event,
	.vcpu_op = fp_vcpu,
	.va = fp_va,
	.destroy = fp_destroy,
};

static struct xgnt_guest *flaky_guest(struct flaky_port *f, struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;
	struct xgnt_guest_info info = { 0 };

	memset(f, 0, sizeof(*f));
	f->port.ops = &flaky_ops;
	f->d = d;
	xgnt_domain_layout(d, &l);
	info.domid = xgnt_domain_id(d);
	info.translated = true;
	info.nr_vcpus = 2;
	info.ram_size = l.ram_size;
	info.ext_base = l.ext_base;
	info.ext_size = l.ext_size;
	return xgnt_guest_create(&f->port, &info);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void test_eagain_is_retried_with_backoff(void **state)
{
	struct gnttab_map_grant_ref op[3];
	struct gnttab_unmap_grant_ref uop[3];
	struct gnttab_copy c;
	struct flaky_port f;
	grant_ref_t ref[3];
	struct env e;
	void *p, *mp;
	int64_t t0, dt;
	unsigned int i;

	(void)state;
	env_up_max(&e, XGNT_DOMAIN_HVM, 1, XGNT_DOMAIN_HVM, 1, 0);
	xgnt_guest_destroy(e.b);
	e.b = flaky_guest(&f, xgnt_domain_lookup(e.m, ID_B));
	assert_non_null(e.b);
	p = xgnt_page_alloc(e.a, 1);
	fill(p, 0x61);
	for (i = 0; i < 3; i++)
		assert_int_equal(xgnt_grant_access(e.a, ID_B, xgnt_guest_frame(e.a, p), false,
						   &ref[i]), 0);
	mp = xgnt_unpopulated_alloc(e.b, 3);
	assert_non_null(mp);

	/* The middle op says eagain three times, then maps. */
	f.flaky = 3;
	memset(op, 0, sizeof(op));
	for (i = 0; i < 3; i++) {
		op[i].host_addr = xgnt_guest_addr(e.b, mp) + i * PAGE_SIZE;
		op[i].flags = GNTMAP_host_map;
		op[i].dom = ID_A;
		op[i].ref = ref[i];
	}
	op[1].ref = FLAKY + ref[1];
	assert_int_equal(xgnt_map_refs(e.b, op, 3), 0);
	assert_int_equal(f.calls, 4);   /* the batch, then three single retries */
	for (i = 0; i < 3; i++) {
		assert_int_equal(op[i].status, GNTST_okay);
		assert_true(is_fill((uint8_t *)mp + i * PAGE_SIZE, 0x61));
		uop[i].host_addr = op[i].host_addr;
		uop[i].dev_bus_addr = 0;
		uop[i].handle = op[i].handle;
	}
	assert_int_equal(xgnt_unmap_refs(e.b, uop, 3), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(uop[i].status, GNTST_okay);

	/* Always eagain: given up after about a second, the status says why. */
	f.flaky = 1000000;
	memset(f.seen, 0, sizeof(f.seen));
	op[0].ref = FLAKY + ref[0];
	t0 = now_ns();
	assert_int_equal(xgnt_map_refs(e.b, op, 1), 0);
	dt = now_ns() - t0;
	assert_int_equal(op[0].status, GNTST_eagain);
	assert_true(dt >= 900000000ll && dt < 3000000000ll);

	/* Copy retries the same way. */
	f.flaky = 2;
	memset(f.seen, 0, sizeof(f.seen));
	memset(&c, 0, sizeof(c));
	c.source.u.gmfn = xgnt_guest_frame(e.b, xgnt_page_alloc(e.b, 1));
	c.source.domid = DOMID_SELF;
	c.dest.u.ref = FLAKY + ref[2];
	c.dest.domid = ID_A;
	c.len = 16;
	c.flags = GNTCOPY_dest_gref;
	assert_int_equal(xgnt_copy(e.b, &c, 1), 0);
	assert_int_equal(c.status, GNTST_okay);

	assert_int_equal(xgnt_unpopulated_free(e.b, mp, 3), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(xgnt_end_access(e.a, ref[i]), 0);
	env_down(&e);
}

static void on_release(void *page, void *arg)
{
	(void)page;
	on_free(arg);
}

/* ---- allocation failures ----------------------------------------------------------------- */

/*
 * Fail the n-th allocation (guest library or hypervisor) of set-up, of
 * growth and of a deferred end, for every n: each fails cleanly or
 * succeeds, the table stays usable, and nothing leaks.
 */
static void alloc_failures(enum xgnt_domain_type t, unsigned int version)
{
	unsigned int per = version == 2 ? 256 : 512;
	unsigned long n, count;
	grant_ref_t ref;

	for (n = 1; n < 1000; n++) {
		long live0 = t_live_allocs();
		struct env e;
		int rc;

		e.m = t_machine_cfg(16384, 4, 0, 0);
		e.a = xgnt_guest_create_inproc(t_domain(e.m, ID_A, t, false));
		e.b = xgnt_guest_create_inproc(t_domain(e.m, ID_B, XGNT_DOMAIN_HVM, false));
		assert_non_null(e.a);
		assert_non_null(e.b);

		plat_fail_after(n);
		rc = xgnt_gnttab_init(e.a, version);
		count = plat_alloc_count();
		plat_fail_after(0);
		if (rc) {
			assert_true(rc < 0);
			assert_int_equal(xgnt_gnttab_nr_frames(e.a), 0);
		}
		if (rc || count >= n) {   /* set-up again, unhindered */
			if (rc)
				assert_int_equal(xgnt_gnttab_init(e.a, version), 0);
		}
		/* Growth: fill frame 0, then fail inside the growing grant. */
		while (xgnt_gref_nr_free(e.a))
			assert_int_equal(xgnt_gref_alloc(e.a, &ref), 0);
		plat_fail_after(n);
		rc = xgnt_gref_alloc(e.a, &ref);
		count = MAX(count, plat_alloc_count());
		plat_fail_after(0);
		if (rc) {
			assert_true(rc < 0 && rc != -ENOSPC);
			assert_int_equal(xgnt_gnttab_nr_frames(e.a), 1);
			assert_int_equal(xgnt_gref_alloc(e.a, &ref), 0);
		}
		assert_int_equal(xgnt_gnttab_nr_frames(e.a), 2);
		assert_int_equal(xgnt_gref_nr_free(e.a), per - 1);
		xgnt_gref_free(e.a, ref);

		/* A deferred end that cannot be queued leaks, and never releases. */
		{
			void *p = xgnt_page_alloc(e.a, 1), *mp = xgnt_unpopulated_alloc(e.b, 1);
			struct gnttab_map_grant_ref op = {
				.host_addr = xgnt_guest_addr(e.b, mp), .flags = GNTMAP_host_map,
				.dom = ID_A,
			};
			struct gnttab_unmap_grant_ref uop = { .host_addr = op.host_addr };
			struct cbstate s = { 0 };

			assert_int_equal(xgnt_grant_access(e.a, ID_B, xgnt_guest_frame(e.a, p), false,
							   &op.ref), 0);
			assert_int_equal(xgnt_map_refs(e.b, &op, 1), 0);
			assert_int_equal(op.status, GNTST_okay);
			plat_fail_after(1);
			xgnt_end_access_deferred(e.a, op.ref, on_release, p, &s);
			plat_fail_after(0);
			assert_int_equal(xgnt_gnttab_nr_leaked(e.a), 1);
			assert_int_equal(xgnt_gnttab_nr_deferred(e.a), 0);
			uop.handle = op.handle;
			assert_int_equal(xgnt_unmap_refs(e.b, &uop, 1), 0);
			assert_int_equal(uop.status, GNTST_okay);
			assert_int_equal(xgnt_gnttab_poll_deferred(e.a), 0);
			assert_int_equal(s.fired, 0);
		}
		env_down(&e);
		assert_int_equal(t_live_allocs(), live0);
		if (count < n)
			break;   /* no allocation point left to fail */
	}
	assert_true(n > 1);
}

static void test_allocation_failures(void **state)
{
	(void)state;
	alloc_failures(XGNT_DOMAIN_HVM, 1);
	alloc_failures(XGNT_DOMAIN_HVM, 2);
	alloc_failures(XGNT_DOMAIN_PV, 1);
	alloc_failures(XGNT_DOMAIN_PV, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transfer_pv_to_translated_and_pv),
		cmocka_unit_test(test_end_transfer_without_transfer),
		cmocka_unit_test(test_reserve_batch_claim_release_free),
		cmocka_unit_test(test_reserve_batch_all_or_nothing_and_growth),
		cmocka_unit_test(test_free_callbacks),
		cmocka_unit_test(test_free_callback_grows_the_table_first),
		cmocka_unit_test(test_copy_into_and_out_of_a_grant),
		cmocka_unit_test(test_eagain_is_retried_with_backoff),
		cmocka_unit_test(test_allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
