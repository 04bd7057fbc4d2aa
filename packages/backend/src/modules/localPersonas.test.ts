import { ConfigReader } from '@backstage/config';
import { localPersonasAuthenticator, PERSONA_HEADER } from './localPersonas';

const config = new ConfigReader({
  personas: [
    { id: 'developer', title: 'Dana', userEntityRef: 'user:default/dana' },
    {
      id: 'platform-engineer',
      title: 'Priya',
      userEntityRef: 'user:default/priya',
    },
  ],
});

function request(persona?: string) {
  return {
    header: (name: string) => (name === PERSONA_HEADER ? persona : undefined),
  } as any;
}

describe('localPersonasAuthenticator', () => {
  const env = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = env;
  });

  it('signs in as the configured persona named by the header in development', async () => {
    process.env.NODE_ENV = 'development';
    const ctx = localPersonasAuthenticator.initialize({ config });
    const { result } = await localPersonasAuthenticator.authenticate(
      { req: request('platform-engineer') },
      ctx,
    );
    expect(result.persona.userEntityRef).toBe('user:default/priya');
  });

  it('names the configured personas when the header is unknown or missing', async () => {
    process.env.NODE_ENV = 'development';
    const ctx = localPersonasAuthenticator.initialize({ config });
    await expect(
      localPersonasAuthenticator.authenticate({ req: request('admin') }, ctx),
    ).rejects.toThrow(
      "Unknown local persona 'admin' in header x-keda-portal-persona; configured: developer, platform-engineer",
    );
    await expect(
      localPersonasAuthenticator.authenticate({ req: request() }, ctx),
    ).rejects.toThrow(/Unknown local persona ''/);
  });

  it('refuses outside development unless explicitly allowed', async () => {
    process.env.NODE_ENV = 'production';
    const ctx = localPersonasAuthenticator.initialize({ config });
    await expect(
      localPersonasAuthenticator.authenticate(
        { req: request('developer') },
        ctx,
      ),
    ).rejects.toThrow(/development only/);
    const allowed = localPersonasAuthenticator.initialize({
      config: new ConfigReader({
        ...config.get<object>(),
        dangerouslyAllowOutsideDevelopment: true,
      }),
    });
    const { result } = await localPersonasAuthenticator.authenticate(
      { req: request('developer') },
      allowed,
    );
    expect(result.persona.userEntityRef).toBe('user:default/dana');
  });
});
