/* SPDX-License-Identifier: MIT */
/* GNTTABOP_unmap_grant_ref and GNTTABOP_unmap_and_replace against the public
 * ABI: handles, partial unmaps, pin release, and teardown of either side. */
#include "harness.h"

#include <errno.h>
#include <string.h>

#define GRANTER 1
#define MAPPER  2
#define OTHER   3
#define REF     8      /* first entry after the reserved ones */
#define PAGE    5      /* granter's RAM page behind REF */
#define MINE    7      /* a RAM page of the mapper (unmap_and_replace) */
#define UNTOUCHED_STATUS 0x7777
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

/* Grant the granter's page PAGE + i at ref REF + i to MAPPER and map it. */
static grant_handle_t grant_and_map(struct env *e, unsigned int i, uint32_t flags,
				    uint64_t host_addr)
{
	grant_handle_t h = 0;

	t_grant(e->g, REF + i, MAPPER, t_ram_frame(e->g, PAGE + i), false);
	assert_int_equal(t_map(e->mp, GRANTER, REF + i, flags, host_addr, &h), GNTST_okay);
	return h;
}

static struct gnttab_unmap_grant_ref unmap_op(grant_handle_t h, uint64_t host_addr,
					      uint64_t dev_bus_addr)
{
	struct gnttab_unmap_grant_ref op = {
		.host_addr = host_addr, .dev_bus_addr = dev_bus_addr, .handle = h,
		.status = UNTOUCHED_STATUS,
	};
	return op;
}

static long unmap_raw(struct xgnt_domain *d, struct gnttab_unmap_grant_ref *op,
		      unsigned int n)
{
	return xgnt_grant_table_op(t_v0(d), GNTTABOP_unmap_grant_ref, op, n);
}

static long replace_raw(struct xgnt_domain *d, struct gnttab_unmap_and_replace *op,
			unsigned int n)
{
	return xgnt_grant_table_op(t_v0(d), GNTTABOP_unmap_and_replace, op, n);
}

/* ---- unmap ------------------------------------------------------------ */

static void check_unmap_empties_slot(enum xgnt_domain_type type)
{
	struct env e;
	grant_handle_t h;
	volatile uint32_t *p;
	uint64_t addr;

	env_init(&e, type, type);
	addr = t_ext_addr(e.mp, 2);
	h = grant_and_map(&e, 0, GNTMAP_host_map, addr);
	p = u32_at(e.mp, addr);
	*p = 0xd00dfeed;
	assert_int_equal(pins(e.g, REF), GTF_PINS);

	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	assert_true(t_read_faults(p));
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(t_entry_flags(e.g, REF), GTF_permit_access);
	/* What the mapper wrote stays in the granter's page. */
	assert_int_equal(*ram_u32(e.g, PAGE), 0xd00dfeed);
	env_fini(&e);
}

static void unmap_hvm_host_mapping_empties_slot(void **state)
{
	(void)state;
	check_unmap_empties_slot(XGNT_DOMAIN_HVM);
}

static void unmap_arm_host_mapping_empties_slot(void **state)
{
	(void)state;
	check_unmap_empties_slot(XGNT_DOMAIN_ARM);
}

static void unmap_pv_host_mapping_clears_linear_page(void **state)
{
	(void)state;
	check_unmap_empties_slot(XGNT_DOMAIN_PV);
}

