/* SPDX-License-Identifier: MIT */
/*
 * A program built against Debian's libxengnttab and libxenevtchn
 * (libxen-dev), nothing of xgnt: with LD_LIBRARY_PATH at the drop-in
 * libraries it runs on xgntd. Shares a page to its own domain, maps it
 * with an unmap notification on a loopback event channel, checks both
 * views, the event and the cleared byte. Prints "dropin: ok" and exits 0;
 * on failure names the step and exits 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <xenevtchn.h>
#include <xengnttab.h>

#define STEP(cond)                                                              \
	do {                                                                    \
		if (!(cond)) {                                                  \
			printf("dropin: failed: %s (%s)\n", #cond, strerror(errno)); \
			return 1;                                               \
		}                                                               \
	} while (0)

static int pending(xenevtchn_handle *h)
{
	struct pollfd p = { .fd = xenevtchn_fd(h), .events = POLLIN };

	if (poll(&p, 1, 5000) != 1)
		return -1;
	return xenevtchn_pending(h);
}

int main(void)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_handle *gt;
	xenevtchn_handle *ea, *eb;
	int a, b;
	uint32_t ref;
	uint8_t *s, *m;

	STEP(gs != NULL);
	STEP((gt = xengnttab_open(NULL, 0)) != NULL);
	STEP((ea = xenevtchn_open(NULL, 0)) != NULL);
	STEP((eb = xenevtchn_open(NULL, 0)) != NULL);
	STEP((a = xenevtchn_bind_unbound_port(ea, 0)) > 0);
	STEP((b = xenevtchn_bind_interdomain(eb, 0, (evtchn_port_t)a)) > 0);
	STEP((s = xengntshr_share_pages(gs, 0, 1, &ref, 1)) != NULL);
	memset(s, 0x5a, 4096);
	STEP((m = xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ | PROT_WRITE, 20,
						 (evtchn_port_t)b)) != NULL);
	STEP(m[4095] == 0x5a);
	m[1] = 0xa5;
	STEP(s[1] == 0xa5);
	STEP(xenevtchn_notify(eb, (evtchn_port_t)b) == 0);
	STEP(pending(ea) == a);
	STEP(xenevtchn_unmask(ea, (evtchn_port_t)a) == 0);
	STEP(xengnttab_unmap(gt, m, 1) == 0);
	STEP(s[20] == 0);
	STEP(pending(ea) == a);
	STEP(xengntshr_unshare(gs, s, 1) == 0);
	xenevtchn_close(ea);
	xenevtchn_close(eb);
	xengnttab_close(gt);
	xengntshr_close(gs);
	printf("dropin: ok\n");
	return 0;
}
