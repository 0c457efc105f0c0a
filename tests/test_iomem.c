/* SPDX-License-Identifier: MIT */
/* The iomem grant extension (seed 004): opt-in, privileged granters only. */
#include "harness.h"

#include <errno.h>
#include <string.h>

#define NR_RAM   16384u
#define NR_IOMEM 16u
#define IOMEM(i) (NR_RAM + (i))

static struct xgnt_machine *iomem_machine(uint32_t nr_iomem)
{
	struct xgnt_machine_config c = { .nr_frames = NR_RAM, .nr_iomem_frames = nr_iomem };
	struct xgnt_machine *m = xgnt_machine_create(&c);

	assert_non_null(m);
	return m;
}

/* dom0 (privileged PV) sees I/O frame i at the start of its ext region. */
static volatile uint8_t *dom0_iomem_view(struct xgnt_domain *d0, unsigned int i)
{
	uint64_t va = t_ext_addr(d0, 100 + i);

	assert_int_equal(xgnt_update_va_mapping(t_v0(d0), va, IOMEM(i),
						XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	return xgnt_domain_va(d0, va);
}

static void iomem_map_gives_exactly_that_frame_and_unmap_takes_it_away(void **state)
{
	struct xgnt_machine *m = iomem_machine(NR_IOMEM);
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *du = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	volatile uint8_t *io = dom0_iomem_view(d0, 3), *p;
	uint64_t addr = t_ext_addr(du, 0);
	grant_handle_t h;

	(void)state;
	t_gt_setup(d0, 1);
	t_grant(d0, 10, 1, IOMEM(3), false);
	io[5] = 0x5a;
	assert_int_equal(t_map(du, 0, 10, GNTMAP_host_map | XGNT_GNTMAP_iomem_map, addr, &h),
			 GNTST_okay);
	p = xgnt_domain_va(du, addr);
	assert_int_equal(p[5], 0x5a);
	p[6] = 0xa5;
	assert_int_equal(io[6], 0xa5);
	assert_true(t_entry_flags(d0, 10) & GTF_writing);
	assert_int_equal(t_unmap(du, h, addr, 0), GNTST_okay);
	assert_true(t_read_faults(p));
	assert_false(t_entry_flags(d0, 10) & (GTF_reading | GTF_writing));
	xgnt_machine_destroy(m);
}

static void iomem_without_flag_is_refused(void **state)
{
	struct xgnt_machine *m = iomem_machine(NR_IOMEM);
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *du = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	grant_handle_t h;

	(void)state;
	t_gt_setup(d0, 1);
	t_grant(d0, 10, 1, IOMEM(0), false);
	assert_int_equal(t_map(du, 0, 10, GNTMAP_host_map, t_ext_addr(du, 0), &h),
			 GNTST_general_error);
	assert_false(t_entry_flags(d0, 10) & (GTF_reading | GTF_writing));
	xgnt_machine_destroy(m);
}

static void iomem_from_unprivileged_granter_is_refused(void **state)
{
	struct xgnt_machine *m = iomem_machine(NR_IOMEM);
	struct xgnt_domain *dg = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *du = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;

	(void)state;
	/* Nor can it map I/O memory itself. */
	assert_int_equal(xgnt_update_va_mapping(t_v0(dg), t_ext_addr(dg, 0), IOMEM(0),
						XGNT_PROT_READ), -EPERM);
	t_gt_setup(dg, 1);
	t_grant(dg, 10, 1, IOMEM(0), false);
	assert_int_equal(t_map(du, 2, 10, GNTMAP_host_map | XGNT_GNTMAP_iomem_map,
			       t_ext_addr(du, 0), &h), GNTST_general_error);
	xgnt_machine_destroy(m);
}

static void iomem_translated_privileged_granter_names_machine_frame(void **state)
{
	struct xgnt_machine *m = iomem_machine(NR_IOMEM);
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_HVM, true);
	struct xgnt_domain *du = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	uint64_t addr = t_ext_addr(du, 0);
	grant_handle_t h;

	(void)state;
	t_gt_setup(d0, 1);
	t_grant(d0, 9, 1, IOMEM(NR_IOMEM - 1), true);
	assert_int_equal(t_map(du, 0, 9, GNTMAP_host_map | GNTMAP_readonly | XGNT_GNTMAP_iomem_map,
			       addr, &h), GNTST_okay);
	assert_true(t_write_faults(xgnt_domain_va(du, addr)));
	assert_false(t_read_faults(xgnt_domain_va(du, addr)));
	assert_int_equal(t_unmap(du, h, addr, 0), GNTST_okay);
	xgnt_machine_destroy(m);
}

static void iomem_flag_on_ram_grant_maps_ram_as_usual(void **state)
{
	struct xgnt_machine *m = iomem_machine(NR_IOMEM);
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *du = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	uint64_t addr = t_ext_addr(du, 0);
	grant_handle_t h;

	(void)state;
	t_gt_setup(d0, 1);
	t_grant(d0, 10, 1, t_ram_frame(d0, 4), false);
	*(volatile uint8_t *)t_ram_va(d0, 4) = 0x77;
	assert_int_equal(t_map(du, 0, 10, GNTMAP_host_map | XGNT_GNTMAP_iomem_map, addr, &h),
			 GNTST_okay);
	assert_int_equal(*(volatile uint8_t *)xgnt_domain_va(du, addr), 0x77);
	assert_int_equal(t_unmap(du, h, addr, 0), GNTST_okay);
	xgnt_machine_destroy(m);
}

/* Without declared iomem, bit 5 is an unused GNTMAP bit: PV mappers' maps
 * ignore it, HVM mappers' maps fail as for any unknown bit. */
static void without_iomem_the_bit_changes_nothing(void **state)
{
	struct xgnt_machine *m = iomem_machine(0);
	struct xgnt_domain *d0 = t_domain(m, 0, XGNT_DOMAIN_PV, true);
	struct xgnt_domain *pv = t_domain(m, 1, XGNT_DOMAIN_PV, false);
	struct xgnt_domain *hvm = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	grant_handle_t h;

	(void)state;
	t_gt_setup(d0, 1);
	t_grant(d0, 10, 1, t_ram_frame(d0, 4), false);
	t_grant(d0, 11, 2, t_ram_frame(d0, 5), false);
	assert_int_equal(t_map(pv, 0, 10, GNTMAP_host_map | XGNT_GNTMAP_iomem_map,
			       t_ext_addr(pv, 0), &h), GNTST_okay);
	assert_int_equal(t_unmap(pv, h, t_ext_addr(pv, 0), 0), GNTST_okay);
	assert_int_equal(t_map(hvm, 0, 11, GNTMAP_host_map | XGNT_GNTMAP_iomem_map,
			       t_ext_addr(hvm, 0), &h), GNTST_general_error);
	/* And a grant naming a frame past RAM is just a bad frame. */
	t_grant(d0, 12, 1, NR_RAM + 1, false);
	assert_int_equal(t_map(pv, 0, 12, GNTMAP_host_map | XGNT_GNTMAP_iomem_map,
			       t_ext_addr(pv, 1), &h), GNTST_bad_page);
	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(iomem_map_gives_exactly_that_frame_and_unmap_takes_it_away),
		cmocka_unit_test(iomem_without_flag_is_refused),
		cmocka_unit_test(iomem_from_unprivileged_granter_is_refused),
		cmocka_unit_test(iomem_translated_privileged_granter_names_machine_frame),
		cmocka_unit_test(iomem_flag_on_ram_grant_maps_ram_as_usual),
		cmocka_unit_test(without_iomem_the_bit_changes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
