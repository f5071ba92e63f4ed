#!/usr/bin/env bash
# Refresh the French and Arabic catalogues from the source strings, then compile them.
#   scripts/update_translations.sh            extract + compile
#   scripts/update_translations.sh --compile  compile only (after editing the .po files)
# English is the source language and needs no catalogue. Commit the .po and the .mo files,
# so a fresh clone runs without gettext installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/.venv/bin/python"
command -v msgfmt >/dev/null || { echo "msgfmt is missing: apt-get install gettext" >&2; exit 1; }
cd "$ROOT/src/caravane"
export DJANGO_SETTINGS_MODULE=caravane.settings PYTHONPATH="$ROOT/src"  # this tree's code and catalogues, not those of the installed checkout
if [ "${1:-}" != "--compile" ]; then
  "$PY" -m django makemessages -l fr -l ar --no-location --no-obsolete \
    -i ".venv/*" -i "static/*" -i "*/migrations/*" -i "*.egg-info/*"
fi
"$PY" -m django compilemessages -l fr -l ar
# msgfmt's statistics leave out the header; anything untranslated or fuzzy fails the run, so a
# refresh that brings new strings is not mistaken for a finished one.
missing=0
for po in locale/*/LC_MESSAGES/django.po; do
  stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$po" 2>&1)
  translated=$(sed -n 's/^\([0-9]*\) translated.*/\1/p' <<<"$stats")
  fuzzy=$(grep -o '[0-9]* fuzzy' <<<"$stats" | cut -d' ' -f1 || true)
  untranslated=$(grep -o '[0-9]* untranslated' <<<"$stats" | cut -d' ' -f1 || true)
  echo "$po: ${translated:-0} translated, ${untranslated:-0} untranslated, ${fuzzy:-0} fuzzy"
  missing=$((missing + ${untranslated:-0} + ${fuzzy:-0}))
done
if [ "$missing" -gt 0 ]; then
  echo "$missing strings to translate: msgattrib --untranslated / --only-fuzzy lists them" >&2
  exit 1
fi
