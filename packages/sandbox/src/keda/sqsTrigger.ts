/**
 * The `aws-sqs-queue` trigger metadata of KEDA v2.20
 * (`pkg/scalers/aws_sqs_queue_scaler.go`): one typed place with defaults
 * and the errors KEDA reports for each field.
 */

export interface SqsTriggerMetadata {
  queueUrl: string;
  queueName: string;
  queueLength: number;
  activationQueueLength: number;
  awsRegion: string;
  awsEndpoint?: string;
  scaleOnInFlight: boolean;
  scaleOnDelayed: boolean;
  /** `s<index>-aws-sqs-<queueName>`, the HPA's external metric name. */
  metricName: string;
}

/** KEDA's `kedautil.NormalizeString`, used in metric names. */
export function normalizeMetricString(value: string): string {
  return value.replace(/[/.:%()"\s<>*|?\\]/g, '-');
}

function parseIntegerField(
  metadata: Record<string, string>,
  field: string,
  fallback: number,
): number {
  const raw = metadata[field];
  if (raw === undefined || raw === '') return fallback;
  // Non-integer values are an error since KEDA 2.17 (no silent default).
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new Error(
      `error parsing SQS queue metadata: error parsing ${field}: strconv.ParseInt: parsing "${raw}": invalid syntax`,
    );
  }
  return Number(raw);
}

function parseBooleanField(
  metadata: Record<string, string>,
  field: string,
  fallback: boolean,
): boolean {
  const raw = metadata[field];
  if (raw === undefined || raw === '') return fallback;
  if (!/^(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.test(raw.trim())) {
    throw new Error(
      `error parsing SQS queue metadata: error parsing ${field}: strconv.ParseBool: parsing "${raw}": invalid syntax`,
    );
  }
  return /^(true|1|t)$/i.test(raw.trim());
}

/**
 * Parses one trigger's metadata. `resolvedEnv` are the scale target
 * container's environment values (for `queueURLFromEnv`).
 */
export function parseSqsTriggerMetadata(
  metadata: Record<string, string> | undefined,
  triggerIndex: number,
  resolvedEnv: Record<string, string> = {},
): SqsTriggerMetadata {
  const meta = metadata ?? {};
  let queueUrl = meta.queueURL;
  if (!queueUrl && meta.queueURLFromEnv) {
    queueUrl = resolvedEnv[meta.queueURLFromEnv];
    if (!queueUrl) {
      throw new Error(
        `error parsing SQS queue metadata: environment variable ${meta.queueURLFromEnv} named in queueURLFromEnv is not set on the scale target's container`,
      );
    }
  }
  if (!queueUrl) {
    throw new Error(
      'error parsing SQS queue metadata: missing required parameter "queueURL" in [triggerMetadata]',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(queueUrl);
  } catch {
    throw new Error(
      'error parsing SQS queue metadata: queueURL is not a valid URL',
    );
  }
  const parts = parsed.pathname.split('/');
  if (parts.length !== 3 || parts[2].length === 0) {
    throw new Error(
      'error parsing SQS queue metadata: cannot get queueName from queueURL',
    );
  }
  const queueName = parts[2];
  const awsRegion = meta.awsRegion;
  if (!awsRegion) {
    throw new Error(
      'error parsing SQS queue metadata: missing required parameter "awsRegion" in [triggerMetadata]',
    );
  }
  return {
    queueUrl,
    queueName,
    queueLength: parseIntegerField(meta, 'queueLength', 5),
    activationQueueLength: parseIntegerField(meta, 'activationQueueLength', 0),
    awsRegion,
    awsEndpoint: meta.awsEndpoint || undefined,
    scaleOnInFlight: parseBooleanField(meta, 'scaleOnInFlight', true),
    scaleOnDelayed: parseBooleanField(meta, 'scaleOnDelayed', false),
    metricName: `s${triggerIndex}-${normalizeMetricString(
      `aws-sqs-${queueName}`,
    )}`,
  };
}

/** The queue attributes KEDA sums into the depth. */
export function depthAttributes(meta: SqsTriggerMetadata): string[] {
  const names = ['ApproximateNumberOfMessages'];
  if (meta.scaleOnInFlight) names.push('ApproximateNumberOfMessagesNotVisible');
  if (meta.scaleOnDelayed) names.push('ApproximateNumberOfMessagesDelayed');
  return names;
}

export function queueDepth(
  meta: SqsTriggerMetadata,
  attributes: Record<string, string | undefined>,
): number {
  return depthAttributes(meta).reduce((sum, name) => {
    const value = Number(attributes[name] ?? 0);
    return sum + (Number.isFinite(value) ? value : 0);
  }, 0);
}
