// Offers seeded into the emulator, shaped like tests/harness/src/lib.rs `test_offer`: a VM offer
// with fields the code has never seen at every level, which must survive every write.
import { sasUrl } from './pipeline.mjs';

export const PUBLISHER = 'contoso';
export const PLAN = 'gen2';

/** The offer `offerId` with `versions` in plan gen2 (images named like their version) and a second plan. */
export function testOffer(offerId, versions) {
  const images = Object.fromEntries(
    versions.map((v) => [v, { osVhdUrl: sasUrl(`${offerId}-${v}`), lunVhdDetails: [], mediaName: `media-${v}` }]),
  );
  return {
    publisherId: PUBLISHER,
    offerTypeId: 'microsoft-azure-virtualmachines',
    id: offerId,
    offerTypeVersions: { 'microsoft-azure-virtualmachines': 87, 'microsoft-azure-marketplace': 39 },
    pcMigrationStatus: 'none',
    isvUpgradeRequest: false,
    definition: {
      displayText: 'Contoso Linux',
      offer: {
        'microsoft-azure-marketplace.title': 'Contoso Linux — «ünïcode»',
        'microsoft-azure-marketplace.leadDestination': 'None',
        'microsoft-azure-marketplace.tableLeadConfiguration': {},
        'microsoft-azure-marketplace.categoryMap': [{ categoryL1: 'compute', 'categoryL2-compute': ['operating-systems'] }],
      },
      plans: [
        {
          planId: 'gen1',
          'microsoft-azure-virtualmachines.skuTitle': 'Gen 1',
          'microsoft-azure-virtualmachines.vmImages': {
            '0.9.0': { osVhdUrl: sasUrl(`${offerId}-gen1-0.9.0`), lunVhdDetails: [] },
          },
          virtualMachinePricing: { isByol: true, freeTrialDurationInMonths: 0 },
          regions: ['US', 'DE'],
        },
        {
          planId: PLAN,
          'microsoft-azure-virtualmachines.skuTitle': 'Gen 2',
          'microsoft-azure-virtualmachines.hideSKUForSolutionTemplate': false,
          'microsoft-azure-virtualmachines.vmImages': images,
          virtualMachinePricingV2: { isByol: true, price: 0.125 },
          regions: ['US'],
        },
      ],
    },
  };
}
