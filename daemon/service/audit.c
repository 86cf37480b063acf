/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "text-decode.h"
#include "util.h"

/* An entry is a few hundred bytes; a longer line is not one of ours. */
#define MAX_LINE (64u * 1024u)

struct audit_item {
	struct audit_item *next;
	bool is_read;
	int r;
	void *userdata;
	/* a write */
	char *line;
	size_t len;
	audit_written_fn written;
	/* a read */
	int64_t since;
	uint64_t after, next_seq;
	unsigned limit;
	bool more;
	json_object *entries;
	audit_page_fn done;
};

struct audit {
	sd_event *loop;
	sd_event_source *done_src;
	int done_fd;
	char *path;
	uint64_t next_seq; /* of the next entry; the loop's alone */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock: work for the thread, and what it finished. */
	struct audit_item *queue, *done;
	bool stop;
	uint64_t max_size;
	unsigned keep;
};

static void item_free(struct audit_item *it)
{
	if (!it)
		return;
	free(it->line);
	json_object_put(it->entries);
	free(it);
}

static void list_append(struct audit_item **list, struct audit_item *it)
{
	while (*list)
		list = &(*list)->next;
	it->next = NULL;
	*list = it;
}

/* ------------------------------------------------------------ parsing */

static int64_t parse_time(const char *s)
{
	struct tm tm = {0};
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	if (!end || *end)
		return -1;
	return (int64_t)timegm(&tm);
}

static bool member_is(json_object *e, const char *key, json_type type, bool required)
{
	json_object *v;

	if (!json_object_object_get_ex(e, key, &v))
		return !required;
	if (!json_object_is_type(v, type))
		return false;
	return type != json_type_int || json_object_get_int64(v) >= 0;
}

json_object *audit_parse_line(const char *line, size_t len)
{
	json_object *e = NULL, *t;

	if (len == 0 || ukey_msg_parse(line, len, &e) < 0)
		return NULL;
	if (member_is(e, "time", json_type_string, true) &&
	    member_is(e, "uid", json_type_int, true) &&
	    member_is(e, "operation", json_type_string, true) &&
	    member_is(e, "result", json_type_string, true) &&
	    member_is(e, "seq", json_type_int, false) &&
	    member_is(e, "pid", json_type_int, false) &&
	    member_is(e, "count", json_type_int, false) &&
	    member_is(e, "program", json_type_string, false) &&
	    member_is(e, "serial", json_type_string, false) &&
	    json_object_object_get_ex(e, "time", &t) && parse_time(json_object_get_string(t)) >= 0)
		return e;
	json_object_put(e);
	return NULL;
}

static int64_t entry_int(json_object *e, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(e, key, &v) ? json_object_get_int64(v) : 0;
}

static int64_t entry_time(json_object *e)
{
	json_object *v;

	return json_object_object_get_ex(e, "time", &v) ? parse_time(json_object_get_string(v))
							: -1;
}

/* Cuts a byte stream into lines; a line longer than MAX_LINE is dropped
 * whole. The handler returns false to stop. */
struct line_splitter {
	char *buf;
	size_t len;
	bool overlong; /* inside a line that is being dropped */
	bool (*handle)(const char *line, size_t len, void *userdata);
	void *userdata;
	bool stopped;
};

static void splitter_feed(struct line_splitter *s, const char *data, size_t len)
{
	while (len > 0 && !s->stopped) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (!s->overlong && s->len + n <= MAX_LINE) {
			memcpy(s->buf + s->len, data, n);
			s->len += n;
		} else {
			s->overlong = true;
		}
		if (nl) {
			if (!s->overlong && !s->handle(s->buf, s->len, s->userdata))
				s->stopped = true;
			s->len = 0;
			s->overlong = false;
			n++;
		}
		data += n;
		len -= n;
	}
}

struct page {
	int64_t since;
	uint64_t after;
	unsigned limit;
	json_object *entries;
	bool more;
};

static bool page_line(const char *line, size_t len, void *userdata)
{
	struct page *p = userdata;
	json_object *e = audit_parse_line(line, len);

	if (!e)
		return true; /* a torn or foreign line: skipped */
	if (entry_time(e) < p->since ||
	    (p->after > 0 && (uint64_t)entry_int(e, "seq") <= p->after)) {
		json_object_put(e);
		return true;
	}
	if (json_object_array_length(p->entries) >= p->limit) {
		json_object_put(e);
		p->more = true;
		return false;
	}
	json_object_array_add(p->entries, e);
	return true;
}

