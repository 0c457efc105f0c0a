/* SPDX-License-Identifier: MIT */
/* GNTTABOP_map_grant_ref against the public ABI: Xen's statuses, check order,
 * pin and maptrack limits, and real sharing of the granted frame. */
#include "harness.h"

#include <errno.h>
#include <string.h>

#define GRANTER 1
#define MAPPER  2
#define OTHER   3
#define REF     8      /* first entry after the reserved ones */
#define PAGE    5      /* granter's RAM page behind REF */
#define UNTOUCHED_HANDLE ((grant_handle_t)0x12345678)
#define UNTOUCHED_BUS    0xabcdef000ull
#define GTF_PINS (GTF_reading | GTF_writing)

struct env {
	struct xgnt_machine *m;
	struct xgnt_domain *g;     /* granter, table of one frame */
	struct xgnt_domain *mp;    /* mapper */
};

static void env_init(struct env *e, enum xgnt_domain_type gtype,
		     enum xgnt_domain_type mtype)
{
	e->m = t_machine();
	e->g = t_domain(e->m, GRANTER, gtype, false);
	e->mp = t_domain(e->m, MAPPER, mtype, false);
	t_gt_setup(e->g, 1);
}

static void env_fini(struct env *e)
{
	xgnt_machine_destroy(e->m);
}

static uint16_t pins(struct xgnt_domain *g, grant_ref_t ref)
{
	return t_entry_flags(g, ref) & GTF_PINS;
}

static volatile uint32_t *u32_at(struct xgnt_domain *d, uint64_t addr)
{
	volatile uint32_t *p = xgnt_domain_va(d, addr);

	assert_non_null((void *)p);
	return p;
}

static volatile uint32_t *ram_u32(struct xgnt_domain *d, unsigned int i)
{
	volatile uint32_t *p = t_ram_va(d, i);

	assert_non_null((void *)p);
	return p;
}

/* One map op issued directly, so the caller sees every field afterwards. */
static struct gnttab_map_grant_ref map_op(domid_t dom, grant_ref_t ref, uint32_t flags,
					  uint64_t host_addr)
{
	struct gnttab_map_grant_ref op = {
		.host_addr = host_addr, .flags = flags, .ref = ref, .dom = dom,
		.handle = UNTOUCHED_HANDLE, .dev_bus_addr = UNTOUCHED_BUS,
		.status = 0x7777,
	};
	return op;
}

static long map_raw(struct xgnt_domain *d, struct gnttab_map_grant_ref *op, unsigned int n)
{
	return xgnt_grant_table_op(t_v0(d), GNTTABOP_map_grant_ref, op, n);
}

/* A failed map leaves everything but status as the guest wrote it. */
static void assert_map_failed_clean(const struct gnttab_map_grant_ref *op, int16_t status)
{
	assert_int_equal(op->status, status);
	assert_int_equal(op->handle, UNTOUCHED_HANDLE);
	assert_true(op->dev_bus_addr == UNTOUCHED_BUS);
}

/* ---- sharing ---------------------------------------------------------- */

static void check_host_map_shares(enum xgnt_domain_type gtype, enum xgnt_domain_type mtype)
{
	struct env e;
	grant_handle_t h = 0;
	volatile uint32_t *mine, *theirs;
	uint64_t addr;

	env_init(&e, gtype, mtype);
	addr = t_ext_addr(e.mp, 3);
	theirs = ram_u32(e.g, PAGE);
	*theirs = 0x600dcafe;
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);

	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map, addr, &h), GNTST_okay);
	assert_int_not_equal(h, (grant_handle_t)0xdeadbeef);
	mine = u32_at(e.mp, addr);
	assert_int_equal(*mine, 0x600dcafe);
	*mine = 0x12345678;
	assert_int_equal(*theirs, 0x12345678);
	theirs[100] = 0xfeedface;
	assert_int_equal(mine[100], 0xfeedface);
	assert_int_equal(pins(e.g, REF), GTF_PINS);

	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	env_fini(&e);
}

