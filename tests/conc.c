/* SPDX-License-Identifier: MIT */
/* Helpers for the concurrent tests; see conc.h. */
#include "conc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

atomic_int n_fail;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_first[512];

void record_fail(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (atomic_fetch_add(&n_fail, 1) != 0)
		return;
	pthread_mutex_lock(&fail_lock);
	n = snprintf(fail_first, sizeof(fail_first), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(fail_first + n, sizeof(fail_first) - (size_t)n, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&fail_lock);
}

void fails_reset(void)
{
	pthread_mutex_lock(&fail_lock);
	atomic_store(&n_fail, 0);
	fail_first[0] = '\0';
	pthread_mutex_unlock(&fail_lock);
}

void fails_assert(void)
{
	int n = atomic_load(&n_fail);

	if (n) {
		char msg[sizeof(fail_first)];

		/* Copy under the lock; fail_msg longjmps. */
		pthread_mutex_lock(&fail_lock);
		memcpy(msg, fail_first, sizeof(msg));
		pthread_mutex_unlock(&fail_lock);
		fail_msg("%d failure(s) in threads; first: %s", n, msg);
	}
}

void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	assert_int_equal(pthread_create(t, NULL, fn, arg), 0);
}

void join(pthread_t t, const char *what)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 240;
	rc = pthread_timedjoin_np(t, NULL, &ts);
	if (rc) {
		fprintf(stderr, "FATAL: thread %s did not finish (rc %d): hypervisor hang?\n", what, rc);
		abort();
	}
}

uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}