static void unmap_writable_pin_clears_writing_keeps_reading(void **state)
{
	struct env e;
	grant_handle_t hw, hr;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	hw = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(e.mp, 1), &hr), GNTST_okay);
	assert_int_equal(pins(e.g, REF), GTF_PINS);

	assert_int_equal(t_unmap(e.mp, hw, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), GTF_reading);
	assert_int_equal(t_unmap(e.mp, hr, t_ext_addr(e.mp, 1), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

static void unmap_readonly_pin_first_keeps_both_flags(void **state)
{
	struct env e;
	grant_handle_t hw, hr;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	hw = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(e.mp, 1), &hr), GNTST_okay);

	assert_int_equal(t_unmap(e.mp, hr, t_ext_addr(e.mp, 1), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 1))));
	*u32_at(e.mp, t_ext_addr(e.mp, 0)) = 3;
	assert_int_equal(*ram_u32(e.g, PAGE), 3);
	assert_int_equal(t_unmap(e.mp, hw, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

static void unmap_v2_granter_clears_status_word(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, GRANTER, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *mp = t_domain(m, MAPPER, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;
	uint64_t addr = t_ext_addr(mp, 0);

	(void)state;
	assert_int_equal(t_set_version(g, 2), 0);
	t_gt_setup(g, 1);
	t_grant(g, REF, MAPPER, t_ram_frame(g, PAGE), false);
	assert_int_equal(t_map(mp, GRANTER, REF, GNTMAP_host_map, addr, &h), GNTST_okay);
	assert_int_equal(pins(g, REF), GTF_PINS);
	assert_int_equal(t_unmap(mp, h, addr, 0), GNTST_okay);
	assert_int_equal(pins(g, REF), 0);
	assert_true(t_read_faults(u32_at(mp, addr)));
	xgnt_machine_destroy(m);
}

static void unmap_handle_0x7ffff_is_bad_handle(void **state)
{
	struct env e;
	grant_handle_t h;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	h = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(t_unmap(e.mp, 0x7ffff, t_ext_addr(e.mp, 0), 0), GNTST_bad_handle);
	assert_int_equal(t_unmap(e.mp, 0xffffffffu, t_ext_addr(e.mp, 0), 0), GNTST_bad_handle);
	/* Nothing changed. */
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	env_fini(&e);
}

static void unmap_never_used_handle_zero_is_bad_handle(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	/* No maptrack at all yet. */
	assert_int_equal(t_unmap(e.mp, 0, t_ext_addr(e.mp, 0), 0), GNTST_bad_handle);
	/* A maptrack page exists, but handle h + 1 is free. */
	{
		grant_handle_t h = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));

		assert_int_equal(t_unmap(e.mp, h + 1, t_ext_addr(e.mp, 0), 0),
				 GNTST_bad_handle);
		assert_int_equal(pins(e.g, REF), GTF_PINS);
	}
	env_fini(&e);
}

/* A second unmap of a handle must not drop another mapping's pin. */
static void unmap_twice_is_bad_handle_and_keeps_other_pins(void **state)
{
	struct env e;
	grant_handle_t h1, h2;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	*ram_u32(e.g, PAGE) = 55;
	h1 = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map, t_ext_addr(e.mp, 1), &h2),
			 GNTST_okay);
	assert_int_equal(t_unmap(e.mp, h1, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	assert_int_equal(t_unmap(e.mp, h1, t_ext_addr(e.mp, 0), 0), GNTST_bad_handle);
	assert_int_equal(t_unmap(e.mp, h1, t_ext_addr(e.mp, 1), 0), GNTST_bad_handle);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(*u32_at(e.mp, t_ext_addr(e.mp, 1)), 55);
	assert_int_equal(t_unmap(e.mp, h2, t_ext_addr(e.mp, 1), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

/*
 * replace_grant_host_mapping fails when host_addr does not hold this
 * grant's frame: empty slot, or another grant's frame. The handle stays.
 */
static void check_wrong_host_addr(enum xgnt_domain_type type)
{
	struct env e;
	grant_handle_t h0, h1;

	env_init(&e, type, type);
	*ram_u32(e.g, PAGE) = 100;
	h0 = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	h1 = grant_and_map(&e, 1, GNTMAP_host_map, t_ext_addr(e.mp, 1));

	assert_int_equal(t_unmap(e.mp, h0, t_ext_addr(e.mp, 5), 0), GNTST_general_error);
	assert_int_equal(t_unmap(e.mp, h0, t_ext_addr(e.mp, 1), 0), GNTST_general_error);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(pins(e.g, REF + 1), GTF_PINS);
	assert_int_equal(*u32_at(e.mp, t_ext_addr(e.mp, 0)), 100);

	assert_int_equal(t_unmap(e.mp, h0, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	assert_int_equal(t_unmap(e.mp, h1, t_ext_addr(e.mp, 1), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(pins(e.g, REF + 1), 0);
	env_fini(&e);
}

static void unmap_hvm_wrong_host_addr_is_general_error_and_keeps_mapping(void **state)
{
	(void)state;
	check_wrong_host_addr(XGNT_DOMAIN_HVM);
}

static void unmap_pv_wrong_host_addr_is_general_error_and_keeps_mapping(void **state)
{
	(void)state;
	check_wrong_host_addr(XGNT_DOMAIN_PV);
}

/* host_addr 0 and dev_bus_addr 0: okay, and nothing is released. */
static void unmap_zero_host_and_dev_addr_is_okay_noop(void **state)
{
	struct env e;
	grant_handle_t h;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	*ram_u32(e.g, PAGE) = 9;
	h = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(t_unmap(e.mp, h, 0, 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(*u32_at(e.mp, t_ext_addr(e.mp, 0)), 9);
	assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	env_fini(&e);
}

/* dev_bus_addr is only checked against mappings that have device_map. */
static void unmap_dev_bus_addr_ignored_for_host_only_mapping(void **state)
{
	struct env e;
	grant_handle_t h;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	h = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, 0), 0x1234000), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, 0), 0), GNTST_bad_handle);
	env_fini(&e);
}

static void unmap_from_other_vcpu_than_map_is_okay(void **state)
{
	struct env e;
	struct gnttab_map_grant_ref mop = { 0 };
	struct gnttab_unmap_grant_ref uop;
	uint64_t addr;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	addr = t_ext_addr(e.mp, 0);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	mop.host_addr = addr;
	mop.flags = GNTMAP_host_map;
	mop.ref = REF;
	mop.dom = GRANTER;
	assert_int_equal(xgnt_grant_table_op(xgnt_domain_vcpu(e.mp, 1), GNTTABOP_map_grant_ref,
					     &mop, 1), 0);
	assert_int_equal(mop.status, GNTST_okay);
	uop = unmap_op(mop.handle, addr, 0);
	assert_int_equal(unmap_raw(e.mp, &uop, 1), 0);
	assert_int_equal(uop.status, GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	/* The handle went back to vCPU 1's list; mapping from there works. */
	assert_int_equal(xgnt_grant_table_op(xgnt_domain_vcpu(e.mp, 1), GNTTABOP_map_grant_ref,
					     &mop, 1), 0);
	assert_int_equal(mop.status, GNTST_okay);
	assert_int_equal(t_unmap(e.mp, mop.handle, addr, 0), GNTST_okay);
	env_fini(&e);
}

/* ---- the hypercall ---------------------------------------------------- */

static void unmap_batch_reports_status_per_element(void **state)
{
	struct env e;
	struct gnttab_unmap_grant_ref op[3];
	grant_handle_t h0, h1;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	h0 = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	h1 = grant_and_map(&e, 1, GNTMAP_host_map, t_ext_addr(e.mp, 1));
	op[0] = unmap_op(h0, t_ext_addr(e.mp, 0), 0);
	op[1] = unmap_op(0x7ffff, t_ext_addr(e.mp, 1), 0);
	op[2] = unmap_op(h1, t_ext_addr(e.mp, 1), 0);
	assert_int_equal(unmap_raw(e.mp, op, 3), 0);
	assert_int_equal(op[0].status, GNTST_okay);
	assert_int_equal(op[1].status, GNTST_bad_handle);
	assert_int_equal(op[2].status, GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(pins(e.g, REF + 1), 0);
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 0))));
	assert_true(t_read_faults(u32_at(e.mp, t_ext_addr(e.mp, 1))));
	env_fini(&e);
}

static void unmap_count_zero_returns_zero_and_unmaps_nothing(void **state)
{
	struct env e;
	struct gnttab_unmap_grant_ref op;
	grant_handle_t h;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	h = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	op = unmap_op(h, t_ext_addr(e.mp, 0), 0);
	assert_int_equal(unmap_raw(e.mp, &op, 0), 0);
	assert_int_equal(op.status, UNTOUCHED_STATUS);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	env_fini(&e);
}

static void unmap_negative_count_is_einval(void **state)
{
	struct env e;
	struct gnttab_unmap_grant_ref op;
	struct gnttab_unmap_and_replace rop = { .status = UNTOUCHED_STATUS };
	grant_handle_t h;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	h = grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	op = unmap_op(h, t_ext_addr(e.mp, 0), 0);
	assert_int_equal(unmap_raw(e.mp, &op, (unsigned int)-1), -EINVAL);
	assert_int_equal(op.status, UNTOUCHED_STATUS);
	rop.handle = h;
	rop.host_addr = t_ext_addr(e.mp, 0);
	assert_int_equal(replace_raw(e.mp, &rop, (unsigned int)-1), -EINVAL);
	assert_int_equal(rop.status, UNTOUCHED_STATUS);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, 0), 0), GNTST_okay);
	env_fini(&e);
}

