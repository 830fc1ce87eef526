// Local OpenID Connect identity provider for the demo and the browser tests (panva/oidc-provider, a certified
// OP). NOT for production: users and passwords are fixed, keys are generated at start.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const PORT = Number(process.env.IDP_PORT || 4000);
const ISSUER = process.env.IDP_ISSUER || `http://127.0.0.1:${PORT}`;
const APP_URL = process.env.APP_URL || 'http://localhost:3000';
// The app's Auth.js provider id this IdP answers to (the browser tests run a second IdP as provider `oidc`).
const CALLBACK_ID = process.env.IDP_CALLBACK_ID || 'local-idp';

// Roles are not asserted by the IdP: the app's metadata DB holds them (the demo seeds the first four).
// mallory claims ada's address without the IdP vouching for it (email_verified: false): the app must not make her ada.
export const USERS = {
  ada: { password: 'ada', name: 'Ada Admin', email: 'ada@example.test', verified: true },
  oscar: { password: 'oscar', name: 'Oscar Operator', email: 'oscar@example.test', verified: true },
  vera: { password: 'vera', name: 'Vera Viewer', email: 'vera@example.test', verified: true },
  quinn: { password: 'quinn', name: 'Quinn QA', email: 'quinn@example.test', verified: true },
  mallory: { password: 'mallory', name: 'Mallory Mimic', email: 'ada@example.test', verified: false },
};

// ephemeral signing key (RS256) for the dev IdP
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'dev-rs256', use: 'sig', alg: 'RS256' };

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: process.env.IDP_CLIENT_ID || 'uat-refresh',
    client_secret: process.env.IDP_CLIENT_SECRET || 'uat-refresh-dev-secret',
    redirect_uris: [`${APP_URL}/api/auth/callback/${CALLBACK_ID}`],
    post_logout_redirect_uris: [`${APP_URL}/`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  // Cookies do not tell ports apart: a second IdP on this host names its own.
  cookies: {
    keys: [process.env.IDP_COOKIE_KEY || 'dev-idp-cookie-key'],
    names: { session: `_session_${PORT}`, interaction: `_interaction_${PORT}`, resume: `_interaction_resume_${PORT}` },
  },
  pkce: { required: () => true }, // force PKCE even for the confidential client
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false, // put scope claims in the ID token (Auth.js reads id_token claims)
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const u = USERS[sub];
    if (!u) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, name: u.name, email: u.email, email_verified: u.verified };
      },
    };
  },
  // first-party client: auto-grant requested scopes/claims => no consent screen
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
});

provider.on('server_error', (ctx, err) => console.error('[idp] server_error', err));
provider.on('authorization.error', (ctx, err) => console.error('[idp] authorization.error', err.message, err.error_description));
provider.on('grant.error', (ctx, err) => console.error('[idp] grant.error', err.message, err.error_description, err.error_detail ?? ''));

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:22rem;margin:4rem auto}label{display:block;margin:.5rem 0}input{width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1rem}.err{color:#b00}</style>
</head><body>${body}</body></html>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(data))));
  req.on('error', reject);
});

const oidcCallback = provider.callback();

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, ISSUER);
  const m = url.pathname.match(/^\/interaction\/([^/]+)(\/login|\/abort)?$/);
  if (!m) return oidcCallback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params } = details;
    if (req.method === 'GET' && !m[2]) {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      return res.end(page('Dev IdP login', `<h1>Dev IdP</h1>
<p>Sign in to <b>${esc(params.client_id)}</b> (prompt: ${esc(prompt.name)})</p>
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
<label>Username <input name="username" id="username" autofocus></label>
<label>Password <input name="password" id="password" type="password"></label>
<button type="submit" id="sign-in">Sign in</button></form>
<p><small>Demo users: ada/ada (admin), oscar/oscar (operator), vera/vera (viewer), quinn/quinn (operator of QA only)</small></p>`));
    }
    if (req.method === 'POST' && m[2] === '/login') {
      const { username, password } = await readForm(req);
      const u = USERS[username];
      if (!u || u.password !== password) {
        res.statusCode = 401;
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        return res.end(page('Login failed', `<p class="err">Invalid credentials</p><a href="/interaction/${uid}">Try again</a>`));
      }
      console.log(`[idp] login ok: ${username}`);
      return provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
    }
    res.statusCode = 405; res.end();
  } catch (err) {
    console.error('[idp] interaction error', err);
    res.statusCode = 400; res.end(String(err.message || err));
  }
});

server.listen(PORT, '127.0.0.1', () => console.log(`[idp] oidc-provider listening on ${ISSUER}`));
