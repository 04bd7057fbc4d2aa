export * from './policyDocument';
export * from './roleNames';
export * from './documents';
