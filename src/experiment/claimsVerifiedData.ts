/** claims.verified.json as the page reads it: written by `npm run claims -- --check` only, checked on load. */
import file from './claims.verified.json';
import { verifiedFileSchema, type VerifiedFile } from './claimsVerified';

export const VERIFIED: VerifiedFile = verifiedFileSchema.parse(file);
