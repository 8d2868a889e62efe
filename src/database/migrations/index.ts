import { CreateMessages1763780000000 } from './1763780000000-CreateMessages';
import { CreateMessageEvents1763790000000 } from './1763790000000-CreateMessageEvents';
import { CreateCallbacks1763800000000 } from './1763800000000-CreateCallbacks';
import { CreatePlayerPresence1763810000000 } from './1763810000000-CreatePlayerPresence';
import { CreateSupportStatusIndex1763820000000 } from './1763820000000-CreateSupportStatusIndex';
import { CreateExpiresAtIndex1763830000000 } from './1763830000000-CreateExpiresAtIndex';
import { CreateClaimCallbacksFunction1763840000000 } from './1763840000000-CreateClaimCallbacksFunction';
import { AddBrands1764720000000 } from './1764720000000-AddBrands';
import { BrandPlayerIndexes1764720000001 } from './1764720000001-BrandPlayerIndexes';
import { CreateRateLimits1764800000000 } from './1764800000000-CreateRateLimits';
import { InboxFeatures1765000000000 } from './1765000000000-InboxFeatures';
import { VoidMessages1765100000000 } from './1765100000000-VoidMessages';
import { GroupIndex1765100000001 } from './1765100000001-GroupIndex';
import { Suppression1765200000000 } from './1765200000000-Suppression';
import { OperatorActions1765300000000 } from './1765300000000-OperatorActions';

/** Every migration, in order. Classes (not globs) so they load from dist/ and under jest alike. */
export const migrations = [
  CreateMessages1763780000000,
  CreateMessageEvents1763790000000,
  CreateCallbacks1763800000000,
  CreatePlayerPresence1763810000000,
  CreateSupportStatusIndex1763820000000,
  CreateExpiresAtIndex1763830000000,
  CreateClaimCallbacksFunction1763840000000,
  AddBrands1764720000000,
  BrandPlayerIndexes1764720000001,
  CreateRateLimits1764800000000,
  InboxFeatures1765000000000,
  VoidMessages1765100000000,
  GroupIndex1765100000001,
  Suppression1765200000000,
  OperatorActions1765300000000,
];
