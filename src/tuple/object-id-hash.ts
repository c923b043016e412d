/**
 * objectIdHash is the 32-bit FNV-1a hash of an object id's UTF-16 code units. It orders lookup
 * results (see the engine's lookup order) and the graph index keeps it for every object it knows,
 * so it must never change: cursors carry ids, and any server, of any version, must resume them.
 */
export function objectIdHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
