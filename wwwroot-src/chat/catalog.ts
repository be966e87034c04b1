// The catalogue as the server sends it (/api/catalog, compact arrays) and its client-side model.

export const Caps = { Vision: 1, Tools: 2, Reasoning: 4 } as const;

export interface CatalogModel {
  id: number;
  modelId: string;
  name: string;
  caps: number;
  context: number | null;
  /** The most one reply may be asked for; null: unknown. */
  maxOutput: number | null;
  tier: string;
  locked: boolean;
  group: CatalogGroup;
  /** Lower-cased "id name provider" for search. */
  haystack: string;
}

export interface CatalogGroup {
  providerId: number;
  name: string;
  kind: "direct" | "aggregator";
  count: number;
  models: CatalogModel[];
}

export interface Catalog {
  tier: string;
  groups: CatalogGroup[];
  byId: Map<number, CatalogModel>;
}

type WireModel = [number, string, string, number, number | null, string, number, (number | null)?];
interface WireCatalog {
  tier: string;
  groups: { p: number; n: string; k: "direct" | "aggregator"; c: number; m: WireModel[] }[];
}

export async function loadCatalog(): Promise<Catalog> {
  // no-cache on the response: the browser revalidates with the ETag and usually gets a 304.
  const response = await fetch("/api/catalog", { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`The model list could not be loaded (${response.status}).`);
  return parseCatalog((await response.json()) as WireCatalog);
}

export function parseCatalog(wire: WireCatalog): Catalog {
  const byId = new Map<number, CatalogModel>();
  const groups = wire.groups.map((g) => {
    const group: CatalogGroup = { providerId: g.p, name: g.n, kind: g.k, count: g.c, models: [] };
    group.models = g.m.map(([id, modelId, name, caps, context, tier, locked, maxOutput]) => {
      const model: CatalogModel = {
        id, modelId, name, caps, context, maxOutput: maxOutput ?? null, tier, locked: locked === 1, group,
        haystack: `${modelId} ${name} ${g.n}`.toLowerCase(),
      };
      byId.set(id, model);
      return model;
    });
    return group;
  });
  return { tier: wire.tier, groups, byId };
}

export function formatContext(tokens: number | null): string | null {
  if (!tokens || tokens <= 0) return null;
  if (tokens >= 1_000_000) return `${+(tokens / 1_000_000).toFixed(1)}M`;
  if (tokens >= 1000) return `${Math.round(tokens / 1000)}k`;
  return `${tokens}`;
}
