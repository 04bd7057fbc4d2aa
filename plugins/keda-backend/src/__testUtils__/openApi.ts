import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const spec = parse(
  fs.readFileSync(path.resolve(__dirname, '../schema/openapi.yaml'), 'utf8'),
);

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
// The whole document as one schema, so '#/components/schemas/…' refs resolve.
ajv.addSchema(spec, 'openapi');

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
