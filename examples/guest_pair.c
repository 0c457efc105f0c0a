/* SPDX-License-Identifier: MIT */
/* Two domains share a page through the guest library (the README's second example). */
#include <stdio.h>
#include <string.h>
#include <xgnt/hv.h>
#include <xgnt/guest.h>

int main(void)
{
	struct xgnt_machine *m = xgnt_machine_create(NULL);
	struct xgnt_domain_config fc = { .domid = 1 }, bc = { .domid = 2 };
	struct xgnt_guest *front = xgnt_guest_create_inproc(xgnt_domain_create(m, &fc));
	struct xgnt_guest *back = xgnt_guest_create_inproc(xgnt_domain_create(m, &bc));
	grant_ref_t ref;

	if (!front || !back || xgnt_gnttab_init(front, 0) || xgnt_gnttab_init(back, 0))
		return 1;
	/* Frontend: grant domain 2 a page of its RAM, and write into it. */
	char *page = xgnt_page_alloc(front, 1);
	if (!page || xgnt_grant_access(front, 2, xgnt_guest_frame(front, page), false, &ref))
		return 1;
	strcpy(page, "hello through a grant");
	/* Backend: map it where foreign pages go, read it, answer. */
	char *view = xgnt_unpopulated_alloc(back, 1);
	struct gnttab_map_grant_ref map = { .host_addr = xgnt_guest_addr(back, view),
					    .flags = GNTMAP_host_map, .ref = ref, .dom = 1 };
	if (!view || xgnt_map_refs(back, &map, 1) || map.status != GNTST_okay)
		return 1;
	printf("backend reads: %s\n", view);
	strcpy(view, "and back");
	struct gnttab_unmap_grant_ref unmap = { .host_addr = map.host_addr, .handle = map.handle };
	if (xgnt_unmap_refs(back, &unmap, 1) || unmap.status || xgnt_end_access(front, ref))
		return 1;
	printf("frontend reads: %s\n", page);
	xgnt_guest_destroy(back);
	xgnt_guest_destroy(front);
	xgnt_machine_destroy(m);
	return 0;
}
