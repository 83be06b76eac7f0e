// audit's flood lines: the groups over --max-per-group, and the containers `reap` would stop, each
// with its rule and figures. Text under the table, and a "floods" key in the JSON document.
import type { ReapPlan } from '../decide/reap.ts';
import { oneLine } from './table.ts';

export function floodsDocument(plan: ReapPlan) {
  return {
    groups: plan.floods,
    wouldStop: plan.stop.map((d) => ({ container: d.name, containerId: d.id, rule: d.rule, reason: d.reason, ...d.figures })),
    keptByLabel: plan.kept.map((d) => ({ container: d.name, containerId: d.id, rule: d.rule, reason: d.reason })),
    problems: plan.problems.map((p) => ({ container: p.name, containerId: p.id, reason: p.reason })),
  };
}

export function floodsText(plan: ReapPlan): string {
  if (plan.floods.length + plan.stop.length + plan.kept.length + plan.problems.length === 0) return '';
  const out = ['', 'FLOODS (what `pidwarden reap` would stop with these settings)'];
  for (const g of plan.floods) out.push(`  GROUP   ${oneLine(g.group)}: ${g.size} running > max-per-group ${g.max}`);
  for (const d of plan.stop) out.push(`  ${d.rule.toUpperCase().padEnd(6)}  ${d.name}: ${oneLine(d.reason)}`);
  for (const d of plan.kept) out.push(`  KEPT    ${d.name}: ${oneLine(d.reason)} (label pidwarden.reap=false)`);
  for (const p of plan.problems) out.push(`  !       ${p.name}: ${oneLine(p.reason)}`);
  return out.join('\n') + '\n';
}
