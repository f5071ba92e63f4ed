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
export DJANGO_SETTINGS_MODULE=caravane.settings
if [ "${1:-}" != "--compile" ]; then
  "$PY" -m django makemessages -l fr -l ar --no-location --no-obsolete \
    -i ".venv/*" -i "static/*" -i "*/migrations/*" -i "*.egg-info/*"
fi
"$PY" -m django compilemessages -l fr -l ar
grep -c '^msgid ' locale/*/LC_MESSAGES/django.po | sed 's/^/msgids: /'
for po in locale/*/LC_MESSAGES/django.po; do
  untranslated=$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid ' || true)
  fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$po" | grep -c '^msgid ' || true)
  echo "$po: $untranslated untranslated, $fuzzy fuzzy (header counts as one when non-zero)"
done
