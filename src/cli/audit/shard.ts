/**
 * `--shard K/N`: image i of the sorted collection belongs to shard i mod N (K counts from 0, as
 * Kubernetes' JOB_COMPLETION_INDEX and a Slurm array 0-(N-1) do). Round robin rather than blocks,
 * so a collection sorted into one folder per class spreads every class over every shard.
 */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard | null {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) return null;
  return { index, count };
}

export function inShard<T>(items: T[], shard: Shard | undefined): T[] {
  if (!shard) return items;
  return items.filter((_, i) => i % shard.count === shard.index);
}
