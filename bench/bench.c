/* SPDX-License-Identifier: MIT */
/*
 * xgnt_bench: per-operation costs of grant tables and event channels, each
 * beside a floor (the same work done by the kernel and the CPU alone)
 * measured in the same run. Prints a table, and JSON with --json.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct bench_cfg bench_cfg = { .reps = 7 };

static const struct {
	const char *name;
	void (*run)(void);
	const char *what;
} benches[] = {
	{ "grant",  bench_grant,  "grant + end access pair vs two CAS on one cache line" },
	{ "map",    bench_map,    "map + unmap per page, batch 1/32/256, vs mmap + replace" },
	{ "copy",   bench_copy,   "grant copy 4 KiB and 64 KiB vs memcpy" },
	{ "event",  bench_event,  "event channel round trip vs eventfd ping-pong" },
	{ "scale",  bench_scale,  "map/unmap and copy in 1..4 threads vs the floor's scaling" },
	{ "growth", bench_growth, "cost per op as live grants (to 1M) and mappings grow" },
};
#define NR_BENCHES (sizeof(benches) / sizeof(benches[0]))

/* ---- clock, failure, samples ------------------------------------------------ */

int64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "xgnt_bench: FAILED at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void samples_add(struct samples *s, double ns_per_op)
{
	BENCH_CHECK(s->n < BENCH_MAX_REPS, "too many repetitions");
	s->v[s->n++] = ns_per_op;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double samples_median(const struct samples *s)
{
	double v[BENCH_MAX_REPS];

	if (!s->n)
		return 0;
	memcpy(v, s->v, s->n * sizeof(v[0]));
	qsort(v, s->n, sizeof(v[0]), cmp_double);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

double samples_min(const struct samples *s)
{
	double m = s->n ? s->v[0] : 0;

	for (unsigned int i = 1; i < s->n; i++)
		m = s->v[i] < m ? s->v[i] : m;
	return m;
}

double samples_max(const struct samples *s)
{
	double m = s->n ? s->v[0] : 0;

	for (unsigned int i = 1; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

long bench_count_vmas(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* ---- results ------------------------------------------------------------------ */

static struct bench_result *results;
static unsigned int nr_results, cap_results;

void result_init(struct bench_result *r, const char *bench, const char *floor,
		 const char *op_fmt, ...)
{
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->bench = bench;
	r->vmas = r->floor_vmas = -1;
	snprintf(r->floor, sizeof(r->floor), "%s", floor);
	va_start(ap, op_fmt);
	vsnprintf(r->op, sizeof(r->op), op_fmt, ap);
	va_end(ap);
}

void result_phase(struct bench_result *r, const char *name, double ns, double floor_ns)
{
	BENCH_CHECK(r->nr_phases < BENCH_MAX_PHASES, "too many phases");
	r->phase[r->nr_phases++] = (struct bench_phase){ name, ns, floor_ns };
}

static double ratio_of(const struct bench_result *r)
{
	double f = samples_median(&r->fs);

	return f > 0 ? samples_median(&r->xs) / f : 0;
}

/* The row as the table shows it, printed as soon as it is known. */
static FILE *table_out;

static void print_row(const struct bench_result *r)
{
	char ratio[16] = "", target[16] = "";

	if (r->fs.n)
		snprintf(ratio, sizeof(ratio), "%.2f", ratio_of(r));
	if (r->target > 0)
		snprintf(target, sizeof(target), "%.2f", r->target);
	fprintf(table_out, "%-52s %11.1f ", r->op, samples_median(&r->xs));
	if (r->fs.n)
		fprintf(table_out, "%11.1f ", samples_median(&r->fs));
	else
		fprintf(table_out, "%11s ", "-");
	fprintf(table_out, "%6s %6s  %s\n", ratio, target, r->note);
	for (unsigned int i = 0; i < r->nr_phases; i++) {
		const struct bench_phase *p = &r->phase[i];
		char name[64];

		snprintf(name, sizeof(name), "  %s", p->name);
		fprintf(table_out, "%-52s %11.1f ", name, p->ns);
		if (p->floor_ns > 0)
			fprintf(table_out, "%11.1f %6.2f\n", p->floor_ns, p->ns / p->floor_ns);
		else
			fprintf(table_out, "%11s\n", "-");
	}
	fflush(table_out);
}

void bench_report(const struct bench_result *r)
{
	if (nr_results == cap_results) {
		cap_results = cap_results ? 2 * cap_results : 64;
		results = realloc(results, cap_results * sizeof(*results));
		BENCH_CHECK(results, "out of memory");
	}
	results[nr_results++] = *r;
	print_row(r);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* JSON has no NaN or infinity. */
static void json_num(FILE *f, double v)
{
	if (v != v || v > 1e300 || v < -1e300)
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

static void json_samples(FILE *f, const char *key, const struct samples *s)
{
	fprintf(f, ", \"%s\": [", key);
	for (unsigned int i = 0; i < s->n; i++) {
		if (i)
			fputs(", ", f);
		json_num(f, s->v[i]);
	}
	fputc(']', f);
}

struct machine_info {
	long nproc;
	char cpu[128];
	char kernel[160];
	long max_map_count;
	char clocksource[32];
	double clock_ns;
	char load_start[64], load_end[64];   /* /proc/loadavg: others sharing the CPUs */
};

static void json_result(FILE *f, const struct bench_result *r)
{
	fputs("    {\"bench\": ", f);
	json_str(f, r->bench);
	fputs(", \"op\": ", f);
	json_str(f, r->op);
	fprintf(f, ", \"n\": %u, \"ns_per_op\": ", r->n);
	json_num(f, samples_median(&r->xs));
	fputs(", \"floor\": ", f);
	json_str(f, r->floor);
	fputs(", \"floor_ns_per_op\": ", f);
	if (r->fs.n)
		json_num(f, samples_median(&r->fs));
	else
		fputs("null", f);
	fputs(", \"ratio\": ", f);
	if (r->fs.n)
		json_num(f, ratio_of(r));
	else
		fputs("null", f);
	fputs(", \"target\": ", f);
	if (r->target > 0)
		json_num(f, r->target);
	else
		fputs("null", f);
	fprintf(f, ", \"ops\": %llu, \"reps\": %u", (unsigned long long)r->ops, r->xs.n);
	json_samples(f, "samples", &r->xs);
	json_samples(f, "floor_samples", &r->fs);
	if (r->vmas >= 0)
		fprintf(f, ", \"vmas\": %ld", r->vmas);
	if (r->floor_vmas >= 0)
		fprintf(f, ", \"floor_vmas\": %ld", r->floor_vmas);
	fputs(", \"phases\": {", f);
	for (unsigned int i = 0; i < r->nr_phases; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, r->phase[i].name);
		fputs(": {\"ns_per_op\": ", f);
		json_num(f, r->phase[i].ns);
		fputs(", \"floor_ns_per_op\": ", f);
		if (r->phase[i].floor_ns > 0)
			json_num(f, r->phase[i].floor_ns);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fputs("}, \"note\": ", f);
	json_str(f, r->note);
	fputc('}', f);
}

static void json_write(FILE *f, const struct machine_info *mi, const char *command)
{
	fputs("{\n  \"tool\": \"xgnt_bench\",\n  \"command\": ", f);
	json_str(f, command);
	fprintf(f, ",\n  \"quick\": %s,\n  \"reps\": %u,\n", bench_cfg.quick ? "true" : "false",
		bench_cfg.reps);
	fprintf(f, "  \"machine\": {\"nproc\": %ld, \"cpu\": ", mi->nproc);
	json_str(f, mi->cpu);
	fputs(", \"kernel\": ", f);
	json_str(f, mi->kernel);
	fprintf(f, ", \"max_map_count\": %ld, \"clocksource\": ", mi->max_map_count);
	json_str(f, mi->clocksource);
	fputs(", \"clock_gettime_ns\": ", f);
	json_num(f, mi->clock_ns);
	fputs(", \"loadavg_start\": ", f);
	json_str(f, mi->load_start);
	fputs(", \"loadavg_end\": ", f);
	json_str(f, mi->load_end);
	fputs("},\n  \"results\": [\n", f);
	for (unsigned int i = 0; i < nr_results; i++) {
		json_result(f, &results[i]);
		fputs(i + 1 < nr_results ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
}

/* ---- the machine we run on ----------------------------------------------------------- */

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static void machine_info(struct machine_info *mi)
{
	struct utsname u;
	char line[256], num[32];
	FILE *f;
	int64_t t0;

	mi->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(mi->cpu, sizeof(mi->cpu), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			colon += 1 + (colon[1] == ' ');
			colon[strcspn(colon, "\n")] = 0;
			snprintf(mi->cpu, sizeof(mi->cpu), "%s", colon);
			break;
		}
	}
	if (f)
		fclose(f);
	if (uname(&u) == 0)
		snprintf(mi->kernel, sizeof(mi->kernel), "%s %s", u.sysname, u.release);
	read_line("/proc/sys/vm/max_map_count", num, sizeof(num));
	mi->max_map_count = strtol(num, NULL, 10);
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  mi->clocksource, sizeof(mi->clocksource));
	read_line("/proc/loadavg", mi->load_start, sizeof(mi->load_start));
	/* What one clock read costs: every timed interval includes about one. */
	t0 = bench_now();
	for (int i = 0; i < 100000; i++)
		(void)bench_now();
	mi->clock_ns = (double)(bench_now() - t0) / 100000;
}

/*
 * glibc drops the lock prefix from its mutexes while a process has never
 * created a thread, and keeps it for good once one has. Every program with
 * an event-channel dispatch thread is in the second state: measure there,
 * whichever benchmarks run.
 */
static void *nothing(void *arg)
{
	return arg;
}

static void go_multithreaded(void)
{
	pthread_t t;

	BENCH_CHECK(pthread_create(&t, NULL, nothing, NULL) == 0, "pthread_create");
	pthread_join(t, NULL);
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xgnt_bench [--quick] [--reps N] [--only NAME[,NAME...]] [--json [FILE]]\n"
		"\n"
		"Each operation is timed over several repetitions (median reported)\n"
		"beside a floor measured in the same run; ratio = xgnt / floor.\n"
		"\n"
		"  --quick        short runs (the CI smoke test)\n"
		"  --reps N       repetitions per measurement (default 7, quick 3; max %d)\n"
		"  --only NAMES   run only these benchmarks (comma-separated)\n"
		"  --json [FILE]  write JSON to FILE, or to stdout (the table then goes to stderr)\n"
		"  --list         list the benchmarks\n"
		"\nbenchmarks:\n",
		BENCH_MAX_REPS);
	for (size_t i = 0; i < NR_BENCHES; i++)
		fprintf(f, "  %-8s %s\n", benches[i].name, benches[i].what);
}

static bool selected(const char *only, const char *name)
{
	size_t n = strlen(name);
	const char *p = only;

	if (!only)
		return true;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, name, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *only = NULL, *json = NULL;
	bool json_stdout = false, reps_set = false;
	struct machine_info mi;
	char command[512] = "";
	size_t used = 0;
	int i;

	for (i = 0; i < argc && used < sizeof(command); i++)
		used += (size_t)snprintf(command + used, sizeof(command) - used, "%s%s",
					 i ? " " : "", argv[i]);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--quick")) {
			bench_cfg.quick = true;
		} else if (!strcmp(a, "--reps") && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);

			if (*end || n < 1 || n > BENCH_MAX_REPS) {
				fprintf(stderr, "xgnt_bench: --reps wants 1..%d\n", BENCH_MAX_REPS);
				return 1;
			}
			bench_cfg.reps = (unsigned int)n;
			reps_set = true;
		} else if (!strcmp(a, "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strncmp(a, "--json=", 7)) {
			json = a + 7;
		} else if (!strcmp(a, "--json")) {
			if (i + 1 < argc && strncmp(argv[i + 1], "--", 2))
				json = argv[++i];
			else
				json_stdout = true;
		} else if (!strcmp(a, "--list")) {
			for (size_t b = 0; b < NR_BENCHES; b++)
				printf("%-8s %s\n", benches[b].name, benches[b].what);
			return 0;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "xgnt_bench: unknown or incomplete option '%s'\n\n", a);
			usage(stderr);
			return 1;
		}
	}
	if (json && !strcmp(json, "-")) {
		json = NULL;
		json_stdout = true;
	}
	if (only) {
		/* Every name must be known: a typo must not run nothing quietly. */
		const char *p = only;

		while (*p) {
			size_t len = strcspn(p, ","), b;

			for (b = 0; b < NR_BENCHES; b++)
				if (strlen(benches[b].name) == len && !strncmp(p, benches[b].name, len))
					break;
			if (b == NR_BENCHES) {
				fprintf(stderr, "xgnt_bench: no benchmark '%.*s' (--list)\n", (int)len, p);
				return 1;
			}
			p += len + (p[len] == ',');
		}
	}
	if (bench_cfg.quick && !reps_set)
		bench_cfg.reps = 3;

	table_out = json_stdout ? stderr : stdout;
	go_multithreaded();
	machine_info(&mi);
	fprintf(table_out, "xgnt_bench%s: %ld CPUs (%s), %s, %u repetitions, median shown\n",
		bench_cfg.quick ? " --quick" : "", mi.nproc, mi.cpu, mi.kernel, bench_cfg.reps);
	fprintf(table_out, "load average at start: %s\n", mi.load_start);
	fprintf(table_out, "ns/op of xgnt and of its floor (same work, kernel and CPU only); "
		"ratio = xgnt / floor\n\n");
	fprintf(table_out, "%-52s %11s %11s %6s %6s  %s\n", "operation", "ns/op", "floor ns/op",
		"ratio", "target", "note");
	for (size_t b = 0; b < NR_BENCHES; b++) {
		if (!selected(only, benches[b].name))
			continue;
		fprintf(table_out, "-- %s: %s\n", benches[b].name, benches[b].what);
		benches[b].run();
	}

	read_line("/proc/loadavg", mi.load_end, sizeof(mi.load_end));
	fprintf(table_out, "\nload average at end: %s\n", mi.load_end);
	if (json_stdout) {
		json_write(stdout, &mi, command);
		fflush(stdout);
	} else if (json) {
		FILE *f = fopen(json, "w");

		if (!f) {
			fprintf(stderr, "xgnt_bench: cannot write %s: %s\n", json, strerror(errno));
			return 1;
		}
		json_write(f, &mi, command);
		if (fclose(f)) {
			fprintf(stderr, "xgnt_bench: writing %s: %s\n", json, strerror(errno));
			return 1;
		}
		fprintf(table_out, "JSON written to %s\n", json);
	}
	free(results);
	return 0;
}
