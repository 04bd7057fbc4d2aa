import { KubernetesObject } from './store';
import { PrinterColumn, ResourceType } from './resources';

/**
 * Evaluates the JSONPath subset used by `additionalPrinterColumns`:
 * `.a.b`, `.a[*].b`, `.a[0]`, `.a[?(@.type=="Ready")].status`.
 */
export function evaluateJsonPath(obj: unknown, jsonPath: string): unknown[] {
  const tokens =
    jsonPath.match(/\.[^.[\]]+|\[\?\(@\.[^)]+\)\]|\[\*\]|\[\d+\]/g) ?? [];
  let current: unknown[] = [obj];
  for (const token of tokens) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === undefined || value === null) continue;
      if (token === '[*]') {
        if (Array.isArray(value)) next.push(...value);
      } else if (token.startsWith('[?(')) {
        const filter = /^\[\?\(@\.([\w.]+)\s*==\s*["']([^"']*)["']\)\]$/.exec(
          token,
        );
        if (filter && Array.isArray(value)) {
          next.push(
            ...value.filter(
              item =>
                String(
                  filter[1]
                    .split('.')
                    .reduce((v: any, k) => v?.[k], item as any),
                ) === filter[2],
            ),
          );
        }
      } else if (token.startsWith('[')) {
        if (Array.isArray(value)) next.push(value[Number(token.slice(1, -1))]);
      } else {
        next.push((value as Record<string, unknown>)[token.slice(1)]);
      }
    }
    current = next.filter(v => v !== undefined);
  }
  return current;
}

/** kubectl's short age format (`45s`, `12m`, `3h`, `5d`). */
export function humanAge(since: string | undefined, now = Date.now()): string {
  if (!since) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

function cellFor(
  type: ResourceType,
  column: PrinterColumn,
  obj: KubernetesObject,
): unknown {
  // kubectl shows a Deployment's READY as "ready/desired".
  if (type.kind === 'Deployment' && column.name === 'Ready') {
    return `${obj.status?.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`;
  }
  // kubectl shows an HPA's TARGETS as "current/target (avg)".
  if (type.kind === 'HorizontalPodAutoscaler' && column.name === 'Targets') {
    const metrics: any[] = obj.spec?.metrics ?? [];
    if (metrics.length === 0) return '<none>';
    return metrics
      .map((metric, i) => {
        const current =
          obj.status?.currentMetrics?.[i]?.external?.current?.averageValue ??
          '<unknown>';
        return `${current}/${
          metric.external?.target?.averageValue ?? '?'
        } (avg)`;
      })
      .join(', ');
  }
  if (type.kind === 'HorizontalPodAutoscaler' && column.name === 'Reference') {
    return `${obj.spec?.scaleTargetRef?.kind}/${obj.spec?.scaleTargetRef?.name}`;
  }
  // kubectl get events shows the object as kind/name.
  if (type.kind === 'Event' && column.name === 'Object') {
    return `${String(obj.involvedObject?.kind ?? '').toLowerCase()}/${
      obj.involvedObject?.name ?? ''
    }`;
  }
  if (type.kind === 'Event' && column.name === 'Last Seen') {
    return humanAge(obj.lastTimestamp ?? obj.metadata?.creationTimestamp);
  }
  const values = evaluateJsonPath(obj, column.jsonPath);
  if (values.length === 0) return column.type === 'integer' ? null : '';
  if (values.length === 1) {
    const v = values[0];
    return typeof v === 'object' ? JSON.stringify(v) : v;
  }
  return values
    .map(v => (typeof v === 'object' ? JSON.stringify(v) : v))
    .join(',');
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** A `meta.k8s.io/v1` Table, which kubectl asks for on `get`. */
export function toTable(
  type: ResourceType,
  objects: KubernetesObject[],
  includeObject: IncludeObject,
  resourceVersion?: string,
): KubernetesObject {
  const columns: PrinterColumn[] = [
    { name: 'Name', type: 'string', jsonPath: '.metadata.name' },
    ...type.printerColumns,
    { name: 'Age', type: 'string', jsonPath: '.metadata.creationTimestamp' },
  ];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: resourceVersion ? { resourceVersion } : {},
    columnDefinitions: columns.map(c => ({
      name: c.name,
      type: c.type === 'date' ? 'string' : c.type,
      format: c.name === 'Name' ? 'name' : '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map(obj => ({
      cells: [
        obj.metadata?.name,
        ...type.printerColumns.map(c => cellFor(type, c, obj)),
        humanAge(obj.metadata?.creationTimestamp),
      ],
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? obj
                : {
                    kind: 'PartialObjectMetadata',
                    apiVersion: 'meta.k8s.io/v1',
                    metadata: obj.metadata,
                  },
          }),
    })),
  };
}
