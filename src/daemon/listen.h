/* SPDX-License-Identifier: MIT */
/*
 * A listening Unix socket for a server (xgntd, xgnt-xenstored), never two
 * servers on one path: PATH.lock is taken first (two starting at once on
 * a stale socket would otherwise both pass the probe; the file stays, so
 * that every server locks the same one), then a server answering at
 * PATH is an error and a stale file is not. The socket is bound and
 * listening under a temporary name and renamed into place, so a client
 * that sees the file can connect.
 */
#ifndef XGNT_DAEMON_LISTEN_H
#define XGNT_DAEMON_LISTEN_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* fd, or -errno (-EADDRINUSE: another server answers or holds the lock).
 * *lock_fd: the locked PATH.lock, to keep open while serving and close
 * after the socket is removed (-1 on failure). */
static inline int unix_listen(const char *path, int type, int backlog, int *lock_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char tmp[sizeof(sa.sun_path)], lockpath[sizeof(sa.sun_path) + 8];
	int fd, probe, rc;

	*lock_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
		close(fd);
		return rc;
	}
	*lock_fd = fd;
	probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		int live = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		close(probe);
		if (live) {
			rc = -EADDRINUSE;
			goto unlock;
		}
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= sizeof(tmp))
		strcpy(tmp, path);   /* no room for a temporary name */
	strcpy(sa.sun_path, tmp);
	unlink(tmp);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto unlock;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0 ||
	    (strcmp(tmp, path) && rename(tmp, path) < 0)) {
		rc = -errno;
		unlink(tmp);
		close(fd);
		goto unlock;
	}
	return fd;
unlock:
	close(*lock_fd);
	*lock_fd = -1;
	return rc;
}

#endif /* XGNT_DAEMON_LISTEN_H */
