export { EntityKedaScalingCard } from './EntityKedaScalingCard';
export type { EntityKedaScalingCardProps } from './EntityKedaScalingCard';
