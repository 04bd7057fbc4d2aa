import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  formatVerificationCheck,
  type ChainVerification,
} from '@keda-self-service/plugin-keda-node';

/**
 * The task log: one line per check (warnings as warnings, failures as
 * errors), then the verdict.
 */
export function logVerification(
  logger: LoggerService,
  verification: ChainVerification,
): void {
  for (const check of verification.checks) {
    const line = `Verification ${formatVerificationCheck(check)}`;
    if (check.outcome === 'fail') logger.error(line);
    else if (check.outcome === 'warning') logger.warn(line);
    else logger.info(line);
  }
  const count = (outcome: string) =>
    verification.checks.filter(c => c.outcome === outcome).length;
  logger.info(
    `Verification ${verification.ok ? 'passed' : 'FAILED'}: ${count(
      'pass',
    )} passed, ${count('warning')} warnings, ${count('fail')} failed`,
  );
}