static void unmap_null_uop_is_efault(void **state)
{
	struct env e;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	assert_int_equal(unmap_raw(e.mp, NULL, 1), -EFAULT);
	assert_int_equal(replace_raw(e.mp, NULL, 1), -EFAULT);
	env_fini(&e);
}

/* ---- PV device mappings ----------------------------------------------- */

static void unmap_pv_device_map_wrong_dev_bus_addr_is_bad_dev_addr(void **state)
{
	struct env e;
	grant_handle_t h;
	uint64_t bus;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	h = grant_and_map(&e, 0, GNTMAP_device_map, 0);
	bus = t_ram_frame(e.g, PAGE) << 12;
	/* Full 64-bit compare (XSA-224): low bits and other frames differ. */
	assert_int_equal(t_unmap(e.mp, h, 0, bus | 0xfff), GNTST_bad_dev_addr);
	assert_int_equal(t_unmap(e.mp, h, 0, bus + 4096), GNTST_bad_dev_addr);
	assert_int_equal(t_unmap(e.mp, h, 0, bus | (1ull << 52)), GNTST_bad_dev_addr);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(t_unmap(e.mp, h, 0, bus), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(t_unmap(e.mp, h, 0, bus), GNTST_bad_handle);
	env_fini(&e);
}

static void unmap_pv_host_then_device_frees_handle_at_end(void **state)
{
	struct env e;
	grant_handle_t h;
	uint64_t addr, bus;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	addr = t_ext_addr(e.mp, 0);
	*ram_u32(e.g, PAGE) = 31;
	h = grant_and_map(&e, 0, GNTMAP_host_map | GNTMAP_device_map, addr);
	bus = t_ram_frame(e.g, PAGE) << 12;
	assert_int_equal(*u32_at(e.mp, addr), 31);

	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	assert_true(t_read_faults(u32_at(e.mp, addr)));
	/* The device pin (writable) still holds the entry. */
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	/* Host part already gone: host_addr is now ignored... */
	assert_int_equal(t_unmap(e.mp, h, addr, bus), GNTST_okay);
	assert_int_equal(pins(e.g, REF), 0);
	/* ...and the handle is free once both parts are. */
	assert_int_equal(t_unmap(e.mp, h, addr, bus), GNTST_bad_handle);
	env_fini(&e);
}

static void unmap_pv_device_then_host_frees_handle_at_end(void **state)
{
	struct env e;
	grant_handle_t h;
	uint64_t addr, bus;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	addr = t_ext_addr(e.mp, 0);
	*ram_u32(e.g, PAGE) = 32;
	h = grant_and_map(&e, 0, GNTMAP_host_map | GNTMAP_device_map, addr);
	bus = t_ram_frame(e.g, PAGE) << 12;

	assert_int_equal(t_unmap(e.mp, h, 0, bus), GNTST_okay);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(*u32_at(e.mp, addr), 32);
	*u32_at(e.mp, addr) = 33;
	assert_int_equal(*ram_u32(e.g, PAGE), 33);
	/* Device part gone: a wrong dev_bus_addr no longer matters. */
	assert_int_equal(t_unmap(e.mp, h, addr, bus + 4096), GNTST_okay);
	assert_true(t_read_faults(u32_at(e.mp, addr)));
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(t_unmap(e.mp, h, addr, bus), GNTST_bad_handle);
	env_fini(&e);
}

/* ---- unmap_and_replace ------------------------------------------------ */

static void unmap_and_replace_hvm_is_enosys(void **state)
{
	struct env e;
	struct gnttab_unmap_and_replace op = { .status = UNTOUCHED_STATUS };
	grant_handle_t h;
	uint64_t addr;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	addr = t_ext_addr(e.mp, 0);
	h = grant_and_map(&e, 0, GNTMAP_host_map, addr);
	op.host_addr = addr;
	op.handle = h;
	assert_int_equal(replace_raw(e.mp, &op, 1), -ENOSYS);
	op.new_addr = (uint64_t)MINE << 12;
	assert_int_equal(replace_raw(e.mp, &op, 1), -ENOSYS);
	assert_int_equal(op.status, UNTOUCHED_STATUS);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	env_fini(&e);
}

static void unmap_and_replace_arm_nonzero_new_addr_is_general_error(void **state)
{
	struct env e;
	struct gnttab_unmap_and_replace op = { .status = UNTOUCHED_STATUS };
	grant_handle_t h;
	uint64_t addr;

	(void)state;
	env_init(&e, XGNT_DOMAIN_ARM, XGNT_DOMAIN_ARM);
	addr = t_ext_addr(e.mp, 0);
	*ram_u32(e.g, PAGE) = 41;
	*ram_u32(e.mp, MINE) = 42;
	h = grant_and_map(&e, 0, GNTMAP_host_map, addr);
	op.host_addr = addr;
	op.new_addr = (uint64_t)MINE << 12;
	op.handle = h;
	assert_int_equal(replace_raw(e.mp, &op, 1), 0);
	assert_int_equal(op.status, GNTST_general_error);
	/* Both pages are where they were; the handle still works. */
	assert_int_equal(*u32_at(e.mp, addr), 41);
	assert_int_equal(*ram_u32(e.mp, MINE), 42);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	env_fini(&e);
}

static void check_replace_zero_new_addr_unmaps(enum xgnt_domain_type type)
{
	struct env e;
	struct gnttab_unmap_and_replace op = { .status = UNTOUCHED_STATUS };
	grant_handle_t h;
	uint64_t addr;

	env_init(&e, type, type);
	addr = t_ext_addr(e.mp, 0);
	h = grant_and_map(&e, 0, GNTMAP_host_map, addr);
	op.host_addr = addr;
	op.new_addr = 0;
	op.handle = h;
	assert_int_equal(replace_raw(e.mp, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);
	assert_true(t_read_faults(u32_at(e.mp, addr)));
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_bad_handle);
	env_fini(&e);
}

static void unmap_and_replace_arm_zero_new_addr_unmaps(void **state)
{
	(void)state;
	check_replace_zero_new_addr_unmaps(XGNT_DOMAIN_ARM);
}

static void unmap_and_replace_pv_zero_new_addr_unmaps(void **state)
{
	(void)state;
	check_replace_zero_new_addr_unmaps(XGNT_DOMAIN_PV);
}

static void unmap_and_replace_pv_moves_new_addr_page_to_host_addr(void **state)
{
	struct env e;
	struct gnttab_unmap_and_replace op = { .status = UNTOUCHED_STATUS };
	grant_handle_t h;
	uint64_t addr, new_addr = (uint64_t)MINE << 12;
	xen_pfn_t mine_mfn;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	addr = t_ext_addr(e.mp, 0);
	*ram_u32(e.g, PAGE) = 0x6a6a6a6a;
	*ram_u32(e.mp, MINE) = 0x7e7e7e7e;
	h = grant_and_map(&e, 0, GNTMAP_host_map, addr);
	assert_int_equal(*u32_at(e.mp, addr), 0x6a6a6a6a);

	op.host_addr = addr;
	op.new_addr = new_addr;
	op.handle = h;
	assert_int_equal(replace_raw(e.mp, &op, 1), 0);
	assert_int_equal(op.status, GNTST_okay);

	/* host_addr now shows the mapper's own page; new_addr is empty. */
	assert_int_equal(*u32_at(e.mp, addr), 0x7e7e7e7e);
	assert_true(t_read_faults(u32_at(e.mp, new_addr)));
	assert_int_equal(pins(e.g, REF), 0);
	*u32_at(e.mp, addr) = 0x11111111;
	assert_int_equal(*ram_u32(e.g, PAGE), 0x6a6a6a6a);
	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_bad_handle);

	/* It really is that frame: put it back at new_addr and look. */
	mine_mfn = xgnt_domain_pfn_to_mfn(e.mp, MINE);
	assert_int_equal(xgnt_update_va_mapping(t_v0(e.mp), new_addr, mine_mfn,
						XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	assert_int_equal(*ram_u32(e.mp, MINE), 0x11111111);
	env_fini(&e);
}

static void unmap_and_replace_pv_bad_handle_is_bad_handle(void **state)
{
	struct env e;
	struct gnttab_unmap_and_replace op = { .status = UNTOUCHED_STATUS };

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	*ram_u32(e.mp, MINE) = 5;
	op.host_addr = t_ext_addr(e.mp, 0);
	op.new_addr = (uint64_t)MINE << 12;
	op.handle = 0x7ffff;
	assert_int_equal(replace_raw(e.mp, &op, 1), 0);
	assert_int_equal(op.status, GNTST_bad_handle);
	op.handle = 0;
	op.status = UNTOUCHED_STATUS;
	assert_int_equal(replace_raw(e.mp, &op, 1), 0);
	assert_int_equal(op.status, GNTST_bad_handle);
	/* new_addr was not stolen. */
	assert_int_equal(*ram_u32(e.mp, MINE), 5);
	env_fini(&e);
}

/* ---- teardown --------------------------------------------------------- */

static void unmap_destroyed_mapper_releases_granter_pins(void **state)
{
	struct env e;
	struct xgnt_domain *pvm;
	grant_handle_t h;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_HVM);
	pvm = t_domain(e.m, OTHER, XGNT_DOMAIN_PV, false);
	*ram_u32(e.g, PAGE) = 61;
	grant_and_map(&e, 0, GNTMAP_host_map, t_ext_addr(e.mp, 0));
	t_grant(e.g, REF + 1, MAPPER, t_ram_frame(e.g, PAGE + 1), false);
	assert_int_equal(t_map(e.mp, GRANTER, REF + 1, GNTMAP_host_map | GNTMAP_readonly,
			       t_ext_addr(e.mp, 1), &h), GNTST_okay);
	t_grant(e.g, REF + 2, OTHER, t_ram_frame(e.g, PAGE + 2), false);
	assert_int_equal(t_map(pvm, GRANTER, REF + 2, GNTMAP_host_map | GNTMAP_device_map,
			       t_ext_addr(pvm, 0), &h), GNTST_okay);
	assert_int_equal(pins(e.g, REF), GTF_PINS);
	assert_int_equal(pins(e.g, REF + 1), GTF_reading);
	assert_int_equal(pins(e.g, REF + 2), GTF_PINS);

	assert_int_equal(xgnt_domain_destroy(e.mp), 0);
	assert_null(xgnt_domain_lookup(e.m, MAPPER));
	assert_int_equal(pins(e.g, REF), 0);
	assert_int_equal(pins(e.g, REF + 1), 0);
	assert_int_equal(pins(e.g, REF + 2), GTF_PINS);

	assert_int_equal(xgnt_domain_destroy(pvm), 0);
	assert_int_equal(pins(e.g, REF + 2), 0);
	/* The granter's own page is untouched. */
	assert_int_equal(*ram_u32(e.g, PAGE), 61);
	env_fini(&e);
}

/* A destroyed granter's frame stays alive while mapped; unmap still works. */
static void unmap_after_granter_destroyed_is_okay_and_frame_lived_until_then(void **state)
{
	struct env e;
	grant_handle_t h;
	uint64_t addr;

	(void)state;
	env_init(&e, XGNT_DOMAIN_HVM, XGNT_DOMAIN_HVM);
	addr = t_ext_addr(e.mp, 0);
	*ram_u32(e.g, PAGE) = 0x0dead0;
	h = grant_and_map(&e, 0, GNTMAP_host_map, addr);
	assert_int_equal(xgnt_domain_destroy(e.g), 0);
	assert_null(xgnt_domain_lookup(e.m, GRANTER));
	assert_int_equal(*u32_at(e.mp, addr), 0x0dead0);
	*u32_at(e.mp, addr) = 1;
	assert_int_equal(*u32_at(e.mp, addr), 1);
	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_okay);
	assert_true(t_read_faults(u32_at(e.mp, addr)));
	assert_int_equal(t_unmap(e.mp, h, addr, 0), GNTST_bad_handle);
	env_fini(&e);
}

