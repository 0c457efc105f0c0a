/* SPDX-License-Identifier: MIT */
/*
 * The bell's two operations (proto.h), shared by xgntd and libxenevtchn.
 * A slot lives in memory other processes write: every access is atomic,
 * and a slot whose token is not the one expected is left alone.
 */
#ifndef XGNT_DAEMON_BELL_H
#define XGNT_DAEMON_BELL_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

/* A slot whose word keeps changing under a compare-and-swap is being
 * written by its own process, which may be hostile: after this many tries
 * the caller gives up and nothing is delivered (it can only have starved
 * its own handle), so the daemon's one thread is never held. */
#define BELL_TRIES 64

enum bell_result {
	BELL_STALE,     /* the slot is not the binding the caller knows */
	BELL_HELD,      /* not enabled: now pending, nothing to write */
	BELL_DELIVER,   /* the caller writes the port to the pipe */
};

static inline uint64_t *bell_slot(void *bell, uint32_t port)
{
	return (uint64_t *)((char *)bell + XGNTD_BELL_SLOT(port));
}

/* An event on a port whose binding has token (never 0). */
static inline enum bell_result bell_raise(uint64_t *slot, uint32_t token)
{
	uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE), new;
	unsigned int tries = 0;

	do {
		if (++tries > BELL_TRIES)
			return BELL_HELD;
		if ((old & XGNTD_BELL_TOKEN) != token || !token)
			return BELL_STALE;
		if (old & XGNTD_BELL_ENABLED)
			new = token | XGNTD_BELL_WRITING;
		else if (old & XGNTD_BELL_PENDING)
			return BELL_HELD;
		else
			new = old | XGNTD_BELL_PENDING;
	} while (!__atomic_compare_exchange_n(slot, &old, new, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return (old & XGNTD_BELL_ENABLED) ? BELL_DELIVER : BELL_HELD;
}

/* The handle's unmask of its bound port (token read from the slot). */
static inline enum bell_result bell_unmask(uint64_t *slot)
{
	uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE), new;
	unsigned int tries = 0;

	do {
		if (++tries > BELL_TRIES)
			return BELL_HELD;
		if (!(old & XGNTD_BELL_TOKEN))
			return BELL_STALE;
		if (old & XGNTD_BELL_ENABLED)
			return BELL_HELD;
		new = (old & XGNTD_BELL_PENDING) ? (old & XGNTD_BELL_TOKEN)
						 : old | XGNTD_BELL_ENABLED;
	} while (!__atomic_compare_exchange_n(slot, &old, new, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return (old & XGNTD_BELL_PENDING) ? BELL_DELIVER : BELL_HELD;
}

/* The same, in the handle's process, which cannot write its own pipe
 * (its end would keep the pipe open after the daemon's death): it enables
 * the port if nothing is pending; BELL_DELIVER leaves the slot to the
 * daemon's bell_unmask (XGNTD_EVTCHN_UNMASK). */
static inline enum bell_result bell_enable(uint64_t *slot)
{
	uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	unsigned int tries = 0;

	do {
		if (++tries > BELL_TRIES)
			return BELL_HELD;
		if (!(old & XGNTD_BELL_TOKEN))
			return BELL_STALE;
		if (old & XGNTD_BELL_ENABLED)
			return BELL_HELD;
		if (old & XGNTD_BELL_PENDING)
			return BELL_DELIVER;
	} while (!__atomic_compare_exchange_n(slot, &old, old | XGNTD_BELL_ENABLED, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return BELL_HELD;
}

/* After bell_raise's BELL_DELIVER: the port is in the pipe now. */
static inline void bell_written(uint64_t *slot, uint32_t token)
{
	uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	unsigned int tries = 0;

	do {
		if (++tries > BELL_TRIES || (old & XGNTD_BELL_TOKEN) != token ||
		    !(old & XGNTD_BELL_WRITING))
			return;
	} while (!__atomic_compare_exchange_n(slot, &old, old & ~XGNTD_BELL_WRITING, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
}

/* The peer of a port whose handle is going: a sender of that handle may
 * have died between bell_raise and its pipe write (WRITING still set),
 * leaving the port held with nothing to read: deliver it again. */
static inline enum bell_result bell_rekick(uint64_t *slot, uint32_t token)
{
	uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	unsigned int tries = 0;

	do {
		if (++tries > BELL_TRIES)
			return BELL_HELD;
		if ((old & XGNTD_BELL_TOKEN) != token || !token)
			return BELL_STALE;
		if ((old & XGNTD_BELL_ENABLED) || !(old & XGNTD_BELL_WRITING))
			return BELL_HELD;
	} while (!__atomic_compare_exchange_n(slot, &old, (uint64_t)token, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return BELL_DELIVER;
}

/* A binding begins (enabled, nothing pending) or ends (token 0). */
static inline void bell_set(uint64_t *slot, uint32_t token)
{
	__atomic_store_n(slot, token ? (uint64_t)token | XGNTD_BELL_ENABLED : 0, __ATOMIC_RELEASE);
}

#endif /* XGNT_DAEMON_BELL_H */
