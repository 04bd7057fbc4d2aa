/** One requirement of a Kubernetes label selector. */
export type LabelRequirement =
  | { key: string; operator: '=' | '!='; value: string }
  | { key: string; operator: 'in' | 'notin'; values: string[] }
  | { key: string; operator: 'exists' | '!exists' };

/** A label selector string could not be parsed. */
export class LabelSelectorSyntaxError extends Error {}

const KEY =
  /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?)$/;

/** Splits on commas that are not inside `( … )`. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map(t => t.trim()).filter(t => t.length > 0);
}

function checkKey(key: string, term: string) {
  if (!KEY.test(key)) {
    throw new LabelSelectorSyntaxError(
      `'${key}' in '${term}' is not a valid label key`,
    );
  }
  return key;
}

function checkValue(value: string, term: string) {
  if (!VALUE.test(value) || value.length > 63) {
    throw new LabelSelectorSyntaxError(
      `'${value}' in '${term}' is not a valid label value`,
    );
  }
  return value;
}

/**
 * Parses the Kubernetes label selector syntax the Kubernetes plugin accepts
 * in `backstage.io/kubernetes-label-selector`: `k=v`, `k==v`, `k!=v`,
 * `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma-separated (AND).
 */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  return splitTerms(selector).map(term => {
    let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (m) {
      const values = m[3].split(',').map(v => checkValue(v.trim(), term));
      return {
        key: checkKey(m[1], term),
        operator: m[2] as 'in' | 'notin',
        values,
      };
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m) {
      return {
        key: checkKey(m[1], term),
        operator: m[2] === '!=' ? '!=' : '=',
        value: checkValue(m[3], term),
      };
    }
    m = /^(!?)\s*([^=!\s]+)$/.exec(term);
    if (m) {
      return {
        key: checkKey(m[2], term),
        operator: m[1] ? '!exists' : 'exists',
      };
    }
    throw new LabelSelectorSyntaxError(
      `'${term}' is not a label selector term`,
    );
  });
}

/** True when `labels` satisfy every requirement (an empty selector matches everything). */
export function matchesLabelSelector(
  requirements: LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  return requirements.every(r => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.operator) {
      case '=':
        return has && l[r.key] === r.value;
      case '!=':
        return !has || l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
      case 'exists':
        return has;
      case '!exists':
        return !has;
      default:
        return false;
    }
  });
}
