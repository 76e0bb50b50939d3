#!/usr/bin/env bash
# The test command (README "Run the tests"; .ci/run calls exactly this).
# 1. a venv with logscan and its test extras;
# 2. Chromium for the HTML report's browser test, when missing and this user may install
#    Debian packages (root, as on CI); otherwise that one test skips and says why;
# 3. PostgreSQL's server binaries for the sync tests (tests/pgserver.py starts a throw-away server
#    with initdb and pg_ctl), when missing and this user may install Debian packages; otherwise
#    those tests skip and say why;
# 4. the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "could not install chromium: the browser test will be skipped" >&2
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
        || echo "could not install postgresql: the sync tests will be skipped" >&2
fi
exec .venv/bin/python -m pytest -q "$@"