static void map_host_map_hvm_from_hvm_shares_frame(void **state)
{
	(void)state;
	check_host_map_shares(XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
}

static void map_host_map_pv_from_pv_shares_frame(void **state)
{
	(void)state;
	check_host_map_shares(XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
}

static void map_host_map_arm_from_arm_shares_frame(void **state)
{
	(void)state;
	check_host_map_shares(XGNT_DOMAIN_ARM, XGNT_DOMAIN_ARM);
}

static void map_host_map_hvm_mapper_pv_granter_shares_frame(void **state)
{
	(void)state;
	check_host_map_shares(XGNT_DOMAIN_PV, XGNT_DOMAIN_HVM);
}

static void map_host_map_pv_mapper_hvm_granter_shares_frame(void **state)
{
	(void)state;
	check_host_map_shares(XGNT_DOMAIN_HVM, XGNT_DOMAIN_PV);
}

static void check_readonly_map_faults_on_write(enum xgnt_domain_type type)
{
	struct env e;
	grant_handle_t h;
	volatile uint32_t *mine;
	uint64_t addr;

	env_init(&e, type, type);
	addr = t_ext_addr(e.mp, 0);
	*ram_u32(e.g, PAGE) = 0xabad1dea;
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);

	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map | GNTMAP_readonly, addr, &h),
			 GNTST_okay);
	mine = u32_at(e.mp, addr);
	assert_int_equal(*mine, 0xabad1dea);
	assert_true(t_write_faults(mine));
	assert_int_equal(*ram_u32(e.g, PAGE), 0xabad1dea);
	/* A read-only pin sets GTF_reading only. */
	assert_int_equal(pins(e.g, REF), GTF_reading);

	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	env_fini(&e);
}

static void map_readonly_hvm_faults_on_write(void **state)
{
	(void)state;
	check_readonly_map_faults_on_write(XGNT_DOMAIN_HVM);
}

static void map_readonly_pv_faults_on_write(void **state)
{
	(void)state;
	check_readonly_map_faults_on_write(XGNT_DOMAIN_PV);
}

static void map_readonly_arm_faults_on_write(void **state)
{
	(void)state;
	check_readonly_map_faults_on_write(XGNT_DOMAIN_ARM);
}

static void map_readonly_grant_readonly_map_succeeds(void **state)
{
	struct env e;
	grant_handle_t h;
	uint64_t addr;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	addr = t_ext_addr(e.mp, 0);
	*ram_u32(e.g, PAGE) = 77;
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), true);
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map | GNTMAP_readonly, addr, &h),
			 GNTST_okay);
	assert_int_equal(*u32_at(e.mp, addr), 77);
	assert_true(t_write_faults(u32_at(e.mp, addr)));
	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	env_fini(&e);
}

