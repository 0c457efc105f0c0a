/* SPDX-License-Identifier: MIT */
/*
 * vchan_bench: Debian's unmodified libxenvchan over xgntd and
 * xgnt-xenstored, beside floors measured in the same run (issue 6):
 *
 *   - throughput, one way, dom0 -> dom1, messages of 4 KiB .. 1 MiB over a
 *     1 MiB ring, vs the same messages over a Unix stream socket pair
 *     between two processes;
 *   - a request/reply round trip through the daemon (xenevtchn_unbind of
 *     a port the handle does not own: one message each way), vs a 4-byte
 *     ping-pong over a Unix socket pair;
 *   - an event round trip between two processes (notify, pending, unmask
 *     and notify back) vs the socket ping-pong.
 *
 * Run by bench/vchan.sh, which starts the daemons and sets LD_LIBRARY_PATH
 * to the drop-in libraries. Prints one line per figure and, with --json
 * FILE, writes them there. Ratios: xgnt time / floor time (lower is better).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>
#include <xenevtchn.h>

#define RING (1u << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "vchan_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int full_write(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t r = write(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int full_read(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Seconds to move total bytes in msg-sized messages over a socket pair. */
static double socket_stream(size_t msg, size_t total)
{
	int sv[2];
	uint8_t *buf = malloc(msg);
	pid_t pid;
	double t;
	size_t done;

	if (!buf || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	memset(buf, 0xa5, msg);
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		for (done = 0; done < total; done += msg)
			if (full_write(sv[0], buf, msg))
				_exit(1);
		_exit(0);
	}
	close(sv[0]);
	t = now();
	for (done = 0; done < total; done += msg)
		if (full_read(sv[1], buf, msg))
			die("socket read");
	t = now() - t;
	close(sv[1]);
	waitpid(pid, NULL, 0);
	free(buf);
	return t;
}

/* The same over a vchan: the child is the server in dom0, we are the
 * client in dom1. */
static double vchan_stream(size_t msg, size_t total, const char *path)
{
	uint8_t *buf = malloc(msg);
	struct libxenvchan *v;
	int go[2];
	pid_t pid;
	double t;
	size_t done;
	char c;

	if (!buf || pipe(go))
		die("pipe");
	memset(buf, 0x5a, msg);
	pid = fork();
	if (pid == 0) {
		setenv("XGNT_DOMID", "0", 1);
		v = libxenvchan_server_init(NULL, 1, path, RING, RING);
		if (!v)
			_exit(1);
		v->blocking = 1;
		if (write(go[1], "r", 1) != 1)
			_exit(1);
		while (libxenvchan_is_open(v) == 2)
			libxenvchan_wait(v);
		for (done = 0; done < total; done += msg)
			if (libxenvchan_write(v, buf, msg) != (int)msg)
				_exit(1);
		/* Until the client has read it all and closes. */
		while (libxenvchan_is_open(v))
			if (libxenvchan_wait(v) < 0)
				break;
		libxenvchan_close(v);
		_exit(0);
	}
	if (read(go[0], &c, 1) != 1)
		die("server init");
	setenv("XGNT_DOMID", "1", 1);
	v = libxenvchan_client_init(NULL, 0, path);
	if (!v)
		die("client init");
	v->blocking = 1;
	t = now();
	for (done = 0; done < total;) {
		int n = libxenvchan_read(v, buf, msg);

		if (n <= 0)
			die("vchan read");
		done += (size_t)n;
	}
	t = now() - t;
	libxenvchan_close(v);
	waitpid(pid, NULL, 0);
	close(go[0]);
	close(go[1]);
	free(buf);
	return t;
}

static double socket_pingpong(unsigned int n)
{
	int sv[2];
	uint32_t x = 0;
	pid_t pid;
	double t;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		while (full_read(sv[0], &x, 4) == 0)
			if (full_write(sv[0], &x, 4))
				break;
		_exit(0);
	}
	close(sv[0]);
	t = now();
	for (unsigned int i = 0; i < n; i++)
		if (full_write(sv[1], &i, 4) || full_read(sv[1], &x, 4))
			die("ping-pong");
	t = now() - t;
	close(sv[1]);
	waitpid(pid, NULL, 0);
	return t;
}

static double daemon_roundtrip(unsigned int n)
{
	xenevtchn_handle *h = xenevtchn_open(NULL, 0);
	double t;

	if (!h)
		die("xenevtchn_open");
	t = now();
	for (unsigned int i = 0; i < n; i++)
		if (xenevtchn_unbind(h, 1) == 0 || errno != ENOTCONN)
			die("unbind");
	t = now() - t;
	xenevtchn_close(h);
	return t;
}

