export { KedaPlanPreview, kedaPlanPreviewValidation } from './KedaPlanPreview';
export type { KedaPlanPreviewUiOptions } from './KedaPlanPreview';
