import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';

const localSignInPage = SignInPageBlueprint.make({
  params: {
    loader: async () => (await import('./LocalSignInPage')).LocalSignInPage,
  },
});

export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [localSignInPage],
});
