/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan-result.h"
#include "secret.h"
#include "token.h"
#include "util.h"

/* Every constructor ends here: the header of a job of size bytes. */
static struct job *job_alloc(size_t size, enum job_kind kind, const char *serial,
			     struct ukey_secret *pin, struct ukey_secret *new_pin, bool force)
{
	struct job *j = pin ? calloc(1, size) : NULL;

	if (!j || !(j->serial = strdup(serial))) {
		ukey_secret_free(pin);
		ukey_secret_free(new_pin);
		free(j);
		return NULL;
	}
	j->kind = kind;
	j->pin = pin;
	j->new_pin = new_pin;
	j->force = force;
	j->tries_left = -1;
	return j;
}

struct job *job_new(enum job_kind kind, const char *serial, struct ukey_secret *pin,
		    struct ukey_secret *new_pin, bool force)
{
	return job_alloc(sizeof(struct job), kind, serial, pin, new_pin, force);
}

static void test_cert_release(struct test_cert *c)
{
	free(c->der);
	free(c->id);
	*c = (struct test_cert){0};
}

static void selftest_free_payload(struct job *j)
{
	struct selftest_job *s = container_of(j, struct selftest_job, job);

	test_cert_release(&s->sign_cert);
	test_cert_release(&s->enc_cert);
}

struct selftest_job *selftest_job_new(const char *serial, struct ukey_secret *pin, bool force)
{
	struct job *j =
		job_alloc(sizeof(struct selftest_job), JOB_SELFTEST, serial, pin, NULL, force);
	struct selftest_job *s;

	if (!j)
		return NULL;
	j->free_payload = selftest_free_payload;
	s = container_of(j, struct selftest_job, job);
	s->sign_ok = s->decrypt_ok = -1;
	return s;
}

static void private_read_free_payload(struct job *j)
{
	token_unref(container_of(j, struct private_read_job, job)->objects);
}

struct private_read_job *private_read_job_new(const char *serial, struct ukey_secret *pin,
					      bool force)
{
	struct job *j = job_alloc(sizeof(struct private_read_job), JOB_READ_PRIVATE, serial, pin,
				  NULL, force);

	if (!j)
		return NULL;
	j->free_payload = private_read_free_payload;
	return container_of(j, struct private_read_job, job);
}

void job_free(struct job *j)
{
	if (!j)
		return;
	if (j->free_userdata)
		j->free_userdata(j->userdata);
	if (j->free_payload)
		j->free_payload(j);
	ukey_secret_free(j->pin);
	ukey_secret_free(j->new_pin);
	free(j->serial);
	free(j->place.name);
	scan_result_free(j->scan);
	free(j);
}

int test_cert_set(struct test_cert *c, const uint8_t *der, size_t der_len, const uint8_t *id,
		  size_t id_len)
{
	test_cert_release(c);
	c->der = malloc(der_len ? der_len : 1);
	c->id = malloc(id_len ? id_len : 1);
	if (!c->der || !c->id) {
		test_cert_release(c);
		return -ENOMEM;
	}
	memcpy(c->der, der, der_len);
	if (id_len)
		memcpy(c->id, id, id_len);
	c->der_len = der_len;
	c->id_len = id_len;
	return 0;
}
