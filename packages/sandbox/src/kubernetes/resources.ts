import fs from 'node:fs';
import path from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { StatusCause } from './errors';

/** A printer column, as in a CRD's `additionalPrinterColumns`. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** The `/scale` subresource mapping (CRD `subresources.scale` shape). */
export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** One REST resource served by the stand-in, in one group/version. */
export interface ResourceType {
  /** '' for the core (legacy) group. */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: { status: boolean; scale?: ScaleSubresource };
  printerColumns: PrinterColumn[];
  /** Schema validation (CRDs only): field-level causes, empty when valid. */
  validate?: (obj: unknown) => StatusCause[];
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** `deployments.apps`, `events`: the key kubectl and error messages use. */
export function resourceKey(type: Pick<ResourceType, 'plural' | 'group'>) {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

const VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

function builtin(
  partial: Omit<
    ResourceType,
    'listKind' | 'singular' | 'shortNames' | 'categories' | 'subresources'
  > &
    Partial<ResourceType>,
): ResourceType {
  return {
    listKind: `${partial.kind}List`,
    singular: partial.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    subresources: { status: false },
    ...partial,
  };
}

/**
 * The built-in resources the KEDA journey touches (with pods and replica
 * sets, which the stand-in simulates for Deployments). Everything else
 * answers 404 unless added (see KUBERNETES_PLUGIN_EXTRA_RESOURCES).
 */
export const BUILTIN_RESOURCES: ResourceType[] = [
  builtin({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
    subresources: { status: true },
    printerColumns: [
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
    ],
  }),
  builtin({
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
    shortNames: ['sa'],
    printerColumns: [],
  }),
  builtin({
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
    printerColumns: [
      { name: 'Last Seen', type: 'string', jsonPath: '.lastTimestamp' },
      { name: 'Type', type: 'string', jsonPath: '.type' },
      { name: 'Reason', type: 'string', jsonPath: '.reason' },
      { name: 'Object', type: 'string', jsonPath: '.involvedObject.name' },
      { name: 'Message', type: 'string', jsonPath: '.message' },
    ],
  }),
  builtin({
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    namespaced: true,
    shortNames: ['cm'],
    printerColumns: [],
  }),
  builtin({
    group: '',
    version: 'v1',
    kind: 'Secret',
    plural: 'secrets',
    namespaced: true,
    printerColumns: [{ name: 'Type', type: 'string', jsonPath: '.type' }],
  }),
  builtin({
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: { status: true },
    printerColumns: [
      { name: 'Status', type: 'string', jsonPath: '.status.phase' },
      { name: 'Node', type: 'string', jsonPath: '.spec.nodeName' },
    ],
  }),
  builtin({
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: {
      status: true,
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
      },
    },
    printerColumns: [
      { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Current', type: 'integer', jsonPath: '.status.replicas' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
    ],
  }),
  builtin({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: {
      status: true,
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    },
    printerColumns: [
      { name: 'Ready', type: 'string', jsonPath: '.status.readyReplicas' },
      {
        name: 'Up-to-date',
        type: 'integer',
        jsonPath: '.status.updatedReplicas',
      },
      {
        name: 'Available',
        type: 'integer',
        jsonPath: '.status.availableReplicas',
      },
    ],
  }),
  builtin({
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: { status: true },
    printerColumns: [
      {
        name: 'Reference',
        type: 'string',
        jsonPath: '.spec.scaleTargetRef.name',
      },
      { name: 'Targets', type: 'string', jsonPath: '.status.currentMetrics' },
      { name: 'MinPods', type: 'integer', jsonPath: '.spec.minReplicas' },
      { name: 'MaxPods', type: 'integer', jsonPath: '.spec.maxReplicas' },
      {
        name: 'Replicas',
        type: 'integer',
        jsonPath: '.status.currentReplicas',
      },
    ],
  }),
];

/**
 * The other object types the Backstage Kubernetes plugin fetches by default
 * (services, limitranges, resourcequotas, persistentvolumes, statefulsets,
 * daemonsets, jobs, cronjobs, ingresses). Served only with the stand-in's
 * `kubernetesPluginObjectTypes` option, so that by default a client can
 * still meet an API the cluster does not serve.
 */
export const KUBERNETES_PLUGIN_EXTRA_RESOURCES: ResourceType[] = [
  builtin({
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: { status: true },
    printerColumns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'Cluster-IP', type: 'string', jsonPath: '.spec.clusterIP' },
    ],
  }),
  builtin({
    group: '',
    version: 'v1',
    kind: 'LimitRange',
    plural: 'limitranges',
    namespaced: true,
    shortNames: ['limits'],
    printerColumns: [],
  }),
  builtin({
    group: '',
    version: 'v1',
    kind: 'ResourceQuota',
    plural: 'resourcequotas',
    namespaced: true,
    shortNames: ['quota'],
    subresources: { status: true },
    printerColumns: [],
  }),
  builtin({
    group: '',
    version: 'v1',
    kind: 'PersistentVolume',
    plural: 'persistentvolumes',
    namespaced: false,
    shortNames: ['pv'],
    subresources: { status: true },
    printerColumns: [],
  }),
  builtin({
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    subresources: {
      status: true,
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
      },
    },
    printerColumns: [],
  }),
  builtin({
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    subresources: { status: true },
    printerColumns: [],
  }),
  builtin({
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    namespaced: true,
    categories: ['all'],
    subresources: { status: true },
    printerColumns: [],
  }),
  builtin({
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
    subresources: { status: true },
    printerColumns: [],
  }),
  builtin({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    namespaced: true,
    shortNames: ['ing'],
    subresources: { status: true },
    printerColumns: [],
  }),
];

