// SPDX-License-Identifier: MIT
/*
 * The xenstore wire parser and dispatcher as a libFuzzer target, and (built
 * without -DXS_LIBFUZZER) a replayer of a corpus for the ordinary tests.
 * Input: one byte picking the second client's domain (0..3; 1 and 2 exist),
 * then chunks "<len byte><len bytes>" fed alternately to a dom0 client and
 * that client, whose replies are dropped as they come.
 *
 *   clang -fsanitize=fuzzer,address,undefined -DXS_LIBFUZZER -D_GNU_SOURCE \
 *     -Isrc/xenstore tests/xenstore/fuzz_xs_wire.c src/xenstore/{store,conn,\
 *     ops,view,watch,tx,server}.c
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct xsv_server s;
	struct xsv_conn *c[2];
	size_t off = 1;
	int k = 0;

	if (size < 2 || xsv_server_init(&s))
		return 0;
	if (xsv_domain_add(&s, 1, false) || xsv_domain_add(&s, 2, false))
		goto out;
	c[0] = xsv_conn_new(&s, -1, 0);
	c[1] = xsv_conn_new(&s, -1, data[0] % 4);
	if (!c[0] || !c[1])
		goto out;
	while (off < size) {
		size_t n = data[off++];

		if (n > size - off)
			n = size - off;
		if (!c[k]->dead)
			xsv_conn_feed(c[k], data + off, n);
		xsv_conn_consumed(c[k], c[k]->out_bytes);
		off += n;
		k ^= 1;
	}
out:
	xsv_server_fini(&s);
	return 0;
}

#ifndef XS_LIBFUZZER
/* Replays every file of the directories given: a crash or a sanitizer
 * report fails the test. */
int main(int argc, char **argv)
{
	unsigned int files = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;

		if (!d) {
			perror(argv[i]);
			return 1;
		}
		while ((e = readdir(d))) {
			char path[4096];
			unsigned char *buf;
			FILE *f;
			long len;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			f = fopen(path, "rb");
			if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
			    fseek(f, 0, SEEK_SET)) {
				perror(path);
				return 1;
			}
			buf = malloc((size_t)len + 1);
			if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
				perror(path);
				return 1;
			}
			fclose(f);
			LLVMFuzzerTestOneInput(buf, (size_t)len);
			free(buf);
			files++;
		}
		closedir(d);
	}
	printf("replayed %u inputs\n", files);
	return files ? 0 : 1;
}
#endif
