/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a fuzz target without libFuzzer: each argument is a file or a
 * directory of files (a corpus), or stdin when there is none. meson test
 * runs every target over its seed corpus this way; `-Dfuzz=true` with
 * clang links the targets with libFuzzer instead.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(FILE *f)
{
	size_t len = 0, cap = 65536;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -1;
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
	}
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int run_path(const char *path, unsigned *count)
{
	struct stat st;
	FILE *f;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent **names;
		int n = scandir(path, &names, NULL, alphasort);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			char sub[4096];
			if (names[i]->d_name[0] != '.') {
				snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
				run_path(sub, count);
			}
			free(names[i]);
		}
		free(names);
		return 0;
	}
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	run_file(f);
	fclose(f);
	(*count)++;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = 0;

	if (argc < 2)
		return run_file(stdin) < 0;
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i], &count) < 0)
			return 1;
	/* TAP, like every test here. */
	printf("1..1\nok 1 - %u inputs ran without a crash\n", count);
	return 0;
}
