/* SPDX-License-Identifier: MIT */
/* Shared test helpers; see harness.h. */
#include "harness.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plat/plat.h"

/* Frames of each machine made here, for the leak check at destroy. */
static struct { struct xgnt_machine *m; uint32_t n; } sizes[64];

struct xgnt_machine *t_machine_cfg(uint32_t nr_frames, uint32_t max_grant_frames,
				   uint32_t max_maptrack_frames, uint32_t max_version)
{
	struct xgnt_machine_config c = {
		.nr_frames = nr_frames,
		.max_grant_frames = max_grant_frames,
		.max_maptrack_frames = max_maptrack_frames,
		.max_grant_version = max_version,
	};
	struct xgnt_machine *m = xgnt_machine_create(&c);

	assert_non_null(m);
	for (unsigned int i = 0; i < 64; i++) {
		if (!sizes[i].m || i == 63) {
			sizes[i].m = m;
			sizes[i].n = xgnt_machine_free_frames(m);
			break;
		}
	}
	return m;
}

uint32_t t_machine_nr_frames(struct xgnt_machine *m)
{
	for (unsigned int i = 0; i < 64; i++)
		if (sizes[i].m == m)
			return sizes[i].n;
	return xgnt_machine_free_frames(m);   /* unknown machine: no leak check */
}

struct xgnt_machine *t_machine(void)
{
	return t_machine_cfg(16384, 0, 0, 0);
}

struct xgnt_domain *t_domain(struct xgnt_machine *m, domid_t id, enum xgnt_domain_type type,
			     bool privileged)
{
	struct xgnt_domain_config c = {
		.domid = id,
		.type = type,
		.ram_frames = 256,
		.ext_frames = 4096,
		.nr_vcpus = 2,
		.privileged = privileged,
	};
	struct xgnt_domain *d = xgnt_domain_create(m, &c);

	assert_non_null(d);
	return d;
}

static uint64_t ext_gfn(struct xgnt_domain *d)
{
	struct xgnt_domain_layout l;

	xgnt_domain_layout(d, &l);
	return l.ext_base >> 12;
}

uint64_t t_ext_addr(struct xgnt_domain *d, unsigned int i)
{
	/* Foreign mappings go above the grant-table and status frames. */
	return (ext_gfn(d) + 1024 + i) << 12;
}

void *t_gt_frame_va(struct xgnt_domain *d, unsigned int i)
{
	return xgnt_domain_va(d, (ext_gfn(d) + i) << 12);
}

void *t_gt_status_va(struct xgnt_domain *d, unsigned int i)
{
	return xgnt_domain_va(d, (ext_gfn(d) + T_GT_STATUS_OFF + i) << 12);
}

unsigned int t_gt_version(struct xgnt_domain *d)
{
	struct gnttab_get_version gv = { .dom = DOMID_SELF };

	assert_int_equal(xgnt_grant_table_op(t_v0(d), GNTTABOP_get_version, &gv, 1), 0);
	return gv.version;
}

long t_set_version(struct xgnt_domain *d, unsigned int version)
{
	struct gnttab_set_version sv = { .version = version };

	return xgnt_grant_table_op(t_v0(d), GNTTABOP_set_version, &sv, 1);
}

