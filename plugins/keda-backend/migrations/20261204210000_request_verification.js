/*
 * The role chain's verification reported by a provisioning run
 * (`keda:request:progress` with the output of `keda:aws:scaler-role:ensure`):
 * shown on the request page. JSON `{ ok, checks }`, bounded by the backend
 * (at most 50 checks, capped strings). Runs on SQLite and PostgreSQL.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('keda_requests', table => {
    table
      .text('verification')
      .nullable()
      .comment(
        'JSON { ok, checks: [{ check, subject, outcome, detail }] } of the last provisioning run',
      );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('keda_requests', table => {
    table.dropColumn('verification');
  });
};
