/** A generic-pool factory (create/destroy/validate) that records what happened, for the adapter's tests. */
export interface Item {
  readonly id: number;
  destroyed: boolean;
}

export function itemFactory(options: { failFirst?: number; valid?: (item: Item) => unknown } = {}) {
  let attempts = 0;
  let next = 0;
  const created: Item[] = [];
  const destroyed: Item[] = [];
  const validated: Item[] = [];
  const factory = {
    create: async (): Promise<Item> => {
      attempts++;
      if (attempts <= (options.failFirst ?? 0)) throw new Error(`create failed (${attempts})`);
      const item = { id: next++, destroyed: false };
      created.push(item);
      return item;
    },
    destroy: async (item: Item): Promise<void> => {
      item.destroyed = true;
      destroyed.push(item);
    },
    validate: async (item: Item): Promise<boolean> => {
      validated.push(item);
      return (options.valid ? options.valid(item) : true) as boolean;
    },
  };
  return {
    factory,
    created,
    destroyed,
    validated,
    get attempts() {
      return attempts;
    },
  };
}
