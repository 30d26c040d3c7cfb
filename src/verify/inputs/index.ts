// The four checks of a candidate's inputs, each a few reads of the context and no analysis: who
// proposes it (origin), which policy applies (policy), the source bundle (source), and the code
// at the pinned block (implementation-code). None can be made advisory (MANDATORY_CHECKS). One
// folder for the four: each is one small Check with neither report types nor errors of its own.
export { implementationCodeCheck, MAX_PINNED_BLOCK_AGE_SECONDS } from "./implementationCode.ts";
export { originCheck } from "./origin.ts";
export { policyCheck } from "./policy.ts";
export { sourceCheck } from "./source.ts";
