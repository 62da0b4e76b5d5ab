#!/usr/bin/env bash
# Static checks of the infrastructure, offline once the tools are installed:
#   1. asl-validator on the state machine definitions (infra/statemachine/{publish,release}.asl.json)
#   2. cfn-lint on the SAM template (infra/template.yaml)
#   3. cfn-lint on the template's translation to plain CloudFormation by aws-sam-translator
#
# Installs its tools on first use, at the versions pinned in tools/static-checks-requirements.txt and
# tools/node/package-lock.json: Python ones into .venv/, Node ones into .tools/node/. A later run
# reinstalls only when a pin file changed. Needs python3 (with venv) and npm.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/.venv"
node_prefix="$root/.tools/node"
out="$root/target/static-checks"
asl_files=(infra/statemachine/publish.asl.json infra/statemachine/release.asl.json)
template="infra/template.yaml"
translated="$out/template.translated.json"

started=$SECONDS
say() { printf '%s\n' "$*"; }

# shellcheck source=tools/pinned-install.sh
source "$root/tools/pinned-install.sh"

install_python_tools() {
    local stamp="$venv/.static-checks.sha256" want
    want="$(digest tools/static-checks-requirements.txt)"
    is_current "$stamp" "$want" "$venv/bin/python" && return
    say "installing Python tools into .venv ..."
    pip_into "$venv" tools/static-checks-requirements.txt
    printf '%s\n' "$want" >"$stamp"
}

install_node_tools() {
    local stamp="$node_prefix/.static-checks.sha256" want
    want="$(digest tools/node/package.json tools/node/package-lock.json)"
    is_current "$stamp" "$want" "$node_prefix/node_modules/.bin/asl-validator" && return
    say "installing Node tools into .tools/node ..."
    npm_ci_into "$node_prefix" tools/node
    printf '%s\n' "$want" >"$stamp"
}

install_python_tools
install_node_tools
mkdir -p "$out"

tools_ready=$SECONDS

for asl in "${asl_files[@]}"; do
  say "asl-validator $("$node_prefix/node_modules/.bin/asl-validator" --version): $asl"
  "$node_prefix/node_modules/.bin/asl-validator" --json-path "$asl"
done
say ""

say "$("$venv/bin/cfn-lint" --version): $template (SAM template, with SAM's schemas)"
"$venv/bin/cfn-lint" -- "$template"
say "  no findings"

say "aws-sam-translator $("$venv/bin/python" -c 'import samtranslator; print(samtranslator.__version__)'): offline translation"
"$venv/bin/python" tools/sam_translate.py "$template" "$translated"

say "$("$venv/bin/cfn-lint" --version): ${translated#"$root/"} (the CloudFormation that SAM generates)"
"$venv/bin/cfn-lint" -- "$translated"
say "  no findings"

say ""
say "static checks passed in $((SECONDS - started)) s (tools ready after $((tools_ready - started)) s)"
