export { EntityKedaContent } from './EntityKedaContent';
export type { EntityKedaContentProps } from './EntityKedaContent';
