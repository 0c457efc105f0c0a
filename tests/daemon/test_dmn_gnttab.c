/* SPDX-License-Identifier: MIT */
/*
 * The drop-in libxengnttab (xengnttab_* and xengntshr_*) against xgntd,
 * function by function, with Linux's gntdev/gntalloc semantics and
 * errnos: loopback and cross-domain sharing, read-only maps, per-ref
 * domids, bad refs, unmap errors, grant copy, unmap notification on both
 * sides, and the end of a grant once its peer unmapped.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xengnttab.h>
#include <xenevtchn.h>

#include "dfix.h"

#define PAGE 4096u

static xengnttab_handle *gt_open(void)
{
	xengnttab_handle *h = xengnttab_open(NULL, 0);

	assert_non_null(h);
	return h;
}

static xengntshr_handle *gs_open(void)
{
	xengntshr_handle *h = xengntshr_open(NULL, 0);

	assert_non_null(h);
	return h;
}

/* A write to p must fault (checked in a child). */
static bool write_faults(volatile uint8_t *p)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		*p = 0x5a;
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) &&
	       (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

static void test_loopback_share_map(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	uint32_t refs[3];
	uint8_t *s, *m;
	unsigned int i;
	struct xgntd_domain_info before = dfix_domain(0), during;

	(void)state;
	s = xengntshr_share_pages(gs, 0, 3, refs, 1);
	assert_non_null(s);
	for (i = 0; i < 3 * PAGE; i++)
		assert_int_equal(s[i], 0);   /* fresh pages are zeroed */
	for (i = 0; i < 3; i++) {
		assert_true(refs[i] >= 8);   /* GNTTAB_NR_RESERVED_ENTRIES */
		memset(s + i * PAGE, 0x10 + i, PAGE);
	}
	m = xengnttab_map_domain_grant_refs(gt, 3, 0, refs, PROT_READ | PROT_WRITE);
	assert_non_null(m);
	for (i = 0; i < 3; i++) {
		assert_int_equal(m[i * PAGE], 0x10 + i);
		assert_int_equal(m[i * PAGE + PAGE - 1], 0x10 + i);
	}
	m[PAGE + 7] = 0xab;                  /* mapper -> sharer */
	assert_int_equal(s[PAGE + 7], 0xab);
	s[2 * PAGE + 9] = 0xcd;              /* sharer -> mapper */
	assert_int_equal(m[2 * PAGE + 9], 0xcd);

	during = dfix_domain(0);
	assert_int_equal(during.nr_grants, before.nr_grants + 3);
	assert_int_equal(during.nr_mappings, before.nr_mappings + 3);
	assert_int_equal(xengnttab_unmap(gt, m, 3), 0);
	assert_int_equal(xengntshr_unshare(gs, s, 3), 0);
	during = dfix_domain(0);
	assert_int_equal(during.nr_grants, before.nr_grants);
	assert_int_equal(during.nr_mappings, before.nr_mappings);

	/* Single-ref map of a fresh share, then close both handles with
	 * the mapping and the share still there: nothing left behind. */
	s = xengntshr_share_pages(gs, 0, 1, refs, 1);
	assert_non_null(s);
	s[0] = 0x77;
	m = xengnttab_map_grant_ref(gt, 0, refs[0], PROT_READ | PROT_WRITE);
	assert_non_null(m);
	assert_int_equal(m[0], 0x77);
	assert_int_equal(xengnttab_close(gt), 0);
	assert_int_equal(xengntshr_close(gs), 0);
	assert_true(WAIT_FOR(dfix_domain(0).nr_grants == before.nr_grants, 2000));
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings);
}

/* Child (domain 1): maps the parent's page, checks and writes it. */
static int child_map(int fd, void *arg)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	uint32_t ref = ch_get_chk(fd), i;
	uint8_t *m;

	(void)arg;
	CHK(gt);
	m = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ | PROT_WRITE);
	CHK(m);
	for (i = 0; i < PAGE; i++)
		CHK(m[i] == (uint8_t)i);
	memset(m, 0xee, PAGE / 2);
	CHK(ch_put(fd, 1) == 0);
	CHK(ch_get_chk(fd) == 2);            /* parent wrote the second half */
	CHK(m[PAGE - 1] == 0x33);
	CHK(xengnttab_unmap(gt, m, 1) == 0);
	CHK(xengnttab_close(gt) == 0);
	return 0;
}