static void map_first_pin_sets_reading_first_writable_pin_sets_writing(void **state)
{
	struct env e;
	grant_handle_t hr, hw;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(e.mp, 0), &hr), GNTST_okay);
	assert_int_equal(pins(e.g, REF), GTF_reading);
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 1), &hw),
			 GNTST_okay);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_not_equal(hr, hw);
	assert_int_equal(t_unmap(e.mp, hw, t_ext_addr(e.mp, 1), 0), GNTST_okay);
	assert_int_equal(t_unmap(e.mp, hr, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

static void map_own_grant_by_numeric_domid_succeeds(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *d = t_domain(m, GRANTER, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;
	uint64_t addr = t_ext_addr(d, 0);

	(void)state;
	t_gt_setup(d, 1);
	*ram_u32(d, PAGE) = 4242;
	t_grant(d, REF, GRANTER, t_ram_frame(d, PAGE), false);
	assert_int_equal(t_map(d, GRANTER, REF, GNTMAP_host_map, addr, &h), GNTST_okay);
	assert_int_equal(*u32_at(d, addr), 4242);
	*u32_at(d, addr) = 4343;
	assert_int_equal(*ram_u32(d, PAGE), 4343);
	assert_int_equal(t_unmap(d, h, addr, 0), GNTST_okay);
	xgnt_machine_destroy(m);
}

static void map_dev_bus_addr_is_granter_mfn_shifted(void **state)
{
	struct env e;
	struct xgnt_domain *pvm;
	struct gnttab_map_grant_ref op;
	uint64_t mfn;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_HVM);
	pvm = t_domain(e.m, OTHER, XGNT_DOMAIN_PV, false);
	mfn = t_ram_frame(e.g, PAGE);
	t_grant(e.g, REF, MAPPER, mfn, false);
	t_grant(e.g, REF + 1, OTHER, mfn, false);

	/* HVM mapper: filled too (Xen always fills it). */
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
	assert_true(op.dev_bus_addr == mfn << 12);

	op = map_op(GRANTER, REF + 1, GNTMAP_host_map, t_ext_addr(pvm, 0));
	assert_int_equal(map_raw(pvm, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
	assert_true(op.dev_bus_addr == mfn << 12);
	env_fini(&e);
}

static void map_pv_device_map_only_pins_and_fills_dev_bus_addr(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;
	uint64_t mfn;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	mfn = t_ram_frame(e.g, PAGE);
	t_grant(e.g, REF, MAPPER, mfn, false);
	op = map_op(GRANTER, REF, GNTMAP_device_map, 0);
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
	assert_true(op.dev_bus_addr == mfn << 12);
	assert_int_not_equal(op.handle, UNTOUCHED_HANDLE);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(t_unmap(e.mp, op.handle, 0, mfn << 12), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

/* ---- flags ------------------------------------------------------------ */

static void map_flags_zero_is_bad_gntref(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	op = map_op(GRANTER, REF, 0, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_gntref);
	/* readonly alone asks for no pin either */
	op = map_op(GRANTER, REF, GNTMAP_readonly, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_gntref);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

static void map_flags_zero_is_checked_before_domain(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	op = map_op(77, REF, 0, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_gntref);
	env_fini(&e);
}

static void check_translated_flag_refused(enum xgnt_domain_type type, uint32_t extra)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	env_init(&e, type, type);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	op = map_op(GRANTER, REF, GNTMAP_host_map | extra, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(pins(e.g, REF), 0);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 0))));
	env_fini(&e);
}

static void map_hvm_device_map_is_general_error(void **state)
{
	(void)state;
	check_translated_flag_refused(XGNT_DOMAIN_HVM, GNTMAP_device_map);
}

static void map_hvm_application_map_is_general_error(void **state)
{
	(void)state;
	check_translated_flag_refused(XGNT_DOMAIN_HVM, GNTMAP_application_map);
}

static void map_hvm_contains_pte_is_general_error(void **state)
{
	(void)state;
	check_translated_flag_refused(XGNT_DOMAIN_HVM, GNTMAP_contains_pte);
}

static void map_arm_device_map_is_general_error(void **state)
{
	(void)state;
	check_translated_flag_refused(XGNT_DOMAIN_ARM, GNTMAP_device_map);
}

static void map_arm_application_map_is_general_error(void **state)
{
	(void)state;
	check_translated_flag_refused(XGNT_DOMAIN_ARM, GNTMAP_application_map);
}

static void map_arm_contains_pte_is_general_error(void **state)
{
	(void)state;
	check_translated_flag_refused(XGNT_DOMAIN_ARM, GNTMAP_contains_pte);
}

/* create_grant_p2m_mapping: flags other than host_map[|readonly]. */
static void map_hvm_unknown_flag_bit_is_general_error(void **state)
{
	(void)state;
	check_translated_flag_refused(XGNT_DOMAIN_HVM, 1u << 6);
}

/* The translated-flags check (#2) precedes the domain lookup (#3). */
static void map_hvm_device_map_is_checked_before_domain(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	op = map_op(77, REF, GNTMAP_host_map | GNTMAP_device_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	env_fini(&e);
}

/* create_grant_p2m_mapping refuses non-zero cache flags (GTF_PWT/PCD/PAT). */
static void map_hvm_grant_with_cache_flags_is_general_error(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant_flags(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), GTF_permit_access | GTF_PCD);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

static void map_pv_contains_pte_is_general_error(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	op = map_op(GRANTER, REF, GNTMAP_host_map | GNTMAP_contains_pte, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

/* ---- domain and ref --------------------------------------------------- */

static void map_domid_self_is_bad_domain(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, GRANTER, t_ram_frame(e.g, PAGE), false);
	op = map_op(DOMID_SELF, REF, GNTMAP_host_map, t_ext_addr(e.g, 0));
	assert_int_equal(map_raw(e.g, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_domain);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

static void map_nonexistent_domain_is_bad_domain(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	op = map_op(77, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_domain);
	op = map_op(DOMID_INVALID, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_domain);
	op = map_op(0xffff, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_domain);
	env_fini(&e);
}

static void map_ref_beyond_v1_table_is_bad_gntref(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;
	grant_handle_t h;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	op = map_op(GRANTER, 515, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_gntref);
	op = map_op(GRANTER, 512, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_gntref);
	op = map_op(GRANTER, 0xffffffffu, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_gntref);
	/* The last entry of the frame is in range. */
	t_grant(e.g, 511, MAPPER, t_ram_frame(e.g, PAGE), false);
	assert_int_equal(t_map(e.mp, GRANTER, 511, GNTMAP_host_map, t_ext_addr(e.mp, 0), &h),
			 GNTST_okay);
	assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	env_fini(&e);
}

static void map_ungranted_entry_is_general_error(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(t_entry_flags(e.g, REF), 0);
	env_fini(&e);
}

static void map_entry_granted_to_other_domid_is_general_error(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, OTHER, t_ram_frame(e.g, PAGE), false);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(t_entry_flags(e.g, REF), GTF_permit_access);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 0))));
	env_fini(&e);
}

static void map_writable_of_readonly_grant_is_general_error(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;
	grant_handle_t h;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), true);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(t_entry_flags(e.g, REF), GTF_permit_access | GTF_readonly);

	/* Also once the entry is pinned read-only: the first writable pin
	 * re-checks the shared entry. */
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(e.mp, 1), &h), GNTST_okay);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(pins(e.g, REF), GTF_reading);
	assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, 1), 0), GNTST_okay);
	env_fini(&e);
}

