/*
 * Turns the files of a GitOps repository revision into the Kubernetes
 * objects to apply, the way Argo CD renders a source path:
 * - a directory with a kustomization file renders its `resources` (files or
 *   directories with their own kustomization) plus `namespace`, `labels`/
 *   `commonLabels` and `commonAnnotations`; nothing else in it is applied
 *   (the KEDA request's `iam-plan.json` sits next to its manifests);
 * - any other directory applies its `.yaml`/`.yml`/`.json` files and is
 *   walked further.
 * Pure: no I/O, every problem is returned with the file it came from.
 */
import { parseAllDocuments } from 'yaml';

export interface KubernetesManifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface DesiredObject {
  object: KubernetesManifest;
  /** Repository path of the file the object came from. */
  source: string;
}

export interface RenderError {
  /** Repository path of the file (or directory) at fault. */
  source: string;
  message: string;
}

export interface RenderResult {
  objects: DesiredObject[];
  errors: RenderError[];
}

const KUSTOMIZATION_FILES = [
  'kustomization.yaml',
  'kustomization.yml',
  'Kustomization',
];

/** Kustomization fields this renderer implements. */
const SUPPORTED_KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'commonLabels',
  'commonAnnotations',
]);

/**
 * Kinds that have no namespace; kustomize's `namespace` must not be set on
 * them (the API server would reject or ignore it).
 */
const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'ClusterTriggerAuthentication',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED_KINDS.has(kind);
}

/** `<group>/<kind>:<namespace>/<name>`, the identity Argo CD tracks. */
export function objectKey(object: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): string {
  const group = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')[0]
    : '';
  return `${group}/${object.kind}:${object.metadata.namespace ?? ''}/${
    object.metadata.name
  }`;
}

function isManifestFile(path: string): boolean {
  return /\.(ya?ml|json)$/i.test(path);
}

function joinPath(directory: string, relative: string): string | undefined {
  const segments = directory ? directory.split('/') : [];
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return undefined;
      segments.pop();
    } else segments.push(segment);
  }
  return segments.join('/');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses every YAML document of a file into manifests, naming bad ones. */
export function parseManifestFile(
  source: string,
  content: string,
): RenderResult {
  const objects: DesiredObject[] = [];
  const errors: RenderError[] = [];
  const documents = parseAllDocuments(content);
  const list = Array.isArray(documents) ? documents : [documents];
  list.forEach((document, index) => {
    const where =
      list.length > 1 ? `${source} (document ${index + 1})` : source;
    if (document.errors.length > 0) {
      errors.push({
        source: where,
        message: `is not valid YAML: ${document.errors[0].message}`,
      });
      return;
    }
    const value = document.toJS();
    if (value === null || value === undefined) return; // empty document
    const items =
      isRecord(value) &&
      typeof value.kind === 'string' &&
      value.kind.endsWith('List') &&
      Array.isArray(value.items)
        ? (value.items as unknown[])
        : [value];
    for (const item of items) {
      const problem = manifestProblem(item);
      if (problem) errors.push({ source: where, message: problem });
      else objects.push({ object: item as KubernetesManifest, source });
    }
  });
  return { objects, errors };
}

function manifestProblem(item: unknown): string | undefined {
  if (!isRecord(item))
    return 'is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)';
  if (typeof item.apiVersion !== 'string' || !item.apiVersion)
    return `has no apiVersion; add e.g. "apiVersion: apps/v1"`;
  if (typeof item.kind !== 'string' || !item.kind)
    return `has no kind; add e.g. "kind: Deployment"`;
  if (
    !isRecord(item.metadata) ||
    typeof item.metadata.name !== 'string' ||
    !item.metadata.name
  ) {
    return `${item.kind} has no metadata.name; every applied object needs a name`;
  }
  return undefined;
}

function withKustomization(
  object: KubernetesManifest,
  kustomization: Record<string, unknown>,
): KubernetesManifest {
  const copy: KubernetesManifest = JSON.parse(JSON.stringify(object));
  if (
    typeof kustomization.namespace === 'string' &&
    !isClusterScoped(copy.kind)
  ) {
    copy.metadata.namespace = kustomization.namespace;
  }
  const labels: Record<string, string> = {};
  if (isRecord(kustomization.commonLabels))
    Object.assign(labels, kustomization.commonLabels);
  if (Array.isArray(kustomization.labels)) {
    for (const entry of kustomization.labels) {
      if (isRecord(entry) && isRecord(entry.pairs))
        Object.assign(labels, entry.pairs);
    }
  }
  if (Object.keys(labels).length > 0) {
    copy.metadata.labels = { ...(copy.metadata.labels ?? {}), ...labels };
  }
  if (isRecord(kustomization.commonAnnotations)) {
    copy.metadata.annotations = {
      ...(copy.metadata.annotations ?? {}),
      ...(kustomization.commonAnnotations as Record<string, string>),
    };
  }
  return copy;
}

