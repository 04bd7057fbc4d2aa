import { badRequest } from './errors';

/** One requirement of a label selector (`app in (a,b)`, `!tier`, `env=prod`). */
export interface LabelRequirement {
  key: string;
  operator: 'in' | 'notin' | 'exists' | 'doesnotexist';
  values: string[];
}

/** Splits on commas that are not inside `( … )`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map(p => p.trim()).filter(Boolean);
}

/**
 * Parses the label selector grammar of `k8s.io/apimachinery/pkg/labels`:
 * `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
 */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  for (const part of splitTopLevel(selector)) {
    let match = /^!\s*([^\s=!(),]+)$/.exec(part);
    if (match) {
      requirements.push({
        key: match[1],
        operator: 'doesnotexist',
        values: [],
      });
      continue;
    }
    match = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (match) {
      requirements.push({
        key: match[1],
        operator: match[2] as 'in' | 'notin',
        values: match[3]
          .split(',')
          .map(v => v.trim())
          .filter(v => v !== ''),
      });
      continue;
    }
    match = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(part);
    if (match) {
      requirements.push({
        key: match[1],
        operator: match[2] === '!=' ? 'notin' : 'in',
        values: [match[3]],
      });
      continue;
    }
    match = /^([^\s=!(),]+)$/.exec(part);
    if (match) {
      requirements.push({ key: match[1], operator: 'exists', values: [] });
      continue;
    }
    throw badRequest(
      `unable to parse requirement: invalid label selector "${selector}" near "${part}"`,
    );
  }
  return requirements;
}

export function matchesLabelSelector(
  labels: Record<string, string> | undefined,
  requirements: LabelRequirement[],
): boolean {
  const actual = labels ?? {};
  return requirements.every(req => {
    const has = Object.prototype.hasOwnProperty.call(actual, req.key);
    switch (req.operator) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && req.values.includes(actual[req.key]);
      case 'notin':
        return !has || !req.values.includes(actual[req.key]);
      default:
        return false;
    }
  });
}

/** A label selector object (`matchLabels` + `matchExpressions`) as a string. */
export function formatLabelSelector(selector: {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    key: string;
    operator: string;
    values?: string[];
  }>;
}): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(
    ([k, v]) => `${k}=${v}`,
  );
  for (const expr of selector.matchExpressions ?? []) {
    const op = expr.operator.toLowerCase();
    if (op === 'exists') parts.push(expr.key);
    else if (op === 'doesnotexist') parts.push(`!${expr.key}`);
    else parts.push(`${expr.key} ${op} (${(expr.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

export interface FieldRequirement {
  path: string[];
  negate: boolean;
  value: string;
}

/**
 * Parses a field selector (`metadata.name=x,involvedObject.kind!=Pod`).
 * The real server allows a fixed set of fields per resource; the stand-in
 * accepts any dotted path, which is a superset of what clients send.
 */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  return splitTopLevel(selector).map(part => {
    const match = /^([A-Za-z0-9_.-]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!match) {
      throw badRequest(
        `invalid field selector "${selector}": expected <field>=<value> or <field>!=<value> near "${part}"`,
      );
    }
    return {
      path: match[1].split('.'),
      negate: match[2] === '!=',
      value: match[3],
    };
  });
}

export function matchesFieldSelector(
  obj: Record<string, any>,
  requirements: FieldRequirement[],
): boolean {
  return requirements.every(req => {
    let value: any = obj;
    for (const key of req.path) value = value?.[key];
    const actual = value === undefined || value === null ? '' : String(value);
    return req.negate ? actual !== req.value : actual === req.value;
  });
}