static void map_v2_sub_page_grant_is_general_error(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, GRANTER, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *mp = t_domain(m, MAPPER, XGNT_DOMAIN_HVM, false);
	struct gnttab_map_grant_ref op;

	(void)state;
	assert_int_equal(t_set_version(g, 2), 0);
	t_gt_setup(g, 1);
	t_grant_sub_page(g, REF, MAPPER, t_ram_frame(g, PAGE), 0, 2048, false);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(mp, 0));
	assert_int_equal(map_raw(mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(pins(g, REF), 0);
	xgnt_machine_destroy(m);
}

static void map_v2_transitive_grant_is_general_error(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, GRANTER, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *mp = t_domain(m, MAPPER, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *o = t_domain(m, OTHER, XGNT_DOMAIN_HVM, false);
	struct gnttab_map_grant_ref op;

	(void)state;
	t_gt_setup(o, 1);
	t_grant(o, REF, GRANTER, t_ram_frame(o, PAGE), false);
	assert_int_equal(t_set_version(g, 2), 0);
	t_gt_setup(g, 1);
	t_grant_transitive(g, REF, MAPPER, OTHER, REF);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(mp, 0));
	assert_int_equal(map_raw(mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(pins(g, REF), 0);
	assert_int_equal(pins(o, REF), 0);
	xgnt_machine_destroy(m);
}

/* ---- frames ----------------------------------------------------------- */

static void check_unpopulated_frame_is_bad_page(enum xgnt_domain_type type)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	env_init(&e, type, type);
	/* A gfn of the granter's empty extended region. */
	t_grant(e.g, REF, MAPPER, t_ext_addr(e.g, 5) >> 12, false);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_page);
	/* The error path drops what the first pin set. */
	assert_int_equal(pins(e.g, REF), 0);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 0))));
	env_fini(&e);
}

static void map_hvm_unpopulated_granter_frame_is_bad_page(void **state)
{
	(void)state;
	check_unpopulated_frame_is_bad_page(XGNT_DOMAIN_HVM);
}

static void map_arm_unpopulated_granter_frame_is_bad_page(void **state)
{
	(void)state;
	check_unpopulated_frame_is_bad_page(XGNT_DOMAIN_ARM);
}

/* A PV granter can only grant frames it owns: get_page(page, rd) fails
 * for another domain's mfn and for an mfn outside machine memory. */
static void map_pv_grant_of_unowned_mfn_is_bad_page(void **state)
{
	struct env e;
	struct xgnt_domain *o;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	o = t_domain(e.m, OTHER, XGNT_DOMAIN_PV, false);
	*ram_u32(o, PAGE) = 0x5ec12e7;
	t_grant(e.g, REF, MAPPER, t_ram_frame(o, PAGE), false);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_page);
	assert_int_equal(pins(e.g, REF), 0);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 0))));

	t_grant(e.g, REF + 1, MAPPER, 0x7fffff, false);
	op = map_op(GRANTER, REF + 1, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_page);
	assert_int_equal(pins(e.g, REF + 1), 0);
	env_fini(&e);
}

static void map_over_existing_grant_mapping_is_general_error(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;
	grant_handle_t h;
	uint64_t addr;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	addr = t_ext_addr(e.mp, 0);
	*ram_u32(e.g, PAGE) = 1111;
	*ram_u32(e.g, PAGE + 1) = 2222;
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	t_grant(e.g, REF + 1, MAPPER, t_ram_frame(e.g, PAGE + 1), false);
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map, addr, &h), GNTST_okay);

	op = map_op(GRANTER, REF + 1, GNTMAP_host_map, addr);
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_int_equal(pins(e.g, REF + 1), 0);
	/* The first mapping is intact. */
	assert_int_equal(*u32_at(e.mp, addr), 1111);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

