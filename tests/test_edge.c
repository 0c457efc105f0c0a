/* SPDX-License-Identifier: MIT */
/* Rows of the conformance matrix (docs/conformance.md) not covered elsewhere. */
#include "harness.h"

#include <errno.h>
#include <string.h>

static struct xgnt_vcpu *v0(struct xgnt_domain *d)
{
	return t_v0(d);
}

static void setup_table_null_frame_list_is_efault(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };

	(void)state;
	set_xen_guest_handle(st.frame_list, NULL);
	assert_int_equal(xgnt_grant_table_op(v0(d), GNTTABOP_setup_table, &st, 1), -EFAULT);
	xgnt_machine_destroy(m);
}

static void get_status_frames_null_list_is_efault(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct gnttab_get_status_frames gs = { .dom = DOMID_SELF, .nr_frames = 1 };

	(void)state;
	assert_int_equal(t_set_version(d, 2), 0);
	set_xen_guest_handle(gs.frame_list, NULL);
	assert_int_equal(xgnt_grant_table_op(v0(d), GNTTABOP_get_status_frames, &gs, 1), -EFAULT);
	xgnt_machine_destroy(m);
}

static void get_version_null_op_is_efault(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_HVM, false);

	(void)state;
	assert_int_equal(xgnt_grant_table_op(v0(d), GNTTABOP_get_version, NULL, 1), -EFAULT);
	xgnt_machine_destroy(m);
}

/* b.7: status pages still referenced (here a PV guest's own mapping). */
static void set_version_v1_with_pv_status_frame_mapped_is_ebusy(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain_layout l;

	(void)state;
	xgnt_domain_layout(d, &l);
	assert_int_equal(t_set_version(d, 2), 0);
	t_gt_setup(d, 1);   /* maps status frame 0 read-only */
	assert_int_equal(t_set_version(d, 1), -EBUSY);
	assert_int_equal(t_gt_version(d), 2);
	assert_int_equal(xgnt_update_va_mapping(v0(d), l.ext_base + (T_GT_STATUS_OFF << 12),
						INVALID_MFN, 0), 0);
	assert_int_equal(t_set_version(d, 1), 0);
	assert_int_equal(t_gt_version(d), 1);
	xgnt_machine_destroy(m);
}

static int16_t copy1(struct xgnt_domain *d, domid_t sdom, grant_ref_t sref, domid_t ddom,
		     grant_ref_t dref, uint16_t len)
{
	struct gnttab_copy op = {
		.source = { .u.ref = sref, .domid = sdom, .offset = 0 },
		.dest = { .u.ref = dref, .domid = ddom, .offset = 0 },
		.len = len, .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref,
	};

	assert_int_equal(xgnt_grant_table_op(v0(d), GNTTABOP_copy, &op, 1), 0);
	return op.status;
}

/* b.6 #9: a grant of a frame the granter does not have. */
static void copy_from_unpopulated_gfn_is_bad_page_and_leaves_no_flags(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain_layout l;

	(void)state;
	xgnt_domain_layout(g, &l);
	t_gt_setup(g, 1);
	t_gt_setup(b, 1);
	t_grant(g, 10, 2, (l.ext_base >> 12) + 2000, true);   /* nothing there */
	t_grant(b, 11, 2, t_ram_frame(b, 3), false);
	assert_int_equal(copy1(b, 1, 10, 2, 11, 64), GNTST_bad_page);
	assert_int_equal(t_entry_flags(g, 10) & (GTF_reading | GTF_writing), 0);
	assert_int_equal(t_entry_flags(b, 11) & (GTF_reading | GTF_writing), 0);
	xgnt_machine_destroy(m);
}

/* b.6 #10 (XSA-500): a first writable pin of an entry pinned read-only
 * reads the entry again; if it now names another frame, the copy fails. */
static void copy_first_write_pin_of_rewritten_entry_is_general_error(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	volatile uint8_t *old = t_ram_va(g, 5), *new = t_ram_va(g, 6);
	grant_handle_t h;

	(void)state;
	t_gt_setup(g, 1);
	t_gt_setup(b, 1);
	t_grant(g, 10, 2, t_ram_frame(g, 5), false);
	t_grant(b, 11, 2, t_ram_frame(b, 3), false);
	memset((void *)t_ram_va(b, 3), 0xab, 64);
	assert_int_equal(t_map(b, 1, 10, GNTMAP_host_map | GNTMAP_readonly, t_ext_addr(b, 0), &h),
			 GNTST_okay);
	t_grant(g, 10, 2, t_ram_frame(g, 6), false);   /* rewritten while pinned */
	assert_int_equal(copy1(b, 2, 11, 1, 10, 64), GNTST_general_error);
	assert_int_equal(old[0], 0);
	assert_int_equal(new[0], 0);
	assert_false(t_entry_flags(g, 10) & GTF_writing);
	assert_true(t_entry_flags(g, 10) & GTF_reading);
	/* Restored, the same copy goes to the pinned frame. */
	t_grant(g, 10, 2, t_ram_frame(g, 5), false);
	assert_int_equal(copy1(b, 2, 11, 1, 10, 64), GNTST_okay);
	assert_int_equal(old[0], 0xab);
	assert_int_equal(t_unmap(b, h, t_ext_addr(b, 0), 0), GNTST_okay);
	xgnt_machine_destroy(m);
}

