export * from './render';
export * from './admission';