/* ---- active entry shadow ---------------------------------------------- */

/* Once pinned, the entry belongs to its mapper: another domain is refused
 * and a re-pin uses the active entry, not the (rewritten) shared one. */
static void map_pinned_entry_refuses_other_domain_and_repins_from_shadow(void **state)
{
	struct env e;
	struct xgnt_domain *o;
	struct gnttab_map_grant_ref op;
	grant_handle_t h1, h2;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	o = t_domain(e.m, OTHER, XGNT_DOMAIN_HVM, false);
	*ram_u32(e.g, PAGE) = 1;
	*ram_u32(e.g, PAGE + 1) = 2;
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0), &h1),
			 GNTST_okay);

	/* The granter rewrites the live entry for another domain and frame. */
	t_grant(e.g, REF, OTHER, t_ram_frame(e.g, PAGE + 1), false);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(o, 0));
	assert_int_equal(map_raw(o, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);

	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 1), &h2),
			 GNTST_okay);
	assert_int_equal(*u32_at(e.mp, t_ext_addr(e.mp, 1)), 1);
	assert_int_equal(t_unmap(e.mp, h1, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	assert_int_equal(t_unmap(e.mp, h2, t_ext_addr(e.mp, 1), 0), GNTST_okay);

	/* Unpinned: the entry is read afresh and now belongs to OTHER. */
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(o, 0));
	assert_int_equal(map_raw(o, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
	assert_int_equal(*u32_at(o, t_ext_addr(o, 0)), 2);
	env_fini(&e);
}

/* ---- versions --------------------------------------------------------- */

static void check_version_pair(unsigned int gver, unsigned int mver)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, GRANTER, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *mp = t_domain(m, MAPPER, XGNT_DOMAIN_HVM, false);
	struct gnttab_map_grant_ref op;
	unsigned int per_frame = gver == 1 ? 512 : 256;
	grant_handle_t h;
	uint64_t addr = t_ext_addr(mp, 0);

	if (gver != 1)
		assert_int_equal(t_set_version(g, gver), 0);
	if (mver != 1)
		assert_int_equal(t_set_version(mp, mver), 0);
	t_gt_setup(g, 1);
	t_gt_setup(mp, 1);
	assert_int_equal(t_gt_version(g), gver);
	assert_int_equal(t_gt_version(mp), mver);

	*ram_u32(g, PAGE) = 0xc0ffee;
	t_grant(g, REF, MAPPER, t_ram_frame(g, PAGE), false);
	assert_int_equal(t_map(mp, GRANTER, REF, GNTMAP_host_map, addr, &h), GNTST_okay);
	assert_int_equal(*u32_at(mp, addr), 0xc0ffee);
	*u32_at(mp, addr) = 0xbeef;
	assert_int_equal(*ram_u32(g, PAGE), 0xbeef);
	assert_int_equal(pins(g, REF), GTF_PINS);
	assert_int_equal(t_unmap(mp, h, addr, 0), GNTST_okay);
	assert_int_equal(pins(g, REF), 0);

	/* Bounds follow the granter's version. */
	op = map_op(GRANTER, per_frame, GNTMAP_host_map, addr);
	assert_int_equal(map_raw(mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_bad_gntref);
	t_grant(g, per_frame - 1, MAPPER, t_ram_frame(g, PAGE), false);
	assert_int_equal(t_map(mp, GRANTER, per_frame - 1, GNTMAP_host_map, addr, &h),
			 GNTST_okay);
	assert_int_equal(t_unmap(mp, h, addr, 0), GNTST_okay);
	xgnt_machine_destroy(m);
}

static void map_v2_granter_by_v1_mapper_shares_frame(void **state)
{
	(void)state;
	check_version_pair(2, 1);
}

static void map_v1_granter_by_v2_mapper_shares_frame(void **state)
{
	(void)state;
	check_version_pair(1, 2);
}

/* ---- limits ----------------------------------------------------------- */

/* Real Xen: 128 writable host pins of one entry, then general_error; the
 * read-only counter is separate; after unmapping all it is usable again. */
static void map_pin_limit_128_writable_host_pins_then_general_error(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;
	grant_handle_t h[128], hr;
	unsigned int i;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	for (i = 0; i < 128; i++)
		assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map,
				       t_ext_addr(e.mp, i), &h[i]), GNTST_okay);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 128));
	assert_int_equal(map_raw(e.mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_general_error);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 128))));

	/* hstr is its own counter (GNTPIN_incr2oflow_mask of the pin taken). */
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(e.mp, 129), &hr), GNTST_okay);
	assert_int_equal(t_unmap(e.mp, hr, t_ext_addr(e.mp, 129), 0), GNTST_okay);

	for (i = 0; i < 128; i++)
		assert_int_equal(t_unmap(e.mp, h[i], t_ext_addr(e.mp, i), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0), &h[0]),
			 GNTST_okay);
	assert_int_equal(t_unmap(e.mp, h[0], t_ext_addr(e.mp, 0), 0), GNTST_okay);
	env_fini(&e);
}

