/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz harnesses share: a reader that turns the fuzzer's bytes
 * into bounded choices, a small machine with decoded domains, the guest's
 * own writes to its shared grant entries and event words, and the checks
 * run after every step (a violation aborts: a crash is what libFuzzer and
 * the corpus replay report).
 */
#ifndef XGNT_FUZZ_H
#define XGNT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xgnt/hv.h>

/* ---- the input ------------------------------------------------------------ */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

/* Exhausted input reads as zeros; fz_more says whether any byte is left. */
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
static inline bool fz_more(const struct fz_in *in)
{
	return in->n != 0;
}
/* A value below n (n > 0). */
unsigned int fz_below(struct fz_in *in, unsigned int n);

/* ---- the machine -------------------------------------------------------------- */

#define FZ_MAX_DOMS    4
#define FZ_RAM_FRAMES  32
#define FZ_EXT_FRAMES  256
/* Guest layout in the extended region, in pages from its start. */
#define FZ_EXT_GT      0      /* grant-table frames */
#define FZ_EXT_STATUS  8      /* v2 status frames */
#define FZ_EXT_MAP     16     /* foreign mappings */
#define FZ_NR_MAP      32

struct fz_dom {
	struct xgnt_domain *d;
	domid_t id;
	enum xgnt_domain_type type;
	bool privileged;
	unsigned int nr_vcpus;
	bool alive;            /* not destroyed by the input */
};

struct fz_machine {
	struct xgnt_machine *m;
	uint32_t free_at_start;
	long allocs_at_start;
	unsigned int nr;
	struct fz_dom dom[FZ_MAX_DOMS];
	bool hostile;          /* a guest wrote its status bits: no GTF check */
	unsigned long steps;
};

void fz_machine_create(struct fz_machine *fm, uint32_t max_maptrack_frames);
/* Adds a domain with domid fm->nr; aborts on failure (the config is valid). */
struct fz_dom *fz_domain_add(struct fz_machine *fm, enum xgnt_domain_type type, bool privileged,
			     unsigned int max_grant_frames, unsigned int nr_vcpus,
			     uint32_t max_evtchn_port);
/* Destroy every domain, check no frame and no allocation leaked, destroy. */
void fz_machine_finish(struct fz_machine *fm);

/* Every invariant: xgnt_machine_check (with XGNT_CHECK_GTF while no guest
 * has scribbled), and the event-channel bindings. Aborts on violation. */
void fz_check(struct fz_machine *fm, const char *after);

/* With XGNT_FUZZ_TRACE set in the environment: what each step did (for
 * writing seeds and reading a crash). */
void fz_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Report and abort (an invariant or leak). */
void fz_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- a domain's addresses and frames -------------------------------------------- */

uint64_t fz_ext_addr(struct fz_dom *fd, unsigned int page);
/* The frame the guest grants for its RAM page i (gfn, or mfn for PV). */
uint64_t fz_ram_frame(struct fz_dom *fd, unsigned int i);

/* ---- guest writes to its own shared memory (through the hypervisor's view
 * of the same frames; single-threaded, between hypercalls) ---------------------- */

unsigned int fz_gt_version(struct fz_dom *fd);
unsigned int fz_gt_nr_entries(struct fz_dom *fd);
/* Cooperative guest: grant only a free entry (frame/domid, then flags);
 * end access by compare-and-swap to 0 unless reading/writing. true if done. */
bool fz_guest_grant(struct fz_dom *fd, grant_ref_t ref, domid_t to, uint64_t frame,
		    uint16_t flags, uint16_t sub_off, uint16_t sub_len);
bool fz_guest_end(struct fz_dom *fd, grant_ref_t ref);
/* Hostile guest: write val (width 1, 2, 4 or 8 bytes) at byte off of entry
 * ref's shared entry (v1: 8 bytes, v2: 16). Sets fm->hostile. */
void fz_guest_scribble_entry(struct fz_machine *fm, struct fz_dom *fd, grant_ref_t ref,
			     unsigned int off, unsigned int width, uint64_t val);
/* Hostile guest: write a 32-bit value into its event words: shared_info
 * pending / mask words, a vcpu_info's selector or upcall byte, a FIFO event
 * word, a FIFO control block's head or ready word. */
void fz_guest_scribble_event(struct fz_dom *fd, unsigned int what, unsigned int idx,
			     uint32_t val);

/* The replay driver's main calls this (and libFuzzer does directly). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
