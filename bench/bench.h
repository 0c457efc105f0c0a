/* SPDX-License-Identifier: MIT */
/*
 * What every benchmark shares: the clock, repetitions reduced to their
 * median, checked counts (BENCH_CHECK ends the run loudly), and the rows
 * the report prints as a table and as JSON.
 */
#ifndef XGNT_BENCH_H
#define XGNT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_MAX_REPS   31
#define BENCH_MAX_PHASES 4

/* Set by main before any benchmark runs; read-only afterwards. */
struct bench_cfg {
	bool quick;           /* short runs (CI smoke test) */
	unsigned int reps;    /* repetitions per measurement */
};
extern struct bench_cfg bench_cfg;

/* Iterations for a measurement: the full count, or the quick one. */
static inline unsigned int bench_iters(unsigned int full, unsigned int quick)
{
	return bench_cfg.quick ? quick : full;
}

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now(void);

/* A benchmark that did not do its work must not look fast: stop the run. */
void bench_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define BENCH_CHECK(cond, ...)                                          \
	do {                                                            \
		if (!(cond))                                            \
			bench_fail(__FILE__, __LINE__, __VA_ARGS__);    \
	} while (0)

/* One figure per repetition (ns per operation). */
struct samples {
	double v[BENCH_MAX_REPS];
	unsigned int n;
};
void samples_add(struct samples *s, double ns_per_op);
double samples_median(const struct samples *s);
double samples_min(const struct samples *s);
double samples_max(const struct samples *s);

/* A named part of one operation (map, unmap; fill, teardown), medians. */
struct bench_phase {
	const char *name;
	double ns, floor_ns;   /* floor_ns 0: no floor for this phase */
};

/* One row of the report. */
struct bench_result {
	const char *bench;     /* benchmark name (--only) */
	char op[80];           /* what xgnt did */
	char floor[80];        /* what the floor did */
	unsigned int n;        /* batch, threads or live objects; 0: none */
	struct samples xs, fs; /* ns/op per repetition: xgnt, floor */
	double target;         /* the ratio target; 0: none */
	uint64_t ops;          /* operations done and checked, all repetitions */
	long vmas, floor_vmas; /* kernel mappings the live objects added; -1: none */
	struct bench_phase phase[BENCH_MAX_PHASES];
	unsigned int nr_phases;
	char note[96];
};

/* A zeroed row with op, floor and bench set (printf-style op). */
void result_init(struct bench_result *r, const char *bench, const char *floor,
		 const char *op_fmt, ...) __attribute__((format(printf, 4, 5)));
void result_phase(struct bench_result *r, const char *name, double ns, double floor_ns);
/* Record a finished row (copied). */
void bench_report(const struct bench_result *r);

/* Lines of /proc/self/maps: the process's kernel mappings. */
long bench_count_vmas(void);

/* Keep the compiler from dropping work whose result nobody reads. */
static inline void bench_clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* The benchmarks (b_*.c). Each creates and destroys its own machines. */
void bench_grant(void);
void bench_map(void);
void bench_copy(void);
void bench_event(void);
void bench_scale(void);
void bench_growth(void);

#endif /* XGNT_BENCH_H */
