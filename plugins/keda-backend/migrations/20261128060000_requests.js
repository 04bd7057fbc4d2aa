/*
 * KEDA autoscaling requests and their append-only decision log.
 * Runs on SQLite (embedded default) and PostgreSQL (production).
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('keda_requests', table => {
    table.comment('KEDA autoscaling requests (one per template run)');
    table.string('id', 64).primary().notNullable();
    table.string('entity_ref', 255).notNullable();
    table.string('requester', 255).notNullable();
    table.string('owner', 255).nullable();
    table.string('cluster', 255).notNullable();
    table.text('queue_url').notNullable();
    table.string('state', 32).notNullable();
    table.boolean('auto_approved').notNullable();
    table.text('approval_reasons').notNullable().comment('JSON string[]');
    table
      .text('plan')
      .notNullable()
      .comment('JSON KedaPlan, recomputed by the backend');
    table
      .text('pull_request')
      .nullable()
      .comment('JSON { url, number, repoUrl }');
    table
      .string('task_id', 255)
      .nullable()
      .comment('scaffolder task that provisions');
    table.text('role_arns').nullable().comment('JSON { scaler, operator? }');
    table.text('error').nullable();
    // Idempotency of creation: the recording task, or a caller-chosen key.
    table.string('created_by_task_id', 255).nullable().unique();
    table.string('idempotency_key', 255).nullable().unique();
    table.string('created_at', 32).notNullable();
    table.string('updated_at', 32).notNullable();
    table.index(['state'], 'keda_requests_state_idx');
    table.index(['entity_ref'], 'keda_requests_entity_ref_idx');
  });

  await knex.schema.createTable('keda_request_decisions', table => {
    table.comment('Append-only log of decisions on KEDA requests');
    table.increments('seq').primary();
    table
      .string('request_id', 64)
      .notNullable()
      .references('id')
      .inTable('keda_requests')
      .onDelete('CASCADE');
    table.string('actor', 255).notNullable();
    table.string('decision', 32).notNullable();
    table.text('comment').nullable();
    table.string('at', 32).notNullable();
    table.index(['request_id'], 'keda_request_decisions_request_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('keda_request_decisions');
  await knex.schema.dropTable('keda_requests');
};
