/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "agent.h"

#include <errno.h>
#include <json-c/json.h>
#include <libintl.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "role-text.h"

#define _(s) gettext(s)

/* What the agent knows of one token, by serial. Kept after the token is
 * pulled out, for the ids of its notices: plugged in again, it replaces
 * them. */
struct tracked {
	char *serial;
	char *label; /* as the token gives it: escape before showing */
	ukey_token *snapshot;
	bool plugged;
	/* During this plug-in: */
	bool pin_told, expiry_told;
	char *told_problems; /* the verdict and problem codes last shown */
	uint32_t ids[SUBJECT_COUNT];

	/* What the events of this dispatch asked for. */
	bool pend_removed;
	ukey_check_report *report; /* the check for pend_verdict, once made */
	enum { PEND_NONE, PEND_CHANGED, PEND_PLUGGED } pend_verdict;
	bool pend_expiry;
	int64_t exp_threshold, exp_days_left;
	char *exp_cert_label, *exp_not_after;
};

struct agent {
	ukey_client *client;
	notice_sink_fn sink;
	void *userdata;
	struct tracked **tokens;
	size_t n_tokens;
	uint32_t daemon_id;
	bool pend_away, pend_back;
	/* ukeyd's first scan runs (it just started, or came back): its list
	 * lacks the tokens not read yet, which it announces as it reads
	 * them. Until the scan ends, no token is taken as pulled out for
	 * missing from the list. */
	bool settling;
	bool sink_failed;
	bool problems; /* a token is not ready, or has warnings */
};

