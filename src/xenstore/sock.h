/* SPDX-License-Identifier: MIT */
/* The server's event loop over Unix sockets (sock.c). */
#ifndef XGNT_XENSTORED_SOCK_H
#define XGNT_XENSTORED_SOCK_H

#include "xenstored.h"

struct xsv_loop {
	struct xsv_server srv;
	int ep, lfd, sfd;   /* epoll, listening socket, signalfd */
	int dfd;            /* daemon link, -1 when standalone or lost */
	const char *dpath;  /* the daemon's socket, to relink to; NULL: standalone */
	long long relink_at; /* CLOCK_MONOTONIC ms of the next try while lost */
	bool accept_off;    /* out of descriptors: not accepting for now */
};

/* A listening socket at path (fd) or -errno; -EADDRINUSE if a server
 * answers there or holds PATH.lock (*lock_fd: kept locked while serving;
 * src/daemon/listen.h). */
int xsv_listen(const char *path, int *lock_fd);
/* l->lfd and l->dfd set; blocks SIGTERM/SIGINT into a signalfd. */
int xsv_loop_setup(struct xsv_loop *l);
/* Until SIGTERM or SIGINT: 0; or -errno. */
int xsv_loop_run(struct xsv_loop *l);
void xsv_loop_fini(struct xsv_loop *l);

#endif
