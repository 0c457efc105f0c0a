/* SPDX-License-Identifier: MIT */
/*
 * Kernel mappings: the model's count of each window's VMAs matches what the
 * kernel reports, and a machine's mapping budget turns what would exhaust
 * vm.max_map_count into ordinary failures, never into a crash.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>

#include "hv/domain.h"

/* VMAs of this process inside [lo, hi). */
static long kernel_vmas(uintptr_t lo, uintptr_t hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long a, b;
	char line[512];
	long n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo)
			n++;
	fclose(f);
	return n;
}

static long window_vmas(struct xgnt_domain *d)
{
	uintptr_t lo = (uintptr_t)xgnt_domain_va(d, 0);

	return kernel_vmas(lo, lo + ((uintptr_t)d->nr_slots << 12));
}

static long model_vmas(struct xgnt_domain *d)
{
	long n;

	plat_mutex_lock(&d->p2m_lock);
	n = (long)d->vmas;
	plat_mutex_unlock(&d->p2m_lock);
	return n;
}

static unsigned int decrease(struct xgnt_domain *d, xen_pfn_t *gfns, unsigned int n)
{
	struct xen_memory_reservation r = { .nr_extents = n, .domid = DOMID_SELF };

	set_xen_guest_handle(r.extent_start, gfns);
	return (unsigned int)xgnt_memory_op(t_v0(d), XENMEM_decrease_reservation, &r);
}

static void count_matches_kernel_through_holes_maps_and_unmaps(void **state)
{
	struct xgnt_machine *m = t_machine();
	struct xgnt_domain *g = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	struct xgnt_domain *mp = t_domain(m, 2, XGNT_DOMAIN_PV, false);
	grant_handle_t h[16];
	xen_pfn_t gfns[40];
	unsigned int i;

	(void)state;
	assert_int_equal(model_vmas(g), window_vmas(g));
	for (i = 0; i < 40; i++)
		gfns[i] = 100 + 2 * i;      /* every other page: 40 holes */
	assert_int_equal(decrease(g, gfns, 40), 40);
	assert_int_equal(model_vmas(g), window_vmas(g));

	t_gt_setup(g, 1);
	assert_int_equal(model_vmas(g), window_vmas(g));
	for (i = 0; i < 16; i++)
		t_grant(g, 10 + i, 2, t_ram_frame(g, 10 + i), i % 3 == 0);
	/* Adjacent addresses (frames consecutive: kernel may merge), then
	 * scattered ones. */
	for (i = 0; i < 16; i++)
		assert_int_equal(t_map(mp, 1, 10 + i, GNTMAP_host_map | (i % 3 == 0 ? GNTMAP_readonly : 0),
				       t_ext_addr(mp, i < 8 ? i : 20 + 3 * i), &h[i]),
				 GNTST_okay);
	assert_int_equal(model_vmas(mp), window_vmas(mp));
	for (i = 0; i < 16; i += 2)
		assert_int_equal(t_unmap(mp, h[i], t_ext_addr(mp, i < 8 ? i : 20 + 3 * i), 0),
				 GNTST_okay);
	assert_int_equal(model_vmas(mp), window_vmas(mp));
	for (i = 1; i < 16; i += 2)
		assert_int_equal(t_unmap(mp, h[i], t_ext_addr(mp, i < 8 ? i : 20 + 3 * i), 0),
				 GNTST_okay);
	assert_int_equal(model_vmas(mp), window_vmas(mp));
	assert_int_equal(model_vmas(g), window_vmas(g));
	xgnt_machine_destroy(m);
}

static void budget_turns_exhaustion_into_errors(void **state)
{
	struct xgnt_machine_config c = { .nr_frames = 16384, .max_vmas = 120 };
	struct xgnt_machine *m = xgnt_machine_create(&c);
	struct xgnt_domain *g, *mp;
	grant_handle_t h[64];
	xen_pfn_t gfns[200];
	unsigned int i, done, mapped = 0;
	int16_t st;

	(void)state;
	assert_non_null(m);
	g = t_domain(m, 1, XGNT_DOMAIN_HVM, false);
	mp = t_domain(m, 2, XGNT_DOMAIN_HVM, false);
	t_gt_setup(g, 1);
	for (i = 0; i < 200; i++)
		gfns[i] = 2 * i + 1;
	/* Holes cost mappings: the batch stops where the budget ends. */
	done = decrease(g, gfns, 100);
	assert_true(done > 0 && done < 100);
	assert_int_equal(decrease(g, &gfns[done], 1), 0);
	/* Maps fail the same way, and what was mapped still unmaps. */
	for (i = 0; i < 64; i++)
		t_grant(g, 10 + i, 2, t_ram_frame(g, 200 + 2 * i), false);
	for (i = 0; i < 64; i++) {
		st = t_map(mp, 1, 10 + i, GNTMAP_host_map, t_ext_addr(mp, 2 * i), &h[i]);
		if (st != GNTST_okay) {
			assert_int_equal(st, GNTST_general_error);
			break;
		}
		mapped++;
	}
	assert_true(mapped < 64);
	for (i = 0; i < mapped; i++)
		assert_int_equal(t_unmap(mp, h[i], t_ext_addr(mp, 2 * i), 0), GNTST_okay);
	assert_int_equal(model_vmas(mp), window_vmas(mp));
	xgnt_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(count_matches_kernel_through_holes_maps_and_unmaps),
		cmocka_unit_test(budget_turns_exhaustion_into_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
