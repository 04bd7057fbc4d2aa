export { createKedaPlanAction, KEDA_PLAN_ACTION_ID } from './plan';
export {
  createKedaManifestsWriteAction,
  KEDA_MANIFESTS_WRITE_ACTION_ID,
} from './manifestsWrite';
export {
  createKedaScalerRoleEnsureAction,
  KEDA_SCALER_ROLE_ENSURE_ACTION_ID,
} from './scalerRoleEnsure';
export {
  createKedaOperatorRoleEnsureAction,
  KEDA_OPERATOR_ROLE_ENSURE_ACTION_ID,
  kedaHelmValues,
} from './operatorRoleEnsure';
export {
  createKedaScalerRoleDeleteAction,
  KEDA_SCALER_ROLE_DELETE_ACTION_ID,
} from './scalerRoleDelete';
export {
  createKedaRequestRecordAction,
  KEDA_REQUEST_RECORD_ACTION_ID,
} from './requestRecord';
export {
  createKedaRequestGetAction,
  KEDA_REQUEST_GET_ACTION_ID,
} from './requestGet';
export {
  createKedaRequestProgressAction,
  KEDA_REQUEST_PROGRESS_ACTION_ID,
} from './requestProgress';
export {
  createKedaGithubPullRequestReadyAction,
  KEDA_GITHUB_PR_READY_ACTION_ID,
} from './githubPullRequestReady';
export {
  createKedaRequestDecommissionAction,
  KEDA_REQUEST_DECOMMISSION_ACTION_ID,
} from './requestDecommission';
export {
  createKedaRequestDecommissionTargetAction,
  KEDA_REQUEST_DECOMMISSION_TARGET_ACTION_ID,
} from './requestDecommissionTarget';