void audit_page_text(const char *text, size_t len, int64_t since, uint64_t after, unsigned limit,
		     json_object *entries, bool *more)
{
	struct page p = {since, after, limit, entries, false};
	char *buf = malloc(MAX_LINE);
	struct line_splitter s = {.buf = buf, .handle = page_line, .userdata = &p};

	if (!buf)
		return;
	splitter_feed(&s, text, len);
	/* A last line without its newline is torn: not an entry. */
	free(buf);
	*more = p.more;
}

/* ------------------------------------------------------------ files */

/* "audit.log" for 0, "audit.log.N" for N. */
static char *file_name(const char *path, unsigned n)
{
	char *s = NULL;

	if (n == 0)
		return strdup(path);
	return asprintf(&s, "%s.%u", path, n) < 0 ? NULL : s;
}

/* The last entry of a file, found in its last MAX_LINE bytes; NULL when
 * there is none. */
static json_object *file_last_entry(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	off_t from;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return NULL;
	from = st.st_size > (off_t)MAX_LINE ? st.st_size - (off_t)MAX_LINE : 0;
	buf = malloc(MAX_LINE);
	if (!buf || (n = pread(fd, buf, MAX_LINE, from)) <= 0)
		return NULL;
	/* Complete lines only, newest first. */
	while (n > 0 && buf[n - 1] != '\n')
		n--;
	while (n > 0) {
		ssize_t end = n - 1, start = end;
		json_object *e;

		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (start == 0 && from > 0)
			break; /* maybe the tail of a longer line */
		e = audit_parse_line(buf + start, (size_t)(end - start));
		if (e)
			return e;
		n = start;
	}
	return NULL;
}

/* The first entry on a line that starts after offset at (at 0: the
 * first line), or NULL. */
static json_object *entry_after(int fd, off_t at, off_t size, char *buf)
{
	bool line_start = at == 0;

	while (at < size) {
		ssize_t n = pread(fd, buf, MAX_LINE, at);
		char *nl;
		json_object *e;

		if (n <= 0)
			return NULL;
		nl = memchr(buf, '\n', (size_t)n);
		if (!nl) {
			if (line_start)
				return NULL; /* too long, or torn at the end */
			at += n;
			continue;
		}
		if (line_start && (e = audit_parse_line(buf, (size_t)(nl - buf))))
			return e;
		at += nl + 1 - buf; /* the next line (a torn one is skipped) */
		line_start = true;
	}
	return NULL;
}

/* Where to start reading for entries after seq `after` (or at or after
 * time `since`): entries are in order, so a bisection finds it in a few
 * reads, and a page of a long log costs a page, not the whole file. */
