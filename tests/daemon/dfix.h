/* SPDX-License-Identifier: MIT */
/*
 * Fixture of the daemon tests: a private xgntd on a socket in a fresh
 * temporary directory (XGNT_SOCKET set for the clients), child processes
 * acting for a domain (XGNT_DOMID), a byte channel to them, and the
 * daemon's view of its domains through the control protocol.
 */
#ifndef XGNT_TEST_DFIX_H
#define XGNT_TEST_DFIX_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <cmocka.h>

#include "daemon/proto.h"

struct dfix {
	char dir[64];
	char sock[128];
	pid_t pid;
};

/* The fixture of the running test (cmocka setup/teardown use it). */
extern struct dfix dfix;
/* When not 0, the next daemons start with this RLIMIT_NOFILE. */
extern unsigned int dfix_nofile;

/* Starts xgntd --socket <tmp>/xgntd.sock --memory-mib 256 plus args
 * (NULL-terminated), sets XGNT_SOCKET and XGNT_DOMID=0, and waits until
 * it accepts. 0 or -1. */
int dfix_start(struct dfix *f, const char *const *args);
/* SIGTERM; 0 when it exited 0 and removed its socket, else -1 (and why on
 * stderr). */
int dfix_stop(struct dfix *f);
bool dfix_alive(const struct dfix *f);

/* cmocka setup/teardown: a daemon with domain 1 (--domain 1). */
int dfix_setup(void **state);
int dfix_teardown(void **state);

/* In a child, cmocka's asserts would unwind into the child's copy of the
 * runner: children check with CHK, which exits 1 with a message. */
#define CHK(cond)                                                               \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "child %d: %s:%d: check failed: %s (errno %d)\n", \
				(int)getpid(), __FILE__, __LINE__, #cond, errno); \
			_exit(1);                                               \
		}                                                               \
	} while (0)

/* A child acting for domain domid: fn(fd, arg) runs with XGNT_DOMID set
 * and one end of a socketpair (*fd gets the other); its return value is
 * the exit status. */
pid_t dfix_child(uint32_t domid, int (*fn)(int fd, void *arg), void *arg, int *fd);
/* Waits (at most 20 s, then SIGKILL): the exit status, or 128 + signal. */
int dfix_wait(pid_t pid);

/* The channel: 32-bit values, 10 s timeout. 0 or -1. */
int ch_put(int fd, uint32_t v);
int ch_get(int fd, uint32_t *v);
uint32_t ch_get_chk(int fd);      /* in children: exits on failure */

/* The daemon's domain list (XGNTD_CTL_DOMAIN_LIST as domain 0): number of
 * domains or -errno. */
int dfix_domains(struct xgntd_domain_info *out, unsigned int max);
/* A control request as domain 0 (no reply payload): its ret. */
long dfix_ctl(uint32_t type, const void *req, size_t len);
/* One domain's entry; asserts it exists. */
struct xgntd_domain_info dfix_domain(uint32_t domid);

/* Polls fd for readability: 1 readable, 0 not within ms. */
int dfix_readable(int fd, int ms);
/* Loops until cond holds or ms passed. */
#define WAIT_FOR(cond, ms)                                                      \
	({                                                                      \
		int _w;                                                         \
		for (_w = 0; !(cond) && _w < (ms); _w++)                        \
			usleep(1000);                                           \
		(cond);                                                         \
	})

#endif /* XGNT_TEST_DFIX_H */
