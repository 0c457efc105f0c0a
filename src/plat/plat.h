/* SPDX-License-Identifier: MIT */
/*
 * The platform shim the core is written against: locks that know their
 * owner, a small spinlock, allocation with fault injection, rate-limited
 * logging and the ALWAYS/NEVER checks. See docs/locking.md.
 */
#ifndef XGNT_PLAT_H
#define XGNT_PLAT_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1u << PAGE_SHIFT)
#define PAGE_MASK  (~(uint64_t)(PAGE_SIZE - 1))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * "Cannot happen, but must stay safe": asserts in debug builds, evaluates
 * to the condition in release builds so the caller still takes the safe
 * path (SQLite's ALWAYS/NEVER).
 */
#ifdef NDEBUG
#define ALWAYS(x) (x)
#define NEVER(x)  (x)
#else
#define ALWAYS(x) ((x) ? 1 : (assert(0 && #x), 0))
#define NEVER(x)  ((x) ? (assert(!#x), 1) : 0)
#endif

/* ---- identity of the calling thread, for lock ownership ---------------- */
uintptr_t plat_self(void);

/* ---- mutex: a pthread mutex that records its owner ---------------------- */
typedef struct {
	pthread_mutex_t m;
	_Atomic uintptr_t owner;
} plat_mutex_t;

void plat_mutex_init(plat_mutex_t *l);
void plat_mutex_destroy(plat_mutex_t *l);
void plat_mutex_lock(plat_mutex_t *l);
void plat_mutex_unlock(plat_mutex_t *l);
#define plat_mutex_held(l) \
	(atomic_load_explicit(&(l)->owner, memory_order_relaxed) == plat_self())

/* ---- rwlock: readers counted, writer recorded --------------------------- */
typedef struct {
	pthread_rwlock_t rw;
	_Atomic uintptr_t writer;
} plat_rwlock_t;

void plat_rwlock_init(plat_rwlock_t *l);
void plat_rwlock_destroy(plat_rwlock_t *l);
void plat_read_lock(plat_rwlock_t *l);
void plat_read_unlock(plat_rwlock_t *l);
void plat_write_lock(plat_rwlock_t *l);
void plat_write_unlock(plat_rwlock_t *l);
#define plat_write_held(l) \
	(atomic_load_explicit(&(l)->writer, memory_order_relaxed) == plat_self())

/*
 * spinlock: one word, for the many small critical sections of active
 * grant entries (Xen's act->lock). Spins briefly, then yields: a
 * user-space holder can be preempted.
 */
typedef struct {
	_Atomic uintptr_t owner; /* 0: free; else the holder's plat_self() */
} plat_spin_t;

#define PLAT_SPIN_INIT { 0 }
void plat_spin_lock(plat_spin_t *l);
static inline void plat_spin_unlock(plat_spin_t *l)
{
	assert(atomic_load_explicit(&l->owner, memory_order_relaxed) == plat_self());
	atomic_store_explicit(&l->owner, 0, memory_order_release);
}
#define plat_spin_held(l) \
	(atomic_load_explicit(&(l)->owner, memory_order_relaxed) == plat_self())

/* ---- allocation, with fault injection for tests ------------------------- */
void *plat_malloc(size_t n);
void *plat_calloc(size_t n, size_t size);
void plat_free(void *p);

/*
 * Fault injection: after plat_fail_after(n), the n-th allocation from now
 * on (1-based) and every later one fails, until plat_fail_after(0).
 * plat_alloc_count() tells how many allocations were made since the last
 * plat_fail_after(), so a test can loop n over every allocation point.
 * Only allocation points inside operations consult it (mmap of machine
 * memory is not an "allocation" here).
 */
void plat_fail_after(unsigned long n);
unsigned long plat_alloc_count(void);
bool plat_alloc_should_fail(void);
/* Live allocations made through plat_malloc/plat_calloc (leak checks). */
long plat_live_allocs(void);

/* ---- logging: off unless XGNT_LOG is set; hostile input is rate-limited - */
enum plat_log_level { PLAT_LOG_ERR, PLAT_LOG_WARN, PLAT_LOG_INFO, PLAT_LOG_DEBUG };
void plat_log(enum plat_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A guest did something Xen would only gdprintk about. */
#define guest_log(...) plat_log(PLAT_LOG_DEBUG, __VA_ARGS__)

#endif /* XGNT_PLAT_H */
