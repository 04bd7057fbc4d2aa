import type {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { ResponseError } from '@backstage/errors';

/** What the request service needs from the scaffolder. */
export interface ProvisioningLauncher {
  /**
   * Starts the provisioning template for a request as a scaffolder task
   * owned by `onBehalfOf` (the approver), and returns the task id.
   */
  start(options: {
    requestId: string;
    onBehalfOf: BackstageCredentials;
  }): Promise<{ taskId: string }>;
}

/** A scaffolder task as far as the request flow cares. */
export interface ProvisioningTaskState {
  status: 'open' | 'processing' | 'completed' | 'failed' | 'cancelled' | string;
  /** the failure message of a failed task, from its completion event */
  error?: string;
}

/** Reads task states; used to notice tasks that failed before reporting. */
export interface ProvisioningTaskReader {
  taskState(taskId: string): Promise<ProvisioningTaskState | undefined>;
}

/**
 * Talks to the scaffolder's REST API like the portal's own frontend does,
 * with tokens from the auth service: a task started with a token issued
 * `onBehalfOf` the approver runs as the approver (`ctx.user`,
 * `getInitiatorCredentials()`), so the scaffolder's permission rules, audit
 * events and task log all name them.
 */
export class ScaffolderProvisioning
  implements ProvisioningLauncher, ProvisioningTaskReader
{
  constructor(
    private readonly options: {
      auth: AuthService;
      discovery: DiscoveryService;
      /** the provisioning template (`keda.templates.provisioning`) */
      templateRef: string;
      fetch?: typeof fetch;
    },
  ) {}

  private get fetch() {
    return this.options.fetch ?? globalThis.fetch;
  }

  async start(options: {
    requestId: string;
    onBehalfOf: BackstageCredentials;
  }): Promise<{ taskId: string }> {
    const { token } = await this.options.auth.getPluginRequestToken({
      onBehalfOf: options.onBehalfOf,
      targetPluginId: 'scaffolder',
    });
    const baseUrl = await this.options.discovery.getBaseUrl('scaffolder');
    const response = await this.fetch(`${baseUrl}/v2/tasks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({
        templateRef: this.options.templateRef,
        values: { requestId: options.requestId },
      }),
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    const body = (await response.json()) as { id?: unknown };
    if (typeof body.id !== 'string') {
      throw new Error(
        `The scaffolder answered POST /v2/tasks without a task id: ${JSON.stringify(
          body,
        )}`,
      );
    }
    return { taskId: body.id };
  }

  async taskState(taskId: string): Promise<ProvisioningTaskState | undefined> {
    const { token } = await this.options.auth.getPluginRequestToken({
      onBehalfOf: await this.options.auth.getOwnServiceCredentials(),
      targetPluginId: 'scaffolder',
    });
    const baseUrl = await this.options.discovery.getBaseUrl('scaffolder');
    const headers = { authorization: `Bearer ${token}` };
    const id = encodeURIComponent(taskId);
    const response = await this.fetch(`${baseUrl}/v2/tasks/${id}`, { headers });
    if (response.status === 404) return undefined;
    if (!response.ok) throw await ResponseError.fromResponse(response);
    const task = (await response.json()) as { status: string };
    if (task.status !== 'failed' && task.status !== 'cancelled') {
      return { status: task.status };
    }
    // The reason is in the completion event, not on the task itself.
    const eventsResponse = await this.fetch(
      `${baseUrl}/v2/tasks/${id}/events`,
      { headers },
    );
    let error: string | undefined;
    if (eventsResponse.ok) {
      const events = (await eventsResponse.json()) as Array<{
        type: string;
        body?: { message?: string; error?: { message?: string } };
      }>;
      const completion = [...events]
        .reverse()
        .find(e => e.type === 'completion');
      error = completion?.body?.error?.message ?? completion?.body?.message;
    }
    return {
      status: task.status,
      error: error ?? `The provisioning task ended ${task.status}`,
    };
  }
}
