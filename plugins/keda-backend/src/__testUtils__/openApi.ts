import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const spec = parse(
  fs.readFileSync(path.resolve(__dirname, '../schema/openapi.yaml'), 'utf8'),
);

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
// The whole document as one schema, so '#/components/schemas/…' refs resolve.
ajv.addSchema(spec, 'openapi');

const readable = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map(
    e => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
  );

/** A JSON pointer (as segments) into the document, following local `$ref`s. */
function resolvePointer(segments: string[]): string[] {
  let resolved: string[] = [];
  let node: any = spec;
  for (const segment of segments) {
    while (node && typeof node.$ref === 'string') {
      resolved = node.$ref.replace(/^#\//, '').split('/').map(unescapePointer);
      node = resolved.reduce((n: any, s) => n?.[s], spec);
    }
    node = node?.[segment];
    resolved = [...resolved, segment];
    if (node === undefined) {
      throw new Error(`openapi.yaml has nothing at /${segments.join('/')}`);
    }
  }
  return resolved;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

const validators = new Map<string, ValidateFunction>();
function validatorAt(segments: string[]): ValidateFunction {
  const pointer = resolvePointer(segments)
    .map(s => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1')))
    .join('/');
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi#/${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

/**
 * Validates a response body against what `src/schema/openapi.yaml` says
 * `method path` answers with `status` (e.g. `post`, `/requests/{id}/approve`,
 * 200). Throws when the document does not list that status for the operation.
 */
export function openApiOperationResponseErrors(
  method: string,
  pathName: string,
  status: number | string,
  body: unknown,
): string[] {
  const validate = validatorAt([
    'paths',
    pathName,
    method.toLowerCase(),
    'responses',
    String(status),
    'content',
    'application/json',
    'schema',
  ]);
  return validate(body) ? [] : readable(validate.errors);
}

/** Validates a request body against the operation's `requestBody` schema. */
export function openApiRequestBodyErrors(
  method: string,
  pathName: string,
  body: unknown,
): string[] {
  const validate = validatorAt([
    'paths',
    pathName,
    method.toLowerCase(),
    'requestBody',
    'content',
    'application/json',
    'schema',
  ]);
  return validate(body) ? [] : readable(validate.errors);
}

/**
 * Validates a body against a schema of `src/schema/openapi.yaml`, returning
 * ajv's errors as readable strings (empty when valid).
 */
export function openApiErrors(schemaName: string, body: unknown): string[] {
  const validate = ajv.getSchema(`openapi#/components/schemas/${schemaName}`);
  if (!validate) throw new Error(`openapi.yaml has no schema ${schemaName}`);
  return validate(body)
    ? []
    : (validate.errors ?? []).map(
        e =>
          `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
      );
}

/** The response schema of a path's GET 200, for documents without a named schema. */
export function openApiResponseErrors(
  pathName: string,
  status: string,
  body: unknown,
): string[] {
  const validate = ajv.compile({
    $ref: `openapi#/paths/${pathName.replace(
      /\//g,
      '~1',
    )}/get/responses/${status}/content/application~1json/schema`,
  });
  return validate(body)
    ? []
    : (validate.errors ?? []).map(
        e =>
          `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
      );
}
