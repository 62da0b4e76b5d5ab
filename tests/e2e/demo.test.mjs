// `make demo` is what people run first: it must reach live, say what it waited, and print no secret.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { REPO_ROOT } from './lib/definition.mjs';
import { assertNoSecrets } from './lib/fixture.mjs';

const run = promisify(execFile);

test('the demo goes from upload to live and prints no secret', { timeout: 15 * 60 * 1000 }, async () => {
  const { stdout } = await run(process.execPath, ['tests/e2e/demo.mjs'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DEMO_PACE_MS: '0', DEMO_NAME: 'demo-test' },
    maxBuffer: 16 << 20,
  });
  assert.match(stdout, /build-finished -> StartExecution contoso-linux_gen2_1-4-0_/);
  assert.match(stdout, /WaitForOperation +waiting 6 h \(simulated\)/);
  assert.match(stdout, /CheckLastOperation +running · Certification \d+%/);
  assert.match(stdout, /CheckLastOperation +PREVIEW READY/);
  assert.match(stdout, /StoppedAtPreview +execution succeeded/);
  assert.match(stdout, /CheckLastOperation +LIVE/);
  assert.match(stdout, /PublishedAndLive +execution succeeded/);
  assert.match(stdout, /production +1\.0\.0, 1\.1\.0, 1\.2\.0, 1\.3\.0, 1\.4\.0/);
  assert.match(stdout, /\d+ +POST golive/);
  assert.match(stdout, /stack stopped\./);
  assertNoSecrets(stdout, 'the demo output');
});
