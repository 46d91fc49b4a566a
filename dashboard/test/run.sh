#!/usr/bin/env bash
# The dashboard's browser test, as .ci/run calls it: ./dashboard.sh --check
# installs what it needs (Debian's chromium and a CJK font among it), builds
# the demo data, the segments and the dashboard (with no network), serves it
# on 127.0.0.1 and checks every page in headless Chromium against SQL.
# Screenshots: dashboard/build/screenshots/*.png.
set -euo pipefail
exec "$(dirname "$0")/../../dashboard.sh" --check