/* Child (domain 1): shares a page to domain 0. */
static int child_share(int fd, void *arg)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	uint32_t ref;
	uint8_t *s;

	(void)arg;
	CHK(gs);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	CHK(s);
	memset(s, 0x42, PAGE);
	CHK(ch_put(fd, ref) == 0);
	CHK(ch_get_chk(fd) == 1);            /* parent mapped and wrote */
	CHK(s[100] == 0x99);
	CHK(ch_get_chk(fd) == 2);            /* parent unmapped */
	CHK(xengntshr_unshare(gs, s, 1) == 0);
	CHK(xengntshr_close(gs) == 0);
	return 0;
}

static void test_cross_domain(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	uint32_t ref, v, i;
	uint8_t *s, *m;
	int fd;
	pid_t pid;

	(void)state;
	/* Domain 0 shares to domain 1; domain 1 maps. */
	s = xengntshr_share_pages(gs, 1, 1, &ref, 1);
	assert_non_null(s);
	for (i = 0; i < PAGE; i++)
		s[i] = (uint8_t)i;
	/* A grant to domain 1 is not domain 0's to map. */
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 0, ref, PROT_READ));
	assert_int_equal(errno, EINVAL);
	pid = dfix_child(1, child_map, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_put(fd, ref), 0);
	assert_int_equal(ch_get(fd, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(s[0], 0xee);
	assert_int_equal(s[PAGE / 2 - 1], 0xee);
	assert_int_equal(s[PAGE / 2], (uint8_t)(PAGE / 2));
	memset(s + PAGE / 2, 0x33, PAGE / 2);
	assert_int_equal(ch_put(fd, 2), 0);
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
	assert_int_equal(xengntshr_unshare(gs, s, 1), 0);

	/* Domain 1 shares to domain 0; domain 0 maps. */
	pid = dfix_child(1, child_share, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_get(fd, &ref), 0);
	m = xengnttab_map_grant_ref(gt, 1, ref, PROT_READ | PROT_WRITE);
	assert_non_null(m);
	assert_int_equal(m[0], 0x42);
	assert_int_equal(m[PAGE - 1], 0x42);
	m[100] = 0x99;
	assert_int_equal(ch_put(fd, 1), 0);
	/* Domain 1's grant names domain 0: mapping it as from domain 0 fails. */
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 0, ref, PROT_READ));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	assert_int_equal(ch_put(fd, 2), 0);
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
	xengnttab_close(gt);
	xengntshr_close(gs);
}

static void test_readonly(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	uint32_t ref, roref;
	uint8_t *s, *m, *ro;

	(void)state;
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	assert_non_null(s);
	s[10] = 0x3c;
	m = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ);
	assert_non_null(m);
	assert_int_equal(m[10], 0x3c);
	assert_true(write_faults(m + 10));
	assert_int_equal(s[10], 0x3c);
	s[11] = 0x4d;                        /* the sharer still writes */
	assert_int_equal(m[11], 0x4d);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);

	/* A read-only grant: read-only maps work, writable ones do not
	 * (Xen: GNTST_permission_denied; Linux's gntdev: EINVAL). */
	ro = xengntshr_share_pages(gs, 0, 1, &roref, 0);
	assert_non_null(ro);
	ro[0] = 0x21;                        /* the sharer's own page stays writable */
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 0, roref, PROT_READ | PROT_WRITE));
	assert_int_equal(errno, EINVAL);
	m = xengnttab_map_grant_ref(gt, 0, roref, PROT_READ);
	assert_non_null(m);
	assert_int_equal(m[0], 0x21);
	assert_true(write_faults(m));
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	assert_int_equal(xengntshr_unshare(gs, ro, 1), 0);
	assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
}

