// One stack per test file: started before its first test, stopped after its last (also when a
// test fails; procs.mjs covers Ctrl-C and crashes).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Pipeline } from './pipeline.mjs';
import { startStack } from './stack.mjs';

// The stack starts in a second or two; the bound only turns a hang into a failure.
const START_TIMEOUT_MS = 2 * 60 * 1000;

/** Registers the hooks; the returned object gets `stack` and `pipeline` once the stack is up. */
export function useStack(name, options = {}) {
  const context = {};
  before(
    async () => {
      context.stack = await startStack({ name, ...options });
      context.pipeline = new Pipeline(context.stack);
    },
    { timeout: START_TIMEOUT_MS },
  );
  after(async () => {
    await context.stack?.stop();
  });
  return context;
}

/** A last test for a file: what the stack logged (functions, watch, moto, emulator) carries no secret. */
export function testLogsCarryNoSecrets(context) {
  test('the logs of the functions and servers carry no secret or SAS signature', () => {
    const { logDir } = context.stack;
    for (const file of readdirSync(logDir)) assertNoSecrets(readFileSync(join(logDir, file), 'utf8'), file);
  });
}

/** Asserts that no SAS signature, client secret or bearer token appears in `value`. */
export function assertNoSecrets(value, what) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // A signature may appear as sig=REDACTED (shared/src/redact.rs); emulator tokens are 64 hex digits.
  // A JWT (the web identity token, the client assertion) starts with a base64url JSON header: eyJ.
  for (const secret of [/sig=(?!REDACTED)/i, /SECRETsig/, /emulator-client-secret/, /Bearer\s+[0-9a-f]{8}/i, /access_token/, /eyJ[\w-]{8,}\.eyJ/]) {
    assert.doesNotMatch(text, secret, `${what} must not carry ${secret}`);
  }
}

/** Notifications of a run by event name: ["previewReady", "live"]. */
export function events(run) {
  return run.notifications.map((n) => n.message.event);
}
