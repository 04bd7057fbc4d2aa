// Validates rendered objects against KEDA's own v2.20.2 CRD schemas, vendored
// unchanged in this package (crds/keda-v2.20.2, see the README there).
import Ajv, { type ValidateFunction } from 'ajv';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const KEDA_CRD_DIR = path.resolve(__dirname, '../../crds/keda-v2.20.2');

const CRD_FILES: Record<string, string> = {
  ScaledObject: 'keda.sh_scaledobjects.yaml',
  TriggerAuthentication: 'keda.sh_triggerauthentications.yaml',
  ClusterTriggerAuthentication: 'keda.sh_clustertriggerauthentications.yaml',
};

// The API server prunes unknown fields silently (or rejects them with
// `kubectl --validate=strict`); reject them here so a misspelt field such as
// `externalId` for `externalID` fails the test instead of vanishing.
function disallowUnknownFields(schema: any): any {
  if (Array.isArray(schema)) return schema.map(disallowUnknownFields);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] =
      k === 'properties'
        ? Object.fromEntries(
            Object.entries(v as object).map(([p, s]) => [
              p,
              disallowUnknownFields(s),
            ]),
          )
        : disallowUnknownFields(v);
  }
  if (
    out.type === 'object' &&
    out.properties &&
    out.additionalProperties === undefined &&
    !out['x-kubernetes-preserve-unknown-fields']
  ) {
    out.additionalProperties = false;
  }
  return out;
}

function createAjv(): Ajv {
  // strict: false because the schemas carry Kubernetes extensions
  // (x-kubernetes-validations, x-kubernetes-int-or-string, …).
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('int32', {
    type: 'number',
    validate: n => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: Number.isInteger });
  ajv.addFormat(
    'date-time',
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/,
  );
  return ajv;
}

let validators: Map<string, ValidateFunction> | undefined;

function load(): Map<string, ValidateFunction> {
  if (validators) return validators;
  const ajv = createAjv();
  validators = new Map();
  for (const [kind, file] of Object.entries(CRD_FILES)) {
    const crd = parseAllDocuments(
      fs.readFileSync(path.join(KEDA_CRD_DIR, file), 'utf8'),
    )[0].toJS();
    for (const version of crd.spec.versions) {
      const schema = disallowUnknownFields(version.schema.openAPIV3Schema);
      validators.set(
        `${crd.spec.group}/${version.name}/${kind}`,
        ajv.compile(schema),
      );
    }
  }
  return validators;
}

/**
 * Errors of `obj` against the CRD schema of its apiVersion/kind, as
 * `<path> <message>` strings; empty when valid.
 */
export function crdSchemaErrors(obj: any): string[] {
  const validate = load().get(`${obj.apiVersion}/${obj.kind}`);
  if (!validate) {
    return [`no KEDA v2.20.2 CRD for ${obj.apiVersion} ${obj.kind}`];
  }
  if (validate(obj)) return [];
  return (validate.errors ?? []).map(
    e =>
      `${e.instancePath || '/'} ${e.message}${
        e.params && 'additionalProperty' in e.params
          ? ` (${(e.params as any).additionalProperty})`
          : ''
      }`,
  );
}