/*
 * One maptrack frame is 256 entries, but Xen's per-vCPU free list always
 * keeps one entry as its tail (_get_maptrack_handle), and stealing from
 * other vCPUs follows the same rule: a mapper issuing from one vCPU gets
 * 255 handles, then GNTST_no_space. The handle check precedes the ref
 * check.
 */
#define MT_USABLE 255
static void map_maptrack_one_frame_255_handles_then_no_space(void **state)
{
	struct xgnt_machine *m = t_machine_cfg(16384, 0, 1, 0);
	struct xgnt_domain *g = t_domain(m, GRANTER, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *mp = t_domain(m, MAPPER, XGNT_DOMAIN_HVM, false);
	struct gnttab_map_grant_ref op;
	grant_handle_t h[MT_USABLE];
	unsigned int i;

	(void)state;
	t_gt_setup(g, 1);
	for (i = 0; i < 3; i++)
		t_grant(g, REF + i, MAPPER, t_ram_frame(g, PAGE + i), false);
	for (i = 0; i < MT_USABLE; i++) {
		op = map_op(GRANTER, REF + i / 100, GNTMAP_host_map, t_ext_addr(mp, i));
		assert_int_equal(map_raw(mp, &op, 1), 0);
		if (op.status != GNTST_okay)
			fail_msg("map %u of %u: status %d", i + 1, MT_USABLE, op.status);
		h[i] = op.handle;
		assert_true(h[i] < 256);
	}
	op = map_op(GRANTER, REF + 2, GNTMAP_host_map, t_ext_addr(mp, MT_USABLE));
	assert_int_equal(map_raw(mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_no_space);
	assert_int_equal(op.status, -13);
	op = map_op(GRANTER, 9999, GNTMAP_host_map, t_ext_addr(mp, MT_USABLE));
	assert_int_equal(map_raw(mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_no_space);

	/* A freed handle is usable again, once. */
	assert_int_equal(t_unmap(mp, h[7], t_ext_addr(mp, 7), 0), GNTST_okay);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(mp, 7));
	assert_int_equal(map_raw(mp, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(mp, MT_USABLE));
	assert_int_equal(map_raw(mp, &op, 1), 0);
	assert_map_failed_clean(&op, GNTST_no_space);
	xgnt_machine_destroy(m);
}

/* ---- the hypercall ---------------------------------------------------- */

static void map_failure_writes_no_handle_nor_dev_bus_addr(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;
	const struct {
		domid_t dom;
		grant_ref_t ref;
		uint32_t flags;
		int16_t status;
	} cases[] = {
		{ GRANTER, REF, 0, GNTST_bad_gntref },
		{ DOMID_SELF, REF, GNTMAP_host_map, GNTST_bad_domain },
		{ 77, REF, GNTMAP_host_map, GNTST_bad_domain },
		{ GRANTER, 515, GNTMAP_host_map, GNTST_bad_gntref },
		{ GRANTER, REF + 1, GNTMAP_host_map, GNTST_general_error },
		{ GRANTER, REF + 2, GNTMAP_host_map, GNTST_general_error },
		{ GRANTER, REF, GNTMAP_host_map | GNTMAP_device_map, GNTST_general_error },
	};
	size_t i;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	t_grant(e.g, REF + 1, OTHER, t_ram_frame(e.g, PAGE), false);
	t_grant(e.g, REF + 2, MAPPER, t_ram_frame(e.g, PAGE), true);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		op = map_op(cases[i].dom, cases[i].ref, cases[i].flags, t_ext_addr(e.mp, 0));
		assert_int_equal(map_raw(e.mp, &op, 1), 0);
		if (op.status != cases[i].status)
			fail_msg("case %zu: status %d, expected %d", i, op.status,
				 cases[i].status);
		assert_map_failed_clean(&op, cases[i].status);
		assert_int_equal(op.ref, cases[i].ref);
		assert_int_equal(op.dom, cases[i].dom);
		assert_int_equal(op.flags, cases[i].flags);
		assert_true(op.host_addr == t_ext_addr(e.mp, 0));
	}
	env_fini(&e);
}

static void map_batch_reports_status_per_element(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op[3];

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	*ram_u32(e.g, PAGE) = 10;
	*ram_u32(e.g, PAGE + 1) = 11;
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	t_grant(e.g, REF + 1, MAPPER, t_ram_frame(e.g, PAGE + 1), false);
	op[0] = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	op[1] = map_op(GRANTER, 515, GNTMAP_host_map, t_ext_addr(e.mp, 1));
	op[2] = map_op(GRANTER, REF + 1, GNTMAP_host_map, t_ext_addr(e.mp, 2));
	assert_int_equal(map_raw(e.mp, op, 3), 0);
	assert_int_equal(op[0].status, GNTST_okay);
	assert_map_failed_clean(&op[1], GNTST_bad_gntref);
	assert_int_equal(op[2].status, GNTST_okay);
	assert_int_not_equal(op[0].handle, op[2].handle);
	assert_int_equal(*u32_at(e.mp, t_ext_addr(e.mp, 0)), 10);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 1))));
	assert_int_equal(*u32_at(e.mp, t_ext_addr(e.mp, 2)), 11);
	assert_int_equal(t_unmap(e.mp, op[0].handle, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	assert_int_equal(t_unmap(e.mp, op[2].handle, t_ext_addr(e.mp, 2), 0), GNTST_okay);
	env_fini(&e);
}

static void map_count_zero_returns_zero_and_maps_nothing(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, 0), 0);
	assert_int_equal(op.status, 0x7777);
	assert_map_failed_clean(&op, 0x7777);
	assert_int_equal(pins(e.g, REF), 0);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 0))));
	env_fini(&e);
}