static int child_share_hold(int fd, void *arg)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	uint32_t ref;
	uint8_t *s;

	(void)arg;
	CHK(gs);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 0);
	CHK(s);
	memset(s, 0x61, PAGE);
	CHK(ch_put(fd, ref) == 0);
	CHK(ch_get_chk(fd) == 1);
	CHK(xengntshr_close(gs) == 0);
	return 0;
}

static void test_map_refs_per_domid(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	uint32_t refs[3], domids[3], ref1;
	struct xgntd_domain_info before = dfix_domain(0);
	uint8_t *s, *m;
	int fd;
	pid_t pid;

	(void)state;
	pid = dfix_child(1, child_share_hold, NULL, &fd);
	assert_true(pid > 0);
	assert_int_equal(ch_get(fd, &ref1), 0);
	s = xengntshr_share_pages(gs, 0, 2, refs, 1);
	assert_non_null(s);
	memset(s, 0x0a, PAGE);
	memset(s + PAGE, 0x0b, PAGE);
	/* pages: domain 0's second, domain 1's, domain 0's first */
	domids[0] = 0, refs[2] = refs[0], refs[0] = refs[1];
	domids[1] = 1, refs[1] = ref1;
	domids[2] = 0;
	m = xengnttab_map_grant_refs(gt, 3, domids, refs, PROT_READ);
	assert_non_null(m);
	assert_int_equal(m[0], 0x0b);
	assert_int_equal(m[PAGE], 0x61);
	assert_int_equal(m[2 * PAGE + PAGE - 1], 0x0a);
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings + 3);
	assert_int_equal(xengnttab_unmap(gt, m, 3), 0);
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings);

	/* The same refs with the domids swapped: domain 1's ref read as
	 * domain 0's is not a grant of domain 0 to domain 0 (or another
	 * page): all-or-nothing failure, nothing left mapped. */
	domids[0] = 1, domids[1] = 0;
	errno = 0;
	m = xengnttab_map_grant_refs(gt, 3, domids, refs, PROT_READ);
	if (m) {
		/* refs could collide with a valid one of the other domain:
		 * then the content must be that domain's page. */
		fail_msg("map with swapped domids succeeded");
	}
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings);
	assert_int_equal(ch_put(fd, 1), 0);
	assert_int_equal(dfix_wait(pid), 0);
	close(fd);
	xengntshr_unshare(gs, s, 2);
	xengnttab_close(gt);
	xengntshr_close(gs);
}

static void test_map_bad(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	struct xgntd_domain_info before = dfix_domain(0);
	uint32_t refs[2], domids[2] = { 0, 0 };
	uint8_t *s;

	(void)state;
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 0, 99999, PROT_READ));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 0, 0xffffffffu, PROT_READ | PROT_WRITE));
	assert_int_equal(errno, EINVAL);
	errno = 0;                           /* an unused, in-range ref */
	assert_null(xengnttab_map_grant_ref(gt, 0, 100, PROT_READ));
	assert_int_equal(errno, EINVAL);
	errno = 0;                           /* a domain that does not exist */
	assert_null(xengnttab_map_grant_ref(gt, 7, 8, PROT_READ));
	assert_int_equal(errno, EINVAL);
	/* One good ref, one bad: all or nothing. */
	s = xengntshr_share_pages(gs, 0, 1, refs, 1);
	assert_non_null(s);
	refs[1] = 99999;
	errno = 0;
	assert_null(xengnttab_map_grant_refs(gt, 2, domids, refs, PROT_READ));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings);
	errno = 0;
	assert_null(xengnttab_map_grant_refs(gt, 0, domids, refs, PROT_READ));
	assert_int_equal(errno, EINVAL);
	/* The good one alone still maps. */
	assert_non_null(xengnttab_map_grant_ref(gt, 0, refs[0], PROT_READ));
	xengnttab_close(gt);
	xengntshr_close(gs);
	assert_true(WAIT_FOR(dfix_domain(0).nr_grants == before.nr_grants, 2000));
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings);
}

