#!/usr/bin/env bash
# Starts the manual go-live of a publication that reached preview: a new execution of the same state
# machine, with the publication's input and action "goLive", named after the publication's execution so
# that the same go-live cannot run twice. Needs the AWS CLI and python3.
#
#   tools/go-live.sh <ARN of the publish execution>
set -euo pipefail

publish_arn="${1:?usage: tools/go-live.sh <ARN of the publish execution>}"
description="$(aws stepfunctions describe-execution --execution-arn "$publish_arn" --output json)"

# Name: "golive_" + the publish execution's name, cut from the front so its hash suffix survives (80 max).
read -r state_machine name < <(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["stateMachineArn"], ("golive_" + d["name"][-(80 - len("golive_")):]))
' "$description")
input="$(python3 -c '
import json, sys
state = json.loads(json.loads(sys.argv[1])["input"])
state["action"] = "goLive"
print(json.dumps(state))
' "$description")"

if output="$(aws stepfunctions start-execution --state-machine-arn "$state_machine" --name "$name" \
    --input "$input" --output json 2>&1)"; then
    # For the same name and input, a running execution is returned rather than a second one started.
    echo "go-live execution (started now, or already running): $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["executionArn"])' "$output")"
elif grep -q ExecutionAlreadyExists <<<"$output"; then
    echo "a go-live of this publication was already started: execution $name"
else
    echo "$output" >&2
    exit 1
fi
