import { CreateSchema1795766400000 } from './1795766400000-CreateSchema';
import { AddPriceBookHistory1795770000000 } from './1795770000000-AddPriceBookHistory';
import { AddTagRollup1795773600000 } from './1795773600000-AddTagRollup';
import { RekeyRollupsWithoutUser1795777200000 } from './1795777200000-RekeyRollupsWithoutUser';
import { CreateBudgets1795780800000 } from './1795780800000-CreateBudgets';
import { AddAlertsAndWebhooks1795784400000 } from './1795784400000-AddAlertsAndWebhooks';
import { AddServerSecrets1795788000000 } from './1795788000000-AddServerSecrets';
import { AddPartialPricingAndImagePrices1795791600000 } from './1795791600000-AddPartialPricingAndImagePrices';
import { EncryptSecretsAtRest1795795200000 } from './1795795200000-EncryptSecretsAtRest';
import { AddKeyProjectScope1795798800000 } from './1795798800000-AddKeyProjectScope';
import { AddUserDailyRollupAndLatency1795800600000 } from './1795800600000-AddUserDailyRollupAndLatency';
import { PartitionUsageEventsByMonth1795804200000 } from './1795804200000-PartitionUsageEventsByMonth';
import { AddProviderReportedCost1795807800000 } from './1795807800000-AddProviderReportedCost';
import { AddClosedPeriodsAndCostCenters1795811400000 } from './1795811400000-AddClosedPeriodsAndCostCenters';
import { AddReconciliation1795815000000 } from './1795815000000-AddReconciliation';

/** Every migration, oldest first. Listed, not globbed, so builds and tests load the same set. */
export const MIGRATIONS = [
  CreateSchema1795766400000,
  AddPriceBookHistory1795770000000,
  AddTagRollup1795773600000,
  RekeyRollupsWithoutUser1795777200000,
  CreateBudgets1795780800000,
  AddAlertsAndWebhooks1795784400000,
  AddServerSecrets1795788000000,
  AddPartialPricingAndImagePrices1795791600000,
  EncryptSecretsAtRest1795795200000,
  AddKeyProjectScope1795798800000,
  AddUserDailyRollupAndLatency1795800600000,
  PartitionUsageEventsByMonth1795804200000,
  AddProviderReportedCost1795807800000,
  AddClosedPeriodsAndCostCenters1795811400000,
  AddReconciliation1795815000000,
];
