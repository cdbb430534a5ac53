// The config's budgets checked against measured figures. A null limit is not checked.
import type { BudgetsConfig } from '../config/types.js';

export interface BudgetCheck {
  name: keyof BudgetsConfig;
  limit: number;
  actual: number;
  ok: boolean;
}

export interface Measured {
  flashBytes: number;
  ramBytes: number;
  accuracy: number;
  instructionsPerInference: number;
  latencyMs: number;
}

export function checkBudgets(budgets: BudgetsConfig, m: Measured): BudgetCheck[] {
  const checks: BudgetCheck[] = [];
  const atMost = (name: keyof BudgetsConfig, actual: number) => {
    const limit = budgets[name];
    if (limit !== null) checks.push({ name, limit, actual, ok: actual <= limit });
  };
  atMost('flashBytes', m.flashBytes);
  atMost('ramBytes', m.ramBytes);
  if (budgets.minAccuracy !== null) {
    checks.push({ name: 'minAccuracy', limit: budgets.minAccuracy, actual: m.accuracy, ok: m.accuracy >= budgets.minAccuracy });
  }
  atMost('maxInstructionsPerInference', m.instructionsPerInference);
  atMost('maxLatencyMs', m.latencyMs);
  return checks;
}

export function describeBudget(b: BudgetCheck): string {
  const fmt = (n: number) => (b.name === 'minAccuracy' ? `${(n * 100).toFixed(2)}%` : b.name === 'maxLatencyMs' ? `${n.toFixed(3)} ms` : String(Math.round(n)));
  const relation = b.name === 'minAccuracy' ? 'at least' : 'at most';
  return `${b.name}: ${fmt(b.actual)} (${relation} ${fmt(b.limit)}) ${b.ok ? 'ok' : 'EXCEEDED'}`;
}
