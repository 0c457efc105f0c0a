/* SPDX-License-Identifier: MIT */
/*
 * The differential runner's shared parts: symbols (refs, ports, handles
 * named in scenarios), step arguments, record output. runner.c holds them
 * and the scenario loop; steps_gnttab.c and steps_evtchn.c the steps.
 */
#ifndef XGNT_XEN_RUNNER_H
#define XGNT_XEN_RUNNER_H

#include "backend.h"

#define MAX_SYMS 64
#define MAX_ARGS 16
#define MAX_BATCH 8
#define SENT16 0x5a5au
#define SENT32 0x5a5a5a5au
#define SENT64 0x5a5a5a5a5a5a5a5aull

enum kind { K_NONE, K_REF, K_PORT, K_EVDEV, K_HANDLE, K_DEVMAP, K_XREF, K_DOM, K_XPORT };

struct sym {
	char name[24];
	enum kind kind;
	bool live;          /* needs cleanup at scenario end */
	domid_t dom;        /* K_XREF: the granting domain */
	uint64_t val;       /* ref, port, handle */
	uint64_t frame;     /* K_REF: the granted frame; K_HANDLE: dev_bus_addr */
	void *page;         /* K_REF: the page; K_DEVMAP: cookie */
	void *addr;         /* K_DEVMAP: mapped address */
};

struct args {
	int n;
	char *key[MAX_ARGS];
	char *val[MAX_ARGS];   /* NULL for a bare word */
};

/* A step: its name in scenario files, and what runs it (ops[0..n) are the
 * parts of a batch, each with the step's name as key[0]). */
struct step {
	const char *name;
	void (*run)(struct args *ops, int n);
};
extern const struct step gnttab_steps[], evtchn_steps[];

extern const struct backend *be;

/* Records: out() appends to the step's line. die() ends the run (exit 2)
 * with the scenario file and line. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *errname(long rc);
const char *stname(int16_t st);
void out_flags(uint16_t f);

struct sym *sym_find(const char *name);
/* A new symbol (or a dead one of that name, reused). */
struct sym *sym_new(const char *name, enum kind k);
const char *sym_name(enum kind k, enum kind k2, uint64_t v);

const char *get(const struct args *a, const char *key);
bool has_word(const struct args *a, const char *w);
const char *defname(const struct args *a);
uint64_t num(const char *v);
uint64_t getnum(const struct args *a, const char *key, uint64_t dflt);
struct sym *getsym(const struct args *a, const char *key, enum kind k);
uint32_t mapflags(const char *v);
/* A ref argument ($sym, whose entry flags the record then shows, or a
 * literal). */
grant_ref_t refarg(const struct args *a, const char *key);
void touch(struct sym *s);
/* Page i of hypercall memory, filled with the sentinel byte 0x5a. */
void *hb(unsigned int i);

/* The runner's own handles of map_many, unmapped at a scenario's end. */
unsigned int unmap_many(void);

#endif
