/**
 * IAM policy documents as plain JSON-serialisable objects, exactly as IAM
 * receives them (after {@link policyJson}).
 */

/** @public */
export type PolicyConditionBlock = Record<
  string,
  Record<string, string | string[]>
>;

/** @public */
export type PolicyPrincipal =
  | '*'
  | {
      AWS?: string | string[];
      Federated?: string;
      Service?: string | string[];
    };

/** @public */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: PolicyPrincipal;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: PolicyConditionBlock;
}

/** @public */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/**
 * Serialises a policy compactly: what `CreateRole`, `PutRolePolicy` and
 * `SetQueueAttributes` receive, and what counts against IAM's size quotas
 * (whitespace is not counted by IAM, but compact JSON keeps the comparison
 * in reconcile byte-for-byte stable).
 * @public
 */
export function policyJson(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}

/**
 * Size of a policy as IAM counts it against its quotas: characters without
 * whitespace.
 * @public
 */
export function policySize(doc: PolicyDocument): number {
  return policyJson(doc).replace(/\s+/g, '').length;
}