/* Map/unmap cycles, and teardown with mappings still live, leak nothing. */
static void unmap_cycles_and_teardown_leak_no_allocations(void **state)
{
	long base = t_live_allocs();
	struct env e;
	grant_handle_t h;
	unsigned int i;

	(void)state;
	env_init(&e, XGNT_DOMAIN_PV, XGNT_DOMAIN_PV);
	t_grant(e.g, REF, MAPPER, t_ram_frame(e.g, PAGE), false);
	for (i = 0; i < 300; i++) {
		assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map | GNTMAP_device_map,
				       t_ext_addr(e.mp, i % 7), &h), GNTST_okay);
		assert_int_equal(t_unmap(e.mp, h, t_ext_addr(e.mp, i % 7),
					 t_ram_frame(e.g, PAGE) << 12), GNTST_okay);
	}
	/* Left mapped on purpose: destruction must release them. */
	for (i = 0; i < 40; i++)
		assert_int_equal(t_map(e.mp, GRANTER, REF, GNTMAP_host_map,
				       t_ext_addr(e.mp, i), &h), GNTST_okay);
	assert_int_equal(xgnt_domain_destroy(e.g), 0);
	assert_int_equal(xgnt_domain_destroy(e.mp), 0);
	env_fini(&e);
	assert_int_equal(t_live_allocs(), base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unmap_hvm_host_mapping_empties_slot),
		cmocka_unit_test(unmap_arm_host_mapping_empties_slot),
		cmocka_unit_test(unmap_pv_host_mapping_clears_linear_page),
		cmocka_unit_test(unmap_writable_pin_clears_writing_keeps_reading),
		cmocka_unit_test(unmap_readonly_pin_first_keeps_both_flags),
		cmocka_unit_test(unmap_v2_granter_clears_status_word),
		cmocka_unit_test(unmap_handle_0x7ffff_is_bad_handle),
		cmocka_unit_test(unmap_never_used_handle_zero_is_bad_handle),
		cmocka_unit_test(unmap_twice_is_bad_handle_and_keeps_other_pins),
		cmocka_unit_test(unmap_hvm_wrong_host_addr_is_general_error_and_keeps_mapping),
		cmocka_unit_test(unmap_pv_wrong_host_addr_is_general_error_and_keeps_mapping),
		cmocka_unit_test(unmap_zero_host_and_dev_addr_is_okay_noop),
		cmocka_unit_test(unmap_dev_bus_addr_ignored_for_host_only_mapping),
		cmocka_unit_test(unmap_from_other_vcpu_than_map_is_okay),
		cmocka_unit_test(unmap_batch_reports_status_per_element),
		cmocka_unit_test(unmap_count_zero_returns_zero_and_unmaps_nothing),
		cmocka_unit_test(unmap_negative_count_is_einval),
		cmocka_unit_test(unmap_null_uop_is_efault),
		cmocka_unit_test(unmap_pv_device_map_wrong_dev_bus_addr_is_bad_dev_addr),
		cmocka_unit_test(unmap_pv_host_then_device_frees_handle_at_end),
		cmocka_unit_test(unmap_pv_device_then_host_frees_handle_at_end),
		cmocka_unit_test(unmap_and_replace_hvm_is_enosys),
		cmocka_unit_test(unmap_and_replace_arm_nonzero_new_addr_is_general_error),
		cmocka_unit_test(unmap_and_replace_arm_zero_new_addr_unmaps),
		cmocka_unit_test(unmap_and_replace_pv_zero_new_addr_unmaps),
		cmocka_unit_test(unmap_and_replace_pv_moves_new_addr_page_to_host_addr),
		cmocka_unit_test(unmap_and_replace_pv_bad_handle_is_bad_handle),
		cmocka_unit_test(unmap_destroyed_mapper_releases_granter_pins),
		cmocka_unit_test(unmap_after_granter_destroyed_is_okay_and_frame_lived_until_then),
		cmocka_unit_test(unmap_cycles_and_teardown_leak_no_allocations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
