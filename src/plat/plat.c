/* SPDX-License-Identifier: MIT */
/* The platform shim: owner-tracking locks, allocation, logging. */
#include "plat.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local char self_marker;

uintptr_t plat_self(void)
{
	/* A thread-local's address is unique per live thread and never 0. */
	return (uintptr_t)&self_marker;
}

static void check(int rc, const char *what)
{
	if (unlikely(rc != 0)) {
		fprintf(stderr, "xgnt: %s: %s\n", what, strerror(rc));
		abort();
	}
}

void plat_mutex_init(plat_mutex_t *l)
{
	check(pthread_mutex_init(&l->m, NULL), "pthread_mutex_init");
	atomic_init(&l->owner, 0);
}

void plat_mutex_destroy(plat_mutex_t *l)
{
	assert(atomic_load(&l->owner) == 0);
	pthread_mutex_destroy(&l->m);
}

void plat_mutex_lock(plat_mutex_t *l)
{
	assert(!plat_mutex_held(l)); /* not recursive */
	check(pthread_mutex_lock(&l->m), "pthread_mutex_lock");
	atomic_store_explicit(&l->owner, plat_self(), memory_order_relaxed);
}

void plat_mutex_unlock(plat_mutex_t *l)
{
	assert(plat_mutex_held(l));
	atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
	check(pthread_mutex_unlock(&l->m), "pthread_mutex_unlock");
}

void plat_rwlock_init(plat_rwlock_t *l)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	/* A writer (setup_table, set_version) must not starve behind maps. */
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	check(pthread_rwlock_init(&l->rw, &a), "pthread_rwlock_init");
	pthread_rwlockattr_destroy(&a);
	atomic_init(&l->writer, 0);
}

void plat_rwlock_destroy(plat_rwlock_t *l)
{
	assert(atomic_load(&l->writer) == 0);
	pthread_rwlock_destroy(&l->rw);
}

void plat_read_lock(plat_rwlock_t *l)
{
	assert(!plat_write_held(l));
	check(pthread_rwlock_rdlock(&l->rw), "pthread_rwlock_rdlock");
}

void plat_read_unlock(plat_rwlock_t *l)
{
	check(pthread_rwlock_unlock(&l->rw), "pthread_rwlock_unlock");
}

void plat_write_lock(plat_rwlock_t *l)
{
	assert(!plat_write_held(l));
	check(pthread_rwlock_wrlock(&l->rw), "pthread_rwlock_wrlock");
	atomic_store_explicit(&l->writer, plat_self(), memory_order_relaxed);
}

void plat_write_unlock(plat_rwlock_t *l)
{
	assert(plat_write_held(l));
	atomic_store_explicit(&l->writer, 0, memory_order_relaxed);
	check(pthread_rwlock_unlock(&l->rw), "pthread_rwlock_unlock");
}

void plat_spin_lock(plat_spin_t *l)
{
	uintptr_t me = plat_self();
	unsigned int spins = 0;

	assert(atomic_load_explicit(&l->owner, memory_order_relaxed) != me);
	for (;;) {
		uintptr_t free_ = 0;

		if (atomic_compare_exchange_weak_explicit(&l->owner, &free_, me,
							  memory_order_acquire,
							  memory_order_relaxed))
			return;
		if (++spins < 64)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
}

/* ---- allocation ---------------------------------------------------------- */

static _Atomic unsigned long fail_at;      /* 0: never fail */
static _Atomic unsigned long alloc_count;
static _Atomic long live_allocs;

void plat_fail_after(unsigned long n)
{
	atomic_store(&alloc_count, 0);
	atomic_store(&fail_at, n);
}

unsigned long plat_alloc_count(void)
{
	return atomic_load(&alloc_count);
}

bool plat_alloc_should_fail(void)
{
	unsigned long at = atomic_load_explicit(&fail_at, memory_order_relaxed);
	unsigned long n = atomic_fetch_add(&alloc_count, 1) + 1;

	return at != 0 && n >= at;
}

long plat_live_allocs(void)
{
	return atomic_load(&live_allocs);
}

void *plat_malloc(size_t n)
{
	void *p;

	if (plat_alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(n ? n : 1);
	if (p)
		atomic_fetch_add_explicit(&live_allocs, 1, memory_order_relaxed);
	return p;
}

void *plat_calloc(size_t n, size_t size)
{
	void *p;

	if (plat_alloc_should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	p = calloc(n ? n : 1, size ? size : 1);
	if (p)
		atomic_fetch_add_explicit(&live_allocs, 1, memory_order_relaxed);
	return p;
}

void plat_free(void *p)
{
	if (!p)
		return;
	atomic_fetch_sub_explicit(&live_allocs, 1, memory_order_relaxed);
	free(p);
}

/* ---- logging ------------------------------------------------------------- */

static int log_level = -2; /* -2: not read yet; -1: off */

void plat_log(enum plat_log_level lvl, const char *fmt, ...)
{
	static _Atomic long window_start;
	static _Atomic int in_window;
	int want = __atomic_load_n(&log_level, __ATOMIC_RELAXED);
	va_list ap;
	long now;

	if (want == -2) {
		const char *e = getenv("XGNT_LOG");

		want = e && *e ? atoi(e) : -1;
		__atomic_store_n(&log_level, want, __ATOMIC_RELAXED);
	}
	if ((int)lvl > want)
		return;
	/* At most 20 messages a second: a hostile guest cannot flood stderr. */
	now = (long)time(NULL);
	if (atomic_exchange(&window_start, now) != now)
		atomic_store(&in_window, 0);
	if (atomic_fetch_add(&in_window, 1) >= 20)
		return;
	va_start(ap, fmt);
	fputs("xgnt: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