void t_gt_setup(struct xgnt_domain *d, unsigned int nr_frames)
{
	struct xgnt_vcpu *v = t_v0(d);
	unsigned int version = t_gt_version(d);
	unsigned int nr_status = version == 2 ? (nr_frames * 256 + 2047) / 2048 : 0;
	unsigned int i;

	if (xgnt_domain_pfn_to_mfn(d, 0) == INVALID_MFN) { /* translated */
		for (i = 0; i < nr_frames; i++) {
			struct xen_add_to_physmap a = {
				.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
				.idx = i, .gpfn = ext_gfn(d) + i,
			};
			assert_int_equal(xgnt_memory_op(v, XENMEM_add_to_physmap, &a), 0);
		}
		for (i = 0; i < nr_status; i++) {
			struct xen_add_to_physmap a = {
				.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
				.idx = i | XENMAPIDX_grant_table_status,
				.gpfn = ext_gfn(d) + T_GT_STATUS_OFF + i,
			};
			assert_int_equal(xgnt_memory_op(v, XENMEM_add_to_physmap, &a), 0);
		}
		return;
	}

	xen_pfn_t frames[256];
	struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = nr_frames };

	assert_true(nr_frames <= 256);
	set_xen_guest_handle(st.frame_list, frames);
	assert_int_equal(xgnt_grant_table_op(v, GNTTABOP_setup_table, &st, 1), 0);
	assert_int_equal(st.status, GNTST_okay);
	for (i = 0; i < nr_frames; i++)
		assert_int_equal(xgnt_update_va_mapping(v, (ext_gfn(d) + i) << 12, frames[i],
							XGNT_PROT_READ | XGNT_PROT_WRITE), 0);
	if (nr_status) {
		uint64_t sframes[32];
		struct gnttab_get_status_frames gs = { .dom = DOMID_SELF, .nr_frames = nr_status };

		set_xen_guest_handle(gs.frame_list, sframes);
		assert_int_equal(xgnt_grant_table_op(v, GNTTABOP_get_status_frames, &gs, 1), 0);
		assert_int_equal(gs.status, GNTST_okay);
		for (i = 0; i < nr_status; i++)
			assert_int_equal(xgnt_update_va_mapping(v,
					 (ext_gfn(d) + T_GT_STATUS_OFF + i) << 12,
					 sframes[i], XGNT_PROT_READ), 0);
	}
}

static grant_entry_v1_t *v1_entry(struct xgnt_domain *d, grant_ref_t ref)
{
	return (grant_entry_v1_t *)t_gt_frame_va(d, ref / 512) + ref % 512;
}

static grant_entry_v2_t *v2_entry(struct xgnt_domain *d, grant_ref_t ref)
{
	return (grant_entry_v2_t *)t_gt_frame_va(d, ref / 256) + ref % 256;
}

static grant_status_t *v2_status(struct xgnt_domain *d, grant_ref_t ref)
{
	return (grant_status_t *)t_gt_status_va(d, ref / 2048) + ref % 2048;
}

void t_grant_flags(struct xgnt_domain *d, grant_ref_t ref, domid_t to, uint64_t frame,
		   uint16_t flags)
{
	if (t_gt_version(d) == 1) {
		grant_entry_v1_t *e = v1_entry(d, ref);

		e->frame = (uint32_t)frame;
		e->domid = to;
		/* flags last, with release: the barrier Xen's guests use */
		__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
	} else {
		grant_entry_v2_t *e = v2_entry(d, ref);

		e->full_page.frame = frame;
		e->hdr.domid = to;
		__atomic_store_n(&e->hdr.flags, flags, __ATOMIC_RELEASE);
	}
}

void t_grant(struct xgnt_domain *d, grant_ref_t ref, domid_t to, uint64_t frame, bool ro)
{
	t_grant_flags(d, ref, to, frame, GTF_permit_access | (ro ? GTF_readonly : 0));
}

void t_grant_sub_page(struct xgnt_domain *d, grant_ref_t ref, domid_t to, uint64_t frame,
		      uint16_t off, uint16_t len, bool ro)
{
	grant_entry_v2_t *e = v2_entry(d, ref);

	e->sub_page.frame = frame;
	e->sub_page.page_off = off;
	e->sub_page.length = len;
	e->hdr.domid = to;
	__atomic_store_n(&e->hdr.flags,
			 (uint16_t)(GTF_permit_access | GTF_sub_page | (ro ? GTF_readonly : 0)),
			 __ATOMIC_RELEASE);
}

void t_grant_transitive(struct xgnt_domain *d, grant_ref_t ref, domid_t to,
			domid_t trans_domid, grant_ref_t trans_gref)
{
	grant_entry_v2_t *e = v2_entry(d, ref);

	e->transitive.trans_domid = trans_domid;
	e->transitive.gref = trans_gref;
	e->hdr.domid = to;
	__atomic_store_n(&e->hdr.flags, (uint16_t)GTF_transitive, __ATOMIC_RELEASE);
}

void t_grant_accept_transfer(struct xgnt_domain *d, grant_ref_t ref, domid_t from,
			     uint64_t pfn)
{
	t_grant_flags(d, ref, from, pfn, GTF_accept_transfer);
}

uint16_t t_entry_flags(struct xgnt_domain *d, grant_ref_t ref)
{
	if (t_gt_version(d) == 1)
		return __atomic_load_n(&v1_entry(d, ref)->flags, __ATOMIC_ACQUIRE);
	return __atomic_load_n(&v2_entry(d, ref)->hdr.flags, __ATOMIC_ACQUIRE) |
	       __atomic_load_n(v2_status(d, ref), __ATOMIC_ACQUIRE);
}

