import type { Entity } from '@backstage/catalog-model';
import {
  parseQueueUrl,
  SQS_QUEUE_RESOURCE_TYPE,
  SQS_QUEUE_URL_ANNOTATION,
  type SqsQueue,
} from '@keda-self-service/plugin-keda-common';

/**
 * What is wrong with a queue URL, in keda-common's words (the parser the
 * action and the backend use), or undefined when it parses. An empty value
 * is not judged here: `required` covers it.
 */
export function queueUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  try {
    parseQueueUrl(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The parsed queue, or undefined when the URL does not parse. */
export function parsedQueue(value: unknown): SqsQueue | undefined {
  if (typeof value !== 'string' || queueUrlProblem(value)) return undefined;
  return value.trim() ? parseQueueUrl(value) : undefined;
}

/**
 * The queue URL of a catalog `Resource` of type `sqs-queue`: its
 * `keda.backstage.io/sqs-queue-url` annotation, else its description when
 * that is a queue URL (how the example catalog describes its queues).
 * Undefined for other entities and for values that are not queue URLs.
 */
export function queueUrlOfResource(entity: Entity): string | undefined {
  if (
    entity.kind.toLocaleLowerCase('en-US') !== 'resource' ||
    (entity.spec as { type?: unknown } | undefined)?.type !==
      SQS_QUEUE_RESOURCE_TYPE
  ) {
    return undefined;
  }
  const candidates = [
    entity.metadata.annotations?.[SQS_QUEUE_URL_ANNOTATION],
    entity.metadata.description,
  ];
  return candidates.map(c => c?.trim()).find(c => c && !queueUrlProblem(c));
}
