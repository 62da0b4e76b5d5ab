"""Translates the SAM template to plain CloudFormation offline, for cfn-lint to check what SAM generates.

Usage: python tools/sam_translate.py infra/template.yaml OUTPUT.json

No AWS call is made: managed-policy names resolve from a fixed map (the template names none; SAM's own
AWSLambdaBasicExecutionRole is referenced by ARN), the region is fixed, and local paths become what
`sam package` would put there: CodeUri an S3 location, DefinitionUri the definition itself (inlined, so
cfn-lint also sees the state machine definition that CloudFormation will receive).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# Before boto3 is imported through samtranslator: a region, and no credential or metadata look-ups.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

from cfnlint.decode import decode  # noqa: E402  (reads YAML with !Ref, !Sub, ... as cfn-lint does)
from samtranslator.translator.transform import transform  # noqa: E402

FAKE_MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXRayDaemonWriteAccess": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
}
OFFLINE_BUCKET = "offline-translation-artifacts"


class FixedPolicyLoader:
    """Stands in for samtranslator's ManagedPolicyLoader, which would ask IAM."""

    def load(self) -> dict[str, str]:
        return FAKE_MANAGED_POLICIES


def as_plain(value: Any) -> Any:
    """cfn-lint's decoder returns str/dict subclasses that carry line numbers; plain types translate cleanly."""
    if isinstance(value, dict):
        return {str(k): as_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def package_locally(template: dict[str, Any], template_dir: Path) -> None:
    """Replaces local artifact paths as `sam package` would, without uploading anything."""
    resources = template.get("Resources", {})
    function_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = f"s3://{OFFLINE_BUCKET}/code.zip"
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = f"s3://{OFFLINE_BUCKET}/{name}.zip"
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            definition_path = template_dir / props.pop("DefinitionUri")
            props["Definition"] = json.loads(definition_path.read_text(encoding="utf-8"))


def parameter_values(template: dict[str, Any]) -> dict[str, Any]:
    """Placeholder values for parameters without a default, so intrinsics that SAM resolves can be resolved."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            continue
        if spec.get("Type") == "Number":
            values[name] = "1"
        elif "secretsmanager" in spec.get("AllowedPattern", ""):
            values[name] = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:offline-AbCdEf"
        else:
            values[name] = f"offline-{name}"
    values.update({"AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333", "AWS::Partition": "aws"})
    return values


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    template, matches = decode(str(source))
    if matches or template is None:
        for match in matches:
            print(match, file=sys.stderr)
        return 1
    template = as_plain(template)
    package_locally(template, source.parent)
    translated = transform(template, parameter_values(template), FixedPolicyLoader())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(translated, indent=2) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for resource in translated.get("Resources", {}).values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
    print(f"translated {source} -> {target}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