static void test_unmap_errors(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	uint32_t refs[2];
	uint8_t *s, *m, local[PAGE];

	(void)state;
	s = xengntshr_share_pages(gs, 0, 2, refs, 1);
	assert_non_null(s);
	m = xengnttab_map_domain_grant_refs(gt, 2, 0, refs, PROT_READ | PROT_WRITE);
	assert_non_null(m);
	errno = 0;
	assert_int_equal(xengnttab_unmap(gt, m, 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(xengnttab_unmap(gt, m, 3), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(xengnttab_unmap(gt, NULL, 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(xengnttab_unmap(gt, local, 1), -1);
	assert_int_equal(errno, EINVAL);
	/* Still mapped and shared after the failed unmaps. */
	m[PAGE + 1] = 0x5e;
	assert_int_equal(s[PAGE + 1], 0x5e);
	assert_int_equal(xengnttab_unmap(gt, m, 2), 0);
	errno = 0;                           /* twice */
	assert_int_equal(xengnttab_unmap(gt, m, 2), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xengntshr_unshare(gs, s, 2), 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
}

static void test_grant_copy(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	xengnttab_grant_copy_segment_t seg[20];
	uint8_t *s, src[PAGE], dst[20][64];
	uint32_t ref;
	unsigned int i;

	(void)state;
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	assert_non_null(s);
	for (i = 0; i < PAGE; i++)
		src[i] = (uint8_t)(i * 7);
	/* local -> gref, at an offset */
	memset(seg, 0, sizeof(seg));
	seg[0].source.virt = src;
	seg[0].dest.foreign.ref = ref;
	seg[0].dest.foreign.domid = 0;
	seg[0].dest.foreign.offset = 1000;
	seg[0].len = 3000;
	seg[0].flags = GNTCOPY_dest_gref;
	seg[0].status = 99;
	assert_int_equal(xengnttab_grant_copy(gt, 1, seg), 0);
	assert_int_equal(seg[0].status, GNTST_okay);
	assert_memory_equal(s + 1000, src, 3000);
	assert_int_equal(s[999], 0);
	assert_int_equal(s[4000], 0);
	/* gref -> local: 20 segments (more than one batch) */
	memset(dst, 0, sizeof(dst));
	memset(seg, 0, sizeof(seg));
	for (i = 0; i < 20; i++) {
		seg[i].source.foreign.ref = ref;
		seg[i].source.foreign.domid = 0;
		seg[i].source.foreign.offset = (uint16_t)(1000 + i * 64);
		seg[i].dest.virt = dst[i];
		seg[i].len = 64;
		seg[i].flags = GNTCOPY_source_gref;
		seg[i].status = 99;
	}
	assert_int_equal(xengnttab_grant_copy(gt, 20, seg), 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(seg[i].status, GNTST_okay);
		assert_memory_equal(dst[i], src + i * 64, 64);
	}
	/* gref -> gref */
	memset(seg, 0, sizeof(seg));
	seg[0].source.foreign.ref = ref;
	seg[0].source.foreign.offset = 1000;
	seg[0].dest.foreign.ref = ref;
	seg[0].dest.foreign.offset = 0;
	seg[0].len = 16;
	seg[0].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	assert_int_equal(xengnttab_grant_copy(gt, 1, seg), 0);
	assert_int_equal(seg[0].status, GNTST_okay);
	assert_memory_equal(s, src, 16);
	/* a bad ref: the call succeeds, the segment's status says why */
	memset(seg, 0, sizeof(seg));
	seg[0].source.foreign.ref = 99999;
	seg[0].dest.virt = dst[0];
	seg[0].len = 8;
	seg[0].flags = GNTCOPY_source_gref;
	seg[1].source.virt = src;
	seg[1].dest.foreign.ref = ref;
	seg[1].dest.foreign.offset = 2;
	seg[1].len = 1;
	seg[1].flags = GNTCOPY_dest_gref;
	assert_int_equal(xengnttab_grant_copy(gt, 2, seg), 0);
	assert_int_equal(seg[0].status, GNTST_bad_gntref);
	assert_int_equal(seg[1].status, GNTST_okay);
	assert_int_equal(s[2], src[0]);
	/* Linux's gntdev_grant_copy_seg: -EINVAL */
	memset(seg, 0, sizeof(seg));
	seg[0].source.virt = src;
	seg[0].dest.foreign.ref = ref;
	seg[0].len = PAGE + 1;
	seg[0].flags = GNTCOPY_dest_gref;
	errno = 0;
	assert_int_equal(xengnttab_grant_copy(gt, 1, seg), -1);
	assert_int_equal(errno, EINVAL);
	seg[0].len = 200;                    /* offset + len > 4096, dest gref */
	seg[0].dest.foreign.offset = 4000;
	errno = 0;
	assert_int_equal(xengnttab_grant_copy(gt, 1, seg), -1);
	assert_int_equal(errno, EINVAL);
	memset(seg, 0, sizeof(seg));         /* offset + len > 4096, source gref */
	seg[0].source.foreign.ref = ref;
	seg[0].source.foreign.offset = 4095;
	seg[0].dest.virt = dst[0];
	seg[0].len = 2;
	seg[0].flags = GNTCOPY_source_gref;
	errno = 0;
	assert_int_equal(xengnttab_grant_copy(gt, 1, seg), -1);
	assert_int_equal(errno, EINVAL);
	memset(seg, 0, sizeof(seg));         /* local -> local */
	seg[0].source.virt = src;
	seg[0].dest.virt = dst[0];
	seg[0].len = 8;
	errno = 0;
	assert_int_equal(xengnttab_grant_copy(gt, 1, seg), -1);
	assert_int_equal(errno, EINVAL);
	/* To a read-only grant: Xen refuses the segment (_set_status:
	 * "Attempt to write-pin a r/o grant entry", GNTST_general_error). */
	{
		uint32_t roref;
		uint8_t *ro = xengntshr_share_pages(gs, 0, 1, &roref, 0);

		assert_non_null(ro);
		memset(seg, 0, sizeof(seg));
		seg[0].source.virt = src;
		seg[0].dest.foreign.ref = roref;
		seg[0].len = 8;
		seg[0].flags = GNTCOPY_dest_gref;
		assert_int_equal(xengnttab_grant_copy(gt, 1, seg), 0);
		assert_int_equal(seg[0].status, GNTST_general_error);
		assert_int_equal(ro[0], 0);
		assert_int_equal(xengntshr_unshare(gs, ro, 1), 0);
	}
	/* Exactly a page at offset 0 is fine. */
	memset(seg, 0, sizeof(seg));
	seg[0].source.virt = src;
	seg[0].dest.foreign.ref = ref;
	seg[0].len = PAGE;
	seg[0].flags = GNTCOPY_dest_gref;
	assert_int_equal(xengnttab_grant_copy(gt, 1, seg), 0);
	assert_int_equal(seg[0].status, GNTST_okay);
	assert_memory_equal(s, src, PAGE);
	assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
}

static void test_misc(void **state)
{
	xengnttab_handle *gt = gt_open();
	xengntshr_handle *gs = gs_open();
	uint32_t refs[1] = { 8 }, fd;

	(void)state;
	assert_int_equal(xengnttab_set_max_grants(gt, 128), 0);
	assert_true(xengnttab_fd(gt) >= 0);
	assert_true(xengntshr_fd(gs) >= 0);
	errno = 0;
	assert_int_equal(xengnttab_dmabuf_exp_from_refs(gt, 0, 0, 1, refs, &fd), -1);
	assert_int_equal(errno, ENOTTY);
	errno = 0;
	assert_int_equal(xengnttab_dmabuf_exp_wait_released(gt, 3, 10), -1);
	assert_int_equal(errno, ENOTTY);
	errno = 0;
	assert_int_equal(xengnttab_dmabuf_imp_to_refs(gt, 0, 3, 1, refs), -1);
	assert_int_equal(errno, ENOTTY);
	errno = 0;
	assert_int_equal(xengnttab_dmabuf_imp_release(gt, 3), -1);
	assert_int_equal(errno, ENOTTY);
	errno = 0;
	assert_null(xengntshr_share_pages(gs, 0, 0, refs, 1));
	assert_int_equal(errno, EINVAL);
	{
		/* Linux's gntalloc limit (xgntd --gntalloc-limit, 1024) */
		static uint32_t many[1025];
		void *a;

		errno = 0;
		assert_null(xengntshr_share_pages(gs, 0, 1025, many, 1));
		assert_int_equal(errno, ENOSPC);
		a = xengntshr_share_pages(gs, 0, 1024, many, 1);
		assert_non_null(a);
		errno = 0;
		assert_null(xengntshr_share_pages(gs, 0, 1, many, 1));
		assert_int_equal(errno, ENOSPC);
		assert_int_equal(xengntshr_unshare(gs, a, 1024), 0);
		a = xengntshr_share_pages(gs, 0, 1, many, 1);
		assert_non_null(a);
		assert_int_equal(xengntshr_unshare(gs, a, 1), 0);
	}
	assert_int_equal(xengnttab_close(NULL), 0);
	assert_int_equal(xengntshr_close(NULL), 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
}

/* A loopback pair of event channels: a (unbound) and b (bound to a). */
struct evpair {
	xenevtchn_handle *ha, *hb;
	evtchn_port_t a, b;
};

static void evpair_open(struct evpair *p)
{
	int r;

	p->ha = xenevtchn_open(NULL, 0);
	p->hb = xenevtchn_open(NULL, 0);
	assert_non_null(p->ha);
	assert_non_null(p->hb);
	r = xenevtchn_bind_unbound_port(p->ha, 0);
	assert_true(r > 0);
	p->a = (evtchn_port_t)r;
	r = xenevtchn_bind_interdomain(p->hb, 0, p->a);
	assert_true(r > 0);
	p->b = (evtchn_port_t)r;
	/* Xen's bind-time pending bit on b, delivered once */
	assert_true(dfix_readable(xenevtchn_fd(p->hb), 2000));
	assert_int_equal(xenevtchn_pending(p->hb), r);
	assert_int_equal(xenevtchn_unmask(p->hb, p->b), 0);
}

static void evpair_close(struct evpair *p)
{
	xenevtchn_close(p->ha);
	xenevtchn_close(p->hb);
}

/* The next pending port of h within ms, or -1. */
static int pending_within(xenevtchn_handle *h, int ms)
{
	int port;

	if (!dfix_readable(xenevtchn_fd(h), ms))
		return -1;
	port = xenevtchn_pending(h);
	if (port >= 0)
		xenevtchn_unmask(h, (evtchn_port_t)port);
	return port;
}

static void test_map_notify(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	struct evpair ev;
	uint32_t ref;
	uint8_t *s, *m;

	(void)state;
	evpair_open(&ev);
	s = xengntshr_share_pages(gs, 0, 1, &ref, 1);
	assert_non_null(s);
	memset(s, 0xff, PAGE);
	m = xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ | PROT_WRITE, 123, ev.b);
	assert_non_null(m);
	assert_int_equal(m[123], 0xff);
	assert_int_equal(pending_within(ev.ha, 50), -1);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	assert_int_equal(s[123], 0);         /* the byte, and only it */
	assert_int_equal(s[122], 0xff);
	assert_int_equal(s[124], 0xff);
	assert_int_equal(pending_within(ev.ha, 2000), (int)ev.a);

	/* Only the byte (offset in range, port -1). */
	memset(s, 0xff, PAGE);
	m = xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ | PROT_WRITE, 4095, -1);
	assert_non_null(m);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	assert_int_equal(s[4095], 0);
	assert_int_equal(pending_within(ev.ha, 50), -1);

	/* Only the event (offset out of range). */
	memset(s, 0xff, PAGE);
	m = xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ | PROT_WRITE, PAGE, ev.b);
	assert_non_null(m);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	assert_int_equal(pending_within(ev.ha, 2000), (int)ev.a);
	assert_int_equal(memchr(s, 0, PAGE), NULL);

	/* The notify also fires when the handle is closed with the map. */
	m = xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ | PROT_WRITE, 7, ev.b);
	assert_non_null(m);
	assert_int_equal(xengnttab_close(gt), 0);
	assert_int_equal(s[7], 0);
	assert_int_equal(pending_within(ev.ha, 2000), (int)ev.a);

	/* The notify holds its port (Linux's evtchn_get): unbound by its
	 * handle meanwhile, the port still carries the unmap event. */
	gt = gt_open();
	m = xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ | PROT_WRITE, 8, ev.b);
	assert_non_null(m);
	assert_int_equal(xenevtchn_unbind(ev.hb, ev.b), 0);
	errno = 0;                           /* no longer the handle's */
	assert_int_equal(xenevtchn_notify(ev.hb, ev.b), -1);
	assert_int_equal(errno, ENOTCONN);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	assert_int_equal(s[8], 0);
	assert_int_equal(pending_within(ev.ha, 2000), (int)ev.a);
	/* now the port is closed: the peer's end turned unbound */
	assert_int_equal(xenevtchn_notify(ev.ha, ev.a), 0);
	assert_int_equal(pending_within(ev.hb, 100), -1);
	ev.b = (evtchn_port_t)xenevtchn_bind_interdomain(ev.hb, 0, ev.a);
	assert_true((int)ev.b > 0);
	/* A port this domain's handles did not bind: Linux's evtchn_get
	 * fails, so does the map. */
	errno = 0;
	assert_null(xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ | PROT_WRITE, 0, 4000));
	assert_int_equal(errno, EINVAL);
	/* Linux's IOCTL_GNTDEV_SET_UNMAP_NOTIFY: clearing a byte of a
	 * read-only map is EINVAL, and the library fails the map. */
	errno = 0;
	assert_null(xengnttab_map_grant_ref_notify(gt, 0, ref, PROT_READ, 0, -1));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
	xengnttab_close(gt);
	xengntshr_close(gs);
	evpair_close(&ev);
}

/* The sharer's notify: unshare (or close) while the peer maps. */
static void share_notify_case(bool by_close)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	struct evpair ev;
	struct xgntd_domain_info before = dfix_domain(0);
	uint32_t ref;
	uint8_t *s, *m;

	evpair_open(&ev);
	s = xengntshr_share_page_notify(gs, 0, &ref, 1, 21, ev.a);
	assert_non_null(s);
	memset(s, 0x11, PAGE);
	m = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ | PROT_WRITE);
	assert_non_null(m);
	assert_int_equal(m[21], 0x11);
	if (by_close)
		assert_int_equal(xengntshr_close(gs), 0);
	else
		assert_int_equal(xengntshr_unshare(gs, s, 1), 0);
	assert_int_equal(m[21], 0);          /* cleared in the peer's view */
	assert_int_equal(m[20], 0x11);       /* still mapped and readable */
	assert_int_equal(m[PAGE - 1], 0x11);
	assert_int_equal(pending_within(ev.hb, 2000), (int)ev.b);
	/* The grant lives until the peer unmaps... */
	assert_int_equal(dfix_domain(0).nr_grants, before.nr_grants + 1);
	assert_int_equal(xengnttab_unmap(gt, m, 1), 0);
	/* ...then it is ended: the ref maps no more. */
	assert_true(WAIT_FOR(dfix_domain(0).nr_grants == before.nr_grants, 2000));
	errno = 0;
	assert_null(xengnttab_map_grant_ref(gt, 0, ref, PROT_READ));
	assert_int_equal(errno, EINVAL);
	if (!by_close)
		xengntshr_close(gs);
	xengnttab_close(gt);
	evpair_close(&ev);
}

