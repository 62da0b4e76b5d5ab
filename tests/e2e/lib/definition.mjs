// The real state machine definition (infra/statemachine/publish.asl.json), with the
// DefinitionSubstitutions that infra/template.yaml makes in AWS filled with local ARNs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ASL_PATH = join(REPO_ROOT, 'infra', 'statemachine', 'publish.asl.json');
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

const lambdaArn = (name) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
export const NOTIFICATION_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:marketplace-publish-notifications`;

// Which function each substitution stands for (template.yaml: DefinitionSubstitutions).
export const SUBSTITUTIONS = {
  UpdateAndPublishFunctionArn: lambdaArn('update-and-publish'),
  CheckLastOperationFunctionArn: lambdaArn('check-last-operation'),
  ValidateAndGoLiveFunctionArn: lambdaArn('validate-and-go-live'),
  NotificationTopicArn: NOTIFICATION_TOPIC_ARN,
};

/** The function name in a Lambda ARN (or a bare name). */
export function functionName(arnOrName) {
  return String(arnOrName).split(':function:').pop().split(':')[0];
}

export function loadDefinition() {
  let text = readFileSync(ASL_PATH, 'utf8');
  for (const [key, value] of Object.entries(SUBSTITUTIONS)) text = text.replaceAll('${' + key + '}', value);
  const left = text.match(/\$\{[A-Za-z0-9_]+\}/);
  if (left) throw new Error(`${ASL_PATH} uses ${left[0]}, which tests/e2e/lib/definition.mjs does not substitute`);
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
