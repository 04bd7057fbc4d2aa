/*
 * One identity per workload: requests carry their workload's key
 * (`<cluster>/<namespace>/<kind>/<name>`), its stable ExternalId and the
 * supersede links. A workload has at most one request in flight (pending,
 * approved, provisioning) and at most one current (provisioned, failed),
 * enforced by partial unique indexes (SQLite and PostgreSQL both have them).
 * Requests recorded before this migration get their key and ExternalId from
 * their plan; of older duplicates per workload only the newest stays active,
 * the others become `superseded` by it.
 */

const IN_FLIGHT = ['pending', 'approved', 'provisioning'];
const CURRENT = ['provisioned', 'failed'];

function workloadKeyOf(plan) {
  const r = plan && plan.request;
  if (!r || !r.workload) return null;
  return [r.cluster, r.namespace, r.workload.kind, r.workload.name].join('/');
}

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('keda_requests', table => {
    table
      .string('workload_key', 700)
      .nullable()
      .comment('<cluster>/<namespace>/<kind>/<name> of the scaled workload');
    table
      .string('external_id', 1224)
      .nullable()
      .comment("the workload's ExternalId, kept by every later request");
    table.string('supersedes', 64).nullable();
    table.string('superseded_by', 64).nullable();
    table.index(['workload_key'], 'keda_requests_workload_key_idx');
  });

  const rows = await knex('keda_requests')
    .select('id', 'plan', 'state', 'created_at')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]);
  const newest = new Map(); // `${group}:${key}` → id
  const at = new Date().toISOString();
  for (const row of rows) {
    let plan;
    try {
      plan = JSON.parse(row.plan);
    } catch {
      plan = undefined;
    }
    const key = workloadKeyOf(plan);
    const update = {
      workload_key: key,
      external_id:
        (plan && plan.scalerRole && plan.scalerRole.externalId) || null,
    };
    let group;
    if (IN_FLIGHT.includes(row.state)) group = 'in-flight';
    else if (CURRENT.includes(row.state)) group = 'current';
    if (key && group) {
      const winner = newest.get(`${group}:${key}`);
      if (winner) {
        Object.assign(update, { state: 'superseded', superseded_by: winner });
        await knex('keda_request_decisions').insert({
          request_id: row.id,
          actor: 'policy',
          decision: 'superseded',
          comment: `superseded by the newer request ${winner} for the same workload (migration to one active request per workload)`,
          at,
        });
      } else {
        newest.set(`${group}:${key}`, row.id);
      }
    }
    await knex('keda_requests').where('id', row.id).update(update);
  }

  const list = states => states.map(s => `'${s}'`).join(', ');
  await knex.raw(
    `CREATE UNIQUE INDEX keda_requests_one_in_flight ON keda_requests (workload_key) WHERE state IN (${list(
      IN_FLIGHT,
    )})`,
  );
  await knex.raw(
    `CREATE UNIQUE INDEX keda_requests_one_current ON keda_requests (workload_key) WHERE state IN (${list(
      CURRENT,
    )})`,
  );
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.raw('DROP INDEX IF EXISTS keda_requests_one_in_flight');
  await knex.raw('DROP INDEX IF EXISTS keda_requests_one_current');
  await knex.schema.alterTable('keda_requests', table => {
    table.dropIndex(['workload_key'], 'keda_requests_workload_key_idx');
    table.dropColumn('workload_key');
    table.dropColumn('external_id');
    table.dropColumn('supersedes');
    table.dropColumn('superseded_by');
  });
};
