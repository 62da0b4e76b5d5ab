// `make demo` is what people run first: it must reach live, say what it waited, and print no secret,
// on either API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  assert.match(stdout, /CheckLastOperation +running · Certification \d+% · check \d+ · next check in 6 h/);
  assert.doesNotMatch(stdout, /^ +day \d+ \d\d:\d\d +WaitForOperation/m, 'the wait is on its check\'s line');
  assert.match(stdout, /CheckLastOperation +PREVIEW READY/);
  assert.match(stdout, /StoppedAtPreview +execution succeeded/);
  assert.match(stdout, /CheckLastOperation +LIVE/);
  assert.match(stdout, /PublishedAndLive +execution succeeded/);
  assert.match(stdout, /production +1\.0\.0, 1\.1\.0, 1\.2\.0, 1\.3\.0, 1\.4\.0/);
  assert.match(stdout, /\d+ +POST golive/);
  assert.match(stdout, /CPP API calls: \d+ \(0 answered 401\)/, 'functions and emulator agree on when a token expires');
  assert.match(stdout, /stack stopped\./);
  assertNoSecrets(stdout, 'the demo output');
  const picture = stdout.match(/timeline: (\S+\.svg)/)?.[1];
  assert.ok(picture, 'the demo prints where its picture is');
  const svg = readFileSync(picture, 'utf8');
  assert.match(svg, /^<svg /);
  for (const text of ['Certification', 'Publisher signoff', 'previewReady', 'live', 'day 7']) assert.ok(svg.includes(text), text);
  const ticks = svg.match(/class="check"/g).length;
  const checks = stdout.match(/CheckLastOperation +\S/g).length;
  assert.equal(ticks, checks, 'one tick per check');
});

test('make demo API=productIngestion goes from upload to live on a Partner Center offer', { timeout: 15 * 60 * 1000 }, async () => {
  const { stdout } = await run(process.execPath, ['tests/e2e/demo.mjs'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DEMO_PACE_MS: '0', DEMO_NAME: 'demo-test-pi', DEMO_API: 'productIngestion' },
    maxBuffer: 16 << 20,
  });
  assert.match(stdout, /emulator for Microsoft \(the Product Ingestion API\)/);
  assert.match(stdout, /UpdateAndPublish +added 1\.4\.0 to plan gen2; publish running/);
  assert.match(stdout, /CheckLastOperation +running · validation and certification · check \d+ · next check in 6 h/);
  assert.match(stdout, /CheckLastOperation +PREVIEW READY/);
  assert.match(stdout, /CheckLastOperation +LIVE/);
  assert.match(stdout, /PublishedAndLive +execution succeeded/);
  assert.match(stdout, /live +1\.0\.0, 1\.1\.0, 1\.2\.0, 1\.3\.0, 1\.4\.0/);
  assert.match(stdout, /Product Ingestion API calls: \d+ \(0 answered 401\)/);
  assert.match(stdout, / 3 +POST configure/, 'the draft, the preview, the go-live: one configure each');
  assertNoSecrets(stdout, 'the demo output');
});
