export {
  kedaRequestFromForm,
  requestIssues,
  TEMPLATE_PARAMETERS,
} from './formRequest';
export type { RequestIssue } from './formRequest';
export { parsedQueue, queueUrlOfResource, queueUrlProblem } from './queueUrl';
export {
  templateFormApiFrom,
  templateFormApiOf,
  useTemplateFormApi,
} from './useTemplateFormApi';
export { useDebounced } from './useDebounced';
