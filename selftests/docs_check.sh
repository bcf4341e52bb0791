#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# docs_check.sh - every page of Documentation/ parses as reStructuredText
# with no warning (a malformed table, a bad title line, a broken reference):
# docutils reports them and drops what it cannot parse, so a reader of the
# rendered page would miss that part.  TAP, one line per page.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# Debian's python3 and its python3-docutils (make deps), not another python3
# on the PATH.
py=${SOFTEE_PYTHON3:-/usr/bin/python3}
if ! "$py" -c 'import docutils' 2>/dev/null; then
	echo "1..0 # SKIP no docutils for $py (make deps installs python3-docutils)"
	exit 4
fi

n=0 failed=0
for f in Documentation/*.rst; do
	n=$((n + 1))
	out=$("$py" - "$f" <<'PY' 2>&1
import io, sys
import docutils.core
path = sys.argv[1]
err = io.StringIO()
docutils.core.publish_doctree(open(path, encoding="utf-8").read(), source_path=path,
                              settings_overrides={"warning_stream": err, "report_level": 2,
                                                  "halt_level": 5})
sys.stdout.write(err.getvalue())
PY
)
	if [ -z "$out" ]; then
		echo "ok $n $f"
	else
		failed=$((failed + 1))
		echo "not ok $n $f"
		sed 's/^/# /' <<<"$out" | head -20
	fi
done
echo "1..$n"
[ $failed = 0 ]