uint64_t t_entry_frame(struct xgnt_domain *d, grant_ref_t ref)
{
	if (t_gt_version(d) == 1)
		return v1_entry(d, ref)->frame;
	return v2_entry(d, ref)->full_page.frame;
}

void t_ungrant(struct xgnt_domain *d, grant_ref_t ref)
{
	if (t_gt_version(d) == 1)
		__atomic_store_n(&v1_entry(d, ref)->flags, 0, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&v2_entry(d, ref)->hdr.flags, 0, __ATOMIC_RELEASE);
}

uint64_t t_ram_frame(struct xgnt_domain *d, unsigned int i)
{
	xen_pfn_t mfn = xgnt_domain_pfn_to_mfn(d, i);

	return mfn == INVALID_MFN ? i : mfn;
}

void *t_ram_va(struct xgnt_domain *d, unsigned int i)
{
	return xgnt_domain_va(d, (uint64_t)i << 12);
}

int16_t t_map(struct xgnt_domain *mapper, domid_t granter, grant_ref_t ref, uint32_t flags,
	      uint64_t host_addr, grant_handle_t *h)
{
	struct gnttab_map_grant_ref op = {
		.host_addr = host_addr, .flags = flags, .ref = ref, .dom = granter,
		.handle = (grant_handle_t)0xdeadbeef,
	};

	assert_int_equal(xgnt_grant_table_op(t_v0(mapper), GNTTABOP_map_grant_ref, &op, 1), 0);
	if (h)
		*h = op.handle;
	return op.status;
}

int16_t t_unmap(struct xgnt_domain *mapper, grant_handle_t h, uint64_t host_addr,
		uint64_t dev_bus_addr)
{
	struct gnttab_unmap_grant_ref op = {
		.host_addr = host_addr, .dev_bus_addr = dev_bus_addr, .handle = h,
	};

	assert_int_equal(xgnt_grant_table_op(t_v0(mapper), GNTTABOP_unmap_grant_ref, &op, 1), 0);
	return op.status;
}

#define FAULT_EXIT 99

static void on_fault(int sig)
{
	(void)sig;
	_exit(FAULT_EXIT);
}

bool t_faults(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		/* Our own handler, so sanitizers' handlers do not report it. */
		struct sigaction sa = { .sa_handler = on_fault };

		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == FAULT_EXIT;
	return WIFSIGNALED(status) &&
	       (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

static void do_write(void *p)
{
	*(volatile char *)p = 1;
}

static void do_read(void *p)
{
	(void)*(volatile char *)p;
}

bool t_write_faults(volatile void *p)
{
	return t_faults(do_write, (void *)p);
}

bool t_read_faults(volatile void *p)
{
	return t_faults(do_read, (void *)p);
}

long t_live_allocs(void)
{
	return plat_live_allocs();
}

/*
 * Every test's machine is checked when the test destroys it: the
 * invariants of xgnt_machine_check hold, and once every domain is gone
 * every frame is free again (nothing leaked). Linked with
 * -Wl,--wrap=xgnt_machine_destroy.
 */
void __real_xgnt_machine_destroy(struct xgnt_machine *m);
void __wrap_xgnt_machine_destroy(struct xgnt_machine *m);

static int destroy_one(struct xgnt_domain *d, void *arg)
{
	(void)arg;
	assert_int_equal(xgnt_domain_destroy(d), 0);
	return 0;
}

unsigned int t_check_flags = XGNT_CHECK_GTF;

void __wrap_xgnt_machine_destroy(struct xgnt_machine *m)
{
	char why[256];

	if (m) {
		int rc = xgnt_machine_check(m, t_check_flags, why, sizeof(why));

		if (rc)
			fail_msg("invariant broken at machine destroy: %s", why);
		xgnt_machine_walk_domains(m, destroy_one, NULL);
		rc = xgnt_machine_check(m, t_check_flags, why, sizeof(why));
		if (rc)
			fail_msg("invariant broken after destroying every domain: %s", why);
		assert_int_equal(xgnt_machine_free_frames(m), t_machine_nr_frames(m));
	}
	__real_xgnt_machine_destroy(m);
}
