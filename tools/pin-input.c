/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pin-input.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MAX_PIN 255

static struct termios saved_termios;
static int termios_fd = -1;

/* Ctrl-C at a hidden prompt must not leave the terminal without echo. */
static void restore_and_exit(int sig)
{
	if (termios_fd >= 0)
		tcsetattr(termios_fd, TCSAFLUSH, &saved_termios);
	signal(sig, SIG_DFL);
	raise(sig);
}

void pin_input_open(struct pin_input *in, int fd)
{
	in->fd = fd < 0 ? STDIN_FILENO : fd;
	in->tty = isatty(in->fd);
}

/* One line, byte by byte: no stdio buffer keeps a copy of what follows. */
static struct ukey_secret *read_line(int fd)
{
	char buf[MAX_PIN + 1];
	struct ukey_secret *s = NULL;
	size_t len = 0;

	for (;;) {
		char ch;
		ssize_t n = read(fd, &ch, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (len == 0)
				goto out; /* end of input */
			break;
		}
		if (ch == '\n')
			break;
		if (len == MAX_PIN) {
			len = 0; /* too long: refuse, after draining the line */
			while (read(fd, &ch, 1) == 1 && ch != '\n')
				;
			goto out;
		}
		buf[len++] = ch;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > 0)
		s = ukey_secret_new(buf, len);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return s;
}

struct ukey_secret *pin_input_read(struct pin_input *in, const char *prompt)
{
	struct termios t;
	struct ukey_secret *s;

	if (!in->tty)
		return read_line(in->fd);
	if (tcgetattr(in->fd, &saved_termios) < 0)
		return NULL;
	t = saved_termios;
	t.c_lflag &= (tcflag_t)~ECHO;
	t.c_lflag |= ECHONL;
	termios_fd = in->fd;
	signal(SIGINT, restore_and_exit);
	signal(SIGTERM, restore_and_exit);
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(in->fd, TCSAFLUSH, &t) < 0) {
		termios_fd = -1;
		return NULL;
	}
	s = read_line(in->fd);
	tcsetattr(in->fd, TCSAFLUSH, &saved_termios);
	termios_fd = -1;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return s;
}

struct ukey_secret *pin_input_read_visible(struct pin_input *in, const char *prompt)
{
	if (in->tty) {
		fputs(prompt, stderr);
		fflush(stderr);
	}
	return read_line(in->fd);
}
