// Which containers cleanup and monitor may act on. Only those the operator chose: --container,
// --label, --all, or, with none of these, the containers labelled pidwarden.enable=true (autoheal's
// convention). --exclude and a pidwarden.enable=false label always win, even over --container.
// Audit looks at every running container (it only reads), less the --exclude'd ones.
import type { Settings } from '../cli/settings.ts';
import { ENABLE_LABEL, enablement } from '../decide/enable-label.ts';
import type { Engine } from '../engine/client.ts';
import { selectContainers, type ContainerInfo, type Selection } from '../engine/containers.ts';

export interface ActSelection {
  infos: ContainerInfo[];
  /** No --container, --label or --all: the opt-in label chose. */
  implicit: boolean;
  /** Chosen, then left out, each with the reason (--exclude, pidwarden.enable=false). */
  excluded: { info: ContainerInfo; why: string }[];
}

export function isExplicit(s: Settings): boolean {
  return s.containers.length > 0 || s.labels.length > 0 || s.all;
}

/** The engine query: explicit flags as given, else the opt-in label. */
export function actSelection(s: Settings): Selection {
  return isExplicit(s) ? { containers: s.containers, labels: s.labels } : { containers: [], labels: [`${ENABLE_LABEL}=true`] };
}

/** --exclude NAME|ID: a name exactly, or an ID or an ID prefix of 4 or more hex digits. */
export function excludedBy(info: ContainerInfo, refs: string[]): string | null {
  for (const ref0 of refs) {
    const ref = ref0.replace(/^\//, '');
    if (info.name === ref || (/^[0-9a-f]{4,64}$/.test(ref) && info.id.startsWith(ref))) return `--exclude ${ref0}`;
  }
  return null;
}

/** Why this container must be left alone whatever else selected it, or null. */
export function leftOutBecause(info: ContainerInfo, s: Settings): string | null {
  const byFlag = excludedBy(info, s.exclude);
  if (byFlag) return byFlag;
  return enablement(info.labels) === 'disabled' ? `label ${ENABLE_LABEL}=false` : null;
}

export async function selectToAct(engine: Engine, s: Settings): Promise<ActSelection> {
  const chosen = await selectContainers(engine, actSelection(s));
  const infos: ContainerInfo[] = [];
  const excluded: ActSelection['excluded'] = [];
  for (const info of chosen) {
    const why = leftOutBecause(info, s);
    if (why) excluded.push({ info, why });
    else infos.push(info);
  }
  return { infos, implicit: !isExplicit(s), excluded };
}