void notify_log(const char *fmt, ...)
{
	va_list ap;

	fputs("ukey-notify: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Text from a token or the daemon, made safe; never NULL (aborts when out
 * of memory, as a notice half made is worse than none). */
static char *esc(const char *s)
{
	char *r = notify_escape_controls(s ? s : "");

	if (!r)
		abort();
	return r;
}

static void free_tracked(struct tracked *t)
{
	free(t->serial);
	free(t->label);
	ukey_token_unref(t->snapshot);
	free(t->told_problems);
	free(t->exp_cert_label);
	free(t->exp_not_after);
	ukey_check_report_unref(t->report);
	free(t);
}

static struct tracked *find(struct agent *a, const char *serial)
{
	for (size_t i = 0; i < a->n_tokens; i++)
		if (strcmp(a->tokens[i]->serial, serial) == 0)
			return a->tokens[i];
	return NULL;
}

static struct tracked *track(struct agent *a, const char *serial)
{
	struct tracked *t = find(a, serial), **n;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	n = realloc(a->tokens, (a->n_tokens + 1) * sizeof(*n));
	if (!t || !n || !(t->serial = strdup(serial)))
		abort();
	a->tokens = n;
	a->tokens[a->n_tokens++] = t;
	return t;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
	if (s && !*dst)
		abort();
}

static void set_snapshot(struct tracked *t, ukey_token *tok)
{
	if (!tok)
		return;
	ukey_token_unref(t->snapshot);
	t->snapshot = ukey_token_ref(tok);
	set_str(&t->label, ukey_token_get_label(tok));
}

/* ---------------------------------------------------------------- showing */

static const char *icon_for(enum notice_urgency u)
{
	return u == NOTICE_CRITICAL ? "dialog-error"
	       : u == NOTICE_NORMAL ? "dialog-warning"
				    : "dialog-information";
}

/* Shows a notice and frees its texts. A failure is logged once until a
 * notice goes through again. */
static void show(struct agent *a, uint32_t *id, enum notice_urgency u, const char *category,
		 char *summary, char *body)
{
	struct notice n = {.urgency = u,
			   .summary = summary,
			   .body = body ? body : "",
			   .icon = icon_for(u),
			   .category = category};
	int r;

	if (!summary)
		abort();
	r = a->sink(a->userdata, &n, id);
	if (r < 0 && !a->sink_failed)
		notify_log(_("cannot show a notice: %s"), strerror(-r));
	a->sink_failed = r < 0;
	free(summary);
	free(body);
}

/* "zh" when messages are Chinese, for names ukeyd gives in two languages. */
static const char *language(void)
{
	const char *lang = setlocale(LC_MESSAGES, NULL), *language = getenv("LANGUAGE");

	if (lang && strcmp(lang, "C") != 0 && strcmp(lang, "POSIX") != 0 && language && *language)
		lang = language;
	return lang && strncmp(lang, "zh", 2) == 0 ? "zh" : "en";
}

/* "测试投标单位 · 国信CA · 主锁（含电子签章）": whose token it is, for a
 * notice with no problem to tell. */
static char *describe(const ukey_token *t)
{
	const char *parts[3];
	char *out = NULL, *s;
	size_t n = 0;

	if (!t)
		return NULL;
	parts[n] = ukey_token_get_holder_name(t);
	n += parts[n] && *parts[n];
	parts[n] = ukey_token_get_ca_name(t, language());
	n += parts[n] && *parts[n];
	parts[n] = role_text(t);
	n += parts[n] != NULL;
	for (size_t i = 0; i < n; i++) {
		char *e = esc(parts[i]);
		s = format("%s%s%s", out ? out : "", out ? " · " : "", e);
		free(e);
		free(out);
		out = s;
	}
	return out;
}

static bool is_expiry_code(const char *code)
{
	return strcmp(code, "cert_in_renewal_window") == 0 || strcmp(code, "cert_expired") == 0;
}

static unsigned renewal_days(const struct tracked *t)
{
	for (size_t i = 0; t->snapshot && i < ukey_token_get_cert_count(t->snapshot); i++) {
		const ukey_cert *c = ukey_token_get_cert(t->snapshot, i);
		if (t->exp_cert_label && strcmp(ukey_cert_get_label(c), t->exp_cert_label) == 0 &&
		    ukey_cert_get_renewal_days(c) > 0)
			return ukey_cert_get_renewal_days(c);
	}
	return 30;
}

static void show_removed(struct agent *a, struct tracked *t)
{
	char *label = esc(t->label ? t->label : t->serial);

	show(a, &t->ids[SUBJECT_TOKEN], NOTICE_LOW, "device.removed",
	     format(_("%s was pulled out"), label),
	     format("%s", _("Plug it in again to sign, encrypt or open a bid.")));
	free(label);
}

static void show_pin(struct agent *a, struct tracked *t)
{
	char *label = esc(t->label);

	show(a, &t->ids[SUBJECT_PIN], NOTICE_NORMAL, "x-ukey.pin",
	     format(_("%s still uses the default PIN"), label),
	     format("%s", _("Anyone holding this token can sign with the PIN 123456. Change it "
			    "before you bid: run \"ukeyctl pin change\" in a terminal.")));
	free(label);
}

static void show_expiry(struct agent *a, struct tracked *t)
{
	char *label = esc(t->label ? t->label : t->serial), *cert = esc(t->exp_cert_label),
	     *until = esc(t->exp_not_after), *summary, *body;
	enum notice_urgency u = t->exp_days_left > 0 ? NOTICE_NORMAL : NOTICE_CRITICAL;

	if (t->exp_days_left > 0) {
		summary = format(ngettext("%s: the certificate expires in %lld day",
					  "%s: the certificate expires in %lld days",
					  (unsigned long)t->exp_days_left),
				 label, (long long)t->exp_days_left);
		body = format(_("The certificate \"%s\" is valid until %s.\nRenew it within the %u "
				"days before it expires; do not renew while a bid encrypted with "
				"this token is still unopened."),
			      cert, until, renewal_days(t));
	} else if (t->exp_days_left == 0) {
		summary = format(_("%s: the certificate expires today"), label);
		body = format(_("The certificate \"%s\" is valid until %s.\nRenew it within the %u "
				"days before it expires; do not renew while a bid encrypted with "
				"this token is still unopened."),
			      cert, until, renewal_days(t));
	} else {
		char *gone = format(_("The certificate \"%s\" expired on %s."), cert, until);

		summary = format(_("%s: the certificate has expired"), label);
		body = format("%s\n%s", gone ? gone : "",
			      _("Renew it at your CA's counter: an expired certificate can neither "
				"sign nor decrypt a bid."));
		free(gone);
	}
	show(a, &t->ids[SUBJECT_EXPIRY], u, "x-ukey.expiry", summary, body);
	free(label);
	free(cert);
	free(until);
}

static char *verdict_summary(enum ukey_verdict v, const char *label)
{
	switch (v) {
	case UKEY_READY:
		return format(_("%s: ready to bid"), label);
	case UKEY_READY_WITH_WARNINGS:
		return format(_("%s: ready to bid, with warnings"), label);
	case UKEY_NOT_READY:
		break;
	}
	return format(_("%s: NOT ready to bid"), label);
}

/*
 * The readiness verdict of a token just plugged in (or changed), and the
 * PIN and expiry notices this batch of events asks for. The verdict's body
 * is the most serious problem with its fix, leaving out those that have a
 * notice of their own during this plug-in (the default PIN, the expiry),
 * so no two notices say the same thing; with no other problem, it says
 * whose token it is.
 */
static void tell_token(struct agent *a, struct tracked *t, bool plugged_in)
{
	ukey_check_report *r;
	const ukey_check_item *worst = NULL;
	enum ukey_verdict v;
	bool pin_default = false, tell_pin, tell_verdict;
	char *problems, *label, *body;
	size_t n;

	r = t->report;
	t->report = NULL;
	n = ukey_check_report_get_item_count(r);
	if (ukey_check_report_get_token_count(r) != 1 ||
	    (n == 1 && strcmp(ukey_check_item_get_code(ukey_check_report_get_item(r, 0)),
			      "token_not_found") == 0)) {
		ukey_check_report_unref(r); /* gone already: its removal follows */
		return;
	}
	if (plugged_in || !t->plugged) {
		t->pin_told = t->expiry_told = false;
		set_str(&t->told_problems, NULL);
	}
	t->plugged = true;
	set_str(&t->label, ukey_check_report_get_token_label(r, 0));
	v = ukey_check_report_get_token_verdict(r, 0);
	if (v != UKEY_READY)
		a->problems = true;
	problems = format("%d", (int)v);
	for (size_t i = 0; i < n; i++) {
		const ukey_check_item *it = ukey_check_report_get_item(r, i);
		const char *code = ukey_check_item_get_code(it);
		char *p;

		pin_default |= strcmp(code, "pin_default") == 0;
		if (ukey_check_item_get_severity(it) == UKEY_SEVERITY_INFO)
			continue;
		p = format("%s %s", problems, code);
		free(problems);
		problems = p;
	}
	if (!pin_default)
		t->pin_told = false; /* changed, then reset to the default: tell again */
	tell_pin = pin_default && !t->pin_told;
	tell_verdict = !t->told_problems || strcmp(t->told_problems, problems) != 0;
	if (tell_verdict) {
		for (size_t i = 0; i < n; i++) {
			const ukey_check_item *it = ukey_check_report_get_item(r, i);
			const char *code = ukey_check_item_get_code(it);

			if ((strcmp(code, "pin_default") == 0 && (tell_pin || t->pin_told)) ||
			    (is_expiry_code(code) && (t->pend_expiry || t->expiry_told)))
				continue;
			if (ukey_check_item_get_severity(it) != UKEY_SEVERITY_INFO &&
			    (!worst || ukey_check_item_get_severity(it) >
					       ukey_check_item_get_severity(worst)))
				worst = it;
		}
		label = esc(t->label);
		if (worst) {
			char *m = esc(ukey_check_item_get_message(worst)),
			     *adv = esc(ukey_check_item_get_advice(worst));
			body = format("%s\n%s", m, adv);
			free(m);
			free(adv);
		} else {
			body = describe(t->snapshot);
		}
		show(a, &t->ids[SUBJECT_TOKEN],
		     v == UKEY_NOT_READY	     ? NOTICE_CRITICAL
		     : v == UKEY_READY_WITH_WARNINGS ? NOTICE_NORMAL
						     : NOTICE_LOW,
		     plugged_in ? "device.added" : "device", verdict_summary(v, label), body);
		free(label);
		set_str(&t->told_problems, problems);
	}
	free(problems);
	if (tell_pin) {
		show_pin(a, t);
		t->pin_told = true;
	}
	if (t->pend_expiry) {
		show_expiry(a, t);
		t->expiry_told = true;
		t->pend_expiry = false;
	}
	ukey_check_report_unref(r);
}

/* ------------------------------------------------------------------ events */

static void on_event(ukey_client *client, const ukey_event *ev, void *userdata)
{
	struct agent *a = userdata;
	const char *serial = ukey_event_get_serial(ev);
	struct tracked *t;
	json_object *j, *v;

	switch (ukey_event_get_type(ev)) {
	case UKEY_EVENT_TOKEN_ADDED:
		t = track(a, serial);
		set_snapshot(t, ukey_event_get_token(ev));
		/* A token the agent knows as plugged in, announced by a first
		 * scan (ukeyd came back): not plugged in anew, changed at most. */
		if (a->settling && t->plugged && !t->pend_removed) {
			if (t->pend_verdict == PEND_NONE)
				t->pend_verdict = PEND_CHANGED;
		} else {
			t->pend_verdict = PEND_PLUGGED;
		}
		break;
	case UKEY_EVENT_TOKEN_CHANGED:
		t = track(a, serial);
		set_snapshot(t, ukey_event_get_token(ev));
		if (t->pend_verdict == PEND_NONE)
			t->pend_verdict = PEND_CHANGED;
		break;
	case UKEY_EVENT_TOKEN_REMOVED:
		t = find(a, serial);
		if (!t)
			break; /* never seen plugged in: nothing to tell */
		t->pend_verdict = PEND_NONE;
		t->report = ukey_check_report_unref(t->report);
		t->pend_expiry = false;
		t->pend_removed = t->plugged;
		break;
	case UKEY_EVENT_CERT_EXPIRY:
		j = json_tokener_parse(ukey_event_get_json(ev));
		if (!j)
			break;
		t = track(a, serial);
		/* One notice per token: the most urgent of its certificates. */
		if (t->pend_expiry && json_object_object_get_ex(j, "days_left", &v) &&
		    json_object_get_int64(v) >= t->exp_days_left) {
			json_object_put(j);
			break;
		}
		t->pend_expiry = true;
		t->exp_threshold = json_object_object_get_ex(j, "threshold", &v)
					   ? json_object_get_int64(v)
					   : 0;
		t->exp_days_left = json_object_object_get_ex(j, "days_left", &v)
					   ? json_object_get_int64(v)
					   : 0;
		set_str(&t->exp_cert_label, json_object_object_get_ex(j, "cert_label", &v)
						    ? json_object_get_string(v)
						    : "");
		set_str(&t->exp_not_after, json_object_object_get_ex(j, "not_after", &v)
						   ? json_object_get_string(v)
						   : "");
		json_object_put(j);
		break;
	case UKEY_EVENT_DISCONNECTED:
		a->pend_away = true;
		a->pend_back = false;
		a->settling = false;
		break;
	case UKEY_EVENT_RECONNECTED:
		a->pend_back = true;
		break;
	}
}

static bool listed(const ukey_token_list *l, const char *serial)
{
	for (size_t i = 0; i < ukey_token_list_get_count(l); i++) {
		ukey_token *tok = ukey_token_list_get(l, i);

		if (ukey_token_is_initialized(tok) &&
		    strcmp(ukey_token_get_serial(tok), serial) == 0)
			return true;
	}
	return false;
}

/* The tokens the agent knows as plugged in that a finished scan's list
 * lacks were pulled out. */
static void infer_removals(struct agent *a, const ukey_token_list *l)
{
	for (size_t i = 0; i < a->n_tokens; i++) {
		struct tracked *t = a->tokens[i];

		if (t->plugged && !listed(l, t->serial))
			t->pend_removed = true;
	}
}

/* While settling: once ukeyd's list says its first scan is over, the
 * tokens still missing from it are gone. */
static void settle(struct agent *a)
{
	ukey_token_list *l = NULL;

	if (!a->settling || ukey_client_list_tokens(a->client, &l) != UKEY_OK)
		return;
	if (!ukey_token_list_is_scanning(l)) {
		a->settling = false;
		infer_removals(a, l);
	}
	ukey_token_list_unref(l);
}

/* The tokens of a list, each as plugged in (changed, for one the agent
 * already has as plugged in). */
static void take_listed(struct agent *a, const ukey_token_list *l)
{
	for (size_t i = 0; i < ukey_token_list_get_count(l); i++) {
		ukey_token *tok = ukey_token_list_get(l, i);
		struct tracked *t;

		if (!ukey_token_is_initialized(tok))
			continue;
		t = track(a, ukey_token_get_serial(tok));
		set_snapshot(t, tok);
		t->pend_verdict = t->plugged ? PEND_CHANGED : PEND_PLUGGED;
		t->pend_removed = false;
	}
}

/* After ukeyd came back: what was plugged in or pulled out meanwhile is
 * unknown, so the list is compared with what the agent knew; while its
 * first scan runs, only for what it has read (settle() does the rest). */
static void relist(struct agent *a)
{
	ukey_token_list *l = NULL;
	enum ukey_error e = ukey_client_list_tokens(a->client, &l);

	if (e != UKEY_OK) {
		notify_log(_("cannot list tokens: %s"), ukey_strerror(e));
		return;
	}
	a->settling = ukey_token_list_is_scanning(l);
	if (!a->settling)
		infer_removals(a, l);
	take_listed(a, l);
	ukey_token_list_unref(l);
}

static bool pending(const struct agent *a)
{
	if (a->pend_away || a->pend_back)
		return true;
	for (size_t i = 0; i < a->n_tokens; i++) {
		const struct tracked *t = a->tokens[i];
		if (t->pend_removed || t->pend_verdict != PEND_NONE || t->pend_expiry)
			return true;
	}
	return false;
}

/* Shows what the events of one dispatch asked for. */
static void flush(struct agent *a)
{
	for (size_t i = 0; i < a->n_tokens; i++) {
		struct tracked *t = a->tokens[i];

		if (t->pend_removed) {
			t->pend_removed = false;
			t->plugged = false;
			show_removed(a, t);
		}
		if (t->pend_verdict != PEND_NONE) {
			bool plugged_in = t->pend_verdict == PEND_PLUGGED;

			if (!t->report)
				continue; /* came in after the checks: the next round */
			t->pend_verdict = PEND_NONE;
			tell_token(a, t, plugged_in);
		} else if (t->pend_expiry) {
			t->pend_expiry = false;
			show_expiry(a, t);
			t->expiry_told = true;
		}
	}
}

/* Checks the tokens that were plugged in or changed. */
static void check_pending(struct agent *a)
{
	for (size_t i = 0; i < a->n_tokens; i++) {
		struct tracked *t = a->tokens[i];
		enum ukey_error e;

		if (t->pend_verdict == PEND_NONE || t->report)
			continue;
		e = ukey_check(a->client, t->serial, 0, NULL, 0, NULL, 0, &t->report);
		if (e != UKEY_OK) {
			char *serial = esc(t->serial);

			notify_log(_("cannot check token %s: %s"), serial, ukey_strerror(e));
			free(serial);
			t->pend_verdict = PEND_NONE;
		}
	}
}

/*
 * Events come in bursts (a scan gives token_added, then the cert_expiry of
 * its certificates): the tokens are checked first, then the events that
 * came meanwhile (queued during the checks) are dispatched, and only then
 * are the notices made, so each knows what the others will say.
 */
void agent_process(struct agent *a)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		ukey_client_dispatch(a->client);
		settle(a);
		if (!pending(a))
			break;
		if (a->pend_away) {
			a->pend_away = false;
			show(a, &a->daemon_id, NOTICE_NORMAL, "x-ukey.service",
			     format("%s", _("The CA token service (ukeyd) stopped")),
			     format("%s", _("Tokens cannot be checked until it is back. It "
					    "normally comes back by itself; if it does not, "
					    "restart the computer or ask your administrator.")));
		}
		if (a->pend_back) {
			a->pend_back = false;
			show(a, &a->daemon_id, NOTICE_LOW, "x-ukey.service",
			     format("%s", _("The CA token service (ukeyd) is back")), NULL);
			relist(a);
		}
		check_pending(a);
		ukey_client_dispatch(a->client);
		flush(a);
	}
}

