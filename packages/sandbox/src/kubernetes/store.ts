import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  alreadyExists,
  badRequest,
  conflict,
  gone,
  invalid,
  KubernetesApiError,
  notFound,
  StatusCause,
} from './errors';
import { applyPatch, PatchType } from './patch';
import {
  apiVersionOf,
  ResourceRegistry,
  ResourceType,
  resourceKey,
} from './resources';
import {
  formatLabelSelector,
  matchesFieldSelector,
  matchesLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors';

/** Any object the stand-in stores. */
export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
      blockOwnerDeletion?: boolean;
    }>;
    finalizers?: string[];
    [key: string]: unknown;
  };
  [key: string]: any;
}

export type WatchEventType =
  | 'ADDED'
  | 'MODIFIED'
  | 'DELETED'
  | 'BOOKMARK'
  | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubernetesObject;
}

/** Where a write comes from: the main resource or one of its subresources. */
export type Subresource = 'status' | 'scale';

export interface WriteOptions {
  /** `?dryRun=All`: validate and answer, store nothing. */
  dryRun?: boolean;
  subresource?: Subresource;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** Start after this revision; unset or '0' sends the current state first. */
  resourceVersion?: string;
  /** Send ADDED for existing objects, then a BOOKMARK marking their end. */
  sendInitialEvents?: boolean;
}

export interface WatchHandle {
  stop(): void;
}

export interface DeleteOptions {
  dryRun?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
}

/**
 * Admission for a write, called with the final object before it is stored.
 * Throws a {@link KubernetesApiError} (422 Invalid, 403 Forbidden) to reject.
 */
export type AdmissionHook = (request: {
  operation: 'CREATE' | 'UPDATE';
  type: ResourceType;
  object: KubernetesObject;
  oldObject?: KubernetesObject;
  /**
   * Set for writes through `/status` or `/scale`, which webhooks registered
   * for the main resource only (as KEDA's are) do not see.
   */
  subresource?: Subresource;
  store: KubernetesObjectStore;
}) => void;

export interface KubernetesObjectStoreOptions {
  registry: ResourceRegistry;
  /** JSON file the state is written to (atomically) after every change. */
  stateFile?: string;
  /** How many change events a watch can resume from; older → 410 Gone. */
  historyLimit?: number;
  admission?: AdmissionHook[];
  /** Namespaces that exist at start and after `reset()`. */
  initialNamespaces?: string[];
  /**
   * Give every Deployment a ReplicaSet and Running Pods matching its
   * replicas (default true), as the Kubernetes plugin and kubectl expect.
   */
  simulatePods?: boolean;
  /** The clock for timestamps the API server sets (default: the system clock). */
  now?: () => number;
  /**
   * Least time between two writes of the state file (default 1000 ms),
   * however fast objects change. It grows to twenty times the last write's
   * duration, so a large state is being written at most a twentieth of the
   * time.
   */
  persistIntervalMs?: number;
}

/**
 * Counts of the store's work, for tests and benchmarks that check how work
 * grows with the number of objects without timing anything.
 */
export interface StoreWorkCounters {
  /** Stored objects visited by lists, scans and garbage collection. */
  objectsScanned: number;
  /** Times the state file was written. */
  stateWrites: number;
}

interface HistoryEntry {
  revision: number;
  typeKey: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubernetesObject;
  oldObject?: KubernetesObject;
}

interface Watcher {
  typeKey: string;
  namespace?: string;
  matches: (obj: KubernetesObject) => boolean;
  send: (event: WatchEvent) => void;
}

const DNS_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

function objectKey(namespace: string | undefined, name: string) {
  return `${namespace ?? ''}/${name}`;
}

/** Everything except metadata and status: what bumps `metadata.generation`. */
function specOf(obj: KubernetesObject): string {
  const { metadata: _m, status: _s, ...rest } = obj;
  return JSON.stringify(rest);
}

function getPath(obj: any, jsonPath: string): any {
  return jsonPath
    .replace(/^\./, '')
    .split('.')
    .reduce((value, key) => value?.[key], obj);
}

function setPath(obj: any, jsonPath: string, value: unknown) {
  const keys = jsonPath.replace(/^\./, '').split('.');
  let target = obj;
  for (const key of keys.slice(0, -1)) {
    target[key] = target[key] ?? {};
    target = target[key];
  }
  target[keys[keys.length - 1]] = value;
}

/**
 * The state of the stand-in cluster: objects by resource, a global
 * resourceVersion counter (like etcd's revision) and a bounded change history
 * from which watches resume. In-process callers (the KEDA loop, tests, the
 * GitOps loop) use the same methods the HTTP layer uses, so admission and
 * watch events are identical whichever door a write comes through.
 */
