// One Lambda function as `cargo lambda watch` would run it: the binary, with the environment Lambda
// gives a function, polling watch's runtime API. A function that dies is started again, as Lambda
// starts a new instance.
import { setTimeout as sleep } from 'node:timers/promises';

import { REPO_ROOT } from './definition.mjs';
import { isInterrupted, startProcess, stopProcess } from './procs.mjs';

export async function startFunction({ name, binary, watchUrl, env, logDir }) {
  const lambdaEnv = {
    ...env,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '1',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '4096',
    AWS_LAMBDA_RUNTIME_API: `${watchUrl}/.rt/${name}`,
  };
  const fn = { name, env: lambdaEnv, stopped: false, proc: null, restarts: 0 };
  const launch = async () => {
    fn.proc = await startProcess({ name, command: binary, env: lambdaEnv, cwd: REPO_ROOT, logDir });
    fn.proc.exitedPromise.then(async () => {
      if (fn.stopped || isInterrupted()) return;
      fn.restarts += 1;
      // A function that cannot start (a configuration error) is not restarted in a tight loop.
      await sleep(500, undefined, { ref: false });
      if (!fn.stopped) await launch().catch(() => {});
    });
  };
  await launch();
  fn.stop = async () => {
    fn.stopped = true;
    await stopProcess(fn.proc);
  };
  return fn;
}
