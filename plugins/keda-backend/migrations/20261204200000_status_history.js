/*
 * Replicas and estimated queue depth per ScaledObject over time: the status
 * card's sparkline. Kept in the plugin database so it survives restarts and
 * every backend replica serves the same series. At most one row per
 * ScaledObject and time bucket (the primary key), so replicas watching the
 * same clusters write each sample once. Runs on SQLite and PostgreSQL.
 */

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('keda_status_history', table => {
    table.comment(
      'Replicas and queue depth per ScaledObject, one row per changed time bucket',
    );
    table.string('cluster', 255).notNullable();
    table.string('namespace', 255).notNullable();
    table.string('name', 255).notNullable();
    table
      .bigInteger('bucket')
      .notNullable()
      .comment('start of the time bucket, epoch ms (keda history resolution)');
    table
      .bigInteger('sampled_at')
      .notNullable()
      .comment('when the value was seen, epoch ms; the last in its bucket');
    table.integer('replicas').nullable();
    table.double('queue_depth').nullable();
    // named <table>_pkey by knex on both databases
    table.primary(['cluster', 'namespace', 'name', 'bucket']);
    table.index(['sampled_at'], 'keda_status_history_sampled_at_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('keda_status_history');
};