export class KubernetesObjectStore {
  readonly registry: ResourceRegistry;
  private readonly stateFile?: string;
  private readonly historyLimit: number;
  private readonly admission: AdmissionHook[];
  private readonly initialNamespaces: string[];
  private objects = new Map<string, Map<string, KubernetesObject>>();
  /** typeKey → namespace → objectKey → object: lists by namespace. */
  private byNamespace = new Map<
    string,
    Map<string, Map<string, KubernetesObject>>
  >();
  /**
   * Owner uid → `typeKey\0objectKey` of its dependents: garbage collection
   * and the ReplicaSet simulation find dependents without scanning.
   */
  private dependents = new Map<string, Set<string>>();
  private readonly work: StoreWorkCounters = {
    objectsScanned: 0,
    stateWrites: 0,
  };
  /** Changes since the state file was last written. */
  private dirty = false;
  private lastPersistAt = -Infinity;
  private readonly persistIntervalMs: number;
  /** Stored object → its JSON, for state file writes. */
  private serialized = new WeakMap<KubernetesObject, string>();
  /** How long the last state file write took. */
  private lastPersistMs = 0;
  private revision = 0;
  private history: HistoryEntry[] = [];
  /** Highest revision no longer in `history`; watches from before it get 410. */
  private compactedRevision = 0;
  private readonly watchers = new Set<Watcher>();
  private persistTimer?: NodeJS.Timeout;
  private readonly simulatePods: boolean;
  private readonly now: () => number;

  constructor(options: KubernetesObjectStoreOptions) {
    this.now = options.now ?? Date.now;
    this.registry = options.registry;
    this.stateFile = options.stateFile;
    this.historyLimit = options.historyLimit ?? 5000;
    this.admission = options.admission ?? [];
    this.simulatePods = options.simulatePods ?? true;
    this.persistIntervalMs = options.persistIntervalMs ?? 1000;
    this.initialNamespaces = options.initialNamespaces ?? [
      'default',
      'kube-system',
      'kube-public',
    ];
    if (this.stateFile && fs.existsSync(this.stateFile)) {
      this.load(this.stateFile);
    } else {
      this.seedNamespaces();
    }
  }

  /** The current global resourceVersion. */
  currentRevision(): string {
    return String(this.revision);
  }

  /** A copy of the work counters (see {@link StoreWorkCounters}). */
  workCounters(): StoreWorkCounters {
    return { ...this.work };
  }

  addAdmission(hook: AdmissionHook) {
    this.admission.push(hook);
  }

