/* SPDX-License-Identifier: MIT */
/*
 * The replay driver: without libFuzzer (gcc builds), each harness is linked
 * with this main, which runs every file named, or every file of every
 * directory named, through LLVMFuzzerTestOneInput in name order. ctest
 * runs it on the harness's corpus, so every input the fuzzer kept is an
 * ordinary test in the normal and sanitizer builds (SQLite's fuzzcheck).
 * A violated invariant aborts, naming the input first.
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (1u << 20)

static unsigned int run_file(const char *path)
{
	static uint8_t buf[REPLAY_MAX_INPUT];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		perror(path);
		exit(2);
	}
	fclose(f);
	/* Say which input before running it: a failure aborts. */
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	LLVMFuzzerTestOneInput(buf, n);
	return 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned int run_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t nr = 0, cap = 0, i;
	unsigned int done = 0;

	if (!dp) {
		perror(dir);
		exit(2);
	}
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		if (nr == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				exit(2);
		}
		if (asprintf(&names[nr++], "%s/%s", dir, de->d_name) < 0)
			exit(2);
	}
	closedir(dp);
	qsort(names, nr, sizeof(*names), by_name);
	for (i = 0; i < nr; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			done += run_file(names[i]);
		free(names[i]);
	}
	free(names);
	return done;
}

int main(int argc, char **argv)
{
	unsigned int done = 0;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 2;
		}
		done += S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
	}
	if (!done) {
		fprintf(stderr, "replay: no inputs found\n");
		return 1;
	}
	printf("replay: %u input(s), every invariant held\n", done);
	return 0;
}