/**
 * Renders the objects below `sourcePaths` of a repository snapshot
 * (`files`: repository path → content).
 */
export function renderManifests(
  files: ReadonlyMap<string, string>,
  sourcePaths: string[],
): RenderResult {
  const objects: DesiredObject[] = [];
  const errors: RenderError[] = [];
  const allPaths = [...files.keys()].sort();

  const kustomizationIn = (directory: string) =>
    KUSTOMIZATION_FILES.map(name =>
      directory ? `${directory}/${name}` : name,
    ).find(p => files.has(p));

  const kustomize = (directory: string, stack: string[]): DesiredObject[] => {
    const file = kustomizationIn(directory)!;
    if (stack.includes(directory)) {
      errors.push({
        source: file,
        message: `includes itself through ${[...stack, directory].join(' → ')}`,
      });
      return [];
    }
    const parsed = parseAllDocuments(files.get(file)!);
    const document = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!document || document.errors.length > 0) {
      errors.push({
        source: file,
        message: `is not valid YAML: ${
          document?.errors[0]?.message ?? 'empty file'
        }`,
      });
      return [];
    }
    const kustomization = document.toJS();
    if (!isRecord(kustomization)) {
      errors.push({
        source: file,
        message: 'must be a mapping with a resources list',
      });
      return [];
    }
    const unsupported = Object.keys(kustomization).filter(
      key => !SUPPORTED_KUSTOMIZATION_FIELDS.has(key),
    );
    if (unsupported.length > 0) {
      errors.push({
        source: file,
        message: `uses ${unsupported.join(
          ', ',
        )}, which the sandbox GitOps loop does not render; supported fields: ${[
          ...SUPPORTED_KUSTOMIZATION_FIELDS,
        ].join(', ')}`,
      });
      return [];
    }
    const resources = kustomization.resources ?? [];
    if (
      !Array.isArray(resources) ||
      resources.some(r => typeof r !== 'string')
    ) {
      errors.push({
        source: file,
        message: 'resources must be a list of file or directory paths',
      });
      return [];
    }
    const rendered: DesiredObject[] = [];
    for (const resource of resources as string[]) {
      const path = joinPath(directory, resource);
      if (path === undefined || /^[a-z]+:\/\//i.test(resource)) {
        errors.push({
          source: file,
          message: `resource '${resource}' points outside the repository; only relative paths inside it are supported`,
        });
        continue;
      }
      if (files.has(path)) {
        const result = parseManifestFile(path, files.get(path)!);
        errors.push(...result.errors);
        rendered.push(...result.objects);
      } else if (kustomizationIn(path)) {
        rendered.push(...kustomize(path, [...stack, directory]));
      } else if (allPaths.some(p => p.startsWith(`${path}/`))) {
        errors.push({
          source: file,
          message: `resource '${resource}' is a directory without a kustomization.yaml; add one or list its files`,
        });
      } else {
        errors.push({
          source: file,
          message: `resource '${resource}' does not exist at ${path}`,
        });
      }
    }
    return rendered.map(item => ({
      ...item,
      object: withKustomization(item.object, kustomization),
    }));
  };

  const walk = (directory: string) => {
    if (kustomizationIn(directory)) {
      objects.push(...kustomize(directory, []));
      return;
    }
    const prefix = directory ? `${directory}/` : '';
    const children = allPaths
      .filter(p => p.startsWith(prefix))
      .map(p => p.slice(prefix.length));
    const subdirectories = new Set<string>();
    for (const child of children) {
      const slash = child.indexOf('/');
      if (slash >= 0) subdirectories.add(child.slice(0, slash));
      else if (isManifestFile(child)) {
        const result = parseManifestFile(
          `${prefix}${child}`,
          files.get(`${prefix}${child}`)!,
        );
        objects.push(...result.objects);
        errors.push(...result.errors);
      }
    }
    for (const subdirectory of [...subdirectories].sort())
      walk(`${prefix}${subdirectory}`);
  };

  for (const sourcePath of sourcePaths) {
    const path = joinPath('', sourcePath) ?? '';
    if (files.has(path)) {
      const result = parseManifestFile(path, files.get(path)!);
      objects.push(...result.objects);
      errors.push(...result.errors);
    } else if (path === '' || allPaths.some(p => p.startsWith(`${path}/`))) {
      walk(path);
    }
    // A missing source path renders nothing: the first request for a
    // cluster creates its folder, and an empty app is a valid state.
  }

  // Two files declaring the same object would fight on every sync.
  const seen = new Map<string, string>();
  const unique: DesiredObject[] = [];
  for (const item of objects) {
    const key = objectKey(item.object);
    const first = seen.get(key);
    if (first) {
      errors.push({
        source: item.source,
        message: `declares ${key} again; it is already declared in ${first}`,
      });
      continue;
    }
    seen.set(key, item.source);
    unique.push(item);
  }
  return { objects: unique, errors };
}
