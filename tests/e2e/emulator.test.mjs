// The CPP emulator's README walkthrough, run as a person would run it after `make emulator`: the
// shell block of tests/cpp-emulator/README.md against the emulator binary (on a free port here).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';

import { REPO_ROOT } from './lib/definition.mjs';
import { startProcess, stopProcess } from './lib/procs.mjs';
import { binary } from './lib/stack.mjs';

const run = promisify(execFile);
let emulator;
after(() => emulator && stopProcess(emulator));

/** The shell block under `## Walkthrough` in the emulator's README. */
function walkthrough() {
  const readme = readFileSync(join(REPO_ROOT, 'tests', 'cpp-emulator', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Walkthrough'));
  const block = section.match(/```sh\n([\s\S]*?)```/);
  assert.ok(block, 'the README has a walkthrough block');
  return block[1];
}

test('the emulator README walkthrough runs as written and shows what it says', async () => {
  emulator = await startProcess({
    name: 'cpp-emulator-walkthrough',
    command: binary('cpp-emulator'),
    args: ['--port', '0'],
    env: { PATH: process.env.PATH },
    cwd: REPO_ROOT,
    logDir: join(REPO_ROOT, 'target', 'e2e', 'emulator'),
    ready: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', walkthrough()], {
    env: { PATH: process.env.PATH, EMU: emulator.match[1] },
  });
  assert.match(stdout, /^etag: W\/"datetime'/im);
  assert.match(stdout, /^operation: \/api\/publishers\/contoso\/offers\/contosovirtualmachine\/operations\/[0-9a-f-]+\?api-version=2017-10-31$/m);
  assert.match(stdout, /^running \[\('Validate Pre-Requisites', 'complete', 100\), \('Certification', 'inProgress', \d+\)/m);
  const requests = stdout.split('\n').filter((l) => /^(GET|POST) /.test(l));
  assert.deepEqual(requests.map((l) => l.replace(/operations\/[0-9a-f-]+/, 'operations/ID')), [
    'POST /my-tenant/oauth2/token 200',
    'GET /api/publishers/contoso/offers/contosovirtualmachine 200',
    'POST /api/publishers/contoso/offers/contosovirtualmachine/publish 202',
    'POST /my-tenant/oauth2/token 200',
    'GET /api/publishers/contoso/offers/contosovirtualmachine/operations/ID 200',
  ]);
  assert.doesNotMatch(stdout, /Bearer [0-9a-f]/, 'the walkthrough prints no token');
});
