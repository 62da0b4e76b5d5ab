// The real state machine definitions (infra/statemachine/publish.asl.json, and release.asl.json, which
// runs the publish machine once per offer), with the DefinitionSubstitutions that infra/template.yaml
// makes in AWS filled with local ARNs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ASL_PATH = join(REPO_ROOT, 'infra', 'statemachine', 'publish.asl.json');
export const RELEASE_ASL_PATH = join(REPO_ROOT, 'infra', 'statemachine', 'release.asl.json');
const ASL_PATHS = { publish: ASL_PATH, release: RELEASE_ASL_PATH };
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

const lambdaArn = (name) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
export const NOTIFICATION_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:marketplace-publish-notifications`;
// The names lib/stack.mjs creates the machines with; moto's ARNs use this account and region.
export const PUBLISH_STATE_MACHINE = 'marketplace-publish';
export const RELEASE_STATE_MACHINE = 'marketplace-release';
export const stateMachineArn = (name) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;

// Which function each substitution stands for (template.yaml: DefinitionSubstitutions).
export const SUBSTITUTIONS = {
  UpdateAndPublishFunctionArn: lambdaArn('update-and-publish'),
  CheckLastOperationFunctionArn: lambdaArn('check-last-operation'),
  ValidateAndGoLiveFunctionArn: lambdaArn('validate-and-go-live'),
  NotificationTopicArn: NOTIFICATION_TOPIC_ARN,
  // The release machine's children; callers with a stack pass the ARN it created (stack.stateMachineArn).
  PublishStateMachineArn: stateMachineArn(PUBLISH_STATE_MACHINE),
};

/** The function name in a Lambda ARN (or a bare name). */
export function functionName(arnOrName) {
  return String(arnOrName).split(':function:').pop().split(':')[0];
}

/**
 * The definition of `machine` ('publish' or 'release'), substituted; `substitutions` overrides some
 * (e.g. `{PublishStateMachineArn: stack.stateMachineArn}`).
 */
export function loadDefinition(machine = 'publish', substitutions = {}) {
  const file = ASL_PATHS[machine];
  if (!file) throw new Error(`no state machine ${machine}: publish or release`);
  let text = readFileSync(file, 'utf8');
  for (const [key, value] of Object.entries({ ...SUBSTITUTIONS, ...substitutions })) text = text.replaceAll('${' + key + '}', value);
  const left = text.match(/\$\{[A-Za-z0-9_]+\}/);
  if (left) throw new Error(`${file} uses ${left[0]}, which tests/e2e/lib/definition.mjs does not substitute`);
  return JSON.parse(text);
}

/** Every state of the definition, branches of Parallel and Map states included: [name, state]. */
export function allStates(definition) {
  const found = [];
  const visit = (machine) => {
    for (const [name, state] of Object.entries(machine.States)) {
      found.push([name, state]);
      for (const branch of state.Branches ?? []) visit(branch);
      for (const inner of [state.Iterator, state.ItemProcessor]) if (inner) visit(inner);
    }
  };
  visit(definition);
  return found;
}
