// Initializers in an upgrade: which external functions the source guards with OZ's `initializer` /
// `reinitializer(n)` and where its Initializable keeps its version (ast.ts); the proxy's
// Initializable state at the pinned block, and which removed functions are initializers that can
// only revert on it (proxyState.ts). The bytecode check uses it to tell a removed capability from
// a dead initializer; the upgrade-safety check to judge upgrades-core's deployment rules in the
// context of the proxy being upgraded.
export { initializableLayout, initializerGuards, INITIALIZABLE_V5_SLOT, type InitializableLayout, type InitializerGuard } from "./ast.ts";
export { deadInitializers, proxyInitializable, type DeadInitializer, type ProxyInitializable } from "./proxyState.ts";
