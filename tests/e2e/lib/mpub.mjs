// mpub as an operator runs it against the local stack: AWS settings for the Step Functions stand-in,
// Microsoft's as the functions have them. Resolves to {code, stdout, stderr}, whatever the exit code.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { REGION } from './definition.mjs';
import { binary } from './stack.mjs';

const run = promisify(execFile);

export async function runMpub(stack, args) {
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_SFN: stack.sfn.url,
    ...stack.microsoftEnv,
  };
  try {
    const { stdout, stderr } = await run(binary('mpub'), args, { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
