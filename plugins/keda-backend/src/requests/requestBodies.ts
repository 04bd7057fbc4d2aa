import { InputError } from '@backstage/errors';
import { pullRequestUrlProblem } from '@keda-self-service/plugin-keda-common';
import { z } from 'zod';

// The bodies of the request API's recording and report routes (the
// decision routes' `{ comment }` bodies are rules of KedaRequestDecisions).

/**
 * The pull request's web URL, which the request page links to: an http(s)
 * URL of a sane length (`pullRequestUrlProblem`), so a `javascript:` or
 * `data:` link never gets as far as the store.
 */
const pullRequestUrlSchema = z.string().superRefine((url, ctx) => {
  const problem = pullRequestUrlProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const pullRequestSchema = z.object({
  url: pullRequestUrlSchema,
  number: z.number().int().positive('pullRequest.number must be positive'),
  repoUrl: z.string().min(1, 'pullRequest.repoUrl is required'),
});

/** `POST /requests`: what the recording step of a template run sends. */
export const createBodySchema = z.object({
  request: z.unknown().refine(v => typeof v === 'object' && v !== null, {
    message: 'request is required: the KEDA request the template ran with',
  }),
  externalId: z.string().min(2).max(1224).optional(),
  pullRequest: pullRequestSchema.optional(),
  taskId: z.string().min(1).max(255).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
  // A plan in the body is ignored on purpose: the backend recomputes it.
  plan: z.unknown().optional(),
});

/** `POST /requests/:id/progress`: a provisioning action's report. */
export const progressBodySchema = z.object({
  state: z.enum(['provisioning', 'provisioned', 'failed'], {
    message: "state must be one of 'provisioning', 'provisioned', 'failed'",
  }),
  taskId: z.string().min(1).max(255).optional(),
  roleArns: z
    .object({
      scaler: z.string().min(1),
      operator: z.string().min(1).optional(),
    })
    .optional(),
  error: z.string().max(8000).optional(),
  verification: z
    .object({
      ok: z.boolean(),
      checks: z
        .array(
          z.object({
            check: z.string().min(1).max(200),
            subject: z.string().max(2000),
            outcome: z.enum(['pass', 'fail', 'warning'], {
              message: "outcome must be one of 'pass', 'fail', 'warning'",
            }),
            detail: z.string().max(4000),
          }),
        )
        .max(
          50,
          'at most 50 checks: report the output of keda:aws:scaler-role:ensure as it is',
        ),
    })
    .refine(v => v.ok === v.checks.every(c => c.outcome !== 'fail'), {
      message: 'ok must be true exactly when no check has outcome fail',
      path: ['ok'],
    })
    .optional(),
});

/** The body as `schema` reads it, or an InputError naming every problem. */
export function parseBody<T>(
  schema: z.ZodType<T>,
  body: unknown,
  what: string,
): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    throw new InputError(
      `Invalid ${what}: ${result.error.issues
        .map(i => `${i.path.join('.') || '(body)'}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

/**
 * A recording body's pull request URL alone, checked before anything else
 * (who asks, the rest of the body): a link the request page could not show
 * safely is refused whatever else is wrong, naming only the URL.
 */
export function refuseUnsafePullRequestUrl(body: unknown) {
  const url = (body as { pullRequest?: { url?: unknown } } | null | undefined)
    ?.pullRequest?.url;
  if (typeof url !== 'string') return;
  parseBody(
    z.object({ pullRequest: z.object({ url: pullRequestUrlSchema }) }),
    { pullRequest: { url } },
    'KEDA request body',
  );
}
