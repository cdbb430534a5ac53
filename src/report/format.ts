// Number formatting for tables meant for people (the CSV files keep full precision).
const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const integer = (n: number): string => grouped.format(n);
/** 0.98765 -> "98.77%"; null (no labels to measure on) -> "-". */
export const percent = (fraction: number | null): string => (fraction === null ? '-' : `${(fraction * 100).toFixed(2)}%`);
/** Three significant digits, without exponent notation for everyday sizes. */
export const significant = (n: number): string => (n === 0 ? '0' : Number(n.toPrecision(3)).toString());
/** "+1.25", "-0.50", "+0.00". */
export const signed = (n: number, digits = 2): string => `${n >= 0 ? '+' : '-'}${Math.abs(n).toFixed(digits)}`;
export const signedInteger = (n: number): string => `${n >= 0 ? '+' : '-'}${integer(Math.abs(n))}`;