  private bucket(type: ResourceType) {
    const key = resourceKey(type);
    let bucket = this.objects.get(key);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(key, bucket);
    }
    return bucket;
  }

  /** Stores `obj` under its key, keeping the namespace and owner indexes. */
  private put(type: ResourceType, obj: KubernetesObject) {
    const typeKey = resourceKey(type);
    const key = objectKey(obj.metadata!.namespace, obj.metadata!.name!);
    const bucket = this.bucket(type);
    const previous = bucket.get(key);
    if (previous) this.unindex(typeKey, key, previous);
    bucket.set(key, obj);
    this.index(typeKey, key, obj);
  }

  /** Removes the object stored under `key`, if any, from bucket and indexes. */
  private remove(type: ResourceType, key: string) {
    const bucket = this.bucket(type);
    const previous = bucket.get(key);
    if (!previous) return;
    bucket.delete(key);
    this.unindex(resourceKey(type), key, previous);
  }

  private index(typeKey: string, key: string, obj: KubernetesObject) {
    let namespaces = this.byNamespace.get(typeKey);
    if (!namespaces) {
      namespaces = new Map();
      this.byNamespace.set(typeKey, namespaces);
    }
    const ns = obj.metadata?.namespace ?? '';
    let inNamespace = namespaces.get(ns);
    if (!inNamespace) {
      inNamespace = new Map();
      namespaces.set(ns, inNamespace);
    }
    inNamespace.set(key, obj);
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      let set = this.dependents.get(ref.uid);
      if (!set) {
        set = new Set();
        this.dependents.set(ref.uid, set);
      }
      set.add(`${typeKey}\0${key}`);
    }
  }

  private unindex(typeKey: string, key: string, obj: KubernetesObject) {
    const namespaces = this.byNamespace.get(typeKey);
    const ns = obj.metadata?.namespace ?? '';
    const inNamespace = namespaces?.get(ns);
    inNamespace?.delete(key);
    if (inNamespace?.size === 0) namespaces!.delete(ns);
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      const set = this.dependents.get(ref.uid);
      set?.delete(`${typeKey}\0${key}`);
      if (set?.size === 0) this.dependents.delete(ref.uid);
    }
  }

  /** The stored objects of one type (in one namespace), unsorted, uncopied. */
  private stored(
    type: ResourceType,
    namespace?: string,
  ): Map<string, KubernetesObject> {
    if (type.namespaced && namespace) {
      return (
        this.byNamespace.get(resourceKey(type))?.get(namespace) ?? new Map()
      );
    }
    return this.bucket(type);
  }

  /**
   * Stored objects that name `ownerUid` in an owner reference, with their
   * types, in key order per type (uncopied).
   */
  private dependentsOf(
    ownerUid: string,
    typeKey?: string,
  ): Array<{ type: ResourceType; obj: KubernetesObject }> {
    const found: Array<{ type: ResourceType; obj: KubernetesObject }> = [];
    for (const entry of [...(this.dependents.get(ownerUid) ?? [])].sort(
      (a, b) => a.localeCompare(b),
    )) {
      const [depTypeKey, key] = entry.split('\0');
      if (typeKey && depTypeKey !== typeKey) continue;
      const obj = this.objects.get(depTypeKey)?.get(key);
      this.work.objectsScanned++;
      if (obj) found.push({ type: this.registry.resolve(depTypeKey), obj });
    }
    return found;
  }

  private resolve(type: ResourceType | string): ResourceType {
    return typeof type === 'string' ? this.registry.resolve(type) : type;
  }

  private checkNamespace(type: ResourceType, namespace?: string) {
    if (type.namespaced && !namespace) {
      throw badRequest(
        `${resourceKey(type)} is namespaced: a namespace is required`,
      );
    }
  }

  get(
    typeRef: ResourceType | string,
    namespace: string | undefined,
    name: string,
  ): KubernetesObject {
    const type = this.resolve(typeRef);
    this.checkNamespace(type, namespace);
    const found = this.bucket(type).get(
      objectKey(type.namespaced ? namespace : undefined, name),
    );
    if (!found) throw notFound(type.plural, type.group, name);
    return clone(found);
  }

  /** Like {@link get}, but `undefined` instead of 404. */
  find(
    typeRef: ResourceType | string,
    namespace: string | undefined,
    name: string,
  ): KubernetesObject | undefined {
    try {
      return this.get(typeRef, namespace, name);
    } catch (e) {
      if (e instanceof KubernetesApiError && e.code === 404) return undefined;
      throw e;
    }
  }

  private matcher(type: ResourceType, options: ListOptions) {
    const labels = options.labelSelector
      ? parseLabelSelector(options.labelSelector)
      : [];
    const fields = options.fieldSelector
      ? parseFieldSelector(options.fieldSelector)
      : [];
    return (obj: KubernetesObject) =>
      (!type.namespaced ||
        !options.namespace ||
        obj.metadata?.namespace === options.namespace) &&
      matchesLabelSelector(obj.metadata?.labels, labels) &&
      matchesFieldSelector(obj, fields);
  }

  list(
    typeRef: ResourceType | string,
    options: ListOptions = {},
  ): { items: KubernetesObject[]; resourceVersion: string } {
    const type = this.resolve(typeRef);
    const matches = this.matcher(type, options);
    const stored = this.stored(type, options.namespace);
    this.work.objectsScanned += stored.size;
    const items = [...stored.entries()]
      .filter(([, obj]) => matches(obj))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, obj]) => clone(obj));
    return { items, resourceVersion: this.currentRevision() };
  }

  /**
   * Visits the stored objects of a type (in one namespace) without copying
   * them, in no particular order: for checks that read many objects, such
   * as admission, where {@link list}'s copies would dominate. The objects
   * must not be changed.
   */
  scan(
    typeRef: ResourceType | string,
    namespace: string | undefined,
    visit: (obj: Readonly<KubernetesObject>) => void,
  ) {
    const stored = this.stored(this.resolve(typeRef), namespace);
    this.work.objectsScanned += stored.size;
    for (const obj of stored.values()) visit(obj);
  }

  create(
    typeRef: ResourceType | string,
    namespace: string | undefined,
    body: object,
    options: WriteOptions = {},
  ): KubernetesObject {
    const type = this.resolve(typeRef);
    const obj = this.normalise(
      type,
      namespace,
      clone(body) as KubernetesObject,
    );
    const metadata = obj.metadata!;
    if (!metadata.name && metadata.generateName) {
      metadata.name =
        metadata.generateName +
        crypto.randomBytes(3).toString('hex').slice(0, 5);
    }
    this.validateMetadata(type, obj);
    if (type.namespaced) this.requireNamespace(metadata.namespace!);
    const bucket = this.bucket(type);
    const key = objectKey(metadata.namespace, metadata.name!);
    if (bucket.has(key)) {
      throw alreadyExists(type.plural, type.group, metadata.name!);
    }
    metadata.uid = crypto.randomUUID();
    metadata.creationTimestamp = new Date(this.now())
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    metadata.generation = 1;
    delete metadata.resourceVersion;
    delete metadata.deletionTimestamp;
    // With a status subresource the status is owned by controllers; the API
    // server drops it on create (CRDs and apps/v1 alike).
    if (type.subresources.status) delete obj.status;
    this.derive(type, obj);
    this.validateObject(type, obj);
    this.runAdmission('CREATE', type, obj);
    if (options.dryRun) return obj;
    return this.commit(type, 'ADDED', obj);
  }

  /** PUT: replace, with optimistic concurrency on metadata.resourceVersion. */
  update(
    typeRef: ResourceType | string,
    namespace: string | undefined,
    name: string,
    body: object,
    options: WriteOptions = {},
  ): KubernetesObject {
    const type = this.resolve(typeRef);
    if (options.subresource === 'scale') {
      return this.updateScale(type, namespace, name, body, options);
    }
    const old = this.get(type, namespace, name);
    const incoming = this.normalise(
      type,
      namespace,
      clone(body) as KubernetesObject,
    );
    if (incoming.metadata!.name && incoming.metadata!.name !== name) {
      throw badRequest(
        `the name of the object (${
          incoming.metadata!.name
        }) does not match the name on the URL (${name})`,
      );
    }
    incoming.metadata!.name = name;
    const expected = incoming.metadata!.resourceVersion;
    if (expected && expected !== old.metadata!.resourceVersion) {
      throw conflict(type.plural, type.group, name);
    }
    let next: KubernetesObject;
    if (options.subresource === 'status') {
      // The status subresource changes status only; everything else is
      // the old object (kube-apiserver's statusStrategy).
      next = { ...old, status: incoming.status };
    } else {
      next = incoming;
      if (type.subresources.status) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
    }
    return this.replace(type, old, next, options);
  }

  patch(
    typeRef: ResourceType | string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    patchType: PatchType,
    options: WriteOptions & { fieldManager?: string; force?: boolean } = {},
  ): KubernetesObject {
    const type = this.resolve(typeRef);
    if (options.subresource === 'scale') {
      const scale = this.getScale(type, namespace, name);
      const patched = applyPatch(scale, patch, patchType);
      return this.updateScale(type, namespace, name, patched, options);
    }
    let old: KubernetesObject;
    try {
      old = this.get(type, namespace, name);
    } catch (e) {
      // Server-side apply creates what does not exist yet.
      if (
        patchType === 'apply' &&
        e instanceof KubernetesApiError &&
        e.code === 404 &&
        !options.subresource
      ) {
        const body = clone(patch) as KubernetesObject;
        body.metadata = { ...(body.metadata ?? {}), name };
        return this.create(type, namespace, body, options);
      }
      throw e;
    }
    const patched = applyPatch(old, patch, patchType) as KubernetesObject;
    if (!patched || typeof patched !== 'object' || Array.isArray(patched)) {
      throw badRequest('the patch did not produce an object');
    }
    const expected = (patch as KubernetesObject)?.metadata?.resourceVersion;
    if (
      patchType !== 'json' &&
      expected &&
      expected !== old.metadata!.resourceVersion
    ) {
      throw conflict(type.plural, type.group, name);
    }
    const normalised = this.normalise(type, namespace, patched);
    if (normalised.metadata!.name !== name) {
      throw badRequest(`a patch may not change metadata.name (${name})`);
    }
    let next: KubernetesObject;
    if (options.subresource === 'status') {
      next = { ...old, status: normalised.status };
    } else {
      next = normalised;
      if (type.subresources.status) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
    }
    return this.replace(type, old, next, options);
  }

  private replace(
    type: ResourceType,
    old: KubernetesObject,
    proposed: KubernetesObject,
    options: WriteOptions,
  ): KubernetesObject {
    // Patches and status updates share nested objects with `old`; work on a
    // copy so `old` stays the stored state for the comparison below.
    const next = clone(proposed);
    const metadata = next.metadata!;
    // Immutable metadata is carried over whatever the client sent.
    metadata.uid = old.metadata!.uid;
    metadata.creationTimestamp = old.metadata!.creationTimestamp;
    metadata.namespace = old.metadata!.namespace;
    metadata.generation =
      (old.metadata!.generation ?? 1) + (specOf(next) !== specOf(old) ? 1 : 0);
    delete metadata.resourceVersion;
    if (!type.namespaced) delete metadata.namespace;
    this.validateMetadata(type, next);
    this.derive(type, next);
    this.validateObject(type, next);
    this.runAdmission('UPDATE', type, next, old, options.subresource);
    const unchanged =
      JSON.stringify({ ...next, metadata: { ...metadata } }) ===
      JSON.stringify({
        ...old,
        metadata: { ...old.metadata, resourceVersion: undefined },
      });
    // An update that changes nothing does not bump resourceVersion and sends
    // no watch event, as with the real API server.
    if (unchanged || options.dryRun) {
      return unchanged
        ? old
        : {
            ...next,
            metadata: {
              ...metadata,
              resourceVersion: old.metadata!.resourceVersion,
            },
          };
    }
    return this.commit(type, 'MODIFIED', next, old);
  }

  /** `GET …/scale` as an `autoscaling/v1` Scale. */
  getScale(
    typeRef: ResourceType | string,
    namespace: string | undefined,
    name: string,
  ): KubernetesObject {
    const type = this.resolve(typeRef);
    const scale = type.subresources.scale;
    if (!scale) throw notFound(`${type.plural}/scale`, type.group, name);
    const obj = this.get(type, namespace, name);
    const selector = scale.labelSelectorPath
      ? getPath(obj, scale.labelSelectorPath)
      : undefined;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name,
        namespace: obj.metadata!.namespace,
        uid: obj.metadata!.uid,
        resourceVersion: obj.metadata!.resourceVersion,
        creationTimestamp: obj.metadata!.creationTimestamp,
      },
      spec: { replicas: getPath(obj, scale.specReplicasPath) ?? 0 },
      status: {
        replicas: getPath(obj, scale.statusReplicasPath) ?? 0,
        ...(selector ? { selector } : {}),
      },
    };
  }

  private updateScale(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    scale: KubernetesObject,
    options: WriteOptions,
  ): KubernetesObject {
    const mapping = type.subresources.scale;
    if (!mapping) throw notFound(`${type.plural}/scale`, type.group, name);
    const replicas = scale?.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', name, [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.replicas',
          message: `Invalid value: ${JSON.stringify(
            replicas,
          )}: must be a non-negative integer`,
        },
      ]);
    }
    const old = this.get(type, namespace, name);
    const expected = scale.metadata?.resourceVersion;
    if (expected && expected !== old.metadata!.resourceVersion) {
      throw conflict(type.plural, type.group, name);
    }
    const next = clone(old);
    setPath(next, mapping.specReplicasPath, replicas);
    this.replace(type, old, next, {
      dryRun: options.dryRun,
      subresource: 'scale',
    });
    return options.dryRun
      ? { ...scale, spec: { replicas } }
      : this.getScale(type, namespace, name);
  }

  delete(
    typeRef: ResourceType | string,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): KubernetesObject {
    const type = this.resolve(typeRef);
    const old = this.get(type, namespace, name);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata!.uid) {
      throw new KubernetesApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${
          pre.uid
        }, UID in object meta: ${old.metadata!.uid}`,
      );
    }
    if (
      pre?.resourceVersion &&
      pre.resourceVersion !== old.metadata!.resourceVersion
    ) {
      throw new KubernetesApiError(
        409,
        'Conflict',
        `Precondition failed: ResourceVersion in precondition: ${
          pre.resourceVersion
        }, ResourceVersion in object meta: ${old.metadata!.resourceVersion}`,
      );
    }
    if (options.dryRun) return old;
    this.remove(type, objectKey(old.metadata!.namespace, name));
    const deleted = this.record(type, 'DELETED', old, old);
    if (type.group === '' && type.plural === 'namespaces') {
      this.deleteNamespaceContents(name);
    }
    if (options.propagationPolicy !== 'Orphan') {
      this.collectDependents(old.metadata!.uid!);
    }
    return deleted;
  }

  deleteCollection(
    typeRef: ResourceType | string,
    options: ListOptions & DeleteOptions = {},
  ): KubernetesObject[] {
    const type = this.resolve(typeRef);
    return this.list(type, options).items.map(obj =>
      this.delete(type, obj.metadata!.namespace, obj.metadata!.name!, {
        dryRun: options.dryRun,
        propagationPolicy: options.propagationPolicy,
      }),
    );
  }

  /**
   * Watches one resource type. Events before `resourceVersion` that fell out
   * of the history throw 410 (the HTTP layer turns that into an ERROR event).
   */
  watch(
    typeRef: ResourceType | string,
    options: WatchOptions,
    onEvent: (event: WatchEvent) => void,
  ): WatchHandle {
    const type = this.resolve(typeRef);
    const typeKey = resourceKey(type);
    const matches = this.matcher(type, options);
    const rv = options.resourceVersion;
    const startFromNow = !rv || rv === '0';
    if (!startFromNow) {
      const requested = Number(rv);
      if (!Number.isInteger(requested) || requested < 0) {
        throw badRequest(
          `invalid resourceVersion "${rv}": expected an integer`,
        );
      }
      if (requested < this.compactedRevision) {
        throw gone(
          `too old resource version: ${requested} (${this.compactedRevision})`,
        );
      }
    }
    const watcher: Watcher = {
      typeKey,
      namespace: options.namespace,
      matches,
      send: onEvent,
    };
    if (startFromNow || options.sendInitialEvents) {
      for (const obj of this.list(type, options).items) {
        onEvent({ type: 'ADDED', object: obj });
      }
      if (options.sendInitialEvents) {
        onEvent({
          type: 'BOOKMARK',
          object: {
            kind: type.kind,
            apiVersion: apiVersionOf(type),
            metadata: {
              resourceVersion: this.currentRevision(),
              annotations: { 'k8s.io/initial-events-end': 'true' },
            },
          },
        });
      }
    } else {
      const requested = Number(rv);
      for (const entry of this.history) {
        if (entry.revision <= requested || entry.typeKey !== typeKey) continue;
        const event = this.eventFor(watcher, entry);
        if (event) onEvent(event);
      }
    }
    this.watchers.add(watcher);
    return { stop: () => this.watchers.delete(watcher) };
  }

  /** A BOOKMARK carrying the current revision, for `allowWatchBookmarks`. */
  bookmark(typeRef: ResourceType | string): WatchEvent {
    const type = this.resolve(typeRef);
    return {
      type: 'BOOKMARK',
      object: {
        kind: type.kind,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: this.currentRevision() },
      },
    };
  }

  /**
   * Translates a change into what a filtered watcher sees: an object that
   * starts matching the selector is ADDED, one that stops matching is DELETED.
   */
  private eventFor(
    watcher: Watcher,
    entry: HistoryEntry,
  ): WatchEvent | undefined {
    const nowMatches = watcher.matches(entry.object);
    if (entry.type !== 'MODIFIED') {
      return nowMatches
        ? { type: entry.type, object: clone(entry.object) }
        : undefined;
    }
    const wasMatching = entry.oldObject
      ? watcher.matches(entry.oldObject)
      : false;
    if (nowMatches && wasMatching)
      return { type: 'MODIFIED', object: clone(entry.object) };
    if (nowMatches) return { type: 'ADDED', object: clone(entry.object) };
    if (wasMatching) return { type: 'DELETED', object: clone(entry.object) };
    return undefined;
  }

  /** Deletes every object and re-creates the initial namespaces. */
  reset() {
    for (const type of this.registry.all()) {
      for (const obj of this.list(type).items) {
        const key = objectKey(obj.metadata!.namespace, obj.metadata!.name!);
        if (this.bucket(type).has(key)) {
          this.remove(type, key);
          this.record(type, 'DELETED', obj, obj);
        }
      }
    }
    this.seedNamespaces();
    this.flush();
  }

  /**
   * Writes the state file now if anything changed since the last write
   * (also done shortly after changes, at most once per persist interval).
   */
  flush() {
    if (this.persistTimer) {
      clearTimeout(this.persistTimer);
      this.persistTimer = undefined;
    }
    if (!this.stateFile) return;
    if (!this.dirty && fs.existsSync(this.stateFile)) return;
    const started = Date.now();
    fs.mkdirSync(path.dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, this.serializeState());
    // rename() is atomic on POSIX: a reader sees the old or the new state.
    fs.renameSync(tmp, this.stateFile);
    this.dirty = false;
    this.work.stateWrites++;
    this.lastPersistAt = Date.now();
    this.lastPersistMs = this.lastPersistAt - started;
  }

  /**
   * `{"revision":N,"objects":{"<type>":[…]}}`, from each stored object's
   * JSON cached until the object is replaced (stored objects are never
   * changed in place): a write re-serialises only what changed since the
   * last one, not the whole cluster.
   */
  private serializeState(): string {
    const buckets: string[] = [];
    for (const [key, bucket] of this.objects) {
      const items: string[] = [];
      for (const obj of bucket.values()) {
        let json = this.serialized.get(obj);
        if (json === undefined) {
          json = JSON.stringify(obj);
          this.serialized.set(obj, json);
        }
        items.push(json);
      }
      buckets.push(`${JSON.stringify(key)}:[\n${items.join(',\n')}]`);
    }
    return `{"revision":${this.revision},"objects":{\n${buckets.join(
      ',\n',
    )}}}\n`;
  }

  /** Stops all watches (their streams end) and writes the state file. */
  close() {
    this.watchers.clear();
    this.flush();
  }

  private load(file: string) {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      revision: number;
      objects: Record<string, KubernetesObject[]>;
    };
    this.revision = state.revision;
    // Nothing before the loaded revision can be replayed.
    this.compactedRevision = state.revision;
    for (const [key, objects] of Object.entries(state.objects)) {
      const bucket = new Map<string, KubernetesObject>();
      this.objects.set(key, bucket);
      for (const obj of objects) {
        const objKey = objectKey(obj.metadata?.namespace, obj.metadata!.name!);
        bucket.set(objKey, obj);
        this.index(key, objKey, obj);
      }
    }
  }

  private seedNamespaces() {
    const namespaces = this.registry
      .all()
      .find(t => t.group === '' && t.plural === 'namespaces');
    if (!namespaces) return;
    for (const name of this.initialNamespaces) {
      if (!this.find(namespaces, undefined, name)) {
        this.create(namespaces, undefined, { metadata: { name } });
      }
    }
  }

  private normalise(
    type: ResourceType,
    namespace: string | undefined,
    obj: KubernetesObject,
  ): KubernetesObject {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      throw badRequest('the request body must be a JSON object');
    }
    const expectedVersion = apiVersionOf(type);
    if (obj.apiVersion && obj.apiVersion !== expectedVersion) {
      throw badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${expectedVersion})`,
      );
    }
    if (obj.kind && obj.kind !== type.kind) {
      throw badRequest(
        `the kind in the data (${obj.kind}) does not match the expected kind (${type.kind})`,
      );
    }
    obj.apiVersion = expectedVersion;
    obj.kind = type.kind;
    obj.metadata = obj.metadata ?? {};
    if (type.namespaced) {
      if (
        namespace &&
        obj.metadata.namespace &&
        obj.metadata.namespace !== namespace
      ) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = namespace ?? obj.metadata.namespace;
      this.checkNamespace(type, obj.metadata.namespace);
    } else {
      delete obj.metadata.namespace;
    }
    delete obj.metadata.managedFields;
    return obj;
  }

  private validateMetadata(type: ResourceType, obj: KubernetesObject) {
    const name = obj.metadata?.name;
    const causes: StatusCause[] = [];
    if (!name) {
      causes.push({
        reason: 'FieldValueRequired',
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
      });
    } else {
      const pattern = type.plural === 'namespaces' ? DNS_LABEL : DNS_SUBDOMAIN;
      const limit = type.plural === 'namespaces' ? 63 : 253;
      if (!pattern.test(name) || name.length > limit) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: 'metadata.name',
          message: `Invalid value: "${name}": a lowercase RFC 1123 ${
            type.plural === 'namespaces' ? 'label' : 'subdomain'
          } must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (at most ${limit} characters)`,
        });
      }
    }
    for (const [field, map] of [
      ['metadata.labels', obj.metadata?.labels],
      ['metadata.annotations', obj.metadata?.annotations],
    ] as const) {
      for (const [key, value] of Object.entries(map ?? {})) {
        if (typeof value !== 'string') {
          causes.push({
            reason: 'FieldValueInvalid',
            field: `${field}.${key}`,
            message: `Invalid value: ${JSON.stringify(
              value,
            )}: must be a string`,
          });
        }
      }
    }
    if (causes.length) {
      throw invalid(type.kind, type.group, name ?? '', causes);
    }
  }

  private validateObject(type: ResourceType, obj: KubernetesObject) {
    if (!type.validate) return;
    const causes = type.validate(obj);
    if (causes.length) {
      throw invalid(type.kind, type.group, obj.metadata!.name!, causes);
    }
  }

  private runAdmission(
    operation: 'CREATE' | 'UPDATE',
    type: ResourceType,
    object: KubernetesObject,
    oldObject?: KubernetesObject,
    subresource?: Subresource,
  ) {
    for (const hook of this.admission) {
      hook({ operation, type, object, oldObject, subresource, store: this });
    }
  }

  private requireNamespace(namespace: string) {
    const bucket = this.objects.get('namespaces');
    if (!bucket?.has(objectKey(undefined, namespace))) {
      throw notFound('namespaces', '', namespace);
    }
  }

  /**
   * Status the stand-in keeps without controllers: a Deployment is "rolled
   * out" the moment it is written (no pods exist), a Namespace is Active.
   */
  private derive(type: ResourceType, obj: KubernetesObject) {
    if (type.group === 'apps' && type.plural === 'deployments') {
      obj.spec = obj.spec ?? {};
      if (obj.spec.replicas === undefined) obj.spec.replicas = 1;
      const replicas = obj.spec.replicas;
      const selector = obj.spec.selector
        ? formatLabelSelector(obj.spec.selector)
        : undefined;
      obj.status = {
        observedGeneration: obj.metadata!.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        ...(selector ? { selector } : {}),
        conditions: [
          {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          },
          {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${
              obj.metadata!.name
            }" has successfully progressed.`,
          },
        ],
      };
      // kubectl's READY column reads "ready/desired" from these fields.
      if (replicas === 0) {
        delete obj.status.readyReplicas;
        delete obj.status.availableReplicas;
      }
    }
    if (type.group === 'apps' && type.plural === 'replicasets') {
      const replicas = obj.spec?.replicas ?? 1;
      obj.status = {
        replicas,
        fullyLabeledReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        observedGeneration: obj.metadata!.generation,
      };
    }
    if (type.group === '' && type.plural === 'namespaces') {
      obj.status = { phase: 'Active' };
    }
  }

  private commit(
    type: ResourceType,
    eventType: 'ADDED' | 'MODIFIED',
    obj: KubernetesObject,
    old?: KubernetesObject,
  ): KubernetesObject {
    this.revision += 1;
    obj.metadata!.resourceVersion = String(this.revision);
    if (type.group === 'apps' && type.plural === 'deployments') {
      obj.status.observedGeneration = obj.metadata!.generation;
    }
    this.put(type, obj);
    this.publish(type, eventType, obj, old);
    if (type.group === 'apps' && type.plural === 'deployments') {
      this.syncReplicaSet(obj);
    }
    return clone(obj);
  }

  /** A DELETED event carries the last state with a fresh resourceVersion. */
  private record(
    type: ResourceType,
    eventType: 'DELETED',
    obj: KubernetesObject,
    old: KubernetesObject,
  ): KubernetesObject {
    this.revision += 1;
    const last = clone(obj);
    last.metadata!.resourceVersion = String(this.revision);
    this.publish(type, eventType, last, old);
    return last;
  }

  private publish(
    type: ResourceType,
    eventType: 'ADDED' | 'MODIFIED' | 'DELETED',
    obj: KubernetesObject,
    old?: KubernetesObject,
  ) {
    const entry: HistoryEntry = {
      revision: this.revision,
      typeKey: resourceKey(type),
      type: eventType,
      object: clone(obj),
      oldObject: old ? clone(old) : undefined,
    };
    this.history.push(entry);
    while (this.history.length > this.historyLimit) {
      this.compactedRevision = this.history.shift()!.revision;
    }
    for (const watcher of [...this.watchers]) {
      if (watcher.typeKey !== entry.typeKey) continue;
      const event = this.eventFor(watcher, entry);
      try {
        if (event) watcher.send(event);
      } catch {
        // A broken watcher (closed stream) must not fail the write.
        this.watchers.delete(watcher);
      }
    }
    this.schedulePersist();
  }

  /**
   * Writes the state file soon after a change, but at most once per
   * persist interval: a burst of changes costs one write, not one each.
   */
  private schedulePersist() {
    this.dirty = true;
    if (!this.stateFile || this.persistTimer) return;
    // A large state is written less often: at most a twentieth of the time.
    const interval = Math.max(this.persistIntervalMs, 20 * this.lastPersistMs);
    const wait = Math.max(25, this.lastPersistAt + interval - Date.now());
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      this.flush();
    }, wait);
    this.persistTimer.unref();
  }

  private deleteNamespaceContents(namespace: string) {
    for (const type of this.registry.all()) {
      if (!type.namespaced) continue;
      for (const obj of this.list(type, { namespace }).items) {
        this.delete(type, namespace, obj.metadata!.name!);
      }
    }
  }

  /** Garbage collection: dependents whose owner reference names a deleted uid. */
  private collectDependents(ownerUid: string) {
    for (const { type, obj } of this.dependentsOf(ownerUid)) {
      const { namespace, name } = obj.metadata!;
      // An earlier dependent's own collection may have removed this one.
      if (this.find(type, namespace, name!)) {
        this.delete(type, namespace, name!);
      }
    }
  }

  /**
   * The Deployment and ReplicaSet controllers, reduced: one ReplicaSet per
   * pod template (`<deployment>-<pod-template-hash>`, older ones removed)
   * with Running, Ready Pods, as many as the Deployment wants.
   */
  private syncReplicaSet(deployment: KubernetesObject) {
    if (!this.simulatePods) return;
    const has = (plural: string) =>
      this.registry.all().some(t => t.plural === plural);
    if (!has('replicasets') || !has('pods')) return;
    const namespace = deployment.metadata!.namespace!;
    const name = deployment.metadata!.name!;
    const template = deployment.spec?.template ?? {};
    const hash = crypto
      .createHash('sha256')
      .update(JSON.stringify(template))
      .digest('hex')
      .slice(0, 10);
    const rsName = `${name}-${hash}`;
    const replicas: number = deployment.spec?.replicas ?? 1;
    const owned = (uid: string, typeKey: string) =>
      this.dependentsOf(uid, typeKey)
        .filter(({ obj }) => obj.metadata!.namespace === namespace)
        .map(({ obj }) => clone(obj));
    for (const rs of owned(deployment.metadata!.uid!, 'replicasets.apps')) {
      if (rs.metadata!.name !== rsName) {
        this.delete('replicasets.apps', namespace, rs.metadata!.name!);
      }
    }
    const labels = {
      ...(template.metadata?.labels ?? {}),
      'pod-template-hash': hash,
    };
    let rs = this.find('replicasets.apps', namespace, rsName);
    if (!rs) {
      rs = this.create('replicasets.apps', namespace, {
        metadata: {
          name: rsName,
          labels,
          annotations: {
            'deployment.kubernetes.io/desired-replicas': String(replicas),
          },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name,
              uid: deployment.metadata!.uid!,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          replicas,
          selector: {
            matchLabels: {
              ...(deployment.spec?.selector?.matchLabels ?? {}),
              'pod-template-hash': hash,
            },
          },
          template: {
            ...template,
            metadata: { ...(template.metadata ?? {}), labels },
          },
        },
      });
    } else if (rs.spec?.replicas !== replicas) {
      rs = this.patch(
        'replicasets.apps',
        namespace,
        rsName,
        {
          metadata: {
            annotations: {
              'deployment.kubernetes.io/desired-replicas': String(replicas),
            },
          },
          spec: { replicas },
        },
        'merge',
      );
    }
    const pods = owned(rs!.metadata!.uid!, 'pods');
    for (const extra of pods.slice(replicas).reverse()) {
      this.delete('pods', namespace, extra.metadata!.name!);
    }
    const now = new Date(this.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    for (let i = pods.length; i < replicas; i++) {
      const pod = this.create('pods', namespace, {
        metadata: {
          name: `${rsName}-${crypto
            .randomBytes(3)
            .toString('hex')
            .slice(0, 5)}`,
          labels,
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: rsName,
              uid: rs.metadata!.uid!,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: { ...(template.spec ?? {}), nodeName: 'sandbox-node' },
      });
      const containers: any[] = template.spec?.containers ?? [];
      this.update(
        'pods',
        namespace,
        pod.metadata!.name!,
        {
          ...pod,
          status: {
            phase: 'Running',
            startTime: now,
            hostIP: '10.0.0.10',
            podIP: `10.1.${Math.floor(Math.random() * 250)}.${Math.floor(
              Math.random() * 250,
            )}`,
            conditions: [
              'PodScheduled',
              'Initialized',
              'ContainersReady',
              'Ready',
            ].map(type => ({ type, status: 'True', lastTransitionTime: now })),
            containerStatuses: containers.map(c => ({
              name: c.name,
              image: c.image,
              imageID: '',
              ready: true,
              started: true,
              restartCount: 0,
              state: { running: { startedAt: now } },
            })),
          },
        },
        { subresource: 'status' },
      );
    }
  }

  /** Test helper for compaction: forgets all history up to now. */
  compact() {
    this.history = [];
    this.compactedRevision = this.revision;
  }

  /**
   * Compaction while the rest of a real cluster keeps writing (leases,
   * events): the revision moves on, and every resourceVersion a client
   * holds, even the latest it saw, is too old to resume a watch from (410).
   */
  compactPastEveryClient() {
    this.revision += 1;
    this.compact();
  }
}
