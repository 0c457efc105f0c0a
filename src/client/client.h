/* SPDX-License-Identifier: MIT */
/*
 * The client side of the xgntd protocol (src/daemon/proto.h): what the
 * drop-in libraries and the tools use to act as a domain of a running
 * daemon. Private to xgnt; built into each user with hidden visibility.
 * Every function returns 0 (or a value >= 0) or -errno.
 */
#ifndef XGNT_CLIENT_H
#define XGNT_CLIENT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../daemon/proto.h"

/* The daemon's socket: $XGNT_SOCKET, else $XDG_RUNTIME_DIR/xgnt/xgntd.sock,
 * else /run/xgnt/xgntd.sock for root, else /tmp/xgnt-<uid>/xgntd.sock. */
int xgntc_socket_path(char *buf, size_t len);

/* The domain this process acts for: $XGNT_DOMID (decimal), default 0;
 * -EINVAL when it is not a domain id. */
int xgntc_domid(uint32_t *domid);

struct xgntc {
	int fd;
	uint16_t seq;
	pthread_mutex_t lock;        /* one request in flight per handle */
	pid_t pid;                   /* the process that opened it */
};

/* Connect to the daemon at path (NULL: xgntc_socket_path) as a handle of
 * kind for domain domid (XGNTD_DOMID_ALL: xgntc_domid). The HELLO reply
 * goes to reply (if not NULL) and up to max_fds passed descriptors to fds
 * (each -1 if absent). pass_fd >= 0 is sent along with the HELLO. */
int xgntc_open(struct xgntc *c, const char *path, uint32_t kind, uint32_t domid,
	       uint32_t hello_flags, int pass_fd, struct xgntd_hello_reply *reply,
	       int *fds, unsigned int max_fds);
void xgntc_close(struct xgntc *c);

/* A request and its reply: the reply's ret (>= 0 or -errno); its payload,
 * up to out_max bytes, in out, and its size in *out_len. -EPIPE when the
 * daemon has gone. */
long xgntc_call(struct xgntc *c, uint32_t type, const void *req, size_t len, void *out,
		size_t out_max, size_t *out_len);
/* The same, and up to max_fds descriptors the reply passes (each -1 if
 * absent; the caller closes them). */
long xgntc_call_fds(struct xgntc *c, uint32_t type, const void *req, size_t len, void *out,
		    size_t out_max, size_t *out_len, int *fds, unsigned int max_fds);
/* A request that gets no reply (XGNTD_F_NOREPLY). */
int xgntc_post(struct xgntc *c, uint32_t type, const void *req, size_t len);

/* Map machine frames mfns[0..n) of the memfd at consecutive pages of one
 * new mapping (runs of consecutive frames in one mmap). MAP_FAILED and
 * errno on failure. */
void *xgntc_map_frames(int memfd, const uint64_t *mfns, unsigned int n, int prot);

#endif /* XGNT_CLIENT_H */