static off_t page_start(int fd, const struct page *p, char *buf)
{
	struct stat st;
	off_t lo = 0, hi;

	if ((p->after == 0 && p->since <= 0) || fstat(fd, &st) < 0)
		return 0;
	hi = st.st_size;
	while (hi - lo > (off_t)MAX_LINE) {
		off_t mid = lo + (hi - lo) / 2;
		json_object *e = entry_after(fd, mid, st.st_size, buf);
		bool before;

		if (!e) {
			hi = mid;
			continue;
		}
		before = p->after > 0 ? (uint64_t)entry_int(e, "seq") <= p->after
				      : entry_time(e) < p->since;
		json_object_put(e);
		if (before)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int read_file_page(const char *path, struct page *p)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *line = NULL, *chunk = NULL;
	struct line_splitter s = {.handle = page_line, .userdata = p};
	json_object *last;
	bool skip = false;
	off_t from;

	/* A whole file before the page is skipped after a look at its end. */
	if ((p->after > 0 || p->since > 0) && (last = file_last_entry(path))) {
		skip = (p->after > 0 && (uint64_t)entry_int(last, "seq") <= p->after) ||
		       entry_time(last) < p->since;
		json_object_put(last);
	}
	if (skip)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	line = malloc(MAX_LINE);
	chunk = malloc(65536);
	if (!line || !chunk)
		return -ENOMEM;
	s.buf = line;
	from = page_start(fd, p, line);
	if (from > 0) {
		/* Inside a line: it is dropped as if too long, up to its end. */
		s.overlong = true;
		if (lseek(fd, from, SEEK_SET) < 0)
			return -errno;
	}
	while (!s.stopped) {
		ssize_t n = read(fd, chunk, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		splitter_feed(&s, chunk, (size_t)n);
	}
	return 0;
}

static void do_read(struct audit *a, struct audit_item *it, unsigned keep)
{
	struct page p = {it->since, it->after, it->limit, json_object_new_array(), false};

	it->r = p.entries ? 0 : -ENOMEM;
	/* Oldest first: audit.log.KEEP ... audit.log.1, audit.log. */
	for (unsigned i = keep + 1; i-- > 0 && it->r == 0 && !p.more;) {
		_cleanup_free_ char *name = file_name(a->path, i);
		it->r = name ? read_file_page(name, &p) : -ENOMEM;
	}
	if (it->r < 0) {
		json_object_put(p.entries);
		return;
	}
	it->entries = p.entries;
	it->more = p.more;
	it->next_seq = it->after;
	if (json_object_array_length(p.entries) > 0)
		it->next_seq = (uint64_t)entry_int(
			json_object_array_get_idx(p.entries,
						  json_object_array_length(p.entries) - 1),
			"seq");
}

static int rotate(const char *path, unsigned keep)
{
	for (unsigned i = keep; i > 0; i--) {
		_cleanup_free_ char *from = file_name(path, i - 1), *to = file_name(path, i);
		if (!from || !to)
			return -ENOMEM;
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* One batch: one write, one fsync, for entries queued together. */
static int write_batch(struct audit *a, struct audit_item *batch, uint64_t max_size, unsigned keep)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0, off = 0;
	struct stat st;

	for (struct audit_item *it = batch; it; it = it->next)
		len += it->len;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	for (struct audit_item *it = batch; it; it = it->next) {
		memcpy(buf + off, it->line, it->len);
		off += it->len;
	}
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size > 0 && (uint64_t)st.st_size + len > max_size) {
		int r = rotate(a->path, keep);
		if (r < 0)
			return r;
		close(fd);
		fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
	}
	for (off = 0; off < len;) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

static void *audit_thread(void *userdata)
{
	struct audit *a = userdata;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct audit_item *batch = NULL, **tail = &batch, **pp = &a->queue, *it;
		uint64_t max_size, one = 1;
		unsigned keep;
		bool stopping;
		ssize_t n;

		while (!a->queue && !a->stop)
			pthread_cond_wait(&a->wake, &a->lock);
		if (!a->queue)
			break;
		/* Writes first, all of them at once, in their order. */
		while ((it = *pp)) {
			if (it->is_read) {
				pp = &it->next;
				continue;
			}
			*pp = it->next;
			it->next = NULL;
			*tail = it;
			tail = &it->next;
		}
		if (!batch) {
			batch = a->queue;
			a->queue = batch->next;
			batch->next = NULL;
		}
		max_size = a->max_size;
		keep = a->keep;
		stopping = a->stop;
		pthread_mutex_unlock(&a->lock);
		if (!batch->is_read) {
			int r = write_batch(a, batch, max_size, keep);
			for (it = batch; it; it = it->next)
				it->r = r;
		} else if (stopping) {
			batch->r = -ECANCELED;
		} else {
			do_read(a, batch, keep);
		}
		pthread_mutex_lock(&a->lock);
		for (pp = &a->done; *pp; pp = &(*pp)->next)
			;
		*pp = batch; /* the whole batch, in its order */
		n = write(a->done_fd, &one, sizeof(one));
		(void)n;
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* ------------------------------------------------------------ the loop */

static int on_done(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct audit *a = userdata;
	struct audit_item *list;
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));

	(void)n;
	pthread_mutex_lock(&a->lock);
	list = a->done;
	a->done = NULL;
	pthread_mutex_unlock(&a->lock);
	while (list) {
		struct audit_item *it = list;
		list = it->next;
		if (!it->is_read && it->r < 0)
			log_error("cannot write the audit log %s: %s", a->path, strerror(-it->r));
		if (it->is_read)
			it->done(it->r, TAKE_PTR(it->entries), it->more, it->next_seq,
				 it->userdata);
		else if (it->written)
			it->written(it->r, it->userdata);
		item_free(it);
	}
	return 0;
}

/* A last line that a crash left without its newline is ended now, so the
 * next entry starts on a line of its own (the torn one is skipped when
 * read). */
static int end_torn_line(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char last;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	if (pread(fd, &last, 1, st.st_size - 1) != 1)
		return -EIO;
	if (last == '\n')
		return 0;
	log_warning("%s: its last line was cut short (a crash while writing it); it is "
		    "skipped, and the next entry starts on a line of its own",
		    path);
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		return -errno;
	return 0;
}

static uint64_t last_seq(const char *path, unsigned keep)
{
	/* The newest file with an entry; an entry of an older ukeyd has none. */
	for (unsigned i = 0; i <= keep; i++) {
		_cleanup_free_ char *name = file_name(path, i);
		json_object *e = name ? file_last_entry(name) : NULL;
		if (e) {
			uint64_t seq = (uint64_t)entry_int(e, "seq");
			json_object_put(e);
			return seq;
		}
	}
	return 0;
}

int audit_new(sd_event *loop, const char *path, uint64_t max_size, unsigned keep,
	      struct audit **ret)
{
	struct audit *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->done_fd = -1;
	a->loop = sd_event_ref(loop);
	a->max_size = max_size;
	a->keep = keep;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	a->path = strdup(path);
	if (!a->path) {
		audit_free(a);
		return -ENOMEM;
	}
	r = end_torn_line(path);
	if (r < 0)
		log_error("cannot repair the audit log %s: %s", path, strerror(-r));
	a->next_seq = last_seq(path, keep) + 1;
	a->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->done_fd < 0)
		r = -errno;
	else
		r = sd_event_add_io(loop, &a->done_src, a->done_fd, EPOLLIN, on_done, a);
	if (r >= 0) {
		r = -pthread_create(&a->thread, NULL, audit_thread, a);
		a->thread_started = r == 0;
	}
	if (r < 0) {
		audit_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

void audit_free(struct audit *a)
{
	struct audit_item *list;

	if (!a)
		return;
	if (a->thread_started) {
		pthread_mutex_lock(&a->lock);
		a->stop = true;
		pthread_cond_signal(&a->wake);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	/* Whatever is still owed an answer: nothing is started at shutdown. */
	list = a->done;
	a->done = NULL;
	while (list) {
		struct audit_item *it = list;
		list = it->next;
		if (it->is_read)
			it->done(-ECANCELED, NULL, false, 0, it->userdata);
		else if (it->written)
			it->written(-ECANCELED, it->userdata);
		item_free(it);
	}
	sd_event_source_disable_unref(a->done_src);
	if (a->done_fd >= 0)
		close(a->done_fd);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	sd_event_unref(a->loop);
	free(a->path);
	free(a);
}

void audit_set_rotation(struct audit *a, uint64_t max_size, unsigned keep)
{
	pthread_mutex_lock(&a->lock);
	a->max_size = max_size;
	a->keep = keep;
	pthread_mutex_unlock(&a->lock);
}

static void queue(struct audit *a, struct audit_item *it)
{
	pthread_mutex_lock(&a->lock);
	list_append(&a->queue, it);
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

int audit_write(struct audit *a, const struct audit_entry *e, audit_written_fn written,
		void *userdata)
{
	struct audit_item *it = calloc(1, sizeof(*it));
	json_object *o = json_object_new_object();
	time_t now = time(NULL);
	char when[32];
	struct tm tm;
	/* The kernel's comm may hold any bytes: JSON needs UTF-8. */
	_cleanup_free_ char *prog =
		text_decode(e->program ? e->program : "", e->program ? strlen(e->program) : 0);

	if (!it || !o || !prog) {
		free(it);
		json_object_put(o);
		return -ENOMEM;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)a->next_seq));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "uid", json_object_new_int64(e->peer->uid));
	json_object_object_add(o, "pid", json_object_new_int64(e->peer->pid));
	json_object_object_add(o, "program", json_object_new_string(prog));
	json_object_object_add(o, "serial", json_object_new_string(e->serial ? e->serial : ""));
	json_object_object_add(o, "operation", json_object_new_string(e->operation));
	json_object_object_add(o, "result", json_object_new_string(e->result));
	if (e->count > 1)
		json_object_object_add(o, "count", json_object_new_int64(e->count));
	it->line = ukey_msg_format(o, &it->len);
	json_object_put(o);
	if (!it->line) {
		free(it);
		return -ENOMEM;
	}
	a->next_seq++;
	it->written = written;
	it->userdata = userdata;
	if (e->count > 1)
		log_notice("audit: uid %u pid %d (%s) token %s: %s: %s (%u times)",
			   (unsigned)e->peer->uid, (int)e->peer->pid, prog,
			   e->serial ? e->serial : "-", e->operation, e->result, e->count);
	else
		log_notice("audit: uid %u pid %d (%s) token %s: %s: %s", (unsigned)e->peer->uid,
			   (int)e->peer->pid, prog, e->serial ? e->serial : "-", e->operation,
			   e->result);
	queue(a, it);
	return 0;
}

int audit_read_page(struct audit *a, int64_t since, uint64_t after, unsigned limit,
		    audit_page_fn done, void *userdata)
{
	struct audit_item *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	*it = (struct audit_item){.is_read = true,
				  .since = since,
				  .after = after,
				  .limit = limit,
				  .done = done,
				  .userdata = userdata};
	queue(a, it);
	return 0;
}
