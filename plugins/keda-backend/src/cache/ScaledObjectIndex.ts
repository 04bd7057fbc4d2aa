import type { LabelRequirement } from '../kubernetes/labelSelector';

/** `<namespace>/<name>` of a ScaledObject in one cluster. */
export type ScaledObjectId = string;

/** What the index needs of a ScaledObject. */
export interface IndexedScaledObject {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** The scale target's kind and name (`spec.scaleTargetRef`). */
  targetKind: string;
  targetName: string;
}

/** What the index needs of a scale target (a Deployment, a StatefulSet). */
export interface IndexedScaleTarget {
  kind: string;
  namespace: string;
  name: string;
  labels?: Record<string, string>;
}

const targetKey = (kind: string, namespace: string, name: string) =>
  `${kind}/${namespace}/${name}`;

/** Label postings: `key=value` and `key` → ids carrying them. */
class LabelPostings {
  private readonly byPair = new Map<string, Set<string>>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly labelsOf = new Map<string, Record<string, string>>();

  set(id: string, labels: Record<string, string> | undefined) {
    this.remove(id);
    const own = { ...(labels ?? {}) };
    this.labelsOf.set(id, own);
    for (const [k, v] of Object.entries(own)) {
      add(this.byPair, `${k}=${v}`, id);
      add(this.byKey, k, id);
    }
  }

  remove(id: string) {
    const labels = this.labelsOf.get(id);
    if (!labels) return;
    this.labelsOf.delete(id);
    for (const [k, v] of Object.entries(labels)) {
      drop(this.byPair, `${k}=${v}`, id);
      drop(this.byKey, k, id);
    }
  }

  has(id: string) {
    return this.labelsOf.has(id);
  }

  ids(): Iterable<string> {
    return this.labelsOf.keys();
  }

  get size() {
    return this.labelsOf.size;
  }

  /**
   * The ids that may satisfy the requirements: the smallest posting list
   * of a requirement that needs a label (`=`, `in`, `exists`), or
   * `undefined` when none does (`!=`, `notin`, `!exists` alone: every id
   * is a candidate). Candidates still have to be checked.
   */
  candidates(requirements: LabelRequirement[]): Iterable<string> | undefined {
    let best: Set<string> | undefined;
    for (const r of requirements) {
      let ids: Set<string> | undefined;
      if (r.operator === '=') {
        ids = this.byPair.get(`${r.key}=${r.value}`) ?? new Set();
      } else if (r.operator === 'in') {
        ids = new Set(
          r.values.flatMap(v => [...(this.byPair.get(`${r.key}=${v}`) ?? [])]),
        );
      } else if (r.operator === 'exists') {
        ids = this.byKey.get(r.key) ?? new Set();
      }
      if (ids && (!best || ids.size < best.size)) best = ids;
    }
    return best;
  }
}

function add(map: Map<string, Set<string>>, key: string, id: string) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(id);
}

function drop(map: Map<string, Set<string>>, key: string, id: string) {
  const set = map.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) map.delete(key);
}

/**
 * The cluster cache's index of ScaledObjects, kept current from watch
 * events so that finding an entity's objects, or the objects a changed
 * HPA or workload concerns, costs the size of the answer rather than a scan
 * of every cached object:
 *
 * - ScaledObjects by their own labels;
 * - ScaledObjects by the labels of their scale target (the Kubernetes
 *   plugin's usual setup labels only the workload);
 * - ScaledObjects by scale target (`kind/namespace/name`);
 * - how many ScaledObjects point at each kind per namespace, which decides
 *   the scale target watches.
 */
export class ScaledObjectIndex {
  private readonly scaledObjects = new LabelPostings();
  private readonly targets = new LabelPostings();
  private readonly targetOf = new Map<ScaledObjectId, string>();
  private readonly byTarget = new Map<string, Set<ScaledObjectId>>();
  private readonly perKindNamespace = new Map<string, number>();

  /** A ScaledObject was added or changed. */
  putScaledObject(so: IndexedScaledObject) {
    const id = `${so.namespace}/${so.name}`;
    this.removeScaledObject(so.namespace, so.name);
    this.scaledObjects.set(id, so.labels);
    const target = targetKey(so.targetKind, so.namespace, so.targetName);
    this.targetOf.set(id, target);
    add(this.byTarget, target, id);
    const kindNamespace = `${so.targetKind}/${so.namespace}`;
    this.perKindNamespace.set(
      kindNamespace,
      (this.perKindNamespace.get(kindNamespace) ?? 0) + 1,
    );
  }

  /** A ScaledObject was deleted. */
  removeScaledObject(namespace: string, name: string) {
    const id = `${namespace}/${name}`;
    const target = this.targetOf.get(id);
    if (target === undefined) return;
    this.scaledObjects.remove(id);
    this.targetOf.delete(id);
    drop(this.byTarget, target, id);
    const kindNamespace = target.slice(0, target.lastIndexOf('/'));
    const left = (this.perKindNamespace.get(kindNamespace) ?? 1) - 1;
    if (left > 0) this.perKindNamespace.set(kindNamespace, left);
    else this.perKindNamespace.delete(kindNamespace);
  }

  /** A scale target was added or changed. */
  putTarget(target: IndexedScaleTarget) {
    this.targets.set(
      targetKey(target.kind, target.namespace, target.name),
      target.labels,
    );
  }

  /** A scale target was deleted. */
  removeTarget(kind: string, namespace: string, name: string) {
    this.targets.remove(targetKey(kind, namespace, name));
  }

  /** A kind's watch in a namespace ended: its targets are no longer known. */
  removeTargetsOf(kind: string, namespace: string) {
    const prefix = `${kind}/${namespace}/`;
    for (const key of [...this.targets.ids()]) {
      if (key.startsWith(prefix)) this.targets.remove(key);
    }
  }

  /** The ScaledObjects (`namespace/name`) that point at a scale target. */
  scaledObjectsOf(kind: string, namespace: string, name: string) {
    return [...(this.byTarget.get(targetKey(kind, namespace, name)) ?? [])];
  }

  /** `kind/namespace` pairs that hold at least one ScaledObject. */
  kindNamespaces(): string[] {
    return [...this.perKindNamespace.keys()];
  }

  /**
   * The ScaledObjects that may be selected by the requirements, by their
   * own labels or their scale target's: a superset, to be checked against
   * the objects (the index knows labels, not namespaces or sync state).
   */
  candidates(requirements: LabelRequirement[]): ScaledObjectId[] {
    const own = this.scaledObjects.candidates(requirements);
    const viaTargets = this.targets.candidates(requirements);
    if (own === undefined || viaTargets === undefined) {
      // Nothing to look up by (e.g. only `!=`): every ScaledObject.
      return [...this.scaledObjects.ids()];
    }
    const ids = new Set<ScaledObjectId>(own);
    for (const target of viaTargets) {
      for (const id of this.byTarget.get(target) ?? []) ids.add(id);
    }
    return [...ids];
  }

  get size() {
    return this.scaledObjects.size;
  }
}
