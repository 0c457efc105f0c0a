/* SPDX-License-Identifier: MIT */
/*
 * Shared test helpers: machines and domains with small defaults, a guest's
 * view of its own grant table (as a real guest sets it up), and checks that
 * need a child process (a write that must fault).
 */
#ifndef XGNT_TEST_HARNESS_H
#define XGNT_TEST_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <xgnt/hv.h>

/* A small machine: 16384 frames (64 MiB), the given defaults otherwise. */
struct xgnt_machine *t_machine(void);
struct xgnt_machine *t_machine_cfg(uint32_t nr_frames, uint32_t max_grant_frames,
				   uint32_t max_maptrack_frames, uint32_t max_version);

/* Flags of the invariant check every xgnt_machine_destroy runs first
 * (XGNT_CHECK_GTF unless a test's guest writes its own status bits). */
extern unsigned int t_check_flags;

/* Frames of a machine made by t_machine*() (free frames when made). */
uint32_t t_machine_nr_frames(struct xgnt_machine *m);

/* A domain with 256 RAM frames and 4096 extended frames, 2 vCPUs. */
struct xgnt_domain *t_domain(struct xgnt_machine *m, domid_t id, enum xgnt_domain_type type,
			     bool privileged);

static inline struct xgnt_vcpu *t_v0(struct xgnt_domain *d)
{
	return xgnt_domain_vcpu(d, 0);
}

/*
 * The guest's view of its own grant table: for translated guests the
 * frames are placed with XENMEM_add_to_physmap at the start of the
 * extended region (status frames after GT_STATUS_GFN_OFF); for PV guests
 * with setup_table / get_status_frames and update_va_mapping at the same
 * addresses. t_gt_setup maps nr frames of the current version (and the
 * status frames when v2). Asserts success.
 */
#define T_GT_STATUS_OFF 128  /* status frame i lives at ext_base + (128+i) pages */
void t_gt_setup(struct xgnt_domain *d, unsigned int nr_frames);
void *t_gt_frame_va(struct xgnt_domain *d, unsigned int i);
void *t_gt_status_va(struct xgnt_domain *d, unsigned int i);
unsigned int t_gt_version(struct xgnt_domain *d);   /* GNTTABOP_get_version on self */
long t_set_version(struct xgnt_domain *d, unsigned int version);

/* Grant entries as a guest writes them: frame and domid, barrier, flags. */
void t_grant(struct xgnt_domain *d, grant_ref_t ref, domid_t to, uint64_t frame,
	     bool readonly);
void t_grant_flags(struct xgnt_domain *d, grant_ref_t ref, domid_t to, uint64_t frame,
		   uint16_t flags);
void t_grant_sub_page(struct xgnt_domain *d, grant_ref_t ref, domid_t to, uint64_t frame,
		      uint16_t off, uint16_t len, bool readonly);
void t_grant_transitive(struct xgnt_domain *d, grant_ref_t ref, domid_t to,
			domid_t trans_domid, grant_ref_t trans_gref);
void t_grant_accept_transfer(struct xgnt_domain *d, grant_ref_t ref, domid_t from,
			     uint64_t pfn);
/* Current flags of ref (v1 flags | v2 status bits, as GTF_*). */
uint16_t t_entry_flags(struct xgnt_domain *d, grant_ref_t ref);
uint64_t t_entry_frame(struct xgnt_domain *d, grant_ref_t ref);
void t_ungrant(struct xgnt_domain *d, grant_ref_t ref);

/* The frame a guest grants for its RAM page i (gfn or mfn by type). */
uint64_t t_ram_frame(struct xgnt_domain *d, unsigned int i);
void *t_ram_va(struct xgnt_domain *d, unsigned int i);
/* An address in the extended region for foreign mappings: page i. */
uint64_t t_ext_addr(struct xgnt_domain *d, unsigned int i);

/* One map / unmap; returns the op's status, handle via *h. */
int16_t t_map(struct xgnt_domain *mapper, domid_t granter, grant_ref_t ref, uint32_t flags,
	      uint64_t host_addr, grant_handle_t *h);
int16_t t_unmap(struct xgnt_domain *mapper, grant_handle_t h, uint64_t host_addr,
		uint64_t dev_bus_addr);

/* Run fn(arg) in a child; returns true if it died of SIGSEGV/SIGBUS. */
bool t_faults(void (*fn)(void *), void *arg);
bool t_write_faults(volatile void *p);
bool t_read_faults(volatile void *p);

/* Count of live plat allocations (leak checks around an operation). */
long t_live_allocs(void);

#endif