/* ------------------------------------------------------------------- setup */

struct agent *agent_new(ukey_client *client, notice_sink_fn sink, void *userdata)
{
	struct agent *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->client = client;
	a->sink = sink;
	a->userdata = userdata;
	return a;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_tokens; i++)
		free_tracked(a->tokens[i]);
	free(a->tokens);
	free(a);
}

bool agent_settling(const struct agent *a)
{
	return a->settling;
}

/* How long --once waits for ukeyd's first scan (a slow token, or ukeyd
 * just started by its socket) before it tells what is read so far; as
 * long as ukeyctl does. */
#define SETTLE_MS 3000
#define SETTLE_STEP_MS 100

/* The tokens plugged in now, each as just plugged in. Following events,
 * the agent takes those ukeyd's first scan has not read yet from their
 * token_added; once (wait_settled), it waits for the scan first. */
static enum ukey_error plugged_now(struct agent *a, bool wait_settled)
{
	ukey_token_list *l = NULL;
	enum ukey_error e;

	for (int waited = 0;; waited += SETTLE_STEP_MS) {
		e = ukey_client_list_tokens(a->client, &l);
		if (e != UKEY_OK)
			return e;
		if (!wait_settled || !ukey_token_list_is_scanning(l) || waited >= SETTLE_MS)
			break;
		l = ukey_token_list_unref(l);
		(void)poll(NULL, 0, SETTLE_STEP_MS);
	}
	if (ukey_token_list_is_scanning(l) && wait_settled) {
		/* What is told is not all there is: not "all ready". */
		fputs("ukey-notify: ", stderr);
		fprintf(stderr,
			_("ukeyd is still reading the tokens: %zu shown so far. Run the command "
			  "again in a moment.\n"),
			ukey_token_list_get_count(l));
		a->problems = true;
	} else {
		a->settling = ukey_token_list_is_scanning(l);
	}
	take_listed(a, l); /* all new to the agent: plugged in */
	ukey_token_list_unref(l);
	check_pending(a);
	flush(a);
	return UKEY_OK;
}

enum ukey_error agent_start(struct agent *a)
{
	/* Subscribed before the list, so no change slips in between. */
	enum ukey_error e = ukey_client_subscribe(a->client, on_event, a);

	if (e == UKEY_OK)
		e = plugged_now(a, false);
	if (e == UKEY_OK)
		agent_process(a); /* events queued meanwhile */
	return e;
}

enum ukey_error agent_once(struct agent *a, bool *ret_problems)
{
	enum ukey_error e = plugged_now(a, true);

	if (e == UKEY_OK)
		*ret_problems = a->problems;
	return e;
}