static void map_negative_count_is_einval(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(map_raw(e.mp, &op, (unsigned int)-1), -EINVAL);
	assert_map_failed_clean(&op, 0x7777);
	assert_int_equal(map_raw(e.mp, &op, 0x80000000u), -EINVAL);
	assert_map_failed_clean(&op, 0x7777);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

static void map_null_uop_is_efault(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	assert_int_equal(map_raw(e.mp, NULL, 1), -EFAULT);
	env_fini(&e);
}

/*
 * do_grant_table_op refuses continuation bits (cmd >> 12) on anything but
 * cache_flush with -EINVAL; an HVM caller never gets there, because
 * hvm_grant_table_op filters on the whole cmd first and answers -ENOSYS.
 */
static void map_cmd_with_continuation_bits_is_einval_pv_enosys_hvm(void **state)
{
	struct env e;
	struct xgnt_domain *pvm;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	pvm = t_domain(e.m, OTHER, XGNT_DOMAIN_PV, false);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	t_grant(e.g, REF + 1, OTHER, t_ram_frame(e.g, PAGE), false);

	op = map_op(GRANTER, REF + 1, GNTMAP_host_map, t_ext_addr(pvm, 0));
	assert_int_equal(xgnt_grant_table_op(t_v0(pvm), GNTTABOP_map_grant_ref | (1u << 12),
					     &op, 1), -EINVAL);
	assert_map_failed_clean(&op, 0x7777);

	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(xgnt_grant_table_op(t_v0(e.mp), GNTTABOP_map_grant_ref | (1u << 12),
					     &op, 1), -ENOSYS);
	assert_map_failed_clean(&op, 0x7777);
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(pins(e.g, REF + 1), 0);
	env_fini(&e);
}

static void gnttabop_unknown_cmd_99_is_enosys(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref op;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_HVM);
	op = map_op(GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(xgnt_grant_table_op(t_v0(e.mp), 99, &op, 1), -ENOSYS);
	assert_int_equal(xgnt_grant_table_op(t_v0(e.g), 99, &op, 1), -ENOSYS);
	assert_map_failed_clean(&op, 0x7777);
	env_fini(&e);
}

static void gnttabop_dump_table_3_is_enosys(void **state)
{
	struct env e;
	struct gnttab_dump_table dt = { .dom = DOMID_SELF, .status = 0x7777 };

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_HVM);
	assert_int_equal(xgnt_grant_table_op(t_v0(e.mp), GNTTABOP_dump_table, &dt, 1), -ENOSYS);
	assert_int_equal(xgnt_grant_table_op(t_v0(e.g), GNTTABOP_dump_table, &dt, 1), -ENOSYS);
	assert_int_equal(dt.status, 0x7777);
	env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_host_map_hvm_from_hvm_shares_frame),
		cmocka_unit_test(map_host_map_pv_from_pv_shares_frame),
		cmocka_unit_test(map_host_map_arm_from_arm_shares_frame),
		cmocka_unit_test(map_host_map_hvm_mapper_pv_granter_shares_frame),
		cmocka_unit_test(map_host_map_pv_mapper_hvm_granter_shares_frame),
		cmocka_unit_test(map_readonly_hvm_faults_on_write),
		cmocka_unit_test(map_readonly_pv_faults_on_write),
		cmocka_unit_test(map_readonly_arm_faults_on_write),
		cmocka_unit_test(map_readonly_grant_readonly_map_succeeds),
		cmocka_unit_test(map_first_pin_sets_reading_first_writable_pin_sets_writing),
		cmocka_unit_test(map_own_grant_by_numeric_domid_succeeds),
		cmocka_unit_test(map_dev_bus_addr_is_granter_mfn_shifted),
		cmocka_unit_test(map_pv_device_map_only_pins_and_fills_dev_bus_addr),
		cmocka_unit_test(map_flags_zero_is_bad_gntref),
		cmocka_unit_test(map_flags_zero_is_checked_before_domain),
		cmocka_unit_test(map_hvm_device_map_is_general_error),
		cmocka_unit_test(map_hvm_application_map_is_general_error),
		cmocka_unit_test(map_hvm_contains_pte_is_general_error),
		cmocka_unit_test(map_arm_device_map_is_general_error),
		cmocka_unit_test(map_arm_application_map_is_general_error),
		cmocka_unit_test(map_arm_contains_pte_is_general_error),
		cmocka_unit_test(map_hvm_unknown_flag_bit_is_general_error),
		cmocka_unit_test(map_hvm_device_map_is_checked_before_domain),
		cmocka_unit_test(map_hvm_grant_with_cache_flags_is_general_error),
		cmocka_unit_test(map_pv_contains_pte_is_general_error),
		cmocka_unit_test(map_domid_self_is_bad_domain),
		cmocka_unit_test(map_nonexistent_domain_is_bad_domain),
		cmocka_unit_test(map_ref_beyond_v1_table_is_bad_gntref),
		cmocka_unit_test(map_ungranted_entry_is_general_error),
		cmocka_unit_test(map_entry_granted_to_other_domid_is_general_error),
		cmocka_unit_test(map_writable_of_readonly_grant_is_general_error),
		cmocka_unit_test(map_v2_sub_page_grant_is_general_error),
		cmocka_unit_test(map_v2_transitive_grant_is_general_error),
		cmocka_unit_test(map_hvm_unpopulated_granter_frame_is_bad_page),
		cmocka_unit_test(map_arm_unpopulated_granter_frame_is_bad_page),
		cmocka_unit_test(map_pv_grant_of_unowned_mfn_is_bad_page),
		cmocka_unit_test(map_over_existing_grant_mapping_is_general_error),
		cmocka_unit_test(map_pinned_entry_refuses_other_domain_and_repins_from_shadow),
		cmocka_unit_test(map_v2_granter_by_v1_mapper_shares_frame),
		cmocka_unit_test(map_v1_granter_by_v2_mapper_shares_frame),
		cmocka_unit_test(map_pin_limit_128_writable_host_pins_then_general_error),
		cmocka_unit_test(map_maptrack_one_frame_255_handles_then_no_space),
		cmocka_unit_test(map_failure_writes_no_handle_nor_dev_bus_addr),
		cmocka_unit_test(map_batch_reports_status_per_element),
		cmocka_unit_test(map_count_zero_returns_zero_and_maps_nothing),
		cmocka_unit_test(map_negative_count_is_einval),
		cmocka_unit_test(map_null_uop_is_efault),
		cmocka_unit_test(map_cmd_with_continuation_bits_is_einval_pv_enosys_hvm),
		cmocka_unit_test(gnttabop_unknown_cmd_99_is_enosys),
		cmocka_unit_test(gnttabop_dump_table_3_is_enosys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