static void test_share_notify_unshare(void **state)
{
	(void)state;
	share_notify_case(false);
}

static void test_share_notify_close(void **state)
{
	(void)state;
	share_notify_case(true);
}

/* libxenvchan releases data rings with a raw munmap() and then closes
 * the handles: the grants and mappings go with the handles. */
static void test_raw_munmap_then_close(void **state)
{
	xengntshr_handle *gs = gs_open();
	xengnttab_handle *gt = gt_open();
	struct xgntd_domain_info before = dfix_domain(0);
	struct evpair ev;
	uint32_t refs[4];
	uint8_t *s, *m;

	(void)state;
	evpair_open(&ev);
	s = xengntshr_share_pages(gs, 0, 4, refs, 1);
	assert_non_null(s);
	m = xengnttab_map_domain_grant_refs(gt, 4, 0, refs, PROT_READ | PROT_WRITE);
	assert_non_null(m);
	m[3 * PAGE] = 0x31;
	assert_int_equal(s[3 * PAGE], 0x31);
	assert_int_equal(munmap(m, 4 * PAGE), 0);
	assert_int_equal(munmap(s, 4 * PAGE), 0);
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings + 4);
	assert_int_equal(xengnttab_close(gt), 0);
	assert_int_equal(xengntshr_close(gs), 0);
	assert_true(WAIT_FOR(dfix_domain(0).nr_grants == before.nr_grants, 2000));
	assert_int_equal(dfix_domain(0).nr_mappings, before.nr_mappings);
	evpair_close(&ev);
}

