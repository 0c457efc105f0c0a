/* SPDX-License-Identifier: MIT */
/*
 * The grant tables printed the way Xen's 'g' debug key prints them, from
 * the introspection walks (for xgnt demo --dump and xgnt dump).
 */
#include <stdio.h>

#include "xgnt/hv.h"

static int print_grant(const struct xgnt_grant_info *gi, void *arg)
{
	fprintf(arg, "(XEN) [0x%05x] flags 0x%04x status 0x%04x domid %5u frame 0x%08llx\n",
		gi->ref, gi->flags, gi->status, gi->domid, (unsigned long long)gi->frame);
	return 0;
}

static int print_active(const struct xgnt_active_info *a, void *arg)
{
	fprintf(arg, "(XEN) [0x%05x] domid %5u pin 0x%08x (hstw %u hstr %u devw %u devr %u) "
		"mfn 0x%08llx\n", a->ref, a->domid, a->pin, a->hstw, a->hstr, a->devw, a->devr,
		(unsigned long long)a->mfn);
	return 0;
}

static int print_mapping(const struct xgnt_mapping_info *mi, void *arg)
{
	fprintf(arg, "(XEN) [handle %5u] granter d%u ref 0x%05x flags 0x%x vcpu %u\n",
		mi->handle, mi->domid, mi->ref, mi->flags, mi->vcpu);
	return 0;
}

static int dump_domain(struct xgnt_domain *d, void *arg)
{
	FILE *out = arg;
	struct xgnt_table_info ti;
	int rc;

	if ((rc = xgnt_domain_table_info(d, &ti)))
		return rc;
	fprintf(out, "(XEN) grant-table for remote domain %u (v%u)\n", xgnt_domain_id(d), ti.version);
	fprintf(out, "(XEN)   %u frames (%u max), %u status frames, maptrack limit %u (%u frames max),"
		" %u active, %u mappings\n", ti.nr_grant_frames, ti.max_grant_frames,
		ti.nr_status_frames, ti.maptrack_limit, ti.max_maptrack_frames, ti.nr_active,
		ti.nr_mappings);
	fprintf(out, "(XEN) -------- shared (entries in use) --------\n");
	if ((rc = xgnt_domain_walk_grants(d, print_grant, out)))
		return rc;
	fprintf(out, "(XEN) -------- active (pinned) --------\n");
	if ((rc = xgnt_domain_walk_active(d, print_active, out)))
		return rc;
	fprintf(out, "(XEN) -------- maptrack (mappings d%u holds) --------\n", xgnt_domain_id(d));
	return xgnt_domain_walk_mappings(d, print_mapping, out);
}

int xgnt_machine_dump(struct xgnt_machine *m, FILE *out)
{
	fprintf(out, "(XEN) gnttab_usage_print_all [ key 'g' pressed\n");
	int rc = xgnt_machine_walk_domains(m, dump_domain, out);
	fprintf(out, "(XEN) gnttab_usage_print_all ] done\n");
	fflush(out);
	return rc;
}

int xgnt_domain_dump(struct xgnt_domain *d, FILE *out)
{
	int rc = dump_domain(d, out);

	fflush(out);
	return rc;
}
