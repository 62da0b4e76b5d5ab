// No secret anywhere: the functions sign in to Entra ID with a web identity token of their AWS role
// (the emulator's STS stand-in), trusted by a federated credential on the app. A publication goes to
// live on each API; no function was given a secret, and no log shows a token or an assertion.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { planVersions } from './lib/emulator.mjs';
import { events, testLogsCarryNoSecrets, useStack } from './lib/fixture.mjs';
import { PLAN, PUBLISHER, testOffer } from './lib/offers.mjs';
import { manifest } from './lib/pipeline.mjs';
import { PI_PLAN, productVersions, testProduct } from './lib/products.mjs';

const e2e = useStack('federation', { credential: 'awsFederation' });

test('with CPP_CREDENTIAL=awsFederation and no secret, a CPP offer and a Partner Center offer each go live', async () => {
  const { stack, pipeline } = e2e;
  for (const fn of Object.values(stack.functions)) assert.ok(!('CPP_CLIENT_SECRET' in (fn.env ?? {})), 'no function has a secret');
  await stack.emulator.seedOffer(testOffer('fed-cpp', ['1.0.0']));
  const cpp = await pipeline.publish(manifest({ offerId: 'fed-cpp', version: '1.1.0', goLive: 'auto' }));
  assert.equal(cpp.status, 'SUCCEEDED', `${cpp.error}: ${cpp.cause}`);
  assert.deepEqual(events(cpp), ['previewReady', 'live']);
  assert.deepEqual(planVersions((await stack.emulator.offer(PUBLISHER, 'fed-cpp')).production, PLAN), ['1.0.0', '1.1.0']);

  await stack.emulator.seedProduct(testProduct('fed-pi', ['1.0.0']));
  const { publisherId: _, ...pi } = manifest({ offerId: 'fed-pi', planId: PI_PLAN, version: '1.1.0', goLive: 'auto', api: 'productIngestion' });
  const run = await pipeline.publish(pi);
  assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
  assert.deepEqual(productVersions((await stack.emulator.product('fed-pi')).live), ['1.0.0', '1.1.0']);

  const tokens = [...cpp.requests, ...run.requests].filter((r) => r.path.includes('/oauth2/'));
  assert.ok(tokens.length > 0 && tokens.every((r) => r.path.endsWith('/oauth2/v2.0/token')), 'only v2, with assertions');
  assert.ok(tokens.every((r) => r.body.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && !('client_secret' in r.body)));
});

testLogsCarryNoSecrets(e2e);
