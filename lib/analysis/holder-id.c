/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "holder-id.h"

#include <string.h>

/* GB 32100-2015: 31 characters, without I, O, S, V and Z. */
static const char credit_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int credit_value(char c)
{
	const char *p = c ? strchr(credit_alphabet, c) : NULL;

	return p ? (int)(p - credit_alphabet) : -1;
}

bool credit_code_valid(const char *s)
{
	static const int weights[17] = {1,  3,	9,  27, 19, 26, 16, 17, 20,
					29, 25, 13, 8,	24, 10, 30, 28};
	int sum = 0, check;

	for (int i = 0; i < CREDIT_CODE_LEN; i++)
		if (credit_value(s[i]) < 0)
			return false;
	for (int i = 0; i < 17; i++)
		sum += credit_value(s[i]) * weights[i];
	check = (31 - sum % 31) % 31;
	return credit_value(s[17]) == check;
}

bool person_id_valid(const char *s)
{
	static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char checks[] = "10X98765432";
	int sum = 0;

	for (int i = 0; i < 17; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		sum += (s[i] - '0') * weights[i];
	}
	return s[17] == checks[sum % 11];
}

/* Slides an 18-character window over every run of candidate characters,
 * so a code glued to Chinese text or inside a longer string is found. */
static bool find_valid(const char *text, size_t len, bool (*valid)(const char *),
		       bool (*member)(char), char out[19])
{
	size_t run = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && member(text[i])) {
			run++;
			continue;
		}
		for (size_t start = i - run; run >= 18 && start + 18 <= i; start++) {
			if (valid(text + start)) {
				memcpy(out, text + start, 18);
				out[18] = '\0';
				return true;
			}
		}
		run = 0;
	}
	return false;
}

static bool credit_member(char c)
{
	return credit_value(c) >= 0;
}

static bool person_member(char c)
{
	return (c >= '0' && c <= '9') || c == 'X' || c == 'x';
}

bool credit_code_find(const char *text, size_t len, char out[CREDIT_CODE_LEN + 1])
{
	return find_valid(text, len, credit_code_valid, credit_member, out);
}

static bool person_id_valid_upper(const char *s)
{
	char buf[PERSON_ID_LEN];

	memcpy(buf, s, sizeof(buf));
	if (buf[17] == 'x')
		buf[17] = 'X';
	return person_id_valid(buf);
}

bool person_id_find_masked(const char *text, size_t len, char out[PERSON_ID_LEN + 1])
{
	char id[PERSON_ID_LEN + 1];

	if (!find_valid(text, len, person_id_valid_upper, person_member, id))
		return false;
	memcpy(out, id, 3);
	memset(out + 3, '*', 11);
	memcpy(out + 14, id + 14, 4);
	if (out[17] == 'x')
		out[17] = 'X';
	out[18] = '\0';
	/* The full number must not linger in memory we hand back. */
	memset(id, 0, sizeof(id));
	return true;
}
