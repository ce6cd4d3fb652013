// The lossless JSON parser lives in @runts/core (state.json needs it too); re-exported here.
export { parseJsonLossless } from '@runts/core';
