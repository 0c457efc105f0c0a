/* SPDX-License-Identifier: MIT */
/*
 * The README's example: a machine with two HVM domains. Domain 1 grants a
 * page of its RAM to domain 2, which maps it and reads what domain 1 wrote.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xgnt/hv.h>

#define GRANTER 1
#define MAPPER  2
#define REF     GNTTAB_NR_RESERVED_ENTRIES   /* the first entry free for guests */
#define GFN     3                            /* the RAM page granted */

static int failed(const char *what, long rc)
{
	fprintf(stderr, "embed: %s failed (%ld)\n", what, rc);
	return 1;
}

int main(void)
{
	struct xgnt_machine_config mc = { .nr_frames = 4096 };   /* 16 MiB */
	struct xgnt_domain_config gc = { .domid = GRANTER, .type = XGNT_DOMAIN_HVM,
					 .ram_frames = 16, .ext_frames = 16 };
	struct xgnt_domain_config mpc = { .domid = MAPPER, .type = XGNT_DOMAIN_HVM,
					  .ram_frames = 16, .ext_frames = 16 };
	struct xen_add_to_physmap xatp = { .domid = DOMID_SELF,
					   .space = XENMAPSPACE_grant_table, .idx = 0 };
	struct gnttab_map_grant_ref map = { .dom = GRANTER, .ref = REF,
					    .flags = GNTMAP_host_map | GNTMAP_readonly };
	struct gnttab_unmap_grant_ref unmap = { 0 };
	struct xgnt_domain_layout gl, ml;
	struct xgnt_domain *g, *mp;
	struct xgnt_machine *m;
	grant_entry_v1_t *gt;
	int ret = 1;
	long rc;

	m = xgnt_machine_create(&mc);
	if (!m)
		return failed("xgnt_machine_create", -errno);
	g = xgnt_domain_create(m, &gc);
	mp = g ? xgnt_domain_create(m, &mpc) : NULL;
	if (!mp) {
		ret = failed("xgnt_domain_create", -errno);
		goto out;
	}
	xgnt_domain_layout(g, &gl);
	xgnt_domain_layout(mp, &ml);

	/* The granter places grant frame 0 at the start of its extended region. */
	xatp.gpfn = gl.ext_base >> 12;
	rc = xgnt_memory_op(xgnt_domain_vcpu(g, 0), XENMEM_add_to_physmap, &xatp);
	if (rc) {
		ret = failed("XENMEM_add_to_physmap", rc);
		goto out;
	}
	gt = xgnt_domain_va(g, gl.ext_base);

	/* A message in the page, then the entry: frame and domid, barrier, flags. */
	strcpy(xgnt_domain_va(g, (uint64_t)GFN << 12), "hello from domain 1");
	gt[REF].frame = GFN;
	gt[REF].domid = MAPPER;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&gt[REF].flags, GTF_permit_access | GTF_readonly, __ATOMIC_RELEASE);

	/* The mapper maps it at the start of its own extended region. */
	map.host_addr = ml.ext_base;
	rc = xgnt_grant_table_op(xgnt_domain_vcpu(mp, 0), GNTTABOP_map_grant_ref, &map, 1);
	if (rc || map.status != GNTST_okay) {
		ret = failed("GNTTABOP_map_grant_ref", rc ? rc : map.status);
		goto out;
	}
	printf("domain %d reads: %s\n", MAPPER, (const char *)xgnt_domain_va(mp, map.host_addr));

	unmap.host_addr = map.host_addr;
	unmap.handle = map.handle;
	rc = xgnt_grant_table_op(xgnt_domain_vcpu(mp, 0), GNTTABOP_unmap_grant_ref, &unmap, 1);
	if (rc || unmap.status != GNTST_okay) {
		ret = failed("GNTTABOP_unmap_grant_ref", rc ? rc : unmap.status);
		goto out;
	}
	/* No longer mapped: GTF_reading is clear and the granter ends the grant. */
	if (__atomic_load_n(&gt[REF].flags, __ATOMIC_ACQUIRE) & GTF_reading) {
		ret = failed("GTF_reading still set after unmap", 0);
		goto out;
	}
	__atomic_store_n(&gt[REF].flags, 0, __ATOMIC_RELEASE);

	if ((rc = xgnt_domain_destroy(mp)) != 0 || (rc = xgnt_domain_destroy(g)) != 0) {
		ret = failed("xgnt_domain_destroy", rc);
		goto out;
	}
	ret = 0;
out:
	xgnt_machine_destroy(m);   /* and every domain still there */
	return ret;
}
