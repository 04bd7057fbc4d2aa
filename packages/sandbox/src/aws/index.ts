/*
 * AWS stand-in: IAM, STS, SQS and EKS DescribeCluster on one local HTTP
 * endpoint for the sandbox and for tests. See README.md in this folder.
 */
export { startAwsStandIn, rootCredentialsFor } from './server';
export type { AwsStandIn, AwsStandInOptions, AwsRequestRecord } from './server';
export type {
  FaultRule,
  FaultRuleSet,
  FaultError,
  AwsServiceName,
} from './faults';
export type { EksClusterSeed } from './eks';
export type { Credentials } from './world';
export type { StateData } from './state';
export { evaluatePolicies } from './policyEvaluator';
export type {
  EvaluationRequest,
  EvaluationResult,
  RequestPrincipal,
  EvalDecision,
} from './policyEvaluator';
export { parsePolicyDocument } from './policyDocument';
export type { PolicyDocument, PolicyStatement } from './policyDocument';
