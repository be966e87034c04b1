// Recently used and pinned models, per browser (localStorage; failures are harmless).

const RecentKey = "aggregator.chat.recentModels";
const PinnedKey = "aggregator.chat.pinnedModels";
const MaxRecent = 5;

function read(key: string): number[] {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? "[]");
    return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
  } catch {
    return [];
  }
}

function write(key: string, ids: number[]): void {
  try {
    localStorage.setItem(key, JSON.stringify(ids));
  } catch {
    /* private mode or full storage: preferences just do not persist */
  }
}

export const recentModels = (): number[] => read(RecentKey);
export const pinnedModels = (): number[] => read(PinnedKey);

export function rememberModel(id: number): void {
  write(RecentKey, [id, ...recentModels().filter((x) => x !== id)].slice(0, MaxRecent));
}

export function togglePinned(id: number): boolean {
  const pinned = pinnedModels();
  const isPinned = pinned.includes(id);
  write(PinnedKey, isPinned ? pinned.filter((x) => x !== id) : [...pinned, id]);
  return !isPinned;
}