/* A share that fails (the domain's grant table is full) sends no unmap
 * notification and leaves its port bound. */
static int setup_big(void **state)
{
	static const char *const args[] = { "--domain", "1:hvm:200", "--memory-mib", "512",
					    "--gntalloc-limit", "40000", NULL };

	(void)state;
	return dfix_start(&dfix, args);
}

static void test_share_fails_quietly(void **state)
{
	xengntshr_handle *gs;
	struct evpair ev;
	void *big[9];
	uint32_t *refs = calloc(4096, sizeof(*refs)), ref;
	int k, n = 0;

	(void)state;
	assert_non_null(refs);
	setenv("XGNT_DOMID", "1", 1);
	gs = gs_open();
	ev.ha = xenevtchn_open(NULL, 0);
	ev.hb = xenevtchn_open(NULL, 0);
	assert_non_null(ev.ha);
	assert_non_null(ev.hb);
	ev.a = (evtchn_port_t)xenevtchn_bind_unbound_port(ev.ha, 1);
	ev.b = (evtchn_port_t)xenevtchn_bind_interdomain(ev.hb, 1, ev.a);
	assert_true((int)ev.a > 0 && (int)ev.b > 0);
	assert_int_equal(pending_within(ev.hb, 2000), (int)ev.b);   /* Xen's bind-time bit */
	/* fill the grant table (64 frames of 512 v1 entries) */
	for (k = 0; k < 9; k++) {
		big[k] = xengntshr_share_pages(gs, 0, 4096, refs, 1);
		if (!big[k])
			break;
		n++;
	}
	assert_true(n >= 7 && n < 9);
	for (;;) {   /* single pages until the table is full */
		void *p = xengntshr_share_pages(gs, 0, 1, &ref, 1);

		if (!p)
			break;
	}
	errno = 0;
	assert_null(xengntshr_share_page_notify(gs, 0, &ref, 1, 0, ev.a));
	assert_int_equal(errno, ENOSPC);    /* Linux: gnttab_grant_foreign_access */
	assert_int_equal(pending_within(ev.hb, 200), -1);   /* no spurious event */
	/* the port is still bound and works */
	assert_int_equal(xenevtchn_notify(ev.ha, ev.a), 0);
	assert_int_equal(pending_within(ev.hb, 2000), (int)ev.b);
	xengntshr_close(gs);
	evpair_close(&ev);
	setenv("XGNT_DOMID", "0", 1);
	free(refs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loopback_share_map, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_cross_domain, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_readonly, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_map_refs_per_domid, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_map_bad, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_unmap_errors, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_grant_copy, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_misc, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_map_notify, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_share_notify_unshare, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_share_notify_close, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_raw_munmap_then_close, dfix_setup, dfix_teardown),
		cmocka_unit_test_setup_teardown(test_share_fails_quietly, setup_big, dfix_teardown),
	};

	return cmocka_run_group_tests_name("xgntd: libxengnttab", tests, NULL, NULL);
}
