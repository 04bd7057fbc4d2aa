/*
 * Applies manifests to a Kubernetes API server over HTTP with
 * @kubernetes/client-node, the way Argo CD's client-side apply does:
 * read → create, or JSON-merge-patch against the last applied
 * configuration (so fields removed from git are removed from the object),
 * and prune only objects that carry this application's tracking id.
 */
import {
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { KubernetesManifest } from './manifests';

/** Argo CD's annotation tracking method uses this annotation. */
export const TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';
/** kubectl's (and Argo CD client-side apply's) three-way-merge memory. */
export const LAST_APPLIED_ANNOTATION =
  'kubectl.kubernetes.io/last-applied-configuration';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';
export type DeleteOutcome = 'deleted' | 'absent' | 'not-owned';

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** What the GitOps loop needs from a cluster; tests may pass a fake. */
export interface ManifestApplier {
  apply(object: KubernetesManifest, trackingId: string): Promise<ApplyOutcome>;
  /** Deletes the object only if it carries `trackingId`. */
  delete(ref: ObjectReference, trackingId: string): Promise<DeleteOutcome>;
}

/** An API failure, with the HTTP status and the server's own message. */
export class ApplyError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApplyError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * RFC 7386 patch turning `original` into `modified`: every key of
 * `modified`, plus `null` for keys `original` had and `modified` dropped.
 */
export function mergePatchFrom(original: Json, modified: Json): Json {
  if (!isObject(original) || !isObject(modified)) return modified;
  const patch: { [key: string]: Json } = {};
  for (const key of Object.keys(original)) {
    if (!(key in modified)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(modified)) {
    patch[key] = key in original ? mergePatchFrom(original[key], value) : value;
  }
  return patch;
}

/** The manifest as it will be stored: tracking id + last-applied memory. */
export function annotatedForApply(
  object: KubernetesManifest,
  trackingId: string,
): KubernetesManifest {
  const copy: KubernetesManifest = JSON.parse(JSON.stringify(object));
  const annotations: Record<string, string> = {
    ...(copy.metadata.annotations ?? {}),
    [TRACKING_ANNOTATION]: trackingId,
  };
  delete annotations[LAST_APPLIED_ANNOTATION];
  // Like kubectl: the memory is the applied object without the memory itself.
  const lastApplied = JSON.stringify({
    ...copy,
    metadata: { ...copy.metadata, annotations },
  });
  copy.metadata.annotations = {
    ...annotations,
    [LAST_APPLIED_ANNOTATION]: lastApplied,
  };
  return copy;
}

function apiErrorOf(error: unknown): ApplyError {
  const e = error as { code?: number; body?: unknown; message?: string };
  if (typeof e?.code === 'number') {
    let body: unknown = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // Not a Status object; keep the text.
      }
    }
    const status = body as
      | { message?: string; reason?: string }
      | string
      | undefined;
    const message =
      typeof status === 'string'
        ? status
        : status?.message ?? e.message ?? 'request failed';
    return new ApplyError(
      message,
      e.code,
      typeof status === 'object' ? status?.reason : undefined,
    );
  }
  return new ApplyError((error as Error)?.message ?? String(error));
}

export interface KubernetesApplierOptions {
  /** API server URL, e.g. the Kubernetes stand-in's `url`. */
  url: string;
  /** Bearer token with write access. */
  token: string;
  /** PEM of the serving certificate for https URLs (else TLS is not verified). */
  caCertificate?: string;
}

export class KubernetesManifestApplier implements ManifestApplier {
  private readonly client: KubernetesObjectApi;

  constructor(options: KubernetesApplierOptions) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [
        {
          name: 'gitops-target',
          server: options.url,
          ...(options.caCertificate
            ? { caData: Buffer.from(options.caCertificate).toString('base64') }
            : // client-node refuses a bearer token over plain HTTP unless
              // skipTLSVerify is set; without a CA there is nothing to verify.
              { skipTLSVerify: true }),
        },
      ],
      users: [{ name: 'gitops', token: options.token }],
      contexts: [{ name: 'gitops', cluster: 'gitops-target', user: 'gitops' }],
      currentContext: 'gitops',
    });
    this.client = KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  private async read(
    ref: ObjectReference,
  ): Promise<KubernetesObject | undefined> {
    try {
      return await this.client.read({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: {
          name: ref.metadata.name,
          namespace: ref.metadata.namespace,
        },
      });
    } catch (error) {
      const apiError = apiErrorOf(error);
      if (apiError.status === 404) return undefined;
      throw apiError;
    }
  }

  async apply(
    object: KubernetesManifest,
    trackingId: string,
  ): Promise<ApplyOutcome> {
    const desired = annotatedForApply(object, trackingId);
    const live = await this.read(object);
    try {
      if (!live) {
        await this.client.create(
          desired as KubernetesObject,
          undefined,
          undefined,
          'sandbox-gitops',
        );
        return 'created';
      }
      const liveAnnotations = live.metadata?.annotations ?? {};
      const lastApplied = liveAnnotations[LAST_APPLIED_ANNOTATION];
      if (
        lastApplied ===
          desired.metadata.annotations![LAST_APPLIED_ANNOTATION] &&
        liveAnnotations[TRACKING_ANNOTATION] === trackingId
      ) {
        return 'unchanged';
      }
      let original: Json = {};
      if (lastApplied) {
        try {
          original = JSON.parse(lastApplied);
        } catch {
          // A hand-edited annotation: fall back to a plain merge patch.
        }
      }
      const patch = mergePatchFrom(
        original,
        desired as unknown as Json,
      ) as unknown as KubernetesObject;
      await this.client.patch(
        patch,
        undefined,
        undefined,
        'sandbox-gitops',
        undefined,
        PatchStrategy.MergePatch,
      );
      return 'configured';
    } catch (error) {
      throw error instanceof ApplyError ? error : apiErrorOf(error);
    }
  }

  async delete(
    ref: ObjectReference,
    trackingId: string,
  ): Promise<DeleteOutcome> {
    const live = await this.read(ref);
    if (!live) return 'absent';
    if (live.metadata?.annotations?.[TRACKING_ANNOTATION] !== trackingId)
      return 'not-owned';
    try {
      await this.client.delete({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: {
          name: ref.metadata.name,
          namespace: ref.metadata.namespace,
        },
      });
      return 'deleted';
    } catch (error) {
      const apiError = apiErrorOf(error);
      if (apiError.status === 404) return 'absent';
      throw apiError;
    }
  }
}
