import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import { KEDA_ACTION_IDS, type KedaActionId } from './constants';
import { KEDA_IAM_ACTION_IDS } from './permissions';

// The portal's templates, at the repository root.
const TEMPLATES = path.resolve(__dirname, '../../../templates');

/** `templates/<dir>/template.yaml`, parsed, for every template directory. */
function readTemplates(): Array<{ file: string; actions: string[] }> {
  return fs
    .readdirSync(TEMPLATES, { withFileTypes: true })
    .filter(dirent => dirent.isDirectory())
    .map(dirent => path.join(TEMPLATES, dirent.name, 'template.yaml'))
    .filter(file => fs.existsSync(file))
    .map(file => {
      const template = yaml.parse(fs.readFileSync(file, 'utf8'));
      const steps = (template.spec?.steps ?? []) as Array<{ action: string }>;
      return {
        file: path.relative(TEMPLATES, file),
        actions: steps.map(step => step.action),
      };
    });
}

// Compile-time: the IAM-changing ids are ids of the table.
const iamActionIds: readonly KedaActionId[] = KEDA_IAM_ACTION_IDS;

describe('KEDA_ACTION_IDS', () => {
  const ids: string[] = Object.values(KEDA_ACTION_IDS);
  const templates = readTemplates();

  it('are distinct keda: ids', () => {
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^keda:[a-z-]+(:[a-z-]+)*$/);
  });

  it('finds the templates', () => {
    expect(templates.map(t => t.file)).toEqual(
      expect.arrayContaining([
        path.join('keda-sqs-autoscaling', 'template.yaml'),
        path.join('keda-cluster-onboarding', 'template.yaml'),
      ]),
    );
  });

  it.each(templates)(
    '$file uses only keda: actions of the table',
    ({ actions }) => {
      const unknown = actions.filter(
        action => action.startsWith('keda:') && !ids.includes(action),
      );
      expect(unknown).toEqual([]);
    },
  );

  it('every action of the table is used by a template', () => {
    const used = new Set(templates.flatMap(t => t.actions));
    expect(ids.filter(id => !used.has(id))).toEqual([]);
  });

  it('KEDA_IAM_ACTION_IDS are the role-changing actions of the table', () => {
    expect([...iamActionIds].sort()).toEqual(
      [
        KEDA_ACTION_IDS.scalerRoleEnsure,
        KEDA_ACTION_IDS.scalerRoleDelete,
        KEDA_ACTION_IDS.operatorRoleEnsure,
      ].sort(),
    );
    // Every `keda:aws:` action changes IAM roles, so it must be listed.
    expect(ids.filter(id => id.startsWith('keda:aws:')).sort()).toEqual(
      [...iamActionIds].sort(),
    );
  });
});