/* Dying granter: no new maps; an already-pinned copy gets bad_domain. */
static void dying_granter_refuses_new_maps_and_pinned_copies(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *c = t_domain(m, 3, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;

	(void)state;
	t_gt_setup(g, 1);
	t_gt_setup(b, 1);
	t_grant(g, 10, 2, t_ram_frame(g, 5), false);
	t_grant(g, 12, 3, t_ram_frame(g, 5), false);   /* the frame b keeps alive */
	t_grant(g, 13, 3, t_ram_frame(g, 6), false);   /* a frame that goes */
	t_grant(b, 11, 2, t_ram_frame(b, 3), false);
	assert_int_equal(t_map(b, 1, 10, GNTMAP_host_map, t_ext_addr(b, 0), &h), GNTST_okay);
	assert_int_equal(xgnt_domain_destroy(g), 0);   /* a zombie: b maps its frame */
	assert_int_equal(t_map(c, 1, 12, GNTMAP_host_map, t_ext_addr(c, 0), NULL),
			 GNTST_general_error);
	assert_int_equal(t_map(c, 1, 13, GNTMAP_host_map, t_ext_addr(c, 1), NULL), GNTST_bad_page);
	assert_int_equal(copy1(b, 1, 10, 2, 11, 64), GNTST_bad_domain);
	assert_int_equal(t_unmap(b, h, t_ext_addr(b, 0), 0), GNTST_okay);
	xgnt_machine_destroy(m);
}

/* b.5 #12: the receiver names a gfn it cannot have: the transfer fails,
 * GTF_transfer_completed is still set, and the frame is the receiver's. */
static void transfer_to_gfn_beyond_receiver_is_general_error_but_completed(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *a = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *b = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	xen_pfn_t gfn = 9;
	struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
	struct gnttab_transfer op = { .domid = 2, .ref = 10 };
	uint32_t before;

	(void)state;
	set_xen_guest_handle(r.extent_start, &gfn);
	t_gt_setup(b, 1);
	assert_int_equal(xgnt_memory_op(v0(b), XENMEM_decrease_reservation, &r), 1);
	t_grant_accept_transfer(b, 10, 1, 0x7fffffff);   /* far beyond b's memory */
	op.mfn = xgnt_domain_pfn_to_mfn(a, 7);
	before = xgnt_machine_free_frames(m);
	assert_int_equal(xgnt_grant_table_op(v0(a), GNTTABOP_transfer, &op, 1), 0);
	assert_int_equal(op.status, GNTST_general_error);
	assert_int_equal(t_entry_flags(b, 10),
			 GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed);
	assert_int_equal(xgnt_machine_free_frames(m), before);   /* b owns it, unplaced */
	xgnt_machine_destroy(m);
}

static void cache_flush_of_io_memory_is_eperm(void **state)
{
	struct xgnt_machine_config cfg = { .nr_frames = 16384, .nr_iomem_frames = 4 };
	struct xgnt_machine *m = xgnt_machine_create(&cfg);
	struct xgnt_domain *d;
	struct gnttab_cache_flush cf = {
		.a.dev_bus_addr = (uint64_t)16385 << 12, .length = 16, .op = GNTTAB_CACHE_CLEAN,
	};

	(void)state;
	assert_non_null(m);
	d = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	assert_int_equal(xgnt_grant_table_op(v0(d), GNTTABOP_cache_flush, &cf, 1), -EPERM);
	xgnt_machine_destroy(m);
}

static void bind_pirq_privileged_pv_is_einval_and_port_reused(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 0 };
	struct evtchn_alloc_unbound b = { .dom = DOMID_SELF, .remote_dom = 0 };
	struct evtchn_bind_pirq p = { .pirq = 5 };
	struct evtchn_close cl;

	(void)state;
	assert_int_equal(xgnt_event_channel_op(v0(d), EVTCHNOP_alloc_unbound, &a), 0);
	cl.port = a.port;
	assert_int_equal(xgnt_event_channel_op(v0(d), EVTCHNOP_close, &cl), 0);
	assert_int_equal(xgnt_event_channel_op(v0(d), EVTCHNOP_bind_pirq, &p), -EINVAL);
	assert_int_equal(xgnt_event_channel_op(v0(d), EVTCHNOP_alloc_unbound, &b), 0);
	assert_int_equal(b.port, a.port);
	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(setup_table_null_frame_list_is_efault),
		cmocka_unit_test(get_status_frames_null_list_is_efault),
		cmocka_unit_test(get_version_null_op_is_efault),
		cmocka_unit_test(set_version_v1_with_pv_status_frame_mapped_is_ebusy),
		cmocka_unit_test(copy_from_unpopulated_gfn_is_bad_page_and_leaves_no_flags),
		cmocka_unit_test(copy_first_write_pin_of_rewritten_entry_is_general_error),
		cmocka_unit_test(dying_granter_refuses_new_maps_and_pinned_copies),
		cmocka_unit_test(transfer_to_gfn_beyond_receiver_is_general_error_but_completed),
		cmocka_unit_test(cache_flush_of_io_memory_is_eperm),
		cmocka_unit_test(bind_pirq_privileged_pv_is_einval_and_port_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
