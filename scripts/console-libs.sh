#!/usr/bin/env bash
# Re-vendors the admin console's two script libraries from npm into src/Client/wwwroot/console/lib.
# The console loads nothing from a CDN: these files are embedded in the front door. Run this only to
# change a version (then commit the result); builds and tests never call it.
#   lit-html  3.3.3  (BSD-3-Clause): safe HTML templates; values are escaped unless a directive says otherwise
#   chart.js  4.6.1  (MIT): the cost page's charts
set -euo pipefail
cd "$(dirname "$0")/.."
LIT_VERSION=3.3.3
CHART_VERSION=4.6.1
lib=src/Client/wwwroot/console/lib
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "lit-html@$LIT_VERSION" "chart.js@$CHART_VERSION" >/dev/null)
mkdir -p "$work/lit" "$work/chart"
tar xzf "$work/lit-html-$LIT_VERSION.tgz" -C "$work/lit"
tar xzf "$work/chart.js-$CHART_VERSION.tgz" -C "$work/chart"
rm -rf "$lib/lit-html" "$lib/chart.js"
mkdir -p "$lib/lit-html/directives" "$lib/chart.js"
cp "$work/lit/package/"{LICENSE,lit-html.js,directive.js,async-directive.js,directive-helpers.js,is-server.js,static.js} "$lib/lit-html/"
cp "$work/lit/package/directives/"*.js "$lib/lit-html/directives/"
# The unsafe-* directives bypass escaping; leaving them out keeps every page on escaped templates.
rm -f "$lib/lit-html/directives/unsafe-"*.js
cp "$work/chart/package/dist/chart.umd.min.js" "$work/chart/package/LICENSE.md" "$lib/chart.js/"
echo "vendored lit-html $LIT_VERSION and chart.js $CHART_VERSION into $lib"
