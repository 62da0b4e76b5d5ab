// Product Ingestion offers seeded into the emulator: a VM product with one plan of one image
// type, shaped like what Partner Center returns (docs/ingestion-api.md), fields included that the
// code never reads, and the property resource on the legacy schema host.
import { randomUUID } from 'node:crypto';

import { sasUrl } from './pipeline.mjs';

export const PI_PLAN = 'gen2';
const HOST = 'https://schema.mp.microsoft.com/schema';
const LEGACY_HOST = 'https://product-ingestion.azureedge.net/schema';

/** A resource tree for product `offerId` whose plans (gen2 unless `plans` says) hold `versions` in their draft. */
export function testProduct(offerId, versions, { plans = [PI_PLAN] } = {}) {
  const p = randomUUID();
  const product = `product/${p}`;
  const planResources = plans.flatMap((planId) => {
    const l = randomUUID();
    const plan = `plan/${p}/${l}`;
    return [
      { $schema: `${HOST}/plan/2022-03-01-preview2`, id: plan, product, identity: { externalId: planId }, alias: planId, azureRegions: ['azureGlobal'] },
      {
        $schema: `${HOST}/virtual-machine-plan-technical-configuration/2022-03-01-preview5`,
        id: `virtual-machine-plan-technical-configuration/${p}/${l}`,
        product,
        plan,
        operatingSystem: { family: 'linux', type: 'other', friendlyName: 'Contoso Linux' },
        recommendedVmSizes: ['d2s-standard-v5'],
        openPorts: [],
        vmProperties: { supportsExtensions: true, supportsCloudInit: true, x_unknownFlag: true },
        skus: [{ skuId: `${offerId}-${planId}`, imageType: 'x64Gen2', securityType: ['trusted'] }],
        vmImageVersions: versions.map((v) => ({
          versionNumber: v,
          lifecycleState: 'generallyAvailable',
          vmImages: [{ imageType: 'x64Gen2', source: { sourceType: 'sasUri', osDisk: { uri: sasUrl(`${offerId}-${v}`) }, dataDisks: [] } }],
        })),
      },
    ];
  });
  return {
    $schema: `${HOST}/resource-tree/2022-03-01-preview2`,
    root: product,
    target: { targetType: 'draft' },
    resources: [
      { $schema: `${HOST}/product/2022-03-01-preview3`, id: product, identity: { externalId: offerId }, type: 'azureVirtualMachine', alias: 'Contoso Linux — «ünïcode»' },
      { $schema: `${LEGACY_HOST}/property/2022-03-01-preview2`, id: `property/${p}/public/main`, product, kind: 'azureVM', termsOfUseUrl: 'https://contoso.example/terms', categories: { compute: ['operating-systems'] } },
      ...planResources,
      { $schema: `${HOST}/reseller/2022-03-01-preview2`, id: `reseller/${p}`, product, resellerChannelState: 'notSet', audiences: [] },
      { $schema: `${HOST}/submission/2022-03-01-preview2`, id: `submission/${p}/0`, product, target: { targetType: 'draft' }, lifecycleState: 'generallyAvailable' },
    ],
  };
}

/** Version numbers of a plan's technical configuration (gen2 unless named) in a resource tree. */
export function productVersions(tree, planId = PI_PLAN) {
  const plan = tree?.resources?.find((r) => r.id.startsWith('plan/') && r.identity?.externalId === planId);
  const config = tree?.resources?.find((r) => r.plan === plan?.id && Array.isArray(r.vmImageVersions));
  return (config?.vmImageVersions ?? []).map((v) => v.versionNumber);
}
