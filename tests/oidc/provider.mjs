// A real OpenID provider for Lotse's sign-in tests: npm's oidc-provider (a certified
// implementation) on 127.0.0.1, with one confidential client (Lotse) and test users at each
// trust level, asserted as eIDAS `acr` values. Its signing key is made at start, or read from
// --key (a private RSA JWK file) when a test wants to sign tokens of its own with it.
// Prints READY when it listens; stops on SIGTERM.
//
// Usage: node provider.mjs --port P --client-id ID --client-secret S --redirect-uri URL
//        --post-logout-uri URL [--key FILE]
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1];
  if (fallback !== undefined) return fallback;
  console.error(`missing --${name}`);
  process.exit(2);
};
const port = Number(arg('port'));
const issuer = `http://127.0.0.1:${port}`;

const LOW = 'http://eidas.europa.eu/LoA/low';
const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';
const HIGH = 'http://eidas.europa.eu/LoA/high';

// The same people as the SAML test IdP (tests/idp/saml_idp.py): one per level.
const users = {
  erika: {
    password: 'passwort-erika',
    acr: SUBSTANTIAL,
    claims: {
      given_name: 'Erika',
      family_name: 'Mustermann',
      birthdate: '1964-08-12',
      email: 'erika.mustermann@example.org',
      address: { street_address: 'Heidestraße 17', postal_code: '52525', locality: 'Heinsberg' },
    },
  },
  bruno: {
    password: 'passwort-bruno',
    acr: LOW,
    claims: { given_name: 'Bruno', family_name: 'Beispiel', email: 'bruno@example.org' },
  },
  hanna: {
    password: 'passwort-hanna',
    acr: HIGH,
    claims: {
      given_name: 'Hanna',
      family_name: 'Hoch',
      birthdate: '1990-01-02',
      address: { street_address: 'Markt 1', postal_code: '52511', locality: 'Geilenkirchen' },
    },
  },
};

let jwk;
const keyFile = arg('key', '');
if (keyFile) {
  jwk = JSON.parse(readFileSync(keyFile, 'utf8'));
} else {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'lotse-test-1', use: 'sig', alg: 'RS256' };
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title></head>
<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: arg('client-id'),
      client_secret: arg('client-secret'),
      redirect_uris: [arg('redirect-uri')],
      post_logout_redirect_uris: [arg('post-logout-uri')],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  acrValues: [LOW, SUBSTANTIAL, HIGH],
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'birthdate'],
    email: ['email'],
    address: ['address'],
  },
  cookies: { keys: ['lotse-oidc-test-provider-cookies'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page(
          'Abmelden beim Test-Anmeldedienst',
          `${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Ja, abmelden</button>`,
        );
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Abgemeldet', '<p>Sie sind abgemeldet.</p>');
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) =>
    users[id] && {
      accountId: id,
      claims: async () => ({ sub: id, ...users[id].claims }),
    },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Fehler', `<p>${esc(out.error)}</p>`);
  },
});

const loginForm = (uid, error) =>
  page(
    'Anmeldung beim Test-Anmeldedienst',
    `${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<p><label for="user">Benutzername</label> <input id="user" name="user" autocomplete="username" required></p>
<p><label for="password">Passwort</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Anmelden</button></p>
</form>`,
  );

const send = (res, status, html) => {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
  });
  res.end(html);
};

const readForm = (req) =>
  new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
      if (body.length > 10000) reject(new Error('too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (!path.startsWith('/interaction/')) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') return send(res, 200, loginForm(details.uid));
    const form = await readForm(req);
    const name = form.get('user') || '';
    const user = Object.hasOwn(users, name) ? users[name] : undefined;
    if (!user || form.get('password') !== user.password) {
      return send(res, 200, loginForm(details.uid, 'Benutzername oder Passwort falsch.'));
    }
    const grant = new provider.Grant({ accountId: name, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: name, acr: user.acr }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  } catch (e) {
    send(res, 400, page('Fehler', `<p>${esc(e.name || 'Fehler')}</p>`));
  }
});
server.listen(port, '127.0.0.1', () => console.log('READY'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
