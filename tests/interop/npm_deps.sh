# Sourced by the interop tests: installs package.json's packages (once) into
# $TM_BUILD_DIR/interop-node and sets $deps to that folder. Exits 77 (skip) without npm,
# or 1 where CI requires it.
if ! command -v npm >/dev/null; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "npm is missing (tools/deps.sh installs it)" >&2; exit 1; }
    echo "skipped: npm is missing" >&2
    exit 77
fi
deps=${TM_BUILD_DIR:-/tmp}/interop-node
mkdir -p "$deps"
here_npm=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cp "$here_npm"/package.json "$here_npm"/*.mjs "$deps/"
# one install at a time: ctest runs the interop tests in parallel
(
    flock 9
    if ! cmp -s "$deps/package.json" "$deps/.installed" 2>/dev/null; then
        (cd "$deps" && npm install --no-audit --no-fund --loglevel=error >/dev/null) &&
            cp "$deps/package.json" "$deps/.installed"
    fi
) 9>"$deps/.lock"