/**
 * Removes the Kubernetes vendor extensions (`x-kubernetes-*`) that ajv does
 * not know, keeping the structural schema itself.
 */
export function stripKubernetesExtensions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(stripKubernetesExtensions);
  if (schema && typeof schema === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key.startsWith('x-kubernetes-')) continue;
      out[key] = stripKubernetesExtensions(value);
    }
    return out;
  }
  return schema;
}

/** ajv's instancePath `/spec/triggers/0/type` → Kubernetes' `spec.triggers[0].type`. */
function toFieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  let field = '';
  for (const part of parts) {
    if (/^\d+$/.test(part)) field += `[${part}]`;
    else field += field ? `.${part}` : part;
  }
  if (extra) field = field ? `${field}.${extra}` : extra;
  return field || '<root>';
}

function compileCrdValidator(
  ajv: Ajv,
  schema: unknown,
): (obj: unknown) => StatusCause[] {
  const validate: ValidateFunction = ajv.compile(
    stripKubernetesExtensions(schema) as object,
  );
  return obj => {
    if (validate(obj)) return [];
    return (validate.errors ?? []).map(err => {
      if (err.keyword === 'required') {
        const missing = (err.params as { missingProperty: string })
          .missingProperty;
        return {
          reason: 'FieldValueRequired',
          field: toFieldPath(err.instancePath, missing),
          message: 'Required value',
        };
      }
      if (err.keyword === 'enum') {
        const allowed = (err.params as { allowedValues: unknown[] })
          .allowedValues;
        return {
          reason: 'FieldValueNotSupported',
          field: toFieldPath(err.instancePath),
          message: `Unsupported value: supported values: ${allowed
            .map(v => JSON.stringify(v))
            .join(', ')}`,
        };
      }
      return {
        reason: 'FieldValueInvalid',
        field: toFieldPath(err.instancePath),
        message: `Invalid value: ${err.message ?? 'invalid'}`,
      };
    });
  };
}

/** The parts of an `apiextensions.k8s.io/v1` CRD the stand-in serves. */
interface CustomResourceDefinition {
  kind?: string;
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: {
      kind: string;
      listKind?: string;
      plural: string;
      singular?: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      schema?: { openAPIV3Schema?: unknown };
      subresources?: { status?: object; scale?: ScaleSubresource };
      additionalPrinterColumns?: PrinterColumn[];
    }>;
  };
}

