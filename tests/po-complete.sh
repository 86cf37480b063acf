#!/bin/sh
# The zh_CN translation is complete: every message marked in the files of
# po/POTFILES has a translation, none is fuzzy, and the catalog compiles
# with its format strings checked (TAP).
set -u
top=$1
command -v xgettext >/dev/null && command -v msgcmp >/dev/null ||
	{ echo "1..0 # SKIP gettext tools (xgettext, msgcmp) are not installed"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 1..3
cd "$top" || exit 1
if xgettext --keyword=_ --keyword=N_ --from-code=UTF-8 -o "$tmp/ukey.pot" -f po/POTFILES 2>"$tmp/err" &&
	msgcmp --use-untranslated po/zh_CN.po "$tmp/ukey.pot" 2>"$tmp/err"; then
	echo "ok 1 - every message in po/POTFILES is in zh_CN.po"
else
	echo "not ok 1 - messages missing from zh_CN.po"
	sed 's/^/# /' "$tmp/err"
fi
untranslated=$(msgattrib --untranslated --only-fuzzy --no-obsolete po/zh_CN.po 2>/dev/null | grep -c '^msgid' || true)
empty=$(msgattrib --untranslated --no-obsolete po/zh_CN.po 2>/dev/null | grep -c '^msgid' || true)
if [ "$untranslated" -le 0 ] && [ "$empty" -le 1 ]; then
	echo "ok 2 - nothing untranslated or fuzzy"
else
	echo "not ok 2 - $empty untranslated (header counts one), $untranslated fuzzy"
fi
if msgfmt --check -o /dev/null po/zh_CN.po 2>"$tmp/err"; then
	echo "ok 3 - zh_CN.po compiles with its format strings checked"
else
	echo "not ok 3 - msgfmt --check fails"
	sed 's/^/# /' "$tmp/err"
fi
