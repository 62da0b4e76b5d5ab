// The local stack: the CPP emulator, moto_server (S3 + Step Functions) and `cargo lambda watch`
// serving the four functions; optionally the Step Functions stand-in (lib/stepfunctions.mjs) in place
// of moto's. Everything listens on 127.0.0.1 and is stopped by stop().
import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { isAbsolute, join } from 'node:path';

import { Emulator } from './emulator.mjs';
import { Moto } from './moto.mjs';
import { PUBLISH_STATE_MACHINE, REGION, RELEASE_STATE_MACHINE, REPO_ROOT, loadDefinition } from './definition.mjs';
import { startFunction } from './functions.mjs';
import { freePort, startProcess, stopProcess } from './procs.mjs';
import { startStepFunctions } from './stepfunctions.mjs';

export const FUNCTIONS = ['build-finished', 'update-and-publish', 'check-last-operation', 'validate-and-go-live'];
export const BUCKET = 'contoso-builds';
// The emulator's default credentials: the functions log in with them like with a real service principal.
const CLIENT_ID = 'emulator-client-id';
const CLIENT_SECRET = 'emulator-client-secret';
// The role the emulator's STS stand-in signs for (cpp_emulator::DEFAULT_CALLER_ROLE).
const FUNCTION_ROLE = 'arn:aws:iam::111122223333:role/marketplace-publisher-functions';

const VENV_BIN = join(REPO_ROOT, '.venv', 'bin');
const TARGET_DIR = process.env.CARGO_TARGET_DIR
  ? (isAbsolute(process.env.CARGO_TARGET_DIR) ? process.env.CARGO_TARGET_DIR : join(REPO_ROOT, process.env.CARGO_TARGET_DIR))
  : join(REPO_ROOT, 'target');
export const binary = (name) => join(TARGET_DIR, 'debug', name);

/**
 * Starts the stack from the binaries in target/debug, which `make e2e` (or `make test`) builds. moto
 * holds both state machines: `stateMachineArn` (publish) and `releaseStateMachineArn` (release).
 * `env` adds configuration for the functions (e.g. CPP_MAX_IMAGES_PER_PLAN).
 * `stepFunctions`: true, or startStepFunctions' options (runOptions), to start the stand-in as `sfn` and
 * point the functions' Step Functions client at it (AWS_ENDPOINT_URL_SFN); by default they call moto.
 * Returns handles to each part and stop(), which is safe to call more than once.
 */
