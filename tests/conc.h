/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the concurrent tests: failures recorded by any thread and
 * asserted by the main one (cmocka's asserts longjmp, which a worker thread
 * must not do), threads joined with a deadline (a hang is a failure), and a
 * small fixed-seed PRNG per thread.
 */
#ifndef XGNT_TEST_CONC_H
#define XGNT_TEST_CONC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Failures so far (workers may stop early when it is non-zero). */
extern atomic_int n_fail;

void record_fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define TFAIL(...) record_fail(__LINE__, __VA_ARGS__)
#define TCHECK(c, ...) do { if (!(c)) TFAIL(__VA_ARGS__); } while (0)

void fails_reset(void);
/* In the main thread: fail the test with the first recorded failure. */
void fails_assert(void);

void start(pthread_t *t, void *(*fn)(void *), void *arg);
/* Join within 240 s, or abort the program (a hypervisor hang). */
void join(pthread_t t, const char *what);

/* xorshift64*: deterministic per seed. */
uint64_t rnd(uint64_t *s);

#endif
