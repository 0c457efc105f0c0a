/* SPDX-License-Identifier: MIT */
/*
 * Mapping, unmapping and copying foreign grants in batches: one hypercall
 * for the batch, each op's status kept apart from the call's result, and
 * ops that came back GNTST_eagain retried one by one with a growing pause,
 * for about a second in all (Linux and Zephyr do the same). None of this
 * needs the guest's own grant table.
 */
#include "gnttab_int.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

#define EAGAIN_FIRST_NS   1000000ll      /* 1 ms */
#define EAGAIN_MAX_NS     128000000ll    /* 128 ms */
#define EAGAIN_BUDGET_NS  1000000000ll   /* about 1 s in all */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ll, .tv_nsec = ns % 1000000000ll };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int16_t *op_status(void *ops, size_t size, size_t status_off, unsigned int i)
{
	return (int16_t *)((uint8_t *)ops + (size_t)i * size + status_off);
}

/*
 * cmd on count ops of `size` bytes whose status is at status_off. Returns
 * 0 or the hypercall's -errno; ops still GNTST_eagain after the budget
 * keep that status.
 */
static int batch(struct xgnt_guest *g, unsigned int cmd, void *ops, size_t size,
		 size_t status_off, unsigned int count)
{
	int64_t start, pause = EAGAIN_FIRST_NS, left;
	unsigned int i;
	bool again;
	long rc;

	if (!g || (count && !ops))
		return -EINVAL;
	if (!count)
		return 0;
	rc = xgnt_hyp_grant_table_op(g, cmd, ops, count);
	if (rc < 0)
		return (int)rc;
	start = now_ns();
	for (;;) {
		again = false;
		for (i = 0; i < count && !again; i++)
			again = *op_status(ops, size, status_off, i) == GNTST_eagain;
		if (!again)
			return 0;
		left = start + EAGAIN_BUDGET_NS - now_ns();
		if (left <= 0)
			return 0;   /* the ops say GNTST_eagain: the caller sees why */
		sleep_ns(MIN(pause, left));
		pause = MIN(pause * 2, EAGAIN_MAX_NS);
		for (i = 0; i < count; i++) {
			void *op = (uint8_t *)ops + (size_t)i * size;

			if (*op_status(ops, size, status_off, i) != GNTST_eagain)
				continue;
			rc = xgnt_hyp_grant_table_op(g, cmd, op, 1);
			if (rc < 0)
				return (int)rc;
		}
	}
}

int xgnt_map_refs(struct xgnt_guest *g, struct gnttab_map_grant_ref *ops, unsigned int count)
{
	return batch(g, GNTTABOP_map_grant_ref, ops, sizeof(*ops),
		     offsetof(struct gnttab_map_grant_ref, status), count);
}

int xgnt_unmap_refs(struct xgnt_guest *g, struct gnttab_unmap_grant_ref *ops, unsigned int count)
{
	return batch(g, GNTTABOP_unmap_grant_ref, ops, sizeof(*ops),
		     offsetof(struct gnttab_unmap_grant_ref, status), count);
}

int xgnt_copy(struct xgnt_guest *g, struct gnttab_copy *ops, unsigned int count)
{
	return batch(g, GNTTABOP_copy, ops, sizeof(*ops), offsetof(struct gnttab_copy, status),
		     count);
}

/* Xen's GNTTABOP_error_msgs, indexed by -status. */
static const char *const error_msgs[] = GNTTABOP_error_msgs;

const char *xgnt_gnttabop_error(int16_t status)
{
	int idx = -(int)status;

	if (idx < 0 || (unsigned int)idx >= ARRAY_SIZE(error_msgs))
		return "bad status";
	return error_msgs[idx];
}
