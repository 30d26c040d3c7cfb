// A node's consensus path (gossip validation, aggregation, relaying) is short and latency-bound;
// verification is long and CPU-bound. Where they share CPUs, the OS should run the first at once:
// the node's verification thread asks for a lower scheduling priority (a higher nice value).
// On Linux the threads it starts (solc workers) and the processes it spawns (shadow forks)
// inherit that value, so nothing else needs to ask. Lowering one's own priority needs no
// privilege. Elsewhere than Linux, or if the OS refuses, verification runs at normal priority.
// The thread itself asks, with lowerThisThreadPriority (src/util/priority.ts).

/**
 * The nice value a node gives its verification work (0 normal, 19 lowest). The lowest: where
 * many nodes share CPUs, their verification threads together outweigh one node's main thread
 * at any higher value (30 threads at nice 10 weigh about three times one at nice 0; at nice 19,
 * under half). Since verdicts go to three aggregators instead of every node, the main threads
 * have little work to take from verification in return.
 */
export const VERIFICATION_NICENESS = 19;
