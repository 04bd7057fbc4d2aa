import { badRequest, KubernetesApiError } from './errors';

type Json = any;

function isPlainObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** RFC 7386 JSON merge patch (`application/merge-patch+json`). */
export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, Json> = isPlainObject(target)
    ? { ...target }
    : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * Strategic merge patch, reduced to what matters for the objects served
 * here: a merge patch in which lists of objects that all carry `name` (the
 * patch merge key of containers, env, ports, volumes, conditions by `type`)
 * are merged element by element, `$patch: delete|replace` is honoured and
 * the other `$`-directives that kubectl adds (`$setElementOrder/…`,
 * `$retainKeys`) are dropped.
 */
export function applyStrategicMergePatch(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const result: Record<string, Json> = isPlainObject(target)
    ? { ...target }
    : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value) && Array.isArray(result[key])) {
      result[key] = mergeList(result[key], value);
    } else {
      const merged = applyStrategicMergePatch(result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
  }
  return result;
}

function mergeKeyOf(items: Json[]): 'name' | 'type' | undefined {
  for (const key of ['name', 'type'] as const) {
    if (items.length > 0 && items.every(i => isPlainObject(i) && key in i)) {
      return key;
    }
  }
  return undefined;
}

function mergeList(original: Json[], patch: Json[]): Json[] {
  const key = mergeKeyOf(patch);
  const keyOfAll = mergeKeyOf(original);
  if (!key || keyOfAll !== key) return stripDirectives(patch);
  const result = original.map(item => clone(item));
  for (const element of patch) {
    const index = result.findIndex(item => item[key] === element[key]);
    if (isPlainObject(element) && element.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = applyStrategicMergePatch(result[index], element);
    } else {
      result.push(stripDirectives(element));
    }
  }
  return result;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isPlainObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!k.startsWith('$')) out[k] = stripDirectives(v);
  }
  return out;
}

interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw badRequest(`json patch path "${pointer}" must start with "/"`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function unprocessable(message: string): KubernetesApiError {
  return new KubernetesApiError(422, 'Invalid', message);
}

/** RFC 6902 JSON patch (`application/json-patch+json`). */
export function applyJsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) {
    throw badRequest('json patch body must be an array of operations');
  }
  let doc = clone(target);
  const getParent = (tokens: string[], op: string) => {
    let parent = doc;
    for (const token of tokens.slice(0, -1)) {
      parent = Array.isArray(parent) ? parent[Number(token)] : parent?.[token];
      if (
        parent === undefined ||
        parent === null ||
        typeof parent !== 'object'
      ) {
        throw unprocessable(
          `json patch ${op} operation does not apply: doc is missing path: "/${tokens.join(
            '/',
          )}"`,
        );
      }
    }
    return parent;
  };
  const read = (pointer: string) => {
    let value = doc;
    for (const token of parsePointer(pointer)) {
      value = Array.isArray(value) ? value[Number(token)] : value?.[token];
      if (value === undefined) {
        throw unprocessable(
          `json patch operation does not apply: doc is missing path: "${pointer}"`,
        );
      }
    }
    return value;
  };
  const add = (pointer: string, value: Json) => {
    const tokens = parsePointer(pointer);
    if (tokens.length === 0) {
      doc = clone(value);
      return;
    }
    const parent = getParent(tokens, 'add');
    const last = tokens[tokens.length - 1];
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) {
        throw unprocessable(`json patch add index out of bounds: "${pointer}"`);
      }
      parent.splice(index, 0, clone(value));
    } else {
      parent[last] = clone(value);
    }
  };
  const remove = (pointer: string) => {
    const tokens = parsePointer(pointer);
    const parent = getParent(tokens, 'remove');
    const last = tokens[tokens.length - 1];
    read(pointer);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  };
  for (const operation of operations as JsonPatchOperation[]) {
    switch (operation.op) {
      case 'add':
        add(operation.path, operation.value);
        break;
      case 'remove':
        remove(operation.path);
        break;
      case 'replace':
        read(operation.path);
        remove(operation.path);
        add(operation.path, operation.value);
        break;
      case 'move': {
        const value = read(operation.from ?? '');
        remove(operation.from ?? '');
        add(operation.path, value);
        break;
      }
      case 'copy':
        add(operation.path, read(operation.from ?? ''));
        break;
      case 'test':
        if (
          JSON.stringify(read(operation.path)) !==
          JSON.stringify(operation.value)
        ) {
          throw unprocessable(
            `json patch test operation failed: value at "${operation.path}" differs`,
          );
        }
        break;
      default:
        throw badRequest(
          `json patch operation "${
            (operation as { op: string }).op
          }" is not supported`,
        );
    }
  }
  return doc;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

/** Maps a request Content-Type to the patch flavour. */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const mime = (contentType ?? '').split(';')[0].trim();
  switch (mime) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/json-patch+json':
      return 'json';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
      return 'apply';
    default:
      throw new KubernetesApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
}

export function applyPatch(target: Json, patch: Json, type: PatchType): Json {
  switch (type) {
    case 'merge':
      return applyMergePatch(target, patch);
    case 'json':
      return applyJsonPatch(target, patch);
    // Server-side apply without field ownership: the applied configuration
    // is merged like a strategic patch, which is what a single manager sees.
    case 'strategic':
    case 'apply':
    default:
      return applyStrategicMergePatch(target, patch);
  }
}
