/* SPDX-License-Identifier: MIT */
/*
 * The descriptors a received message carries (SCM_RIGHTS), shared by
 * xgntd, the client library and the protocol fuzzer: each one is either
 * kept (the first max of them, in fds[]) or closed, never leaked.
 */
#ifndef XGNT_DAEMON_SCM_H
#define XGNT_DAEMON_SCM_H

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How many descriptors mh carried; those past max are closed. */
static inline unsigned int scm_take_fds(struct msghdr *mh, int *fds, unsigned int max)
{
	struct cmsghdr *cm;
	unsigned int found = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t k, n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < n; k++, found++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
			if (found < max)
				fds[found] = fd;
			else
				close(fd);
		}
	}
	return found;
}

#endif /* XGNT_DAEMON_SCM_H */
