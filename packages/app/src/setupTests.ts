import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// waitFor/findBy give up after 1 s by default; on a loaded 2-core CI machine
// the first render of a lazily loaded extension can take longer. A longer
// wait only slows a test that is failing anyway.
configure({ asyncUtilTimeout: 10_000 });
