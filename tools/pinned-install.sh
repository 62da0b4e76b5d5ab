# Sourced by tools/static-checks.sh, tests/e2e/setup.sh and `make bench`: tools are installed from pin files into
# local folders, and again only when a pin file changed (its digest is kept beside the install).

# A pin file's digest: equal digests mean the install is current.
digest() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

# is_current STAMP WANT EXECUTABLE...: every executable is there and STAMP holds WANT.
is_current() {
    local stamp=$1 want=$2 exe
    shift 2
    for exe in "$@"; do [[ -x "$exe" ]] || return 1; done
    [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]
}

# pip_into VENV REQUIREMENTS: the pinned requirements in VENV (created when missing).
pip_into() {
    [[ -x "$1/bin/python" ]] || python3 -m venv "$1"
    "$1/bin/python" -m pip install --quiet --disable-pip-version-check --requirement "$2"
}

# npm_ci_into PREFIX PACKAGE_DIR: PACKAGE_DIR's locked dependencies installed under PREFIX.
npm_ci_into() {
    mkdir -p "$1"
    cp "$2/package.json" "$2/package-lock.json" "$1/"
    npm ci --prefix "$1" --no-audit --no-fund --loglevel=error
}
