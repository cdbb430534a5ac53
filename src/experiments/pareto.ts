// Pareto optimality of accuracy (higher is better) against one cost (lower is better).

export interface Objective<T> {
  benefit: (item: T) => number;
  cost: (item: T) => number;
}

/**
 * For each item, whether no other item is at least as good on both objectives and strictly better
 * on one. Items with equal benefit and cost do not dominate each other: both stay on the front.
 */
export function paretoFlags<T>(items: readonly T[], { benefit, cost }: Objective<T>): boolean[] {
  return items.map((item) =>
    !items.some(
      (other) =>
        benefit(other) >= benefit(item) &&
        cost(other) <= cost(item) &&
        (benefit(other) > benefit(item) || cost(other) < cost(item)),
    ),
  );
}

/** The Pareto-optimal items, cheapest first (so also least accurate first). */
export function paretoFront<T>(items: readonly T[], objective: Objective<T>): T[] {
  const flags = paretoFlags(items, objective);
  return items
    .filter((_, i) => flags[i])
    .sort((a, b) => objective.cost(a) - objective.cost(b) || objective.benefit(a) - objective.benefit(b));
}
