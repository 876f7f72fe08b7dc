#!/usr/bin/env bash
# Creates bench/quix/.venv (Python 3.11) and installs requirements.txt into it.
# Idempotent: does nothing when the venv was already built from this exact
# requirements.txt (its sha256 is kept in .venv/.requirements.sha256).
#
#   bash bench/quix/setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"

fail() {
  echo "bench/quix/setup.sh: $*" >&2
  exit 1
}

[ -f "$req" ] || fail "missing $req"
want="$(sha256sum "$req" | cut -d' ' -f1)"

is_311() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && is_311 "$venv/bin/python"; then
  echo "bench/quix: venv up to date ($venv)"
  exit 0
fi

# A venv that is missing, broken or not Python 3.11 is made anew.
if ! is_311 "$venv/bin/python"; then
  py=""
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && is_311 "$candidate"; then
      py="$candidate"
      break
    fi
  done
  [ -n "$py" ] || fail "Python 3.11 not found (tried python3.11, python3)"
  rm -rf "$venv"
  "$py" -m venv "$venv" || fail "could not create the venv with $py -m venv"
fi

rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" ||
  fail "pip install -r requirements.txt failed"
# (Importing quixstreams makes authlib print a deprecation warning on stderr;
# only a failed import is shown.)
version="$("$venv/bin/python" -c 'import quixstreams; print(quixstreams.__version__)' 2>&1)" ||
  fail "quixstreams does not import in $venv: $version"
echo "$want" >"$stamp"
echo "bench/quix: venv ready ($venv, quixstreams ${version##*$'\n'})"
