// Package graph: the graph index of the fast path (interned ids, posting sets, reverse index, nested-membership closure), loaded from the store and kept current from its watch.
export type { IdSet, Posting, GraphIndexView, GraphIndexStats } from "./graph-types.ts";
export type { GraphLogger, GraphIndexFollower, GraphIndexFollowerOptions } from "./graph-follower-types.ts";
export { startGraphIndexFollower } from "./graph-index-follower.ts";
export { buildGraphIndex } from "./load-graph-index.ts";
export type { LoadGraphIndexOptions } from "./load-graph-index.ts";
export { BitmapSet } from "./bitmap-set.ts";
