// Packages without types in this repository; the bench uses a small part of
// their APIs (autocannon in measure.ts, prettier 2's format in run.ts).
declare module 'autocannon';
declare module 'prettier';