/* Ping-pong of events between dom0 (child) and dom1 (us). */
static double event_pingpong(unsigned int n)
{
	int go[2], port_pipe[2];
	xenevtchn_handle *h;
	int local, remote;
	pid_t pid;
	double t;

	if (pipe(go) || pipe(port_pipe))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		int p;

		setenv("XGNT_DOMID", "0", 1);
		h = xenevtchn_open(NULL, 0);
		if (!h)
			_exit(1);
		p = xenevtchn_bind_unbound_port(h, 1);
		if (p < 0 || write(port_pipe[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		for (unsigned int i = 0; i < n; i++) {
			int q = xenevtchn_pending(h);

			if (q != p || xenevtchn_unmask(h, (evtchn_port_t)q) || xenevtchn_notify(h, (evtchn_port_t)p))
				_exit(1);
		}
		if (read(go[0], &p, 1) < 0)
			_exit(1);
		xenevtchn_close(h);
		_exit(0);
	}
	if (read(port_pipe[0], &remote, sizeof(remote)) != sizeof(remote))
		die("event peer");
	setenv("XGNT_DOMID", "1", 1);
	h = xenevtchn_open(NULL, 0);
	if (!h)
		die("xenevtchn_open");
	local = xenevtchn_bind_interdomain(h, 0, (evtchn_port_t)remote);
	if (local < 0)
		die("bind_interdomain");
	/* Xen sets a freshly bound interdomain port pending (notifications to
	 * the unbound peer may have been lost): take that one first. */
	if (xenevtchn_pending(h) != local || xenevtchn_unmask(h, (evtchn_port_t)local))
		die("first pending");
	t = now();
	for (unsigned int i = 0; i < n; i++) {
		int q;

		if (xenevtchn_notify(h, (evtchn_port_t)local))
			die("notify");
		q = xenevtchn_pending(h);
		if (q != local || xenevtchn_unmask(h, (evtchn_port_t)q))
			die("pending");
	}
	t = now() - t;
	if (write(go[1], "x", 1) != 1)
		die("pipe");
	waitpid(pid, NULL, 0);
	xenevtchn_close(h);
	return t;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 16384, 65536, 262144, 1048576 };
	size_t total = 256u << 20;
	unsigned int rt = 20000, i;
	FILE *json = NULL;
	char path[64];

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--quick")) {
			total = 16u << 20;
			rt = 1000;
		} else if (!strcmp(argv[a], "--json") && a + 1 < argc) {
			json = fopen(argv[++a], "w");
			if (!json)
				die(argv[a]);
		} else {
			fprintf(stderr, "usage: vchan_bench [--quick] [--json FILE]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (json)
		fprintf(json, "{\n  \"bytes_per_size\": %zu,\n  \"results\": [\n", total);
	printf("%-28s %12s %12s %8s\n", "what", "xgnt", "floor", "ratio");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double ts, tv, best_s = 1e9, best_v = 1e9;

		/* Best of three each, interleaved, against a noisy machine. */
		for (int k = 0; k < 3; k++) {
			snprintf(path, sizeof(path), "/local/domain/0/data/vchan/1/b%zu_%d", sizes[i], k);
			tv = vchan_stream(sizes[i], total, path);
			ts = socket_stream(sizes[i], total);
			best_v = tv < best_v ? tv : best_v;
			best_s = ts < best_s ? ts : best_s;
		}
		printf("vchan %7zu B messages    %7.0f MB/s %7.0f MB/s %8.2f\n", sizes[i],
		       (double)total / best_v / 1e6, (double)total / best_s / 1e6, best_v / best_s);
		if (json)
			fprintf(json, "    {\"name\": \"vchan_stream\", \"msg\": %zu, \"xgnt_MBps\": %.1f, "
				"\"floor_MBps\": %.1f, \"ratio\": %.3f},\n", sizes[i],
				(double)total / best_v / 1e6, (double)total / best_s / 1e6,
				best_v / best_s);
	}
	{
		double floor = socket_pingpong(rt), d = daemon_roundtrip(rt), e = event_pingpong(rt);

		printf("%-28s %9.2f us %9.2f us %8.2f\n", "request round trip (daemon)", d / rt * 1e6,
		       floor / rt * 1e6, d / floor);
		printf("%-28s %9.2f us %9.2f us %8.2f\n", "event round trip (2 procs)", e / rt * 1e6,
		       floor / rt * 1e6, e / floor);
		if (json)
			fprintf(json, "    {\"name\": \"daemon_roundtrip\", \"xgnt_us\": %.3f, "
				"\"floor_us\": %.3f, \"ratio\": %.3f},\n"
				"    {\"name\": \"event_roundtrip\", \"xgnt_us\": %.3f, "
				"\"floor_us\": %.3f, \"ratio\": %.3f}\n  ]\n}\n",
				d / rt * 1e6, floor / rt * 1e6, d / floor, e / rt * 1e6,
				floor / rt * 1e6, e / floor);
	}
	if (json)
		fclose(json);
	return 0;
}
