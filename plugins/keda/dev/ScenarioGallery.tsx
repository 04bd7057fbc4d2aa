import { EntityProvider } from '@backstage/plugin-catalog-react';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { EntityKedaScalingCard } from '../src/components/EntityKedaScalingCard';
import { ordersWorkerEntity } from '../src/fixtures';

export function ScenarioGallery(props: { scenarios: string[] }) {
  const only = new URLSearchParams(window.location.search).get('scenario');
  const scenarios = only ? [only] : props.scenarios;
  return (
    <Grid container spacing={3} style={{ padding: 24 }}>
      {scenarios.map(scenario => (
        <Grid item xs={12} lg={only ? 12 : 6} key={scenario}>
          <Typography variant="overline">{scenario}</Typography>
          <EntityProvider
            entity={{
              ...ordersWorkerEntity,
              metadata: { ...ordersWorkerEntity.metadata, name: scenario },
            }}
          >
            <div data-scenario={scenario}>
              <EntityKedaScalingCard refreshIntervalSeconds={300} />
            </div>
          </EntityProvider>
        </Grid>
      ))}
    </Grid>
  );
}
