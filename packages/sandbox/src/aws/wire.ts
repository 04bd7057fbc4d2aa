/*
 * Wire-protocol pieces shared by the services: the error type every handler
 * throws, the awsQuery request decoding (IAM, STS) and its XML responses.
 * Shapes follow what @aws-sdk/core's AwsQueryProtocol parses: a
 * `<{Op}Response><{Op}Result>…` envelope, lists as `<member>` elements and
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error>` errors.
 */
import crypto from 'node:crypto';

/**
 * An error as an AWS service reports it. `code` is the AWS error code
 * (`NoSuchEntity`, `AccessDenied` …); each protocol renders it its own way.
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fault: 'Sender' | 'Receiver';
  /** JSON-protocol `__type` when it differs from the code (SQS). */
  readonly jsonType?: string;

  constructor(
    code: string,
    message: string,
    opts: {
      status?: number;
      fault?: 'Sender' | 'Receiver';
      jsonType?: string;
    } = {},
  ) {
    super(message);
    this.name = 'AwsError';
    this.code = code;
    this.status = opts.status ?? 400;
    this.fault = opts.fault ?? (this.status >= 500 ? 'Receiver' : 'Sender');
    this.jsonType = opts.jsonType;
  }
}

export const validationError = (message: string) =>
  new AwsError('ValidationError', message);

export function newRequestId(): string {
  return crypto.randomUUID();
}

// ------------------------------------------------------------ awsQuery input

/** The flat `Name.member.1.Key=value` parameters of an awsQuery request. */
export class QueryParams {
  constructor(private readonly params: Record<string, string>) {}

  static fromBody(body: string): QueryParams {
    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(body)) params[k] = v;
    return new QueryParams(params);
  }

  get action(): string | undefined {
    return this.params.Action;
  }

  optional(name: string): string | undefined {
    return this.params[name];
  }

  /** A required string; the error names the parameter like AWS's validation does. */
  required(name: string): string {
    const value = this.params[name];
    if (value === undefined || value === '') {
      throw new AwsError(
        'ValidationError',
        `1 validation error detected: Value null at '${lowerFirst(
          name,
        )}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return value;
  }

  optionalInt(name: string): number | undefined {
    const value = this.params[name];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n)) {
      throw validationError(
        `Value '${value}' at '${lowerFirst(
          name,
        )}' failed to satisfy constraint: Member must be an integer`,
      );
    }
    return n;
  }

  /** `Name.member.N` scalars in index order. */
  list(name: string): string[] {
    return this.indices(`${name}.member.`).map(
      i => this.params[`${name}.member.${i}`],
    );
  }

  /** `Name.member.N.Field` structures in index order. */
  structList(name: string): Array<QueryParams> {
    const prefix = `${name}.member.`;
    return this.indices(prefix).map(i => {
      const sub: Record<string, string> = {};
      const p = `${prefix}${i}.`;
      for (const [k, v] of Object.entries(this.params)) {
        if (k.startsWith(p)) sub[k.slice(p.length)] = v;
      }
      return new QueryParams(sub);
    });
  }

  private indices(prefix: string): number[] {
    const set = new Set<number>();
    for (const k of Object.keys(this.params)) {
      if (k.startsWith(prefix)) {
        const n = parseInt(k.slice(prefix.length), 10);
        if (!Number.isNaN(n)) set.add(n);
      }
    }
    return [...set].sort((a, b) => a - b);
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

// ----------------------------------------------------------- awsQuery output

/** Values an XML response is built from; arrays become `<member>` lists. */
export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | undefined
  | null
  | XmlValue[]
  | { [k: string]: XmlValue };

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function xmlElement(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    return `<${name}>${value
      .map(v => xmlElement('member', v))
      .join('')}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([k, v]) => xmlElement(k, v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function queryResponse(
  action: string,
  namespace: string,
  result: Record<string, XmlValue> | undefined,
  requestId: string,
): string {
  const resultXml =
    result === undefined ? '' : xmlElement(`${action}Result`, result);
  return (
    `<${action}Response xmlns="${namespace}">${resultXml}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryErrorResponse(
  error: AwsError,
  namespace: string,
  requestId: string,
): string {
  return (
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${error.fault}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(
      error.message,
    )}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/** Random upper-case alphanumerics, the alphabet of IAM ids and access keys. */
export function randomId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = crypto.randomBytes(length);
  return Array.from(bytes, b => alphabet[b % alphabet.length]).join('');
}
