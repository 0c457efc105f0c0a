/* SPDX-License-Identifier: MIT */
/*
 * A libxenvchan peer written against Debian's <libxenvchan.h> and linked
 * against Debian's unmodified libxenvchan.so.4.17: run with the drop-in
 * libraries first in LD_LIBRARY_PATH, it talks over xgntd and
 * xgnt-xenstored.
 *
 *   vchan_peer server|client PEER_DOMID XS_PATH BYTES [READ_MIN WRITE_MIN]
 *
 * Each side sends BYTES of a seeded pseudo-random stream (seed: its role)
 * and checks the BYTES it receives against the other role's stream, both
 * ways at once, non-blocking. Prints "ok SENT RECEIVED SECONDS" and exits
 * 0; exits 3 if the peer went away first ("peer closed"), 1 on a mismatch
 * or error. With BYTES 0 it waits for the peer to close (liveness test).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxenvchan.h>

#define CHUNK 65536

/* xorshift64*: both peers generate the same stream from the same seed. */
struct stream {
	uint64_t s;
	uint8_t buf[8];
	unsigned int left;
};

static uint8_t next_byte(struct stream *st)
{
	if (!st->left) {
		st->s ^= st->s >> 12;
		st->s ^= st->s << 25;
		st->s ^= st->s >> 27;
		uint64_t v = st->s * 2685821657736338717ull;

		memcpy(st->buf, &v, 8);
		st->left = 8;
	}
	return st->buf[8 - st->left--];
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static uint8_t out[CHUNK], in[CHUNK];
	struct stream tx, rx;
	struct libxenvchan *v;
	unsigned long long total, sent = 0, got = 0;
	unsigned int out_len = 0, out_off = 0;
	int server, domid;
	double t0;

	if (argc != 5 && argc != 7) {
		fprintf(stderr, "usage: vchan_peer server|client PEER_DOMID XS_PATH BYTES [READ_MIN WRITE_MIN]\n");
		return 2;
	}
	server = !strcmp(argv[1], "server");
	domid = atoi(argv[2]);
	total = strtoull(argv[4], NULL, 0);
	if (server)
		v = libxenvchan_server_init(NULL, domid, argv[3], argc == 7 ? strtoul(argv[5], NULL, 0) : 0,
					    argc == 7 ? strtoul(argv[6], NULL, 0) : 0);
	else
		v = libxenvchan_client_init(NULL, domid, argv[3]);
	if (!v) {
		fprintf(stderr, "vchan_peer %s: init failed: %s\n", argv[1], strerror(errno));
		return 1;
	}
	v->blocking = 0;
	tx.s = server ? 0x5eed5e7e : 0xc11e47;
	rx.s = server ? 0xc11e47 : 0x5eed5e7e;
	tx.left = rx.left = 0;
	if (server) {
		/* Wait for the client to connect. */
		while (libxenvchan_is_open(v) == 2)
			libxenvchan_wait(v);
	}
	printf("connected\n");
	fflush(stdout);
	t0 = now();
	while (sent < total || got < total || !total) {
		int progress = 0, n;

		if (sent < total) {
			if (out_off == out_len) {
				unsigned long long left = total - sent;

				out_len = left < CHUNK ? (unsigned int)left : CHUNK;
				for (unsigned int i = 0; i < out_len; i++)
					out[i] = next_byte(&tx);
				out_off = 0;
			}
			n = libxenvchan_write(v, out + out_off, out_len - out_off);
			if (n < 0 && !libxenvchan_is_open(v)) {
				printf("peer closed after %llu sent, %llu received\n", sent, got);
				libxenvchan_close(v);
				return 3;
			}
			if (n < 0) {
				fprintf(stderr, "vchan_peer %s: write: %s\n", argv[1], strerror(errno));
				return 1;
			}
			out_off += (unsigned int)n;
			sent += (unsigned int)n;
			progress |= n > 0;
		}
		if (got < total) {
			unsigned long long left = total - got;

			n = libxenvchan_read(v, in, left < CHUNK ? (size_t)left : CHUNK);
			if (n < 0 && !libxenvchan_is_open(v)) {
				printf("peer closed after %llu sent, %llu received\n", sent, got);
				libxenvchan_close(v);
				return 3;
			}
			if (n < 0) {
				fprintf(stderr, "vchan_peer %s: read: %s\n", argv[1], strerror(errno));
				return 1;
			}
			for (int i = 0; i < n; i++) {
				if (in[i] != next_byte(&rx)) {
					fprintf(stderr, "vchan_peer %s: mismatch at byte %llu\n", argv[1],
						got + (unsigned long long)i);
					return 1;
				}
			}
			got += (unsigned int)n;
			progress |= n > 0;
		}
		if (!progress) {
			struct pollfd p = { .fd = libxenvchan_fd_for_select(v), .events = POLLIN };

			if (!libxenvchan_is_open(v)) {
				printf("peer closed after %llu sent, %llu received\n", sent, got);
				libxenvchan_close(v);
				return 3;
			}
			if (poll(&p, 1, 10000) == 0) {
				fprintf(stderr, "vchan_peer %s: stalled at %llu sent, %llu received\n",
					argv[1], sent, got);
				return 1;
			}
			if (libxenvchan_wait(v) < 0) {
				fprintf(stderr, "vchan_peer %s: wait: %s\n", argv[1], strerror(errno));
				return 1;
			}
		}
	}
	printf("ok %llu %llu %.3f\n", sent, got, now() - t0);
	libxenvchan_close(v);
	return 0;
}