export async function startStack({ name = 'e2e', env = {}, credential = 'secret', stepFunctions = false, log = () => {} } = {}) {
  for (const tool of ['cargo-lambda', 'moto_server']) {
    if (!existsSync(join(VENV_BIN, tool))) throw new Error(`${tool} is missing from .venv: run tests/e2e/setup.sh`);
  }
  for (const bin of ['cpp-emulator', ...FUNCTIONS]) {
    if (!existsSync(binary(bin))) throw new Error(`${binary(bin)} is missing: build first (make e2e builds)`);
  }
  const logDir = join(TARGET_DIR, 'e2e', name);
  rmSync(logDir, { recursive: true, force: true });
  const procs = [];
  const stop = async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop?.() ?? stopProcess(p)));
  };
  try {
    log('starting the CPP emulator, moto_server and cargo lambda watch ...');
    const baseEnv = { ...cleanEnv(), RUST_LOG: process.env.RUST_LOG ?? 'info', NO_COLOR: '1' };
    const servers = await Promise.allSettled([
      startProcess({
        name: 'cpp-emulator',
        command: binary('cpp-emulator'),
        // Tokens expire on the real clock, as the functions' token cache counts: a jump of the virtual
        // clock by days then causes no 401 that a deployment, whose checks are hours apart, would not see.
        // Draft jobs take 2 s on the real clock by default; a fifth of that keeps the suite quick.
        args: ['--port', '0', '--real-time-tokens', '--pi-draft-job-delay-ms', '400'],
        env: { ...baseEnv, CPP_CLIENT_ID: CLIENT_ID, CPP_CLIENT_SECRET: CLIENT_SECRET },
        cwd: REPO_ROOT,
        logDir,
        ready: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      }),
      startProcess({
        name: 'moto',
        command: join(VENV_BIN, 'moto_server'),
        args: ['-H', '127.0.0.1', '-p', '0'],
        env: baseEnv,
        cwd: REPO_ROOT,
        logDir,
        ready: /Running on (http:\/\/127\.0\.0\.1:\d+)/,
      }),
    ]);
    procs.push(...servers.filter((r) => r.status === 'fulfilled').map((r) => r.value));
    const failed = servers.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [emulatorProc, motoProc] = procs;
    const emulatorUrl = emulatorProc.match[1];
    const motoUrl = motoProc.match[1];
    const emulator = new Emulator(emulatorUrl, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const moto = new Moto(motoUrl, REGION);
    await moto.createBucket(BUCKET);
    const stateMachineArn = await moto.createStateMachine(PUBLISH_STATE_MACHINE, loadDefinition());
    // The release machine runs the publish machine once per offer (startExecution.sync:2).
    const releaseStateMachineArn = await moto.createStateMachine(RELEASE_STATE_MACHINE, loadDefinition('release', { PublishStateMachineArn: stateMachineArn }));

    // awsFederation: no secret anywhere; the role's web identity token comes from the emulator's STS
    // stand-in, trusted by a federated credential on the app (the subject: the role every caller has).
    const federated = credential === 'awsFederation';
    if (federated) {
      const { issuer } = await emulator.control('GET', '/federation/credentials');
      await emulator.control('POST', '/federation/credentials', { issuer, subject: FUNCTION_ROLE });
    }
    const watchUrl = await startWatch(logDir, procs);
    const stack = { emulator, moto, emulatorUrl, motoUrl, watchUrl, stateMachineArn, releaseStateMachineArn, logDir, functions: {}, stop };
    if (stepFunctions) {
      // Before the functions, which must know its URL; stop() stops its runs with the rest.
      stack.sfn = await startStepFunctions({ stack, ...(stepFunctions === true ? {} : stepFunctions) });
      procs.push(stack.sfn);
    }
    const microsoft = {
      CPP_API_BASE_URL: emulatorUrl,
      CPP_LOGIN_BASE_URL: emulatorUrl,
      INGESTION_API_BASE_URL: `${emulatorUrl}/rp/product-ingestion`,
      CPP_TENANT_ID: 'e2e-tenant',
      CPP_CLIENT_ID: CLIENT_ID,
    };
    // How a tool that calls Microsoft as the functions do (mpub) reaches the emulator.
    stack.microsoftEnv = { ...microsoft, CPP_CLIENT_SECRET: CLIENT_SECRET };
    const functionEnv = {
      ...baseEnv,
      ...awsEnv(motoUrl),
      // The SDK prefers a service's own endpoint variable to AWS_ENDPOINT_URL.
      ...(stack.sfn ? { AWS_ENDPOINT_URL_SFN: stack.sfn.url } : {}),
      ...microsoft,
      // Only the functions get it, never watch (which would print it if passed as --env-var).
      ...(federated
        ? { CPP_CREDENTIAL: 'awsFederation', AWS_ENDPOINT_URL_STS: `${emulatorUrl}/sts` }
        : { CPP_CLIENT_SECRET: CLIENT_SECRET }),
      STATE_MACHINE_ARN: stateMachineArn,
      // Where build-finished starts a release manifest (its targets).
      RELEASE_STATE_MACHINE_ARN: releaseStateMachineArn,
      // As infra/template.yaml sets them: build-finished heeds only this bucket and prefix.
      MANIFEST_BUCKET: BUCKET,
      MANIFEST_PREFIX: 'manifests/',
      ...env,
    };
    // The four functions as Lambda runs them: each polls watch's runtime API for its invocations.
    const { functions } = stack;
    // build-finished never calls CPP: as in AWS, where it may not read the secret, it does not get it.
    const { CPP_CLIENT_SECRET: _, ...withoutSecret } = functionEnv;
    for (const fn of FUNCTIONS) {
      const env = fn === 'build-finished' ? withoutSecret : functionEnv;
      functions[fn] = await startFunction({ name: fn, binary: binary(fn), watchUrl, env, logDir });
      procs.push(functions[fn]);
    }
    return stack;
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * `cargo lambda watch --only-lambda-apis`: watch serves the invoke endpoint and the runtime API, and the
 * harness starts the functions from the binaries cargo already built. (Left to start them itself,
 * watch would `cargo run` them, and a plain build resolves other dependency features than
 * `cargo test`: minutes of a second compile in `make test`.) watch cannot bind port 0: a free port is
 * picked, and another if it was taken meanwhile.
 */
async function startWatch(logDir, procs) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const proc = await startProcess({
        name: 'cargo-lambda-watch',
        command: join(VENV_BIN, 'cargo-lambda'),
        args: ['lambda', 'watch', '--only-lambda-apis', '-A', '127.0.0.1', '-P', String(port)],
        env: { ...cleanEnv(), NO_COLOR: '1' },
        cwd: REPO_ROOT,
        logDir,
        ready: /starting Runtime server/,
      });
      try {
        await waitForPort(port);
      } catch (e) {
        await stopProcess(proc);
        throw e;
      }
      procs.push(proc);
      return `http://127.0.0.1:${port}`;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

/** This process's environment without AWS_* and CPP_*: a developer's own settings must not leak in. */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS|CPP)_/.test(name)));
}

/** What the AWS SDK inside the functions needs to talk to moto: endpoint, region, dummy keys. */
function awsEnv(motoUrl) {
  return {
    AWS_ENDPOINT_URL: motoUrl,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Waits until `port` accepts connections (watch answers no plain GET, so HTTP cannot tell). */
async function waitForPort(port, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Invokes a function through watch; resolves to `{ok, payload}` or `{ok: false, errorType, errorMessage, raw}`. */
export async function invokeFunction(watchUrl, name, payload) {
  const response = await fetch(`${watchUrl}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const raw = await response.text();
  let body;
  try {
    body = raw ? JSON.parse(raw) : null;
  } catch {
    body = raw;
  }
  // watch answers a function's error with HTTP 500 (Lambda itself: 200 and X-Amz-Function-Error).
  const functionError = response.headers.get('x-amz-function-error');
  const looksLikeError = body && typeof body === 'object' && typeof body.errorType === 'string' && 'errorMessage' in body;
  if (functionError || !response.ok) {
    return {
      ok: false,
      status: response.status,
      errorType: looksLikeError ? body.errorType : null,
      errorMessage: looksLikeError ? String(body.errorMessage) : raw,
      raw,
    };
  }
  return { ok: true, payload: body };
}
