import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { KEDA_ACTION_IDS } from '@keda-self-service/plugin-keda-common';
import fs from 'node:fs/promises';
import path from 'node:path';
import { plannedFilesSchema } from '../lib/schemas';
import { examples } from './manifestsWrite.examples';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Action id of {@link createKedaManifestsWriteAction}. @public */
export const KEDA_MANIFESTS_WRITE_ACTION_ID = KEDA_ACTION_IDS.manifestsWrite;

/**
 * `keda:manifests:write`: writes the plan's files (manifests and
 * iam-plan.json) into the workspace under `targetPath`, keeping their
 * GitOps-repository paths, so `publish:github:pull-request` can take them
 * with `sourcePath: <targetPath>`. Every path is resolved with
 * `resolveSafeChildPath`: a file cannot land outside the workspace.
 * Writing the workspace is local, so it also runs under dry run.
 *
 * @public
 */
export function createKedaManifestsWriteAction() {
  return createTemplateAction({
    id: KEDA_MANIFESTS_WRITE_ACTION_ID,
    description:
      "Writes the KEDA plan's manifests and IAM plan file into the workspace, ready for publish:github:pull-request",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        manifests: z => plannedFilesSchema(z),
        targetPath: z =>
          z
            .string()
            .optional()
            .describe(
              'Workspace folder to write under (default "gitops"); files keep their repository paths below it',
            ),
      },
      output: {
        targetPath: z =>
          z
            .string()
            .describe('The workspace folder written to (use as sourcePath)'),
        files: z =>
          z
            .array(z.string())
            .describe(
              'Repository paths of the files written, relative to targetPath',
            ),
      },
    },
    async handler(ctx) {
      const targetPath = ctx.input.targetPath ?? 'gitops';
      let base: string;
      try {
        if (CONTROL_CHARACTER.test(targetPath)) {
          throw new Error('it contains a control character');
        }
        base = resolveSafeChildPath(ctx.workspacePath, targetPath);
      } catch (error) {
        throw new InputError(
          `targetPath: "${targetPath}" must be a relative path inside the workspace (${
            (error as Error).message
          })`,
        );
      }
      const seen = new Set<string>();
      // Validate all paths before writing any, so a bad plan leaves no half-written tree.
      const files = ctx.input.manifests.map(file => {
        const normalized = path.posix.normalize(file.path);
        if (CONTROL_CHARACTER.test(file.path)) {
          throw new InputError(
            `manifests: path ${JSON.stringify(
              file.path,
            )} contains a control character`,
          );
        }
        if (
          !file.path ||
          path.posix.isAbsolute(file.path) ||
          normalized.startsWith('..')
        ) {
          throw new InputError(
            `manifests: path "${file.path}" must be a relative path inside the repository (no leading "/" or "..")`,
          );
        }
        if (seen.has(normalized)) {
          throw new InputError(`manifests: path "${file.path}" appears twice`);
        }
        seen.add(normalized);
        return {
          path: normalized,
          absolute: resolveSafeChildPath(base, normalized),
          content: file.content,
        };
      });
      for (const file of files) {
        await fs.mkdir(path.dirname(file.absolute), { recursive: true });
        await fs.writeFile(file.absolute, file.content, 'utf8');
        ctx.logger.info(`Wrote ${path.posix.join(targetPath, file.path)}`);
      }
      ctx.output('targetPath', targetPath);
      ctx.output(
        'files',
        files.map(f => f.path),
      );
    },
  });
}
