/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "dfix.h"

struct dfix dfix;
unsigned int dfix_nofile;

bool dfix_alive(const struct dfix *f)
{
	return f->pid > 0 && waitpid(f->pid, NULL, WNOHANG) == 0;
}

int dfix_start(struct dfix *f, const char *const *args)
{
	const char *argv[32];
	unsigned int n = 0, i;
	int tries;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/xgntd-test.XXXXXX");
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(f->sock, sizeof(f->sock), "%s/xgntd.sock", f->dir);
	argv[n++] = XGNTD_PATH;
	argv[n++] = "--socket";
	argv[n++] = f->sock;
	argv[n++] = "--memory-mib";
	argv[n++] = "256";
	for (i = 0; args && args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	setenv("XGNT_SOCKET", f->sock, 1);
	setenv("XGNT_DOMID", "0", 1);
	fflush(NULL);
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		/* never outlive a test that crashed */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* nothing of the test's (or ctest's, make's) descriptors */
		close_range(3, ~0u, 0);
		if (dfix_nofile) {
			struct rlimit rl = { dfix_nofile, dfix_nofile };

			setrlimit(RLIMIT_NOFILE, &rl);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (tries = 0; tries < 10000; tries++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

		strcpy(sa.sun_path, f->sock);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (!dfix_alive(f)) {
			fprintf(stderr, "dfix: xgntd exited at start\n");
			f->pid = 0;
			return -1;
		}
		usleep(1000);
	}
	fprintf(stderr, "dfix: xgntd does not accept on %s\n", f->sock);
	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	return -1;
}

int dfix_stop(struct dfix *f)
{
	struct stat st;
	int rc = 0, st_rc;

	if (f->pid <= 0)
		return -1;
	st_rc = dfix_wait(f->pid);
	if (st_rc != 0) {
		fprintf(stderr, "dfix: xgntd ended with status %d\n", st_rc);
		rc = -1;
	}
	if (stat(f->sock, &st) == 0) {
		fprintf(stderr, "dfix: xgntd left its socket %s\n", f->sock);
		unlink(f->sock);
		rc = -1;
	}
	rmdir(f->dir);
	f->pid = 0;
	return rc;
}

int dfix_setup(void **state)
{
	static const char *const args[] = { "--domain", "1", NULL };

	(void)state;
	return dfix_start(&dfix, args);
}

int dfix_teardown(void **state)
{
	(void)state;
	if (dfix.pid > 0 && !dfix_alive(&dfix)) {
		fprintf(stderr, "dfix: xgntd died during the test\n");
		dfix.pid = 0;
		return -1;
	}
	kill(dfix.pid, SIGTERM);
	return dfix_stop(&dfix);
}

pid_t dfix_child(uint32_t domid, int (*fn)(int fd, void *arg), void *arg, int *fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char buf[16];

		close(sv[0]);
		snprintf(buf, sizeof(buf), "%u", domid);
		setenv("XGNT_DOMID", buf, 1);
		_exit(fn(sv[1], arg));
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

int dfix_wait(pid_t pid)
{
	int status, i;

	for (i = 0; i < 20000; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0)
			return -1;
		usleep(1000);
	}
	fprintf(stderr, "dfix: pid %d does not end: killed\n", (int)pid);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int dfix_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0 && (p.revents & POLLIN);
}

int ch_put(int fd, uint32_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

int ch_get(int fd, uint32_t *v)
{
	if (!dfix_readable(fd, 10000))
		return -1;
	return read(fd, v, sizeof(*v)) == sizeof(*v) ? 0 : -1;
}

uint32_t ch_get_chk(int fd)
{
	uint32_t v = 0;

	CHK(ch_get(fd, &v) == 0);
	return v;
}

int dfix_domains(struct xgntd_domain_info *out, unsigned int max)
{
	struct xgntc c;
	size_t got = 0;
	long rc = xgntc_open(&c, dfix.sock, XGNTD_KIND_CTL, 0, 0, -1, NULL, NULL, 0);

	if (rc)
		return (int)rc;
	rc = xgntc_call(&c, XGNTD_CTL_DOMAIN_LIST, NULL, 0, out, max * sizeof(*out), &got);
	xgntc_close(&c);
	if (rc < 0)
		return (int)rc;
	return (int)(got / sizeof(*out));
}

long dfix_ctl(uint32_t type, const void *req, size_t len)
{
	struct xgntc c;
	long rc = xgntc_open(&c, dfix.sock, XGNTD_KIND_CTL, 0, 0, -1, NULL, NULL, 0);

	if (rc)
		return rc;
	rc = xgntc_call(&c, type, req, len, NULL, 0, NULL);
	xgntc_close(&c);
	return rc;
}

struct xgntd_domain_info dfix_domain(uint32_t domid)
{
	struct xgntd_domain_info list[16], none;
	int n = dfix_domains(list, 16), i;

	assert_true(n > 0);
	for (i = 0; i < n; i++)
		if (list[i].domid == domid)
			return list[i];
	fail_msg("domain %u not in the daemon's list", domid);
	memset(&none, 0, sizeof(none));
	return none;
}