/**
 * Reads every CRD in `dir` (`*.yaml`/`*.yml`/`*.json`) and returns the storage
 * version of each as a served resource with an ajv validator for its
 * `openAPIV3Schema`.
 */
export function loadCustomResourceDefinitions(dir: string): ResourceType[] {
  if (!fs.existsSync(dir)) {
    throw new Error(
      `CRD directory ${dir} does not exist; pass crdDir pointing at a folder of CRD files (the KEDA CRDs are vendored in plugins/keda-common/crds/keda-v2.20.2)`,
    );
  }
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    // CRD schemas use OpenAPI formats (int32, date-time, …) that the API
    // server itself does not enforce either.
    validateFormats: false,
  });
  const types: ResourceType[] = [];
  for (const file of fs.readdirSync(dir).sort()) {
    if (!/\.(ya?ml|json)$/.test(file)) continue;
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      const crd = doc.toJS() as CustomResourceDefinition | null;
      if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
      const version =
        crd.spec.versions.find(v => v.storage) ?? crd.spec.versions[0];
      const schema = version.schema?.openAPIV3Schema;
      types.push({
        group: crd.spec.group,
        version: version.name,
        kind: crd.spec.names.kind,
        listKind: crd.spec.names.listKind ?? `${crd.spec.names.kind}List`,
        plural: crd.spec.names.plural,
        singular: crd.spec.names.singular ?? crd.spec.names.kind.toLowerCase(),
        namespaced: crd.spec.scope === 'Namespaced',
        shortNames: crd.spec.names.shortNames ?? [],
        categories: crd.spec.names.categories ?? [],
        subresources: {
          status: Boolean(version.subresources?.status),
          scale: version.subresources?.scale,
        },
        printerColumns: (version.additionalPrinterColumns ?? []).filter(
          c => c.jsonPath !== '.metadata.creationTimestamp',
        ),
        validate: schema ? compileCrdValidator(ajv, schema) : undefined,
      });
    }
  }
  return types;
}

/** Lookup of served resources by group/plural, kind, or kubectl-style name. */
export class ResourceRegistry {
  private readonly types: ResourceType[];
  private readonly resolved = new Map<string, ResourceType>();

  constructor(types: ResourceType[]) {
    this.types = types;
  }

  all(): ResourceType[] {
    return [...this.types];
  }

  /** Groups in discovery order (core first). */
  groups(): Map<string, ResourceType[]> {
    const groups = new Map<string, ResourceType[]>();
    for (const type of this.types) {
      const list = groups.get(type.group) ?? [];
      list.push(type);
      groups.set(type.group, list);
    }
    return groups;
  }

  byPath(group: string, version: string, plural: string) {
    return this.types.find(
      t => t.group === group && t.version === version && t.plural === plural,
    );
  }

  byKind(apiVersion: string, kind: string) {
    return this.types.find(
      t => apiVersionOf(t) === apiVersion && t.kind === kind,
    );
  }

  /**
   * Resolves `deployments.apps`, `deployments`, `deploy`, `Deployment`,
   * `scaledobjects.keda.sh`, `so` – the names in-process callers use.
   */
  resolve(name: string): ResourceType {
    // Called for every in-process store call that names its type.
    const cached = this.resolved.get(name);
    if (cached) return cached;
    const lower = name.toLowerCase();
    const found = this.types.find(
      t =>
        resourceKey(t) === lower ||
        t.plural === lower ||
        t.singular === lower ||
        t.kind.toLowerCase() === lower ||
        t.shortNames.includes(lower),
    );
    if (!found) {
      throw new Error(
        `Unknown resource "${name}"; served resources are ${this.types
          .map(resourceKey)
          .join(', ')}`,
      );
    }
    this.resolved.set(name, found);
    return found;
  }

  verbs(): string[] {
    return VERBS;
  }
}
