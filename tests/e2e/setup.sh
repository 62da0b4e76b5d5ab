#!/usr/bin/env bash
# Installs the tools of the end-to-end tests and the demo, at pinned versions:
#   - Python: cargo-lambda (`cargo lambda watch`) and moto[server] into .venv/ (tests/e2e/requirements.txt;
#     the venv is shared with tools/static-checks.sh, whose pins it also honours);
#   - Node: node@22 and aws-local-stepfunctions into .tools/e2e/ (tests/e2e/package-lock.json, npm ci).
# A later run reinstalls only when a pin file changed. Needs python3 (with venv) and npm.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

venv="$root/.venv"
node_prefix="$root/.tools/e2e"
say() { printf '%s\n' "$*"; }

# shellcheck source=tools/pinned-install.sh
source "$root/tools/pinned-install.sh"

install_python_tools() {
    local stamp="$venv/.e2e.sha256" want
    # requirements.txt takes its shared pins from the static checks' file: both decide the install.
    want="$(digest tests/e2e/requirements.txt tools/static-checks-requirements.txt)"
    is_current "$stamp" "$want" "$venv/bin/cargo-lambda" "$venv/bin/moto_server" && return
    say "installing cargo-lambda and moto into .venv ..."
    pip_into "$venv" tests/e2e/requirements.txt
    printf '%s\n' "$want" >"$stamp"
}

install_node_tools() {
    local stamp="$node_prefix/.e2e.sha256" want
    want="$(digest tests/e2e/package.json tests/e2e/package-lock.json)"
    is_current "$stamp" "$want" "$node_prefix/node_modules/.bin/node" && return
    say "installing Node 22 and aws-local-stepfunctions into .tools/e2e ..."
    # node@22's install script fetches the platform's binary; npm must let it run.
    npm_ci_into "$node_prefix" tests/e2e
    local version
    version="$("$node_prefix/node_modules/.bin/node" --version)" || {
        say "the node@22 package installed no working binary (were its install scripts blocked?)" >&2
        exit 1
    }
    [[ "$version" == v22.* ]] || { say "expected Node 22 in $node_prefix, got $version" >&2; exit 1; }
    printf '%s\n' "$want" >"$stamp"
}

install_python_tools
install_node_tools
# The tests import aws-local-stepfunctions: Node looks for it in tests/e2e/node_modules.
ln -sfn ../../.tools/e2e/node_modules tests/e2e/node_modules
say "e2e tools: $("$venv/bin/cargo-lambda" lambda --version), moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)'), node $("$node_prefix/node_modules/.bin/node" --version), aws-local-stepfunctions $("$node_prefix/node_modules/.bin/node" -p 'require("./.tools/e2e/node_modules/aws-local-stepfunctions/package.json").version')"
