/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A job's view of its library and the scans' views reach the event loop
 * by two ways (the job queue, the newest result). When both are waiting,
 * the older must never be applied over the newer: here a token is pulled
 * out right after a PIN change, the scan that sees it gone is handed on
 * before the loop runs, and the job's view (token present) must not bring
 * it back. A backend made of plain functions drives the real worker and
 * module.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "job.h"
#include "module.h"
#include "scan-result.h"
#include "secret.h"
#include "token.h"

static atomic_bool present = true;
static int fake_state;
static sem_t job_ran, head_read, places_listed;

static int fake_load(const char *path, const struct ca_profiles *profiles, int device_event_fd,
		     void **ret_state, char **ret_error)
{
	*ret_state = &fake_state; /* any non-NULL state */
	return 0;
}

static void fake_unload(void *state)
{
}

static int fake_list_places(void *state, struct token_place **ret_places, size_t *ret_n,
			    char **ret_error)
{
	*ret_places = calloc(1, sizeof(**ret_places));
	*ret_n = present ? 1 : 0;
	sem_post(&places_listed);
	return *ret_places ? 0 : -ENOMEM;
}

static int fake_read_head(void *state, const struct token_place *place, struct token **ret)
{
	struct token *t;

	*ret = NULL;
	if (present) {
		t = token_new();
		assert_non_null(t);
		t->place.index = place->index;
		t->serial = strdup("S1");
		t->label = strdup("token");
		*ret = t;
	}
	sem_post(&head_read);
	return 0;
}

static int fake_read_objects(void *state, struct token *t)
{
	return 0;
}

static void fake_change_pin(void *state, struct job *j)
{
	j->outcome = JOB_DONE;
	sem_post(&job_ran);
}

static void fake_other(void *state, struct job *j)
{
	j->outcome = JOB_FAILED;
}

static const struct backend_ops fake_ops = {
	.name = "fake",
	.load = fake_load,
	.unload = fake_unload,
	.list_places = fake_list_places,
	.read_head = fake_read_head,
	.read_objects = fake_read_objects,
	.change_pin = fake_change_pin,
	.unlock_pin = fake_other,
	.probe_default_pin = fake_other,
	.read_private = fake_other,
	.selftest = fake_other,
};

/* What the cache would serve: the tokens of the last view applied. */
static struct {
	size_t tokens;
	unsigned views, jobs_back;
	bool job_view_applied; /* the PIN change's */
} seen;

static void on_scanned(struct module *m, struct scan_result *r, void *userdata)
{
	seen.tokens = r->n_tokens;
	seen.views++;
	scan_result_free(r);
}

static void on_job_done(struct module *m, struct job *j, void *userdata)
{
	seen.jobs_back++;
	/* The service applies a job's view when it answers it. */
	if (j->scan) {
		seen.tokens = j->scan->n_tokens;
		seen.job_view_applied |= j->kind == JOB_CHANGE_PIN;
	}
	job_free(j);
}

static void on_progress(struct module *m, void *userdata)
{
}

static const struct module_callbacks callbacks = {on_scanned, on_job_done, on_progress};

static void run_until(sd_event *loop, bool (*done)(void))
{
	for (int i = 0; i < 500 && !done(); i++)
		assert_true(sd_event_run(loop, 10000) >= 0);
	assert_true(done());
}

static bool first_scan_applied(void)
{
	return seen.views > 0 && seen.tokens == 1;
}

static bool job_answered(void)
{
	return seen.jobs_back == 1;
}

static void test_stale_job_view_is_dropped(void **state)
{
	struct module *m = NULL;
	sd_event *loop = NULL;
	struct job *j;

	assert_int_equal(sem_init(&job_ran, 0, 0), 0);
	assert_int_equal(sem_init(&head_read, 0, 0), 0);
	assert_int_equal(sem_init(&places_listed, 0, 0), 0);
	assert_true(sd_event_new(&loop) >= 0);
	assert_int_equal(module_new(loop, &fake_ops, "fake", 0, NULL, 30, &callbacks, NULL, &m), 0);
	run_until(loop, first_scan_applied);

	/* The job, and its token read again after it (the job's view). */
	while (sem_trywait(&head_read) == 0)
		;
	j = job_new(JOB_CHANGE_PIN, "S1", ukey_secret_new("123456", 6),
		    ukey_secret_new("730195", 6), false);
	assert_non_null(j);
	module_submit_job(m, j);
	assert_int_equal(sem_wait(&job_ran), 0);
	assert_int_equal(sem_wait(&head_read), 0);
	/* Pulled out; the scan that sees it is handed on too, all before
	 * the loop looks. */
	present = false;
	while (sem_trywait(&places_listed) == 0)
		;
	module_request_scan(m, WORKER_SCAN_INCREMENTAL);
	assert_int_equal(sem_wait(&places_listed), 0);
	/* Another scan starts only after that one has handed on its view:
	 * a barrier (its own view, newer still, changes nothing). */
	module_request_scan(m, WORKER_SCAN_INCREMENTAL);
	assert_int_equal(sem_wait(&places_listed), 0);

	run_until(loop, job_answered);
	assert_false(seen.job_view_applied);
	assert_int_equal(seen.tokens, 0);

	module_free(m);
	sd_event_unref(loop);
	sem_destroy(&job_ran);
	sem_destroy(&head_read);
	sem_destroy(&places_listed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_job_view_is_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
