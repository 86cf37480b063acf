/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl seal export | inspect. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "seals.h"
#include "commands.h"
#include "ctl.h"
#include "output.h"
#include "wire-names.h"

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	if (close(fd) < 0 || n != (ssize_t)len)
		return -EIO;
	return 0;
}

struct export_options {
	long index;
	const char *out;
};

static int handle_export_option(int c, const char *arg, void *userdata)
{
	struct export_options *o = userdata;
	char *end;

	if (c == 'o') {
		o->out = arg;
		return 0;
	}
	o->index = strtol(arg, &end, 10);
	return *end || o->index < 1 ? -1 : 0;
}

static int seal_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{"index", required_argument, NULL, 'n'},
		{"output", required_argument, NULL, 'o'},
		{0},
	};
	struct export_options o = {.index = 1};
	ukey_client *client = NULL;
	ukey_token *t = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	enum ukey_error e;
	int first, r;

	/* -o is short for --output here. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-o") == 0)
			argv[i] = (char *)"--output";
	first = ctl_parse_options_ext(ctl, argc, argv, options, handle_export_option, &o);
	if (first < 0 || argc - first != 1 || !o.out) {
		fprintf(stderr, _("Usage: ukeyctl seal export SERIAL [--index N] -o FILE\n"));
		return EXIT_USAGE;
	}
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	r = ctl_pick_serial(client, argv[first], &t);
	if (r == EXIT_OK && (size_t)o.index > ukey_token_get_seal_count(t)) {
		fprintf(stderr, _("Token %s has no seal number %ld (it has %zu).\n"),
			tx(ukey_token_get_serial(t)), o.index, ukey_token_get_seal_count(t));
		r = EXIT_NOT_FOUND;
	}
	if (r == EXIT_OK) {
		e = ukey_client_get_seal_picture(client, ukey_token_get_serial(t),
						 (size_t)o.index - 1, &data, &len);
		if (e != UKEY_OK)
			r = ctl_fail(e, _("reading the seal picture"));
	}
	if (r == EXIT_OK && write_file(o.out, data, len) < 0) {
		fprintf(stderr, _("Cannot write %s.\n"), o.out);
		r = EXIT_ERROR;
	}
	if (r == EXIT_OK)
		printf(_("Wrote the %s picture of seal %ld (%zu bytes) to %s.\n"),
		       tx(ukey_seal_get_picture_type(ukey_token_get_seal(t, (size_t)o.index - 1))),
		       o.index, len, o.out);
	free(data);
	ukey_token_unref(t);
	ukey_client_unref(client);
	return r;
}

/* For counter staff: what a seal file is, without any token. */
static int seal_inspect(struct ctl *ctl, int argc, char **argv)
{
	struct seal_info *s = NULL;
	enum ukey_seal_status st;
	char from[16], to[16];
	uint8_t *data;
	struct stat sb;
	int first, fd;

	first = ctl_parse_options(ctl, argc, argv);
	if (first < 0 || argc - first != 1) {
		fprintf(stderr, _("Usage: ukeyctl [--json] seal inspect FILE\n"));
		return EXIT_USAGE;
	}
	fd = open(argv[first], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size > 64 * 1024 * 1024) {
		fprintf(stderr, _("Cannot read %s.\n"), argv[first]);
		if (fd >= 0)
			close(fd);
		return EXIT_ERROR;
	}
	data = malloc((size_t)sb.st_size + 1);
	if (!data || read(fd, data, (size_t)sb.st_size) != sb.st_size) {
		close(fd);
		free(data);
		fprintf(stderr, _("Cannot read %s.\n"), argv[first]);
		return EXIT_ERROR;
	}
	close(fd);
	if (seal_parse(data, (size_t)sb.st_size, &s) != 0) {
		free(data);
		fprintf(stderr, _("%s is not an electronic seal (SESeal).\n"), argv[first]);
		return EXIT_ERROR;
	}
	free(data);
	st = seal_status(s, NULL, NULL, 0, time(NULL));
	if (ctl->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "status",
				       json_object_new_string(ukey_wire_seal_status_name(st)));
		if (s->layout) {
			json_object_object_add(o, "version", json_object_new_int(s->layout));
			json_object_object_add(o, "name", json_object_new_string(s->name));
			json_object_object_add(
				o, "kind",
				json_object_new_string(ukey_wire_seal_kind_name(s->kind)));
			json_object_object_add(o, "esid", json_object_new_string(s->esid));
			json_object_object_add(o, "type", json_object_new_int64(s->property_type));
			json_object_object_add(o, "vendor", json_object_new_string(s->vendor));
			json_object_object_add(o, "signature_ok",
					       json_object_new_boolean(s->signature_ok));
			json_object_object_add(o, "picture_type",
					       json_object_new_string(s->picture_type));
			json_object_object_add(o, "picture_size",
					       json_object_new_int64((int64_t)s->picture_len));
			json_object_object_add(o, "signers",
					       json_object_new_int64((int64_t)s->n_signers));
		}
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (s->layout == 0) {
		printf(_("A damaged seal: it starts like an SESeal but cannot be read.\n"));
	} else {
		format_date(s->valid_from, from, sizeof(from));
		format_date(s->valid_to, to, sizeof(to));
		printf(_("Seal %s\n"), tx(s->name));
		printf(_("  Kind:       %s (property type %ld)\n"), seal_kind_text(s->kind),
		       s->property_type);
		printf(_("  Format:     v%d, header version %ld, maker %s\n"), s->layout,
		       s->header_version, tx(s->vendor));
		printf(_("  Seal ID:    %s\n"), tx(s->esid));
		printf(_("  Valid:      %s to %s\n"), from, to);
		printf(_("  Picture:    %s, %zu bytes\n"), tx(s->picture_type), s->picture_len);
		printf(_("  Signers:    %zu certificate(s)\n"), s->n_signers);
		printf(_("  Signature:  %s\n"),
		       s->signature_ok ? _("verifies") : _("does NOT verify"));
		printf(_("  Status:     %s\n"), seal_status_text(st));
	}
	seal_info_free(s);
	return st == UKEY_SEAL_VALID ? EXIT_OK : EXIT_PROBLEMS;
}

int cmd_seal(struct ctl *ctl, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "export") == 0)
		return seal_export(ctl, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "inspect") == 0)
		return seal_inspect(ctl, argc - 1, argv + 1);
	fprintf(stderr, _("Usage: ukeyctl seal export SERIAL [--index N] -o FILE\n"
			  "       ukeyctl seal inspect FILE\n"));
	return EXIT_USAGE;
}
